"""Encoded records as the resolver holds them: one value per record, then columnar.

:class:`EncodedRecord` is one department record's linkage data (what a
``LinkageRecord`` carries, nothing more); :class:`RecordMatrix` is a batch of them
as numpy columns (Bloom filters as byte matrices, tokens as 64-bit integers) so
blocking and scoring run vectorised over pairs rather than in Python loops.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pingan.v1 import linkage_pb2

BLOOM_FIELDS = (
    "name", "birth_date", "id_number", "other_id", "residence_address", "registered_address",
    "surname", "given_name", "address_numbers",
)
TOKEN_KINDS = ("id_number", "phone", "landline", "name_birth", "household", "other_id", "residence")

RecordKey = tuple[str, str, str]  # (department, dataset, local_record_id)


@dataclass(frozen=True, slots=True)
class EncodedRecord:
    """One department record's encodings (never a raw identifier)."""

    department: str
    dataset: str
    local_record_id: str
    tokens: tuple[tuple[str, bytes], ...] = ()
    blooms: tuple[tuple[str, bytes], ...] = ()
    sex: str = ""
    birth_year: int = 0
    residence_mismatch: bool = False
    jurisdiction: str = ""
    groups: tuple[int, ...] = ()

    @property
    def key(self) -> RecordKey:
        return (self.department, self.dataset, self.local_record_id)

    @classmethod
    def from_message(cls, department: str, record: linkage_pb2.LinkageRecord) -> EncodedRecord:
        enc = record.encoding
        return cls(
            department=department,
            dataset=record.dataset,
            local_record_id=record.local_record_id,
            tokens=tuple(sorted((t.kind, bytes(t.token)) for t in enc.exact)),
            blooms=tuple(sorted((b.field, bytes(b.bits)) for b in enc.bloom)),
            sex=enc.sex,
            birth_year=enc.birth_year,
            residence_mismatch=enc.residence_mismatch,
            jurisdiction=record.jurisdiction,
            groups=tuple(sorted({int(g) for g in record.groups})),
        )

    @classmethod
    def from_encoding(cls, encoding: linkage_pb2.LinkageEncoding, key: RecordKey = ("", "", "")) -> EncodedRecord:
        """A record for a query encoding (Tokenize output)."""
        return cls.from_message(
            key[0], linkage_pb2.LinkageRecord(dataset=key[1], local_record_id=key[2], encoding=encoding)
        )


_SEX = {"M": 1, "F": 2}  # RecordMatrix.sex codes; anything else is 0 (unknown)


def place_int(path: str) -> int:
    """A jurisdiction path as a non-zero 64-bit integer (0 = unknown); the path itself is not identifying."""
    if not path:
        return 0
    return int.from_bytes(hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest(), "big", signed=True) or 1


def token_int(token: bytes) -> int:
    """A token as a non-zero signed 64-bit integer (first 8 bytes; 0 is reserved for "missing")."""
    value = int.from_bytes(token[:8], "big", signed=True)
    return value or 1


def token_ints(tokens: Sequence[bytes]) -> np.ndarray:
    """:func:`token_int` of many tokens at once (each at least 8 bytes, as validated)."""
    values = np.frombuffer(b"".join(t[:8] for t in tokens), ">i8").astype(np.int64)
    if len(values) != len(tokens):
        raise ValueError("a token is shorter than 8 bytes")
    values[values == 0] = 1
    return values


