"""Shared fixtures: real databases.

``database_url`` yields a SQLAlchemy URL for a fresh, empty database: a SQLite
file always, and a freshly created PostgreSQL database when
``PINGAN_TEST_PG_URL`` is set (``.ci/run`` sets it when a server answers on
127.0.0.1:5432). Each PostgreSQL test database is created with a unique name and
dropped afterwards, so tests running at the same time never share tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL_ENV = "PINGAN_TEST_PG_URL"


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(PG_URL_ENV) else ["sqlite"]


@pytest.fixture(scope="session")
def pg_admin_url() -> str | None:
    return os.environ.get(PG_URL_ENV)


def create_pg_database(admin_url: str) -> tuple[str, str]:
    """Create an empty database next to ``admin_url``'s; return (url, name)."""
    import sqlalchemy as sa

    name = f"pingan_t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    url = sa.engine.make_url(admin_url).set(database=name)
    return url.render_as_string(hide_password=False), name


def drop_pg_database(admin_url: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database on each available backend (SQLite file; PostgreSQL if configured)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    admin = os.environ[PG_URL_ENV]
    url, name = create_pg_database(admin)
    try:
        yield url
    finally:
        drop_pg_database(admin, name)
