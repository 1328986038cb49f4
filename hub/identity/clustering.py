"""Clustering scored pairs into persons, under the hard constraint of GB 11643 uniqueness.

Two records with different *valid* ID numbers (distinct ``id_number`` tokens;
adapters only emit the token for a number whose check digit verifies) are two
people, however similar the rest looks. Pairs above the match threshold are
joined by connected components (scipy.sparse.csgraph); any component that would
hold two different valid ID numbers is rebuilt greedily, strongest pair first,
refusing every join that would break the constraint (a constrained
single-linkage, as in Christen, *Data Matching* 2012, ch. 6).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

MATCH_THRESHOLD = 0.5


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _constrained(members: np.ndarray, i: np.ndarray, j: np.ndarray, p: np.ndarray, ids: np.ndarray) -> dict[int, int]:
    """Greedy union-find over one component; returns member -> root."""
    parent = {int(m): int(m) for m in members}
    idset = {int(m): ({int(ids[m])} if ids[m] else set()) for m in members}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for k in np.argsort(-p, kind="stable"):
        a, b = find(int(i[k])), find(int(j[k]))
        if a == b:
            continue
        if idset[a] and idset[b] and idset[a] != idset[b]:
            continue
        if len(idset[a]) < len(idset[b]) or (len(idset[a]) == len(idset[b]) and a > b):
            a, b = b, a
        parent[b] = a
        idset[a] |= idset[b]
    return {int(m): find(int(m)) for m in members}


def cluster(
    n: int,
    i: np.ndarray,
    j: np.ndarray,
    p: np.ndarray,
    id_tokens: np.ndarray,
    threshold: float = MATCH_THRESHOLD,
) -> np.ndarray:
    """Cluster label per record (labels are arbitrary integers; equal label = same person)."""
    keep = p >= threshold
    i, j, p = i[keep], j[keep], p[keep]
    labels = _components(n, i, j)
    # Components holding two different valid ID tokens need the constrained pass.
    has_id = id_tokens != 0
    if has_id.any():
        pairs = np.unique(np.stack([labels[has_id], id_tokens[has_id]], axis=1), axis=0)
        comp, count = np.unique(pairs[:, 0], return_counts=True)
        conflicted = comp[count > 1]
    else:
        conflicted = np.zeros(0, np.int64)
    if len(conflicted):
        in_conflict = np.isin(labels, conflicted)
        edge_in = in_conflict[i]
        ci, cj, cp = i[edge_in], j[edge_in], p[edge_in]
        edge_label = labels[ci]
        for comp_label in conflicted:
            members = np.flatnonzero(labels == comp_label)
            sel = edge_label == comp_label
            roots = _constrained(members, ci[sel], cj[sel], cp[sel], id_tokens)
            for member, root in roots.items():
                labels[member] = n + root  # fresh labels, disjoint from component ids (< n)
    return labels
