"""A similarity index split by documents into shards, built and queried in-process or on a Dask
cluster, with exactly the results of one :class:`~govtext.SimilarityIndex` over the same texts.

How it stays exact: the documents are cut into contiguous shards (shard 0 holds the first rows, and
so on), each shard counts its own terms, and the coordinator merges the shards' terms in order of
first appearance (the order one index gives them) and sums their document frequencies, so the
vocabulary and IDF are the whole corpus's. Every shard then weighs its counts with that one
vectorizer, so its rows, and every query's scores against them, are the numbers one index holds.
A query is turned into its TF-IDF row once, sent to every shard, each shard returns its own top
``k`` (after filters), and the coordinator merges them by score, equal scores in global row order
(the order one index breaks ties in). Reprint groups are found over all shards (strongest terms
from each shard, candidate pairs over all, each pair's cosine from its two rows) and applied across
shards, so ``exclude_duplicates`` keeps the same document of each group as one index.

Each shard is an ordinary ``SimilarityIndex`` folder (``shard-000/`` …) beside a ``govtext.json``
of type ``ShardedIndex``; no pickle.
"""

from __future__ import annotations

import bisect
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._common import check_int, check_text_list
from .._fitted import check_fitted
from ..errors import InputError, ParameterError
from ..features.vectorize import Vectorizer
from ..persist import (
    IncompatibleModelError, check_saved, load_array, read_manifest, reading, saved_int, section, write_manifest,
)
from ..text.clean import normalize
from ..text.tokenize import Tokenizer
from ._build import Batch, check_batch, count_batch, document_frequencies, postings
from ._duplicates import candidate_pairs, join_pairs, pair_cosines, stacked_rows, strongest_terms
from ._columns import MetadataTable
from ._metadata import Filter, checked_filter, checked_row
from ._kernel import resolve_backend
from .ranking import Ranking, checked_rank, rerank
from .similarity import Match, SimilarityIndex, check_queries, query_weights_many
from .timeline import Timeline, build_timeline, matching_rows

__all__ = ["ShardedIndex"]

_SHARD_PARAMS = ("tokenizer", "min_df", "max_df", "extract_metadata", "store_text", "chunk_size", "n_jobs", "progress",
                 "backend")
_MAX_SAVED_SHARDS = 100_000


# -- work done on a shard (in this process or on a Dask worker); plain functions, so Dask can ship them --

@dataclass
class _Counted:
    """One shard's documents checked and counted over its own terms (columns in order of first
    appearance in the shard), before the global vocabulary is known."""

    batch: Batch
    counts: sp.csr_matrix | None  # None once _finish_shard has turned them into postings
    terms: list[str]


def _held_bytes(value: Any, depth: int = 0) -> int:
    """About how many bytes ``value`` (a shard's list, dict, array or lazily read table) holds, for Dask."""
    from dask.sizeof import sizeof

    if value is None:
        return 0
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if sp.issparse(value):
        return sum(int(getattr(value, a).nbytes) for a in ("data", "indices", "indptr") if hasattr(value, a))
    if isinstance(value, (list, dict, tuple, str)) or depth > 3 or not type(value).__module__.startswith("govtext"):
        return int(sizeof(value))
    # govtext's lazily read tables (ids, metadata columns, JSON lines): their arrays and held rows
    return sum(_held_bytes(v, depth + 1) for v in vars(value).values())


def _shard_nbytes(shard: SimilarityIndex) -> int:
    """A shard's size as Dask should see it: its postings, ids, metadata and texts (Dask's default,
    ``sys.getsizeof``, sees a few dozen bytes, so its scheduler would move whole shards to even out
    milliseconds of work)."""
    if not hasattr(shard, "segments_"):
        return 64
    return (sum(_held_bytes(seg) for seg in shard.segments_) + _held_bytes(shard.ids_) + _held_bytes(shard.row_of_)
            + _held_bytes(shard.metadata_) + _held_bytes(shard.texts_))


def _counted_nbytes(counted: _Counted) -> int:
    batch = counted.batch
    return (_held_bytes(counted.counts) + _held_bytes(batch.ids) + _held_bytes(batch.metadata)
            + _held_bytes(batch.norms) + _held_bytes(batch.docs))


def _register_sizeof() -> None:
    """Tell Dask how big shards are, once per process, and only where Dask is already imported (a
    worker, or a process that uses a client): ``import govtext`` changes nothing of Dask's."""
    import sys

    if "dask.sizeof" not in sys.modules or getattr(_register_sizeof, "done", False):
        return
    from dask.sizeof import sizeof

    sizeof.register(SimilarityIndex)(_shard_nbytes)
    sizeof.register(_Counted)(_counted_nbytes)
    _register_sizeof.done = True  # type: ignore[attr-defined]


def _count_shard(texts: Sequence[str], ids: Sequence[str], metadata: Sequence[Any] | None, params: dict[str, Any],
                 tokenizer: Tokenizer) -> _Counted:
    _register_sizeof()
    batch = check_batch(texts, ids, metadata, start=0, known=(), tokenizer=tokenizer,
                        extract_metadata=params["extract_metadata"], store_text=params["store_text"])
    counts, vocab = count_batch(batch, tokenizer, None, chunk_size=params["chunk_size"], n_jobs=params["n_jobs"],
                                progress=False)
    batch.docs = []  # counted: only the normalised texts (when stored) are needed from here on
    return _Counted(batch, counts, list(vocab))


def _shard_terms(counted: _Counted) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A shard's terms, their document frequencies and total counts (what the merge needs)."""
    counts = counted.counts
    df = np.bincount(counts.indices, minlength=len(counted.terms)).astype(np.int64)
    totals = np.bincount(counts.indices, weights=counts.data, minlength=len(counted.terms))
    return counted.terms, df, totals


