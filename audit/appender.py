"""Group commit: many concurrent appends, one transaction per batch.

One writer thread takes whatever is queued (up to ``max_batch``), appends it
with :meth:`AuditLog.append_many` in a single transaction and then resolves
each caller's future. While a commit is in flight new appends queue up, so the
batch size follows the load and no latency is added when idle. Order within a
batch is arrival order; a failed commit fails every append of the batch
(fail closed: the hub must not return data whose entry is not stored).

The same thread issues time-based checkpoints (``CheckpointPolicy.every_seconds``).
For grpc.aio callers ``await appender.append_async(entry)``.

The commits go to a :class:`Committer`: an :class:`audit.store.AuditLog` itself, or
an :class:`audit.writer_process.WriterProcess` that runs the log's writer in a child
process (the hub's choice: see that module for why).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any, Protocol, Self

from audit.entry import Entry
from audit.errors import StoreError
from audit.store import AppendResult, StoredCheckpoint

_STOP = object()


class Committer(Protocol):
    """Where a batch is committed: ``AuditLog`` or ``WriterProcess``."""

    def append_many(self, entries: Sequence[Entry]) -> list[AppendResult]: ...

    def checkpoint_if_due(self) -> StoredCheckpoint | None: ...


class _LoopWaiter:
    """An asyncio future to resolve from the writer thread."""

    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[AppendResult]) -> None:
        self.loop = loop
        self.future = future


Waiter = Future[AppendResult] | _LoopWaiter


def _resolve(pairs: list[tuple[asyncio.Future[AppendResult], AppendResult | BaseException]]) -> None:
    for fut, outcome in pairs:
        if fut.done():
            continue  # the awaiting task was cancelled
        if isinstance(outcome, BaseException):
            fut.set_exception(outcome)
        else:
            fut.set_result(outcome)


def drain(q: queue.Queue[Any], first: Any, max_batch: int, stop: object) -> tuple[list[Any], bool]:
    """``first`` plus whatever else is queued now (at most ``max_batch`` items): one group commit.

    Returns the batch and whether ``stop`` was among the items. Never waits: under load
    the batch grows with the queue, when idle it is a batch of one (no added latency).
    """
    batch: list[Any] = []
    stopping = False
    item = first
    while True:
        if item is stop:
            stopping = True
        else:
            batch.append(item)
        if len(batch) >= max_batch:
            break
        try:
            item = q.get_nowait()
        except queue.Empty:
            break
    return batch, stopping


class BatchingAppender:
    """Thread-safe front of a :class:`Committer` that batches concurrent appends."""

    def __init__(self, log: Committer, *, max_batch: int = 512, tick_seconds: float = 1.0) -> None:
        self.log = log
        self.max_batch = max_batch
        self.tick_seconds = tick_seconds
        self._queue: queue.Queue[object] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="audit-appender", daemon=True)
        self._thread.start()

    def submit(self, entry: Entry) -> Future[AppendResult]:
        if self._closed:
            raise StoreError("the audit appender is closed")
        fut: Future[AppendResult] = Future()
        self._queue.put((entry, fut))
        return fut

    def append(self, entry: Entry, timeout: float | None = None) -> AppendResult:
        """Append and wait until the entry is committed."""
        return self.submit(entry).result(timeout)

    async def append_async(self, entry: Entry) -> AppendResult:
        """Append from a grpc.aio handler; resolved with one loop wake-up per batch, not per entry."""
        if self._closed:
            raise StoreError("the audit appender is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[AppendResult] = loop.create_future()
        self._queue.put((entry, _LoopWaiter(loop, fut)))
        return await fut

    def close(self) -> None:
        """Flush what is queued, then stop the writer thread."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=self.tick_seconds)
            except queue.Empty:
                self._tick()
                continue
            batch, stopping = drain(self._queue, first, self.max_batch, _STOP)
            if batch:
                self._commit(batch)
            self._tick()

    def _commit(self, batch: list[tuple[Entry, Waiter]]) -> None:
        live = [(e, w) for e, w in batch if isinstance(w, _LoopWaiter) or w.set_running_or_notify_cancel()]
        if not live:
            return
        outcomes: list[AppendResult | BaseException]
        try:
            outcomes = list(self.log.append_many([e for e, _ in live]))
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the failure
            err = StoreError(f"audit append failed: {type(exc).__name__}: {exc}")
            outcomes = [err] * len(live)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[AppendResult], AppendResult | BaseException]]] = {}
        for (_, waiter), outcome in zip(live, outcomes, strict=True):
            if isinstance(waiter, _LoopWaiter):
                by_loop.setdefault(waiter.loop, []).append((waiter.future, outcome))
            elif isinstance(outcome, BaseException):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)
        for loop, pairs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, pairs)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    def _tick(self) -> None:
        try:
            self.log.checkpoint_if_due()
        except Exception:
            import logging

            logging.getLogger(__name__).exception("time-based checkpoint failed; retrying next tick")
