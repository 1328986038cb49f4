"""``pingan hub serve``: a start that fails on the configured files, databases or address ends
in one line naming the configuration file and key, exit status 2, no traceback
(docs/operations.md). Runs the real command in-process on a real configuration."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pingan.cli import main
from pingan.cli.sandbox import Keys, write_hub_config


def _config(tmp_path: Path, **replace: str) -> Path:
    keys = Keys.generate(tmp_path / "keys")
    path = write_hub_config(tmp_path, keys, {})
    text = path.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def _serve_fails(path: Path, capsys: pytest.CaptureFixture[str], key: str) -> str:
    code = main(["hub", "serve", "--config", str(path), "--link-every", "-1"])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("pingan hub: ")]
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"pingan hub: {path}: {key}: "), lines[0]
    return lines[0]


def test_port_in_use_names_hub_listen(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = _config(tmp_path, **{'listen = "127.0.0.1:0"': f'listen = "127.0.0.1:{port}"'})
        line = _serve_fails(path, capsys, "hub.listen")
    assert "in use" in line


def test_signing_key_that_is_a_verifier_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys_dir = tmp_path / "keys"
    path = _config(tmp_path)
    skey = next(keys_dir.glob("*.skey"))
    vkey = skey.with_suffix(".vkey")
    path.write_text(path.read_text(encoding="utf-8").replace(str(skey), str(vkey)), encoding="utf-8")
    line = _serve_fails(path, capsys, "audit.signing_key_file")
    assert "not a note signer key" in line


def test_sealing_key_that_is_not_a_keyring(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path)
    text = path.read_text(encoding="utf-8")
    keyring = str(tmp_path / "keys" / "sealing-keyring.json")
    path.write_text(text.replace(keyring, str(tmp_path / "keys" / "pseudonym.key")), encoding="utf-8")
    _serve_fails(path, capsys, "audit.sealing_key_file")


def test_sqlite_directory_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-dir" / "hub.db"
    path = _config(tmp_path, **{f"sqlite:///{tmp_path / 'hub.db'}": f"sqlite:///{missing}"})
    line = _serve_fails(path, capsys, "database.url")
    assert f"sqlite:///{missing}" in line


def test_database_server_unreachable_hides_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://pingan:s3cret-pw@127.0.0.1:{port}/hub?connect_timeout=5"
    path = _config(tmp_path, **{f"sqlite:///{tmp_path / 'hub.db'}": url})
    line = _serve_fails(path, capsys, "database.url")
    assert "s3cret-pw" not in line and "***" in line


def test_audit_database_directory_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-dir" / "audit.db"
    path = _config(tmp_path, **{f"sqlite:///{tmp_path / 'audit.db'}": f"sqlite:///{missing}"})
    _serve_fails(path, capsys, "audit.url")


def test_empty_policies_dir_on_a_fresh_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "policies"
    empty.mkdir()
    path = _config(tmp_path, **{'engine = "embedded"': f'engine = "embedded"\npolicies_dir = "{empty}"'})
    line = _serve_fails(path, capsys, "policy.policies_dir")
    assert "no policy files found" in line
