"""Refuse a request id seen before from the same caller (issue 8: replayed request id).

A bounded, time-windowed seen-set of ``(user_id, request_id)``. Ids older than
the window are forgotten; the window should be at least the maximum token
lifetime an attacker could replay within, or paired with short-lived tokens and
a client-chosen unique id per request. When more than ``max_entries`` ids are
inside the window, the oldest are forgotten first (counted in ``evicted``) so
memory stays bounded; size ``max_entries`` above ``rate x window x callers``.
The clock is injectable so tests need no sleeps.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from hub.auth.errors import InvalidRequestId, ReplayedRequest

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:\-]{8,128}\Z")  # fullmatch; \Z, not $ (which allows a final newline)


class ReplayGuard:
    """Remembers request ids for ``window_seconds``; thread- and task-safe."""

    def __init__(
        self,
        window_seconds: float = 900.0,
        max_entries: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_seconds <= 0 or max_entries <= 0:
            raise ValueError("window_seconds and max_entries must be positive")
        self.window_seconds = window_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()
        self.evicted = 0

    def check(self, user_id: str, request_id: str) -> None:
        """Record the id, or raise :class:`ReplayedRequest` if it is inside the window already."""
        if not isinstance(request_id, str) or not REQUEST_ID_RE.fullmatch(request_id):
            raise InvalidRequestId(
                "request_id must be a unique id of 8-128 letters, digits or ._:- (e.g. a UUID)"
            )
        key = (user_id, request_id)
        with self._lock:
            now = self._clock()
            self._expire(now)
            if key in self._seen:
                raise ReplayedRequest("request_id was already used; send each request with a new id")
            self._seen[key] = now
            while len(self._seen) > self.max_entries:
                self._seen.popitem(last=False)
                self.evicted += 1

    def __len__(self) -> int:
        with self._lock:
            self._expire(self._clock())
            return len(self._seen)

    def _expire(self, now: float) -> None:
        # Entries are inserted in clock order, so the oldest are at the front.
        horizon = now - self.window_seconds
        while self._seen:
            key, seen_at = next(iter(self._seen.items()))
            if seen_at > horizon:
                break
            del self._seen[key]
