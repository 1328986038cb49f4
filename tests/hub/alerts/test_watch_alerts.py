"""WatchAlerts end to end: department rule -> adapter ListAlerts -> hub feed -> caller.

A justice officer whose street covers a corrections subject with three missed
sessions receives that alert; a grid worker of another grid does not; every
delivered alert is an audit entry; bad requests get the right status.
"""

from __future__ import annotations

from typing import Any as AlertDeployment  # the conftest fixture type (tests are not a package)

import grpc
import pytest

from pingan.v1 import profile_pb2


def _read_until(call: grpc.Future, alert_id: str) -> list[profile_pb2.WatchAlertsResponse]:
    """Messages of a WatchAlerts stream up to and including ``alert_id``; then cancel the stream."""
    got: list[profile_pb2.WatchAlertsResponse] = []
    try:
        for message in call:
            got.append(message)
            if message.alert_id == alert_id:
                break
    finally:
        call.cancel()
    return got


def _missed_alert_id(d: AlertDeployment) -> str:
    alerts = [a for a in d.runtime.alerts.alerts if a.person_id == d.subject_person and a.kind == "missed_sessions"]
    assert len(alerts) == 1
    return alerts[0].alert_id


def test_justice_officer_of_the_street_receives_the_missed_sessions_alert(alert_deployment: AlertDeployment) -> None:
    d = alert_deployment
    alert_id = _missed_alert_id(d)
    size_before = d.runtime.audit_log.size()
    call = d.stub.WatchAlerts(
        profile_pb2.WatchAlertsRequest(kinds=["missed_sessions"]), metadata=d.md("justice"), timeout=60
    )
    got = _read_until(call, alert_id)
    alert = got[-1]
    assert alert.alert_id == alert_id
    assert alert.kind == "missed_sessions"
    assert alert.person_id == d.subject_person
    assert alert.department == "justice"
    assert alert.detail.endswith("consecutive missed counselling sessions")
    assert alert.raised_at.seconds > 0
    # the justice officer's header decision allows risk level and helper: fetched from the record
    assert alert.risk_level in {"红", "黄", "蓝"}
    assert alert.responsible_helper
    assert all(m.kind == "missed_sessions" for m in got)

    # every delivered alert is an audit entry naming the person, purpose and alert flags
    entries = [d.runtime.audit_log.entry(i).decode().entry for i in range(size_before, d.runtime.audit_log.size())]
    alert_entries = [e for e in entries if "alert" in getattr(e, "flags", ())]
    delivered = [m.person_id for m in got]
    assert sorted(e.person_id for e in alert_entries) == sorted(delivered)
    for e in alert_entries:
        assert e.caller.user == "jo-1"
        assert e.purpose == "routine_visit"
        assert "alert_kind:missed_sessions" in e.flags
        assert e.sections == ()


def test_grid_worker_of_another_grid_does_not_receive_it(alert_deployment: AlertDeployment) -> None:
    d = alert_deployment
    alert_id = _missed_alert_id(d)
    size_before = d.runtime.audit_log.size()
    call = d.stub.WatchAlerts(profile_pb2.WatchAlertsRequest(), metadata=d.md("other_grid"), timeout=3)
    got: list[profile_pb2.WatchAlertsResponse] = []
    with pytest.raises(grpc.RpcError) as err:
        for message in call:
            got.append(message)  # noqa: PERF402 - keep what arrived before the error
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert alert_id not in {m.alert_id for m in got}
    assert all(not m.person_id or m.person_id != d.subject_person for m in got)
    entries = [d.runtime.audit_log.entry(i).decode().entry for i in range(size_before, d.runtime.audit_log.size())]
    assert not [e for e in entries if "alert" in getattr(e, "flags", ()) and e.person_id == d.subject_person]


def test_polls_do_not_duplicate_alerts(alert_deployment: AlertDeployment) -> None:
    d = alert_deployment
    before = {a.alert_id for a in d.runtime.alerts.alerts}
    report = d.loop.run(d.runtime.alerts.poll_once())
    assert report.failed == ()
    assert report.new == 0
    assert {a.alert_id for a in d.runtime.alerts.alerts} == before
    assert report.alerts == len(before)


def test_unknown_kind_is_invalid_argument(alert_deployment: AlertDeployment) -> None:
    d = alert_deployment
    call = d.stub.WatchAlerts(
        profile_pb2.WatchAlertsRequest(kinds=["missed_sessions", "moon_phase"]), metadata=d.md("justice"), timeout=10
    )
    with pytest.raises(grpc.RpcError) as err:
        next(iter(call))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "kinds[1]" in err.value.details() and "moon_phase" in err.value.details()


def test_without_a_token_is_unauthenticated(alert_deployment: AlertDeployment) -> None:
    call = alert_deployment.stub.WatchAlerts(profile_pb2.WatchAlertsRequest(), timeout=10)
    with pytest.raises(grpc.RpcError) as err:
        next(iter(call))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_audit_store_unusable_means_no_alert(alert_deployment: AlertDeployment) -> None:
    """Fail closed: no audit entry, no alert (the stream ends UNAVAILABLE before any message)."""
    import sqlite3

    d = alert_deployment
    alert_id = _missed_alert_id(d)
    audit_db = d.root / "audit.db"
    with sqlite3.connect(audit_db) as db:
        db.execute("ALTER TABLE audit_entry RENAME TO audit_entry_away")
    try:
        call = d.stub.WatchAlerts(
            profile_pb2.WatchAlertsRequest(kinds=["missed_sessions"]), metadata=d.md("justice"), timeout=60
        )
        got: list[profile_pb2.WatchAlertsResponse] = []
        with pytest.raises(grpc.RpcError) as err:
            for message in call:
                got.append(message)  # noqa: PERF402 - keep what arrived before the error
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "audit" in (err.value.details() or "")
        assert got == []
    finally:
        with sqlite3.connect(audit_db) as db:
            db.execute("ALTER TABLE audit_entry_away RENAME TO audit_entry")
    call = d.stub.WatchAlerts(
        profile_pb2.WatchAlertsRequest(kinds=["missed_sessions"]), metadata=d.md("justice"), timeout=60
    )
    assert _read_until(call, alert_id)[-1].alert_id == alert_id


def test_hub_without_a_feed_answers_failed_precondition(alert_deployment: AlertDeployment) -> None:
    """A ProfileService built without an alert feed (alerts not configured) says so, authenticated first."""
    from hub.profile.service import ProfileServicer
    from pingan.v1 import profile_pb2_grpc

    d = alert_deployment
    rt = d.runtime

    async def start() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server()
        servicer = ProfileServicer(rt.gate, rt.identity, None, None, rt.recorder)  # type: ignore[arg-type]
        profile_pb2_grpc.add_ProfileServiceServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = d.loop.run(start())
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        stub = profile_pb2_grpc.ProfileServiceStub(channel)
        call = stub.WatchAlerts(profile_pb2.WatchAlertsRequest(), metadata=d.md("justice"), timeout=10)
        with pytest.raises(grpc.RpcError) as err:
            next(iter(call))
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert "alerts are not configured" in (err.value.details() or "")
    finally:
        channel.close()
        d.loop.run(server.stop(0))
