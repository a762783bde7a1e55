"""A fitted theme model's arithmetic — features, scores, evidence — with NumPy and SciPy only.

:class:`~govtext.ThemeClassifier` (a scikit-learn estimator, for training, search and pipelines)
and :class:`ThemePredictor` (for prediction without importing scikit-learn, e.g. a command-line run)
share it through :class:`ThemeArithmetic`, and read saved folders with :func:`load_fitted`.
Both give identical probabilities.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._backend import check_backend, resolve_backend
from .._common import SENTENCE_END, SENTENCE_RE, check_text_list
from ..text.clean import line_kind, normalize
from ..errors import ParameterError
from ..persist import (
    IncompatibleModelError, check_range, check_saved, load_arrays, read_json, read_manifest, read_weighted_terms,
    reading, saved_int, section,
)
from ..features.weighting import weigh_counts, weigh_rows
from ..text.tokenize import Tokenizer, default_stopwords, governance_terms
from .genre import GENRES, HEADLINE, check_genre, infer_genre

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = ["Explanation", "LabelEvidence", "TermWeight", "ThemePredictor", "evidence_overlap"]

# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class TermWeight:
    """A word (or run of adjacent words) of the text and how much it added to a theme's score: the
    TF-IDF value × coefficient of the word, plus its share of the character n-grams that fall in it."""

    term: str
    weight: float


@dataclass(frozen=True)
class LabelEvidence:
    """One theme's verdict on a text and the evidence for it."""

    label: str
    probability: float
    threshold: float
    predicted: bool
    terms: tuple[TermWeight, ...]
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    """Per-theme probability, decision, strongest terms and the sentences that carry them."""

    labels: tuple[LabelEvidence, ...]

    def __getitem__(self, label: str) -> LabelEvidence:
        for ev in self.labels:
            if ev.label == label:
                return ev
        raise KeyError(f"no label {label!r}; labels are {[e.label for e in self.labels]}")

    @property
    def predicted(self) -> list[str]:
        return [e.label for e in self.labels if e.predicted]

    def to_dict(self) -> dict[str, Any]:
        return {
            e.label: {
                "probability": round(e.probability, 4),
                "predicted": e.predicted,
                "terms": [[t.term, round(t.weight, 4)] for t in e.terms],
                "sentences": list(e.sentences),
            }
            for e in self.labels
        }

    def __str__(self) -> str:
        lines = []
        for e in self.labels:
            mark = "YES" if e.predicted else "no "
            lines.append(f"{mark} {e.label:<16} p={e.probability:.2f} (threshold {e.threshold:.2f})")
            if e.terms:
                lines.append("    terms: " + ", ".join(f"{t.term} +{t.weight:.2f}" for t in e.terms))
            for s in e.sentences:
                lines.append(f"    「{s}」")
        return "\n".join(lines)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text if ch.isalnum())
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def evidence_overlap(quoted: str, sentence: str) -> float:
    """How far ``sentence`` is the one a coder ``quoted``: 1.0 when one contains the other (ignoring
    punctuation and spaces), else the share of the shorter one's character bigrams found in the
    other. govtext counts a sentence as the quoted one at 0.5 or more.

    >>> evidence_overlap("社区召开居民议事会", "3日,某社区召开居民议事会。")
    1.0
    """
    a = "".join(ch for ch in normalize(quoted) if ch.isalnum())
    b = "".join(ch for ch in normalize(sentence) if ch.isalnum())
    if not a or not b:
        return 0.0
    if a in b or b in a:
        return 1.0
    ga, gb = _bigrams(a), _bigrams(b)
    return len(ga & gb) / min(len(ga), len(gb))


class _PieceColumns(dict):  # type: ignore[type-arg]
    """Segmenter piece -> word column (-1: the tokenizer drops the piece, or its token is not in the
    vocabulary), filled on first sight of each piece. Pieces of one to three characters seen before
    are also kept in a :class:`CodeTable` under their packed code points, so that a batch's short
    pieces (most of them) are looked up in one vectorised pass instead of one hash of a new string
    each; longer pieces, and short ones not yet in the table, go through the dictionary."""

    def __init__(self, tokenizer: Tokenizer, index: Mapping[str, int]) -> None:
        super().__init__()
        self.tokenizer = tokenizer
        self.params = tokenizer.get_params()
        self.index = index
        self.short: CodeTable | None = None  # packed short piece -> its column + 1 (0: dropped)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []  # short pieces looked up since the table was built
        self._n_pending = 0
        self._slots: tuple[CodeTable | None, Any] | None = None  # the table as the compiled kernel reads it

    def __missing__(self, piece: str) -> int:
        value = self[piece] = self.index.get(self.tokenizer.keep(piece), -1)
        return value

    def __reduce__(self) -> tuple[Any, ...]:  # a pickled model carries an empty cache, not every piece seen
        return (_PieceColumns, (self.tokenizer, self.index))

    def columns(self, pieces: list[str], points: np.ndarray, ends: np.ndarray, compiled: bool = False) -> np.ndarray:
        """The column of each of ``pieces`` (as ``self[piece]``), given the code points of the pieces
        joined (``points``, uint64) and the offset just past each piece in them (``ends``);
        ``compiled``: the short pieces packed and looked up by the compiled kernel (the same columns)."""
        table = self.short
        lens = np.diff(ends, prepend=0)
        if compiled:
            from ._kernel import piece_keys, slots

            if self._slots is None or self._slots[0] is not table:
                t = table if table is not None else CodeTable(np.zeros(0, np.uint64), np.zeros(0, np.int64), 64)
                self._slots = (table, slots(t.keys, t.values, t.bits))
            out, keys = piece_keys(points, ends, *self._slots[1], np.uint64(_BITS))
            is_short = (lens >= 1) & (lens <= 3)
        else:
            keys, is_short = _short_piece_keys(points, ends - lens, lens)
            out = np.full(len(pieces), -2, dtype=np.int64)
            if table is not None:
                short = np.flatnonzero(is_short)
                out[short] = table.find(keys[short]) - 1  # not in the table: -2
        todo = np.flatnonzero(out == -2)
        get = self.__getitem__
        out[todo] = np.array([get(pieces[i]) for i in todo.tolist()], dtype=np.int64)
        new = todo[is_short[todo]]
        if len(new):
            self._pending.append((keys[new], out[new] + 1))
            self._n_pending += len(new)
            size = 0 if table is None else len(table.keys) // 8
            if table is None or self._n_pending >= max(1024, size):
                self._index_short()
        return out

    def _index_short(self) -> None:
        """Rebuild the table of short pieces with those looked up since it was last built."""
        pending, self._pending, self._n_pending = self._pending, [], 0
        keys = [k for k, _ in pending]
        values = [v for _, v in pending]
        if self.short is not None:
            used = self.short.keys != _EMPTY
            keys.append(self.short.keys[used])
            values.append(self.short.values[used])
        all_keys, first = np.unique(np.concatenate(keys), return_index=True)
        self.short = CodeTable.build(all_keys, np.concatenate(values)[first])


