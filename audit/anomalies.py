"""Callers whose use of the hub stands out against their peers (issue 8, abuse detection).

For every caller the log shows four measures over a period: request volume, the
share of requests refused for being outside the caller's jurisdiction, the share
made at night (local time), and the share made under break glass. A caller is
compared with the callers holding the same primary role (their peers) by the
modified z-score of Iglewicz and Hoaglin (1993): 0.6745 * (x - median) / MAD, and
reported when it exceeds the threshold (3.5 by their recommendation) and the
measure is not trivially small. Each finding carries the indexes of the entries
behind it, so an auditor can read them (``pingan audit query``). Findings inform a
human reviewer; they decide nothing.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from audit.entry import AccessEntry, LoggedEntry, Outcome, parse_rfc3339

MEASURES = ("volume", "out_of_jurisdiction", "night", "break_glass")
# A measure is only reported above these floors (a single night request is no pattern).
MIN_VOLUME = 20
MIN_SHARE_EVENTS = 3
MAX_ENTRIES_PER_FINDING = 50


@dataclass(frozen=True, slots=True)
class Finding:
    """One caller, one measure that stands out against the peers."""

    caller: str
    role: str
    measure: str
    value: float
    peer_median: float
    score: float
    peers: int
    entries: tuple[int, ...]


@dataclass(slots=True)
class _Usage:
    role: str
    requests: list[int] = field(default_factory=list)
    out_of_jurisdiction: list[int] = field(default_factory=list)
    night: list[int] = field(default_factory=list)
    break_glass: list[int] = field(default_factory=list)

    def value(self, measure: str) -> float:
        if measure == "volume":
            return float(len(self.requests))
        return len(getattr(self, measure)) / len(self.requests) if self.requests else 0.0

    def evidence(self, measure: str) -> list[int]:
        return self.requests if measure == "volume" else getattr(self, measure)


def _is_out_of_jurisdiction(entry: AccessEntry) -> bool:
    if "out_of_jurisdiction" in entry.flags:
        return True
    return bool(entry.sections) and all(
        s.outcome is Outcome.DENIED and "jurisdiction" in s.reason for s in entry.sections
    )


def _is_night(entry: AccessEntry, tz: dt.tzinfo, night: tuple[int, int]) -> bool:
    hour = parse_rfc3339(entry.time).astimezone(tz).hour
    start, end = night
    return hour >= start or hour < end if start > end else start <= hour < end


def _usage(entries: Iterable[LoggedEntry], tz: dt.tzinfo, night: tuple[int, int]) -> dict[str, _Usage]:
    usage: dict[str, _Usage] = {}
    for logged in entries:
        entry = logged.entry
        if not isinstance(entry, AccessEntry) or not entry.caller.user or "fetch_intent" in entry.flags:
            continue  # an intent entry precedes the access entry of the same request
        u = usage.setdefault(entry.caller.user, _Usage(entry.caller.roles[0] if entry.caller.roles else ""))
        u.requests.append(logged.index)
        if _is_out_of_jurisdiction(entry):
            u.out_of_jurisdiction.append(logged.index)
        if _is_night(entry, tz, night):
            u.night.append(logged.index)
        if entry.purpose == "emergency" or "break_glass_review" in entry.flags:
            u.break_glass.append(logged.index)
    return usage


def _modified_z(value: float, values: Sequence[float]) -> tuple[float, float]:
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    if mad == 0:
        # Most peers identical: any excess counts fully, scaled by the typical spread
        # (mean absolute deviation) so one odd peer does not make everything infinite.
        mean_dev = statistics.fmean(abs(v - median) for v in values) or 1.0
        return median, (value - median) / (1.253314 * mean_dev)
    return median, 0.6745 * (value - median) / mad


def find_anomalies(
    entries: Iterable[LoggedEntry],
    *,
    tz: dt.tzinfo = dt.timezone(dt.timedelta(hours=8)),
    night: tuple[int, int] = (22, 6),
    threshold: float = 3.5,
) -> list[Finding]:
    """Findings, highest score first. ``night`` is [start, end) in local hours."""
    usage = _usage(entries, tz, night)
    by_role: dict[str, list[str]] = defaultdict(list)
    for caller, u in usage.items():
        by_role[u.role].append(caller)
    findings = []
    for role, callers in by_role.items():
        if len(callers) < 3:
            continue  # no peer group to stand out against
        for measure in MEASURES:
            values = [usage[c].value(measure) for c in callers]
            for caller, value in zip(callers, values, strict=True):
                u = usage[caller]
                evidence = u.evidence(measure)
                if measure == "volume" and value < MIN_VOLUME:
                    continue
                if measure != "volume" and len(evidence) < MIN_SHARE_EVENTS:
                    continue
                median, score = _modified_z(value, values)
                if score > threshold:
                    findings.append(
                        Finding(
                            caller,
                            role,
                            measure,
                            value,
                            median,
                            round(score, 2),
                            len(callers),
                            tuple(evidence[:MAX_ENTRIES_PER_FINDING]),
                        )
                    )
    return sorted(findings, key=lambda f: (-f.score, f.caller, f.measure))
