"""Find comparable initiatives: exact TF-IDF cosine search over an inverted index.

:class:`SimilarityIndex` is the public face; each concern lives in its own module of this package:
building (``_build``: checking a batch, counting, weighting into postings, document frequencies),
the exact cosine stage (``_topk``: a query's postings gathered from the CSC arrays, scores, top k,
shared terms), passages (``_passages``), reprint grouping (``_duplicates``), persistence
(``_store``) and metadata filters (``_metadata``). Documents are stored column-wise (one postings
list per term), so a query only reads the postings of its own terms; ``add`` appends a segment.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._common import CHUNK_SIZE, check_bool, check_df, check_int, check_n_jobs, check_number, check_text_list, check_tokenizer
from .._fitted import check_fitted
from ..errors import ParameterError
from ..features.vectorize import MAX_SAVED_JOBS, Vectorizer
from ..persist import check_saved, read_manifest, reading, saved_int, section
from ..text.clean import EmptyTextError, normalize
from ..text.tokenize import Tokenizer
from ._build import (
    Batch, check_batch, count_batch, document_frequencies, initiatives_of, postings, practice_vocabulary, with_user_words,
)
from ._duplicates import duplicate_groups, stacked_rows
from ._columns import MetadataTable, filter_mask, filter_rows
from ._kernel import (
    block_candidates, check_backend, dense_scores, resolve_backend, segment_arrays, select_top, shared_terms, unpacked,
)
from ._metadata import Filter, checked_filter
from ._passages import best_passage
from .ranking import Candidate, Ranking, Why, checked_rank, ranked_order, score_candidates
from .timeline import Timeline, build_timeline, matching_rows
from ._store import read_index, write_index
from ._topk import (
    block_scores, contributions, cosine_scores, document_rows, gather, query_matrix, shared_contributions,
    shared_from_rows, term_rows, top_rows, top_rows_of_block,
)

__all__ = ["Candidates", "Filter", "Match", "SimilarityIndex", "check_queries", "query_weights", "query_weights_many"]

_FEW_QUERIES = 4  # fewer queries than this are scored one by one (query() is one)
_BLOCK = 32  # queries per block of query_many
_BLOCK_CELLS = 1 << 22  # at most this many float32 scores per block (16 MB): fewer queries on huge indexes
_POSTINGS_PER_QUERY = 12_000  # query_many copies the postings row-wise when it has a query per this many


class _Done:
    """A finished result, shaped like a future."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


@functools.lru_cache(maxsize=1)
def _cores() -> int:
    return os.cpu_count() or 1  # asked once: it reads /sys on every call


def _threads(n_jobs: int | None) -> int:
    """Threads for query_many: ``n_jobs``, -1 for one per core, None for one per core up to 4."""
    check_n_jobs("query_many()", n_jobs)
    cores = _cores()
    return min(cores, 4) if n_jobs is None else cores if n_jobs == -1 else int(n_jobs)

_MAX_SAVED_CHUNK = 10**7  # documents per chunk a saved index may ask for


@dataclass(frozen=True)
class Candidates:
    """The exact cosine stage's answer for one query: ``rows`` best first (equal scores in index
    order), their ``scores`` (float32 cosines) and, per row, ``shared`` (term column, contribution)
    pairs, strongest first."""

    rows: np.ndarray
    scores: np.ndarray
    shared: dict[int, list[tuple[int, float]]]


class _Source:
    """Where the matches of one query (or one block of queries) read their lazy fields: one object
    shared by all of them, each match keeping only its position (``at``) in it. ``rows`` is the
    index row of each position; ``known`` the ranking's candidates by row (their metadata and text
    read already). Subclasses say where the (term column, contribution) pairs of a position are."""

    __slots__ = ("names", "table", "texts", "rows", "known")

    def __init__(self, index: SimilarityIndex, rows: Any, known: Mapping[int, Candidate] | None) -> None:
        self.names = index.vectorizer_.get_feature_names_out()
        self.table, self.texts, self.rows, self.known = index.metadata_, index.texts_, rows, known

    def pairs(self, at: int) -> list[tuple[int, float]]:  # pragma: no cover - each source has its own
        raise NotImplementedError

    def shared(self, at: int) -> list[tuple[str, float]]:
        names = self.names
        return [(str(names[c]), w) for c, w in self.pairs(at)]

    def metadata(self, at: int) -> dict[str, Any]:
        return self.table[int(self.rows[at])]

    def shared_terms(self, at: int) -> tuple[str, ...]:
        return tuple(t for t, _ in self.shared(at))

    def passage(self, at: int) -> str | None:
        """The passage of the stored text of the row at ``at`` (the ranking's copy when it read it)."""
        shared = self.shared(at)
        if self.texts is None or not shared:
            return None
        row = int(self.rows[at])
        known = self.known.get(row) if self.known else None
        text = known.text if known is not None else None
        return best_passage(text if text is not None else self.texts[row], shared)


