"""Exact top-k search over postings: one query's postings gathered from the index, its cosine scores,
the best rows, and the terms it shares with them. Used by :class:`~govtext.SimilarityIndex`.

Documents are TF-IDF rows stored column-wise (``scipy.sparse.csc_matrix``, one postings list per
term), possibly in several segments (one per ``add``). All functions are pure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..persist import IncompatibleModelError

__all__ = ["Postings", "block_scores", "check_postings", "contributions", "cosine_scores", "gather", "query_matrix",
           "document_rows", "shared_contributions", "shared_from_rows", "term_rows", "top_rows", "top_rows_of_block"]

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
    mask = getattr(accept, "mask", None)  # a metadata filter's mask: its rejected rows dropped at once
    if mask is not None:
        positive = positive[mask[positive]]
        if getattr(accept, "mask_only", False):
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


# --------------------------------------------------------------------------- many queries at once
#
# The same numbers as gather + cosine_scores + top_rows + contributions, for a block of queries:
# the block's query vectors (CSR, one row per query) times each segment's postings read as a
# terms x documents CSR matrix. scipy's sparse product adds, for each document, the products
# query weight x document weight in float32, term after term in column order, starting from 0 -
# the very additions np.add.at makes over the gathered postings - so every score is bit for bit
# the one query() computes. The product runs in C without the GIL, so blocks can be scored in
# threads.


def term_rows(segments: Sequence[sp.csc_matrix]) -> list[sp.csr_matrix]:
    """Each segment as a terms x documents CSR matrix over the same arrays (nothing copied when
    its index arrays share one integer type, as the index writes them)."""
    out = []
    for seg in segments:
        ptr, ind, dat = (a.view(np.ndarray) for a in (seg.indptr, seg.indices, seg.data))
        if ptr.dtype != ind.dtype:  # one index type, so that no product converts them again
            wide = ptr.dtype == np.int64 or ind.dtype == np.int64
            small = not wide or len(ind) < np.iinfo(np.int32).max
            kind = np.int32 if small else np.int64
            ptr, ind = ptr.astype(kind, copy=False), ind.astype(kind, copy=False)
        m = sp.csr_matrix((seg.shape[1], seg.shape[0]), dtype=dat.dtype)
        m.data, m.indices, m.indptr = dat, ind, ptr  # no format check: check_postings did it
        out.append(m)
    return out


def query_matrix(rows: Sequence[tuple[np.ndarray, np.ndarray]], n_terms: int, index_dtype: Any) -> sp.csr_matrix:
    """The (columns ascending, float32 weights) of each query as the rows of one CSR matrix."""
    lengths = np.fromiter((len(c) for c, _ in rows), np.int64, count=len(rows))
    indptr = np.zeros(len(rows) + 1, dtype=index_dtype)
    np.cumsum(lengths, out=indptr[1:])
    cols = np.concatenate([c for c, _ in rows]).astype(index_dtype) if len(rows) else np.zeros(0, index_dtype)
    data = (np.concatenate([w for _, w in rows]) if len(rows) else np.zeros(0)).astype(np.float32, copy=False)
    m = sp.csr_matrix((len(rows), n_terms), dtype=np.float32)
    m.data, m.indices, m.indptr = data, cols, indptr
    return m


def block_scores(queries: sp.csr_matrix, segments: Sequence[sp.csr_matrix]) -> np.ndarray:
    """Every document's float32 cosine for each query of the block: one row per query."""
    parts = [_product(queries, seg) if seg.shape[1] else np.zeros((queries.shape[0], 0), np.float32)
             for seg in segments]
    return parts[0] if len(parts) == 1 else np.hstack(parts)


def _sparse_kernels() -> Any:
    """scipy's own sparse product and densifying kernels, which ``A @ B`` and ``toarray()`` call
    (``None`` if this scipy lays them out otherwise)."""
    try:
        from scipy.sparse import _sparsetools

        return _sparsetools.csr_matmat, _sparsetools.csr_todense
    except (ImportError, AttributeError):
        return None


_KERNELS = _sparse_kernels()


