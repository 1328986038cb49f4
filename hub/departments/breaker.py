"""A per-adapter circuit breaker.

After ``failure_threshold`` consecutive failures the breaker opens and calls fail
fast (the section is reported unavailable without waiting for a deadline); after
``reset_seconds`` one trial call is let through (half-open): success closes the
breaker, failure opens it again. The clock is injectable so tests need no sleeps.

Every :class:`Permit` handed out must be settled exactly once: ``record_success``,
``record_failure``, or ``release`` when the call ended without saying whether the
adapter is up (cancelled). An unsettled trial would keep the breaker half-open with
its one slot taken, refusing every call until the process restarts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class BreakerState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    failure_threshold: int = 5
    reset_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave for one call; ``trial`` numbers the half-open trial it is (0: not a trial)."""

    trial: int = 0


class CircuitBreaker:
    """Consecutive-failure breaker (Nygard, *Release It!*, "Circuit Breaker")."""

    def __init__(self, settings: BreakerSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self._trials = 0  # trials let through so far: a release frees the slot of its own trial only

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._settings.reset_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def acquire(self) -> Permit | None:
        """Leave for one call now, or None. In half-open state only one trial call is allowed."""
        with self._lock:
            state = self._state_locked()
            if state is BreakerState.CLOSED:
                return Permit()
            if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
                self._trial_in_flight = True
                self._trials += 1
                return Permit(self._trials)
            return None

    def allow(self) -> bool:
        """May a call go out now? Like :meth:`acquire`, for callers that always record an outcome."""
        return self.acquire() is not None

    def release(self, permit: Permit) -> None:
        """The permitted call ended with no verdict on the adapter (cancelled): count nothing.

        A trial frees its slot so the next call is the trial; a stale release (its trial
        already settled and a newer one out) leaves the newer trial's slot alone.
        """
        with self._lock:
            if permit.trial and permit.trial == self._trials:
                self._trial_in_flight = False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._trial_in_flight = False
            self._failures += 1
            if self._opened_at is not None or self._failures >= self._settings.failure_threshold:
                self._opened_at = self._clock()
