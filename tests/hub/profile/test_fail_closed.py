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


def test_audit_store_unusable_means_unavailable_and_no_data(deployment) -> None:  # type: ignore[no-untyped-def]
    home = deployment.home
    assert deployment.profile("grid_worker", person_id=home.person_id).sections  # works before
    audit_db = deployment.root / "audit.db"
    with sqlite3.connect(audit_db) as db:
        db.execute("ALTER TABLE audit_entry RENAME TO audit_entry_away")
    try:
        for _ in range(2):
            with pytest.raises(grpc.RpcError) as info:
                deployment.profile("grid_worker", person_id=home.person_id)
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