def _finish_shard(counted: _Counted, column_of: np.ndarray, vectorizer: Vectorizer,
                  params: dict[str, Any]) -> SimilarityIndex:
    """The shard as an ordinary fitted SimilarityIndex: its counts moved to the global columns
    (``column_of[local]``, -1 for a term the vocabulary dropped; order within rows kept, as one
    index counts them) and weighed with the global vectorizer. ``counted`` is spent: its counts are
    released (their values weighed in place) as soon as the global columns exist, so a shard holds its
    counts about once, not the local columns, the global ones and the postings at the same time."""
    _register_sizeof()
    counts, counted.counts = counted.counts, None
    cols = column_of[counts.indices] if len(counts.indices) else counts.indices.astype(np.int64)
    known = cols >= 0
    data, indptr = counts.data, counts.indptr
    if not known.all():
        row_of = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))[known]
        data = data[known]
        indptr = np.r_[0, np.cumsum(np.bincount(row_of, minlength=counts.shape[0]))].astype(np.int64)
        del row_of
        cols = cols[known]
    del known
    n_rows, n_terms = counts.shape[0], len(vectorizer.idf_)
    del counts
    counts = sp.csr_matrix((data, cols.astype(np.int32), indptr), shape=(n_rows, n_terms))
    del cols, data
    batch = counted.batch
    index = SimilarityIndex(**{k: v for k, v in params.items() if k != "tokenizer"}, tokenizer=vectorizer.tokenizer_)
    index.vectorizer_ = vectorizer
    index.df_ = document_frequencies(counts, n_terms)
    index.segments_ = [postings(vectorizer, counts)]
    index.ids_ = batch.ids
    index.row_of_ = {x: i for i, x in enumerate(batch.ids)}
    index.metadata_ = MetadataTable(batch.metadata)
    index.texts_ = batch.norms if params["store_text"] else None
    index._dup_group = None
    return index


def _shard_search(shard: SimilarityIndex, queries: Sequence[tuple[np.ndarray, np.ndarray]], depth: int,
                  flt: Filter, dedupe: bool, with_text: bool,
                  backend: str = "auto") -> list[list[tuple[float, int, Match, str | None]]]:
    """Each query's ``depth`` best rows of this shard that pass the filter (one per reprint group
    when ``dedupe``), as (score, row, match, text) with the text only when ``with_text``; scored
    by ``backend`` as the process holding the shard resolves it (``"auto"``: numba if it imports)."""
    groups = shard._dup_group if dedupe else None
    used = resolve_backend(backend)
    texts = shard.texts_ if with_text else None
    out = []
    for cols, weights in queries:
        cands = shard._scored(cols, weights, depth, shard._acceptor(flt, groups), used)
        out.append([(float(s), int(r), m, texts[int(r)] if texts is not None else None)
                    for s, r, m in zip(cands.scores.tolist(), cands.rows.tolist(), shard.matches(cands))])
    return out


def _shard_strongest(shard: SimilarityIndex, top_terms: int) -> tuple[np.ndarray, np.ndarray]:
    return strongest_terms(stacked_rows(shard.segments_), top_terms)


def _shard_rows(shard: SimilarityIndex, rows: np.ndarray) -> sp.csr_matrix:
    return stacked_rows(shard.segments_)[rows]


def _set_groups(shard: SimilarityIndex, groups: np.ndarray) -> None:
    shard._dup_group = groups


def _shard_document(shard: SimilarityIndex, doc_id: str) -> tuple[str | None, dict[str, Any]]:
    return shard.document(doc_id)


def _shard_timeline(shard: SimilarityIndex, key: str) -> list[tuple[str, dict[str, Any]]]:
    texts = shard.texts_
    rows = matching_rows(key, range(len(shard)), lambda r: texts[r])  # type: ignore[index]
    return [(shard.ids_[r], shard.metadata_[r]) for r in rows]


def _shard_df(shard: SimilarityIndex) -> np.ndarray:
    return np.asarray(shard.df_)


def _shard_add(shard: SimilarityIndex, texts: Sequence[str], ids: Sequence[str], metadata: Any) -> SimilarityIndex:
    _register_sizeof()
    return shard.add(texts, ids=ids, metadata=metadata)


def _shard_save(shard: SimilarityIndex, path: str) -> str:
    shard.save(path)
    return path


def _load_shard(path: str, mmap: bool) -> SimilarityIndex:
    _register_sizeof()
    return SimilarityIndex.load(path, mmap=mmap)


# -- the coordinator ----------------------------------------------------------------------------------

def shard_bounds(n: int, n_shards: int, chunk_size: int) -> list[int]:
    """Where each shard starts (and, last, ``n``): shards as equal as whole chunks of
    ``chunk_size`` allow, so that every shard counts its documents in the same chunks as one index
    (and its arithmetic is the same, bit for bit); equal shards when there are fewer chunks than
    shards."""
    chunks = -(-n // chunk_size)
    if chunks >= n_shards:
        return [min(n, round(i * chunks / n_shards) * chunk_size) for i in range(n_shards)] + [n]
    return [round(i * n / n_shards) for i in range(n_shards)] + [n]


def merge_terms(shard_terms: Sequence[Sequence[str]]) -> tuple[list[str], list[np.ndarray]]:
    """The shards' terms in order of first appearance over all shards in order (the order one index
    numbers them), and for each shard its local column -> merged column."""
    vocab: dict[str, int] = {}
    maps = [np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), np.int64, count=len(terms))
            for terms in shard_terms]
    return list(vocab), maps


