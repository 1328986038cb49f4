"""Assemble one person's profile: decide, fetch only what is permitted, mask.

Per department holding records on the person, every dataset is decided by the
policy decision point; only the fields it permits are fetched, concurrently and
with per-adapter deadlines; values are masked by the obligations the decision
names (operators are policy, never chosen here). A department that does not
answer yields an ``unavailable`` section, never a failed profile. The result
carries everything the audit entry needs; nothing is returned before that entry
is stored (see ``hub.profile.service``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

import grpc

from audit.entry import FieldDecision, Outcome, Section
from hub.departments.client import CallResult, DepartmentClient
from hub.departments.witness import SignedHead, WitnessSource, requested_size
from hub.identity.index import PersonInfo, RecordRef
from hub.masking.context import MaskingContext
from hub.masking.obligation import FREE_TEXT_OPERATOR
from hub.masking.operators import age_band
from hub.masking.proto_field import mask_field, value_from_proto
from hub.policy.errors import MemoMiss
from hub.policy.model import (
    Context,
    FieldInfo,
    HeaderDecision,
    HeaderRequest,
    Resource,
    SectionDecision,
    SectionRequest,
    Subject,
)
from hub.profile.schema import HEADER_FIELDS, HEADER_HELPER_FIELD, HEADER_RISK_FIELD, field_infos, group_name
from pingan.v1 import adapter_pb2, common_pb2, profile_pb2

log = logging.getLogger(__name__)

_CJK_NAME = re.compile(r"^[\u3400-\u9fff·・]{2,6}$")
_NAME_HINTS = ("name", "helper", "handler", "worker", "contact", "guardian")
WITHHELD = "withheld"
_IDENTITY_FIELDS = frozenset({"name", "sex", "birth_date"})  # read for the header's masked name, sex, age band
# What a section may have done to an identity field for the header to use it: the name
# gets the header's own obligation; sex only shown clear; the age band is coarser than
# a year, so a birth date shown clear, as its year or as a band.
_HEADER_READS: Mapping[str, frozenset[str]] = {
    "name": frozenset({"", "name_surname_only", "keep_first_n", "keep_last_n"}),
    "sex": frozenset({""}),
    "birth_date": frozenset({"", "year_only", "age_band"}),
}
#: A section's field list names each value the header showed as ``header:<dataset>.<field>``.
HEADER_SOURCE_PREFIX = "header:"
WITHDRAWN = "the department no longer offers the datasets linked to this person"
GONE = "the department no longer holds the records linked to this person"
_FAILURES: Mapping[grpc.StatusCode, str] = {
    grpc.StatusCode.UNAVAILABLE: "unreachable",
    grpc.StatusCode.DEADLINE_EXCEEDED: "no answer within the deadline",
    grpc.StatusCode.FAILED_PRECONDITION: "the department's audit witness check failed",
}
# Answers saying the hub asked for a dataset or field the adapter does not offer (any more).
_SCHEMA_CODES = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT})


_Extra = TypeVar("_Extra")


@dataclass(frozen=True, slots=True)
class DatasetPlan:
    department: str
    dataset: str
    record_ids: tuple[str, ...]
    spec: adapter_pb2.DatasetSpec
    decision: SectionDecision
    header_fields: tuple[str, ...]  # fetched for the header only, never shown in the section


@dataclass(slots=True)
class DepartmentPlan:
    department: str
    datasets: list[DatasetPlan] = field(default_factory=list)
    unavailable: str = ""  # why the department could not even be described


@dataclass(frozen=True, slots=True)
class HeaderValue:
    """A header value (risk level, responsible helper) as read from one department record:
    the newest record's is shown, and named in the entry with its dataset."""

    value: str
    updated: tuple[int, int]  # the record's updated_at (seconds, nanos)
    department: str
    dataset: str


@dataclass(slots=True)
class AssembledSection:
    proto: profile_pb2.DepartmentSection
    audit: Section
    latency_ms: float = 0.0


