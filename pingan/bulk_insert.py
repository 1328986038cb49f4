"""INSERT many rows through the DB-API driver's executemany (hub and adapters share it).

SQLAlchemy's per-row parameter processing for a Core ``executemany`` costs more than
SQLite's insert itself for the few rows a request writes (the hub's decision log, an
adapter's access log; docs/benchmarks.md, "Profile load"). Each column's type conversion
(``TypeEngine.bind_processor``, e.g. a timestamp to SQLite's text form) is still applied,
looked up once per call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (all with the same keys) into ``table`` within ``conn``'s transaction."""
    if not rows:
        return
    names = list(rows[0])
    processors = [table.c[name].type.bind_processor(conn.dialect) for name in names]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    conn.exec_driver_sql(
        sql,
        [tuple(p(row[n]) if p else row[n] for n, p in zip(names, processors, strict=True)) for row in rows],
    )
