"""One department's section as the assembler builds it from an adapter's answer.

What the section and its audit record say must match what the caller got: the
outcome follows the policy's decision (not whether the adapter answered a header-only
fetch), an operator applied is masking even where it left the value as it was, a value
the header showed is named in the entry, and one unreadable value never fails the
profile. Adapter failures reach the caller without the transport's details.
"""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType as Frozen

import grpc

from audit.entry import Outcome
from hub.departments.client import CallResult
from hub.masking.context import MaskingContext
from hub.policy.model import SectionDecision
from hub.profile.assembly import (
    DatasetPlan,
    DepartmentPlan,
    HeaderValue,
    ProfileAssembler,
    _name_header_sources,
    failure_reason,
)
from pingan.v1 import adapter_pb2, common_pb2, profile_pb2

CTX = MaskingContext(pseudonym_key=b"k" * 32, reference_date=dt.date(2026, 1, 1))


def _allow(fields: dict[str, str | None], obligations: dict[str, dict[str, object]] | None = None) -> SectionDecision:
    return SectionDecision(True, Frozen(fields), Frozen(obligations or {}), Frozen({}), ("allowed",), (), ("h",))


def _plan(decision: SectionDecision, header_fields: tuple[str, ...] = ()) -> DepartmentPlan:
    spec = adapter_pb2.DatasetSpec(name="ds")
    return DepartmentPlan("justice", [DatasetPlan("justice", "ds", ("R1",), spec, decision, header_fields)])


def _answer(**values: common_pb2.FieldValue) -> adapter_pb2.FetchRecordsResponse:
    record = common_pb2.Record(provenance=common_pb2.Provenance(department="justice", dataset="ds", local_record_id="R1"))
    for name, value in values.items():
        record.fields.add(name=name, value=value)
    return adapter_pb2.FetchRecordsResponse(records=[record])


def _section(plan: DepartmentPlan, response: adapter_pb2.FetchRecordsResponse | None, error: str = ""):  # type: ignore[no-untyped-def]
    header: dict[str, HeaderValue] = {}
    identity: dict[str, object] = {}
    built = ProfileAssembler({}, None, CTX)._section(plan, response, error, 0.0, CTX, header, identity)  # type: ignore[arg-type]
    return built, header, identity


def test_an_impossible_date_is_withheld_not_a_failed_profile() -> None:
    impossible = common_pb2.FieldValue(date_value=common_pb2.Date(year=2023, month=2, day=30))
    plan = _plan(_allow({"birth_date": "year_only", "note": None}, {"birth_date": {"operator": "year_only"}}))
    built, _, identity = _section(plan, _answer(birth_date=impossible, note=common_pb2.FieldValue(string_value="ok")))
    shown = {f.name: f for f in built.proto.records[0].fields}
    assert shown["birth_date"].withheld and shown["note"].value.string_value == "ok"
    assert built.audit.outcome is Outcome.MASKED and "birth_date" not in identity
    # shown clear, the same value is still no date for the header's age band
    built, _, identity = _section(_plan(_allow({"birth_date": None})), _answer(birth_date=impossible))
    assert built.audit.outcome is Outcome.CLEAR and "birth_date" not in identity


def test_an_operator_that_leaves_the_value_as_it_was_is_still_masking() -> None:
    plan = _plan(_allow({"code": "redact"}, {"code": {"operator": "redact"}}))
    built, _, _ = _section(plan, _answer(code=common_pb2.FieldValue(string_value="***")))
    field = built.proto.records[0].fields[0]
    assert field.masking_operator == "redact" and built.proto.outcome == common_pb2.SECTION_OUTCOME_MASKED
    assert built.audit.outcome is Outcome.MASKED and [(f.name, f.operator) for f in built.audit.fields] == [
        ("ds.code", "redact")
    ]


def test_the_header_reads_sex_only_where_a_section_shows_it_clear() -> None:
    sex = common_pb2.FieldValue(string_value="男")
    pseudonymised = _plan(_allow({"sex": "keyed_pseudonym"}, {"sex": {"operator": "keyed_pseudonym"}}))
    _, _, identity = _section(pseudonymised, _answer(sex=sex))
    assert "sex" not in identity
    _, _, identity = _section(_plan(_allow({"sex": None})), _answer(sex=sex))
    assert identity["sex"] == "男"


def test_a_denied_department_is_denied_whether_or_not_its_adapter_answered() -> None:
    denied = SectionDecision.deny(("out_of_jurisdiction",), ("h",))
    plan = _plan(denied, header_fields=("risk_level",))  # fetched for the header only
    down, _, _ = _section(plan, None, "unreachable (UNAVAILABLE)")
    assert down.audit.outcome is Outcome.DENIED and down.proto.outcome == common_pb2.SECTION_OUTCOME_DENIED
    up, header, _ = _section(plan, _answer(risk_level=common_pb2.FieldValue(string_value="red")))
    assert up.audit.outcome is Outcome.DENIED and not up.proto.records and not up.audit.fields
    assert {k: (v.value, v.department, v.dataset) for k, v in header.items()} == {
        "risk_level": ("red", "justice", "ds")
    }


