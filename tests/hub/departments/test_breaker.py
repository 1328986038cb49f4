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


def _half_open() -> tuple[Clock, CircuitBreaker]:
    """A breaker (threshold 1) opened by one failure, its 5 s cool-down passed: half-open."""
    clock = Clock()
    breaker = CircuitBreaker(BreakerSettings(failure_threshold=1, reset_seconds=5), clock)
    breaker.record_failure()
    clock.now = 5.0
    return clock, breaker


def test_a_released_trial_frees_the_slot_and_counts_nothing() -> None:
    clock, breaker = _half_open()
    trial = breaker.acquire()
    assert trial is not None and trial.trial
    assert breaker.acquire() is None  # the slot is taken
    breaker.release(trial)  # cancelled: no word on the adapter
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.acquire() is not None  # the next call is the trial


def test_a_stale_release_leaves_a_newer_trial_alone() -> None:
    clock, breaker = _half_open()
    first = breaker.acquire()
    assert first is not None
    breaker.record_failure()  # another call's failure reopens the breaker
    clock.now = 10.0
    second = breaker.acquire()
    assert second is not None and second.trial != first.trial
    breaker.release(first)
    assert breaker.acquire() is None  # the second trial still holds the slot
    closed = CircuitBreaker(BreakerSettings(), clock)
    permit = closed.acquire()
    assert permit is not None and not permit.trial
    closed.release(permit)
    assert closed.state is BreakerState.CLOSED
