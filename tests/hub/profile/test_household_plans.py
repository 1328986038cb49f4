"""``hub.profile.household.household_plans``: a household member's fetch holds only the fields of
the member's line, and the decisions the policy made are otherwise kept as they are."""

from __future__ import annotations

from types import MappingProxyType

from hub.policy.model import SectionDecision
from hub.profile.assembly import DatasetPlan, DepartmentPlan
from hub.profile.household import household_plans
from pingan.v1 import adapter_pb2


def _spec(name: str, *fields: str) -> adapter_pb2.DatasetSpec:
    return adapter_pb2.DatasetSpec(name=name, fields=[adapter_pb2.FieldSpec(name=f) for f in fields])


def _allow(fields: dict[str, str | None], withheld: dict[str, str] | None = None) -> SectionDecision:
    return SectionDecision(
        allow=True,
        fields=MappingProxyType(fields),
        obligations=MappingProxyType({k: {"operator": v} for k, v in fields.items() if v}),
        withheld=MappingProxyType(withheld or {}),
        reasons=("allowed",),
        flags=("review",),
        policy_hashes=("h1",),
    )


def _dataset(
    department: str, name: str, decision: SectionDecision, *fields: str, header: tuple[str, ...] = ()
) -> DatasetPlan:
    return DatasetPlan(department, name, ("r1", "r2"), _spec(name, *fields), decision, header)


def test_an_allowed_dataset_keeps_only_the_lines_fields_with_their_obligations() -> None:
    decision = _allow(
        {"name": "name_surname_only", "phone": "phone", "relation_to_head": None, "address": None},
        withheld={"birth_date": "above the caller's clearance", "id_number": "above the caller's clearance"},
    )
    dataset = _dataset("civil_affairs", "household", decision, "name", "phone")
    plan = DepartmentPlan("civil_affairs", [dataset])
    (limited,) = household_plans([plan])
    (d,) = limited.datasets
    assert dict(d.decision.fields) == {"name": "name_surname_only", "relation_to_head": None}
    assert dict(d.decision.obligations) == {"name": {"operator": "name_surname_only"}}
    assert dict(d.decision.withheld) == {"birth_date": "above the caller's clearance"}
    # Everything else the policy said stays as decided.
    assert (d.decision.allow, d.decision.reasons, d.decision.flags, d.decision.policy_hashes) == (
        True, ("allowed",), ("review",), ("h1",)
    )
    assert d.record_ids == ("r1", "r2") and d.dataset == "household"


def test_datasets_with_nothing_for_the_line_are_dropped_and_so_are_their_departments() -> None:
    visits = _dataset("health", "visits", _allow({"diagnosis": None}), "diagnosis")
    health = DepartmentPlan("health", [visits])
    corrections = DepartmentPlan(
        "justice",
        [
            _dataset("justice", "cases", _allow({"case_notes": "redact"}), "case_notes"),
            _dataset("justice", "supervision", _allow({"status": None}), "status", header=("risk_level",)),
        ],
    )
    limited = household_plans([health, corrections])
    assert [p.department for p in limited] == ["justice"]
    (d,) = limited[0].datasets
    assert d.dataset == "supervision" and dict(d.decision.fields) == {} and d.header_fields == ("risk_level",)


def test_a_denied_dataset_stays_denied_when_it_holds_a_line_field() -> None:
    denied = SectionDecision.deny(("person is outside the caller's jurisdiction",), ("h1",))
    plan = DepartmentPlan(
        "public_security",
        [
            _dataset("public_security", "population", denied, "name", "sex", "id_number"),
            _dataset("public_security", "cases", denied, "case_summary"),
        ],
    )
    (limited,) = household_plans([plan])
    (d,) = limited.datasets
    assert d.dataset == "population" and d.decision is denied


def test_a_department_that_could_not_be_described_stays_unavailable() -> None:
    plan = DepartmentPlan("education", [], unavailable="adapter did not answer Describe (UNAVAILABLE)")
    assert household_plans([plan]) == [plan]
