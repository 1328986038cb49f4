"""What every pingan gRPC server shares: health, reflection and error mapping.

Hub and adapters both build on this (they may import ``pingan`` but not each
other). Errors a caller can act on are raised as :class:`StatusError` and sent
with their gRPC status; anything else is logged here with its traceback and
answered ``INTERNAL`` with a reference, never with the traceback itself.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class StatusError(Exception):
    """An error with the gRPC status and the message a person can act on."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_argument(message: str) -> StatusError:
    return StatusError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> StatusError:
    return StatusError(grpc.StatusCode.NOT_FOUND, message)


def permission_denied(message: str) -> StatusError:
    return StatusError(grpc.StatusCode.PERMISSION_DENIED, message)


def unavailable(message: str) -> StatusError:
    return StatusError(grpc.StatusCode.UNAVAILABLE, message)


def failed_precondition(message: str) -> StatusError:
    return StatusError(grpc.StatusCode.FAILED_PRECONDITION, message)


def _internal(exc: BaseException, method: str) -> tuple[grpc.StatusCode, str]:
    ref = uuid.uuid4().hex[:12]
    log.error("unhandled error in %s (ref %s)", method, ref, exc_info=exc)
    return grpc.StatusCode.INTERNAL, f"internal error (ref {ref}); the server log has the details"


def grpc_errors(method: F) -> F:
    """Decorate a servicer method (sync or async, unary or streaming).

    ``StatusError`` becomes its status; any other exception becomes INTERNAL with
    a log reference. The caller never receives a stack trace.
    """
    name = method.__qualname__

    if inspect.isasyncgenfunction(method):

        @functools.wraps(method)
        async def agen(self: Any, request: Any, context: Any) -> Any:
            try:
                async for item in method(self, request, context):
                    yield item
            except StatusError as exc:
                await context.abort(exc.code, exc.message)
            except (grpc.aio.AbortError, GeneratorExit):
                raise
            except Exception as exc:  # noqa: BLE001 - the boundary: map, log, never leak
                await context.abort(*_internal(exc, name))

        return agen  # type: ignore[return-value]

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def coro(self: Any, request: Any, context: Any) -> Any:
            try:
                return await method(self, request, context)
            except StatusError as exc:
                await context.abort(exc.code, exc.message)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:  # noqa: BLE001
                await context.abort(*_internal(exc, name))

        return coro  # type: ignore[return-value]

    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def gen(self: Any, request: Any, context: Any) -> Any:
            try:
                yield from method(self, request, context)
            except StatusError as exc:
                context.abort(exc.code, exc.message)
            except GeneratorExit:
                raise
            except Exception as exc:  # noqa: BLE001
                if _is_abort(exc):
                    raise
                context.abort(*_internal(exc, name))

        return gen  # type: ignore[return-value]

    @functools.wraps(method)
    def unary(self: Any, request: Any, context: Any) -> Any:
        try:
            return method(self, request, context)
        except StatusError as exc:
            context.abort(exc.code, exc.message)
        except Exception as exc:  # noqa: BLE001
            if _is_abort(exc):
                raise
            context.abort(*_internal(exc, name))

    return unary  # type: ignore[return-value]


def _is_abort(exc: BaseException) -> bool:
    # grpc's sync context.abort raises a bare Exception after setting the status.
    return type(exc) is Exception and not exc.args


def add_standard_services(server: Any, service_names: Iterable[str], *, aio: bool = False) -> Any:
    """Register gRPC health checking and reflection for ``service_names``.

    Returns the health servicer so the caller can flip statuses (e.g. NOT_SERVING
    on shutdown). Works for ``grpc.server`` and ``grpc.aio.server``.
    """
    names = list(service_names)
    servicer: Any
    if aio:
        from grpc_health.v1.health import aio as health_aio

        servicer = health_aio.HealthServicer()
    else:
        servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    return servicer


def mark_serving(servicer: Any, service_names: Iterable[str]) -> Any:
    """Set SERVING for each service and the overall server (""); returns awaitable for aio."""
    status = health_pb2.HealthCheckResponse.SERVING
    results = [servicer.set(name, status) for name in ["", *service_names]]
    if results and inspect.isawaitable(results[0]):

        async def _all() -> None:
            for r in results:
                await r

        return _all()
    return None
