"""``pingan audit`` end to end: keygen, checkpoint, export, verify, tail, query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from audit_factories import make_access

import pingan.cli
from audit.checkpoint import NoteSigner
from audit.store import AuditLog, CheckpointPolicy


@pytest.fixture
def pingan_main(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The real ``pingan`` entry point with only the audit command group loaded."""
    monkeypatch.setattr(pingan.cli, "COMMAND_MODULES", ("pingan.cli.audit",))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: no folding inside cells
    return pingan.cli.main


@pytest.fixture
def setup(tmp_path: Path, pingan_main):  # type: ignore[no-untyped-def]
    keys = tmp_path / "keys"
    assert pingan_main(["audit", "keygen", "--out", str(keys), "--name", "hub.example"]) == 0
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    signer = NoteSigner.load(keys / "hub.example.skey")
    log = AuditLog(url, origin="pingan-hub/audit", signer=signer, policy=CheckpointPolicy(10, 3600))
    for i in range(0, 30, 5):
        log.append_many([make_access(i + j, person="P-cli" if j == 0 else "") for j in range(5)])
    log.append(make_access(99))
    log.close()
    return url, keys, tmp_path


def test_keygen_writes_private_and_public_keys(setup) -> None:  # type: ignore[no-untyped-def]
    _, keys, _ = setup
    assert (keys / "hub.example.skey").stat().st_mode & 0o077 == 0
    assert (keys / "sealing.json").stat().st_mode & 0o077 == 0
    assert (keys / "hub.example.vkey").read_text().startswith("hub.example+")


