"""Fail closed: when the audit store cannot take the entry, no data leaves the hub.

The audit database is made unusable underneath the running hub (its entry table
renamed away with raw SQL, as a broken or unreachable store would look); every
profile request must then fail with UNAVAILABLE and carry no profile data. When
the store is back, requests succeed again.
"""

from __future__ import annotations

import sqlite3

import grpc
import pytest

from pingan.v1 import profile_pb2


def test_audit_store_unusable_means_unavailable_and_no_data(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    assert deployment.profile("grid_worker", person_id=home.person_id).sections  # works before
    audit_db = deployment.root / "audit.db"
    with sqlite3.connect(audit_db) as db:
        db.execute("ALTER TABLE audit_entry RENAME TO audit_entry_away")
    household = profile_pb2.GetHouseholdRequest(
        query=profile_pb2.PersonQuery(person_id=home.person_id), purpose="routine_visit"
    )
    try:
        for ask in (
            lambda: deployment.profile("grid_worker", person_id=home.person_id),
            lambda: deployment.profile("grid_worker", person_id=home.person_id),
            # A household's members are fetched side by side: one failed entry fails it all.
            lambda: deployment.stub.GetHousehold(household, metadata=deployment.md("grid_worker"), timeout=30),
        ):
            with pytest.raises(grpc.RpcError) as info:
                ask()
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "audit" in (info.value.details() or "")
            assert "Traceback" not in (info.value.details() or "")
    finally:
        with sqlite3.connect(audit_db) as db:
            db.execute("ALTER TABLE audit_entry_away RENAME TO audit_entry")
    response = deployment.profile("grid_worker", person_id=home.person_id)
    assert response.sections and response.audit.request_id


def test_rate_limit_is_resource_exhausted_and_audited(deployment) -> None:  # type: ignore[no-untyped-def]
    from audit.entry import RateLimitedEntry
    from hub.auth.ratelimit import RateLimiter

    gate = deployment.runtime.gate
    original = gate.limiter
    gate.limiter = RateLimiter(rate_per_minute=1.0, burst=1)
    try:
        deployment.profile("grid_worker", person_id=deployment.home.person_id)
        before = deployment.audit_size()
        with pytest.raises(grpc.RpcError) as info:
            deployment.profile("grid_worker", person_id=deployment.home.person_id)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert deployment.audit_size() == before + 1
        assert isinstance(deployment.last_entry(), RateLimitedEntry)
    finally:
        gate.limiter = original


def test_decision_log_unwritable_means_unavailable_nothing_fetched_and_audited(deployment) -> None:  # type: ignore[no-untyped-def]
    """The policy decisions are committed concurrently with the fetch intent, and both
    before any fetch: when the decision log cannot take them, no department is asked for
    anything, the caller gets UNAVAILABLE, and the refusal is in the audit log."""
    import sqlalchemy as sa

    home = deployment.home
    assert deployment.profile("grid_worker", person_id=home.person_id).sections  # works before

    def fetches() -> int:
        return sum(
            1 for a in deployment.adapters.values() for e in a.state.access_entries() if e["rpc"] == "FetchRecords"
        )

    engine = deployment.runtime.policy_store.engine
    before = fetches()
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE policy_decision_log RENAME TO policy_decision_log_away"))
    try:
        with pytest.raises(grpc.RpcError) as info:
            deployment.profile("grid_worker", person_id=home.person_id)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "policy decisions" in (info.value.details() or "")
        assert "Traceback" not in (info.value.details() or "")
        assert fetches() == before
        refusal = deployment.last_entry()
        assert "decisions_unrecorded" in refusal.flags and refusal.person_id == home.person_id
        assert not refusal.sections
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE policy_decision_log_away RENAME TO policy_decision_log"))
    assert deployment.profile("grid_worker", person_id=home.person_id).sections
    assert fetches() > before


def test_a_killed_audit_writer_fails_closed_and_the_hub_recovers(deployment) -> None:  # type: ignore[no-untyped-def]
    """The hub's group commits run in a child process (audit/writer_process.py). Killed
    between requests, the next request's intent append finds it gone: UNAVAILABLE, no
    department asked for anything; the request after that gets a new writer."""
    import os
    import signal

    home = deployment.home
    writer = deployment.runtime.audit_writer
    assert writer is not None and writer.pid not in (None, os.getpid())  # the shipped default
    assert deployment.profile("grid_worker", person_id=home.person_id).sections

    def fetches() -> int:
        return sum(
            1 for a in deployment.adapters.values() for e in a.state.access_entries() if e["rpc"] == "FetchRecords"
        )

    before, size, killed = fetches(), deployment.audit_size(), writer.pid
    os.kill(killed, signal.SIGKILL)
    with pytest.raises(grpc.RpcError) as info:
        deployment.profile("grid_worker", person_id=home.person_id)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "audit" in (info.value.details() or "") and "Traceback" not in (info.value.details() or "")
    assert fetches() == before  # the intent was not stored, so nothing was fetched
    response = deployment.profile("grid_worker", person_id=home.person_id)
    assert response.sections and response.audit.request_id
    assert writer.pid not in (None, killed)
    assert fetches() > before
    assert deployment.audit_size() >= size + 2  # intent and access of the served request
