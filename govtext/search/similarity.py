"""Find comparable initiatives: exact TF-IDF cosine search over an inverted index.

:class:`SimilarityIndex` joins three parts: :class:`~govtext.Vectorizer` weighting (vocabulary,
IDF, sublinear tf, l2 norm), exact top-k search over postings (``govtext._topk``) and metadata with
filters (``govtext._metadata``). Documents are stored column-wise (one postings list per term), so
a query only reads the postings of its own terms. ``add`` appends a segment without refitting;
``duplicates`` groups reprints; ``save``/``load`` write plain arrays that load memory-mapped.
"""

from __future__ import annotations

import json
import os
from bisect import bisect_right
from contextlib import contextmanager
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._common import (
    CHUNK_SIZE,
    check_tokenizer,
    check_bool, check_df, check_int, check_n_jobs, check_number, check_text_list, SENTENCE_RE,
)
from .._fitted import check_fitted
from ._metadata import Filter, JsonLines, checked_filter, matches_filter, with_parsed_date
from ._topk import check_postings, contributions, cosine_scores, gather, top_rows
from ..text.clean import EmptyTextError, normalize
from ..errors import ParameterError
from .extract import initiatives, places
from ..persist import IncompatibleModelError, load_array, read_manifest, reading, write_manifest
from ..text.tokenize import Tokenizer
from ..features.vectorize import Vectorizer, count_terms, read_vocabulary, write_vocabulary

__all__ = ["Candidates", "Filter", "Match", "SimilarityIndex"]

_PASSAGE_CHARS = 120


@dataclass(frozen=True)
class Candidates:
    """The exact cosine stage's answer for one query: ``rows`` best first (equal scores in index
    order), their ``scores`` (float32 cosines) and, per row, ``shared`` (term column, contribution)
    pairs, strongest first."""

    rows: np.ndarray
    scores: np.ndarray
    shared: dict[int, list[tuple[int, float]]]


@dataclass(frozen=True)
class Match:
    """One search result."""

    id: str
    score: float  # cosine similarity of TF-IDF vectors, 0..1
    rank: int  # 1 = best
    metadata: dict[str, Any] = field(default_factory=dict)
    shared_terms: tuple[str, ...] = ()  # distinctive terms query and match share, strongest first
    passage: str | None = None  # the sentence of the match that best fits the query


