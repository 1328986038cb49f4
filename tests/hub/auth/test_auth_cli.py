"""``pingan token keygen / issue / verify`` end to end on real files.

The parser is built from the token command module alone (the way
``pingan.cli.build_parser`` registers it), so these tests do not depend on
other command groups.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from hub.auth.keyset import load_key_set
from hub.auth.verifier import TokenVerifier, VerifierSettings
from pingan.cli import CommandError
from pingan.cli import token as token_cli


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pingan")
    token_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args) or 0)


@pytest.fixture
def keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    assert run(["token", "keygen", "--out", str(tmp_path / "idp")]) == 0
    out = capsys.readouterr().out
    kid = out.split()[1]
    [pem] = (tmp_path / "idp").glob("*.key.pem")
    return pem, kid


def _issue(pem: Path, *extra: str) -> list[str]:
    return [
        "token", "issue", "--user", "jo-7", "--department", "justice", "--roles", "justice_officer,auditor",
        "--jurisdiction", "TH/S03", "--jurisdiction", "TH/S04", "--key", str(pem),
        "--issuer", "https://idp.example", "--audience", "pingan-hub", *extra,
    ]  # fmt: skip


def test_keygen_issue_and_the_hub_accepts_the_token(
    keys: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    pem, kid = keys
    assert run(_issue(pem, "--ttl", "1h")) == 0
    token = capsys.readouterr().out.strip()
    verifier = TokenVerifier(
        VerifierSettings(issuer="https://idp.example", audience="pingan-hub"),
        load_key_set(pem.parent / "jwks.json"),
    )
    caller = verifier.verify(token)
    assert (caller.user_id, caller.department, caller.roles, caller.jurisdictions) == (
        "jo-7", "justice", ("justice_officer", "auditor"), ("TH/S03", "TH/S04"),
    )  # fmt: skip
    assert load_key_set(pem.parent / "jwks.json").key_ids == (kid,)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--ttl", "13h"], "exceeds the cap of 12h"),
        (["--ttl", "soon"], "not a duration"),
        (["--ttl", "0m"], "positive"),
        (["--roles", "superuser"], "unknown role"),
        (["--jurisdiction", "th/s03"], "jurisdictions"),
        (["--department", "Justice Dept"], "department"),
        (["--user", "13812345678"], r"^--user: token claim 'sub' \(user id\) must not contain a digit run"),
        (["--user", "emp-110105199003071234"], "not a phone or ID number"),
    ],
)
def test_issue_refuses_bad_input_with_an_actionable_message(
    keys: tuple[Path, str], extra: list[str], fragment: str
) -> None:
    pem, _ = keys
    with pytest.raises(CommandError, match=fragment):
        run(_issue(pem, *extra))


def test_issue_needs_issuer_and_audience(keys: tuple[Path, str]) -> None:
    pem, _ = keys
    argv = [
        "token",
        "issue",
        "--user",
        "u",
        "--department",
        "justice",
        "--roles",
        "auditor",
        "--key",
        str(pem),
    ]
    with pytest.raises(CommandError, match="--issuer and --audience"):
        run(argv)


def test_issue_with_a_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read private key"):
        run(_issue(tmp_path / "absent.pem"))


def test_verify_with_the_hub_config(
    keys: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem, _ = keys
    config = tmp_path / "hub.toml"
    (tmp_path / "audit.pem").write_text("placeholder")
    config.write_text(
        "[audit]\nsigning_key_file = 'audit.pem'\n"
        "[auth]\nissuer = 'https://idp.example'\naudience = 'pingan-hub'\njwks_file = 'idp/jwks.json'\n"
        "[masking]\npseudonym_key_file = 'audit.pem'\n"
    )
    argv = ["token", "issue", "--user", "gw-1", "--department", "street_office", "--roles", "grid_worker",
            "--jurisdiction", "TH/S03/C07/G05", "--key", str(pem), "--config", str(config), "--ttl", "90s"]  # fmt: skip
    assert run(argv) == 0
    token = capsys.readouterr().out.strip()
    assert run(["token", "verify", token, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "gw-1" in out and "TH/S03/C07/G05" in out and "grid_worker" in out
    with pytest.raises(CommandError, match=r"token refused \(bad_signature\)"):
        run(
            [
                "token",
                "verify",
                token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"),
                "--config",
                str(config),
            ]
        )


def test_token_is_a_registered_command_group() -> None:
    from pingan.cli import COMMAND_MODULES

    assert "pingan.cli.token" in COMMAND_MODULES
