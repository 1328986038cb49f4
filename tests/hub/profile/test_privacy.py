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


def _phone_and_name_of(deployment, id_number: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
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
            f'WHERE "{cols["id_number"]}" = ? AND "{cols["phone"]}" IS NOT NULL LIMIT 1',
            (id_number,),
        ).fetchone()
    assert row is not None, "the home resident has no phone in public security's population table"
    return str(row[0]), str(row[1]), str(row[2])


def test_nothing_raw_in_hub_storage_or_logs(deployment, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    home = deployment.home
    phone, name, birth = _phone_and_name_of(deployment, home.id_number)
    # Every query kind finds the same resident (tokenised through an adapter), so the raw
    # values really went through the hub's whole pipeline before the scan.
    for query in ({"id_number": home.id_number}, {"phone": phone}, {"name_and_birth_date": {"name": name, "birth_date": birth}}):
        response = deployment.profile("grid_worker", **query)
        assert response.header.person_id == home.person_id, query.keys()
    # A search that finds nobody is processed and audited too.
    with pytest.raises(grpc.RpcError) as info:
        deployment.profile("grid_worker", phone="13900000000")
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    values = raw_identifiers(deployment.data)
    assert deployment.home.id_number in values and phone in values and name in values
    for url in (f"sqlite:///{deployment.root / 'hub.db'}", f"sqlite:///{deployment.root / 'audit.db'}"):
        engine = sa.create_engine(url)
        text, blob = database_contents(engine)
        engine.dispose()
        assert leaks(values, text, blob) == [], url
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert leaks(values, logged, b"") == []


def _address_and_guardian(deployment) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A stored residence address (public security) and a guardian's name (education)."""
    with sqlite3.connect(deployment.data / "public_security.db") as db:
        address = db.execute("SELECT sjjzdz FROM rk_syrk WHERE sjjzdz IS NOT NULL LIMIT 1").fetchone()
    from adapters.config import parse_config
    from pingan.cli.sandbox import EXAMPLES

    cfg = parse_config(EXAMPLES / "education.toml")
    ds = next(d for d in cfg.datasets if d.name == "students")
    column = next(f.column for f in ds.fields if f.name == "guardian_name")
    with sqlite3.connect(deployment.data / "education.db") as db:
        guardian = db.execute(f'SELECT "{column}" FROM "{ds.table}" WHERE "{column}" IS NOT NULL LIMIT 1').fetchone()
    assert address and guardian
    return str(address[0]), str(guardian[0])


def test_the_scan_finds_a_planted_identifier(deployment, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The scanner is able to fail: plant an ID number, an address and a guardian's name."""
    address, guardian = _address_and_guardian(deployment)
    values = raw_identifiers(deployment.data)
    assert {deployment.home.id_number, address, guardian} <= values  # the scan looks for all three
    for planted in (deployment.home.id_number, address, guardian):
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'planted.db'}")
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (v TEXT)"))
            conn.execute(sa.text("DELETE FROM t"))
            conn.execute(sa.text("INSERT INTO t VALUES (:v)"), {"v": f"note {planted}"})
        text, blob = database_contents(engine)
        engine.dispose()
        assert leaks({planted}, text, blob) != [], planted[:1]


def test_a_name_finds_nobody_without_its_own_birth_date(deployment) -> None:  # type: ignore[no-untyped-def]
    """Asked by name and birth date, a wrong date names nobody, and a date nobody can read
    is a request to correct, not a search by name alone."""
    import datetime as dt

    home = deployment.home
    _phone, name, birth = _phone_and_name_of(deployment, home.id_number)
    day = dt.date.fromisoformat(birth[:10]) if "-" in birth else dt.datetime.strptime(birth[:8], "%Y%m%d").date()
    for wrong in (day + dt.timedelta(days=1), day.replace(year=day.year - 1)):
        with pytest.raises(grpc.RpcError) as info:
            deployment.profile("grid_worker", name_and_birth_date={"name": name, "birth_date": wrong.isoformat()})
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as info:
        deployment.profile("grid_worker", name_and_birth_date={"name": name, "birth_date": "yesterday"})
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "birth date" in (info.value.details() or "")
    assert name not in (info.value.details() or "")


def test_a_name_pasted_with_invisible_characters_finds_the_person(deployment) -> None:  # type: ignore[no-untyped-def]
    """A name copied from a chat carries zero-width and direction marks the person typing
    never sees; the adapters' name normalisation drops them, so the lookup still names the
    resident (adapters.linkage.names)."""
    home = deployment.home
    _phone, name, birth = _phone_and_name_of(deployment, home.id_number)
    pasted = "\ufeff" + "\u200b".join(name) + "\u200e"
    response = deployment.profile("grid_worker", name_and_birth_date={"name": pasted, "birth_date": birth})
    assert response.header.person_id == home.person_id
