"""TF-IDF vectors over govtext's tokenizer, as a scikit-learn transformer."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from .._common import check_tokenizer, CHUNK_SIZE, check_bool, check_choice, check_df, check_int, check_n_jobs, check_text_list, progress_bar
from .._fitted import check_fitted
from ..errors import InputError, ParameterError
from ..persist import (
    check_saved, read_manifest, read_weighted_terms, reading, saved_int, section, write_manifest,
)
from ..text.tokenize import Tokenizer
from .weighting import idf_from_df, weigh_counts, weigh_rows

__all__ = ["Keyword", "Vectorizer", "analyze_many", "count_terms"]


@dataclass(frozen=True)
class Keyword:
    """A term and its TF-IDF weight in one document."""

    term: str
    score: float


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _with_ngrams(tokens: list[str], ngram_range: tuple[int, int]) -> list[str]:
    lo, hi = ngram_range
    if (lo, hi) == (1, 1):
        return tokens
    out = list(tokens) if lo == 1 else []
    for n in range(max(lo, 2), hi + 1):
        out.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return out


def _analyze_chunk(tokenizer: Tokenizer, docs: Sequence[Any], ngram_range: tuple[int, int],
                   normalized: bool = False) -> list[list[str]]:
    return [_with_ngrams(tokenizer(d, normalized=normalized), ngram_range) for d in docs]


def analyze_many(
    tokenizer: Tokenizer,
    docs: Sequence[Any],
    ngram_range: tuple[int, int] = (1, 1),
    n_jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    normalized: bool = False,
) -> list[list[str]]:
    """Tokenise documents (with n-grams), in parallel processes when ``n_jobs`` > 1.

    ``normalized=True`` says the documents are already ``normalize()``-d, so that step is skipped.
    """
    if n_jobs in (None, 1) or len(docs) <= chunk_size:
        return _analyze_chunk(tokenizer, docs, ngram_range, normalized)
    import functools

    from .._common import process_map

    chunks = [docs[i : i + chunk_size] for i in range(0, len(docs), chunk_size)]
    parts = process_map(functools.partial(_analyze_chunk, tokenizer), chunks, n_jobs, ngram_range, normalized)
    return [tokens for part in parts for tokens in part]


class Vectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF vectoriser on govtext's :class:`~govtext.Tokenizer`.

    Parameters (keyword-only): ``tokenizer`` (default ``Tokenizer()``), ``min_df``, ``max_df``,
    ``max_features``, ``ngram_range`` (word n-grams), ``sublinear_tf`` (default True), ``norm``,
    ``smooth_idf``, ``dtype`` and ``n_jobs`` (processes used to tokenise large inputs).

    Fitted attributes: ``vocabulary_`` (term -> column), ``idf_``, ``tokenizer_``.

    >>> vec = Vectorizer(min_df=1).fit(["社区召开居民议事会", "街道推进党建引领基层治理"])
    >>> vec.transform(["居民议事会"]).shape
    (1, 8)
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer | None = None,
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        ngram_range: tuple[int, int] = (1, 1),
        sublinear_tf: bool = True,
        norm: str | None = "l2",
        smooth_idf: bool = True,
        dtype: Any = np.float32,
        n_jobs: int | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.ngram_range = ngram_range
        self.sublinear_tf = sublinear_tf
        self.norm = norm
        self.smooth_idf = smooth_idf
        self.dtype = dtype
        self.n_jobs = n_jobs

    def _sk(self, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
        return TfidfVectorizer(
            analyzer=_identity,
            min_df=self.min_df,
            max_df=self.max_df,
            max_features=self.max_features,
            sublinear_tf=self.sublinear_tf,
            norm=self.norm,
            smooth_idf=self.smooth_idf,
            dtype=self.dtype,
            vocabulary=vocabulary,
        )

    def _validate_params(self) -> None:  # type: ignore[override]
        owner = "Vectorizer"
        check_tokenizer(owner, self.tokenizer)
        check_df(owner, "min_df", self.min_df)
        check_df(owner, "max_df", self.max_df)
        check_int(owner, "max_features", self.max_features, low=1, none=True)
        try:
            lo_hi = tuple(self.ngram_range)
        except TypeError:
            lo_hi = ()
        if len(lo_hi) != 2 or not all(isinstance(x, int) for x in lo_hi) or not 1 <= lo_hi[0] <= lo_hi[1]:
            raise ParameterError(f"{owner}: ngram_range must be (min_n, max_n) with 1 <= min_n <= max_n, "
                                 f"got {self.ngram_range!r}")
        check_bool(owner, "sublinear_tf", self.sublinear_tf)
        check_bool(owner, "smooth_idf", self.smooth_idf)
        check_choice(owner, "norm", self.norm, ("l2", "l1", None))
        try:
            kind = np.dtype(self.dtype).kind
        except TypeError:
            kind = ""
        if kind != "f":
            raise ParameterError(f"{owner}: dtype must be a floating-point type such as numpy.float32, "
                                 f"got {self.dtype!r}")
        check_n_jobs(owner, self.n_jobs)

    def _analyze(self, X: Iterable[Any], normalized: bool = False) -> list[list[str]]:
        docs = check_text_list(X, "X")
        return analyze_many(self.tokenizer_, docs, tuple(self.ngram_range), self.n_jobs,  # type: ignore[arg-type]
                            normalized=normalized)

    def fit(self, X: Iterable[str], y: Any = None) -> Vectorizer:
        self.fit_transform(X)
        return self

    def fit_transform(self, X: Iterable[str], y: Any = None) -> sp.csr_matrix:
        self._validate_params()
        self.tokenizer_ = self.tokenizer if self.tokenizer is not None else Tokenizer()
        tokens = self._analyze(X)
        if not tokens:
            raise ParameterError("Vectorizer.fit needs at least one document, got an empty list")
        sk = self._sk()
        try:
            matrix = sk.fit_transform(tokens)
        except ValueError as exc:
            raise InputError(f"cannot build a vocabulary: {exc} (all documents empty or only stopwords?)") from None
        self._set_fitted(sk)
        if tuple(self.ngram_range) == (1, 1):  # the numbers transform() gives, to the last bit
            out = self.weigh(_token_counts(tokens, self.vocabulary_), copy=False)
            out.sort_indices()
            return out
        return matrix

    def _set_fitted(self, sk: TfidfVectorizer) -> None:
        self._sk_ = sk
        self.vocabulary_: dict[str, int] = sk.vocabulary_
        self.idf_: np.ndarray = sk.idf_
        self._terms = None
        self._idf_cast: np.ndarray | None = None

    def transform(self, X: Iterable[str], *, normalized: bool = False) -> sp.csr_matrix:
        """TF-IDF rows of ``X`` over the fitted vocabulary (``normalized=True``: texts are already
        ``normalize()``-d)."""
        check_fitted(self, ["vocabulary_"])
        if tuple(self.ngram_range) == (1, 1):
            # Counting and weighting here skips scikit-learn's per-call overhead (about 1 ms a
            # document for short texts); the numbers are the same (tested).
            docs = check_text_list(X, "X")
            counts, _ = count_terms(docs, tokenizer=self.tokenizer_, vocabulary=self.vocabulary_,
                                    n_jobs=self.n_jobs, normalized=normalized)
            out = self.weigh(counts, copy=False)
            out.sort_indices()  # column order within rows, as scikit-learn gives
            return out
        return self._sk_.transform(self._analyze(X, normalized))

    # -- counts and weights ---------------------------------------------------------------------
    def fit_counts(self, counts: sp.spmatrix, terms: Sequence[str]) -> Vectorizer:
        """Fit the vocabulary and IDF from a (documents x terms) count matrix, such as
        :func:`count_terms` gives, with this vectorizer's ``min_df`` / ``max_df`` / ``max_features``.
        Kept terms stay in the order of ``terms``; use :meth:`get_feature_names_out` to select the
        matching columns of ``counts`` before :meth:`weigh`."""
        self._validate_params()
        counts = sp.csr_matrix(counts)
        if counts.shape[1] != len(terms):
            raise ParameterError(f"counts has {counts.shape[1]} columns but {len(terms)} terms were given")
        n = counts.shape[0]
        if n == 0:
            raise ParameterError("Vectorizer.fit_counts needs at least one document, got 0 rows")
        df = np.bincount(counts.indices, minlength=len(terms))
        totals = np.asarray(counts.sum(axis=0)).ravel() if self.max_features is not None else None
        return self.fit_frequencies(df, n, terms, totals=totals)

    def fit_frequencies(self, df: Any, n_documents: int, terms: Sequence[str], *,
                        totals: Any = None) -> Vectorizer:
        """Fit the vocabulary and IDF from document frequencies alone: ``df[i]`` documents of
        ``n_documents`` hold ``terms[i]`` (``totals[i]``: its count over all documents, needed only
        with ``max_features``). The same vocabulary and IDF as :meth:`fit_counts` on the counts
        those figures were taken from, so frequencies summed over parts of a corpus (shards)
        give the whole corpus's model."""
        self._validate_params()
        df = np.asarray(df, dtype=np.int64)
        n = int(n_documents)
        if df.shape != (len(terms),):
            raise ParameterError(f"df has shape {df.shape} but {len(terms)} terms were given")
        if n <= 0:
            raise ParameterError(f"fit_frequencies needs at least one document, got n_documents={n_documents!r}")
        low = self.min_df if isinstance(self.min_df, (int, np.integer)) else self.min_df * n
        high = self.max_df if isinstance(self.max_df, (int, np.integer)) else self.max_df * n
        keep = np.flatnonzero((df >= low) & (df <= high))
        if self.max_features is not None and len(keep) > self.max_features:
            if totals is None:
                raise ParameterError("fit_frequencies with max_features needs each term's total count (totals=)")
            totals = np.asarray(totals)[keep]
            keep = np.sort(keep[np.argsort(-totals, kind="stable")[: self.max_features]])
        if not len(keep):
            raise InputError("no terms left: all documents empty or only stopwords, or min_df/max_df too strict")
        idf = idf_from_df(df[keep], n, smooth=self.smooth_idf)
        self.tokenizer_ = self.tokenizer if self.tokenizer is not None else Tokenizer()
        return self._set_vocabulary([terms[i] for i in keep], idf)

    def weigh(self, counts: sp.spmatrix, *, copy: bool = True) -> sp.csr_matrix:
        """TF-IDF rows from raw term counts whose columns follow :meth:`get_feature_names_out`:
        the same numbers :meth:`transform` gives for the texts counted. ``copy=False`` reuses the
        counts' own arrays (less memory for large corpora)."""
        check_fitted(self, ["vocabulary_"])
        if counts.shape[1] != len(self.idf_):
            raise ParameterError(f"counts has {counts.shape[1]} columns but the vocabulary has {len(self.idf_)} terms")
        return weigh_counts(counts, self._idf_as(np.dtype(self.dtype)), sublinear_tf=self.sublinear_tf,
                            norm=self.norm, dtype=self.dtype, copy=copy)

    def weigh_tokens(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF row of one tokenised document as (columns ascending, weights): the numbers
        :meth:`transform` gives for its text, without building a sparse matrix (word unigrams only).
        Tokens outside the vocabulary are dropped."""
        _, cols, data = self.weigh_token_lists([tokens])
        return cols, data

    def weigh_token_lists(self, token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`weigh_tokens` for many tokenised documents at once, as the CSR arrays of their rows:
        ``(indptr, columns, weights)``, row ``i`` at ``indptr[i]:indptr[i + 1]``, each the very numbers
        :meth:`weigh_tokens` gives for that document alone. One vocabulary look-up, one count and
        one weighing for all of them."""
        check_fitted(self, ["vocabulary_"])
        if tuple(self.ngram_range) != (1, 1):
            raise ParameterError("weigh_tokens() needs ngram_range=(1, 1); use transform() for n-grams")
        vocab = self.vocabulary_
        n = len(token_lists)
        lengths = np.fromiter(map(len, token_lists), np.int64, count=n)
        total = int(lengths.sum())
        # -1 for a token outside the vocabulary
        ids = np.fromiter(map(vocab.get, chain.from_iterable(token_lists), repeat(-1)), np.int64, count=total)
        known = ids >= 0
        width = np.int64(max(1, len(vocab)))
        keys = ids[known] if n == 1 else (np.repeat(np.arange(n, dtype=np.int64), lengths) * width + ids)[known]
        keys, counts = np.unique(keys, return_counts=True)  # ascending: row by row, columns ascending in each
        row = keys // width
        cols = keys - row * width
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
        data = counts.astype(self.dtype)
        weigh_rows(data, cols, indptr, self._idf_as(data.dtype), sublinear_tf=self.sublinear_tf, norm=self.norm)
        return indptr, cols, data

    def _idf_as(self, dtype: Any) -> np.ndarray:
        """``idf_`` cast to ``dtype``, computed once per fitted vocabulary."""
        cached = getattr(self, "_idf_cast", None)
        if cached is None or cached.dtype != dtype or len(cached) != len(self.idf_):
            cached = self._idf_cast = self.idf_.astype(dtype)
        return cached

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_fitted(self, ["vocabulary_"])
        if getattr(self, "_terms", None) is None:
            terms = np.empty(len(self.vocabulary_), dtype=object)
            for term, col in self.vocabulary_.items():
                terms[col] = term
            self._terms = terms
        return self._terms

    def keywords(self, text: str, k: int = 10, *, min_length: int = 2) -> list[Keyword]:
        """The ``k`` terms of ``text`` with the highest TF-IDF weight under the fitted IDF.

        Terms shorter than ``min_length`` characters (single characters by default) are skipped.
        """
        if not isinstance(text, str):
            raise ParameterError(f"keywords() expects one document as a str, got {type(text).__name__}")
        check_int("keywords()", "k", k, low=1)
        row = self.transform([text]).tocsr()
        if row.nnz == 0:
            return []
        names = self.get_feature_names_out()
        order = np.argsort(-row.data, kind="stable")
        found = ((str(names[row.indices[i]]), float(row.data[i])) for i in order)
        return [Keyword(t, w) for t, w in found if len(t) >= min_length][:k]

    # -- persistence --------------------------------------------------------------------------
    def to_config(self) -> dict[str, Any]:
        """JSON-safe parameters, without the tokenizer (see ``Tokenizer.to_config``)."""
        return {
            "min_df": self.min_df,
            "max_df": self.max_df,
            "max_features": self.max_features,
            "ngram_range": list(self.ngram_range),
            "sublinear_tf": self.sublinear_tf,
            "norm": self.norm,
            "smooth_idf": self.smooth_idf,
            "dtype": np.dtype(self.dtype).name,
            "n_jobs": self.n_jobs,
        }

    @classmethod
    def from_vocabulary(cls, terms: Sequence[str], idf: Any, *, tokenizer: Tokenizer | None = None,
                        **params: Any) -> Vectorizer:
        """A fitted vectorizer with the given terms (in column order) and IDF values; ``params`` as
        for the constructor (``ngram_range`` and ``dtype`` may come as JSON, a list and a name)."""
        if "ngram_range" in params:
            params["ngram_range"] = tuple(params["ngram_range"])
        if isinstance(params.get("dtype"), str):
            params["dtype"] = np.dtype(params["dtype"]).type
        vec = cls(tokenizer=tokenizer, **params)
        vec._validate_params()
        terms = list(terms)
        if not set(map(type, terms)) <= {str} or len(set(terms)) != len(terms):  # both run in C
            raise ParameterError("terms must be distinct strings")
        idf = np.asarray(idf, dtype=np.float64)
        if idf.shape != (len(terms),) or not np.isfinite(idf).all():
            raise ParameterError(f"idf must hold one finite value per term ({len(terms)}), got shape {idf.shape}")
        return vec._set_vocabulary(terms, idf)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted vectorizer to folder ``path`` (JSON + ``idf.npy``; no pickle)."""
        check_fitted(self, ["vocabulary_"])
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        write_vocabulary(folder, self.get_feature_names_out(), self.idf_)
        return write_manifest(
            folder,
            "Vectorizer",
            {"params": self.to_config(), "tokenizer": self.tokenizer_.to_config()},
            engine=self.tokenizer_.engine,
        )

    def _set_vocabulary(self, terms: Sequence[str], idf: np.ndarray) -> Vectorizer:
        """Make this vectorizer fitted with the given terms (column order) and idf values."""
        if getattr(self, "tokenizer_", None) is None:
            self.tokenizer_ = self.tokenizer if self.tokenizer is not None else Tokenizer()
        sk = self._sk(vocabulary=dict(zip(terms, range(len(terms)))))
        sk.idf_ = np.asarray(idf, dtype=np.float64)  # sets vocabulary_ too (sklearn supports this)
        self._set_fitted(sk)
        return self

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vectorizer:
        """Read a vectorizer written by :meth:`save`."""
        folder = Path(path)
        with reading(folder, "Vectorizer"):
            manifest = read_manifest(folder, "Vectorizer")
            params = saved_params(folder, section(manifest, folder, "params"))
            terms, idf = read_vocabulary(folder)
            tokenizer = Tokenizer.from_config(section(manifest, folder, "tokenizer"))
            return cls.from_vocabulary(terms, idf, tokenizer=tokenizer, **params)


# Bounds on what a saved folder may ask for: an n-gram range of [1, 1000000] would make one long
# query build millions of n-grams.
MAX_SAVED_NGRAM = 10
MAX_SAVED_JOBS = 1024


def saved_params(folder: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Vectorizer parameters read from a saved folder, checked for names, JSON types and bounds
    (an :class:`IncompatibleModelError` naming the folder otherwise), in the form the constructor
    takes; the constructor's own checks run after this."""
    where = folder / "govtext.json"
    names = set(Vectorizer._get_param_names()) - {"tokenizer"}
    unknown = sorted(set(params) - names)
    check_saved(where, not unknown, f"unknown Vectorizer parameters {unknown}")
    out = dict(params)
    if "ngram_range" in out:
        lo_hi = out["ngram_range"]
        check_saved(where, isinstance(lo_hi, list) and len(lo_hi) == 2
                    and all(saved_int(n, 1, MAX_SAVED_NGRAM) for n in lo_hi) and lo_hi[0] <= lo_hi[1],
                    f"ngram_range must be [min_n, max_n] within 1..{MAX_SAVED_NGRAM}, got {str(lo_hi)[:60]}")
        out["ngram_range"] = tuple(lo_hi)
    if "dtype" in out:
        check_saved(where, out["dtype"] in ("float32", "float64"),
                    f"dtype must be 'float32' or 'float64', got {str(out['dtype'])[:60]!r}")
        out["dtype"] = np.dtype(out["dtype"]).type
    jobs = out.get("n_jobs")
    check_saved(where, jobs is None or (saved_int(jobs, -1, MAX_SAVED_JOBS) and jobs != 0),
                f"n_jobs must be null or -1..{MAX_SAVED_JOBS} without 0, got {str(jobs)[:60]}")
    return out


def write_vocabulary(folder: Path, terms: Sequence[str], idf: np.ndarray, prefix: str = "") -> None:
    """Write ``{prefix}vocabulary.json`` (terms in column order) and ``{prefix}idf.npy``."""
    text = json.dumps([str(t) for t in terms], ensure_ascii=False)
    (folder / f"{prefix}vocabulary.json").write_text(text, encoding="utf-8")
    np.save(folder / f"{prefix}idf.npy", np.asarray(idf, dtype=np.float64), allow_pickle=False)


def read_vocabulary(folder: Path, prefix: str = "") -> tuple[list[str], np.ndarray]:
    """Read and check what :func:`write_vocabulary` wrote; a damaged file is an IncompatibleModelError."""
    return read_weighted_terms(folder, prefix)


def count_terms(docs: Sequence[str], *, tokenizer: Tokenizer, vocabulary: dict[str, int] | None = None,
                chunk_size: int = CHUNK_SIZE, n_jobs: int | None = None,
                progress: bool | None = False, normalized: bool = False) -> tuple[sp.csr_matrix, dict[str, int]]:
    """Term counts of ``docs`` as a (documents x terms) CSR matrix, and the term -> column map.

    With no ``vocabulary`` every term found gets a column (in order of first appearance); with
    one, only its terms are counted. Chunks of ``chunk_size`` documents are tokenised in
    ``n_jobs`` worker processes; only compact arrays come back from them, never token lists.
    ``normalized=True`` says the documents are already ``normalize()``-d.
    """
    check_int("count_terms()", "chunk_size", chunk_size, low=1)
    check_n_jobs("count_terms()", n_jobs)
    grow = vocabulary is None
    vocab: dict[str, int] = {} if vocabulary is None else vocabulary
    chunks = [docs[i : i + chunk_size] for i in range(0, len(docs), chunk_size)]
    if n_jobs in (None, 1) or len(chunks) <= 1:
        results: Iterable[Any] = (_count_chunk(tokenizer, c, normalized) for c in chunks)
    else:
        import functools

        from .._common import process_map

        results = process_map(functools.partial(_count_chunk, tokenizer), chunks, n_jobs, normalized)
    data, indices, indptrs = _Growing(np.float32), _Growing(np.int32), []
    offset = 0
    with progress_bar(len(docs), desc="counting", show=progress, leave=False) as bar:
        for terms, d, ix, ptr in results:
            if grow:
                mapping = np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), np.int64, count=len(terms))
            else:
                mapping = np.fromiter((vocab.get(t, -1) for t in terms), np.int64, count=len(terms))
            cols = mapping[ix] if len(ix) else ix.astype(np.int64)
            if not grow:  # drop terms outside the vocabulary
                known = cols >= 0
                row_of = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))[known]
                cols, d = cols[known], d[known]
                ptr = np.r_[0, np.cumsum(np.bincount(row_of, minlength=len(ptr) - 1))]
            data.extend(d)
            indices.extend(cols)
            indptrs.append(ptr[1:] + offset)
            offset += int(ptr[-1])
            bar.update(len(ptr) - 1)
    indptr = np.concatenate([np.zeros(1, np.int64)] + indptrs)
    shape = (len(docs), len(vocab))
    return sp.csr_matrix((data.array(), indices.array(), indptr), shape=shape), vocab


