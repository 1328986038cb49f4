"""An alert as the hub holds it: the department's alert resolved to a hub person.

Holds no personal data: the person is the hub's person id, the place is the
jurisdiction path (an administrative unit, never an address), and ``detail`` is the
department's template text (docs/alerts.md, "Privacy").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub.policy.model import HeaderDecision


@dataclass(frozen=True, slots=True)
class HubAlert:
    """One current alert of one department rule, with the person it concerns."""

    alert_id: str
    kind: str
    department: str
    dataset: str
    local_record_id: str
    severity: str
    detail: str
    raised_at: dt.datetime
    person_id: str
    jurisdiction: str
    groups: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VisibleAlert:
    """An alert a caller may receive, with the header decision that allowed it."""

    alert: HubAlert
    decision: HeaderDecision
    request_id: str
