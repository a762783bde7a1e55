"""A compiled scoring kernel for the theme model's prediction (issue 26 item 2).

From the occurrences a batch's segmentation found — the (sentence, column) of each vocabulary word
and of each character n-gram — one pass per document counts the terms of each sentence and of the
document, weighs them (sublinear tf, idf, an l2 norm for the words and one for the n-grams) and adds
their products with the model's coefficients. No sparse matrix is built and SciPy is not imported.

The numbers are SciPy's, to the last bit: the kernel makes the float64 operations of the sparse path
(``weigh_counts`` of the sentence counts and of ``owner @ sentence counts``, then ``X @ coef.T``) in
the same order. A sentence's entries are its columns ascending (a canonical CSR row); a document's are
the columns in the reverse order of their first appearance, sentence by sentence (the order SciPy's
sparse product leaves); each row's squares are added one after another from 0, as ``np.bincount``
adds them; each product row is added entry after entry from 0. The sublinear tf ``log(c) + 1`` comes
from a table that NumPy computes, so the logarithm is NumPy's too. ``tests/test_prediction_exact.py``
checks the bits on real and odd texts.

numba is optional (``pip install govtext[fast]``): this module imports it, and is itself imported only
when a batch is scored this way. The functions are compiled once per installation and kept by numba
beside this file (``__pycache__``, or ``NUMBA_CACHE_DIR``; a read-only install: numba's own cache
folder; where numba has no writable folder, each process compiles them), so later processes load them
instead of compiling them again. numba renews that cache when
this file changes (not when another file does): every function the kernel compiles is written here.
"""

from __future__ import annotations

import functools
from typing import Any

import numba
import numpy as np

from ..features.weighting import sublinear_tf_table

__all__ = ["char_occurrences", "compiled_scores", "piece_keys", "sentence_spans", "sentence_tables", "slots", "term_table"]


def _probe() -> int:  # pragma: no cover - only decorated, to ask numba whether it can cache this file
    return 0


def _caching() -> bool:
    """Whether numba can keep this file's compiled code (a writable folder beside it, in
    NUMBA_CACHE_DIR or in the user's cache folder); when it cannot, the kernel is compiled in each
    process instead (the same code, only slower to start)."""
    try:
        numba.njit(cache=True)(_probe)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available for file ..."
        return False
    return True


_jit = numba.njit(nogil=True, cache=_caching(), fastmath=False, error_model="numpy", boundscheck=False)


@_jit
def by_row(rows, cols, n_rows):  # pragma: no cover - compiled
    # the columns grouped by row (a stable counting sort): start pointers and the columns
    start = np.zeros(n_rows + 1, np.int64)
    for i in range(rows.shape[0]):
        start[rows[i] + 1] += 1
    for r in range(n_rows):
        start[r + 1] += start[r]
    fill = start[:-1].copy()
    out = np.empty(cols.shape[0], np.int64)
    for i in range(rows.shape[0]):
        r = rows[i]
        out[fill[r]] = cols[i]
        fill[r] += 1
    return start, out


@_jit
def sort_small(seen, m):  # pragma: no cover - compiled
    # seen[:m] ascending: insertion sort for the usual few dozen terms (numba's sort costs more there)
    if m > 128:
        seen[:m].sort()
        return
    for i in range(1, m):
        c = seen[i]
        j = i - 1
        while j >= 0 and seen[j] > c:
            seen[j + 1] = seen[j]
            j -= 1
        seen[j + 1] = c


@_jit
def add_row(cols, counts, m, tf, table, first, out, r, values, forward):  # pragma: no cover - compiled
    # out[r, :] += the TF-IDF row of the terms cols[:m] (in that order, or backward), l2-normalised,
    # times their coefficients: counts[c] is term c's count, tf the sublinear tf table, table[c, 0]
    # its idf and table[c, first:] its coefficients; values: scratch space for m values. The float64
    # operations of weigh_rows in its order (tf x idf, squares added one after another from 0, the
    # square root, each value divided by it), then SciPy's CSR product, term after term

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


@_jit
def sentence_part(start, cols, s, counts, seen, tf, table, out, scored, values):  # pragma: no cover
    # count the terms of sentence s (its distinct columns into seen, ascending); when scored, add
    # its weighed row (columns ascending, a canonical CSR row) to out[s]; return how many are distinct
    m = 0
    for p in range(start[s], start[s + 1]):
        c = cols[p]
        if counts[c] == 0:
            seen[m] = c
            m += 1
        counts[c] += 1
    sort_small(seen, m)
    if scored and m:
        add_row(seen, counts, m, tf, table, 1 + out.shape[1], out, s, values, True)
    return m


@_jit
def to_document(seen, m, counts, doc_counts, order, n_order):  # pragma: no cover - compiled
    # move a sentence's counts (its distinct columns seen[:m], ascending) into the document's,
    # recording each column's first appearance; the sentence's counts go back to 0
    for i in range(m):
        c = seen[i]
        if doc_counts[c] == 0:
            order[n_order] = c
            n_order += 1
        doc_counts[c] += counts[c]
        counts[c] = 0
    return n_order