class _Local:
    """Runs shard work in this process."""

    def __init__(self, shards: list[Any]) -> None:
        self.shards = shards

    def map(self, fn: Callable[..., Any], *args: Any, per_shard: Sequence[Any] | None = None) -> list[Any]:
        return [fn(s, *(((per_shard[i],) if per_shard is not None else ()) + args)) for i, s in enumerate(self.shards)]

    def one(self, i: int, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.shards[i], *args)

    def replace_shard(self, i: int, fn: Callable[..., Any], *args: Any) -> None:
        self.shards[i] = fn(self.shards[i], *args)


class _OnDask:
    """Runs shard work on a ``dask.distributed`` cluster, where the shards live (as futures)."""

    def __init__(self, client: Any, shards: list[Any]) -> None:
        self.client = client
        self.shards = shards
        _register_sizeof()

    def map(self, fn: Callable[..., Any], *args: Any, per_shard: Sequence[Any] | None = None) -> list[Any]:
        # a large argument (many queries) is sent to the workers once, not once per shard
        shared = [self.client.scatter(a, broadcast=True, hash=False) if _is_large(a) else a for a in args]
        where = self._holders()
        futures = [self.client.submit(fn, s, *(((per_shard[i],) if per_shard is not None else ()) + tuple(shared)),
                                      pure=False, **where[i]) for i, s in enumerate(self.shards)]
        return self.client.gather(futures)

    def _holders(self) -> list[dict[str, Any]]:
        """Each shard's task pinned to the workers holding the shard. Dask sizes a shard by
        ``sys.getsizeof`` (a few dozen bytes), so without this its work stealing moves shards to an
        idle worker to even out milliseconds of work, and every move pickles a whole shard (seconds
        at 250,000 documents, and a burst of full garbage collections where it lands)."""
        where = self.client.who_has(self.shards)
        return [{"workers": list(where[s.key]), "allow_other_workers": False} if where.get(s.key) else {}
                for s in self.shards]

    def one(self, i: int, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, self.shards[i], *args, pure=False, **self._holders()[i]).result()

    def replace_shard(self, i: int, fn: Callable[..., Any], *args: Any) -> None:
        new = self.client.submit(fn, self.shards[i], *args, pure=False, **self._holders()[i])
        _wait([new])  # errors surface here, and the old shard is kept when it fails
        self.shards[i] = new


def _is_large(value: Any) -> bool:
    """Worth sending to the workers once ahead of the tasks (a few hundred queries, a big array)."""
    return (isinstance(value, np.ndarray) and value.nbytes > 1_000_000) or (isinstance(value, list) and len(value) > 256)


class _Concatenated(Sequence[Any]):
    """A read-only list over the same list of each shard, one after another."""

    def __init__(self, parts: Sequence[Sequence[Any]], starts: Sequence[int]) -> None:
        self._parts, self._starts = parts, list(starts)

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = checked_row(i, len(self))
        s = bisect.bisect_right(self._starts, i) - 1
        return self._parts[s][i - self._starts[s]]

    def __iter__(self) -> Iterator[Any]:
        for part in self._parts:
            yield from part


