"""Alembic environment of the identity index; run programmatically by ``hub.identity.store.migrate``."""

from __future__ import annotations

from alembic import context

from hub.identity.store import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
