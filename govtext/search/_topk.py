"""Exact top-k search over postings: one query's postings gathered from the index, its cosine scores,
the best rows, and the terms it shares with them. Used by :class:`~govtext.SimilarityIndex`.

Documents are TF-IDF rows stored column-wise (``scipy.sparse.csc_matrix``, one postings list per
term), possibly in several segments (one per ``add``). All functions are pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..persist import IncompatibleModelError

__all__ = ["Postings", "check_postings", "contributions", "cosine_scores", "gather", "top_rows"]

@dataclass(frozen=True)
class Postings:
    """What one query reads from the index: for every posting of every query term (term by term
    in column order, segment after segment), the document row, the term (a position in the query's
    ``terms``) and its contribution to the cosine (query weight x document weight, float32)."""

    rows: np.ndarray
    term_at: np.ndarray
    contrib: np.ndarray


def gather(segments: Sequence[sp.csc_matrix], terms: np.ndarray, weights: np.ndarray) -> Postings:
    """The postings of ``terms`` (columns, ascending) times their query ``weights`` (float32), read
    straight from each segment's CSC arrays: one slice per term, one concatenate."""
    rows, term_at, contrib = [], [], []
    offset = 0
    for seg in segments:
        # plain ndarray views: slicing a np.memmap costs a Python-level __array_finalize__ each time
        ptr, ind, dat = (a.view(np.ndarray) for a in (seg.indptr, seg.indices, seg.data))
        starts = ptr[terms].astype(np.int64)
        lengths = ptr[terms + 1].astype(np.int64) - starts
        spans = [slice(a, a + n) for a, n in zip(starts.tolist(), lengths.tolist()) if n]
        if spans:
            r = np.concatenate([ind[s] for s in spans]).astype(np.int64)
            if offset:
                r += offset
            at = np.repeat(np.arange(len(terms)), lengths)
            rows.append(r)
            term_at.append(at)
            contrib.append(np.concatenate([dat[s] for s in spans]) * weights[at])
        offset += seg.shape[0]
    if not rows:
        return Postings(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    if len(rows) == 1:
        return Postings(rows[0], term_at[0], contrib[0])
    return Postings(np.concatenate(rows), np.concatenate(term_at), np.concatenate(contrib))


def cosine_scores(postings: Postings, n_docs: int) -> np.ndarray:
    """Every document's score for the query (0 for documents sharing no term): the contributions
    summed per row in float32, term after term, as a sparse matrix-vector product adds them."""
    scores = np.zeros(n_docs, dtype=np.float32)
    np.add.at(scores, postings.rows, postings.contrib)
    return scores


def contributions(postings: Postings, rows: Sequence[int], terms: np.ndarray, n_docs: int,
                  top: int = 8) -> dict[int, list[tuple[int, float]]]:
    """For each of ``rows``: the query's term columns it contains with their contribution to the
    score, strongest first (ties by column), at most ``top``. Read from the gathered postings, so
    only the result rows are looked at and nothing is searched."""
    found: dict[int, list[tuple[int, float]]] = {int(r): [] for r in rows}
    if not found or not len(postings.rows):
        return found
    flag = np.zeros(n_docs, dtype=bool)
    flag[np.fromiter(found, np.int64, count=len(found))] = True
    pick = np.flatnonzero(flag[postings.rows])
    r = postings.rows[pick]
    t = np.asarray(terms, dtype=np.int64)[postings.term_at[pick]]
    c = postings.contrib[pick]
    order = np.lexsort((t, -c, r))
    for row, col, value in zip(r[order].tolist(), t[order].tolist(), c[order].tolist()):
        kept = found[row]
        if len(kept) < top:
            kept.append((col, value))
    return found


def top_rows(scores: np.ndarray, k: int, accept: Callable[[int], bool] | None = None) -> list[int]:
    """Rows with the ``k`` highest positive scores that ``accept`` lets through, best first; equal
    scores in row order (so the result does not depend on how the scores were batched)."""
    positive = np.flatnonzero(scores > 0)
    if accept is None:
        return _ranked(scores, positive, k).tolist()
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
    if len(indices) > 1:  # shared_terms binary-searches each postings list: rows must be increasing
        rising = np.diff(indices.astype(np.int64)) > 0
        starts = indptr[1:-1].astype(np.int64)
        starts = starts[(starts > 0) & (starts < len(indices))]
        rising[starts - 1] = True  # a new term's list may start anywhere
        if not rising.all():
            raise IncompatibleModelError(f"{folder}: postings_indices.npy is not sorted within each term's postings")
