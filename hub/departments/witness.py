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
        self._lock = threading.Lock()

    def head(self) -> SignedHead:
        """The newest checkpoint; signs one now when there is none yet (never of an empty log)."""
        latest = self._log.latest_checkpoint()
        if latest is None or latest.size == 0:
            latest = self._log.checkpoint()
        return SignedHead(latest.note, latest.size)

    def witness(
        self, department: str, entry_index: int, head: SignedHead, from_size: int | None = None
    ) -> adapter_pb2.AuditWitness:
        if from_size is None:
            with self._lock:
                from_size = self._accepted.get(department, 0)
        proof: list[bytes] = []
        if 0 < from_size < head.size:
            proof = self._log.consistency_proof(from_size, head.size)
        return adapter_pb2.AuditWitness(
            checkpoint=head.note, entry_index=entry_index, consistency_proof=proof, proof_from_size=from_size
        )

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
