"""AuditLog on real SQLite and PostgreSQL: appends, proofs, triggers, checkpoints, concurrency."""

from __future__ import annotations

import asyncio
import multiprocessing

import pytest
import sqlalchemy as sa
from audit_factories import ORIGIN, append_from_threads, make_access

from audit import merkle
from audit.appender import BatchingAppender
from audit.checkpoint import verify_checkpoint
from audit.entry import LoggedEntry, Outcome
from audit.errors import CheckpointError, ProofError, StoreError
from audit.store import AuditLog, CheckpointPolicy, EntryFilter


def _log(url: str, signer=None, every: int = 1000) -> AuditLog:  # type: ignore[no-untyped-def]
    return AuditLog(url, origin=ORIGIN, signer=signer, policy=CheckpointPolicy(every_entries=every, every_seconds=3600))


def test_appends_are_indexed_and_proofs_come_from_stored_subtrees(database_url: str) -> None:
    log = _log(database_url)
    results = [log.append(make_access(i)) for i in range(5)]
    results += log.append_many([make_access(i) for i in range(5, 37)])
    assert [r.index for r in results] == list(range(37))
    stored = list(log.entries(0, 37))
    assert [merkle.leaf_hash(e.canonical) for e in stored] == [r.leaf_hash for r in results]
    assert [e.decode().index for e in stored] == list(range(37))
    tree = merkle.MemoryTree([r.leaf_hash for r in results])
    for size in (1, 2, 3, 8, 13, 36, 37):
        assert log.root(size) == tree.root(size)
        for index in {0, size // 2, size - 1}:
            proof = log.inclusion_proof(index, size)
            assert proof == tree.inclusion_proof(index, size)
            merkle.verify_inclusion(results[index].leaf_hash, index, size, proof, log.root(size))
        for size1 in {1, size // 2 or 1, size}:
            merkle.verify_consistency(size1, size, log.root(size1), log.root(size), log.consistency_proof(size1, size))
    with pytest.raises(ProofError, match="exceeds"):
        log.inclusion_proof(0, 38)
    log.close()


def test_proof_reads_only_logarithmically_many_rows(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import audit.store

    log = _log(database_url)
    log.append_many([make_access(i) for i in range(1000)])
    seen: list[int] = []
    real = audit.store._fetch_perfect

    def counting(conn, keys, strict=False):  # type: ignore[no-untyped-def]
        seen.append(len(keys))
        return real(conn, keys, strict)

    monkeypatch.setattr(audit.store, "_fetch_perfect", counting)
    tree = merkle.MemoryTree([e.leaf_hash for e in log.entries(0, 1000)])
    assert log.inclusion_proof(617, 1000) == tree.inclusion_proof(617, 1000)
    assert log.consistency_proof(333, 1000) == tree.consistency_proof(333, 1000)
    assert len(seen) == 2 and max(seen) <= 2 * 10  # one query each, O(log n) keys
    log.close()


@pytest.mark.parametrize("table", ["audit_entry", "audit_section", "audit_tree", "audit_checkpoint"])
def test_triggers_reject_update_and_delete(database_url: str, signer, table: str) -> None:  # type: ignore[no-untyped-def]
    log = _log(database_url, signer, every=2)
    log.append_many([make_access(i) for i in range(3)])
    engine = sa.create_engine(database_url)
    column = {"audit_entry": "kind", "audit_section": "outcome", "audit_tree": "hash", "audit_checkpoint": "note"}[table]
    value = "'x'" if column != "hash" else ("X'00'" if engine.dialect.name == "sqlite" else "'\\x00'::bytea")
    for stmt in (f"UPDATE {table} SET {column} = {value}", f"DELETE FROM {table}"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(stmt))
    if engine.dialect.name == "postgresql":
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {table}"))
    with engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() > 0
    engine.dispose()
    log.close()


def test_checkpoints_every_n_entries_are_signed_and_consistent(database_url: str, signer) -> None:  # type: ignore[no-untyped-def]
    log = _log(database_url, signer, every=10)
    for i in range(0, 45, 5):
        log.append_many([make_access(j) for j in range(i, i + 5)])
    sizes = [c.size for c in log.checkpoints()]
    assert sizes == [10, 20, 30, 40]
    prev = None
    for c in log.checkpoints():
        cp = verify_checkpoint(signer.verifier, c.note, ORIGIN)
        assert cp.root_hash == log.root(c.size) == c.root_hash
        if prev:
            merkle.verify_consistency(prev.size, cp.size, prev.root_hash, cp.root_hash, log.consistency_proof(prev.size, cp.size))
        prev = cp
    assert log.checkpoint().size == 45
    assert log.checkpoint().size == 45  # no new entries: the same checkpoint, not a second signature
    log.close()


def test_never_signs_a_checkpoint_inconsistent_with_the_previous(tmp_path, signer) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    log = _log(url, signer, every=1000)
    log.append_many([make_access(i) for i in range(8)])
    log.checkpoint()
    log.append_many([make_access(i) for i in range(8, 12)])
    # an operator rewrites a stored subtree hash behind the triggers' back
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TRIGGER audit_tree_no_update"))
        conn.execute(sa.text("UPDATE audit_tree SET hash = zeroblob(32) WHERE level = 3 AND idx = 0"))
    engine.dispose()
    with pytest.raises(CheckpointError, match="not consistent with checkpoint 8"):
        log.checkpoint()
    assert [c.size for c in log.checkpoints()] == [8]
    log.close()


def test_query_filters(database_url: str) -> None:
    log = _log(database_url)
    log.append(make_access(1, person="P-a", department="health", outcome=Outcome.DENIED, user="u1", purpose="visit"))
    log.append(make_access(2, person="P-b", department="justice", outcome=Outcome.CLEAR, user="u2", purpose="case"))
    log.append(make_access(3, person="P-a", department="justice", outcome=Outcome.MASKED, user="u1", purpose="case"))
    q = lambda **kw: [e.index for e in log.query(EntryFilter(**kw))]
    assert q(person_id="P-a") == [0, 2]
    assert q(department="justice") == [1, 2]
    assert q(outcome="denied") == [0]
    assert q(department="justice", outcome="clear") == [1]
    assert q(caller="u1", purpose="case") == [2]
    assert q(caller_department="street_office") == [0, 1, 2]
    assert q(caller_department="police") == []
    assert q(kind="policy_change") == []
    first = log.entry(0)
    assert first is not None
    assert q(since_us=first.logged_at_us) == [0, 1, 2]
    assert q(until_us=first.logged_at_us) == []
    assert [e.index for e in log.query(EntryFilter(), from_index=1, limit=1)] == [1]
    log.close()


def test_batching_appender_groups_concurrent_appends_gaplessly(database_url: str, signer) -> None:  # type: ignore[no-untyped-def]
    log = _log(database_url, signer, every=25)
    with BatchingAppender(log, max_batch=64) as appender:
        results = append_from_threads(appender, threads=8, each=25)
    assert sorted(results) == list(range(200))
    assert log.size() == 200
    sizes = [c.size for c in log.checkpoints()]
    assert sizes and sizes == sorted(set(sizes)) and sizes[-1] <= 200
    for c in log.checkpoints():
        assert verify_checkpoint(signer.verifier, c.note, ORIGIN).root_hash == log.root(c.size)
    log.close()


async def test_append_async_for_grpc_aio(database_url: str) -> None:
    log = _log(database_url)
    with BatchingAppender(log) as appender:
        results = await asyncio.gather(*(appender.append_async(make_access(i)) for i in range(30)))
    assert sorted(r.index for r in results) == list(range(30))
    log.close()


def test_failed_commit_fails_every_append_of_the_batch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    log = _log(url)
    log.append(make_access(0))
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # make the next append's insert collide
        conn.execute(sa.text("UPDATE audit_head SET size = 0"))
    engine.dispose()
    with BatchingAppender(log) as appender:
        fut = appender.submit(make_access(1))
        with pytest.raises(StoreError, match="audit append failed"):
            fut.result(timeout=30)
    assert log.size() == 0  # nothing half-written: head still as we set it
    assert len(list(log.entries(0, 10))) == 1
    log.close()


def _process_appends(url: str, worker: int, count: int, queue) -> None:  # type: ignore[no-untyped-def]
    log = AuditLog(url, origin=ORIGIN)
    out = []
    for i in range(count):
        out.append(log.append_many([make_access(worker * 1000 + i), make_access(worker * 1000 + i + 500)])[0].index)
    log.close()
    queue.put(out)


def test_several_processes_keep_one_gapless_log_and_one_tree(database_url: str) -> None:
    _log(database_url).close()  # migrate once, as a deployment would
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_appends, args=(database_url, w, 15, queue)) for w in range(3)]
    for p in procs:
        p.start()
    firsts = sorted(i for _ in procs for i in queue.get(timeout=120))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    log = _log(database_url)
    assert log.size() == 90
    stored = list(log.entries(0, 90))
    assert [e.index for e in stored] == list(range(90))
    assert [LoggedEntry.from_canonical(e.canonical).index for e in stored] == list(range(90))
    assert firsts == list(range(0, 90, 2))  # each two-entry batch stayed together
    assert log.root() == merkle.root([merkle.leaf_hash(e.canonical) for e in stored])
    log.close()


def test_time_based_checkpoints(tmp_path, signer) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'a.db'}"
    slow = AuditLog(url, origin=ORIGIN, signer=signer, policy=CheckpointPolicy(every_entries=10**6, every_seconds=3600))
    assert slow.checkpoint_if_due() is None  # empty log: nothing to sign
    slow.append(make_access(0))
    first = slow.checkpoint_if_due()  # no checkpoint yet: sign now
    assert first is not None and first.size == 1
    slow.append(make_access(1))
    assert slow.checkpoint_if_due() is None  # the last one is younger than an hour
    slow.close()
    fast = AuditLog(url, origin=ORIGIN, signer=signer, policy=CheckpointPolicy(every_entries=10**6, every_seconds=1e-6))
    due = fast.checkpoint_if_due()
    assert due is not None and due.size == 2
    assert fast.checkpoint_if_due() is None  # the log has not grown since
    fast.close()


