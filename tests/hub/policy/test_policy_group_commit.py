"""Group commit of the decision log: concurrent decisions share commits, all are
stored, and a failed commit fails every decision waiting on it (fail closed)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from hub.policy.bundle import PolicyBundle
from hub.policy.compiled import compile_policy
from hub.policy.decision_log_process import DecisionLogProcess
from hub.policy.decision_point import PolicyDecisionPoint
from hub.policy.group_commit import DecisionLogWriter
from hub.policy.jurisdiction import RoleAssignment
from hub.policy.model import Context, FieldInfo, Resource, SectionRequest, Subject
from hub.policy.rego_embedded import EmbeddedRego
from hub.policy.store import PolicyDecisionLogRow, PolicyStore

GRID = "TH/S03/C07/G05"
FIELDS = (FieldInfo("name", "identity", 2), FieldInfo("allowance_type", "assistance", 2))


def _request(n: int) -> SectionRequest:
    return SectionRequest(
        Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)),
        Resource(GRID, (), "civil_affairs", "records", FIELDS, person_ref=f"P-{n:06d}"),
        "routine_visit",
        context=Context(),
        request_id=f"req-{n:06d}",
    )


@pytest.fixture(params=["thread", "process"])
def store_and_pdp(request: pytest.FixtureRequest, database_url: str, policy_bundle: PolicyBundle) -> Any:
    """The writer commits in its own thread, or hands each batch to a child process
    (hub/policy/decision_log_process.py, `[policy] decision_log_writer = "process"`): the same guarantees."""
    store = PolicyStore.connect(database_url)
    policy = compile_policy(policy_bundle, EmbeddedRego, (RoleAssignment("gw-1", "grid_worker", GRID),))
    child = DecisionLogProcess(database_url) if request.param == "process" else None
    writer = DecisionLogWriter(child or store)
    yield store, PolicyDecisionPoint(policy, recorder=writer, memo_size=0, verdict_size=0), writer
    writer.close()
    if child is not None:
        child.close()
    policy.rego.close()


def test_concurrent_decisions_are_all_recorded(store_and_pdp: Any) -> None:
    store, pdp, _ = store_and_pdp
    results: list[bool] = []
    lock = threading.Lock()

    def work(start: int) -> None:
        for n in range(start, start + 20):
            allowed = pdp.decide(_request(n)).allow
            with lock:
                results.append(allowed)

    threads = [threading.Thread(target=work, args=(i * 100,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 160 and all(results)
    with store.session() as s:
        rows = s.scalars(sa.select(PolicyDecisionLogRow.request_id)).all()
    assert sorted(rows) == sorted(f"req-{i * 100 + n:06d}" for i in range(8) for n in range(20))


def test_a_failed_commit_denies_every_waiting_decision(store_and_pdp: Any) -> None:
    store, pdp, _ = store_and_pdp
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE policy_decision_log"))
    decision = pdp.decide(_request(1))
    assert not decision.allow and decision.reasons == ("the decision could not be recorded",)


def test_deferred_profile_decisions_complete_when_committed_and_fail_with_the_commit(store_and_pdp: Any) -> None:
    """``decide_profile_deferred`` queues the batch and returns: the future completes once
    the rows are stored, and fails (never a silent success) when the commit fails."""
    from hub.policy.errors import PolicyError
    from hub.policy.model import HeaderRequest

    store, pdp, _ = store_and_pdp
    header = HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, (), "routine_visit", request_id="req-h")
    sections, _, recorded = pdp.decide_profile_deferred([_request(7)], header)
    assert [d.allow for d in sections] == [True]
    assert recorded.result(10) is None
    with store.session() as s:
        assert sorted(s.scalars(sa.select(PolicyDecisionLogRow.request_id)).all()) == ["req-000007", "req-h"]
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE policy_decision_log"))
    _, _, recorded = pdp.decide_profile_deferred([_request(8)], header)
    with pytest.raises(PolicyError, match="decision log write failed"):
        recorded.result(10)


def test_a_killed_decision_log_process_fails_its_batch_and_the_next_batch_gets_a_new_one(
    database_url: str, policy_bundle: PolicyBundle
) -> None:
    import os
    import signal

    from hub.policy.errors import PolicyError

    store = PolicyStore.connect(database_url)
    policy = compile_policy(policy_bundle, EmbeddedRego, (RoleAssignment("gw-1", "grid_worker", GRID),))
    with DecisionLogProcess(database_url) as child:
        writer = DecisionLogWriter(child)
        pdp = PolicyDecisionPoint(policy, recorder=writer, memo_size=0, verdict_size=0)
        try:
            assert pdp.decide(_request(1)).allow
            first = child.pid
            assert first is not None and first != os.getpid()
            os.kill(first, signal.SIGKILL)
            denied = pdp.decide(_request(2))  # its batch went to the dead child: not recorded, not given
            assert not denied.allow and denied.reasons == ("the decision could not be recorded",)
            assert pdp.decide(_request(3)).allow
            assert child.pid not in (None, first)
        finally:
            writer.close()
    with store.session() as s:
        assert sorted(s.scalars(sa.select(PolicyDecisionLogRow.request_id)).all()) == ["req-000001", "req-000003"]
    with pytest.raises(PolicyError, match="closed"):
        child.wait_ready()
    policy.rego.close()


def test_a_decision_log_that_cannot_be_read_stops_the_child_at_start(tmp_path: Any) -> None:
    from hub.policy.errors import PolicyError

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    PolicyStore.connect(url).engine.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE policy_decision_log RENAME TO policy_decision_log_away"))
    engine.dispose()
    child = DecisionLogProcess(url)
    try:
        with pytest.raises(PolicyError, match="could not start: .*policy_decision_log"):
            child.wait_ready()
    finally:
        child.close()
