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
