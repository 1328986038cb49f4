"""Alembic environment for the audit tables (version table ``alembic_version_audit``).

Run programmatically by :func:`audit.schema.migrate`, which passes an open
connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

VERSION_TABLE = "alembic_version_audit"

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("audit migrations run through audit.schema.migrate(), which supplies a connection")

context.configure(connection=connection, version_table=VERSION_TABLE, target_metadata=None)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # several hub processes may start at once: one migrates, the others wait
        connection.execute(text("SELECT pg_advisory_xact_lock(7236501)"))
    context.run_migrations()
