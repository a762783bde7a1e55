"""Word vectors trained on your own corpus, and lexicon expansion from them.

:class:`WordVectors` are PPMI-SVD vectors: co-occurrence counts of govtext tokens within a window,
turned into positive pointwise mutual information (with the usual smoothing of context counts,
exponent 0.75) and reduced with scikit-learn's randomized truncated SVD. Nothing is downloaded;
training on 75,000 news items takes about a minute on two cores. :func:`expand_lexicon`
proposes new terms for each category of a lexicon from the seeds' nearest neighbours.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._common import check_int, check_text_list, check_tokenizer, progress_bar
from ..text.clean import normalize as normalize_text
from ..errors import InputError, ParameterError
from ..persist import check_range, check_saved, load_array, read_manifest, read_terms, reading, section, write_manifest
from ..text.tokenize import Tokenizer

__all__ = ["Candidate", "Neighbour", "WordVectors", "expand_lexicon"]


@dataclass(frozen=True)
class Neighbour:
    """A term near another one, with the cosine of their vectors."""

    term: str
    score: float


@dataclass(frozen=True)
class Candidate:
    """A term proposed for a lexicon category: its cosine with the category's seed centroid, and the
    seeds that have it among their own nearest neighbours."""

    term: str
    score: float
    seeds: tuple[str, ...]


class WordVectors:
    """Vectors for the terms of a corpus. Build with :meth:`train`; read with :meth:`load`.

    >>> vectors = WordVectors.train(texts, dim=100)          # doctest: +SKIP
    >>> vectors.most_similar("志愿服务", k=5)                 # doctest: +SKIP
    """

    def __init__(self, terms: Sequence[str], vectors: np.ndarray, counts: np.ndarray,
                 params: Mapping[str, Any] | None = None) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(terms) != vectors.shape[0] or len(counts) != len(terms):
            raise ParameterError(f"need one vector and one count per term: {len(terms)} terms, vectors "
                                 f"{vectors.shape}, {len(counts)} counts")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.terms = list(terms)
        self.vectors = vectors / np.where(norms > 0, norms, 1)
        self.counts = np.asarray(counts, dtype=np.int64)
        self.params = dict(params or {})
        self._index = {t: i for i, t in enumerate(self.terms)}

    # -- training ---------------------------------------------------------------------------------
    @classmethod
    def train(cls, texts: Iterable[str], *, tokenizer: Tokenizer | None = None, dim: int = 100, window: int = 5,
              min_count: int = 5, max_terms: int = 50_000, chunk_size: int = 2000, progress: bool | None = None,
              random_state: int = 0) -> WordVectors:
        """Train on ``texts`` (tokenised with ``tokenizer``, default ``Tokenizer()``): terms seen at
        least ``min_count`` times (the ``max_terms`` most frequent), co-occurrences within
        ``window`` tokens either side (nearer ones weigh more), ``dim`` dimensions."""
        owner = "WordVectors.train"
        for name, value, low in (("dim", dim, 2), ("window", window, 1), ("min_count", min_count, 1),
                                 ("max_terms", max_terms, 2), ("chunk_size", chunk_size, 1)):
            check_int(owner, name, value, low=low)
        check_tokenizer(owner, tokenizer)
        tok = tokenizer if tokenizer is not None else Tokenizer()
        docs = check_text_list(texts, "texts")
        with progress_bar(len(docs), desc="tokenising", show=progress, leave=False) as bar:
            token_lists = []
            for d in docs:
                token_lists.append(tok(d) if isinstance(d, str) else [])
                bar.update(1)
        freq = Counter(t for tokens in token_lists for t in tokens)
        kept = [t for t, n in freq.most_common(max_terms) if n >= min_count]
        if len(kept) <= dim:
            raise InputError(f"{owner}: only {len(kept)} terms occur at least {min_count} times; need more than "
                             f"dim={dim} (give more text, or lower min_count or dim)")
        index = {t: i for i, t in enumerate(kept)}
        n = len(kept)
        cooc = sp.csr_matrix((n, n), dtype=np.float64)
        for start in range(0, len(token_lists), chunk_size):
            ids_list, owner_list = [], []
            for k, tokens in enumerate(token_lists[start : start + chunk_size]):
                ids = [index[t] for t in tokens if t in index]
                ids_list.append(np.asarray(ids, dtype=np.int64))
                owner_list.append(np.full(len(ids), k, dtype=np.int64))
            ids = np.concatenate(ids_list) if ids_list else np.zeros(0, np.int64)
            doc = np.concatenate(owner_list) if owner_list else np.zeros(0, np.int64)
            rows, cols, weights = [], [], []
            for d in range(1, window + 1):
                same = doc[:-d] == doc[d:]
                rows.append(ids[:-d][same])
                cols.append(ids[d:][same])
                weights.append(np.full(int(same.sum()), (window - d + 1) / window))
            if rows:
                r, c, w = np.concatenate(rows), np.concatenate(cols), np.concatenate(weights)
                cooc = cooc + sp.csr_matrix((w, (r, c)), shape=(n, n))
        cooc = (cooc + cooc.T).tocsr()
        if cooc.nnz == 0:
            raise InputError(f"{owner}: no two kept terms ever occur within {window} tokens of each other")
        vectors = _ppmi_svd(cooc, dim, random_state)
        params = {"dim": dim, "window": window, "min_count": min_count, "max_terms": max_terms,
                  "tokenizer": tok.to_config(), "documents": len(docs)}
        return cls(kept, vectors, np.array([freq[t] for t in kept]), params)

    # -- use ------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.terms)

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and normalize_text(term) in self._index

    def __repr__(self) -> str:
        return f"WordVectors({len(self)} terms, {self.vectors.shape[1]} dimensions)"

    def vector(self, term: str) -> np.ndarray:
        """The (unit-length) vector of ``term``; a term not in the vocabulary is a ``KeyError``."""
        key = normalize_text(term)
        if key not in self._index:
            raise KeyError(f"{term!r} is not in the vocabulary (seen fewer than min_count times, or split by the "
                           f"tokenizer: check with govtext.coverage)")
        return self.vectors[self._index[key]]

    def most_similar(self, term: str | Sequence[str], k: int = 10) -> list[Neighbour]:
        """The ``k`` terms whose vectors are nearest (cosine) to ``term``'s, or to the mean of several
        terms' vectors; the terms themselves are left out."""
        check_int("most_similar()", "k", k, low=1)
        words = [term] if isinstance(term, str) else list(term)
        if not words:
            raise ParameterError("most_similar(): give a term or a list of terms")
        centre = np.mean([self.vector(w) for w in words], axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        scores = self.vectors @ centre
        skip = {self._index[normalize_text(w)] for w in words}
        order = np.argsort(-scores, kind="stable")
        return [Neighbour(self.terms[i], float(scores[i])) for i in order if i not in skip][:k]

    # -- persistence ----------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write to folder ``path``: ``vocabulary.json``, ``vectors.npy``, ``counts.npy`` and the
        manifest (no pickle)."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocabulary.json").write_text(json.dumps(self.terms, ensure_ascii=False), encoding="utf-8")
        np.save(folder / "vectors.npy", self.vectors.astype(np.float32), allow_pickle=False)
        np.save(folder / "counts.npy", self.counts, allow_pickle=False)
        return write_manifest(folder, "WordVectors", {"params": self.params})

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> WordVectors:
        """Read vectors written by :meth:`save`."""
        folder = Path(path)
        with reading(folder, "WordVectors"):
            manifest = read_manifest(folder, "WordVectors")
            params = section(manifest, folder, "params", {})
            terms = read_terms(folder / "vocabulary.json")
            vectors = load_array(folder / "vectors.npy", kinds="f", ndim=2, shape=(len(terms), None))
            check_saved(folder / "vectors.npy", 0 < vectors.shape[1] <= MAX_DIM,
                        f"vectors have {vectors.shape[1]} dimensions; expected 1..{MAX_DIM}")
            counts = load_array(folder / "counts.npy", kinds="iu", ndim=1, shape=(len(terms),))
            # PPMI-SVD coordinates are small; 1e300 would overflow the cosine into NaN.
            check_range(folder, "vectors.npy", vectors, -MAX_COORDINATE, MAX_COORDINATE)
            check_range(folder, "counts.npy", counts, 0, 2**62)
            return cls(terms, vectors, counts, params)