class ShardedIndex:
    """A :class:`~govtext.SimilarityIndex` cut by documents into ``n_shards`` shards that share one
    vocabulary and IDF, so that every query gives exactly what one index over the same texts gives
    (same ids, scores, order, shared terms, passages; filters and ``exclude_duplicates`` too).

    Parameters (keyword-only): ``n_shards`` (default 4) and those of :class:`SimilarityIndex`.
    ``fit(texts, ids=, metadata=, client=)`` builds the shards in this process, or, given a
    ``dask.distributed.Client``, on its workers, where they stay: queries are then sent to the
    workers and only each shard's best ``k`` come back.
    ``fit_dataframe(ddf, text_field=, id_field=, metadata_fields=, client=)`` builds one shard per
    partition of a Dask DataFrame, each counted where the partition is computed.
    ``backend`` is :class:`SimilarityIndex`'s (``"auto"``, ``"numba"`` or ``"numpy"``, the same
    results to the last bit), resolved by each process that holds shards: on a cluster, ``"auto"``
    is numba on the workers where it imports. Like the single index's, it is not saved.

    >>> index = ShardedIndex(n_shards=2).fit(["社区推行楼道微自治", "街道开展垃圾分类宣传"], ids=["a", "b"])
    >>> [m.id for m in index.query("楼道自治", k=1)]
    ['a']
    """

    _PARAMS = ("n_shards",) + _SHARD_PARAMS

    def __init__(self, *, n_shards: int = 4, tokenizer: Tokenizer | None = None, min_df: int | float = 1,
                 max_df: int | float = 1.0, extract_metadata: bool = True, store_text: bool = True,
                 chunk_size: int = 1000, n_jobs: int | None = None, progress: bool | None = None,
                 backend: str = "auto") -> None:
        self.n_shards = n_shards
        self.tokenizer = tokenizer
        self.min_df = min_df
        self.max_df = max_df
        self.extract_metadata = extract_metadata
        self.store_text = store_text
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.progress = progress
        self.backend = backend

    # the same parameter handling and query() as one index: the very functions, not copies
    get_params = SimilarityIndex.get_params
    set_params = SimilarityIndex.set_params
    query = SimilarityIndex.query

    def _shard_params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SHARD_PARAMS}

    def _validate_params(self) -> None:
        check_int("ShardedIndex", "n_shards", self.n_shards, low=1)
        SimilarityIndex(**self._shard_params())._validate_params()

    # -- building ------------------------------------------------------------------------------------
    def fit(self, texts: Iterable[str], ids: Iterable[Any] | None = None,
            metadata: Iterable[Mapping[str, Any] | None] | None = None, *, client: Any = None) -> ShardedIndex:
        """Build the shards: each counts its documents, the vocabulary and IDF are merged from all
        of them, and each weighs its rows with that one model. With ``client`` (a
        ``dask.distributed.Client``) the shards are built and kept on its workers."""
        self._validate_params()
        docs = check_text_list(texts, "texts")
        id_list = ([str(i) for i in range(len(docs))] if ids is None else [str(x) for x in check_text_list(ids, "ids")])
        meta = None if metadata is None else check_text_list(metadata, "metadata")
        if len(id_list) != len(docs) or (meta is not None and len(meta) != len(docs)):
            raise ParameterError(f"got {len(docs)} texts, {len(id_list)} ids and "
                                 f"{'no' if meta is None else len(meta)} metadata records; give one of each per text")
        if not docs:
            raise ParameterError("ShardedIndex.fit needs at least one document, got an empty list")
        if len(docs) < self.n_shards:
            raise ParameterError(f"n_shards={self.n_shards} is more than the {len(docs)} documents given; "
                                 f"use at most one shard per document")
        bounds = shard_bounds(len(docs), self.n_shards, self.chunk_size)
        parts = [(docs[a:b], id_list[a:b], None if meta is None else meta[a:b]) for a, b in zip(bounds, bounds[1:])]
        return self.fit_parts(parts, client=client)

    def fit_parts(self, parts: Iterable[tuple[Sequence[str], Sequence[str], Sequence[Any] | None]], *,
                  client: Any = None) -> ShardedIndex:
        """Build from the shards' (texts, ids, metadata), given one shard after another (``n_shards``
        of them; a generator may read them from a stream). Each shard is counted as it arrives and
        only its counts, normalised texts and metadata are kept (in this process, or with a client on
        a worker, so that this process holds one shard's texts at a time)."""
        self._validate_params()
        tok = self.tokenizer if self.tokenizer is not None else Tokenizer()
        params = self._shard_params()
        counted: list[Any] = []
        seen: set[str] = set()
        for texts, ids, meta in parts:
            ids = [str(x) for x in check_text_list(ids, "ids")]
            dupes = [x for x in ids if x in seen or seen.add(x)]  # type: ignore[func-returns-value]
            if dupes:
                raise ParameterError(f"ids must be unique; repeated: {sorted(set(dupes))[:5]}")
            if not len(texts):
                raise ParameterError(f"shard {len(counted)} has no documents; every shard needs at least one")
            if client is None:
                counted.append(_count_shard(texts, ids, meta, params, tok))
            else:
                payload = client.scatter([list(texts), list(ids), None if meta is None else list(meta)], hash=False)
                counted.append(client.submit(_unpack_count, payload, params, tok, pure=False))
        if len(counted) != self.n_shards:
            raise ParameterError(f"expected {self.n_shards} shards of documents, got {len(counted)}")
        return self._fit_counted(counted, tok, params, client)

    def fit_dataframe(self, ddf: Any, *, text_field: str = "text", id_field: str | None = "id",
                      metadata_fields: Sequence[str] | None = None, metadata_field: str | None = None,
                      client: Any = None) -> ShardedIndex:
        """Build from a ``dask.dataframe.DataFrame``, one shard per partition, in partition order
        (so the index is the one :meth:`fit` or one SimilarityIndex builds over the same rows in the
        same order). With ``client`` each partition is counted on the worker that computes it and
        its shard stays there: this process never holds the texts. Without one, the partitions are
        computed here one at a time.

        ``text_field`` names the text column, ``id_field`` the id column (``None``: row numbers
        ``"0"``, ``"1"`` … as ``fit`` numbers them); ``metadata_fields`` the columns kept as each
        document's metadata (``None``: every other column; ``[]``: none). Missing values (None, NaN,
        NaT) are left out of a record; dates become ISO strings. ``metadata_field`` instead names a
        column holding each row's metadata as a dict or a JSON object as text (missing: none), kept as
        given, as ``fit``'s ``metadata`` is. As in ``fit``, every row is a
        document (an empty text is one with no terms) or the build stops with an error: a row
        without a text or without an id is an :class:`InputError` naming its partition and ids, and
        repeated ids a ``ParameterError``. ``n_shards`` must equal the number of partitions
        (``ddf.repartition(npartitions=...)`` changes it). Needs ``pip install govtext[dask]``."""
        self._validate_params()
        _need_dask()
        parts, fields = _frame_parts(ddf, text_field, id_field, metadata_fields, metadata_field)
        if len(parts) != self.n_shards:
            raise ParameterError(f"n_shards={self.n_shards} but the DataFrame has {len(parts)} partitions; one shard "
                                 f"is built per partition: use ShardedIndex(n_shards={len(parts)}) or "
                                 f"ddf.repartition(npartitions={self.n_shards})")
        tok = self.tokenizer if self.tokenizer is not None else Tokenizer()
        params = self._shard_params()
        if client is None:
            counted: list[Any] = [_count_frame(part.compute(), fields, params, tok, i) for i, part in enumerate(parts)]
        else:
            import dask

            counted = client.compute([dask.delayed(_count_frame, pure=False)(part, fields, params, tok, i)
                                      for i, part in enumerate(parts)])
        ids = (client.gather([client.submit(_counted_ids, c, pure=False) for c in counted]) if client is not None
               else [c.batch.ids for c in counted])
        if id_field is None:  # row numbers over all partitions, as fit() numbers rows
            starts = np.cumsum([0] + [len(x) for x in ids]).tolist()
            if client is None:
                counted = [_renumber(c, a) for c, a in zip(counted, starts)]
            else:
                counted = [client.submit(_renumber, c, a, pure=False) for c, a in zip(counted, starts)]
        else:
            seen: set[str] = set()
            dupes = [x for part in ids for x in part if x in seen or seen.add(x)]  # type: ignore[func-returns-value]
            if dupes:
                raise ParameterError(f"ids must be unique; repeated in column {id_field!r}: {sorted(set(dupes))[:5]}")
        del ids
        return self._fit_counted(counted, tok, params, client)

    def _fit_counted(self, counted: list[Any], tok: Tokenizer, params: dict[str, Any], client: Any) -> ShardedIndex:
        """The steps after counting: the shards' terms merged into one vocabulary and IDF, and each
        shard weighed with it (where it was counted)."""
        summaries = ([_shard_terms(c) for c in counted] if client is None
                     else client.gather([client.submit(_shard_terms, c, pure=False) for c in counted]))
        terms, maps = merge_terms([s[0] for s in summaries])
        df = np.zeros(len(terms), np.int64)
        totals = np.zeros(len(terms), np.float64)
        for (_, d, t), m in zip(summaries, maps):
            np.add.at(df, m, d)
            np.add.at(totals, m, t)
        n_docs = sum(self._sizes_of(counted, client))
        vec = Vectorizer(tokenizer=tok, min_df=self.min_df, max_df=self.max_df).fit_frequencies(
            df, n_docs, terms, totals=totals)
        position = {t: i for i, t in enumerate(terms)}
        kept = np.fromiter((position[t] for t in vec.get_feature_names_out()), np.int64, count=len(vec.idf_))
        final_of = np.full(len(terms), -1, np.int64)
        final_of[kept] = np.arange(len(kept))
        column_maps = [final_of[m] for m in maps]
        if client is None:
            shards: list[Any] = [_finish_shard(c, cm, vec, params) for c, cm in zip(counted, column_maps)]
            self._runner: Any = _Local(shards)
        else:
            shared_vec = client.scatter(vec, broadcast=True, hash=False)
            shards = [client.submit(_finish_shard, c, client.scatter(cm, hash=False), shared_vec, params, pure=False)
                      for c, cm in zip(counted, column_maps)]
            _wait(shards)  # errors surface here; the shards stay on the workers
            del counted
            self._runner = _OnDask(client, shards)
        self.vectorizer_ = vec
        self.df_ = df[kept]
        self._set_ids(self._runner.map(_shard_ids))
        self._dup_group: np.ndarray | None = None
        return self

    @staticmethod
    def _sizes_of(counted: list[Any], client: Any) -> list[int]:
        if client is None:
            return [len(c.batch.ids) for c in counted]
        return client.gather([client.submit(_counted_size, c, pure=False) for c in counted])

    def _set_ids(self, shard_ids: list[list[str]]) -> None:
        self.ids_: list[str] = [x for ids in shard_ids for x in ids]
        self.starts_: list[int] = list(np.cumsum([0] + [len(ids) for ids in shard_ids]).tolist())
        self.row_of_: dict[str, int] = {x: i for i, x in enumerate(self.ids_)}
        if len(self.row_of_) != len(self.ids_):
            raise IncompatibleModelError("the shards repeat ids")

    def add(self, texts: Iterable[str], ids: Iterable[Any],
            metadata: Iterable[Mapping[str, Any] | None] | None = None) -> ShardedIndex:
        """Append documents to the last shard, as :meth:`SimilarityIndex.add` appends them to one
        index: weighed with the fitted vocabulary and IDF, document frequencies updated."""
        self._check_fitted()
        if ids is None:
            raise ParameterError("add() needs ids for the new documents")
        docs = check_text_list(texts, "texts")
        id_list = [str(x) for x in check_text_list(ids, "ids")]
        known = [x for x in id_list if x in self.row_of_]
        if known:
            raise ParameterError(f"ids already in the index: {known[:5]}")
        if not docs:
            return self
        meta = None if metadata is None else list(check_text_list(metadata, "metadata"))
        last = len(self.starts_) - 2
        self._runner.replace_shard(last, _shard_add, list(docs), id_list, meta)
        self.df_ = np.sum(self._runner.map(_shard_df), axis=0)
        self._set_ids(self._runner.map(_shard_ids))
        self._dup_group = None
        return self

    # -- container protocol ----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        check_fitted(self, ["vectorizer_"], how="fit(texts)")

    def __len__(self) -> int:
        return len(getattr(self, "ids_", []))

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in getattr(self, "row_of_", {})

    def __repr__(self) -> str:
        if not hasattr(self, "vectorizer_"):
            return "ShardedIndex(unfitted)"
        where = "on a Dask cluster" if isinstance(self._runner, _OnDask) else "in this process"
        return (f"ShardedIndex({len(self)} documents in {len(self.starts_) - 1} shards {where}, "
                f"{len(self.vectorizer_.vocabulary_)} terms)")

    @property
    def shards_(self) -> list[SimilarityIndex]:
        """The shards (each a SimilarityIndex) when they are in this process."""
        self._check_fitted()
        if not isinstance(self._runner, _Local):
            raise ParameterError("the shards live on the Dask workers; query them through this index")
        return self._runner.shards

    @property
    def texts_(self) -> Sequence[str] | None:
        """All stored texts in global row order (in-process shards only; None without store_text)."""
        shards = self.shards_
        if any(s.texts_ is None for s in shards):
            return None
        return _Concatenated([s.texts_ for s in shards], self.starts_)

    @property
    def metadata_(self) -> Sequence[dict[str, Any]]:
        """All metadata records in global row order (in-process shards only)."""
        return _Concatenated([s.metadata_ for s in self.shards_], self.starts_)

    def _shard_of(self, doc_id: Any) -> int:
        row = self.row_of_[str(doc_id)]
        return bisect.bisect_right(self.starts_, row) - 1

    def document(self, doc_id: Any) -> tuple[str | None, dict[str, Any]]:
        """The stored text and metadata of one document; an unknown id is a ``KeyError``."""
        self._check_fitted()
        return self._runner.one(self._shard_of(doc_id), _shard_document, str(doc_id))

    def timeline(self, name: str, *, local_only: bool = False) -> Timeline:
        """As :meth:`SimilarityIndex.timeline`, over all shards."""
        self._check_fitted()
        if not self.store_text:
            raise ParameterError("timeline() reads the stored texts; this index was built with store_text=False")
        key = normalize(name) if isinstance(name, str) and name.strip() else name
        found = [pair for part in self._runner.map(_shard_timeline, key) for pair in part]
        return build_timeline(key, iter(found), local_only=local_only)

    # -- querying ----------------------------------------------------------------------------------------
    def query_many(self, texts: Sequence[str], k: int = 10, filter: Filter = None, *,
                   exclude_duplicates: bool = False, prune_df: float | None = None,
                   rank: str | Ranking = "precedent") -> list[list[Match]]:
        """:meth:`query` for many texts: the queries go to every shard together, once."""
        self._check_fitted()
        queries = check_queries(texts, k, prune_df, exclude_duplicates)
        ranking = checked_rank(rank)
        flt = checked_filter(filter)
        groups = self._duplicate_groups() if exclude_duplicates and queries else None
        depth = k if ranking is None else max(k, ranking.candidates)
        rows = query_weights_many(self.vectorizer_, self.df_, len(self), queries, prune_df)
        per_shard = self._runner.map(_shard_search, rows, depth, flt, groups is not None, ranking is not None,
                                     self.backend)
        out = []
        for q, text in enumerate(queries):
            merged = self._merge([part[q] for part in per_shard], depth, groups)
            matches = [replace(m, rank=i + 1) for i, (_, _, m, _) in enumerate(merged)]
            if ranking is not None:
                texts_of = {m.id: t for (_, _, m, t) in merged}
                matches = rerank(text, matches, ranking, text_of=texts_of.get, vectorizer=self.vectorizer_)[:k]
            out.append(matches)
        return out

    def _merge(self, parts: list[list[tuple[float, int, Match, str | None]]], depth: int,
               groups: np.ndarray | None) -> list[tuple[float, int, Match, str | None]]:
        """The shards' candidates by score, equal scores in global row order; with ``groups``, the
        first of each reprint group only; the best ``depth``."""
        pool = [(s, self.starts_[i] + r, m, t) for i, part in enumerate(parts) for s, r, m, t in part]
        pool.sort(key=lambda c: (-c[0], c[1]))
        if groups is None:
            return pool[:depth]
        kept, seen = [], set()
        for cand in pool:
            g = int(groups[cand[1]])
            if g >= 0:
                if g in seen:
                    continue
                seen.add(g)
            kept.append(cand)
            if len(kept) == depth:
                break
        return kept

    # -- near duplicates ---------------------------------------------------------------------------------
    def duplicates(self, threshold: float = 0.9, *, top_terms: int = 8, max_postings: int = 2000) -> list[list[str]]:
        """As :meth:`SimilarityIndex.duplicates`, over all shards: the same groups one index finds."""
        self._check_fitted()
        if not 0 < threshold <= 1:
            raise ParameterError(f"threshold must be in (0, 1], got {threshold!r}")
        found = self._runner.map(_shard_strongest, top_terms)
        rows = np.concatenate([r + self.starts_[i] for i, (r, _) in enumerate(found)])
        cols = np.concatenate([c for _, c in found])
        n = len(self)
        if not len(rows):
            groups = np.full(n, -1, np.int64)
        else:
            i, j = candidate_pairs(rows, cols, (n, len(self.vectorizer_.idf_)), top_terms, max_postings)
            need = np.unique(np.concatenate([i, j]))
            wanted = [need[(need >= a) & (need < b)] - a for a, b in zip(self.starts_, self.starts_[1:])]
            pieces = self._runner.map(_shard_rows, per_shard=wanted)
            X = sp.vstack(pieces, format="csr") if len(need) else sp.csr_matrix((0, len(self.vectorizer_.idf_)))
            close = pair_cosines(X, np.searchsorted(need, i), np.searchsorted(need, j)) >= threshold
            groups = join_pairs(n, i[close], j[close])
        self._dup_group = groups
        self._runner.map(_set_groups, per_shard=[groups[a:b] for a, b in zip(self.starts_, self.starts_[1:])])
        by_group: dict[int, list[str]] = {}
        for row, g in enumerate(groups.tolist()):
            if g >= 0:
                by_group.setdefault(g, []).append(self.ids_[row])
        return sorted(by_group.values(), key=lambda g: (-len(g), g[0]))

    def _duplicate_groups(self) -> np.ndarray:
        if getattr(self, "_dup_group", None) is None:
            self.duplicates()
        return self._dup_group  # type: ignore[return-value]

    # -- persistence --------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write folder ``path``: one ordinary SimilarityIndex folder per shard (``shard-000`` …),
        the corpus's document frequencies (``df.npy``) and ``govtext.json`` (type ``ShardedIndex``).
        On a cluster each worker writes its own shard, so ``path`` must be a folder the workers
        see (a shared disk)."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        names = [f"shard-{i:03d}" for i in range(len(self.starts_) - 1)]
        self._runner.map(_shard_save, per_shard=[str(folder.resolve() / name) for name in names])
        tmp = folder / ".df.npy.tmp"
        with open(tmp, "wb") as fh:
            np.save(fh, np.asarray(self.df_, np.int64), allow_pickle=False)
        tmp.replace(folder / "df.npy")
        for stale in folder.glob("shard-*"):
            if stale.name not in names and (stale / "govtext.json").is_file():
                import shutil

                shutil.rmtree(stale)
        params = {k: v for k, v in self._shard_params().items() if k not in ("tokenizer", "progress", "backend")}
        return write_manifest(folder, "ShardedIndex", {
            "params": {**params, "n_shards": self.n_shards},
            "shards": [{"path": name, "n_documents": b - a} for name, a, b in zip(names, self.starts_, self.starts_[1:])],
            "n_documents": len(self), "n_terms": len(self.vectorizer_.idf_),
        }, engine=self.vectorizer_.tokenizer_.engine)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = True, client: Any = None) -> ShardedIndex:
        """Read a folder written by :meth:`save`: in this process, or with ``client`` each shard
        opened by a Dask worker (the folder must be on a disk the workers see)."""
        folder = Path(path)
        with reading(folder, "ShardedIndex"):
            manifest = read_manifest(folder, "ShardedIndex")
            where = folder / "govtext.json"
            params = dict(section(manifest, folder, "params"))
            unknown = sorted(set(params) - (set(cls._PARAMS) - {"tokenizer", "progress", "backend"}))
            check_saved(where, not unknown, f"unknown ShardedIndex parameters {unknown[:10]}")
            shards = manifest.get("shards")
            check_saved(where, isinstance(shards, list) and 1 <= len(shards) <= _MAX_SAVED_SHARDS
                        and all(isinstance(s, dict) and isinstance(s.get("path"), str)
                                and s["path"].startswith("shard-") and "/" not in s["path"] and "\\" not in s["path"]
                                and saved_int(s.get("n_documents"), 0, 2**62) for s in shards),
                        "'shards' must list the shard folders (shard-NNN) with their sizes")
            n_terms = manifest.get("n_terms")
            check_saved(where, saved_int(n_terms, 1, 2**62), "'n_terms' must be a positive int")
            paths = [str((folder / s["path"]).resolve()) for s in shards]
            if client is None:
                runner: Any = _Local([SimilarityIndex.load(p, mmap=mmap) for p in paths])
            else:
                futures = [client.submit(_load_shard, p, mmap, pure=False) for p in paths]
                _wait(futures)
                runner = _OnDask(client, futures)
            first = runner.shards[0] if client is None else None
            vectorizer = first.vectorizer_ if first is not None else SimilarityIndex.load(paths[0]).vectorizer_
            want = _vocabulary_digest(vectorizer)
            check_saved(where, want[0] == n_terms, f"'n_terms' is {n_terms} but the shards hold {want[0]} terms")
            for p, got in zip(paths, runner.map(_shard_vocabulary)):
                if got != want:
                    raise IncompatibleModelError(f"{p}: its vocabulary or IDF differs from the other shards'")
            if client is None:  # one vectorizer for all shards in this process: its vocabulary held once
                for shard in runner.shards:
                    shard.vectorizer_ = vectorizer
            df = load_array(folder / "df.npy", kinds="iu", ndim=1, shape=(n_terms,))
            index = cls(**params, tokenizer=vectorizer.tokenizer_)
            index._validate_params()
            index._runner = runner
            index.vectorizer_ = vectorizer
            index._set_ids(runner.map(_shard_ids))
            sizes = [b - a for a, b in zip(index.starts_, index.starts_[1:])]
            check_saved(where, sizes == [s["n_documents"] for s in shards], "the shards' sizes differ from 'shards'")
            check_saved(where, manifest.get("n_documents") == len(index.ids_), "'n_documents' differs from the shards'")
            if len(df) and (int(df.min()) < 0 or int(df.max()) > len(index)):
                raise IncompatibleModelError(f"{folder}: df.npy holds counts outside 0..{len(index)}")
            index.df_ = np.asarray(df)
            index._dup_group = None
            return index


