"""The decision point: Casbin then Rego, fail closed, hot activation, header."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hub.policy.bundle import PolicyBundle
from hub.policy.compiled import compile_policy
from hub.policy.decision_point import DecisionRecord, PolicyDecisionPoint
from hub.policy.engine import UNDEFINED
from hub.policy.errors import EngineError
from hub.policy.jurisdiction import RoleAssignment
from hub.policy.model import Context, FieldInfo, HeaderRequest, Resource, SectionRequest, Subject

ASSIGNMENTS = (
    RoleAssignment("gw-1", "grid_worker", "TH/S03/C07/G05"),
    RoleAssignment("cp-1", "community_police", "TH/S03/C07"),
    RoleAssignment("jo-1", "justice_officer", "TH/S03"),
    RoleAssignment("hw-1", "health_worker", "TH/S03"),
    RoleAssignment("au-1", "auditor", "TH"),
    RoleAssignment("multi", "grid_worker", "TH/S03/C07/G05"),
    RoleAssignment("multi", "street_officer", "TH/S04"),
)

GRID = "TH/S03/C07/G05"
HEALTH = (
    FieldInfo("name", "identity", 2),
    FieldInfo("diagnosis", "health", 4),
    FieldInfo("follow_up_date", "health", 3, "date"),
    FieldInfo("risk_level", "risk", 2),
)
CIVIL = (
    FieldInfo("name", "identity", 2),
    FieldInfo("phone", "contact", 3),
    FieldInfo("allowance_type", "assistance", 2),
    FieldInfo("visit_notes", "assistance", 2, "text"),
)


def section(user: str, roles: tuple[str, ...], dept: str, fields: tuple[FieldInfo, ...], *, where: str = GRID,
            purpose: str = "routine_visit", groups: tuple[str, ...] = (), justification: str = "", emergency: bool = False,
            jurisdictions: tuple[str, ...] = ("TH",)) -> SectionRequest:
    return SectionRequest(
        subject=Subject(user, "grid_office", roles, jurisdictions),
        resource=Resource(where, groups, dept, "records", fields, person_ref="P-000123"),
        purpose=purpose,
        justification=justification,
        context=Context(emergency=emergency),
        request_id="req-1",
    )


@pytest.fixture()
def pdp(policy_bundle: PolicyBundle, engine_factory: Any) -> Any:
    policy = compile_policy(policy_bundle, engine_factory, ASSIGNMENTS)
    yield PolicyDecisionPoint(policy)
    policy.rego.close()


def test_grid_worker_sees_own_grid_with_obligations(pdp: PolicyDecisionPoint) -> None:
    d = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert d.allow
    assert dict(d.fields) == {"name": None, "phone": "phone", "allowance_type": None, "visit_notes": "pii_free_text"}
    assert dict(d.obligations["phone"]) == {"operator": "phone"}
    assert d.policy_hashes == (pdp.policy.hash,) and d.roles == ("grid_worker",)


def test_grid_worker_never_gets_health_details(pdp: PolicyDecisionPoint) -> None:
    d = pdp.decide(section("gw-1", ("grid_worker",), "health", HEALTH))
    assert d.allow and set(d.fields) == {"name", "risk_level"}
    assert "Casbin" in d.withheld["diagnosis"]  # L4 health: Casbin's explicit deny for grid workers
    assert d.withheld["follow_up_date"] == "category health is restricted"  # Rego


def test_outside_jurisdiction_is_denied_with_reason(pdp: PolicyDecisionPoint) -> None:
    d = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, where="TH/S03/C07/G04"))
    assert not d.allow and d.fields == {}
    assert d.reasons == (
        "no role assignment of the caller covers the person's jurisdiction within the jurisdictions of the caller's credential",
    )


def test_the_credentials_jurisdictions_narrow_the_assignments(pdp: PolicyDecisionPoint) -> None:
    # jo-1 is assigned TH/S03; a token naming only community C07 reaches C07 and no further.
    inside = pdp.decide(section("jo-1", ("justice_officer",), "civil_affairs", CIVIL, where="TH/S03/C07/G05",
                                jurisdictions=("TH/S03/C07",)))
    assert inside.allow
    outside = pdp.decide(section("jo-1", ("justice_officer",), "civil_affairs", CIVIL, where="TH/S03/C02/G01",
                                 jurisdictions=("TH/S03/C07",)))
    assert not outside.allow and "jurisdictions of the caller's credential" in outside.reasons[0]
    # Without the token's bound the same assignment reaches C02.
    assert pdp.decide(section("jo-1", ("justice_officer",), "civil_affairs", CIVIL, where="TH/S03/C02/G01")).allow


def test_a_credential_without_jurisdictions_reaches_no_one(pdp: PolicyDecisionPoint) -> None:
    d = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, jurisdictions=()))
    assert not d.allow and d.fields == {}
    header = pdp.decide_header(HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",)), GRID, (), "routine_visit"))
    assert not header.allow and not header.risk_level and not header.groups


def test_a_wider_credential_does_not_widen_the_assignment(pdp: PolicyDecisionPoint) -> None:
    # gw-1 is assigned one grid; a token naming the whole district still reaches that grid only.
    assert pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, jurisdictions=("TH",))).allow
    d = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, where="TH/S03/C07/G04", jurisdictions=("TH",)))
    assert not d.allow


def test_claimed_role_must_be_assigned(pdp: PolicyDecisionPoint) -> None:
    d = pdp.decide(section("gw-1", ("community_police",), "civil_affairs", CIVIL))
    assert not d.allow and "credential" in d.reasons[0]


def test_only_roles_covering_the_person_count(pdp: PolicyDecisionPoint) -> None:
    d = pdp.decide(section("multi", ("grid_worker", "street_officer"), "public_security",
                           (FieldInfo("case_summary", "case", 3, "text"),), purpose="case_handling"))
    assert not d.allow  # street_officer is assigned in TH/S04 only; grid workers may not handle cases
    assert d.reasons == ("purpose case_handling is not permitted for the caller's roles",)


def test_auditor_is_denied_by_casbin(pdp: PolicyDecisionPoint) -> None:
    d = pdp.decide(section("au-1", ("auditor",), "civil_affairs", CIVIL))
    assert not d.allow and d.reasons[0].startswith("Casbin:")


def test_break_glass_needs_justification_and_is_flagged(pdp: PolicyDecisionPoint) -> None:
    fields = (FieldInfo("id_number", "identity", 3),)
    no = pdp.decide(section("gw-1", ("grid_worker",), "public_security", fields, purpose="emergency"))
    assert not no.allow and "break glass requires a justification" in no.reasons and no.review
    yes = pdp.decide(section("gw-1", ("grid_worker",), "public_security", fields, purpose="emergency",
                             justification="resident collapsed, ambulance on the way"))
    assert yes.allow and yes.review and dict(yes.fields) == {"id_number": None}


def test_malformed_requests_fail_closed(pdp: PolicyDecisionPoint) -> None:
    bad_field = (FieldInfo("x", "gossip", 2),)
    for req, reason in [
        (section("gw-1", ("grid_worker",), "civil_affairs", bad_field), "field x has an unknown category or grade"),
        (section("gw-1", ("grid_worker",), "civil_affairs", ()), "section has no fields"),
        (section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, purpose=""), "purpose missing"),
        (section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, groups=("vip",)), "unknown sensitive group: vip"),
        (section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, where="TH//x"), "person's jurisdiction missing or malformed"),
        (section("gw-1", (), "civil_affairs", CIVIL), "caller's credential names no role"),
        (section("gw-1", ("grid_worker",), "civil_affairs", CIVIL, purpose="curiosity"), "unknown purpose: curiosity"),
    ]:
        d = pdp.decide(req)
        assert not d.allow and reason in d.reasons, (reason, d.reasons)


def test_header_shows_grid_worker_risk_only(pdp: PolicyDecisionPoint) -> None:
    h = pdp.decide_header(HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, ("severe_mental_disorder",), "routine_visit"))
    assert (h.allow, h.risk_level, h.responsible_helper, h.groups) == (True, True, True, False)
    h = pdp.decide_header(HeaderRequest(Subject("cp-1", "police", ("community_police",), ("TH",)), GRID, ("drug_involved",), "routine_visit"))
    assert h.groups
    h = pdp.decide_header(HeaderRequest(Subject("cp-1", "police", ("community_police",), ("TH",)), "TH/S04/C01", (), "routine_visit"))
    assert not h.allow and not h.risk_level


def test_decide_many_records_inputs_without_personal_text(pdp: PolicyDecisionPoint) -> None:
    recorded: list[DecisionRecord] = []
    pdp._recorder = recorded.extend  # the recorder seam the store plugs into
    reqs = [section("gw-1", ("grid_worker",), d, f, justification="secret personal reason text") for d, f in
            (("civil_affairs", CIVIL), ("health", HEALTH))]
    out = pdp.decide_many(reqs)
    assert [d.allow for d in out] == [True, True]
    assert len(recorded) == 2 and recorded[0].inputs.justification_provided
    assert "secret" not in repr(recorded)
    assert recorded[1].inputs.assignments == (("grid_worker", GRID),)


def test_failing_recorder_fails_closed(pdp: PolicyDecisionPoint) -> None:
    def broken(_: Any) -> None:
        raise RuntimeError("disk full")

    pdp._recorder = broken
    d = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert not d.allow and d.reasons == ("the decision could not be recorded",)


def test_decide_profile_records_header_and_sections_in_one_batch(pdp: PolicyDecisionPoint) -> None:
    batches: list[list[DecisionRecord]] = []
    pdp._recorder = batches.append
    header = HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, ("severe_mental_disorder",), "routine_visit")
    reqs = [section("gw-1", ("grid_worker",), d, f) for d, f in (("civil_affairs", CIVIL), ("health", HEALTH))]
    sections, head = pdp.decide_profile(reqs, header)
    assert [d.allow for d in sections] == [True, True]
    assert head == pdp.decide_header(header)
    assert len(batches) == 2 and [r.inputs.kind for r in batches[0]] == ["header", "section", "section"]


def test_decide_profile_fails_closed_when_the_batch_cannot_be_recorded(pdp: PolicyDecisionPoint) -> None:
    def broken(_: Any) -> None:
        raise RuntimeError("disk full")

    pdp._recorder = broken
    header = HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, ("severe_mental_disorder",), "routine_visit")
    sections, head = pdp.decide_profile([section("gw-1", ("grid_worker",), "civil_affairs", CIVIL)], header)
    assert not head.allow and not head.risk_level and head.reasons == ("the decision could not be recorded",)
    assert [(d.allow, d.reasons) for d in sections] == [(False, ("the decision could not be recorded",))]


class _Engine:
    """A Rego engine returning a fixed value, to check how outputs are validated."""

    name = "fixed"

    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, entrypoint: str, input: Any) -> Any:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value

    def run_tests(self) -> list[Any]:
        return []

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (UNDEFINED, "policy produced no decision (undefined: possibly an unsafe variable)"),
        (EngineError("boom"), "policy engine error: boom"),
        ({"allow": "yes", "reasons": []}, "policy output is malformed: no boolean allow"),
        ({"allow": True, "visible": ["name"], "obligations": {"name": {"operator": "shred"}}, "withheld": {}, "reasons": [], "flags": []},
         "policy names an unknown masking operator 'shred' for field name"),
        ({"allow": True, "visible": ["ssn"], "obligations": {}, "withheld": {}, "reasons": [], "flags": []},
         "policy output names fields the section does not have"),
    ],
)
def test_bad_engine_output_is_a_deny(policy_bundle: PolicyBundle, value: Any, reason: str) -> None:
    policy = compile_policy(policy_bundle, lambda b: _Engine(value), ASSIGNMENTS)
    d = PolicyDecisionPoint(policy, memo_size=0, verdict_size=0).decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert not d.allow and d.reasons == (reason,)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ({"operator": "keep_first_n", "n": 1}, (True, "keep_first_n")),
        (None, (True, "")),  # no obligation: the header shows no name
        ({"operator": "shred"}, (False, "")),
        ("name_surname_only", (False, "")),  # not an obligation object
    ],
)
def test_the_header_name_is_shown_only_through_a_named_operator(policy_bundle: PolicyBundle, name: Any, expected: Any) -> None:
    out = {"allow": True, "name": name, "risk_level": False, "responsible_helper": False, "groups": False,
           "reasons": ["allowed"], "flags": []}
    policy = compile_policy(policy_bundle, lambda b: _Engine(out), ASSIGNMENTS)
    h = PolicyDecisionPoint(policy, memo_size=0, verdict_size=0).decide_header(
        HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, (), "routine_visit")
    )
    assert (h.allow, h.name_operator) == expected
    if h.name_operator:
        assert dict(h.name_obligation) == name  # parameters (n) kept for the masker
    if not h.allow:
        assert "unknown masking operator" in h.reasons[0] and "header's name" in h.reasons[0]


def test_the_default_policy_shows_a_surname_but_none_for_statistics(pdp: PolicyDecisionPoint) -> None:
    subject = Subject("gw-1", "grid_office", ("grid_worker",), ("TH",))
    assert pdp.decide_header(HeaderRequest(subject, GRID, (), "routine_visit")).name_operator == "name_surname_only"
    stats = pdp.decide_header(HeaderRequest(subject, GRID, (), "statistics"))
    assert stats.allow and stats.name_operator == ""


@pytest.mark.parametrize(
    ("household", "expected"),
    [
        (True, (True, True)),
        (False, (True, False)),
        ("absent", (True, False)),  # a policy written before the output: no household shown
        ("yes", (False, False)),  # not a boolean: the header is denied
    ],
)
def test_the_household_is_shown_only_when_the_policy_says_so(
    policy_bundle: PolicyBundle, household: Any, expected: Any
) -> None:
    out = {"allow": True, "name": None, "risk_level": False, "responsible_helper": False, "groups": False,
           "reasons": ["allowed"], "flags": []}
    if household != "absent":
        out["household"] = household
    policy = compile_policy(policy_bundle, lambda b: _Engine(out), ASSIGNMENTS)
    h = PolicyDecisionPoint(policy, memo_size=0, verdict_size=0).decide_header(
        HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, (), "routine_visit")
    )
    assert (h.allow, h.household) == expected
    if not h.allow:
        assert "household is not a boolean" in h.reasons[0]


def test_the_default_policy_hides_the_household_of_a_protected_person(pdp: PolicyDecisionPoint) -> None:
    grid_worker = Subject("gw-1", "grid_office", ("grid_worker",), ("TH",))
    assert pdp.decide_header(HeaderRequest(grid_worker, GRID, (), "routine_visit")).household
    victim = ("domestic_violence_victim",)
    assert not pdp.decide_header(HeaderRequest(grid_worker, GRID, victim, "routine_visit")).household
    assert not pdp.decide_header(HeaderRequest(grid_worker, GRID, (), "statistics")).household


def test_opa_server_down_is_a_deny(policy_bundle: PolicyBundle) -> None:
    from hub.policy.opa_dev_server import OpaDevServer
    from hub.policy.rego_opa import OpaRego, client_for

    server = OpaDevServer().start()
    client = client_for(server.url, timeout=1.0)
    policy = compile_policy(policy_bundle, lambda b: OpaRego(b, client), ASSIGNMENTS)
    pdp = PolicyDecisionPoint(policy, memo_size=0, verdict_size=0)
    assert pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL)).allow
    server.stop()
    d = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert not d.allow and d.reasons[0].startswith("policy engine error: OPA query failed")


def test_activation_is_atomic_and_in_flight_decisions_keep_their_version(policy_bundle: PolicyBundle) -> None:
    from hub.policy.rego_embedded import EmbeddedRego

    old = compile_policy(policy_bundle, EmbeddedRego, ASSIGNMENTS)
    src = policy_bundle.files["rego/authz.rego"].replace('"grid_worker": {"home": 2, "other": 2}', '"grid_worker": {"home": 1, "other": 1}')
    new = compile_policy(policy_bundle.changed({"rego/authz.rego": src}), EmbeddedRego, ASSIGNMENTS)
    started, release = threading.Event(), threading.Event()

    class Slow:
        name = "embedded"

        def evaluate(self, entrypoint: str, input: Any) -> Any:
            started.set()
            release.wait(10)
            return old.rego.evaluate(entrypoint, input)

        def run_tests(self) -> list[Any]:
            return []

        def close(self) -> None:
            pass

    slow_old = compile_policy(policy_bundle, lambda b: Slow(), ASSIGNMENTS)
    pdp = PolicyDecisionPoint(slow_old, memo_size=0, verdict_size=0)
    result: list[Any] = []
    t = threading.Thread(target=lambda: result.append(pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))))
    t.start()
    assert started.wait(10)
    pdp.activate(new)
    release.set()
    t.join(10)
    assert result[0].policy_hashes == (old.hash,) and result[0].fields["phone"] == "phone"
    after = pdp.decide(section("gw-1", ("grid_worker",), "civil_affairs", CIVIL))
    assert after.policy_hashes == (new.hash,) and after.policy_hashes != result[0].policy_hashes
    assert after.fields["name"] == "name_surname_only"  # L2 is now one above the grid worker's clearance


def test_casbin_memo_only_when_the_matcher_sees_user_and_path_through_within(policy_bundle: PolicyBundle) -> None:
    from hub.policy.casbin_authorizer import CasbinAuthorizer

    rules = policy_bundle.casbin_rules
    plain = CasbinAuthorizer(policy_bundle.casbin_model, rules, ASSIGNMENTS)
    assert plain.memoised
    special = policy_bundle.casbin_model.replace("&& within(r.sub, p.sub, r.dom)", "&& within(r.sub, p.sub, r.dom) && r.sub != \"gw-1\"")
    strict = CasbinAuthorizer(special, rules, ASSIGNMENTS)
    assert not strict.memoised
    assert plain.allows("gw-1", GRID, "civil_affairs/records/L2")
    assert not strict.allows("gw-1", GRID, "civil_affairs/records/L2")
    assert strict.allows("multi", GRID, "civil_affairs/records/L2")


def test_decide_profile_deferred_hands_the_recording_to_the_caller(pdp: PolicyDecisionPoint) -> None:
    """The decisions come back at once; the future says whether they were recorded: with a
    plain recorder it is already settled (failed when the recorder failed); with a
    group-commit writer it completes when the batch is committed (test_policy_group_commit.py)."""
    from hub.policy.errors import PolicyError

    header = HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, (), "routine_visit")
    reqs = [section("gw-1", ("grid_worker",), "civil_affairs", CIVIL)]
    batches: list[list[DecisionRecord]] = []
    pdp._recorder = batches.append
    sections, head, recorded = pdp.decide_profile_deferred(reqs, header)
    assert recorded.result(0) is None and [d.allow for d in sections] == [True] and head.allow
    assert [r.inputs.kind for r in batches[0]] == ["header", "section"]

    def broken(_: Any) -> None:
        raise RuntimeError("disk full")

    pdp._recorder = broken
    sections, _, recorded = pdp.decide_profile_deferred(reqs, header)
    assert [d.allow for d in sections] == [True]  # the decision itself; the caller must not use it
    with pytest.raises(PolicyError, match="could not be recorded"):
        recorded.result(0)



def _two_section_profile(
    pdp: PolicyDecisionPoint,
) -> tuple[HeaderRequest, list[SectionRequest], list[list[DecisionRecord]], list[str]]:
    """A grid worker's two-section profile; ``pdp`` then records into the returned batches
    and counts each Rego evaluation (by entrypoint) into the returned list."""
    header = HeaderRequest(Subject("gw-1", "grid_office", ("grid_worker",), ("TH",)), GRID, (), "routine_visit")
    reqs = [section("gw-1", ("grid_worker",), "civil_affairs", CIVIL), section("gw-1", ("grid_worker",), "health", HEALTH)]
    batches: list[list[DecisionRecord]] = []
    pdp._recorder = batches.append
    evaluations: list[str] = []
    evaluate = pdp.policy.rego.evaluate

    def counted(entrypoint: str, given: Any) -> Any:
        evaluations.append(entrypoint)
        return evaluate(entrypoint, given)

    pdp.policy.rego.evaluate = counted  # type: ignore[method-assign]
    return header, reqs, batches, evaluations


def test_memo_only_refuses_to_evaluate_and_records_nothing(pdp: PolicyDecisionPoint) -> None:
    """An event-loop caller asks with ``memo_only``: a decision that needs Rego raises
    MemoMiss before anything is queued for the decision log, and counts no miss (misses
    count evaluations); once decided normally, the same request is answered from the memo
    with the very same decisions, and recorded once."""
    from hub.policy.errors import MemoMiss

    header, reqs, batches, evaluations = _two_section_profile(pdp)
    before = pdp.memo_stats
    with pytest.raises(MemoMiss):
        pdp.decide_profile_deferred(reqs, header, memo_only=True)
    assert batches == [] and evaluations == [] and pdp.memo_stats[1] == before[1]

    sections, head, recorded = pdp.decide_profile_deferred(reqs, header)
    assert recorded.result(0) is None and len(batches) == 1 and len(evaluations) == 3
    again, head_again, recorded_again = pdp.decide_profile_deferred(reqs, header, memo_only=True)
    assert recorded_again.result(0) is None and len(batches) == 2 and len(evaluations) == 3
    assert again == sections and head_again == head
    assert [r.inputs.kind for r in batches[1]] == ["header", "section", "section"]


def test_a_memo_miss_carries_every_missing_evaluation_of_the_profile(pdp: PolicyDecisionPoint) -> None:
    """After a first miss the whole profile is looked up again, so MemoMiss carries one fill
    per missing decision (header and sections): run where blocking is fine, they evaluate
    each decision once into the memo and record nothing, and the profile is then decided
    from the memo alone, as a normal decision would have decided it."""
    from hub.policy.errors import EngineError, MemoMiss

    header, reqs, batches, evaluations = _two_section_profile(pdp)
    with pytest.raises(MemoMiss) as info:
        pdp.decide_profile_deferred(reqs, header, memo_only=True)
    assert len(info.value.fills) == 3 and evaluations == [] and batches == []
    assert all(fill() for fill in info.value.fills)
    assert sorted(evaluations) == ["decision", "decision", "header"] and batches == []
    assert pdp.memo_stats[1] == 3  # each fill is a real evaluation: counted as a miss
    sections, head, recorded = pdp.decide_profile_deferred(reqs, header, memo_only=True)
    assert recorded.result(0) is None and len(batches) == 1 and len(evaluations) == 3
    # cold memos (Rego outputs and finished decisions): the same profile decided the normal way
    pdp._memo, pdp._verdicts = type(pdp._memo)(100), type(pdp._verdicts)(100)
    normal, normal_head, _ = pdp.decide_profile_deferred(reqs, header)
    assert normal == sections and normal_head == head

    # a decision the engine cannot make is not memoised: its fill says so, and the caller
    # decides the normal way (where the error becomes a deny with its reason)
    def broken(entrypoint: str, given: Any) -> Any:
        raise EngineError("engine down")

    pdp._memo, pdp._verdicts = type(pdp._memo)(100), type(pdp._verdicts)(100)
    pdp.policy.rego.evaluate = broken  # type: ignore[method-assign]
    with pytest.raises(MemoMiss) as info:
        pdp.decide_profile_deferred(reqs, header, memo_only=True)
    assert [fill() for fill in info.value.fills] == [False, False, False] and len(pdp._memo) == 0


@pytest.mark.parametrize(
    "name", ["diagnosis", "诊断结果", "€𝄞", 'say "hi"', "back\\slash", "tab\there", "bell\x07"]
)
def test_the_embedded_engine_decides_as_opa_whatever_the_text(policy_bundle: PolicyBundle, opa_server: Any, name: str) -> None:
    """regopy gets the input as one JSON term (hub/policy/rego_embedded.py: one ctypes call,
    not one per value), except when a string needs an escape, which regopy would keep
    literally: then node by node. Either way the output is OPA's, for the same input."""
    from hub.policy import rego_embedded
    from hub.policy.rego_embedded import EmbeddedRego
    from hub.policy.rego_opa import OpaRego, client_for

    fields = (FieldInfo(name, "health", 2), FieldInfo("follow_up_date", "health", 3, "date"), FieldInfo("name", "identity", 2))
    embedded = compile_policy(policy_bundle, EmbeddedRego, ASSIGNMENTS)
    opa = compile_policy(policy_bundle, lambda b: OpaRego(b, client_for(opa_server.url)), ASSIGNMENTS)
    given: list[Any] = []
    evaluate = embedded.rego.evaluate

    def captured(entrypoint: str, value: Any) -> Any:
        given.append((entrypoint, value))
        return evaluate(entrypoint, value)

    embedded.rego.evaluate = captured  # type: ignore[method-assign]
    for roles, user in ((("grid_worker",), "gw-1"), (("health_worker",), "hw-1")):
        req = section(user, roles, "health", fields, groups=("elderly_alone",))
        PolicyDecisionPoint(embedded).decide(req)
    embedded.rego.evaluate = evaluate  # type: ignore[method-assign]
    assert given
    interp = embedded.rego._interp
    terms: list[str] = []
    set_term = interp.set_input_term
    interp.set_input_term = lambda term: (terms.append(term), set_term(term))[1]  # type: ignore[method-assign]
    needs_escape = any(c in name for c in '"\\') or any(ord(c) < 0x20 for c in name)
    try:
        for entrypoint, value in given:
            if needs_escape:
                # regopy cannot render such a string in its output (its own JSON is then
                # invalid): an engine error, which the decision point turns into a deny with
                # its reason, never another exception
                try:
                    ours = embedded.rego.evaluate(entrypoint, value)
                except EngineError as exc:
                    assert "render" in str(exc)
                    continue
            else:
                ours = embedded.rego.evaluate(entrypoint, value)
            assert ours == opa.rego.evaluate(entrypoint, value)
            assert name in str(ours)  # the field is named in the output: its text survived
    finally:
        interp.set_input_term = set_term  # type: ignore[method-assign]
        embedded.rego.close()
        opa.rego.close()
    assert (rego_embedded._input_term(given[0][1]) is None) == needs_escape
    assert len(terms) == (0 if needs_escape else len(given))
