"""Sharing rate per (requesting, providing) department pair, from the audit log only.

DESIGN.md "Sharing rate": for every profile request and every department holding
records on the person, the section outcome is clear, masked, denied or
unavailable; the rate of a pair is (clear + masked) / all. Nothing here is typed
in: the figures are recomputed from the stored access entries each time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from audit.entry import AccessEntry, Outcome
from audit.store import AuditLog, EntryFilter
from hub.policy.jurisdiction import is_valid_path

PAGE = 2000
MAX_JURISDICTION_FILTER = 256


def jurisdiction_filter(text: str) -> str:
    """A jurisdiction filter as the SharingStats RPC and ``pingan stats sharing`` read it:
    surrounding spaces and slashes dropped, then a path such as TH/S03 or nothing (all).

    Raises ValueError, saying what is expected (the caller names its field or option).
    """
    wanted = text.strip().strip("/")
    if wanted and (len(wanted) > MAX_JURISDICTION_FILTER or not is_valid_path(wanted)):
        raise ValueError(
            "expected a path such as TH/S03 (1-4 segments of letters, digits, '-' or '_'; "
            f"at most {MAX_JURISDICTION_FILTER} characters)"
        )
    return wanted


@dataclass(frozen=True, slots=True)
class PairStats:
    requesting: str
    providing: str
    clear: int
    masked: int
    denied: int
    unavailable: int

    @property
    def total(self) -> int:
        return self.clear + self.masked + self.denied + self.unavailable

    @property
    def rate(self) -> float:
        return (self.clear + self.masked) / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class JurisdictionStats:
    jurisdiction: str
    sections: int
    shared: int

    @property
    def rate(self) -> float:
        return self.shared / self.sections if self.sections else 0.0


@dataclass(frozen=True, slots=True)
class SharingReport:
    pairs: tuple[PairStats, ...]
    jurisdictions: tuple[JurisdictionStats, ...]
    requests: int
    latency_p50_ms: float
    latency_p95_ms: float


def access_entries(
    log: AuditLog, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> Iterator[AccessEntry]:
    """Every access entry in [since, until), in log order, read page by page."""
    flt = EntryFilter(
        kind="access",
        since_us=int(since.timestamp() * 1_000_000) if since else None,
        until_us=int(until.timestamp() * 1_000_000) if until else None,
    )
    start = 0
    while True:
        page = log.query(flt, from_index=start, limit=PAGE)
        if not page:
            return
        for stored in page:
            entry = stored.decode().entry
            if isinstance(entry, AccessEntry):
                yield entry
        start = page[-1].index + 1


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1))))
    return sorted_values[rank]


def compute(
    entries: Iterable[AccessEntry],
    *,
    jurisdiction: str = "",
    level: int = 2,
    scopes: tuple[str, ...] | None = None,
) -> SharingReport:
    """Aggregate entries; ``jurisdiction`` keeps persons under that path prefix, ``scopes``
    (None: all) persons under one of those (the asking caller's jurisdictions); per-jurisdiction
    rows are grouped at ``level`` path segments (2 = district/street)."""
    counts: dict[tuple[str, str], Counter[Outcome]] = defaultdict(Counter)
    by_place: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    latencies: list[float] = []
    requests = 0
    prefix = jurisdiction.strip("/")
    for entry in entries:
        place = entry.jurisdiction
        if prefix and not (place == prefix or place.startswith(prefix + "/")):
            continue
        if scopes is not None and not any(place == s or place.startswith(s + "/") for s in scopes):
            continue
        if not entry.sections:
            continue
        requests += 1
        latencies.append(entry.latency_us / 1000.0)
        key_place = "/".join(place.split("/")[:level]) if place else "(unknown)"
        for section in entry.sections:
            counts[(entry.caller.department, section.department)][section.outcome] += 1
            by_place[key_place][0] += 1
            if section.outcome in (Outcome.CLEAR, Outcome.MASKED):
                by_place[key_place][1] += 1
    pairs = tuple(
        PairStats(
            req,
            prov,
            c[Outcome.CLEAR],
            c[Outcome.MASKED],
            c[Outcome.DENIED],
            c[Outcome.UNAVAILABLE],
        )
        for (req, prov), c in sorted(counts.items())
    )
    places = tuple(JurisdictionStats(p, n, s) for p, (n, s) in sorted(by_place.items()))
    latencies.sort()
    return SharingReport(pairs, places, requests, _percentile(latencies, 0.5), _percentile(latencies, 0.95))


def sharing_report(
    log: AuditLog,
    *,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    jurisdiction: str = "",
    scopes: tuple[str, ...] | None = None,
) -> SharingReport:
    return compute(access_entries(log, since=since, until=until), jurisdiction=jurisdiction, scopes=scopes)
