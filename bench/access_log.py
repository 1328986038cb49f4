"""The adapter's access-log commits under concurrent RPCs: one transaction per call against
the group commit the adapter ships (issue 7, "Measure"; docs/benchmarks.md, "Profile load").

Every FetchRecords and Tokenize appends an access-log row and commits it
(``synchronous=FULL``) before any data is released. Paced threads (the gRPC server's
workers) append one row each per call, on a fresh SQLite state file per case:

* **one transaction per call**: each call opens its own transaction, as the adapter did
  until 2026-11-23 (a thread that finds the write lock taken sleeps in SQLite's busy
  handler);
* **group commit**: :meth:`adapters.state.StateStore.record` (``pingan/group_commit.py``).

``--stall-ms`` makes one commit every ``--stall-every`` seconds hold its transaction
that long before COMMIT, standing in for the disk stalls measured on this VM (an fsync
of 100-700 ms during which every commit waits): the calls that arrive meanwhile show
how each scheme drains the queue afterwards. Both modes run in the same script on the
same rows; nothing is asserted.

    python bench/access_log.py
    python bench/access_log.py --stall-ms 300 --rates 100
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.state import AccessEntry, StateStore, access_log, migrate, tune  # noqa: E402
from pingan.bulk_insert import insert_rows  # noqa: E402


def entry(k: int) -> AccessEntry:
    """A FetchRecords row as the hub's fan-out produces it."""
    return AccessEntry(
        rpc="FetchRecords",
        caller="CN=pingan-hub",
        peer="ipv4:127.0.0.1:50522",
        request_id=f"{k:08d}-2b6e-4a55-9c1e-5f0d9a7e3c21",
        purpose="routine_visit",
        dataset="corrections",
        record_ids=(str(100_000 + k),),
        fields=("supervision_level", "risk_level", "reporting_day"),
        record_count=1,
        detail="witness entry 1234 checkpoint 1280",
    )


def _engine(workdir: Path, name: str) -> sa.Engine:
    engine = sa.create_engine(
        f"sqlite:///{workdir / name}", connect_args={"timeout": 30, "check_same_thread": False}
    )  # as adapters.source.create_engine
    tune(engine)
    migrate(engine)
    return engine


def _stalls(engine: sa.Engine, stall_ms: float, every: float) -> None:
    """Hold the first commit after every ``every`` seconds for ``stall_ms`` before it commits."""
    if stall_ms <= 0:
        return
    state = {"next": time.monotonic() + every}
    lock = threading.Lock()

    @sa.event.listens_for(engine, "commit")
    def _stall(conn: sa.Connection) -> None:
        with lock:
            due = time.monotonic() >= state["next"]
            if due:
                state["next"] = time.monotonic() + every
        if due:
            time.sleep(stall_ms / 1000)


def run(mode: str, rate: float, threads: int, seconds: float, stall_ms: float, every: float, workdir: Path) -> str:
    engine = _engine(workdir, f"{mode.split()[0]}-{rate:g}-{time.monotonic_ns()}.db")
    _stalls(engine, stall_ms, every)
    store = StateStore(engine)
    commits = [0]
    counted = threading.Lock()

    @sa.event.listens_for(engine, "commit")
    def _count(conn: sa.Connection) -> None:
        with counted:
            commits[0] += 1

    def per_call(e: AccessEntry) -> None:
        with engine.begin() as conn:
            insert_rows(conn, access_log, [e.row()])

    append = store.record if mode == "group commit" else per_call
    latencies: list[float] = []
    start = time.monotonic() + 0.2
    per_thread = rate / threads
    cpu0 = time.process_time()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        due = start + rnd.random() / per_thread
        k = seed * 1_000_000
        while due < start + seconds:
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            t0 = time.monotonic()
            append(entry(k))
            latencies.append((time.monotonic() - t0) * 1000)  # from the call, as an RPC waits
            k += 1
            due += rnd.expovariate(per_thread)

    pool = [threading.Thread(target=worker, args=(s,)) for s in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    cpu = time.process_time() - cpu0
    with engine.connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(access_log)).scalar_one()
    engine.dispose()
    assert stored == len(latencies), (stored, len(latencies))
    latencies.sort()

    def q(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    return (
        f"| {mode} | {rate:g} | {len(latencies)} | {q(0.5):.2f} | {q(0.9):.2f} | {q(0.99):.2f} | {latencies[-1]:.1f} "
        f"| {commits[0] / len(latencies):.2f} | {cpu / len(latencies) * 1000:.3f} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="50,150,300", help="calls/s across all threads, comma-separated")
    ap.add_argument("--threads", type=int, default=8, help="concurrent callers (the adapter's worker threads)")
    ap.add_argument("--seconds", type=float, default=8.0, help="seconds per case")
    ap.add_argument("--repeats", type=int, default=2, help="alternating runs of each mode per rate")
    ap.add_argument("--stall-ms", type=float, default=0.0, help="hold one commit this long every --stall-every s")
    ap.add_argument("--stall-every", type=float, default=1.0)
    args = ap.parse_args()
    print(
        f"{args.threads} threads, {args.seconds:g} s per case, stall {args.stall_ms:g} ms every "
        f"{args.stall_every:g} s; latency of one call's append, ms"
    )
    print("| mode | calls/s | calls | p50 | p90 | p99 | max | commits per call | CPU ms per call |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="access-log-") as tmp:
        for rate in (float(r) for r in args.rates.split(",")):
            for _ in range(args.repeats):
                for mode in ("one transaction per call", "group commit"):
                    line = run(mode, rate, args.threads, args.seconds, args.stall_ms, args.stall_every, Path(tmp))
                    print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
