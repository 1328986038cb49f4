"""Sealing-key rotation: new entries use the new key, old entries stay readable (issue 8)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from audit.errors import SealError
from audit.sealed import Keyring

PINGAN = [sys.executable, "-c", "import sys; from pingan.cli import main; sys.exit(main(sys.argv[1:]))"]


def test_rotation_keeps_old_ciphertexts_readable(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    old = Keyring.generate("k1")
    old.save(path)
    sealed_before = old.seal("入户核实低保情况", "justification")
    result = subprocess.run([*PINGAN, "audit", "rotate-key", "--keyring", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rotated = Keyring.load(path)
    assert rotated.active == "k2" and rotated.key_ids == ("k1", "k2")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sealed_after = rotated.seal("紧急救助", "justification")
    assert sealed_after.key_id == "k2"
    assert rotated.open(sealed_before, "justification") == "入户核实低保情况"
    with pytest.raises(SealError):
        old.open(sealed_after, "justification")  # the old keyring cannot read new entries


def test_rotation_refuses_a_duplicate_id_and_a_bad_file(tmp_path: Path) -> None:
    with pytest.raises(SealError):
        Keyring.generate("k1").rotated("k1")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = subprocess.run([*PINGAN, "audit", "rotate-key", "--keyring", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "bad.json" in result.stderr and "Traceback" not in result.stderr
