"""Stable ids across runs: map a new clustering onto the previous one.

Each new cluster inherits the previous id held by most of its members, each
previous id going to at most one cluster (the one holding most of its members;
ties to the smaller id, then the smaller cluster key, so reruns are
deterministic). A cluster gathering members of several previous ids is a
*merge*; a previous id whose members end in several clusters is a *split*; both
are returned as events with before and after ids. Used for persons (members =
records) and households (members = persons).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Change:
    """A merge or split between two runs."""

    kind: str  # "merge" or "split"
    before: tuple[str, ...]
    after: tuple[str, ...]
    members: tuple[Hashable, ...]


def reconcile(
    clusters: Sequence[Sequence[Hashable]],
    previous: Mapping[Hashable, str],
    new_id: Callable[[], str],
) -> tuple[list[str], list[Change]]:
    """Ids for ``clusters`` (same order) and the merges/splits relative to ``previous``."""
    votes: list[Counter[str]] = [Counter(previous[m] for m in c if m in previous) for c in clusters]
    claims = sorted(
        ((count, old, idx) for idx, v in enumerate(votes) for old, count in v.items()),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    taken_old: set[str] = set()
    assigned: dict[int, str] = {}
    for _count, old, idx in claims:
        if old in taken_old or idx in assigned:
            continue
        assigned[idx] = old
        taken_old.add(old)
    ids = [assigned.get(idx) or new_id() for idx in range(len(clusters))]
    changes: list[Change] = []
    old_to_new: dict[str, set[str]] = defaultdict(set)
    for idx, v in enumerate(votes):
        for old in v:
            old_to_new[old].add(ids[idx])
        if len(v) > 1:
            changes.append(Change("merge", tuple(sorted(v)), (ids[idx],), tuple(clusters[idx])))
    for old, news in sorted(old_to_new.items()):
        if len(news) > 1:
            members = tuple(m for idx, c in enumerate(clusters) if ids[idx] in news for m in c)
            changes.append(Change("split", (old,), tuple(sorted(news)), members))
    return ids, changes