@dataclass(slots=True)
class RecordMatrix:
    """Columnar view of ``n`` records; row ``r`` of every column is the same record."""

    bloom_bytes: int
    blooms: dict[str, np.ndarray] = field(default_factory=dict)  # field -> (n, bloom_bytes) uint8
    present: dict[str, np.ndarray] = field(default_factory=dict)  # field -> (n,) bool
    tokens: dict[str, np.ndarray] = field(default_factory=dict)  # kind -> (n,) int64, 0 = missing
    sex: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))  # 0 unknown, 1 M, 2 F
    birth_year: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    residence_mismatch: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    jurisdiction: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # place_int, 0 = unknown

    @property
    def n(self) -> int:
        return len(self.sex)

    def permute(self, order: np.ndarray) -> None:
        """Reorder the rows in place: row ``r`` becomes the old row ``order[r]``.

        Column by column, so at most one column is held twice (a million records' filters
        are about 770 MB; a copy of the whole matrix would double that at the peak).
        """
        for columns in (self.blooms, self.present, self.tokens):
            for key in list(columns):
                columns[key] = columns[key][order]
        for name in ("sex", "birth_year", "residence_mismatch", "jurisdiction"):
            setattr(self, name, getattr(self, name)[order])

    def locality_order(self) -> np.ndarray:
        """A row order that puts records with the same name filter next to each other.

        Comparison gathers the filters of both records of every candidate pair. Records
        arrive department by department, so a person's records lie far apart and nearly
        every gather misses the CPU caches; in name order most candidate pairs are near
        neighbours. At 200,000 records this took resolution from 45.3 s to 39.7 s (36.7 s
        when the rows were in person order; docs/benchmarks.md, identity scale).
        Ties (records without a name among them) keep their order.
        """
        words = self.words("name")
        keys = [np.arange(self.n)] + [words[:, k] for k in range(words.shape[1] - 1, -1, -1)]
        return np.lexsort(tuple(keys))  # the last key is the primary one

    def words(self, name: str) -> np.ndarray:
        """A Bloom column as 64-bit words for popcounts."""
        return self.blooms[name].view(np.uint64)

    @classmethod
    def concat(cls, parts: Sequence[RecordMatrix], bloom_bytes: int) -> RecordMatrix:
        """The rows of ``parts`` in order (every part has the same columns)."""
        if not parts:
            return cls.from_records([], bloom_bytes * 8)
        first = parts[0]
        return cls(
            bloom_bytes=bloom_bytes,
            blooms={f: np.concatenate([p.blooms[f] for p in parts]) for f in first.blooms},
            present={f: np.concatenate([p.present[f] for p in parts]) for f in first.present},
            tokens={k: np.concatenate([p.tokens[k] for p in parts]) for k in first.tokens},
            sex=np.concatenate([p.sex for p in parts]),
            birth_year=np.concatenate([p.birth_year for p in parts]),
            residence_mismatch=np.concatenate([p.residence_mismatch for p in parts]),
            jurisdiction=np.concatenate([p.jurisdiction for p in parts]),
        )

    @classmethod
    def from_records(cls, records: Sequence[EncodedRecord], bloom_bits: int) -> RecordMatrix:
        blooms = [dict(rec.blooms) for rec in records]
        mx = cls.from_columns(
            bloom_bits,
            {f: [b.get(f) for b in blooms] for f in BLOOM_FIELDS},
            [rec.sex for rec in records],
            [rec.birth_year for rec in records],
            [rec.residence_mismatch for rec in records],
            [rec.jurisdiction for rec in records],
        )
        token_rows: dict[str, list[int]] = {k: [] for k in TOKEN_KINDS}
        token_values: dict[str, list[int]] = {k: [] for k in TOKEN_KINDS}
        for r, rec in enumerate(records):
            for k, tok in rec.tokens:
                token_rows[k].append(r)
                token_values[k].append(token_int(tok))
        for k in TOKEN_KINDS:
            if token_rows[k]:
                mx.tokens[k][np.array(token_rows[k], np.int64)] = np.array(token_values[k], np.int64)
        return mx

    @classmethod
    def from_columns(
        cls,
        bloom_bits: int,
        blooms: Mapping[str, Sequence[bytes | None]],
        sex: Sequence[str],
        birth_year: Sequence[int],
        residence_mismatch: Sequence[bool],
        jurisdiction: Sequence[str],
    ) -> RecordMatrix:
        """A matrix from columns as stored (a filter is ``None`` where missing); no tokens yet.

        Filled with one numpy assignment per column: a write per record and field cost
        seconds per 100,000 records, and building a record object per row first was most
        of reading a million stored records (IdentityIndex.load at hub start).
        """
        n, width = len(sex), bloom_bits // 8
        mx = cls(bloom_bytes=width)
        for f in BLOOM_FIELDS:
            column = blooms.get(f, [None] * n)
            present = np.fromiter((b is not None for b in column), bool, count=n)
            mx.present[f] = present
            mx.blooms[f] = np.zeros((n, width), np.uint8)
            if present.any():
                packed = b"".join(b for b in column if b is not None)
                mx.blooms[f][present] = np.frombuffer(packed, np.uint8).reshape(-1, width)
        for k in TOKEN_KINDS:
            mx.tokens[k] = np.zeros(n, np.int64)
        mx.sex = np.fromiter((_SEX.get(x, 0) for x in sex), np.int8, count=n)
        mx.birth_year = np.fromiter(birth_year, np.int16, count=n)
        mx.residence_mismatch = np.fromiter(residence_mismatch, bool, count=n)
        places: dict[str, int] = {}
        for path in jurisdiction:
            if path not in places:
                places[path] = place_int(path)
        mx.jurisdiction = np.fromiter((places[p] for p in jurisdiction), np.int64, count=n)
        return mx
