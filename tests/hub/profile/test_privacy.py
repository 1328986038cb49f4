"""No raw ID number, name or phone in the hub's databases or logs (REQUIREMENTS.md 7).

Runs profile requests by every query kind (ID number, phone, name and birth date),
then scans every table of the hub database (identity index, policy tables) and of
the audit database, and everything the hub logged, for every identifier of the
synthetic population in every form a leak could take.
"""

from __future__ import annotations

import logging
import sqlite3

import grpc
import pytest
import sqlalchemy as sa

from privacy_scan import database_contents, leaks, raw_identifiers


def _some_phone_and_name(deployment) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(deployment.data / "public_security.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    from adapters.config import parse_config
    from pingan.cli.sandbox import EXAMPLES

    cfg = parse_config(EXAMPLES / "public_security.toml")
    ds = next(d for d in cfg.datasets if d.name == "population")
    cols = dict(ds.identity)
    assert ds.table in tables
    with sqlite3.connect(deployment.data / "public_security.db") as db:
        row = db.execute(
            f'SELECT "{cols["phone"]}", "{cols["name"]}", "{cols["birth_date"]}" FROM "{ds.table}" '
            f'WHERE "{cols["phone"]}" IS NOT NULL AND "{cols["name"]}" IS NOT NULL LIMIT 1'
        ).fetchone()
    return str(row[0]), str(row[1]), str(row[2])


def test_nothing_raw_in_hub_storage_or_logs(deployment, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    phone, name, birth = _some_phone_and_name(deployment)
    deployment.profile("grid_worker", id_number=deployment.home.id_number)
    for query in ({"phone": phone}, {"name_and_birth_date": {"name": name, "birth_date": birth}}):
        try:
            deployment.profile("grid_worker", **query)
        except grpc.RpcError as exc:  # denied or not found is fine: the request was still processed and logged
            assert exc.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND)
    values = raw_identifiers(deployment.data)
    assert deployment.home.id_number in values and phone in values and name in values
    for url in (f"sqlite:///{deployment.root / 'hub.db'}", f"sqlite:///{deployment.root / 'audit.db'}"):
        engine = sa.create_engine(url)
        text, blob = database_contents(engine)
        engine.dispose()
        assert leaks(values, text, blob) == [], url
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert leaks(values, logged, b"") == []


def test_the_scan_finds_a_planted_identifier(deployment, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The scanner is able to fail: plant one ID number in a copy of the audit database."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'planted.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (v TEXT)"))
        conn.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": f"note {deployment.home.id_number}"})
    text, blob = database_contents(engine)
    engine.dispose()
    assert leaks({deployment.home.id_number}, text, blob) != []