@_jit
def score(per_doc, n_sent, w_rows, w_cols, c_rows, c_cols, tf, w_table, c_table, with_sentences,
          doc_out, sent_out):  # pragma: no cover - compiled
    w_start, w_sorted = by_row(w_rows, w_cols, n_sent)
    c_start, c_sorted = by_row(c_rows, c_cols, n_sent)
    w_counts = np.zeros(w_table.shape[0], np.int32)
    c_counts = np.zeros(c_table.shape[0], np.int32)
    w_doc = np.zeros(w_table.shape[0], np.int32)
    c_doc = np.zeros(c_table.shape[0], np.int32)
    size = max(w_cols.shape[0], c_cols.shape[0], 1)
    seen = np.empty(size, np.int64)
    values = np.empty(size, np.float64)
    w_order = np.empty(size, np.int64)
    c_order = np.empty(size, np.int64)
    s = 0
    for d in range(per_doc.shape[0]):
        n_w = 0
        n_c = 0
        for _ in range(per_doc[d]):
            m = sentence_part(w_start, w_sorted, s, w_counts, seen, tf, w_table, sent_out, with_sentences, values)
            n_w = to_document(seen, m, w_counts, w_doc, w_order, n_w)
            m = sentence_part(c_start, c_sorted, s, c_counts, seen, tf, c_table, sent_out, with_sentences, values)
            n_c = to_document(seen, m, c_counts, c_doc, c_order, n_c)
            s += 1
        # the document's row: its words, then its n-grams, each in the reverse order of first appearance
        add_row(w_order, w_doc, n_w, tf, w_table, 1, doc_out, d, values, False)
        add_row(c_order, c_doc, n_c, tf, c_table, 1, doc_out, d, values, False)
        for i in range(n_w):
            w_doc[w_order[i]] = 0
        for i in range(n_c):
            c_doc[c_order[i]] = 0


@_jit
def find(slots, code, shift):  # pragma: no cover - compiled
    # the value stored under code in an open-addressing table (slots: key and value side by side, as
    # slots() makes them; first slot = the top bits of code * spread, then linear probing), or -1
    empty = np.uint64(0xFFFFFFFFFFFFFFFF)
    one = np.uint64(1)
    mask = np.uint64(slots.shape[0]) - one
    slot = (code * np.uint64(0x9E3779B97F4A7C15)) >> shift
    while True:
        key = slots[slot, 0]
        if key == code:
            return np.int64(slots[slot, 1])
        if key == empty:
            return np.int64(-1)
        slot = (slot + one) & mask


@_jit
def grams(points, begin, lens, n, slots, shift, width):  # pragma: no cover - compiled
    # (sentence, column) of every n-gram inside a sentence whose packed code (the n code points,
    # width bits each) is in the table
    total = 0
    for s in range(lens.shape[0]):
        if lens[s] >= n:
            total += lens[s] - n + 1
    rows = np.empty(total, np.int64)
    cols = np.empty(total, np.int64)
    found = 0
    for s in range(lens.shape[0]):
        b = begin[s]
        for i in range(b, b + lens[s] - n + 1):
            code = np.uint64(points[i])
            for k in range(1, n):
                code = (code << width) | np.uint64(points[i + k])
            column = find(slots, code, shift)
            if column >= 0:
                rows[found] = s
                cols[found] = column
                found += 1
    return rows[:found], cols[:found]


@_jit
def piece_keys(points, ends, slots, shift, width):  # pragma: no cover - compiled
    # for each piece (ending at ends[i] in points): the packed key of a piece of 1 to 3 characters
    # (its code points, tagged with its length, as _short_piece_keys packs them; 0 for the others)
    # and its column from the short-piece table (value - 1; -2 when not in the table or not short)
    tags = np.array([0, 1 << 63, 3 << 62, 0], np.uint64)
    n = ends.shape[0]
    out = np.full(n, -2, np.int64)
    packed = np.zeros(n, np.uint64)
    begin = 0
    for i in range(n):
        end = ends[i]
        size = end - begin
        if 1 <= size <= 3:
            code = np.uint64(points[begin])
            for k in range(begin + 1, end):
                code = (code << width) | np.uint64(points[k])
            code = code | tags[size]
            packed[i] = code
            if slots.shape[0]:
                value = find(slots, code, shift)
                if value >= 0:
                    out[i] = value - 1
        begin = end
    return out, packed