@dataclass(slots=True)
class Assembly:
    """Everything one request produced: sections, header, and what to audit."""

    sections: list[AssembledSection]
    header: profile_pb2.ProfileHeader
    header_decision: HeaderDecision
    policy_hashes: tuple[str, ...]
    flags: tuple[str, ...]
    household_members: tuple[str, ...] = ()  # hub person ids listed with the profile


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """Who asks, why and when: with the person, what the policy decides a profile's sections on."""

    subject: Subject
    purpose: str
    justification: str
    request_id: str
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class Planned(Generic[_Extra]):
    """The person, their department plans with the policy's decisions, and what else was read.

    ``recorded`` completes when the decisions are in the decision log; until it has
    succeeded no decision may take effect (nothing is fetched), and when it fails the
    request must be refused (``PolicyDecisionPoint.decide_profile_deferred``).
    """

    person: PersonInfo
    plans: list[DepartmentPlan]
    header: HeaderDecision
    extra: _Extra
    recorded: Future[None]


@dataclass(frozen=True, slots=True)
class _FirstHop(Generic[_Extra]):
    """What the first worker-thread hop of planning read, and its decisions when it could decide."""

    person: PersonInfo
    records: Sequence[RecordRef]
    extra: _Extra
    decided: tuple[list[DepartmentPlan], HeaderDecision, Future[None]] | None


@dataclass(frozen=True, slots=True)
class DatasetSchema:
    """A dataset as the department described it, with what policy inputs need derived once."""

    spec: adapter_pb2.DatasetSpec
    fields: tuple[FieldInfo, ...]
    declared: frozenset[str]


def _schemas(described: adapter_pb2.DescribeResponse) -> dict[str, DatasetSchema]:
    return {
        d.name: DatasetSchema(d, field_infos(d), frozenset(f.name for f in d.fields)) for d in described.datasets
    }


def _fill_all(fills: Sequence[Callable[[], bool]]) -> bool:
    """Run every fill (each evaluates one decision into the memo); whether all are stored."""
    return all([fill() for fill in fills])


