"""What mutual TLS costs a pingan gRPC call on loopback (issue 8 item 1).

Starts one server process with two ports: plaintext and mutual TLS (certificates
from a fresh ``hub.pki`` CA, ECDSA P-256), both serving gRPC health and a
``Whoami`` method that runs ``pingan.tls.require_peer`` against the CA's CRL
(X.509 parse + CRL stat per call). From this process, sequentially:

* established channel: ``--calls`` Health.Check calls per port, and the same
  number of Whoami calls over mTLS (the identity and revocation check on top);
* new connection: ``--connections`` times open a channel, make one Health.Check,
  close it (so the TLS 1.3 handshake with both certificates is in each sample).

Reports mean, p50 and p99 latency in microseconds and calls per second.

    python bench/tls_cost.py --calls 3000 --connections 300
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent import futures
from functools import partial
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hub.pki import create_ca, issue_certificate
from pingan.serving import add_standard_services, grpc_errors, mark_serving
from pingan.tls import RevocationList, channel_credentials, require_peer, server_credentials

WHOAMI = "/pingan.bench.Guarded/Whoami"


class Guarded:
    def __init__(self, crl: RevocationList) -> None:
        self.crl = crl

    @grpc_errors
    def whoami(self, request: bytes, context: Any) -> bytes:
        peer = require_peer(context, {"hub"}, self.crl)
        return peer.name.encode()


def serve(directory: str, conn: Any) -> None:
    d = Path(directory)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    guarded = Guarded(RevocationList(d / "ca" / "crl.pem", d / "ca" / "ca.pem"))
    handler = grpc.unary_unary_rpc_method_handler(guarded.whoami)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("pingan.bench.Guarded", {"Whoami": handler}),)
    )
    mark_serving(add_standard_services(server, []), [])
    plain = server.add_insecure_port("127.0.0.1:0")
    adapter = d / "adapter"
    tls = server.add_secure_port(
        "127.0.0.1:0",
        server_credentials(adapter / "justice.pem", adapter / "justice.key.pem", d / "ca" / "ca.pem"),
    )
    server.start()
    conn.send((plain, tls))
    conn.recv()  # wait for "stop"
    server.stop(grace=None)


def timed(n: int, call: Callable[[], object]) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def row(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    mean = statistics.fmean(samples)
    return f"| {label} | {mean:,.0f} | {statistics.median(samples):,.0f} | {p99:,.0f} | {1e6 / mean:,.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls per established-channel series")
    parser.add_argument("--connections", type=int, default=300, help="new connections per series")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ca = create_ca(d / "ca", name="bench CA")
        issue_certificate(ca, name="justice", role="adapter", out_dir=d / "adapter")
        hub = issue_certificate(ca, name="hub", role="hub", out_dir=d / "hub")
        parent, child = mp.Pipe()
        proc = mp.get_context("spawn").Process(target=serve, args=(tmp, child))
        proc.start()
        plain_port, tls_port = parent.recv()
        creds = channel_credentials(hub.ca_file, hub.cert_file, hub.key_file)
        request = health_pb2.HealthCheckRequest()
        try:
            rows = []
            for label, make in (
                ("plaintext", lambda: grpc.insecure_channel(f"127.0.0.1:{plain_port}")),
                ("mutual TLS", lambda: grpc.secure_channel(f"127.0.0.1:{tls_port}", creds)),
            ):
                with make() as ch:
                    stub = health_pb2_grpc.HealthStub(ch)
                    timed(200, partial(stub.Check, request, timeout=10))  # warm up
                    rows.append(
                        row(
                            f"Health.Check, {label}, open channel",
                            timed(args.calls, partial(stub.Check, request, timeout=10)),
                        )
                    )
                    if label == "mutual TLS":
                        who = ch.unary_unary(WHOAMI)
                        timed(200, partial(who, b"", timeout=10))
                        rows.append(
                            row(
                                "Whoami (require_peer + CRL), mutual TLS, open channel",
                                timed(args.calls, partial(who, b"", timeout=10)),
                            )
                        )

            def fresh(make: Callable[[], grpc.Channel]) -> None:
                with make() as ch:
                    health_pb2_grpc.HealthStub(ch).Check(request, timeout=10)

            for label, make in (
                ("plaintext", lambda: grpc.insecure_channel(f"127.0.0.1:{plain_port}")),
                ("mutual TLS", lambda: grpc.secure_channel(f"127.0.0.1:{tls_port}", creds)),
            ):
                timed(20, partial(fresh, make))
                rows.append(
                    row(
                        f"new connection + Health.Check, {label}",
                        timed(args.connections, partial(fresh, make)),
                    )
                )
        finally:
            parent.send("stop")
            proc.join(timeout=30)

    print(f"calls per series: {args.calls}; connections per series: {args.connections}")
    print("| series | mean µs | p50 µs | p99 µs | per second |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
