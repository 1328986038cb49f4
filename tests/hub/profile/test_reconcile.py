"""``pingan audit reconcile`` on a real deployment: after real profile requests the
adapters' access logs and the hub's audit log agree; a fetch without an entry and an
entry without a fetch are both named (issue 8)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import sqlalchemy as sa

from audit.entry import AccessEntry, Caller, Outcome, Section, now_rfc3339
from audit.reconcile import reconcile

PINGAN = [sys.executable, "-c", "import sys; from pingan.cli import main; sys.exit(main(sys.argv[1:]))"]


def _urls(deployment, department: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return f"sqlite:///{deployment.root / 'audit.db'}", f"sqlite:///{deployment.data / f'{department}-adapter.db'}"


def test_logs_agree_after_real_requests_and_disagreements_are_named(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    for _ in range(3):
        deployment.profile("grid_worker", person_id=home.person_id)
    department = next(d for d in sorted(home.departments) if d != "health")
    audit_url, adapter_url = _urls(deployment, department)
    result = reconcile(deployment.runtime.audit_log, adapter_url, department)
    assert result.fetches >= 3 and result.entries >= 3
    assert result.clean, (result.fetches_without_entry, result.entries_never_seen)

    # A fetch the adapter served that no entry names (e.g. a rogue client with the hub's key).
    engine = sa.create_engine(adapter_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO adapter_access_log (at, rpc, caller, peer, request_id, purpose, dataset, record_ids, fields,"
                " record_count, outcome, detail) VALUES (:at, 'FetchRecords', 'cn:rogue', 'ipv4:127.0.0.1:1', 'rogue-0001',"
                " 'routine_visit', 'population', :ids, :fields, 1, 'OK', '')"
            ),
            {"at": dt.datetime.now(dt.timezone.utc), "ids": json.dumps(["1"]), "fields": json.dumps(["name"])},
        )
    engine.dispose()
    # An entry claiming the department's data was shown, which the adapter never served.
    deployment.runtime.recorder.append_blocking(
        AccessEntry(
            request_id="phantom-0001",
            time=now_rfc3339(),
            caller=Caller(user="gw-1", department="grid_office", roles=("grid_worker",)),
            purpose="routine_visit",
            person_id=home.person_id,
            sections=(Section(department, Outcome.MASKED, ("population",)),),
        )
    )
    result = reconcile(deployment.runtime.audit_log, adapter_url, department)
    assert [f.request_id for f in result.fetches_without_entry] == ["rogue-0001"]
    assert [e.request_id for e in result.entries_never_seen] == ["phantom-0001"]

    cli = subprocess.run(
        [*PINGAN, "audit", "reconcile", "--db", audit_url, "--adapter-db", adapter_url, "--department", department],
        capture_output=True, text=True, timeout=120,
    )
    assert cli.returncode == 1, cli.stderr
    assert "rogue-0001" in cli.stdout and "phantom-0001" in cli.stdout
