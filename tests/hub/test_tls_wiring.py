"""Mutual TLS end to end (issue 8 item 1): the sandbox's CA, seven TLS adapters, a hub with ``[tls]``.

One GetPersonProfile travels caller -> hub (client certificate + token) and hub ->
adapters (hub certificate, each adapter pinned by name); the refusals at the hub's
door are real handshakes and real interceptor answers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pingan.cli.demo_story import _residents, _richest
from pingan.cli.sandbox import (
    HUB_CERT_NAME,
    Keys,
    SandboxTls,
    departments,
    prepare_environment,
    running_adapters,
    write_hub_config,
)
from pingan.tls import channel_credentials, expect_server
from pingan.v1 import common_pb2, profile_pb2, profile_pb2_grpc

PERSONS = 120
SEED = 5


class _Loop:
    """An asyncio loop in a thread: grpc.aio objects are made and used on it (HubRuntime.start)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class TlsDeployment:
    root: Path
    tls: SandboxTls
    keys: Keys
    runtime: Any
    address: str
    person_id: str
    token: str
    adapters: dict[str, Any]

    def channel(self, credentials: grpc.ChannelCredentials) -> grpc.Channel:
        return grpc.secure_channel(self.address, credentials, options=expect_server("hub", HUB_CERT_NAME))

    def profile(self, channel: grpc.Channel, token: str | None = None) -> profile_pb2.GetPersonProfileResponse:
        md = (("authorization", f"Bearer {token or self.token}"),) if token != "" else ()
        request = profile_pb2.GetPersonProfileRequest(
            query=profile_pb2.PersonQuery(person_id=self.person_id), purpose="routine_visit"
        )
        return profile_pb2_grpc.ProfileServiceStub(channel).GetPersonProfile(request, metadata=md, timeout=15)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsDeployment]:
    from adapters.synth.generate import generate
    from hub.config import load_hub_config
    from hub.policy.jurisdiction import RoleAssignment
    from hub.runtime import HubRuntime

    root = tmp_path_factory.mktemp("tls-deployment")
    generate(PERSONS, SEED, root / "data")
    prepare_environment(root / "data")
    tls = SandboxTls.create(root / "pki", departments())
    with running_adapters(root / "adapters", tls=tls) as adapters:
        keys = Keys.generate(root / "keys")
        addresses = {name: server.address for name, server in adapters.items()}
        config = load_hub_config(write_hub_config(root, keys, addresses, deadline_ms=3000, tls=tls))
        assert config.tls is not None and config.tls.crl_file == tls.crl_file
        runtime = HubRuntime.create(config)
        loop = _Loop()
        try:
            port = loop.run(runtime.start())
            report = runtime.link()  # StreamLinkage over mutual TLS, every adapter pinned by name
            assert not report.failures and len(report.pulls) == len(adapters)
            home = _richest(runtime, _residents(runtime, root / "data"))  # the demo's choice: known to health
            person_id, jurisdiction = home.person_id, home.jurisdiction
            runtime.policy_store.add_assignments([RoleAssignment("gw-tls", "grid_worker", jurisdiction)])
            runtime.admin.sync_active()
            token = keys.token("gw-tls", "grid_office", ["grid_worker"], [jurisdiction])
            yield TlsDeployment(root, tls, keys, runtime, f"127.0.0.1:{port}", person_id, token, adapters)
        finally:
            loop.run(runtime.stop())
            loop.close()


def test_profile_over_mutual_tls_fetches_from_tls_adapters(deployment: TlsDeployment) -> None:
    with deployment.channel(deployment.tls.client_credentials()) as channel:
        response = deployment.profile(channel)
    assert response.header.person_id == deployment.person_id
    outcomes = {s.department: s.outcome for s in response.sections}
    assert outcomes["health"] != common_pb2.SECTION_OUTCOME_UNAVAILABLE
    assert any(s.records for s in response.sections)
    assert not any(s.outcome == common_pb2.SECTION_OUTCOME_UNAVAILABLE for s in response.sections)
    # The health adapter served the hub's certificate and logged its name as the caller.
    from adapters.state import StateStore

    fetches = [
        r for r in StateStore(deployment.adapters["health"].state.engine).access_entries() if r["rpc"] == "FetchRecords"
    ]
    assert fetches and {r["caller"] for r in fetches} == {f"cn:{HUB_CERT_NAME}"}


def test_the_hub_refuses_a_caller_without_a_certificate(deployment: TlsDeployment) -> None:
    anonymous = grpc.ssl_channel_credentials(root_certificates=deployment.tls.ca_file.read_bytes())
    with deployment.channel(anonymous) as channel, pytest.raises(grpc.RpcError) as exc:
        deployment.profile(channel)
    assert exc.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]


def test_people_keep_their_tokens(deployment: TlsDeployment) -> None:
    credentials = deployment.tls.client_credentials()
    with deployment.channel(credentials) as channel, pytest.raises(grpc.RpcError) as exc:
        deployment.profile(channel, token="")
    assert exc.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]


def test_health_answers_over_tls(deployment: TlsDeployment) -> None:
    with deployment.channel(deployment.tls.client_credentials()) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_a_revoked_client_certificate_is_refused(deployment: TlsDeployment) -> None:
    from hub.pki import issue_certificate, load_ca, revoke

    ca = load_ca(deployment.tls.ca_key_dir)
    app = issue_certificate(ca, name="revoked-app", role="client", out_dir=deployment.root / "revoked", days=5)
    credentials = channel_credentials(deployment.tls.ca_file, app.cert_file, app.key_file)
    with deployment.channel(credentials) as channel:
        assert deployment.profile(channel).header.person_id == deployment.person_id
        revoke(ca, cert_file=app.cert_file)
        with pytest.raises(grpc.RpcError) as exc:
            deployment.profile(channel)
    assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]


