"""Mutual TLS against real gRPC servers on loopback: who gets in, who is refused, and how."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent import futures
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pki_servers import WHOAMI, Guarded, Issue, RunningServer

from hub.pki import CertificateAuthority, IssuedCertificate, revoke
from pingan.serving import grpc_errors
from pingan.tls import (
    RevocationList,
    channel_credentials,
    expect_server,
    peer_identity,
    require_peer,
    server_credentials,
)

Serve = Callable[..., RunningServer]


@pytest.fixture
def channels() -> Iterator[list[grpc.Channel]]:
    opened: list[grpc.Channel] = []
    yield opened
    for ch in opened:
        ch.close()


def connect(
    target: str, cert: IssuedCertificate | None, channels: list[grpc.Channel], ca_file: Path | None = None
) -> grpc.Channel:
    if cert is None:
        assert ca_file is not None
        creds = grpc.ssl_channel_credentials(root_certificates=ca_file.read_bytes())
    else:
        creds = channel_credentials(ca_file or cert.ca_file, cert.cert_file, cert.key_file)
    ch = grpc.secure_channel(target, creds)
    channels.append(ch)
    return ch


def whoami(ch: grpc.Channel) -> str:
    return ch.unary_unary(WHOAMI)(b"", timeout=10).decode()


def health(ch: grpc.Channel) -> int:
    return health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10).status


def refused_at_handshake(ch: grpc.Channel) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        health(ch)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    return err.value


def test_client_from_our_ca_is_accepted_and_identified(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    server = serve(roles={"client"})
    client = issue("client", "civil-affairs-app")
    ch = connect(server.target, client, channels)
    assert health(ch) == health_pb2.HealthCheckResponse.SERVING
    assert whoami(ch) == f"client/civil-affairs-app/{client.serial:x}"


def test_server_name_localhost_also_verifies(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    server = serve()
    ch = connect(f"localhost:{server.port}", issue("client", "app"), channels)
    assert health(ch) == health_pb2.HealthCheckResponse.SERVING


def test_client_without_certificate_is_refused_at_handshake(
    serve: Serve, ca: CertificateAuthority, channels: list[grpc.Channel]
) -> None:
    server = serve()
    refused_at_handshake(connect(server.target, None, channels, ca_file=ca.cert_file))
    assert server.guarded.calls == 0


def test_certificate_from_another_ca_is_refused(
    serve: Serve,
    issue: Issue,
    other_ca: CertificateAuthority,
    ca: CertificateAuthority,
    channels: list[grpc.Channel],
) -> None:
    server = serve()
    stranger = issue("client", "intruder", authority=other_ca)
    # It trusts our server (ca_file=ours) but presents a certificate our server does not trust.
    refused_at_handshake(connect(server.target, stranger, channels, ca_file=ca.cert_file))
    with pytest.raises(grpc.RpcError) as err:
        whoami(connect(server.target, stranger, channels, ca_file=ca.cert_file))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert server.guarded.calls == 0


def test_expired_client_certificate_is_refused(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    server = serve()
    expired = issue("client", "old-app", days=1, now=datetime.now(UTC) - timedelta(days=3))
    assert expired.not_after < datetime.now(UTC)
    refused_at_handshake(connect(server.target, expired, channels))
    assert server.guarded.calls == 0


def test_client_refuses_a_server_from_another_ca(
    serve: Serve, issue: Issue, other_ca: CertificateAuthority, channels: list[grpc.Channel]
) -> None:
    server = serve(
        cert=issue("adapter", "fake-justice", authority=other_ca), ca_file=other_ca.directory / "ca.pem"
    )
    client = issue("client", "app")
    refused_at_handshake(connect(server.target, client, channels))


def test_client_refuses_an_expired_server_certificate(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    stale = issue("adapter", "stale", days=1, now=datetime.now(UTC) - timedelta(days=3))
    server = serve(cert=stale)
    refused_at_handshake(connect(server.target, issue("client", "app"), channels))
    assert server.guarded.calls == 0


def test_client_refuses_a_server_whose_certificate_names_another_host(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    server = serve(cert=issue("adapter", "elsewhere", dns_names=["justice.example.internal"]))
    refused_at_handshake(connect(server.target, issue("client", "app"), channels))


def test_client_can_demand_a_particular_server(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    """The hub dials adapter "justice"; another department's adapter (same CA) at that address is refused."""
    hub = issue("hub", "hub")
    creds = channel_credentials(hub.ca_file, hub.cert_file, hub.key_file)
    justice = serve(cert=issue("adapter", "justice"), roles={"hub"})
    health_dept = serve(cert=issue("adapter", "health"), roles={"hub"})
    ch = grpc.secure_channel(justice.target, creds, options=expect_server("adapter", "justice"))
    channels.append(ch)
    assert whoami(ch) == f"hub/hub/{hub.serial:x}"
    impostor = grpc.secure_channel(health_dept.target, creds, options=expect_server("adapter", "justice"))
    channels.append(impostor)
    refused_at_handshake(impostor)
    assert health_dept.guarded.calls == 0