class _FoundSource(_Source):
    """The lazy fields of :meth:`SimilarityIndex.matches`'s records: position ``at`` is
    ``found.rows[at]``, its pairs ``found.shared[row]``."""

    __slots__ = ("found",)

    def __init__(self, index: SimilarityIndex, found: Candidates, rows: list[int],
                 known: Mapping[int, Candidate] | None) -> None:
        super().__init__(index, rows, known)
        self.found = found.shared

    def pairs(self, at: int) -> list[tuple[int, float]]:
        return self.found.get(self.rows[at], [])


class _BlockSource(_Source):
    """The lazy fields of a block of queries scored by the compiled kernel: position ``at`` is
    query ``at // k``'s ``at % k``-th row; its pairs are the kernel's arrays (``cols``, ``vals``:
    one row of ``top`` per position, ``counts`` of them held)."""

    __slots__ = ("cols", "vals", "counts")

    def __init__(self, index: SimilarityIndex, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                 counts: np.ndarray) -> None:
        super().__init__(index, rows, None)
        self.cols, self.vals, self.counts = cols, vals, counts

    def pairs(self, at: int) -> list[tuple[int, float]]:
        n = int(self.counts[at])
        return list(zip(self.cols[at, :n].tolist(), self.vals[at, :n].tolist()))


class _Lazy:
    """The hidden slot of :class:`Match`: its position in the :class:`_Source` its lazy fields
    are read from (unset for a match made by hand)."""

    __slots__ = ("_at", "__weakref__")


@dataclass(frozen=True, slots=True)
class Match(_Lazy):
    """One search result. ``metadata`` and ``passage`` are read from the index when they are first
    read (so a result nobody looks at costs neither; a saved index reads them from disk); everything
    else is set when the match is made (``shared_terms`` too, as far as anyone can tell: the index
    keeps the term columns and names them when they are first read)."""

    id: str
    score: float  # cosine similarity of TF-IDF vectors, 0..1
    rank: int  # 1 = best
    metadata: dict[str, Any] = None  # type: ignore[assignment]  # default: {}
    shared_terms: tuple[str, ...] = ()  # distinctive terms query and match share, strongest first
    passage: str | None = None  # the sentence of the match that best fits the query
    why: Why | None = None  # how the precedent ranking scored it (None in the cosine order)


