"""FetchRecords throughput and latency of the generic SQL adapter (issue 2, "Measure").

Builds one department table of ``--records`` rows (identity, mixed-format dates,
integers, booleans, free text) in a SQLite file and, when a PostgreSQL admin URL
is given, in a fresh PostgreSQL database; starts ``pingan adapter serve`` on
loopback in a separate process for each; and calls FetchRecords with batches of
1, 10 and 100 random record ids (5 fields each) from one client, sequentially.
Each call includes the adapter's access-log write. Reports records/s and p50/p99
latency per batch size, plus records/s with 4 concurrent clients, and the records/s
of one full StreamLinkage pass (identity encoding included).

    python bench/adapter_fetch.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import sqlalchemy as sa

from pingan.v1 import adapter_pb2, adapter_pb2_grpc

FIELDS = ["risk_level", "start_date", "sessions_missed", "active", "notes"]
DATE_FORMATS = ["{y}-{m:02d}-{d:02d}", "{y}/{m}/{d}", "{y}{m:02d}{d:02d}", "{y}年{m}月{d}日"]

CONFIG = """\
[department]
name = "justice"
display_name = "司法局"
[database]
url = "{url}"
[state]
url = "{state_url}"
[server]
listen = "127.0.0.1:0"
max_records_per_request = 500
[linkage]
secret_file = "{secret}"
[[datasets]]
name = "corrections"
table = "bench_jzdx"
id_column = "dxbh"
updated_at_column = "gxsj"
jurisdiction_column = "jzwg"
groups = ["community_corrections"]
unexposed = ["nbbz"]
export = ["risk_level", "start_date", "sessions_missed", "active", "notes"]
[datasets.identity]
name = "xm"
id_number = "sfzh"
birth_date = "csrq"
[[datasets.fields]]
name = "risk_level"
column = "fxdj"
type = "string"
category = "risk"
grade = "L2"
[[datasets.fields]]
name = "start_date"
column = "ksrq"
type = "date"
category = "corrections"
grade = "L3"
[[datasets.fields]]
name = "sessions_missed"
column = "jcbs"
type = "integer"
category = "corrections"
grade = "L3"
[[datasets.fields]]
name = "active"
column = "sfzj"
type = "boolean"
category = "administrative"
grade = "L2"
[[datasets.fields]]
name = "notes"
column = "bz"
type = "text"
category = "corrections"
grade = "L4"
"""


def build_table(url: str, records: int, seed: int) -> None:
    rng = random.Random(seed)
    md = sa.MetaData()
    table = sa.Table(
        "bench_jzdx",
        md,
        sa.Column("dxbh", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("xm", sa.String(50)),
        sa.Column("sfzh", sa.String(20)),
        sa.Column("csrq", sa.String(20)),
        sa.Column("jzwg", sa.String(40)),
        sa.Column("fxdj", sa.String(4)),
        sa.Column("ksrq", sa.String(20)),
        sa.Column("jcbs", sa.Integer),
        sa.Column("sfzj", sa.Integer),
        sa.Column("bz", sa.Text),
        sa.Column("nbbz", sa.Text),
        sa.Column("gxsj", sa.DateTime),
    )
    engine = sa.create_engine(url)
    md.drop_all(engine)
    md.create_all(engine)
    base = dt.datetime(2026, 1, 1)
    rows = []
    for i in range(records):
        y, m, d = rng.randint(1950, 2008), rng.randint(1, 12), rng.randint(1, 28)
        rows.append(
            {
                "dxbh": 100000 + i,
                "xm": "张" + chr(0x4E00 + rng.randint(0, 2000)),
                "sfzh": f"33010{i:013d}",
                "csrq": rng.choice(DATE_FORMATS).format(y=y, m=m, d=d),
                "jzwg": f"TH/S{rng.randint(1, 9):02d}/C{rng.randint(1, 20):02d}/G{rng.randint(1, 30):02d}",
                "fxdj": rng.choice("红黄蓝"),
                "ksrq": rng.choice(DATE_FORMATS).format(y=2024, m=m, d=d),
                "jcbs": rng.randint(0, 5),
                "sfzj": rng.randint(0, 1),
                "bz": "谈话记录，情绪稳定。" * rng.randint(1, 8),
                "nbbz": "内部",
                "gxsj": base + dt.timedelta(seconds=i),
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 5000):
            conn.execute(table.insert(), rows[start : start + 5000])
    engine.dispose()


def start_server(config: Path) -> tuple[subprocess.Popen[str], str]:
    code = "import sys\nfrom pingan.cli import main\nraise SystemExit(main(sys.argv[1:]))\n"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "adapter", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving on" not in line:
        proc.kill()
        raise SystemExit(f"adapter did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1].strip()


def measure(address: str, records: int, batch: int, requests: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    channel = grpc.insecure_channel(address)
    stub = adapter_pb2_grpc.DepartmentAdapterStub(channel)

    def one(n: int) -> float:
        ids = [str(100000 + rng.randrange(records)) for _ in range(batch)]
        request = adapter_pb2.FetchRecordsRequest(
            request_id=f"bench-{n}",
            purpose="bench",
            fetches=[adapter_pb2.DatasetFetch(dataset="corrections", local_record_ids=ids, fields=FIELDS)],
        )
        t0 = time.perf_counter()
        response = stub.FetchRecords(request, timeout=30)
        elapsed = time.perf_counter() - t0
        assert len(response.records) + len(response.missing) == len(set(ids))
        return elapsed

    for n in range(20):  # warm-up: connections, pools, caches
        one(n)
    latencies = []
    t0 = time.perf_counter()
    for n in range(requests):
        latencies.append(one(n))
    sequential = time.perf_counter() - t0
    with ThreadPoolExecutor(max_workers=4) as pool:
        t1 = time.perf_counter()
        list(pool.map(one, range(requests)))
        concurrent = time.perf_counter() - t1
    channel.close()
    latencies.sort()
    return {
        "records_per_s": requests * batch / sequential,
        "records_per_s_4": requests * batch / concurrent,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def stream_line(name: str, address: str, records: int) -> str:
    """One full StreamLinkage pass (batches of 500): encodes every row's identity with the linkage secret."""
    with grpc.insecure_channel(address) as channel:
        stub = adapter_pb2_grpc.DepartmentAdapterStub(channel)
        t0 = time.perf_counter()
        got = sum(
            len(r.records)
            for r in stub.StreamLinkage(adapter_pb2.StreamLinkageRequest(batch_size=500), timeout=600)
        )
        elapsed = time.perf_counter() - t0
    assert got == records, (got, records)
    return f"| {name} | StreamLinkage, full pass | 1 | {got / elapsed:,.0f} | - | - | - |"


