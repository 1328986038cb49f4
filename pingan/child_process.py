"""A spawned child process that answers one request at a time over a pipe.

Why: the hub's group-commit threads share the GIL with its grpc.aio event loop, and
every database statement releases the GIL and must win it back from the busy loop (up
to the 5 ms switch interval each time), so a commit needing 2 ms of CPU took 14 ms of
wall time under load (docs/benchmarks.md, "Profile load"). A child has its own GIL; the
thread that hands it a batch waits for one answer. Used by the audit log's writer
(audit/writer_process.py) and the policy decision log (hub/policy/decision_log_process.py).

The child runs ``serve(conn, opener, spec)``: ``opener(spec)`` builds the object that
does the work (a :class:`Handler`), then every request ``(op, payload)`` is answered
with ``("ok", handler.handle(op, payload))`` or ``("err", "Type: message")``. The
parent's :class:`ChildProcess` raises ``error`` (the package's own error type) when the
child answers with an error, exits, or does not answer in time; after an exit or a
timeout the next call starts a new child. Children are started with ``spawn``: a
process that runs gRPC must never fork.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Protocol, Self

log = logging.getLogger(__name__)


class Handler(Protocol):
    """What a child serves: ``handle`` one request; ``close`` when the parent is done."""

    def handle(self, op: str, payload: Any) -> Any: ...

    def close(self) -> None: ...


def serve(conn: Connection, opener: Callable[[Any], Handler], spec: Any) -> None:
    """The child's loop: one request, one answer, until ``close`` or the parent goes away."""
    try:
        handler = opener(spec)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails its calls
        conn.send(("err", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", None))
    try:
        while True:
            try:
                op, payload = conn.recv()
            except (EOFError, OSError):
                return  # the parent is gone: nothing is waiting for an answer
            if op == "close":
                conn.send(("ok", None))
                return
            try:
                answer = handler.handle(op, payload)
            except Exception as exc:  # noqa: BLE001 - this request fails, the child stays up
                conn.send(("err", f"{type(exc).__name__}: {exc}"))
                continue
            conn.send(("ok", answer))
    finally:
        handler.close()


class ChildProcess:
    """The parent's side: :meth:`call` from any thread (one call at a time)."""

    def __init__(
        self,
        opener: Callable[[Any], Handler],
        spec: Any,
        *,
        name: str,
        error: type[Exception],
        answer_timeout: float = 60.0,
        start_timeout: float = 60.0,
    ) -> None:
        self.opener, self.spec, self.name, self.error = opener, spec, name, error
        self.answer_timeout = answer_timeout
        self.start_timeout = start_timeout
        self._context = multiprocessing.get_context("spawn")
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

    def wait_ready(self) -> None:
        """Wait until the child has opened what it serves; raises ``error`` if it cannot."""
        with self._lock:
            if self._closed:
                raise self.error(f"the {self.name} process is closed")
            self._ensure_ready()

    def call(self, op: str, payload: Any) -> Any:
        """The child's answer to ``(op, payload)``; raises ``error`` when there is none."""
        with self._lock:
            if self._closed:
                raise self.error(f"the {self.name} process is closed")
            self._ensure_ready()
            conn = self._conn
            assert conn is not None
            try:
                conn.send((op, payload))
                if not conn.poll(self.answer_timeout):
                    self._stop_child()
                    raise self.error(f"the {self.name} process did not answer within {self.answer_timeout:g} s")
                answer = conn.recv()
            except (EOFError, OSError):
                self._stop_child()
                raise self.error(f"the {self.name} process exited; this request is not known to be done") from None
        if answer[0] == "err":
            raise self.error(answer[1])
        return answer[1]

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

    def _start(self) -> None:
        """Spawn the child; :meth:`wait_ready` (or the first call) waits for it."""
        parent, child = self._context.Pipe(duplex=True)
        proc = self._context.Process(target=serve, args=(child, self.opener, self.spec), name=self.name, daemon=True)
        proc.start()
        child.close()  # only the child holds its end now: its exit reads as EOF here
        self._proc, self._conn, self._ready = proc, parent, False

    def _ensure_ready(self) -> None:
        if self._conn is None:
            self._start()  # the previous child failed
        if self._ready:
            return
        conn = self._conn
        assert conn is not None
        try:
            if not conn.poll(self.start_timeout):
                raise self.error(f"the {self.name} process did not start within {self.start_timeout:g} s")
            answer = conn.recv()
        except (EOFError, OSError):
            self._stop_child()
            raise self.error(f"the {self.name} process exited while starting") from None
        except self.error:
            self._stop_child()
            raise
        if answer[0] != "ready":
            self._stop_child()
            raise self.error(f"the {self.name} process could not start: {answer[1]}")
        self._ready = True

    def _stop_child(self) -> None:
        conn, proc = self._conn, self._proc
        self._conn = self._proc = None
        self._ready = False
        if conn is not None:
            conn.close()
        if proc is not None:
            proc.join(5.0)
            if proc.is_alive():
                log.error("the %s process (pid %s) did not stop; killing it", self.name, proc.pid)
                proc.kill()
                proc.join(5.0)


class ChildBacked:
    """Base of a class whose work runs in a :class:`ChildProcess` kept as ``self._child``:
    its process id, readiness, and closing (also as a context manager)."""

    _child: ChildProcess

    @property
    def pid(self) -> int | None:
        """The child's process id (``None`` between a failure and the next start)."""
        return self._child.pid

    def wait_ready(self) -> None:
        """Wait until the child has opened what it serves; raises the package's error if it cannot."""
        self._child.wait_ready()

    def close(self) -> None:
        """Stop the child once it has answered everything asked of it."""
        self._child.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
