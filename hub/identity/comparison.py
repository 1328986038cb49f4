"""Comparison vectors of candidate pairs: discrete agreement levels per field.

Fuzzy fields are compared by the Dice coefficient of their Bloom filters
(2|A AND B| / (|A| + |B|), Schnell et al. 2009), which approximates the q-gram
Dice similarity of the hidden values; it is cut into levels so the
Fellegi-Sunter model can learn a likelihood per level. Level -1 means "one side
missing" and carries no evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.identity.records import RecordMatrix

# Dice cut points: levels 0 (<0.5), 1 (<0.7), 2 (<0.85), 3 (<1.0), 4 (identical filters).
DICE_CUTS = (0.5, 0.7, 0.85, 1.0)


@dataclass(frozen=True, slots=True)
class Feature:
    """One column of the comparison vector."""

    name: str
    levels: int


FEATURES: tuple[Feature, ...] = (
    Feature("name", 5),
    Feature("birth_date", 5),
    Feature("id_number", 5),
    Feature("other_id", 5),
    Feature("residence_address", 5),
    Feature("phone", 2),
    Feature("sex", 2),
    Feature("jurisdiction", 2),
)
_DICE_FIELDS = ("name", "birth_date", "id_number", "other_id", "residence_address")
_TOKEN_FIELDS = ("phone",)
CHUNK = 500_000


def popcount_rows(words: np.ndarray) -> np.ndarray:
    """Set bits per row of a (n, w) uint64 matrix."""
    return np.bitwise_count(words).sum(axis=1, dtype=np.int32)


def dice(mx: RecordMatrix, name: str, i: np.ndarray, j: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Dice coefficient of field ``name`` for pairs (i, j); NaN where either side is missing."""
    words = mx.words(name)
    if counts is None:
        counts = popcount_rows(words)
    out = np.empty(len(i), np.float32)
    for s in range(0, len(i), CHUNK):
        a, b = i[s : s + CHUNK], j[s : s + CHUNK]
        inter = np.bitwise_count(words[a] & words[b]).sum(axis=1, dtype=np.int32)
        denom = counts[a] + counts[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s : s + CHUNK] = np.where(denom > 0, 2.0 * inter / np.maximum(denom, 1), np.nan)
    present = mx.present[name]
    out[~(present[i] & present[j])] = np.nan
    return out


def dice_levels(values: np.ndarray) -> np.ndarray:
    """Dice values to levels 0..4, -1 for missing."""
    levels = np.searchsorted(np.asarray(DICE_CUTS, np.float32), values, side="right").astype(np.int8)
    levels[values >= 0.9999] = 4
    levels[np.isnan(values)] = -1
    return levels


def compare(mx: RecordMatrix, i: np.ndarray, j: np.ndarray, counts: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The (pairs, len(FEATURES)) int8 matrix of agreement levels."""
    gamma = np.empty((len(i), len(FEATURES)), np.int8)
    col = 0
    for name in _DICE_FIELDS:
        gamma[:, col] = dice_levels(dice(mx, name, i, j, None if counts is None else counts[name]))
        col += 1
    for kind in _TOKEN_FIELDS:
        a, b = mx.tokens[kind][i], mx.tokens[kind][j]
        level = (a == b).astype(np.int8)
        level[(a == 0) | (b == 0)] = -1
        gamma[:, col] = level
        col += 1
    for column in (mx.sex, mx.jurisdiction):
        a, b = column[i], column[j]
        level = (a == b).astype(np.int8)
        level[(a == 0) | (b == 0)] = -1
        gamma[:, col] = level
        col += 1
    return gamma


def bloom_counts(mx: RecordMatrix) -> dict[str, np.ndarray]:
    """Popcounts of every Bloom column, computed once per matrix."""
    return {name: popcount_rows(mx.words(name)) for name in _DICE_FIELDS}
