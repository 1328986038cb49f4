"""Sort-based distinct values with counts for 1-D integer arrays.

``numpy.unique`` in numpy 2.3+ may take a hash-table path that is an order of
magnitude slower than sorting on tens of millions of int64 (measured in
bench/identity_scale.py), so the resolver sorts explicitly.
"""

from __future__ import annotations

import numpy as np


def unique_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (ascending) and how often each occurs."""
    if len(values) == 0:
        return values[:0], np.zeros(0, np.int64)
    s = np.sort(values, kind="stable")
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    counts = np.diff(np.append(starts, len(s)))
    return s[starts], counts


def unique(values: np.ndarray) -> np.ndarray:
    """Distinct values, ascending."""
    return unique_counts(values)[0]
