"""Offline verification of an export with nothing but the file and a public key.

Streaming, O(log n) memory. For each entry: its position is the next index, its
envelope names that same index (so a deleted, inserted or reordered entry is
named exactly), and SHA-256(0x00 || canonical) equals the leaf hash recorded at
append time (so an edited entry is named exactly when the recorded hash was left
alone). Entries feed a compact range seeded with the export's prefix hashes; at
each checkpoint the verifier checks the Ed25519 signed note, recomputes the RFC
9162 root from the entries and compares -- which proves every entry up to that
size is included in that checkpoint -- and checks the RFC 9162 consistency proof
from the previous checkpoint. Trusted checkpoints the auditor saw earlier
(``trusted``) expose a forked log: same size, different root.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from audit import merkle
from audit.checkpoint import Checkpoint, NoteVerifier, verify_checkpoint
from audit.entry import LoggedEntry
from audit.errors import CheckpointError, EntryError, ProofError, VerificationError
from audit.export import FORMAT


@dataclass(frozen=True)
class VerifyReport:
    """What a successful verification covered."""

    origin: str
    from_index: int
    to_index: int
    entries: int
    checkpoints: int
    consistency_proofs: int
    trusted_checked: int
    warnings: tuple[str, ...] = field(default=())

    def summary(self) -> str:
        return (
            f"OK {self.origin}: entries [{self.from_index}, {self.to_index}) verified: {self.entries} entries, "
            f"{self.checkpoints} checkpoints, {self.consistency_proofs} consistency proofs, "
            f"{self.trusted_checked} trusted checkpoints matched"
        )


class _Range:
    """Compact range of [0, size): perfect subtree hashes by level, largest first."""

    def __init__(self, prefix: Sequence[bytes], size: int) -> None:
        levels = [lv for lv, _ in merkle.perfect_pieces(0, size)]
        if len(levels) != len(prefix):
            raise ValueError(f"prefix has {len(prefix)} hashes; entries [0, {size}) need {len(levels)}")
        self.stack = list(zip(levels, prefix, strict=True))
        self.size = size

    def append(self, leaf: bytes) -> None:
        stack = self.stack
        stack.append((0, leaf))
        while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
            lv, left = stack[-2]
            _, right = stack.pop()
            stack[-1] = (lv + 1, merkle.node_hash(left, right))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        acc = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            acc = merkle.node_hash(h, acc)
        return acc


def _b64(value: object, where: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationError(where, "expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise VerificationError(where, "not valid base64") from exc


def verify_export(
    lines: Iterable[bytes | str], verifier: NoteVerifier, trusted: Sequence[str] = (), strict: bool = False
) -> VerifyReport:
    """Verify an export; raise :class:`VerificationError` naming the first bad entry or checkpoint.

    ``strict`` also decodes every entry fully (canonical form, known kind and
    fields, valid times), about 3x slower; integrity does not depend on it.
    """
    it = iter(lines)
    try:
        header = json.loads(next(it))
    except StopIteration as exc:
        raise VerificationError("line 1", "the export is empty") from exc
    except ValueError as exc:
        raise VerificationError("line 1", f"not JSON ({exc})") from exc
    if not isinstance(header, dict) or header.get("type") != "header" or header.get("format") != FORMAT:
        raise VerificationError("line 1", f"not a {FORMAT} header")
    origin, start, end = header.get("origin"), header.get("from_index"), header.get("to_index")
    if not isinstance(origin, str) or not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end:
        raise VerificationError("header", "origin, from_index and to_index are missing or invalid")
    prefix = [_b64(h, f"header prefix[{i}]") for i, h in enumerate(header.get("prefix") or [])]
    try:
        rng = _Range(prefix, start)
    except ValueError as exc:
        raise VerificationError("header", str(exc)) from exc

    trusted_cps: dict[int, list[Checkpoint]] = {}
    for i, note in enumerate(trusted):
        try:
            cp = verify_checkpoint(verifier, note, origin)
        except CheckpointError as exc:
            raise VerificationError(f"trusted checkpoint {i + 1}", str(exc)) from exc
        trusted_cps.setdefault(cp.size, []).append(cp)
    trusted_checked = 0
    for cp in trusted_cps.get(start, []) if start else []:
        if cp.root_hash != rng.root():
            raise VerificationError(f"size {start}", "fork: the prefix gives a different root than the trusted checkpoint")
        trusted_checked += 1
    warnings: list[str] = []
    prev: Checkpoint | None = None
    pending_consistency: tuple[int, int, list[bytes]] | None = None
    seen_roots: dict[int, bytes] = {}
    n_entries = n_cps = n_cons = 0
    last_cp_size = start

    for lineno, raw in enumerate(it, start=2):
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            raise VerificationError(f"line {lineno}", f"not JSON ({exc})") from exc
        kind = obj.get("type") if isinstance(obj, dict) else None
        if kind == "entry":
            expected = rng.size
            where = f"entry {expected}"
            if obj.get("index") != expected:
                raise VerificationError(
                    where, f"line {lineno} holds index {obj.get('index')!r} where index {expected} belongs: entries missing or reordered"
                )
            canonical = obj.get("canonical")
            if not isinstance(canonical, str):
                raise VerificationError(where, "no canonical text")
            data = canonical.encode("utf-8")
            if strict:
                try:
                    env_index = LoggedEntry.from_canonical(data).index
                except EntryError as exc:
                    raise VerificationError(where, f"not a valid canonical entry: {exc}") from exc
            else:
                try:
                    env_index = json.loads(data).get("index")
                except (ValueError, AttributeError) as exc:
                    raise VerificationError(where, "content is not a JSON object (altered)") from exc
            if env_index != expected:
                raise VerificationError(
                    where, f"content says it is entry {env_index!r}: entries deleted, inserted or reordered before here"
                )
            leaf = merkle.leaf_hash(data)
            if "leaf_hash" in obj and _b64(obj["leaf_hash"], where) != leaf:
                raise VerificationError(where, "content does not match the leaf hash recorded when it was appended (altered)")
            rng.append(leaf)
            n_entries += 1
            if rng.size in trusted_cps:
                for cp in trusted_cps[rng.size]:
                    if cp.root_hash != rng.root():
                        raise VerificationError(
                            f"size {rng.size}",
                            "fork: these entries give a different root than the trusted checkpoint of that size",
                        )
                    trusted_checked += 1
        elif kind == "consistency":
            f, t, p = obj.get("from_size"), obj.get("to_size"), obj.get("proof") or []
            pending_consistency = (f, t, [_b64(h, f"consistency {f}->{t}") for h in p])
        elif kind == "checkpoint":
            size = obj.get("size")
            where = f"checkpoint {size}"
            try:
                cp = verify_checkpoint(verifier, obj.get("note") or "", origin)
            except CheckpointError as exc:
                raise VerificationError(where, f"forged or damaged: {exc}") from exc
            if cp.size != size:
                raise VerificationError(where, f"note says size {cp.size}")
            if cp.size in seen_roots and seen_roots[cp.size] != cp.root_hash:
                raise VerificationError(where, "fork: two signed checkpoints of this size with different roots")
            seen_roots[cp.size] = cp.root_hash
            base = n_cps == 0 and cp.size <= start and n_entries == 0
            if cp.size == rng.size:
                if cp.root_hash != rng.root():
                    raise VerificationError(
                        where,
                        f"root does not match entries [{last_cp_size}, {cp.size}): an entry there was altered, "
                        "removed, inserted or reordered (or the log forked)",
                    )
            elif not base:
                raise VerificationError(where, f"appears after {rng.size} entries; it must follow entry {cp.size - 1}")
            if prev is not None and prev.size > 0:
                if pending_consistency is None or pending_consistency[:2] != (prev.size, cp.size):
                    raise VerificationError(where, f"no consistency proof from checkpoint {prev.size}")
                try:
                    merkle.verify_consistency(prev.size, cp.size, prev.root_hash, cp.root_hash, pending_consistency[2])
                except ProofError as exc:
                    raise VerificationError(where, f"not consistent with checkpoint {prev.size}: {exc}") from exc
                n_cons += 1
            pending_consistency = None
            prev = cp
            last_cp_size = cp.size
            n_cps += 1
        else:
            raise VerificationError(f"line {lineno}", f"unknown line type {kind!r}")

    if rng.size != end:
        raise VerificationError(
            f"entry {rng.size}", f"export ends after {rng.size - start} entries; the header promises [{start}, {end})"
        )
    if prev is None or prev.size != end:
        raise VerificationError(
            f"entry {last_cp_size}", f"entries [{last_cp_size}, {end}) are not covered by any checkpoint"
        )
    for size in trusted_cps:
        if not start <= size <= end:
            warnings.append(f"trusted checkpoint of size {size} is outside this export and was not compared")
    return VerifyReport(origin, start, end, n_entries, n_cps, n_cons, trusted_checked, tuple(warnings))
