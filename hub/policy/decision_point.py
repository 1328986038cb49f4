"""The policy decision point: Casbin (role x jurisdiction x object), then Rego (fields).

``decide`` takes one :class:`SectionRequest` and returns a :class:`SectionDecision`;
``decide_many`` does the sections of one profile on one policy version;
``decide_header`` says whether the caller may see the person's risk level,
responsible helper and sensitive-group membership; ``decide_profile`` does both
for one profile, recorded in one decision-log batch. Everything fails closed: a
malformed request, an unknown role or purpose, an engine error, an undefined or
malformed policy output is a deny with a reason (issue 4).

A decision depends only on :class:`SectionInputs`, which is what the decision log
records (no names, no identity numbers, no justification text) and what replay
evaluates under a proposed version.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hub.policy.compiled import CompiledPolicy
from hub.policy.engine import DECISION, HEADER, UNDEFINED
from hub.policy.errors import EngineError, MemoMiss, PolicyError
from hub.policy.jurisdiction import RoleAssignment, ScopeIndex, is_valid_path, narrowed
from hub.policy.memo import DecisionMemo, memo_key
from hub.policy.model import (
    CATEGORIES,
    OBLIGATION_OPERATORS,
    SENSITIVE_GROUPS,
    VALUE_TYPES,
    FieldInfo,
    HeaderDecision,
    HeaderRequest,
    SectionDecision,
    SectionRequest,
)
from hub.policy.verdicts import Verdict, verdict_key

log = logging.getLogger(__name__)

SECTION = "section"
HEADER_KIND = "header"
_UNRECORDED = "the decision could not be recorded"


@dataclass(frozen=True)
class SectionInputs:
    """The inputs of one decision, as recorded for replay.

    ``assignments`` are the (role, scope) pairs the user held, at decision time,
    at scopes covering the person's jurisdiction, narrowed to the jurisdictions of
    the caller's credential (:func:`hub.policy.jurisdiction.narrowed`): none when the
    credential names no jurisdiction covering the person.
    """

    kind: str
    request_id: str
    user_id: str
    subject_department: str
    claimed_roles: tuple[str, ...]
    assignments: tuple[tuple[str, str], ...]
    purpose: str
    justification_provided: bool
    person_ref: str
    person_jurisdiction: str
    groups: tuple[str, ...]
    department: str = ""
    dataset: str = ""
    fields: tuple[FieldInfo, ...] = ()
    time: str = ""
    emergency: bool = False


@dataclass(frozen=True)
class DecisionRecord:
    """What the decision log stores: the inputs and the outcome, with the policy hash.

    ``outcome_json`` is the outcome's stored text when it is already known (a
    remembered verdict), so the log writer need not encode it again."""

    inputs: SectionInputs
    allow: bool
    outcome: Mapping[str, Any]
    policy_hash: str
    engine: str
    outcome_json: str = field(default="", compare=False)


def outcome_text(outcome: Mapping[str, Any]) -> str:
    """The outcome as the decision log stores it (canonical JSON)."""
    return json.dumps(outcome, ensure_ascii=False, sort_keys=True)


Recorder = Callable[[Sequence[DecisionRecord]], None]


def _validate_common(inputs: SectionInputs) -> list[str]:
    problems = []
    if not inputs.user_id:
        problems.append("caller has no user id")
    if not inputs.claimed_roles:
        problems.append("caller's credential names no role")
    if not inputs.purpose:
        problems.append("purpose missing")
    if not inputs.person_jurisdiction or not is_valid_path(inputs.person_jurisdiction):
        problems.append("person's jurisdiction missing or malformed")
    problems += [f"unknown sensitive group: {g}" for g in inputs.groups if g not in SENSITIVE_GROUPS]
    return problems


def _validate_section(inputs: SectionInputs) -> list[str]:
    problems = _validate_common(inputs)
    if not inputs.department or not inputs.dataset:
        problems.append("section department or dataset missing")
    if not inputs.fields:
        problems.append("section has no fields")
    names = [f.name for f in inputs.fields]
    if len(set(names)) != len(names):
        problems.append("section declares a field twice")
    for f in inputs.fields:
        if not f.name or f.category not in CATEGORIES or not isinstance(f.grade, int) or not 1 <= f.grade <= 4:
            problems.append(f"field {f.name or '?'} has an unknown category or grade")
        elif f.type not in VALUE_TYPES:
            problems.append(f"field {f.name} has an unknown value type")
    return problems


def _effective(inputs: SectionInputs) -> tuple[tuple[tuple[str, str], ...], str | None]:
    """Pairs both assigned (covering the person) and claimed; or a deny reason."""
    if not inputs.assignments:
        return (), (
            "no role assignment of the caller covers the person's jurisdiction"
            " within the jurisdictions of the caller's credential"
        )
    pairs = tuple(sorted((r, s) for r, s in inputs.assignments if r in inputs.claimed_roles))
    if not pairs:
        return (), "none of the caller's roles at the person's jurisdiction is in the caller's credential"
    return pairs, None


def _rego_input(inputs: SectionInputs, pairs: Sequence[tuple[str, str]], fields: Sequence[FieldInfo]) -> dict[str, Any]:
    return {
        "subject": {
            "user_id": inputs.user_id,
            "department": inputs.subject_department,
            "roles": sorted({r for r, _ in pairs}),
            "jurisdictions": sorted({s for _, s in pairs}),
        },
        "purpose": inputs.purpose,
        "justification_provided": inputs.justification_provided,
        "resource": {
            "jurisdiction": inputs.person_jurisdiction,
            "groups": sorted(set(inputs.groups)),
            "department": inputs.department,
            "dataset": inputs.dataset,
            "fields": [{"name": f.name, "category": f.category, "grade": f.grade, "type": f.type} for f in fields],
        },
        "context": {"time": inputs.time, "emergency": inputs.emergency},
    }


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(sorted(value))
    return None


def _evaluate_rego(
    policy: CompiledPolicy, entrypoint: str, given: dict[str, Any], memo: DecisionMemo | None, memo_only: bool = False
) -> Any:
    """The policy's output for ``given``: from the memo, else evaluated (and memoised).

    ``memo_only`` raises :class:`MemoMiss` instead of evaluating: an evaluation runs
    native code (regopy) or calls a server (OPA), so an event loop must not wait for it.
    """
    key = memo_key(policy.hash, policy.reads, entrypoint, given) if memo is not None else None
    if memo is not None and key is not None:
        cached = memo.get(key, count_miss=not memo_only)
        if cached is not UNDEFINED:
            return cached
    if memo_only:
        fill = functools.partial(_fill_memo, policy, entrypoint, given, memo)
        raise MemoMiss(f"{entrypoint}: not in the decision memo", (fill,))
    value = policy.rego.evaluate(entrypoint, given)
    if memo is not None and key is not None and value is not UNDEFINED:
        memo.put(key, value)
    return value


def _fill_memo(policy: CompiledPolicy, entrypoint: str, given: dict[str, Any], memo: DecisionMemo | None) -> bool:
    """Evaluate one decision a ``memo_only`` caller missed into the memo (run off the event
    loop); whether it is stored there now. An engine error is left for the caller's full
    decision to meet again, and report, as a deny."""
    if memo is None:
        return False
    try:
        return _evaluate_rego(policy, entrypoint, given, memo) is not UNDEFINED
    except EngineError:
        return False


def evaluate_section(
    policy: CompiledPolicy, inputs: SectionInputs, memo: DecisionMemo | None = None, *, memo_only: bool = False
) -> SectionDecision:
    """Decide one section under ``policy`` from recorded-style inputs (pure; no recording).

    ``memo_only``: raise :class:`MemoMiss` rather than evaluate Rego (see :func:`_evaluate_rego`)."""
    return _evaluate_section(policy, inputs, memo, memo_only)[0]


def _evaluate_section(
    policy: CompiledPolicy, inputs: SectionInputs, memo: DecisionMemo | None, memo_only: bool
) -> tuple[SectionDecision, bool]:
    """:func:`evaluate_section`, and whether the decision follows from the inputs alone
    (False after an engine error: the same inputs may be decided otherwise next time)."""
    hashes = (policy.hash,)
    problems = _validate_section(inputs)
    if problems:
        return SectionDecision.deny(tuple(problems), hashes), True
    pairs, why = _effective(inputs)
    if why:
        return SectionDecision.deny((why,), hashes), True
    index = ScopeIndex(RoleAssignment(inputs.user_id, r, s) for r, s in pairs)
    granted: dict[int, bool] = {}
    for grade in sorted({f.grade for f in inputs.fields}):
        obj = f"{inputs.department}/{inputs.dataset}/L{grade}"
        granted[grade] = policy.casbin.allows(inputs.user_id, inputs.person_jurisdiction, obj, index=index)
    casbin_withheld = {
        f.name: f"Casbin grants no role of the caller {inputs.department}/{inputs.dataset}/L{f.grade}"
        for f in inputs.fields
        if not granted[f.grade]
    }
    permitted = [f for f in inputs.fields if granted[f.grade]]
    if not permitted:
        roles = ", ".join(sorted({r for r, _ in pairs}))
        reason = f"Casbin: roles {roles} may not read {inputs.department}/{inputs.dataset} here"
        return SectionDecision.deny((reason,), hashes), True
    try:
        out = _evaluate_rego(policy, DECISION, _rego_input(inputs, pairs, permitted), memo, memo_only)
    except EngineError as exc:
        log.error("policy engine error (request %s): %s", inputs.request_id, exc)
        return SectionDecision.deny((f"policy engine error: {exc}",), hashes), False
    return _section_from_output(out, permitted, casbin_withheld, hashes, tuple(sorted({r for r, _ in pairs}))), True


def _section_from_output(
    out: Any, permitted: Sequence[FieldInfo], casbin_withheld: dict[str, str], hashes: tuple[str, ...], roles: tuple[str, ...]
) -> SectionDecision:
    if out is UNDEFINED:
        return SectionDecision.deny(("policy produced no decision (undefined: possibly an unsafe variable)",), hashes)
    if not isinstance(out, dict) or not isinstance(out.get("allow"), bool):
        return SectionDecision.deny(("policy output is malformed: no boolean allow",), hashes)
    reasons = _strings(out.get("reasons"))
    flags = _strings(out.get("flags", []))
    if reasons is None or flags is None:
        return SectionDecision.deny(("policy output is malformed: reasons and flags must be string lists",), hashes)
    if not out["allow"]:
        return SectionDecision.deny(reasons or ("denied by policy",), hashes, flags)
    visible = _strings(out.get("visible"))
    obligations = out.get("obligations", {})
    withheld = out.get("withheld", {})
    names = {f.name for f in permitted}
    if visible is None or not isinstance(obligations, dict) or not isinstance(withheld, dict):
        return SectionDecision.deny(("policy output is malformed: visible, obligations, withheld",), hashes, flags)
    if not set(visible) <= names or not set(obligations) <= set(visible):
        return SectionDecision.deny(("policy output names fields the section does not have",), hashes, flags)
    for name, ob in obligations.items():
        if not isinstance(ob, dict) or ob.get("operator") not in OBLIGATION_OPERATORS:
            op = ob.get("operator") if isinstance(ob, dict) else ob
            return SectionDecision.deny((f"policy names an unknown masking operator {op!r} for field {name}",), hashes, flags)
    if not visible:
        return SectionDecision.deny(("no field of this section is visible to the caller",), hashes, flags)
    all_withheld = {**{k: str(v) for k, v in withheld.items()}, **casbin_withheld}
    for name in names - set(visible):
        all_withheld.setdefault(name, "not allowed by policy")
    return SectionDecision(
        allow=True,
        fields=MappingProxyType({n: (obligations[n]["operator"] if n in obligations else None) for n in visible}),
        obligations=MappingProxyType({n: MappingProxyType(dict(obligations[n])) for n in sorted(obligations)}),
        withheld=MappingProxyType(dict(sorted(all_withheld.items()))),
        reasons=reasons or ("allowed",),
        flags=flags,
        policy_hashes=hashes,
        roles=roles,
    )


def _log_deny(req: SectionRequest, inputs: SectionInputs, decision: SectionDecision) -> None:
    if not decision.allow:
        log.info(
            "policy deny request=%s section=%s/%s reasons=%s",
            req.request_id, inputs.department, inputs.dataset, "; ".join(decision.reasons),
        )  # fmt: skip


def evaluate_header(
    policy: CompiledPolicy, inputs: SectionInputs, memo: DecisionMemo | None = None, *, memo_only: bool = False
) -> HeaderDecision:
    """Decide header visibility under ``policy`` (pure; no recording; ``memo_only`` as for sections)."""
    return _evaluate_header(policy, inputs, memo, memo_only)[0]


def _evaluate_header(
    policy: CompiledPolicy, inputs: SectionInputs, memo: DecisionMemo | None, memo_only: bool
) -> tuple[HeaderDecision, bool]:
    """:func:`evaluate_header`, and whether the decision follows from the inputs alone."""
    hashes = (policy.hash,)

    def deny(reasons: tuple[str, ...], flags: tuple[str, ...] = ()) -> tuple[HeaderDecision, bool]:
        return HeaderDecision(False, False, False, False, reasons or ("denied",), flags, hashes), True

    problems = _validate_common(inputs)
    if problems:
        return deny(tuple(problems))
    pairs, why = _effective(inputs)
    if why:
        return deny((why,))
    try:
        out = _evaluate_rego(policy, HEADER, _rego_input(inputs, pairs, ()), memo, memo_only)
    except EngineError as exc:
        log.error("policy engine error (request %s): %s", inputs.request_id, exc)
        return deny((f"policy engine error: {exc}",))[0], False
    if out is UNDEFINED or not isinstance(out, dict):
        return deny(("policy produced no header decision (undefined or malformed)",))
    reasons, flags = _strings(out.get("reasons")), _strings(out.get("flags", []))
    keys = ("allow", "risk_level", "responsible_helper", "groups")
    if reasons is None or flags is None or not all(isinstance(out.get(k), bool) for k in keys):
        return deny(("policy header output is malformed",))
    if not isinstance(out.get("household", False), bool):
        return deny(("policy header output is malformed (household is not a boolean)",), flags)
    if not out["allow"]:
        return deny(reasons, flags)
    name = out.get("name")  # a masking obligation for the header's name; absent or null: no name
    operator = name.get("operator") if isinstance(name, dict) else None
    if name is not None and operator not in OBLIGATION_OPERATORS:
        return deny((f"policy names an unknown masking operator {operator!r} for the header's name",), flags)
    obligation = MappingProxyType(dict(name)) if isinstance(name, dict) else MappingProxyType({})
    household = out.get("household", False)  # absent (an older policy): no household shown
    return HeaderDecision(
        True, out["risk_level"], out["responsible_helper"], out["groups"], reasons, flags, hashes, obligation, household
    ), True


def section_outcome(decision: SectionDecision) -> dict[str, Any]:
    """The recorded outcome of a section decision (compared on replay)."""
    return {
        "allow": decision.allow,
        "fields": dict(sorted(decision.fields.items())),
        "obligations": {k: dict(v) for k, v in sorted(decision.obligations.items())},
        "reasons": list(decision.reasons),
        "flags": list(decision.flags),
    }


def header_outcome(decision: HeaderDecision) -> dict[str, Any]:
    """The recorded outcome of a header decision (compared on replay)."""
    return {
        "allow": decision.allow,
        "name": dict(decision.name_obligation) or None,
        "risk_level": decision.risk_level,
        "responsible_helper": decision.responsible_helper,
        "groups": decision.groups,
        "household": decision.household,
        "reasons": list(decision.reasons),
        "flags": list(decision.flags),
    }


class PolicyDecisionPoint:
    """Holds the active compiled policy; decides; optionally records every decision."""

    def __init__(
        self,
        policy: CompiledPolicy,
        recorder: Recorder | None = None,
        memo_size: int = 50_000,
        verdict_size: int = 10_000,
    ) -> None:
        self._policy = policy
        self._recorder = recorder
        self._memo = DecisionMemo(memo_size) if memo_size > 0 else None
        # Finished decisions by their exact inputs (hub/policy/verdicts.py): about 2.7 KB
        # each, so a smaller bound than the Rego memo's; 0 keeps none.
        self._verdicts = DecisionMemo(verdict_size) if verdict_size > 0 else None
        self._swap = threading.Lock()

    def warm(self, recorded: Iterable[SectionInputs], policy: CompiledPolicy | None = None) -> int:
        """Fill the memo for ``policy`` (default: the active one) from recorded decision inputs.

        Called at start and before a new version is activated, with the inputs of the
        last recorded decisions, so the first requests after a restart or an approval
        do not all pay for a Rego evaluation. Nothing is recorded; the memo's hit and
        miss counters are left as they were. Returns the number of new memo entries.
        """
        if self._memo is None:
            return 0
        policy = policy or self._policy
        before, stats = len(self._memo), (self._memo.hits, self._memo.misses)
        for inputs in recorded:
            if inputs.kind == HEADER_KIND:
                evaluate_header(policy, inputs, self._memo)
            else:
                evaluate_section(policy, inputs, self._memo)
        self._memo.hits, self._memo.misses = stats
        return len(self._memo) - before

    @property
    def memo_stats(self) -> tuple[int, int]:
        """(hits, misses) of the Rego decision memo (misses: Rego evaluations)."""
        return (self._memo.hits, self._memo.misses) if self._memo is not None else (0, 0)

    @property
    def verdict_stats(self) -> tuple[int, int]:
        """(hits, misses) of the finished-decision memo (:mod:`hub.policy.verdicts`)."""
        return (self._verdicts.hits, self._verdicts.misses) if self._verdicts is not None else (0, 0)

    @property
    def policy(self) -> CompiledPolicy:
        """The active compiled version (read once per decision)."""
        return self._policy

    def activate(self, policy: CompiledPolicy) -> CompiledPolicy:
        """Atomically make ``policy`` active; returns the previous one. In-flight decisions are unaffected."""
        with self._swap:
            old, self._policy = self._policy, policy
        return old

    def _inputs(self, policy: CompiledPolicy, req: SectionRequest | HeaderRequest, kind: str) -> SectionInputs:
        s = req.subject
        if isinstance(req, SectionRequest):
            jur, groups = req.resource.person_jurisdiction, req.resource.groups
            extra = {
                "department": req.resource.department,
                "dataset": req.resource.dataset,
                "fields": tuple(req.resource.fields),
                "person_ref": req.resource.person_ref,
            }
        else:
            jur, groups, extra = req.person_jurisdiction, req.groups, {"person_ref": ""}
        return SectionInputs(
            kind=kind,
            request_id=req.request_id,
            user_id=s.user_id,
            subject_department=s.department,
            claimed_roles=tuple(sorted(set(s.roles))),
            assignments=narrowed(policy.casbin.index.covering(s.user_id, jur), s.jurisdictions, jur) if jur else (),
            purpose=req.purpose,
            justification_provided=req.justification_provided,
            person_jurisdiction=jur,
            groups=tuple(groups),
            time=req.context.time.isoformat(),
            emergency=req.context.emergency,
            **extra,
        )

    def _verdict(self, policy: CompiledPolicy, inputs: SectionInputs, memo_only: bool = False) -> Verdict:
        """The finished decision for ``inputs`` under ``policy``: remembered, or decided
        now (and remembered when it follows from the inputs alone; ``memo_only`` as for
        :func:`evaluate_section`, and a :class:`MemoMiss` leaves nothing remembered)."""
        verdicts = self._verdicts
        key = verdict_key(policy, inputs) if verdicts is not None else None
        if verdicts is not None:
            hit = verdicts.get(key)
            if hit is not UNDEFINED:
                return hit  # type: ignore[no-any-return]
        decision: SectionDecision | HeaderDecision
        if inputs.kind == HEADER_KIND:
            decision, stable = _evaluate_header(policy, inputs, self._memo, memo_only)
            outcome = header_outcome(decision)
        else:
            decision, stable = _evaluate_section(policy, inputs, self._memo, memo_only)
            outcome = section_outcome(decision)
        verdict = Verdict(decision, outcome, outcome_text(outcome))
        if verdicts is not None and stable:
            verdicts.put(key, verdict)
        return verdict

    def _header(
        self, policy: CompiledPolicy, header: HeaderRequest, memo_only: bool = False
    ) -> tuple[HeaderDecision, DecisionRecord]:
        """Decide the header; with its decision-log record."""
        inputs = self._inputs(policy, header, HEADER_KIND)
        verdict = self._verdict(policy, inputs, memo_only)
        head = verdict.decision
        assert isinstance(head, HeaderDecision)
        record = DecisionRecord(inputs, head.allow, verdict.outcome, policy.hash, policy.engine, verdict.outcome_json)
        return head, record

    def _record(self, records: list[DecisionRecord]) -> bool:
        if self._recorder is None:
            return True
        try:
            self._recorder(records)
            return True
        except Exception:
            log.exception("could not record %d policy decision(s)", len(records))
            return False

    def decide(self, request: SectionRequest) -> SectionDecision:
        return self.decide_many([request])[0]

    def decide_many(self, requests: Sequence[SectionRequest]) -> list[SectionDecision]:
        """Decide the sections of one profile on one policy version; records them together."""
        policy = self._policy
        records: list[DecisionRecord] = []
        decisions = [self._section(policy, req, records) for req in requests]
        if not self._record(records):
            return [SectionDecision.deny((_UNRECORDED,), (policy.hash,)) for _ in requests]
        return decisions

    def decide_profile(
        self, requests: Sequence[SectionRequest], header: HeaderRequest
    ) -> tuple[list[SectionDecision], HeaderDecision]:
        """A whole profile, sections and header, on one policy version and recorded as one
        batch (fail closed: nothing is allowed when the batch cannot be recorded)."""
        policy = self._policy
        head, record = self._header(policy, header)
        records = [record]
        decisions = [self._section(policy, req, records) for req in requests]
        if not self._record(records):
            denied = HeaderDecision(False, False, False, False, (_UNRECORDED,), (), (policy.hash,))
            return [SectionDecision.deny((_UNRECORDED,), (policy.hash,)) for _ in requests], denied
        return decisions, head

    def decide_profile_deferred(
        self, requests: Sequence[SectionRequest], header: HeaderRequest, *, memo_only: bool = False
    ) -> tuple[list[SectionDecision], HeaderDecision, Future[None]]:
        """:meth:`decide_profile` without waiting for the decision log: the records are
        queued and the returned future completes when they are committed (or fails).

        For a caller with other work to do before it uses the decisions (the profile
        records its fetch intent in the audit log meanwhile). The caller must wait for the
        future, and treat a failure as no decision at all, before any decision takes effect.
        ``memo_only`` (an event-loop caller): raise :class:`MemoMiss`, with nothing
        queued, when any decision would need a Rego evaluation.
        """
        policy = self._policy
        try:
            head, record = self._header(policy, header, memo_only)
            records = [record]
            decisions = [self._section(policy, req, records, memo_only) for req in requests]
        except MemoMiss:  # memo_only: raise again with every missing evaluation of the profile
            self._all_in_memo(policy, requests, header)
            raise
        if memo_only:  # logged once every section is decided (a MemoMiss above: decided again, logged then)
            for req, record, decision in zip(requests, records[1:], decisions, strict=True):
                _log_deny(req, record.inputs, decision)
        submit = getattr(self._recorder, "submit", None)
        if callable(submit):
            try:
                return decisions, head, submit(records)
            except Exception as exc:  # noqa: BLE001 - the future carries the failure to the caller
                log.exception("could not queue %d policy decision(s)", len(records))
                done: Future[None] = Future()
                done.set_exception(exc)
                return decisions, head, done
        done = Future()
        if self._record(records):
            done.set_result(None)
        else:
            done.set_exception(PolicyError(_UNRECORDED))
        return decisions, head, done

    def _all_in_memo(
        self, policy: CompiledPolicy, requests: Sequence[SectionRequest], header: HeaderRequest
    ) -> None:
        """Raise one :class:`MemoMiss` carrying every missing evaluation of the profile (the
        header's and each section's), so the caller fills them all in one hop off the loop.
        Only after a first miss: the hit path decides each section once."""
        fills: list[Callable[[], bool]] = []
        try:
            self._verdict(policy, self._inputs(policy, header, HEADER_KIND), memo_only=True)
        except MemoMiss as miss:
            fills.extend(miss.fills)
        for req in requests:
            try:
                self._verdict(policy, self._inputs(policy, req, SECTION), memo_only=True)
            except MemoMiss as miss:
                fills.extend(miss.fills)
        if fills:
            raise MemoMiss(f"{len(fills)} decision(s) of this profile not in the decision memo", tuple(fills))

    def _section(
        self, policy: CompiledPolicy, req: SectionRequest, records: list[DecisionRecord], memo_only: bool = False
    ) -> SectionDecision:
        """Decide one section; its decision-log record is appended to ``records``."""
        inputs = self._inputs(policy, req, SECTION)
        verdict = self._verdict(policy, inputs, memo_only)
        decision = verdict.decision
        assert isinstance(decision, SectionDecision)
        if not memo_only:
            _log_deny(req, inputs, decision)
        records.append(
            DecisionRecord(inputs, decision.allow, verdict.outcome, policy.hash, policy.engine, verdict.outcome_json)
        )
        return decision

    def decide_header(self, request: HeaderRequest) -> HeaderDecision:
        policy = self._policy
        decision, record = self._header(policy, request)
        if not self._record([record]):
            return HeaderDecision(False, False, False, False, (_UNRECORDED,), (), (policy.hash,))
        return decision
