"""Shape checks for the caller claims (issue 7, item 1).

Used both when verifying a token and when issuing one, so a token that the
stand-in identity provider issues is always one the hub accepts. Messages name
the claim but never repeat its value.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from audit.entry import refuse_raw_identifiers
from audit.errors import EntryError
from hub.auth.caller import IDENTIFIER_RE, JURISDICTION_RE, OPAQUE_ID_RE
from hub.auth.errors import InvalidClaim, MissingClaim, UnknownRole

#: Claims every caller token must carry (RFC 7519 section 4.1 plus ours).
REQUIRED_CLAIMS: tuple[str, ...] = (
    "iss",
    "aud",
    "sub",
    "iat",
    "exp",
    "jti",
    "department",
    "roles",
    "jurisdictions",
)

MAX_ROLES = 16
MAX_JURISDICTIONS = 32

#: Why an id holding a digit run is refused (user ids and request ids land in audit entries).
DIGIT_RUN_RULE = (
    "must not contain a digit run shaped like an ID number (15 or 18 digits) or a mobile number "
    "(11 digits starting 13-19), which the audit log refuses to store"
)


def holds_raw_identifier(text: str) -> bool:
    """Whether ``text`` holds a digit run the audit log refuses to store: an ID number or a
    mobile number standing between non-alphanumerics. The very rule the log applies to every
    entry's canonical bytes (audit/entry.py ``refuse_raw_identifiers``), so a user, token or
    request id that passes here never makes an audit append fail."""
    try:
        refuse_raw_identifiers(text.encode(), "id")
    except EntryError:
        return True
    return False


def check_user_id(value: Any) -> str:
    if not isinstance(value, str) or not OPAQUE_ID_RE.fullmatch(value):
        raise InvalidClaim("token claim 'sub' must be a user id of 1-128 letters, digits or ._:@-")
    if holds_raw_identifier(value):
        raise InvalidClaim(
            f"token claim 'sub' (user id) {DIGIT_RUN_RULE}; use a staff number or account name, "
            "not a phone or ID number"
        )
    return value


def check_token_id(value: Any) -> str:
    if not isinstance(value, str) or not OPAQUE_ID_RE.fullmatch(value):
        raise InvalidClaim("token claim 'jti' must be a token id of 1-128 letters, digits or ._:@-")
    if holds_raw_identifier(value):
        raise InvalidClaim(f"token claim 'jti' (token id) {DIGIT_RUN_RULE}; use a UUID")
    return value


def check_department(value: Any) -> str:
    if not isinstance(value, str) or not IDENTIFIER_RE.fullmatch(value):
        raise InvalidClaim("token claim 'department' must be a lower-case identifier such as 'justice'")
    return value


def check_roles(value: Any, known_roles: Collection[str]) -> tuple[str, ...]:
    roles = _string_list("roles", value, MAX_ROLES)
    unknown = [r for r in roles if r not in known_roles]
    if unknown:
        # Role names are not personal data; naming them tells the caller what to fix.
        shown = ", ".join(repr(r) for r in unknown[:3] if IDENTIFIER_RE.fullmatch(r)) or "(not an identifier)"
        raise UnknownRole(
            f"token claim 'roles' has unknown role(s) {shown}; known roles: {', '.join(sorted(known_roles))}"
        )
    return roles


def check_jurisdictions(value: Any) -> tuple[str, ...]:
    """Scopes as path prefixes; may be empty (an auditor or policy owner has no territory)."""
    paths = _string_list("jurisdictions", value, MAX_JURISDICTIONS, allow_empty=True)
    for path in paths:
        if not JURISDICTION_RE.fullmatch(path):
            raise InvalidClaim(
                "token claim 'jurisdictions' must hold paths like 'TH/S03/C07/G05' "
                "(1-4 upper-case segments of letters and digits separated by '/')"
            )
    return paths


def require(claims: dict[str, Any], names: Sequence[str] = REQUIRED_CLAIMS) -> None:
    missing = [n for n in names if n not in claims]
    if missing:
        raise MissingClaim(
            f"token lacks required claim(s): {', '.join(missing)}; ask the identity provider for a full caller token"
        )


def _string_list(name: str, value: Any, limit: int, *, allow_empty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidClaim(f"token claim {name!r} must be a list of strings")
    if not value and not allow_empty:
        raise InvalidClaim(f"token claim {name!r} must not be empty")
    if len(value) > limit:
        raise InvalidClaim(f"token claim {name!r} holds more than {limit} entries")
    if len(set(value)) != len(value):
        raise InvalidClaim(f"token claim {name!r} repeats an entry")
    return tuple(value)
