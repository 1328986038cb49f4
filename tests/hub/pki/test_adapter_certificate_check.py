"""The hub reads the certificate an adapter presents and checks it against the CA's CRL.

Real TLS gRPC servers on loopback, a real CA and CRL (``hub.pki``), real handshakes
(``pingan.tls.presented_certificate``) and a real grpc.aio ``DepartmentClient``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2
from pki_servers import Issue, RunningServer

from hub.departments.certificate_check import AdapterCertificateCheck
from hub.departments.client import AdapterEndpoint, DepartmentClient
from hub.pki import CertificateAuthority, revoke
from pingan.tls import (
    RevocationList,
    TlsConfigError,
    TlsProbeError,
    channel_credentials,
    client_context,
    expect_server,
    identity_host,
    presented_certificate,
)

Serve = Callable[..., RunningServer]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hub_context(ca: CertificateAuthority, issue: Issue):  # type: ignore[no-untyped-def]
    hub = issue("hub", "hub")
    return client_context(ca.cert_file, hub.cert_file, hub.key_file)


# ------------------------------------------------------------------ the probe


def test_the_probe_reads_the_certificate_the_server_presents(serve: Serve, issue: Issue, hub_context) -> None:  # type: ignore[no-untyped-def]
    cert = issue("adapter", "justice")
    server = serve(cert=cert, roles=("hub",))
    got = presented_certificate(server.target, hub_context, identity_host("adapter", "justice"), 5.0)
    assert got.serial_number == cert.serial
    # The probe's connection ends before any gRPC call: the server's method was never run.
    assert server.guarded.calls == 0


def test_the_probe_refuses_a_server_with_another_name(serve: Serve, issue: Issue, hub_context) -> None:  # type: ignore[no-untyped-def]
    server = serve(cert=issue("adapter", "health"), roles=("hub",))
    with pytest.raises(TlsProbeError) as exc:
        presented_certificate(server.target, hub_context, identity_host("adapter", "justice"), 5.0)
    message = str(exc.value)
    assert server.target in message and "justice.adapter.pingan.internal" in message


def test_the_probe_refuses_a_server_of_another_ca(
    serve: Serve, issue: Issue, other_ca: CertificateAuthority, hub_context  # type: ignore[no-untyped-def]
) -> None:
    foreign = issue("adapter", "justice", authority=other_ca)
    server = serve(cert=foreign, roles=("hub",), ca_file=other_ca.cert_file)
    with pytest.raises(TlsProbeError, match="not acceptable"):
        presented_certificate(server.target, hub_context, identity_host("adapter", "justice"), 5.0)


def test_the_probe_says_when_nothing_listens(hub_context) -> None:  # type: ignore[no-untyped-def]
    address = f"127.0.0.1:{_free_port()}"
    with pytest.raises(TlsProbeError, match="cannot connect") as exc:
        presented_certificate(address, hub_context, identity_host("adapter", "justice"), 2.0)
    assert address in str(exc.value)


@pytest.mark.parametrize("address", ["unix:/tmp/adapter.sock", "127.0.0.1", "host:port", "host:70000", ":50051"])
def test_the_probe_names_an_address_it_cannot_dial(address: str, hub_context) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TlsProbeError, match="not a host:port address"):
        presented_certificate(address, hub_context, "justice.adapter.pingan.internal", 1.0)


def test_the_probe_context_names_a_bad_key_or_ca_file(ca: CertificateAuthority, issue: Issue, tmp_path: Path) -> None:
    hub = issue("hub", "hub")
    bad = tmp_path / "bad.key.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(TlsConfigError) as exc:
        client_context(ca.cert_file, hub.cert_file, bad)
    assert str(bad) in str(exc.value)
    bad_ca = tmp_path / "bad-ca.pem"
    bad_ca.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    with pytest.raises(TlsConfigError) as exc:
        client_context(bad_ca, hub.cert_file, hub.key_file)
    assert str(bad_ca) in str(exc.value)


# ------------------------------------------------------------------ the check


def _check(
    server: RunningServer, ca: CertificateAuthority, hub_context, name: str = "justice", **kw  # type: ignore[no-untyped-def]
) -> AdapterCertificateCheck:
    revoked = RevocationList(ca.crl_file, ca.cert_file)
    return AdapterCertificateCheck(name, server.target, hub_context, identity_host("adapter", name), revoked, **kw)


class _Counting(AdapterCertificateCheck):
    """Counts the handshakes it makes (the real ones)."""

    reads = 0

    def _probe(self, timeout: float) -> int:
        self.reads += 1
        return super()._probe(timeout)


def test_a_revocation_refuses_the_adapter_at_the_next_check(
    serve: Serve, issue: Issue, ca: CertificateAuthority, hub_context  # type: ignore[no-untyped-def]
) -> None:
    cert = issue("adapter", "justice")
    check = _check(serve(cert=cert, roles=("hub",)), ca, hub_context)

    async def scenario() -> tuple[object, object]:
        before = await check.refusal(5.0)
        revoke(ca, cert_file=cert.cert_file)  # no new handshake needed: the known serial meets the new CRL
        return before, await check.refusal(5.0)

    before, after = asyncio.run(scenario())
    assert before is None and check.serial == cert.serial
    assert after is not None and after.revoked  # type: ignore[attr-defined]
    assert f"{cert.serial:x}" in after.message and "revoked" in after.message  # type: ignore[attr-defined]


def test_an_unusable_crl_refuses_every_adapter(
    serve: Serve, issue: Issue, ca: CertificateAuthority, hub_context  # type: ignore[no-untyped-def]
) -> None:
    check = _check(serve(cert=issue("adapter", "justice"), roles=("hub",)), ca, hub_context)
    assert asyncio.run(check.refusal(5.0)) is None
    ca.crl_file.unlink()  # fail closed (RFC 5280 section 6.3): no list, no trust
    refusal = asyncio.run(check.refusal(5.0))
    assert refusal is not None and refusal.revoked


def test_an_adapter_whose_certificate_cannot_be_read_is_refused(ca: CertificateAuthority, hub_context, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="hub.departments.certificate_check")
    revoked = RevocationList(ca.crl_file, ca.cert_file)
    address = f"127.0.0.1:{_free_port()}"
    check = AdapterCertificateCheck("justice", address, hub_context, identity_host("adapter", "justice"), revoked)
    refusal = asyncio.run(check.refusal(2.0))
    assert refusal is not None and not refusal.revoked
    # The refusal is a section's reason, which callers read: the address is the operator's, in the log.
    assert refusal.message == "adapter unreachable (certificate not checked)"
    assert address in caplog.text


def test_a_down_adapter_is_logged_once_and_a_wrong_certificate_is_a_warning(
    serve: Serve, issue: Issue, ca: CertificateAuthority, hub_context, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    revoked = RevocationList(ca.crl_file, ca.cert_file)
    down = AdapterCertificateCheck(
        "justice", f"127.0.0.1:{_free_port()}", hub_context, identity_host("adapter", "justice"), revoked
    )
    impostor = serve(cert=issue("adapter", "health"), roles=("hub",))  # our CA, another adapter's name
    wrong = AdapterCertificateCheck("justice", impostor.target, hub_context, identity_host("adapter", "justice"), revoked)
    caplog.set_level(logging.INFO, logger="hub.departments.certificate_check")

    async def scenario() -> list[object]:
        answers = []
        for _ in range(3):  # every call of a down department reads again (its channel is not connected)
            down.forget()
            answers.append(await down.refusal(2.0))
        answers.append(await wrong.refusal(5.0))
        return answers

    *unreachable, impostor_refusal = asyncio.run(scenario())
    assert all(r is not None and not r.revoked and "adapter unreachable" in r.message for r in unreachable)  # type: ignore[attr-defined]
    assert impostor_refusal is not None and not impostor_refusal.revoked  # type: ignore[attr-defined]
    assert impostor_refusal.message.startswith("certificate not acceptable")  # type: ignore[attr-defined]
    # Refusals become section reasons callers read: no address, no transport details.
    assert not any("127.0.0.1" in r.message for r in (*unreachable, impostor_refusal))  # type: ignore[attr-defined]
    records = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert sum(1 for _, m in records if "adapter justice: certificate not checked" in m) == 1
    assert [level for level, m in records if "certificate not acceptable" in m] == [logging.WARNING]


def test_concurrent_checks_share_one_handshake_and_rechecks_run_in_the_background(
    serve: Serve, issue: Issue, ca: CertificateAuthority, hub_context  # type: ignore[no-untyped-def]
) -> None:
    now = [0.0]
    server = serve(cert=issue("adapter", "justice"), roles=("hub",))
    check = _Counting(
        "justice", server.target, hub_context, identity_host("adapter", "justice"),
        RevocationList(ca.crl_file, ca.cert_file), recheck_seconds=60.0, clock=lambda: now[0],
    )

    async def scenario() -> None:
        answers = await asyncio.gather(*(check.refusal(5.0) for _ in range(8)))
        assert answers == [None] * 8 and check.reads == 1
        assert await check.refusal(5.0) is None and check.reads == 1  # known and fresh: no handshake
        now[0] = 61.0
        assert await check.refusal(5.0) is None  # stale: answered from the known serial, read again meanwhile
        for _ in range(100):
            if check.reads == 2:
                break
            await asyncio.sleep(0.02)
        assert check.reads == 2
        check.forget()  # a new connection is coming: read before answering
        assert await check.refusal(5.0) is None and check.reads == 3

    asyncio.run(scenario())


def test_the_department_client_does_not_call_an_adapter_with_a_revoked_certificate(
    serve: Serve, issue: Issue, ca: CertificateAuthority, hub_context  # type: ignore[no-untyped-def]
) -> None:
    cert, hub = issue("adapter", "justice"), issue("hub", "hub-client")
    server = serve(cert=cert, roles=("hub",))
    check = _Counting(
        "justice", server.target, hub_context, identity_host("adapter", "justice"),
        RevocationList(ca.crl_file, ca.cert_file),
    )
    credentials = channel_credentials(ca.cert_file, hub.cert_file, hub.key_file)

    async def scenario() -> tuple[object, object]:
        client = DepartmentClient(
            AdapterEndpoint("justice", server.target, deadline_ms=5000),
            credentials,
            channel_options=expect_server("adapter", "justice"),
            certificate_check=check,
        )
        check_health = client._channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            before = await client._call(check_health, health_pb2.HealthCheckRequest())
            for _ in range(10):  # a connected channel is not checked again: one handshake, not one per call
                assert (await client._call(check_health, health_pb2.HealthCheckRequest())).ok
            assert check.reads == 1
            revoke(ca, cert_file=cert.cert_file)
            after = await client._call(check_health, health_pb2.HealthCheckRequest())
            return before, after
        finally:
            await client.close()

    before, after = asyncio.run(scenario())
    assert before.ok and before.attempts == 1  # type: ignore[attr-defined]
    assert not after.ok and after.attempts == 0 and after.code == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    assert "revoked" in after.error  # type: ignore[attr-defined]
