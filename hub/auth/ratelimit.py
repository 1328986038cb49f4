"""Per-caller rate limits (issue 8, item 4): one token bucket per user.

Each caller's bucket holds up to ``burst`` requests and refills at
``rate_per_minute``; a request takes one token or is refused with the time until
one is available (the service answers RESOURCE_EXHAUSTED and audits it). The
number of buckets is bounded: the least recently used are dropped first, and a
dropped caller simply starts again with a full bucket. The clock is injectable.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from hub.auth.errors import RateLimited


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by caller (normally ``Caller.user_id``)."""

    def __init__(
        self,
        rate_per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = 100_000,
    ) -> None:
        if rate_per_minute <= 0 or burst < 1 or max_callers < 1:
            raise ValueError("rate_per_minute must be > 0, burst >= 1, max_callers >= 1")
        self.rate_per_second = rate_per_minute / 60.0
        self.burst = float(burst)
        self.max_callers = max_callers
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def try_acquire(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens; return 0.0 if allowed, else seconds until it would be."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(tokens=self.burst, updated=now)
                self._buckets[key] = bucket
                while len(self._buckets) > self.max_callers:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate_per_second)
                bucket.updated = now
            if bucket.tokens + 1e-9 >= cost:  # tolerate float rounding of the refill
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / self.rate_per_second

    def check(self, key: str) -> None:
        """Take one token or raise :class:`RateLimited` with the wait in the message."""
        wait = self.try_acquire(key)
        if wait > 0:
            raise RateLimited(f"rate limit exceeded; retry in {wait:.1f} s", retry_after_seconds=wait)