def _product(queries: sp.csr_matrix, seg: sp.csr_matrix) -> np.ndarray:
    """``(queries @ seg).toarray()``, the same kernel's same numbers, without the pass that scipy
    makes first to count the product's entries exactly: room for every posting the queries read
    bounds them. Falls back to the public product when the kernels or index types do not fit."""
    kind = seg.indices.dtype
    if (_KERNELS is not None and queries.indices.dtype == kind and queries.indptr.dtype == kind
            and seg.indptr.dtype == kind and queries.dtype == seg.dtype == np.float32):
        ptr = seg.indptr
        bound = int((ptr[queries.indices + 1] - ptr[queries.indices]).sum(dtype=np.int64))
        if bound < np.iinfo(kind).max:
            matmat, todense = _KERNELS
            n_rows, n_cols = queries.shape[0], seg.shape[1]
            cp, cj, cx = np.empty(n_rows + 1, kind), np.empty(bound, kind), np.empty(bound, np.float32)
            try:
                matmat(n_rows, n_cols, queries.indptr, queries.indices, queries.data, ptr, seg.indices, seg.data,
                       cp, cj, cx)
                out = np.zeros((n_rows, n_cols), np.float32)
                todense(n_rows, n_cols, cp, cj, cx, out)
                return out
            except (TypeError, ValueError):  # another calling convention: the public product
                pass
    return (queries @ seg).toarray()


def top_rows_of_block(scores: np.ndarray, k: int, stride: int = 16) -> list[np.ndarray]:
    """:func:`top_rows` without a filter, for every row of a block of scores: the ``k`` highest
    positive scores, best first, equal scores in row order.

    The ``k``-th best of every ``stride``-th score bounds each row's ``k``-th best from below, so
    only the scores at or above it are ranked exactly (as :func:`_preselect` does for one row)."""
    n = scores.shape[1]
    sample = scores[:, ::stride]
    m = sample.shape[1]
    if n > 20 * stride * k and m > k:
        bound = np.partition(sample, m - k, axis=1)[:, m - k]
    else:
        bound = np.zeros(len(scores), scores.dtype)
    out = []
    for values, low in zip(scores, bound.tolist()):
        rows = np.flatnonzero(values >= low) if low > 0 else np.flatnonzero(values > 0)
        out.append(_ranked(values, rows, k))
    return out


def shared_contributions(segments: Sequence[sp.csc_matrix], queries: Sequence[tuple[np.ndarray, np.ndarray]],
                         found: Sequence[np.ndarray], top: int = 8) -> list[dict[int, list[tuple[int, float]]]]:
    """:func:`contributions` for a block of queries (``(columns, float32 weights)`` each) and the
    rows ``found`` for each: the document weight of every (row, query term) pair is looked up by
    a binary search in that term's postings, all pairs of the block at once, and multiplied by the
    query weight in float32 as :func:`gather` does."""
    out: list[dict[int, list[tuple[int, float]]]] = [{int(r): [] for r in rows.tolist()} for rows in found]
    q_of, row, col, weight = [], [], [], []
    for q, ((cols, weights), rows) in enumerate(zip(queries, found)):
        if len(rows) and len(cols):
            q_of.append(np.full(len(rows) * len(cols), q, np.int64))
            row.append(np.repeat(np.asarray(rows, np.int64), len(cols)))
            col.append(np.tile(np.asarray(cols, np.int64), len(rows)))
            weight.append(np.tile(np.asarray(weights, np.float32), len(rows)))
    if not q_of:
        return out
    q_all, r_all, c_all, w_all = (np.concatenate(a) for a in (q_of, row, col, weight))
    hit_q, hit_r, hit_c, hit_v = [], [], [], []
    offset = 0
    for seg in segments:
        n_rows = seg.shape[0]
        inside = np.flatnonzero((r_all >= offset) & (r_all < offset + n_rows))
        if len(inside) and seg.nnz:
            ptr, ind, dat = (a.view(np.ndarray) for a in (seg.indptr, seg.indices, seg.data))
            at = _find_rows(ptr, ind, c_all[inside], r_all[inside] - offset)
            there = at >= 0
            pick = inside[there]
            hit_q.append(q_all[pick])
            hit_r.append(r_all[pick])
            hit_c.append(c_all[pick])
            hit_v.append(dat[at[there]] * w_all[pick])
        offset += n_rows
    if not hit_q:
        return out
    q, r, c, v = (np.concatenate(a) for a in (hit_q, hit_r, hit_c, hit_v))
    return _keep_strongest(out, q, r, c, v, top)


