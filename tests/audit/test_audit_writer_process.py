"""WriterProcess: the log's group commits in a child process, on real SQLite and PostgreSQL.

What must hold is what holds for appends in-process: gapless indices, the stored
leaves and subtrees match, checkpoints verify; plus what the process boundary adds:
the hub's own log (the mirror) learns the checkpoints the child signs, a dead or
unstartable child fails the batch with StoreError (fail closed) and the next batch
gets a new child.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from audit_factories import ORIGIN, append_from_threads, make_access

from audit import merkle
from audit.appender import BatchingAppender
from audit.checkpoint import NoteSigner, verify_checkpoint
from audit.errors import StoreError
from audit.store import AuditLog, CheckpointPolicy
from audit.writer_process import WriterProcess


def _log(url: str, signer: NoteSigner | None = None, every: int = 1000, seconds: float = 3600) -> AuditLog:
    return AuditLog(url, origin=ORIGIN, signer=signer, policy=CheckpointPolicy(every_entries=every, every_seconds=seconds))


def test_batches_land_in_the_log_as_in_process_appends_do(database_url: str, signer: NoteSigner) -> None:
    log = _log(database_url, signer, every=10)
    entries = [make_access(i) for i in range(25)]
    with WriterProcess(log) as writer:
        assert writer.pid is not None and writer.pid != os.getpid()
        results = writer.append_many(entries[:7]) + writer.append_many(entries[7:])
    assert [r.index for r in results] == list(range(25))
    stored = list(log.entries(0, 25))
    assert [e.canonical for e in stored] and [merkle.leaf_hash(e.canonical) for e in stored] == [
        r.leaf_hash for r in results
    ]
    assert [e.decode().entry for e in stored] == entries
    tree = merkle.MemoryTree([r.leaf_hash for r in results])
    assert log.root(25) == tree.root(25)
    # size-triggered checkpoints were signed in the child, and the mirror knows the newest
    sizes = [c.size for c in log.checkpoints()]
    assert sizes == [25]  # the second batch crossed 10 and 20 in one transaction: one checkpoint
    newest = log.newest_checkpoint()
    assert newest is not None and newest.size == 25
    assert verify_checkpoint(signer.verifier, newest.note, ORIGIN).root_hash == tree.root(25)
    log.close()


def test_the_appender_over_a_writer_process_serves_threads_and_asyncio(database_url: str, signer: NoteSigner) -> None:
    log = _log(database_url, signer, every=16)
    with WriterProcess(log) as writer, BatchingAppender(writer, max_batch=32) as appender:
        indices = append_from_threads(appender, threads=6, each=20)

        async def many() -> list[int]:
            got = await asyncio.gather(*(appender.append_async(make_access(1000 + i)) for i in range(40)))
            return [r.index for r in got]

        indices += asyncio.run(many())
    assert sorted(indices) == list(range(160))
    assert log.size() == 160
    for c in log.checkpoints():
        assert verify_checkpoint(signer.verifier, c.note, ORIGIN).root_hash == log.root(c.size)
    log.close()


def test_a_killed_writer_fails_its_batch_and_the_next_batch_gets_a_new_one(tmp_path, signer: NoteSigner) -> None:  # type: ignore[no-untyped-def]
    log = _log(f"sqlite:///{tmp_path / 'a.db'}", signer, every=4)
    with WriterProcess(log) as writer:
        writer.append_many([make_access(i) for i in range(3)])
        first = writer.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        with pytest.raises(StoreError, match="exited"):
            writer.append_many([make_access(3)])
        results = writer.append_many([make_access(4), make_access(5)])  # a new child, the same log
        assert writer.pid not in (None, first)
    assert [r.index for r in results] == [3, 4]  # the failed batch never reached the log
    assert log.size() == 5
    tree = merkle.MemoryTree([e.leaf_hash for e in log.entries(0, 5)])
    assert log.root(5) == tree.root(5)
    assert [c.size for c in log.checkpoints()] == [5]
    log.close()


def test_a_commit_refused_by_the_store_fails_the_batch_and_the_writer_stays_up(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "a.db"
    log = _log(f"sqlite:///{path}")
    with WriterProcess(log) as writer, BatchingAppender(writer) as appender:
        appender.append(make_access(0), timeout=60)
        pid = writer.pid
        with sqlite3.connect(path) as db:
            db.execute("ALTER TABLE audit_entry RENAME TO audit_entry_away")
        with pytest.raises(StoreError, match="audit append failed") as info:
            appender.append(make_access(1), timeout=60)
        assert "audit_entry" in str(info.value)  # the store's own reason travels back
        with sqlite3.connect(path) as db:
            db.execute("ALTER TABLE audit_entry_away RENAME TO audit_entry")
        assert appender.append(make_access(2), timeout=60).index == 1
        assert writer.pid == pid  # an error answer is not a dead child
    log.close()


def test_a_child_that_cannot_open_the_log_is_reported_and_every_batch_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "a.db"
    log = _log(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:  # the log's head is gone: no child can open it
        db.execute("ALTER TABLE audit_head RENAME TO audit_head_away")
    writer = WriterProcess(log)
    with pytest.raises(StoreError, match="could not start: .*audit_head"):
        writer.wait_ready()
    with pytest.raises(StoreError, match="could not start"):
        writer.append_many([make_access(0)])  # refused, never silently dropped
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE audit_head_away RENAME TO audit_head")
    assert [r.index for r in writer.append_many([make_access(1)])] == [0]  # back once the store is
    writer.close()
    with pytest.raises(StoreError, match="closed"):
        writer.append_many([make_access(2)])
    log.close()


def test_time_based_checkpoints_are_signed_by_the_child_and_known_to_the_mirror(tmp_path, signer: NoteSigner) -> None:  # type: ignore[no-untyped-def]
    log = _log(f"sqlite:///{tmp_path / 'a.db'}", signer, every=1000, seconds=0.2)
    with WriterProcess(log) as writer:
        assert writer.checkpoint_if_due() is None  # an empty log has nothing to sign
        writer.append_many([make_access(i) for i in range(3)])
        assert log.newest_checkpoint() is None
        time.sleep(0.25)
        signed = writer.checkpoint_if_due()
        assert signed is not None and signed.size == 3
        assert log.newest_checkpoint() == signed
        # not due again until every_seconds passed: answered here, no new checkpoint
        writer.append_many([make_access(3)])
        assert writer.checkpoint_if_due() is None
    assert [c.size for c in log.checkpoints()] == [3]
    log.close()
