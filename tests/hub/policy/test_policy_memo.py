"""The decision memo: what a policy can observe, the key, soundness, and warming.

A memo hit must return exactly what the engine would return for that input. These
tests pin the conservative static check (hub/policy/input_reads.py), the prefix-
preserving renaming of jurisdictions, and that a place-specific policy is never
answered from another place's memo entry.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from hub.policy.bundle import PolicyBundle
from hub.policy.compiled import compile_policy
from hub.policy.decision_point import PolicyDecisionPoint, SectionInputs
from hub.policy.input_reads import analyse
from hub.policy.jurisdiction import RoleAssignment, relative_paths, within
from hub.policy.memo import memo_key
from hub.policy.model import Context, FieldInfo, HeaderRequest, Resource, SectionRequest, Subject
from hub.policy.rego_embedded import EmbeddedRego

FIELDS = (
    FieldInfo("name", "identity", 2),
    FieldInfo("phone", "contact", 3),
    FieldInfo("allowance_type", "assistance", 2),
)
GRIDS = ("TH/S01/C01/G01", "TH/S01/C01/G02", "TH/S02/C05/G09", "TH/S03/C07/G05")
ASSIGNMENTS = tuple(RoleAssignment(f"gw-{i}", "grid_worker", g) for i, g in enumerate(GRIDS)) + (
    RoleAssignment("so-1", "street_officer", "TH/S02"),
    RoleAssignment("so-2", "street_officer", "TH/S01"),
)


def _authz(bundle: PolicyBundle) -> str:
    return bundle.files["rego/authz.rego"]


def _with(bundle: PolicyBundle, authz: str) -> PolicyBundle:
    return PolicyBundle({**bundle.files, "rego/authz.rego": authz})


def request(user: str, where: str, *, purpose: str = "routine_visit", rid: str = "r") -> SectionRequest:
    return SectionRequest(
        subject=Subject(user, "grid_office", ("grid_worker", "street_officer"), ("TH",)),
        resource=Resource(where, (), "civil_affairs", "assistance", FIELDS, person_ref="P-1"),
        purpose=purpose,
        justification="",
        context=Context(),
        request_id=rid,
    )


# ---------------------------------------------------------------- the static check


def test_the_shipped_policy_reads_jurisdictions_only_through_prefix_tests(policy_bundle: PolicyBundle) -> None:
    reads = analyse(policy_bundle.rego_modules.values())
    assert (reads.user_id, reads.time, reads.jurisdictions) == (False, False, "relational")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # a place-specific rule: the concrete path matters
        (("not in_scope\n", 'not in_scope\n\tnot startswith(input.resource.jurisdiction, "TH/S02")\n'), "concrete"),
        # the scope variable used for something else than the prefix test
        (('concat("", [scope, "/"]))\n', 'concat("", [scope, "/"]))\n\tscope != "TH"\n'), "concrete"),
        # whole objects, computed keys, bare input: the whole input is observable
        (("", "\nx := input.resource\n"), "concrete"),
        (("", '\nx := input["resource"]\n'), "concrete"),
        (("", '\nx := object.get(input.resource, concat("", ["juris", "diction"]), "")\n'), "concrete"),
        (("", "\nx := count(input.subject.jurisdictions)\n"), "concrete"),
        (("", "\nx := input\n"), "concrete"),
        # unrelated reads leave the jurisdictions relational
        (("", '\nx := object.get(input.resource, "groups", [])\n'), "relational"),
        (("", '\n# input.resource.jurisdiction == "TH/S02" in a comment is not a read\n'), "relational"),
        (("", '\nx := "input.resource.jurisdiction"\n'), "relational"),
    ],
)
def test_any_other_use_of_the_paths_keeps_them_in_the_key(
    policy_bundle: PolicyBundle, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    src = _authz(policy_bundle)
    changed = src.replace(old, new, 1) if old else src + new
    assert changed != src
    assert analyse([changed]).jurisdictions == expected


@pytest.mark.parametrize(
    ("addition", "user_id", "time"),
    [
        ("x := input.subject.user_id", True, False),
        ('x := object.get(input.subject, "user_id", "")', True, False),
        ("x := input.context.time", False, True),
        ("x := input.context", False, True),
        ("x := input.subject", True, False),
        ('x := object.get(input.context, "emergency", false)', False, False),
    ],
)
def test_user_id_and_time_are_observed_when_any_read_reaches_them(
    policy_bundle: PolicyBundle, addition: str, user_id: bool, time: bool
) -> None:
    reads = analyse([_authz(policy_bundle) + "\n" + addition + "\n"])
    assert (reads.user_id, reads.time) == (user_id, time)


def test_import_of_input_makes_everything_observable(policy_bundle: PolicyBundle) -> None:
    src = _authz(policy_bundle).replace("import rego.v1\n", "import rego.v1\nimport input.subject as who\n")
    reads = analyse([src])
    assert (reads.user_id, reads.time, reads.jurisdictions) == (True, True, "concrete")


# ---------------------------------------------------------------- the renaming


def test_renaming_keeps_every_prefix_relation() -> None:
    paths = ["TH", "TH/S01", "TH/S0", "TH/S01/C01", "TH/S01/C01/G01", "TH/S01/C02", "TH/S02/C01/G01", "XY", "TH/S01/C01/G01/Z"]
    for person, scopes in itertools.product(paths[:7], itertools.combinations(paths, 2)):
        canon, renamed = relative_paths(person, scopes)
        original = {s: within(person, s) for s in scopes}
        assert any(original.values()) == any(within(canon, r) for r in renamed), (person, scopes)
        assert len(canon.split("/")) == len(person.split("/"))


def test_renaming_forgets_the_place() -> None:
    assert relative_paths("TH/S01/C01/G01", ["TH/S01/C01/G01"]) == relative_paths("XY/S09/C03/G17", ["XY/S09/C03/G17"])
    assert relative_paths("TH/S01/C01/G01", ["TH/S01"]) != relative_paths("TH/S01/C01/G01", ["TH/S01/C01"])


def test_key_drops_what_the_policy_cannot_observe(policy_bundle: PolicyBundle) -> None:
    reads = analyse(policy_bundle.rego_modules.values())
    base = {
        "subject": {"user_id": "a", "department": "d", "roles": ["grid_worker"], "jurisdictions": ["TH/S01/C01/G01"]},
        "purpose": "routine_visit",
        "justification_provided": False,
        "resource": {"jurisdiction": "TH/S01/C01/G01", "groups": [], "department": "x", "dataset": "y", "fields": []},
        "context": {"time": "2026-01-01T00:00:00+00:00", "emergency": False},
    }
    other_place = {
        **base,
        "subject": {**base["subject"], "user_id": "b", "jurisdictions": ["TH/S02/C04/G07"]},
        "resource": {**base["resource"], "jurisdiction": "TH/S02/C04/G07"},
        "context": {"time": "2026-06-01T00:00:00+00:00", "emergency": False},
    }
    other_purpose = {**base, "purpose": "assistance"}
    assert memo_key("h", reads, "decision", base) == memo_key("h", reads, "decision", other_place)
    assert memo_key("h", reads, "decision", base) != memo_key("h", reads, "decision", other_purpose)
    assert memo_key("h", reads, "decision", base) != memo_key("h2", reads, "decision", base)
    assert memo_key("h", reads, "decision", base) != memo_key("h", reads, "header", base)


# ---------------------------------------------------------------- soundness, end to end


def test_relational_policy_shares_entries_across_places_with_identical_decisions(policy_bundle: PolicyBundle) -> None:
    policy = compile_policy(policy_bundle, EmbeddedRego, ASSIGNMENTS)
    memo = PolicyDecisionPoint(policy)
    plain = PolicyDecisionPoint(policy, memo_size=0, verdict_size=0)
    try:
        for i, grid in enumerate(GRIDS):
            got, expected = memo.decide(request(f"gw-{i}", grid)), plain.decide(request(f"gw-{i}", grid))
            assert got == expected and got.allow
        hits, misses = memo.memo_stats
        assert (hits, misses) == (len(GRIDS) - 1, 1)
    finally:
        policy.rego.close()


def test_place_specific_policy_is_never_answered_from_another_place(policy_bundle: PolicyBundle) -> None:
    # Street S02 is closed to every section request: a rule on the concrete path.
    src = _authz(policy_bundle).replace(
        "section_deny contains msg if some msg in base_deny\n",
        "section_deny contains msg if some msg in base_deny\n\n"
        'section_deny contains "street S02 is closed" if startswith(input.resource.jurisdiction, "TH/S02/")\n',
    )
    bundle = _with(policy_bundle, src)
    policy = compile_policy(bundle, EmbeddedRego, ASSIGNMENTS)
    assert policy.reads.jurisdictions == "concrete"
    pdp = PolicyDecisionPoint(policy)
    try:
        open_street = pdp.decide(request("gw-0", "TH/S01/C01/G01"))
        closed_street = pdp.decide(request("gw-2", "TH/S02/C05/G09"))
        assert open_street.allow
        assert not closed_street.allow and "street S02 is closed" in closed_street.reasons
        # a street officer: same roles, same depth relation, different street
        assert pdp.decide(request("so-2", "TH/S01/C01/G02")).allow
        assert not pdp.decide(request("so-1", "TH/S02/C05/G09")).allow
    finally:
        policy.rego.close()


# ---------------------------------------------------------------- warming


def _recorded(policy_bundle: PolicyBundle) -> list[SectionInputs]:
    policy = compile_policy(policy_bundle, EmbeddedRego, ASSIGNMENTS)
    records: list[Any] = []
    pdp = PolicyDecisionPoint(policy, recorder=records.extend, memo_size=0, verdict_size=0)
    try:
        for i, grid in enumerate(GRIDS):
            for purpose in ("routine_visit", "assistance"):
                pdp.decide(request(f"gw-{i}", grid, purpose=purpose))
            pdp.decide_header(HeaderRequest(Subject(f"gw-{i}", "grid_office", ("grid_worker",), ("TH",)), grid, (), "routine_visit", "", Context(), "h"))
    finally:
        policy.rego.close()
    return [r.inputs for r in records]


def test_warming_from_recorded_inputs_makes_the_same_requests_hits(policy_bundle: PolicyBundle) -> None:
    recorded = _recorded(policy_bundle)
    policy = compile_policy(policy_bundle, EmbeddedRego, ASSIGNMENTS)
    pdp = PolicyDecisionPoint(policy)
    try:
        added = pdp.warm(recorded)
        assert added == 3  # routine_visit, assistance, header: one entry each for every grid
        assert pdp.memo_stats == (0, 0)
        for i, grid in enumerate(GRIDS):
            pdp.decide(request(f"gw-{i}", grid, purpose="assistance"))
        assert pdp.memo_stats == (len(GRIDS), 0)
        assert pdp.warm(recorded) == 0
    finally:
        policy.rego.close()


def test_warming_a_new_version_does_not_touch_the_active_one(policy_bundle: PolicyBundle) -> None:
    recorded = _recorded(policy_bundle)
    active = compile_policy(policy_bundle, EmbeddedRego, ASSIGNMENTS)
    stricter = _with(policy_bundle, _authz(policy_bundle).replace('"grid_worker": {"home": 2, "other": 2}', '"grid_worker": {"home": 1, "other": 1}'))
    proposal = compile_policy(stricter, EmbeddedRego, ASSIGNMENTS)
    pdp = PolicyDecisionPoint(active)
    try:
        assert pdp.warm(recorded, proposal) == 3
        before = pdp.decide(request("gw-0", GRIDS[0]))
        pdp.activate(proposal)
        after = pdp.decide(request("gw-0", GRIDS[0]))
        assert pdp.memo_stats[0] == 1  # the proposal's answer came from its warmed entry
        assert before.fields != after.fields and before.policy_hashes != after.policy_hashes
    finally:
        active.rego.close()
        proposal.rego.close()
