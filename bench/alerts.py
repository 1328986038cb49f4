"""Alerts: rule cost at the adapter, and how fast a new alert reaches a watcher (REQUIREMENTS.md 8).

Two measurements on one synthetic deployment (``pingan.cli.sandbox``: generated
departments, the seven example adapters, a hub on the embedded defaults, linked once):

1. **ListAlerts latency**: the justice and health adapters answer ``ListAlerts`` (their
   ``[[alerts]]`` SQL over the whole session / visit tables) ``--calls`` times each,
   sequentially, over loopback gRPC; p50 and p95 per department.
2. **Poll**: one ``AlertFeed.poll_once`` over all seven adapters (ListAlerts fan-out,
   person resolution through the identity index).
3. **Time to reach the watcher**: a justice officer of the whole district watches
   ``missed_sessions`` over gRPC; for ``--events`` subjects without an alert, three
   new absences are written into the department's own database (as its case system
   would) at a random moment of the poll cycle, and the time from that commit to the
   WatchAlerts message is measured. The hub polls every ``--poll`` seconds, so the
   expected figure is about half the poll interval on average and at most one interval,
   plus one poll's work, the header decision, FetchRecords and the audit append.

    python bench/alerts.py --persons 20000 --poll 1.0 --events 10
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import grpc


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def list_alerts_latency(adapters: dict[str, Any], calls: int) -> dict[str, tuple[int, float, float]]:
    from pingan.v1 import adapter_pb2, adapter_pb2_grpc

    out = {}
    for name in ("justice", "health"):
        channel = grpc.insecure_channel(adapters[name].address)
        stub = adapter_pb2_grpc.DepartmentAdapterStub(channel)
        count = len(stub.ListAlerts(adapter_pb2.ListAlertsRequest(), timeout=60).alerts)  # warm-up
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            stub.ListAlerts(adapter_pb2.ListAlertsRequest(request_id="bench"), timeout=60)
            times.append((time.perf_counter() - started) * 1000)
        channel.close()
        out[name] = (count, statistics.median(times), _percentile(times, 0.95))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--poll", type=float, default=1.0, help="hub [alerts] poll_seconds")
    parser.add_argument("--calls", type=int, default=30, help="ListAlerts calls per department")
    parser.add_argument("--events", type=int, default=10, help="new alerts to time end to end")
    args = parser.parse_args()

    from adapters.synth.generate import generate
    from hub.config import load_hub_config
    from hub.policy.jurisdiction import RoleAssignment
    from hub.runtime import HubRuntime
    from pingan.cli.sandbox import Keys, prepare_environment, running_adapters, write_hub_config
    from pingan.v1 import profile_pb2, profile_pb2_grpc

    root = Path(tempfile.mkdtemp(prefix="pingan-bench-alerts-"))
    data = root / "data"
    started = time.perf_counter()
    generate(args.persons, args.seed, data)
    prepare_environment(data)
    print(f"generated {args.persons} persons in {time.perf_counter() - started:.1f} s")
    with running_adapters(root / "adapters") as adapters:
        for name, (count, p50, p95) in list_alerts_latency(adapters, args.calls).items():
            print(f"ListAlerts {name}: {count} alerts, p50 {p50:.1f} ms, p95 {p95:.1f} ms ({args.calls} calls)")

        keys = Keys.generate(root / "keys")
        path = write_hub_config(root, keys, {n: s.address for n, s in adapters.items()}, deadline_ms=5000)
        path.write_text(path.read_text() + f"[alerts]\npoll_seconds = {args.poll}\n")
        runtime = HubRuntime.create(load_hub_config(path))
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        port = asyncio.run_coroutine_threadsafe(runtime.start(), loop).result(120)
        started = time.perf_counter()
        runtime.link()
        print(f"linked in {time.perf_counter() - started:.1f} s")
        polls = []
        for _ in range(10):
            started = time.perf_counter()
            report = asyncio.run_coroutine_threadsafe(runtime.alerts.poll_once(), loop).result(120)
            polls.append((time.perf_counter() - started) * 1000)
        print(
            f"one poll of {report.departments} adapters ({report.alerts} alerts resolved): "
            f"p50 {statistics.median(polls):.0f} ms, max {max(polls):.0f} ms (10 polls, feed also polling)"
        )

        db = sqlite3.connect(data / "justice.db", timeout=30)
        alerted = {a.local_record_id for a in runtime.alerts.alerts if a.kind == "missed_sessions"}
        candidates = []
        for (dxbh,) in db.execute("SELECT dxbh FROM jzdx_jbxx ORDER BY dxbh"):
            if dxbh in alerted:
                continue
            person = runtime.identity.person_of("justice", "corrections", dxbh)
            info = runtime.identity.person(person) if person else None
            if info is not None and info.jurisdiction:
                candidates.append((dxbh, info))
        district = candidates[0][1].jurisdiction.split("/")[0]
        candidates = [c for c in candidates if c[1].jurisdiction.startswith(district + "/")][: args.events]
        runtime.policy_store.add_assignments([RoleAssignment("jo-bench", "justice_officer", district)])
        runtime.pdp.activate(runtime.admin.load_active())
        token = keys.token("jo-bench", "justice", ["justice_officer"], [district], ttl=dt.timedelta(hours=1))
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = profile_pb2_grpc.ProfileServiceStub(channel)
        call = stub.WatchAlerts(
            profile_pb2.WatchAlertsRequest(kinds=["missed_sessions"]),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=600,
        )
        received: dict[str, float] = {}
        done = threading.Event()

        def reader() -> None:
            try:
                for message in call:
                    received[message.person_id] = time.perf_counter()
            except grpc.RpcError:
                pass
            done.set()

        threading.Thread(target=reader, daemon=True).start()
        time.sleep(2 * args.poll)  # the current alerts arrive first
        seq = db.execute("SELECT COUNT(*) FROM jz_jyhd").fetchone()[0]
        latencies = []
        rng = random.Random(args.seed)
        for dxbh, info in candidates:
            time.sleep(rng.uniform(0, args.poll))  # not in step with the feed's polls
            last = db.execute("SELECT MAX(hdrq) FROM jz_jyhd WHERE dxbh = ?", (dxbh,)).fetchone()[0] or "2026-06-01"
            base = dt.date.fromisoformat(last)
            with db:
                for k in range(1, 4):
                    seq += 1
                    db.execute(
                        "INSERT INTO jz_jyhd VALUES (?, ?, ?, '个别教育', '缺席', 'bench', '未到', '2026-06-30 18:00:00')",
                        (f"HB{seq:09d}", dxbh, (base + dt.timedelta(days=30 * k)).isoformat()),
                    )
            committed = time.perf_counter()
            deadline = committed + 10 * args.poll + 30
            while info.person_id not in received and time.perf_counter() < deadline:
                time.sleep(0.005)
            if info.person_id in received:
                latencies.append((received[info.person_id] - committed) * 1000)
        call.cancel()
        done.wait(5)
        channel.close()
        asyncio.run_coroutine_threadsafe(runtime.stop(), loop).result(60)
        loop.call_soon_threadsafe(loop.stop)
    print(
        f"time to reach the watcher (poll {args.poll} s): {len(latencies)}/{len(candidates)} delivered, "
        f"p50 {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms"
        if latencies
        else "no alert delivered"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
