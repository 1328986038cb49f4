"""C2SP signed notes and tlog checkpoints."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from audit.checkpoint import Checkpoint, NoteSigner, NoteVerifier, sign_checkpoint, verify_checkpoint
from audit.errors import CheckpointError, KeyFileError

# golang.org/x/mod/sumdb/note documentation example: an independent implementation's note.
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_NOTE = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_verifies_a_note_signed_by_the_go_reference_implementation() -> None:
    v = NoteVerifier.from_vkey(GO_VKEY)
    assert v.open(GO_NOTE).startswith("If you think")
    with pytest.raises(CheckpointError, match="does not verify"):
        v.open(GO_NOTE.replace("answer", "Answer"))


def test_checkpoint_note_layout_and_key_hash() -> None:
    signer = NoteSigner.generate("example.org/audit")
    cp = Checkpoint("example.org/audit", 12, bytes(range(32)))
    note = sign_checkpoint(signer, cp)
    body, sig = note.split("\n\n")
    assert body + "\n" == f"example.org/audit\n12\n{base64.b64encode(bytes(range(32))).decode()}\n"
    assert sig.startswith("\u2014 example.org/audit ") and sig.endswith("\n")
    blob = base64.b64decode(sig.split(" ")[2])
    pub = signer.verifier.public_key
    assert blob[:4] == hashlib.sha256(b"example.org/audit\n\x01" + pub).digest()[:4]
    assert len(blob) == 4 + 64
    assert verify_checkpoint(signer.verifier, note, "example.org/audit") == cp


def test_forged_or_foreign_checkpoints_are_rejected() -> None:
    signer, other = NoteSigner.generate("log"), NoteSigner.generate("log")
    note = sign_checkpoint(signer, Checkpoint("log", 5, b"\x01" * 32))
    forged = note.replace("\n5\n", "\n6\n")
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(signer.verifier, forged)
    with pytest.raises(CheckpointError, match="no signature by key"):
        verify_checkpoint(other.verifier, note)
    with pytest.raises(CheckpointError, match="origin"):
        verify_checkpoint(signer.verifier, note, "another-log")
    with pytest.raises(CheckpointError, match="blank line"):
        verify_checkpoint(signer.verifier, "log\n5\nAAAA\n")


@pytest.mark.parametrize(
    "body",
    ["log\n05\n" + base64.b64encode(b"\0" * 32).decode() + "\n", "log\n5\nnot-base64\n", "log\n5\nAAAA\n", "\n5\nAAAA\n", "log\n5\n"],
)
def test_malformed_bodies_are_rejected(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse_body(body)


def test_key_files_round_trip_and_are_private(tmp_path: Path) -> None:
    signer = NoteSigner.generate("pingan-test")
    skey, vkey = signer.save(tmp_path)
    assert skey.stat().st_mode & 0o077 == 0
    loaded = NoteSigner.load(skey)
    note = loaded.sign("hello\n")
    assert NoteVerifier.load(vkey).open(note) == "hello\n"
    with pytest.raises(KeyFileError, match="refusing to overwrite"):
        signer.save(tmp_path)


def test_bad_key_files_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.vkey"
    bad.write_text("name+deadbeef+" + base64.b64encode(b"\x01" + b"\0" * 32).decode())
    with pytest.raises(KeyFileError, match="does not match") as info:
        NoteVerifier.load(bad)
    assert str(bad) in str(info.value)
    with pytest.raises(KeyFileError, match="no such"):
        NoteVerifier.load(tmp_path / "missing.vkey")
