"""Alembic environment of the adapter's state database (run programmatically by adapters.state.migrate)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from adapters.state import VERSION_TABLE


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=None, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic -x` style use with sqlalchemy.url set in the Config
    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
