"""CPU per gRPC call on this machine: the floor under a profile's cost (issue 7, "Measure").

A profile crosses gRPC about 3.3 times (the caller's GetPersonProfile, 0.5 Tokenize
and 1.7 FetchRecords on average in ``bench/profile_load.py``). This script measures,
in the serving process's own CPU time (``/proc/PID/stat``, user + system):

* **empty unary call** (gRPC Health.Check, nothing else) served by grpcio's thread-pool
  server (what the adapters run) and by ``grpc.aio`` (what the hub runs), paced at
  ``--rate`` calls/s (as one adapter sees under profile load) and back-to-back;
* **the adapter's FetchRecords** on a ``--records``-row SQLite department table (2 record
  ids, 5 fields, the access-log commit with ``synchronous=FULL``): the handler called
  in-process (no gRPC) and the same request through ``pingan adapter serve``, paced;
* **the department read alone** (``DepartmentSource.fetch``), back-to-back in this
  process: through the driver against SQLAlchemy Core, alternating, three runs each.

The difference between the last two is what serving one call costs an adapter beyond
its own work. Nothing is asserted: see docs/benchmarks.md, "Profile load".

    python bench/call_cost.py
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import adapter_fetch  # noqa: E402  (the department table and adapter config of that bench)
from pingan.v1 import adapter_pb2, adapter_pb2_grpc  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def paced(call: Callable[[int], Any], count: int, rate: float) -> None:
    """``count`` calls, one every 1/rate s (0: back-to-back)."""
    start = time.perf_counter()
    for n in range(count):
        call(n)
        if rate > 0:
            delay = start + (n + 1) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)


def cpu_per_call(pid: int, call: Callable[[int], Any], count: int, rate: float) -> float:
    """Milliseconds of ``pid``'s CPU per call."""
    before = cpu_seconds(pid)
    paced(call, count, rate)
    return (cpu_seconds(pid) - before) * 1000 / count


# ------------------------------------------------------------------ empty calls


class _Health(health_pb2_grpc.HealthServicer):
    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