def _wait(futures: list[Any]) -> None:
    """Wait for futures without bringing their values here; the first error is raised."""
    from distributed import wait

    wait(futures)
    for f in futures:
        if f.status == "error":
            f.result()


def _unpack_count(payload: list[Any], params: dict[str, Any], tokenizer: Tokenizer) -> _Counted:
    texts, ids, meta = payload
    return _count_shard(texts, ids, meta, params, tokenizer)


# -- a Dask DataFrame as input -----------------------------------------------------------------------

def _need_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError("building a ShardedIndex from a Dask DataFrame needs dask and distributed: "
                          "pip install govtext[dask]") from None


@dataclass(frozen=True)
class _Fields:
    text: str
    id: str | None
    metadata: tuple[str, ...]
    record: str | None = None  # a column holding each row's metadata as a dict


def _frame_parts(ddf: Any, text_field: str, id_field: str | None, metadata_fields: Sequence[str] | None,
                 metadata_field: str | None = None) -> tuple[list[Any], _Fields]:
    """The partitions of ``ddf`` (only the columns needed) as delayed objects, and the columns checked."""
    if not all(hasattr(ddf, a) for a in ("to_delayed", "npartitions", "columns")):
        raise ParameterError(f"ddf must be a dask.dataframe.DataFrame, got {type(ddf).__name__}")
    for name, value in (("text_field", text_field), ("id_field", id_field), ("metadata_field", metadata_field)):
        if not (isinstance(value, str) or (value is None and name != "text_field")):
            raise ParameterError(f"{name} must be a column name (str), got {value!r}")
    columns = [str(c) for c in ddf.columns]
    if metadata_field is not None:
        if metadata_fields is not None:
            raise ParameterError("give metadata_fields (columns kept as fields) or metadata_field (a column of "
                                 "dicts), not both")
        meta: list[str] = []
    elif metadata_fields is None:
        meta = [c for c in columns if c not in (text_field, id_field)]
    elif isinstance(metadata_fields, str) or not all(isinstance(c, str) for c in metadata_fields):
        raise ParameterError(f"metadata_fields must be a list of column names, got {metadata_fields!r}")
    else:
        meta = [c for c in metadata_fields if c not in (text_field, id_field)]
    roles = {c: "metadata" for c in meta}
    roles[text_field] = "text_field"
    if id_field is not None:
        roles[id_field] = "id_field"
    if metadata_field is not None:
        roles[metadata_field] = "metadata_field"
    wanted = ([text_field] + ([id_field] if id_field is not None else []) + meta
              + ([metadata_field] if metadata_field is not None else []))
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputError(f"the DataFrame has no column {missing[0]!r} (asked for as {roles[missing[0]]}); "
                         f"its columns are {columns}")
    frame = ddf[wanted]
    if hasattr(frame, "optimize"):  # the partitions Dask will compute (optimisation may fuse some)
        frame = frame.optimize()
    return list(frame.to_delayed()), _Fields(text_field, id_field, tuple(meta), metadata_field)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (str, bytes, list, tuple, dict, np.ndarray)):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """A metadata value as JSON can hold it: numpy scalars as Python numbers, dates as ISO strings."""
    if isinstance(value, np.generic):
        value = value.item()
    if hasattr(value, "isoformat") and hasattr(value, "hour") and hasattr(value, "date"):  # a datetime, a Timestamp
        midnight = (value.hour, value.minute, value.second, getattr(value, "microsecond", 0)) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.isoformat()
    if hasattr(value, "isoformat"):  # a date
        return value.isoformat()
    return value


