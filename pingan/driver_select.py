"""Hot SELECTs through the DB-API driver, each Core statement compiled once per dialect.

A profile request reads a person, their record links and their household from the
identity index: three small indexed SELECTs. Through ``Connection.execute`` each cost
about five times what SQLite spent running it (the compiled-cache lookup, execution
context, result metadata, row objects, and a connection checkout per read), and those
reads run on the hub's event loop (docs/benchmarks.md, "Profile load"). Here the
statement is compiled once per (statement, dialect), the parameters are passed in the
driver's own style, and rows come back as plain tuples.

:func:`select_rows` is for statements whose result columns need no type conversion
(strings, integers, booleans as the driver returns them); :func:`select_mappings`
applies each result column's type conversion (``TypeEngine.result_processor``, e.g.
SQLite's text dates to ``datetime``), as ``Connection.execute(...).mappings()`` does:
the adapters read department tables of any column types that way. Binds must be plain
values (no expanding ``IN``). Driver errors are re-raised as SQLAlchemy's ``DBAPIError``
subclasses, as ``Connection.execute`` raises them, so callers keep catching
``sqlalchemy.exc.SQLAlchemyError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import sqlalchemy as sa


def select_rows(engine: sa.Engine, statement: sa.Select[Any], params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every row of ``statement`` with ``params`` bound, on a pooled connection of ``engine``."""
    return _execute(engine, statement, params)[0]


def select_mappings(
    engine: sa.Engine, statement: sa.Select[Any], params: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Every row of ``statement`` as ``{column name: value}``, values converted by their column types."""
    rows, type_codes = _execute(engine, statement, params)
    if not rows:
        return []
    names, processors = _result_processors(statement, engine.dialect, type_codes)
    if not any(processors):
        return [dict(zip(names, row, strict=True)) for row in rows]
    return [
        {name: (p(v) if p is not None else v) for name, v, p in zip(names, row, processors, strict=True)}
        for row in rows
    ]


def _execute(
    engine: sa.Engine, statement: sa.Select[Any], params: Mapping[str, Any]
) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    """The rows and the driver's type code per result column (``cursor.description``)."""
    sql, order = _compiled(statement, engine.dialect)
    args: Any = tuple(params[name] for name in order) if order is not None else dict(params)
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        raw = engine.raw_connection()
    except dbapi_error as exc:  # cannot connect (or the pool's ping failed): as Connection.execute says it
        raise sa.exc.DBAPIError.instance(None, None, exc, dbapi_error) from exc
    try:
        cursor = raw.cursor()
        try:
            cursor.execute(sql, args)
            rows = list(cursor.fetchall())
            return rows, tuple(d[1] for d in cursor.description or ())
        finally:
            cursor.close()
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(sql, args, exc, dbapi_error) from exc
    finally:
        raw.close()  # back to the pool, which rolls back whatever the driver began


@lru_cache(maxsize=256)
def _result_processors(
    statement: sa.Select[Any], dialect: sa.Dialect, type_codes: tuple[Any, ...]
) -> tuple[tuple[str, ...], tuple[Callable[[Any], Any] | None, ...]]:
    """Result column names and each column type's conversion for ``dialect`` (None: none needed)."""
    columns = list(statement.selected_columns)
    names = tuple(c.name for c in columns)
    if len(names) != len(type_codes) or len(set(names)) != len(names):
        raise ValueError("select_mappings needs one uniquely named result column per selected column")
    return names, tuple(
        c.type.dialect_impl(dialect).result_processor(dialect, code) for c, code in zip(columns, type_codes, strict=True)
    )


@lru_cache(maxsize=256)
def _compiled(statement: sa.Select[Any], dialect: sa.Dialect) -> tuple[str, tuple[str, ...] | None]:
    """The SQL text for ``dialect`` and, for positional parameter styles, the bind names in order."""
    compiled = statement.compile(dialect=dialect)
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return str(compiled), order