class _OnFirstRead:
    """A lazy field of :class:`Match`: its slot holds the value, or the :class:`_Source` to read it
    from (at the match's position) the first time it is read - equality, ``repr``, pickling and
    ``dataclasses.replace`` read it too - then holds the value. ``empty`` makes the value of
    ``None`` when one is given (``metadata``: ``{}``)."""

    __slots__ = ("slot", "name", "empty", "default")

    def __init__(self, name: str, empty: Any, default: Any) -> None:
        self.slot, self.name, self.empty, self.default = _SLOT[name], name, empty, default

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self.default  # the field's default, as the class shows it
        value = self.slot.__get__(obj, owner)
        if isinstance(value, _Source):
            value = getattr(value, self.name)(_AT.__get__(obj))
            self.slot.__set__(obj, value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        self.slot.__set__(obj, self.empty() if value is None and self.empty is not None else value)


_FIELDS = ("id", "score", "rank", "metadata", "shared_terms", "passage", "why")
_SLOT = {name: Match.__dict__[name] for name in _FIELDS}  # the slots' own descriptors
_DEFAULT = {"id": None, "score": None, "rank": None, "metadata": None, "shared_terms": (), "passage": None, "why": None}
_AT = _Lazy.__dict__["_at"]
Match.metadata = _OnFirstRead("metadata", dict, None)  # type: ignore[assignment]
Match.shared_terms = _OnFirstRead("shared_terms", None, ())  # type: ignore[assignment]
Match.passage = _OnFirstRead("passage", None, None)  # type: ignore[assignment]


def _match_state(self: Match) -> dict[str, Any]:
    """A match's pickled state: the values, never the index's texts; under the keys of the matches
    of earlier versions (which kept their fields in ``__dict__``, metadata and passage as
    ``_metadata`` and ``_passage``), so that a pickle reads in either version."""
    return {"id": self.id, "score": self.score, "rank": self.rank, "_metadata": self.metadata,
            "shared_terms": self.shared_terms, "_passage": self.passage, "why": self.why}


def _set_match_state(self: Match, state: dict[str, Any]) -> None:
    for name in _FIELDS:
        value = state.get(name, state.get("_" + name, _DEFAULT[name]))
        _SLOT[name].__set__(self, {} if name == "metadata" and value is None else value)


# set here: Python 3.10's dataclass(slots=True) puts its own in place of a frozen class's
Match.__getstate__ = _match_state  # type: ignore[method-assign]
Match.__setstate__ = _set_match_state  # type: ignore[attr-defined]


def _records_of(ids: Sequence[str], rows: Sequence[int], scores: Sequence[float], source: _Source, start: int,
                metadata: Sequence[Any] | None = None, whys: Sequence[Why] | None = None) -> list[Match]:
    """Matches of ``rows`` (ranks 1, 2, ...) with their ``scores``, at positions ``start``,
    ``start + 1``, ... of ``source``, which their lazy fields are read from (``metadata`` given
    per row where it is known: a :class:`_Source` for the others). Made slot by slot, without
    ``Match.__init__``: what it would store, without its per-field calls."""
    new = object.__new__
    set_id, set_score, set_rank, set_meta, set_terms, set_passage, set_why = (_SLOT[n].__set__ for n in _FIELDS)
    set_at = _AT.__set__
    out = []
    for i, (row, score) in enumerate(zip(rows, scores)):
        m = new(Match)
        set_id(m, ids[row])
        set_score(m, score)
        set_rank(m, i + 1)
        set_meta(m, source if metadata is None else metadata[i])
        set_terms(m, source)
        set_passage(m, source)
        set_why(m, None if whys is None else whys[i])
        set_at(m, start + i)
        out.append(m)
    return out


class SimilarityIndex:
    """Search a corpus for the documents most similar to a text (TF-IDF cosine, exact).

    Parameters (keyword-only): ``tokenizer`` (default ``Tokenizer()``), ``min_df`` / ``max_df``
    (vocabulary limits, as for :class:`~govtext.Vectorizer`), ``extract_metadata`` (store
    :func:`~govtext.places` and :func:`~govtext.initiatives` of each text under ``places`` /
    ``initiatives``), ``store_text`` (keep the normalised texts, for result passages and
    :meth:`document`), ``chunk_size`` and
    ``n_jobs`` (tokenising in parallel processes), ``progress`` (a bar on stderr; default: when
    stderr is a terminal).

    ``keep_practices=True`` makes the index's tokenizer keep practice names whole (楼道微自治 one
    term instead of 楼道 / 微自治): govtext's curated :func:`~govtext.practice_names` and the
    initiatives (:func:`~govtext.initiatives`) that at least ``practice_min_docs`` of the indexed
    texts name, 3 to 10 characters long. They are added to the tokenizer's user words at ``fit``
    (``practice_words_`` lists them; ``vectorizer_.tokenizer_`` is the tokenizer used, for the
    documents and the queries alike) and saved with the index. Default ``False``: the tokenizer as given.

    ``backend`` is how queries score: ``"numba"`` (a compiled score-and-select kernel, needs
    ``pip install govtext[fast]``; compiled on the first query in a process, about a second),
    ``"numpy"`` (no compiler) or ``"auto"`` (default: numba when it imports). Both give the same
    results to the last bit; ``backend_`` says which one is used. It is not saved with the index
    and can be changed at any time (``index.backend = "numpy"``).

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
        keep_practices: bool = False,
        practice_min_docs: int = 3,
        backend: str = "auto",
    ) -> None:
        self.tokenizer = tokenizer
        self.min_df = min_df
        self.max_df = max_df
        self.extract_metadata = extract_metadata
        self.store_text = store_text
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.progress = progress
        self.keep_practices = keep_practices
        self.practice_min_docs = practice_min_docs
        self.backend = backend

    _PARAMS = ("tokenizer", "min_df", "max_df", "extract_metadata", "store_text", "chunk_size", "n_jobs", "progress",
               "keep_practices", "practice_min_docs", "backend")

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
            raise ParameterError(f"{type(self).__name__} has no parameter(s) {unknown}; its parameters are "
                                 f"{list(self._PARAMS)}")
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
        check_bool(owner, "keep_practices", self.keep_practices)
        check_int(owner, "practice_min_docs", self.practice_min_docs, low=1)
        check_backend(owner, self.backend)

    # -- building -------------------------------------------------------------------------
    def _batch(self, texts: Any, ids: Any, metadata: Any, start: int, tok: Tokenizer) -> Batch:
        return check_batch(texts, ids, metadata, start=start, known=getattr(self, "row_of_", {}), tokenizer=tok,
                           extract_metadata=self.extract_metadata, store_text=self.store_text)

    def _count(self, batch: Batch, tok: Tokenizer, vocabulary: dict[str, int] | None) -> tuple[sp.csr_matrix, dict[str, int]]:
        return count_batch(batch, tok, vocabulary, chunk_size=self.chunk_size, n_jobs=self.n_jobs,
                           progress=self.progress)

    def fit(self, texts: Iterable[str], ids: Iterable[Any] | None = None,
            metadata: Iterable[Mapping[str, Any] | None] | None = None) -> SimilarityIndex:
        """Build the index: vocabulary and IDF from ``texts``, one row per text."""
        self._validate_params()
        tok = self.tokenizer if self.tokenizer is not None else Tokenizer()
        self.row_of_: dict[str, int] = {}
        batch = self._batch(texts, ids, metadata, 0, tok)
        if not batch.docs:
            raise ParameterError("SimilarityIndex.fit needs at least one document, got an empty list")
        self.practice_words_: list[str] = []
        if self.keep_practices:  # metadata (places) was read with the tokenizer as given; the terms keep names whole
            words = practice_vocabulary(initiatives_of(batch), min_docs=self.practice_min_docs)
            tok, self.practice_words_ = with_user_words(tok, words)
        counts, vocab = self._count(batch, tok, None)
        vec = Vectorizer(tokenizer=tok, min_df=self.min_df, max_df=self.max_df).fit_counts(counts, list(vocab))
        keep = np.fromiter((vocab[t] for t in vec.get_feature_names_out()), np.int64, count=len(vec.idf_))
        counts = counts[:, keep].tocsr() if len(keep) < counts.shape[1] else counts
        self.vectorizer_ = vec
        self.df_ = document_frequencies(counts, len(keep))
        self.segments_: list[sp.csc_matrix] = [postings(vec, counts)]
        self.ids_: list[str] = batch.ids
        self.row_of_ = {x: i for i, x in enumerate(batch.ids)}
        self.metadata_: Sequence[dict[str, Any]] = MetadataTable(batch.metadata)
        self.texts_: Sequence[str] | None = batch.norms if self.store_text else None
        self._dup_group: np.ndarray | None = None
        return self

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
        batch = self._batch(texts, ids, metadata, len(self.ids_), vec.tokenizer_)
        if not batch.docs:
            return self
        counts, _ = self._count(batch, vec.tokenizer_, dict(vec.vocabulary_))
        base = len(self.ids_)
        self.df_ = self.df_ + document_frequencies(counts, len(self.df_))
        self.segments_.append(postings(vec, counts))
        self.ids_.extend(batch.ids)
        for i, x in enumerate(batch.ids):
            self.row_of_[x] = base + i
        self.metadata_.extend(batch.metadata)  # type: ignore[attr-defined]
        if self.texts_ is not None:
            self.texts_.extend(batch.norms)  # type: ignore[attr-defined, arg-type]
        self._dup_group = None
        return self

    # -- container protocol ---------------------------------------------------------------
    def _check_fitted(self) -> None:
        check_fitted(self, ["vectorizer_"], how="fit(texts)")

    @property
    def backend_(self) -> str:
        """The backend queries use, ``"numba"`` or ``"numpy"`` (``backend="auto"`` resolved; imports
        numba). ``backend="numba"`` without numba is a ``ParameterError`` saying how to install it."""
        check_backend("SimilarityIndex", self.backend)
        return resolve_backend(self.backend)

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
              prune_df: float | None = None, rank: str | Ranking = "precedent") -> list[Match]:
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
        ``rank="precedent"`` (default) re-orders the top cosine candidates as precedents
        (:class:`~govtext.Ranking`: BM25 over the candidates' stored texts, place level, a place's
        report headline, kind of text (round-ups and central documents down), named practices;
        each match's ``why`` says how it scored, :func:`~govtext.split_policy_basis` shows
        central documents apart);
        ``rank="cosine"`` is the exact cosine order; a ``Ranking(...)`` sets the signals.
        """
        if not isinstance(text, str):
            raise ParameterError(f"query() expects the query text as a str, got {type(text).__name__}; "
                                 f"use query_many() for a list")
        return self.query_many([text], k, filter, exclude_duplicates=exclude_duplicates, prune_df=prune_df,
                               rank=rank)[0]

    def query_many(self, texts: Sequence[str], k: int = 10, filter: Filter = None, *,
                   exclude_duplicates: bool = False, prune_df: float | None = None,
                   rank: str | Ranking = "precedent", n_jobs: int | None = None) -> list[list[Match]]:
        """:meth:`query` for many texts at once: one list of matches per text, in order, equal to
        calling :meth:`query` for each (arguments are checked once).

        The texts are scored in blocks, each block one sparse product with the index, in
        ``n_jobs`` threads (default: one per core, at most 4; ``1`` for none); tokenising, the
        filter and building the results stay in the calling thread. The scores are the very
        float32 numbers :meth:`query` computes, whatever ``n_jobs``."""
        queries = self._check_queries(texts, k, prune_df, exclude_duplicates)
        ranking = checked_rank(rank)
        flt = checked_filter(filter)
        threads = _threads(n_jobs)
        groups = self._duplicate_groups() if exclude_duplicates and queries else None
        depth = k if ranking is None else max(k, ranking.candidates)  # precedents re-order the top candidates
        acceptor = lambda: self._acceptor(flt, groups)  # noqa: E731
        if ranking is None:  # the records straight from the candidate stage
            return list(self._candidates_many(queries, depth, acceptor, prune_df, threads, records=True))
        found = self._candidates_many(queries, depth, acceptor, prune_df, threads)
        return [self._reranked(t, c, ranking, k) for t, c in zip(queries, found)]

    def _reranked(self, text: str, found: Candidates, ranking: Ranking, k: int) -> list[Match]:
        """The best ``k`` of ``found`` by ``ranking``: every candidate scored from its stored text and
        metadata, result records (passages, shared terms) built for the ``k`` kept only."""
        rows = found.rows.tolist()
        cands = [Candidate(float(s), i + 1, self.texts_[r] if self.texts_ is not None else None, self.metadata_[r])
                 for i, (r, s) in enumerate(zip(rows, found.scores.tolist()))]
        whys = score_candidates(text, cands, ranking, vectorizer=self.vectorizer_)
        keep = ranked_order(whys, ranking)[:k]
        return self._records(Candidates(found.rows[keep], found.scores[keep], found.shared),
                             {rows[j]: cands[j] for j in keep}, [whys[j] for j in keep])

    def timeline(self, name: str, *, local_only: bool = False) -> Timeline:
        """The places that report the practice ``name`` (its text found whole in the stored texts,
        every one read): each with the first and latest dates and the number of documents,
        earliest first. ``local_only`` keeps counties, districts, streets, towns, communities and
        villages. Needs an index built with ``store_text=True``."""
        self._check_fitted()
        if self.texts_ is None:
            raise ParameterError("timeline() reads the stored texts; this index was built with store_text=False")
        key = normalize(name) if isinstance(name, str) and name.strip() else name
        texts = self.texts_
        rows = matching_rows(key, range(len(self)), lambda r: texts[r])  # type: ignore[arg-type]
        return build_timeline(key, ((self.ids_[r], self.metadata_[r]) for r in rows), local_only=local_only)

    def _text_of(self, doc_id: str) -> str | None:
        return self.texts_[self.row_of_[doc_id]] if self.texts_ is not None else None

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
        return check_queries(texts, k, prune_df, exclude_duplicates)

    def _weighed(self, text: str, prune_df: float | None) -> tuple[np.ndarray, np.ndarray]:
        """The query's term columns (ascending) and float32 TF-IDF weights, common terms pruned."""
        return query_weights(self.vectorizer_, self.df_, len(self), text, prune_df)

    def _candidates(self, text: str, k: int, accept: Any, prune_df: float | None) -> Candidates:
        cols, weights = self._weighed(text, prune_df)
        return self._scored(cols, weights, k, accept, self.backend_)

    def _scored(self, cols: np.ndarray, weights: np.ndarray, k: int, accept: Any, backend: str) -> Candidates:
        """The ``k`` best rows passing ``accept`` for weighed query terms (``backend`` resolved:
        ``"numba"`` or ``"numpy"``), with their scores and shared terms."""
        if not len(cols):
            return Candidates(np.zeros(0, np.int64), np.zeros(0, np.float32), {})
        if backend == "numba":
            return _compiled_candidates(segment_arrays(self.segments_), len(self), cols, weights, k, accept)
        postings = gather(self.segments_, cols, weights)
        scores = cosine_scores(postings, len(self))
        rows = np.asarray(top_rows(scores, k, accept), dtype=np.int64)
        return Candidates(rows, scores[rows], contributions(postings, rows.tolist(), cols, len(self)))

    def _candidates_many(self, queries: Sequence[str], k: int, acceptor: Any, prune_df: float | None,
                         threads: int, records: bool = False) -> Iterator[Any]:
        """:meth:`_candidates` of every query, in order (``acceptor()`` makes each query's accept);
        with ``records``, their :meth:`matches` instead. A few queries go one by one; more are scored
        a block at a time (see :func:`block_scores`), up to ``threads`` blocks at once, while this
        thread tokenises the next block and finishes the last one."""
        if len(queries) < _FEW_QUERIES:
            found: Iterator[Candidates] = (self._candidates(t, k, acceptor(), prune_df) for t in queries)
        elif self.backend_ == "numba":
            found = self._compiled_many(queries, k, acceptor, prune_df, threads, records)
            if records:
                yield from found  # records already
                return
        else:
            found = self._numpy_many(queries, k, acceptor, prune_df, threads)
        yield from (self._records(c, {}) for c in found) if records else found

    def _numpy_many(self, queries: Sequence[str], k: int, acceptor: Any, prune_df: float | None,
                    threads: int) -> Iterator[Candidates]:
        """:meth:`_candidates_many` with NumPy and SciPy, a block at a time."""
        segments = term_rows(self.segments_)
        n_terms = len(self.vectorizer_.vocabulary_)
        index_dtype = segments[0].indices.dtype if segments else np.int32
        size = max(1, min(_BLOCK, _BLOCK_CELLS // max(1, len(self))))
        filtered = acceptor() is not None
        # Many queries: shared terms are read from a row-wise copy of the postings, made for this
        # call and dropped after it. The copy costs about 17 ns a posting and saves about 0.2 ms of
        # binary searches a query, so it pays from one query per 12,000 postings.
        postings = sum(seg.nnz for seg in self.segments_)
        if len(queries) * _POSTINGS_PER_QUERY >= postings:
            docs = document_rows(self.segments_)
            shared_of: Any = lambda block, found: shared_from_rows(docs, block, found)  # noqa: E731
        else:
            shared_of = lambda block, found: shared_contributions(self.segments_, block, found)  # noqa: E731

        def score(block: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, Any, Any]:
            """The block's scores; without a filter also its top rows and their shared terms (all
            arrays: the NumPy and SciPy calls release the GIL, so this runs beside the caller)."""
            scores = block_scores(query_matrix(block, n_terms, index_dtype), segments)
            if filtered:
                return scores, None, None
            tops = top_rows_of_block(scores, k)
            return scores, tops, shared_of(block, tops)

        def finish(block: list[tuple[np.ndarray, np.ndarray]], result: Any) -> Iterator[Candidates]:
            scores, found, shared = result.result()
            if found is None:  # the filter runs here, in the calling thread
                found = [np.asarray(top_rows(s, k, acceptor()), dtype=np.int64) for s in scores]
                shared = shared_of(block, found)
            for s, rows, pairs in zip(scores, found, shared):
                yield Candidates(rows, s[rows], pairs)

        yield from self._pipelined(queries, prune_df, size, threads, threads,
                                   lambda block: lambda: score(block), finish)

    def _pipelined(self, queries: Sequence[str], prune_df: float | None, size: int, threads: int, depth: int,
                   work: Callable[[list[tuple[np.ndarray, np.ndarray]]], Callable[[], Any]],
                   finish: Callable[[list[tuple[np.ndarray, np.ndarray]], Any], Iterator[Candidates]],
                   ) -> Iterator[Candidates]:
        """The queries in blocks of ``size``: each block weighed in this thread, ``work(block)`` (a
        call that holds the GIL only briefly) run in up to ``threads`` worker threads with at most
        ``depth`` blocks in flight, and ``finish(block, done)`` yielding its candidates, in order."""
        pool = ThreadPoolExecutor(threads) if threads > 1 and len(queries) > size else None
        try:
            pending: deque[tuple[list[tuple[np.ndarray, np.ndarray]], Any]] = deque()
            for start in range(0, len(queries), size):
                block = query_weights_many(self.vectorizer_, self.df_, len(self), queries[start:start + size],
                                           prune_df)
                job = work(block)
                pending.append((block, pool.submit(job) if pool is not None else _Done(job())))
                if len(pending) > depth:
                    yield from finish(*pending.popleft())
            while pending:
                yield from finish(*pending.popleft())
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _compiled_many(self, queries: Sequence[str], k: int, acceptor: Any, prune_df: float | None,
                       threads: int, records: bool = False) -> Iterator[Any]:
        """:meth:`_candidates_many` with the compiled kernel: each query of a block scored, selected
        and its shared terms looked up in a worker thread (the kernels release the GIL), while this
        thread tokenises the next block; with a filter, the block's dense scores come back here.
        With ``records``, each query's :meth:`matches`: a block of the compiled kernel's arrays
        turned into records at once, all of them reading their lazy fields from one source."""
        arrays = segment_arrays(self.segments_)
        n_docs = len(self)
        filtered = acceptor() is not None
        # a filtered block brings its dense scores back to this thread: as many as query_many's blocks hold
        size = max(1, min(_BLOCK, _BLOCK_CELLS // max(1, n_docs))) if filtered else _BLOCK
        empty = Candidates(np.zeros(0, np.int64), np.zeros(0, np.float32), {})

        def score(block: list[tuple[np.ndarray, np.ndarray]]) -> Any:
            """The block's work, prepared here, to run in a worker: for an index of one segment one
            compiled call, so that the worker needs the GIL only to start and finish."""
            if filtered:
                return lambda: [dense_scores(arrays, n_docs, c, w) if len(c) else None for c, w in block]
            return block_candidates(arrays, n_docs, block, k)

        def finish(block: list[tuple[np.ndarray, np.ndarray]], result: Any) -> Iterator[Any]:
            if not filtered:
                done = result.result()
                if records and not isinstance(done, list):
                    yield from self._block_records(done)
                    return
                for (cols, _), (rows, scores, shared) in zip(block, unpacked(done)):
                    found = Candidates(rows, scores, shared) if len(cols) else empty
                    yield self._records(found, {}) if records else found
                return
            for (cols, weights), got in zip(block, result.result()):
                if got is None:
                    found = empty
                else:
                    rows = np.asarray(top_rows(got, k, acceptor()), dtype=np.int64)
                    found = Candidates(rows, got[rows], shared_terms(arrays, cols, weights, rows))
                yield self._records(found, {}) if records else found

        # unfiltered blocks bring back k rows a query, not dense scores: more of them may wait in flight,
        # so this thread does not stop for a worker that waits for the GIL
        depth = threads if filtered else 4 * threads
        yield from self._pipelined(queries, prune_df, size, threads, depth, score, finish)

    def _block_records(self, found: tuple[np.ndarray, ...]) -> Iterator[list[Match]]:
        """Each query's records from the arrays of :func:`block_candidates` (what :meth:`matches`
        makes of :func:`unpacked`'s candidates), without a Candidates, a dict or a list of pairs
        per query: one source holds the block's arrays and every record its position in them."""
        rows_out, vals_out, n_out, cols_sh, vals_sh, n_sh = found
        nq, k = rows_out.shape
        top = cols_sh.shape[2]
        source = _BlockSource(self, rows_out.reshape(nq * k), cols_sh.reshape(nq * k, top),
                              vals_sh.reshape(nq * k, top), n_sh.reshape(nq * k))
        ids = self.ids_
        for q, (rows, scores, n) in enumerate(zip(rows_out.tolist(), vals_out.tolist(), n_out.tolist())):
            yield _records_of(ids, rows[:n], scores[:n], source, q * k) if n else []

    def matches(self, found: Candidates) -> list[Match]:
        """Result records (id, score, rank, metadata, shared terms, passage) for the rows of
        ``found``, in its order."""
        self._check_fitted()
        return self._records(found, {})

    def _records(self, found: Candidates, read: Mapping[int, Candidate], whys: Sequence[Why] | None = None
                 ) -> list[Match]:
        """:meth:`matches`, taking the metadata and text of the rows in ``read`` from there (and the
        precedent ranking's ``whys``, one per row, when given)."""
        rows = found.rows.tolist()
        # metadata, shared terms and passages are read when they are asked for (the ranking has read
        # some metadata already): every record keeps its position in one source for the call
        source = _FoundSource(self, found, rows, read or None)
        metadata = None
        if read:
            metadata = [known.metadata if known is not None else source for known in map(read.get, rows)]
        return _records_of(self.ids_, rows, [float(s) for s in found.scores.tolist()], source, 0, metadata, whys)

    def _acceptor(self, flt: Filter, groups: np.ndarray | None) -> Any:
        """A ``row -> bool`` for :func:`top_rows`: the filter, and one row per duplicate group. A dict
        filter on metadata columns is one mask (``accept.mask``: top_rows drops the rows it rejects
        at once; ``accept.mask_only``: nothing else to decide row by row)."""
        if flt is None and groups is None:
            return None
        mask = filter_mask(self.metadata_, flt)  # a dict filter: one mask over the metadata columns
        check = None if mask is not None or flt is None else filter_rows(self.metadata_, flt)
        seen_groups: set[int] = set()

        def accept(row: int) -> bool:
            if mask is not None and not mask[row]:
                return False
            if check is not None and not check(row):
                return False
            if groups is not None and groups[row] >= 0:
                if groups[row] in seen_groups:
                    return False
                seen_groups.add(int(groups[row]))
            return True

        accept.mask = mask  # type: ignore[attr-defined]
        accept.mask_only = check is None and groups is None  # type: ignore[attr-defined]
        return accept

    # -- near duplicates -------------------------------------------------------------------
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
        self._dup_group = duplicate_groups(stacked_rows(self.segments_), threshold, top_terms, max_postings)
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

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to folder ``path``: postings as ``.npy`` arrays (loadable memory-mapped),
        ids as a JSON list, metadata and normalised texts as JSON lines (read lazily on load),
        vocabulary/IDF and parameters as JSON. Each file is written beside its final name and then
        moved into place, so saving over the folder an index was loaded from is safe."""
        self._check_fitted()
        params = {"min_df": self.min_df, "max_df": self.max_df, "extract_metadata": self.extract_metadata,
                  "store_text": self.store_text, "chunk_size": self.chunk_size, "n_jobs": self.n_jobs}
        words = getattr(self, "practice_words_", [])
        if self.keep_practices:  # written only when on, so such an index reads as before
            params.update(keep_practices=True, practice_min_docs=self.practice_min_docs)
        return write_index(path, vectorizer=self.vectorizer_, segments=self.segments_, df=self.df_, ids=self.ids_,
                           metadata=self.metadata_, texts=self.texts_, params=params,
                           practice_words=words if self.keep_practices else None)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = True) -> SimilarityIndex:
        """Read an index written by :meth:`save`; postings are memory-mapped unless ``mmap=False``."""
        with reading(path, "SimilarityIndex"):
            return cls._read(Path(path), read_manifest(path, "SimilarityIndex"), mmap)

    @classmethod
    def _read(cls, folder: Path, manifest: dict[str, Any], mmap: bool) -> SimilarityIndex:
        where = folder / "govtext.json"
        params = section(manifest, folder, "params")
        unknown = sorted(set(params) - (set(cls._PARAMS) - {"tokenizer", "progress", "backend"}))
        check_saved(where, not unknown, f"unknown SimilarityIndex parameters {unknown[:10]}")
        check_saved(where, params.get("chunk_size") is None or saved_int(params["chunk_size"], 1, _MAX_SAVED_CHUNK),
                    f"params.chunk_size must be an int in 1..{_MAX_SAVED_CHUNK}")
        jobs = params.get("n_jobs")
        check_saved(where, jobs is None or (saved_int(jobs, -1, MAX_SAVED_JOBS) and jobs != 0),
                    f"params.n_jobs must be null or -1..{MAX_SAVED_JOBS} without 0")
        config = section(manifest, folder, "tokenizer")
        tokenizer = Tokenizer.from_config(config)
        words = manifest.get("practice_words", [])
        own = config.get("user_words") or []
        check_saved(where, isinstance(words, list) and all(isinstance(w, str) for w in words)
                    and len(words) <= len(own) and own[len(own) - len(words):] == words,
                    "'practice_words' must be a list of the last user words of 'tokenizer'")
        check_saved(where, not words or params.get("keep_practices") is True,
                    "'practice_words' are saved only with params.keep_practices true")
        # The parameter is the tokenizer as given; the fitted one (vectorizer_.tokenizer_) keeps the practice words.
        given = Tokenizer.from_config({**config, "user_words": own[:len(own) - len(words)] or None}) if words else tokenizer
        index = cls(**params, tokenizer=given)
        index._validate_params()
        index.practice_words_ = list(words)
        stored = read_index(folder, manifest, tokenizer, mmap)
        index.vectorizer_, index.segments_, index.df_ = stored.vectorizer, stored.segments, stored.df
        index.ids_, index.row_of_, index.metadata_, index.texts_ = stored.ids, stored.row_of, stored.metadata, stored.texts
        index._dup_group = None
        return index


def _compiled_candidates(arrays: Any, n_docs: int, cols: np.ndarray, weights: np.ndarray, k: int,
                         accept: Any) -> Candidates:
    """One query's candidates by the compiled kernel (the numbers :meth:`SimilarityIndex._candidates`
    computes with NumPy): without a filter scored and selected on the thread's buffer, with one the
    dense scores go through :func:`top_rows`."""
    if accept is None:
        rows, scores = select_top(arrays, n_docs, cols, weights, k)
    else:
        dense = dense_scores(arrays, n_docs, cols, weights)
        rows = np.asarray(top_rows(dense, k, accept), dtype=np.int64)
        scores = dense[rows]
    return Candidates(rows, scores, shared_terms(arrays, cols, weights, rows))


def check_queries(texts: Any, k: int, prune_df: float | None, exclude_duplicates: bool) -> list[str]:
    """The query texts as a list (each a non-empty str) after checking ``k``, ``prune_df`` and
    ``exclude_duplicates`` as :meth:`SimilarityIndex.query_many` takes them."""
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


def query_weights(vectorizer: Vectorizer, df: np.ndarray, n_docs: int, text: str,
                  prune_df: float | None) -> tuple[np.ndarray, np.ndarray]:
    """A query's term columns (ascending) and float32 TF-IDF weights under ``vectorizer``; with
    ``prune_df``, terms held by more than that share of the ``n_docs`` documents (``df``) dropped."""
    return query_weights_many(vectorizer, df, n_docs, [text], prune_df)[0]


def query_weights_many(vectorizer: Vectorizer, df: np.ndarray, n_docs: int, texts: Sequence[str],
                       prune_df: float | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`query_weights` of each of ``texts``: tokenised one by one, weighed ``_BLOCK`` at a
    time (views of one array of columns and one of weights per block)."""
    if len(texts) > _BLOCK:
        return [w for start in range(0, len(texts), _BLOCK)
                for w in query_weights_many(vectorizer, df, n_docs, texts[start:start + _BLOCK], prune_df)]
    tok = vectorizer.tokenizer_
    indptr, cols, weights = vectorizer.weigh_token_lists([tok(t) for t in texts])
    weights = weights.astype(np.float32, copy=False)
    if prune_df is not None and len(cols):
        common = df[cols] > prune_df * n_docs
        if common.any():
            row = np.repeat(np.arange(len(texts), dtype=np.int64), np.diff(indptr))
            cols, weights = cols[~common], weights[~common]
            indptr = np.zeros(len(texts) + 1, np.int64)
            np.cumsum(np.bincount(row[~common], minlength=len(texts)), out=indptr[1:])
    bounds = indptr.tolist()
    return [(cols[a:b], weights[a:b]) for a, b in zip(bounds, bounds[1:])]
