"""A compiled score-and-select kernel for the exact cosine stage (``backend="numba"``).

The same numbers as :func:`~govtext.search._topk.gather` + ``cosine_scores`` + ``top_rows`` +
``contributions`` (the NumPy path, ``backend="numpy"``), without gathering the postings into new
arrays: the postings of the query's terms are read straight from each segment's CSC arrays and
added into a float32 score per document, term after term in column order, starting from 0 - the
very float32 additions ``np.add.at`` makes over the gathered postings, so every score is bit for
bit the NumPy path's. The top ``k`` are then chosen in one pass over the scores (equal scores in row
order), which also puts the scores back to 0, so a thread's score buffer is reused query after
query. Shared terms are looked up for the result rows only (a binary search per row and term).

numba is optional (``pip install govtext[fast]``): it is imported, and the kernels compiled, on the
first query that uses them in a process (nothing is cached on disk). Every kernel releases the GIL,
so ``query_many`` scores queries in several threads at once.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._backend import BACKENDS, check_backend
from .._backend import resolve_backend as _resolve

__all__ = ["BACKENDS", "Arrays", "block_candidates", "check_backend", "kernels", "resolve_backend", "segment_arrays",
           "select_top", "shared_terms", "dense_scores", "unpacked"]

_lock = threading.Lock()
_compiled: dict[str, Any] = {}
_local = threading.local()  # each thread's score buffer, all zeros between queries


def resolve_backend(backend: str) -> str:
    """``"numba"`` or ``"numpy"`` for the search kernels (see :func:`govtext._backend.resolve_backend`)."""
    return _resolve(backend, kernels)


def kernels() -> dict[str, Any]:
    """The compiled functions (numba imported on the first call; each kernel is compiled on its
    first call for the array types it gets)."""
    if not _compiled:
        with _lock:
            if not _compiled:
                _compiled.update(_build())
    return _compiled


def _build() -> dict[str, Any]:
    import numba  # noqa: F401 - an ImportError here means: no numba

    jit = numba.njit(nogil=True, cache=False, fastmath=False, error_model="numpy", boundscheck=False)

    @jit
    def accumulate(scores, ptr, ind, dat, terms, weights, offset):  # pragma: no cover - compiled
        # every posting of every term, terms in the given (ascending) order: scores += doc x query weight.
        # Positions and rows as unsigned integers (they are never negative: check_postings): numba then
        # indexes without the test for a negative index, a third of the time of the loop
        base = np.uint64(offset)
        for t in range(terms.shape[0]):
            col = terms[t]
            w = weights[t]
            for p in range(np.uint64(ptr[col]), np.uint64(ptr[col + 1])):
                scores[np.uint64(ind[p]) + base] += dat[p] * w

    @jit
    def sift_down(vals, rows, size, s, r):  # pragma: no cover - compiled
        # put (s, r) in at the root of the heap of ``size`` entries and move it down while a child is
        # worse (a lower score, or an equal score of a later row)
        i = 0
        while True:
            child = 2 * i + 1
            if child >= size:
                break
            if child + 1 < size:
                a, b = vals[child], vals[child + 1]
                if b < a or (b == a and rows[child + 1] > rows[child]):
                    child += 1
            cs = vals[child]
            if cs < s or (cs == s and rows[child] > r):  # the worse child moves up
                vals[i] = cs
                rows[i] = rows[child]
                i = child
            else:
                break
        vals[i] = s
        rows[i] = r

    @jit
    def select(scores, k, clear):  # pragma: no cover - compiled
        # the k best positive scores (equal scores: the lower row first) by a bounded min-heap whose
        # root is the worst kept; rows come in ascending order, so an equal score never displaces.
        # ``worst`` is what a score must beat to be looked at: 0 until the heap is full, then its root.
        rows = np.empty(k, np.int64)
        vals = np.empty(k, np.float32)
        n = 0
        worst = np.float32(0)
        n_rows = scores.shape[0]
        for base in range(0, n_rows, 16):
            stop = min(base + 16, n_rows)
            beats = False  # does any score of these 16 beat the worst kept? (one vector comparison)
            for r in range(base, stop):
                beats |= scores[r] > worst
            if not beats:
                continue
            for r in range(base, stop):
                s = scores[r]
                if not s > worst:
                    continue
                if n < k:
                    i = n
                    n += 1
                    while i > 0:  # sift up: a parent worse than the new entry moves down
                        parent = (i - 1) >> 1
                        ps = vals[parent]
                        if ps < s or (ps == s and rows[parent] > r):
                            break
                        vals[i] = ps
                        rows[i] = rows[parent]
                        i = parent
                    vals[i] = s
                    rows[i] = r
                    if n == k:
                        worst = vals[0]
                else:
                    sift_down(vals, rows, n, s, r)
                    worst = vals[0]
        if clear:
            scores[:] = 0  # every score, in one pass: the buffer is all zeros for the next query
        # pop the worst entry into the last free place: best first, equal scores by row
        out_rows = np.empty(n, np.int64)
        out_vals = np.empty(n, np.float32)
        size = n
        while size > 0:
            out_rows[size - 1] = rows[0]
            out_vals[size - 1] = vals[0]
            size -= 1
            sift_down(vals, rows, size, vals[size], rows[size])
        return out_rows, out_vals

    @jit
    def lookup(ptr, ind, dat, terms, weights, rows, offset, n_rows, out):  # pragma: no cover - compiled
        # out[i, t] = document weight x query weight of row i and term t, left as it is when the row
        # does not hold the term. The row is searched for in the term's postings (rows ascending):
        # a few interpolation steps (postings spread about evenly over the rows), then a binary
        # search of what is left; either way the first posting at or after the row. Positions are
        # unsigned (never negative), which spares numba its test for a negative index.
        for t in range(terms.shape[0]):
            col = terms[t]
            start = np.uint64(ptr[col])
            end = np.uint64(ptr[col + 1])
            if start == end:
                continue
            for i in range(rows.shape[0]):
                signed = rows[i] - offset
                if signed < 0 or signed >= n_rows:
                    continue
                row = np.uint64(signed)
                lo = start
                hi = end
                for _ in range(3):
                    if hi - lo <= np.uint64(16):
                        break
                    a = np.uint64(ind[lo])
                    b = np.uint64(ind[hi - np.uint64(1)])
                    if row <= a:
                        hi = lo
                        break
                    if row > b:
                        lo = hi
                        break
                    # a < row <= b: lo <= guess < hi
                    guess = lo + (row - a) * (hi - np.uint64(1) - lo) // (b - a)
                    if np.uint64(ind[guess]) < row:
                        lo = guess + np.uint64(1)
                    else:
                        hi = guess
                while lo < hi:
                    mid = (lo + hi) >> np.uint64(1)
                    if np.uint64(ind[mid]) < row:
                        lo = mid + np.uint64(1)
                    else:
                        hi = mid
                if lo < end and np.uint64(ind[lo]) == row:
                    out[i, t] = dat[lo] * weights[t]

    @jit
    def strongest(values, terms, top, cols, vals, counts):  # pragma: no cover - compiled
        # per row of values (NaN: not held): the held terms by contribution, strongest first, ties
        # by column (terms ascend, so by position), at most top of them
        for i in range(values.shape[0]):
            n = 0
            for t in range(values.shape[1]):
                v = values[i, t]
                if v != v:  # NaN
                    continue
                # insert (v, t) into the sorted run cols/vals[i, :n], keeping at most top entries
                j = n if n < top else top
                if j == top and not (v > vals[i, top - 1]):
                    continue  # not stronger than the weakest kept (equal: the earlier column stays)
                while j > 0 and v > vals[i, j - 1]:
                    if j < top:
                        vals[i, j] = vals[i, j - 1]
                        cols[i, j] = cols[i, j - 1]
                    j -= 1
                vals[i, j] = v
                cols[i, j] = terms[t]
                if n < top:
                    n += 1
            counts[i] = n

    @jit
    def block(ptr, ind, dat, qptr, terms, weights, scores, k, top, rows_out, vals_out, n_out, cols_sh, vals_sh,
              n_sh):  # pragma: no cover - compiled
        # every query of a block (its terms are terms[qptr[q]:qptr[q + 1]]) over one segment: scores
        # added, the top k selected (the buffer cleared), shared terms chosen - one call, no GIL
        for q in range(qptr.shape[0] - 1):
            t = terms[qptr[q]:qptr[q + 1]]
            w = weights[qptr[q]:qptr[q + 1]]
            accumulate(scores, ptr, ind, dat, t, w, 0)
            rows, vals = select(scores, k, True)
            n = rows.shape[0]
            n_out[q] = n
            rows_out[q, :n] = rows
            vals_out[q, :n] = vals
            if n and t.shape[0]:
                values = np.full((n, t.shape[0]), np.nan, np.float32)
                lookup(ptr, ind, dat, t, w, rows, 0, scores.shape[0], values)
                strongest(values, t, top, cols_sh[q], vals_sh[q], n_sh[q])

    return {"accumulate": accumulate, "select": select, "lookup": lookup, "strongest": strongest, "block": block}


Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, int]  # indptr, indices, data, number of rows


def segment_arrays(segments: Sequence[sp.csc_matrix]) -> list[Arrays]:
    """Each segment's CSC arrays as plain ndarrays (memory maps included: nothing is copied)."""
    return [(seg.indptr.view(np.ndarray), seg.indices.view(np.ndarray), seg.data.view(np.ndarray), seg.shape[0])
            for seg in segments]


