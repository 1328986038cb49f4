"""Hot SELECTs through the DB-API driver, each Core statement compiled once per dialect.

A profile request reads a person, their record links and their household from the
identity index: three small indexed SELECTs. Through ``Connection.execute`` each cost
about five times what SQLite spent running it (the compiled-cache lookup, execution
context, result metadata, row objects, and a connection checkout per read), and those
reads run on the hub's event loop (docs/benchmarks.md, "Profile load"). Here the
statement is compiled once per (statement, dialect), the parameters are passed in the
driver's own style, and rows come back as plain tuples.

Only for statements whose result columns need no type conversion (strings, integers,
booleans as the driver returns them) and whose binds are plain values. Driver errors are
re-raised as SQLAlchemy's ``DBAPIError`` subclasses, as ``Connection.execute`` raises
them, so callers keep catching ``sqlalchemy.exc.SQLAlchemyError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import sqlalchemy as sa


def select_rows(engine: sa.Engine, statement: sa.Select[Any], params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` with ``params`` bound, on a pooled connection of ``engine``."""
    sql, order = _compiled(statement, engine.dialect)
    args: Any = tuple(params[name] for name in order) if order is not None else dict(params)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
        finally:
            cursor.close()
    except engine.dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, args, exc, engine.dialect.loaded_dbapi.Error) from exc
    finally:
        raw.close()  # back to the pool, which rolls back whatever the driver began


@lru_cache(maxsize=64)
def _compiled(statement: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The SQL text for ``dialect`` and, for positional parameter styles, the bind names in order."""
    compiled = statement.compile(dialect=dialect)
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return str(compiled), order
