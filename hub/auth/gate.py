"""The hub's front door for callers: authenticate, then rate-limit and replay-check.

Built from ``[auth]`` of the hub configuration. Two steps so the service can
audit refusals that happen after the caller is known (issue 8: rate-limit
excess is RESOURCE_EXHAUSTED *and audited*):

    caller = gate.authenticate(context)          # StatusError(UNAUTHENTICATED)
    try:
        gate.admit(caller, request.request_id)   # AuthError: RateLimited, ReplayedRequest, ...
    except AuthError as exc:
        ... append an audit entry with exc.reason ...
        raise status_for(exc) from None
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hub.auth.bearer import BearerAuthenticator
from hub.auth.caller import Caller
from hub.auth.keyset import load_key_set
from hub.auth.ratelimit import RateLimiter
from hub.auth.replay import ReplayGuard
from hub.auth.verifier import TokenVerifier, VerifierSettings

if TYPE_CHECKING:
    from hub.config import AuthSection


class CallerGate:
    """Authenticator plus per-caller rate limiter and request-id replay guard."""

    def __init__(self, verifier: TokenVerifier, limiter: RateLimiter, replay: ReplayGuard) -> None:
        self.authenticator = BearerAuthenticator(verifier)
        self.limiter = limiter
        self.replay = replay

    @classmethod
    def from_config(cls, auth: AuthSection, clock: Callable[[], float] = time.monotonic) -> CallerGate:
        """Load the JWKS file and build the gate (raises ``KeySetError`` if the key set is unusable)."""
        return cls(
            TokenVerifier(VerifierSettings.from_config(auth), load_key_set(auth.jwks_file)),
            RateLimiter(auth.rate_per_minute, auth.burst, clock=clock),
            ReplayGuard(auth.replay_window_seconds, clock=clock),
        )

    def authenticate(self, context: Any) -> Caller:
        """The caller behind this call, or ``StatusError(UNAUTHENTICATED)``."""
        return self.authenticator.authenticate(context)

    def admit(self, caller: Caller, request_id: str) -> None:
        """Charge the caller's rate limit, then refuse a reused request id (raises ``AuthError``).

        An empty ``request_id`` is not checked: the protocol lets the hub generate
        one (profile.proto, ``request_id``), and a fresh id cannot be a replay.
        """
        self.limiter.check(caller.user_id)
        if request_id:
            self.replay.check(caller.user_id, request_id)