def _count_frame(frame: Any, fields: _Fields, params: dict[str, Any], tokenizer: Tokenizer, part_no: int) -> _Counted:
    """One partition (a pandas DataFrame) checked and counted, where it was computed."""
    texts = frame[fields.text].tolist()
    ids = frame[fields.id].tolist() if fields.id is not None else None
    if not texts:
        raise ParameterError(f"partition {part_no} of the DataFrame has no rows; every shard needs at least one "
                             "document (repartition, or drop the empty partitions)")
    if ids is not None:
        no_id = [i for i, x in enumerate(ids) if _missing(x)]
        if no_id:
            raise InputError(f"partition {part_no}: {len(no_id)} rows have no id in column {fields.id!r} "
                             f"(rows {no_id[:5]} of the partition); give every row an id")
        ids = [str(x) for x in ids]
    no_text = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if no_text:
        which = [ids[i] for i in no_text[:5]] if ids is not None else [f"row {i} of the partition" for i in no_text[:5]]
        raise InputError(f"partition {part_no}: {len(no_text)} rows have no text in column {fields.text!r} "
                         f"(None, NaN or not a str): {which}; drop or fill them first, "
                         f"e.g. ddf.dropna(subset=[{fields.text!r}])")
    meta = None
    if fields.record is not None:  # dicts as given, as fit(metadata=...) takes them
        meta = [_record_of(m, fields.record, part_no, i) for i, m in enumerate(frame[fields.record].tolist())]
    elif fields.metadata:
        values = [frame[c].tolist() for c in fields.metadata]
        meta = [{c: _plain(v) for c, v in zip(fields.metadata, row) if not _missing(v)} for row in zip(*values)]
    return _count_shard(texts, ids, meta, params, tokenizer)


