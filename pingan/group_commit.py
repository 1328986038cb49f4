"""Leader/follower group commit: concurrent writers share one transaction, with no extra thread.

Why: each adapter RPC appends its access-log row in its own transaction before any
data is released. Concurrent RPCs of one process then meet on SQLite's write lock,
and a connection that finds it taken does not queue: its busy handler sleeps and
retries, 1, 2, 5, 10, ... up to 100 ms a step (``sqliteDefaultBusyCallback``,
https://sqlite.org/c3ref/busy_timeout.html), so a writer can sleep long after the
lock was released, and each writer still pays its own fsync after the wait.

Here the first caller to arrive is the *leader*: it takes every row queued so far
(up to ``max_items``) and commits them in one transaction. Callers arriving while a
commit runs queue their rows and wait on a condition variable; the leader's end
wakes them at once, and one of those still queued leads the next commit. An
uncontended caller commits on its own thread, exactly as before; under contention
the number of commits (and fsyncs) follows the load instead of the request count.

Failure is shared: when a commit raises, every caller whose rows were in it gets
that exception (the same object) and nothing of theirs is stored, so each can
fail closed. The scheme is the classic group commit of database logs (e.g.
PostgreSQL's WAL flush: one flush covers every transaction queued behind it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(eq=False)
class _Slot(Generic[T]):
    """One caller's rows and, once its commit ended, the outcome."""

    items: Sequence[T]
    done: bool = False
    error: BaseException | None = field(default=None)


class GroupCommit(Generic[T]):
    """Commits items from many threads through ``commit``, one transaction per waiting group.

    ``commit(items)`` must store all of ``items`` atomically or raise. It is only ever
    called by one thread at a time, so it may also hold a lock that other writers of
    the same database take (see :class:`adapters.state.StateStore`).
    """

    def __init__(self, commit: Callable[[list[T]], None], *, max_items: int = 512) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self._commit = commit
        self._max_items = max_items
        self._cond = threading.Condition(threading.Lock())
        self._queue: list[_Slot[T]] = []
        self._leading = False
        self.calls = 0
        """Calls of :meth:`submit` with items (for tests and benchmarks)."""
        self.commits = 0
        """Transactions committed or attempted: ``calls`` minus the calls that shared one."""

    def submit(self, items: Sequence[T]) -> None:
        """Store ``items``; returns once they are committed, raises what their commit raised."""
        if not items:
            return
        slot: _Slot[T] = _Slot(items)
        with self._cond:
            self._queue.append(slot)
            self.calls += 1
        while True:
            with self._cond:
                while not slot.done and self._leading:
                    self._cond.wait()
                if slot.done:
                    break
                self._leading = True
                batch = self._take()
            # Leading: usually this batch holds the caller's own rows; when the rows queued
            # before them filled it, the loop leads (or waits for) the next one.
            self._run(batch)
        if slot.error is not None:
            raise slot.error

    def _run(self, batch: list[_Slot[T]]) -> None:
        error: BaseException | None = None
        try:
            self._commit([item for s in batch for item in s.items])
        except BaseException as exc:  # noqa: BLE001 - handed to every caller in the batch, which re-raises it
            error = exc
        with self._cond:
            self.commits += 1
            for s in batch:
                s.done, s.error = True, error
            self._leading = False
            self._cond.notify_all()

    def _take(self) -> list[_Slot[T]]:
        """Dequeue whole slots, oldest first, up to ``max_items`` items (at least one slot)."""
        taken: list[_Slot[T]] = []
        count = 0
        while self._queue and (not taken or count + len(self._queue[0].items) <= self._max_items):
            s = self._queue.pop(0)
            taken.append(s)
            count += len(s.items)
        return taken
