"""Profile load: hub and department adapters on loopback under concurrent callers (issues 7 and 8).

Issue 7 "Measure" (throughput, latency, errors, hub overhead) and issue 8 "Measure"
(the same load with mutual TLS on and off, one table).

One deployment (``pingan.cli.sandbox``: synthetic departments, the seven example
adapters of ``adapters/examples/*.toml``, keys, a hub TOML on the embedded defaults)
is built and linked once; then, per mode (plaintext, mutual TLS):

* the adapters run in their own processes (``AdapterServer`` thread-pool servers);
  with ``--tls`` the deployment is the sandbox's (``pingan.cli.sandbox.SandboxTls``,
  a fresh ``hub.pki`` CA), as shipped: each adapter's ``[tls]`` serves only the hub's
  certificate, pinned by name and checked against the CRL;
* the hub (``HubRuntime``, grpc.aio) runs in this process on its own event-loop
  thread; with TLS its ``[tls]`` requires client certificates, checks callers and
  adapters against the CRL, and calls each adapter pinned by name; callers pin the hub;
* ``--clients`` concurrent callers run in a separate client process (grpc.aio, one
  channel and one token each) for ``--warmup`` + ``--seconds``, sending
  GetPersonProfile for random residents of each caller's own scope: half by hub
  person id, half by resident ID number (tokenised through an adapter first),
  purpose ``routine_visit`` (grid workers) or ``routine_visit``/``case_handling``
  (street and justice officers).

Callers are grid workers of the most populated grids, plus street officers and
justice officers of the streets (one in eight each). Reported per mode:
throughput, client-observed p50/p99 latency, errors by status code, and the
hub's own overhead = the hub's request latency (the audit entry's ``latency_us``)
minus the adapter calls on the request's critical path (its Tokenize, if any,
plus the slowest FetchRecords), timed inside the hub process by wrapping each
``DepartmentClient``'s ``fetch``/``tokenize`` (bench instrumentation only; no hub
code changes). ``--profile`` adds a cProfile of the hub's event-loop thread,
``--py-spy PREFIX`` a py-spy sample of every hub thread; ``--what-if`` runs one
labelled experiment (see its help) that measures a cost by removing or changing it;
``--stages`` times each step of a request in the hub and lists the slowest with when
they happened; ``--samples-csv FILE`` writes every measured request (caller, send
time, latency, lateness, hub latency, adapter time); ``--pg-url`` puts the hub's databases on PostgreSQL (two fresh
databases, dropped afterwards). Each mode also reports the in-process hub's event-loop
lag and its policy decision memos' hits and misses (finished decisions, then Rego outputs;
a Rego memo miss is an evaluation) in the warm-up and in the measured window, and splits the callers' latency beyond the hub's own
into the time a request was sent behind its schedule and the time it spent in flight
outside the hub's handler. The hub's CPU per profile includes its writer processes
(the audit log's, and the decision log's when it runs in a child), also reported on their own. Each mode also says what the
machine did in the measured window (bench/machine_pressure.py: the kernel's pressure
stall information and /proc/diskstats): disk writes, how much of the time some task
waited for a CPU, the disk stalls in which every task waited on I/O, and how many of the
requests slower than the 150 ms target were in flight during one. Results and analysis: docs/benchmarks.md, "Profile load".

    python bench/profile_load.py --persons 5000 --clients 16 --seconds 30 --tls both
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import functools
import gc
import io
import multiprocessing as mp
import os
import pstats
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import machine_pressure  # bench/machine_pressure.py: run as `python bench/profile_load.py`, bench/ is on sys.path
from machine_pressure import MachinePressure

SEED = 7
SLOW_REQUEST_MS = 150.0  # issue 7's p99 target: requests slower than this are matched against disk stalls
WINDOW_SECONDS = 30.0  # a sustained run (--seconds 60 or more) also reports the p99 of each window this long
WARMUP_SECONDS = 3.0
DEADLINE_MS = 500  # the hub's default per-adapter deadline (issue 7)


# ------------------------------------------------------------------ values passed between processes


@dataclass(frozen=True)
class CallerPlan:
    """One client: its token and the residents of its scope (person id, ID number)."""

    label: str
    token: str
    purposes: tuple[str, ...]
    residents: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ClientTls:
    ca_file: str
    cert_file: str
    key_file: str


@dataclass(frozen=True)
class Sample:
    request_id: str
    kind: str  # person_id | id_number
    started: float  # seconds since the measured window opened (negative: warm-up)
    latency_ms: float
    code: str
    detail: str = ""
    unavailable: int = 0  # sections of an answered profile marked unavailable (a department did not answer in time)
    late_ms: float = 0.0  # how long after its scheduled time the request was sent (caller behind, or its loop late)
    client: int = -1  # which caller sent it


# ------------------------------------------------------------------ adapter process


def _adapter_process(
    config_dir: str,
    data_dir: str,
    secret: str,
    ports: dict[str, int],
    tls: Any,  # pingan.cli.sandbox.SandboxTls | None
    witness_key: str,
    conn: Any,
    only: tuple[str, ...] = (),
) -> None:
    """Run the example adapters (``only`` these, when given) on their fixed ports until told to stop."""
    os.environ["PINGAN_DATA_DIR"] = data_dir
    os.environ["PINGAN_LINKAGE_SECRET"] = secret
    from adapters.server import AdapterServer
    from pingan.cli.sandbox import EXAMPLES, adapter_config

    servers = []
    pauses = GcPauses().__enter__()
    try:
        for example in sorted(EXAMPLES.glob("*.toml")):
            name = example.stem
            if only and name not in only:
                continue
            # As shipped: every adapter witnesses the hub's audit log; with TLS its config has the
            # sandbox's [tls] (hub certificates only, pinned by name, checked against the CRL).
            server = AdapterServer.from_config(
                adapter_config(name, Path(config_dir), ports[name], tls, witness_key=Path(witness_key))
            )
            server.start()
            servers.append(server)
        from pingan import heap

        heap.settle()  # as `pingan adapter serve` does once it has started
        conn.send("ready")
        while (message := conn.recv()) != "stop":
            if message == "gc":  # the collector's pauses since the last ask, for the parent's report
                conn.send(pauses.pauses)
                pauses.pauses = {0: [], 1: [], 2: []}
            elif message == "commits":  # access-log calls and transactions so far, summed over this process's adapters
                counts = [getattr(server.servicer.state, "log_commits", (0, 0)) for server in servers]
                conn.send((sum(c[0] for c in counts), sum(c[1] for c in counts)))
    except Exception as exc:  # noqa: BLE001 - report to the parent, which fails the run
        conn.send(f"error: {type(exc).__name__}: {exc}")
    finally:
        for server in servers:
            server.stop(0.2)


# ------------------------------------------------------------------ client process


@dataclass(frozen=True)
class CallerLoad:
    """What the callers' process runs: who calls, where, how fast and for how long."""

    address: str
    plans: list[CallerPlan]
    tls: ClientTls | None
    warmup: float
    seconds: float
    rate: float  # offered profiles/s in all (0: closed loop)
    one_connection: bool = False  # callers share one connection instead of one each


