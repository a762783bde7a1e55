"""Find comparable initiatives: exact TF-IDF cosine search over an inverted index.

Documents are stored as l2-normalised TF-IDF rows kept column-wise (one postings list per term),
so a query only touches the postings of its own terms. ``add`` appends a segment without
refitting; ``duplicates`` groups reprints; ``save``/``load`` write plain arrays that load
memory-mapped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .clean import _check_text_list, normalize, parse_date
from .extract import _initiatives_normalized, _places_normalized
from .persist import IncompatibleModelError, load_array, read_manifest, write_manifest
from .tokenize import Tokenizer
from .vectorize import Vectorizer

__all__ = ["Match", "SimilarityIndex"]

_SENTENCE_RE = re.compile(r"[^。!?！？;；\n]+[。!?！？;；]*")
_PASSAGE_CHARS = 120


@dataclass(frozen=True)
class Match:
    """One search result."""

    id: str
    score: float  # cosine similarity of TF-IDF vectors, 0..1
    rank: int  # 1 = best
    metadata: dict[str, Any] = field(default_factory=dict)
    shared_terms: tuple[str, ...] = ()  # distinctive terms query and match share, strongest first
    passage: str | None = None  # the sentence of the match that best fits the query


Filter = Mapping[str, Any] | Callable[[dict[str, Any]], bool] | None


def _with_parsed_date(meta: dict[str, Any]) -> dict[str, Any]:
    """Metadata with its ``date`` read once, as ``YYYY-MM-DD`` (kept as given when it is no date)."""
    if "date" in meta:
        parsed = parse_date(meta["date"])
        if parsed is not None and parsed != meta["date"]:
            meta = {**meta, "date": parsed}
    return meta


def _date_bound(value: Any, which: str) -> str | None:
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError(f"cannot read the {which} date {value!r}: use a date such as 2025-06-12, 20250612, "
                         f"2025/6/12 or 2025年6月12日")
    return parsed


def _checked_filter(flt: Filter) -> Filter:
    """The filter with a ``date`` range's bounds read as dates (a bound that is no date is an error)."""
    if flt is None or callable(flt):
        return flt
    if not isinstance(flt, Mapping):
        raise TypeError(f"filter must be a dict or a callable, got {type(flt).__name__}")
    want = flt.get("date")
    if isinstance(want, tuple) and len(want) == 2:
        return {**flt, "date": (_date_bound(want[0], "first"), _date_bound(want[1], "last"))}
    return flt


def _matches_filter(meta: dict[str, Any], flt: Filter) -> bool:
    if flt is None:
        return True
    if callable(flt):
        return bool(flt(meta))
    for key, want in flt.items():
        have = meta.get(key)
        if isinstance(want, tuple) and len(want) == 2:  # inclusive range, None = open end
            lo, hi = want
            if key == "date":
                have = parse_date(have)  # stored parsed; a value that is no date matches no range
            if have is None or (lo is not None and have < lo) or (hi is not None and have > hi):
                return False
        elif isinstance(want, (set, frozenset, list)):
            values = have if isinstance(have, list) else [have]
            if not any(v in want for v in values):
                return False
        elif isinstance(have, list):
            if want not in have:
                return False
        elif have != want:
            return False
    return True


def _check_postings(folder: Path, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
                    shape: tuple[int, int]) -> None:
    """A saved term-by-document postings matrix must be well formed before any C code reads it:
    pointers from 0 to the number of entries and never decreasing, document numbers in range,
    weights finite. A crafted index is refused, never read out of bounds."""
    n_docs, n_terms = shape
    if len(indptr) != n_terms + 1:
        raise IncompatibleModelError(f"{folder}: postings_indptr.npy has {len(indptr)} entries for {n_terms} terms")
    if len(data) != len(indices) or (len(indptr) and (int(indptr[0]) != 0 or int(indptr[-1]) != len(indices))):
        raise IncompatibleModelError(f"{folder}: postings arrays disagree on the number of entries")
    if len(indptr) > 1 and (np.diff(indptr.astype(np.int64)) < 0).any():
        raise IncompatibleModelError(f"{folder}: postings_indptr.npy is not in increasing order")
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= n_docs):
        raise IncompatibleModelError(f"{folder}: postings_indices.npy names documents outside 0..{n_docs - 1}")
    if len(data) and not np.isfinite(data).all():
        raise IncompatibleModelError(f"{folder}: postings_data.npy holds NaN or infinite weights")


