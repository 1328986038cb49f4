"""The log itself: durable appends, stored subtree hashes, proofs, checkpoints.

Append (``append_many``) in one transaction: lock the head row (PostgreSQL
``SELECT ... FOR UPDATE``; SQLite ``BEGIN IMMEDIATE``), take the O(log n)
perfect subtrees that make up the current tree (its "compact range"), add the
leaves, insert entry rows and every perfect subtree the new leaves complete,
advance the head, and -- when a checkpoint is due -- compute the new root from
the compact range, check it against the stored subtrees and RFC 9162 consistency
with the previous checkpoint, and sign. The method returns only after COMMIT, so
the entry is durable before the caller continues; any failure raises and nothing
is written (fail closed).

The compact range is read from ``audit_tree`` unless this instance committed the
size the locked head shows: then nobody appended since, and the range it kept in
memory after that commit is the stored one (rows are append-only). The head's
size is always read under the lock, so other writers (replicas on one PostgreSQL,
``pingan audit`` commands) only cost the next append a read.

Several processes on one PostgreSQL serialise on the head row, so indices stay
gapless and every process extends the same tree. Proofs read O(log n) rows of
``audit_tree`` in one query (:mod:`audit.merkle`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from audit import merkle
from audit.checkpoint import Checkpoint, NoteSigner, verify_checkpoint
from audit.entry import AccessEntry, Entry, LoggedEntry, RateLimitedEntry, rfc3339
from audit.errors import CheckpointError, ProofError, StoreError
from audit.schema import (
    checkpoint_table,
    entry_table,
    head_table,
    make_engines,
    migrate,
    section_table,
    tree_table,
)
from pingan.bulk_insert import insert_rows

Key = tuple[int, int]


@dataclass(frozen=True)
class AppendResult:
    """Where an entry landed: its index and leaf hash (the hub returns these as the audit reference)."""

    index: int
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredEntry:
    """An entry row as read back."""

    index: int
    kind: str
    logged_at_us: int
    canonical: bytes
    leaf_hash: bytes

    def decode(self) -> LoggedEntry:
        return LoggedEntry.from_canonical(self.canonical)


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as stored."""

    size: int
    root_hash: bytes
    note: str
    issued_at_us: int


@dataclass(frozen=True)
class EntryFilter:
    """Query filter; empty fields match everything. Times are microseconds since the epoch."""

    since_us: int | None = None
    until_us: int | None = None
    caller: str = ""
    caller_department: str = ""  # the requesting department (sharing-rate pairs)
    person_id: str = ""
    department: str = ""
    outcome: str = ""
    purpose: str = ""
    kind: str = ""


@dataclass(frozen=True)
class CheckpointPolicy:
    """Issue a checkpoint every ``every_entries`` entries or ``every_seconds`` seconds, whichever first."""

    every_entries: int = 1000
    every_seconds: float = 60.0


def _now_us() -> int:
    return time.time_ns() // 1000


def _filter_columns(entry: Entry) -> dict[str, str]:
    caller = entry.caller.user if isinstance(entry, (AccessEntry, RateLimitedEntry)) else ""
    if not caller:
        caller = getattr(entry, "proposer", "") or getattr(entry, "actor", "")
    department = entry.caller.department if isinstance(entry, (AccessEntry, RateLimitedEntry)) else ""
    return {
        "request_id": entry.request_id[:128],
        "caller": caller[:128],
        "caller_department": department[:64],
        "person_id": (entry.person_id if isinstance(entry, AccessEntry) else "")[:128],
        "purpose": (entry.purpose if isinstance(entry, AccessEntry) else "")[:128],
    }


