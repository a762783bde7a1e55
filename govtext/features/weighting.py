"""The Vectorizer's TF-IDF arithmetic, with NumPy and SciPy only: IDF from document frequencies,
sublinear term frequency, row norms.

:class:`~govtext.Vectorizer` (``features/vectorize.py``) weighs its counts here, and so does the theme
model (``themes/_linear.py``), which predicts without importing scikit-learn; no other module writes
this arithmetic out (``tests/test_structure.py`` checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["idf_from_df", "sublinear_tf_table", "weigh_counts", "weigh_rows"]


def idf_from_df(df: Any, n_docs: int, *, smooth: bool = True) -> np.ndarray:
    """IDF of terms found in ``df`` of ``n_docs`` documents, as scikit-learn computes it:
    ``ln((1 + n) / (1 + df)) + 1`` (``smooth=True``) or ``ln(n / df) + 1``, in float64."""
    df = np.asarray(df, dtype=np.float64)
    return (np.log((1 + n_docs) / (1 + df)) if smooth else np.log(n_docs / df)) + 1.0


_BLOCK_VALUES = 1 << 22  # stored values weighed at a time: bounded temporaries on a large matrix


def weigh_rows(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, idf: np.ndarray, *,
               sublinear_tf: bool, norm: str | None) -> None:
    """Turn the counts ``data`` of CSR rows (``indices``, ``indptr``) into TF-IDF weights, in place:
    sublinear tf, times ``idf`` (already in ``data``'s dtype), then each row's l2 or l1 norm
    (summed in float64, one row after another, each row's values in stored order).

    Rows are weighed in blocks of about ``_BLOCK_VALUES`` stored values, so the temporaries (the
    IDF gathered per value, the float64 squares, the row of each value) stay a few tens of MB on a
    matrix of any size; every value and every row's sum is computed as on the whole matrix."""
    if sublinear_tf:
        np.log(data, out=data)
        data += 1.0
    for start, stop in _row_blocks(indptr, _BLOCK_VALUES):
        lo, hi = int(indptr[start]), int(indptr[stop])
        block = data[lo:hi]
        block *= idf[indices[lo:hi]]
        if norm is not None:
            lengths = np.diff(indptr[start : stop + 1])
            values = block.astype(np.float64)
            if norm == "l2":
                np.square(values, out=values)
            else:
                np.abs(values, out=values)
            # bincount adds each row's values one after another (np.add.reduceat would add them pairwise)
            totals = np.bincount(np.repeat(np.arange(len(lengths)), lengths), weights=values, minlength=len(lengths))
            del values
            norms = np.sqrt(totals) if norm == "l2" else totals
            norms[norms == 0] = 1.0
            block /= np.repeat(norms, lengths).astype(block.dtype)


def sublinear_tf_table(most: int) -> np.ndarray:
    """The sublinear tf of every count from 0 to ``most``, as :func:`weigh_rows` computes it (NumPy's
    log, then + 1; the entry for 0 is 0): a compiled kernel looks its counts up here, so its
    logarithms are NumPy's to the last bit."""
    tf = np.arange(most + 1, dtype=np.float64)
    np.log(tf[1:], out=tf[1:])
    tf[1:] += 1.0
    return tf


def _row_blocks(indptr: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Consecutive (first row, end row) blocks of CSR rows holding at most ``size`` stored values
    each (a longer row is a block of its own)."""
    n_rows = len(indptr) - 1
    blocks, start = [], 0
    while start < n_rows:
        stop = int(np.searchsorted(indptr, int(indptr[start]) + size, side="right")) - 1
        stop = min(max(stop, start + 1), n_rows)
        blocks.append((start, stop))
        start = stop
    return blocks


def weigh_counts(counts: sp.spmatrix, idf: np.ndarray, *, sublinear_tf: bool = True, norm: str | None = "l2",
                 dtype: Any = np.float64, copy: bool = True) -> sp.csr_matrix:
    """TF-IDF rows (CSR, ``dtype``) from a (documents x terms) count matrix and one IDF value per
    column: :func:`weigh_rows` on a copy of the counts (``copy=False`` may reuse their arrays)."""
    import scipy.sparse as sp  # here: prediction weighs with weigh_rows alone, and need not import SciPy

    m = sp.csr_matrix(counts, dtype=dtype, copy=copy)
    if m.shape[1] != len(idf):
        raise ParameterError(f"counts has {m.shape[1]} columns but {len(idf)} idf values were given")
    weigh_rows(m.data, m.indices, m.indptr, np.asarray(idf, dtype=m.dtype), sublinear_tf=sublinear_tf, norm=norm)
    return m
