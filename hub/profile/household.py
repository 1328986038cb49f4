"""What a household view fetches about each member, and nothing more.

GetHousehold lists each member the caller may see with a header (masked name, sex, age
band, risk level and helper where the policy allows) and the member's relationship to
the household head. Each member is decided and audited as a profile access of its own
(issue 7, "GetHousehold with the same pipeline"), but fetching the member's whole
profile to show one line would move, and record as accessed, data nobody is shown:
the hub fetches only what the caller may see *and* the answer uses (REQUIREMENTS.md 7,
DESIGN.md flow 3). :func:`household_plans` cuts a member's planned fetch down to the
fields of that line; the policy's decisions themselves are unchanged (and logged as
decided), only less is asked of the departments and recorded in the entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from types import MappingProxyType

from hub.policy.model import SectionDecision
from hub.profile.assembly import Assembly, DatasetPlan, DepartmentPlan

# The canonical field (adapters/examples: category household) naming a member's
# relationship to the household head.
RELATIONSHIP_FIELD = "relation_to_head"

# What one member's line is made of: the header's identity fields (masked name, sex, age
# band; ``hub.profile.assembly.profile_header``) and the relationship. The header's risk
# level and helper come through each dataset's ``header_fields``, as in a profile.
HOUSEHOLD_FIELDS = frozenset({"name", "sex", "birth_date", RELATIONSHIP_FIELD})


def household_plans(
    plans: Iterable[DepartmentPlan], wanted: frozenset[str] = HOUSEHOLD_FIELDS
) -> list[DepartmentPlan]:
    """The plans limited to ``wanted`` fields: each decision keeps only those fields (and
    its withheld ones among them); a dataset with nothing for the line is dropped, and so
    is a department left with no dataset. A department that could not be described stays,
    so its section still says it was unavailable."""
    limited: list[DepartmentPlan] = []
    for plan in plans:
        if plan.unavailable:
            limited.append(plan)
            continue
        datasets = [kept for d in plan.datasets if (kept := _limited(d, wanted)) is not None]
        if datasets:
            limited.append(DepartmentPlan(plan.department, datasets, plan.unavailable))
    return limited


def _limited(plan: DatasetPlan, wanted: frozenset[str]) -> DatasetPlan | None:
    """The dataset's plan with only ``wanted`` fields, or ``None`` when it has nothing for
    the line: an allowed dataset keeps the wanted fields it may show or withholds (and its
    header fields); a denied one is kept, as denied, when it declares a wanted field (the
    entry records the refusal) or has header fields to read."""
    decision = plan.decision
    if not decision.allow:
        declares = any(f.name in wanted for f in plan.spec.fields)
        return plan if declares or plan.header_fields else None
    fields = {k: v for k, v in decision.fields.items() if k in wanted}
    withheld = {k: v for k, v in decision.withheld.items() if k in wanted}
    if not fields and not withheld and not plan.header_fields:
        return None
    kept: SectionDecision = dataclasses.replace(
        decision,
        fields=MappingProxyType(fields),
        obligations=MappingProxyType({k: v for k, v in decision.obligations.items() if k in wanted}),
        withheld=MappingProxyType(withheld),
    )
    return dataclasses.replace(plan, decision=kept)


def relationship(assembly: Assembly) -> str:
    """The member's relationship to the head as the caller may see it: the first shown
    (possibly masked) ``relation_to_head`` value among the member's records, else ""."""
    for section in assembly.sections:
        for record in section.proto.records:
            for f in record.fields:
                shown = not f.withheld and f.value.WhichOneof("kind") == "string_value"
                if f.name == RELATIONSHIP_FIELD and shown:
                    return f.value.string_value
    return ""