class _CompactRange:
    """The perfect subtrees covering [0, size), largest first, extended leaf by leaf."""

    def __init__(self, pieces: list[tuple[int, int, bytes]]) -> None:
        self.pieces = pieces  # (level, idx, hash)
        self.new_nodes: list[tuple[int, int, bytes]] = []

    def append(self, leaf: bytes, index: int) -> None:
        self.pieces.append((0, index, leaf))
        while len(self.pieces) >= 2 and self.pieces[-1][0] == self.pieces[-2][0]:
            lv, li, lh = self.pieces[-2]
            _, _, rh = self.pieces[-1]
            node = (lv + 1, li // 2, merkle.node_hash(lh, rh))
            del self.pieces[-2:]
            self.pieces.append(node)
            self.new_nodes.append(node)

    def root(self) -> bytes:
        if not self.pieces:
            return merkle.EMPTY_ROOT
        acc = self.pieces[-1][2]
        for _, _, h in reversed(self.pieces[:-1]):
            acc = merkle.node_hash(h, acc)
        return acc


class _KnownFrontier:
    """The compact range of the last size this instance committed (see module docstring).

    Valid for that size for good: the first ``size`` leaves of an append-only log never
    change. Several threads may append through one instance; only the largest committed
    size is kept.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._size = -1
        self._pieces: tuple[tuple[int, int, bytes], ...] = ()

    def pieces_at(self, size: int) -> list[tuple[int, int, bytes]] | None:
        """A copy of the kept range when it is the range of ``size``, else ``None``."""
        with self._lock:
            return list(self._pieces) if size == self._size else None

    def committed(self, size: int, pieces: Sequence[tuple[int, int, bytes]]) -> None:
        with self._lock:
            if size > self._size:
                self._size, self._pieces = size, tuple(pieces)


class AuditLog:
    """An append-only RFC 9162 log in a SQL database.

    ``signer`` and ``origin`` enable checkpoints; ``policy`` says when they are
    issued (counted here; the time trigger is driven by :meth:`checkpoint_if_due`,
    which :class:`audit.appender.BatchingAppender` calls periodically).
    """

    def __init__(
        self,
        url: str,
        *,
        origin: str = "pingan-hub/audit",
        signer: NoteSigner | None = None,
        policy: CheckpointPolicy = CheckpointPolicy(),
        create: bool = True,
    ) -> None:
        self.url = url
        self.origin = origin
        self.signer = signer
        self.policy = policy
        self._reader, self._writer = make_engines(url)
        self._newest: StoredCheckpoint | None = None
        self._newest_lock = threading.Lock()
        self._frontier = _KnownFrontier()
        if create:
            migrate(self._writer)

    @property
    def dialect(self) -> str:
        return self._writer.dialect.name

    def close(self) -> None:
        self._reader.dispose()
        if self._writer is not self._reader:
            self._writer.dispose()

    # ---- appends -----------------------------------------------------------------

    def append(self, entry: Entry) -> AppendResult:
        """Append one entry; returns after it is committed."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[Entry]) -> list[AppendResult]:
        """Append entries in order, in one transaction (group commit)."""
        if not entries:
            return []
        with self._writer.begin() as conn:
            results, newest, crange = self._append_locked(conn, entries)
        # Only after COMMIT: a rolled-back range or checkpoint is never reused or handed out.
        self._frontier.committed(results[-1].index + 1, crange.pieces)
        self.remember(newest)
        return results

    def _append_locked(
        self, conn: sa.Connection, entries: Sequence[Entry]
    ) -> tuple[list[AppendResult], StoredCheckpoint | None, _CompactRange]:
        """Append under the head lock; also returns the newest checkpoint as of this
        transaction and the compact range of the new size."""
        size = _locked_size(conn)
        pieces = self._frontier.pieces_at(size)
        crange = _CompactRange(pieces if pieces is not None else _stored_range(conn, size))
        now_us = _now_us()
        logged_at = rfc3339(datetime.fromtimestamp(now_us / 1_000_000, UTC))
        entry_rows, section_rows, results = [], [], []
        for offset, entry in enumerate(entries):
            index = size + offset
            canonical = LoggedEntry(index, logged_at, entry).to_canonical()
            leaf = merkle.leaf_hash(canonical)
            crange.append(leaf, index)
            entry_rows.append(
                {
                    "idx": index,
                    "kind": entry.KIND,
                    "logged_at_us": now_us,
                    "canonical": canonical,
                    "leaf_hash": leaf,
                    **_filter_columns(entry),
                }
            )
            if isinstance(entry, AccessEntry):
                section_rows.extend(
                    {"entry_idx": index, "pos": pos, "department": s.department, "outcome": s.outcome.value}
                    for pos, s in enumerate(entry.sections)
                )
            results.append(AppendResult(index, leaf))
        new_size = size + len(entries)
        tree_rows = [{"level": 0, "idx": r["idx"], "hash": r["leaf_hash"]} for r in entry_rows]
        tree_rows.extend({"level": lv, "idx": i, "hash": h} for lv, i, h in crange.new_nodes)
        # One multi-row statement per table (pingan/bulk_insert.py: fewer GIL hand-offs under load).
        insert_rows(conn, entry_table, entry_rows)
        insert_rows(conn, section_table, section_rows)
        insert_rows(conn, tree_table, tree_rows)
        ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        if self.signer is None:
            conn.exec_driver_sql(f"UPDATE audit_head SET size = {ph} WHERE id = 1", (new_size,))
            return results, None, crange
        # The newest checkpoint's size in the same statement: its snapshot is taken under the
        # head lock, which every checkpoint is signed under, so none committed before is missed.
        newest_size = conn.exec_driver_sql(
            f"UPDATE audit_head SET size = {ph} WHERE id = 1 RETURNING (SELECT max(size) FROM audit_checkpoint)",
            (new_size,),
        ).scalar_one()
        last = self._checkpoint_of_size(conn, newest_size)
        last_size = last.size if last else 0
        if new_size - last_size >= self.policy.every_entries:
            root = crange.root()
            if merkle.tree_root(new_size, _ConnSource(conn)) != root:
                raise CheckpointError(
                    f"refusing to sign size {new_size}: the stored subtrees do not match the appended leaves"
                )
            last = self._sign_locked(conn, new_size, root, last, now_us)
        return results, last, crange

    def _checkpoint_of_size(self, conn: sa.Connection, size: int | None) -> StoredCheckpoint | None:
        """The stored checkpoint of ``size`` (the newest): the one this instance knows when
        its size matches (checkpoint rows are append-only), else read."""
        if size is None:
            return None
        known = self._newest
        if known is not None and known.size == size:
            return known
        return _latest_checkpoint(conn)

    # ---- checkpoints -------------------------------------------------------------

    def checkpoint(self) -> StoredCheckpoint:
        """Sign a checkpoint for the current size now (or return the latest if the log has not grown)."""
        if self.signer is None:
            raise CheckpointError("this log was opened without a signing key")
        with self._writer.begin() as conn:
            size = _locked_size(conn)
            last = _latest_checkpoint(conn)
            if last is None or last.size != size:
                if size == 0:
                    raise CheckpointError("the log is empty; nothing to checkpoint")
                root = merkle.tree_root(size, _ConnSource(conn))
                last = self._sign_locked(conn, size, root, last, _now_us())
        self.remember(last)
        return last

    def checkpoint_if_due(self) -> StoredCheckpoint | None:
        """Sign when the log grew and the newest checkpoint is older than ``policy.every_seconds``."""
        if self.signer is None:
            return None
        known = self._newest
        if known is not None and _now_us() - known.issued_at_us < self.policy.every_seconds * 1_000_000:
            return None  # not due: a newer checkpoint from another process only makes it less due
        with self._reader.connect() as conn:
            size = conn.execute(sa.select(head_table.c.size).where(head_table.c.id == 1)).scalar_one()
            last = _latest_checkpoint(conn)
        self.remember(last)
        if size == 0 or (last is not None and last.size >= size):
            return None
        if last is not None and _now_us() - last.issued_at_us < self.policy.every_seconds * 1_000_000:
            return None
        return self.checkpoint()

    def _sign_locked(
        self, conn: sa.Connection, size: int, root: bytes, last: StoredCheckpoint | None, now_us: int
    ) -> StoredCheckpoint:
        """Never sign a checkpoint inconsistent with the previous one (RFC 9162 section 2.1.4)."""
        assert self.signer is not None
        if last is not None:
            prev = verify_checkpoint(self.signer.verifier, last.note, self.origin)
            if prev.size != last.size or prev.root_hash != last.root_hash:
                raise CheckpointError(f"stored checkpoint at size {last.size} does not match its own note")
            proof = merkle.consistency_proof(prev.size, size, _ConnSource(conn))
            try:
                merkle.verify_consistency(prev.size, size, prev.root_hash, root, proof)
            except ProofError as exc:
                raise CheckpointError(
                    f"refusing to sign size {size}: tree is not consistent with checkpoint {prev.size} ({exc})"
                ) from exc
        note = self.signer.sign(Checkpoint(self.origin, size, root).body())
        row = StoredCheckpoint(size, root, note, now_us)
        conn.execute(checkpoint_table.insert().values(size=size, root_hash=root, note=note, issued_at_us=now_us))
        return row

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The newest checkpoint in the database (a read)."""
        with self._reader.connect() as conn:
            latest = _latest_checkpoint(conn)
        self.remember(latest)
        return latest

    def newest_checkpoint(self) -> StoredCheckpoint | None:
        """The newest checkpoint as of this instance's last append, signature or read: no query.

        Every append reads the newest checkpoint inside its transaction, under the head
        lock that also serialises other processes' appends and checkpoints, so after an
        entry is appended this is at least as new as any checkpoint that existed when the
        entry was committed: what a receipt and a department witness need. A checkpoint
        signed elsewhere later is seen at this instance's next append. ``None`` until this
        instance has seen one.
        """
        return self._newest

    def remember(self, checkpoint: StoredCheckpoint | None) -> None:
        """Keep ``checkpoint`` as the newest known when it is newer: this instance's own
        appends and reads call it, and so does :class:`audit.writer_process.WriterProcess`
        with what its child appended."""
        if checkpoint is None:
            return
        with self._newest_lock:
            if self._newest is None or checkpoint.size > self._newest.size:
                self._newest = checkpoint

    def checkpoints(self, min_size: int = 0, max_size: int | None = None) -> list[StoredCheckpoint]:
        q = sa.select(checkpoint_table).where(checkpoint_table.c.size >= min_size).order_by(checkpoint_table.c.size)
        if max_size is not None:
            q = q.where(checkpoint_table.c.size <= max_size)
        with self._reader.connect() as conn:
            return [StoredCheckpoint(r.size, r.root_hash, r.note, r.issued_at_us) for r in conn.execute(q)]

    def checkpoint_at_or_after(self, size: int) -> StoredCheckpoint | None:
        q = sa.select(checkpoint_table).where(checkpoint_table.c.size >= size).order_by(checkpoint_table.c.size)
        with self._reader.connect() as conn:
            r = conn.execute(q.limit(1)).first()
        return StoredCheckpoint(r.size, r.root_hash, r.note, r.issued_at_us) if r else None

    # ---- reads and proofs --------------------------------------------------------

    def size(self) -> int:
        with self._reader.connect() as conn:
            return conn.execute(sa.select(head_table.c.size).where(head_table.c.id == 1)).scalar_one()

    def perfect_hashes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        with self._reader.connect() as conn:
            return _fetch_perfect(conn, keys, strict=True)

    def root(self, size: int | None = None) -> bytes:
        with self._reader.connect() as conn:
            n = _checked_size(conn, size)
            return merkle.tree_root(n, _ConnSource(conn))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 section 2.1.3.1 from stored subtrees: one query, O(log n) rows."""
        with self._reader.connect() as conn:
            _checked_size(conn, size)
            return merkle.inclusion_proof(index, size, _ConnSource(conn))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """RFC 9162 section 2.1.4.1 from stored subtrees: one query, O(log n) rows."""
        with self._reader.connect() as conn:
            _checked_size(conn, size2)
            return merkle.consistency_proof(size1, size2, _ConnSource(conn))

    def entries(self, start: int, end: int, batch: int = 5000) -> Iterator[StoredEntry]:
        """Entries with start <= index < end, in order, read in batches."""
        pos = start
        while pos < end:
            q = (
                sa.select(entry_table)
                .where(entry_table.c.idx >= pos, entry_table.c.idx < min(end, pos + batch))
                .order_by(entry_table.c.idx)
            )
            with self._reader.connect() as conn:
                rows = conn.execute(q).all()
            for r in rows:
                yield StoredEntry(r.idx, r.kind, r.logged_at_us, r.canonical, r.leaf_hash)
            pos += batch

    def entry(self, index: int) -> StoredEntry | None:
        return next(self.entries(index, index + 1), None)

    def query(self, flt: EntryFilter, from_index: int = 0, limit: int = 100) -> list[StoredEntry]:
        """Entries matching ``flt`` with index >= from_index, in log order, at most ``limit``."""
        e = entry_table.c
        conds: list[sa.ColumnElement[bool]] = [e.idx >= from_index]
        if flt.since_us is not None:
            conds.append(e.logged_at_us >= flt.since_us)
        if flt.until_us is not None:
            conds.append(e.logged_at_us < flt.until_us)
        exact = (
            (e.caller, flt.caller),
            (e.caller_department, flt.caller_department),
            (e.person_id, flt.person_id),
            (e.purpose, flt.purpose),
            (e.kind, flt.kind),
        )
        for col, value in exact:
            if value:
                conds.append(col == value)
        if flt.department or flt.outcome:
            s = section_table.c
            sub = [s.entry_idx == e.idx]
            if flt.department:
                sub.append(s.department == flt.department)
            if flt.outcome:
                sub.append(s.outcome == flt.outcome)
            conds.append(sa.exists().where(*sub))
        q = sa.select(entry_table).where(*conds).order_by(e.idx).limit(limit)
        with self._reader.connect() as conn:
            return [StoredEntry(r.idx, r.kind, r.logged_at_us, r.canonical, r.leaf_hash) for r in conn.execute(q)]

    # ---- bulk loading (benchmarks) -------------------------------------------------

    def bulk_load(self, entries: Iterable[Entry], chunk: int = 20000) -> int:
        """Append many entries in large transactions (same code path, bigger groups); returns the new size."""
        buf: list[Entry] = []
        for entry in entries:
            buf.append(entry)
            if len(buf) >= chunk:
                self.append_many(buf)
                buf = []
        if buf:
            self.append_many(buf)
        return self.size()


class _ConnSource:
    """A HashSource reading within an open transaction (sees its own uncommitted rows)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def perfect_hashes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        return _fetch_perfect(self.conn, keys, strict=True)


def _stored_range(conn: sa.Connection, size: int) -> list[tuple[int, int, bytes]]:
    """The compact range of the first ``size`` leaves, read from ``audit_tree`` (one query)."""
    keys = merkle.perfect_pieces(0, size)
    found = _fetch_perfect(conn, keys)
    try:
        return [(lv, i, found[(lv, i)]) for lv, i in keys]
    except KeyError as exc:
        raise StoreError(f"the stored tree lacks subtree {exc.args[0]} of a {size}-entry log") from exc


def _fetch_perfect(conn: sa.Connection, keys: Sequence[Key], strict: bool = False) -> dict[Key, bytes]:
    """One query for all requested (level, idx) rows.

    Raw driver SQL with a fixed shape per key count: building the equivalent
    SQLAlchemy expression costs more than the query itself (bench/audit_log.py).
    """
    if not keys:
        return {}
    ph = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    where = " OR ".join([f"(level = {ph} AND idx = {ph})"] * len(keys))
    params = tuple(v for k in keys for v in k)
    rows = conn.exec_driver_sql(f"SELECT level, idx, hash FROM audit_tree WHERE {where}", params).fetchall()
    found = {(r[0], r[1]): bytes(r[2]) for r in rows}
    if strict:
        missing = [k for k in keys if k not in found]
        if missing:
            raise ProofError(f"the stored tree lacks subtree (level, index) {missing[0]}")
    return found


def _checked_size(conn: sa.Connection, size: int | None) -> int:
    current = conn.exec_driver_sql("SELECT size FROM audit_head WHERE id = 1").scalar_one()
    if size is None:
        return current
    if size > current:
        raise ProofError(f"tree size {size} exceeds the log's size {current}")
    return size


def _locked_size(conn: sa.Connection) -> int:
    """The head's size, locked for this transaction (PostgreSQL row lock; SQLite holds the write lock)."""
    lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    return int(conn.exec_driver_sql(f"SELECT size FROM audit_head WHERE id = 1{lock}").scalar_one())


def _latest_checkpoint(conn: sa.Connection) -> StoredCheckpoint | None:
    """Raw SQL: this runs in every append transaction, and building the expression cost more than the query."""
    r = conn.exec_driver_sql(
        "SELECT size, root_hash, note, issued_at_us FROM audit_checkpoint ORDER BY size DESC LIMIT 1"
    ).first()
    return StoredCheckpoint(int(r[0]), bytes(r[1]), r[2], int(r[3])) if r else None
