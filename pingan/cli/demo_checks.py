"""What each step of `pingan demo` claims, and the comparison of a step's real result
with it (issue 7 "The full demo"; docs/demo.md).

Each claim is a small frozen expectation (a gRPC status, per-department section
outcomes, header flags, fields in clear, a verified log, a non-empty sharing table);
each ``check_*`` returns the :class:`Mismatch` es, never raises and never asserts (the
checks must still run under ``python -O``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from pingan.v1 import common_pb2, profile_pb2

if TYPE_CHECKING:
    from audit.verify import VerifyReport

SERVED = frozenset({common_pb2.SECTION_OUTCOME_CLEAR, common_pb2.SECTION_OUTCOME_MASKED})
UNAVAILABLE = frozenset({common_pb2.SECTION_OUTCOME_UNAVAILABLE})
FREE_TEXT_OPERATOR = "pii_free_text"  # hub.masking.obligation.FREE_TEXT_OPERATOR: PII found in free text, masked
BREAK_GLASS_FLAG = "break_glass_review"
DOWN_DEPARTMENT = "health"  # the department stopped in step 8


# -- what each step claims ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """One way a step's result differs from what the story says."""

    step: str
    expected: str
    got: str

    def line(self) -> str:
        return f"step {self.step}: expected {self.expected}, got {self.got}"


@dataclass(frozen=True)
class StatusExpectation:
    """A call that must end with one gRPC status (step 2: what the adapters refuse)."""

    step: str
    claim: str
    code: grpc.StatusCode


@dataclass(frozen=True)
class LinkageExpectation:
    """Linkage pulled encodings from every department and resolved them into persons."""

    step: str
    claim: str
    departments: tuple[str, ...]


@dataclass(frozen=True)
class SectionExpectation:
    """``department``'s section is present with one of ``outcomes`` (common_pb2.SectionOutcome values)."""

    department: str
    outcomes: frozenset[int]


@dataclass(frozen=True)
class ClearFields:
    """Every ``category`` field in ``department``'s section is shown as stored (no masking operator,
    not withheld) except free text, which may carry ``allowed_operators`` (PII found in it masked);
    at least one such field is shown in clear."""

    department: str
    category: int
    allowed_operators: frozenset[str] = frozenset({FREE_TEXT_OPERATOR})


@dataclass(frozen=True)
class ProfileExpectation:
    """What one scripted GetPersonProfile call must give for the story to be true."""

    step: str
    claim: str
    code: grpc.StatusCode = grpc.StatusCode.OK
    person_id: str = ""  # the profile is of this person (when served)
    sections: tuple[SectionExpectation, ...] = ()  # these departments' sections, with these outcomes
    forbidden_outcomes: frozenset[int] = frozenset()  # no other section may have one of these
    min_served: int = 0  # at least this many sections shown (clear or masked)
    masked_fields: bool = False  # at least one field carries a masking operator or is withheld
    flags: frozenset[str] = frozenset()  # header flags that must be set
    forbidden_flags: frozenset[str] = frozenset()  # header flags that must not be set
    groups: frozenset[int] = frozenset()  # sensitive groups the header must name
    clear: ClearFields | None = None


@dataclass(frozen=True)
class AuditExpectation:
    """The auditor's export verifies offline and covers every access the story made."""

    step: str
    claim: str
    min_entries: int  # entries [0, min_entries) must be in the verified range (the story's receipts)
    min_checkpoints: int = 1


@dataclass(frozen=True)
class SharingExpectation:
    """The sharing table is not empty and shows what the story did."""

    step: str
    claim: str
    min_requests: int  # profile requests counted from the log
    unavailable_from: tuple[str, ...] = ()  # providing departments whose outage the table must show
    denials: bool = False  # some section counted as denied


def profile_expectations(*, home: str, other: str, corrections: str) -> dict[str, ProfileExpectation]:
    """What the story's profile steps (4-8) must give, by step; the arguments are the hub person ids of
    the grid worker's resident, the resident of another grid and the community-corrections subject."""
    up = frozenset({common_pb2.SECTION_OUTCOME_UNAVAILABLE})  # no other department is down
    expectations = [
        ProfileExpectation(
            "4 own-grid",
            "the grid worker gets the profile of a resident of their grid, masked where the policy says",
            person_id=home,
            min_served=1,
            forbidden_outcomes=up,
            masked_fields=True,
            forbidden_flags=frozenset({BREAK_GLASS_FLAG}),
        ),
        ProfileExpectation(
            "5 other-grid",
            "a resident of another grid is denied",
            code=grpc.StatusCode.PERMISSION_DENIED,
        ),
        ProfileExpectation(
            "6 corrections",
            f"the justice corrections section in clear (free text: PII masked by {FREE_TEXT_OPERATOR})",
            person_id=corrections,
            sections=(SectionExpectation("justice", SERVED),),
            forbidden_outcomes=up,
            groups=frozenset({common_pb2.SENSITIVE_GROUP_COMMUNITY_CORRECTIONS}),
            clear=ClearFields("justice", common_pb2.CATEGORY_CORRECTIONS),
        ),
        ProfileExpectation(
            "7 break-glass",
            f"the emergency request is granted and flagged {BREAK_GLASS_FLAG}",
            person_id=other,
            min_served=1,
            forbidden_outcomes=up,
            flags=frozenset({BREAK_GLASS_FLAG}),
        ),
        ProfileExpectation(
            "8 department-down",
            f"the {DOWN_DEPARTMENT} section is unavailable and the profile still served",
            person_id=home,
            sections=(SectionExpectation(DOWN_DEPARTMENT, UNAVAILABLE),),
            forbidden_outcomes=up,
            min_served=1,
        ),
    ]
    return {e.step: e for e in expectations}


