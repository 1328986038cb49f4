"""Real TLS gRPC servers on loopback for the PKI tests (shared by conftest.py and the tests).

The servers carry the standard health and reflection services (as every pingan
server does) plus one test-only method, ``/pingan.test.Guarded/Whoami``, which
calls ``pingan.tls.require_peer`` and answers with the identity it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Container
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from hub.pki import IssuedCertificate
from pingan.serving import add_standard_services, grpc_errors, mark_serving
from pingan.tls import require_peer, server_credentials

WHOAMI = "/pingan.test.Guarded/Whoami"

Issue = Callable[..., IssuedCertificate]


class Guarded:
    """The test-only method: ``require_peer`` then answer ``role/name/serial-hex``."""

    def __init__(self, roles: Collection[str], revoked: Container[int] | None) -> None:
        self.roles = roles
        self.revoked = revoked
        self.calls = 0

    @grpc_errors
    def whoami(self, request: bytes, context: Any) -> bytes:
        self.calls += 1
        peer = require_peer(context, self.roles, self.revoked)
        return f"{peer.role}/{peer.name}/{peer.serial:x}".encode()


@dataclass
class RunningServer:
    port: int
    guarded: Guarded

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def start_server(
    cert: IssuedCertificate,
    ca_file: Path,
    *,
    roles: Collection[str] = ("client",),
    revoked: Container[int] | None = None,
) -> tuple[grpc.Server, RunningServer]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    guarded = Guarded(roles, revoked)
    handler = grpc.unary_unary_rpc_method_handler(guarded.whoami)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("pingan.test.Guarded", {"Whoami": handler}),)
    )
    health = add_standard_services(server, ["pingan.test.Guarded"])
    mark_serving(health, ["pingan.test.Guarded"])
    port = server.add_secure_port("127.0.0.1:0", server_credentials(cert.cert_file, cert.key_file, ca_file))
    server.start()
    return server, RunningServer(port, guarded)
