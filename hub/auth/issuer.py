"""Issue caller tokens: the stand-in for the organisation's identity provider.

``pingan token issue`` uses this so demos and tests can mint tokens the hub will
accept. A real deployment points ``[auth] jwks_file`` at the real provider's
exported keys instead and never runs this. Claims are checked with the same
rules the verifier applies, so an issued token is never one the hub rejects for
its shape.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.auth import claims as claim_checks
from hub.auth.caller import DEFAULT_KNOWN_ROLES
from hub.auth.errors import InvalidClaim

MAX_TTL = timedelta(hours=12)
_TTL_RE = re.compile(r"^(\d{1,6})([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(text: str, *, cap: timedelta = MAX_TTL) -> timedelta:
    """Parse ``90``, ``90s``, ``15m``, ``1h``; refuse zero and anything above ``cap``."""
    match = _TTL_RE.fullmatch(text.strip().lower())
    if not match:
        raise ValueError(f"TTL {text!r} is not a duration like 90s, 15m or 1h")
    ttl = timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    if ttl <= timedelta(0):
        raise ValueError("TTL must be positive")
    if ttl > cap:
        raise ValueError(
            f"TTL {text!r} exceeds the cap of {int(cap.total_seconds() // 3600)}h; caller tokens are short-lived"
        )
    return ttl


def issue_token(
    private_key: Ed25519PrivateKey,
    *,
    kid: str,
    issuer: str,
    audience: str,
    user_id: str,
    department: str,
    roles: Sequence[str],
    jurisdictions: Sequence[str],
    ttl: timedelta,
    known_roles: Collection[str] = DEFAULT_KNOWN_ROLES,
    now: datetime | None = None,
    token_id: str | None = None,
) -> str:
    """Sign an EdDSA caller token (RFC 7519 claims plus department, roles, jurisdictions)."""
    if not kid:
        raise InvalidClaim("a key id (kid) is required so the hub can find the verification key")
    if ttl <= timedelta(0) or ttl > MAX_TTL:
        raise InvalidClaim(f"ttl must be positive and at most {MAX_TTL}")
    issued = (now or datetime.now(tz=UTC)).replace(microsecond=0)
    payload = {
        "iss": issuer,
        "aud": audience,
        "sub": claim_checks.check_user_id(user_id),
        "department": claim_checks.check_department(department),
        "roles": list(claim_checks.check_roles(list(roles), frozenset(known_roles))),
        "jurisdictions": list(claim_checks.check_jurisdictions(list(jurisdictions))),
        "jti": claim_checks.check_token_id(token_id or uuid.uuid4().hex),
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(payload, private_key, algorithm="EdDSA", headers={"kid": kid, "typ": "JWT"})