class SimilarityIndex:
    """Search a corpus for the documents most similar to a text (TF-IDF cosine, exact).

    Parameters (keyword-only): ``tokenizer`` (default ``Tokenizer()``), ``min_df`` / ``max_df``
    (vocabulary limits, as for :class:`~govtext.Vectorizer`), ``extract_metadata`` (store
    :func:`~govtext.places` and :func:`~govtext.initiatives` of each text under ``places`` /
    ``initiatives``), ``store_text`` (keep the normalised texts, for result passages and
    :meth:`document`), ``chunk_size`` and
    ``n_jobs`` (tokenising in parallel processes), ``progress`` (a bar on stderr; default: when
    stderr is a terminal).

    >>> index = SimilarityIndex().fit(["社区推行楼道微自治", "街道开展垃圾分类宣传"], ids=["a", "b"])
    >>> [m.id for m in index.query("楼道自治", k=1)]
    ['a']
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer | None = None,
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        extract_metadata: bool = True,
        store_text: bool = True,
        chunk_size: int = CHUNK_SIZE,
        n_jobs: int | None = None,
        progress: bool | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.min_df = min_df
        self.max_df = max_df
        self.extract_metadata = extract_metadata
        self.store_text = store_text
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.progress = progress

    _PARAMS = ("tokenizer", "min_df", "max_df", "extract_metadata", "store_text", "chunk_size", "n_jobs", "progress")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters (with ``deep``, the tokenizer's too, as ``tokenizer__name``)."""
        params = {name: getattr(self, name) for name in self._PARAMS}
        if deep and self.tokenizer is not None:
            params.update({f"tokenizer__{k}": v for k, v in self.tokenizer.get_params().items()})
        return params

    def set_params(self, **params: Any) -> SimilarityIndex:
        """Change parameters (they apply at the next ``fit``); unknown names are an error."""
        nested = {k.split("__", 1)[1]: v for k, v in params.items() if k.startswith("tokenizer__")}
        plain = {k: v for k, v in params.items() if not k.startswith("tokenizer__")}
        unknown = sorted(set(plain) - set(self._PARAMS))
        if unknown:
            raise ParameterError(f"SimilarityIndex has no parameter(s) {unknown}; its parameters are {list(self._PARAMS)}")
        for name, value in plain.items():
            setattr(self, name, value)
        if nested:
            if self.tokenizer is None:
                self.tokenizer = Tokenizer()
            self.tokenizer.set_params(**nested)
        return self

    def _validate_params(self) -> None:
        owner = "SimilarityIndex"
        check_tokenizer(owner, self.tokenizer)
        check_df(owner, "min_df", self.min_df)
        check_df(owner, "max_df", self.max_df)
        check_bool(owner, "extract_metadata", self.extract_metadata)
        check_bool(owner, "store_text", self.store_text)
        check_int(owner, "chunk_size", self.chunk_size, low=1)
        check_n_jobs(owner, self.n_jobs)
        check_bool(owner, "progress", self.progress, none=True)

    # -- building -------------------------------------------------------------------------
    def _check_batch(self, texts: Any, ids: Any, metadata: Any, start: int,
                     tok: Tokenizer) -> tuple[list[str], list[str], list[dict], list[str] | None]:
        docs = check_text_list(texts, "texts")
        for i, d in enumerate(docs):
            if not isinstance(d, str):
                raise ParameterError(f"texts[{i}] is {type(d).__name__}; every document must be a str")
        id_list = ([str(start + i) for i in range(len(docs))] if ids is None
                   else [str(x) for x in check_text_list(ids, "ids")])
        if len(id_list) != len(docs):
            raise ParameterError(f"got {len(docs)} texts but {len(id_list)} ids")
        seen: set[str] = set()
        dupes = [x for x in id_list if x in seen or seen.add(x)]  # type: ignore[func-returns-value]
        if dupes:
            raise ParameterError(f"ids must be unique; repeated: {sorted(set(dupes))[:5]}")
        existing = [x for x in id_list if x in getattr(self, "row_of_", {})]
        if existing:
            raise ParameterError(f"ids already in the index: {existing[:5]}")
        if metadata is None:
            meta = [{} for _ in docs]
        else:
            meta = [dict(m) if m is not None else {} for m in check_text_list(metadata, "metadata")]
            if len(meta) != len(docs):
                raise ParameterError(f"got {len(docs)} texts but {len(meta)} metadata records")
        norms = [normalize(t) for t in docs] if self.extract_metadata or self.store_text else None
        if self.extract_metadata:
            for norm, m in zip(norms, meta):  # type: ignore[arg-type]
                m.setdefault("places", places(norm, tokenizer=tok, normalized=True)[:20])
                m.setdefault("initiatives", initiatives(norm, normalized=True)[:20])
        return docs, id_list, meta, norms

    def fit(self, texts: Iterable[str], ids: Iterable[Any] | None = None,
            metadata: Iterable[Mapping[str, Any] | None] | None = None) -> SimilarityIndex:
        """Build the index: vocabulary and IDF from ``texts``, one row per text."""
        self._validate_params()
        tok = self.tokenizer if self.tokenizer is not None else Tokenizer()
        self.row_of_: dict[str, int] = {}
        docs, id_list, meta, norms = self._check_batch(texts, ids, metadata, 0, tok)
        if not docs:
            raise ParameterError("SimilarityIndex.fit needs at least one document, got an empty list")
        counts, vocab = self._count(docs, norms, tok, None)
        vec = Vectorizer(tokenizer=tok, min_df=self.min_df, max_df=self.max_df).fit_counts(counts, list(vocab))
        keep = np.fromiter((vocab[t] for t in vec.get_feature_names_out()), np.int64, count=len(vec.idf_))
        counts = counts[:, keep].tocsr() if len(keep) < counts.shape[1] else counts
        self.vectorizer_ = vec
        self.df_ = np.bincount(counts.indices, minlength=len(keep)).astype(np.int64)
        self.segments_: list[sp.csc_matrix] = [self._postings(counts)]
        self.ids_: list[str] = id_list
        self.row_of_ = {x: i for i, x in enumerate(id_list)}
        self.metadata_: list[dict[str, Any]] = [with_parsed_date(m) for m in meta]
        self.texts_: Sequence[str] | None = norms if self.store_text else None
        self._dup_group: np.ndarray | None = None
        return self

    def _count(self, docs: list[str], norms: list[str] | None, tok: Tokenizer,
               vocabulary: dict[str, int] | None) -> tuple[sp.csr_matrix, dict[str, int]]:
        """Term counts of a batch. Texts normalised once already (for metadata and storage) are
        tokenised without normalising them again."""
        reuse = norms is not None and tok.normalize
        return count_terms(norms if reuse else docs, tokenizer=tok, vocabulary=vocabulary,  # type: ignore[arg-type]
                           chunk_size=self.chunk_size, n_jobs=self.n_jobs, progress=self.progress, normalized=reuse)

    def _postings(self, counts: sp.csr_matrix) -> sp.csc_matrix:
        """The vectorizer's weights of ``counts`` (computed in place), stored by column."""
        out = self.vectorizer_.weigh(counts, copy=False).tocsc()
        out.indices = out.indices.astype(np.int32, copy=False)
        return out

    def add(self, texts: Iterable[str], ids: Iterable[Any],
            metadata: Iterable[Mapping[str, Any] | None] | None = None) -> SimilarityIndex:
        """Append documents without rebuilding: they are weighted with the existing vocabulary and
        IDF (terms unseen at ``fit`` are ignored) and stored as a new segment.

        Document frequencies (``df_``, what ``prune_df`` and the saved ``df.npy`` read) count the
        new documents too. The IDF stays the one fitted, like any fitted model's weights: the stored
        rows were normalised with it, so changing it would need every row reweighed; ``fit`` on all
        texts does that."""
        self._check_fitted()
        if ids is None:
            raise ParameterError("add() needs ids for the new documents")
        vec = self.vectorizer_
        docs, id_list, meta, norms = self._check_batch(texts, ids, metadata, len(self.ids_), vec.tokenizer_)
        if not docs:
            return self
        counts, _ = self._count(docs, norms, vec.tokenizer_, dict(vec.vocabulary_))
        base = len(self.ids_)
        self.df_ = self.df_ + np.bincount(counts.indices, minlength=len(self.df_))
        self.segments_.append(self._postings(counts))
        self.ids_.extend(id_list)
        for i, x in enumerate(id_list):
            self.row_of_[x] = base + i
        self.metadata_.extend(with_parsed_date(m) for m in meta)
        if self.texts_ is not None:
            self.texts_.extend(norms)  # type: ignore[attr-defined, arg-type]
        self._dup_group = None
        return self

    # -- container protocol ---------------------------------------------------------------
    def _check_fitted(self) -> None:
        check_fitted(self, ["vectorizer_"], how="fit(texts)")

    def __len__(self) -> int:
        return len(getattr(self, "ids_", []))

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in getattr(self, "row_of_", {})

    def __repr__(self) -> str:
        if not hasattr(self, "vectorizer_"):
            return "SimilarityIndex(unfitted)"
        return (f"SimilarityIndex({len(self)} documents, {len(self.vectorizer_.vocabulary_)} terms, "
                f"{len(self.segments_)} segment(s))")

    def document(self, doc_id: Any) -> tuple[str | None, dict[str, Any]]:
        """The stored (normalised) text (``None`` without ``store_text``) and metadata of one
        document; an unknown id is a ``KeyError``."""
        self._check_fitted()
        row = self.row_of_[str(doc_id)]
        return (self.texts_[row] if self.texts_ is not None else None), self.metadata_[row]

    # -- querying -------------------------------------------------------------------------
    def query(self, text: str, k: int = 10, filter: Filter = None, *, exclude_duplicates: bool = False,
              prune_df: float | None = None) -> list[Match]:
        """The ``k`` documents most similar to ``text``, best first.

        ``filter`` selects on metadata: a callable ``meta -> bool`` or a dict of field -> value
        (equality; membership when the stored value is a list), field -> ``(low, high)`` (inclusive
        range, ``None`` for an open end; for ``date``, any form :func:`~govtext.clean.parse_date`
        reads, compared as dates) or field -> set of values.
        ``exclude_duplicates`` returns one document per group of :meth:`duplicates`.
        ``prune_df`` skips query terms found in more than that share of documents (approximate;
        it reads fewer postings, which matters on very large indexes). Only documents that share a term with the query are returned, so there may be
        fewer than ``k`` (none when the query has no known term, or the filter passes none of them);
        an empty query is an error. Equal scores are ranked in index order.
        """
        if not isinstance(text, str):
            raise ParameterError(f"query() expects the query text as a str, got {type(text).__name__}; "
                                 f"use query_many() for a list")
        return self.query_many([text], k, filter, exclude_duplicates=exclude_duplicates, prune_df=prune_df)[0]

    def query_many(self, texts: Sequence[str], k: int = 10, filter: Filter = None, *,
                   exclude_duplicates: bool = False, prune_df: float | None = None) -> list[list[Match]]:
        """:meth:`query` for many texts at once: one list of matches per text, in order, equal to
        calling :meth:`query` for each (arguments are checked once)."""
        queries = self._check_queries(texts, k, prune_df, exclude_duplicates)
        flt = checked_filter(filter)
        groups = self._duplicate_groups() if exclude_duplicates and queries else None
        return [self.matches(self._candidates(t, k, self._acceptor(flt, groups), prune_df)) for t in queries]

    def candidates(self, text: str, k: int = 10, filter: Filter = None, *, exclude_duplicates: bool = False,
                   prune_df: float | None = None) -> Candidates:
        """The exact cosine stage of :meth:`query` alone: the ``k`` best rows, their scores and the
        terms each shares with the query, without building result records. A ranking step can
        re-order (or cut) them and hand them to :meth:`matches`."""
        if not isinstance(text, str):
            raise ParameterError(f"candidates() expects the query text as a str, got {type(text).__name__}")
        self._check_queries([text], k, prune_df, exclude_duplicates)
        groups = self._duplicate_groups() if exclude_duplicates else None
        return self._candidates(text, k, self._acceptor(checked_filter(filter), groups), prune_df)

    def _check_queries(self, texts: Any, k: int, prune_df: float | None, exclude_duplicates: bool) -> list[str]:
        self._check_fitted()
        queries = check_text_list(texts, "texts")
        for i, t in enumerate(queries):
            if not isinstance(t, str):
                raise ParameterError(f"texts[{i}] is {type(t).__name__}; every query must be a str")
            if not t.strip():
                raise EmptyTextError(f"empty query (texts[{i}]): give the text of a proposal or article")
        check_int("query()", "k", k, low=1)
        check_number("query()", "prune_df", prune_df, low=0.0, high=1.0, low_open=True, none=True)
        check_bool("query()", "exclude_duplicates", exclude_duplicates)
        return queries

    def _candidates(self, text: str, k: int, accept: Any, prune_df: float | None) -> Candidates:
        vec = self.vectorizer_
        cols, weights = vec.weigh_tokens(vec.tokenizer_(text))
        if prune_df is not None and len(cols):
            common = self.df_[cols] > prune_df * len(self)
            cols, weights = cols[~common], weights[~common]
        if not len(cols):
            return Candidates(np.zeros(0, np.int64), np.zeros(0, np.float32), {})
        postings = gather(self.segments_, cols, weights.astype(np.float32, copy=False))
        scores = cosine_scores(postings, len(self))
        rows = np.asarray(top_rows(scores, k, accept), dtype=np.int64)
        return Candidates(rows, scores[rows], contributions(postings, rows.tolist(), cols, len(self)))

    def matches(self, found: Candidates) -> list[Match]:
        """Result records (id, score, rank, metadata, shared terms, passage) for the rows of
        ``found``, in its order."""
        self._check_fitted()
        names = self.vectorizer_.get_feature_names_out()
        out = []
        for i, (row, score) in enumerate(zip(found.rows.tolist(), found.scores.tolist())):
            shared = [(str(names[c]), w) for c, w in found.shared.get(row, [])]
            out.append(Match(id=self.ids_[row], score=float(score), rank=i + 1, metadata=self.metadata_[row],
                             shared_terms=tuple(t for t, _ in shared), passage=self._passage(row, shared)))
        return out

    def _acceptor(self, flt: Filter, groups: np.ndarray | None) -> Any:
        """A ``row -> bool`` for :func:`top_rows`: the filter, and one row per duplicate group."""
        if flt is None and groups is None:
            return None
        seen_groups: set[int] = set()

        def accept(row: int) -> bool:
            if flt is not None and not matches_filter(self.metadata_[row], flt):
                return False
            if groups is not None and groups[row] >= 0:
                if groups[row] in seen_groups:
                    return False
                seen_groups.add(int(groups[row]))
            return True

        return accept

    def _passage(self, row: int, shared: list[tuple[str, float]]) -> str | None:
        if self.texts_ is None or not shared:
            return None
        return best_passage(self.texts_[row], shared)

    # -- near duplicates -------------------------------------------------------------------
    def _rows(self) -> sp.csr_matrix:
        mats = [seg.tocsr() for seg in self.segments_]
        return sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]

    def duplicates(self, threshold: float = 0.9, *, top_terms: int = 8, max_postings: int = 2000) -> list[list[str]]:
        """Groups of near-identical documents (reprints of one press release), largest first.

        Two documents are near-identical when the cosine of their TF-IDF vectors is at least
        ``threshold``. Candidate pairs are documents sharing at least three of their
        ``top_terms`` strongest terms (terms that are top terms of more than ``max_postings``
        documents are not used for candidates); every candidate pair is then checked exactly.
        """
        self._check_fitted()
        if not 0 < threshold <= 1:
            raise ParameterError(f"threshold must be in (0, 1], got {threshold!r}")
        self._dup_group = self._group(threshold, top_terms, max_postings)
        self._dup_threshold = threshold
        groups: dict[int, list[str]] = {}
        for row, g in enumerate(self._dup_group):
            if g >= 0:
                groups.setdefault(int(g), []).append(self.ids_[row])
        return sorted(groups.values(), key=lambda g: (-len(g), g[0]))

    def _duplicate_groups(self) -> np.ndarray:
        if getattr(self, "_dup_group", None) is None:
            self.duplicates()
        return self._dup_group  # type: ignore[return-value]

    def _group(self, threshold: float, top_terms: int, max_postings: int) -> np.ndarray:
        X = self._rows()
        n = X.shape[0]
        # Keep each row's strongest terms only, as 0/1.
        rows, cols = [], []
        for r in range(n):
            a, b = X.indptr[r], X.indptr[r + 1]
            if b - a == 0:
                continue
            sel = a + np.argsort(-X.data[a:b], kind="stable")[:top_terms]
            rows.append(np.full(len(sel), r))
            cols.append(X.indices[sel])
        if not rows:
            return np.full(n, -1)
        P = sp.csr_matrix((np.ones(sum(len(r) for r in rows), np.float32),
                           (np.concatenate(rows), np.concatenate(cols))), shape=X.shape)
        df = np.asarray((P > 0).sum(axis=0)).ravel()
        P = P[:, np.flatnonzero((df >= 2) & (df <= max_postings))]
        shared = sp.triu(P @ P.T, k=1).tocoo()
        pick = shared.data >= min(3, top_terms)
        i, j = shared.row[pick], shared.col[pick]
        parent = np.arange(n)

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for start in range(0, len(i), 50_000):
            a, b = i[start : start + 50_000], j[start : start + 50_000]
            cos = np.asarray(X[a].multiply(X[b]).sum(axis=1)).ravel()
            for x, y in zip(a[cos >= threshold], b[cos >= threshold]):
                rx, ry = find(int(x)), find(int(y))
                if rx != ry:
                    parent[max(rx, ry)] = min(rx, ry)
        roots = np.array([find(r) for r in range(n)])
        sizes = np.bincount(roots, minlength=n)
        return np.where(sizes[roots] > 1, roots, -1)

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to folder ``path``: postings as ``.npy`` arrays (loadable memory-mapped),
        ids as a JSON list, metadata and normalised texts as JSON lines (read lazily on load),
        vocabulary/IDF and parameters as JSON. Each file is written beside its final name and then
        moved into place, so saving over the folder an index was loaded from is safe."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        mats = [seg.tocsr() for seg in self.segments_]
        merged = (sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]).tocsc()
        arrays = {"postings_data.npy": merged.data.astype(np.float32), "postings_indices.npy": merged.indices.astype(np.int32),
                  "postings_indptr.npy": merged.indptr.astype(np.int64), "df.npy": np.asarray(self.df_, np.int64)}
        for name, array in arrays.items():
            with _replacing(folder / name) as tmp, open(tmp, "wb") as fh:
                np.save(fh, array, allow_pickle=False)
        staging = folder / f".staging.{os.getpid()}"
        staging.mkdir(exist_ok=True)
        write_vocabulary(staging, self.vectorizer_.get_feature_names_out(), self.vectorizer_.idf_, prefix="vec_")
        for name in ("vec_vocabulary.json", "vec_idf.npy"):
            (staging / name).replace(folder / name)
        staging.rmdir()
        with _replacing(folder / "ids.json") as tmp:
            # errors="backslashreplace": a lone surrogate (an id such as "a\ud800") is written as JSON's
            # own escape for it, \ud800, and read back exactly.
            tmp.write_text(json.dumps(list(self.ids_), ensure_ascii=False), encoding="utf-8", errors="backslashreplace")
        with _replacing(folder / "records.jsonl") as tmp, open(tmp, "w", encoding="utf-8", errors="backslashreplace") as fh:
            for doc_id, meta in zip(self.ids_, self.metadata_):
                fh.write(json.dumps({"id": doc_id, "metadata": meta}, ensure_ascii=False, default=str) + "\n")
        if self.texts_ is not None:
            with _replacing(folder / "texts.jsonl") as tmp, open(tmp, "w", encoding="utf-8", errors="backslashreplace") as fh:
                for t in self.texts_:
                    fh.write(json.dumps(t, ensure_ascii=False) + "\n")
        elif (folder / "texts.jsonl").exists():
            (folder / "texts.jsonl").unlink()
        params = {"min_df": self.min_df, "max_df": self.max_df, "extract_metadata": self.extract_metadata,
                  "store_text": self.store_text, "chunk_size": self.chunk_size, "n_jobs": self.n_jobs}
        return write_manifest(folder, "SimilarityIndex", {
            "params": params, "tokenizer": self.vectorizer_.tokenizer_.to_config(),
            "vectorizer": self.vectorizer_.to_config(), "n_documents": len(self), "shape": list(merged.shape),
        }, engine=self.vectorizer_.tokenizer_.engine)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = True) -> SimilarityIndex:
        """Read an index written by :meth:`save`; postings are memory-mapped unless ``mmap=False``."""
        with reading(path, "SimilarityIndex"):
            return cls._read(Path(path), read_manifest(path, "SimilarityIndex"), mmap)

    @classmethod
    def _read(cls, folder: Path, manifest: dict[str, Any], mmap: bool) -> SimilarityIndex:
        tokenizer = Tokenizer.from_config(manifest["tokenizer"])
        index = cls(**manifest["params"], tokenizer=tokenizer)
        terms, idf = read_vocabulary(folder, prefix="vec_")
        index.vectorizer_ = Vectorizer.from_vocabulary(terms, idf, tokenizer=tokenizer, **manifest["vectorizer"])
        data = load_array(folder / "postings_data.npy", kinds="f", ndim=1, mmap=mmap)
        indices = load_array(folder / "postings_indices.npy", kinds="iu", ndim=1, mmap=mmap)
        indptr = load_array(folder / "postings_indptr.npy", kinds="iu", ndim=1, mmap=mmap)
        shape = manifest.get("shape")
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise IncompatibleModelError(f"{folder}: govtext.json 'shape' must be [documents, terms]")
        shape = (shape[0], shape[1])
        check_postings(folder, data, indices, indptr, shape)
        if shape[1] != len(terms):
            raise IncompatibleModelError(f"{folder}: postings have {shape[1]} term columns but the vocabulary "
                                         f"has {len(terms)} terms")
        index.segments_ = [sp.csc_matrix((data, indices, indptr), shape=shape, copy=False)]
        index.df_ = load_array(folder / "df.npy", kinds="iu", ndim=1)
        if len(index.df_) != shape[1]:
            raise IncompatibleModelError(f"{folder}: df.npy has {len(index.df_)} values for {shape[1]} terms")
        if not (folder / "ids.json").is_file():
            raise IncompatibleModelError(f"{folder}: ids.json is missing; rebuild the index (govtext index)")
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        if not (isinstance(ids, list) and all(isinstance(x, str) for x in ids)):
            raise IncompatibleModelError(f"{folder}: ids.json must be a JSON list of strings")
        index.ids_ = ids
        index.metadata_ = JsonLines(folder / "records.jsonl", decode=_record_metadata)
        if len(index.metadata_) != len(ids):
            raise IncompatibleModelError(f"{folder}: {len(index.metadata_)} records for {len(ids)} ids")
        if len(index.ids_) != shape[0]:
            raise IncompatibleModelError(f"{folder}: {len(index.ids_)} records but {shape[0]} rows of postings")
        index.row_of_ = {x: i for i, x in enumerate(index.ids_)}
        if len(index.row_of_) != len(index.ids_):
            raise IncompatibleModelError(f"{folder}: ids.json repeats ids")
        texts_file = folder / "texts.jsonl"
        index.texts_ = None
        if texts_file.is_file():
            index.texts_ = JsonLines(texts_file)
            if len(index.texts_) != shape[0]:
                raise IncompatibleModelError(f"{folder}: texts.jsonl has {len(index.texts_)} lines for {shape[0]} documents")
        index._dup_group = None
        return index