def test_migrations_use_their_own_version_table_and_are_idempotent(database_url: str) -> None:
    _log(database_url).close()
    _log(database_url).close()  # second open: nothing to do
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version_audit")).scalars().all() == ["audit_0001"]
        tables = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    assert {"audit_entry", "audit_section", "audit_tree", "audit_checkpoint", "audit_head"} <= tables
    assert not {t for t in tables if not t.startswith("audit_") and t != "alembic_version_audit"}


def test_newest_checkpoint_is_known_after_each_append_without_a_query(database_url: str, signer) -> None:  # type: ignore[no-untyped-def]
    """Receipts and department witnesses read ``newest_checkpoint``: it must be current as of
    this instance's last append, including checkpoints another process signed meanwhile."""
    log = _log(database_url, signer, every=10)
    assert log.newest_checkpoint() is None
    log.append_many([make_access(j) for j in range(10)])
    signed = log.newest_checkpoint()
    assert signed is not None and signed.size == 10 and signed == log.latest_checkpoint()
    other = _log(database_url, signer, every=10)  # another replica (or `pingan audit checkpoint`)
    other.append_many([make_access(j) for j in range(10, 13)])
    assert other.checkpoint().size == 13
    assert log.newest_checkpoint().size == 10  # not seen yet: no query was made
    log.append(make_access(13))  # the next append reads it under the head lock
    newest = log.newest_checkpoint()
    assert newest is not None and newest.size == 13
    assert verify_checkpoint(signer.verifier, newest.note, ORIGIN).size == 13
    other.close()
    log.close()



