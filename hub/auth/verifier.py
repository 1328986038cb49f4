"""Verify a caller's JWT and turn it into a :class:`Caller` (issue 7, item 1).

RFC 7519 JWTs signed with EdDSA/Ed25519 (RFC 8037). The algorithm is pinned:
the header must say ``EdDSA`` and PyJWT is only offered ``EdDSA``, so ``none``
and the HS256-with-public-key confusion (RFC 8725 section 2.1, 3.1) cannot pass.
The key comes from the configured key set by ``kid``; issuer, audience, expiry,
not-before and issued-at are checked with a small leeway, and the token may not
live longer than ``max_lifetime_seconds`` (short-lived tokens only).

A caller sends the same token with every request until it expires, so a token
that verified is remembered (bounded LRU, keyed by the exact token text) and
answered without a second signature check, as long as it has not expired and
its ``kid`` still names the very key that verified it. Nothing else about a
verified token can change with time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.auth import claims as claim_checks
from hub.auth.caller import DEFAULT_KNOWN_ROLES, Caller
from hub.auth.errors import (
    AuthError,
    BadAlgorithm,
    BadSignature,
    InvalidClaim,
    MalformedToken,
    MissingClaim,
    TokenExpired,
    TokenNotYetValid,
    TokenTooLongLived,
    UnknownKey,
    WrongAudience,
    WrongIssuer,
)
from hub.auth.keyset import KeySet

if TYPE_CHECKING:
    from hub.config import AuthSection

ALGORITHM = "EdDSA"
MAX_TOKEN_BYTES = 8192
VERIFIED_TOKENS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class _Verified:
    """A token that passed every check: who it speaks for, and what could still void it."""

    caller: Caller
    key: Ed25519PublicKey
    kid: str
    expires: float


@dataclass(frozen=True, slots=True)
class VerifierSettings:
    """What a valid caller token looks like here (from ``[auth]`` in the hub config)."""

    issuer: str
    audience: str
    leeway_seconds: int = 30
    max_lifetime_seconds: int = 12 * 3600
    known_roles: tuple[str, ...] = DEFAULT_KNOWN_ROLES

    @classmethod
    def from_config(cls, auth: AuthSection) -> VerifierSettings:
        """From the ``[auth]`` section of the hub configuration."""
        return cls(
            issuer=auth.issuer,
            audience=auth.audience,
            leeway_seconds=auth.leeway_seconds,
            max_lifetime_seconds=auth.max_token_lifetime_seconds,
            known_roles=tuple(auth.known_roles),
        )


class TokenVerifier:
    """Checks tokens against a key set; stateless and safe to share between requests."""

    def __init__(self, settings: VerifierSettings, key_set: KeySet) -> None:
        self.settings = settings
        self.key_set = key_set
        self._known_roles: Collection[str] = frozenset(settings.known_roles)
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Caller:
        """Return the caller the token speaks for, or raise an :class:`AuthError` subclass."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
            raise MalformedToken(f"bearer token must be a JWT of at most {MAX_TOKEN_BYTES} characters")
        known = self._known(token)
        if known is not None:
            return known
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise MalformedToken("bearer token is not a well-formed JWT (header.payload.signature)") from None
        if header.get("alg") != ALGORITHM:
            raise BadAlgorithm("token must be signed with EdDSA (Ed25519); other algorithms are refused")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise UnknownKey("token header has no 'kid'; the identity provider must name its signing key")
        key = self.key_set.get(kid)
        if key is None:
            raise UnknownKey(
                "token is signed with a key this hub does not know; refresh the hub's JWKS file or get a new token"
            )
        s = self.settings
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                issuer=s.issuer,
                audience=s.audience,
                leeway=s.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise _translate(exc) from None
        caller = self._caller(payload)
        self._remember(token, _Verified(caller, key, kid, float(payload["exp"])))
        return caller

    def _known(self, token: str) -> Caller | None:
        """The caller of a token verified before, unless it expired or its key was removed or
        replaced since (then the full check runs and says why)."""
        with self._lock:
            hit = self._verified.get(token)
            if hit is None:
                return None
            if time.time() > hit.expires + self.settings.leeway_seconds or self.key_set.get(hit.kid) is not hit.key:
                del self._verified[token]
                return None
            self._verified.move_to_end(token)
            return hit.caller

    def _remember(self, token: str, verified: _Verified) -> None:
        with self._lock:
            self._verified[token] = verified
            if len(self._verified) > VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)

    def _caller(self, payload: dict[str, Any]) -> Caller:
        claim_checks.require(payload)
        iat, exp = payload["iat"], payload["exp"]
        if not isinstance(iat, int | float) or not isinstance(exp, int | float):
            raise InvalidClaim(
                "token claims 'iat' and 'exp' must be NumericDate numbers (RFC 7519 section 2)"
            )
        if exp - iat > self.settings.max_lifetime_seconds:
            raise TokenTooLongLived(
                f"token lives longer than {self.settings.max_lifetime_seconds} seconds; caller tokens must be short-lived"
            )
        return Caller(
            user_id=claim_checks.check_user_id(payload["sub"]),
            department=claim_checks.check_department(payload["department"]),
            roles=claim_checks.check_roles(payload["roles"], self._known_roles),
            jurisdictions=claim_checks.check_jurisdictions(payload["jurisdictions"]),
            token_id=claim_checks.check_token_id(payload["jti"]),
            expires_at=datetime.fromtimestamp(exp, tz=UTC),
        )


def _translate(exc: jwt.PyJWTError) -> AuthError:
    """Map PyJWT's exceptions to our reasons; order matters (subclasses first)."""
    if isinstance(exc, jwt.ExpiredSignatureError):
        return TokenExpired("token has expired; get a new one from the identity provider")
    if isinstance(exc, jwt.ImmatureSignatureError):
        return TokenNotYetValid("token is not valid yet (nbf/iat in the future); check the issuer's clock")
    if isinstance(exc, jwt.InvalidAudienceError):
        return WrongAudience("token was issued for another audience than this hub")
    if isinstance(exc, jwt.InvalidIssuerError):
        return WrongIssuer("token was issued by an issuer this hub does not trust")
    if isinstance(exc, jwt.InvalidSignatureError):
        return BadSignature("token signature does not verify; it was altered or signed with another key")
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return MissingClaim(
            f"token lacks required claim {exc.claim!r}; ask the identity provider for a full caller token"
        )
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return BadAlgorithm("token must be signed with EdDSA (Ed25519); other algorithms are refused")
    if isinstance(exc, jwt.InvalidIssuedAtError):
        return InvalidClaim("token claim 'iat' must be a NumericDate (RFC 7519 section 4.1.6)")
    if isinstance(exc, jwt.exceptions.InvalidSubjectError | jwt.exceptions.InvalidJTIError):
        return InvalidClaim("token claims 'sub' and 'jti' must be strings")
    if isinstance(exc, jwt.DecodeError):
        return MalformedToken("bearer token is not a well-formed JWT (header.payload.signature)")
    return MalformedToken("bearer token is not acceptable as a caller token")