def audit_expectation(receipts: Sequence[int]) -> AuditExpectation:
    """Step 9: the export verifies and covers the audit entries of the story's served profiles."""
    return AuditExpectation(
        "9 audit",
        "the auditor verifies the log offline, every access of the story in it",
        min_entries=max(receipts, default=-1) + 1,
    )


def sharing_expectation(profile_calls: int) -> SharingExpectation:
    """Step 10: the table counts the story's requests, the outage of step 8 and the denial of step 5."""
    return SharingExpectation(
        "10 sharing",
        "a sharing table of the story's requests, the outage and the denial counted",
        min_requests=profile_calls,
        unavailable_from=(DOWN_DEPARTMENT,),
        denials=True,
    )


def status_of(result: Any) -> grpc.StatusCode:
    """The gRPC status of a call's result: its error's code, or OK for a response."""
    return result.code() if isinstance(result, grpc.RpcError) else grpc.StatusCode.OK


def outcome_name(outcome: int) -> str:
    return common_pb2.SectionOutcome.Name(outcome).removeprefix("SECTION_OUTCOME_").lower()


def outcome_names(outcomes: Iterable[int]) -> str:
    return " or ".join(sorted(outcome_name(o) for o in outcomes))


def category_name(category: int) -> str:
    return common_pb2.Category.Name(category).removeprefix("CATEGORY_").lower()


def describe(result: Any) -> str:
    """A one-line account of a profile call's result, for check lines."""
    if isinstance(result, grpc.RpcError):
        return f"{result.code().name}: {result.details() or ''}".rstrip(": ")
    sections = ", ".join(f"{s.department} {outcome_name(s.outcome)}" for s in result.sections) or "no sections"
    flags = ", ".join(result.header.flags) or "none"
    return f"OK: profile {result.header.person_id or '?'} ({sections}; flags {flags})"


def check_status(expectation: StatusExpectation, code: grpc.StatusCode, where: str = "") -> list[Mismatch]:
    if code == expectation.code:
        return []
    prefix = f"{where}: " if where else ""
    return [Mismatch(expectation.step, f"{prefix}{expectation.code.name}", f"{prefix}{code.name}")]


def check_linkage(expectation: LinkageExpectation, report: Any) -> list[Mismatch]:
    step, found = expectation.step, []
    for failure in report.failures:
        found.append(Mismatch(step, "every department pulled", f"a failed pull: {failure}"))
    pulled = {p.department: p for p in report.pulls}
    for department in expectation.departments:
        pull = pulled.get(department)
        if pull is None or pull.records == 0 or pull.rejected:
            got = "no pull" if pull is None else pull.rejected or "0 records"
            found.append(Mismatch(step, f"records pulled from {department}", got))
    summary = report.summary
    if summary is None or summary.persons == 0:
        got = "no resolution" if summary is None else "0 persons"
        found.append(Mismatch(step, "records resolved into persons", got))
    return found