def test_export_then_verify_succeeds_with_a_summary(setup, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    url, keys, tmp = setup
    assert pingan_main(["audit", "checkpoint", "--db", url, "--key", str(keys / "hub.example.skey")]) == 0
    assert "\n31\n" in capsys.readouterr().out
    export = tmp / "export.jsonl"
    assert pingan_main(["audit", "export", "--db", url, "--out", str(export)]) == 0
    capsys.readouterr()
    assert pingan_main(["audit", "verify", str(export), "--key", str(keys / "hub.example.vkey")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK pingan-hub/audit: entries [0, 31) verified: 31 entries, 4 checkpoints")


def test_verify_names_the_first_bad_entry_and_exits_1(setup, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    url, keys, tmp = setup
    export = tmp / "export.jsonl"
    assert pingan_main(["audit", "export", "--db", url, "--out", str(export)]) == 0
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    for n, line in enumerate(lines):
        obj = json.loads(line)
        if obj["type"] == "entry" and obj["index"] == 12:
            obj["canonical"] = obj["canonical"].replace("grid-1", "grid-2")
            lines[n] = json.dumps(obj, ensure_ascii=False) + "\n"
    export.write_text("".join(lines), encoding="utf-8")
    capsys.readouterr()
    assert pingan_main(["audit", "verify", str(export), "--key", str(keys / "hub.example.vkey")]) == 1
    err = capsys.readouterr().err
    assert "entry 12" in err and "altered" in err


def test_verify_with_a_trusted_checkpoint_and_bad_inputs(setup, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    url, keys, tmp = setup
    export = tmp / "export.jsonl"
    pingan_main(["audit", "export", "--db", url, "--out", str(export), "--from", "10", "--to", "20"])
    note = next(json.loads(x)["note"] for x in export.read_text().splitlines() if '"size":20' in x and "checkpoint" in x)
    trusted = tmp / "cp20.note"
    trusted.write_text(note)
    capsys.readouterr()
    assert pingan_main(["audit", "verify", str(export), "--key", str(keys / "hub.example.vkey"), "--trusted", str(trusted)]) == 0
    assert "1 trusted checkpoints matched" in capsys.readouterr().out
    assert pingan_main(["audit", "verify", str(tmp / "nope.jsonl"), "--key", str(keys / "hub.example.vkey")]) == 2
    assert "no such export file" in capsys.readouterr().err
    assert pingan_main(["audit", "verify", str(export), "--key", str(tmp / "missing.vkey")]) == 2
    assert "missing.vkey" in capsys.readouterr().err
    assert pingan_main(["audit", "export", "--db", url, "--out", str(export), "--to", "15"]) == 2
    assert "nearest checkpoint sizes: 10 and 20" in capsys.readouterr().err


def test_tail_and_query_print_tables(setup, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    url, _, tmp = setup
    assert pingan_main(["audit", "tail", "--db", url, "-n", "3"]) == 0
    out = capsys.readouterr().out
    assert "last 3 audit entries" in out and "req-99" in out
    assert pingan_main(["audit", "query", "--db", url, "--person", "P-cli"]) == 0
    out = capsys.readouterr().out
    assert "6 matching audit entries" in out
    assert pingan_main(["audit", "query", "--db", url, "--since", "yesterday"]) == 2
    assert "RFC 3339" in capsys.readouterr().err
    assert pingan_main(["audit", "tail", "--db", f"sqlite:///{tmp / 'empty.db'}"]) == 2
    assert "cannot read an audit log" in capsys.readouterr().err


def test_keygen_refuses_to_overwrite(setup, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    _, keys, _ = setup
    assert pingan_main(["audit", "keygen", "--out", str(keys), "--name", "hub.example"]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err


def _serve_audit(url: str, credentials=None):  # type: ignore[no-untyped-def]
    """A real grpc.aio AuditService on a loopback port (mutual TLS with ``credentials``),
    served from a background event loop; a generator yielding the port."""
    import asyncio
    import threading

    import grpc

    from audit.service import add_to_server
    from pingan.serving import permission_denied

    log = AuditLog(url, origin="pingan-hub/audit")

    def authorize(context, method):  # type: ignore[no-untyped-def]
        if dict(context.invocation_metadata()).get("authorization") != "Bearer t0k":
            raise permission_denied(f"{method} needs the auditor role")

    loop = asyncio.new_event_loop()
    started = threading.Event()
    box: dict[str, object] = {}

    async def serve() -> None:
        server = grpc.aio.server()
        add_to_server(server, log, authorize)
        if credentials is None:
            box["port"] = server.add_insecure_port("127.0.0.1:0")
        else:
            box["port"] = server.add_secure_port("127.0.0.1:0", credentials)
        box["server"] = server
        await server.start()
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()), daemon=True)
    thread.start()
    assert started.wait(30)
    yield box["port"]
    asyncio.run_coroutine_threadsafe(box["server"].stop(None), loop).result(30)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)
    log.close()


@pytest.fixture
def hub_port(setup):  # type: ignore[no-untyped-def]
    """A plaintext hub."""
    url, _, _ = setup
    yield from _serve_audit(url)


@pytest.fixture
def tls_hub(setup):  # type: ignore[no-untyped-def]
    """A hub requiring client certificates (``[tls] require_client_cert``, the default), with
    a fresh CA (``hub.pki``) and an auditor's client certificate: (port, ca, cert, key)."""
    from hub.pki import create_ca, issue_certificate
    from pingan.tls import server_credentials

    url, _, tmp = setup
    ca = create_ca(tmp / "ca", name="audit cli test CA", days=30)
    hub = issue_certificate(ca, name="hub", role="hub", out_dir=tmp / "certs" / "hub", days=30)
    auditor = issue_certificate(ca, name="auditor-1", role="client", out_dir=tmp / "certs" / "auditor", days=30)
    credentials = server_credentials(hub.cert_file, hub.key_file, ca.cert_file, require_client_auth=True)
    for port in _serve_audit(url, credentials):
        yield port, ca.cert_file, auditor.cert_file, auditor.key_file


def test_tail_query_and_export_against_a_hub(setup, hub_port, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    _, keys, tmp = setup
    hub = f"127.0.0.1:{hub_port}"
    assert pingan_main(["audit", "query", "--hub", hub, "--token", "t0k", "--person", "P-cli"]) == 0
    assert "6 matching audit entries" in capsys.readouterr().out
    assert pingan_main(["audit", "tail", "--hub", hub, "--token", "t0k", "-n", "2"]) == 0
    assert "last 2 audit entries" in capsys.readouterr().out
    export = tmp / "hub-export.jsonl"
    assert pingan_main(["audit", "export", "--hub", hub, "--token", "t0k", "--out", str(export)]) == 0
    assert pingan_main(["audit", "verify", str(export), "--key", str(keys / "hub.example.vkey")]) == 0
    assert "entries [0, 30) verified" in capsys.readouterr().out
    assert pingan_main(["audit", "query", "--hub", hub, "--token", "wrong"]) == 2
    assert "PERMISSION_DENIED" in capsys.readouterr().err


def test_query_against_a_hub_that_requires_a_client_certificate(tls_hub, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    port, ca, cert, key = tls_hub
    hub = ["--hub", f"localhost:{port}", "--token", "t0k", "--ca", str(ca)]
    assert pingan_main(["audit", "query", *hub, "--client-cert", str(cert), "--client-key", str(key), "--person", "P-cli"]) == 0
    assert "6 matching audit entries" in capsys.readouterr().out

    assert pingan_main(["audit", "query", *hub]) == 2  # no client certificate: the handshake fails
    assert "hub answered UNAVAILABLE" in capsys.readouterr().err

    assert pingan_main(["audit", "tail", *hub, "--client-cert", str(cert)]) == 2
    assert "--client-cert and --client-key go together" in capsys.readouterr().err
    assert pingan_main(["audit", "tail", "--hub", f"localhost:{port}", "--client-cert", str(cert), "--client-key", str(key)]) == 2
    assert "--client-cert needs --ca" in capsys.readouterr().err
    assert pingan_main(["audit", "tail", *hub, "--client-cert", str(cert), "--client-key", str(ca)]) == 2
    assert f"{ca}: not an unencrypted PEM private key" in capsys.readouterr().err


def test_query_opens_sealed_justifications_with_the_keyring(setup, pingan_main, capsys) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from audit.sealed import Keyring

    url, keys, _ = setup
    keyring = Keyring.load(keys / "sealing.json")
    log = AuditLog(url, origin="pingan-hub/audit")
    log.append(dataclasses.replace(make_access(500, person="P-sealed"), justification=keyring.seal("独居老人回访", "justification")))
    log.close()
    assert pingan_main(["audit", "query", "--db", url, "--person", "P-sealed"]) == 0
    out = capsys.readouterr().out
    assert "(sealed)" in out and "独居老人回访" not in out
    assert pingan_main(["audit", "query", "--db", url, "--person", "P-sealed", "--keyring", str(keys / "sealing.json")]) == 0
    assert "独居老人回访" in capsys.readouterr().out
