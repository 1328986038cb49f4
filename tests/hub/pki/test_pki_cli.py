"""``pingan pki init / issue / revoke / crl`` end to end on real files.

The parser is built from the pki command module alone (the way
``pingan.cli.build_parser`` registers it), so other command groups cannot break these tests.
"""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

import pytest
from cryptography import x509

from pingan.cli import COMMAND_MODULES, CommandError
from pingan.cli import pki as pki_cli
from pingan.tls import identity_from_certificate, read_crl


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="pingan")
    pki_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["pki", *argv])
    return int(args.handler(args) or 0)


def test_pki_is_a_pingan_command() -> None:
    assert "pingan.cli.pki" in COMMAND_MODULES


def test_init_issue_revoke_crl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca_dir, out = tmp_path / "ca", tmp_path / "justice"
    assert run("init", "--out", str(ca_dir), "--name", "Taihe demo CA", "--days", "30") == 0
    assert "ca.key.pem" in capsys.readouterr().out
    assert stat.S_IMODE((ca_dir / "ca.key.pem").stat().st_mode) == 0o600

    assert (
        run(
            "issue",
            "--ca",
            str(ca_dir),
            "--name",
            "justice",
            "--role",
            "adapter",
            "--dns",
            "justice.internal",
            "--ip",
            "10.1.2.3",
            "--out",
            str(out),
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "spiffe://pingan/adapter/justice" in printed and "justice.internal, 10.1.2.3" in printed
    cert = x509.load_pem_x509_certificate((out / "justice.pem").read_bytes())
    assert f"serial       {cert.serial_number:x}" in printed
    assert identity_from_certificate(cert).role == "adapter"
    assert (out / "ca.pem").read_bytes() == (ca_dir / "ca.pem").read_bytes()

    assert run("revoke", "--ca", str(ca_dir), "--cert", str(out / "justice.pem")) == 0
    assert "revoked; " in capsys.readouterr().out
    assert run("revoke", "--ca", str(ca_dir), "--serial", "0A") == 0
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    assert read_crl(ca_dir / "crl.pem", ca_cert)[0] == {cert.serial_number, 10}

    before = (ca_dir / "crl.pem").read_bytes()
    assert run("crl", "--ca", str(ca_dir)) == 0
    assert "2 revoked" in capsys.readouterr().out
    assert (ca_dir / "crl.pem").read_bytes() != before
    assert read_crl(ca_dir / "crl.pem", ca_cert)[0] == {cert.serial_number, 10}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("issue", "--ca", "{tmp}/none", "--name", "x", "--role", "client", "--out", "{tmp}/o"),
            "pingan pki init",
        ),
        (
            ("issue", "--ca", "{tmp}/ca", "--name", "X Y", "--role", "client", "--out", "{tmp}/o"),
            "not allowed",
        ),
        (
            (
                "issue",
                "--ca",
                "{tmp}/ca",
                "--name",
                "x",
                "--role",
                "adapter",
                "--ip",
                "bad",
                "--out",
                "{tmp}/o",
            ),
            "--ip",
        ),
        (("revoke", "--ca", "{tmp}/ca", "--serial", "zz"), "not a hexadecimal number"),
        (("revoke", "--ca", "{tmp}/ca", "--cert", "{tmp}/missing.pem"), "cannot read the certificate"),
        (("init", "--out", "{tmp}/ca"), "already exist"),
    ],
)
def test_user_errors_are_command_errors(tmp_path: Path, argv: tuple[str, ...], message: str) -> None:
    run("init", "--out", str(tmp_path / "ca"))
    with pytest.raises(CommandError, match=message):
        run(*(a.format(tmp=tmp_path) for a in argv))


def test_unknown_role_is_rejected_by_the_parser(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        run("issue", "--ca", str(tmp_path), "--name", "x", "--role", "auditor", "--out", str(tmp_path))


def test_show_reports_identity_and_revocation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ca_dir, other = tmp_path / "ca", tmp_path / "other"
    run("init", "--out", str(ca_dir))
    run("init", "--out", str(other))
    run("issue", "--ca", str(ca_dir), "--name", "app", "--role", "client", "--out", str(tmp_path / "app"))
    cert = str(tmp_path / "app" / "app.pem")
    capsys.readouterr()
    assert run("show", "--cert", cert, "--ca", str(ca_dir)) == 0
    out = capsys.readouterr().out
    assert "spiffe://pingan/client/app" in out and "not revoked" in out
    run("revoke", "--ca", str(ca_dir), "--cert", cert)
    capsys.readouterr()
    assert run("show", "--cert", cert, "--ca", str(ca_dir)) == 1
    assert "REVOKED" in capsys.readouterr().out
    with pytest.raises(CommandError, match="was not issued by the CA"):
        run("show", "--cert", cert, "--ca", str(other))
    with pytest.raises(CommandError, match="no single pingan identity"):
        run("show", "--cert", str(ca_dir / "ca.pem"))
