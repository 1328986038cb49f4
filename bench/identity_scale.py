"""Identity resolution at scale: 1,000,000 records from 5 departments on one machine.

Generates a synthetic population (households, noisy per-department copies: traditional
characters, spaces in names, date formats, legacy/mistyped/missing ID numbers, +86
phones, address prefixes), encodes every record with the production encoder
(``adapters.linkage.encoder``, in worker processes), and runs the production resolver
pipeline (``hub.identity.resolution``: blocking, comparison, EM, clustering) on the
columnar matrix in the order the index gives it (arrival order, department by
department, then ``RecordMatrix.locality_order``), timing each phase; then resolves new single records against the
index (``hub.identity.matcher``) and reports p50/p99 latency. Peak memory is the
process's maximum resident set size; generation and encoding run in a child process
(and its workers) so the figure is the resolver's own.

    python bench/identity_scale.py --records 1000000

``--through-index`` measures the hub's stored path instead: the same records as
``LinkageRecord`` messages, stored with ``IdentityIndex.apply_batch`` in batches of 500 per
department (as a pull stores them) into an SQLite file, then ``IdentityIndex.resolve()``
(load from the database, resolve, write person ids, persons, households and history).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import random
import resource
import time
from pathlib import Path

import numpy as np

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕国梅建文辉力斌宇浩凯鹏鑫博志嘉欣怡晨雪佳琳瑶"
TRAD = str.maketrans({"张": "張", "刘": "劉", "陈": "陳", "杨": "楊", "黄": "黃", "赵": "趙", "伟": "偉", "丽": "麗",
                      "军": "軍", "杰": "傑", "华": "華", "红": "紅", "国": "國", "郑": "鄭", "罗": "羅"})
DISTRICTS = ("西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区")
STREETS = tuple(f"{a}{b}路" for a in "文天教学古莫延体凤庆" for b in "三目工院墩干安育起春")
AREAS = ("330106", "330105", "330102", "330108", "330109", "330110")
DEPARTMENTS = ("public_security", "civil_affairs", "health", "justice", "human_resources")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _check(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def make_person(rng: random.Random, key: int, household: tuple[str, str, str]) -> dict[str, object]:
    sex = rng.choice("MF")
    birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 85))
    seq = rng.randrange(0, 100) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == "M" else (0, 2, 4, 6, 8))
    first17 = f"{rng.choice(AREAS)}{birth:%Y%m%d}{seq:03d}"
    return {
        "key": key,
        "name": household[0] + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2)))),
        "id": first17 + _check(first17),
        "birth": birth,
        "sex": sex,
        "phone": f"1{rng.choice('3456789')}{rng.randrange(10**8, 10**9)}",
        "residence": household[1],
        "registered": household[2],
    }


def noisy_fields(rng: random.Random, p: dict[str, object]):  # type: ignore[no-untyped-def]
    from adapters.linkage.fields import IdentityFields

    name = str(p["name"])
    r = rng.random()
    if r < 0.1:
        name = name.translate(TRAD)
    elif r < 0.15:
        name = name[0] + " " + name[1:]
    elif r < 0.18 and len(name) > 2:
        name = name[:-1] + rng.choice(GIVEN)
    idn = str(p["id"])
    r = rng.random()
    if r < 0.1:
        idn = ""
    elif r < 0.13 and idn[6:8] == "19":
        idn = idn[:6] + idn[8:17]
    elif r < 0.16:
        pos = rng.randrange(17)
        idn = idn[:pos] + str((int(idn[pos]) + rng.randrange(1, 10)) % 10) + idn[pos + 1 :]
    b: dt.date = p["birth"]  # type: ignore[assignment]
    birth = rng.choice((f"{b:%Y-%m-%d}", f"{b.year}/{b.month}/{b.day}", f"{b:%Y%m%d}", f"{b.year}年{b.month}月{b.day}日"))
    phone = str(p["phone"]) if rng.random() < 0.6 else ""
    residence = str(p["residence"])
    if rng.random() < 0.3:
        residence = "浙江省杭州市" + residence
    return IdentityFields(
        name=name,
        id_number=idn or None,
        birth_date=birth if rng.random() < 0.85 else None,
        sex=str(p["sex"]),
        phone=phone or None,
        residence_address=residence,
        registered_address=str(p["registered"]) if rng.random() < 0.5 else None,
    )


def population(records: int, seed: int) -> tuple[list[dict[str, object]], list[tuple[int, int, str]]]:
    """Persons and (person, household, department) record slots adding up to ``records``."""
    rng = random.Random(seed)
    persons: list[dict[str, object]] = []
    slots: list[tuple[int, int, str]] = []
    household = 0
    while len(slots) < records:
        surname = rng.choice(SURNAMES)
        home = f"{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randrange(1, 500)}号{rng.randrange(1, 40)}幢{rng.randrange(101, 2400)}室"
        registered = home if rng.random() < 0.75 else f"河南省郑州市金水区{rng.choice(STREETS)}{rng.randrange(1, 99)}号"
        for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
            p = make_person(rng, len(persons), (surname, home, registered))
            persons.append(p)
            for dept in rng.sample(DEPARTMENTS, rng.choice((1, 2, 2, 3, 3, 4))):
                slots.append((int(p["key"]), household, dept))
        household += 1
    return persons, slots[:records]


def _encode_chunk(args: tuple[list[dict[str, object]], list[tuple[int, int, str]], int, bytes]):  # type: ignore[no-untyped-def]
    persons, slots, seed, secret = args
    from adapters.linkage.encoder import LinkageEncoder
    from hub.identity.records import BLOOM_FIELDS, TOKEN_KINDS, token_int

    enc = LinkageEncoder(secret)
    rng = random.Random(seed)
    n = len(slots)
    width = enc.scheme().bloom_bits // 8
    blooms = {f: np.zeros((n, width), np.uint8) for f in BLOOM_FIELDS}
    present = {f: np.zeros(n, bool) for f in BLOOM_FIELDS}
    tokens = {k: np.zeros(n, np.int64) for k in TOKEN_KINDS}
    sex = np.zeros(n, np.int8)
    year = np.zeros(n, np.int16)
    mismatch = np.zeros(n, bool)
    by_key = {int(p["key"]): p for p in persons}
    for r, (pk, _hh, _dept) in enumerate(slots):
        e = enc.encode(noisy_fields(rng, by_key[pk]))
        for b in e.bloom:
            blooms[b.field][r] = np.frombuffer(b.bits, np.uint8)
            present[b.field][r] = True
        for t in e.exact:
            tokens[t.kind][r] = token_int(t.token)
        sex[r] = 1 if e.sex == "M" else 2 if e.sex == "F" else 0
        year[r] = e.birth_year
        mismatch[r] = e.residence_mismatch
    return blooms, present, tokens, sex, year, mismatch


def _message_chunk(args: tuple[list[dict[str, object]], list[tuple[int, int, str]], int, bytes]) -> list[tuple[str, bytes]]:
    """(department, serialized LinkageRecord) for one chunk of record slots."""
    persons, slots, seed, secret = args
    from adapters.linkage.encoder import LinkageEncoder
    from pingan.v1 import linkage_pb2

    enc = LinkageEncoder(secret)
    rng = random.Random(seed)
    by_key = {int(p["key"]): p for p in persons}
    out = []
    for r, (pk, _hh, dept) in enumerate(slots):
        record = linkage_pb2.LinkageRecord(
            dataset="people", local_record_id=f"{seed + r}", encoding=enc.encode(noisy_fields(rng, by_key[pk]))
        )
        out.append((dept, record.SerializeToString()))
    return out


def _resolve_in_child(url: str, queue: "mp.Queue[tuple[float, float, str]]") -> None:
    """Fresh process: ``IdentityIndex.resolve()`` as a hub would run it; reports time and own peak RSS."""
    from hub.identity.index import IdentityIndex

    index = IdentityIndex(url)
    t = time.perf_counter()
    summary = index.resolve()
    elapsed = time.perf_counter() - t
    queue.put((elapsed, peak_rss_mb(), f"{summary.persons} persons, {summary.households} households, "
               f"{summary.candidates} candidate pairs, {summary.events} events"))


def _load_in_child(url: str, queue: "mp.Queue[tuple[float, float, str]]") -> None:
    """Fresh process: ``IdentityIndex.load()``, what a hub does at start."""
    from hub.identity.index import IdentityIndex

    index = IdentityIndex(url)
    t = time.perf_counter()
    index.load()
    queue.put((time.perf_counter() - t, peak_rss_mb(), ""))


def _in_child(target, url: str) -> tuple[float, float, str]:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=target, args=(url, queue))
    child.start()
    result = queue.get()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed with exit code {child.exitcode}")
    return result


def _store_to(path: str, records: int, seed: int, secret: bytes, workers: int) -> None:
    """Generate, encode and store the population with ``apply_batch`` into the SQLite file ``path``."""
    from hub.identity.index import IdentityIndex
    from pingan.v1 import linkage_pb2

    t = time.perf_counter()
    persons, slots = population(records, seed)
    jobs = []
    for s in range(0, len(slots), 20_000):
        part = slots[s : s + 20_000]
        keys = {pk for pk, _, _ in part}
        jobs.append(([persons[k] for k in sorted(keys)], part, s, secret))
    with mp.get_context("fork").Pool(workers) as pool:
        encoded = [m for chunk in pool.map(_message_chunk, jobs, chunksize=1) for m in chunk]
    print(f"generated+encoded {len(encoded)} records in {time.perf_counter() - t:.1f} s (not counted)", flush=True)
    index = IdentityIndex(f"sqlite:///{path}")
    t = time.perf_counter()
    by_dept: dict[str, list[bytes]] = {}
    for dept, blob in encoded:
        by_dept.setdefault(dept, []).append(blob)
    del encoded
    for dept, blobs in sorted(by_dept.items()):
        for b in range(0, len(blobs), 500):
            batch = [linkage_pb2.LinkageRecord.FromString(x) for x in blobs[b : b + 500]]
            index.apply_batch(dept, batch, f"w{b + len(batch)}")
    stored = time.perf_counter() - t
    print(f"stored {records} records with apply_batch (batches of 500) in {stored:.1f} s "
          f"({records / stored:,.0f} records/s)", flush=True)


def through_index(records: int, seed: int, secret: bytes, workers: int, keep: str | None) -> None:
    """Store, then resolve and load through ``IdentityIndex`` on an SQLite file; prints the timings.

    ``resolve()`` and ``load()`` each run in a fresh process, so their peak RSS is the
    hub's own and not the generator's. With ``keep`` the stored file is kept there (and
    reused, copied, when it exists: storing a million records takes about ten minutes).
    """
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/hub.db"
        if keep and Path(keep).exists():
            shutil.copyfile(keep, db)
            print(f"copied the stored records from {keep} (storing not re-measured)", flush=True)
        else:
            _store_to(db, records, seed, secret, workers)
            if keep:
                shutil.copyfile(db, keep)
        url = f"sqlite:///{db}"
        elapsed, peak, what = _in_child(_resolve_in_child, url)
        print(f"IdentityIndex.resolve(): {elapsed:.1f} s, {what}; peak RSS of that process {peak:.0f} MB", flush=True)
        elapsed, peak, _ = _in_child(_load_in_child, url)
        print(f"IdentityIndex.load() on a fresh process (as at hub start): {elapsed:.1f} s; peak RSS {peak:.0f} MB",
              flush=True)


def build_matrix(persons, slots, secret: bytes, workers: int):  # type: ignore[no-untyped-def]
    from hub.identity.records import RecordMatrix

    chunk = 20_000
    jobs = []
    for s in range(0, len(slots), chunk):
        part = slots[s : s + chunk]
        keys = {pk for pk, _, _ in part}
        jobs.append(([persons[k] for k in sorted(keys)], part, s, secret))
    with mp.get_context("fork").Pool(workers) as pool:
        parts = pool.map(_encode_chunk, jobs, chunksize=1)
    mx = RecordMatrix(bloom_bytes=parts[0][0]["name"].shape[1])
    for f in parts[0][0]:
        mx.blooms[f] = np.concatenate([p[0][f] for p in parts])
        mx.present[f] = np.concatenate([p[1][f] for p in parts])
    for k in parts[0][2]:
        mx.tokens[k] = np.concatenate([p[2][k] for p in parts])
    mx.sex = np.concatenate([p[3] for p in parts])
    mx.birth_year = np.concatenate([p[4] for p in parts])
    mx.residence_mismatch = np.concatenate([p[5] for p in parts])
    mx.jurisdiction = np.zeros(mx.n, np.int64)  # no grid paths in this population
    return mx


def pairwise(labels: np.ndarray, truth: np.ndarray) -> tuple[int, int, int]:
    """(true positive, predicted, true) pair counts, from contingency counts (no pair enumeration)."""
    def pairs(counts: np.ndarray) -> int:
        c = counts.astype(np.int64)
        return int((c * (c - 1) // 2).sum())

    joint = np.unique(np.stack([labels, truth], axis=1), axis=0, return_counts=True)[1]
    return pairs(joint), pairs(np.unique(labels, return_counts=True)[1]), pairs(np.unique(truth, return_counts=True)[1])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate_to(path: str, records: int, seed: int, secret: bytes, workers: int) -> None:
    """Child process: population + encodings, saved to ``path`` (keeps the parent's memory clean)."""
    import pickle

    persons, slots = population(records, seed)
    mx = build_matrix(persons, slots, secret, workers)
    rng = random.Random(seed + 7)
    sample = [persons[rng.randrange(len(persons))] for _ in range(2000)]
    # Rows as the hub receives them: department by department (the generator makes them
    # person by person, an order under which comparison hits the CPU caches far more often).
    arrival = np.argsort(np.array([DEPARTMENTS.index(s[2]) for s in slots]), kind="stable")
    mx.permute(arrival)
    truth = np.array([s[0] for s in slots], np.int64)[arrival]
    with open(path, "wb") as fh:
        pickle.dump((mx, truth, sample, len(persons)), fh, protocol=5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--through-index", action="store_true", help="store and resolve through IdentityIndex (SQLite)")
    ap.add_argument("--keep-db", metavar="PATH", help="with --through-index: keep the stored SQLite file at PATH, "
                    "or start from it when it exists (storing is then not re-measured)")
    args = ap.parse_args()
    if args.through_index:
        through_index(args.records, args.seed, b"bench-identity-scale-secret-0123456789", args.workers, args.keep_db)
        return

    import pickle
    import tempfile

    from hub.identity.blocking import candidate_pairs
    from hub.identity.clustering import cluster
    from hub.identity.comparison import bloom_counts, compare
    from hub.identity.matcher import Matcher
    from hub.identity.records import RecordMatrix
    from hub.identity.resolution import fit_model, known_status

    secret = b"bench-identity-scale-secret-0123456789"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/matrix.pkl"
        child = mp.get_context("spawn").Process(
            target=_generate_to, args=(path, args.records, args.seed, secret, args.workers)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generation failed with exit code {child.exitcode}")
        with open(path, "rb") as fh:
            mx, truth, sample, n_persons = pickle.load(fh)
    t_gen = time.perf_counter() - t0
    print(f"generated+encoded {mx.n} records of {n_persons} persons in {t_gen:.1f} s "
          f"(in a child process; this process holds the matrix: {peak_rss_mb():.0f} MB peak RSS)", flush=True)

    phases: dict[str, float] = {}
    t = time.perf_counter()
    order = mx.locality_order()  # as IdentityIndex._load does
    mx.permute(order)
    truth = truth[order]
    phases["ordering"] = time.perf_counter() - t
    t = time.perf_counter()
    counts = bloom_counts(mx)
    i, j = candidate_pairs(mx)
    phases["blocking"] = time.perf_counter() - t
    peaks = {"blocking": peak_rss_mb()}
    t = time.perf_counter()
    gamma = compare(mx, i, j, counts)
    phases["comparison"] = time.perf_counter() - t
    peaks["comparison"] = peak_rss_mb()
    t = time.perf_counter()
    model = fit_model(mx, gamma, counts, known_status(mx, i, j))  # as hub.identity.resolution.resolve
    phases["EM"] = time.perf_counter() - t
    peaks["EM"] = peak_rss_mb()
    t = time.perf_counter()
    p = model.match_probability(gamma)
    del gamma
    labels = cluster(mx.n, i, j, p, mx.tokens["id_number"])
    phases["clustering"] = time.perf_counter() - t
    total = sum(phases.values())
    tp, pred, true = pairwise(labels, truth)
    print(f"resolved {mx.n} records: {len(i)} candidate pairs, {len(np.unique(labels))} persons "
          f"(true {len(np.unique(truth))}) in {total:.1f} s; phases: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()), flush=True)
    print(f"pairwise precision {tp / max(pred, 1):.4f} recall {tp / max(true, 1):.4f} "
          f"(wrong {pred - tp}, missed {true - tp})", flush=True)
    print(f"peak RSS after resolution {peak_rss_mb():.0f} MB (peak so far after "
          + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()) + ")", flush=True)
    del i, j, p

    # Single new records against the index.
    t = time.perf_counter()
    _, person_index = np.unique(labels, return_inverse=True)
    matcher = Matcher(mx, person_index, model)
    t_index = time.perf_counter() - t
    rng = random.Random(args.seed + 99)
    from adapters.linkage.encoder import LinkageEncoder
    from hub.identity.records import EncodedRecord

    enc = LinkageEncoder(secret)
    queries = []
    for q in range(args.queries):
        if q % 2 == 0:
            p_ = sample[q % len(sample)]
        else:
            p_ = make_person(rng, -1, (rng.choice(SURNAMES), f"{rng.choice(DISTRICTS)}新路{q}号", "河北省石家庄市长安区"))
        e = enc.encode(noisy_fields(rng, p_))
        queries.append(RecordMatrix.from_records([EncodedRecord.from_encoding(e)], mx.bloom_bytes * 8))
    latencies = []
    for q in queries:
        s = time.perf_counter()
        matcher.match(q)
        latencies.append((time.perf_counter() - s) * 1000)
    lat = np.array(latencies)
    print(f"single-record match over {args.queries} queries (index build {t_index:.1f} s): "
          f"p50 {np.percentile(lat, 50):.2f} ms, p99 {np.percentile(lat, 99):.2f} ms, max {lat.max():.2f} ms")
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
