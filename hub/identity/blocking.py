"""Blocking: which record pairs are worth scoring.

Two kinds of blocks, combined: records sharing an exact token (valid ID number,
mobile phone, name + birth date, other id) or identical filters (given name or
surname, + birth date), and locality-sensitive hashing on
the Bloom filters - MinHash over the set bit positions (Broder 1997), banded
(Leskovec, Rajaraman and Ullman, *Mining of Massive Datasets* ch. 3.4), so that
filters with a high Jaccard (hence Dice) similarity collide in some band with
high probability. Oversized blocks (a very common name) are dropped from that
view only; other views still cover their members.

Everything is vectorised: keys are 64-bit integers, pairs come from sorting
keys and comparing each row with its next ``d`` neighbours.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from hub.identity.records import RecordMatrix
from hub.identity.uniques import unique

PERSON_TOKENS = ("id_number", "phone", "name_birth", "other_id")
# Exact keys on the bytes of Bloom filters (identical filters: the same normalised value), in
# memory only. Splink blocks on the exact given name, surname and birth date; a name part +
# birth date is that, narrowed. They catch pairs whose other name part changed (FEBRL4
# rec-3996, rec-4299) when no LSH band happens to collide.
FILTER_KEYS: tuple[tuple[str, ...], ...] = (("given_name", "birth_date"), ("surname", "birth_date"))
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass(frozen=True, slots=True)
class LshView:
    """One LSH view: MinHash over ``fields``' set bits, ``bands`` bands of ``rows`` hashes."""

    name: str
    fields: tuple[str, ...]
    bands: int
    rows: int
    with_birth_year: bool = False
    with_sex: bool = False
    with_jurisdiction: bool = False
    union: bool = False  # OR the fields' filters (fields sharing a key: order-free surname/given name)
    exact: tuple[str, ...] = ()  # fields whose identical filters are also required (filter_key mixed into every band)
    max_block: int | None = None  # blocks over this many records dropped from this view (default: MAX_BLOCK)


VIEWS: tuple[LshView, ...] = (
    LshView("name_year", ("name",), bands=6, rows=2, with_birth_year=True),
    LshView("name", ("name",), bands=4, rows=3, with_sex=True),
    LshView("id_number", ("id_number",), bands=4, rows=3),
    # 8 and 6 bands, not 4: FEBRL4 lost a true pair (a hard one: both names changed, similar
    # only in other id or birth date and address) under 6 of 48 linkage secrets with 4 bands,
    # under 4 of 48 with these; with a seed per view (view_seed) under none with these bands
    # and still under 2 with 4 (docs/benchmarks.md). The birth_address bands cost candidate
    # pairs: +8 % at 200,000 records with 6, +16 % with 8.
    LshView("other_id", ("other_id",), bands=8, rows=2),
    LshView("birth_address", ("birth_date", "residence_address"), bands=6, rows=4),
    LshView("name_address", ("name", "residence_address"), bands=4, rows=3),
    LshView("name_grid", ("name",), bands=3, rows=3, with_jurisdiction=True),
    # Part views (scheme v2), in the spirit of Splink's name-part and postcode blocks. A
    # surname + numbers view was measured too and linked nothing more (it mostly adds pairs).
    LshView("name_parts", ("surname", "given_name"), bands=3, rows=5, union=True),
    LshView("birth_numbers", ("birth_date", "address_numbers"), bands=4, rows=5),
    LshView("given_numbers", ("given_name", "address_numbers"), bands=3, rows=5),
    # The same surname at a similar address (typos in the address text, the given name and
    # birth date no help: FEBRL4 rec-944). Keyed on the identical surname filter, so the bands
    # can be short (2 rows: residence Dice 0.8 collides in one of 8 bands with p > 0.99); a
    # block over 10 records is a common surname in a common street, not a rare address (on the
    # 200,000-record population the view adds 5.7M pairs with blocks up to 50, 0.19M with 10).
    LshView("surname_address", ("residence_address",), bands=8, rows=2, exact=("surname",), max_block=10),
)
MAX_BLOCK = 50
# Rows MinHashed at once: the gathered ranks are (hashes x set bits of the chunk) int32, ~300 MB
# for 100,000 residence filters and 16 hashes; 20,000 rows keep them in cache-friendlier sizes
# (200,000-record population: 16 residence hashes 2.0-2.9 s CPU instead of 5.0-6.0 s; same values).
_ROW_CHUNK = 20_000
# Bit positions examined per step of the rank-order walk (``minhash``).
_SCAN = 64