def document_rows(segments: Sequence[sp.csc_matrix]) -> sp.csr_matrix:
    """Every segment's postings as one documents x terms CSR matrix: a row-wise copy, the same
    float32 weights."""
    return sp.vstack([seg.tocsr() for seg in segments], format="csr")


def shared_from_rows(docs: sp.csr_matrix, queries: Sequence[tuple[np.ndarray, np.ndarray]],
                     found: Sequence[np.ndarray], top: int = 8) -> list[dict[int, list[tuple[int, float]]]]:
    """:func:`shared_contributions` read from :func:`document_rows`: every term of each found row
    is looked up among its query's terms (one sorted search for the block), and the document
    weight times the query weight, in float32, is the contribution."""
    out: list[dict[int, list[tuple[int, float]]]] = [{int(r): [] for r in rows.tolist()} for rows in found]
    sizes = [len(f) for f in found]
    if not sum(sizes):
        return out
    n_terms = docs.shape[1]
    rows = np.concatenate([np.asarray(f, np.int64) for f in found])
    q_of_row = np.repeat(np.arange(len(found), dtype=np.int64), sizes)
    ptr = docs.indptr
    starts, lengths = ptr[rows].astype(np.int64), (ptr[rows + 1] - ptr[rows]).astype(np.int64)
    total = int(lengths.sum())
    if not total:
        return out
    at = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths - starts, lengths)
    e_col = docs.indices[at].astype(np.int64)
    e_q = np.repeat(q_of_row, lengths)
    e_key = e_q * n_terms + e_col
    # the block's query terms as one sorted key: query after query, columns ascending in each
    q_key = np.concatenate([q * n_terms + np.asarray(c, np.int64) for q, (c, _) in enumerate(queries)])
    q_weight = np.concatenate([np.asarray(w, np.float32) for _, w in queries])
    if not len(q_key):
        return out
    place = np.minimum(np.searchsorted(q_key, e_key), len(q_key) - 1)
    hit = q_key[place] == e_key
    q, r, c = e_q[hit], np.repeat(rows, lengths)[hit], e_col[hit]
    v = docs.data[at[hit]] * q_weight[place[hit]]
    return _keep_strongest(out, q, r, c, v, top)


def _keep_strongest(out: list[dict[int, list[tuple[int, float]]]], q: np.ndarray, r: np.ndarray, c: np.ndarray,
                    v: np.ndarray, top: int) -> list[dict[int, list[tuple[int, float]]]]:
    """Fill ``out[query][row]`` with at most ``top`` (column, contribution) pairs of the hits
    (q, r, c, v): strongest first, ties by column."""
    order = np.lexsort((c, -v, r, q))
    for qi, ri, ci, vi in zip(q[order].tolist(), r[order].tolist(), c[order].tolist(), v[order].tolist()):
        kept = out[qi][ri]
        if len(kept) < top:
            kept.append((ci, vi))
    return out


def _find_rows(ptr: np.ndarray, ind: np.ndarray, cols: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each (column, row) pair: the position of that row in the column's postings (rows are
    increasing within a column), or -1 when the column does not hold it. A binary search of every
    pair at once, each step over the pairs still searching."""
    lo = ptr[cols].astype(np.int64)
    end = ptr[cols + 1].astype(np.int64)
    at = np.full(len(cols), -1, np.int64)
    todo = np.flatnonzero(lo < end)
    lo, hi, want = lo[todo], end[todo], rows[todo]
    while len(todo):
        mid = (lo + hi) >> 1
        below = ind[mid] < want
        lo = np.where(below, mid + 1, lo)
        hi = np.where(below, hi, mid)
        done = lo >= hi  # lo is the first posting at or after the row
        if done.any():
            finished = todo[done]
            place = lo[done]
            hit = place < end[finished]
            hit[hit] = ind[place[hit]] == rows[finished[hit]]
            at[finished[hit]] = place[hit]
            keep = ~done
            todo, lo, hi, want = todo[keep], lo[keep], hi[keep], want[keep]
    return at


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
