"""Helpers shared by the audit tests: entry factory (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools

from audit.entry import AccessEntry, Caller, Outcome, Section

ORIGIN = "pingan-test/audit"
_counter = itertools.count()


def make_access(i: int | None = None, *, person: str = "", department: str = "health", outcome: Outcome = Outcome.MASKED,
                user: str = "grid-1", purpose: str = "home_visit") -> AccessEntry:
    n = next(_counter) if i is None else i
    return AccessEntry(
        request_id=f"req-{n}",
        time="2026-11-22T08:00:00.000000Z",
        caller=Caller(user, "street_office", ("grid_worker",), f"jti-{n}", "10.0.0.1"),
        purpose=purpose,
        person_id=person or f"P-{n % 7}",
        sections=(Section(department, outcome, ("records",)),),
        latency_us=1000 + n,
    )

