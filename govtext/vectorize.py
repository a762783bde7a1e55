"""TF-IDF vectors over govtext's tokenizer, as a scikit-learn transformer."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .clean import _check_text_list
from .persist import IncompatibleModelError, check_finite, load_array, read_manifest, write_manifest
from .tokenize import Tokenizer

__all__ = ["Keyword", "Vectorizer", "analyze_many"]


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
    tokens = tokenizer._call_normalized if normalized else tokenizer
    return [_with_ngrams(tokens(d), ngram_range) for d in docs]


def analyze_many(
    tokenizer: Tokenizer,
    docs: Sequence[Any],
    ngram_range: tuple[int, int] = (1, 1),
    n_jobs: int | None = None,
    chunk_size: int = 2000,
    normalized: bool = False,
) -> list[list[str]]:
    """Tokenise documents (with n-grams), in parallel processes when ``n_jobs`` > 1.

    ``normalized=True`` says the documents are already ``normalize()``-d, so that step is skipped.
    """
    if n_jobs in (None, 1) or len(docs) <= chunk_size:
        return _analyze_chunk(tokenizer, docs, ngram_range, normalized)
    from joblib import Parallel, delayed

    chunks = [docs[i : i + chunk_size] for i in range(0, len(docs), chunk_size)]
    parts = Parallel(n_jobs=n_jobs)(delayed(_analyze_chunk)(tokenizer, c, ngram_range, normalized) for c in chunks)
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
        if self.tokenizer is not None and not isinstance(self.tokenizer, Tokenizer):
            raise TypeError(f"tokenizer must be a govtext.Tokenizer or None, got {type(self.tokenizer).__name__}")
        lo_hi = tuple(self.ngram_range)
        if len(lo_hi) != 2 or not all(isinstance(x, int) for x in lo_hi) or not 1 <= lo_hi[0] <= lo_hi[1]:
            raise ValueError(f"ngram_range must be (min_n, max_n) with 1 <= min_n <= max_n, got {self.ngram_range!r}")

    def _analyze(self, X: Iterable[Any], normalized: bool = False) -> list[list[str]]:
        docs = _check_text_list(X, "X")
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
            raise ValueError("Vectorizer.fit needs at least one document, got an empty list")
        sk = self._sk()
        try:
            matrix = sk.fit_transform(tokens)
        except ValueError as exc:
            raise ValueError(f"cannot build a vocabulary: {exc} (all documents empty or only stopwords?)") from None
        self._set_fitted(sk)
        return matrix

    def _set_fitted(self, sk: TfidfVectorizer) -> None:
        self._sk_ = sk
        self.vocabulary_: dict[str, int] = sk.vocabulary_
        self.idf_: np.ndarray = sk.idf_
        self._terms = None

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        return self._transform(X)

    def _transform(self, X: Iterable[str], normalized: bool = False) -> sp.csr_matrix:
        check_is_fitted(self, "vocabulary_")
        return self._sk_.transform(self._analyze(X, normalized))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_is_fitted(self, "vocabulary_")
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
            raise TypeError(f"keywords() expects one document as a str, got {type(text).__name__}")
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        row = self.transform([text]).tocsr()
        if row.nnz == 0:
            return []
        names = self.get_feature_names_out()
        order = np.argsort(-row.data, kind="stable")
        found = ((str(names[row.indices[i]]), float(row.data[i])) for i in order)
        return [Keyword(t, w) for t, w in found if len(t) >= min_length][:k]

    # -- persistence --------------------------------------------------------------------------
    def _config(self) -> dict[str, Any]:
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

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the fitted vectorizer to folder ``path`` (JSON + ``idf.npy``; no pickle)."""
        check_is_fitted(self, "vocabulary_")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self._save_arrays(folder)
        return write_manifest(
            folder,
            "Vectorizer",
            {"params": self._config(), "tokenizer": self.tokenizer_.to_config()},
            engine=self.tokenizer_.engine,
        )

    def _save_arrays(self, folder: Path, prefix: str = "") -> None:
        terms = [str(t) for t in self.get_feature_names_out()]
        (folder / f"{prefix}vocabulary.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
        np.save(folder / f"{prefix}idf.npy", np.asarray(self.idf_, dtype=np.float64), allow_pickle=False)

    @classmethod
    def _restore(cls, folder: Path, params: dict[str, Any], tokenizer: dict[str, Any], prefix: str = "") -> Vectorizer:
        params = dict(params)
        params["ngram_range"] = tuple(params["ngram_range"])
        params["dtype"] = np.dtype(params["dtype"]).type
        vec = cls(tokenizer=Tokenizer.from_config(tokenizer), **params)
        vec.tokenizer_ = vec.tokenizer
        try:
            terms = json.loads((folder / f"{prefix}vocabulary.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IncompatibleModelError(f"cannot read {folder / f'{prefix}vocabulary.json'}: {exc}") from None
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms) or len(set(terms)) != len(terms):
            raise IncompatibleModelError(f"{folder}: {prefix}vocabulary.json must be a JSON list of distinct strings")
        idf = load_array(folder / f"{prefix}idf.npy", kinds="f", ndim=1)
        if len(terms) != len(idf):
            raise IncompatibleModelError(f"{folder}: vocabulary has {len(terms)} terms but idf has {len(idf)} values")
        check_finite(folder, idf=idf)
        return vec._set_vocabulary(terms, idf)

    def _set_vocabulary(self, terms: Sequence[str], idf: np.ndarray) -> Vectorizer:
        """Make this vectorizer fitted with the given terms (column order) and idf values."""
        if getattr(self, "tokenizer_", None) is None:
            self.tokenizer_ = self.tokenizer if self.tokenizer is not None else Tokenizer()
        sk = self._sk(vocabulary={t: i for i, t in enumerate(terms)})
        sk.idf_ = np.asarray(idf, dtype=np.float64)  # sets vocabulary_ too (sklearn supports this)
        self._set_fitted(sk)
        return self

    @classmethod
    def _from_saved(cls, folder: Path, manifest: dict[str, Any]) -> Vectorizer:
        return cls._restore(folder, manifest["params"], manifest["tokenizer"])

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vectorizer:
        """Read a vectorizer written by :meth:`save`."""
        return cls._from_saved(Path(path), read_manifest(path, "Vectorizer"))