def test_the_header_shows_the_newest_records_value_and_the_entry_names_it() -> None:
    plan = _plan(_allow({"note": None}), header_fields=("risk_level",))
    older, newer = _answer(risk_level=common_pb2.FieldValue(string_value="green")), _answer()
    newer.records[0].provenance.local_record_id = "R2"
    newer.records[0].fields.add(name="risk_level", value=common_pb2.FieldValue(string_value="red"))
    older.records[0].provenance.updated_at.FromDatetime(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    newer.records[0].provenance.updated_at.FromDatetime(dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    both = adapter_pb2.FetchRecordsResponse(records=[*newer.records, *older.records])  # order must not matter
    built, candidates, _ = _section(plan, both)
    assert candidates["risk_level"].value == "red"
    header = profile_pb2.ProfileHeader(risk_level="red")
    _name_header_sources([built], header, candidates)
    assert ("header:ds.risk_level", "") in [(f.name, f.operator) for f in built.audit.fields]
    hidden = _section(plan, both)[0]  # a header that shows nothing names nothing
    _name_header_sources([hidden], profile_pb2.ProfileHeader(), candidates)
    assert not any(f.name.startswith("header:") for f in hidden.audit.fields)


def test_a_department_with_no_planned_dataset_is_unavailable_with_its_reason() -> None:
    plan = DepartmentPlan("justice", [], unavailable="the department no longer offers the datasets linked to this person")
    built, _, _ = _section(plan, None, plan.unavailable)
    assert built.audit.outcome is Outcome.UNAVAILABLE and "no longer offers" in built.proto.reason


def test_failure_reasons_name_the_status_not_the_transport() -> None:
    details = "UNAVAILABLE: failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:53005: refused"
    called = CallResult("health", None, details, grpc.StatusCode.UNAVAILABLE, 3.0, 2)
    assert failure_reason("health", called) == "unreachable (UNAVAILABLE)"
    late = CallResult("health", None, "deadline exceeded", grpc.StatusCode.DEADLINE_EXCEEDED, 500.0, 1)
    assert failure_reason("health", late) == "no answer within the deadline (DEADLINE_EXCEEDED)"
    refused = CallResult("health", None, "PERMISSION_DENIED: field 'x' is not exported", grpc.StatusCode.PERMISSION_DENIED, 1.0, 1)
    assert failure_reason("health", refused) == "the department refused the request (PERMISSION_DENIED)"
    # Not called at all: the hub's own words (circuit open, a revoked certificate) are kept.
    breaker = CallResult("health", None, "circuit open: department failing, not called", None, 0.0, 0)
    assert failure_reason("health", breaker) == "circuit open: department failing, not called"


def test_records_the_department_no_longer_holds_are_unavailable_not_an_empty_clear_section() -> None:
    plan = _plan(_allow({"note": None}))
    gone = adapter_pb2.FetchRecordsResponse(missing=["ds/R1"])
    built, _, _ = _section(plan, gone)
    assert built.audit.outcome is Outcome.UNAVAILABLE and built.proto.outcome == common_pb2.SECTION_OUTCOME_UNAVAILABLE
    assert "no longer holds" in built.proto.reason and "no longer holds" in built.audit.reason
    some_left = _answer(note=common_pb2.FieldValue(string_value="ok"))
    some_left.missing.append("ds/R9")  # one of two records gone: the other is shown
    built, _, _ = _section(plan, some_left)
    assert built.audit.outcome is Outcome.CLEAR and len(built.proto.records) == 1


def test_a_field_over_several_records_is_recorded_as_what_disclosed_the_most() -> None:
    impossible = common_pb2.FieldValue(date_value=common_pb2.Date(year=2023, month=2, day=30))
    fine = common_pb2.FieldValue(date_value=common_pb2.Date(year=1990, month=3, day=7))
    plan = _plan(_allow({"birth_date": "year_only"}, {"birth_date": {"operator": "year_only"}}))
    shown, withheld = _answer(birth_date=fine), _answer(birth_date=impossible)
    withheld.records[0].provenance.local_record_id = "R2"
    for order in ([*shown.records, *withheld.records], [*withheld.records, *shown.records]):
        built, _, _ = _section(plan, adapter_pb2.FetchRecordsResponse(records=order))
        assert [(f.name, f.operator) for f in built.audit.fields] == [("ds.birth_date", "year_only")]
