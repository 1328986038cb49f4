"""Alert rules (``[[alerts]]``) and ListAlerts, on generated synthetic departments.

The expected alerts are computed here in Python from the generated rows (the
session and visit tables), independently of the rules' SQL; the rules run on
SQLite and, when configured, PostgreSQL (the synthetic tables copied there).
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from adapters.config import parse_config
from adapters.errors import ConfigError
from adapters.server import AdapterServer
from pingan.v1 import adapter_pb2, adapter_pb2_grpc

EXAMPLES = Path(__file__).resolve().parents[2] / "adapters" / "examples"
PERSONS = 3000
SEED = 18  # two corrections subjects with their last three sessions missed


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from adapters.synth.generate import generate

    out = tmp_path_factory.mktemp("alerts-synth")
    generate(PERSONS, SEED, out)
    return out


def _config(department: str, tmp_path: Path, database_url: str, edit: tuple[str, str] | None = None) -> Path:
    text = (EXAMPLES / f"{department}.toml").read_text(encoding="utf-8")
    text = text.replace(f'"sqlite:///${{PINGAN_DATA_DIR}}/{department}.db"', f'"{database_url}"')
    text = text.replace(
        f'"sqlite:///${{PINGAN_DATA_DIR}}/{department}-adapter.db"', f'"sqlite:///{tmp_path / (department + "-state.db")}"'
    )
    if edit is not None:
        assert edit[0] in text, edit[0]
        text = text.replace(edit[0], edit[1])
    path = tmp_path / f"{department}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _department_url(department: str, synth_dir: Path, database_url: str) -> str:
    """The generated department in the test's database (a copy on PostgreSQL; the file itself on SQLite)."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{synth_dir / (department + '.db')}"
    from adapters.synth.database_copy import copy_department
    from adapters.synth.departments import all_departments

    schema = next(m.SCHEMA for m in all_departments() if m.SCHEMA.name == department)
    copy_department(synth_dir, schema, database_url)
    return database_url


class Served:
    def __init__(self, server: AdapterServer) -> None:
        self.server = server
        self.channel = grpc.insecure_channel(server.address)
        self.stub = adapter_pb2_grpc.DepartmentAdapterStub(self.channel)

    def list(self, **kwargs: object) -> list[adapter_pb2.DepartmentAlert]:
        return list(self.stub.ListAlerts(adapter_pb2.ListAlertsRequest(**kwargs), timeout=30).alerts)


Serve = Callable[[str], Served]


