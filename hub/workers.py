"""Several hub processes on one machine serving one port (``pingan hub serve --workers N``).

Why: the hub is Python. One process runs every request on one event loop under one
GIL, so it uses about one core however many the machine has (docs/benchmarks.md,
"Profile load"). Workers are ordinary hub replicas (docs/operations.md, "Several hub
replicas") that share the listening port through ``SO_REUSEPORT``; the kernel spreads
incoming connections across them. Worker 0 runs linkage; the others reload the identity
index when it has resolved (:meth:`hub.identity.index.IdentityIndex.refresh`) and the
policy, as every replica does. Each worker keeps its own rate limits and replay window,
as replicas do (docs/security.md).

Workers are started with the ``spawn`` method because gRPC's core does not survive a
``fork`` once it is initialised (grpc/grpc ``doc/fork_support.md``). If any worker
stops, the supervisor stops the others and exits non-zero, so a service manager sees
the failure and restarts the whole set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from hub.config import HubConfig, load_hub_config
from hub.errors import ConfigError, HubError
from hub.runtime import HubRuntime, LinkReport

log = logging.getLogger(__name__)

MAX_WORKERS = 64
STARTUP_SECONDS = 120.0  # start-up builds the free-text analyser and warms the policy memo
STOP_SECONDS = 15.0


class WorkerError(HubError):
    """A worker could not start, or stopped while the others were serving."""


def with_port(config: HubConfig, port: int) -> HubConfig:
    """``config`` listening on ``port`` at the same host (how workers 1..N-1 join worker 0's port)."""
    host, _, _ = config.hub.listen.rpartition(":")
    return dataclasses.replace(config, hub=dataclasses.replace(config.hub, listen=f"{host}:{port}"))


async def serve(
    runtime: HubRuntime,
    *,
    link_every: float,
    on_link: Callable[[LinkReport], None],
    on_started: Callable[[int], None],
    stop: asyncio.Event | None = None,
) -> None:
    """Start ``runtime``; with ``link_every >= 0`` also link now and then every
    ``link_every`` seconds (0: only now, at start; negative: never, another process links).
    Serves until the server terminates or ``stop`` is set, then stops the runtime.
    If the start fails, what was started is stopped and the error is raised."""
    try:
        port = await runtime.start()
    except BaseException:
        try:
            await runtime.stop()
        except Exception:  # the start error is the one to report
            log.exception("stopping after a failed start")
        raise
    on_started(port)

    async def relink() -> None:
        if link_every < 0:
            return
        while True:
            try:
                on_link(await asyncio.to_thread(runtime.link))
            except Exception:
                log.exception("linkage failed; the identity index keeps its last resolution")
            if link_every <= 0:
                return
            await asyncio.sleep(link_every)

    linking = asyncio.create_task(relink())
    assert runtime.server is not None
    # Not cancelled before the server has stopped: grpc.aio's wait_for_termination awaits the
    # server's own shutdown future, so cancelling it would cancel server.stop() too.
    ends = [asyncio.create_task(runtime.server.wait_for_termination())]
    if stop is not None:
        ends.append(asyncio.create_task(stop.wait()))
    try:
        await asyncio.wait(ends, return_when=asyncio.FIRST_COMPLETED)
    finally:
        linking.cancel()
        try:
            await runtime.stop()
        finally:
            for task in ends:
                task.cancel()
            await asyncio.gather(*ends, return_exceptions=True)


async def serve_until_signalled(
    runtime: HubRuntime,
    *,
    link_every: float,
    on_link: Callable[[LinkReport], None],
    on_started: Callable[[int], None],
) -> None:
    """:func:`serve` until SIGTERM or SIGINT, then stop the runtime gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await serve(runtime, link_every=link_every, on_link=on_link, on_started=on_started, stop=stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def run_worker(config_path: str, index: int, link_every: float, port: int | None, conn: Connection) -> None:
    """Entry point of one worker process: serve until SIGTERM or SIGINT.

    Reports ``("started", port)`` or ``("error", message)`` on ``conn``.
    """
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s %(levelname)s worker-{index} %(name)s: %(message)s"
    )
    try:
        config = load_hub_config(config_path)
        if port is not None:
            config = with_port(config, port)
        runtime = HubRuntime.create(config)
    except (ConfigError, HubError) as exc:
        conn.send(("error", str(exc)))
        return
    runtime.share_port = True

    async def main() -> None:
        await serve_until_signalled(
            runtime,
            link_every=link_every if index == 0 else -1.0,
            on_link=lambda report: log.info("linkage: %s", report.summary),
            on_started=lambda bound: conn.send(("started", bound)),
        )

    try:
        asyncio.run(main())
    except HubError as exc:  # e.g. the port could not be bound: the message names file and key
        try:
            conn.send(("error", str(exc)))
        except (BrokenPipeError, OSError):
            pass
    except Exception as exc:
        log.exception("worker %d failed", index)
        try:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        except (BrokenPipeError, OSError):
            pass


@dataclasses.dataclass
class _Worker:
    index: int
    process: Any  # multiprocessing.Process (spawn context)
    conn: Connection


class Supervisor:
    """Starts ``workers`` hub processes on one port and stops them together."""

    def __init__(self, config_path: str, workers: int, link_every: float) -> None:
        if not 2 <= workers <= MAX_WORKERS:
            raise WorkerError(
                f"--workers must be between 2 and {MAX_WORKERS} here (1 runs in-process), got {workers}"
            )
        self.config_path = config_path
        self.workers = workers
        self.link_every = link_every
        self._context = multiprocessing.get_context("spawn")
        self._running: list[_Worker] = []
        self.port = 0

    def start(self) -> int:
        """Start worker 0, then the others on its port; returns the port. Raises WorkerError."""
        try:
            self.port = self._spawn(0, None)
            for index in range(1, self.workers):
                self._spawn(index, self.port)
        except BaseException:
            self.stop()
            raise
        return self.port

    def wait(self) -> int:
        """Block until a worker exits; then stop the rest. Returns the first exit code seen."""
        sentinels = {w.process.sentinel: w for w in self._running}
        ready = wait(list(sentinels))
        first = sentinels[ready[0]]  # type: ignore[index]
        code = first.process.exitcode or 0
        log.warning("hub worker %d exited with code %s; stopping the others", first.index, code)
        self.stop()
        return code if code else 1

    def stop(self) -> None:
        """SIGTERM every worker (each stops its server gracefully), then kill what is left."""
        for w in self._running:
            if w.process.is_alive():
                w.process.terminate()
        for w in self._running:
            w.process.join(STOP_SECONDS)
            if w.process.is_alive():
                w.process.kill()
                w.process.join()
        self._running = []

    def _spawn(self, index: int, port: int | None) -> int:
        parent, child = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=run_worker,
            args=(self.config_path, index, self.link_every, port, child),
            name=f"pingan-hub-worker-{index}",
            daemon=False,
        )
        process.start()
        child.close()
        self._running.append(_Worker(index, process, parent))
        if not parent.poll(STARTUP_SECONDS):
            raise WorkerError(f"hub worker {index} did not start within {STARTUP_SECONDS:.0f} s")
        try:
            kind, value = parent.recv()
        except EOFError:
            raise WorkerError(
                f"hub worker {index} exited during start-up (code {process.exitcode})"
            ) from None
        if kind != "started":
            raise WorkerError(f"hub worker {index} could not start: {value}")
        return int(value)
