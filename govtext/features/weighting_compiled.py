"""The TF-IDF weighting of :mod:`govtext.features.weighting`, compiled with numba for one row at a
time (``pip install govtext[fast]``; this module imports numba), for kernels that weigh the rows
they count and use them at once, such as the theme model's (``themes/_kernel.py``).

:func:`add_row` makes the float64 operations of :func:`~govtext.features.weighting.weigh_rows` in
the same order - the count's sublinear tf from :func:`~govtext.features.weighting.sublinear_tf_table`
times the idf, the squares added one after another from 0, the square root, each value divided by it
- so a row weighed here holds the very bits a CSR row weighed there holds, and its product with the
coefficients is added term after term as SciPy's CSR product adds it.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["add_row"]


@numba.njit(nogil=True, cache=True, fastmath=False, error_model="numpy", boundscheck=False)
def add_row(cols, counts, m, tf, table, first, out, r, values, forward):  # pragma: no cover - compiled
    """``out[r, :] +=`` the TF-IDF row of the terms ``cols[:m]`` (in that order, or backward),
    l2-normalised, times their coefficients: ``counts[c]`` is term ``c``'s count, ``tf`` the sublinear
    tf table, ``table[c, 0]`` its idf and ``table[c, first:first + out.shape[1]]`` its coefficients;
    ``values`` is scratch space of at least ``m`` values."""
    total = 0.0
    for i in range(m):
        c = cols[i] if forward else cols[m - 1 - i]
        v = tf[counts[c]] * table[c, 0]
        values[i] = v
        total += v * v
    norm = np.sqrt(total)
    if norm == 0.0:
        norm = 1.0
    k = out.shape[1]
    for i in range(m):
        c = cols[i] if forward else cols[m - 1 - i]
        v = values[i] / norm
        for j in range(k):
            out[r, j] += v * table[c, first + j]
