"""A grpc.aio client for one department adapter, with deadline, retry and breaker.

The profile service fans out to every department concurrently; one slow or dead
department must cost its own section only. Each call therefore has a per-adapter
deadline (default 500 ms), retries with jittered exponential backoff on
UNAVAILABLE while the deadline allows, and goes through a circuit breaker so a
department that is down fails fast until it comes back.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

import grpc

from hub.departments.breaker import BreakerSettings, CircuitBreaker
from hub.departments.certificate_check import AdapterCertificateCheck, Refusal
from pingan.v1 import adapter_pb2, adapter_pb2_grpc, linkage_pb2

_RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})
# outcomes meaning the adapter is down or slow, counted by the breaker (None: deadline spent before a call)
_DOWN = frozenset({None, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def adapter_certificate_name(adapter_name: str) -> str:
    """The name the adapter's certificate must carry: its ``[[adapters]] name`` with ``_`` as ``-``.

    Adapter names are identifiers (``civil_affairs``); certificate names are host
    labels (RFC 1123, no ``_``), so ``pingan pki issue --role adapter --name
    civil-affairs`` is the certificate for ``[[adapters]] name = "civil_affairs"``.
    """
    return adapter_name.replace("_", "-")


def pinned_adapter_options(adapter_name: str) -> tuple[tuple[str, object], ...]:
    """Channel options accepting only the adapter ``adapter_name`` (``pingan.tls.expect_server``)."""
    from pingan.tls import expect_server

    return expect_server("adapter", adapter_certificate_name(adapter_name))


@dataclass(frozen=True, slots=True)
class AdapterEndpoint:
    """Where a department adapter listens and how patiently to call it."""

    name: str
    address: str
    deadline_ms: int = 500
    retries: int = 2
    backoff_ms: int = 20
    breaker: BreakerSettings = field(default_factory=BreakerSettings)


@dataclass(frozen=True, slots=True)
class CallResult:
    """Outcome of one (possibly retried) call: a response, or why there is none."""

    department: str
    response: object | None
    error: str | None
    code: grpc.StatusCode | None
    latency_ms: float
    attempts: int
    trailers: tuple[tuple[str, str], ...] = ()  # trailing metadata of a failed call (e.g. the witness protocol)

    @property
    def ok(self) -> bool:
        return self.error is None


class DepartmentClient:
    """Calls one adapter. Create once per hub process; safe for concurrent use."""

    def __init__(
        self,
        endpoint: AdapterEndpoint,
        credentials: grpc.ChannelCredentials | None = None,
        *,
        channel_options: tuple[tuple[str, object], ...] = (),
        certificate_check: AdapterCertificateCheck | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.certificate_check = certificate_check  # with a CRL: the adapter's serial, checked before each call
        if credentials is None:
            self._channel = grpc.aio.insecure_channel(endpoint.address, options=channel_options)
        else:
            self._channel = grpc.aio.secure_channel(endpoint.address, credentials, options=channel_options)
        self._stub = adapter_pb2_grpc.DepartmentAdapterStub(self._channel)
        self.breaker = CircuitBreaker(endpoint.breaker)
        self._describe: adapter_pb2.DescribeResponse | None = None

    @property
    def name(self) -> str:
        return self.endpoint.name

    @property
    def described(self) -> adapter_pb2.DescribeResponse | None:
        """The cached Describe answer, if one was received (no call)."""
        return self._describe

    async def close(self) -> None:
        await self._channel.close()

    async def describe(self, *, refresh: bool = False) -> CallResult:
        """Describe, cached after the first success until :meth:`forget_description`
        (schemas change with a restart only)."""
        if self._describe is not None and not refresh:
            return CallResult(self.name, self._describe, None, None, 0.0, 0)
        result = await self._call(self._stub.Describe, adapter_pb2.DescribeRequest())
        if result.ok:
            self._describe = result.response  # type: ignore[assignment]
        return result

    def forget_description(self) -> None:
        """Drop the cached Describe answer: the next profile describes the adapter again
        (called when a fetch is refused for a dataset or field the adapter no longer offers,
        e.g. after a restart with a narrower export list)."""
        self._describe = None

    async def fetch(self, request: adapter_pb2.FetchRecordsRequest) -> CallResult:
        return await self._call(self._stub.FetchRecords, request)

    async def tokenize(self, request_id: str, query: linkage_pb2.IdentityQuery) -> CallResult:
        return await self._call(self._stub.Tokenize, adapter_pb2.TokenizeRequest(request_id=request_id, query=query))

    async def list_alerts(self, request: adapter_pb2.ListAlertsRequest) -> CallResult:
        """The department's current alerts (hub/alerts polls this)."""
        return await self._call(self._stub.ListAlerts, request)

    async def _call(self, method: grpc.aio.UnaryUnaryMultiCallable, request: object) -> CallResult:
        """One call through the breaker, which hears exactly one verdict whatever happens.

        Down or slow (UNAVAILABLE, DEADLINE_EXCEEDED, deadline spent, certificate
        unreadable) is a failure; any other answer, application errors included
        (FAILED_PRECONDITION from the witness check, INVALID_ARGUMENT, INTERNAL), shows the
        adapter up and is a success. A cancelled call (the profile's own deadline), a
        locally CANCELLED one or a revoked certificate says neither: the permit is
        released, so a half-open trial frees its slot instead of blocking every later call.
        """
        started = time.perf_counter()
        permit = self.breaker.acquire()
        if permit is None:
            return CallResult(self.name, None, "circuit open: department failing, not called", None, 0.0, 0)
        up: bool | None = None  # the verdict; None until an outcome gives one
        try:
            result, up = await self._attempts(method, request, started)
            return result
        finally:
            if up is None:
                self.breaker.release(permit)
            elif up:
                self.breaker.record_success()
            else:
                self.breaker.record_failure()

    async def _attempts(
        self, method: grpc.aio.UnaryUnaryMultiCallable, request: object, started: float
    ) -> tuple[CallResult, bool | None]:
        """The call with its retries, and whether it shows the adapter up (None: no verdict)."""
        deadline = started + self.endpoint.deadline_ms / 1000.0
        attempts = 0
        if self.certificate_check is not None:
            refused = await self._refused_certificate(deadline - started)
            if refused is not None:
                result = CallResult(
                    self.name, None, f"UNAVAILABLE: {refused.message}", grpc.StatusCode.UNAVAILABLE,
                    _ms_since(started), 0,
                )
                # unreachable for the check means unreachable for the call; revoked says nothing of that
                return result, None if refused.revoked else False
        last_code: grpc.StatusCode | None = None
        last_error = "not called"
        trailers: tuple[tuple[str, str], ...] = ()
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                break
            attempts += 1
            try:
                response = await method(request, timeout=remaining)
            except grpc.aio.AioRpcError as exc:
                last_code = exc.code()
                last_error = f"{last_code.name}: {exc.details() or 'no details'}"
                trailers = tuple((str(k), str(v)) for k, v in (exc.trailing_metadata() or ()))
                if last_code not in _RETRYABLE or attempts > self.endpoint.retries:
                    break
                backoff = self.endpoint.backoff_ms / 1000.0 * (2 ** (attempts - 1)) * (0.5 + random.random())
                if time.perf_counter() + backoff >= deadline:
                    break
                await asyncio.sleep(backoff)
                continue
            return CallResult(self.name, response, None, None, _ms_since(started), attempts), True
        up: bool | None = last_code not in _DOWN
        if last_code is None:
            last_code, last_error = grpc.StatusCode.DEADLINE_EXCEEDED, "deadline exceeded"
        elif last_code is grpc.StatusCode.CANCELLED:
            up = None  # cancelled on this side (channel closed): the adapter's state is unknown
        return CallResult(self.name, None, last_error, last_code, _ms_since(started), attempts, trailers), up

    async def _refused_certificate(self, timeout: float) -> Refusal | None:
        """Why the adapter's certificate forbids this call (revoked, or unreadable), or None.

        A channel that is not connected is about to open a new connection, whose
        handshake may present another certificate: read it again before calling.
        """
        check = self.certificate_check
        assert check is not None
        if self._channel.get_state(try_to_connect=False) != grpc.ChannelConnectivity.READY:
            check.forget()
        return await check.refusal(timeout)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
