"""Who is asking: the authenticated caller, built from a verified token only.

Roles and jurisdictions come from the token, never from request fields
(issue 7, item 1), so a caller cannot widen their own scope.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

#: Roles the hub knows by default; configurable through ``[auth] known_roles``.
DEFAULT_KNOWN_ROLES: tuple[str, ...] = (
    "grid_worker",
    "community_police",
    "street_officer",
    "justice_officer",
    "civil_affairs_worker",
    "health_worker",
    "hr_worker",
    "social_worker",
    "department_system",
    "auditor",
    "policy_owner",
)

# Apply these with fullmatch. They end in \Z, not $ ($ also matches before a trailing
# newline), so even a plain match cannot take "justice\n" for "justice".

#: ``district/street/community/grid``, e.g. ``TH/S03/C07/G05`` (DESIGN.md, Jurisdiction).
JURISDICTION_RE = re.compile(r"^[A-Z0-9]{1,16}(/[A-Z0-9]{1,16}){0,3}\Z")

#: Department and role names: lower-case identifiers such as ``justice``.
IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")

#: User and token ids: printable, no whitespace, bounded (and, hub.auth.claims, no digit run
#: shaped like an ID or phone number).
OPAQUE_ID_RE = re.compile(r"^[A-Za-z0-9._:@\-]{1,128}\Z")


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated person or department system, as stated by a verified token."""

    user_id: str
    department: str
    roles: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    token_id: str
    expires_at: datetime

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def covers(self, jurisdiction: str) -> bool:
        """Is ``jurisdiction`` inside one of the caller's scopes (path-prefix match)?"""
        return any(
            jurisdiction == scope or jurisdiction.startswith(scope + "/") for scope in self.jurisdictions
        )
