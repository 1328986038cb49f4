"""Validation of linkage encodings against the scheme the hub expects (docs/linkage.md).

An adapter that encodes with another scheme version, other Bloom parameters or
another linkage secret produces encodings that cannot be compared with the
index's; such a batch is rejected whole, naming the differing parameter, so an
adapter streaming garbage cannot corrupt the index.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub.identity.errors import BatchRejected
from pingan.v1 import linkage_pb2

BLOOM_FIELDS = frozenset({
    "name", "birth_date", "id_number", "other_id", "residence_address", "registered_address",
    "surname", "given_name", "address_numbers",
})
EXACT_KINDS = frozenset({"id_number", "phone", "landline", "name_birth", "household", "other_id", "residence"})
TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class ExpectedScheme:
    """The scheme the index was built with; ``key_id`` empty means "adopt the first one seen"."""

    version: str = "pingan-link-v2"
    bloom_bits: int = 512
    bloom_hashes: int = 10
    qgram: int = 2
    field_hashes: tuple[tuple[str, int], ...] = (
        ("address_numbers", 8),
        ("birth_date", 8),
        ("given_name", 10),
        ("id_number", 6),
        ("name", 10),
        ("other_id", 8),
        ("registered_address", 4),
        ("residence_address", 4),
        ("surname", 10),
    )
    key_id: str = ""

    @classmethod
    def from_message(cls, scheme: linkage_pb2.LinkageScheme) -> ExpectedScheme:
        return cls(
            scheme.version,
            scheme.bloom_bits,
            scheme.bloom_hashes,
            scheme.qgram,
            tuple(sorted((f.field, f.hashes) for f in scheme.field_hashes)),
            scheme.key_id,
        )

    def with_key_id(self, key_id: str) -> ExpectedScheme:
        return ExpectedScheme(self.version, self.bloom_bits, self.bloom_hashes, self.qgram, self.field_hashes, key_id)

    def to_json(self) -> dict[str, object]:
        return {
            "version": self.version,
            "bloom_bits": self.bloom_bits,
            "bloom_hashes": self.bloom_hashes,
            "qgram": self.qgram,
            "field_hashes": [list(x) for x in self.field_hashes],
            "key_id": self.key_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ExpectedScheme:
        return cls(
            str(data["version"]),
            int(data["bloom_bits"]),  # type: ignore[arg-type]
            int(data["bloom_hashes"]),  # type: ignore[arg-type]
            int(data["qgram"]),  # type: ignore[arg-type]
            tuple((str(f), int(k)) for f, k in data["field_hashes"]),  # type: ignore[union-attr]
            str(data.get("key_id", "")),  # type: ignore[union-attr]
        )

    def mismatch(self, scheme: linkage_pb2.LinkageScheme) -> str | None:
        """Which parameter differs, as a message; ``None`` when the scheme is acceptable."""
        for name in ("version", "bloom_bits", "bloom_hashes", "qgram"):
            want, got = getattr(self, name), getattr(scheme, name)
            if want != got:
                return f"scheme {name} is {got!r}, the index expects {want!r}"
        got_fields = tuple(sorted((f.field, f.hashes) for f in scheme.field_hashes))
        if got_fields != self.field_hashes:
            return f"scheme field_hashes are {dict(got_fields)}, the index expects {dict(self.field_hashes)}"
        if self.key_id and scheme.key_id != self.key_id:
            return (
                f"scheme key_id is {scheme.key_id!r}, the index expects {self.key_id!r} "
                "(the adapter uses another linkage secret)"
            )
        return None


def validate_encoding(encoding: linkage_pb2.LinkageEncoding, expected: ExpectedScheme, where: str) -> None:
    """Raise :class:`BatchRejected` when one encoding is unusable."""
    if not encoding.HasField("scheme"):
        raise BatchRejected(f"{where}: encoding has no scheme")
    problem = expected.mismatch(encoding.scheme)
    if problem:
        raise BatchRejected(f"{where}: {problem}")
    want_bytes = expected.bloom_bits // 8
    seen: set[str] = set()
    for bloom in encoding.bloom:
        if bloom.field not in BLOOM_FIELDS:
            raise BatchRejected(f"{where}: unknown Bloom field {bloom.field!r}")
        if bloom.field in seen:
            raise BatchRejected(f"{where}: Bloom field {bloom.field!r} appears twice")
        seen.add(bloom.field)
        if len(bloom.bits) != want_bytes:
            raise BatchRejected(
                f"{where}: Bloom field {bloom.field!r} has {len(bloom.bits)} bytes, expected {want_bytes} "
                f"({expected.bloom_bits} bits)"
            )
    for token in encoding.exact:
        if token.kind not in EXACT_KINDS:
            raise BatchRejected(f"{where}: unknown exact token kind {token.kind!r}")
        if len(token.token) != TOKEN_BYTES:
            raise BatchRejected(
                f"{where}: exact token {token.kind!r} has {len(token.token)} bytes, expected {TOKEN_BYTES}"
            )
    if encoding.sex not in ("", "M", "F"):
        raise BatchRejected(f"{where}: sex must be 'M', 'F' or empty")
    if encoding.birth_year and not 1850 <= encoding.birth_year <= 2100:
        raise BatchRejected(f"{where}: birth_year {encoding.birth_year} is out of range 1850..2100")
    if not encoding.exact and not encoding.bloom:
        raise BatchRejected(f"{where}: encoding has neither exact tokens nor Bloom filters")


def validate_batch(
    department: str, records: Sequence[linkage_pb2.LinkageRecord], expected: ExpectedScheme
) -> None:
    """Validate a whole batch; the first problem rejects it (nothing of it is applied)."""
    keys: set[tuple[str, str]] = set()
    for n, record in enumerate(records):
        where = f"department {department!r} batch record {n}"
        if not record.dataset:
            raise BatchRejected(f"{where}: missing dataset")
        if not record.local_record_id:
            raise BatchRejected(f"{where}: missing local_record_id")
        where = f"department {department!r} record {record.dataset}/{record.local_record_id}"
        if (record.dataset, record.local_record_id) in keys:
            raise BatchRejected(f"{where}: appears twice in one batch")
        keys.add((record.dataset, record.local_record_id))
        if record.deleted:
            continue
        if not record.HasField("encoding"):
            raise BatchRejected(f"{where}: missing encoding")
        validate_encoding(record.encoding, expected, where)
