"""Exact top-k search over postings: scores for a batch of queries, the best rows of each, and the
terms a query shares with a result. Used by :class:`~govtext.SimilarityIndex`.

Documents are TF-IDF rows stored column-wise (``scipy.sparse.csc_matrix``, one postings list per
term), possibly in several segments (one per ``add``). All functions are pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .persist import IncompatibleModelError

__all__ = ["check_postings", "score_batch", "shared_terms", "top_rows"]

# Queries scored at once: the dense (queries x documents) score block stays under ~32 MB.
_SCORE_CELLS = 8_000_000


def query_batches(n_queries: int, n_docs: int) -> list[slice]:
    """Slices of the queries, each small enough for one dense score block."""
    step = max(1, min(n_queries, _SCORE_CELLS // max(n_docs, 1)))
    return [slice(i, min(i + step, n_queries)) for i in range(0, n_queries, step)]


def score_batch(segments: Sequence[sp.csc_matrix], queries: sp.csr_matrix) -> np.ndarray:
    """Cosine scores, (queries x documents).

    A segment is (documents x terms) stored by column, so its transpose is (terms x documents) stored
    by row: each query takes the rows of its own terms (their postings, copied once) and multiplies
    them by its weights. Only the postings of the query's terms are read; for single queries and
    batches alike this measured several times faster than one sparse-times-sparse product."""
    q = sp.csr_matrix(queries, dtype=np.float32)
    sizes = [seg.shape[0] for seg in segments]
    out = np.zeros((q.shape[0], sum(sizes)), dtype=np.float32)
    transposed = [seg.T for seg in segments]  # views, no copy
    for j in range(q.shape[0]):
        a, b = q.indptr[j], q.indptr[j + 1]
        if a == b:
            continue
        terms, weights = q.indices[a:b], q.data[a:b]
        col = 0
        for seg_t, n in zip(transposed, sizes):
            out[j, col : col + n] = seg_t[terms].T @ weights
            col += n
    return out


def top_rows(scores: np.ndarray, k: int, accept: Callable[[int], bool] | None = None) -> list[int]:
    """Rows with the ``k`` highest positive scores that ``accept`` lets through, best first; equal
    scores in row order (so the result does not depend on how the scores were batched)."""
    positive = np.flatnonzero(scores > 0)
    if accept is None:
        return _ranked(scores, _preselect(scores, k, positive), k).tolist()
    pool = _preselect(scores, max(4 * k, 100), positive)
    chosen: list[int] = []
    for ranked in (lambda: _ranked(scores, pool), lambda: _ranked(scores, np.setdiff1d(positive, pool, True))):
        for row in ranked().tolist():
            if accept(row):
                chosen.append(row)
                if len(chosen) == k:
                    return chosen
        if len(pool) == len(positive):
            break  # the pre-selection held every positive row: nothing left to widen to
    return chosen


def _ranked(scores: np.ndarray, rows: np.ndarray, k: int | None = None) -> np.ndarray:
    """``rows`` by descending score, ties by row number; only the best ``k`` when given."""
    if k is not None and k < len(rows):
        values = scores[rows]
        kth = np.partition(values, len(values) - k)[len(values) - k]
        rows = rows[values >= kth]
    order = np.lexsort((rows, -scores[rows]))
    return rows[order[:k]] if k is not None else rows[order]


def _preselect(scores: np.ndarray, want: int, positive: np.ndarray, stride: int = 16) -> np.ndarray:
    """Rows that may be among the ``want`` best, found without sorting the whole array.

    The ``want``-th best score of every ``stride``-th row can only be lower than (or equal to) the
    ``want``-th best of all rows, so every row of the true top ``want`` scores at least that much.
    """
    sample = scores[::stride]
    if len(scores) <= 20 * stride * want or np.count_nonzero(sample > 0) < want:
        return positive
    bound = np.partition(sample, len(sample) - want)[len(sample) - want]
    return np.flatnonzero(scores >= bound) if bound > 0 else positive


def shared_terms(segments: Sequence[sp.csc_matrix], rows: Sequence[int], terms: np.ndarray,
                 weights: np.ndarray, top: int = 8) -> dict[int, list[tuple[int, float]]]:
    """For each result row: the query's term columns it contains, with their contribution to the
    score (query weight x document weight), strongest first, at most ``top``.

    Every (term, row) pair is looked up in the term's postings by one binary search run on all
    pairs at once; nothing is sliced or copied."""
    found: dict[int, list[tuple[int, float]]] = {r: [] for r in rows}
    offsets = np.cumsum([0] + [seg.shape[0] for seg in segments])
    terms = np.asarray(terms, dtype=np.int64)
    for s_i, seg in enumerate(segments):
        local = np.array([r - offsets[s_i] for r in rows if offsets[s_i] <= r < offsets[s_i + 1]], dtype=np.int64)
        if not len(local) or not len(terms) or not len(seg.indices):
            continue
        pair_term = np.repeat(np.arange(len(terms)), len(local))
        pair_row = np.tile(local, len(terms))
        start = seg.indptr[terms].astype(np.int64)[pair_term]
        end = seg.indptr[terms + 1].astype(np.int64)[pair_term]
        at = _lower_bound(seg.indices, start, end, pair_row)
        hit = at < end
        hit[hit] = seg.indices[at[hit]] == pair_row[hit]
        contrib = weights[pair_term[hit]] * seg.data[at[hit]]
        for t, r, c in zip(pair_term[hit].tolist(), pair_row[hit].tolist(), contrib.tolist()):
            found[int(r + offsets[s_i])].append((int(terms[t]), float(c)))
    for r in found:
        found[r].sort(key=lambda p: (-p[1], p[0]))
        del found[r][top:]
    return found


def _lower_bound(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """For each i, the first position in ``values[lo[i]:hi[i]]`` (sorted) holding a value >=
    ``targets[i]`` (``hi[i]`` when none does): a binary search run on every i at once."""
    lo, hi = lo.copy(), hi.copy()
    last = len(values) - 1
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        right = active & (values[np.minimum(mid, last)] < targets)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)


def check_postings(folder: Path, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                   shape: tuple[int, int]) -> None:
    """A saved term-by-document postings matrix must be well formed before any C code reads it:
    pointers from 0 to the number of entries and never decreasing, document numbers in range,
    weights finite. A crafted index is refused, never read out of bounds."""
    n_docs, n_terms = shape
    if len(indptr) != n_terms + 1:
        raise IncompatibleModelError(f"{folder}: postings_indptr.npy has {len(indptr)} entries for {n_terms} terms")
    if len(data) != len(indices) or (len(indptr) and (int(indptr[0]) != 0 or int(indptr[-1]) != len(indices))):
        raise IncompatibleModelError(f"{folder}: postings arrays disagree on the number of entries")
    if len(indptr) > 1 and (np.diff(indptr.astype(np.int64)) < 0).any():
        raise IncompatibleModelError(f"{folder}: postings_indptr.npy is not in increasing order")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n_docs):
        raise IncompatibleModelError(f"{folder}: postings_indices.npy names documents outside 0..{n_docs - 1}")
    if len(data) and not np.isfinite(data).all():
        raise IncompatibleModelError(f"{folder}: postings_data.npy holds NaN or infinite weights")