_LENGTH_TAG = {1: np.uint64(1 << 63), 2: np.uint64(3 << 62), 3: np.uint64(0)}  # keeps the three lengths apart


def _short_piece_keys(points: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A distinct uint64 per string of one to three characters (its code points packed, tagged with
    its length; never the empty-slot code), for the pieces at ``starts`` / ``lens`` of ``points``;
    and which pieces have one (longer or empty pieces get 0)."""
    keys = np.zeros(len(lens), dtype=np.uint64)
    for n, tag in _LENGTH_TAG.items():
        at = np.flatnonzero(lens == n)
        first = starts[at]
        code = points[first]
        for k in range(1, n):
            code = (code << np.uint64(_BITS)) | points[first + k]
        keys[at] = code | tag
    return keys, (lens >= 1) & (lens <= 3)


_BITS = 21  # a Unicode code point fits in 21 bits: an n-gram of up to 3 characters packs into one uint64
MAX_CHAR_N = 3


def pack_ngrams(sentences: list[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(sentence number, packed code) of every run of ``n`` characters inside one sentence (lower-cased)."""
    lowered = [s.lower() for s in sentences]
    lens = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
    points = np.frombuffer("\n".join(lowered).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    points = points.astype(np.uint64)
    owner = np.repeat(np.arange(len(lowered)), lens + 1)[: len(points)]
    owner[np.cumsum(lens + 1)[:-1] - 1] = -1  # the separators between sentences
    m = len(points) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    code = points[:m].copy()
    for k in range(1, n):
        code = (code << np.uint64(_BITS)) | points[k : k + m]
    keep = (owner[:m] >= 0) & (owner[:m] == owner[n - 1 : n - 1 + m])
    return owner[:m][keep], code[keep]


def _pack_terms(terms: Sequence[str], n: int) -> np.ndarray:
    """Packed codes of terms that are all ``n`` characters long."""
    if not terms:
        return np.zeros(0, dtype=np.uint64)
    points = np.frombuffer("".join(terms).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    points = points.astype(np.uint64).reshape(-1, n)
    code = points[:, 0].copy()
    for k in range(1, n):
        code = (code << np.uint64(_BITS)) | points[:, k]
    return code


_EMPTY = np.uint64(2**64 - 1)  # no packed code: they have at most 3 * 21 = 63 bits
_SPREAD = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the top bits of code * this pick a slot


@dataclass(frozen=True)
class CodeTable:
    """Packed n-gram codes -> columns, as an open-addressing hash table (linear probing, at most a
    quarter full) looked up for a whole array of codes at once: a few vectorised probes, where a
    binary search would take one pass per bit of the table's size."""

    keys: np.ndarray  # uint64 code per slot, _EMPTY where free
    values: np.ndarray  # column per slot
    bits: int

    @classmethod
    def build(cls, codes: np.ndarray, values: np.ndarray) -> CodeTable:
        """A table of distinct ``codes`` and their ``values``."""
        bits = max(4, int(len(codes) * 4 - 1).bit_length())
        mask = (1 << bits) - 1
        keys = np.full(1 << bits, _EMPTY, dtype=np.uint64)
        slots_values = np.full(1 << bits, -1, dtype=np.int64)
        todo = np.arange(len(codes))
        slot = _home(codes, bits)
        while len(todo):  # each round, the first code of each free slot takes it; the others move on
            free = np.flatnonzero(keys[slot] == _EMPTY)
            taken, first = np.unique(slot[free], return_index=True)
            winners = free[first]
            keys[taken] = codes[todo[winners]]
            slots_values[taken] = values[todo[winners]]
            left = np.ones(len(todo), dtype=bool)
            left[winners] = False
            todo, slot = todo[left], (slot[left] + 1) & mask
        return cls(keys, slots_values, bits)

    def find(self, codes: np.ndarray) -> np.ndarray:
        """The value of each code, -1 for codes not in the table."""
        mask = (1 << self.bits) - 1
        slot = _home(codes, self.bits)
        key = self.keys[slot]
        hit = key == codes
        out = np.where(hit, self.values[slot], -1)  # most codes are settled by their first slot
        todo = np.flatnonzero(~hit & (key != _EMPTY))
        slot = (slot[todo] + 1) & mask
        while len(todo):
            key = self.keys[slot]
            hit = key == codes[todo]
            out[todo[hit]] = self.values[slot[hit]]
            going = ~hit & (key != _EMPTY)
            todo, slot = todo[going], (slot[going] + 1) & mask
        return out


def _home(codes: np.ndarray, bits: int) -> np.ndarray:
    """The first slot each code tries in a table of 2**bits slots."""
    return ((codes.astype(np.uint64) * _SPREAD) >> np.uint64(64 - bits)).astype(np.int64)


def unpack_terms(codes: np.ndarray, n: int) -> list[str]:
    shifts = np.array([_BITS * (n - 1 - k) for k in range(n)], dtype=np.uint64)
    points = ((codes[:, None] >> shifts) & np.uint64((1 << _BITS) - 1)).astype(np.uint32)
    text = points.tobytes().decode("utf-32-le", "surrogatepass")
    return [text[i : i + n] for i in range(0, len(text), n)]


def max_per_doc(scores: np.ndarray, per_doc: np.ndarray, default: np.ndarray) -> np.ndarray:
    """Row-wise maximum of sentence ``scores`` (n_sentences, k) within each document; ``default``
    for a document with no sentence."""
    out = np.tile(default, (len(per_doc), 1))
    has = per_doc > 0
    if scores.shape[0]:
        starts = np.r_[0, np.cumsum(per_doc)[:-1]]
        out[has] = np.maximum.reduceat(scores, starts[has], axis=0)
    return out


FLAT_MAX_TEXTS = 64  # batches up to this size are scored without SciPy (and without numba)


class _Memo(dict):  # type: ignore[type-arg]
    """Arrays the compiled kernel reads, derived from a model's fitted arrays and kept between calls
    (each with the arrays it came from, to tell when to remake it); a pickled model carries it empty."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Memo, ())


def _import_kernel() -> Any:
    """Import the compiled kernel's module (an ImportError when numba does not import)."""
    from ._kernel import compiled_scores

    return compiled_scores


def canonical_counts(rows: np.ndarray, cols: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (row, column, count) entries of the occurrences (``rows``, ``cols``), sorted by row, then
    column: what a CSR matrix built from them holds once its duplicates are summed."""
    keys = np.sort(rows * n_cols + cols, kind="stable")  # nearly sorted already: rows come in order
    if not len(keys):
        return keys, keys, keys
    first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    unique = keys[first]
    return unique // n_cols, unique % n_cols, np.diff(np.r_[first, len(keys)])


def document_counts(docs: np.ndarray, cols: np.ndarray, counts: np.ndarray,
                    n_cols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The documents' counts from their sentences' canonical entries (``docs``: the document of each
    entry's sentence), in the order SciPy's sparse product ``owner @ sentences`` stores them: in each
    document, the columns in the reverse order of their first appearance (sentence by sentence,
    columns ascending), as its one-pass product (a linked list of the columns met) leaves them."""
    keys = docs * n_cols + cols
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    if not len(keys):
        return keys, keys, keys
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first = order[starts]  # where each (document, column) first appears
    totals = np.add.reduceat(counts[order], starts)
    d = ordered[starts] // n_cols
    # the entries of document i are those at [begin[i], end[i]) in sentence order: reverse them there
    n_docs = int(docs[-1]) + 1
    bounds = np.searchsorted(docs, np.arange(n_docs + 1))
    flipped = bounds[d] + bounds[d + 1] - 1 - first  # distinct, within [0, len(keys))
    slot = np.full(len(keys), -1, dtype=np.int64)
    slot[flipped] = np.arange(len(flipped))
    place = slot[slot >= 0]
    return d[place], (ordered[starts] % n_cols)[place], totals[place]


def weighed(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, idf: np.ndarray, n_rows: int) -> np.ndarray:
    """TF-IDF values of CSR-ordered entries (sublinear tf, idf, each row's l2 norm), as
    :func:`~govtext.features.weighting.weigh_counts` weighs the matrix they make."""
    data = counts.astype(np.float64)
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=n_rows))]
    weigh_rows(data, cols, indptr, idf, sublinear_tf=True, norm="l2")
    return data


def flat_scores(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], coef: np.ndarray, n_rows: int) -> np.ndarray:
    """(n_rows, k) products of rows given as ``parts`` of (row, column, value) entries with ``coef.T``,
    each row's terms added one after another from 0 in the order of the parts and of their entries,
    as SciPy's CSR-times-dense product adds the row of the matrix the parts make side by side."""
    out = np.zeros((n_rows, coef.shape[0]))
    if not parts:
        return out
    rows = np.concatenate([r for r, _, _ in parts])
    for j in range(coef.shape[0]):
        terms = np.concatenate([v * coef[j, c] for _, c, v in parts])
        out[:, j] = np.bincount(rows, weights=terms, minlength=n_rows)
    return out


