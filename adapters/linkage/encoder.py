"""Keyed linkage encodings of one record (scheme ``pingan-link-v2``, docs/linkage.md).

* Exact tokens: HMAC-SHA256 (RFC 2104) under a key derived from the linkage
  secret, over ``kind || 0x1f || normalised value``, for a valid ID number, a
  mobile phone, a landline, name + birth date, the household registration
  number, any other identifier, and the normalised residence address (for
  households). A suspect (checksum-failing) ID number never gets a token.
* Fuzzy encodings: one Bloom filter per field (field-level Bloom filters,
  Schnell, Bachteler and Reiher 2009) over padded q-grams. Hardening (see
  docs/linkage.md): a separate key per field, and *random hashing* - the k
  positions of a q-gram are read from HMAC-SHA256(field key, q-gram) instead of
  double hashing, which removes the structure exploited by Kroll and
  Steinmetzer's (2015) attack on double-hashed CLKs.
* v2 adds part filters compared on their own, as Splink compares given name,
  surname and postcode: ``surname`` and ``given_name`` (one shared key,
  so the hub can compare them crosswise for swapped parts) and
  ``address_numbers`` of the actual residence (``name_parts``, ``address_parts``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.linkage.errors import LinkageError
from adapters.linkage.fields import IdentityFields
from adapters.linkage.normalize import NormalizedIdentity, normalize_fields
from pingan.v1 import linkage_pb2

SCHEME_VERSION = "pingan-link-v2"
BLOOM_FIELDS = (
    "name", "birth_date", "id_number", "other_id", "residence_address", "registered_address",
    "surname", "given_name", "address_numbers",
)
# Fields sharing a key are comparable with each other: registered vs actual residence
# (migrant flag), surname vs given name (swapped parts).
_KEY_GROUP = {
    "residence_address": "address", "registered_address": "address", "surname": "name_part", "given_name": "name_part",
}
EXACT_KINDS = ("id_number", "phone", "landline", "name_birth", "household", "other_id", "residence")


@dataclass(frozen=True, slots=True)
class SchemeParams:
    """Tunable parameters of the scheme; both sides must agree on every one."""

    version: str = SCHEME_VERSION
    bloom_bits: int = 512
    bloom_hashes: int = 10
    qgram: int = 2
    # Fewer hashes for longer values keep every filter well below half full (Schnell 2009's
    # advice on filling); addresses have ~15 (Chinese) to ~60 (Latin) bigrams.
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

    def hashes(self, field: str) -> int:
        """Hash functions per q-gram for ``field``."""
        return dict(self.field_hashes).get(field, self.bloom_hashes)

    def __post_init__(self) -> None:
        if self.bloom_bits < 64 or self.bloom_bits % 8 or self.bloom_bits > 65536:
            raise LinkageError(f"bloom_bits must be a multiple of 8 in 64..65536, got {self.bloom_bits}")
        if 65536 % self.bloom_bits:
            raise LinkageError(f"bloom_bits must divide 65536 (unbiased positions), got {self.bloom_bits}")
        if not 1 <= self.bloom_hashes <= 64:
            raise LinkageError(f"bloom_hashes must be in 1..64, got {self.bloom_hashes}")
        for name, k in self.field_hashes:
            if name not in BLOOM_FIELDS or not 1 <= k <= 64:
                raise LinkageError(f"field_hashes entry {name!r}={k} is invalid (field in {BLOOM_FIELDS}, 1..64)")
        if not 1 <= self.qgram <= 4:
            raise LinkageError(f"qgram must be in 1..4, got {self.qgram}")


DEFAULT = SchemeParams()


def _derive(secret: bytes, label: str) -> bytes:
    """A sub-key for one purpose (HKDF-Expand style, RFC 5869, one block)."""
    return hmac.new(secret, f"{SCHEME_VERSION}/{label}".encode() + b"\x01", hashlib.sha256).digest()


def key_id(secret: bytes) -> str:
    """A public fingerprint of the secret, so the hub can tell two keys apart without seeing either."""
    return _derive(secret, "key-id").hex()[:16]


def qgrams(value: str, q: int) -> list[str]:
    """Padded q-grams of ``value`` (padding marks the first and last characters)."""
    padded = "\x02" * (q - 1) + value + "\x03" * (q - 1)
    if len(padded) < q:
        return [padded]
    return sorted({padded[i : i + q] for i in range(len(padded) - q + 1)})


class LinkageEncoder:
    """Encodes records and queries with the adapter's linkage secret."""

    def __init__(self, secret: bytes, params: SchemeParams = DEFAULT) -> None:
        if len(secret) < 16:
            raise LinkageError("linkage secret is too short; load it with adapters.linkage.secret.load_secret")
        self._params = params
        self._exact_key = _derive(secret, "exact")
        # Both address fields share one key so the hub can compare a registered address with an
        # actual residence (migrant flag) without ever seeing either.
        self._field_keys = {field: _derive(secret, f"bloom/{_KEY_GROUP.get(field, field)}") for field in BLOOM_FIELDS}
        self._key_id = key_id(secret)
        self._positions = functools.lru_cache(maxsize=200_000)(self._positions_uncached)

    def scheme(self) -> linkage_pb2.LinkageScheme:
        """The scheme description the hub validates every encoding against."""
        p = self._params
        return linkage_pb2.LinkageScheme(
            version=p.version,
            bloom_bits=p.bloom_bits,
            bloom_hashes=p.bloom_hashes,
            qgram=p.qgram,
            key_id=self._key_id,
            field_hashes=[linkage_pb2.BloomFieldParams(field=f, hashes=k) for f, k in sorted(p.field_hashes)],
        )

    # -- primitives ---------------------------------------------------------------------------

    def token(self, kind: str, value: str) -> bytes:
        """HMAC-SHA256 exact token of a normalised value."""
        return hmac.new(self._exact_key, kind.encode() + b"\x1f" + value.encode("utf-8"), hashlib.sha256).digest()

    def _positions_uncached(self, field: str, gram: str) -> tuple[int, ...]:
        """k bit positions of one q-gram: random hashing from keyed HMAC output (16-bit words)."""
        key = self._field_keys[field]
        k, m = self._params.hashes(field), self._params.bloom_bits
        out: list[int] = []
        counter = 0
        while len(out) < k:
            digest = hmac.new(key, counter.to_bytes(2, "big") + gram.encode("utf-8"), hashlib.sha256).digest()
            out.extend(int.from_bytes(digest[i : i + 2], "big") % m for i in range(0, 32, 2))
            counter += 1
        return tuple(out[:k])

    def bloom(self, field: str, value: str) -> bytes:
        """Field-level Bloom filter of ``value`` (big-endian bit order: bit i is byte i//8, mask 0x80>>(i%8))."""
        if field not in self._field_keys:
            raise LinkageError(f"unknown Bloom field {field!r}; known: {', '.join(BLOOM_FIELDS)}")
        bits = bytearray(self._params.bloom_bits // 8)
        for gram in qgrams(value, self._params.qgram):
            for pos in self._positions(field, gram):
                bits[pos >> 3] |= 0x80 >> (pos & 7)
        return bytes(bits)

    # -- records ------------------------------------------------------------------------------

    def encode(self, fields: IdentityFields) -> linkage_pb2.LinkageEncoding:
        """Encode one record's identifiers; the raw values stay in this process."""
        return self.encode_normalized(normalize_fields(fields))

    def encode_normalized(self, n: NormalizedIdentity) -> linkage_pb2.LinkageEncoding:
        """Encode already-normalised identifiers."""
        exact: list[tuple[str, str]] = []
        if n.id_number is not None and n.id_number.valid:
            exact.append(("id_number", n.id_number.value))
        if n.phone is not None:
            exact.append(("phone" if n.phone.kind == "mobile" else "landline", n.phone.value))
        if n.name and n.birth_date:
            exact.append(("name_birth", f"{n.name}\x1f{n.birth_date.isoformat()}"))
        if n.household_number:
            exact.append(("household", n.household_number))
        if n.other_id:
            exact.append(("other_id", n.other_id))
        if n.residence_address:
            exact.append(("residence", n.residence_address))
        blooms: list[tuple[str, str]] = []
        if n.name:
            blooms.append(("name", n.name))
        if n.birth_date:
            blooms.append(("birth_date", _date_text(n.birth_date)))
        if n.id_number is not None:
            blooms.append(("id_number", n.id_number.value))
        if n.other_id:
            blooms.append(("other_id", n.other_id))
        if n.residence_address:
            blooms.append(("residence_address", n.residence_address))
        if n.registered_address:
            blooms.append(("registered_address", n.registered_address))
        for part in ("surname", "given_name", "address_numbers"):
            value = getattr(n, part)
            if value:
                blooms.append((part, value))
        return linkage_pb2.LinkageEncoding(
            scheme=self.scheme(),
            exact=[linkage_pb2.ExactToken(kind=k, token=self.token(k, v)) for k, v in exact],
            bloom=[linkage_pb2.BloomEncoding(field=f, bits=self.bloom(f, v)) for f, v in blooms],
            sex=n.sex or "",
            birth_year=n.birth_date.year if n.birth_date else 0,
            residence_mismatch=bool(
                n.registered_address and n.residence_address and n.registered_address != n.residence_address
            ),
        )

    def encode_query(self, q: linkage_pb2.IdentityQuery) -> linkage_pb2.LinkageEncoding:
        """Encode the identifiers of a caller's query (Tokenize); nothing is kept."""
        return self.encode(
            IdentityFields(
                name=q.name or None, id_number=q.id_number or None, birth_date=q.birth_date or None, phone=q.phone or None
            )
        )

    def encode_many(self, records: Iterable[IdentityFields]) -> list[linkage_pb2.LinkageEncoding]:
        """Encode a batch (same as calling :meth:`encode` on each)."""
        return [self.encode(r) for r in records]


def _date_text(d: dt.date) -> str:
    """Dates are encoded as YYYYMMDD so bigrams capture day/month transpositions and single-digit typos."""
    return d.strftime("%Y%m%d")
