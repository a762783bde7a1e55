"""Building an index: a batch of documents checked (ids, metadata, places and initiative names),
its terms counted, weighted into postings (one column per term) and its document frequencies.
Used by :meth:`SimilarityIndex.fit <govtext.SimilarityIndex.fit>` and ``add``; pure functions."""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._common import check_text_list
from ..errors import ParameterError
from ..features.vectorize import Vectorizer, count_terms
from ..text.clean import normalize
from ..text.tokenize import Tokenizer
from ._metadata import with_parsed_date
from .extract import initiatives, keepable_practice, places
from .ranking import corpus_practices, practice_names

__all__ = ["Batch", "check_batch", "count_batch", "document_frequencies", "initiatives_of", "postings",
           "practice_vocabulary", "with_user_words"]


@dataclass
class Batch:
    """Documents ready to index: texts as given, ids, metadata (dates parsed, places and
    initiatives added when asked) and the normalised texts (``None`` when neither metadata
    extraction nor stored texts needed them)."""

    docs: list[str]
    ids: list[str]
    metadata: list[dict[str, Any]]
    norms: list[str] | None


def check_batch(texts: Any, ids: Any, metadata: Any, *, start: int, known: Container[str], tokenizer: Tokenizer,
                extract_metadata: bool, store_text: bool) -> Batch:
    """Check a batch: every text a str, ids unique and new (default: row numbers from ``start``),
    one metadata record per text."""
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
    existing = [x for x in id_list if x in known]
    if existing:
        raise ParameterError(f"ids already in the index: {existing[:5]}")
    if metadata is None:
        meta = [{} for _ in docs]
    else:
        meta = [dict(m) if m is not None else {} for m in check_text_list(metadata, "metadata")]
        if len(meta) != len(docs):
            raise ParameterError(f"got {len(docs)} texts but {len(meta)} metadata records")
    norms = [normalize(t) for t in docs] if extract_metadata or store_text else None
    if extract_metadata:
        for norm, m in zip(norms, meta):  # type: ignore[arg-type]
            m.setdefault("places", places(norm, tokenizer=tokenizer, normalized=True)[:20])
            m.setdefault("initiatives", initiatives(norm, normalized=True)[:20])
    return Batch(docs, id_list, [with_parsed_date(m) for m in meta], norms)


def count_batch(batch: Batch, tokenizer: Tokenizer, vocabulary: dict[str, int] | None, *, chunk_size: int,
                n_jobs: int | None, progress: bool | None) -> tuple[sp.csr_matrix, dict[str, int]]:
    """Term counts of a batch (over ``vocabulary`` when given). Texts normalised once already (for
    metadata and storage) are tokenised without normalising them again."""
    reuse = batch.norms is not None and tokenizer.normalize
    return count_terms(batch.norms if reuse else batch.docs, tokenizer=tokenizer, vocabulary=vocabulary,  # type: ignore[arg-type]
                       chunk_size=chunk_size, n_jobs=n_jobs, progress=progress, normalized=reuse)


def postings(vectorizer: Vectorizer, counts: sp.csr_matrix) -> sp.csc_matrix:
    """The vectorizer's TF-IDF weights of ``counts`` (computed in place), stored by column."""
    out = vectorizer.weigh(counts, copy=False).tocsc()
    out.indices = out.indices.astype(np.int32, copy=False)
    return out


def document_frequencies(counts: sp.csr_matrix, n_terms: int) -> np.ndarray:
    """How many documents of ``counts`` hold each term."""
    return np.bincount(counts.indices, minlength=n_terms).astype(np.int64)


def practice_vocabulary(metadata: Sequence[Mapping[str, object]], *, min_docs: int) -> list[str]:
    """The practice names an index keeps whole: govtext's curated :func:`~govtext.practice_names`,
    then the initiatives (metadata ``initiatives``) that at least ``min_docs`` documents name and
    that :func:`keepable_practice` accepts, most frequent first; no repeats."""
    found = [n for n in corpus_practices(metadata, min_docs=min_docs) if keepable_practice(n)]
    return list(dict.fromkeys([*practice_names(), *found]))


def with_user_words(tokenizer: Tokenizer, words: Sequence[str]) -> tuple[Tokenizer, list[str]]:
    """A copy of ``tokenizer`` whose user words are its own followed by those of ``words`` it does
    not have yet (returned as the second item; ``tokenizer`` itself when there are none)."""
    config = tokenizer.to_config()
    own = list(config.get("user_words") or [])
    have = {w.split()[0] for w in own if w.split()}
    added = [w for w in dict.fromkeys(words) if w not in have]
    if not added:
        return tokenizer, []
    return Tokenizer.from_config({**config, "user_words": own + added}), added


def initiatives_of(batch: Batch) -> list[Mapping[str, object]]:
    """Each document's metadata when it holds ``initiatives``, else its :func:`~govtext.initiatives`."""
    if all("initiatives" in m for m in batch.metadata):
        return batch.metadata
    norms = batch.norms if batch.norms is not None else [normalize(d) for d in batch.docs]
    return [m if "initiatives" in m else {"initiatives": initiatives(n, normalized=True)}
            for m, n in zip(batch.metadata, norms)]
