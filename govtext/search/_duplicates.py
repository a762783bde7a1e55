"""Reprint grouping: near-identical documents (one press release printed by several outlets) found
from shared strong terms and confirmed by exact cosine. Pure functions over the index's rows.

The steps are separate so that a sharded index (:class:`~govtext.ShardedIndex`) can run them
where its rows are: each shard finds its rows' strongest terms, the candidate pairs are found over
all of them, and each pair's cosine is computed from the two rows wherever they live."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

__all__ = ["candidate_pairs", "duplicate_groups", "join_pairs", "pair_cosines", "stacked_rows", "strongest_terms"]

_PAIR_BLOCK = 50_000


def stacked_rows(segments: Sequence[sp.csc_matrix]) -> sp.csr_matrix:
    """All documents' TF-IDF rows, segment after segment, stored by row."""
    mats = [seg.tocsr() for seg in segments]
    return sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]


def strongest_terms(X: sp.csr_matrix, top_terms: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each row's ``top_terms`` strongest terms (ties in stored order)."""
    rows, cols = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for r in range(X.shape[0]):
        a, b = X.indptr[r], X.indptr[r + 1]
        if b - a == 0:
            continue
        sel = a + np.argsort(-X.data[a:b], kind="stable")[:top_terms]
        rows.append(np.full(len(sel), r, np.int64))
        cols.append(X.indices[sel].astype(np.int64))
    return np.concatenate(rows), np.concatenate(cols)


def candidate_pairs(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], top_terms: int,
                    max_postings: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows (i < j) sharing at least three (or ``top_terms``) of their strongest terms,
    counting only terms that are strong in 2..``max_postings`` rows."""
    if not len(rows):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    P = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=shape)
    df = np.asarray((P > 0).sum(axis=0)).ravel()
    P = P[:, np.flatnonzero((df >= 2) & (df <= max_postings))]
    shared = sp.triu(P @ P.T, k=1).tocoo()
    pick = shared.data >= min(3, top_terms)
    return shared.row[pick].astype(np.int64), shared.col[pick].astype(np.int64)


def pair_cosines(X: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The cosine of rows ``i[n]`` and ``j[n]`` of ``X`` (l2-normalised rows), for every n."""
    out = [np.zeros(0)]
    for start in range(0, len(i), _PAIR_BLOCK):
        a, b = i[start : start + _PAIR_BLOCK], j[start : start + _PAIR_BLOCK]
        out.append(np.asarray(X[a].multiply(X[b]).sum(axis=1)).ravel())
    return np.concatenate(out)


def join_pairs(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """For each of ``n`` rows, its group (the group's first row) when pairs ``(i, j)`` join it to
    others, -1 otherwise (union-find; the result does not depend on the pairs' order)."""
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y in zip(i.tolist(), j.tolist()):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    roots = np.array([find(r) for r in range(n)], dtype=np.int64)
    sizes = np.bincount(roots, minlength=n)
    return np.where(sizes[roots] > 1, roots, -1)


def duplicate_groups(X: sp.csr_matrix, threshold: float, top_terms: int, max_postings: int) -> np.ndarray:
    """For each row of ``X`` (l2-normalised TF-IDF), the number of its group of near-identical
    rows (the group's first row), or -1 when it has none.

    Candidate pairs share at least three of their ``top_terms`` strongest terms (terms that are
    top terms of more than ``max_postings`` rows are not used); each candidate pair's cosine is
    then computed exactly and pairs at or above ``threshold`` are joined (union-find)."""
    n = X.shape[0]
    rows, cols = strongest_terms(X, top_terms)
    if not len(rows):
        return np.full(n, -1)
    i, j = candidate_pairs(rows, cols, X.shape, top_terms, max_postings)
    close = pair_cosines(X, i, j) >= threshold
    return join_pairs(n, i[close], j[close])
