"""Caller identity: verify short-lived EdDSA JWTs and turn them into a :class:`Caller`.

Also the per-caller rate limiter and request-id replay guard used on the hub's
front door (issues 7 and 8). Roles and jurisdictions come from the token only.
"""

from hub.auth.bearer import BearerAuthenticator, authenticate, bearer_token, status_for
from hub.auth.caller import DEFAULT_KNOWN_ROLES, Caller
from hub.auth.errors import AuthError, KeySetError
from hub.auth.keyset import KeySet, load_key_set
from hub.auth.ratelimit import RateLimiter
from hub.auth.replay import ReplayGuard
from hub.auth.verifier import TokenVerifier, VerifierSettings

__all__ = [
    "DEFAULT_KNOWN_ROLES",
    "AuthError",
    "BearerAuthenticator",
    "Caller",
    "KeySet",
    "KeySetError",
    "RateLimiter",
    "ReplayGuard",
    "TokenVerifier",
    "VerifierSettings",
    "authenticate",
    "bearer_token",
    "load_key_set",
    "status_for",
]
