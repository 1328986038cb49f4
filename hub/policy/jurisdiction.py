"""Jurisdiction paths ``district/street/community/grid`` and scope containment.

A scope is a path prefix on whole segments: ``TH/S03`` covers ``TH/S03/C07/G05``
but not ``TH/S031/C01``. :class:`ScopeIndex` holds each user's (role, scope)
assignments so a containment check costs a dictionary lookup and at most a few
string comparisons, instead of Casbin's pattern-domain role manager, which copies
assignments per domain (measured in bench/policy_decision.py, docs/policy.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# One to four segments of letters, digits, '-' or '_' separated by '/'.
_PATH = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+){0,3}$")


def is_valid_path(path: str) -> bool:
    """True for a well-formed path of 1..4 segments (district[/street[/community[/grid]]])."""
    return bool(_PATH.match(path))


def within(path: str, scope: str) -> bool:
    """True when ``scope`` equals ``path`` or is an ancestor of it on whole segments."""
    if not path or not scope:
        return False
    return path == scope or path.startswith(scope + "/")


def narrowed(
    pairs: Iterable[tuple[str, str]], claimed: Iterable[str], path: str
) -> tuple[tuple[str, str], ...]:
    """The (role, scope) pairs covering ``path``, narrowed to the scopes a credential names.

    A caller acts within what the organisation assigned them (``pairs``, the policy
    store's role assignments covering ``path``) *and* within the jurisdictions their
    token names (``claimed``): the token can only narrow. When no claimed scope covers
    ``path`` nothing is left; otherwise each pair's scope becomes the narrower of its
    own and the widest claimed scope covering ``path`` (both are prefixes of ``path``,
    so one contains the other).
    """
    covering = [c for c in claimed if within(path, c)]
    if not covering:
        return ()
    widest = min(covering, key=len)
    return tuple(sorted({(r, s if len(s) >= len(widest) else widest) for r, s in pairs if within(path, s)}))


@dataclass(frozen=True)
class RoleAssignment:
    """A role granted to a user at a jurisdiction scope (a Casbin ``g`` rule)."""

    user_id: str
    role: str
    scope: str


class ScopeIndex:
    """Immutable index user -> ((role, scope), ...) built once per loaded rule set."""

    __slots__ = ("_by_user",)

    def __init__(self, assignments: Iterable[RoleAssignment]) -> None:
        by_user: dict[str, list[tuple[str, str]]] = {}
        for a in assignments:
            by_user.setdefault(a.user_id, []).append((a.role, a.scope))
        self._by_user: Mapping[str, tuple[tuple[str, str], ...]] = {
            u: tuple(sorted(set(v))) for u, v in by_user.items()
        }

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_user.values())

    def users(self) -> tuple[str, ...]:
        return tuple(self._by_user)

    def held(self, user_id: str) -> tuple[tuple[str, str], ...]:
        """Every (role, scope) the user holds."""
        return self._by_user.get(user_id, ())

    def covering(self, user_id: str, path: str) -> tuple[tuple[str, str], ...]:
        """The (role, scope) pairs of the user whose scope covers ``path``."""
        return tuple((r, s) for r, s in self._by_user.get(user_id, ()) if within(path, s))

    def has_role_within(self, user_id: str, role: str, path: str) -> bool:
        """Casbin matcher function: does the user hold ``role`` at a scope covering ``path``?"""
        for r, s in self._by_user.get(user_id, ()):
            if r == role and (path == s or path.startswith(s + "/")):
                return True
        return False


def relative_paths(person: str, scopes: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """The person's path and the scopes renamed so that only their prefix relations remain.

    Segment i of the person's path becomes ``J<i>``; a scope keeps the renamed segments
    it shares with the person's path, and a first differing segment becomes ``X``. Two
    inputs with the same renaming agree on every "is this scope an ancestor of (or
    equal to) the person's path" question, which is all a relational policy asks
    (hub/policy/input_reads.py), so they share a decision memo entry.
    """
    segments = person.split("/") if person else []
    canon = "/".join(f"J{i + 1}" for i in range(len(segments)))
    out = set()
    for scope in scopes:
        parts = scope.split("/") if scope else []
        shared = 0
        while shared < min(len(parts), len(segments)) and parts[shared] == segments[shared]:
            shared += 1
        renamed = [f"J{i + 1}" for i in range(shared)] + (["X"] if shared < len(parts) else [])
        out.add("/".join(renamed))
    return canon, tuple(sorted(out))
