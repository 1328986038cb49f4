"""RFC 9162 Merkle tree hashing, proof generation and proof verification.

Hashing is RFC 9162 section 2.1.1: ``leaf = SHA-256(0x00 || data)``,
``node = SHA-256(0x01 || left || right)``, empty tree = ``SHA-256("")``.

Where the hashes come from: proof generation asks a :class:`HashSource` for the
hashes of *perfect subtrees*, keyed ``(level, index)`` -- the subtree covering
leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaf
hashes. Any range the RFC recursion visits is the concatenation of O(log n) such
subtrees, so a proof needs O(log n) hashes, fetched in one call. The storage
layer (:class:`audit.store.AuditLog`) keeps every complete perfect subtree in a
table; :class:`MemoryTree` keeps them in lists. Module-level
``inclusion_proof(index, size, source)`` and ``consistency_proof(size1, size2,
source)`` accept either a ``HashSource`` or a plain sequence of leaf hashes;
``AuditLog`` and ``MemoryTree`` expose methods of the same names without the
``source`` argument.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from audit.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HashSource",
    "MemoryTree",
    "ProofError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "perfect_pieces",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Key = tuple[int, int]  # (level, index) of a perfect subtree


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 section 2.1.1: MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 section 2.1.1: SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@runtime_checkable
class HashSource(Protocol):
    """Supplies hashes of complete perfect subtrees, keyed (level, index)."""

    def perfect_hashes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        """Return the hash of every requested perfect subtree (all must exist)."""
        ...


def _largest_pow2_below(n: int) -> int:
    """RFC 9162 section 2.1.1: k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_pieces(start: int, end: int) -> list[Key]:
    """Split ``[start, end)`` into the perfect subtrees RFC 9162's MTH is made of.

    Valid for the ranges the RFC recursion produces (``start`` aligned to the
    power of two at or above ``end - start``): pieces come largest first and
    MTH(range) = node(p0, node(p1, ... pk)).
    """
    pieces: list[Key] = []
    pos = start
    while pos < end:
        size = end - pos
        level = size.bit_length() - 1
        # the largest aligned power of two that fits
        while pos % (1 << level):
            level -= 1
        pieces.append((level, pos >> level))
        pos += 1 << level
    return pieces


def _fold(hashes: Sequence[bytes]) -> bytes:
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _range_hashes(ranges: Sequence[tuple[int, int]], source: HashSource) -> list[bytes]:
    """Hash each range from perfect subtrees fetched in one call."""
    plans = [perfect_pieces(a, b) for a, b in ranges]
    wanted = sorted({k for plan in plans for k in plan})
    found = source.perfect_hashes(wanted) if wanted else {}
    return [_fold([found[k] for k in plan]) for plan in plans]


class MemoryTree:
    """All perfect-subtree hashes of a list of leaf hashes, held in memory.

    Building costs n - 1 node hashes; each proof then costs O(log n). Used by
    the offline verifier and the tests.
    """

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash, completing any perfect subtrees it closes."""
        self._levels[0].append(leaf)
        level, idx = 0, len(self._levels[0]) - 1
        while idx % 2 == 1:
            row = self._levels[level]
            parent = node_hash(row[idx - 1], row[idx])
            level += 1
            if len(self._levels) == level:
                self._levels.append([])
            self._levels[level].append(parent)
            idx //= 2

    def perfect_hashes(self, keys: Sequence[Key]) -> Mapping[Key, bytes]:
        try:
            return {(lv, i): self._levels[lv][i] for lv, i in keys}
        except IndexError as exc:
            raise ProofError(f"subtree not complete in a tree of size {self.size}") from exc

    def root(self, size: int | None = None) -> bytes:
        n = self.size if size is None else size
        if n > self.size:
            raise ProofError(f"tree size {n} exceeds the {self.size} leaves held")
        return tree_root(n, self)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return inclusion_proof(index, size, self)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return consistency_proof(size1, size2, self)


def _as_source(source: HashSource | Sequence[bytes]) -> HashSource:
    if isinstance(source, HashSource):
        return source
    return MemoryTree(source)


def tree_root(size: int, source: HashSource) -> bytes:
    """MTH of the first ``size`` leaves from stored perfect subtrees: O(log n) reads."""
    if size == 0:
        return EMPTY_ROOT
    return _range_hashes([(0, size)], source)[0]


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.1 MTH of a whole list of leaf hashes."""
    return tree_root(len(leaf_hashes), MemoryTree(leaf_hashes))


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    """RFC 9162 section 2.1.3.1 PATH(m, D[n]) as ranges, leaf to root."""
    out: list[tuple[int, int]] = []
    while end - start > 1:
        k = _largest_pow2_below(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def inclusion_proof(index: int, size: int, source: HashSource | Sequence[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.3.1: the audit path of leaf ``index`` in the tree of ``size`` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    return _range_hashes(_inclusion_ranges(index, 0, size), _as_source(source))


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """RFC 9162 section 2.1.4.1 SUBPROOF(m, D[n], true) as ranges."""
    out: list[tuple[int, int]] = []
    m, start, end, complete = size1, 0, size2, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                out.append((start, end))
            break
        k = _largest_pow2_below(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            complete = False
    out.reverse()
    return out


def consistency_proof(size1: int, size2: int, source: HashSource | Sequence[bytes]) -> list[bytes]:
    """RFC 9162 section 2.1.4.1 PROOF(m, D[n]) between the trees of ``size1`` and ``size2`` leaves."""
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        return []
    return _range_hashes(_consistency_ranges(size1, size2), _as_source(source))


def _check_hash(name: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{name} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> None:
    """RFC 9162 section 2.1.3.2: raise :class:`ProofError` unless ``proof`` is valid."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    _check_hash("leaf hash", leaf)
    fn, sn, r = index, size - 1, leaf
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)
        if sn == 0:
            raise ProofError(f"proof has {len(proof)} hashes, more than the tree needs")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has {len(proof)} hashes, fewer than the tree needs")
    if r != root_hash:
        raise ProofError("computed root does not match the expected root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 section 2.1.4.2: raise :class:`ProofError` unless ``proof`` links the two trees."""
    if size1 < 0 or size2 < 0 or size1 > size2:
        raise ProofError(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise ProofError("trees of equal size need an empty proof")
        if root1 != root2:
            raise ProofError("trees of equal size have different roots")
        return
    if not proof:
        raise ProofError("empty proof for trees of different sizes")
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is an exact power of two
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"proof has {len(proof)} hashes, more than the trees need")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"proof has {len(proof)} hashes, fewer than the trees need")
    if fr != root1:
        raise ProofError("proof does not lead to the first root")
    if sr != root2:
        raise ProofError("proof does not lead to the second root")
