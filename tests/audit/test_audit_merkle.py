"""audit.merkle against the transparency-dev vectors and RFC 9162's own algorithms."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle
from audit.merkle import ProofError

VECTORS = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "merkle"


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _b(value: str | None) -> bytes:
    return base64.b64decode(value) if value is not None else b""


def test_vectors_are_present() -> None:
    assert len(_cases("inclusion")) > 50 and len(_cases("consistency")) > 50


@pytest.mark.parametrize("path", _cases("inclusion"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inclusion_vector(path: Path) -> None:
    c = json.loads(path.read_text())
    args = (_b(c["leafHash"]), c["leafIdx"], c["treeSize"], [_b(p) for p in c["proof"] or []], _b(c["root"]))
    if c["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize("path", _cases("consistency"), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_consistency_vector(path: Path) -> None:
    c = json.loads(path.read_text())
    args = (c["size1"], c["size2"], _b(c["root1"]), _b(c["root2"]), [_b(p) for p in c["proof"] or []])
    if c["wantErr"]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


def _reference() -> tuple[list[bytes], list[bytes]]:
    ref = json.loads((VECTORS / "reference_tree.json").read_text())
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in ref["leaf_inputs_hex"]]
    return leaves, [bytes.fromhex(r) for r in ref["root_by_tree_size_hex"]]


def test_root_matches_reference_tree_at_every_size() -> None:
    leaves, roots = _reference()
    for n, want in enumerate(roots):
        assert merkle.root(leaves[:n]) == want


def test_generated_proofs_equal_the_vectors_happy_paths() -> None:
    leaves, _ = _reference()
    compared = 0
    for path in _cases("inclusion"):
        c = json.loads(path.read_text())
        if not c["wantErr"] and c["treeSize"] <= len(leaves) and path.parent.parent.name == "inclusion":
            proof = merkle.inclusion_proof(c["leafIdx"], c["treeSize"], leaves)
            assert proof == [_b(p) for p in c["proof"] or []]
            compared += 1
    for path in _cases("consistency"):
        c = json.loads(path.read_text())
        if not c["wantErr"] and c["size2"] <= len(leaves) and c["size1"] > 0:
            assert merkle.consistency_proof(c["size1"], c["size2"], leaves) == [_b(p) for p in c["proof"] or []]
            compared += 1
    assert compared >= 8


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_generated_proofs_verify_and_detect_a_flipped_bit(size: int, data: st.DataObject) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = merkle.MemoryTree(leaves)
    index = data.draw(st.integers(0, size - 1))
    size1 = data.draw(st.integers(1, size))
    proof = tree.inclusion_proof(index, size)
    merkle.verify_inclusion(leaves[index], index, size, proof, tree.root())
    cons = tree.consistency_proof(size1, size)
    merkle.verify_consistency(size1, size, tree.root(size1), tree.root(), cons)
    if proof:
        bad = list(proof)
        bad[0] = bytes([bad[0][0] ^ 1]) + bad[0][1:]
        with pytest.raises(ProofError):
            merkle.verify_inclusion(leaves[index], index, size, bad, tree.root())
    if cons:
        with pytest.raises(ProofError):
            merkle.verify_consistency(size1, size, tree.root(size1), tree.root(), cons[:-1])


def test_proof_requests_outside_the_tree_are_refused() -> None:
    leaves, _ = _reference()
    with pytest.raises(ProofError, match="outside"):
        merkle.inclusion_proof(8, 8, leaves)
    with pytest.raises(ProofError):
        merkle.consistency_proof(0, 4, leaves)
    with pytest.raises(ProofError):
        merkle.consistency_proof(5, 4, leaves)


def test_perfect_pieces_follow_the_binary_decomposition() -> None:
    assert merkle.perfect_pieces(0, 13) == [(3, 0), (2, 2), (0, 12)]
    assert merkle.perfect_pieces(8, 13) == [(2, 2), (0, 12)]
    assert merkle.perfect_pieces(0, 0) == []
