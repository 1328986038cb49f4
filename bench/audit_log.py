"""Benchmark the audit log: append throughput, proof latency and full verification at 1M entries.

    python bench/audit_log.py                         # SQLite only, 1,000,000 entries
    python bench/audit_log.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/audit_log.py --entries 100000 --skip-throughput

Throughput: fresh database per case; every append is durable (committed) before
it counts. "1 writer unbatched" commits each entry alone; "1 writer
append_many(256)" commits 256 per transaction; "8 writers" are 8 threads each
waiting for its own append through one BatchingAppender (group commit); "async
256 in flight" is the hub's shape: asyncio tasks awaiting
``BatchingAppender.append_async``.

1M entries: built through the normal append path in 20,000-entry transactions
(``AuditLog.bulk_load``: same code as every append, larger groups), then 2,000
inclusion proofs at random indices (each: head read + one subtree query; all
verified afterwards), then export of all entries to a JSON-lines file and
``verify_export`` over it (signature, root at every checkpoint, consistency
proofs, index and leaf-hash checks for every entry).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from audit import merkle
from audit.appender import BatchingAppender
from audit.checkpoint import NoteSigner
from audit.entry import AccessEntry, Caller, FieldDecision, Outcome, PolicyVersion, Section
from audit.export import export_lines
from audit.sealed import Keyring
from audit.store import AuditLog, CheckpointPolicy
from audit.verify import verify_export

KEYRING = Keyring.generate()
SEALED = KEYRING.seal("quarterly home visit to a resident living alone", "justification")


def entry(i: int) -> AccessEntry:
    """A realistic access entry (~900 bytes canonical)."""
    return AccessEntry(
        request_id=f"req-{i:012d}",
        time="2026-11-22T08:00:00.000000Z",
        caller=Caller(f"grid-{i % 500:04d}", "street_office", ("grid_worker",), f"jti-{i}", "10.20.30.40", "TH/S03/C07/G05"),
        purpose="home_visit",
        person_id=f"P-{i % 100_000:08d}",
        sections=(
            Section("public_security", Outcome.CLEAR, ("household",), (FieldDecision("name", "name_surname_only"),)),
            Section("health", Outcome.MASKED, ("followups",), (FieldDecision("diagnosis", "redact"),), "rego:l4"),
            Section("justice", Outcome.DENIED, ("corrections",), (), "casbin:scope"),
        ),
        justification=SEALED,
        query_kind="person_id",
        policy_versions=(PolicyVersion("casbin", "a" * 64), PolicyVersion("rego", "b" * 64)),
        latency_us=12_345,
    )


def _fresh_pg(admin_url: str) -> tuple[str, Callable[[], None]]:
    import sqlalchemy as sa

    name = f"pingan_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def _open(backend: str, workdir: Path, pg: str | None) -> tuple[AuditLog, Callable[[], None]]:
    signer = NoteSigner.generate("bench")
    policy = CheckpointPolicy(every_entries=1000, every_seconds=3600)
    if backend == "sqlite":
        path = workdir / f"tp-{uuid.uuid4().hex[:8]}.db"
        log = AuditLog(f"sqlite:///{path}", signer=signer, policy=policy)
        return log, lambda: None
    assert pg
    url, drop = _fresh_pg(pg)
    return AuditLog(url, signer=signer, policy=policy), drop


def throughput(backend: str, workdir: Path, pg: str | None) -> list[tuple[str, int, float]]:
    results: list[tuple[str, int, float]] = []

    def run(label: str, n: int, body: Callable[[AuditLog, int], None]) -> None:
        log, cleanup = _open(backend, workdir, pg)
        try:
            t0 = time.perf_counter()
            body(log, n)
            dt = time.perf_counter() - t0
            assert log.size() == n, (label, log.size(), n)
        finally:
            log.close()
            cleanup()
        results.append((label, n, n / dt))
        print(f"  {backend:10s} {label:32s} {n:7d} entries  {n / dt:10.0f} appends/s", flush=True)

    def unbatched(log: AuditLog, n: int) -> None:
        for i in range(n):
            log.append(entry(i))

    def batched(log: AuditLog, n: int) -> None:
        for i in range(0, n, 256):
            log.append_many([entry(j) for j in range(i, min(n, i + 256))])

    def writers8(log: AuditLog, n: int) -> None:
        with BatchingAppender(log) as ap:
            per = n // 8

            def w(k: int) -> None:
                for i in range(per):
                    ap.append(entry(k * per + i))

            ts = [threading.Thread(target=w, args=(k,)) for k in range(8)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()

    def async256(log: AuditLog, n: int) -> None:
        async def main() -> None:
            sem = asyncio.Semaphore(256)
            with BatchingAppender(log) as ap:

                async def one(i: int) -> None:
                    async with sem:
                        await ap.append_async(entry(i))

                await asyncio.gather(*(one(i) for i in range(n)))

        asyncio.run(main())

    run("1 writer, unbatched", 1000, unbatched)
    run("1 writer, append_many(256)", 20_000, batched)
    run("8 writers, BatchingAppender", 8_000, writers8)
    run("async 256 in flight, Batching", 20_000, async256)
    return results


def million(workdir: Path, n: int, reuse: bool) -> None:
    path, key = workdir / "million.db", workdir / "bench.skey"
    if reuse and path.exists() and key.exists():
        signer = NoteSigner.load(key)
        log = AuditLog(f"sqlite:///{path}", signer=signer, policy=CheckpointPolicy(10_000, 1e9), create=False)
        cp = log.checkpoint()
        print(f"  reusing {path} ({cp.size} entries)", flush=True)
    else:
        signer = NoteSigner.generate("bench")
        key.unlink(missing_ok=True)
        key.write_text(signer.to_skey())
        log = AuditLog(f"sqlite:///{path}", signer=signer, policy=CheckpointPolicy(10_000, 1e9))
        t0 = time.perf_counter()
        log.bulk_load((entry(i) for i in range(n)), chunk=20_000)
        cp = log.checkpoint()
        build = time.perf_counter() - t0
        mib = path.stat().st_size / 2**20
        print(f"  built {n} entries in {build:.1f} s ({n / build:.0f} appends/s); db {mib:.0f} MiB", flush=True)

    rng = random.Random(7)
    size = cp.size
    sample = [rng.randrange(size) for _ in range(2000)]
    proofs, lat = [], []
    for i in sample:
        t = time.perf_counter()
        proof = log.inclusion_proof(i, size)
        lat.append(time.perf_counter() - t)
        proofs.append(proof)
    for i, proof in zip(sample, proofs, strict=True):  # every timed proof really verifies
        merkle.verify_inclusion(log.entry(i).leaf_hash, i, size, proof, cp.root_hash)  # type: ignore[union-attr]
    lat.sort()
    print(
        f"  inclusion proof at {size}: median {statistics.median(lat) * 1e6:.0f} us, "
        f"p99 {lat[int(len(lat) * 0.99)] * 1e6:.0f} us, max {lat[-1] * 1e6:.0f} us (proof length {len(proof)})",
        flush=True,
    )
    clat = []
    for _ in range(500):
        a = rng.randrange(1, size)
        t = time.perf_counter()
        log.consistency_proof(a, size)
        clat.append(time.perf_counter() - t)
    print(f"  consistency proof: median {statistics.median(clat) * 1e6:.0f} us", flush=True)

    export = workdir / "million.jsonl"
    t0 = time.perf_counter()
    with export.open("wb") as fh:
        for line in export_lines(log, 0, size):
            fh.write(line)
    exp = time.perf_counter() - t0
    print(f"  export {size} entries: {exp:.1f} s, {export.stat().st_size / 2**20:.0f} MiB", flush=True)
    t0 = time.perf_counter()
    with export.open("rb") as fh:
        report = verify_export(fh, signer.verifier)
    ver = time.perf_counter() - t0
    print(f"  verify {report.entries} entries, {report.checkpoints} checkpoints: {ver:.1f} s", flush=True)
    log.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--pg", default=os.environ.get("PINGAN_TEST_PG_URL"), help="PostgreSQL admin URL (optional)")
    ap.add_argument("--workdir", type=Path, help="where the SQLite files go (default: a temp dir, removed)")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-million", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="reuse WORKDIR/million.db from an earlier run (needs --workdir)")
    args = ap.parse_args()
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="audit-bench-")
        args.workdir = Path(tmp.name)
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores", flush=True)
    if not args.skip_throughput:
        print("append throughput (durable):", flush=True)
        throughput("sqlite", args.workdir, None)
        if args.pg:
            throughput("postgresql", args.workdir, args.pg)
    if not args.skip_million:
        print(f"{args.entries} entries:", flush=True)
        million(args.workdir, args.entries, args.reuse)
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