def _buffer(n_docs: int) -> np.ndarray:
    """This thread's zeroed float32 score buffer of ``n_docs`` (kept for the next query)."""
    buf = getattr(_local, "scores", None)
    if buf is None or len(buf) < n_docs:
        buf = np.zeros(n_docs, np.float32)
        _local.scores = buf
    return buf[:n_docs]


def _accumulate(scores: np.ndarray, arrays: Sequence[Arrays], terms: np.ndarray, weights: np.ndarray) -> None:
    accumulate = kernels()["accumulate"]
    offset = 0
    for ptr, ind, dat, n_rows in arrays:
        accumulate(scores, ptr, ind, dat, terms, weights, offset)
        offset += n_rows


def dense_scores(arrays: Sequence[Arrays], n_docs: int, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Every document's float32 cosine (a new array; what :func:`cosine_scores` returns)."""
    scores = np.zeros(n_docs, np.float32)
    _accumulate(scores, arrays, terms, weights)
    return scores


def select_top(arrays: Sequence[Arrays], n_docs: int, terms: np.ndarray, weights: np.ndarray,
               k: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows with the ``k`` highest positive cosines and those float32 cosines, best first,
    equal scores in row order: :func:`top_rows` without a filter, on this thread's buffer."""
    scores = _buffer(n_docs)
    try:
        _accumulate(scores, arrays, terms, weights)
        # never more rows than documents (the heap is k long; a huge k must not allocate k rows)
        return kernels()["select"](scores, max(1, min(k, n_docs)), True)
    except BaseException:
        scores[:] = 0  # never leave a half-used buffer behind
        raise


def shared_terms(arrays: Sequence[Arrays], terms: np.ndarray, weights: np.ndarray, rows: np.ndarray,
                 top: int = 8) -> dict[int, list[tuple[int, float]]]:
    """For each of ``rows``: the query's term columns it holds with their contribution (document x
    query weight, float32), strongest first, ties by column, at most ``top`` - what
    :func:`contributions` reads from the gathered postings."""
    found: dict[int, list[tuple[int, float]]] = {int(r): [] for r in rows.tolist()}
    if not found or not len(terms):
        return found
    compiled = kernels()
    values = np.full((len(rows), len(terms)), np.nan, np.float32)  # NaN: the row does not hold the term
    offset = 0
    for ptr, ind, dat, n_rows in arrays:
        compiled["lookup"](ptr, ind, dat, terms, weights, rows, offset, n_rows, values)
        offset += n_rows
    cols = np.zeros((len(rows), top), np.int64)
    vals = np.zeros((len(rows), top), np.float32)
    counts = np.zeros(len(rows), np.int64)
    compiled["strongest"](values, terms, top, cols, vals, counts)
    for row, c, v, n in zip(rows.tolist(), cols.tolist(), vals.tolist(), counts.tolist()):
        found[row] = list(zip(c[:n], v[:n]))
    return found


BLOCK_K = 1024  # block_candidates holds k rows (and their shared terms) per query: up to this k


def block_candidates(arrays: Sequence[Arrays], n_docs: int, queries: Sequence[tuple[np.ndarray, np.ndarray]],
                     k: int, top: int = 8) -> Any:
    """:func:`select_top` and :func:`shared_terms` for every query of a block, over an index of one
    segment, in one compiled call that holds no GIL. Returns a function to run (in a worker thread:
    everything it needs is prepared here, so it asks for the GIL only to start and to return), whose
    result :func:`unpacked` turns into each query's (rows, scores, shared), as those two functions
    give them."""
    if len(arrays) != 1 or k > BLOCK_K:
        def one_by_one() -> list[tuple[np.ndarray, np.ndarray, dict[int, list[tuple[int, float]]]]]:
            out = []
            for cols, weights in queries:
                rows, scores = select_top(arrays, n_docs, cols, weights, k)
                out.append((rows, scores, shared_terms(arrays, cols, weights, rows, top)))
            return out
        return one_by_one
    ptr, ind, dat, _ = arrays[0]
    k = max(1, min(k, n_docs))
    nq = len(queries)
    qptr = np.zeros(nq + 1, np.int64)
    np.cumsum([len(c) for c, _ in queries], out=qptr[1:])
    terms = np.concatenate([c for c, _ in queries]).astype(np.int64, copy=False) if nq else np.zeros(0, np.int64)
    weights = (np.concatenate([w for _, w in queries]) if nq else np.zeros(0)).astype(np.float32, copy=False)
    found = (np.zeros((nq, k), np.int64), np.zeros((nq, k), np.float32), np.zeros(nq, np.int64),
             np.zeros((nq, k, top), np.int64), np.zeros((nq, k, top), np.float32), np.zeros((nq, k), np.int64))
    block = kernels()["block"]

    def run() -> tuple[np.ndarray, ...]:
        scores = _buffer(n_docs)  # the thread's own buffer
        try:
            block(ptr, ind, dat, qptr, terms, weights, scores, k, top, *found)
        except BaseException:
            scores[:] = 0
            raise
        return found
    return run


def unpacked(found: Any) -> list[tuple[np.ndarray, np.ndarray, dict[int, list[tuple[int, float]]]]]:
    """Each query's (rows, scores, shared) from :func:`block_candidates`."""
    if isinstance(found, list):
        return found
    rows_out, vals_out, n_out, cols_sh, vals_sh, n_sh = found
    out = []
    for q, n in enumerate(n_out.tolist()):
        rows = rows_out[q, :n]
        shared = {row: list(zip(c[:m], v[:m])) for row, c, v, m in
                  zip(rows.tolist(), cols_sh[q, :n].tolist(), vals_sh[q, :n].tolist(), n_sh[q, :n].tolist())}
        out.append((rows, vals_out[q, :n], shared))
    return out
