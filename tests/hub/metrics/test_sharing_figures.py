"""Sharing figures from a real audit log of known entries: every count, rate and filter exact.

DESIGN.md "Sharing rate": per (requesting, providing) department pair, (clear + masked) /
all sections; per jurisdiction; profile latency p50/p95 (issue 7, deliverable 4).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from audit.entry import AccessEntry, Caller, Outcome, Section
from audit.store import AuditLog
from hub.metrics.sharing import sharing_report

C, M, D, U = Outcome.CLEAR, Outcome.MASKED, Outcome.DENIED, Outcome.UNAVAILABLE


def _entry(n: int, day: int, department: str, place: str, latency_ms: int, *sections: tuple[str, Outcome]) -> AccessEntry:
    return AccessEntry(
        request_id=f"r-{n}",
        time=f"2026-11-{day:02d}T10:00:00Z",
        caller=Caller(f"u-{department}", department, ("grid_worker",)),
        purpose="routine_visit",
        person_id=f"p-{n}",
        sections=tuple(Section(d, o) for d, o in sections),
        latency_us=latency_ms * 1000,
        jurisdiction=place,
    )


ENTRIES = [
    _entry(1, 1, "grid_office", "TH/S03/C07/G05", 10, ("public_security", C), ("health", M), ("justice", D)),
    _entry(2, 2, "grid_office", "TH/S03/C01/G02", 30, ("public_security", U), ("health", D)),
    _entry(3, 3, "justice", "TH/S04/C02/G01", 50, ("justice", C)),
    _entry(4, 3, "grid_office", "TH/S04/C02/G01", 70),  # a fetch intent: no sections, no request counted
    _entry(5, 4, "grid_office", "TH/S04/C02/G01", 5, ("public_security", D)),  # a refusal, every section denied
    _entry(6, 4, "grid_office", "TH/S031/C01/G01", 20, ("public_security", C)),  # TH/S031 is not under TH/S03
]


BOUNDARY: dict[str, dt.datetime] = {}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> AuditLog:
    """Entries 1-3, then (after a recorded instant) entries 4-6: ``since``/``until`` filter
    on the time the log stored an entry."""
    path: Path = tmp_path_factory.mktemp("sharing") / "audit.db"
    log = AuditLog(f"sqlite:///{path}")
    log.append_many(ENTRIES[:3])
    time.sleep(0.01)
    BOUNDARY["t"] = dt.datetime.now(dt.timezone.utc)
    time.sleep(0.01)
    log.append_many(ENTRIES[3:])
    return log


def _pairs(report) -> dict[tuple[str, str], tuple[int, int, int, int, float]]:  # type: ignore[no-untyped-def]
    return {(p.requesting, p.providing): (p.clear, p.masked, p.denied, p.unavailable, round(p.rate, 4)) for p in report.pairs}


def test_every_pair_jurisdiction_and_latency_figure(log: AuditLog) -> None:
    report = sharing_report(log)
    assert _pairs(report) == {
        ("grid_office", "health"): (0, 1, 1, 0, 0.5),
        ("grid_office", "justice"): (0, 0, 1, 0, 0.0),
        ("grid_office", "public_security"): (2, 0, 1, 1, 0.5),
        ("justice", "justice"): (1, 0, 0, 0, 1.0),
    }
    assert {(j.jurisdiction, j.sections, j.shared) for j in report.jurisdictions} == {
        ("TH/S03", 5, 2),
        ("TH/S031", 1, 1),
        ("TH/S04", 2, 1),
    }
    assert report.requests == 5  # the intent has no sections
    # latencies 5, 10, 20, 30, 50 ms: nearest rank
    assert (report.latency_p50_ms, report.latency_p95_ms) == (20.0, 50.0)


def test_a_jurisdiction_keeps_whole_segments_only(log: AuditLog) -> None:
    report = sharing_report(log, jurisdiction="TH/S03")
    assert report.requests == 2
    assert _pairs(report) == {
        ("grid_office", "health"): (0, 1, 1, 0, 0.5),
        ("grid_office", "justice"): (0, 0, 1, 0, 0.0),
        ("grid_office", "public_security"): (1, 0, 0, 1, 0.5),
    }
    assert sharing_report(log, jurisdiction="TH/S0").requests == 0


def test_since_and_until_bound_the_entries(log: AuditLog) -> None:
    before = sharing_report(log, until=BOUNDARY["t"])
    assert before.requests == 3  # entries 1-3
    assert _pairs(before)[("justice", "justice")] == (1, 0, 0, 0, 1.0)
    after = sharing_report(log, since=BOUNDARY["t"])
    assert after.requests == 2  # entries 5 and 6 (4 is an intent)
    assert _pairs(after) == {("grid_office", "public_security"): (1, 0, 1, 0, 0.5)}
    assert (after.latency_p50_ms, after.latency_p95_ms) == (5.0, 20.0)  # latencies 5 and 20 ms


def test_scopes_keep_only_the_callers_jurisdictions(log: AuditLog) -> None:
    report = sharing_report(log, scopes=("TH/S04", "TH/S031"))
    assert report.requests == 3  # entries 3, 5 and 6; TH/S03 is not under TH/S031
    assert {j.jurisdiction for j in report.jurisdictions} == {"TH/S04", "TH/S031"}
    assert sharing_report(log, scopes=()).requests == 0
    assert sharing_report(log, scopes=None).requests == 5
