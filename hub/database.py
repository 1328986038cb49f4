"""The engine for the hub's own database (identity index, policy tables).

On SQLite the file is put in WAL mode with ``synchronous=NORMAL`` and a busy
timeout: concurrent profile requests write decision-log rows while linkage reads,
and the default rollback journal serialises all of that behind one lock (measured
in docs/benchmarks.md, "Profile load"). WAL with NORMAL keeps every committed
transaction across a process crash; a power loss may drop the last few decision
log rows, which are replay inputs, not evidence — the audit log, which is
evidence, keeps its own fully synchronous engine (``audit.schema``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa


def hub_engine(url: str) -> sa.Engine:
    if sa.engine.make_url(url).get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True, hide_parameters=True)
    engine = sa.create_engine(url, hide_parameters=True, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (all with the same keys) with the driver's executemany.

    Each column's type conversion (``TypeEngine.bind_processor``, e.g. a timestamp to
    SQLite's text form) is looked up once per call instead of going through
    SQLAlchemy's per-row parameter processing, which cost more than the insert itself
    for the decision log's ~10 rows per profile (docs/benchmarks.md, "Profile load").
    """
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
