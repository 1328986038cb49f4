"""The interceptors put ``require_peer`` in front of every method, sync and aio, unary and streaming."""

from __future__ import annotations

from concurrent import futures
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pki_servers import Issue

from hub.pki import CertificateAuthority, IssuedCertificate, revoke
from pingan.serving import add_standard_services, mark_serving
from pingan.tls import (
    AioRequirePeerInterceptor,
    RequirePeerInterceptor,
    RevocationList,
    channel_credentials,
    server_credentials,
)

CHECK = health_pb2.HealthCheckRequest()


def creds(cert: IssuedCertificate) -> grpc.ChannelCredentials:
    return channel_credentials(cert.ca_file, cert.cert_file, cert.key_file)


def test_sync_interceptor_guards_unary_and_streaming(issue: Issue, ca: CertificateAuthority) -> None:
    adapter = issue("adapter", "justice")
    crl = RevocationList(ca.crl_file, ca.cert_file)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2), interceptors=[RequirePeerInterceptor({"hub"}, crl)]
    )
    health = add_standard_services(server, [])
    mark_serving(health, [])
    port = server.add_secure_port(
        "127.0.0.1:0", server_credentials(adapter.cert_file, adapter.key_file, ca.cert_file)
    )
    server.start()
    hub, client = issue("hub", "hub"), issue("client", "app")
    try:
        with grpc.secure_channel(f"127.0.0.1:{port}", creds(hub)) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            assert stub.Check(CHECK, timeout=10).status == health_pb2.HealthCheckResponse.SERVING
            watch = stub.Watch(CHECK, timeout=10)
            assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
            watch.cancel()
        with grpc.secure_channel(f"127.0.0.1:{port}", creds(client)) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            for call in (lambda: stub.Check(CHECK, timeout=10), lambda: next(stub.Watch(CHECK, timeout=10))):
                with pytest.raises(grpc.RpcError) as err:
                    call()
                assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
                assert "serves hub certificates, not client" in err.value.details()
        revoke(ca, cert_file=hub.cert_file)
        with grpc.secure_channel(f"127.0.0.1:{port}", creds(hub)) as ch, pytest.raises(grpc.RpcError) as err:
            health_pb2_grpc.HealthStub(ch).Check(CHECK, timeout=10)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED and "revoked" in err.value.details()
    finally:
        server.stop(grace=None)


def test_exempt_methods_are_not_checked(issue: Issue, ca: CertificateAuthority) -> None:
    adapter = issue("adapter", "justice")
    interceptor = RequirePeerInterceptor({"hub"}, exempt_prefixes=("/grpc.health.v1.Health/",))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), interceptors=[interceptor])
    mark_serving(add_standard_services(server, []), [])
    port = server.add_secure_port(
        "127.0.0.1:0", server_credentials(adapter.cert_file, adapter.key_file, ca.cert_file)
    )
    server.start()
    try:
        with grpc.secure_channel(f"127.0.0.1:{port}", creds(issue("client", "app"))) as ch:
            assert health_pb2_grpc.HealthStub(ch).Check(CHECK, timeout=10).status == 1
    finally:
        server.stop(grace=None)


async def test_aio_interceptor_guards_unary_and_streaming(issue: Issue, ca: CertificateAuthority) -> None:
    hub = issue("hub", "hub")
    server = grpc.aio.server(
        interceptors=[AioRequirePeerInterceptor({"client"}, RevocationList(ca.crl_file, ca.cert_file))]
    )
    health = add_standard_services(server, [], aio=True)
    await mark_serving(health, [])
    port = server.add_secure_port(
        "127.0.0.1:0", server_credentials(hub.cert_file, hub.key_file, ca.cert_file)
    )
    await server.start()
    try:
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds(issue("client", "app"))) as ch:
            stub: Any = health_pb2_grpc.HealthStub(ch)
            assert (await stub.Check(CHECK, timeout=10)).status == health_pb2.HealthCheckResponse.SERVING
            watch = stub.Watch(CHECK, timeout=10)
            assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
            watch.cancel()
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds(issue("hub", "other-hub"))) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Check(CHECK, timeout=10)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.Watch(CHECK, timeout=10).read()
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await server.stop(grace=None)


@pytest.mark.parametrize("roles", [set(), {"auditor"}])
def test_interceptor_rejects_bad_roles(roles: set[str]) -> None:
    with pytest.raises(ValueError, match="non-empty subset"):
        RequirePeerInterceptor(roles)


async def test_aio_interceptor_guards_async_generator_streams(issue: Issue, ca: CertificateAuthority) -> None:
    """Servicers written as ``async def ...: yield`` (the adapters' streaming style) keep working."""

    async def count(request: bytes, context: Any) -> Any:
        for i in range(3):
            yield bytes([i])

    adapter = issue("adapter", "justice")
    server = grpc.aio.server(interceptors=[AioRequirePeerInterceptor({"hub"})])
    handler = grpc.unary_stream_rpc_method_handler(count)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("pingan.test.Count", {"Count": handler}),)
    )
    port = server.add_secure_port(
        "127.0.0.1:0", server_credentials(adapter.cert_file, adapter.key_file, ca.cert_file)
    )
    await server.start()
    try:
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds(issue("hub", "hub"))) as ch:
            got = [item async for item in ch.unary_stream("/pingan.test.Count/Count")(b"", timeout=10)]
        assert got == [b"\x00", b"\x01", b"\x02"]
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds(issue("client", "app"))) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                _ = [item async for item in ch.unary_stream("/pingan.test.Count/Count")(b"", timeout=10)]
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await server.stop(grace=None)
