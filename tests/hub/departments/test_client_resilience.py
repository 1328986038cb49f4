"""The department client's deadline, retries and circuit breaker against real adapters.

Each adapter is a real ``grpc.aio`` server on a loopback port serving a scripted
``DepartmentAdapter`` (from the generated contract): the only way to make an adapter
slow, answer UNAVAILABLE a few times, or answer an application error on cue. It counts
the calls it sees, so "failed fast without reaching the server" is observed, not assumed.
The breaker's clock is the one it takes for tests (no sleeps waiting for a cool-down).
Asserts are on outcomes and status codes; timings only get generous sanity bounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import grpc
import pytest

from hub.departments.breaker import BreakerSettings, BreakerState, CircuitBreaker
from hub.departments.client import AdapterEndpoint, DepartmentClient
from pingan.v1 import adapter_pb2, adapter_pb2_grpc

OK = "ok"


@dataclass
class Slow:
    """Answer (OK) only after ``seconds``."""

    seconds: float


Step = str | grpc.StatusCode | Slow


@dataclass
class ScriptedAdapter(adapter_pb2_grpc.DepartmentAdapterServicer):
    """FetchRecords answers the scripted steps in turn, then ``then`` for every later call."""

    script: list[Step] = field(default_factory=list)
    then: Step = OK
    calls: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # set at each call

    async def FetchRecords(self, request, context):  # type: ignore[no-untyped-def]
        self.calls += 1
        self.arrived.set()
        step = self.script.pop(0) if self.script else self.then
        if isinstance(step, Slow):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, grpc.StatusCode):
            await context.abort(step, f"scripted {step.name}")
        return adapter_pb2.FetchRecordsResponse(missing=[request.request_id])  # the answer to this request


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def adapter() -> AsyncIterator[tuple[ScriptedAdapter, str]]:
    servicer = ScriptedAdapter()
    server = grpc.aio.server()
    adapter_pb2_grpc.add_DepartmentAdapterServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., DepartmentClient]]:
    clients: list[DepartmentClient] = []

    def make(address: str, clock: Clock | None = None, **settings: object) -> DepartmentClient:
        client = DepartmentClient(AdapterEndpoint("justice", address, **settings))  # type: ignore[arg-type]
        if clock is not None:  # the same breaker, on a clock the test moves
            client.breaker = CircuitBreaker(client.endpoint.breaker, clock)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def _request() -> adapter_pb2.FetchRecordsRequest:
    return adapter_pb2.FetchRecordsRequest(request_id="req-1", purpose="routine_visit")


async def _half_open_client(adapter, connect, retries: int = 0):  # type: ignore[no-untyped-def]
    """(servicer, clock, client): a client of the scripted adapter whose breaker (threshold 1) is half-open."""
    servicer, address = adapter
    clock = Clock()
    client = connect(address, clock, deadline_ms=10_000, retries=retries, breaker=BreakerSettings(1, 5))
    await _open_breaker(client, servicer, clock)
    return servicer, clock, client


async def _open_breaker(client: DepartmentClient, servicer: ScriptedAdapter, clock: Clock) -> None:
    """Open the (threshold 1) breaker with one failed call, then let its cool-down pass: half-open."""
    servicer.script.extend([grpc.StatusCode.UNAVAILABLE] * (client.endpoint.retries + 1))
    result = await client.fetch(_request())
    assert result.code == grpc.StatusCode.UNAVAILABLE
    servicer.calls = 0  # the tests count calls from the trial on
    assert client.breaker.state is BreakerState.OPEN
    clock.now += client.endpoint.breaker.reset_seconds
    assert client.breaker.state is BreakerState.HALF_OPEN


# 1. per-adapter deadline


async def test_a_server_slower_than_the_deadline_fails_as_deadline_exceeded(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, address = adapter
    servicer.then = Slow(30.0)
    client = connect(address, deadline_ms=200, retries=2)
    result = await client.fetch(_request())
    assert not result.ok and result.response is None
    assert result.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert servicer.calls == 1  # DEADLINE_EXCEEDED is not retried: the deadline covers the retries too
    assert result.latency_ms < 10_000  # sanity only: nowhere near the server's 30 s


async def test_slow_answers_count_as_failures_for_the_breaker(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, address = adapter
    servicer.then = Slow(30.0)
    client = connect(address, deadline_ms=100, breaker=BreakerSettings(failure_threshold=2, reset_seconds=60))
    for _ in range(2):
        assert (await client.fetch(_request())).code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert client.breaker.state is BreakerState.OPEN


# 2. retries with backoff on UNAVAILABLE


async def test_unavailable_twice_then_an_answer_is_retried_to_success(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, address = adapter
    servicer.script = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAVAILABLE]
    client = connect(address, deadline_ms=10_000, retries=2, backoff_ms=10)
    result = await client.fetch(_request())
    assert result.ok and list(result.response.missing) == ["req-1"]  # type: ignore[union-attr]
    assert result.attempts == 3 and servicer.calls == 3
    assert client.breaker.state is BreakerState.CLOSED


async def test_a_server_that_never_recovers_fails_after_the_configured_attempts(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, address = adapter
    servicer.then = grpc.StatusCode.UNAVAILABLE
    client = connect(address, deadline_ms=10_000, retries=3, backoff_ms=10)
    result = await client.fetch(_request())
    assert not result.ok and result.code == grpc.StatusCode.UNAVAILABLE
    assert result.attempts == 4 and servicer.calls == 4  # the first attempt and 3 retries


async def test_other_statuses_are_not_retried(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, address = adapter
    servicer.then = grpc.StatusCode.FAILED_PRECONDITION
    client = connect(address, deadline_ms=10_000, retries=3, backoff_ms=10)
    result = await client.fetch(_request())
    assert result.code == grpc.StatusCode.FAILED_PRECONDITION and servicer.calls == 1


# 3. the breaker: open, fail fast, half-open, closed


async def test_the_breaker_opens_fails_fast_half_opens_and_closes(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, address = adapter
    servicer.then = grpc.StatusCode.UNAVAILABLE
    clock = Clock()
    client = connect(
        address, clock, deadline_ms=10_000, retries=0, breaker=BreakerSettings(failure_threshold=3, reset_seconds=5)
    )
    for n in range(3):
        assert client.breaker.state is BreakerState.CLOSED
        assert (await client.fetch(_request())).code == grpc.StatusCode.UNAVAILABLE
        assert servicer.calls == n + 1
    assert client.breaker.state is BreakerState.OPEN
    for _ in range(5):  # open: failed at once, the server never sees them
        result = await client.fetch(_request())
        assert not result.ok and result.attempts == 0 and "circuit open" in (result.error or "")
    assert servicer.calls == 3

    clock.now = 5.0  # cool-down over: one trial; the department is still down, so open again
    assert client.breaker.state is BreakerState.HALF_OPEN
    assert (await client.fetch(_request())).code == grpc.StatusCode.UNAVAILABLE
    assert servicer.calls == 4 and client.breaker.state is BreakerState.OPEN
    assert (await client.fetch(_request())).attempts == 0 and servicer.calls == 4

    servicer.then = OK  # the department is back
    clock.now = 10.0
    assert (await client.fetch(_request())).ok
    assert servicer.calls == 5 and client.breaker.state is BreakerState.CLOSED
    for n in range(3):
        assert (await client.fetch(_request())).ok
    assert servicer.calls == 8


async def test_half_open_lets_exactly_one_trial_through(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, clock, client = await _half_open_client(adapter, connect)
    servicer.then = Slow(0.3)
    results = await asyncio.gather(*(client.fetch(_request()) for _ in range(4)))
    assert sum(r.ok for r in results) == 1 and sum(r.attempts == 0 for r in results) == 3
    assert servicer.calls == 1 and client.breaker.state is BreakerState.CLOSED


# 4. every trial settles the breaker (regression: a trial with no recorded outcome kept it half-open
#    with its slot taken, and the department unavailable until the hub restarted)


async def test_a_cancelled_half_open_trial_does_not_leave_the_breaker_stuck(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, clock, client = await _half_open_client(adapter, connect)
    servicer.script.append(Slow(30.0))
    servicer.arrived.clear()
    trial = asyncio.create_task(client.fetch(_request()))
    await asyncio.wait_for(servicer.arrived.wait(), timeout=10)  # the trial reached the adapter
    trial.cancel()  # as the profile's overall deadline cancels its fan-out
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert servicer.calls == 1
    # neither a success nor a failure: still half-open, and the slot is free for the next call
    assert client.breaker.state is BreakerState.HALF_OPEN
    result = await client.fetch(_request())
    assert result.ok and servicer.calls == 2
    assert client.breaker.state is BreakerState.CLOSED


async def test_a_trial_cut_by_an_outer_timeout_does_not_leave_the_breaker_stuck(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, clock, client = await _half_open_client(adapter, connect)
    servicer.script.append(Slow(30.0))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.fetch(_request()), timeout=0.3)
    calls = servicer.calls
    assert (await client.fetch(_request())).ok
    assert servicer.calls == calls + 1 and client.breaker.state is BreakerState.CLOSED


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL]
)
async def test_a_trial_answered_with_an_application_error_closes_the_breaker(  # type: ignore[no-untyped-def]
    adapter, connect, code: grpc.StatusCode
) -> None:
    servicer, clock, client = await _half_open_client(adapter, connect, retries=2)
    servicer.script.append(code)  # e.g. the witness check refusing the hub's checkpoint
    result = await client.fetch(_request())
    assert result.code == code and servicer.calls == 1
    # the adapter answered: it is up, whatever it thought of the request; the next call reaches it
    assert (await client.fetch(_request())).ok and servicer.calls == 2
    assert client.breaker.state is BreakerState.CLOSED


async def test_an_application_error_breaks_a_run_of_failures(adapter, connect) -> None:  # type: ignore[no-untyped-def]
    servicer, address = adapter
    servicer.script = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE]
    client = connect(address, deadline_ms=10_000, retries=0, breaker=BreakerSettings(failure_threshold=2))
    for _ in range(3):
        assert not (await client.fetch(_request())).ok
    assert client.breaker.state is BreakerState.CLOSED  # no two failures in a row
    assert (await client.fetch(_request())).ok and servicer.calls == 4