class _AioHealth(health_pb2_grpc.HealthServicer):
    async def Check(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


def _serve_health(kind: str, conn: Any) -> None:
    if kind == "thread pool":
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        health_pb2_grpc.add_HealthServicer_to_server(_Health(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        conn.send(port)
        conn.recv()
        server.stop(0)
        return

    async def main() -> None:
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(_AioHealth(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        conn.send(port)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        await server.stop(0)

    asyncio.run(main())


def empty_calls(args: argparse.Namespace) -> list[str]:
    rows = []
    for kind in ("thread pool", "grpc.aio"):
        parent, child = mp.Pipe()
        proc = mp.get_context("spawn").Process(target=_serve_health, args=(kind, child))
        proc.start()
        port = parent.recv()
        try:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                request = health_pb2.HealthCheckRequest()

                def call(_n: int, stub: Any = stub, request: Any = request) -> None:
                    stub.Check(request, timeout=10)

                paced(call, 200, 0)  # warm up
                at_rate = cpu_per_call(proc.pid, call, int(args.rate * args.seconds), args.rate)
                back_to_back = cpu_per_call(proc.pid, call, args.calls, 0)
            rows.append(f"| Health.Check, {kind} server | {at_rate:.2f} | {back_to_back:.2f} |")
        finally:
            parent.send("stop")
            proc.join(10)
    return rows


# ------------------------------------------------------------------ the adapter's FetchRecords


def fetch_calls(args: argparse.Namespace, workdir: Path) -> list[str]:
    url, state_url = f"sqlite:///{workdir}/department.db", f"sqlite:///{workdir}/state.db"
    adapter_fetch.build_table(url, args.records, args.seed)
    secret = workdir / "linkage.key"
    secret.write_text(os.urandom(32).hex())
    config = workdir / "adapter.toml"
    config.write_text(adapter_fetch.CONFIG.format(url=url, state_url=state_url, secret=secret), encoding="utf-8")
    rng = random.Random(args.seed)

    def request(n: int) -> adapter_pb2.FetchRecordsRequest:
        ids = [str(100000 + rng.randrange(args.records)) for _ in range(2)]
        fetch = adapter_pb2.DatasetFetch(dataset="corrections", local_record_ids=ids, fields=adapter_fetch.FIELDS)
        return adapter_pb2.FetchRecordsRequest(request_id=f"bench-{n}", purpose="bench", fetches=[fetch])

    count = int(args.rate * args.seconds)
    # In-process: the servicer's handler with a stand-in context (no gRPC at all).
    from adapters.server import AdapterServer

    server = AdapterServer.from_config(config)
    context = _Context()

    def direct(n: int) -> None:
        server.servicer.FetchRecords(request(n), context)

    paced(direct, 50, 0)
    direct_ms = cpu_per_call(os.getpid(), direct, count, args.rate)
    # Through `pingan adapter serve` in its own process.
    proc, address = adapter_fetch.start_server(config)
    try:
        with grpc.insecure_channel(address) as channel:
            stub = adapter_pb2_grpc.DepartmentAdapterStub(channel)

            def remote(n: int) -> None:
                stub.FetchRecords(request(n), timeout=10)

            paced(remote, 50, 0)
            served_ms = cpu_per_call(proc.pid, remote, count, args.rate)
    finally:
        proc.terminate()
        proc.wait(30)
    return [
        f"| FetchRecords, handler called in-process (no gRPC) | {direct_ms:.2f} | - |",
        f"| FetchRecords, through `pingan adapter serve` | {served_ms:.2f} | - |",
    ]


def source_reads(args: argparse.Namespace, workdir: Path) -> list[str]:
    """The department read alone (``DepartmentSource.fetch``, 2 ids, 5 fields + updated_at), in
    this process's CPU: through the driver (pingan.driver_select, what fetches of up to 16 ids
    use) against SQLAlchemy Core's ``Connection.execute`` with an expanding IN (larger fetches),
    alternating, same rows."""
    from adapters.server import AdapterServer

    source = AdapterServer.from_config(workdir / "adapter.toml").servicer.source  # as fetch_calls wrote it
    ds = source.config.datasets[0]
    columns = tuple(dict.fromkeys([*(f.column for f in ds.fields[:5]), ds.updated_at_column]))
    rng = random.Random(args.seed)

    def ids() -> list[str]:
        return [str(100000 + rng.randrange(args.records)) for _ in range(2)]

    def core(record_ids: list[str]) -> Any:
        statement = source._fetch_statement(ds.name, columns, 0)  # the expanding-IN statement
        with source.engine.connect() as conn:
            return conn.execute(statement, {"ids": [int(r) for r in record_ids]}).mappings().all()

    def driver(record_ids: list[str]) -> Any:
        return source.fetch(ds.name, record_ids, columns)

    sample = ids()
    assert {str(r[ds.id_column]): dict(r) for r in core(sample)} == driver(sample)  # the same rows, typed alike
    spent: dict[str, list[float]] = {"core": [], "driver": []}
    for _ in range(3):
        for name, read in (("core", core), ("driver", driver)):
            started = time.process_time()
            for _ in range(args.calls):
                read(ids())
            spent[name].append((time.process_time() - started) / args.calls * 1000.0)
    return [
        f"| department read, 2 ids: SQLAlchemy Core, expanding IN (runs) | - | {' / '.join(f'{v:.3f}' for v in spent['core'])} |",
        f"| department read, 2 ids: through the driver (runs) | - | {' / '.join(f'{v:.3f}' for v in spent['driver'])} |",
    ]


class _Context:
    """What the FetchRecords handler reads of a ``grpc.ServicerContext`` on an insecure channel."""

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"

    def set_trailing_metadata(self, metadata: Any) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30.0, help="paced calls/s (default 30: one adapter's share at 100 profiles/s)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each paced series")
    parser.add_argument("--calls", type=int, default=1000, help="back-to-back calls per series")
    parser.add_argument("--records", type=int, default=20_000, help="rows of the department table")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"| call | server CPU ms per call, paced at {args.rate:g}/s | back-to-back |")
    print("|---|---:|---:|")
    for line in empty_calls(args):
        print(line, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for line in fetch_calls(args, Path(tmp)):
            print(line, flush=True)
        for line in source_reads(args, Path(tmp)):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
