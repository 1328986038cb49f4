"""A real private CA in a temporary directory and real TLS gRPC servers on loopback.

Nothing is mocked: handshakes, certificate checks and CRL reads are the real ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pki_servers import Issue, RunningServer, start_server

from hub.pki import CertificateAuthority, IssuedCertificate, create_ca, issue_certificate


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return create_ca(tmp_path / "ca", name="test CA", days=30)


@pytest.fixture
def other_ca(tmp_path: Path) -> CertificateAuthority:
    return create_ca(tmp_path / "other-ca", name="someone else's CA", days=30)


@pytest.fixture
def issue(ca: CertificateAuthority, tmp_path: Path) -> Issue:
    """Issue from the test CA into tmp_path/certs/<role>-<name>/ (keyword arguments pass through)."""

    def _issue(
        role: str, name: str, *, authority: CertificateAuthority | None = None, **kw: Any
    ) -> IssuedCertificate:
        return issue_certificate(
            authority or ca, name=name, role=role, out_dir=tmp_path / "certs" / f"{role}-{name}", **kw
        )

    return _issue


@pytest.fixture
def serve(ca: CertificateAuthority, issue: Issue) -> Iterator[Callable[..., RunningServer]]:
    """Start a TLS server with an adapter certificate from the test CA; stopped after the test."""
    servers: list[grpc.Server] = []

    def _serve(**kw: Any) -> RunningServer:
        cert = kw.pop("cert", None) or issue("adapter", f"adapter-{len(servers)}")
        server, running = start_server(cert, kw.pop("ca_file", ca.cert_file), **kw)
        servers.append(server)
        return running

    yield _serve
    for server in servers:
        server.stop(grace=None)
