"""Alert kinds the hub knows, and the purpose under which alerts are delivered.

Kinds are the ``kind`` of the adapters' ``[[alerts]]`` rules (docs/alerts.md). A
WatchAlerts request may name only known kinds: the two of REQUIREMENTS.md 8 plus any
kind an adapter has reported since the hub started.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hub.alerts.errors import AlertError

MISSED_SESSIONS = "missed_sessions"
OVERDUE_VISIT = "overdue_visit"
BUILTIN_KINDS: frozenset[str] = frozenset({MISSED_SESSIONS, OVERDUE_VISIT})

# The policy purpose of an alert delivery: the follow-up visit an alert calls for is
# routine field work, and routine_visit is the one purpose every field role may state
# (policies/rego/authz.rego, role_purposes).
ALERT_PURPOSE = "routine_visit"
MAX_KINDS = 32


def check_kinds(requested: Sequence[str], known: Iterable[str]) -> frozenset[str]:
    """The requested kinds as a set (empty = all); AlertError names an unknown or malformed one."""
    known_set = frozenset(known)
    if len(requested) > MAX_KINDS:
        raise AlertError(f"kinds names {len(requested)} kinds; at most {MAX_KINDS}")
    for index, kind in enumerate(requested):
        if kind not in known_set:
            shown = kind if len(kind) <= 40 and kind.isprintable() else kind[:40].encode("unicode_escape").decode() + "..."
            raise AlertError(f"kinds[{index}]: unknown alert kind {shown!r} (known: {', '.join(sorted(known_set))})")
    return frozenset(requested)