async def _run_clients(load: CallerLoad) -> tuple[list[Sample], float]:
    """Every request sent, and when the measured window opened (``time.monotonic``, shared by every process)."""
    import grpc

    from pingan.v1 import common_pb2, profile_pb2, profile_pb2_grpc

    address, plans, tls, warmup, seconds, rate = (
        load.address, load.plans, load.tls, load.warmup, load.seconds, load.rate
    )
    one_connection = load.one_connection
    credentials = None
    if tls is not None:
        from pingan.tls import channel_credentials

        credentials = channel_credentials(tls.ca_file, tls.cert_file, tls.key_file)
    loop = asyncio.get_running_loop()
    opened = loop.time() + warmup
    closes = opened + seconds
    samples: list[Sample] = []

    async def client(index: int, plan: CallerPlan) -> None:
        rng = random.Random(SEED * 1000 + index)
        # Each caller is a different device in the field: its own TCP connection (gRPC would
        # otherwise share one connection among channels to the same target in this process).
        options: tuple[tuple[str, Any], ...] = () if one_connection else (("grpc.use_local_subchannel_pool", 1),)
        if credentials is not None:  # as the demo's callers: accept only the hub's certificate
            from pingan.cli.sandbox import HUB_CERT_NAME
            from pingan.tls import expect_server

            options = (*options, *expect_server("hub", HUB_CERT_NAME))
        channel = (
            grpc.aio.secure_channel(address, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(address, options=options)
        )
        stub = profile_pb2_grpc.ProfileServiceStub(channel)
        metadata = (("authorization", f"Bearer {plan.token}"),)
        # Open loop (--rate): each client sends on a fixed schedule and latency counts from
        # the scheduled time, so a slow hub cannot hide its queueing (no coordinated omission).
        interval = len(plans) / rate if rate > 0 else 0.0
        scheduled = loop.time() + interval * index / max(1, len(plans))
        try:
            while loop.time() < closes:  # bounded by the clock
                if interval:
                    delay = scheduled - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                person_id, id_number = rng.choice(plan.residents)
                kind = "person_id" if rng.random() < 0.5 else "id_number"
                query = (
                    profile_pb2.PersonQuery(person_id=person_id)
                    if kind == "person_id"
                    else profile_pb2.PersonQuery(id_number=id_number)
                )
                request_id = f"bench-{uuid.uuid4().hex}"
                request = profile_pb2.GetPersonProfileRequest(
                    query=query, purpose=rng.choice(plan.purposes), request_id=request_id
                )
                sent = loop.time()
                start = scheduled if interval else sent
                scheduled += interval
                unavailable = 0
                try:
                    response = await stub.GetPersonProfile(request, metadata=metadata, timeout=10)
                    code, detail = "OK", ""
                    unavailable = sum(
                        1 for s in response.sections if s.outcome == common_pb2.SECTION_OUTCOME_UNAVAILABLE
                    )
                except grpc.aio.AioRpcError as exc:
                    code, detail = exc.code().name, exc.details() or ""
                end = loop.time()
                samples.append(
                    Sample(
                        request_id, kind, start - opened, (end - start) * 1000.0, code, detail, unavailable,
                        (sent - start) * 1000.0, index,
                    )
                )
        finally:
            await channel.close()

    await asyncio.gather(*(client(i, p) for i, p in enumerate(plans)))
    return samples, opened


def _write_samples(path: Path, mode: str, samples: list[Sample], hub_ms: dict[str, float], times: Any) -> None:
    """One row per measured request (appended; one file may hold several modes)."""
    import csv

    new = not path.exists()
    with path.open("a", newline="") as out:
        writer = csv.writer(out)
        if new:
            writer.writerow(
                ["mode", "client", "started_s", "kind", "code", "latency_ms", "late_ms", "hub_ms", "tokenize_ms", "fetch_ms"]
            )
        for s in sorted(samples, key=lambda s: s.started):
            hub = hub_ms.get(s.request_id)
            writer.writerow(
                [mode, s.client, f"{s.started:.4f}", s.kind, s.code, f"{s.latency_ms:.2f}", f"{s.late_ms:.2f}",
                 "" if hub is None else f"{hub:.2f}", f"{times.tokenize.get(s.request_id, 0.0):.2f}",
                 f"{times.fetch.get(s.request_id, 0.0):.2f}"]
            )


def _client_process(load: CallerLoad, conn: Any) -> None:
    try:
        samples, opened = asyncio.run(_run_clients(load))
        conn.send((samples, time.process_time(), opened))  # the callers' own CPU seconds, reported with the samples
    except Exception as exc:  # noqa: BLE001
        conn.send(f"error: {type(exc).__name__}: {exc}")


# ------------------------------------------------------------------ the hub in this process



class AdapterTimes:
    """Per request id: Tokenize and FetchRecords latencies measured inside the hub."""

    def __init__(self) -> None:
        self.tokenize: dict[str, float] = collections.defaultdict(float)
        self.fetch: dict[str, float] = collections.defaultdict(float)

    def instrument(self, clients: dict[str, Any]) -> None:
        for client in clients.values():
            client.fetch = self._wrap(client.fetch, self.fetch, lambda a: a[0].request_id, max)
            client.tokenize = self._wrap(client.tokenize, self.tokenize, lambda a: a[0], lambda x, y: x + y)

    @staticmethod
    def _wrap(method: Any, into: dict[str, float], key: Any, combine: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                rid = key(args)
                into[rid] = combine(into[rid], (time.perf_counter() - start) * 1000.0)

        return timed


class StageTimes:
    """--stages: wall time of each step of GetPersonProfile inside the hub (bench-only wrappers
    around the servicer's steps, so the hub's own overhead can be split by step). *tokenize*
    is the adapter call for ID-number queries (nothing for person ids); *plan* is the one
    worker-thread hop that finds the person, reads the records and decides."""

    STEPS = (
        "authenticate", "tokenize (person id)", "tokenize (id number)", "plan", "intent append", "assemble", "access append", "whole", "audit group commit",
        "audit group commit, thread CPU", "decision-log group commit",
    )

    SLOW_MS = 100.0  # steps at least this long are also listed with when they ended

    def __init__(self) -> None:
        self.ms: dict[str, list[float]] = {step: [] for step in self.STEPS}
        self.batch_sizes: list[int] = []
        self.opened = time.perf_counter()
        self.slow: list[tuple[float, str, float]] = []  # (seconds since the window opened, step, ms)

    def _add(self, step: str, ms: float) -> None:
        self.ms[step].append(ms)
        if ms >= self.SLOW_MS:
            self.slow.append((time.perf_counter() - self.opened, step, ms))

    def instrument(self) -> None:
        from hub.profile.assembly import ProfileAssembler
        from hub.profile.recorder import AuditRecorder
        from hub.profile.resolve import PersonResolver
        from hub.profile.service import ProfileServicer

        self._wrap(ProfileServicer, "_authenticate", lambda a, k: "authenticate")
        self._wrap(PersonResolver, "finder", lambda a, k: f"tokenize ({a[1].kind.replace('_', ' ')})")
        self._wrap(ProfileServicer, "GetPersonProfile", lambda a, k: "whole")
        self._wrap(ProfileAssembler, "plan", lambda a, k: "plan")
        self._wrap(ProfileAssembler, "assemble", lambda a, k: "assemble")
        self._wrap(
            AuditRecorder, "append", lambda a, k: "access append" if k.get("with_checkpoint", True) else "intent append"
        )
        from audit.appender import BatchingAppender

        commit, add, sizes, ms = BatchingAppender._commit, self._add, self.batch_sizes, self.ms

        def timed_commit(appender: Any, batch: list[Any]) -> None:  # the appender thread: one group commit
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                commit(appender, batch)
            finally:
                add("audit group commit", (time.perf_counter() - start) * 1000.0)
                ms["audit group commit, thread CPU"].append((time.thread_time() - cpu) * 1000.0)
                sizes.append(len(batch))

        BatchingAppender._commit = timed_commit  # type: ignore[method-assign]
        from hub.policy.group_commit import DecisionLogWriter

        decisions = DecisionLogWriter._commit

        def timed_decisions(writer: Any, batch: list[Any]) -> None:  # the decision-log writer thread
            start = time.perf_counter()
            try:
                decisions(writer, batch)
            finally:
                add("decision-log group commit", (time.perf_counter() - start) * 1000.0)

        DecisionLogWriter._commit = timed_decisions  # type: ignore[method-assign]

    def _wrap(self, cls: Any, name: str, step_of: Any) -> None:
        method = getattr(cls, name)
        add = self._add

        async def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await method(*args, **kwargs)
            finally:
                add(step_of(args, kwargs), (time.perf_counter() - start) * 1000.0)

        functools.update_wrapper(timed, method)
        setattr(cls, name, timed)

    def reset(self) -> None:
        """Forget the warm-up: called when the measured window opens."""
        for values in self.ms.values():
            values.clear()
        self.batch_sizes.clear()
        self.slow.clear()
        self.opened = time.perf_counter()

    def report(self) -> str:
        rows = ["| step | calls | p50 ms | p90 ms | p99 ms |", "|---|---:|---:|---:|---:|"]
        for step in self.STEPS:
            values = sorted(self.ms[step])
            if values:
                p50, p90, p99 = (values[min(len(values) - 1, int(q * len(values)))] for q in (0.5, 0.9, 0.99))
                rows.append(f"| {step} | {len(values)} | {p50:.1f} | {p90:.1f} | {p99:.1f} |")
        if self.batch_sizes:
            rows.append(f"entries per group commit: mean {sum(self.batch_sizes) / len(self.batch_sizes):.1f}, "
                        f"max {max(self.batch_sizes)}")
        if self.slow:
            # When the slow steps happened: a stall shows as many steps ending together.
            by_second = collections.Counter(int(t) for t, _, _ in self.slow)
            rows.append(f"steps of {self.SLOW_MS:.0f} ms or more: {len(self.slow)}; per second of the window "
                        "(second: count): " + ", ".join(f"{sec}: {n}" for sec, n in sorted(by_second.items())))
            slowest = sorted(sorted(self.slow, key=lambda x: x[2])[-30:])  # the 30 slowest, in time order
            rows.append("the 30 slowest steps, by when they ended (seconds into the window):")
            rows.extend(f"  {t:7.3f} s  {step}  {ms:.1f} ms" for t, step, ms in slowest)
        return "\n".join(rows)


class Adapters:
    """The adapter processes of one mode: one per department, as deployed (each department runs
    its own adapter), or all in one process (``--adapter-processes one``, one GIL for all)."""

    def __init__(
        self,
        root: Path,
        data: Path,
        ports: dict[str, int],
        tls: Any,  # SandboxTls | None
        witness_key: Path,
        per_department: bool = True,
    ) -> None:
        groups = [(name,) for name in sorted(ports)] if per_department else [()]
        context = mp.get_context("spawn")
        self._running: list[tuple[Any, Any]] = []
        for only in groups:
            parent, child = context.Pipe()
            proc = context.Process(
                target=_adapter_process,
                args=(
                    str(root / "adapters"),
                    str(data),
                    os.environ["PINGAN_LINKAGE_SECRET"],
                    ports,
                    tls,
                    str(witness_key),
                    child,
                    only,
                ),
                daemon=True,
            )
            proc.start()
            self._running.append((proc, parent))
        for proc, parent in self._running:
            if not parent.poll(180):
                self.stop()
                raise SystemExit("adapters did not start within 180 s")
            status = parent.recv()
            if status != "ready":
                self.stop()
                raise SystemExit(f"adapters failed to start: {status}")

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc, _ in self._running]

    def gc_pauses(self) -> GcPauses:
        """The collector's pauses in every adapter process since the last call, pooled."""
        pooled = GcPauses()
        for _proc, parent in self._running:
            parent.send("gc")
            for generation, pauses in parent.recv().items():
                pooled.pauses[generation].extend(pauses)
        return pooled

    def log_commits(self) -> tuple[int, int]:
        """(access-log calls, access-log transactions) of every adapter process so far."""
        calls = commits = 0
        for _proc, parent in self._running:
            parent.send("commits")
            got = parent.recv()
            calls, commits = calls + got[0], commits + got[1]
        return calls, commits

    def stop(self) -> None:
        for proc, parent in self._running:
            if proc.is_alive():
                try:
                    parent.send("stop")
                except (BrokenPipeError, OSError):
                    pass
        for proc, _ in self._running:
            proc.join(30)
            if proc.is_alive():
                proc.terminate()
                proc.join(10)


def _start_workers(config_path: Path, port: int, count: int) -> list[Any]:
    """``count`` more hub processes serving ``port`` with the in-process hub (hub/workers.py)."""
    from hub.workers import run_worker

    context = mp.get_context("spawn")
    started = []
    for index in range(1, count + 1):
        parent, child = context.Pipe(duplex=False)
        # not daemonic, as the Supervisor of `pingan hub serve --workers N` starts them: a worker
        # starts its own audit writer child, and a daemonic process may not have children
        proc = context.Process(target=run_worker, args=(str(config_path), index, -1.0, port, child), daemon=False)
        proc.start()
        started.append(proc)
        if not parent.poll(120):
            _stop_workers(started)
            raise SystemExit(f"hub worker {index} did not start")
        kind, value = parent.recv()
        if kind != "started":
            _stop_workers(started)
            raise SystemExit(f"hub worker {index} could not start: {value}")
    return started


def _stop_workers(workers: list[Any]) -> None:
    for proc in workers:
        proc.terminate()
    for proc in workers:
        proc.join(15)
        if proc.is_alive():
            proc.kill()


def _hub_config(
    root: Path,
    keys: Any,
    ports: dict[str, int],
    tls: Any,  # SandboxTls | None
    urls: tuple[str, str],
    checkpoints: tuple[int, float],
) -> Path:
    from pingan.cli.sandbox import write_hub_config

    addresses = {name: f"127.0.0.1:{port}" for name, port in ports.items()}
    path = write_hub_config(
        root,
        keys,
        addresses,
        database_url=urls[0],
        audit_url=urls[1],
        deadline_ms=DEADLINE_MS,
        checkpoint_every_entries=checkpoints[0],
        checkpoint_every_seconds=checkpoints[1],
        tls=tls,  # as shipped: client certificates required, the CRL checked for callers and adapters
    )
    return path


def _valid_id(number: str) -> bool:
    """GB 11643 check digit passes: what a caller reads off an ID card. A department's
    mistyped copy is not what a caller would type (and would rightly not be found)."""
    from adapters.linkage.idnumber import normalize_id_number

    parsed = normalize_id_number(number)
    return parsed is not None and parsed.valid


def _residents(hub_url: str, data: Path) -> dict[str, list[tuple[str, str]]]:
    """Jurisdiction -> (person id, ID number) of linked population records with a valid ID number."""
    from adapters.config import load_config
    from hub.identity import store
    from pingan.cli.sandbox import EXAMPLES

    config = load_config(EXAMPLES / "public_security.toml")
    dataset = next(d for d in config.datasets if d.name == "population")
    id_column = dict(dataset.identity)["id_number"]
    with sqlite3.connect(data / "public_security.db") as db:
        ids = {
            str(local): str(number)
            for local, number in db.execute(
                f'SELECT "{dataset.id_column}", "{id_column}" FROM "{dataset.table}"'
            )
            if number and len(str(number)) == 18 and _valid_id(str(number))
        }
    import sqlalchemy as sa

    r, a, p = store.records.c, store.assignments.c, store.persons.c
    engine = sa.create_engine(hub_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(r.local_record_id, p.person_id, p.jurisdiction)
                .join_from(store.records, store.assignments, a.record_id == r.id)
                .join(store.persons, p.person_id == a.person_id)
                .where(
                    (r.department == "public_security")
                    & (r.dataset == "population")
                    & r.deleted.is_(False)
                    & p.active.is_(True)
                )
            ).all()
    finally:
        engine.dispose()
    by_grid: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    seen: set[str] = set()
    for local, person_id, jurisdiction in sorted(rows):
        number = ids.get(str(local))
        if number and jurisdiction and person_id not in seen:
            seen.add(person_id)
            by_grid[jurisdiction].append((person_id, number))
    return by_grid


def _plans(
    by_grid: dict[str, list[tuple[str, str]]], clients: int, keys: Any
) -> tuple[list[CallerPlan], list[Any]]:
    from hub.policy.jurisdiction import RoleAssignment

    def street(jurisdiction: str) -> str:
        return "/".join(jurisdiction.split("/")[:2])

    by_street: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for grid, people in by_grid.items():
        by_street[street(grid)].extend(people)
    grids = sorted(by_grid, key=lambda g: (-len(by_grid[g]), g))
    streets = sorted(by_street, key=lambda s: (-len(by_street[s]), s))
    officers = max(1, clients // 8) if clients >= 4 else 0
    plans: list[CallerPlan] = []
    assignments = []
    for i in range(clients):
        if i < officers:
            role, department, purposes = "street_officer", "street_office", ("routine_visit", "case_handling")
        elif i < 2 * officers:
            role, department, purposes = "justice_officer", "justice", ("routine_visit", "case_handling")
        else:
            role, department, purposes = "grid_worker", "grid_office", ("routine_visit",)
        if role == "grid_worker":
            scope = grids[(i - 2 * officers) % len(grids)]
            people = by_grid[scope]
        else:
            scope = streets[i % len(streets)]
            people = by_street[scope]
        user = f"bench-{role}-{i}"
        assignments.append(RoleAssignment(user, role, scope))
        plans.append(
            CallerPlan(
                f"{role}@{scope}", keys.token(user, department, [role], [scope]), purposes, tuple(people)
            )
        )
    return plans, assignments


@dataclass(frozen=True)
class ModeResult:
    mode: str
    seconds: float
    ok: int
    errors: dict[str, int]
    p50: float
    p99: float
    hub_p50: float
    hub_p99: float
    critical_p50: float
    overhead_p50: float
    overhead_p99: float
    overhead_n: int
    profile: str
    details: tuple[str, ...]
    hub_cpu_ms: float  # CPU time of the hub processes (and their audit writers) per answered profile (warm-up included)
    adapters_cpu_ms: float  # the same for the adapters' process
    callers_cpu_ms: float  # the same for the callers' process (all three share the machine's cores)
    gc: str  # garbage-collector pauses in the hub process during warm-up and measurement
    adapters_gc: str  # the same, pooled over the adapter processes
    access_log: str  # the adapters' access-log calls and commits (warm-up + measured)
    loop_lag: str  # how late the in-process hub's event loop ran a 10 ms timer (LoopLag)
    memo: str = ""  # Rego evaluations (decision-memo misses) in the warm-up and the measured window
    split: str = ""  # where the callers' latency goes beyond the hub's own: sent late, or in flight outside it
    writer_cpu_ms: float = 0.0  # of hub_cpu_ms: the writer processes (audit log; decision log when in a child)
    machine: str = ""  # disk writes, CPU and disk stalls in the measured window (bench/machine_pressure.py)
    windows: str = ""  # a long run's p99 per consecutive WINDOW_SECONDS window (_windows)


class GcPauses:
    """Pauses of CPython's cyclic collector in the hub process (``gc.callbacks``), per generation."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses[info["generation"]].append((time.perf_counter() - self._started) * 1000)

    def __enter__(self) -> GcPauses:  # noqa: PYI034
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self)

    def summary(self) -> str:
        return ", ".join(
            f"gen{g} {len(v)} x, {sum(v):.0f} ms in all, max {max(v, default=0.0):.1f} ms" for g, v in self.pauses.items()
        )


def _access_log_summary(calls: int, commits: int) -> str:
    """Calls that appended access-log rows and the transactions that committed them."""
    if not calls:
        return "no calls"
    return f"{calls} calls in {commits} transactions ({calls - commits} calls shared another's commit)"


class LoopLag:
    """How late the hub's event loop runs a 10 ms timer: every stall (a long callback, a GIL
    holder elsewhere, a collection) delays every request on the loop by as much."""

    PERIOD = 0.010

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: Any = None

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.PERIOD
            await asyncio.sleep(self.PERIOD)
            self.lags.append((loop.time() - due) * 1000)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._probe())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def summary(self) -> str:
        if not self.lags:
            return "no samples"
        over = sum(1 for v in self.lags if v > 20)
        return (
            f"{len(self.lags)} timer samples, lag p50 {_pct(self.lags, 0.5):.1f} ms, p99 {_pct(self.lags, 0.99):.1f} ms, "
            f"max {max(self.lags):.1f} ms, {over} over 20 ms"
        )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all threads (Linux /proc/<pid>/stat, fields 14-15)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pids: list[int]) -> list[int]:
    """The direct children of ``pids`` (Linux /proc/<pid>/task/<tid>/children)."""
    out: list[int] = []
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                out.extend(int(c) for c in (task / "children").read_text().split())
            except (OSError, ValueError):
                continue
    return out


def _windows(samples: list[Sample], seconds: float, width: float = WINDOW_SECONDS) -> str:
    """The p99 of every whole ``width``-second window of a longer run (by send time), so a
    sustained run says both its overall p99 and how often a short run of the same length as
    the default (30 s) would have missed the target; empty when the run has fewer than two."""
    count = int(seconds // width)
    if count < 2:
        return ""
    per: list[list[float]] = [[] for _ in range(count)]
    for s in samples:
        slot = int(s.started // width)
        if 0 <= slot < count:
            per[slot].append(s.latency_ms if s.code == "OK" else float("inf"))  # an error misses the window
    p99s = [_pct(v, 0.99) for v in per]
    over = [f"{i * width:.0f}-{(i + 1) * width:.0f} s: {v:.1f} ms" for i, v in enumerate(p99s) if v >= SLOW_REQUEST_MS]
    ordered = sorted(p99s)
    return (
        f"{count} windows of {width:.0f} s, p99 per window min / median / max "
        f"{ordered[0]:.1f} / {ordered[len(ordered) // 2]:.1f} / {ordered[-1]:.1f} ms; "
        f"{len(over)} at or over {SLOW_REQUEST_MS:.0f} ms" + (f" ({'; '.join(over)})" if over else "")
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def _audit_latencies(runtime: Any, first: int) -> dict[str, float]:
    """request id -> the hub's own request latency (ms) from the audit entries appended since ``first``."""
    log = runtime.audit_log
    out: dict[str, float] = {}
    for index in range(first, log.size()):
        entry = log.entry(index).decode().entry
        latency = getattr(entry, "latency_us", 0)
        if latency:
            out[entry.request_id] = latency / 1000.0
    return out


def _start_py_spy(
    args: argparse.Namespace, mode: str, pid: int | None = None, label: str = ""
) -> tuple[subprocess.Popen[bytes], Path] | None:
    """py-spy on this process (the hub: event loop and worker threads), or on ``pid``, for the measured window."""
    if not args.py_spy:
        return None
    out = Path(f"{args.py_spy}{label}-{mode.replace(' ', '-')}.txt")
    command = [
        "py-spy",
        "record",
        "--pid",
        str(pid or os.getpid()),
        "--format",
        "raw",
        "--threads",
        "--nonblocking",
        "--rate",
        "200",
        "--duration",
        str(int(args.warmup + args.seconds)),
        "--output",
        str(out),
    ] + (["--gil"] if args.py_spy_gil else []) + (["--native"] if args.py_spy_native else [])
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), out


