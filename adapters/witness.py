"""The department adapter as a witness of the hub's audit log (issue 8, docs/adapters.md).

With ``[witness]`` configured, every FetchRecords must carry the hub's newest
signed checkpoint (a C2SP signed note, c2sp.org/tlog-checkpoint) and the index
of the audit entry recording this access. The adapter:

1. verifies the note's Ed25519 signature with the hub's verifier key and the
   checkpoint's origin (:func:`audit.checkpoint.verify_checkpoint`);
2. compares it with the newest checkpoint it stored: the first one is trusted
   on first use; a smaller one means the log was rolled back, an equal size
   with another root means it was forked, a larger one needs an RFC 9162
   section 2.1.4 consistency proof from the stored size
   (:func:`audit.merkle.verify_consistency`), else the log was rewritten;
3. refuses an entry index more than ``max_lag_entries`` beyond the checkpoint.

Every refusal is a :class:`WitnessError`; the servicer turns it into
FAILED_PRECONDITION before any department data is read. When the proof starts
from the wrong size, the error carries the stored size so the hub can retry
with the right proof (trailing metadata ``pingan-witness-size``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from adapters.errors import AdapterError
from adapters.model import WitnessConfig
from adapters.state import checkpoint as checkpoint_table
from audit.checkpoint import Checkpoint, NoteVerifier, verify_checkpoint
from audit.errors import AuditError, ProofError
from audit.merkle import verify_consistency
from pingan.driver_select import select_rows

SIZE_METADATA_KEY = "pingan-witness-size"
"""Trailing metadata naming the stored checkpoint size a consistency proof must start from."""

MAX_NOTE_CHARS = 16 * 1024
MAX_PROOF_HASHES = 128  # RFC 9162 proofs have at most ~2*log2(size) hashes; 128 covers 2**64 entries
_STORE_ATTEMPTS = 3
_VERIFIED_NOTES_KEPT = 64
# read on every witnessed fetch: built once
_STORED = sa.select(checkpoint_table.c.size, checkpoint_table.c.root_hash).where(
    checkpoint_table.c.origin == sa.bindparam("origin")
)


def detail(entry_index: int, checkpoint_size: int | None) -> str:
    """The access-log ``detail`` text for a witnessed call (accepted or refused)."""
    size = "?" if checkpoint_size is None else str(checkpoint_size)
    return f"witness entry={entry_index} checkpoint={size}"


class WitnessError(AdapterError):
    """The hub's witness does not hold; answered as FAILED_PRECONDITION.

    ``need_size`` is set when only the consistency proof's starting size was
    wrong: the size of the checkpoint this adapter stored.
    """

    def __init__(self, message: str, *, checkpoint_size: int | None = None, need_size: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.checkpoint_size = checkpoint_size
        self.need_size = need_size


@dataclass(frozen=True, slots=True)
class Witnessed:
    """An accepted witness: the access's audit entry index and the checkpoint's size."""

    entry_index: int
    checkpoint_size: int

    @property
    def detail(self) -> str:
        return detail(self.entry_index, self.checkpoint_size)


@dataclass(frozen=True, slots=True)
class _Stored:
    size: int
    root_hash: bytes


class Witness:
    """Checks witnesses against the hub's key and the newest checkpoint stored in ``engine``."""

    def __init__(
        self,
        config: WitnessConfig,
        verifier: NoteVerifier,
        engine: Engine,
        begin: Callable[[], AbstractContextManager[sa.Connection]] | None = None,
    ) -> None:
        """``begin`` opens the write transactions (default ``engine.begin``); the adapter passes
        :meth:`adapters.state.StateStore.begin` so they queue with its access-log commits."""
        self.config = config
        self.verifier = verifier
        self.engine = engine
        self._begin = begin or engine.begin
        self._verified: dict[str, Checkpoint] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        config: WitnessConfig,
        engine: Engine,
        begin: Callable[[], AbstractContextManager[sa.Connection]] | None = None,
    ) -> Witness:
        """Read the hub's verifier key (raises :class:`audit.errors.KeyFileError` naming the file)."""
        return cls(config, NoteVerifier.load(config.hub_key_file), engine, begin)

    def check(self, checkpoint_note: str, entry_index: int, proof: list[bytes], proof_from_size: int) -> Witnessed:
        """Verify one FetchRecords witness; store the checkpoint when it is newer. Raises WitnessError."""
        if not checkpoint_note:
            raise WitnessError(
                "this department witnesses the hub's audit log: FetchRecords must carry witness.checkpoint "
                "(the hub's newest signed checkpoint) and witness.entry_index"
            )
        if len(checkpoint_note) > MAX_NOTE_CHARS:
            raise WitnessError(f"the hub's checkpoint does not verify: longer than {MAX_NOTE_CHARS} characters")
        if len(proof) > MAX_PROOF_HASHES:
            raise WitnessError(f"witness.consistency_proof has {len(proof)} hashes, more than {MAX_PROOF_HASHES}")
        cp = self._verified_checkpoint(checkpoint_note)
        self._compare_and_store(cp, checkpoint_note, proof, proof_from_size)
        if entry_index >= cp.size + self.config.max_lag_entries:
            raise WitnessError(
                f"checkpoint too old for entry {entry_index}: checkpoint size {cp.size} is more than "
                f"witness.max_lag_entries={self.config.max_lag_entries} entries behind",
                checkpoint_size=cp.size,
            )
        return Witnessed(entry_index, cp.size)

    def _verified_checkpoint(self, note: str) -> Checkpoint:
        """Step 1. Every fetch of a profile carries the same note until the hub signs the next
        one, so a note that verified is remembered by its exact text (the key is fixed)."""
        with self._lock:
            known = self._verified.get(note)
        if known is not None:
            return known
        try:
            cp = verify_checkpoint(self.verifier, note, self.config.origin)
        except AuditError as exc:
            raise WitnessError(f"the hub's checkpoint does not verify: {exc}") from None
        with self._lock:
            if len(self._verified) >= _VERIFIED_NOTES_KEPT:
                self._verified.pop(next(iter(self._verified)))
            self._verified[note] = cp
        return cp

    def stored(self) -> Checkpoint | None:
        """The newest checkpoint stored for the configured origin (for operators and tests)."""
        found = self._read()
        return None if found is None else Checkpoint(self.config.origin, found.size, found.root_hash)

    # -- state -------------------------------------------------------------------

    def _read(self) -> _Stored | None:
        """The stored checkpoint, read on every FetchRecords: through the driver
        (:mod:`pingan.driver_select`, 29 against 81 us through ``Connection.execute``)."""
        rows = select_rows(self.engine, _STORED, {"origin": self.config.origin})
        return None if not rows else _Stored(int(rows[0][0]), bytes(rows[0][1]))

    def _compare_and_store(self, cp: Checkpoint, note: str, proof: list[bytes], proof_from_size: int) -> None:
        """Step 2 of the protocol; retried when a concurrent request stored another checkpoint first."""
        for _ in range(_STORE_ATTEMPTS):
            stored = self._read()
            if stored is None:
                if cp.size == 0 or self._insert(cp, note):
                    return  # trust on first use (an empty tree commits to nothing: not stored)
                continue
            self._compare(cp, stored, proof, proof_from_size)
            if cp.size == stored.size or self._advance(cp, note):
                return
        raise WitnessError(
            "the hub's checkpoints changed concurrently too often to be compared; retry", checkpoint_size=cp.size
        )

    def _compare(self, cp: Checkpoint, stored: _Stored, proof: list[bytes], proof_from_size: int) -> None:
        if cp.size < stored.size:
            raise WitnessError(
                f"checkpoint older than one already seen (size {cp.size} < {stored.size}): the log was rolled back",
                checkpoint_size=cp.size,
            )
        if cp.size == stored.size:
            if cp.root_hash != stored.root_hash:
                raise WitnessError(
                    f"two different checkpoints of size {cp.size}: the log was forked", checkpoint_size=cp.size
                )
            return
        if proof_from_size != stored.size:
            raise WitnessError(
                f"need a consistency proof from size {stored.size} (witness.proof_from_size is {proof_from_size})",
                checkpoint_size=cp.size,
                need_size=stored.size,
            )
        try:
            verify_consistency(stored.size, cp.size, stored.root_hash, cp.root_hash, proof)
        except ProofError as exc:
            raise WitnessError(
                f"checkpoint is not consistent with the one seen at size {stored.size}: the log was rewritten ({exc})",
                checkpoint_size=cp.size,
            ) from None

    def _insert(self, cp: Checkpoint, note: str) -> bool:
        try:
            with self._begin() as conn:
                conn.execute(checkpoint_table.insert().values(**self._values(cp, note)))
        except sa.exc.IntegrityError:
            return False  # another request stored the first checkpoint: compare with it
        return True

    def _advance(self, cp: Checkpoint, note: str) -> bool:
        """Conditional update: only a strictly larger checkpoint replaces the stored one."""
        t = checkpoint_table
        with self._begin() as conn:
            result = conn.execute(
                t.update()
                .where(t.c.origin == self.config.origin, t.c.size < cp.size)
                .values(**self._values(cp, note))
            )
        return result.rowcount == 1

    def _values(self, cp: Checkpoint, note: str) -> dict[str, object]:
        return {
            "origin": self.config.origin,
            "size": cp.size,
            "root_hash": cp.root_hash,
            "note": note,
            "seen_at": dt.datetime.now(dt.UTC),
        }