class SimilarityIndex:
    """Search a corpus for the documents most similar to a text (TF-IDF cosine, exact).

    Parameters (keyword-only): ``tokenizer`` (default ``Tokenizer()``), ``min_df`` / ``max_df``
    (vocabulary limits), ``extract_metadata`` (store :func:`~govtext.places` and
    :func:`~govtext.initiatives` of each text under ``places`` / ``initiatives``), ``store_text``
    (keep texts for result passages), ``chunk_size`` and ``n_jobs`` (tokenising in parallel
    processes), ``progress`` (tqdm bar on stderr; default: when stderr is a terminal).

    >>> index = SimilarityIndex().fit(["社区推行楼道微自治", "街道开展垃圾分类宣传"], ids=["a", "b"])
    >>> [m.id for m in index.query("楼道自治", k=1)]
    ['a']
    """

    def __init__(
        self,
        *,
        tokenizer: Tokenizer | None = None,
        min_df: int = 1,
        max_df: float = 1.0,
        extract_metadata: bool = True,
        store_text: bool = True,
        chunk_size: int = 5000,
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

    # -- building -------------------------------------------------------------------------
    def _check_batch(self, texts: Any, ids: Any, metadata: Any, start: int) -> tuple[list[str], list[str], list[dict]]:
        docs = _check_text_list(texts, "texts")
        for i, d in enumerate(docs):
            if not isinstance(d, str):
                raise TypeError(f"texts[{i}] is {type(d).__name__}; every document must be a str")
        id_list = [str(start + i) for i in range(len(docs))] if ids is None else [str(x) for x in _check_text_list(ids, "ids")]
        if len(id_list) != len(docs):
            raise ValueError(f"got {len(docs)} texts but {len(id_list)} ids")
        seen: set[str] = set()
        dupes = [x for x in id_list if x in seen or seen.add(x)]  # type: ignore[func-returns-value]
        if dupes:
            raise ValueError(f"ids must be unique; repeated: {sorted(set(dupes))[:5]}")
        existing = [x for x in id_list if x in getattr(self, "_row_of", {})]
        if existing:
            raise ValueError(f"ids already in the index: {existing[:5]}")
        if metadata is None:
            meta = [{} for _ in docs]
        else:
            meta = [dict(m) if m is not None else {} for m in _check_text_list(metadata, "metadata")]
            if len(meta) != len(docs):
                raise ValueError(f"got {len(docs)} texts but {len(meta)} metadata records")
        if self.extract_metadata:
            for text, m in zip(docs, meta):
                norm = normalize(text)  # once for both extractors
                m.setdefault("places", _places_normalized(norm)[:20])
                m.setdefault("initiatives", _initiatives_normalized(norm)[:20])
        return docs, id_list, meta

    def _bar(self, total: int, desc: str) -> Any:
        show = self.progress if self.progress is not None else os.isatty(2)
        if not show:
            return None
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit="doc", leave=False)

    def fit(self, texts: Iterable[str], ids: Iterable[Any] | None = None,
            metadata: Iterable[Mapping[str, Any] | None] | None = None) -> SimilarityIndex:
        """Build the index: vocabulary and IDF from ``texts``, one row per text."""
        self._row_of: dict[str, int] = {}
        docs, id_list, meta = self._check_batch(texts, ids, metadata, 0)
        if not docs:
            raise ValueError("fit needs at least one document")
        tok = self.tokenizer if self.tokenizer is not None else Tokenizer()
        vocab: dict[str, int] = {}
        counts_m = self._count(tok, docs, vocab, grow=True)
        n = len(docs)
        df = np.bincount(counts_m.indices, minlength=len(vocab))
        max_count = self.max_df * n if isinstance(self.max_df, float) else self.max_df
        keep = np.flatnonzero((df >= self.min_df) & (df <= max_count))
        if not len(keep):
            raise ValueError("no terms left: all documents empty or only stopwords, or min_df/max_df too strict")
        terms_all = np.empty(len(vocab), dtype=object)
        for t, j in vocab.items():
            terms_all[j] = t
        if len(keep) < len(vocab):
            counts_m = counts_m[:, keep].tocsr()
        idf = np.log((1 + n) / (1 + df[keep])) + 1.0
        self.vectorizer_ = Vectorizer(tokenizer=tok, sublinear_tf=True)._set_vocabulary(list(terms_all[keep]), idf)
        self.df_ = df[keep].astype(np.int64)
        self._segments: list[sp.csc_matrix] = [self._weigh(counts_m)]
        self.ids_: list[str] = id_list
        self._row_of = {x: i for i, x in enumerate(id_list)}
        self.metadata_: list[dict[str, Any]] = [_with_parsed_date(m) for m in meta]
        self.texts_: list[str] | None = list(docs) if self.store_text else None
        self._dup_group: np.ndarray | None = None
        return self

    def _count(self, tok: Tokenizer, docs: list[str], vocab: dict[str, int], grow: bool) -> sp.csr_matrix:
        """Term counts of ``docs`` as CSR over ``vocab`` (extended when ``grow``; unknown terms are
        dropped otherwise). Chunks are counted in worker processes when ``n_jobs`` > 1; only compact
        arrays and each chunk's distinct terms travel back, never token lists."""
        chunks = [docs[i : i + self.chunk_size] for i in range(0, len(docs), self.chunk_size)]
        if self.n_jobs in (None, 1) or len(chunks) == 1:
            results: Iterable[Any] = (_count_chunk(tok, c) for c in chunks)
        else:
            from joblib import Parallel, delayed

            results = Parallel(n_jobs=self.n_jobs, return_as="generator")(delayed(_count_chunk)(tok, c) for c in chunks)
        data, indices, indptrs = [], [], []
        offset = 0
        bar = self._bar(len(docs), "indexing")
        for terms, d, ix, ptr in results:
            if grow:
                mapping = np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), np.int64, count=len(terms))
            else:
                mapping = np.fromiter((vocab.get(t, -1) for t in terms), np.int64, count=len(terms))
            cols = mapping[ix] if len(ix) else ix.astype(np.int64)
            if not grow:  # drop terms outside the fitted vocabulary
                known = cols >= 0
                row_of = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))[known]
                cols, d = cols[known], d[known]
                ptr = np.r_[0, np.cumsum(np.bincount(row_of, minlength=len(ptr) - 1))]
            data.append(d)
            indices.append(cols.astype(np.int32))
            indptrs.append(ptr[1:] + offset)
            offset += int(ptr[-1])
            if bar is not None:
                bar.update(len(ptr) - 1)
        if bar is not None:
            bar.close()
        indptr = np.concatenate([np.zeros(1, np.int64)] + indptrs)
        return sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=(len(docs), len(vocab)))

    def _weigh(self, counts: sp.csr_matrix) -> sp.csc_matrix:
        """Counts -> sublinear tf x idf, rows l2-normalised, stored by column (postings).
        Works in place on the counts' data array to keep peak memory low."""
        m = counts
        data = m.data
        np.log(data, out=data)
        data += 1.0
        data *= self.vectorizer_.idf_.astype(np.float32)[m.indices]
        lengths = np.diff(m.indptr)
        sq = np.zeros(m.shape[0], np.float64)
        nonempty = lengths > 0
        sq[nonempty] = np.add.reduceat(data.astype(np.float64) ** 2, m.indptr[:-1][nonempty])
        norms = np.sqrt(sq)
        norms[norms == 0] = 1.0
        data /= np.repeat(norms, lengths).astype(np.float32)
        out = m.tocsc()
        out.indices = out.indices.astype(np.int32, copy=False)
        return out

    def add(self, texts: Iterable[str], ids: Iterable[Any], metadata: Iterable[Mapping[str, Any] | None] | None = None) -> SimilarityIndex:
        """Append documents without rebuilding: they are weighted with the existing vocabulary and
        IDF (terms unseen at ``fit`` are ignored) and stored as a new segment."""
        self._check_fitted()
        if ids is None:
            raise ValueError("add() needs ids for the new documents")
        docs, id_list, meta = self._check_batch(texts, ids, metadata, len(self.ids_))
        if not docs:
            return self
        vec = self.vectorizer_
        raw = self._count(vec.tokenizer_, docs, dict(vec.vocabulary_), grow=False)
        base = len(self.ids_)
        self._segments.append(self._weigh(raw))
        self.ids_.extend(id_list)
        for i, x in enumerate(id_list):
            self._row_of[x] = base + i
        self.metadata_.extend(_with_parsed_date(m) for m in meta)
        if self.texts_ is not None:
            self.texts_.extend(docs)
        self._dup_group = None
        return self

    # -- container protocol ---------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "vectorizer_"):
            raise RuntimeError("this SimilarityIndex is not built yet; call fit(texts) first")

    def __len__(self) -> int:
        return len(getattr(self, "ids_", []))

    def __contains__(self, doc_id: object) -> bool:
        return str(doc_id) in getattr(self, "_row_of", {})

    def __repr__(self) -> str:
        if not hasattr(self, "vectorizer_"):
            return "SimilarityIndex(unfitted)"
        return f"SimilarityIndex({len(self)} documents, {len(self.vectorizer_.vocabulary_)} terms, {len(self._segments)} segment(s))"

    # -- querying -------------------------------------------------------------------------
    def _scores(self, q: sp.csr_matrix, prune_df: float | None) -> tuple[np.ndarray, list[sp.csc_matrix], np.ndarray, np.ndarray]:
        """Cosine scores of every document, plus each segment's postings of the query terms."""
        terms, weights = q.indices, q.data.astype(np.float32)
        if prune_df is not None:
            keep = self.df_[terms] <= prune_df * len(self)
            terms, weights = terms[keep], weights[keep]
        subs = [seg[:, terms] for seg in self._segments]
        parts = [np.asarray(sub @ weights).ravel() if len(terms) else np.zeros(sub.shape[0], np.float32) for sub in subs]
        scores = np.concatenate(parts) if len(parts) > 1 else parts[0]
        return scores, subs, terms, weights

    def _shared_many(self, rows: list[int], subs: list[sp.csc_matrix], terms: np.ndarray, weights: np.ndarray,
                     top: int = 8) -> dict[int, list[tuple[str, float]]]:
        """For each result row, the query terms it contains, by contribution to the score."""
        names = self.vectorizer_.get_feature_names_out()
        found: dict[int, list[tuple[str, float]]] = {r: [] for r in rows}
        offsets = np.cumsum([0] + [seg.shape[0] for seg in self._segments])
        for s_i, sub in enumerate(subs):
            local = np.array(sorted(r - offsets[s_i] for r in rows if offsets[s_i] <= r < offsets[s_i + 1]), dtype=np.int64)
            if not len(local):
                continue
            for c in range(sub.shape[1]):
                a, b = sub.indptr[c], sub.indptr[c + 1]
                if a == b:
                    continue
                postings = sub.indices[a:b]
                pos = np.searchsorted(postings, local)
                ok = pos < (b - a)
                ok[ok] = postings[pos[ok]] == local[ok]
                for r, p_ in zip(local[ok], pos[ok]):
                    found[int(r + offsets[s_i])].append((str(names[terms[c]]), float(weights[c] * sub.data[a + p_])))
        for r in found:
            found[r].sort(key=lambda p: -p[1])
            del found[r][top:]
        return found

    def _passage(self, row: int, shared: list[tuple[str, float]]) -> str | None:
        """The sentence of the document that holds the most shared-term weight, cut to about
        ``_PASSAGE_CHARS`` characters around its strongest shared term."""
        if self.texts_ is None or not shared:
            return None
        text = normalize(self.texts_[row])
        best, best_score = None, 0.0
        for sent in _SENTENCE_RE.findall(text):
            score = sum(w for term, w in shared if term in sent)
            if score > best_score:
                best, best_score = sent.strip(), score
        if best is None or len(best) <= _PASSAGE_CHARS:
            return best
        at = next((best.find(t) for t, _ in shared if t in best), 0)
        start = max(0, min(at - _PASSAGE_CHARS // 3, len(best) - _PASSAGE_CHARS))
        cut = best[start : start + _PASSAGE_CHARS]
        return ("…" if start > 0 else "") + cut + ("…" if start + _PASSAGE_CHARS < len(best) else "")

    def query(self, text: str, k: int = 10, filter: Filter = None, *, exclude_duplicates: bool = False,
              prune_df: float | None = None) -> list[Match]:
        """The ``k`` documents most similar to ``text``, best first.

        ``filter`` selects on metadata: a callable ``meta -> bool`` or a dict of field -> value
        (equality; membership when the stored value is a list), field -> ``(low, high)`` (inclusive
        range, ``None`` for an open end; for ``date``, any form :func:`~govtext.clean.parse_date`
        reads, compared as dates) or field -> set of values.
        ``exclude_duplicates`` returns one document per group of :meth:`duplicates`.
        ``prune_df`` skips query terms found in more than that share of documents (faster,
        approximate). Only documents that share a term with the query are returned, so there may be
        fewer than ``k`` (none when the query has no known term, or the filter passes none of them);
        an empty query is an error.
        """
        self._check_fitted()
        filter = _checked_filter(filter)
        if not isinstance(text, str):
            raise TypeError(f"query() expects the query text as a str, got {type(text).__name__}")
        if not text.strip():
            raise ValueError("empty query: give the text of a proposal or article")
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        q = self.vectorizer_.transform([text]).tocsr()
        if q.nnz == 0:
            return []
        scores, subs, terms, weights = self._scores(q, prune_df)
        groups = self._duplicate_groups() if exclude_duplicates else None
        seen_groups: set[int] = set()

        def accept(row: int) -> bool:
            if filter is not None and not _matches_filter(self.metadata_[row], filter):
                return False
            if groups is not None and groups[row] >= 0:
                if groups[row] in seen_groups:
                    return False
                seen_groups.add(int(groups[row]))
            return True

        chosen: list[int] = []
        want = k if filter is None and groups is None else max(4 * k, 100)
        candidates = _preselect(scores, want)
        taken = 0
        while taken < len(candidates) and len(chosen) < k:
            want = min(len(candidates), max(want, taken + 1))
            top = candidates[np.argpartition(-scores[candidates], want - 1)[:want]] if want < len(candidates) else candidates
            top = top[np.argsort(-scores[top], kind="stable")][taken:]
            for row in top:
                if accept(int(row)):
                    chosen.append(int(row))
                    if len(chosen) == k:
                        break
            taken = want
            want *= 4
            if taken >= len(candidates) and len(chosen) < k and len(candidates) < np.count_nonzero(scores > 0):
                candidates = np.flatnonzero(scores > 0)  # the filter rejected the pre-selection: widen
        shared = self._shared_many(chosen, subs, terms, weights)
        results = [
            Match(id=self.ids_[row], score=float(scores[row]), rank=i + 1, metadata=self.metadata_[row],
                  shared_terms=tuple(t for t, _ in shared[row]), passage=self._passage(row, shared[row]))
            for i, row in enumerate(chosen)
        ]
        return results

    # -- near duplicates -------------------------------------------------------------------
    def _rows(self) -> sp.csr_matrix:
        mats = [seg.tocsr() for seg in self._segments]
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
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
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
        ids and metadata as JSON lines, texts as JSON lines, vocabulary/IDF and parameters as JSON."""
        self._check_fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        mats = [seg.tocsr() for seg in self._segments]
        merged = (sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]).tocsc()
        np.save(folder / "postings_data.npy", merged.data.astype(np.float32), allow_pickle=False)
        np.save(folder / "postings_indices.npy", merged.indices.astype(np.int32), allow_pickle=False)
        np.save(folder / "postings_indptr.npy", merged.indptr.astype(np.int64), allow_pickle=False)
        np.save(folder / "df.npy", self.df_, allow_pickle=False)
        self.vectorizer_._save_arrays(folder, prefix="vec_")
        with open(folder / "records.jsonl", "w", encoding="utf-8") as fh:
            for doc_id, meta in zip(self.ids_, self.metadata_):
                fh.write(json.dumps({"id": doc_id, "metadata": meta}, ensure_ascii=False, default=str) + "\n")
        if self.texts_ is not None:
            with open(folder / "texts.jsonl", "w", encoding="utf-8") as fh:
                for t in self.texts_:
                    fh.write(json.dumps(t, ensure_ascii=False) + "\n")
        params = {"min_df": self.min_df, "max_df": self.max_df, "extract_metadata": self.extract_metadata,
                  "store_text": self.store_text, "chunk_size": self.chunk_size, "n_jobs": self.n_jobs}
        return write_manifest(folder, "SimilarityIndex", {
            "params": params, "tokenizer": self.vectorizer_.tokenizer_.to_config(),
            "vectorizer": self.vectorizer_._config(), "n_documents": len(self), "shape": list(merged.shape),
        }, engine=self.vectorizer_.tokenizer_.engine)

    @classmethod
    def _from_saved(cls, folder: Path, manifest: dict[str, Any], mmap: bool = True) -> SimilarityIndex:
        index = cls(**manifest["params"], tokenizer=Tokenizer.from_config(manifest["tokenizer"]))
        index.vectorizer_ = Vectorizer._restore(folder, manifest["vectorizer"], manifest["tokenizer"], prefix="vec_")
        data = load_array(folder / "postings_data.npy", kinds="f", ndim=1, mmap=mmap)
        indices = load_array(folder / "postings_indices.npy", kinds="iu", ndim=1, mmap=mmap)
        indptr = load_array(folder / "postings_indptr.npy", kinds="iu", ndim=1, mmap=mmap)
        shape = manifest.get("shape")
        if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(n, int) and n >= 0 for n in shape)):
            raise IncompatibleModelError(f"{folder}: govtext.json 'shape' must be [documents, terms]")
        shape = (shape[0], shape[1])
        _check_postings(folder, data, indices, indptr, shape)
        if shape[1] != len(index.vectorizer_.vocabulary_):
            raise IncompatibleModelError(f"{folder}: postings have {shape[1]} term columns but the vocabulary "
                                         f"has {len(index.vectorizer_.vocabulary_)} terms")
        index._segments = [sp.csc_matrix((data, indices, indptr), shape=shape, copy=False)]
        index.df_ = load_array(folder / "df.npy", kinds="iu", ndim=1)
        if len(index.df_) != shape[1]:
            raise IncompatibleModelError(f"{folder}: df.npy has {len(index.df_)} values for {shape[1]} terms")
        index.ids_, index.metadata_ = [], []
        with open(folder / "records.jsonl", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                index.ids_.append(rec["id"])
                index.metadata_.append(_with_parsed_date(rec["metadata"]))
        if len(index.ids_) != shape[0]:
            raise IncompatibleModelError(f"{folder}: {len(index.ids_)} records but {shape[0]} rows of postings")
        index._row_of = {x: i for i, x in enumerate(index.ids_)}
        texts_file = folder / "texts.jsonl"
        index.texts_ = None
        if texts_file.is_file():
            with open(texts_file, encoding="utf-8") as fh:
                index.texts_ = [json.loads(line) for line in fh]
        index._dup_group = None
        return index

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, mmap: bool = True) -> SimilarityIndex:
        """Read an index written by :meth:`save`; postings are memory-mapped unless ``mmap=False``."""
        return cls._from_saved(Path(path), read_manifest(path, "SimilarityIndex"), mmap=mmap)


def _count_chunk(tok: Tokenizer, docs: list[str]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Tokenise and count one chunk: (distinct terms, counts, local column ids, row pointers)."""
    vocab: dict[str, int] = {}
    data: list[int] = []
    indices: list[int] = []
    indptr = [0]
    for doc in docs:
        counts: dict[int, int] = {}
        for t in tok(doc):
            j = vocab.setdefault(t, len(vocab))
            counts[j] = counts.get(j, 0) + 1
        indices.extend(counts)
        data.extend(counts.values())
        indptr.append(len(indices))
    return (list(vocab), np.asarray(data, np.float32), np.asarray(indices, np.int64), np.asarray(indptr, np.int64))


def _preselect(scores: np.ndarray, want: int, stride: int = 16) -> np.ndarray:
    """Rows that may be among the ``want`` best, found without sorting the whole array.

    The ``want``-th best score of every ``stride``-th row can only be lower than (or equal to) the
    ``want``-th best of all rows, so every row of the true top ``want`` scores at least that much.
    """
    positive = scores > 0
    sample = scores[::stride]
    if len(scores) <= 20 * stride * want or np.count_nonzero(sample > 0) < want:
        return np.flatnonzero(positive)
    bound = np.partition(sample, len(sample) - want)[len(sample) - want]
    return np.flatnonzero(scores >= bound) if bound > 0 else np.flatnonzero(positive)