def run_backend(name: str, url: str, state_url: str, workdir: Path, args: argparse.Namespace) -> list[str]:
    print(f"[{name}] building {args.records} rows ...", file=sys.stderr)
    build_table(url, args.records, args.seed)
    secret = workdir / "linkage.key"
    secret.write_text(os.urandom(32).hex())
    config = workdir / f"bench-{name}.toml"
    config.write_text(CONFIG.format(url=url, state_url=state_url, secret=secret), encoding="utf-8")
    proc, address = start_server(config)
    lines = []
    try:
        for batch in (1, 10, 100):
            requests = args.requests if batch < 100 else max(50, args.requests // 3)
            r = measure(address, args.records, batch, requests, args.seed + batch)
            lines.append(
                f"| {name} | {batch} | {requests} | {r['records_per_s']:,.0f} | {r['records_per_s_4']:,.0f} "
                f"| {r['p50_ms']:.2f} | {r['p99_ms']:.2f} |"
            )
            print(lines[-1], file=sys.stderr)
        lines.append(stream_line(name, address, args.records))
        print(lines[-1], file=sys.stderr)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--records", type=int, default=20000, help="rows in the department table (default 20000)"
    )
    parser.add_argument(
        "--requests", type=int, default=500, help="timed requests per batch size (default 500)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("PINGAN_TEST_PG_URL"),
        help="PostgreSQL admin URL; a fresh database is created and dropped (default: $PINGAN_TEST_PG_URL)",
    )
    args = parser.parse_args()
    header = [
        "| backend | batch (records) | requests | records/s (1 client) | records/s (4 clients) | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pingan-bench-") as tmp:
        workdir = Path(tmp)
        lines += run_backend(
            "SQLite",
            f"sqlite:///{workdir / 'justice.db'}",
            f"sqlite:///{workdir / 'justice-adapter.db'}",
            workdir,
            args,
        )
        if args.pg_url:
            admin = sa.create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
            name = f"pingan_bench_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = sa.engine.make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
            try:
                lines += run_backend("PostgreSQL", url, url, workdir, args)
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print("\n".join(header + lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
