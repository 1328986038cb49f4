"""Matching one encoding against a resolved index (Tokenize lookups, new records).

Holds, for the indexed records, the exact-token columns and every LSH band key
sorted once (numpy ``searchsorted`` per query instead of per-record Python
dicts), plus the fitted Fellegi-Sunter model; a query is blocked with the same
views as the batch run and its candidates scored with the same model, so a
lookup and a batch resolution agree. The residence-token holder counts (address
frequency classes) are those of the index, the query counting as one more holder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.identity.address_frequency import holders
from hub.identity.blocking import FILTER_KEYS, PERSON_TOKENS, VIEWS, band_keys, filter_key, record_keys
from hub.identity.comparison import HOLDERS, bloom_counts, compare
from hub.identity.fellegi_sunter import FellegiSunterModel
from hub.identity.records import RecordMatrix

LOOKUP_ONLY_TOKENS = ("landline",)


@dataclass(frozen=True, slots=True)
class Match:
    """A candidate person for a query, with the best pair probability."""

    label: int
    probability: float


def _stack(a: RecordMatrix, b: RecordMatrix) -> RecordMatrix:
    """Rows of ``a`` then ``b`` (``b`` is the one-row query)."""
    out = RecordMatrix(bloom_bytes=a.bloom_bytes)
    for f in a.blooms:
        out.blooms[f] = np.concatenate([a.blooms[f], b.blooms[f]])
        out.present[f] = np.concatenate([a.present[f], b.present[f]])
    for k in a.tokens:
        out.tokens[k] = np.concatenate([a.tokens[k], b.tokens[k]])
    out.sex = np.concatenate([a.sex, b.sex])
    out.birth_year = np.concatenate([a.birth_year, b.birth_year])
    out.residence_mismatch = np.concatenate([a.residence_mismatch, b.residence_mismatch])
    out.jurisdiction = np.concatenate([a.jurisdiction, b.jurisdiction])
    return out


class Matcher:
    """Blocks and scores single queries against ``mx`` whose rows carry cluster ``labels``."""

    def __init__(self, mx: RecordMatrix, labels: np.ndarray, model: FellegiSunterModel, threshold: float = 0.5) -> None:
        self._mx = mx
        self._labels = labels
        self._model = model
        self._threshold = threshold
        self._holders = holders(mx.tokens["residence"])
        self._residence = np.sort(mx.tokens["residence"][mx.tokens["residence"] != 0])
        self._tables: list[tuple[np.ndarray, np.ndarray]] = []
        self._caps: list[int | None] = []  # a view's own block limit (LshView.max_block), else the cap
        for kind in PERSON_TOKENS:
            keys = mx.tokens[kind]
            self._tables.append(self._sorted(keys, keys != 0))
            self._caps.append(None)
        for fields in FILTER_KEYS:
            self._tables.append(self._sorted(*filter_key(mx, fields)))
            self._caps.append(None)
        for view in VIEWS:
            for keys, valid in band_keys(mx, view):
                self._tables.append(self._sorted(keys, valid))
                self._caps.append(view.max_block)
        # Looked up by value only, never a blocking key: a landline is a household's, and
        # blocking on it would pair whole families (asked by landline: hub.identity.index).
        self._lookup_only = {kind: self._sorted(mx.tokens[kind], mx.tokens[kind] != 0) for kind in LOOKUP_ONLY_TOKENS}

    @staticmethod
    def _sorted(keys: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.flatnonzero(valid)
        order = np.argsort(keys[rows], kind="stable")
        return keys[rows][order], rows[order]

    def candidates(self, q: RecordMatrix, cap: int = 500) -> np.ndarray:
        """Indexed rows sharing a block with the one-row query ``q``."""
        found: list[np.ndarray] = []
        for key, (sorted_keys, rows), limit in zip(record_keys(q), self._tables, self._caps, strict=True):
            if key is None:
                continue
            lo = np.searchsorted(sorted_keys, key, side="left")
            hi = np.searchsorted(sorted_keys, key, side="right")
            if 0 < hi - lo <= (cap if limit is None else min(cap, limit)):
                found.append(rows[lo:hi])
        if not found:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate(found))

    def _exact(self, kind: str, key: int) -> np.ndarray:
        """Indexed rows whose ``kind`` token equals ``key``."""
        if kind in self._lookup_only:
            sorted_keys, rows = self._lookup_only[kind]
        else:
            sorted_keys, rows = self._tables[PERSON_TOKENS.index(kind)]
        lo = np.searchsorted(sorted_keys, key, side="left")
        hi = np.searchsorted(sorted_keys, key, side="right")
        return rows[lo:hi]

    def _query_holders(self, q: RecordMatrix) -> int:
        """Records holding the query's residence token, the query included (0 without one)."""
        token = int(q.tokens["residence"][0])
        if not token:
            return 0
        lo = np.searchsorted(self._residence, token, side="left")
        hi = np.searchsorted(self._residence, token, side="right")
        return int(hi - lo) + 1

    def by_id_number(self, token: int) -> list[Match]:
        """The clusters holding a valid ID number's keyed token, at probability 1.0 (empty
        when no indexed record holds it): :meth:`match`'s first step, for a lookup that
        need not build a query matrix when the number is held."""
        return self.holders("id_number", token)

    def holders(self, kind: str, token: int) -> list[Match]:
        """The clusters whose records hold ``token`` of an exact key (one of
        ``PERSON_TOKENS`` or ``LOOKUP_ONLY_TOKENS``), each at probability 1.0; empty for no
        token (0) or no holder."""
        exact = self._exact(kind, token) if token else np.zeros(0, np.int64)
        return [Match(label, 1.0) for label in sorted(set(self._labels[exact].tolist()))]

    def match(self, q: RecordMatrix) -> list[Match]:
        """Clusters the query matches (probability >= threshold), best first.

        A query whose valid ID number (GB 11643 checksum passed; keyed token) is held by
        indexed records is answered by those records' clusters alone, at probability
        1.0: the same valid number is the same person, and no other cluster can hold
        it (two valid numbers never share a cluster). Blocking and scoring are skipped.
        """
        held = self.by_id_number(int(q.tokens["id_number"][0]))
        if held:
            return held
        rows = self.candidates(q)
        if len(rows) == 0:
            return []
        both = _stack(self._mx.__class__(  # the candidate rows, then the query
            bloom_bytes=self._mx.bloom_bytes,
            blooms={f: v[rows] for f, v in self._mx.blooms.items()},
            present={f: v[rows] for f, v in self._mx.present.items()},
            tokens={k: v[rows] for k, v in self._mx.tokens.items()},
            sex=self._mx.sex[rows],
            birth_year=self._mx.birth_year[rows],
            residence_mismatch=self._mx.residence_mismatch[rows],
            jurisdiction=self._mx.jurisdiction[rows],
        ), q)
        n = len(rows)
        counts = bloom_counts(both)
        counts[HOLDERS] = np.append(self._holders[rows], self._query_holders(q))
        gamma = compare(both, np.arange(n), np.full(n, n), counts)
        p = self._model.match_probability(gamma)
        # Two different valid ID numbers are never the same person; the same valid ID
        # number (GB 11643 checksum passed, keyed token equal) is the same person even
        # when every other field of the record is missing and the model alone would doubt it.
        qid = int(q.tokens["id_number"][0])
        if qid:
            other = self._mx.tokens["id_number"][rows]
            p[(other != 0) & (other != qid)] = 0.0
            p[other == qid] = 1.0
        best: dict[int, float] = {}
        for label, prob in zip(self._labels[rows].tolist(), p.tolist(), strict=True):
            if prob >= self._threshold and prob > best.get(label, -1.0):
                best[label] = prob
        return [Match(label, prob) for label, prob in sorted(best.items(), key=lambda t: (-t[1], t[0]))]
