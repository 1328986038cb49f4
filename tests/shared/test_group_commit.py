"""pingan/group_commit.py, alone and as the adapters' access log (adapters/state.py), on
SQLite and PostgreSQL: overlapping calls share a transaction, a failed one fails them all."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from adapters.state import AccessEntry, StateStore, migrate, tune
from pingan.group_commit import GroupCommit

WAIT = 10.0


class _HeldCommits:
    """A commit function that stores batches and, while ``hold`` is clear, blocks in the first one."""

    def __init__(self, fail_when: Callable[[list[int]], bool] = lambda batch: False) -> None:
        self.batches: list[list[int]] = []
        self.entered = threading.Event()
        self.hold = threading.Event()
        self._fail_when = fail_when

    def __call__(self, items: list[int]) -> None:
        self.entered.set()
        assert self.hold.wait(WAIT)
        if self._fail_when(items):
            raise RuntimeError(f"disk full while committing {len(items)} items")
        self.batches.append(list(items))


def _submit_in_threads(group: GroupCommit[int], calls: list[list[int]]) -> tuple[list[threading.Thread], dict[int, BaseException]]:
    errors: dict[int, BaseException] = {}

    def call(k: int) -> None:
        try:
            group.submit(calls[k])
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            errors[k] = exc

    threads = [threading.Thread(target=call, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    return threads, errors


def _wait_queued(group: GroupCommit[int], count: int) -> None:
    deadline = time.monotonic() + WAIT
    while len(group._queue) < count:  # noqa: SLF001 - the test waits until the followers are queued
        assert time.monotonic() < deadline, "followers never queued"
        time.sleep(0.001)


def test_an_uncontended_call_commits_alone_on_its_own_thread() -> None:
    threads: list[int] = []
    batches: list[list[int]] = []

    def commit(items: list[int]) -> None:
        threads.append(threading.get_ident())
        batches.append(items)

    group: GroupCommit[int] = GroupCommit(commit)
    group.submit([1, 2])
    group.submit([3])
    group.submit([])
    assert batches == [[1, 2], [3]]
    assert threads == [threading.get_ident()] * 2
    assert (group.calls, group.commits) == (2, 2)


def test_calls_arriving_during_a_commit_share_the_next_one() -> None:
    commits = _HeldCommits()
    group: GroupCommit[int] = GroupCommit(commits)
    leader, leader_errors = _submit_in_threads(group, [[0]])
    assert commits.entered.wait(WAIT)
    followers, errors = _submit_in_threads(group, [[10 + k, 20 + k] for k in range(6)])
    _wait_queued(group, 6)
    commits.hold.set()
    for t in leader + followers:
        t.join(WAIT)
        assert not t.is_alive()
    assert not leader_errors and not errors
    assert commits.batches[0] == [0]
    assert len(commits.batches) == 2 and (group.calls, group.commits) == (7, 2)
    assert sorted(commits.batches[1]) == sorted([10 + k for k in range(6)] + [20 + k for k in range(6)])


def test_a_failed_commit_fails_every_call_in_it_and_the_next_one_succeeds() -> None:
    commits = _HeldCommits(fail_when=lambda batch: 0 not in batch and 99 not in batch)
    group: GroupCommit[int] = GroupCommit(commits)
    leader, leader_errors = _submit_in_threads(group, [[0]])
    assert commits.entered.wait(WAIT)
    followers, errors = _submit_in_threads(group, [[1], [2], [3]])
    _wait_queued(group, 3)
    commits.hold.set()
    for t in leader + followers:
        t.join(WAIT)
    assert not leader_errors
    assert sorted(errors) == [0, 1, 2]
    assert all(isinstance(e, RuntimeError) and "3 items" in str(e) for e in errors.values())
    assert commits.batches == [[0]]
    group.submit([99])
    assert commits.batches == [[0], [99]]


def test_a_batch_stops_at_max_items_and_the_rest_commit_next() -> None:
    commits = _HeldCommits()
    group: GroupCommit[int] = GroupCommit(commits, max_items=4)
    leader, _ = _submit_in_threads(group, [[0]])
    assert commits.entered.wait(WAIT)
    followers, errors = _submit_in_threads(group, [[k, k] for k in range(1, 6)])
    _wait_queued(group, 5)
    commits.hold.set()
    for t in leader + followers:
        t.join(WAIT)
        assert not t.is_alive()
    assert not errors
    assert [len(b) for b in commits.batches] == [1, 4, 4, 2]
    assert sorted(x for b in commits.batches[1:] for x in b) == sorted(k for k in range(1, 6) for _ in range(2))


def test_max_items_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_items"):
        GroupCommit(lambda items: None, max_items=0)


def _entry(k: int) -> AccessEntry:
    """A FetchRecords row told apart by its request id (rpc, caller, peer, request_id, purpose, dataset)."""
    return AccessEntry("FetchRecords", "hub", "ipv4:127.0.0.1:1", f"req-{k}", "routine_visit", "corrections")


def _state(database_url: str) -> StateStore:
    engine = sa.create_engine(database_url)
    tune(engine)
    migrate(engine)
    return StateStore(engine)


def test_the_access_log_commits_overlapping_calls_together(database_url: str) -> None:
    state = _state(database_url)
    entered, hold = threading.Event(), threading.Event()

    @sa.event.listens_for(state.engine, "commit")
    def _first_commit_waits(conn: sa.Connection) -> None:
        if not entered.is_set():
            entered.set()
            assert hold.wait(WAIT)

    threads = [threading.Thread(target=state.record, args=(_entry(0),))]
    threads[0].start()
    assert entered.wait(WAIT)
    more = [threading.Thread(target=state.record, args=(_entry(k), _entry(100 + k))) for k in range(1, 9)]
    for t in more:
        t.start()
    _wait_queued(state._log, 8)  # noqa: SLF001
    hold.set()
    for t in threads + more:
        t.join(WAIT)
        assert not t.is_alive()
    rows = state.access_entries()
    assert sorted(r["request_id"] for r in rows) == sorted(
        ["req-0"] + [f"req-{k}" for k in range(1, 9)] + [f"req-{100 + k}" for k in range(1, 9)]
    )
    assert state.log_commits == (9, 2)
    state.engine.dispose()


def test_a_failed_access_log_commit_fails_every_overlapping_call_and_stores_none(database_url: str) -> None:
    state = _state(database_url)
    entered, hold = threading.Event(), threading.Event()
    fail = threading.Event()

    @sa.event.listens_for(state.engine, "commit")
    def _hold_then_fail(conn: sa.Connection) -> None:
        if not entered.is_set():
            entered.set()
            assert hold.wait(WAIT)
        elif fail.is_set():
            raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))

    first = threading.Thread(target=state.record, args=(_entry(0),))
    first.start()
    assert entered.wait(WAIT)
    errors: list[BaseException] = []

    def call(k: int) -> None:
        try:
            state.record(_entry(k))
        except sa.exc.SQLAlchemyError as exc:
            errors.append(exc)

    more = [threading.Thread(target=call, args=(k,)) for k in range(1, 5)]
    for t in more:
        t.start()
    _wait_queued(state._log, 4)  # noqa: SLF001
    fail.set()
    hold.set()
    for t in [first, *more]:
        t.join(WAIT)
        assert not t.is_alive()
    assert len(errors) == 4
    assert [r["request_id"] for r in state.access_entries()] == ["req-0"]
    fail.clear()
    state.record(_entry(5))
    assert [r["request_id"] for r in state.access_entries()] == ["req-0", "req-5"]
    state.engine.dispose()