def _mix(h: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Fold ``v`` into hash ``h`` (splitmix64-style multiply-xorshift, wrapping)."""
    with np.errstate(over="ignore"):
        x = (h ^ v.astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(31)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(29)
    return x


@functools.cache
def _permutation_ranks(total_bits: int, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(total_bits).astype(np.int32) for _ in range(count)])


@functools.cache
def _rank_order(total_bits: int, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per hash, the bit positions in increasing rank (the inverse permutations), as the
    byte holding each position and that bit's mask in the byte (``np.unpackbits`` order)."""
    order = np.argsort(_permutation_ranks(total_bits, count, seed), axis=1)
    return (order >> 3).astype(np.intp), (0x80 >> (order & 7)).astype(np.uint8)


def minhash(
    mx: RecordMatrix, fields: tuple[str, ...], count: int, seed: int = 7, union: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(n, count) MinHash signatures over the concatenated (or, with ``union``, OR-ed) set bits of ``fields``.

    A signature value is the smallest rank of a set bit under one random permutation of
    the bit positions (Broder 1997). It is found by walking the positions in rank order,
    ``_SCAN`` at a time, on the packed filters, keeping only the rows that have not met
    a set bit yet: with a tenth of the bits set, almost every row stops in the first
    window, so the work is (rows x window) per hash instead of (set bits x hashes)
    gathered and reduced. The values are exactly those of the definition
    (``tests/hub/identity/test_identity_blocking.py``).
    """
    total_bits = mx.bloom_bytes * 8 * (1 if union else len(fields))
    byte_at, bit_of = _rank_order(total_bits, count, seed)
    sig = np.zeros((mx.n, count), np.int32)
    has = np.zeros(mx.n, bool)
    for start in range(0, mx.n, _ROW_CHUNK):
        stop = min(start + _ROW_CHUNK, mx.n)
        parts = [mx.blooms[f][start:stop] for f in fields]
        packed = np.bitwise_or.reduce(parts) if union else np.concatenate(parts, axis=1)
        nonempty = packed.any(axis=1)
        has[start:stop] = nonempty
        live = np.flatnonzero(nonempty)
        if len(live) == 0:
            continue
        if len(live) < len(packed):
            packed = packed[live]
        out = sig[start:stop]
        for h in range(count):
            rows, pending, at = packed, live, 0
            while True:  # every pending row has a set bit, so the walk ends within total_bits
                window = slice(at, at + _SCAN)
                seen = (np.take(rows, byte_at[h, window], axis=1) & bit_of[h, window]) != 0
                hit = seen.any(axis=1)
                out[pending[hit], h] = at + seen.argmax(axis=1)[hit]
                if hit.all():
                    break
                rows, pending, at = rows[~hit], pending[~hit], at + _SCAN
    return sig, has


def filter_key(mx: RecordMatrix, fields: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(keys, valid): a 64-bit hash of the exact filter bytes of ``fields``, valid where all are present."""
    h = np.full(mx.n, np.uint64(zlib.crc32("/".join(fields).encode())), np.uint64)
    valid = np.ones(mx.n, bool)
    for name in fields:
        valid &= mx.present[name]
        words = mx.words(name)
        for col in range(words.shape[1]):
            h = _mix(h, words[:, col])
    return h.view(np.int64), valid


def view_seed(view: LshView, seed: int = 7) -> int:
    """The seed of ``view``'s MinHash permutations: each view draws its own.

    With one seed for all, views over filters of the same width drew the same permutations;
    the three views over the name filter (``name_year``, ``name``, ``name_grid``) only
    grouped the same MinHash values differently into bands, so a pair that missed in one
    tended to miss in all. FEBRL4 under 48 linkage secrets lost a true pair to blocking under
    3 of them with one seed, under none with a seed per view (docs/benchmarks.md).
    """
    return seed ^ _seed(f"minhash/{view.name}")


def band_keys(mx: RecordMatrix, view: LshView, seed: int = 7) -> list[tuple[np.ndarray, np.ndarray]]:
    """One (keys, valid) pair per band of ``view``."""
    sig, has = minhash(mx, view.fields, view.bands * view.rows, view_seed(view, seed), view.union)
    if view.exact:
        exact_key, exact_valid = filter_key(mx, view.exact)
        has = has & exact_valid
    out = []
    for band in range(view.bands):
        h = np.full(mx.n, np.uint64(zlib.crc32(f"{view.name}/{band}".encode())), np.uint64)
        for r in range(view.rows):
            h = _mix(h, sig[:, band * view.rows + r])
        if view.with_birth_year:
            h = _mix(h, mx.birth_year)
        if view.with_sex:
            h = _mix(h, mx.sex)
        if view.exact:
            h = _mix(h, exact_key.view(np.uint64))
        if view.with_jurisdiction:
            h = _mix(h, mx.jurisdiction.view(np.uint64))
            valid = has & (mx.jurisdiction != 0)
            out.append((h.view(np.int64), valid))
            continue
        out.append((h.view(np.int64), has))
    return out


_M64 = (1 << 64) - 1


def _mix_int(h: int, v: int) -> int:
    """:func:`_mix` on Python integers (one record): the same 64-bit result."""
    x = ((h ^ (v & _M64)) * 0x9E3779B97F4A7C15) & _M64
    x ^= x >> 31
    x = (x * 0xBF58476D1CE4E5B9) & _M64
    return x ^ (x >> 29)


def _signed(h: int) -> int:
    """A 64-bit pattern as the int64 the vectorised keys hold."""
    return h - (1 << 64) if h >> 63 else h


@functools.cache
def _seed(label: str) -> int:
    return zlib.crc32(label.encode())


def record_keys(mx: RecordMatrix, row: int = 0, seed: int = 7) -> list[int | None]:
    """Every block key of one record, in the order of the matcher's tables: exact tokens
    (:data:`PERSON_TOKENS`), identical filters (:data:`FILTER_KEYS`), then each band of
    each view (:data:`VIEWS`); ``None`` where the record has no key.

    The same values as :func:`filter_key` and :func:`band_keys` on the whole matrix, computed
    with Python integers: a single lookup would otherwise pay numpy's per-call overhead
    about 200 times (5 ms of a 5.5 ms lookup on 200,000 records).
    """
    out: list[int | None] = [int(mx.tokens[kind][row]) or None for kind in PERSON_TOKENS]
    filters: dict[tuple[str, ...], int | None] = {}

    def filter_of(fields: tuple[str, ...]) -> int | None:
        if fields not in filters:
            h: int | None = _seed("/".join(fields))
            for name in fields:
                if not mx.present[name][row]:
                    h = None
                    break
                for word in mx.words(name)[row].tolist():
                    h = _mix_int(h, word)
            filters[fields] = h
        return filters[fields]

    for fields in FILTER_KEYS:
        h = filter_of(fields)
        out.append(None if h is None else _signed(h))
    bits_per_field = mx.bloom_bytes * 8
    for view in VIEWS:
        union = view.union
        if union:
            bits = np.unpackbits(np.bitwise_or.reduce([mx.blooms[f][row] for f in view.fields]))
        else:
            bits = np.concatenate([np.unpackbits(mx.blooms[f][row]) for f in view.fields])
        cols = np.flatnonzero(bits)
        exact = filter_of(view.exact) if view.exact else 0
        usable = len(cols) > 0 and exact is not None
        if view.with_jurisdiction and not mx.jurisdiction[row]:
            usable = False
        if not usable:
            out.extend([None] * view.bands)
            continue
        count = view.bands * view.rows
        ranks = _permutation_ranks(bits_per_field * (1 if union else len(view.fields)), count, view_seed(view, seed))
        sig = ranks[:, cols].min(axis=1).tolist()
        for band in range(view.bands):
            h = _seed(f"{view.name}/{band}")
            for r in range(view.rows):
                h = _mix_int(h, sig[band * view.rows + r])
            if view.with_birth_year:
                h = _mix_int(h, int(mx.birth_year[row]))
            if view.with_sex:
                h = _mix_int(h, int(mx.sex[row]))
            if view.exact:
                h = _mix_int(h, exact)  # type: ignore[arg-type]
            if view.with_jurisdiction:
                h = _mix_int(h, int(mx.jurisdiction[row]))
            out.append(_signed(h))
    return out


def pairs_from_keys(keys: np.ndarray, valid: np.ndarray, max_block: int = MAX_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i < j) of rows sharing a key, skipping rows in blocks larger than ``max_block``.

    Generated in O(pairs) with ``repeat``/``cumsum`` arithmetic, no Python loop.
    """
    idx = np.flatnonzero(valid)
    empty = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(idx) < 2:
        return empty
    order = idx[np.argsort(keys[idx], kind="stable")]
    sk = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], sk[1:] != sk[:-1])))
    sizes = np.diff(np.append(starts, len(sk)))
    ok = (sizes >= 2) & (sizes <= max_block)
    if not ok.any():
        return empty
    starts, sizes = starts[ok], sizes[ok]
    # For each member at offset k of a block of size s: partners at offsets k+1..s-1.
    member_pos = np.repeat(starts, sizes) + _ranges(sizes)
    partners = np.repeat(sizes, sizes) - _ranges(sizes) - 1
    left = np.repeat(member_pos, partners)
    right = left + 1 + _ranges(partners)
    a, b = order[left], order[right]
    return np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)


def _ranges(lengths: np.ndarray) -> np.ndarray:
    """Concatenation of arange(n) for each n in ``lengths``."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths)
    out = np.arange(total, dtype=np.int64)
    return out - np.repeat(ends - lengths, lengths)


def candidate_pairs(
    mx: RecordMatrix, views: tuple[LshView, ...] = VIEWS, max_block: int = MAX_BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct candidate pairs (i < j, int32 when it fits) from exact tokens and every LSH view.

    Pairs are deduplicated after each view (as 64-bit codes ``i * n + j``) so memory
    stays near the size of the final candidate set rather than the sum over views.
    """
    n = mx.n
    codes = np.zeros(0, np.int64)

    def add(parts: Iterator[tuple[np.ndarray, np.ndarray]]) -> None:
        # One block key (band) at a time: its pairs become deduplicated codes before the
        # next band's pairs exist; then the view's codes merge into the running set.
        nonlocal codes
        fresh = [unique(i * n + j, in_place=True) for i, j in parts if len(i)]
        if fresh:
            merged = np.concatenate([codes, *fresh])
            fresh.clear()
            codes = np.zeros(0, np.int64)
            codes = unique(merged, in_place=True, runs=True)  # each part is ascending already

    exact = [(mx.tokens[kind], mx.tokens[kind] != 0) for kind in PERSON_TOKENS]
    exact += [filter_key(mx, fields) for fields in FILTER_KEYS]
    add(pairs_from_keys(keys, valid, max_block) for keys, valid in exact)
    for view in views:
        limit = max_block if view.max_block is None else min(view.max_block, max_block)
        add(pairs_from_keys(keys, valid, limit) for keys, valid in band_keys(mx, view))
    index_type = np.int32 if n < 2**31 else np.int64
    i = (codes // n).astype(index_type)
    codes %= n
    return i, codes.astype(index_type)