def best_passage(text: str, shared: Sequence[tuple[str, float]], width: int = _PASSAGE_CHARS) -> str | None:
    """The sentence of ``text`` holding the most weight of the ``shared`` (term, weight) pairs (each
    term counted once per sentence; the first such sentence on a tie), cut to about ``width``
    characters around its strongest shared term. Terms are found with ``str.find`` in the whole
    text and placed in their sentence, so the text is scanned once per term, not once per sentence."""
    spans = [m.span() for m in SENTENCE_RE.finditer(text)]
    ends = [e for _, e in spans]
    totals = [0.0] * len(spans)
    for term, weight in shared:
        if not term:
            continue
        at = text.find(term)
        while at >= 0:
            i = bisect_right(ends, at)  # the sentence the occurrence starts in
            if i == len(spans):
                break
            if spans[i][0] <= at and at + len(term) <= ends[i]:
                totals[i] += weight
                at = text.find(term, ends[i])  # once per sentence: go on from the next one
            else:
                at = text.find(term, at + 1)
    best, best_score = None, 0.0
    for (start, end), score in zip(spans, totals):
        if score > best_score:
            best, best_score = text[start:end].strip(), score
    if best is None or len(best) <= width:
        return best
    at = next((best.find(t) for t, _ in shared if t in best), 0)
    start = max(0, min(at - width // 3, len(best) - width))
    cut = best[start : start + width]
    return ("…" if start > 0 else "") + cut + ("…" if start + width < len(best) else "")


def _record_metadata(record: Any) -> dict[str, Any]:
    return with_parsed_date(record["metadata"])


@contextmanager
def _replacing(final: Path) -> Iterator[Path]:
    """A temporary path beside ``final``, moved onto it once written (and removed on failure):
    a reader that has the old file memory-mapped keeps its copy."""
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        tmp.replace(final)
    finally:
        if tmp.exists():
            tmp.unlink()

