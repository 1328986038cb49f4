"""An adapter with ``[tls]``: mutual TLS from its configuration, serving only the hub (issue 8 item 1).

Real CA (``hub.pki``), real certificates, a real adapter on a loopback port; the
refusals are the ones a real caller would see: handshake failures (UNAVAILABLE)
or a status from the hub-only interceptor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from adapter_department import write_config
from grpc_health.v1 import health_pb2, health_pb2_grpc

from adapters.errors import ConfigError
from adapters.server import SERVICE_NAME, AdapterServer
from adapters.state import StateStore
from hub.departments.client import pinned_adapter_options
from hub.pki import CertificateAuthority, IssuedCertificate, create_ca, issue_certificate, revoke
from pingan.tls import channel_credentials
from pingan.v1 import adapter_pb2, adapter_pb2_grpc

Issue = Callable[..., IssuedCertificate]


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return create_ca(tmp_path / "ca", name="adapter tls test CA", days=30)


@pytest.fixture
def issue(ca: CertificateAuthority, tmp_path: Path) -> Issue:
    def _issue(role: str, name: str, authority: CertificateAuthority | None = None) -> IssuedCertificate:
        return issue_certificate(
            authority or ca, name=name, role=role, out_dir=tmp_path / "certs" / f"{role}-{name}", days=30
        )

    return _issue


def tls_section(ca: CertificateAuthority, cert: IssuedCertificate, extra: str = "") -> str:
    return (
        f'\n[tls]\nca_file = "{ca.cert_file}"\ncert_file = "{cert.cert_file}"\nkey_file = "{cert.key_file}"\n'
        f'crl_file = "{ca.crl_file}"\n{extra}'
    )


@pytest.fixture
def tls_adapter(
    tmp_path: Path, department_url: str, state_url: str, ca: CertificateAuthority, issue: Issue
) -> Iterator[AdapterServer]:
    section = tls_section(ca, issue("adapter", "justice"), 'hub_names = ["hub"]\n')
    path = write_config(tmp_path, department_url, state_url, edit=lambda body: body + section)
    server = AdapterServer.from_config(path)
    server.start()  # no credentials given: [tls] is used
    try:
        yield server
    finally:
        server.stop(grace=None)


def channel_as(server: AdapterServer, ca: CertificateAuthority, cert: IssuedCertificate | None) -> grpc.Channel:
    """A channel to the adapter presenting ``cert`` (None: no client certificate), pinned to 'justice'."""
    if cert is None:
        credentials = grpc.ssl_channel_credentials(root_certificates=ca.cert_file.read_bytes())
    else:
        credentials = channel_credentials(ca.cert_file, cert.cert_file, cert.key_file)
    return grpc.secure_channel(server.address, credentials, options=pinned_adapter_options("justice"))


def describe(channel: grpc.Channel) -> adapter_pb2.DescribeResponse:
    return adapter_pb2_grpc.DepartmentAdapterStub(channel).Describe(adapter_pb2.DescribeRequest(), timeout=5)


def code_of(call: Callable[[], object]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as exc:
        call()
    return exc.value.code()  # type: ignore[attr-defined, no-any-return]


def test_serves_the_hub_and_logs_its_certificate_name(
    tls_adapter: AdapterServer, ca: CertificateAuthority, issue: Issue
) -> None:
    with channel_as(tls_adapter, ca, issue("hub", "hub")) as channel:
        assert describe(channel).department == "justice"
        stub = adapter_pb2_grpc.DepartmentAdapterStub(channel)
        stub.FetchRecords(
            adapter_pb2.FetchRecordsRequest(
                request_id="tls-1",
                purpose="home visit",
                fetches=[adapter_pb2.DatasetFetch(dataset="corrections", local_record_ids=["1001"], fields=["risk_level"])],
            ),
            timeout=5,
        )
    rows = StateStore(tls_adapter.state.engine).access_entries()
    assert [(r["request_id"], r["caller"]) for r in rows] == [("tls-1", "cn:hub")]


def test_refuses_a_caller_without_a_certificate(tls_adapter: AdapterServer, ca: CertificateAuthority) -> None:
    with channel_as(tls_adapter, ca, None) as channel:
        assert code_of(lambda: describe(channel)) == grpc.StatusCode.UNAVAILABLE
    with grpc.insecure_channel(tls_adapter.address) as plain:
        assert code_of(lambda: describe(plain)) == grpc.StatusCode.UNAVAILABLE


def test_refuses_a_client_certificate(tls_adapter: AdapterServer, ca: CertificateAuthority, issue: Issue) -> None:
    with channel_as(tls_adapter, ca, issue("client", "civil-affairs-app")) as channel:
        with pytest.raises(grpc.RpcError) as exc:
            describe(channel)
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
        assert "hub" in exc.value.details()  # type: ignore[attr-defined]
        linkage = adapter_pb2_grpc.DepartmentAdapterStub(channel).StreamLinkage(
            adapter_pb2.StreamLinkageRequest(), timeout=5
        )
        assert code_of(lambda: list(linkage)) == grpc.StatusCode.PERMISSION_DENIED
    # Refused before the method ran: nothing reached the access log.
    assert StateStore(tls_adapter.state.engine).access_entries() == []


def test_refuses_a_hub_not_in_hub_names(tls_adapter: AdapterServer, ca: CertificateAuthority, issue: Issue) -> None:
    with channel_as(tls_adapter, ca, issue("hub", "hub-elsewhere")) as channel, pytest.raises(grpc.RpcError) as exc:
        describe(channel)
    assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    assert "tls.hub_names" in exc.value.details()  # type: ignore[attr-defined]


def test_refuses_a_certificate_from_another_ca(
    tls_adapter: AdapterServer, ca: CertificateAuthority, issue: Issue, tmp_path: Path
) -> None:
    other = create_ca(tmp_path / "other-ca", name="someone else's CA", days=30)
    with channel_as(tls_adapter, ca, issue("hub", "hub", authority=other)) as channel:
        assert code_of(lambda: describe(channel)) == grpc.StatusCode.UNAVAILABLE


def test_refuses_a_revoked_hub_certificate_without_restart(
    tls_adapter: AdapterServer, ca: CertificateAuthority, issue: Issue
) -> None:
    hub = issue("hub", "hub")
    with channel_as(tls_adapter, ca, hub) as channel:
        assert describe(channel).department == "justice"
        revoke(ca, cert_file=hub.cert_file)  # rewrites crl.pem; the adapter re-reads it on the next call
        with pytest.raises(grpc.RpcError) as exc:
            describe(channel)
    assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    assert "revoked" in exc.value.details()  # type: ignore[attr-defined]


def test_health_answers_any_certificate_of_our_ca(
    tls_adapter: AdapterServer, ca: CertificateAuthority, issue: Issue
) -> None:
    with channel_as(tls_adapter, ca, issue("client", "monitoring")) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        answer = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_the_hub_pin_refuses_another_adapter(
    tls_adapter: AdapterServer, ca: CertificateAuthority, issue: Issue
) -> None:
    hub = issue("hub", "hub")
    credentials = channel_credentials(ca.cert_file, hub.cert_file, hub.key_file)
    with grpc.secure_channel(tls_adapter.address, credentials, options=pinned_adapter_options("health")) as channel:
        assert code_of(lambda: describe(channel)) == grpc.StatusCode.UNAVAILABLE


# -- configuration errors name the file and the key ------------------------------------------


def start_with(tmp_path: Path, department_url: str, state_url: str, section: str) -> str:
    path = write_config(tmp_path, department_url, state_url, edit=lambda body: body + section)
    with pytest.raises(ConfigError) as exc:
        AdapterServer.from_config(path)
    message = str(exc.value)
    assert message.startswith(f"{path}: tls.")
    return message


def test_config_errors_name_file_and_key(
    tmp_path: Path, department_url: str, state_url: str, ca: CertificateAuthority, issue: Issue
) -> None:
    cert = issue("adapter", "justice")
    other = issue("adapter", "justice-2")
    files = f'ca_file = "{ca.cert_file}"\ncert_file = "{cert.cert_file}"\n'
    args = (tmp_path, department_url, state_url)
    assert "tls.key_file: missing required key" in start_with(*args, f"\n[tls]\n{files}")
    missing = start_with(*args, f'\n[tls]\n{files}key_file = "nowhere.key.pem"\n')
    assert "tls.key_file: file" in missing and "does not exist" in missing
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    assert "tls.ca_file:" in start_with(
        *args, f'\n[tls]\nca_file = "{garbage}"\ncert_file = "{cert.cert_file}"\nkey_file = "{cert.key_file}"\n'
    )
    mismatch = start_with(
        *args, f'\n[tls]\nca_file = "{ca.cert_file}"\ncert_file = "{cert.cert_file}"\nkey_file = "{other.key_file}"\n'
    )
    assert "tls.key_file:" in mismatch and "does not belong" in mismatch
    assert "tls.crl_file:" in start_with(*args, tls_section(ca, cert).replace(str(ca.crl_file), str(garbage)))
    assert "tls.hub_names:" in start_with(*args, tls_section(ca, cert, 'hub_names = ["Hub_1"]\n'))
    assert "tls.verify: unknown key" in start_with(*args, tls_section(ca, cert, "verify = false\n"))


def test_tls_without_a_crl_is_named_at_start(
    tmp_path: Path, department_url: str, state_url: str, ca: CertificateAuthority, issue: Issue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Without ``crl_file`` a revoked hub certificate would be served until it expires: the start says so."""
    section = tls_section(ca, issue("adapter", "justice")).replace(f'crl_file = "{ca.crl_file}"\n', "")
    path = write_config(tmp_path, department_url, state_url, edit=lambda body: body + section)
    server = AdapterServer.from_config(path)
    with caplog.at_level(logging.WARNING, logger="adapters.server"):
        server.start()
    try:
        warned = [r.getMessage() for r in caplog.records if "crl_file" in r.getMessage()]
        assert len(warned) == 1 and str(path) in warned[0] and "until it expires" in warned[0]
    finally:
        server.stop(0.2)
    caplog.clear()
    (tmp_path / "with-crl").mkdir()
    full = tls_section(ca, issue("adapter", "justice-2"))
    with_crl = write_config(tmp_path / "with-crl", department_url, state_url, edit=lambda body: body + full)
    server = AdapterServer.from_config(with_crl)
    with caplog.at_level(logging.WARNING, logger="adapters.server"):
        server.start()
    server.stop(0.2)
    assert not [r for r in caplog.records if "crl_file" in r.getMessage()]
