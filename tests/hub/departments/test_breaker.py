"""The per-adapter circuit breaker, driven by an injected clock (no sleeps)."""

from hub.departments.breaker import BreakerSettings, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_threshold_and_half_opens_after_reset() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=3, reset_seconds=10), clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # one trial
    assert not breaker.allow()  # and only one
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow()


def test_failed_trial_reopens() -> None:
    clock = Clock()
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=1, reset_seconds=5), clock)
    breaker.record_failure()
    clock.now = 6.0
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.now = 10.0
    assert not breaker.allow()
    clock.now = 11.0
    assert breaker.allow()


def test_success_resets_the_count() -> None:
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=2, reset_seconds=5), Clock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
