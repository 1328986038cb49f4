"""Comparison vectors of candidate pairs: discrete agreement levels per field.

Fuzzy fields are compared by the Dice coefficient of their Bloom filters
(2|A AND B| / (|A| + |B|), Schnell et al. 2009), which approximates the q-gram
Dice similarity of the hidden values; it is cut into levels so the
Fellegi-Sunter model can learn a likelihood per level. Level -1 means "one side
missing" and carries no evidence.

Scheme ``pingan-link-v2``: surname and given name are compared on their own,
as Splink compares them; they share a key, so a pair is also compared
crosswise (surname against given name and vice versa) and takes the
orientation with the larger summed Dice: swapped parts agree as well as
unswapped ones. The residence is one feature whose levels combine the Dice of
the whole address with that of its numbers (house number, postcode), so
identical numbers lift a garbled address text without counting the address
twice; a similar address whose numbers are alike too (house number, postcode
one typo apart) is a level of its own ("alike"). Its three top levels (alike,
close, identical) are split by how many records hold the address (frequency
classes, ``hub.identity.address_frequency``): a shared household address and an
address only the pair holds are learnt apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.identity.address_frequency import CLASSES, holders, share_class
from hub.identity.records import RecordMatrix

# Dice cut points: levels 0 (<0.5), 1 (<0.7), 2 (<0.85), 3 (<1.0), 4 (identical filters).
DICE_CUTS = (0.5, 0.7, 0.85, 1.0)


@dataclass(frozen=True, slots=True)
class Feature:
    """One column of the comparison vector."""

    name: str
    levels: int


# Scheme v2: the name is compared by its parts (surname, given name; crosswise), not as a
# whole, and the residence by one feature combining the whole address and its numbers.
# The whole-name filter still serves blocking. One feature per concept for the address
# matters: whole address and numbers compared as two features count the same evidence
# twice, which on household data (relatives share an address) made EM learn "same
# household" as the match class.
# Address levels: 0..3 as address_levels(); alike (4), close (5) and identical (6) once per
# frequency class: in class k alike is level 4 + 3k, close 5 + 3k, identical 6 + 3k.
ADDRESS_SIMILAR, ADDRESS_ALIKE, ADDRESS_CLOSE, ADDRESS_IDENTICAL = 3, 4, 5, 6
ADDRESS_STRIDE = 3  # levels per frequency class (alike, close, identical)
ADDRESS_LEVELS = ADDRESS_ALIKE + ADDRESS_STRIDE * CLASSES
FEATURES: tuple[Feature, ...] = (
    Feature("birth_date", 5),
    Feature("id_number", 5),
    Feature("other_id", 5),
    Feature("address", ADDRESS_LEVELS),
    Feature("surname", 5),
    Feature("given_name", 5),
    Feature("phone", 2),
    Feature("sex", 2),
    Feature("jurisdiction", 2),
)
_DICE_FIELDS = ("birth_date", "id_number", "other_id")
NAME_PARTS = ("surname", "given_name")
_TOKEN_FIELDS = ("phone",)
CHUNK = 500_000
HOLDERS = "residence_holders"  # key of the per-record residence-token holder counts in ``counts``
PAIR_CHUNK = 4_000_000  # pairs compared at once (bounds the float temporaries of compare)


def popcount_rows(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a (n, w) uint64 matrix."""
    return np.bitwise_count(words).sum(axis=1, dtype=np.int32)


def dice(
    mx: RecordMatrix,
    name: str,
    i: np.ndarray,
    j: np.ndarray,
    counts: np.ndarray | None = None,
    other: str | None = None,
    other_counts: np.ndarray | None = None,
) -> np.ndarray:
    """Dice coefficient of field ``name`` of i with field ``other`` (default: the same) of j; NaN if missing.

    Comparing two different fields only makes sense when they share a key (surname, given name).
    """
    other = other or name
    words_a, words_b = mx.words(name), mx.words(other)
    if counts is None:
        counts = popcount_rows(words_a)
    if other_counts is None:
        other_counts = counts if other == name else popcount_rows(words_b)
    out = np.empty(len(i), np.float32)
    for s in range(0, len(i), CHUNK):
        a, b = i[s : s + CHUNK], j[s : s + CHUNK]
        inter = np.bitwise_count(words_a[a] & words_b[b]).sum(axis=1, dtype=np.int32)
        denom = counts[a] + other_counts[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s : s + CHUNK] = np.where(denom > 0, 2.0 * inter / np.maximum(denom, 1), np.nan)
    out[~(mx.present[name][i] & mx.present[other][j])] = np.nan
    return out


