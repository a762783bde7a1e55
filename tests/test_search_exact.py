"""The exact cosine stage of SimilarityIndex, checked against a reference computed the plain way on
real news: each segment's postings multiplied by the query weights as a scipy sparse product (the
arithmetic the index used before it gathered postings itself), every positive row ranked by score
then row, shared terms from the dense rows, passages by testing every sentence. Results must be the
same to the last bit: ids, scores, order (ties included), shared terms and passages. Also: ``add``
keeps the document frequencies right."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import govtext
from govtext import SimilarityIndex

from .conftest import read_xwlb
from .test_search_backends import _need_numba


@pytest.fixture(scope="module")
def built():
    items = [it for it in read_xwlb(500, step=37) if it["text"].strip()]
    texts = [it["text"] for it in items]
    texts = texts + texts[:20]  # reprints: exact copies score the same, so ties must be ranked by row
    ids = [f"d{i}" for i in range(len(texts))]
    cut = len(texts) * 2 // 3
    index = SimilarityIndex(progress=False).fit(texts[:cut], ids=ids[:cut])
    index.add(texts[cut:], ids=ids[cut:])  # a second segment
    queries = ["".join(t.split())[:300] for t in texts[3:200:9]] + [t.split("\n")[0][:30] for t in texts[5:200:11]]
    queries.append("社区党员志愿者开展文明劝导")
    return index, texts, queries


@pytest.fixture(params=["numpy", "numba"])
def real(built, request):
    """The index of ``built``, querying with each backend in turn (the NumPy path and the compiled
    kernel must both give the reference's numbers)."""
    index, texts, queries = built
    if request.param == "numba":
        _need_numba()
    index.backend = request.param
    assert index.backend_ == request.param
    yield built
    index.backend = "auto"


def _reference(index: SimilarityIndex, text: str, k: int, prune_df: float | None = None):
    """(rows, scores, shared (term, contribution) per row) by the plain sparse product."""
    q = index.vectorizer_.transform([text]).tocsr()
    terms, weights = q.indices.astype(np.int64), q.data.astype(np.float32)
    if prune_df is not None:
        keep = index.df_[terms] <= prune_df * len(index)
        terms, weights = terms[keep], weights[keep]
    scores = np.concatenate([(seg.T[terms].T @ weights).astype(np.float32) if len(terms)
                             else np.zeros(seg.shape[0], np.float32) for seg in index.segments_])
    positive = np.flatnonzero(scores > 0)
    rows = positive[np.lexsort((positive, -scores[positive]))][:k]
    dense = sp.vstack([seg.tocsr() for seg in index.segments_]).tocsr()
    shared = {}
    for r in rows.tolist():
        doc = dense[r].toarray().ravel().astype(np.float32)
        pairs = [(int(t), float(w * doc[t])) for t, w in zip(terms.tolist(), weights) if doc[t] > 0]
        shared[r] = sorted(pairs, key=lambda p: (-p[1], p[0]))[:8]
    return rows, scores[rows], shared


def _reference_passage(text: str, shared: list[tuple[str, float]], width: int = 120) -> str | None:
    best, best_score = None, 0.0
    for sent in govtext._common.split_sentences(text):
        score = sum(w for term, w in shared if term in sent)
        if score > best_score:
            best, best_score = sent, score
    if best is None or len(best) <= width:
        return best
    at = next((best.find(t) for t, _ in shared if t in best), 0)
    start = max(0, min(at - width // 3, len(best) - width))
    return ("…" if start > 0 else "") + best[start : start + width] + ("…" if start + width < len(best) else "")


@pytest.mark.parametrize("k, prune_df", [(10, None), (3, None), (40, None), (10, 0.2)])
def test_results_equal_the_plain_sparse_product_to_the_last_bit(real, k, prune_df):
    index, texts, queries = real
    names = index.vectorizer_.get_feature_names_out()
    ties = 0
    for q in queries:
        got = index.query(q, k=k, prune_df=prune_df, rank="cosine")
        rows, scores, shared = _reference(index, q, k, prune_df)
        assert [m.id for m in got] == [index.ids_[r] for r in rows]
        assert [m.score for m in got] == [float(s) for s in scores]  # exact, not approximate
        assert [m.rank for m in got] == list(range(1, len(got) + 1))
        for m, r in zip(got, rows.tolist()):
            pairs = [(str(names[t]), w) for t, w in shared[r]]
            assert m.shared_terms == tuple(t for t, _ in pairs)
            assert m.passage == _reference_passage(index.texts_[r], pairs)
        ties += len(scores) - len(set(scores.tolist()))
    if k >= 10 and prune_df is None:
        assert ties > 0  # the reprints made equal scores, so the tie order was really checked


def test_query_vector_is_the_vectorizers_row(real):
    index, texts, queries = real
    vec = index.vectorizer_
    for q in queries[:10]:
        cols, weights = vec.weigh_tokens(vec.tokenizer_(q))
        row = vec.transform([q]).tocsr()
        np.testing.assert_array_equal(cols, row.indices)
        np.testing.assert_array_equal(weights, row.data)


def test_query_vectors_weighed_together_are_each_the_vectorizers_row(real):
    """query_many weighs a block of queries at once: every row bit for bit the vectorizer's row of that
    query alone (also with pruned terms, and for a query with no known term)."""
    from govtext.search.similarity import query_weights, query_weights_many

    index, texts, queries = real
    vec = index.vectorizer_
    batch = queries[:40] + ["qzxvwkpj"] + queries[40:80]
    indptr, cols, weights = vec.weigh_token_lists([vec.tokenizer_(q) for q in batch])
    rows = vec.transform(batch).tocsr()
    np.testing.assert_array_equal(indptr, rows.indptr)
    np.testing.assert_array_equal(cols, rows.indices)
    assert weights.dtype == rows.data.dtype and weights.tobytes() == rows.data.tobytes()
    for prune_df in (None, 0.05):
        together = query_weights_many(vec, index.df_, len(index), batch, prune_df)
        for q, (c, w) in zip(batch, together):
            c1, w1 = query_weights(vec, index.df_, len(index), q, prune_df)
            alone = vec.weigh_tokens(vec.tokenizer_(q))
            assert c.tobytes() == c1.tobytes() and w.dtype == w1.dtype == np.float32 and w.tobytes() == w1.tobytes()
            if prune_df is None:
                assert c.tobytes() == alone[0].tobytes() and w.tobytes() == alone[1].astype(np.float32).tobytes()
        assert sum(len(c) for c, _ in together) <= len(cols) and not len(together[40][0])


def test_candidates_are_a_separate_stage(real):
    index, texts, queries = real
    found = index.candidates(queries[0], k=5)
    rows, scores, _ = _reference(index, queries[0], 5)
    np.testing.assert_array_equal(found.rows, rows)
    np.testing.assert_array_equal(found.scores, scores)
    assert [m.id for m in index.matches(found)] == [m.id for m in index.query(queries[0], k=5, rank="cosine")]


def test_add_keeps_document_frequencies_right(tmp_path, real):
    index, texts, queries = real
    every_row = sp.vstack([seg.tocsr() for seg in index.segments_]).tocsr()
    np.testing.assert_array_equal(index.df_, np.bincount(every_row.indices, minlength=len(index.df_)))
    # the same counts a fit over every text gives for these terms
    full = SimilarityIndex(progress=False, extract_metadata=False, store_text=False).fit(texts)
    cols = [full.vectorizer_.vocabulary_[t] for t in index.vectorizer_.get_feature_names_out()]
    np.testing.assert_array_equal(index.df_, full.df_[cols])
    index.save(tmp_path / "idx")
    np.testing.assert_array_equal(np.load(tmp_path / "idx" / "df.npy"), index.df_)


def test_prune_df_and_idf_after_add():
    base = [f"{place}社区开展垃圾分类宣传活动" for place in "东西南北中"] + ["幸福里社区推行楼道微自治"]
    index = SimilarityIndex(progress=False).fit(base, ids=[str(i) for i in range(len(base))])
    idf = index.vectorizer_.idf_.copy()
    before = [(m.id, m.score) for m in index.query("楼道微自治", k=3)]
    assert [m.id for m in index.query("楼道", k=3, prune_df=0.4)] == ["5"]
    index.add([f"{place}小区楼道堆物清理" for place in "甲乙丙丁戊己庚"], ids=[f"n{i}" for i in range(7)])
    col = index.vectorizer_.vocabulary_["楼道"]
    assert index.df_[col] == 8
    assert index.query("楼道", k=3, prune_df=0.4) == []  # 8 of 13 documents now hold it: pruned
    assert len(index.query("楼道", k=3, prune_df=0.7)) == 3
    np.testing.assert_array_equal(index.vectorizer_.idf_, idf)  # the fitted weighting is kept
    after = dict((m.id, m.score) for m in index.query("楼道微自治", k=20))
    assert all(after[doc_id] == score for doc_id, score in before)  # rows already there score as before


@pytest.mark.parametrize("n_jobs, block, rowwise", [(1, 32, True), (2, 5, False), (3, 1, True), (2, 7, False)])
@pytest.mark.parametrize("k, prune_df", [(10, None), (40, None), (10, 0.2)])
def test_query_many_in_blocks_and_threads_equals_the_plain_sparse_product(real, monkeypatch, n_jobs, block, rowwise,
                                                                          k, prune_df):
    from govtext.search import similarity

    monkeypatch.setattr(similarity, "_BLOCK", block)  # several blocks, several of them in flight
    # shared terms from the row-wise copy of the postings, or by binary search in the postings
    monkeypatch.setattr(similarity, "_POSTINGS_PER_QUERY", 10**12 if rowwise else 0)
    index, texts, queries = real
    names = index.vectorizer_.get_feature_names_out()
    batch = queries + ["qzxvwkpj"]  # a query with no known term gets no result
    got_all = index.query_many(batch, k=k, prune_df=prune_df, rank="cosine", n_jobs=n_jobs)
    assert len(got_all) == len(batch) and got_all[-1] == []
    ties = 0
    for q, got in zip(queries, got_all):
        rows, scores, shared = _reference(index, q, k, prune_df)
        assert [m.id for m in got] == [index.ids_[r] for r in rows]
        assert [m.score for m in got] == [float(s) for s in scores]
        for m, r in zip(got, rows.tolist()):
            pairs = [(str(names[t]), w) for t, w in shared[r]]
            assert m.shared_terms == tuple(t for t, _ in pairs)
            assert m.passage == _reference_passage(index.texts_[r], pairs)
        ties += len(scores) - len(set(scores.tolist()))
    if prune_df is None:
        assert ties > 0


def test_query_many_equals_query_one_by_one_with_filters_duplicates_and_precedents(real, monkeypatch):
    from govtext.search import similarity

    monkeypatch.setattr(similarity, "_BLOCK", 7)
    index, texts, queries = real
    for kwargs in ({"rank": "cosine", "filter": lambda meta: True, "exclude_duplicates": True},
                   {"rank": "cosine", "filter": {"places": set()}},
                   {"rank": "precedent"}, {"rank": "precedent", "exclude_duplicates": True, "k": 4}):
        one_by_one = [index.query(q, **kwargs) for q in queries]
        assert index.query_many(queries, n_jobs=2, **kwargs) == one_by_one
    named = lambda meta: bool(meta.get("places"))  # noqa: E731 - about half the documents name a place
    picked = index.query_many(queries, rank="cosine", filter=named)
    assert picked == [index.query(q, rank="cosine", filter=named) for q in queries]
    assert any(picked) and any(len(m) < len(index.query(q, rank="cosine")) or m != index.query(q, rank="cosine")
                               for q, m in zip(queries, picked))  # the filter took something out


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_query_many_n_jobs_is_checked(real, bad):
    index, _, queries = real
    with pytest.raises(govtext.errors.ParameterError, match="n_jobs"):
        index.query_many(queries[:5], n_jobs=bad)
