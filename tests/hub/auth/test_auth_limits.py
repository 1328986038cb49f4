"""Token-bucket rate limits and the request-id replay window, on an injected clock."""

from __future__ import annotations

import pytest

from hub.auth.errors import InvalidRequestId, RateLimited, ReplayedRequest
from hub.auth.ratelimit import RateLimiter
from hub.auth.replay import ReplayGuard


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refusal_then_steady_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_minute=30, burst=3, clock=clock)  # one token per 2 s
    assert [limiter.try_acquire("u1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.try_acquire("u1") == pytest.approx(2.0)
    clock.now += 1.0
    assert limiter.try_acquire("u1") == pytest.approx(1.0)
    clock.now += 1.0
    assert limiter.try_acquire("u1") == 0.0
    assert limiter.try_acquire("u1") == pytest.approx(2.0)


def test_idle_caller_refills_only_up_to_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate_per_minute=60, burst=2, clock=clock)
    clock.now += 3600
    assert [limiter.try_acquire("u1") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.try_acquire("u1") > 0


def test_callers_are_limited_separately() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=1, clock=FakeClock())
    limiter.check("u1")
    limiter.check("u2")
    with pytest.raises(RateLimited) as info:
        limiter.check("u1")
    assert info.value.reason == "rate_limited" and info.value.retry_after_seconds == pytest.approx(1.0)


def test_bucket_table_is_bounded_least_recently_used_first() -> None:
    limiter = RateLimiter(rate_per_minute=60, burst=1, clock=FakeClock(), max_callers=2)
    limiter.check("u1")
    limiter.check("u2")
    with pytest.raises(RateLimited):
        limiter.check("u2")  # u2 is now the most recent
    limiter.check("u3")  # evicts u1, not u2
    with pytest.raises(RateLimited):
        limiter.check("u2")
    limiter.check("u1")  # forgotten, so a fresh bucket


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (60, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate_per_minute=rate, burst=burst)


def test_replay_inside_window_is_refused_and_forgotten_after() -> None:
    clock = FakeClock()
    guard = ReplayGuard(window_seconds=60, clock=clock)
    guard.check("u1", "req-00000001")
    clock.now += 59.0
    with pytest.raises(ReplayedRequest) as info:
        guard.check("u1", "req-00000001")
    assert info.value.reason == "replayed_request"
    guard.check("u2", "req-00000001")  # same id from another caller is not a replay
    clock.now += 1.0
    assert len(guard) == 1  # u1's entry aged out, u2's (seen at +59 s) is still inside the window
    guard.check("u1", "req-00000001")


def test_replay_set_is_bounded() -> None:
    clock = FakeClock()
    guard = ReplayGuard(window_seconds=600, max_entries=3, clock=clock)
    for i in range(5):
        clock.now += 1
        guard.check("u1", f"req-{i:08d}")
    assert len(guard) == 3 and guard.evicted == 2
    with pytest.raises(ReplayedRequest):
        guard.check("u1", "req-00000004")


@pytest.mark.parametrize("request_id", ["", "short", "has space here", "x" * 129, "嗨嗨嗨嗨嗨嗨嗨嗨"])
def test_bad_request_ids_are_refused(request_id: str) -> None:
    with pytest.raises(InvalidRequestId):
        ReplayGuard(clock=FakeClock()).check("u1", request_id)
