"""The Fellegi-Sunter model (Fellegi and Sunter 1969) with parameters estimated from the data.

u (the chance of each agreement level among non-matches) is estimated from
random record pairs, which are almost all non-matches (the approach of Splink);
m (the chance among matches) and the match proportion lambda are estimated by
expectation-maximisation over the candidate pairs (Winkler 1988; Jaro 1989),
assuming conditional independence of the comparison fields. Nothing is tuned
per dataset: the same starting values and the same 0.5 posterior threshold are
used everywhere.

Pairs whose status is known without the model - two different valid ID numbers
(GB 11643: never one person) or the same one - enter EM with that status fixed
(semi-supervised EM, Nigam et al. 2000; Winkler 2000), and when at least
:data:`MIN_KNOWN_MATCHES` candidate pairs share a valid ID number, m of every
feature except ``id_number`` (which selected them) is read off those pairs
rather than re-estimated. Without it, data where relatives share a surname and
an address (households) can pull EM towards a "same household" class instead
of "same person".

The u of an identical address is counted, not only sampled, per frequency
class of the address (``hub.identity.address_frequency``): all pairs sharing a
residence token are known, and EM's expected matches among them are removed at
every iteration; a close address of the same class takes that u times the
close/identical ratio of the random pairs. For addresses held by more than two
records the sampled u stays the floor (:func:`frequency_u`). A similar address
whose numbers are alike too (the "alike" level) of the rarest class takes u from a
large random sample with EM's expected matches over all pairs removed at every
iteration (``AddressFrequency.u_alike``): at that level most random pairs are
matches, so the plain sample overstates u.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hub.identity.address_frequency import AddressFrequency
from hub.identity.comparison import (
    ADDRESS_ALIKE,
    ADDRESS_CLOSE,
    ADDRESS_IDENTICAL,
    ADDRESS_LEVELS,
    ADDRESS_STRIDE,
    FEATURES,
    Feature,
)
from hub.identity.uniques import unique_counts

SMOOTHING = 1e-4
# Weak Dirichlet priors (MAP-EM): they only matter when there are few pairs (a department
# with a handful of records); with real volumes the data dominate. Index: agreement level.
# The address feature has 7 base levels (before its frequency classes): key 7.
_PRIOR_M = {
    7: (0.02, 0.02, 0.03, 0.02, 0.03, 0.15, 0.73),
    5: (0.02, 0.03, 0.05, 0.15, 0.75),
    2: (0.05, 0.95),
}
_PRIOR_U = {
    7: (0.9, 0.05, 0.03, 0.01, 0.005, 0.004, 0.001),
    5: (0.9, 0.08, 0.015, 0.004, 0.001),
    2: (0.999, 0.001),
}
PRIOR_M_PAIRS = 20.0
PRIOR_U_PAIRS = 200.0
# Rows of a comparison matrix scored at once (bounds float64 temporaries).
PAIR_CHUNK = 4_000_000
# With at least this many candidate pairs sharing a valid ID number, m is read off them.
MIN_KNOWN_MATCHES = 50


@dataclass(frozen=True, slots=True)
class FellegiSunterModel:
    """Fitted m and u probabilities per feature level, and the prior match proportion."""

    features: tuple[Feature, ...]
    m: tuple[tuple[float, ...], ...]
    u: tuple[tuple[float, ...], ...]
    prior: float
    iterations: int = 0

    def log_bayes_factor(self, gamma: np.ndarray) -> np.ndarray:
        """Sum over present features of log(m/u) (natural log), per pair."""
        total = np.zeros(len(gamma), np.float64)
        for col, (m, u) in enumerate(zip(self.m, self.u, strict=True)):
            # Index a table whose last entry (level -1, missing) contributes nothing.
            weights = np.append(np.log(np.asarray(m)) - np.log(np.asarray(u)), 0.0)
            total += weights[gamma[:, col]]
        return total

    def match_probability(self, gamma: np.ndarray) -> np.ndarray:
        """Posterior probability that each pair is a match.

        Evaluated :data:`PAIR_CHUNK` rows at a time: the float64 temporaries over 90
        million candidate pairs would otherwise cost several GB.
        """
        bias = np.log(self.prior) - np.log1p(-self.prior)
        out = np.empty(len(gamma), np.float32)
        for s in range(0, len(gamma), PAIR_CHUNK):
            logit = self.log_bayes_factor(gamma[s : s + PAIR_CHUNK]) + bias
            out[s : s + PAIR_CHUNK] = 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "features": [[f.name, f.levels] for f in self.features],
            "m": [list(x) for x in self.m],
            "u": [list(x) for x in self.u],
            "prior": self.prior,
            "iterations": self.iterations,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> FellegiSunterModel:
        feats = tuple(Feature(str(n), int(lv)) for n, lv in data["features"])  # type: ignore[union-attr]
        return cls(
            feats,
            tuple(tuple(float(v) for v in row) for row in data["m"]),  # type: ignore[union-attr]
            tuple(tuple(float(v) for v in row) for row in data["u"]),  # type: ignore[union-attr]
            float(data["prior"]),  # type: ignore[arg-type]
            int(data.get("iterations", 0)),  # type: ignore[union-attr]
        )


def _address_prior(base: tuple[float, ...]) -> np.ndarray:
    """The 7-level address prior with alike, close and identical spread evenly over the frequency classes."""
    classes = (ADDRESS_LEVELS - ADDRESS_ALIKE) // ADDRESS_STRIDE
    out = np.empty(ADDRESS_LEVELS, np.float64)
    out[:ADDRESS_ALIKE] = base[:ADDRESS_ALIKE]
    for level in (ADDRESS_ALIKE, ADDRESS_CLOSE, ADDRESS_IDENTICAL):
        out[level::ADDRESS_STRIDE] = base[level] / classes
    return out


def _prior(table: dict[int, tuple[float, ...]], feat: Feature) -> np.ndarray:
    if feat.name == "address" and feat.levels == ADDRESS_LEVELS:
        return _address_prior(table[7])
    if feat.name == "sex":  # sex agrees for matches, is a coin toss for non-matches
        return np.array((0.02, 0.98) if table is _PRIOR_M else (0.5, 0.5))
    if feat.name == "jurisdiction":  # people move; weak prior either way
        return np.array((0.3, 0.7) if table is _PRIOR_M else (0.9, 0.1))
    return np.asarray(table.get(feat.levels, np.full(feat.levels, 1.0 / feat.levels)), np.float64)


def _frequencies(
    gamma: np.ndarray,
    weights: np.ndarray,
    features: Sequence[Feature],
    prior: dict[int, tuple[float, ...]],
    prior_pairs: float,
) -> tuple[tuple[float, ...], ...]:
    rows = []
    for col, feat in enumerate(features):
        levels = gamma[:, col]
        present = levels >= 0
        counts = np.bincount(levels[present], weights=weights[present], minlength=feat.levels)[: feat.levels]
        counts = counts + prior_pairs * _prior(prior, feat)
        counts = counts + SMOOTHING * max(float(weights[present].sum()), 1.0)
        rows.append(tuple(float(c) for c in counts / counts.sum()))
    return tuple(rows)


def _initial_m(features: Sequence[Feature]) -> tuple[tuple[float, ...], ...]:
    """Start EM from the prior: matches agree, mostly on the top level."""
    return tuple(tuple(float(v) for v in _prior(_PRIOR_M, feat)) for feat in features)


def estimate_u(gamma_random: np.ndarray, features: Sequence[Feature] = FEATURES) -> tuple[tuple[float, ...], ...]:
    """u probabilities from comparison vectors of random pairs."""
    return _frequencies(gamma_random, np.ones(len(gamma_random)), features, _PRIOR_U, PRIOR_U_PAIRS)


def distinct_patterns(gamma: np.ndarray, extra: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct comparison vectors and their counts (rows packed into one integer, then sorted).

    ``extra`` (one int8 per row, -1..15) is packed as one more, last column; the packing
    is done in place on one int64 array (no per-column temporaries over tens of
    millions of pairs).
    """
    base = np.int64(17)  # levels -1..15 shifted to 0..16 (ten columns: 41 bits)
    columns = [gamma[:, col] for col in range(gamma.shape[1])] + ([] if extra is None else [extra])
    code = np.zeros(len(gamma), np.int64)
    for column in columns:
        code *= base
        np.add(code, column, out=code, casting="unsafe")
        code += 1
    codes, counts = unique_counts(code, in_place=True)
    patterns = np.empty((len(codes), len(columns)), np.int8)
    rest = codes.copy()
    for col in range(len(columns) - 1, -1, -1):
        patterns[:, col] = (rest % base) - 1
        rest //= base
    return patterns, counts