def _assert_one_tree(log: AuditLog, size: int) -> None:
    """The stored subtrees are the tree of the stored leaves at every size, and proofs verify."""
    leaves = [merkle.leaf_hash(e.canonical) for e in log.entries(0, size)]
    assert [e.index for e in log.entries(0, size)] == list(range(size))
    tree = merkle.MemoryTree(leaves)
    for n in range(1, size + 1):
        assert log.root(n) == tree.root(n)
        merkle.verify_inclusion(leaves[n - 1], n - 1, size, log.inclusion_proof(n - 1, size), tree.root(size))
        merkle.verify_consistency(n, size, tree.root(n), tree.root(size), log.consistency_proof(n, size))


def test_a_second_writer_appending_in_between_does_not_break_the_kept_range(
    database_url: str, signer, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Each instance reuses the compact range of its own last commit only while the locked
    head still shows that size; another instance's appends make it read the stored one."""
    import audit.store

    reads: list[int] = []
    real = audit.store._stored_range

    def counting(conn, size):  # type: ignore[no-untyped-def]
        reads.append(size)
        return real(conn, size)

    monkeypatch.setattr(audit.store, "_stored_range", counting)
    first = _log(database_url, signer, every=7)
    second = _log(database_url, signer, every=7)
    first.append_many([make_access(i) for i in range(3)])
    first.append(make_access(3))
    first.append_many([make_access(i) for i in range(4, 6)])
    assert reads == [0]  # its own commits: no read after the first
    second.append_many([make_access(i) for i in range(6, 11)])  # in between, crossing a checkpoint
    first.append(make_access(11))
    assert reads == [0, 6, 11]  # each instance read the range the other one left
    first.append_many([make_access(i) for i in range(12, 20)])
    second.append(make_access(20))
    second.append(make_access(21))
    assert reads == [0, 6, 11, 20]
    _assert_one_tree(first, 22)
    assert [c.size for c in first.checkpoints()] == [11, 20]  # signed by the second, then the first
    prev = None
    for c in first.checkpoints():
        cp = verify_checkpoint(signer.verifier, c.note, ORIGIN)
        assert cp.root_hash == first.root(c.size)
        if prev is not None:
            merkle.verify_consistency(prev.size, cp.size, prev.root_hash, cp.root_hash, first.consistency_proof(prev.size, cp.size))
        prev = cp
    assert first.newest_checkpoint().size == 20 and second.newest_checkpoint().size == 20
    second.close()
    first.close()


def test_a_rolled_back_append_leaves_no_range_behind(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed transaction must not leave its (never stored) range to the next append."""
    import audit.store

    log = _log(database_url)
    log.append_many([make_access(i) for i in range(5)])
    real = audit.store.insert_rows

    def failing(conn, table, rows):  # type: ignore[no-untyped-def]
        if table.name == "audit_tree":
            raise RuntimeError("disk full")
        return real(conn, table, rows)

    monkeypatch.setattr(audit.store, "insert_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        log.append_many([make_access(i) for i in range(5, 8)])
    monkeypatch.setattr(audit.store, "insert_rows", real)
    assert log.size() == 5
    results = log.append_many([make_access(i) for i in range(8, 11)])
    assert [r.index for r in results] == [5, 6, 7]
    _assert_one_tree(log, 8)
    log.close()


def test_never_signs_when_the_stored_subtrees_differ_from_the_kept_range(tmp_path, signer) -> None:  # type: ignore[no-untyped-def]
    """The kept range spares the read, not the check: a checkpoint's root must also be the
    root of the stored subtrees, or nothing is signed and nothing is appended."""
    url = f"sqlite:///{tmp_path / 'a.db'}"
    log = _log(url, signer, every=12)
    log.append_many([make_access(i) for i in range(8)])
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # an operator rewrites a stored subtree behind the triggers' back
        conn.execute(sa.text("DROP TRIGGER audit_tree_no_update"))
        conn.execute(sa.text("UPDATE audit_tree SET hash = zeroblob(32) WHERE level = 3 AND idx = 0"))
    engine.dispose()
    log.append_many([make_access(i) for i in range(8, 10)])  # no checkpoint due: appended
    with pytest.raises(CheckpointError, match="stored subtrees do not match"):
        log.append_many([make_access(i) for i in range(10, 12)])
    assert log.size() == 10 and log.checkpoints() == []
    log.close()
