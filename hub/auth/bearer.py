"""Authenticate a gRPC call from its ``authorization: Bearer <jwt>`` metadata.

RFC 6750 section 2.1 bearer tokens carried as gRPC metadata. The profile
service calls :meth:`BearerAuthenticator.authenticate` first thing in each RPC;
failures become ``StatusError(UNAUTHENTICATED)`` with the verifier's safe
message and reason code, which ``pingan.serving.grpc_errors`` sends without a
traceback. :func:`status_for` maps the other auth-side refusals (rate limit,
replay) to their statuses.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc

from hub.auth.caller import Caller
from hub.auth.errors import (
    AuthError,
    InvalidRequestId,
    MalformedToken,
    MissingCredentials,
    RateLimited,
    ReplayedRequest,
)
from hub.auth.verifier import TokenVerifier
from pingan.serving import StatusError

log = logging.getLogger(__name__)

METADATA_KEY = "authorization"


def bearer_token(metadata: Any) -> str:
    """Extract the token from call metadata (an iterable of (key, value) pairs)."""
    values = [value for key, value in (metadata or ()) if key.lower() == METADATA_KEY]
    if not values:
        raise MissingCredentials(
            "missing 'authorization: Bearer <token>' metadata; sign in and send your caller token"
        )
    if len(values) > 1:
        raise MalformedToken("send exactly one 'authorization' metadata entry")
    value = values[0]
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedToken("'authorization' metadata must be ASCII 'Bearer <token>'") from None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MalformedToken("'authorization' metadata must read 'Bearer <token>'")
    return token.strip()


def status_for(error: AuthError) -> StatusError:
    """The gRPC status a caller gets for an auth-side refusal."""
    text = f"{error.message} (reason: {error.reason})"
    if isinstance(error, RateLimited):
        return StatusError(grpc.StatusCode.RESOURCE_EXHAUSTED, text)
    if isinstance(error, ReplayedRequest):
        return StatusError(grpc.StatusCode.ALREADY_EXISTS, text)
    if isinstance(error, InvalidRequestId):
        return StatusError(grpc.StatusCode.INVALID_ARGUMENT, text)
    return StatusError(grpc.StatusCode.UNAUTHENTICATED, text)


class BearerAuthenticator:
    """Turns a call's metadata into a :class:`Caller` or an UNAUTHENTICATED status."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    def authenticate(self, context: Any) -> Caller:
        """Works with ``grpc.ServicerContext`` and ``grpc.aio.ServicerContext`` alike."""
        try:
            return self.verifier.verify(bearer_token(context.invocation_metadata()))
        except AuthError as exc:
            # Reason code only: never the token, never claim values.
            log.info("caller authentication refused: %s", exc.reason)
            raise status_for(exc) from None


def authenticate(context: Any, verifier: TokenVerifier) -> Caller:
    """Shorthand for ``BearerAuthenticator(verifier).authenticate(context)``."""
    return BearerAuthenticator(verifier).authenticate(context)