class ProfileAssembler:
    """Decides, fetches and masks; stateless per request, shared by all requests."""

    def __init__(
        self,
        clients: Mapping[str, DepartmentClient],
        pdp: object,
        masking: MaskingContext,
        witness: WitnessSource | None = None,
        *,
        inline_reads: Callable[[], bool] | None = None,
    ) -> None:
        self._clients = dict(clients)
        self._pdp = pdp
        self._masking = masking
        self._witness = witness
        self._inline_reads = inline_reads
        # per department: the Describe response the schemas were derived from, and the schemas
        self._schemas: dict[str, tuple[adapter_pb2.DescribeResponse, dict[str, DatasetSchema]]] = {}

    # -- planning ---------------------------------------------------------------------------------

    async def plan(
        self, asked: PlanRequest, read: Callable[[], tuple[PersonInfo, Sequence[RecordRef], _Extra]]
    ) -> Planned[_Extra]:
        """Find the person and their records with ``read`` (it returns them and whatever
        else the caller reads in the same hop, handed back as ``extra``) and decide.

        One worker-thread hop does all of it when every department's schema is known (the
        usual case): under load each hop costs the request a wait for the GIL on the way
        out and on the way back, more than the work it carries (docs/benchmarks.md). When
        ``inline_reads`` says so (the hub's index is an SQLite file, whose reads are
        in-process CPU work, and its lookup state is built, so no read can turn into
        loading the whole index) there is no hop at all, unless a decision is not in the
        policy's memo: the step is then done again in a worker thread, where the Rego
        evaluation (which holds the loop for milliseconds, and calls a server with OPA) can
        run beside other requests (nothing is recorded by the first try). The decision log is not
        waited for here: see :class:`Planned`. Whatever ``read`` raises (e.g. the person is
        not found) reaches the caller.
        """
        if self._inline_reads is not None and self._inline_reads():
            try:
                first = self._read_and_decide(asked, read, memo_only=True)
            except MemoMiss as miss:  # a Rego evaluation (native code, or a call to OPA): not on the loop
                first = await self._decide_after_filling(asked, read, miss)
        else:
            first = await asyncio.to_thread(self._read_and_decide, asked, read)
        if first.decided is not None:
            return Planned(first.person, first.decided[0], first.decided[1], first.extra, first.decided[2])
        departments = sorted({ref.department for ref in first.records})
        known = [self._known_schemas(d) for d in departments]
        answers = iter(
            await asyncio.gather(*(self._describe(d) for d, k in zip(departments, known, strict=True) if k is None))
        )
        described = {d: k if k is not None else next(answers) for d, k in zip(departments, known, strict=True)}
        plans, header, recorded = await asyncio.to_thread(self._decide, asked, first.person, first.records, described)
        return Planned(first.person, plans, header, first.extra, recorded)

    async def _decide_after_filling(
        self, asked: PlanRequest, read: Callable[[], tuple[PersonInfo, Sequence[RecordRef], _Extra]], miss: MemoMiss
    ) -> _FirstHop[_Extra]:
        """Evaluate only the missing decisions in a worker thread, then decide on the loop
        from the memo. The thread does little but the evaluations: every time a worker
        thread takes the GIL back from the busy loop it can wait a switch interval (5 ms),
        and both the step's Python and regopy's ctypes calls give it up often (a plan step
        with misses took 150-470 ms under load; docs/benchmarks.md, hub/policy/rego_embedded.py).
        When a decision cannot be memoised (engine error, undefined output, no memo) or is
        gone again (another policy version activated meanwhile), the whole step runs in
        the thread, as it decides (and reports) those."""
        if miss.fills and await asyncio.to_thread(_fill_all, miss.fills):
            try:
                return self._read_and_decide(asked, read, memo_only=True)
            except MemoMiss:
                pass
        return await asyncio.to_thread(self._read_and_decide, asked, read)

    def _read_and_decide(
        self,
        asked: PlanRequest,
        read: Callable[[], tuple[PersonInfo, Sequence[RecordRef], _Extra]],
        memo_only: bool = False,
    ) -> _FirstHop[_Extra]:
        person, records, extra = read()
        described: dict[str, tuple[dict[str, DatasetSchema], str]] = {}
        for department in sorted({ref.department for ref in records}):
            known = self._known_schemas(department)
            if known is None:  # a department not described yet (or not answering): ask it first
                return _FirstHop(person, records, extra, None)
            described[department] = known
        return _FirstHop(person, records, extra, self._decide(asked, person, records, described, memo_only))

    def _decide(
        self,
        asked: PlanRequest,
        person: PersonInfo,
        records: Sequence[RecordRef],
        described: Mapping[str, tuple[dict[str, DatasetSchema], str]],
        memo_only: bool = False,
    ) -> tuple[list[DepartmentPlan], HeaderDecision, Future[None]]:
        """Per-dataset section requests and the header request, decided in one batch; the
        future completes when the batch is in the decision log. ``memo_only``: raise
        :class:`MemoMiss` (nothing recorded) when a decision needs a Rego evaluation."""
        subject, purpose, justification, request_id = asked.subject, asked.purpose, asked.justification, asked.request_id
        groups = tuple(sorted(group_name(g) for g in person.groups))
        context = Context(time=asked.now, emergency=purpose == "emergency")
        by_department: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for ref in records:
            by_department[ref.department][ref.dataset].append(ref.local_record_id)
        plans: list[DepartmentPlan] = []
        pending: list[tuple[DepartmentPlan, str, DatasetSchema]] = []
        requests: list[SectionRequest] = []
        for department in sorted(by_department):
            specs, unavailable = described[department]
            plan = DepartmentPlan(department, unavailable=unavailable)
            plans.append(plan)
            for name in sorted(by_department[department]):
                schema = specs.get(name)
                if schema is None:
                    continue  # dataset withdrawn by the department since linkage
                resource = Resource(person.jurisdiction, groups, department, name, schema.fields, person.person_id)
                requests.append(SectionRequest(subject, resource, purpose, justification, context, request_id))
                pending.append((plan, name, schema))
        header_request = HeaderRequest(subject, person.jurisdiction, groups, purpose, justification, context, request_id)

        # One policy version and one decision-log batch for the whole profile.
        decisions, header, recorded = self._pdp.decide_profile_deferred(  # type: ignore[attr-defined]
            requests, header_request, memo_only=memo_only
        )
        for (plan, name, schema), decision in zip(pending, decisions, strict=True):
            header_fields = tuple(
                f
                for f, allowed in ((HEADER_RISK_FIELD, header.risk_level), (HEADER_HELPER_FIELD, header.responsible_helper))
                if allowed and f in schema.declared
            )
            ids = tuple(sorted(by_department[plan.department][name]))
            plan.datasets.append(DatasetPlan(plan.department, name, ids, schema.spec, decision, header_fields))
        for plan in plans:
            if not plan.datasets and not plan.unavailable:
                plan.unavailable = WITHDRAWN  # nothing was decided: not the policy's denial
        return plans, header, recorded

    def _known_schemas(self, department: str) -> tuple[dict[str, DatasetSchema], str] | None:
        """The department's schemas when its client holds a Describe answer (no call), else ``None``."""
        client = self._clients.get(department)
        if client is None:
            return {}, "department has no configured adapter"
        described = client.described
        if described is None:
            return None
        cached = self._schemas.get(department)
        if cached is None or cached[0] is not described:
            cached = (described, _schemas(described))
            self._schemas[department] = cached
        return cached[1], ""

    async def _describe(self, department: str) -> tuple[dict[str, DatasetSchema], str]:
        """The department's dataset schemas (cached by the client), or why there are none."""
        client = self._clients[department]
        described = await client.describe()
        if not described.ok:
            return {}, f"adapter did not answer Describe ({failure_reason(department, described)})"
        return self._known_schemas(department) or ({}, "adapter did not answer Describe")

    # -- fetching and masking ---------------------------------------------------------------------

    async def assemble(
        self,
        person: PersonInfo,
        plans: Sequence[DepartmentPlan],
        header_decision: HeaderDecision,
        purpose: str,
        request_id: str,
        intent_index: int | None = None,
    ) -> Assembly:
        """Fetch, mask and build; ``intent_index`` is the audit entry recording this access
        before any fetch, which every FetchRecords names for the department's witness check."""
        head = None
        if self._witness is not None and intent_index is not None:
            head = self._witness.known_head() or await asyncio.to_thread(self._witness.head)
        fetched = await asyncio.gather(
            *(self._fetch(plan, purpose, request_id, intent_index, head) for plan in plans)
        )
        known_names: list[str] = []
        for plan, (response, _, _) in zip(plans, fetched, strict=True):
            if response is not None:
                known_names.extend(_names_in(response))
        masking = MaskingContext(
            pseudonym_key=self._masking.pseudonym_key,
            reference_date=self._masking.reference_date,
            known_names=tuple(dict.fromkeys(known_names)),
        )
        candidates: dict[str, HeaderValue] = {}
        identity: dict[str, object] = {}
        sections = []
        for plan, (response, error, latency) in zip(plans, fetched, strict=True):
            sections.append(self._section(plan, response, error, latency, masking, candidates, identity))
        header = profile_header(person, header_decision, {k: v.value for k, v in candidates.items()}, identity, masking)
        _name_header_sources(sections, header, candidates)
        hashes = tuple(sorted({h for p in plans for d in p.datasets for h in d.decision.policy_hashes}))
        flags = set(header_decision.flags)
        for plan in plans:
            for d in plan.datasets:
                flags.update(d.decision.flags)
        return Assembly(sections, header, header_decision, hashes, tuple(sorted(flags)))

    async def _fetch(
        self,
        plan: DepartmentPlan,
        purpose: str,
        request_id: str,
        intent_index: int | None,
        head: SignedHead | None,
    ) -> tuple[adapter_pb2.FetchRecordsResponse | None, str, float]:
        if plan.unavailable:
            return None, plan.unavailable, 0.0
        fetches = []
        for d in plan.datasets:
            fields = sorted(set(d.decision.fields) | set(d.header_fields)) if d.decision.allow else list(d.header_fields)
            if fields:
                fetches.append(adapter_pb2.DatasetFetch(dataset=d.dataset, local_record_ids=d.record_ids, fields=fields))
        if not fetches:
            return adapter_pb2.FetchRecordsResponse(), "", 0.0
        request = adapter_pb2.FetchRecordsRequest(request_id=request_id, purpose=purpose, fetches=fetches)
        client = self._clients[plan.department]
        witness = self._witness if intent_index is not None else None
        if witness is not None and head is not None and intent_index is not None:
            if witness.ready(plan.department, head):
                request.witness.CopyFrom(witness.witness(plan.department, intent_index, head))
            else:  # a consistency proof to read: off the event loop
                request.witness.CopyFrom(await asyncio.to_thread(witness.witness, plan.department, intent_index, head))
        result = await client.fetch(request)
        if witness is not None and head is not None and intent_index is not None:
            if result.code == grpc.StatusCode.FAILED_PRECONDITION:
                # Two benign causes get one retry: the adapter holds a checkpoint this replica
                # has not proved from (it names the size), or a concurrent request already showed
                # it a newer checkpoint than ours. A forked or rewritten log fails again.
                asked = requested_size(result.trailers)
                fresh = await asyncio.to_thread(witness.head, True)
                if asked is not None or fresh.size > head.size:
                    head = fresh if fresh.size > head.size else head
                    retry = await asyncio.to_thread(witness.witness, plan.department, intent_index, head, asked)
                    request.witness.CopyFrom(retry)
                    result = await client.fetch(request)
            if result.ok:
                witness.accepted(plan.department, head.size)
        if not result.ok:
            if result.code in _SCHEMA_CODES:
                client.forget_description()  # e.g. restarted with a narrower export: describe it again
            return None, failure_reason(plan.department, result), result.latency_ms
        return result.response, "", result.latency_ms  # type: ignore[return-value]

    def _section(
        self,
        plan: DepartmentPlan,
        response: adapter_pb2.FetchRecordsResponse | None,
        error: str,
        latency: float,
        masking: MaskingContext,
        header_values: dict[str, HeaderValue],
        identity: dict[str, object],
    ) -> AssembledSection:
        section = profile_pb2.DepartmentSection(department=plan.department)
        datasets = tuple(d.dataset for d in plan.datasets)
        allowed = [d for d in plan.datasets if d.decision.allow]
        reasons = sorted({r for d in plan.datasets for r in d.decision.reasons})
        if response is None and (allowed or not plan.datasets):
            # (A department whose datasets the policy all denied is denied, answering or
            # not: it may have been asked for the header's fields only.)
            section.outcome = common_pb2.SECTION_OUTCOME_UNAVAILABLE
            section.reason = f"department unavailable: {error}"
            return AssembledSection(
                section, Section(plan.department, Outcome.UNAVAILABLE, datasets, (), _safe_reason(error)), latency
            )
        by_dataset = {d.dataset: d for d in plan.datasets}
        operators: dict[str, str] = {}
        masked = False
        for record in response.records if response is not None else ():
            d = by_dataset.get(record.provenance.dataset)
            if d is None:
                continue  # an adapter answering for a dataset not asked: ignore, never show
            decision, header_fields = d.decision, d.header_fields
            visible = decision.fields if decision.allow else {}
            shown = section.records.add()
            shown.provenance.CopyFrom(record.provenance)
            for f in record.fields:
                name = f.name  # each read of a message field builds a new str: once per field
                if name in header_fields:
                    value = _readable(f.value)
                    if isinstance(value, str) and value:
                        at = record.provenance.updated_at
                        offered = HeaderValue(value, (at.seconds, at.nanos), plan.department, d.dataset)
                        held = header_values.get(name)
                        if held is None or offered.updated > held.updated:  # the newest record's
                            header_values[name] = offered
                if name not in visible:
                    continue
                out = shown.fields.add()
                out.CopyFrom(f)
                obligation = decision.obligations.get(name)
                operator = visible[name]
                if obligation is None and operator:
                    obligation = {"operator": operator}
                key = f"{d.dataset}.{name}"
                applied = ""
                if obligation is not None:
                    result = mask_field(out, obligation, context=masking)
                    applied = WITHHELD if result.withheld else result.operator
                    operators[key] = _most_disclosed(operators.get(key), applied)
                    if result.withheld or out.value != f.value or result.operator != FREE_TEXT_OPERATOR:
                        # A field operator applied is masking even where the value came out
                        # the same (year_only on "1990"); only a free-text pass that found
                        # nothing leaves the field as stored, and clear.
                        masked = True
                    else:
                        out.masking_operator = applied = ""
                else:
                    operators[key] = ""
                if name in _IDENTITY_FIELDS and name not in identity and applied in _HEADER_READS[name]:
                    # The header's sex and age band follow what the sections show: never a
                    # value the policy pseudonymised or withheld in every section.
                    value = _readable(f.value)
                    if value is not None:
                        identity[name] = value
            if not shown.fields:
                del section.records[-1]
        for d in allowed:
            for name in d.decision.withheld:
                operators[f"{d.dataset}.{name}"] = WITHHELD
                masked = True
        if not allowed:
            section.outcome = common_pb2.SECTION_OUTCOME_DENIED
            section.reason = "; ".join(reasons) or "denied by policy"
            outcome = Outcome.DENIED
            del section.records[:]
        elif response is not None and _all_gone(response, {d.dataset for d in allowed}):
            # Nothing shared, and not by the policy: the department deleted the records the
            # hub linked (the identity index catches up at the next linkage pull).
            section.outcome = common_pb2.SECTION_OUTCOME_UNAVAILABLE
            section.reason = GONE
            del section.records[:]
            fields = tuple(FieldDecision(name, op) for name, op in sorted(operators.items()))
            return AssembledSection(section, Section(plan.department, Outcome.UNAVAILABLE, datasets, fields, GONE), latency)
        elif masked or len(allowed) < len(plan.datasets):
            section.outcome = common_pb2.SECTION_OUTCOME_MASKED
            denied = [d.dataset for d in plan.datasets if not d.decision.allow]
            section.reason = f"datasets withheld: {', '.join(denied)}" if denied else ""
            outcome = Outcome.MASKED
        else:
            section.outcome = common_pb2.SECTION_OUTCOME_CLEAR
            outcome = Outcome.CLEAR
        fields = tuple(FieldDecision(name, op) for name, op in sorted(operators.items()))
        return AssembledSection(
            section, Section(plan.department, outcome, datasets, fields, "; ".join(reasons)[:500]), latency
        )


