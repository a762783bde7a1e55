"""Reprint grouping: near-identical documents (one press release printed by several outlets) found
from shared strong terms and confirmed by exact cosine. Pure functions over the index's rows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["duplicate_groups", "stacked_rows"]


def stacked_rows(segments: Sequence[sp.csc_matrix]) -> sp.csr_matrix:
    """All documents' TF-IDF rows, segment after segment, stored by row."""
    mats = [seg.tocsr() for seg in segments]
    return sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]


def duplicate_groups(X: sp.csr_matrix, threshold: float, top_terms: int, max_postings: int) -> np.ndarray:
    """For each row of ``X`` (l2-normalised TF-IDF), the number of its group of near-identical
    rows (the group's first row), or -1 when it has none.

    Candidate pairs share at least three of their ``top_terms`` strongest terms (terms that are
    top terms of more than ``max_postings`` rows are not used); each candidate pair's cosine is
    then computed exactly and pairs at or above ``threshold`` are joined (union-find)."""
    n = X.shape[0]
    # Keep each row's strongest terms only, as 0/1.
    rows, cols = [], []
    for r in range(n):
        a, b = X.indptr[r], X.indptr[r + 1]
        if b - a == 0:
            continue
        sel = a + np.argsort(-X.data[a:b], kind="stable")[:top_terms]
        rows.append(np.full(len(sel), r))
        cols.append(X.indices[sel])
    if not rows:
        return np.full(n, -1)
    P = sp.csr_matrix((np.ones(sum(len(r) for r in rows), np.float32),
                       (np.concatenate(rows), np.concatenate(cols))), shape=X.shape)
    df = np.asarray((P > 0).sum(axis=0)).ravel()
    P = P[:, np.flatnonzero((df >= 2) & (df <= max_postings))]
    shared = sp.triu(P @ P.T, k=1).tocoo()
    pick = shared.data >= min(3, top_terms)
    i, j = shared.row[pick], shared.col[pick]
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for start in range(0, len(i), 50_000):
        a, b = i[start : start + 50_000], j[start : start + 50_000]
        cos = np.asarray(X[a].multiply(X[b]).sum(axis=1)).ravel()
        for x, y in zip(a[cos >= threshold], b[cos >= threshold]):
            rx, ry = find(int(x)), find(int(y))
            if rx != ry:
                parent[max(rx, ry)] = min(rx, ry)
    roots = np.array([find(r) for r in range(n)])
    sizes = np.bincount(roots, minlength=n)
    return np.where(sizes[roots] > 1, roots, -1)