MAX_DIM = 10_000
MAX_COORDINATE = 1e6


def _ppmi_svd(cooc: sp.csr_matrix, dim: int, random_state: int) -> np.ndarray:
    """Positive PMI of a symmetric co-occurrence matrix (context counts smoothed with exponent 0.75),
    reduced to ``dim`` dimensions; vectors are U·sqrt(S)."""
    from sklearn.decomposition import TruncatedSVD

    total = cooc.sum()
    word = np.asarray(cooc.sum(axis=1)).ravel()
    context = word**0.75
    context /= context.sum()
    coo = cooc.tocoo()
    pmi = np.log(coo.data * 1.0 / total) - np.log(word[coo.row] / total) - np.log(context[coo.col])
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=cooc.shape)
    svd = TruncatedSVD(n_components=dim, algorithm="randomized", n_iter=5, random_state=random_state)
    reduced = svd.fit_transform(ppmi)  # U·S
    singular = np.maximum(svd.singular_values_, 1e-12)
    return reduced / np.sqrt(singular)  # U·sqrt(S)


def expand_lexicon(corpus_or_vectors: WordVectors | Iterable[str], seeds: Mapping[str, Sequence[str]], k: int = 20,
                   *, neighbours: int = 50, **train: Any) -> dict[str, list[Candidate]]:
    """Candidate terms for each category of ``seeds`` (``{category: [seed terms]}``), best first.

    ``corpus_or_vectors``: :class:`WordVectors`, or texts to train them on (``train`` keywords go
    to :meth:`WordVectors.train`). A candidate's score is its cosine with the mean vector of the
    category's seeds; ``Candidate.seeds`` names the seeds that have it among their ``neighbours``
    nearest terms. Seeds of any category are never proposed. A category none of whose seeds is in
    the vocabulary is an error that names them.
    """
    check_int("expand_lexicon()", "k", k, low=1)
    check_int("expand_lexicon()", "neighbours", neighbours, low=1)
    if not isinstance(seeds, Mapping) or not seeds:
        raise ParameterError("expand_lexicon(): seeds must be a non-empty dict {category: [terms]}")
    vectors = corpus_or_vectors if isinstance(corpus_or_vectors, WordVectors) else WordVectors.train(
        corpus_or_vectors, **train)
    all_seeds = {normalize_text(t) for terms in seeds.values() for t in terms}
    out: dict[str, list[Candidate]] = {}
    for category, terms in seeds.items():
        if isinstance(terms, str):
            raise ParameterError(f"expand_lexicon(): seeds[{category!r}] must be a list of terms, got a str")
        present = [normalize_text(t) for t in terms if t in vectors]
        if not present:
            raise InputError(f"expand_lexicon(): none of the seeds of {category!r} is in the vocabulary: "
                             f"{list(terms)[:10]} (check them with govtext.coverage, or lower min_count)")
        near = {s: {n.term for n in vectors.most_similar(s, k=neighbours)} for s in present}
        ranked = vectors.most_similar(present, k=k + len(all_seeds))
        out[str(category)] = [Candidate(n.term, n.score, tuple(s for s in present if n.term in near[s]))
                              for n in ranked if n.term not in all_seeds][:k]
    return out
