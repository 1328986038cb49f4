"""The Rego unit tests pass on both engines, and the runner catches failures."""

from __future__ import annotations

from typing import Any

from hub.policy.bundle import PolicyBundle
from hub.policy.engine import discover_tests

ROLES = (
    "grid_worker", "community_police", "street_officer", "justice_officer", "civil_affairs_worker",
    "health_worker", "hr_worker", "social_worker", "department_system", "auditor", "policy_owner",
)
PURPOSES = ("routine_visit", "case_handling", "assistance", "follow_up", "emergency", "statistics")
GROUPS = (
    "community_corrections", "released_prisoner", "severe_mental_disorder", "drug_involved", "minor",
    "elderly_alone", "domestic_violence_victim", "whistleblower",
)


def test_every_policy_test_passes(policy_bundle: PolicyBundle, engine_factory: Any) -> None:
    engine = engine_factory(policy_bundle)
    try:
        outcomes = engine.run_tests()
    finally:
        engine.close()
    assert len(outcomes) == len(discover_tests(policy_bundle.rego_tests)) >= 40
    assert [o for o in outcomes if not o.passed] == []


def test_tests_cover_every_role_purpose_and_group(policy_bundle: PolicyBundle) -> None:
    text = "\n".join(policy_bundle.rego_tests.values())
    missing = [w for w in (*ROLES, *PURPOSES, *GROUPS) if f'"{w}"' not in text]
    assert missing == []


def test_a_broken_expectation_fails_on_both_engines(policy_bundle: PolicyBundle, engine_factory: Any) -> None:
    tests = dict(policy_bundle.rego_tests)
    path = next(iter(tests))
    tests[path] = tests[path].replace('op(d, "phone") == "phone"\n\top(d, "allowance_amount")', 'op(d, "phone") == "redact"\n\top(d, "allowance_amount")', 1)
    assert tests[path] != policy_bundle.rego_tests[path]
    engine = engine_factory(policy_bundle.changed(tests))
    try:
        failed = [o for o in engine.run_tests() if not o.passed]
    finally:
        engine.close()
    assert [o.name for o in failed] == ["pingan.authz_test.test_grid_worker_sees_l2_of_own_grid"]
    assert "undefined" in failed[0].detail


def _normal(value: Any) -> Any:
    """Sets come back as JSON arrays in engine-specific order: compare sorted."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_normal(v) for v in value), key=repr)
    return value


def test_engines_agree_on_random_requests(policy_bundle: PolicyBundle, opa_server: Any) -> None:
    import random

    from hub.policy.rego_embedded import EmbeddedRego
    from hub.policy.rego_opa import OpaRego, client_for

    rng = random.Random(4)
    cats = ("identity", "contact", "address", "household", "case", "health", "corrections", "assistance",
            "employment", "education", "risk", "administrative")
    depts = ("public_security", "justice", "health", "civil_affairs", "human_resources", "education")
    embedded, opa = EmbeddedRego(policy_bundle), OpaRego(policy_bundle, client_for(opa_server.url))
    try:
        for i in range(40):
            given = {
                "subject": {"user_id": f"u{i}", "department": rng.choice(depts), "roles": rng.sample(ROLES, rng.randint(1, 2)),
                            "jurisdictions": [rng.choice(["TH", "TH/S03", "TH/S03/C07/G05", "TH/S04"])]},
                "purpose": rng.choice(PURPOSES),
                "justification_provided": rng.random() < 0.5,
                "resource": {"jurisdiction": "TH/S03/C07/G05", "groups": rng.sample(GROUPS, rng.randint(0, 2)),
                             "department": rng.choice(depts), "dataset": "d",
                             "fields": [{"name": f"f{j}", "category": rng.choice(cats), "grade": rng.randint(1, 4),
                                         "type": rng.choice(["string", "text"])} for j in range(rng.randint(1, 6))]},
                "context": {"time": "2026-11-22T10:00:00Z", "emergency": rng.random() < 0.1},
            }
            for entrypoint in ("decision", "header"):
                assert _normal(embedded.evaluate(entrypoint, given)) == _normal(opa.evaluate(entrypoint, given)), (entrypoint, given)
    finally:
        opa.close()