def _stop_py_spy(spy: tuple[subprocess.Popen[bytes], Path] | None) -> str:
    """Wait for py-spy; summarise samples per thread and the frames with most own and total samples."""
    if spy is None:
        return ""
    proc, out = spy
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if not out.exists():
        return f"py-spy wrote nothing: {err.decode(errors='replace')[-500:]}\n"
    threads: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        threads[frames[0]] += count
        own[frames[-1]] += count
        for frame in set(frames[1:]):
            total[frame] += count
    lines = [f"py-spy: {samples} samples (all threads, idle excluded) -> {out}", "per thread:"]
    lines += [f"  {n:7d}  {name}" for name, n in threads.most_common(12)]
    lines.append("own samples (top 30):")
    lines += [f"  {n:7d}  {name}" for name, n in own.most_common(30)]
    lines.append("total samples (top 40):")
    lines += [f"  {n:7d}  {name}" for name, n in total.most_common(40)]
    return "\n".join(lines) + "\n"


def run_mode(
    mode: str,
    root: Path,
    data: Path,
    keys: Any,
    ports: dict[str, int],
    tls: Any,  # SandboxTls | None
    args: argparse.Namespace,
    link: bool,
    urls: tuple[str, str],
) -> tuple[ModeResult, dict[str, list[tuple[str, str]]]]:
    from hub.config import load_hub_config
    from hub.runtime import HubRuntime
    from pingan.cli.sandbox import LoopThread

    adapters = Adapters(root, data, ports, tls, keys.signing_vkey, args.adapter_processes == "each")
    runtime = None
    workers: list[Any] = []
    loop = LoopThread()
    try:
        checkpoints = (args.checkpoint_every_entries, args.checkpoint_every_seconds)
        config_path = _hub_config(root, keys, ports, tls, urls, checkpoints)
        writer_setting = {"audit-writer-thread": ("[audit]", 'writer = "thread"'),
                          "decision-log-process": ("[policy]", 'decision_log_writer = "process"')}.get(args.what_if or "")
        if writer_setting is not None:  # where those group commits run, against the shipped default
            section, key = writer_setting
            text = config_path.read_text(encoding="utf-8")
            assert f"\n{section}\n" in text
            config_path.write_text(text.replace(f"\n{section}\n", f"\n{section}\n{key}\n", 1), encoding="utf-8")
        stages = StageTimes() if args.stages else None
        if stages is not None:
            stages.instrument()  # before the servicer is registered: gRPC binds its methods then
        runtime = HubRuntime.create(load_hub_config(config_path))
        runtime.share_port = args.hub_workers > 1
        port = loop.run(runtime.start())
        if link:
            started = time.perf_counter()
            report = runtime.link()
            if report.failures:
                raise SystemExit(f"linkage failed: {report.failures}")
            print(f"linked in {time.perf_counter() - started:.1f} s", flush=True)
        by_grid = _residents(urls[0], data)
        plans, assignments = _plans(by_grid, args.clients, keys)
        if link:
            runtime.policy_store.add_assignments(assignments)
        runtime.pdp.activate(runtime.admin.load_active())
        # more hub workers on the same port (hub/workers.py), started once linkage and role
        # assignments are stored, as `pingan hub serve --workers N` runs them
        workers = _start_workers(config_path, port, args.hub_workers - 1)
        times = AdapterTimes()
        loop.call(lambda: times.instrument(runtime.clients))
        first_entry = runtime.audit_log.size()
        profiler = cProfile.Profile() if args.profile else None
        if profiler is not None:
            loop.call(profiler.enable)  # profiles the hub's event-loop thread only

        client_tls = None
        if tls is not None:
            client_tls = ClientTls(str(tls.ca_file), str(tls.client_cert), str(tls.client_key))
        # the machine's speed as the callers start: ALU, then memory
        loop_before, chase_before = machine_pressure.loop_seconds(), machine_pressure.chase_seconds()
        parent, child = mp.Pipe()
        proc = mp.get_context("spawn").Process(
            target=_client_process,
            args=(
                CallerLoad(
                    f"127.0.0.1:{port}", plans, client_tls, args.warmup, args.seconds, args.rate, args.one_connection
                ),
                child,
            ),
            daemon=True,
        )
        # The hub's CPU includes its writer processes (audit/writer_process.py,
        # hub/policy/decision_log_process.py): this process's, and every child of a worker.
        writer_pids = _children([w.pid for w in workers])
        for child in (runtime.audit_writer, runtime.decision_log_process):
            if child is not None and child.pid is not None:
                writer_pids.append(child.pid)
        hub_pids = [os.getpid(), *(w.pid for w in workers), *writer_pids]
        writer_before = sum(_cpu_seconds(p) for p in writer_pids)
        cpu_before = (sum(_cpu_seconds(p) for p in hub_pids), sum(_cpu_seconds(p) for p in adapters.pids))
        proc.start()
        memo_at: dict[str, tuple[int, ...]] = {"start": _memo_counts(runtime.pdp)}

        def warmed_up() -> None:
            memo_at["measured"] = _memo_counts(runtime.pdp)
            if stages is not None:
                stages.reset()

        # the callers' process takes about a second to start, then warms up
        threading.Timer(args.warmup + 1.0, warmed_up).start()
        adapters.gc_pauses()  # from here on
        log_before = adapters.log_commits()
        spy = _start_py_spy(args, mode)
        adapter_spy = _start_py_spy(args, mode, adapters.pids[0], "-adapters") if args.py_spy_adapters else None
        budget = args.warmup + args.seconds + 120
        lag = LoopLag()
        loop.call(lag.start)
        pressure = MachinePressure().start()
        with GcPauses() as gc_pauses:
            got = parent.recv() if parent.poll(budget) else "error: clients did not report in time"
        pressure.stop()
        loop_after, chase_after = machine_pressure.loop_seconds(), machine_pressure.chase_seconds()  # and after
        loop.call(lag.stop)
        cpu_after = (sum(_cpu_seconds(p) for p in hub_pids), sum(_cpu_seconds(p) for p in adapters.pids))
        writer_cpu = sum(_cpu_seconds(p) for p in writer_pids) - writer_before
        memo_at["end"] = _memo_counts(runtime.pdp)
        adapters_gc = adapters.gc_pauses()
        log_after = adapters.log_commits()
        proc.join(30)
        if proc.is_alive():
            proc.terminate()
            proc.join(10)
        profile_text = _stop_py_spy(spy)
        if stages is not None:
            profile_text += f"\n---- hub steps of GetPersonProfile ({mode}, measured window) ----\n{stages.report()}\n"
        if adapter_spy is not None:
            profile_text += "\n---- adapters process ----\n" + _stop_py_spy(adapter_spy)
        if profiler is not None:
            loop.call(profiler.disable)
            buffer = io.StringIO()
            pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(70)
            buffer.write("\n---- by own time ----\n")
            pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(50)
            profile_text += buffer.getvalue()
        if isinstance(got, str):
            raise SystemExit(got)
        got, callers_cpu, opened = got
        samples: list[Sample] = [s for s in got if 0 <= s.started < args.seconds]
        # wait for the appender to flush the last entries, then read the hub-side latencies
        time.sleep(0.5)
        hub_ms = _audit_latencies(runtime, first_entry)
    finally:
        _stop_workers(workers)
        if runtime is not None:
            try:
                loop.run(runtime.stop())
            except Exception as exc:  # noqa: BLE001 - still stop the loop and the adapters
                print(f"hub stop failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        loop.close()
        adapters.stop()

    ok = [s for s in samples if s.code == "OK"]
    answered = max(1, sum(1 for s in got if s.code == "OK"))  # warm-up included, as the CPU times are
    errors = collections.Counter(f"{s.code} ({s.kind})" for s in samples if s.code != "OK")
    degraded = sum(1 for s in ok if s.unavailable)
    if degraded:  # answered, but a department's section is missing: not a clean answer
        errors["OK with an unavailable section"] = degraded
    latencies = [s.latency_ms for s in ok]
    slow = [(s.started, s.started + s.latency_ms / 1000.0) for s in samples if s.latency_ms > SLOW_REQUEST_MS]
    machine = (
        f"10M-iteration loop {loop_before:.2f} / {loop_after:.2f} s and 1M-read random chase "
        f"{chase_before:.2f} / {chase_after:.2f} s before / after the window (one core each; "
        "the CPU ms per profile tell the machine's state better); "
        + machine_pressure.summary(pressure.window(opened, args.seconds), opened, slow, SLOW_REQUEST_MS)
    )
    hub_lat, critical, overhead, outside = [], [], [], []
    for s in ok:
        if s.request_id in hub_ms and s.request_id in times.fetch:
            total = hub_ms[s.request_id]
            path = times.tokenize.get(s.request_id, 0.0) + times.fetch[s.request_id]
            hub_lat.append(total)
            critical.append(path)
            overhead.append(total - path)
            outside.append(s.latency_ms - s.late_ms - total)
    if args.samples_csv:
        _write_samples(Path(args.samples_csv), mode, samples, hub_ms, times)
    result = ModeResult(
        mode=mode,
        seconds=args.seconds,
        ok=len(ok),
        errors=dict(errors),
        p50=_pct(latencies, 0.50),
        p99=_pct(latencies, 0.99),
        hub_p50=_pct(hub_lat, 0.50),
        hub_p99=_pct(hub_lat, 0.99),
        critical_p50=_pct(critical, 0.50),
        overhead_p50=_pct(overhead, 0.50),
        overhead_p99=_pct(overhead, 0.99),
        overhead_n=len(overhead),
        profile=profile_text,
        details=tuple(sorted({f"{s.code} ({s.kind}): {s.detail}" for s in samples if s.code != "OK"}))[:5],
        hub_cpu_ms=(cpu_after[0] - cpu_before[0]) * 1000 / answered,
        adapters_cpu_ms=(cpu_after[1] - cpu_before[1]) * 1000 / answered,
        callers_cpu_ms=callers_cpu * 1000 / answered,
        writer_cpu_ms=writer_cpu * 1000 / answered,
        gc=gc_pauses.summary(),
        adapters_gc=adapters_gc.summary(),
        access_log=_access_log_summary(log_after[0] - log_before[0], log_after[1] - log_before[1]),
        loop_lag=lag.summary(),
        memo=_memo_summary(memo_at),
        machine=machine,
        windows=_windows(samples, args.seconds),
        split=(
            f"sent late (behind schedule) p50 {_pct([s.late_ms for s in ok], 0.50):.1f} / p99 "
            f"{_pct([s.late_ms for s in ok], 0.99):.1f} ms; in flight outside the hub's handler (caller's "
            f"latency from sending, minus the hub's) p50 {_pct(outside, 0.50):.1f} / p99 {_pct(outside, 0.99):.1f} ms"
        ),
    )
    return result, by_grid


def _memo_counts(pdp: Any) -> tuple[int, ...]:
    """(Rego memo hits, misses, finished-decision memo hits, misses) of the decision point."""
    return (*pdp.memo_stats, *pdp.verdict_stats)


def _memo_summary(at: dict[str, tuple[int, ...]]) -> str:
    """Finished-decision memo hits and misses (hub/policy/verdicts.py; a miss asks the Rego
    memo) and Rego memo hits and misses (each miss is a Rego evaluation on the request
    path), during the warm-up and during the measured window (in-process hub only)."""
    start, end = at["start"], at["end"]
    mid = at.get("measured", end)
    w = [m - s for m, s in zip(mid, start, strict=True)]
    m = [e - s for e, s in zip(end, mid, strict=True)]
    return (
        f"warm-up {w[2]} finished-decision hits / {w[3]} misses, then Rego memo {w[0]} hits / {w[1]} misses; "
        f"measured {m[2]} / {m[3]}, then {m[0]} / {m[1]}"
    )


@contextmanager
def databases(pg_url: str | None, root: Path) -> Iterator[tuple[str, str]]:
    """(hub database URL, audit database URL): SQLite files under ``root``, or two fresh
    PostgreSQL databases created on the server of ``pg_url`` and dropped afterwards."""
    if not pg_url:
        yield f"sqlite:///{root / 'hub.db'}", f"sqlite:///{root / 'audit.db'}"
        return
    import sqlalchemy as sa

    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    suffix = uuid.uuid4().hex[:8]
    names = (f"pingan_bench_hub_{suffix}", f"pingan_bench_audit_{suffix}")
    base = sa.make_url(pg_url)
    created: list[str] = []
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        yield tuple(base.set(database=n).render_as_string(hide_password=False) for n in names)  # type: ignore[misc]
    finally:
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _apply_what_if(what_if: str | None) -> None:
    """Experiments that measure one cost by removing it in this (hub) process only."""
    if what_if == "switch-1ms":
        sys.setswitchinterval(0.001)
    if what_if == "switch-0.2ms":
        sys.setswitchinterval(0.0002)
    if what_if == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if what_if == "no-decision-log":
        from concurrent.futures import Future

        from hub.policy.decision_point import PolicyDecisionPoint
        from hub.policy.group_commit import DecisionLogWriter

        def recorded(self: Any, records: Any) -> Future[None]:  # as if committed at once
            done: Future[None] = Future()
            done.set_result(None)
            return done

        PolicyDecisionPoint._record = lambda self, records: True  # type: ignore[method-assign]
        DecisionLogWriter.submit = recorded  # type: ignore[method-assign]  # the profile's deferred path


def main() -> int:
    from hub.config import AuditSection

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5000, help="synthetic residents (default 5000)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent callers (default 16)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per mode (default 30)")
    parser.add_argument(
        "--warmup", type=float, default=WARMUP_SECONDS, help="unmeasured warm-up seconds per mode"
    )
    parser.add_argument(
        "--tls", choices=("off", "on", "both"), default="off", help="mutual TLS (default off)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the hub's event-loop thread")
    parser.add_argument(
        "--samples-csv",
        metavar="FILE",
        help="also write every measured request (caller, send time, latency, lateness, hub latency) to FILE",
    )
    parser.add_argument(
        "--py-spy",
        metavar="PREFIX",
        help="also sample the whole hub process (all threads) with py-spy during each measured window; "
        "writes PREFIX-<mode>.txt (collapsed stacks) and prints the top frames",
    )
    parser.add_argument(
        "--one-connection",
        action="store_true",
        help="callers share one HTTP/2 connection (as behind one application server) instead of one "
        "connection each (devices in the field; the default)",
    )
    parser.add_argument(
        "--hub-workers",
        type=int,
        default=1,
        metavar="N",
        help="hub processes sharing the port, as `pingan hub serve --workers N` (default 1: the in-process hub "
        "only; the others start after linkage; per-request adapter timings cover the in-process one)",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="time each step of GetPersonProfile inside the hub (authenticate, resolve, plan, the two audit "
        "appends, assemble) and print p50/p90/p99 per step",
    )
    parser.add_argument(
        "--adapter-processes",
        choices=("each", "one"),
        default="each",
        help="each: every department adapter in its own process, as deployed (the default); one: all "
        "adapters in one process, sharing one GIL (how this bench ran before 2026-11-23)",
    )
    parser.add_argument(
        "--py-spy-adapters",
        action="store_true",
        help="with --py-spy: also sample the adapters' process, the first department's with --adapter-processes each "
        "(PREFIX-adapters-MODE.txt)",
    )
    parser.add_argument(
        "--py-spy-native",
        action="store_true",
        help="with --py-spy: include native (C/C++) frames, e.g. gRPC core and OpenSSL work",
    )
    parser.add_argument(
        "--py-spy-gil",
        action="store_true",
        help="with --py-spy: sample only the thread holding the GIL (where the hub's Python CPU time goes)",
    )
    parser.add_argument(
        "--checkpoint-every-entries",
        type=int,
        default=AuditSection.checkpoint_every_entries,
        help="hub [audit] checkpoint_every_entries (default: the hub's default, %(default)s; the demo uses 8)",
    )
    parser.add_argument(
        "--checkpoint-every-seconds",
        type=float,
        default=AuditSection.checkpoint_every_seconds,
        help="hub [audit] checkpoint_every_seconds (default: the hub's default, %(default)s; the demo uses 1)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="open loop: offered profiles/s across all clients, latency from each scheduled send "
        "(default 0: closed loop, every client sends as fast as answers come)",
    )
    parser.add_argument(
        "--pg-url",
        metavar="URL",
        help="run the hub's databases (identity/policy and audit) on PostgreSQL: a server URL such as "
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres; two fresh databases are created and dropped",
    )
    parser.add_argument(
        "--what-if",
        choices=("no-decision-log", "switch-1ms", "switch-0.2ms", "uvloop", "audit-writer-thread", "decision-log-process"),
        help="experiment, not the shipped configuration: no-decision-log skips writing policy decisions to "
        "the decision-log table (the audit log is unchanged); switch-1ms sets the hub process's GIL switch "
        "interval to 1 ms (CPython's default is 5 ms); audit-writer-thread commits the audit log in a thread "
        "of the hub process ([audit] writer = \"thread\", the default before 2026-11-23); decision-log-process "
        "commits the decision log in a child process ([policy] decision_log_writer = \"process\", the default "
        "2026-11-23 15:36-18:45). Shows what each costs or gains.",
    )
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.rate < 0 or not 10 <= args.persons <= 200_000:
        parser.error("--clients >= 1, --seconds > 0 and 10 <= --persons <= 200000 please")

    if args.tls == "both":
        # Each mode in a fresh process: a second hub (and grpc.aio event loop) in the process
        # that ran the first measured about half the throughput at twice the CPU per profile,
        # whichever mode came second (2026-11-23, docs/benchmarks.md): a bench artefact.
        code = 0
        for mode in ("off", "on"):
            argv, skip = [], False
            for a in sys.argv[1:]:
                if skip or a.startswith("--tls="):
                    skip = False
                    continue
                if a == "--tls":
                    skip = True
                    continue
                argv.append(a)
            code = subprocess.call([sys.executable, __file__, *argv, "--tls", mode]) or code
        return code

    from adapters.synth.generate import generate
    from pingan.cli.sandbox import EXAMPLES, Keys, SandboxTls, free_port, prepare_environment

    _apply_what_if(args.what_if)
    results: list[ModeResult] = []
    with tempfile.TemporaryDirectory(prefix="profile-load-") as tmp:
        root = Path(tmp)
        data = root / "data"
        started = time.perf_counter()
        generate(args.persons, SEED, data)
        print(f"generated {args.persons} persons in {time.perf_counter() - started:.1f} s", flush=True)
        prepare_environment(data)
        (root / "adapters").mkdir()
        departments = sorted(p.stem for p in EXAMPLES.glob("*.toml"))
        ports = {name: free_port() for name in departments}
        keys = Keys.generate(root / "keys")
        modes = {"off": ["plaintext"], "on": ["mutual TLS"], "both": ["plaintext", "mutual TLS"]}[args.tls]
        tls = SandboxTls.create(root / "tls", departments) if "mutual TLS" in modes else None
        by_grid: dict[str, list[tuple[str, str]]] = {}
        with databases(args.pg_url, root) as urls:
            for i, mode in enumerate(modes):
                result, by_grid = run_mode(
                    mode,
                    root,
                    data,
                    keys,
                    ports,
                    tls if mode == "mutual TLS" else None,
                    args,
                    link=(i == 0),
                    urls=urls,
                )
                results.append(result)
                print(
                    f"{mode}: {result.ok / result.seconds:.1f} profiles/s, errors {result.errors or 0}",
                    flush=True,
                )

    residents = sum(len(v) for v in by_grid.values())
    owners: dict[str, set[str]] = collections.defaultdict(set)
    for people in by_grid.values():
        for person_id, number in people:
            owners[number].add(person_id)
    shared = sum(1 for people in owners.values() if len(people) > 1)
    print()
    print(f"hub databases: {'PostgreSQL' if args.pg_url else 'SQLite files (embedded defaults)'}")
    if args.what_if:
        print(f"WHAT-IF EXPERIMENT: {args.what_if} (not the shipped configuration)")
    print(
        f"persons {args.persons} (seed {SEED}), adapters {len(ports)} ({', '.join(sorted(ports))}), "
        f"{residents} queryable residents in {len(by_grid)} grids ({shared} ID numbers held by more than one "
        f"hub person), clients {args.clients} ({'one shared connection' if args.one_connection else 'one connection each'}), "
        f"hub processes {args.hub_workers}, "
        f"adapter processes {len(ports) if args.adapter_processes == 'each' else 1}, "
        f"{args.seconds:g} s measured after {args.warmup:g} s warm-up per mode"
        + (f", open loop at {args.rate:g} offered profiles/s" if args.rate > 0 else ", closed loop")
        + f"; audit checkpoint every {args.checkpoint_every_entries} entries or {args.checkpoint_every_seconds:g} s"
    )
    print(
        "| mode | profiles/s | p50 ms | p99 ms | errors | hub p50 / p99 ms | "
        "adapter critical path p50 ms | hub overhead p50 / p99 ms | CPU ms per profile: hub / adapters / callers |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for r in results:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(r.errors.items())) or "0"
        print(
            f"| {r.mode} | {r.ok / r.seconds:,.1f} | {r.p50:,.1f} | {r.p99:,.1f} | {errors} | "
            f"{r.hub_p50:,.1f} / {r.hub_p99:,.1f} | {r.critical_p50:,.1f} | {r.overhead_p50:,.1f} / {r.overhead_p99:,.1f} | "
            f"{r.hub_cpu_ms:.1f} / {r.adapters_cpu_ms:.1f} / {r.callers_cpu_ms:.1f} |"
        )
    for r in results:
        print(
            f"{r.mode}: hub-side timings (audit latency_us + adapter calls) matched for {r.overhead_n} of {r.ok} OK requests"
        )
        print(f"{r.mode}: garbage-collector pauses in the hub process (warm-up + measured): {r.gc}")
        print(f"{r.mode}: garbage-collector pauses in the adapter processes, pooled (warm-up + measured): {r.adapters_gc}")
        print(f"{r.mode}: the adapters' access logs (warm-up + measured): {r.access_log}")
        print(f"{r.mode}: event-loop lag of the in-process hub (warm-up + measured): {r.loop_lag}")
        print(f"{r.mode}: policy decision memos of the in-process hub: {r.memo}")
        print(f"{r.mode}: callers' latency beyond the hub's: {r.split}")
        print(f"{r.mode}: the machine in the measured window (kernel PSI, /proc/diskstats): {r.machine}")
        if r.windows:
            print(f"{r.mode}: p99 per window: {r.windows}")
        print(f"{r.mode}: of the hub's CPU per profile, its writer processes (audit log; decision log when in a child): {r.writer_cpu_ms:.1f} ms")
        for detail in r.details:
            print(f"{r.mode} error example: {detail}")
    for r in results:
        if r.profile:
            print(f"\n==== profile of the hub process ({r.mode}) ====")
            print(r.profile)
    failed = any(r.ok == 0 for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