@pytest.fixture
def serve(tmp_path: Path, synth_dir: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", secrets.token_hex(32))
    started: list[Served] = []

    def start(department: str) -> Served:
        url = _department_url(department, synth_dir, database_url)
        server = AdapterServer.from_config(_config(department, tmp_path, url))
        server.start()
        served = Served(server)
        started.append(served)
        return served

    yield start
    for served in started:
        served.channel.close()
        served.server.stop(grace=None)


# -- ground truth from the generated rows ---------------------------------------------------------


def expected_missed(synth_dir: Path) -> dict[str, tuple[int, str]]:
    """dxbh -> (length of the trailing run of absences, date of its third absence), runs >= 3."""
    with sqlite3.connect(synth_dir / "justice.db") as db:
        rows = db.execute("SELECT dxbh, hdrq, hdbh, cxqk FROM jz_jyhd").fetchall()
    by_subject: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for dxbh, hdrq, hdbh, cxqk in rows:
        by_subject[dxbh].append((hdrq, hdbh, cxqk))
    out: dict[str, tuple[int, str]] = {}
    for dxbh, sessions in by_subject.items():
        sessions.sort()
        run: list[str] = []
        for hdrq, _, cxqk in reversed(sessions):
            if cxqk != "缺席":
                break
            run.append(hdrq)
        if len(run) >= 3:
            out[dxbh] = (len(run), sorted(run)[2])
    return out


def expected_overdue(synth_dir: Path) -> dict[str, str]:
    """patient_id -> due date of the latest visit, for latest visits more than 90 days before the newest."""
    with sqlite3.connect(synth_dir / "health.db") as db:
        rows = db.execute("SELECT patient_id, visit_date FROM followup_visit").fetchall()
    latest: dict[str, dt.date] = {}
    for pid, day in rows:
        d = dt.date.fromisoformat(day)
        latest[pid] = max(latest.get(pid, d), d)
    today = max(latest.values())
    return {
        pid: (d + dt.timedelta(days=90)).isoformat() for pid, d in latest.items() if d + dt.timedelta(days=90) < today
    }


# -- ListAlerts ------------------------------------------------------------------------------------


def test_missed_sessions_alert_exactly_the_subjects_with_three_missed(serve: Serve, synth_dir: Path) -> None:
    expected = expected_missed(synth_dir)
    assert len(expected) >= 2, "the synthetic set must contain subjects with missed sessions"
    alerts = serve("justice").list(request_id="t-missed")
    assert {a.local_record_id for a in alerts} == set(expected)
    for a in alerts:
        run, third = expected[a.local_record_id]
        assert a.kind == "missed_sessions"
        assert a.dataset == "corrections"
        assert a.severity == "high"
        assert a.raised_at.ToDatetime().date().isoformat() == third
        assert a.detail == f"{run} consecutive missed counselling sessions"
        assert a.alert_id == f"justice:three_missed_sessions:{a.local_record_id}:{third}"


def test_overdue_visit_alerts_match_the_visit_table(serve: Serve, synth_dir: Path) -> None:
    expected = expected_overdue(synth_dir)
    assert expected, "the synthetic set must contain overdue patients"
    alerts = serve("health").list(request_id="t-overdue")
    assert {a.local_record_id: a.raised_at.ToDatetime().date().isoformat() for a in alerts} == expected
    assert {a.kind for a in alerts} == {"overdue_visit"}
    assert {a.dataset for a in alerts} == {"mental_health_patients"}
    raised = [a.raised_at.ToDatetime() for a in alerts]
    assert raised == sorted(raised), "oldest first"


def test_limit_since_and_validation(serve: Serve) -> None:
    health = serve("health")
    everything = health.list()
    assert len(everything) >= 2
    assert [a.alert_id for a in health.list(limit=1)] == [everything[0].alert_id]
    cut = everything[-1].raised_at
    later = health.list(since=Timestamp(seconds=cut.seconds, nanos=cut.nanos))
    assert [a.alert_id for a in later] == [
        a.alert_id for a in everything if a.raised_at.ToDatetime() >= cut.ToDatetime()
    ]
    assert len(later) < len(everything)
    for bad in ({"limit": -1}, {"limit": 5001}, {"request_id": "x" * 129}):
        with pytest.raises(grpc.RpcError) as err:
            health.list(**bad)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "Traceback" not in (err.value.details() or "")


def test_list_alerts_is_in_the_access_log_without_identifiers(serve: Serve, synth_dir: Path) -> None:
    justice = serve("justice")
    alerts = justice.list(request_id="t-access-log")
    rows = [r for r in justice.server.state.access_entries() if r["request_id"] == "t-access-log"]
    assert len(rows) == 1
    row = rows[0]
    assert row["rpc"] == "ListAlerts" and row["outcome"] == "OK" and row["dataset"] == "corrections"
    assert row["record_count"] == len(alerts)
    assert sorted(row["record_ids"]) == sorted(a.local_record_id for a in alerts)
    with sqlite3.connect(synth_dir / "justice.db") as db:
        names = [n for (n,) in db.execute("SELECT dx_xm FROM jzdx_jbxx") if n]
    for a in alerts:
        assert not any(name in a.detail for name in names)


def test_department_without_rules_lists_nothing(serve: Serve) -> None:
    assert serve("education").list() == []


# -- configuration ----------------------------------------------------------------------------------

_DETAIL = 'detail = "{detail_value} consecutive missed counselling sessions"'


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('severity = "high"', 'severity = "urgent"'), "alerts[three_missed_sessions].severity: unknown severity"),
        (('dataset = "corrections"\nseverity', 'dataset = "sessions"\nseverity'), "alerts[three_missed_sessions].dataset"),
        ((_DETAIL, 'detail = "{name} missed sessions"'), "placeholder {name} is not allowed"),
        ((_DETAIL, _DETAIL + '\nowner = "x"'), "alerts[three_missed_sessions].owner: unknown key"),
        (('kind = "missed_sessions"\n', ""), "alerts[three_missed_sessions].kind: missing required key"),
        ((_DETAIL, _DETAIL + '\n\n[[alerts]]\nname = "three_missed_sessions"\nkind = "k"\ndataset = "corrections"'
          '\nseverity = "low"\nquery = "SELECT 1"\ndetail = "x"'), "duplicate alert rule name"),
    ],
    ids=["severity", "dataset", "placeholder", "unknown-key", "missing-kind", "duplicate"],
)
def test_static_errors_name_file_and_key(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    path = _config("justice", tmp_path, "sqlite:////nonexistent/justice.db", edit)
    with pytest.raises(ConfigError) as err:
        parse_config(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


@pytest.mark.parametrize(
    ("replacement", "message"),
    [
        ("SELECT dxbh AS record_id, gxsj AS updated FROM jzdx_jbxx", "lacks column(s) raised_at"),
        ("SELECT dxbh AS record_id, gxsj AS raised_at, dx_xm AS name FROM jzdx_jbxx", "column(s) name that an alert"),
        ("SELECT record_id, raised_at FROM no_such_table", "the query fails"),
    ],
    ids=["missing-column", "extra-column", "bad-sql"],
)
def test_start_up_checks_the_query_columns(
    tmp_path: Path, synth_dir: Path, monkeypatch: pytest.MonkeyPatch, replacement: str, message: str
) -> None:
    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", secrets.token_hex(32))
    import tomli_w

    rule = parse_config(_config("justice", tmp_path, "sqlite:///x")).alerts[0]

    old = "query = " + tomli_w.dumps({"q": rule.query}).split("=", 1)[1].strip()
    new = "query = " + tomli_w.dumps({"q": replacement}).split("=", 1)[1].strip()
    path = _config("justice", tmp_path, f"sqlite:///{synth_dir / 'justice.db'}", (old, new))
    with pytest.raises(ConfigError) as err:
        AdapterServer.from_config(path)
    assert f"{path}: alerts[three_missed_sessions].query: " in str(err.value)
    assert message in str(err.value)


def test_database_failure_is_unavailable_and_logged(
    tmp_path: Path, synth_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The department's table disappears under a running adapter: UNAVAILABLE, refusal logged, no trace."""
    import shutil

    monkeypatch.setenv("PINGAN_LINKAGE_SECRET", secrets.token_hex(32))
    db = tmp_path / "justice-copy.db"
    shutil.copy(synth_dir / "justice.db", db)
    server = AdapterServer.from_config(_config("justice", tmp_path, f"sqlite:///{db}"))
    server.start()
    served = Served(server)
    try:
        assert served.list()
        with sqlite3.connect(db) as conn:
            conn.execute("ALTER TABLE jz_jyhd RENAME TO jz_jyhd_away")
        with pytest.raises(grpc.RpcError) as err:
            served.list(request_id="t-db-down")
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "database is unavailable" in (err.value.details() or "")
        assert "Traceback" not in (err.value.details() or "")
        rows = [r for r in served.server.state.access_entries() if r["request_id"] == "t-db-down"]
        assert [(r["rpc"], r["outcome"]) for r in rows] == [("ListAlerts", "UNAVAILABLE")]
    finally:
        served.channel.close()
        served.server.stop(grace=None)
