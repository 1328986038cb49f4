"""The audit log's writer in a process of its own: group commits off the hub's GIL.

Why: in the hub, the group-commit thread (:class:`audit.appender.BatchingAppender`)
shares one GIL with the grpc.aio event loop. Every statement of a commit (lock the
head, insert entries, sections and subtrees, advance the head, COMMIT) releases the
GIL inside the driver and must win it back from the busy loop, which takes up to
``sys.getswitchinterval()`` (5 ms) each time. Under 100 profiles/s a commit that needs
about 2 ms of CPU took 14 ms p50 of wall time, and every profile waits for two of them
(docs/benchmarks.md, "Profile load"). Here the commit runs under its own GIL; the
hub's appender thread hands the batch over a pipe and waits for one answer.

The child opens its own :class:`audit.store.AuditLog` on the same URL with the same
signing key, so the store's guarantees are unchanged: one transaction per batch
under the head lock, checkpoints signed consistently (RFC 9162 section 2.1.4). Each
answer carries the newest checkpoint the append saw, which the hub's own
``AuditLog`` (the mirror that serves reads, receipts and witness notes) remembers:
:meth:`AuditLog.newest_checkpoint` keeps its meaning.

Fail closed: when the child answers with an error, exits or does not answer within
``answer_timeout``, the whole batch fails with :class:`StoreError` (the appender fails
every caller of it, so no data leaves the hub), and the next batch starts a new child.
A batch whose child died may still have been committed: an entry without a response
is harmless; a response without an entry is what must never happen.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Self

from audit.checkpoint import NoteSigner
from audit.entry import Entry
from audit.errors import StoreError
from audit.store import AppendResult, AuditLog, CheckpointPolicy, StoredCheckpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriterSpec:
    """What the child needs to open the log: everything picklable, the key as its text form."""

    url: str
    origin: str
    signer_skey: str | None
    policy: CheckpointPolicy

    @classmethod
    def of(cls, log_: AuditLog) -> WriterSpec:
        """The spec of an open log: same URL, origin, signing key and checkpoint policy."""
        skey = log_.signer.to_skey() if log_.signer is not None else None
        return cls(log_.url, log_.origin, skey, log_.policy)


def _serve(conn: Connection, spec: WriterSpec) -> None:
    """The child's loop: one request, one answer, until ``close`` or the parent goes away."""
    try:
        signer = NoteSigner.from_skey(spec.signer_skey, "audit writer key") if spec.signer_skey else None
        store = AuditLog(spec.url, origin=spec.origin, signer=signer, policy=spec.policy, create=False)
        store.size()  # a log that cannot be read cannot be appended to: say so now, not per batch
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which refuses to start
        conn.send(("err", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", store.dialect))
    try:
        while True:
            try:
                op, payload = conn.recv()
            except (EOFError, OSError):
                return  # the hub is gone: nothing is waiting for an answer
            if op == "close":
                conn.send(("ok", None, None))
                return
            try:
                if op == "append":
                    answer: Any = store.append_many(payload)
                elif op == "tick":
                    answer = store.checkpoint_if_due()
                else:
                    raise StoreError(f"unknown writer request {op!r}")
            except Exception as exc:  # noqa: BLE001 - the batch fails, the writer stays up
                conn.send(("err", f"{type(exc).__name__}: {exc}"))
                continue
            conn.send(("ok", answer, store.newest_checkpoint()))
    finally:
        store.close()


class WriterProcess:
    """``append_many`` and ``checkpoint_if_due`` of an :class:`AuditLog`, run in a child process.

    Called from one thread at a time (the appender's writer thread); a lock makes
    other callers wait their turn. ``mirror`` is the log this process reads from; it
    learns every checkpoint the child reports.
    """

    def __init__(self, mirror: AuditLog, *, answer_timeout: float = 60.0, start_timeout: float = 60.0) -> None:
        self.mirror = mirror
        self.spec = WriterSpec.of(mirror)
        self.answer_timeout = answer_timeout
        self.start_timeout = start_timeout
        self._context = multiprocessing.get_context("spawn")  # never fork a process that runs gRPC
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None
        self._ready = False
        self._closed = False
        self._start()

    @property
    def pid(self) -> int | None:
        """The child's process id (``None`` between a failure and the next start)."""
        return self._proc.pid if self._proc is not None else None

    def append_many(self, entries: Sequence[Entry]) -> list[AppendResult]:
        """Append in one transaction in the child; returns after its COMMIT."""
        if not entries:
            return []
        results: list[AppendResult] = self._call("append", list(entries))
        return results

    def checkpoint_if_due(self) -> StoredCheckpoint | None:
        """Sign a time-based checkpoint in the child when one is due.

        Decided here first, as :meth:`AuditLog.checkpoint_if_due` does, from the newest
        checkpoint known: a checkpoint younger than ``every_seconds`` costs no round trip.
        """
        if self.spec.signer_skey is None:
            return None
        known = self.mirror.newest_checkpoint()
        if known is not None and time.time_ns() // 1000 - known.issued_at_us < self.spec.policy.every_seconds * 1_000_000:
            return None
        signed: StoredCheckpoint | None = self._call("tick", None)
        return signed

    def close(self) -> None:
        """Stop the child once it has answered everything asked of it."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._conn is not None:
                try:
                    self._conn.send(("close", None))
                    # a child still starting answers "ready" first, then the close
                    while self._conn.poll(self.answer_timeout) and self._conn.recv()[0] == "ready":
                        pass
                except (EOFError, OSError):
                    pass
            self._stop_child()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the child ---------------------------------------------------------------------------

    def _start(self) -> None:
        """Spawn the child; :meth:`wait_ready` (or the first call) waits for it to open the log."""
        parent, child = self._context.Pipe(duplex=True)
        proc = self._context.Process(target=_serve, args=(child, self.spec), name="audit-writer", daemon=True)
        proc.start()
        child.close()  # only the child holds its end now: its exit reads as EOF here
        self._proc, self._conn, self._ready = proc, parent, False

    def wait_ready(self) -> None:
        """Wait until the child has opened the log; raises :class:`StoreError` if it cannot."""
        with self._lock:
            if self._closed:
                raise StoreError("the audit writer is closed")
            self._ensure_ready()

    def _ensure_ready(self) -> None:
        if self._conn is None:
            self._start()  # the previous child failed
        if self._ready:
            return
        conn = self._conn
        assert conn is not None
        try:
            if not conn.poll(self.start_timeout):
                raise StoreError(f"the audit writer process did not start within {self.start_timeout:g} s")
            answer = conn.recv()
        except (EOFError, OSError):
            self._stop_child()
            raise StoreError("the audit writer process exited while starting") from None
        except StoreError:
            self._stop_child()
            raise
        if answer[0] != "ready":
            self._stop_child()
            raise StoreError(f"the audit writer process could not open the log: {answer[1]}")
        self._ready = True

    def _call(self, op: str, payload: object) -> Any:
        with self._lock:
            if self._closed:
                raise StoreError("the audit writer is closed")
            self._ensure_ready()  # raises StoreError when a child cannot start
            conn = self._conn
            assert conn is not None
            try:
                conn.send((op, payload))
                if not conn.poll(self.answer_timeout):
                    raise StoreError(f"the audit writer process did not answer within {self.answer_timeout:g} s")
                answer = conn.recv()
            except (EOFError, OSError, StoreError) as exc:
                self._stop_child()
                if isinstance(exc, StoreError):
                    raise
                raise StoreError("the audit writer process exited; this batch is not known to be stored") from None
        if answer[0] == "err":
            raise StoreError(answer[1])
        _, result, newest = answer
        self.mirror.remember(newest)
        return result

    def _stop_child(self) -> None:
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        self._ready = False
        if conn is not None:
            conn.close()
        if proc is not None:
            proc.join(5.0)
            if proc.is_alive():
                log.error("the audit writer process (pid %s) did not stop; killing it", proc.pid)
                proc.kill()
                proc.join(5.0)
