"""Server interceptors that run ``require_peer`` before every method (sync and ``grpc.aio``)."""

from __future__ import annotations

import inspect
from collections.abc import Collection, Container
from typing import Any

import grpc

from pingan.serving import StatusError
from pingan.tls.identity import require_peer
from pingan.tls.names import ROLES

_BEHAVIORS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


class _PeerRule:
    """Which roles an interceptor admits, the revocation list, and unchecked method prefixes."""

    def __init__(
        self,
        roles: Collection[str],
        revoked_serials: Container[int] | None = None,
        *,
        exempt_prefixes: tuple[str, ...] = (),
    ) -> None:
        if not roles or set(roles) - set(ROLES):
            raise ValueError(f"roles must be a non-empty subset of {', '.join(ROLES)}")
        self.roles = frozenset(roles)
        self.revoked_serials = revoked_serials
        self.exempt_prefixes = exempt_prefixes

    def _wrap(self, handler: Any, method: str) -> Any:
        if handler is None or method.startswith(self.exempt_prefixes):
            return handler
        changes = {f: self._guard(getattr(handler, f)) for f in _BEHAVIORS if getattr(handler, f) is not None}
        return handler._replace(**changes)

    def _guard(self, behavior: Any) -> Any:
        raise NotImplementedError


class RequirePeerInterceptor(_PeerRule, grpc.ServerInterceptor):
    """Run :func:`require_peer` before every method of a ``grpc.server`` (sync).

    ``grpc.server(..., interceptors=[RequirePeerInterceptor({"hub"}, crl)])`` makes
    an adapter serve only the hub, health checks and reflection included (the
    hub's certificate passes them). Methods whose full name starts with one of
    ``exempt_prefixes`` (e.g. ``"/grpc.health.v1.Health/"``) are not checked.
    """

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        return self._wrap(continuation(handler_call_details), handler_call_details.method)

    def _guard(self, behavior: Any) -> Any:
        def guarded(request: Any, context: Any) -> Any:
            try:
                require_peer(context, self.roles, self.revoked_serials)
            except StatusError as exc:
                context.abort(exc.code, exc.message)
            return behavior(request, context)

        return guarded


class AioRequirePeerInterceptor(_PeerRule, grpc.aio.ServerInterceptor):
    """:class:`RequirePeerInterceptor` for ``grpc.aio.server`` (the hub's servers)."""

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        return self._wrap(await continuation(handler_call_details), handler_call_details.method)

    async def _check(self, context: Any) -> None:
        try:
            require_peer(context, self.roles, self.revoked_serials)
        except StatusError as exc:
            await context.abort(exc.code, exc.message)

    def _guard(self, behavior: Any) -> Any:
        # grpc.aio dispatches on the kind of function, so the guard must be of the same kind.
        if inspect.isasyncgenfunction(behavior):

            async def guarded_stream(request: Any, context: Any) -> Any:
                await self._check(context)
                async for item in behavior(request, context):
                    yield item

            return guarded_stream

        async def guarded(request: Any, context: Any) -> Any:
            await self._check(context)
            result = behavior(request, context)
            return await result if inspect.isawaitable(result) else result

        return guarded