class _Growing:
    """A 1-D array that chunks are appended to in place. It grows by a quarter with ``ndarray.resize``
    (``realloc``, which moves a large block's pages rather than copying them), so that counting a
    corpus holds its counts about once, not every chunk's arrays plus their concatenation (which,
    freed into the heap, also stayed resident for the rest of a build)."""

    def __init__(self, dtype: Any) -> None:
        self._array = np.zeros(1024, dtype)
        self._size = 0

    def extend(self, values: np.ndarray) -> None:
        end = self._size + len(values)
        if end > len(self._array):
            self._array.resize(max(end, len(self._array) + len(self._array) // 4), refcheck=False)
        self._array[self._size : end] = values
        self._size = end

    def array(self) -> np.ndarray:
        """The values appended (the array itself, cut to their number; the object is spent)."""
        self._array.resize(self._size, refcheck=False)
        return self._array


def _token_counts(token_lists: Sequence[Sequence[str]], vocabulary: dict[str, int]) -> sp.csr_matrix:
    """Counts of already tokenised documents over a fixed vocabulary (other tokens are dropped)."""
    ids, lengths = [], np.zeros(len(token_lists), dtype=np.int64)
    for i, tokens in enumerate(token_lists):
        known = [vocabulary[t] for t in tokens if t in vocabulary]
        ids.extend(known)
        lengths[i] = len(known)
    counts, cols, indptr = _count_ids(ids, lengths, len(vocabulary))
    return sp.csr_matrix((counts, cols.astype(np.int32), indptr), shape=(len(token_lists), len(vocabulary)))


def _count_ids(ids: list[int], lengths: np.ndarray, n_terms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-document counts of term ids (``ids`` of all documents in order, ``lengths`` per document)
    as CSR parts (counts, columns, row pointers), from one ``np.unique`` over (document, id) keys."""
    width = max(n_terms, 1)
    keys = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths) * width + np.asarray(ids, dtype=np.int64)
    pairs, counts = np.unique(keys, return_counts=True)
    rows, cols = np.divmod(pairs, width)
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=len(lengths)))].astype(np.int64)
    return counts.astype(np.float32), cols, indptr


def _count_chunk(tok: Tokenizer, docs: Sequence[str],
                 normalized: bool = False) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Tokenise and count one chunk: (distinct terms, counts, local column ids, row pointers).

    Tokens become ids through a dict whose missing keys take the next id (a C-level loop)."""
    vocab: defaultdict[str, int] = defaultdict()
    vocab.default_factory = vocab.__len__
    lookup = vocab.__getitem__
    ids: list[int] = []
    lengths = np.zeros(len(docs), dtype=np.int64)
    for i, doc in enumerate(docs):
        before = len(ids)
        ids.extend(map(lookup, tok(doc, normalized=normalized)))
        lengths[i] = len(ids) - before
    counts, cols, indptr = _count_ids(ids, lengths, len(vocab))
    return list(vocab), counts, cols.astype(np.int64), indptr