def _record_of(value: Any, column: str, part_no: int, row: int) -> dict[str, Any]:
    """One row's metadata from a ``metadata_field`` column: a dict, a JSON object as text (what Dask
    makes of an object column unless ``dataframe.convert-string`` is off), or missing."""
    if isinstance(value, dict):
        return dict(value)
    what = type(value).__name__
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            return parsed
        what = f"the text {value[:40]!r}, not a JSON object (dicts in an object column become such text unless " \
               f"dask.config.set({{'dataframe.convert-string': False}}))"
    elif _missing(value):
        return {}
    raise InputError(f"partition {part_no}: column {column!r} must hold a dict (or a JSON object, or nothing) per "
                     f"row; row {row} of the partition holds {what}")


def _counted_ids(counted: _Counted) -> list[str]:
    return list(counted.batch.ids)


def _renumber(counted: _Counted, start: int) -> _Counted:
    counted.batch.ids = [str(start + i) for i in range(len(counted.batch.ids))]
    return counted


def _counted_size(counted: _Counted) -> int:
    return len(counted.batch.ids)


def _shard_ids(shard: SimilarityIndex) -> list[str]:
    return list(shard.ids_)


def _vocabulary_digest(vectorizer: Vectorizer) -> tuple[int, str]:
    """The number of terms and a digest of the terms (in column order) and their IDF values."""
    import hashlib

    terms = json.dumps(vectorizer.get_feature_names_out().tolist(), ensure_ascii=True)
    h = hashlib.sha256(terms.encode("ascii"))
    h.update(np.ascontiguousarray(vectorizer.idf_, dtype=np.float64).tobytes())
    return len(vectorizer.idf_), h.hexdigest()


def _shard_vocabulary(shard: SimilarityIndex) -> tuple[int, str]:
    return _vocabulary_digest(shard.vectorizer_)