def _supervised(
    em: tuple[tuple[float, ...], ...], known: tuple[tuple[float, ...], ...], features: Sequence[Feature]
) -> tuple[tuple[float, ...], ...]:
    """m from the known matches for every feature but the one that selected them (id_number)."""
    return tuple(e if f.name == "id_number" else k for e, k, f in zip(em, known, features, strict=True))


def frequency_u(
    sampled: tuple[float, ...], frequency: AddressFrequency, expected: np.ndarray, matches_present: float
) -> tuple[float, ...]:
    """u of the address levels: counted for the rarest addresses, scaled or sampled for the rest.

    ``sampled``: u of every address level from random pairs; ``expected``: EM's expected
    matches among the candidate pairs at every address level; ``matches_present``: those
    among all candidates with an address on both sides. Identical addresses: counted per
    class (matches removed); close: that u times the close/identical ratio of the random
    pairs; alike (similar, with alike numbers), first class: the frequency of a large random
    sample with EM's expected matches removed (:meth:`AddressFrequency.u_alike`), when
    there is such a sample. For addresses more than two records hold (classes 1..), u is
    never below the sampled value: there the counted u is lower too, but relatives share
    surname *and* address, so under conditional independence the lower u merged them
    (200,000-record scale population: 573 wrong pairs instead of 16; docs/benchmarks.md).
    """
    expected = np.asarray(expected, np.float64)
    out = np.asarray(sampled, np.float64).copy()
    step = ADDRESS_STRIDE
    identical = frequency.u_identical(expected[ADDRESS_IDENTICAL::step], matches_present)
    ratio = out[ADDRESS_CLOSE::step].sum() / max(out[ADDRESS_IDENTICAL::step].sum(), 1e-300)
    close = identical * ratio
    identical[1:] = np.maximum(identical[1:], out[ADDRESS_IDENTICAL + step :: step])
    close[1:] = np.maximum(close[1:], out[ADDRESS_CLOSE + step :: step])
    out[ADDRESS_IDENTICAL::step] = identical
    out[ADDRESS_CLOSE::step] = close
    alike = frequency.u_alike(ADDRESS_ALIKE, float(expected[ADDRESS_ALIKE]))
    if alike is not None:
        out[ADDRESS_ALIKE] = alike
    rest = max(1.0 - float(out[ADDRESS_ALIKE:].sum()), 1e-9)
    out[:ADDRESS_ALIKE] *= rest / out[:ADDRESS_ALIKE].sum()
    return tuple(float(v) for v in out)


