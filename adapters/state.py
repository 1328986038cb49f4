"""The adapter's own state database: its access log and last-served linkage positions.

Separate from the department's database (which the adapter only reads). Tables
are prefixed ``adapter_`` and created by the Alembic migrations in
``adapters/migrations`` (version table ``alembic_version_adapter``), run at
start. The access log is what a department shows its own auditors and what
``pingan audit reconcile`` compares with the hub's log: every FetchRecords,
StreamLinkage and Tokenize, refused ones included. It holds local record ids,
field names, caller and purpose - never an identifier's value. As an audit
witness the adapter also keeps the newest hub checkpoint it verified
(``adapter_checkpoint``).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pingan.bulk_insert import insert_rows
from pingan.group_commit import GroupCommit

VERSION_TABLE = "alembic_version_adapter"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

metadata = sa.MetaData()

access_log = sa.Table(
    "adapter_access_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("rpc", sa.String(32), nullable=False),
    sa.Column("caller", sa.String(256), nullable=False),
    sa.Column("peer", sa.String(256), nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("purpose", sa.String(256), nullable=False),
    sa.Column("dataset", sa.String(128), nullable=False),
    sa.Column("record_ids", sa.Text, nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("detail", sa.String(512), nullable=False),
)

linkage_position = sa.Table(
    "adapter_linkage_position",
    metadata,
    sa.Column("caller", sa.String(256), primary_key=True),
    sa.Column("watermark", sa.Text, nullable=False),
    sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("records_served", sa.BigInteger, nullable=False),
)

checkpoint = sa.Table(
    "adapter_checkpoint",
    metadata,
    sa.Column("origin", sa.String(256), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)
"""The newest hub checkpoint verified as a witness, per origin (adapters/witness.py)."""


@dataclass(frozen=True, slots=True)
class AccessEntry:
    """One access-log row (one dataset of one request)."""

    rpc: str
    caller: str
    peer: str
    request_id: str
    purpose: str
    dataset: str
    record_ids: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    record_count: int = 0
    outcome: str = "OK"
    detail: str = ""
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def row(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "rpc": self.rpc,
            "caller": self.caller[:256],
            "peer": self.peer[:256],
            "request_id": self.request_id[:128],
            "purpose": self.purpose[:256],
            "dataset": self.dataset[:128],
            "record_ids": json.dumps(list(self.record_ids), ensure_ascii=False),
            "fields": json.dumps(list(self.fields), ensure_ascii=False),
            "record_count": self.record_count,
            "outcome": self.outcome,
            "detail": self.detail[:512],
        }


def tune(engine: Engine) -> None:
    """SQLite state files use write-ahead logging: one fsync per access-log commit and readers
    never block the writer (https://sqlite.org/wal.html); durability stays ``synchronous=FULL``."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the state database to the newest migration (Alembic, run programmatically)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class StateStore:
    """Writes to and reads from the adapter's state database.

    Every write of this process goes through one lock (:meth:`begin`), so the
    process's threads queue in Python instead of polling SQLite's busy handler, and
    concurrent access-log appends share a transaction (:mod:`pingan.group_commit`).
    Other processes on the same file still meet SQLite's lock (``timeout`` 30 s).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writes = threading.Lock()
        self._log: GroupCommit[AccessEntry] = GroupCommit(self._append)

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """A write transaction, serialised with this process's other writes to the state database."""
        with self._writes, self.engine.begin() as conn:
            yield conn

    def record(self, *entries: AccessEntry) -> None:
        """Append access-log rows, committed before it returns (raises on failure: the caller fails closed).

        Rows of concurrent calls are committed together; a failed commit fails every call in it.
        """
        self._log.submit(entries)

    @property
    def log_commits(self) -> tuple[int, int]:
        """(``record`` calls, access-log transactions) so far: fewer transactions when calls overlapped."""
        return self._log.calls, self._log.commits

    def _append(self, entries: list[AccessEntry]) -> None:
        with self.begin() as conn:
            insert_rows(conn, access_log, [e.row() for e in entries])

    def remember_position(self, caller: str, watermark: str, records: int) -> None:
        """Keep the last watermark served to ``caller`` (for operations; clients keep their own)."""
        now = dt.datetime.now(dt.UTC)
        key = caller[:256]
        with self.begin() as conn:
            updated = conn.execute(
                linkage_position.update()
                .where(linkage_position.c.caller == key)
                .values(
                    watermark=watermark,
                    served_at=now,
                    records_served=linkage_position.c.records_served + records,
                )
            )
            if updated.rowcount == 0:
                conn.execute(
                    linkage_position.insert().values(
                        caller=key, watermark=watermark, served_at=now, records_served=records
                    )
                )

    def access_entries(self) -> list[dict[str, Any]]:
        """Every access-log row, oldest first, with record_ids and fields decoded."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(access_log).order_by(access_log.c.id)).mappings().all()
        out = []
        for row in rows:
            item = dict(row)
            item["record_ids"] = json.loads(item["record_ids"])
            item["fields"] = json.loads(item["fields"])
            out.append(item)
        return out

    def positions(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(linkage_position)).mappings().all()
        return {row["caller"]: dict(row) for row in rows}