@_jit
def sentence_spans(points, end, space):  # pragma: no cover - compiled
    # the matches of SENTENCE_RE - a run of characters that neither end a sentence (end[c], for
    # c < len(end)) nor break a line, then the sentence ends after it - whose text is not all white
    # space (space[c], for c < len(space), as str.isspace): each as (match start, match end, white
    # space before the stripped sentence, the stripped sentence's length)
    n = points.shape[0]
    n_end = end.shape[0]
    n_space = space.shape[0]
    out = np.empty((n // 2 + 1, 4), np.int64)
    found = 0
    i = 0
    while i < n:
        c = points[i]
        if c == 10 or (c < n_end and end[c]):
            i += 1
            continue
        start = i
        while i < n:
            c = points[i]
            if c == 10 or (c < n_end and end[c]):
                break
            i += 1
        while i < n and points[i] < n_end and end[points[i]]:
            i += 1
        a = start
        while a < i and points[a] < n_space and space[points[a]]:
            a += 1
        b = i
        while b > a and points[b - 1] < n_space and space[points[b - 1]]:
            b -= 1
        if b > a:
            out[found, 0] = start
            out[found, 1] = i
            out[found, 2] = a - start
            out[found, 3] = b - a
            found += 1
    return out[:found]


@functools.lru_cache(maxsize=None)
def sentence_tables(ends: str) -> tuple[np.ndarray, np.ndarray]:
    """For :func:`sentence_spans`: which code points end a sentence (``ends``) and which are white
    space to Python's ``str.strip`` (none above U+3000)."""
    end = np.zeros(max(map(ord, ends)) + 1, dtype=np.bool_)
    end[[ord(c) for c in ends]] = True
    space = np.array([chr(c).isspace() for c in range(0x3001)], dtype=np.bool_)
    return end, space


def char_occurrences(points: np.ndarray, begin: np.ndarray, lens: np.ndarray, tables: Any,
                     width: int) -> tuple[np.ndarray, np.ndarray]:
    """(sentence, column) of the vocabulary's character n-grams in the sentences at ``begin`` /
    ``lens`` of ``points`` (uint32 code points, lower-cased), sentence by sentence: what the NumPy
    packing and :class:`~govtext.themes._linear.CodeTable` lookup find, from ``tables`` (n -> the
    :func:`slots` of its table)."""
    rows, cols = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for n, (slots, shift) in tables.items():
        r, c = grams(points, begin, lens, n, slots, shift, np.uint64(width))
        rows.append(r)
        cols.append(c)
    return np.concatenate(rows), np.concatenate(cols)


def slots(keys: np.ndarray, values: np.ndarray, bits: int) -> tuple[np.ndarray, np.uint64]:
    """A hash table's keys and values side by side (one memory read finds both; values as uint64,
    -1 wrapping to 2**64 - 1 and back), and the shift that picks a code's first slot."""
    pairs = np.empty((len(keys), 2), dtype=np.uint64)
    pairs[:, 0] = keys
    pairs[:, 1] = values.astype(np.int64).view(np.uint64)
    return pairs, np.uint64(64 - bits)


def term_table(idf: np.ndarray, coef: np.ndarray, s_coef: np.ndarray | None) -> np.ndarray:
    """One row per term: its idf, its coefficient for each label, and (when there are sentence
    coefficients) its sentence coefficient for each label - what the kernel reads of a term, side by side."""
    parts = [np.asarray(idf, dtype=np.float64)[:, None], np.asarray(coef, dtype=np.float64).T]
    if s_coef is not None:
        parts.append(np.asarray(s_coef, dtype=np.float64).T)
    return np.ascontiguousarray(np.hstack(parts))


def compiled_scores(per_doc: np.ndarray, words: tuple[np.ndarray, np.ndarray], chars: tuple[np.ndarray, np.ndarray],
                    w_table: np.ndarray, c_table: np.ndarray, n_labels: int, with_sentences: bool,
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """(documents x labels, sentences x labels) products of the documents' and sentences' TF-IDF rows
    with the coefficients (sentences: None unless ``with_sentences``), intercepts not added.
    ``words`` and ``chars`` are the (sentence, column) of each word and n-gram occurrence, their
    tables the :func:`term_table` of the word and of the n-gram columns."""
    n_docs, n_sent = len(per_doc), int(per_doc.sum())
    w_rows, w_cols = (np.ascontiguousarray(a, dtype=np.int64) for a in words)
    c_rows, c_cols = (np.ascontiguousarray(a, dtype=np.int64) for a in chars)
    # the most a term can count in one document: the most occurrences a document has
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), per_doc)
    most = max([int(np.bincount(doc_of[r]).max()) for r in (w_rows, c_rows) if len(r)] or [0])
    tf = sublinear_tf_table(most)
    doc_out = np.zeros((n_docs, n_labels))
    sent_out = np.zeros((n_sent if with_sentences else 0, n_labels))
    score(np.ascontiguousarray(per_doc, dtype=np.int64), n_sent, w_rows, w_cols, c_rows, c_cols, tf, w_table, c_table,
          with_sentences, doc_out, sent_out)
    return doc_out, (sent_out if with_sentences else None)
