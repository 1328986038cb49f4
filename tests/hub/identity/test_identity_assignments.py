"""Person assignments live in ``identity_assignments`` (migration identity_0003).

A resolution writes only the assignments that changed, and the migration carries the
assignments of an index resolved before it over, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from adapters.linkage.encoder import LinkageEncoder
from adapters.linkage.fields import IdentityFields
from hub.identity import store
from hub.identity.index import IdentityIndex
from pingan.v1 import linkage_pb2

PEOPLE = (
    ("1", IdentityFields(name="李小明", birth_date="1990-03-07", phone="13800001111")),
    ("2", IdentityFields(name="李小明", birth_date="1990/3/7", phone="13800001111")),
    ("3", IdentityFields(name="王芳", birth_date="1985-11-02", phone="13900002222")),
    ("4", IdentityFields(name="王芳", birth_date="19851102", phone="13900002222")),
    ("5", IdentityFields(name="赵强", birth_date="1972-01-30", phone="13700003333")),
)


def _batch(encoder: LinkageEncoder, rows: tuple[tuple[str, IdentityFields], ...]) -> list[linkage_pb2.LinkageRecord]:
    return [
        linkage_pb2.LinkageRecord(dataset="people", local_record_id=local, encoding=encoder.encode(fields))
        for local, fields in rows
    ]


@contextmanager
def _assignment_rows_written(engine: sa.Engine) -> Iterator[list[int]]:
    """Counts the rows INSERTed into identity_assignments while the block runs."""
    written: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO IDENTITY_ASSIGNMENTS"):
            written.append(len(parameters) if executemany else len(parameters) // 3)  # 3 columns a row

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        yield written
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)


def test_a_resolution_writes_only_the_assignments_that_changed(database_url: str, encoder: LinkageEncoder) -> None:
    index = IdentityIndex(database_url)
    index.apply_batch("civil_affairs", _batch(encoder, PEOPLE[:2]), "w1")
    index.apply_batch("health", _batch(encoder, PEOPLE[2:]), "w1")
    with _assignment_rows_written(index.engine) as first:
        index.resolve()
    assert sum(first) == 5
    with _assignment_rows_written(index.engine) as again:
        index.resolve()
    assert sum(again) == 0  # unchanged data: nothing rewritten
    before = {k: index.person_of("civil_affairs", "people", k) for k in ("1", "2")}
    new = (("6", IdentityFields(name="周杰伦", birth_date="1979-01-18", phone="13711112222")),)
    with _assignment_rows_written(index.engine) as incremental:
        index.apply_batch("education", _batch(encoder, new), "e1")
        index.resolve()
    assert sum(incremental) == 1  # only the new record's
    assert {k: index.person_of("civil_affairs", "people", k) for k in ("1", "2")} == before
    with index.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(store.assignments)).scalar() == 6


def test_the_migration_carries_assignments_over(database_url: str, encoder: LinkageEncoder) -> None:
    """An index resolved at identity_0002 keeps every record's person after the upgrade."""
    engine = sa.create_engine(database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(store.MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "identity_0002")
        now = "2026-11-23 00:00:00"
        for n, (local, _fields) in enumerate(PEOPLE):
            conn.execute(
                sa.text(
                    "INSERT INTO identity_records (department, dataset, local_record_id, sex, birth_year, "
                    "residence_mismatch, jurisdiction, groups, deleted, person_id, confidence, updated_at) "
                    "VALUES ('health', 'people', :local, '', 0, false, '', '', :deleted, :pid, :conf, :now)"
                ),
                {"local": local, "deleted": n == 4, "pid": f"p-{n // 2}", "conf": 0.5 + n / 10, "now": now},
            )
    index = IdentityIndex(engine)  # migrates to head
    columns = {c["name"] for c in sa.inspect(engine).get_columns("identity_records")}
    assert not {"person_id", "confidence"} & columns
    assert [index.person_of("health", "people", k) for k, _ in PEOPLE] == ["p-0", "p-0", "p-1", "p-1", None]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(store.assignments.c.person_id, store.assignments.c.confidence)).all()
    assert sorted(rows) == [("p-0", 0.5), ("p-0", 0.6), ("p-1", 0.7), ("p-1", 0.8)]  # the deleted one has none
    assert [r.local_record_id for r in index.records_of("p-1")] == ["3", "4"]
    with engine.begin() as conn:  # and back
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "identity_0002")
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT local_record_id, person_id FROM identity_records ORDER BY 1")).all()
    assert back == [("1", "p-0"), ("2", "p-0"), ("3", "p-1"), ("4", "p-1"), ("5", None)]



def test_rows_in_locality_order_resolve_to_the_same_persons(
    encoded: dict[str, list[linkage_pb2.LinkageRecord]],
) -> None:
    """The index resolves its records in name order (``RecordMatrix.locality_order``), not
    in arrival order: the order changes the speed, not who is linked with whom."""
    import numpy as np

    from hub.identity.records import EncodedRecord, RecordMatrix
    from hub.identity.resolution import resolve

    records = [EncodedRecord.from_message(d, r) for d, batch in sorted(encoded.items()) for r in batch]
    arrival = RecordMatrix.from_records(records, 512)
    ordered = RecordMatrix.from_records(records, 512)
    order = ordered.locality_order()
    ordered.permute(order)
    names = ordered.words("name")
    assert not np.array_equal(order, np.arange(len(records)))  # it does reorder this population
    for column in ("blooms", "present", "tokens"):  # row r is the old row order[r], in every column
        for key, values in getattr(arrival, column).items():
            assert np.array_equal(getattr(ordered, column)[key], values[order])
    for column in ("sex", "birth_year", "residence_mismatch", "jurisdiction"):
        assert np.array_equal(getattr(ordered, column), getattr(arrival, column)[order])
    same_name = [
        r for r in range(len(records) - 1) if ordered.present["name"][r] and np.array_equal(names[r], names[r + 1])
    ]
    assert len(same_name) > len(records) // 10  # records with one name filter are neighbours

    def partition(labels: np.ndarray, rows: np.ndarray) -> set[frozenset[int]]:
        groups: dict[int, set[int]] = {}
        for label, row in zip(labels.tolist(), rows.tolist(), strict=True):
            groups.setdefault(label, set()).add(row)
        return {frozenset(g) for g in groups.values()}

    assert partition(resolve(ordered).labels, order) == partition(resolve(arrival).labels, np.arange(len(records)))