def test_revoked_certificate_is_refused_by_require_peer(
    serve: Serve, issue: Issue, ca: CertificateAuthority, channels: list[grpc.Channel]
) -> None:
    crl = RevocationList(ca.crl_file, ca.cert_file)
    server = serve(roles={"client"}, revoked=crl)
    client = issue("client", "lost-laptop")
    ch = connect(server.target, client, channels)
    assert whoami(ch).startswith("client/lost-laptop/")

    revoke(ca, cert_file=client.cert_file)  # the running server picks the new list up on the next call

    with pytest.raises(grpc.RpcError) as err:
        whoami(ch)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"{client.serial:x}" in err.value.details() and "revoked" in err.value.details()
    # Another certificate from the same CA is unaffected.
    assert whoami(connect(server.target, issue("client", "new-laptop"), channels)).startswith(
        "client/new-laptop/"
    )


def test_adapter_endpoint_refuses_a_client_certificate(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    server = serve(roles={"hub"})
    with pytest.raises(grpc.RpcError) as err:
        whoami(connect(server.target, issue("client", "civil-affairs-app"), channels))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "serves hub certificates, not client" in err.value.details()
    hub = issue("hub", "hub")
    assert whoami(connect(server.target, hub, channels)) == f"hub/hub/{hub.serial:x}"


def test_server_only_certificate_cannot_act_as_a_client(
    serve: Serve, issue: Issue, channels: list[grpc.Channel]
) -> None:
    """An adapter's certificate (serverAuth only) must not let it call the hub as a client."""
    server = serve(roles={"hub", "adapter", "client"})
    # BoringSSL checks the extended key usage at handshake ("unsupported certificate purpose");
    # require_peer checks it again in case a server is ever built on a laxer TLS stack.
    refused_at_handshake(connect(server.target, issue("adapter", "justice"), channels))
    assert server.guarded.calls == 0


def test_plaintext_call_has_no_identity() -> None:
    seen: list[str] = []

    @grpc_errors
    def probe(self: object, request: bytes, context: grpc.ServicerContext) -> bytes:
        seen.append("called")
        peer_identity(context)
        return b"unreachable"

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    handler = grpc.unary_unary_rpc_method_handler(lambda req, ctx: probe(None, req, ctx))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("pingan.test.Plain", {"Probe": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch, pytest.raises(grpc.RpcError) as err:
            ch.unary_unary("/pingan.test.Plain/Probe")(b"", timeout=10)
    finally:
        server.stop(grace=None)
    assert seen == ["called"]
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "mutual TLS" in err.value.details()


async def test_aio_server_reads_the_same_identity(issue: Issue, ca: CertificateAuthority) -> None:
    adapter = issue("adapter", "health-dept")

    crl = RevocationList(ca.crl_file, ca.cert_file)

    class AioGuarded:
        @grpc_errors
        async def whoami(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            peer = require_peer(context, {"hub"}, crl)
            return f"{peer.role}/{peer.name}/{peer.serial:x}".encode()

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(AioGuarded().whoami)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("pingan.test.Guarded", {"Whoami": handler}),)
    )
    port = server.add_secure_port(
        "127.0.0.1:0", server_credentials(adapter.cert_file, adapter.key_file, ca.cert_file)
    )
    await server.start()
    try:
        hub = issue("hub", "hub")
        async with grpc.aio.secure_channel(
            f"127.0.0.1:{port}", channel_credentials(hub.ca_file, hub.cert_file, hub.key_file)
        ) as ch:
            assert (await ch.unary_unary(WHOAMI)(b"", timeout=10)).decode() == f"hub/hub/{hub.serial:x}"
        client = issue("client", "app")
        async with grpc.aio.secure_channel(
            f"127.0.0.1:{port}", channel_credentials(client.ca_file, client.cert_file, client.key_file)
        ) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await ch.unary_unary(WHOAMI)(b"", timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await server.stop(grace=None)


def test_without_client_auth_tls_only_encrypts_and_no_peer_identity_exists(
    issue: Issue, ca: CertificateAuthority, channels: list[grpc.Channel]
) -> None:
    """``require_client_auth=False`` (hub ``[tls] require_client_cert = false``): gRPC requests no
    client certificate, so even a valid one is not seen and require_peer refuses everyone."""
    hub = issue("hub", "hub")
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    guarded = Guarded({"client"}, None)
    handler = grpc.unary_unary_rpc_method_handler(guarded.whoami)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("pingan.test.Guarded", {"Whoami": handler}),)
    )
    credentials = server_credentials(hub.cert_file, hub.key_file, ca.cert_file, require_client_auth=False)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        for cert in (None, issue("client", "app")):
            with pytest.raises(grpc.RpcError) as err:
                whoami(connect(f"127.0.0.1:{port}", cert, channels, ca_file=ca.cert_file))
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "no client certificate" in err.value.details()
        assert guarded.calls == 2
    finally:
        server.stop(grace=None)
