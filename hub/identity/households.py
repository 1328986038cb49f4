"""Households: persons sharing a household registration number or an actual residence.

Two persons are in one household when any of their records share the keyed
token of a household registration number (户号) or of a normalised actual
residence address; the grouping is the connected components of that relation.
Neither the number nor the address is known to the hub, only their HMAC tokens.
The migrant flag compares registered and actual residence Bloom filters across a
person's records (both fields use the same key, docs/linkage.md), or takes the
adapters' own per-record comparison when no cross-record pair exists.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from hub.identity.comparison import popcount_rows
from hub.identity.records import RecordMatrix

HOUSEHOLD_TOKENS = ("household", "residence")
SAME_ADDRESS_DICE = 0.8
MAX_HOUSEHOLD_SHARE = 30  # a token shared by more persons is an institution (dormitory, hospital), not a home


def household_labels(mx: RecordMatrix, person: np.ndarray) -> np.ndarray:
    """Household label per person index (``person`` maps record -> person index 0..P-1)."""
    persons = int(person.max()) + 1 if len(person) else 0
    src: list[np.ndarray] = []
    dst: list[np.ndarray] = []
    for kind in HOUSEHOLD_TOKENS:
        tok = mx.tokens[kind]
        has = tok != 0
        if not has.any():
            continue
        pairs = np.unique(np.stack([tok[has], person[has]], axis=1), axis=0)
        _keys, first, sizes = np.unique(pairs[:, 0], return_index=True, return_counts=True)
        ok = (sizes > 1) & (sizes <= MAX_HOUSEHOLD_SHARE)
        for f, s in zip(first[ok], sizes[ok], strict=True):
            members = pairs[f : f + s, 1]
            src.append(np.full(s - 1, members[0]))
            dst.append(members[1:])
    if not src:
        return np.arange(persons, dtype=np.int64)
    a, b = np.concatenate(src), np.concatenate(dst)
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(persons, persons))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def migrant_flags(mx: RecordMatrix, person: np.ndarray) -> np.ndarray:
    """True per person index when registered and actual residence differ."""
    persons = int(person.max()) + 1 if len(person) else 0
    same = np.zeros(persons, bool)
    decided = np.zeros(persons, bool)
    reg, res = mx.present["registered_address"], mx.present["residence_address"]
    reg_rows, res_rows = np.flatnonzero(reg), np.flatnonzero(res)
    if len(reg_rows) and len(res_rows):
        words_reg, words_res = mx.words("registered_address"), mx.words("residence_address")
        count_reg, count_res = popcount_rows(words_reg), popcount_rows(words_res)
        by_person: dict[int, list[int]] = {}
        for r in res_rows:
            by_person.setdefault(int(person[r]), []).append(int(r))
        for r in reg_rows:
            p = int(person[r])
            others = by_person.get(p)
            if not others:
                continue
            o = np.asarray(others)
            inter = np.bitwise_count(words_reg[r] & words_res[o]).sum(axis=1)
            best = float((2.0 * inter / np.maximum(count_reg[r] + count_res[o], 1)).max())
            same[p] = same[p] or best >= SAME_ADDRESS_DICE
            decided[p] = True
    fallback = np.zeros(persons, bool)
    np.logical_or.at(fallback, person, mx.residence_mismatch)
    return np.where(decided, ~same, fallback)
