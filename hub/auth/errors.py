"""Why a caller's token was refused.

Each failure has a stable ``reason`` code (for audit entries and metrics) and a
message that is safe to send back to the caller: it says what to do, never
echoes claim values, keys or stack traces.
"""

from __future__ import annotations

from hub.errors import HubError


class AuthError(HubError):
    """A caller could not be authenticated."""

    reason: str = "unauthenticated"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingCredentials(AuthError):
    reason = "missing_credentials"


class MalformedToken(AuthError):
    reason = "malformed"


class BadAlgorithm(AuthError):
    reason = "bad_algorithm"


class UnknownKey(AuthError):
    reason = "unknown_key"


class BadSignature(AuthError):
    reason = "bad_signature"


class TokenExpired(AuthError):
    reason = "expired"


class TokenNotYetValid(AuthError):
    reason = "not_yet_valid"


class TokenTooLongLived(AuthError):
    reason = "too_long_lived"


class WrongIssuer(AuthError):
    reason = "wrong_issuer"


class WrongAudience(AuthError):
    reason = "wrong_audience"


class MissingClaim(AuthError):
    reason = "missing_claim"


class InvalidClaim(AuthError):
    reason = "invalid_claim"


class UnknownRole(InvalidClaim):
    reason = "unknown_role"


class ReplayedRequest(AuthError):
    """A request id was seen before from the same caller (issue 8: replay)."""

    reason = "replayed_request"


class InvalidRequestId(AuthError):
    """A request id is missing or not a short opaque string."""

    reason = "invalid_request_id"


class RateLimited(AuthError):
    """The caller exceeded their request rate (issue 8: abuse detection)."""

    reason = "rate_limited"

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class KeySetError(HubError):
    """The configured key set (JWKS file) or a signing key cannot be used."""
