"""pingan/bulk_insert.py: multi-row INSERT statements, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pingan.bulk_insert import MAX_PARAMETERS, insert_rows

_metadata = sa.MetaData()
_rows = sa.Table(
    "bulk_rows",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("label", sa.String(64), nullable=False),
    sa.Column("digest", sa.LargeBinary, nullable=True),
)


def _stored(engine: sa.Engine) -> list[tuple[int, dt.datetime, str, bytes | None]]:
    with engine.connect() as conn:
        return [
            (r.id, r.at.replace(tzinfo=dt.UTC) if r.at.tzinfo is None else r.at, r.label, r.digest)
            for r in conn.execute(sa.select(_rows).order_by(_rows.c.id))
        ]


def test_rows_round_trip_with_their_types_in_chunks_under_the_parameter_limit(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    _metadata.create_all(engine)
    at = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
    count = MAX_PARAMETERS // 4 * 2 + 7  # three statements of at most 999 parameters
    rows = [
        {
            "id": i,
            "at": at + dt.timedelta(seconds=i),
            "label": f"行 {i}",
            "digest": bytes([i % 256]) * 4 if i % 3 else None,
        }
        for i in range(count)
    ]
    statements: list[tuple[str, int]] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO bulk_rows"):
            statements.append((statement, len(parameters)))

    with engine.begin() as conn:
        insert_rows(conn, _rows, rows)
    assert _stored(engine) == [(r["id"], r["at"], r["label"], r["digest"]) for r in rows]
    assert len(statements) == 3
    assert all(n <= MAX_PARAMETERS for _, n in statements)
    assert sum(n for _, n in statements) == count * 4
    engine.dispose()


def test_nothing_to_insert_runs_no_statement(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    _metadata.create_all(engine)
    with engine.begin() as conn:
        insert_rows(conn, _rows, [])
    assert _stored(engine) == []
    engine.dispose()


def test_a_failing_row_fails_the_whole_insert(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    _metadata.create_all(engine)
    at = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    try:
        with engine.begin() as conn:
            insert_rows(conn, _rows, [{"id": 1, "at": at, "label": "a"}, {"id": 1, "at": at, "label": "b"}])
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("a duplicate key must fail the insert")
    assert _stored(engine) == []
    engine.dispose()


def test_rows_in_any_key_order_and_single_columns(database_url: str) -> None:
    """Values are taken by column name (the column list is read once per table and keys)."""
    engine = sa.create_engine(database_url)
    _metadata.create_all(engine)
    at = dt.datetime(2026, 11, 23, 2, 30, tzinfo=dt.UTC)
    singles = sa.Table("bulk_singles", sa.MetaData(), sa.Column("label", sa.String(64), nullable=False))
    singles.create(engine)
    with engine.begin() as conn:
        insert_rows(conn, _rows, [{"id": 1, "at": at, "label": "a", "digest": None}, {"label": "b", "digest": b"x", "at": at, "id": 2}])
        insert_rows(conn, singles, [{"label": "x"}, {"label": "y"}])
    assert _stored(engine) == [(1, at, "a", None), (2, at, "b", b"x")]
    with engine.connect() as conn:
        assert conn.execute(sa.select(singles.c.label).order_by(singles.c.label)).scalars().all() == ["x", "y"]
    engine.dispose()
