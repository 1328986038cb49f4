"""Helpers shared by the audit tests: entry factory (fixtures live in conftest.py)."""

from __future__ import annotations

import itertools
import threading
from typing import Any

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



def append_from_threads(appender: Any, threads: int, each: int, timeout: float = 60) -> list[int]:
    """``threads`` threads append ``each`` entries apiece through ``appender`` (a
    BatchingAppender) at once; the indices they got back, in no particular order."""
    indices: list[int] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        for i in range(each):
            r = appender.append(make_access(w * 100 + i), timeout=timeout)
            with lock:
                indices.append(r.index)

    started = [threading.Thread(target=worker, args=(w,)) for w in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return indices
