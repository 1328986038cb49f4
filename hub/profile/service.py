"""ProfileService (grpc.aio): one request, one login, one profile.

Order of work for every request, and why:
1. authenticate the bearer token (roles and jurisdictions come from it only);
2. validate the request (INVALID_ARGUMENT names the field, never its value);
3. charge the caller's rate limit and refuse replayed request ids;
4. resolve the person (raw identifiers tokenised by an adapter, then dropped);
5. decide every department dataset; record the decisions (decision log) and the fetch
   intent (audit log), both committed before anything is fetched; fetch only permitted
   fields, mask;
6. append the audit entry and wait until it is stored (fail closed);
7. answer with the audit receipt.
Refusals after step 1 (unknown person, no right, rate limit) are audited too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import grpc

from audit.entry import (
    AccessEntry,
    AuthFailureEntry,
    Outcome,
    PolicyVersion,
    RateLimitedEntry,
    Section,
    now_rfc3339,
)
from audit.entry import Caller as AuditCaller
from hub.auth.bearer import status_for
from hub.auth.caller import Caller
from hub.auth.errors import AuthError
from hub.identity.index import IdentityIndex, PersonInfo, RecordRef
from hub.metrics.sharing import SharingReport, jurisdiction_filter, sharing_report
from hub.policy.jurisdiction import within
from hub.policy.model import Subject
from hub.profile.assembly import Assembly, DepartmentPlan, PlanRequest, ProfileAssembler
from hub.profile.household import household_plans, relationship
from hub.profile.recorder import AuditRecorder, Receipt
from hub.profile.request import Ask, parse_household_request, parse_profile_request, valid_request_id
from hub.profile.resolve import PersonNotFound, PersonResolver
from pingan.serving import StatusError, grpc_errors, permission_denied, unavailable
from pingan.v1 import profile_pb2, profile_pb2_grpc

log = logging.getLogger(__name__)
# As long as a blocking decision-log write waits (hub.policy.group_commit.DecisionLogWriter).
DECISION_LOG_WAIT_SECONDS = 30.0

# Household members decided, fetched and audited at the same time by one GetHousehold.
HOUSEHOLD_CONCURRENCY = 4
# The audit flag and the refusal of a person whose household membership the policy withholds.
HOUSEHOLD_WITHHELD = "household_withheld"
HOUSEHOLD_WITHHELD_REASON = "the policy does not show who this person lives with to the caller"

STATS_ROLES = frozenset({"auditor", "policy_owner", "street_officer", "department_system"})
STATS_PURPOSE = "sharing_stats"  # purpose, query kind and flag of a refused SharingStats call's entry


class ProfileServicer(profile_pb2_grpc.ProfileServiceServicer):
    def __init__(
        self,
        gate: Any,
        index: IdentityIndex,
        resolver: PersonResolver,
        assembler: ProfileAssembler,
        recorder: AuditRecorder,
        alerts: Any = None,
    ) -> None:
        self._gate = gate
        self._index = index
        self._resolver = resolver
        self._assembler = assembler
        self._recorder = recorder
        self._alerts = alerts  # hub.alerts.feed.AlertFeed, or None when alerts are not configured

    # -- RPCs -------------------------------------------------------------------------------------

    @grpc_errors
    async def GetPersonProfile(
        self, request: profile_pb2.GetPersonProfileRequest, context: grpc.aio.ServicerContext
    ) -> profile_pb2.GetPersonProfileResponse:
        started = time.perf_counter()
        caller = await self._authenticate(context, "GetPersonProfile", request.request_id)
        ask = parse_profile_request(request)
        await self._admit(caller, ask, context, "GetPersonProfile")
        assert ask.lookup is not None
        find = await self._resolver.finder(ask.lookup, ask.request_id)  # Tokenize, if raw identifiers
        assembly, receipt = await self._profile_of(
            caller, ask, lambda: find().person, context, started, list_household=True
        )
        response = profile_pb2.GetPersonProfileResponse(header=assembly.header)
        response.sections.extend(s.proto for s in assembly.sections)
        for member in assembly.household_members:
            response.household.add(person_id=member)
        response.audit.CopyFrom(_receipt(receipt, ask.request_id))
        return response

    @grpc_errors
    async def GetHousehold(
        self, request: profile_pb2.GetHouseholdRequest, context: grpc.aio.ServicerContext
    ) -> profile_pb2.GetHouseholdResponse:
        started = time.perf_counter()
        caller = await self._authenticate(context, "GetHousehold", request.request_id)
        ask = parse_household_request(request)
        await self._admit(caller, ask, context, "GetHousehold")
        household_id, asked_id = ask.household_id, ""
        if not household_id:
            person = await self._resolve(caller, ask, context, started)
            asked_id = person.person_id
            household_id = person.household_id or ""
            if not household_id:
                await self._audit_refusal(caller, ask, context, started, person.person_id, ("no_household",))
                raise StatusError(grpc.StatusCode.NOT_FOUND, "this person belongs to no known household")
        def read_members() -> list[PersonInfo]:
            infos = [self._index.person(m) for m in sorted(self._index.household_members(household_id))]
            return [info for info in infos if info is not None]

        # (No member left is the same answer as no household: the members may have been merged
        # or split away between the two reads; either way the refusal is audited.)
        listed = await asyncio.to_thread(read_members)
        if not listed:
            await self._audit_refusal(caller, ask, context, started, "", ("unknown_household",))
            raise StatusError(grpc.StatusCode.NOT_FOUND, "no household with this household_id")
        response = profile_pb2.GetHouseholdResponse(household_id=household_id)
        # Members are independent accesses: decided, fetched and audited side by side, a few
        # at a time (a collective household can be large), answered in person-id order.
        slots = asyncio.Semaphore(HOUSEHOLD_CONCURRENCY)

        async def member_line(info: PersonInfo) -> tuple[Assembly, Receipt]:
            async with slots:
                return await self._profile_of(
                    caller, ask, functools.partial(_same, info), context, started, household=household_id,
                    narrow=household_plans,
                )

        first: dict[str, tuple[Assembly, Receipt]] = {}
        for info in listed:
            if info.person_id == asked_id:
                # Asked by a member: what is shown is who that person lives with, so the
                # caller must be allowed that person's line before anyone else is fetched
                # (a refusal, audited, is the answer to the whole request).
                first[asked_id] = await member_line(info)
        others = iter(
            await asyncio.gather(*(member_line(i) for i in listed if i.person_id not in first), return_exceptions=True)
        )
        outcomes: list[tuple[Assembly, Receipt] | BaseException] = [
            first[i.person_id] if i.person_id in first else next(others) for i in listed
        ]
        for outcome in outcomes:  # anything but a member's refusal fails the whole request (fail closed)
            if isinstance(outcome, BaseException) and not _refused(outcome):
                raise outcome
        receipt: Receipt | None = None
        denied = 0
        why: dict[str, None] = {}  # the members' denial reasons, in order, once each
        for info, outcome in zip(listed, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                assert isinstance(outcome, StatusError)
                denied += 1
                why.setdefault(outcome.message.removeprefix("access denied by policy: "), None)
                continue
            assembly, member_receipt = outcome
            if receipt is None or member_receipt.index > receipt.index:
                receipt = member_receipt
            header = assembly.header
            response.headers.append(header)
            line = response.members.add(
                person_id=info.person_id,
                masked_name=header.masked_name,
                age_band=header.age_band,
                relationship=relationship(assembly),
            )
            line.audit.CopyFrom(_receipt(member_receipt, ask.request_id))
            if info.migrant and "registered_elsewhere" not in response.flags:
                response.flags.append("registered_elsewhere")
        if receipt is None:
            reasons = "; ".join(why)[:500]
            raise permission_denied(
                "no member of this household may be shown to you"
                + (f" (access denied by policy: {reasons})" if reasons else "")
            )
        if denied:
            response.flags.append(f"members_withheld:{denied}")
        response.audit.CopyFrom(_receipt(receipt, ask.request_id))
        return response

    @grpc_errors
    async def WatchAlerts(self, request: profile_pb2.WatchAlertsRequest, context: grpc.aio.ServicerContext) -> Any:
        # docs/alerts.md: every delivered alert is an audit entry first (fail closed).
        from hub.alerts.errors import AlertError
        from hub.alerts.kinds import ALERT_PURPOSE, check_kinds

        caller = await self._authenticate(context, "WatchAlerts")
        if self._alerts is None:
            raise StatusError(grpc.StatusCode.FAILED_PRECONDITION, "alerts are not configured on this hub")
        try:
            kinds = check_kinds(list(request.kinds), self._alerts.known_kinds)
        except AlertError as exc:
            raise StatusError(grpc.StatusCode.INVALID_ARGUMENT, str(exc)) from None
        async for visible in self._alerts.watch(caller, kinds):
            alert, started = visible.alert, time.perf_counter()
            header = await self._alerts.header_values(visible)
            entry = AccessEntry(
                request_id=visible.request_id,
                time=now_rfc3339(),
                caller=_audit_caller(caller, context),
                purpose=ALERT_PURPOSE,
                person_id=alert.person_id,
                query_kind="alert",
                policy_versions=tuple(PolicyVersion("bundle", h) for h in visible.decision.policy_hashes),
                latency_us=int((time.perf_counter() - started) * 1_000_000),
                flags=("alert", f"alert_kind:{alert.kind}"),
                jurisdiction=alert.jurisdiction,
            )
            await self._recorder.append(entry, with_checkpoint=False)
            response = profile_pb2.WatchAlertsResponse(
                alert_id=alert.alert_id,
                kind=alert.kind,
                person_id=alert.person_id,
                department=alert.department,
                risk_level=header.get("risk_level", ""),
                responsible_helper=header.get("responsible_helper", ""),
                detail=alert.detail,
            )
            response.raised_at.FromDatetime(alert.raised_at)
            yield response

    @grpc_errors
    async def SharingStats(
        self, request: profile_pb2.SharingStatsRequest, context: grpc.aio.ServicerContext
    ) -> profile_pb2.SharingStatsResponse:
        caller = await self._authenticate(context, "SharingStats")
        since = _time_field(request, "since")
        until = _time_field(request, "until")
        if since and until and until <= since:
            raise StatusError(grpc.StatusCode.INVALID_ARGUMENT, "until must be after since")
        try:
            wanted = jurisdiction_filter(request.jurisdiction)
        except ValueError as exc:
            raise StatusError(grpc.StatusCode.INVALID_ARGUMENT, f"jurisdiction: {exc}") from None
        try:
            if not STATS_ROLES.intersection(caller.roles):
                raise permission_denied("sharing statistics need one of the roles: " + ", ".join(sorted(STATS_ROLES)))
            scopes = _stats_scopes(caller, wanted)
        except StatusError as exc:
            if exc.code == grpc.StatusCode.PERMISSION_DENIED:  # no right: audited, as every refusal
                await self._recorder.append(
                    AccessEntry(
                        request_id=uuid.uuid4().hex,
                        time=now_rfc3339(),
                        caller=_audit_caller(caller, context),
                        purpose=STATS_PURPOSE,
                        query_kind=STATS_PURPOSE,
                        flags=("denied", STATS_PURPOSE),
                        jurisdiction=wanted,
                    ),
                    with_checkpoint=False,
                )
            raise
        report = await asyncio.to_thread(
            sharing_report, self._recorder.log, since=since, until=until, jurisdiction=wanted, scopes=scopes
        )
        return _stats_proto(report)

    # -- steps ------------------------------------------------------------------------------------

    async def _authenticate(self, context: grpc.aio.ServicerContext, method: str, request_id: str = "") -> Caller:
        try:
            return self._gate.authenticate(context)
        except StatusError as exc:
            valid = bool(request_id) and valid_request_id(request_id)
            entry = AuthFailureEntry(
                request_id=request_id if valid else uuid.uuid4().hex,
                time=now_rfc3339(),
                method=method,
                reason=exc.message[:200],
                client_address=_peer(context),
            )
            await self._recorder.append(entry, with_checkpoint=False)
            raise

    async def _admit(self, caller: Caller, ask: Ask, context: grpc.aio.ServicerContext, method: str) -> None:
        try:
            self._gate.admit(caller, ask.request_id)
        except AuthError as exc:
            if exc.reason == "rate_limited":
                await self._recorder.append(
                    RateLimitedEntry(ask.request_id, now_rfc3339(), _audit_caller(caller, context), method),
                    with_checkpoint=False,
                )
            elif exc.reason == "replayed_request":
                # A reused request id is either a client bug or a replay attack: both are worth a trace.
                await self._recorder.append(
                    AuthFailureEntry(
                        request_id=ask.request_id,
                        time=now_rfc3339(),
                        method=method,
                        reason=f"replayed_request by {caller.user_id}"[:200],
                        client_address=_peer(context),
                        credential_id=caller.token_id,
                    ),
                    with_checkpoint=False,
                )
            raise status_for(exc) from None

    async def _resolve(
        self, caller: Caller, ask: Ask, context: grpc.aio.ServicerContext, started: float
    ) -> PersonInfo:
        assert ask.lookup is not None
        try:
            resolved = await self._resolver.resolve(ask.lookup, ask.request_id)
        except PersonNotFound:
            await self._audit_refusal(caller, ask, context, started, "", ("unknown_person",))
            raise
        return resolved.person

    async def _profile_of(
        self,
        caller: Caller,
        ask: Ask,
        find: Callable[[], PersonInfo],
        context: grpc.aio.ServicerContext,
        started: float,
        household: str = "",
        list_household: bool = False,
        narrow: Callable[[list[DepartmentPlan]], list[DepartmentPlan]] | None = None,
    ) -> tuple[Assembly, Receipt]:
        """Find the person (``find`` reads the index; it raises PersonNotFound), decide,
        record the intent, fetch, mask, record the access; ``list_household`` adds the
        person's household members (when the header is visible) to the assembly and to the
        access entry, so the entry names every id the response holds; ``narrow`` cuts the
        planned fetch down to what the answer shows (a household member's line)."""
        subject = Subject(caller.user_id, caller.department, caller.roles, caller.jurisdictions)
        now = dt.datetime.now(dt.UTC)

        def read() -> tuple[PersonInfo, list[RecordRef], list[str]]:
            person = find()
            return person, *self._records_and_members(person, list_household)

        # The person, the records, the household members (dropped unless the header is
        # allowed) and the policy decisions: one worker-thread hop.
        try:
            planned = await self._assembler.plan(
                PlanRequest(subject, ask.purpose, ask.justification, ask.request_id, now), read
            )
        except PersonNotFound:
            await self._audit_refusal(caller, ask, context, started, "", ("unknown_person",))
            raise
        person, plans, header_decision, members = planned.person, planned.plans, planned.header, planned.extra
        if narrow is not None:
            plans = narrow(plans)
        datasets = [d for p in plans for d in p.datasets]
        if not header_decision.allow and not any(d.decision.allow for d in datasets):
            reasons = sorted({*header_decision.reasons, *(r for d in datasets for r in d.decision.reasons)})
            sections = tuple(
                Section(p.department, Outcome.DENIED, tuple(d.dataset for d in p.datasets), (), "; ".join(reasons)[:500])
                for p in plans
            )
            hashes = tuple(sorted({*header_decision.policy_hashes, *(h for d in datasets for h in d.decision.policy_hashes)}))
            flags = ("denied", *((f"household:{household}",) if household else ()))
            if any("jurisdiction" in r for r in reasons):
                flags = (*flags, "out_of_jurisdiction")
            await _committed(planned.recorded)  # a denial is answered once its decisions are logged, or failed to be
            await self._audit_refusal(caller, ask, context, started, person.person_id, flags, sections, hashes, person)
            raise permission_denied("access denied by policy: " + ("; ".join(reasons) or "no rule allows it"))
        if household and not header_decision.household:
            # A household view shows who lives together: never a person whose household the
            # policy withholds from this caller (a sensitive group's, or for statistics).
            await _committed(planned.recorded)
            flags = ("denied", f"household:{household}", HOUSEHOLD_WITHHELD)
            hashes = header_decision.policy_hashes
            await self._audit_refusal(caller, ask, context, started, person.person_id, flags, (), hashes, person)
            raise permission_denied(f"access denied by policy: {HOUSEHOLD_WITHHELD_REASON}")
        # Recorded before any data moves (DESIGN.md flow 3): the departments' witness check
        # names this entry, and a crash mid-fetch still leaves a trace of the access. The
        # decision log commits meanwhile; both must succeed before anything is fetched.
        intent_entry = self._access_entry(
            caller, ask, context, person.person_id, (), (), ("fetch_intent",), started, person
        )
        intent, recorded = await asyncio.gather(
            self._recorder.append(intent_entry, with_checkpoint=False),
            _committed(planned.recorded),
        )
        if not recorded:
            await self._audit_refusal(
                caller, ask, context, started, person.person_id, ("decisions_unrecorded",), (), (), person
            )
            raise unavailable(
                "the hub could not record its policy decisions, so no data is released; try again later"
            )
        assembly = await self._assembler.assemble(
            person, plans, header_decision, ask.purpose, ask.request_id, intent.index
        )
        if list_household and header_decision.household and person.household_id:
            assembly.household_members = tuple(sorted(m for m in members if m != person.person_id))
        flags = list(assembly.flags)
        if household:
            flags.append(f"household:{household}")
        if "review" in flags:
            flags.append("break_glass_review")
            assembly.header.flags.append("break_glass_review")
        entry = self._access_entry(
            caller,
            ask,
            context,
            person.person_id,
            tuple(s.audit for s in assembly.sections),
            assembly.policy_hashes,
            tuple(sorted(set(flags))),
            started,
            person,
            assembly.household_members,
            sealed_from=intent_entry,
        )
        receipt = await self._recorder.append(entry)
        return assembly, receipt

    def _records_and_members(self, person: PersonInfo, list_household: bool) -> tuple[list[RecordRef], list[str]]:
        records = self._index.records_of(person.person_id)
        members = self._index.household_members(person.household_id) if list_household and person.household_id else []
        return records, members

    async def _audit_refusal(
        self,
        caller: Caller,
        ask: Ask,
        context: grpc.aio.ServicerContext,
        started: float,
        person_id: str,
        flags: tuple[str, ...],
        sections: tuple[Section, ...] = (),
        hashes: tuple[str, ...] = (),
        person: PersonInfo | None = None,
    ) -> Receipt:
        entry = self._access_entry(caller, ask, context, person_id, sections, hashes, flags, started, person)
        # A refusal is answered with an error status: nobody sees this receipt's checkpoint.
        return await self._recorder.append(entry, with_checkpoint=False)

    def _access_entry(
        self,
        caller: Caller,
        ask: Ask,
        context: grpc.aio.ServicerContext,
        person_id: str,
        sections: Sequence[Section],
        hashes: Sequence[str],
        flags: Sequence[str],
        started: float,
        person: PersonInfo | None,
        household_members: Sequence[str] = (),
        sealed_from: AccessEntry | None = None,
    ) -> AccessEntry:
        """The entry for this request; ``sealed_from``, an entry of the same request, lends
        its sealed justification and query (sealed once per request, not once per entry)."""
        kind = "household_id" if ask.household_id else (ask.lookup.kind if ask.lookup else "")
        if sealed_from is not None:
            justification, query = sealed_from.justification, sealed_from.query
        else:
            query_terms: dict[str, str] = {}
            if ask.lookup is not None and ask.lookup.identity is not None:
                q = ask.lookup.identity
                query_terms = {"id_number": q.id_number, "phone": q.phone, "name": q.name, "birth_date": q.birth_date}
            justification = self._recorder.seal(ask.justification, "justification")
            query = self._recorder.seal_query(query_terms)
        return AccessEntry(
            request_id=ask.request_id,
            time=now_rfc3339(),
            caller=_audit_caller(caller, context),
            purpose=ask.purpose,
            person_id=person_id,
            sections=tuple(sections),
            justification=justification,
            query=query,
            query_kind=kind,
            policy_versions=tuple(PolicyVersion("bundle", h) for h in hashes),
            latency_us=int((time.perf_counter() - started) * 1_000_000),
            flags=tuple(flags),
            jurisdiction=person.jurisdiction if person is not None else "",
            household_members=tuple(household_members),
        )


async def _committed(recorded: Future[None], timeout: float = DECISION_LOG_WAIT_SECONDS) -> bool:
    """Whether the decision log committed a profile's decisions within ``timeout`` (fail
    closed: a failure or a writer that never answers is False; never raises)."""
    try:
        await asyncio.wait_for(asyncio.wrap_future(recorded), timeout)
    except Exception as exc:  # noqa: BLE001 - any failure means the decisions are not recorded
        log.error("policy decisions not recorded: %s", type(exc).__name__)
        return False
    return True


def _refused(exc: BaseException) -> bool:
    """A household member the caller may not see (left out and counted), as opposed to a failure."""
    return isinstance(exc, StatusError) and exc.code == grpc.StatusCode.PERMISSION_DENIED


def _same(info: PersonInfo) -> PersonInfo:
    """A person already read (household members): nothing to find."""
    return info


def _peer(context: grpc.aio.ServicerContext) -> str:
    try:
        return context.peer() or ""
    except Exception:  # noqa: BLE001
        return ""


def _audit_caller(caller: Caller, context: grpc.aio.ServicerContext) -> AuditCaller:
    return AuditCaller(
        user=caller.user_id,
        department=caller.department,
        roles=tuple(caller.roles),
        credential_id=caller.token_id,
        client_address=_peer(context),
        jurisdiction=",".join(caller.jurisdictions),
    )


# Roles that may read the whole hub's figures when their credential names no jurisdiction.
HUB_WIDE_STATS_ROLES = frozenset({"auditor", "policy_owner"})


def _time_field(request: profile_pb2.SharingStatsRequest, name: str) -> dt.datetime | None:
    """A request's optional Timestamp as an aware datetime; INVALID_ARGUMENT when out of range."""
    if not request.HasField(name):
        return None
    try:
        return getattr(request, name).ToDatetime(dt.UTC)  # type: ignore[no-any-return]
    except (ValueError, OverflowError, OSError):
        raise StatusError(
            grpc.StatusCode.INVALID_ARGUMENT, f"{name}: not a valid time (years 1-9999, nanos 0-999,999,999)"
        ) from None


def _stats_scopes(caller: Caller, wanted: str) -> tuple[str, ...] | None:
    """The jurisdictions whose persons the caller's figures may count (DESIGN.md "Jurisdiction":
    a caller's scope is a path prefix): the credential's, or the whole hub (None) for an
    auditor or policy owner whose credential names none. ``wanted`` is a checked filter
    (:func:`hub.metrics.sharing.jurisdiction_filter`)."""
    scopes = tuple(caller.jurisdictions)
    if not scopes:
        if HUB_WIDE_STATS_ROLES.intersection(caller.roles):
            return None
        raise permission_denied("your credential names no jurisdiction to count sharing figures for")
    if wanted and not any(within(wanted, s) or within(s, wanted) for s in scopes):
        raise permission_denied(f"the jurisdiction asked for is outside your credential's ({', '.join(scopes)})")
    return scopes


def _receipt(receipt: Receipt, request_id: str) -> profile_pb2.AuditReceipt:
    return profile_pb2.AuditReceipt(entry_index=receipt.index, checkpoint=receipt.checkpoint, request_id=request_id)


def _stats_proto(report: SharingReport) -> profile_pb2.SharingStatsResponse:
    response = profile_pb2.SharingStatsResponse(
        latency_p50_ms=report.latency_p50_ms, latency_p95_ms=report.latency_p95_ms, requests=report.requests
    )
    for pair in report.pairs:
        response.pairs.add(
            requesting_department=pair.requesting,
            providing_department=pair.providing,
            clear=pair.clear,
            masked=pair.masked,
            denied=pair.denied,
            unavailable=pair.unavailable,
            sharing_rate=pair.rate,
        )
    for j in report.jurisdictions:
        response.jurisdictions.add(jurisdiction=j.jurisdiction, sections=j.sections, sharing_rate=j.rate)
    return response