def check_profile(expectation: ProfileExpectation, result: Any) -> list[Mismatch]:
    """Compare one GetPersonProfile result (response, or the call's grpc.RpcError) with ``expectation``."""
    step, code = expectation.step, status_of(result)
    if code != expectation.code:
        return [Mismatch(step, expectation.code.name, describe(result))]
    if isinstance(result, grpc.RpcError):
        return []  # the expected refusal
    found: list[Mismatch] = []
    header = result.header
    if expectation.person_id and header.person_id != expectation.person_id:
        found.append(Mismatch(step, f"the profile of {expectation.person_id}", f"the profile of {header.person_id}"))
    outcomes = {s.department: s for s in result.sections}
    for wanted in expectation.sections:
        section = outcomes.get(wanted.department)
        if section is None:
            found.append(
                Mismatch(step, f"a {wanted.department} section ({outcome_names(wanted.outcomes)})", "no such section")
            )
        elif section.outcome not in wanted.outcomes:
            reason = f" ({section.reason})" if section.reason else ""
            found.append(
                Mismatch(
                    step,
                    f"{wanted.department} section {outcome_names(wanted.outcomes)}",
                    f"{wanted.department} section {outcome_name(section.outcome)}{reason}",
                )
            )
    named = {w.department for w in expectation.sections}
    for section in result.sections:
        if section.department not in named and section.outcome in expectation.forbidden_outcomes:
            reason = f" ({section.reason})" if section.reason else ""
            found.append(
                Mismatch(
                    step,
                    f"no section {outcome_names(expectation.forbidden_outcomes)}",
                    f"{section.department} section {outcome_name(section.outcome)}{reason}",
                )
            )
    served = sum(1 for s in result.sections if s.outcome in SERVED)
    if served < expectation.min_served:
        found.append(
            Mismatch(step, f"at least {expectation.min_served} section(s) served (clear or masked)", describe(result))
        )
    if expectation.masked_fields and not any(
        f.masking_operator or f.withheld for s in result.sections for r in s.records for f in r.fields
    ):
        found.append(Mismatch(step, "fields masked where the policy says", "every field shown in clear"))
    flags = set(header.flags)
    for flag in sorted(expectation.flags - flags):
        found.append(Mismatch(step, f"the header flagged {flag}", f"flags {', '.join(sorted(flags)) or 'none'}"))
    for flag in sorted(expectation.forbidden_flags & flags):
        found.append(Mismatch(step, f"no {flag} flag", f"flags {', '.join(sorted(flags))}"))
    groups = set(header.groups)
    for group in sorted(expectation.groups - groups):
        name = common_pb2.SensitiveGroup.Name(group)
        found.append(Mismatch(step, f"the header naming {name}", f"groups {sorted(groups) or 'none'}"))
    if expectation.clear is not None:
        found += _check_clear(step, expectation.clear, result)
    return found


def _check_clear(step: str, clear: ClearFields, result: profile_pb2.GetPersonProfileResponse) -> list[Mismatch]:
    what = f"{clear.department} {category_name(clear.category)} fields"
    fields = category_fields(result, clear)
    if not fields:
        return [Mismatch(step, f"{what} shown in clear", "no such field in the profile")]
    hidden = [
        f for f in fields if f.withheld or (f.masking_operator and f.masking_operator not in clear.allowed_operators)
    ]
    if hidden:
        got = ", ".join(sorted({f"{f.name} {'withheld' if f.withheld else f.masking_operator}" for f in hidden}))
        return [Mismatch(step, f"{what} shown in clear", got)]
    if not any(not f.masking_operator for f in fields):
        return [Mismatch(step, f"{what} shown in clear", f"every one masked ({FREE_TEXT_OPERATOR})")]
    return []


def category_fields(result: profile_pb2.GetPersonProfileResponse, clear: ClearFields) -> list[common_pb2.Field]:
    return [
        f
        for s in result.sections
        if s.department == clear.department
        for r in s.records
        for f in r.fields
        if f.classification.category == clear.category
    ]


def check_audit(
    expectation: AuditExpectation, outcome: VerifyReport | BaseException, tree_size: int
) -> list[Mismatch]:
    """``outcome``: the offline verifier's report, or the error that stopped the export or its verification."""
    step = expectation.step
    if isinstance(outcome, BaseException):
        got = describe(outcome) if isinstance(outcome, grpc.RpcError) else f"{type(outcome).__name__}: {outcome}"
        return [Mismatch(step, "the exported log verified offline", got)]
    found = []
    covered = max(expectation.min_entries, tree_size)
    if outcome.to_index < covered:
        found.append(
            Mismatch(
                step,
                f"entries [0, {covered}) verified (every access of the story, the latest checkpoint)",
                f"entries [{outcome.from_index}, {outcome.to_index}) verified",
            )
        )
    if outcome.checkpoints < expectation.min_checkpoints:
        found.append(
            Mismatch(step, f"at least {expectation.min_checkpoints} signed checkpoint(s)", f"{outcome.checkpoints}")
        )
    return found


def check_sharing(expectation: SharingExpectation, result: Any) -> list[Mismatch]:
    """Compare a SharingStats result (response, or the call's grpc.RpcError) with ``expectation``."""
    step = expectation.step
    if isinstance(result, grpc.RpcError):
        return [Mismatch(step, "OK: a sharing table", describe(result))]
    if not result.pairs:
        return [Mismatch(step, "a sharing table with department pairs", "an empty table")]
    found = []
    if result.requests < expectation.min_requests:
        found.append(
            Mismatch(step, f"at least {expectation.min_requests} profile requests counted", f"{result.requests}")
        )
    for department in expectation.unavailable_from:
        if not any(p.providing_department == department and p.unavailable for p in result.pairs):
            found.append(Mismatch(step, f"{department} counted unavailable", f"no unavailable {department} section"))
    if expectation.denials and not any(p.denied for p in result.pairs):
        found.append(Mismatch(step, "the denied request counted as denied", "no denied section"))
    return found
