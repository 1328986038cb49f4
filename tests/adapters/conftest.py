"""Fixtures of the adapter tests: a real department database and a real adapter on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from adapter_department import create_department, write_config
from adapter_harness import RunningAdapter, start_adapter


@pytest.fixture
def department_url(database_url: str) -> str:
    """The test department's data in a fresh database (SQLite, and PostgreSQL when configured)."""
    create_department(database_url)
    return database_url


@pytest.fixture
def state_url(database_url: str, tmp_path: Path) -> str:
    """The adapter's state database: its own SQLite file, or the same PostgreSQL database."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'justice-adapter.db'}"
    return database_url


@pytest.fixture
def config_path(tmp_path: Path, department_url: str, state_url: str) -> Path:
    return write_config(tmp_path, department_url, state_url)


@pytest.fixture
def adapter(config_path: Path, department_url: str, state_url: str) -> Iterator[RunningAdapter]:
    running = start_adapter(config_path, department_url, state_url)
    try:
        yield running
    finally:
        running.channel.close()
        running.server.stop(grace=None)
