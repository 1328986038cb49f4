"""Group commit for the policy decision log.

Every profile request records its decisions (the inputs replay needs) before the
decisions are used: an unrecorded decision is not given (``PolicyDecisionPoint``
denies when recording fails). With one transaction per request, concurrent requests
queue behind the database's write lock; here one writer thread commits whatever is
queued in one transaction and releases every waiting caller, so the number of
commits follows the load, and an idle hub adds no latency. A failed commit fails
every caller in the batch, so none of their decisions is given. The batching
loop is the audit log's (``audit.appender.drain``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Protocol

from audit.appender import drain
from hub.policy.decision_point import DecisionRecord
from hub.policy.errors import PolicyError

_STOP = object()


class DecisionSink(Protocol):
    """Where a batch is written: a :class:`hub.policy.store.PolicyStore`, or a
    :class:`hub.policy.decision_log_process.DecisionLogProcess` (its writes in a child)."""

    def record(self, records: Sequence[DecisionRecord]) -> None: ...


class DecisionLogWriter:
    """A callable recorder for :class:`PolicyDecisionPoint` that batches concurrent calls."""

    def __init__(self, store: DecisionSink, *, max_batch: int = 1024, timeout: float = 30.0) -> None:
        self._store = store
        self._max_batch = max_batch
        self._timeout = timeout
        self._queue: queue.Queue[object] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="policy-decision-log", daemon=True)
        self._thread.start()

    def __call__(self, records: Sequence[DecisionRecord]) -> None:
        """Record and wait for the commit; raises when it failed (the caller then denies)."""
        self.submit(records).result(self._timeout)

    def submit(self, records: Sequence[DecisionRecord]) -> Future[None]:
        """Queue ``records`` for the next commit without waiting: the future fails when the
        commit does. The caller must not act on the decisions before it has succeeded."""
        if self._closed:
            raise PolicyError("the decision log writer is closed")
        done: Future[None] = Future()
        self._queue.put((list(records), done))
        return done

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = drain(self._queue, self._queue.get(), self._max_batch, _STOP)
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[tuple[list[DecisionRecord], Future[None]]]) -> None:
        try:
            self._store.record([r for records, _ in batch for r in records])
        except Exception as exc:  # noqa: BLE001 - every waiting decision fails closed
            for _, done in batch:
                done.set_exception(PolicyError(f"decision log write failed: {type(exc).__name__}"))
            return
        for _, done in batch:
            done.set_result(None)