def test_hub_config_names_a_missing_crl_file(deployment: TlsDeployment, tmp_path: Path) -> None:
    import dataclasses

    from hub.config import load_hub_config
    from hub.errors import ConfigError

    broken = dataclasses.replace(deployment.tls, crl_file=tmp_path / "no-such-crl.pem")
    path = write_hub_config(tmp_path, deployment.keys, {}, tls=broken)
    with pytest.raises(ConfigError) as exc:
        load_hub_config(path)
    assert exc.value.key == "tls.crl_file" and str(path) in str(exc.value)


def test_a_hub_without_a_crl_says_so_at_start(
    deployment: TlsDeployment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``[tls]`` without ``crl_file`` accepts revoked certificates until they expire: the start warns,
    naming the file; the adapters are then called without a certificate check."""
    import logging

    from hub.config import load_hub_config
    from hub.runtime import HubRuntime

    addresses = {name: server.address for name, server in deployment.adapters.items()}
    path = write_hub_config(tmp_path, deployment.keys, addresses, tls=deployment.tls)
    path.write_text(path.read_text(encoding="utf-8").replace(f'crl_file = "{deployment.tls.crl_file}"\n', ""))
    runtime = HubRuntime.create(load_hub_config(path))
    loop = _Loop()
    try:
        with caplog.at_level(logging.WARNING, logger="hub.runtime"):
            loop.run(runtime.start())
        warned = [r.getMessage() for r in caplog.records if "crl_file" in r.getMessage()]
        assert len(warned) == 1 and str(path) in warned[0] and "until they expire" in warned[0]
        assert all(client.certificate_check is None for client in runtime.clients.values())
    finally:
        loop.run(runtime.stop())
        loop.close()


def test_auditor_and_policy_owner_tools_reach_the_hub_with_client_certificates(
    deployment: TlsDeployment, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pingan audit`` and ``pingan policy`` with ``--hub``: the person's token over mutual TLS."""
    from pingan.cli import main

    tls = deployment.tls
    port = deployment.address.rsplit(":", 1)[1]
    dial = ["--hub", f"localhost:{port}", "--ca", str(tls.ca_file)]
    cert = ["--client-cert", str(tls.client_cert), "--client-key", str(tls.client_key)]
    auditor = deployment.keys.token("aud-1", "audit_office", ["auditor"], [])
    owner = deployment.keys.token("po-1", "politics_and_law", ["policy_owner"], [])

    assert main(["audit", "tail", *dial, *cert, "--token", auditor, "-n", "3"]) == 0
    assert "last 3 audit entries" in capsys.readouterr().out
    assert main(["policy", "versions", *dial, *cert, "--token", owner]) == 0
    assert "active" in capsys.readouterr().out

    assert main(["policy", "versions", *dial, "--token", owner]) == 2  # no client certificate
    assert "UNAVAILABLE" in capsys.readouterr().err
    assert main(["policy", "versions", *dial, *cert, "--token", deployment.token]) == 2  # a grid worker
    assert "PERMISSION_DENIED" in capsys.readouterr().err
    assert main(["policy", "versions", *dial, *cert]) == 2
    assert "--hub needs --token" in capsys.readouterr().err
    assert main(["audit", "tail", *dial, *cert, "--token", owner]) == 2
    assert "PERMISSION_DENIED" in capsys.readouterr().err


def test_the_hub_does_not_call_an_adapter_whose_certificate_is_revoked(deployment: TlsDeployment) -> None:
    """The hub checks each adapter's serial against the CRL (hub/departments/certificate_check.py):
    a revoked adapter's section is unavailable with the reason, the rest of the profile is served,
    the adapter logs no fetch, and linkage refuses its encodings. The CRL is restored afterwards."""
    from adapters.state import StateStore
    from hub.pki import load_ca, revoke, write_crl

    def fetches() -> int:
        rows = StateStore(deployment.adapters["health"].state.engine).access_entries()
        return sum(1 for r in rows if r["rpc"] == "FetchRecords")

    check = deployment.runtime.clients["health"].certificate_check
    cert_file, _ = deployment.tls.adapter_files["health"]
    ca = load_ca(deployment.tls.ca_key_dir)
    with deployment.channel(deployment.tls.client_credentials()) as channel:
        served = deployment.profile(channel)
        assert check is not None and check.serial is not None  # read by a handshake before the first call
        health = next(s for s in served.sections if s.department == "health")
        assert health.outcome != common_pb2.SECTION_OUTCOME_UNAVAILABLE
        before = fetches()
        revoke(ca, cert_file=cert_file)
        try:
            refused = deployment.profile(channel)
            report = deployment.runtime.link(["health"])
        finally:
            write_crl(ca, revoked={})  # the other tests of this module keep a working health adapter
    sections = {s.department: s for s in refused.sections}
    assert sections["health"].outcome == common_pb2.SECTION_OUTCOME_UNAVAILABLE
    assert "revoked" in sections["health"].reason and f"{check.serial:x}" in sections["health"].reason
    assert all(s.outcome != common_pb2.SECTION_OUTCOME_UNAVAILABLE for d, s in sections.items() if d != "health")
    assert fetches() == before
    assert not report.pulls and len(report.failures) == 1
    assert report.failures[0].startswith("health: ") and "revoked" in report.failures[0]
    with deployment.channel(deployment.tls.client_credentials()) as channel:
        again = deployment.profile(channel)  # a fresh CRL without the serial: called again
    health = next(s for s in again.sections if s.department == "health")
    assert health.outcome != common_pb2.SECTION_OUTCOME_UNAVAILABLE