@functools.lru_cache(maxsize=4096)
def _may_hold_a_name(field_name: str) -> bool:
    return any(h in field_name for h in _NAME_HINTS) or field_name in HEADER_FIELDS


def _names_in(response: adapter_pb2.FetchRecordsResponse) -> list[str]:
    """Person names the profile itself holds, so free-text masking can find them."""
    names = []
    for record in response.records:
        for f in record.fields:
            if not _may_hold_a_name(f.name) or f.value.WhichOneof("kind") != "string_value":
                continue
            value = f.value.string_value.strip()
            if _CJK_NAME.match(value):
                names.append(value)
    return names


def failure_reason(department: str, result: CallResult) -> str:
    """Why a department gave no answer, for the caller and the audit entry: the status
    name and what it means, never the transport's details (adapter addresses, peer
    errors), which go to the hub's log."""
    error = (result.error or "no answer").splitlines()[0][:300]
    if result.attempts == 0:  # not called (circuit open, certificate refused): the hub's own words
        return error
    log.warning("department %s: %s", department, error)
    if result.code is None:
        return "no answer"
    meaning = _FAILURES.get(result.code, "the department refused the request")
    return f"{meaning} ({result.code.name})"


def _name_header_sources(
    sections: list[AssembledSection], header: profile_pb2.ProfileHeader, shown: Mapping[str, HeaderValue]
) -> None:
    """Name each value the header shows in its department's audit section, as
    ``header:<dataset>.<field>`` (issue 7: the entry records everything that left the hub)."""
    for name, text in ((HEADER_RISK_FIELD, header.risk_level), (HEADER_HELPER_FIELD, header.responsible_helper)):
        source = shown.get(name)
        if not text or source is None:
            continue
        for built in sections:
            if built.audit.department == source.department:
                named = FieldDecision(f"{HEADER_SOURCE_PREFIX}{source.dataset}.{name}", "")
                fields = tuple(sorted((*built.audit.fields, named), key=lambda f: f.name))
                built.audit = replace(built.audit, fields=fields)


