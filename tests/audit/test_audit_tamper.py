"""Tampering behind the database's back: the offline verifier catches it and says where.

The triggers forbid UPDATE and DELETE, so each test first drops them with raw
SQLite (what an operator with file access could do), tampers, and exports.
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path

import pytest
from audit_factories import ORIGIN, make_access

from audit import merkle
from audit.checkpoint import Checkpoint, NoteSigner
from audit.errors import VerificationError
from audit.export import export_lines
from audit.store import AuditLog, CheckpointPolicy
from audit.verify import verify_export


def _build(path: Path, signer: NoteSigner, n: int = 40, every: int = 10) -> AuditLog:
    log = AuditLog(f"sqlite:///{path}", origin=ORIGIN, signer=signer, policy=CheckpointPolicy(every, 3600))
    for i in range(0, n, 5):
        log.append_many([make_access(j) for j in range(i, i + 5)])
    return log


def _tamper(path: Path, *statements: str) -> None:
    db = sqlite3.connect(path)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    for stmt in statements:
        db.execute(stmt)
    db.commit()
    db.close()


def _verify(log: AuditLog, signer: NoteSigner, trusted: tuple[str, ...] = (), start: int = 0) -> None:
    verify_export(list(export_lines(log, start, 0)), signer.verifier, trusted)


@pytest.fixture
def built(tmp_path: Path, signer: NoteSigner) -> tuple[Path, AuditLog]:
    path = tmp_path / "audit.db"
    log = _build(path, signer)
    _verify(log, signer)  # untouched: verifies
    return path, log


def test_one_byte_changed_in_an_entry(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    path, log = built
    _tamper(path, "UPDATE audit_entry SET canonical = CAST(REPLACE(CAST(canonical AS TEXT), 'home_visit', 'home_visiT') AS BLOB) WHERE idx = 13")
    with pytest.raises(VerificationError) as info:
        _verify(log, signer)
    assert info.value.where == "entry 13"
    assert "altered" in info.value.reason


def test_changed_entry_with_recomputed_leaf_hash_is_caught_at_its_checkpoint(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    path, log = built
    old = log.entry(13)
    assert old is not None
    forged = old.canonical.replace(b"home_visit", b"home_visiT")
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER audit_entry_no_update")
    db.execute("UPDATE audit_entry SET canonical = ?, leaf_hash = ? WHERE idx = 13", (forged, merkle.leaf_hash(forged)))
    db.commit()
    db.close()
    with pytest.raises(VerificationError) as info:
        _verify(log, signer)
    assert info.value.where == "checkpoint 20"
    assert "[10, 20)" in info.value.reason


def test_deleted_entry(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    path, log = built
    _tamper(path, "DELETE FROM audit_entry WHERE idx = 7")
    with pytest.raises(VerificationError) as info:
        _verify(log, signer)
    assert info.value.where == "entry 7"
    assert "missing or reordered" in info.value.reason


def test_deleted_entry_with_renumbered_successors(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    path, log = built
    _tamper(path, "DELETE FROM audit_entry WHERE idx = 7", "UPDATE audit_entry SET idx = idx - 1 WHERE idx > 7")
    with pytest.raises(VerificationError) as info:
        _verify(log, signer)
    assert info.value.where == "entry 7"
    assert "says it is entry 8" in info.value.reason


def test_two_entries_reordered(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    path, log = built
    _tamper(
        path,
        "UPDATE audit_entry SET idx = -1 WHERE idx = 3",
        "UPDATE audit_entry SET idx = 3 WHERE idx = 4",
        "UPDATE audit_entry SET idx = 4 WHERE idx = -1",
    )
    with pytest.raises(VerificationError) as info:
        _verify(log, signer)
    assert info.value.where == "entry 3"
    assert "says it is entry 4" in info.value.reason


def test_forged_checkpoint(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    path, log = built
    impostor = NoteSigner.generate(signer.name)  # same name, different key
    fake = impostor.sign(Checkpoint(ORIGIN, 30, b"\x07" * 32).body())
    _tamper(path, f"UPDATE audit_checkpoint SET note = '{fake}' WHERE size = 30")
    with pytest.raises(VerificationError) as info:
        _verify(log, signer)
    assert info.value.where == "checkpoint 30"
    assert "forged" in info.value.reason


def test_edited_checkpoint_body(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    path, log = built
    note = next(c.note for c in log.checkpoints() if c.size == 20)
    lines = note.split("\n")
    lines[2] = lines[2][:-4] + ("AAA=" if not lines[2].endswith("AAA=") else "BBB=")
    edited = "\n".join(lines)
    _tamper(path, f"UPDATE audit_checkpoint SET note = '{edited}' WHERE size = 20")
    with pytest.raises(VerificationError) as info:
        _verify(log, signer)
    assert info.value.where == "checkpoint 20"


def test_forked_log_is_caught_against_a_checkpoint_seen_earlier(tmp_path: Path, signer: NoteSigner) -> None:
    honest = _build(tmp_path / "honest.db", signer)
    seen_by_department = next(c.note for c in honest.checkpoints() if c.size == 30)
    # The operator, holding the real key, rebuilds history from entry 10 onward.
    forked = AuditLog(f"sqlite:///{tmp_path / 'fork.db'}", origin=ORIGIN, signer=signer, policy=CheckpointPolicy(10, 3600))
    for i in range(0, 40, 5):
        forked.append_many([make_access(j, purpose="case" if j >= 10 else "home_visit") for j in range(i, i + 5)])
    # On its own the fork is self-consistent (signed by the real key)...
    _verify(forked, signer)
    # ...but not with what the department saw.
    with pytest.raises(VerificationError) as info:
        _verify(forked, signer, trusted=(seen_by_department,))
    assert info.value.where == "size 30"
    assert "fork" in info.value.reason
    # A partial export starting after the fork point is caught too (prefix hashes differ).
    with pytest.raises(VerificationError, match="fork"):
        _verify(forked, signer, trusted=(seen_by_department,), start=20)
    # The honest log agrees with its own checkpoint.
    _verify(honest, signer, trusted=(seen_by_department,))


def test_checkpoints_from_two_histories_in_one_export(tmp_path: Path, signer: NoteSigner) -> None:
    a = _build(tmp_path / "a.db", signer)
    b = AuditLog(f"sqlite:///{tmp_path / 'b.db'}", origin=ORIGIN, signer=signer, policy=CheckpointPolicy(10, 3600))
    for i in range(0, 40, 5):
        b.append_many([make_access(j, user="other") for j in range(i, i + 5)])
    lines = list(export_lines(a, 0, 0))
    b_note = next(c.note for c in b.checkpoints() if c.size == 20)
    spliced = [line.replace(line, _checkpoint_line(20, b_note)) if b'"size":20,' in line and b'"checkpoint"' in line else line for line in lines]
    assert spliced != lines
    with pytest.raises(VerificationError) as info:
        verify_export(spliced, signer.verifier)
    assert info.value.where == "checkpoint 20"


def _checkpoint_line(size: int, note: str) -> bytes:
    import json

    return json.dumps({"type": "checkpoint", "size": size, "note": note}).encode() + b"\n"


def test_truncated_export_and_uncovered_entries(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    _, log = built
    lines = list(export_lines(log, 0, 0))
    with pytest.raises(VerificationError, match="promises"):
        verify_export(lines[:-5], signer.verifier)
    header, rest = lines[0], lines[1:]
    with pytest.raises(VerificationError, match="checkpoint"):
        verify_export([header] + [line for line in rest if b'"checkpoint"' not in line], signer.verifier)


def test_strict_mode_rejects_a_non_canonical_entry_even_with_a_matching_hash(built: tuple[Path, AuditLog], signer: NoteSigner) -> None:
    import json

    _, log = built
    lines = list(export_lines(log, 0, 0))
    for n, line in enumerate(lines):
        obj = json.loads(line)
        if obj["type"] == "entry" and obj["index"] == 5:
            obj["canonical"] = obj["canonical"][:-1] + ',"zzz":1}'  # still canonical: "zzz" sorts last
            obj["leaf_hash"] = base64.b64encode(merkle.leaf_hash(obj["canonical"].encode())).decode()
            lines[n] = json.dumps(obj).encode() + b"\n"
    with pytest.raises(VerificationError) as info:
        verify_export(lines, signer.verifier, strict=True)
    assert info.value.where == "entry 5" and "unknown fields" in info.value.reason
    with pytest.raises(VerificationError) as info:  # non-strict still fails, at the covering checkpoint
        verify_export(lines, signer.verifier)
    assert info.value.where == "checkpoint 10"