def name_part_dice(
    mx: RecordMatrix, i: np.ndarray, j: np.ndarray, counts: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(surname, given name) Dice per pair, straight or crosswise, whichever agrees more in sum."""
    sur, giv = NAME_PARTS
    c = counts or {f: popcount_rows(mx.words(f)) for f in NAME_PARTS}
    straight = dice(mx, sur, i, j, c[sur]), dice(mx, giv, i, j, c[giv])
    cross = dice(mx, sur, i, j, c[sur], giv, c[giv]), dice(mx, giv, i, j, c[giv], sur, c[sur])
    swap = np.nan_to_num(cross[0]) + np.nan_to_num(cross[1]) > np.nan_to_num(straight[0]) + np.nan_to_num(straight[1])
    return np.where(swap, cross[0], straight[0]), np.where(swap, cross[1], straight[1])


def dice_levels(values: np.ndarray) -> np.ndarray:
    """Dice values to levels 0..4, -1 for missing."""
    levels = np.searchsorted(np.asarray(DICE_CUTS, np.float32), values, side="right").astype(np.int8)
    levels[values >= 0.9999] = 4
    levels[np.isnan(values)] = -1
    return levels


def address_levels(whole: np.ndarray, numbers: np.ndarray) -> np.ndarray:
    """One address feature, levels 0..6 (-1 missing), from the whole-address and numbers Dice values.

    6 identical, 5 close (>= 0.85), 4 similar with alike numbers (>= 0.7 and numbers >= 0.5),
    3 similar (>= 0.7, or >= 0.5 with identical numbers), 2 some likeness (>= 0.5, or
    identical numbers), 1 similar numbers (>= 0.7), 0 different.
    """
    with np.errstate(invalid="ignore"):
        same_numbers = numbers >= 0.9999
        level = np.zeros(len(whole), np.int8)
        level[numbers >= 0.7] = 1
        level[(whole >= 0.5) | same_numbers] = 2
        level[(whole >= 0.7) | ((whole >= 0.5) & same_numbers)] = ADDRESS_SIMILAR
        level[(whole >= 0.7) & (numbers >= 0.5)] = ADDRESS_ALIKE
        level[whole >= 0.85] = ADDRESS_CLOSE
        level[whole >= 0.9999] = ADDRESS_IDENTICAL
    level[np.isnan(whole)] = -1
    return level


def frequency_levels(levels: np.ndarray, held: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Address levels (in place) with alike/close/identical split by frequency class (4/5/6 + 3k).

    ``held``: per record, how many records hold its residence token (:func:`holders`); only
    the pairs at a top level are looked up. For an alike or close pair the two tokens
    differ: the class is that of the more common one, so a mistyped copy of a household's
    address is classed with the household's.
    """
    top = np.flatnonzero(levels >= ADDRESS_ALIKE)
    if len(top):
        levels[top] += ADDRESS_STRIDE * share_class(held[i[top]], held[j[top]])
    return levels


def compare(mx: RecordMatrix, i: np.ndarray, j: np.ndarray, counts: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The (pairs, len(FEATURES)) int8 matrix of agreement levels.

    Computed :data:`PAIR_CHUNK` pairs at a time: each feature needs float32 Dice
    arrays per pair (six of them for the name parts, straight and crosswise), and
    over 90 million candidate pairs those temporaries, not the int8 result, set the
    peak memory of a million-record resolution.
    """
    if len(i) <= PAIR_CHUNK:
        return _compare(mx, i, j, counts)
    counts = counts if counts is not None else bloom_counts(mx)
    gamma = np.empty((len(i), len(FEATURES)), np.int8)
    for s in range(0, len(i), PAIR_CHUNK):
        gamma[s : s + PAIR_CHUNK] = _compare(mx, i[s : s + PAIR_CHUNK], j[s : s + PAIR_CHUNK], counts)
    return gamma


def _compare(mx: RecordMatrix, i: np.ndarray, j: np.ndarray, counts: dict[str, np.ndarray] | None) -> np.ndarray:

    def count(name: str) -> np.ndarray | None:
        return None if counts is None else counts[name]

    columns: dict[str, np.ndarray] = {name: dice_levels(dice(mx, name, i, j, count(name))) for name in _DICE_FIELDS}
    columns["address"] = address_column(mx, i, j, counts)
    for name, values in zip(NAME_PARTS, name_part_dice(mx, i, j, counts), strict=True):
        columns[name] = dice_levels(values)
    equal = {kind: mx.tokens[kind] for kind in _TOKEN_FIELDS} | {"sex": mx.sex, "jurisdiction": mx.jurisdiction}
    for name, column in equal.items():
        a, b = column[i], column[j]
        level = (a == b).astype(np.int8)
        level[(a == 0) | (b == 0)] = -1
        columns[name] = level
    gamma = np.empty((len(i), len(FEATURES)), np.int8)
    for col, feat in enumerate(FEATURES):
        gamma[:, col] = columns[feat.name]
    return gamma


def address_column(
    mx: RecordMatrix, i: np.ndarray, j: np.ndarray, counts: dict[str, np.ndarray] | None = None
) -> np.ndarray:
    """The address feature's levels (frequency classes included) of pairs (i, j)."""
    held = counts.get(HOLDERS) if counts is not None else None
    if held is None:
        held = holders(mx.tokens["residence"])
    count = (lambda name: None) if counts is None else counts.get
    return frequency_levels(
        address_levels(
            dice(mx, "residence_address", i, j, count("residence_address")),
            dice(mx, "address_numbers", i, j, count("address_numbers")),
        ),
        held,
        i,
        j,
    )


def bloom_counts(mx: RecordMatrix) -> dict[str, np.ndarray]:
    """Popcounts of every Bloom column and the residence-token holder counts, computed once per matrix."""
    fields = (*_DICE_FIELDS, *NAME_PARTS, "residence_address", "address_numbers")
    return {name: popcount_rows(mx.words(name)) for name in fields} | {HOLDERS: holders(mx.tokens["residence"])}