@dataclass(frozen=True)
class Segments:
    """Prepared texts cut into sentences, with the vocabulary column of each word occurrence."""

    sentences: list[str]
    per_doc: np.ndarray  # sentences per text
    word_rows: np.ndarray  # the sentence of each in-vocabulary word occurrence, in reading order
    word_cols: np.ndarray  # its column
    char: tuple[np.ndarray, np.ndarray] | None = None  # (sentence, column) of each character n-gram, when found


@dataclass(frozen=True)
class Features:
    """TF-IDF features of documents and of their sentences (one segmentation pass serves both)."""

    doc: sp.csr_matrix  # (n_docs, n_features)
    sentence: sp.csr_matrix  # (n_sentences, n_features), documents' sentences in order
    per_doc: np.ndarray  # sentences per document
    sentences: list[str]


class ThemeArithmetic:
    """Prediction and evidence from fitted attributes (``classes_``, ``tokenizer_``, the
    vocabularies, ``coef_`` …, ``thresholds_``) and the ``max_chars`` / ``char_ngrams`` settings."""

    max_chars: int | None
    char_ngrams: tuple[int, int] | None
    #: How batches of more than ``FLAT_MAX_TEXTS`` texts are scored: ``"auto"`` (a compiled pass when
    #: numba imports, ``pip install govtext[fast]``; SciPy's sparse products otherwise), ``"numba"``
    #: (an error without numba) or ``"numpy"`` (SciPy). The same probabilities to the last bit; a
    #: runtime setting, not saved with the model nor cloned (``model.backend = "numpy"``).
    backend: str = "auto"

    def _term_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """The compiled kernel's tables of the word and of the n-gram columns (idf and coefficients
        side by side), made once and kept while the fitted arrays they come from are the same."""
        from ._kernel import term_table

        n = len(self._word_idf)
        s_coef = self.sentence_coef_ if self.stack_[:, 1].any() else None
        sources = (self._word_idf, self._char_idf, self.coef_, s_coef)
        memo = self._kernel_memo()
        kept = memo.get("tables")
        if kept is None or any(a is not b for a, b in zip(kept[0], sources)):
            tables = (term_table(self._word_idf, self.coef_[:, :n], None if s_coef is None else s_coef[:, :n]),
                      term_table(self._char_idf, self.coef_[:, n:], None if s_coef is None else s_coef[:, n:]))
            kept = memo["tables"] = (sources, tables)
        return kept[1]

    def _kernel_memo(self) -> _Memo:
        memo = getattr(self, "_memo", None)
        if memo is None:
            memo = self._memo = _Memo()
        return memo

    def _path_for(self, n_texts: int) -> str:
        """The scoring path :meth:`_predict_scores` takes for ``n_texts`` texts."""
        if n_texts <= FLAT_MAX_TEXTS:
            return "flat"
        check_backend(type(self).__name__, self.backend)
        if self.backend == "numpy":
            return "sparse"
        return "compiled" if resolve_backend(self.backend, _import_kernel) == "numba" else "sparse"

    # -- input preparation ------------------------------------------------------------------
    def _prepare(self, X: Any, normalized: bool = False) -> list[str]:
        docs = check_text_list(X, "X")
        out = []
        for i, doc in enumerate(docs):
            if doc is None or (isinstance(doc, float) and np.isnan(doc)):
                out.append("")
                continue
            if not isinstance(doc, str):
                raise ParameterError(f"X[{i}] is {type(doc).__name__}; every document must be a str")
            text = doc if normalized else normalize(doc)
            out.append(text[: self.max_chars] if self.max_chars else text)
        return out

    def _sentence_words(self, texts: list[str]) -> tuple[list[str], np.ndarray, list[list[str]]]:
        """Sentences of prepared texts, how many per text, and each sentence's word tokens (for
        fitting, before there is a vocabulary)."""
        split = self.tokenizer_.sentences
        sentences: list[str] = []
        words: list[list[str]] = []
        per_doc = np.zeros(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            pairs = split(text, normalized=True)
            per_doc[i] = len(pairs)
            for sentence, tokens in pairs:
                sentences.append(sentence)
                words.append(tokens)
        return sentences, per_doc, words

    def _words_to_segments(self, sentences: list[str], per_doc: np.ndarray, words: list[list[str]]) -> Segments:
        """What :meth:`_sentence_words` gave, with words as columns of the fitted vocabulary."""
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        flat = list(chain.from_iterable(words))
        cols = np.fromiter(map(self._word_index.get, flat, repeat(-1)), dtype=np.int64, count=len(flat))
        rows = np.repeat(np.arange(len(words)), lengths)
        known = cols >= 0
        return Segments(sentences, per_doc, rows[known], cols[known])

    def _piece_columns(self) -> _PieceColumns:
        """The fitted vocabulary's column of each segmenter piece, remembered across calls (rebuilt
        when the tokenizer, its parameters or the vocabulary change)."""
        tok = self.tokenizer_
        cache = getattr(self, "_piece_cols", None)
        if (cache is None or cache.tokenizer is not tok or cache.index is not self._word_index
                or len(cache) > 1_000_000 or cache.params != tok.get_params()):
            cache = self._piece_cols = _PieceColumns(tok, self._word_index)
        return cache

    def _segments(self, texts: list[str], compiled: bool = False) -> Segments:
        """Sentences of prepared texts and their words' columns, from one segmenter pass per text.

        The whole batch is handled as one string: the texts' segmenter pieces, a line break between
        texts (which ends a sentence, so no sentence spans two texts), every piece looked up once,
        sentences found in one regular-expression pass and placed on the pieces with one search;
        the character n-grams of all sentences are packed from the same string. The result is what
        :meth:`Tokenizer.sentence_pieces` gives text by text (the sentence strings, and a piece that
        straddles a sentence end belonging to both sentences)."""
        cut = self.tokenizer_._segment
        pieces: list[str] = []
        n_pieces = np.zeros(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            p = cut(text, False)
            n_pieces[i] = len(p)
            pieces += p
            pieces.append("\n")
        joined = "".join(pieces)
        ends = np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)))
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        ids = self._piece_columns().columns(pieces, points, ends, compiled)
        if compiled:  # the same matches, found by the compiled kernel
            from ._kernel import sentence_spans, sentence_tables

            found = sentence_spans(points, *sentence_tables(SENTENCE_END))
            spans = found[:, :3]
            sentences = [joined[a : a + n] for a, n in zip((found[:, 0] + found[:, 2]).tolist(), found[:, 3].tolist())]
        else:
            sentences = []
            bounds: list[int] = []  # start, end and leading white space of each sentence's match
            for m in SENTENCE_RE.finditer(joined):
                g = m.group()
                s = g.strip()
                if s:
                    sentences.append(s)
                    bounds += (m.start(), m.end(), g.find(s[0]))
            spans = np.array(bounds, dtype=np.int64).reshape(-1, 3)
        # piece i ends at ends[i]: a sentence runs from the piece holding its first character to the
        # piece holding its last (the separators between texts are pieces too, never in a sentence)
        first = np.searchsorted(ends, spans[:, 0], side="right")
        stop = np.searchsorted(ends, spans[:, 1], side="left") + 1
        text_ends = np.cumsum(n_pieces + 1)
        per_doc = np.bincount(np.searchsorted(text_ends, first, side="right"), minlength=len(texts))
        counts = stop - first
        at = np.arange(int(counts.sum()), dtype=np.int64) + np.repeat(first - (np.cumsum(counts) - counts), counts)
        rows = np.repeat(np.arange(len(sentences), dtype=np.int64), counts)
        cols = ids[at]
        known = cols >= 0
        char = self._batch_char_counts(joined, sentences, spans, points, compiled) if self.char_ngrams else None
        return Segments(sentences, per_doc, rows[known], cols[known], char)

    def _batch_char_counts(self, joined: str, sentences: list[str], spans: np.ndarray,
                           points: np.ndarray, compiled: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """(sentence, column) of every vocabulary character n-gram in the ``sentences`` found at
        ``spans`` of ``joined`` (start, end and leading white space of each sentence before
        stripping; ``points``: its code points), packed from the whole string at once; None when
        lower-casing the whole string is not lower-casing each sentence (a length-changing or
        context-dependent case mapping), so the caller packs sentence by sentence. ``compiled``: the
        n-grams packed and looked up by the compiled kernel, sentence by sentence (the same pairs)."""
        lowered = joined.lower()
        if len(lowered) != len(joined) or "\u03a3" in joined:
            return None
        lens = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        begin = spans[:, 0] + spans[:, 2]  # after the white space that stripping removed
        if compiled:
            from ._kernel import char_occurrences, slots

            memo = self._kernel_memo()
            kept = memo.get("char_slots")
            if kept is None or kept[0] is not self._char_lookup:
                kept = memo["char_slots"] = (self._char_lookup, {n: slots(t.keys, t.values, t.bits)
                                                                 for n, t in self._char_lookup.items()})
            code_points = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            return char_occurrences(code_points, begin, lens, kept[1], _BITS)
        if lowered != joined:
            points = np.frombuffer(lowered.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        size = len(points) + 1
        inside = np.cumsum(np.bincount(begin, minlength=size) - np.bincount(begin + lens, minlength=size))[:-1] > 0
        owner = np.where(inside, np.cumsum(np.bincount(begin, minlength=size))[:-1] - 1, -1)
        rows, cols = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for n, table in self._char_lookup.items():
            m = len(points) - n + 1
            if m <= 0:
                continue
            code = points[:m].copy()
            for k in range(1, n):
                code = (code << np.uint64(_BITS)) | points[k : k + m]
            ok = (owner[:m] >= 0) & (owner[:m] == owner[n - 1 : n - 1 + m])
            column = table.find(code[ok])
            hit = column >= 0
            rows.append(owner[:m][ok][hit])
            cols.append(column[hit])
        return np.concatenate(rows), np.concatenate(cols)

    def _char_pairs(self, sentences: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(sentence, column) of every vocabulary character n-gram in ``sentences``, packed sentence by sentence."""
        rows, cols = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
        for n, table in self._char_lookup.items():
            owner, codes = pack_ngrams(sentences, n)
            column = table.find(codes)
            hit = column >= 0
            rows.append(owner[hit])
            cols.append(column[hit])
        return np.concatenate(rows), np.concatenate(cols)

    def _char_counts(self, sentences: list[str], found: tuple[np.ndarray, np.ndarray] | None = None) -> sp.csr_matrix:
        """Counts of the vocabulary's character n-grams in each sentence (``found``: their
        (sentence, column) pairs, when already at hand)."""
        import scipy.sparse as sp

        r, c = found if found is not None else self._char_pairs(sentences)
        return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(sentences), len(self._char_idf)))

    def _features(self, texts: list[str], segmented: Segments | None = None) -> Features:
        """Features of prepared (normalised, cut) texts, with the fitted vocabulary
        (``segmented``: their :class:`Segments`, when already at hand)."""
        import scipy.sparse as sp

        seg = segmented if segmented is not None else self._segments(texts)
        sentences, per_doc = seg.sentences, seg.per_doc
        words = sp.csr_matrix((np.ones(len(seg.word_rows)), (seg.word_rows, seg.word_cols)),
                              shape=(len(sentences), len(self._word_idf)))
        counts = [(words, self._word_idf)]
        if self.char_ngrams:
            counts.append((self._char_counts(sentences, seg.char), self._char_idf))
        # owner[i, s] = 1 when sentence s belongs to text i: document counts are sums of sentence counts
        owner = sp.csr_matrix((np.ones(len(sentences)), np.arange(len(sentences)), np.r_[0, np.cumsum(per_doc)]),
                              shape=(len(texts), len(sentences)))
        doc = sp.hstack([weigh_counts(owner @ c, idf) for c, idf in counts], format="csr")
        sent = sp.hstack([weigh_counts(c, idf) for c, idf in counts], format="csr")
        return Features(doc, sent, per_doc, sentences)

    def _set_vocabulary(self, word_terms: Sequence[str], word_idf: np.ndarray,
                        char_terms: Sequence[str], char_idf: np.ndarray) -> None:
        self._word_index = {t: i for i, t in enumerate(word_terms)}
        self._piece_cols = None
        self._word_idf = np.asarray(word_idf, dtype=np.float64)
        self._char_idf = np.asarray(char_idf, dtype=np.float64)
        self._char_lookup: dict[int, CodeTable] = {}
        if self.char_ngrams:
            lo, hi = self.char_ngrams
            lengths = np.fromiter(map(len, char_terms), dtype=np.int64, count=len(char_terms))
            if len(lengths) and (lengths.min() < lo or lengths.max() > hi):
                raise IncompatibleModelError(f"character n-grams must be {lo} to {hi} characters long, "
                                             f"found lengths {lengths.min()} to {lengths.max()}")
            for n in range(lo, hi + 1):
                columns = np.flatnonzero(lengths == n)
                codes = _pack_terms([char_terms[i] for i in columns], n)
                self._char_lookup[n] = CodeTable.build(codes, columns)
        self.feature_names_ = np.array(list(word_terms) + list(char_terms), dtype=object)
        self.idf_ = np.r_[self._word_idf, self._char_idf]
        self.n_features_ = len(self.feature_names_)

    # -- prediction -------------------------------------------------------------------------
    def _genres(self, texts: list[str], genre: Any) -> np.ndarray:
        """Genre codes of prepared ``texts``: the caller's ``genre`` when given, else read from the texts."""
        return infer_genre(texts) if genre is None else check_genre(genre, len(texts))

    def _scores(self, feats: Features, genres: np.ndarray | None = None,
                texts: list[str] | None = None) -> np.ndarray:
        """(n, k) log-odds of the texts whose features are ``feats``; with their ``genres`` calibrated per
        genre, and (when the model has a headline model and the prepared ``texts`` are given) the
        headlines' from the short-text model."""
        doc = np.asarray(feats.doc @ self.coef_.T) + self.intercept_
        sent = None
        if self.stack_[:, 1].any():
            sent = np.asarray(feats.sentence @ self.sentence_coef_.T) + self.sentence_intercept_
        return self._combine(doc, sent, feats.per_doc, genres, texts)

    def _combine(self, doc: np.ndarray, sent: np.ndarray | None, per_doc: np.ndarray,
                 genres: np.ndarray | None, texts: list[str] | None) -> np.ndarray:
        """The log-odds from the documents' scores ``doc`` and their sentences' scores ``sent``."""
        if sent is None:
            out = doc * self.stack_[:, 0] + self.stack_[:, 2]
        else:
            best = max_per_doc(sent, per_doc, self.sentence_intercept_)
            out = doc * self.stack_[:, 0] + best * self.stack_[:, 1] + self.stack_[:, 2]
        if genres is not None:
            out += self.genre_shift_.T[genres]
            short = getattr(self, "short_coef_", None)
            heads = np.flatnonzero(genres == HEADLINE)
            if short is not None and texts is not None and len(heads):
                from ._short import short_terms

                X = self.short_vocabulary_.transform([short_terms(texts[i], self.tokenizer_) for i in heads])
                out[heads] = np.asarray(X @ short.T) + self.short_intercept_
        return out

    def _predict_scores(self, texts: list[str], genres: np.ndarray | None, path: str | None = None) -> np.ndarray:
        """(n, k) log-odds of prepared ``texts``: ``_scores(_features(texts), genres, texts)``, by one of
        three paths that give the same numbers to the last bit (``path``; default: the fastest here).

        ``"flat"``: NumPy alone, from flat arrays (the same entries in the same order as SciPy's
        products, each row's terms added one after another) - the default for a few texts (at most
        ``FLAT_MAX_TEXTS``), so a command that classifies one file imports neither SciPy nor numba,
        whose imports would be most of its start-up. ``"compiled"``: one compiled pass over the
        occurrences (:mod:`govtext.themes._kernel`) - the default for more texts when numba imports
        and ``backend`` allows it. ``"sparse"``: SciPy's sparse products - the default otherwise."""
        path = path or self._path_for(len(texts))
        if path == "sparse":
            return self._scores(self._features(texts), genres, texts)
        seg = self._segments(texts, compiled=path == "compiled")
        sentences = len(seg.sentences)
        char = None
        if self.char_ngrams:
            char = seg.char if seg.char is not None else self._char_pairs(seg.sentences)
        with_sentences = bool(self.stack_[:, 1].any())
        if path == "compiled":
            from ._kernel import compiled_scores

            none = np.zeros(0, dtype=np.int64)
            doc, sent = compiled_scores(seg.per_doc, (seg.word_rows, seg.word_cols), char or (none, none),
                                        *self._term_tables(), len(self.classes_), with_sentences)
            doc += self.intercept_
            if sent is not None:
                sent += self.sentence_intercept_
            return self._combine(doc, sent, seg.per_doc, genres, texts)
        parts = [(seg.word_rows, seg.word_cols, self._word_idf, 0)]
        if char is not None:
            parts.append((char[0], char[1], self._char_idf, len(self._word_idf)))
        doc_of = np.repeat(np.arange(len(texts), dtype=np.int64), seg.per_doc)
        doc_parts, sent_parts = [], []
        for rows, cols, idf, offset in parts:
            s_rows, s_cols, s_counts = canonical_counts(rows, cols, len(idf))
            d_rows, d_cols, d_counts = document_counts(doc_of[s_rows], s_cols, s_counts, len(idf))
            doc_parts.append((d_rows, d_cols + offset, weighed(d_rows, d_cols, d_counts, idf, len(texts))))
            if with_sentences:
                sent_parts.append((s_rows, s_cols + offset, weighed(s_rows, s_cols, s_counts, idf, sentences)))
        doc = flat_scores(doc_parts, self.coef_, len(texts)) + self.intercept_
        sent = flat_scores(sent_parts, self.sentence_coef_, sentences) + self.sentence_intercept_ if with_sentences else None
        return self._combine(doc, sent, seg.per_doc, genres, texts)

    def decision_function(self, X: Iterable[str], *, genre: Any = None) -> np.ndarray:
        """(n, k) scores (log-odds) per label (``genre`` as for :meth:`predict_proba`)."""
        texts = self._prepare(X)
        return self._predict_scores(texts, self._genres(texts, genre))

    def predict_proba(self, X: Iterable[str], *, normalized: bool = False, genre: Any = None) -> np.ndarray:
        """(n, k) probabilities, one column per label in ``classes_``. ``normalized=True`` says the
        texts are already ``normalize()``-d (e.g. ``Article.text``), so that step is skipped.

        Probabilities are calibrated per genre (:func:`govtext.infer_genre`: national broadcast,
        local news, headline), read from each text's form unless ``genre`` gives it: one code (0, 1,
        2) or name (``"national_broadcast"``, ``"local_news"``, ``"headline"``) for all texts, or one
        per text."""
        texts = self._prepare(X, normalized=normalized)
        return sigmoid(self._predict_scores(texts, self._genres(texts, genre)))

    def thresholds_for(self, X: Iterable[str], *, normalized: bool = False, genre: Any = None) -> np.ndarray:
        """(n, k) decision thresholds for each text: the per-genre ``genre_thresholds_`` row of its genre."""
        texts = self._prepare(X, normalized=normalized)
        return self.genre_thresholds_[self._genres(texts, genre)]

    def predict(self, X: Iterable[str], *, genre: Any = None) -> np.ndarray:
        """(n, k) 0/1 decisions: a label is predicted when its probability reaches the threshold of
        the text's genre (``genre_thresholds_``; ``genre`` as for :meth:`predict_proba`)."""
        texts = self._prepare(X)
        genres = self._genres(texts, genre)
        proba = sigmoid(self._predict_scores(texts, genres))
        return (proba >= self.genre_thresholds_[genres]).astype(np.int64)

    def predict_labels(self, X: Iterable[str], *, genre: Any = None) -> list[list[str]]:
        """Predicted label names per text (an empty list means no theme)."""
        return [[str(self.classes_[j]) for j in np.flatnonzero(row)] for row in self.predict(X, genre=genre)]

    def out_of_fold(self) -> dict[str, np.ndarray] | None:
        """The model's out-of-fold record, when it has one (None otherwise): ``proba`` (n × k float32
        probabilities of training texts, each from models that did not see it, thresholds and
        calibration cross-fitted too), ``labels`` (n × k int8 coded labels), ``genre`` (n int8, as
        :func:`govtext.infer_genre`) and ``predicted`` (n × k int8 decisions the model would make).
        Use it to estimate the model's error rates per genre (e.g. to correct theme shares)."""
        oof = getattr(self, "oof_", None)
        return None if oof is None else {name: value.copy() for name, value in oof.items()}

    # -- evidence ---------------------------------------------------------------------------
    def _term_owners(self, sentences: list[str], columns: np.ndarray) -> list[list[tuple[str, float]]]:
        """For each feature column present in a text: the words of the text it stands for, with
        shares. A word feature is its word; a character n-gram is shared among the words (or runs of
        adjacent words) that contain its occurrences, so explanations show words, never fragments."""
        n_words = len(self._word_idf)
        spans: list[list[tuple[int, int]]] | None = None
        lowered = [s.lower() for s in sentences]
        out = []
        for col in columns:
            term = str(self.feature_names_[col])
            if col < n_words:
                out.append([(term, 1.0)])
                continue
            if spans is None:
                spans = [_word_spans(self.tokenizer_, s) for s in sentences]
            out.append(_ngram_owners(term, sentences, lowered, spans))
        return out

    def explain(self, text: str, top: int = 5, max_sentences: int = 3, *, genre: Any = None) -> Explanation:
        """Per label: probability, decision, the ``top`` words of the text that raised the document
        score most, and up to ``max_sentences`` sentences that carry the label.

        Character n-gram features are credited to the words of the text they fall in (an n-gram
        across two words to the two together), so the terms are words and phrases that occur in the
        text, never fragments.

        Where the label has a sentence model, the sentences it scores above even odds are given in
        reading order (for a predicted label with none, the best-scoring one); otherwise sentences
        are ranked by the weights of the strongest terms they contain. Lines that are page chrome
        (menus, link lists, footers, spam) are never quoted.
        """
        if not isinstance(text, str):
            raise ParameterError(f"explain() expects one text as a str, got {type(text).__name__}")
        prepared = self._prepare([text])
        feats = self._features(prepared)
        genres = self._genres(prepared, None if genre is None else [genre])
        probs = sigmoid(self._scores(feats, genres, prepared)[0])
        thresholds = self.genre_thresholds_[genres[0]]
        row = feats.doc
        quotable = np.array([line_kind(s) in ("paragraph", "short") for s in feats.sentences], dtype=bool)
        sent_scores = np.asarray(feats.sentence @ self.sentence_coef_.T) + self.sentence_intercept_
        evidence = []
        owners = self._term_owners(feats.sentences, row.indices)
        for j, label in enumerate(self.classes_):
            contrib = row.data * self.coef_[j, row.indices]
            by_word: dict[str, float] = {}
            for c, shares in zip(contrib, owners):
                for word, share in shares:
                    by_word[word] = by_word.get(word, 0.0) + c * share
            ranked = sorted(by_word.items(), key=lambda kv: -kv[1])
            terms = tuple(TermWeight(word, float(w)) for word, w in ranked[:top] if w > 0)
            predicted = bool(probs[j] >= thresholds[j])
            if self.stack_[j, 1] > 0:
                scores = np.where(quotable, sent_scores[:, j], -np.inf)
                # Sentences the sentence model says carry the label, in reading order (coders quote the
                # first one more often than the strongest); when none does, the strongest for a predicted label.
                chosen = [int(i) for i in np.flatnonzero(scores > 0)]
                if not chosen and predicted and np.isfinite(scores).any():
                    chosen = [int(np.argmax(scores))]
            else:
                weight = {t.term: t.weight for t in terms}
                scored = []
                for idx, sent in enumerate(feats.sentences):
                    score = sum(w for term, w in weight.items() if len(term) > 1 and term in sent)
                    if score > 0 and quotable[idx]:
                        scored.append((-score, idx))
                chosen = [idx for _, idx in sorted(scored)]
            best = tuple(feats.sentences[i] for i in chosen[:max_sentences])
            evidence.append(LabelEvidence(str(label), float(probs[j]), float(thresholds[j]),
                                          predicted, terms, best))
        return Explanation(tuple(evidence))



def _word_spans(tokenizer: Tokenizer, sentence: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the content words of ``sentence`` (its segmenter pieces that the
    tokenizer keeps: no stopwords, punctuation or numbers), in reading order."""
    spans, at = [], 0
    for piece in tokenizer.segment(sentence):
        start = sentence.find(piece, at)
        if start < 0:
            continue
        at = start + len(piece)
        if tokenizer(piece, normalized=True):
            spans.append((start, at))
    return spans


def _ngram_owners(gram: str, sentences: list[str], lowered: list[str],
                  spans: list[list[tuple[int, int]]]) -> list[tuple[str, float]]:
    """The words (or runs of adjacent words) of the text that contain each occurrence of the
    character n-gram ``gram``, each with its share of the occurrences."""
    found: list[str] = []
    for sentence, low, words in zip(sentences, lowered, spans):
        at = low.find(gram)
        while at >= 0:
            end = at + len(gram)
            inside = [(a, b) for a, b in words if a < end and b > at]
            if inside:
                found.append(sentence[inside[0][0]: inside[-1][1]])
            at = low.find(gram, at + 1)
    if not found:
        return []
    share = 1.0 / len(found)
    out: dict[str, float] = {}
    for word in found:
        out[word] = out.get(word, 0.0) + share
    return list(out.items())


def load_fitted(model: Any, folder: Path, manifest: dict[str, Any], labels: list[str]) -> None:
    """Set the fitted attributes of ``model`` from a saved folder, checking every file first."""
    char = model.char_ngrams
    tokenizer = model.tokenizer if model.tokenizer is not None else saved_tokenizer(folder, manifest)
    model.classes_ = np.array(labels, dtype=object)
    model.tokenizer_ = tokenizer
    chars = read_weighted_terms(folder, "char_") if char else ([], np.zeros(0))
    model._set_vocabulary(*read_weighted_terms(folder, "word_"), *chars)
    k, n = len(labels), model.n_features_
    # Shapes follow from the labels and vocabularies: a header declaring anything else is refused
    # before its data is decompressed.
    arrays = load_arrays(folder / "linear.npz", {"coef": (k, n), "intercept": (k,), "sentence_coef": (k, n),
                                                  "sentence_intercept": (k,), "stack": (k, 3),
                                                  "genre_shift": (k, len(GENRES))},
                         optional=frozenset({"sentence_coef", "sentence_intercept", "stack", "genre_shift"}))
    model.coef_ = arrays["coef"].astype(np.float64)
    model.intercept_ = arrays["intercept"].astype(np.float64)
    model.sentence_coef_ = arrays.get("sentence_coef", np.zeros_like(model.coef_)).astype(np.float64)
    model.sentence_intercept_ = arrays.get("sentence_intercept", np.zeros(k)).astype(np.float64)
    model.stack_ = arrays.get("stack", np.tile([1.0, 0.0, 0.0], (k, 1))).astype(np.float64)
    thresholds = manifest.get("thresholds")
    if not (isinstance(thresholds, list) and all(isinstance(t, (int, float)) and 0 < t < 1 for t in thresholds)):
        raise IncompatibleModelError(f"{folder}: thresholds must be a list of numbers between 0 and 1")
    model.thresholds_ = np.array(thresholds, dtype=float)
    # Format 3: calibration shifts and thresholds per genre (older models: none, one threshold for all).
    model.genre_shift_ = arrays.get("genre_shift", np.zeros((k, len(GENRES)))).astype(np.float64)
    by_genre = manifest.get("genre_thresholds", [thresholds] * len(GENRES))
    if not (isinstance(by_genre, list) and len(by_genre) == len(GENRES)
            and all(isinstance(row, list) and all(isinstance(t, (int, float)) and 0 < t < 1 for t in row)
                    for row in by_genre)):
        raise IncompatibleModelError(f"{folder}: genre_thresholds must be {len(GENRES)} lists of numbers between 0 and 1")
    model.genre_thresholds_ = np.array(by_genre, dtype=float)
    expected = {"coef": (k, model.n_features_), "sentence_coef": (k, model.n_features_), "intercept": (k,),
                "sentence_intercept": (k,), "stack": (k, 3), "thresholds": (k,), "genre_shift": (k, len(GENRES)),
                "genre_thresholds": (len(GENRES), k)}
    for name, shape in expected.items():
        value = getattr(model, name + "_")
        if value.shape != shape:
            raise IncompatibleModelError(f"{folder}: {name} has shape {value.shape}, expected {shape} for "
                                         f"{k} labels and {model.n_features_} features")
    for name in ("coef", "intercept", "sentence_coef", "sentence_intercept", "stack", "genre_shift"):
        # Fitted weights are far below this; larger ones overflow the logits into NaN.
        check_range(folder / "linear.npz", name, getattr(model, name + "_"), -MAX_WEIGHT, MAX_WEIGHT)
    model.short_vocabulary_, model.short_coef_, model.short_intercept_ = None, None, None
    if manifest.get("params", {}).get("headline_model"):
        from ._short import ShortVocabulary

        vocab = ShortVocabulary(*read_weighted_terms(folder, "short_word_"), *read_weighted_terms(folder, "short_char_"))
        short = load_arrays(folder / "short.npz", {"coef": (k, vocab.n_features), "intercept": (k,)})
        for name in ("coef", "intercept"):
            check_range(folder / "short.npz", name, short[name], -MAX_WEIGHT, MAX_WEIGHT)
        model.short_vocabulary_ = vocab
        model.short_coef_ = short["coef"].astype(np.float64)
        model.short_intercept_ = short["intercept"].astype(np.float64)
    model.oof_ = load_out_of_fold(folder, k)
    model.card_ = section(manifest, folder, "card", {})


MAX_WEIGHT = 1e6


MAX_LABELS = 1000
MAX_SAVED_CHARS = 10**8


LISTS_FILE = "tokenizer_lists.json"


def _digest(words: Iterable[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(words).encode("utf-8")).hexdigest()


def _packaged_lists(tokenizer: Tokenizer) -> dict[str, list[str]]:
    """The word lists a tokenizer takes from govtext or its packages (not from its own parameters):
    the governance dictionary and the default stopwords, when it uses them."""
    lists: dict[str, list[str]] = {}
    if tokenizer.governance_terms:
        lists["governance_terms"] = governance_terms()
    if isinstance(tokenizer.stopwords, str) and tokenizer.stopwords == "default":
        lists["stopwords"] = sorted(default_stopwords())
    return lists


def save_tokenizer_lists(folder: Path, tokenizer: Tokenizer) -> dict[str, str]:
    """Write the governance dictionary and default stopwords ``tokenizer`` was built with into
    ``folder`` (so a later change of govtext's lists cannot change a saved model's features);
    return their SHA-256 digests for the manifest."""
    lists = _packaged_lists(tokenizer)
    if not lists:
        return {}
    import json

    (folder / LISTS_FILE).write_text(json.dumps(lists, ensure_ascii=False, indent=0), encoding="utf-8")
    return {name: _digest(words) for name, words in lists.items()}


def saved_tokenizer(folder: Path, manifest: Mapping[str, Any]) -> Tokenizer:
    """The tokenizer a saved model was trained with. When the folder holds the word lists it was
    built with and they differ from this installation's, the tokenizer is rebuilt from the saved
    lists (same segmentation and stopwords as at training); when they are the same, it is the
    ordinary configured tokenizer."""
    config = dict(section(manifest, folder, "tokenizer"))
    tokenizer = Tokenizer.from_config(config)
    digests = manifest.get("tokenizer_lists")
    if not digests:
        return tokenizer  # saved before format 3: the lists of this installation are used
    try:
        saved = read_json(folder, LISTS_FILE)
    except (OSError, FileNotFoundError) as exc:
        raise IncompatibleModelError(f"{folder}: {LISTS_FILE} is missing or unreadable ({exc})") from None
    if not (isinstance(digests, dict) and isinstance(saved, dict) and set(saved) == set(digests)
            and all(isinstance(v, list) and all(isinstance(w, str) for w in v) for v in saved.values())
            and all(_digest(saved[k]) == digests[k] for k in digests)):
        raise IncompatibleModelError(f"{folder}: {LISTS_FILE} does not match the digests in govtext.json")
    current = _packaged_lists(tokenizer)
    if all(_digest(current.get(k, [])) == digests[k] for k in digests):
        return tokenizer
    user = config.get("user_words") or []
    if "governance_terms" in saved:
        config["governance_terms"] = False
        config["user_words"] = list(saved["governance_terms"]) + list(user)
    if "stopwords" in saved:
        config["stopwords"] = list(saved["stopwords"])
    return Tokenizer(**config)


OOF_FILE = "oof.npz"
OOF_ARRAYS = {"proba": ("f", 2), "labels": ("i", 2), "genre": ("i", 1), "predicted": ("i", 2)}


def save_out_of_fold(folder: Path, oof: Mapping[str, np.ndarray]) -> None:
    """Write the out-of-fold record (``proba`` float32, ``labels``/``genre``/``predicted`` int8) as ``oof.npz``."""
    np.savez_compressed(folder / OOF_FILE, proba=np.asarray(oof["proba"], dtype=np.float32),
                        labels=np.asarray(oof["labels"], dtype=np.int8), genre=np.asarray(oof["genre"], dtype=np.int8),
                        predicted=np.asarray(oof["predicted"], dtype=np.int8))


def load_out_of_fold(folder: Path, k: int) -> dict[str, np.ndarray] | None:
    """The out-of-fold record of a saved model, checked; None when the folder has none."""
    if not (folder / OOF_FILE).is_file():
        return None
    shapes = {name: (None, k) if ndim == 2 else (None,) for name, (_, ndim) in OOF_ARRAYS.items()}
    arrays = load_arrays(folder / OOF_FILE, shapes)
    n = len(arrays["genre"])
    for name, (kind, ndim) in OOF_ARRAYS.items():
        a = arrays[name]
        shape = (n, k) if ndim == 2 else (n,)
        if a.dtype.kind not in kind or a.shape != shape:
            raise IncompatibleModelError(f"{folder}: {OOF_FILE} array {name!r} has dtype {a.dtype} and shape "
                                         f"{a.shape}, expected kind {kind!r} and shape {shape}")
    return {"proba": arrays["proba"].astype(np.float32), "labels": arrays["labels"].astype(np.int8),
            "genre": arrays["genre"].astype(np.int8), "predicted": arrays["predicted"].astype(np.int8)}


def saved_settings(folder: Path, manifest: dict[str, Any]) -> tuple[list[str], tuple[int, int] | None, dict[str, Any]]:
    """(labels, char n-gram range, the other parameters) of a saved ThemeClassifier, checked."""
    where = folder / "govtext.json"
    p = dict(section(manifest, folder, "params"))
    check_saved(where, "labels" in p and "char_ngrams" in p, "params must give labels and char_ngrams")
    labels = p.pop("labels")
    char = p.pop("char_ngrams")
    check_saved(where, isinstance(labels, list) and 0 < len(labels) <= MAX_LABELS
                and all(isinstance(x, str) and x for x in labels) and len(set(labels)) == len(labels),
                f"params.labels must be a list of 1 to {MAX_LABELS} distinct names")
    max_chars = p.get("max_chars")
    check_saved(where, max_chars is None or saved_int(max_chars, 1, MAX_SAVED_CHARS),
                f"params.max_chars must be null or an int in 1..{MAX_SAVED_CHARS:,}, got {str(max_chars)[:40]}")
    if char is not None and not (isinstance(char, list) and len(char) == 2
                                 and all(isinstance(x, int) for x in char) and 1 <= char[0] <= char[1] <= 3):
        raise IncompatibleModelError(f"{folder}: params.char_ngrams must be null or [min_n, max_n] within 1..3")
    return labels, (tuple(char) if char else None), p  # type: ignore[return-value]


class ThemePredictor(ThemeArithmetic):
    """A saved theme model for prediction only: the same ``predict_proba``, ``predict``,
    ``predict_labels`` and ``explain`` as :class:`~govtext.ThemeClassifier`, with the same results,
    without importing scikit-learn (so a command starts in a fraction of the time).

    >>> import govtext
    >>> from govtext._linear import ThemePredictor
    >>> ThemePredictor.load(govtext.persist.default_model_path()).predict_labels(["社区党支部召开组织生活会"])
    [['party_building', 'co_governance']]
    """

    def __init__(self, *, max_chars: int | None, char_ngrams: tuple[int, int] | None,
                 tokenizer: Tokenizer | None = None) -> None:
        self.max_chars = max_chars
        self.char_ngrams = char_ngrams
        self.tokenizer = tokenizer

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ThemePredictor:
        """Read a model folder written by ``ThemeClassifier.save`` (no scikit-learn import)."""
        folder = Path(path)
        with reading(folder, "ThemeClassifier"):
            manifest = read_manifest(folder, "ThemeClassifier")
            labels, char, params = saved_settings(folder, manifest)
            max_chars = params.get("max_chars", 1500)
            model = cls(max_chars=max_chars, char_ngrams=char)
            load_fitted(model, folder, manifest, labels)
            return model

    def __repr__(self) -> str:
        return f"ThemePredictor(labels={[str(c) for c in self.classes_]})"
