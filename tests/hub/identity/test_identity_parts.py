"""Scheme v2 on the hub: crosswise name parts, the combined address feature, ID-anchored EM,
and the identity_0002 migration on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from identity_population import TEST_SECRET

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from adapters.linkage.idnumber import check_character
from hub.identity import store
from hub.identity.comparison import FEATURES, address_levels, compare
from hub.identity.errors import IdentityError
from hub.identity.fellegi_sunter import estimate_u, fit
from hub.identity.index import IdentityIndex
from hub.identity.records import EncodedRecord, RecordMatrix
from hub.identity.resolution import known_status
from pingan.v1 import linkage_pb2

COL = {f.name: n for n, f in enumerate(FEATURES)}


def _matrix(encoder: LinkageEncoder, *records: IdentityFields) -> RecordMatrix:
    recs = [EncodedRecord.from_encoding(encoder.encode(r), ("d", "s", str(n))) for n, r in enumerate(records)]
    return RecordMatrix.from_records(recs, encoder.scheme().bloom_bits)


def test_swapped_name_parts_agree_crosswise(encoder: LinkageEncoder) -> None:
    mx = _matrix(
        encoder,
        IdentityFields(name="James Coleman"),
        IdentityFields(name="Coleman James"),
        IdentityFields(name="Howie Coleman"),
    )
    gamma = compare(mx, np.array([0, 0]), np.array([1, 2]))
    assert gamma[0, COL["surname"]] == gamma[0, COL["given_name"]] == 4  # swapped: both parts identical
    assert gamma[1, COL["surname"]] == 4 and gamma[1, COL["given_name"]] == 0


def test_missing_parts_carry_no_evidence(encoder: LinkageEncoder) -> None:
    mx = _matrix(encoder, IdentityFields(name="Madonna"), IdentityFields(name="Madonna Ciccone"), IdentityFields())
    gamma = compare(mx, np.array([0, 0]), np.array([1, 2]))
    assert gamma[0, COL["given_name"]] == -1 and gamma[0, COL["surname"]] == 4  # crosswise: given "madonna"
    assert gamma[1, COL["surname"]] == gamma[1, COL["given_name"]] == gamma[1, COL["address"]] == -1


def test_address_levels_combine_text_and_numbers() -> None:
    whole = np.array([1.0, 0.9, 0.75, 0.6, 0.6, 0.3, 0.3, 0.3, np.nan], np.float32)
    numbers = np.array([1.0, np.nan, 0.6, 1.0, 0.2, 1.0, 0.75, 0.1, 1.0], np.float32)
    assert address_levels(whole, numbers).tolist() == [6, 5, 4, 3, 2, 2, 1, 0, -1]


def test_address_numbers_lift_a_garbled_address(encoder: LinkageEncoder) -> None:
    mx = _matrix(
        encoder,
        IdentityFields(residence_address="95 leahy place crestfield shenton park 6302"),
        IdentityFields(residence_address="95 leahy lplace crestkield shento mpark 6302"),
        IdentityFields(residence_address="17 leahy lplace crestkield shento mpark 6330"),
    )
    gamma = compare(mx, np.array([0, 0]), np.array([1, 2]))
    assert gamma[0, COL["address"]] > gamma[1, COL["address"]]


def test_valid_id_numbers_fix_the_status_of_pairs_in_em(encoder: LinkageEncoder) -> None:
    same, other = "11010519491231002X", "11010519491231003" + check_character("11010519491231003")
    mx = _matrix(
        encoder,
        IdentityFields(name="张伟", id_number=same),
        IdentityFields(name="张伟", id_number=same),
        IdentityFields(name="张伟", id_number=other),
        IdentityFields(name="张伟"),
    )
    i, j = np.array([0, 0, 0]), np.array([1, 2, 3])
    assert known_status(mx, i, j).tolist() == [1, 0, -1]
    gamma = compare(mx, i, j)
    u = estimate_u(gamma)
    free, anchored = fit(gamma, u), fit(gamma, u, known=known_status(mx, i, j))
    # Fixing pair (0, 2) as a non-match lowers the share of matches EM attributes to the candidates.
    assert anchored.prior < free.prior


def _records(encoder: LinkageEncoder) -> list[linkage_pb2.LinkageRecord]:
    fields = IdentityFields(name="李 小明", birth_date="1990-03-07", residence_address="西湖区文三路12号3幢501室")
    return [linkage_pb2.LinkageRecord(dataset="people", local_record_id="1", encoding=encoder.encode(fields))]


def test_migration_adds_the_part_columns_to_a_v1_database(tmp_path: Path, encoder: LinkageEncoder) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'v1.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(store.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "identity_0001")
    before = {c["name"] for c in sa.inspect(engine).get_columns("identity_records")}
    assert "bloom_surname" not in before
    index = IdentityIndex(engine)  # migrates to head
    after = {c["name"] for c in sa.inspect(engine).get_columns("identity_records")}
    assert {"bloom_surname", "bloom_given_name", "bloom_address_numbers"} <= after
    index.apply_batch("civil_affairs", _records(encoder), "w1")
    with engine.connect() as conn:
        row = conn.execute(sa.select(store.records)).mappings().one()
    assert all(len(row[c]) == 64 for c in ("bloom_surname", "bloom_given_name", "bloom_address_numbers"))


def test_a_model_fitted_on_other_features_must_be_refitted(database_url: str, encoder: LinkageEncoder) -> None:
    index = IdentityIndex(database_url)
    index.apply_batch("civil_affairs", _records(encoder), "w1")
    index.resolve()
    with index.engine.begin() as conn:
        model = json.loads(conn.execute(sa.select(store.settings.c.value).where(store.settings.c.key == "model")).scalar())
        model["features"] = [["name", 5], *model["features"][1:]]
        conn.execute(sa.update(store.settings).where(store.settings.c.key == "model").values(value=json.dumps(model)))
    stale = IdentityIndex(database_url)
    with pytest.raises(IdentityError, match="run resolve"):
        stale.lookup(encoder.encode(IdentityFields(name="李小明")))
    stale.resolve()
    assert stale.lookup(encoder.encode(IdentityFields(name="李小明", birth_date="1990-03-07")))


def test_the_test_secret_is_not_in_any_stored_column(tmp_path: Path, encoder: LinkageEncoder) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    IdentityIndex(url).apply_batch("civil_affairs", _records(encoder), "w1")
    raw = (tmp_path / "h.db").read_bytes()
    for needle in ("小明".encode(), "文三路".encode(), TEST_SECRET):
        assert needle not in raw


def test_comparison_in_chunks_equals_comparison_at_once(
    encoded: dict[str, list[linkage_pb2.LinkageRecord]], encoder: LinkageEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """compare() bounds its temporaries by working PAIR_CHUNK pairs at a time; the result must not change."""
    from hub.identity import comparison

    recs = [
        EncodedRecord.from_encoding(r.encoding, (dept, r.dataset, r.local_record_id))
        for dept, rows in sorted(encoded.items())
        for r in rows
    ]
    mx = RecordMatrix.from_records(recs, encoder.scheme().bloom_bits)
    rng = np.random.default_rng(5)
    i = rng.integers(0, mx.n, 5_000)
    j = rng.integers(0, mx.n, 5_000)
    whole = compare(mx, i, j)
    monkeypatch.setattr(comparison, "PAIR_CHUNK", 777)
    assert np.array_equal(compare(mx, i, j), whole)
    assert np.array_equal(compare(mx, i, j, comparison.bloom_counts(mx)), whole)
