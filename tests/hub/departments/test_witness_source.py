"""What the hub sends departments to witness its log: real checkpoints and proofs
from a real audit log, verified with the same code the departments use."""

from __future__ import annotations

from pathlib import Path

from audit.checkpoint import NoteSigner, verify_checkpoint
from audit.entry import AccessEntry, Caller
from audit.merkle import verify_consistency
from audit.store import AuditLog
from hub.departments.witness import WITNESS_SIZE_KEY, WitnessSource, requested_size


def _entry(n: int) -> AccessEntry:
    return AccessEntry(
        request_id=f"req-{n:05d}", time="2026-11-22T08:00:00.000000Z",
        caller=Caller("gw-1", "grid_office", ("grid_worker",)), purpose="routine_visit",
    )


def test_head_proofs_and_acknowledgement(tmp_path: Path) -> None:
    signer = NoteSigner.generate("pingan-test-audit")
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}", signer=signer)
    log.append_many([_entry(n) for n in range(5)])
    source = WitnessSource(log)
    first = source.head()  # no checkpoint yet: one is signed now, of the 5 entries
    assert first.size == 5
    assert verify_checkpoint(signer.verifier, first.note, log.origin).size == 5
    w = source.witness("justice", 4, first)
    assert w.proof_from_size == 0 and list(w.consistency_proof) == [] and w.entry_index == 4
    source.accepted("justice", first.size)

    log.append_many([_entry(n) for n in range(5, 12)])
    log.checkpoint()
    second = source.head()
    assert second.size == 12
    w = source.witness("justice", 11, second)
    assert w.proof_from_size == 5
    old, new = (verify_checkpoint(signer.verifier, n, log.origin) for n in (first.note, second.note))
    verify_consistency(5, 12, old.root_hash, new.root_hash, list(w.consistency_proof))
    # a department this replica never heard from gets no proof, unless it asks for one
    assert source.witness("health", 11, second).proof_from_size == 0
    asked = source.witness("health", 11, second, from_size=5)
    verify_consistency(5, 12, old.root_hash, new.root_hash, list(asked.consistency_proof))
    source.accepted("justice", 3)  # never moves backwards
    assert source.witness("justice", 11, second).proof_from_size == 5
    log.close()


def test_requested_size_is_read_from_trailing_metadata() -> None:
    assert requested_size(((WITNESS_SIZE_KEY, "120"),)) == 120
    assert requested_size((("other", "1"),)) is None
    assert requested_size(((WITNESS_SIZE_KEY, "not-a-number"),)) is None


def test_head_is_known_after_the_intent_append_and_proofs_are_shared(tmp_path: Path) -> None:
    """Per profile the hub reads no checkpoint and computes each consistency proof once:
    the head comes from the intent entry's append, a proof from the first department
    that needed it."""
    signer = NoteSigner.generate("pingan-test-audit")
    log = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}", signer=signer)
    source = WitnessSource(log)
    assert source.known_head() is None  # nothing appended or signed yet
    log.append_many([_entry(n) for n in range(5)])
    first = source.head()
    assert source.known_head() == first
    for department in ("justice", "health"):
        source.accepted(department, first.size)
    log.append_many([_entry(n) for n in range(5, 12)])
    log.checkpoint()
    second = source.known_head()
    assert second is not None and second.size == 12
    assert not source.ready("justice", second) and not source.ready("health", second)
    w = source.witness("justice", 11, second)
    assert source.ready("health", second)  # the same proof (5 -> 12) is kept for the other department
    again = source.witness("health", 11, second)
    assert list(again.consistency_proof) == list(w.consistency_proof) == log.consistency_proof(5, 12)
    assert source.ready("civil_affairs", second)  # never accepted anything: needs no proof
    fresh = source.head(fresh=True)
    assert fresh == second
    log.close()
