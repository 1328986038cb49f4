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
every caller of it, so no data leaves the hub), and the next batch starts a new child
(the process handling is :mod:`pingan.child_process`, shared with the decision log).
A batch whose child died may still have been committed: an entry without a response
is harmless; a response without an entry is what must never happen.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from audit.checkpoint import NoteSigner
from audit.entry import Entry
from audit.errors import StoreError
from audit.store import AppendResult, AuditLog, CheckpointPolicy, StoredCheckpoint
from pingan.child_process import ChildBacked, ChildProcess


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


class _Writer:
    """The child's side: the log opened once; each answer carries the newest checkpoint."""

    def __init__(self, spec: WriterSpec) -> None:
        signer = NoteSigner.from_skey(spec.signer_skey, "audit writer key") if spec.signer_skey else None
        self.store = AuditLog(spec.url, origin=spec.origin, signer=signer, policy=spec.policy, create=False)
        self.store.size()  # a log that cannot be read cannot be appended to: say so now, not per batch

    def handle(self, op: str, payload: Any) -> tuple[Any, StoredCheckpoint | None]:
        if op == "append":
            answer: Any = self.store.append_many(payload)
        elif op == "tick":
            answer = self.store.checkpoint_if_due()
        else:
            raise StoreError(f"unknown writer request {op!r}")
        return answer, self.store.newest_checkpoint()

    def close(self) -> None:
        self.store.close()


class WriterProcess(ChildBacked):
    """``append_many`` and ``checkpoint_if_due`` of an :class:`AuditLog`, run in a child process.

    ``mirror`` is the log this process reads from; it learns every checkpoint the child
    reports. Failures are :class:`StoreError`: the appender fails every caller of the batch;
    ``wait_ready`` raises it when the child cannot open the log.
    """

    def __init__(self, mirror: AuditLog, *, answer_timeout: float = 60.0, start_timeout: float = 60.0) -> None:
        self.mirror = mirror
        self.spec = WriterSpec.of(mirror)
        self._child = ChildProcess(
            _Writer,
            self.spec,
            name="audit-writer",
            error=StoreError,
            answer_timeout=answer_timeout,
            start_timeout=start_timeout,
        )

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

    def _call(self, op: str, payload: object) -> Any:
        answer, newest = self._child.call(op, payload)
        self.mirror.remember(newest)
        return answer