def fit(
    gamma: np.ndarray,
    u: tuple[tuple[float, ...], ...],
    features: Sequence[Feature] = FEATURES,
    max_iterations: int = 50,
    tolerance: float = 1e-5,
    known: np.ndarray | None = None,
    frequency: AddressFrequency | None = None,
) -> FellegiSunterModel:
    """EM estimate of m and the prior over candidate pairs' comparison vectors, u fixed from random pairs.

    ``known`` (optional, per pair): 1 a known match, 0 a known non-match, -1 unknown.
    ``frequency`` (optional): exact residence-token counts; with it, u of the address's
    close and identical levels is re-estimated at every iteration (:func:`frequency_u`).
    """
    model = FellegiSunterModel(tuple(features), _initial_m(features), u, 0.1)
    if len(gamma) == 0:
        return model
    # Identical vectors share a posterior: run EM over the distinct patterns with counts
    # (the known status is one more column of the pattern).
    status = np.full(len(gamma), -1, np.int8) if known is None else known.astype(np.int8)
    patterns, counts = distinct_patterns(gamma, status)
    patterns, fixed = patterns[:, :-1], patterns[:, -1]
    counts = counts.astype(np.float64)
    supervised: tuple[tuple[float, ...], ...] | None = None
    if float(counts[fixed == 1].sum()) >= MIN_KNOWN_MATCHES:
        supervised = _frequencies(patterns, counts * (fixed == 1), features, _PRIOR_M, PRIOR_M_PAIRS)
        model = FellegiSunterModel(tuple(features), _supervised(model.m, supervised, features), u, 0.1)
    names = [f.name for f in features]
    address = names.index("address") if frequency is not None and "address" in names else -1
    if address >= 0 and features[address].levels != ADDRESS_LEVELS:
        address = -1
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        p = model.match_probability(patterns)
        p = np.where(fixed == 1, 1.0, np.where(fixed == 0, 0.0, p))
        weight = p * counts
        prior = float(np.clip(weight.sum() / counts.sum(), 1e-6, 1 - 1e-6))
        m = _frequencies(patterns, weight, features, _PRIOR_M, PRIOR_M_PAIRS)
        if supervised is not None:
            m = _supervised(m, supervised, features)
        if address >= 0:
            assert frequency is not None
            levels = patterns[:, address]
            per_level = np.bincount(levels[levels >= 0], weights=weight[levels >= 0], minlength=ADDRESS_LEVELS)
            address_u = frequency_u(u[address], frequency, per_level, float(weight[levels >= 0].sum()))
            model_u = tuple(address_u if col == address else row for col, row in enumerate(u))
        else:
            model_u = u
        delta = max(abs(a - b) for row_a, row_b in zip(m, model.m) for a, b in zip(row_a, row_b))
        delta = max(delta, abs(prior - model.prior))
        model = FellegiSunterModel(tuple(features), m, model_u, prior, iterations)
        if delta < tolerance:
            break
    return model
