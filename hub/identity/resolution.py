"""One resolution run over a :class:`RecordMatrix`: block, score, fit, cluster.

The pipeline is pure computation (numpy/scipy), independent of storage, so the
same code serves the index (``hub.identity.index``), the ``pingan identity link``
command and the benches; a distributed engine (Spark, DuckDB) would replace
``candidate_pairs`` and ``compare`` without touching the model or clustering.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from hub.identity.address_frequency import address_frequency
from hub.identity.blocking import candidate_pairs
from hub.identity.clustering import MATCH_THRESHOLD, cluster
from hub.identity.comparison import (
    ADDRESS_LEVELS,
    FEATURES,
    PAIR_CHUNK,
    address_column,
    bloom_counts,
    compare,
)
from hub.identity.fellegi_sunter import FellegiSunterModel, estimate_u, fit
from hub.identity.records import RecordMatrix

RANDOM_PAIRS = 200_000
# Random pairs whose address alone is compared: u of the rare "similar address, alike numbers"
# level, from which EM's expected matches are removed (a difference of two small frequencies,
# so it needs a sample ten times larger than the other features' u; two Dice values per pair).
ADDRESS_RANDOM_PAIRS = 2_000_000


@dataclass(frozen=True, slots=True)
class Resolution:
    """Outcome of one run: a cluster label per record, the scored pairs and the fitted model."""

    labels: np.ndarray
    pair_i: np.ndarray
    pair_j: np.ndarray
    probability: np.ndarray
    model: FellegiSunterModel
    candidates: int


def random_pairs(n: int, count: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Random distinct pairs for estimating u (almost all of them non-matches); every pair when few."""
    if n * (n - 1) // 2 <= count:
        i, j = np.triu_indices(n, k=1)
        return i.astype(np.int64), j.astype(np.int64)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, count)
    j = rng.integers(0, n, count)
    keep = i != j
    return i[keep], j[keep]


def known_status(mx: RecordMatrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Per pair: 1 same valid ID number, 0 two different valid ID numbers, -1 unknown (GB 11643)."""
    tokens = mx.tokens["id_number"]
    status = np.full(len(i), -1, np.int8)
    for s in range(0, len(i), PAIR_CHUNK):  # bounded temporaries over tens of millions of pairs
        a, b = tokens[i[s : s + PAIR_CHUNK]], tokens[j[s : s + PAIR_CHUNK]]
        both = (a != 0) & (b != 0)
        status[s : s + PAIR_CHUNK][both] = (a[both] == b[both]).astype(np.int8)
    return status


def fit_model(
    mx: RecordMatrix, gamma: np.ndarray, counts: dict[str, np.ndarray], known: np.ndarray | None = None
) -> FellegiSunterModel:
    """u from random pairs, m and the prior by EM over the candidates' vectors.

    EM's prior is the match rate among *candidates*; since u describes random pairs,
    the posterior must use the match rate among *all* pairs (as Splink does), so the
    expected number of matches is spread over n(n-1)/2 pairs. Otherwise a pair that
    agrees on one field only (a shared birth date) would look like a match. ``known``
    fixes the status of pairs decided by valid ID numbers during EM (:func:`known_status`).
    u of a close or identical address comes from the exact residence-token counts, per
    frequency class (``hub.identity.address_frequency``), not from the random pairs alone.
    """
    ri, rj = random_pairs(mx.n, min(RANDOM_PAIRS, max(mx.n * 20, 1000)))
    u = estimate_u(compare(mx, ri, rj, counts))
    ai, aj = random_pairs(mx.n, ADDRESS_RANDOM_PAIRS, seed=13)
    levels = address_column(mx, ai, aj, counts)
    levels = levels[levels >= 0]
    frequency = dataclasses.replace(
        address_frequency(mx.tokens["residence"], mx.present["residence_address"]),
        sampled_levels=tuple(float(c) for c in np.bincount(levels, minlength=ADDRESS_LEVELS)),
        sampled_pairs=float(len(levels)),
    )
    model = fit(gamma, u, known=known, frequency=frequency)
    all_pairs = mx.n * (mx.n - 1) / 2
    global_prior = float(np.clip(model.prior * len(gamma) / max(all_pairs, 1.0), 1e-12, 0.5))
    return dataclasses.replace(model, prior=global_prior)


def resolve(mx: RecordMatrix, model: FellegiSunterModel | None = None, threshold: float = MATCH_THRESHOLD) -> Resolution:
    """Resolve every record of ``mx`` into clusters; fits a model unless one is given."""
    if mx.n < 2:
        empty = np.zeros(0, np.int64)
        width = len(FEATURES)
        fitted = model or fit(np.zeros((0, width), np.int8), estimate_u(np.zeros((0, width), np.int8)))
        return Resolution(np.arange(mx.n, dtype=np.int64), empty, empty, np.zeros(0), fitted, 0)
    counts = bloom_counts(mx)
    i, j = candidate_pairs(mx)
    gamma = compare(mx, i, j, counts)
    if model is None:
        model = fit_model(mx, gamma, counts, known_status(mx, i, j))
    p = model.match_probability(gamma)
    labels = cluster(mx.n, i, j, p, mx.tokens["id_number"], threshold)
    return Resolution(labels, i, j, p, model, len(i))
