"""What every FetchRecords carries so a department can witness the hub's audit log.

Issue 8 item 2, DESIGN.md flow 3: each fetch names the audit entry recording the
access (appended before any fetch) and the hub's newest signed checkpoint, with an
RFC 9162 consistency proof from the newest checkpoint that department has already
accepted. A department that has seen a larger checkpoint, or one of the same size
with another root, or cannot verify the proof, refuses (FAILED_PRECONDITION): a
rewritten or forked log stops getting data. The hub remembers per department the
size it last got accepted; when it does not know it (after a restart), the adapter
answers with the size it holds in the trailing metadata ``pingan-witness-size`` and
the hub retries once with a proof from there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from audit.store import AuditLog
from pingan.v1 import adapter_pb2

WITNESS_SIZE_KEY = "pingan-witness-size"
_PROOFS_KEPT = 64


@dataclass(frozen=True, slots=True)
class SignedHead:
    """The checkpoint a request is witnessed under."""

    note: str
    size: int


class WitnessSource:
    """Builds AuditWitness messages from the audit log; tracks what each department accepted."""

    def __init__(self, log: AuditLog) -> None:
        self._log = log
        self._accepted: dict[str, int] = {}
        self._proofs: dict[tuple[int, int], list[bytes]] = {}  # (from, to) -> proof; departments share them
        self._lock = threading.Lock()

    def known_head(self) -> SignedHead | None:
        """The newest checkpoint as of the access's intent entry, without a query.

        The intent entry is appended before any fetch, and every append reads the
        newest checkpoint in its transaction (:meth:`AuditLog.newest_checkpoint`).
        ``None`` when there is none yet: then :meth:`head` signs one.
        """
        latest = self._log.newest_checkpoint()
        return None if latest is None or latest.size == 0 else SignedHead(latest.note, latest.size)

    def head(self, fresh: bool = False) -> SignedHead:
        """The newest checkpoint (read from the database when ``fresh``); signs one now when
        there is none yet (never of an empty log)."""
        latest = self._log.latest_checkpoint() if fresh else self._log.newest_checkpoint()
        if latest is None or latest.size == 0:
            latest = self._log.checkpoint()
        return SignedHead(latest.note, latest.size)

    def ready(self, department: str, head: SignedHead) -> bool:
        """Whether :meth:`witness` for this department needs no database read."""
        with self._lock:
            from_size = self._accepted.get(department, 0)
            return not 0 < from_size < head.size or (from_size, head.size) in self._proofs

    def witness(
        self, department: str, entry_index: int, head: SignedHead, from_size: int | None = None
    ) -> adapter_pb2.AuditWitness:
        if from_size is None:
            with self._lock:
                from_size = self._accepted.get(department, 0)
        proof: list[bytes] = []
        if 0 < from_size < head.size:
            proof = self._proof(from_size, head.size)
        return adapter_pb2.AuditWitness(
            checkpoint=head.note, entry_index=entry_index, consistency_proof=proof, proof_from_size=from_size
        )

    def _proof(self, size1: int, size2: int) -> list[bytes]:
        """RFC 9162 section 2.1.4.1 consistency proof, kept for the other departments that
        accepted the same checkpoint (the log is append-only, so a proof never changes)."""
        with self._lock:
            cached = self._proofs.get((size1, size2))
        if cached is not None:
            return cached
        proof = self._log.consistency_proof(size1, size2)
        with self._lock:
            if len(self._proofs) >= _PROOFS_KEPT:
                self._proofs.pop(next(iter(self._proofs)))
            self._proofs[(size1, size2)] = proof
        return proof

    def accepted(self, department: str, size: int) -> None:
        with self._lock:
            if size > self._accepted.get(department, 0):
                self._accepted[department] = size


def requested_size(trailers: tuple[tuple[str, str], ...]) -> int | None:
    """The checkpoint size an adapter asks a proof from, if it asked."""
    for key, value in trailers:
        if key == WITNESS_SIZE_KEY and value.isdigit():
            return int(value)
    return None
