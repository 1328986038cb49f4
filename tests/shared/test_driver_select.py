"""pingan/driver_select.py: hot SELECTs through the driver, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pingan.driver_select import select_mappings, select_rows

_metadata = sa.MetaData()
_people = sa.Table(
    "driver_people",
    _metadata,
    sa.Column("person_id", sa.String(32), primary_key=True),
    sa.Column("household_id", sa.String(32), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("age", sa.Integer, nullable=False),
)
_MEMBERS = (
    sa.select(_people.c.person_id, _people.c.age, _people.c.active)
    .where((_people.c.household_id == sa.bindparam("household_id")) & _people.c.active.is_(True))
    .order_by(_people.c.person_id)
)
_TWO_BINDS = sa.select(sa.func.count()).select_from(_people).where(
    (_people.c.age >= sa.bindparam("low")) & (_people.c.age < sa.bindparam("high"))
)


@pytest.fixture()
def engine(database_url: str):  # type: ignore[no-untyped-def]
    engine = sa.create_engine(database_url)
    _metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            _people.insert(),
            [
                {"person_id": f"p-{i:02d}", "household_id": f"h-{i % 3}", "active": i % 4 != 0, "age": 20 + i}
                for i in range(12)
            ],
        )
    yield engine
    _metadata.drop_all(engine)
    engine.dispose()


def test_rows_are_those_connection_execute_returns(engine: sa.Engine) -> None:
    for household in ("h-0", "h-1", "h-2", "h-none"):
        with engine.connect() as conn:
            expected = [tuple(row) for row in conn.execute(_MEMBERS, {"household_id": household})]
        assert select_rows(engine, _MEMBERS, {"household_id": household}) == expected
    # binds in the statement's own order, whatever the mapping's order (positional styles)
    assert select_rows(engine, _TWO_BINDS, {"high": 25, "low": 22}) == [(3,)]
    assert select_rows(engine, _TWO_BINDS, {"low": 22, "high": 25}) == [(3,)]


def test_connections_go_back_to_the_pool(engine: sa.Engine) -> None:
    for _ in range(50):
        select_rows(engine, _MEMBERS, {"household_id": "h-1"})
    assert engine.pool.checkedout() == 0


def test_driver_errors_are_sqlalchemy_errors(engine: sa.Engine) -> None:
    """Callers catch ``SQLAlchemyError`` (the alert feed keeps its last set on one): a
    driver error must not escape as the driver's own type."""
    _metadata.drop_all(engine)
    with pytest.raises(sa.exc.DBAPIError) as info:
        select_rows(engine, _MEMBERS, {"household_id": "h-1"})
    assert isinstance(info.value, sa.exc.SQLAlchemyError) and "driver_people" in str(info.value)
    assert engine.pool.checkedout() == 0
    _metadata.create_all(engine)  # for the fixture's teardown


_visits = sa.Table(
    "driver_visits",
    _metadata,
    sa.Column("visit_id", sa.Integer, primary_key=True),
    sa.Column("visited_on", sa.Date, nullable=True),
    sa.Column("updated_at", sa.DateTime, nullable=True),
    sa.Column("cost", sa.Numeric(10, 2), nullable=True),
    sa.Column("urgent", sa.Boolean, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)


def test_mappings_convert_values_as_connection_execute_does(engine: sa.Engine) -> None:
    """Dates, timestamps, decimals and booleans come back typed (SQLite stores them as text and
    integers), equal to ``Connection.execute(...).mappings()``, NULLs included."""
    import datetime as dt
    from decimal import Decimal

    with engine.begin() as conn:
        conn.execute(
            _visits.insert(),
            [
                {"visit_id": 1, "visited_on": dt.date(2026, 3, 1), "updated_at": dt.datetime(2026, 3, 2, 8, 30),
                 "cost": Decimal("12.50"), "urgent": True, "note": "复诊"},
                {"visit_id": 2, "visited_on": None, "updated_at": None, "cost": None, "urgent": None, "note": None},
            ],
        )
    statement = sa.select(_visits).where(_visits.c.visit_id.in_([sa.bindparam("a"), sa.bindparam("b")]))
    with engine.connect() as conn:
        expected = [dict(row) for row in conn.execute(statement, {"a": 1, "b": 2}).mappings()]
    got = select_mappings(engine, statement, {"a": 1, "b": 2})
    assert sorted(got, key=lambda r: r["visit_id"]) == sorted(expected, key=lambda r: r["visit_id"])
    first = next(r for r in got if r["visit_id"] == 1)
    assert isinstance(first["visited_on"], dt.date) and isinstance(first["updated_at"], dt.datetime)
    assert first["cost"] == Decimal("12.50") and first["urgent"] is True
    assert select_mappings(engine, statement, {"a": 7, "b": 8}) == []


def test_a_database_that_cannot_be_reached_is_a_sqlalchemy_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Connecting fails inside the pool (no such directory): the caller still sees a ``DBAPIError``."""
    engine = sa.create_engine(f"sqlite:///{tmp_path}/missing-dir/none.db")
    with pytest.raises(sa.exc.DBAPIError):
        select_mappings(engine, _MEMBERS, {"household_id": "h-1"})
    with pytest.raises(sa.exc.DBAPIError):
        select_rows(engine, _MEMBERS, {"household_id": "h-1"})
