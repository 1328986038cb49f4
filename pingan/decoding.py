"""Requests that cannot be decoded answer INVALID_ARGUMENT, on every server.

grpc-python turns a request its deserializer cannot parse (bytes that are not the
method's protobuf message, a string field holding bad UTF-8) into UNKNOWN with the
Python exception's class in the details (``grpc.aio``) or INTERNAL ("Exception
deserializing request!", the sync server). The caller sent a malformed request: it
deserves INVALID_ARGUMENT and a message naming the message type it should send.

:class:`DecodeGuard` (sync ``grpc.server``) and :class:`AioDecodeGuard` (``grpc.aio``)
wrap each method's deserializer so a failure yields an :class:`Undecodable` marker, and
the method's behaviour so that marker is refused before any servicer code runs. List
them last in ``interceptors=``: their continuation then returns the registered handler,
so each method's wrapper is built once and reused, and an outer interceptor (the peer
check of pingan/tls/interceptors.py) still runs first. Methods that take a stream of
requests (only gRPC reflection's, here: pingan.v1 has none) are left as they are.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

_UNARY_REQUEST = ("unary_unary", "unary_stream")


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A request whose bytes are not the method's message (never holds the bytes)."""

    message_type: str
    error: str

    def details(self) -> str:
        return (
            f"the request is not a valid {self.message_type} message ({self.error}); "
            "send the message type this method takes, encoded with its protobuf definition"
        )


def _message_type(deserializer: Callable[[bytes], Any], method: str) -> str:
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return str(getattr(descriptor, "full_name", "")) or f"request of {method}"


def _safe(deserializer: Callable[[bytes], Any] | None, method: str) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None
    message_type = _message_type(deserializer, method)

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's malformed request
            return Undecodable(message_type, type(exc).__name__)

    return decode


class _Wrapped:
    """Each method's wrapped handler, rebuilt only when the handler underneath changes."""

    def __init__(self, guard: Callable[[Any], Any]) -> None:
        self._guard = guard
        self._by_method: dict[str, tuple[Any, Any]] = {}

    def __call__(self, handler: Any, method: str) -> Any:
        hit = self._by_method.get(method)
        if hit is not None and hit[0] is handler:
            return hit[1]
        wrapped = _wrap(handler, method, self._guard)
        self._by_method[method] = (handler, wrapped)  # one dict store: safe across server threads
        return wrapped


def _wrap(handler: Any, method: str, guard: Callable[[Any], Any]) -> Any:
    if handler is None or handler.request_streaming:
        return handler
    changes: dict[str, Any] = {"request_deserializer": _safe(handler.request_deserializer, method)}
    for kind in _UNARY_REQUEST:
        behavior = getattr(handler, kind)
        if behavior is not None:
            changes[kind] = guard(behavior)
    return handler._replace(**changes)


class DecodeGuard(grpc.ServerInterceptor):
    """Undecodable requests answer INVALID_ARGUMENT on a sync ``grpc.server``."""

    def __init__(self) -> None:
        self._wrapped = _Wrapped(self._guard)

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        return self._wrapped(continuation(handler_call_details), handler_call_details.method)

    @staticmethod
    def _guard(behavior: Any) -> Any:
        def unary(request: Any, context: Any) -> Any:
            if isinstance(request, Undecodable):
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.details())
            return behavior(request, context)

        return unary


class AioDecodeGuard(grpc.aio.ServerInterceptor):
    """Undecodable requests answer INVALID_ARGUMENT on a ``grpc.aio.server`` (the hub)."""

    def __init__(self) -> None:
        self._wrapped = _Wrapped(self._guard)

    async def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        return self._wrapped(await continuation(handler_call_details), handler_call_details.method)

    @staticmethod
    def _guard(behavior: Any) -> Any:
        # grpc.aio dispatches on the kind of function, so the guard must be of the same kind.
        if inspect.isasyncgenfunction(behavior):

            async def guarded_stream(request: Any, context: Any) -> Any:
                if isinstance(request, Undecodable):
                    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.details())
                async for item in behavior(request, context):
                    yield item

            return guarded_stream

        async def guarded(request: Any, context: Any) -> Any:
            if isinstance(request, Undecodable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.details())
            result = behavior(request, context)
            return await result if inspect.isawaitable(result) else result

        return guarded
