"""The audit tables, engines tuned for durable appends, and programmatic migration.

Tables (all prefixed ``audit_``; created by ``audit/migrations``, version table
``alembic_version_audit``):

- ``audit_entry``: one row per leaf: index, canonical bytes, leaf hash, plus
  copies of filterable fields (kind, time, caller, person, purpose).
- ``audit_section``: (entry, department, outcome) for department/outcome filters.
- ``audit_tree``: the hash of every complete perfect subtree, keyed (level, idx).
- ``audit_checkpoint``: signed checkpoints by tree size.
- ``audit_head``: one mutable row holding the size; locked by every append.

The first four reject UPDATE and DELETE with database triggers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

metadata = sa.MetaData()

entry_table = sa.Table(
    "audit_entry",
    metadata,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("logged_at_us", sa.BigInteger, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("caller", sa.String(128), nullable=False),
    sa.Column("caller_department", sa.String(64), nullable=False),
    sa.Column("person_id", sa.String(128), nullable=False),
    sa.Column("purpose", sa.String(128), nullable=False),
    sa.Column("canonical", sa.LargeBinary, nullable=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
)
section_table = sa.Table(
    "audit_section",
    metadata,
    sa.Column("entry_idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("pos", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("department", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
)
tree_table = sa.Table(
    "audit_tree",
    metadata,
    sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)
checkpoint_table = sa.Table(
    "audit_checkpoint",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("issued_at_us", sa.BigInteger, nullable=False),
)
head_table = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger, nullable=False),
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version_audit"


def _sqlite_engine(url: str, begin: str) -> sa.Engine:
    """SQLite in WAL mode with synchronous=FULL (a commit is on disk when it returns).

    ``begin`` is the statement opening each transaction: writers use
    ``BEGIN IMMEDIATE`` so the write lock is taken before the head is read.
    """
    engine = sa.create_engine(url, connect_args={"timeout": 60}, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def make_engines(url: str) -> tuple[sa.Engine, sa.Engine]:
    """Return (reader, writer) engines for ``url``; the same engine on PostgreSQL.

    ``hide_parameters``: database errors never echo entry contents into logs or messages.
    """
    if sa.engine.make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, "BEGIN"), _sqlite_engine(url, "BEGIN IMMEDIATE")
    engine = sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)
    return engine, engine


def migrate(engine: sa.Engine) -> None:
    """Bring the audit tables to the newest revision (idempotent, safe to run concurrently)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "audit@head")
