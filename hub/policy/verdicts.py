"""Finished decisions by their exact inputs: the memo in front of the Rego memo.

The Rego memo (:mod:`hub.policy.memo`) saves the engine evaluation, but a hit still
pays for what surrounds it on every section of every profile: validating the input,
Casbin, building the Rego input and its canonical JSON key, and turning the output
into a :class:`SectionDecision` and its recorded outcome. Under profile load that
was about a tenth of the hub's event-loop CPU (docs/benchmarks.md, "Profile load",
2026-11-23 23:30). Callers repeat themselves: a grid worker asks about residents of
the same grid, for the same purpose, with the same token, section after section. So
the finished decision is kept too, keyed by everything it was computed from.

The key is every field of :class:`~hub.policy.decision_point.SectionInputs` except
the request id and the person reference, which no part of a decision reads (neither
the Rego input nor Casbin sees them), and except the request time when the version
never reads ``input.context.time`` (:mod:`hub.policy.input_reads`). Jurisdictions,
user id and role assignments stay exact: no abstraction is needed for the repeats
this memo is for, and an exact key needs no argument about what Casbin observes.
The policy hash and the engine name are in the key, so a new version or a
``with_assignments`` copy (same hash, and its assignments are in the inputs) is
correct without clearing anything. Only deterministic decisions are stored: a deny
caused by an engine error is not, so the next request asks the engine again.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.policy.compiled import CompiledPolicy
    from hub.policy.decision_point import SectionInputs
    from hub.policy.model import HeaderDecision, SectionDecision


@dataclass(frozen=True)
class Verdict:
    """A finished decision with what the decision log records of it.

    ``outcome`` is shared by every record made from this verdict and must not be
    changed; ``outcome_json`` is its canonical text as the decision log stores it.
    """

    decision: SectionDecision | HeaderDecision
    outcome: Mapping[str, Any]
    outcome_json: str


def verdict_key(policy: CompiledPolicy, inputs: SectionInputs) -> Hashable:
    """Everything a decision under ``policy`` can depend on (see the module docstring)."""
    return (
        policy.hash,
        policy.engine,
        inputs.kind,
        inputs.user_id,
        inputs.subject_department,
        inputs.claimed_roles,
        inputs.assignments,
        inputs.purpose,
        inputs.justification_provided,
        inputs.person_jurisdiction,
        inputs.groups,
        inputs.department,
        inputs.dataset,
        inputs.fields,
        inputs.emergency,
        inputs.time if policy.reads.time else "",
    )
