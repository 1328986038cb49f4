"""Benchmark the adapter's witness check (adapters/witness.py): what ``[witness]`` adds to a FetchRecords.

    python bench/witness_check.py                                   # state on SQLite
    python bench/witness_check.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test

A real hub audit log (``audit.store.AuditLog``, SQLite, Ed25519 ``NoteSigner``) is
filled with ``--entries`` entries, then grows by ``--step`` entries per checkpoint;
the consistency proofs between successive checkpoints are computed up front (hub
side, not timed). Timed, per call of ``Witness.check`` on the adapter's state
database:

* "same checkpoint": signature and origin check + one read of the stored checkpoint;
* "advancing checkpoint": signature check + read + RFC 9162 consistency proof
  verification + the conditional UPDATE, committed (SQLite WAL, synchronous=FULL).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa

from adapters.model import WitnessConfig
from adapters.state import migrate, tune
from adapters.witness import Witness
from audit.checkpoint import NoteSigner
from audit.entry import AuthFailureEntry, now_rfc3339
from audit.store import AuditLog


def _entries(start: int, count: int) -> list[AuthFailureEntry]:
    now = now_rfc3339()
    return [AuthFailureEntry(request_id=f"b-{n}", time=now, method="/bench", reason="bench") for n in range(start, start + count)]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(state_url: str, workdir: Path, entries: int, steps: int, step: int, same: int) -> None:
    signer = NoteSigner.generate("pingan-hub")
    key_dir = workdir / "keys"
    _, vkey = signer.save(key_dir)
    log = AuditLog(f"sqlite:///{workdir / 'hub-audit.db'}", signer=signer)
    t0 = time.perf_counter()
    log.bulk_load(_entries(0, entries))
    first = log.checkpoint()
    chain = []
    for i in range(steps):
        log.append_many(_entries(entries + i * step, step))
        cp = log.checkpoint()
        chain.append((cp, log.consistency_proof(chain[-1][0].size if chain else first.size, cp.size)))
    print(f"hub log prepared: {log.size()} entries, {steps} checkpoints, {time.perf_counter() - t0:.1f} s")

    engine = sa.create_engine(state_url)
    tune(engine)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM adapter_checkpoint"))
    witness = Witness.load(WitnessConfig(hub_key_file=vkey), engine)
    witness.check(first.note, first.size, [], 0)  # trust on first use

    same_us = []
    for _ in range(same):
        t = time.perf_counter()
        witness.check(first.note, first.size, [], 0)
        same_us.append((time.perf_counter() - t) * 1e6)

    advance_us = []
    previous = first.size
    for cp, proof in chain:
        t = time.perf_counter()
        witness.check(cp.note, cp.size, proof, previous)
        advance_us.append((time.perf_counter() - t) * 1e6)
        previous = cp.size
    proof_len = len(chain[-1][1])
    print(f"state: {engine.dialect.name}")
    for name, values in (("same checkpoint", same_us), ("advancing checkpoint", advance_us)):
        print(
            f"{name:22s} n={len(values):5d} median {statistics.median(values):8.0f} us  "
            f"p99 {_percentile(values, 0.99):8.0f} us  mean {statistics.fmean(values):8.0f} us"
        )
    print(f"consistency proof length at the end: {proof_len} hashes")
    engine.dispose()
    log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the hub log before the first checkpoint")
    parser.add_argument("--steps", type=int, default=500, help="advancing checkpoints to check")
    parser.add_argument("--step", type=int, default=10, help="entries appended between checkpoints")
    parser.add_argument("--same", type=int, default=2000, help="checks of an unchanged checkpoint")
    parser.add_argument("--pg", metavar="URL", help="also measure with the adapter state in this PostgreSQL database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="witness-bench-") as tmp:
        run(f"sqlite:///{Path(tmp) / 'state.db'}", Path(tmp) / "sqlite", args.entries, args.steps, args.step, args.same)
        if args.pg:
            with _fresh_database(args.pg) as url:
                run(url, Path(tmp) / "pg", args.entries, args.steps, args.step, args.same)


@contextlib.contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    """A throw-away PostgreSQL database on the server of ``server_url`` (dropped afterwards)."""
    name = f"witness_bench_{os.getpid()}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