def _most_disclosed(held: str | None, applied: str) -> str:
    """One field of one dataset over several records: the entry names what disclosed the
    most (shown as stored, then masked, then withheld), so it never under-reports what
    left the hub."""
    if held is None:
        return applied
    rank = {"": 0, WITHHELD: 2}
    return held if rank.get(held, 1) <= rank.get(applied, 1) else applied


def _all_gone(response: adapter_pb2.FetchRecordsResponse, datasets: set[str]) -> bool:
    """Whether the adapter returned no record of ``datasets`` and named some of theirs as
    missing (``dataset/local_record_id``): every record the hub linked there is gone."""
    if any(r.provenance.dataset in datasets for r in response.records):
        return False
    return any(m.split("/", 1)[0] in datasets for m in response.missing)


def _readable(value: common_pb2.FieldValue) -> object | None:
    """A stored value as Python, or ``None`` when it cannot be read (an impossible date
    such as 2023-02-30 from one adapter must not fail the whole profile)."""
    try:
        return value_from_proto(value)
    except (ValueError, OverflowError):
        return None


def _safe_reason(error: str) -> str:
    """Adapter errors are status names and our own messages; keep them short for the log."""
    return error.splitlines()[0][:200] if error else ""


def profile_header(
    person: PersonInfo,
    decision: HeaderDecision,
    header_values: Mapping[str, str],
    identity: Mapping[str, object],
    masking: MaskingContext,
) -> profile_pb2.ProfileHeader:
    """The profile's header: the name masked by the policy's obligation (none without
    one), sex, age band, and what the header decision lets through (risk level, helper,
    groups, and the residence mismatch with the household)."""
    header = profile_pb2.ProfileHeader(person_id=person.person_id, jurisdiction=person.jurisdiction)
    if person.migrant and decision.allow and decision.household:
        # Living away from the registered household is household data: shown only where
        # the policy shows who the person lives with (not for a victim who moved away).
        header.flags.append("residence_mismatch")
    name = identity.get("name")
    if isinstance(name, str) and name and decision.allow and decision.name_operator:
        # The policy names the operator (DESIGN.md: never hard-coded); none, no name.
        field_ = common_pb2.Field(name="name", value=common_pb2.FieldValue(string_value=name))
        result = mask_field(field_, decision.name_obligation, context=masking)
        if not result.withheld:
            header.masked_name = field_.value.string_value
    sex = identity.get("sex")
    if isinstance(sex, str):
        header.sex = {"男": "M", "女": "F", "1": "M", "2": "F"}.get(sex.strip(), sex.strip().upper()[:1])
    birth = identity.get("birth_date")
    if isinstance(birth, dt.date):
        band = age_band(birth, masking)
        if isinstance(band, str):
            header.age_band = band
    if decision.allow and decision.risk_level:
        header.risk_level = header_values.get(HEADER_RISK_FIELD, "")
    if decision.allow and decision.responsible_helper:
        header.responsible_helper = header_values.get(HEADER_HELPER_FIELD, "")
    if decision.allow and decision.groups:
        header.groups.extend(sorted(person.groups))
    return header
