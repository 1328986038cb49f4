"""``pingan stats sharing``: figures from a real audit log; a missing, empty or unreachable audit
database and a filter the SharingStats RPC refuses are clear one-line errors, never a traceback,
and nothing is created on the way."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from audit.entry import AccessEntry, Caller, Outcome, Section
from audit.store import AuditLog
from pingan.cli import main
from pingan.cli.sandbox import Keys, write_hub_config


def _entry(n: int, department: str, place: str, *sections: tuple[str, Outcome]) -> AccessEntry:
    return AccessEntry(
        request_id=f"r-{n}",
        time="2026-11-02T10:00:00Z",
        caller=Caller(f"u-{department}", department, ("grid_worker",)),
        purpose="routine_visit",
        person_id=f"person-{n}",
        sections=tuple(Section(d, o) for d, o in sections),
        latency_us=(n * 10) * 1000,
        jurisdiction=place,
    )


ENTRIES = [
    _entry(
        1, "grid_office", "TH/S03/C07/G05", ("public_security", Outcome.CLEAR), ("health", Outcome.DENIED)
    ),
    _entry(2, "grid_office", "TH/S04/C02/G01", ("public_security", Outcome.MASKED)),
]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys.generate(tmp_path_factory.mktemp("stats-keys"))


@pytest.fixture(scope="module")
def with_log(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Path:
    """A hub.toml whose audit database holds ``ENTRIES``."""
    root = tmp_path_factory.mktemp("stats-log")
    log = AuditLog(f"sqlite:///{root / 'audit.db'}")
    log.append_many(ENTRIES)
    log.close()
    return write_hub_config(root, keys, {})


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["stats", "sharing", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_tables_from_a_real_audit_log(with_log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--config", str(with_log))
    assert (code, err) == (0, "")
    assert "Sharing rate by department pair" in out and "Sharing rate by jurisdiction" in out
    assert "public_security" in out and "health" in out and "TH/S04" in out
    assert "2 profile requests" in out
    assert "person-" not in out  # figures only, no personal data

    # The filter is normalised as the SharingStats RPC does (whitespace and outer slashes dropped).
    code, out, err = _run(capsys, "--config", str(with_log), "--jurisdiction", " /TH/S03/ ")
    assert (code, err) == (0, "")
    assert "1 profile requests" in out and "TH/S03" in out and "TH/S04" not in out


def test_missing_sqlite_audit_db_is_named_and_not_created(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_hub_config(tmp_path, keys, {})
    db = tmp_path / "audit.db"
    assert not db.exists()
    code, out, err = _run(capsys, "--config", str(config))
    assert code == 2 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"audit database sqlite:///{db} has no audit log yet" in err
    assert f"check [audit] url in {config}" in err and "run the hub once" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hub.toml"]  # no audit.db, -wal or -shm left behind


def test_sqlite_file_without_audit_tables(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_hub_config(tmp_path, keys, {})
    (tmp_path / "audit.db").touch()  # e.g. left behind by an earlier run that crashed
    code, _, err = _run(capsys, "--config", str(config))
    assert code == 2 and "Traceback" not in err
    assert "has no audit log yet (no audit_entry table" in err and f"[audit] url in {config}" in err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_postgresql_is_named_without_its_password(
    tmp_path: Path, keys: Keys, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    url = f"postgresql+psycopg://auditor:s3cret@127.0.0.1:{port}/audit"
    config = write_hub_config(tmp_path, keys, {}, audit_url=url)
    code, out, err = _run(capsys, "--config", str(config))
    assert code == 2 and out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"cannot connect to audit database postgresql+psycopg://auditor:***@127.0.0.1:{port}/audit" in err
    assert "Connection refused" in err and f"check [audit] url in {config}" in err
    assert "s3cret" not in err


@pytest.mark.parametrize(
    "jurisdiction",
    ["bad!!", "TH/S03/C07/G05/X", "TH/" + "S" * 300],
    ids=["characters", "five-segments", "too-long"],
)
def test_malformed_jurisdiction_is_refused_as_by_the_rpc(
    with_log: Path, jurisdiction: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--config", str(with_log), "--jurisdiction", jurisdiction)
    assert code == 2 and out == ""
    assert "--jurisdiction: expected a path such as TH/S03" in err


@pytest.mark.parametrize(
    ("since", "until"),
    [("2026-01-01", "2025-01-01"), ("2026-01-01", "2026-01-01T00:00:00+00:00")],
    ids=["reversed", "equal"],
)
def test_until_not_after_since_is_refused_as_by_the_rpc(
    with_log: Path, since: str, until: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "--config", str(with_log), "--since", since, "--until", until)
    assert code == 2 and out == ""
    assert "--until must be after --since" in err
