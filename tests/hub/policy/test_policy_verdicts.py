"""The finished-decision memo (hub/policy/verdicts.py): repeats skip Casbin and Rego,
anything a decision depends on gets its own entry, engine errors are not remembered,
and the decision log stores the same text either way."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import sqlalchemy as sa

from hub.policy.bundle import CASBIN_RULES, PolicyBundle
from hub.policy.compiled import compile_policy
from hub.policy.decision_point import DecisionRecord, PolicyDecisionPoint, outcome_text
from hub.policy.errors import EngineError
from hub.policy.model import Context, HeaderRequest, SectionRequest, Subject
from hub.policy.verdicts import verdict_key
from tests.hub.policy.test_policy_decisions import ASSIGNMENTS, CIVIL, GRID, HEALTH, section


@pytest.fixture()
def counted(policy_bundle: PolicyBundle, engine_factory: Any) -> Any:
    """A decision point recording into a list, and the list of Rego evaluations it makes."""
    policy = compile_policy(policy_bundle, engine_factory, ASSIGNMENTS)
    batches: list[list[DecisionRecord]] = []
    pdp = PolicyDecisionPoint(policy, recorder=batches.append)
    evaluations: list[str] = []
    evaluate = policy.rego.evaluate

    def counting(entrypoint: str, given: Any) -> Any:
        evaluations.append(entrypoint)
        return evaluate(entrypoint, given)

    policy.rego.evaluate = counting  # type: ignore[method-assign]
    yield pdp, batches, evaluations
    policy.rego.close()


def _again(req: SectionRequest, request_id: str, person_ref: str) -> SectionRequest:
    """The same question about another person of the same place, in another request."""
    resource = dataclasses.replace(req.resource, person_ref=person_ref)
    return dataclasses.replace(req, resource=resource, request_id=request_id)


def test_a_repeated_question_is_answered_without_casbin_or_rego(counted: Any) -> None:
    pdp, batches, evaluations = counted
    first = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert evaluations == ["decision"] and pdp.verdict_stats == (0, 1)
    rego_memo = pdp.memo_stats
    second = pdp.decide(_again(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL), "req-2", "P-000999"))
    assert second == first and second.allow
    # neither the engine nor the Rego memo was asked: the finished decision was reused
    assert evaluations == ["decision"] and pdp.memo_stats == rego_memo and pdp.verdict_stats == (1, 1)
    # each request still gets its own decision-log record, with its own request and person
    assert [r.inputs.request_id for b in batches for r in b] == ["req-1", "req-2"]
    assert [r.inputs.person_ref for b in batches for r in b] == ["P-000123", "P-000999"]
    assert batches[1][0].outcome == batches[0][0].outcome
    assert batches[1][0].outcome_json == outcome_text(batches[0][0].outcome)


@pytest.mark.parametrize(
    "change",
    [
        {"where": "TH/S03/C07/G04"},  # another grid: outside the caller's scope
        {"groups": ("minor",)},
        {"purpose": "case_handling"},
        {"emergency": True, "purpose": "emergency", "justification": "fire at the address"},
    ],
    ids=["jurisdiction", "groups", "purpose", "emergency"],
)
def test_anything_a_decision_depends_on_gets_its_own_entry(counted: Any, change: dict[str, Any]) -> None:
    pdp, _batches, _evaluations = counted
    base = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    changed = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, **change))
    fresh = PolicyDecisionPoint(pdp.policy, memo_size=0, verdict_size=0).decide(
        section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, **change)
    )
    assert changed == fresh  # decided as a decision point without any memo decides it
    assert pdp.verdict_stats == (0, 2)
    if "where" in change:
        assert base.allow and not changed.allow


def test_other_callers_fields_and_headers_are_not_mixed_up(counted: Any) -> None:
    pdp, _batches, _evaluations = counted
    civil = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    health = pdp.decide(section("gw-1", ("grid_worker",), "health", HEALTH))
    other = pdp.decide(section("hw-1", ("health_worker",), "health", HEALTH))
    assert set(civil.fields) != set(health.fields) and health != other
    header = HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, (), "routine_visit")
    head = pdp.decide_header(header)
    assert pdp.decide_header(dataclasses.replace(header, request_id="req-9")) == head
    assert pdp.verdict_stats == (1, 4)


def test_an_engine_error_is_not_remembered(counted: Any) -> None:
    pdp, _batches, evaluations = counted
    working = pdp.policy.rego.evaluate

    def broken(entrypoint: str, given: Any) -> Any:
        raise EngineError("engine down")

    pdp.policy.rego.evaluate = broken
    denied = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert not denied.allow and denied.reasons == ("policy engine error: engine down",)
    pdp.policy.rego.evaluate = working
    allowed = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert allowed.allow and evaluations == ["decision"]


def test_a_new_version_decides_afresh(counted: Any, policy_bundle: PolicyBundle, engine_factory: Any) -> None:
    pdp, _batches, _evaluations = counted
    pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    deny_civil = "p, grid_worker, ^civil_affairs/[a-z_]+/L[1-4]$, read, deny\n"
    changed = policy_bundle.changed({CASBIN_RULES: policy_bundle.casbin_rules.rstrip("\n") + "\n" + deny_civil})
    proposal = compile_policy(changed, engine_factory, ASSIGNMENTS)
    try:
        assert proposal.hash != pdp.policy.hash
        pdp.activate(proposal)
        again = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
        assert not again.allow and again.policy_hashes == (proposal.hash,)
        assert pdp.verdict_stats == (0, 2)
    finally:
        proposal.rego.close()


def test_the_request_time_is_in_the_key_only_when_the_version_reads_it(counted: Any) -> None:
    pdp, _batches, _evaluations = counted
    early = section("gw-1", ("grid_worker",), "civil_affairs", CIVIL)
    late = dataclasses.replace(early, context=Context(time=early.context.time.replace(year=2031)))
    policy = pdp.policy
    assert not policy.reads.time  # the shipped policy never reads input.context.time
    inputs = pdp._inputs(policy, early, "section"), pdp._inputs(policy, late, "section")
    assert verdict_key(policy, inputs[0]) == verdict_key(policy, inputs[1])
    timed = dataclasses.replace(policy, reads=dataclasses.replace(policy.reads, time=True))
    assert verdict_key(timed, inputs[0]) != verdict_key(timed, inputs[1])
    # the request id and the person are never in it
    other = dataclasses.replace(early, request_id="req-2", resource=dataclasses.replace(early.resource, person_ref="P-2"))
    assert verdict_key(policy, pdp._inputs(policy, other, "section")) == verdict_key(policy, inputs[0])


def test_the_decision_log_stores_the_same_text_for_a_remembered_verdict(
    policy_bundle: PolicyBundle, tmp_path: Any
) -> None:
    from hub.policy.rego_embedded import EmbeddedRego
    from hub.policy.store import PolicyStore, migrate

    url = f"sqlite:///{tmp_path / 'policy.db'}"
    migrate(url)
    store = PolicyStore(sa.create_engine(url))
    policy = compile_policy(policy_bundle, EmbeddedRego, ASSIGNMENTS)
    try:
        pdp = PolicyDecisionPoint(policy, recorder=store.record)
        for n in range(2):
            pdp.decide(_again(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL), f"req-{n}", "P-000123"))
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT request_id, outcome FROM policy_decision_log ORDER BY id")).all()
    finally:
        policy.rego.close()
    assert [r[0] for r in rows] == ["req-0", "req-1"] and rows[0][1] == rows[1][1]
    assert json.loads(rows[1][1])["allow"] is True
    assert pdp.verdict_stats == (1, 1)


def test_the_same_caller_in_another_place_gets_that_places_decision(policy_bundle: PolicyBundle) -> None:
    """A street-wide caller has the same role assignments for every grid of the street, so
    only the person's jurisdiction in the key tells two grids apart for a version with a
    rule on a concrete path."""
    from hub.policy.rego_embedded import EmbeddedRego
    from tests.hub.policy.test_policy_memo import _authz, _with

    src = _authz(policy_bundle).replace(
        "section_deny contains msg if some msg in base_deny\n",
        "section_deny contains msg if some msg in base_deny\n\n"
        'section_deny contains "grid G04 is closed" if startswith(input.resource.jurisdiction, "TH/S03/C07/G04")\n',
    )
    policy = compile_policy(_with(policy_bundle, src), EmbeddedRego, ASSIGNMENTS)
    pdp = PolicyDecisionPoint(policy)
    try:
        open_grid = pdp.decide(section("hw-1", ("health_worker",), "health", HEALTH, where="TH/S03/C07/G05"))
        closed_grid = pdp.decide(section("hw-1", ("health_worker",), "health", HEALTH, where="TH/S03/C07/G04"))
        assert open_grid.allow and not closed_grid.allow and "grid G04 is closed" in closed_grid.reasons
        assert pdp.decide(section("hw-1", ("health_worker",), "health", HEALTH, where="TH/S03/C07/G04")) == closed_grid
        assert pdp.verdict_stats == (1, 2)
    finally:
        policy.rego.close()
