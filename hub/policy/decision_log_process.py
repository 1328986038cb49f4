"""The policy decision log's commits in a child process, off the hub's GIL.

Every profile records its decisions (about eight rows) before any data moves. The
commit ran in a thread of the hub process, where each statement waits to win the GIL
back from the busy event loop; with the decision log switched off entirely the hub
spent 0.6-0.9 ms less CPU per profile and answered 7-8 ms sooner at the median
(docs/benchmarks.md, "Profile load"). Here :class:`hub.policy.group_commit.DecisionLogWriter`
keeps batching, and each batch is written by a child (:mod:`pingan.child_process`)
through its own :class:`PolicyStore` on the same database. A batch the child cannot
write, or a child that exits, fails the batch with :class:`PolicyError`: the decisions
are then not given (fail closed), and the next batch starts a new child.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.database import hub_engine
from hub.policy.decision_point import DecisionRecord
from hub.policy.errors import PolicyError
from hub.policy.store import PolicyStore
from pingan.child_process import ChildBacked, ChildProcess


class _Recorder:
    """The child's side: one store on the hub's database URL."""

    def __init__(self, url: str) -> None:
        self.store = PolicyStore(hub_engine(url))
        self.store.recent_decisions(1)  # a decision log that cannot be read cannot be written: say so now

    def handle(self, op: str, payload: Any) -> None:
        if op != "record":
            raise PolicyError(f"unknown decision-log request {op!r}")
        self.store.record(payload)

    def close(self) -> None:
        self.store.engine.dispose()


class DecisionLogProcess(ChildBacked):
    """``record`` of a :class:`PolicyStore`, run in a child process (same database URL);
    ``wait_ready`` raises :class:`PolicyError` when the child cannot open the decision log."""

    def __init__(self, url: str, *, answer_timeout: float = 60.0, start_timeout: float = 60.0) -> None:
        self._child = ChildProcess(
            _Recorder,
            url,
            name="policy-decision-log",
            error=PolicyError,
            answer_timeout=answer_timeout,
            start_timeout=start_timeout,
        )

    def record(self, records: Sequence[DecisionRecord]) -> None:
        """Write ``records`` in one transaction in the child; returns after its COMMIT."""
        if records:
            self._child.call("record", list(records))
