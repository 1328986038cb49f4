"""INSERT many rows as multi-row ``VALUES`` statements through the DB-API driver.

Shared by the hub's audit log and decision log and by the adapters' access log: the
rows a request writes are few, and two costs used to exceed SQLite's insert itself.

- SQLAlchemy's per-row parameter processing for a Core ``executemany``: rows go to the
  driver directly. Each column's type conversion (``TypeEngine.bind_processor``, e.g. a
  timestamp to SQLite's text form) is still applied, looked up once per call.
- One statement step per row: ``sqlite3`` releases the GIL around every step of an
  ``executemany``, and a writer thread that gives up the GIL while the event loop is
  busy waits up to a switch interval (5 ms) to get it back. Under load a batch of
  audit entries (an entry, its sections and tree nodes: ~10 rows each) paid that per
  row. One statement per table pays it once (docs/benchmarks.md, "Profile load").

SQLite's documented limit on bound parameters is 32766 since 3.32.0 and 999 before
(https://sqlite.org/limits.html, SQLITE_MAX_VARIABLE_NUMBER); statements stay under 999.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

MAX_PARAMETERS = 999


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (all with the same keys) into ``table`` within ``conn``'s transaction."""
    if not rows:
        return
    names = tuple(rows[0])
    get, processors = _row_reader(table, names, conn.dialect)
    if processors is None:
        values = [get(row) for row in rows]
    else:
        values = [tuple(p(v) if p else v for v, p in zip(get(row), processors, strict=True)) for row in rows]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    per_statement = max(1, MAX_PARAMETERS // len(names))
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        conn.exec_driver_sql(
            _statement(table.name, names, len(chunk), mark), tuple(v for row in chunk for v in row)
        )


@lru_cache(maxsize=256)
def _row_reader(
    table: sa.Table, names: tuple[str, ...], dialect: sa.Dialect
) -> tuple[Callable[[Mapping[str, Any]], tuple[Any, ...]], tuple[Callable[[Any], Any] | None, ...] | None]:
    """A row's values in ``names`` order, and the columns' type conversions (``None`` when no
    column has one): looked up once per table, column list and dialect, not once per call."""
    processors = tuple(table.c[name].type.bind_processor(dialect) for name in names)
    single = itemgetter(*names)
    get = single if len(names) > 1 else (lambda row: (single(row),))
    return get, (processors if any(processors) else None)


@lru_cache(maxsize=512)
def _statement(table: str, names: tuple[str, ...], rows: int, mark: str) -> str:
    one = f"({', '.join([mark] * len(names))})"
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([one] * rows)}"
