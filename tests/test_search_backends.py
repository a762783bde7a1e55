"""SimilarityIndex's two query backends: the compiled kernel (numba) and the NumPy path must give the
same results to the last bit (ids, float32 scores, order with ties, shared terms, passages, precedent
order), on the project's own samples and on real news, in memory and memory-mapped (int32 and int64
index arrays), one query at a time and in threads. Also: the backend is a checked parameter, and
asking for numba without it is an error saying how to install it."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import govtext
from govtext import SimilarityIndex
from govtext.search import _kernel

from .conftest import read_xwlb

REPO = Path(__file__).resolve().parent.parent


def _need_numba() -> None:
    """numba is in the test extra: missing, these tests skip locally and fail under CI."""
    try:
        import numba  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("numba is missing under CI: pip install govtext[test] installs it")
        pytest.skip("numba is not installed (pip install govtext[fast])")


def _both(index: SimilarityIndex, call):
    """``call(index)`` with the NumPy backend, then with numba (the backend put back after)."""
    _need_numba()
    out = []
    for backend in ("numpy", "numba"):
        index.backend = backend
        assert index.backend_ == backend
        out.append(call(index))
    index.backend = "auto"
    return out


def _same(a, b) -> None:
    """Two result lists (of lists) of Match records: equal field by field, scores bit for bit."""
    assert a == b  # dataclass equality: ids, scores, ranks, metadata, shared terms, passages, why
    flat = lambda x: [m for ms in x for m in ms] if x and isinstance(x[0], list) else x  # noqa: E731
    for m, n in zip(flat(a), flat(b)):
        assert np.float32(m.score).tobytes() == np.float32(n.score).tobytes()


@pytest.fixture(scope="module")
def samples():
    records = [json.loads(line) for line in (REPO / "samples" / "news.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in records] + [records[0]["text"], records[1]["text"]]  # reprints: equal scores
    ids = [r["id"] for r in records] + ["copy-0", "copy-1"]
    meta = [{"title": r.get("title", ""), "date": r.get("date")} for r in records] + [{}, {}]
    index = SimilarityIndex(progress=False).fit(texts[:300], ids=ids[:300], metadata=meta[:300])
    index.add(texts[300:], ids=ids[300:], metadata=meta[300:])  # a second segment
    proposals = [line for line in (REPO / "samples" / "proposals.txt").read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    queries = proposals + [t[:200] for t in texts[::7]] + [r.get("title") or r["text"][:20] for r in records[::11]]
    return index, queries


@pytest.mark.parametrize("kwargs", [{"rank": "cosine", "k": 10}, {"rank": "cosine", "k": 50}, {"k": 5},
                                    {"rank": "cosine", "filter": {"date": ("2023-01-01", None)}},
                                    {"rank": "cosine", "exclude_duplicates": True, "k": 8},
                                    {"rank": "cosine", "prune_df": 0.1}])
def test_backends_agree_on_the_samples(samples, kwargs):
    index, queries = samples
    one, other = _both(index, lambda ix: [ix.query(q, **kwargs) for q in queries])
    _same(one, other)
    assert sum(len(m) for m in one) > len(queries)  # the queries found something
    many = _both(index, lambda ix: ix.query_many(queries, n_jobs=2, **kwargs))
    _same(many[0], one)
    _same(many[1], one)


def test_ties_are_ranked_by_row_on_both_backends(samples):
    index, _ = samples
    text = index.document("copy-0")[0]
    for found in _both(index, lambda ix: ix.candidates(text, k=5)):
        # the original and its reprint score the same: the one indexed first comes first
        assert [index.ids_[r] for r in found.rows[:2]] == ["n001", "copy-0"]
        assert found.scores[0] == found.scores[1]


@pytest.fixture(scope="module")
def news():
    items = [it for it in read_xwlb(1500, step=13) if it["text"].strip()]
    texts = [it["text"] for it in items]
    texts += texts[:30]
    ids = [f"x{i}" for i in range(len(texts))]
    index = SimilarityIndex(progress=False).fit(texts, ids=ids, metadata=[{"date": it.get("date")} for it in items]
                                                + [{}] * 30)
    queries = ["".join(t.split())[:400] for t in texts[1:1500:25]] + [t.split("\n")[0][:30] for t in texts[2:1500:40]]
    return index, queries


@pytest.mark.slow
def test_backends_agree_on_real_news_in_memory_and_memory_mapped(news, tmp_path):
    index, queries = news
    for kwargs in ({"rank": "cosine", "k": 20}, {}, {"rank": "cosine", "filter": lambda meta: bool(meta.get("places"))}):
        one, other = _both(index, lambda ix: [ix.query(q, **kwargs) for q in queries])
        _same(one, other)
        threaded = _both(index, lambda ix: ix.query_many(queries, n_jobs=2, **kwargs))
        _same(threaded[0], one)
        _same(threaded[1], one)
    index.save(tmp_path / "idx")
    loaded = govtext.load(tmp_path / "idx")
    assert not loaded.segments_[0].indices.flags.writeable  # memory-mapped, read-only
    cosine = [index.query(q, rank="cosine") for q in queries]
    for got in _both(loaded, lambda ix: [ix.query(q, rank="cosine") for q in queries]):
        _same(got, cosine)
    for got in _both(loaded, lambda ix: ix.query_many(queries, rank="cosine", n_jobs=3)):
        _same(got, cosine)


def test_int64_index_arrays_and_several_threads_at_once(samples):
    _need_numba()
    index, queries = samples
    index.backend = "numpy"
    want = [index.query(q, rank="cosine", k=20) for q in queries]
    wide = SimilarityIndex(progress=False, backend="numba")
    wide.__dict__.update({k: v for k, v in index.__dict__.items() if k.endswith("_") or k == "_dup_group"})
    wide.segments_ = [seg.copy() for seg in index.segments_]
    for seg in wide.segments_:
        seg.indices, seg.indptr = seg.indices.astype(np.int64), seg.indptr.astype(np.int64)
    assert [wide.query(q, rank="cosine", k=20) for q in queries] == want
    index.backend = "numba"
    got: dict[int, list] = {}

    def run(t: int) -> None:  # several threads on one index: each has its own score buffer
        got[t] = [index.query(q, rank="cosine", k=20) for q in queries[t::3]]

    threads = [threading.Thread(target=run, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    index.backend = "auto"
    for t in range(3):
        assert got[t] == want[t::3]


def test_numba_kernel_selects_like_numpy_on_random_scores():
    """select() against the NumPy top rows on random float32 scores with many ties, and dense scores
    against np.add.at, over several sizes and k (including k above the number of positive rows)."""
    _need_numba()
    from govtext.search._topk import top_rows

    rng = np.random.default_rng(7)
    select = _kernel.kernels()["select"]
    for n, k in [(1, 1), (5, 10), (100, 3), (1000, 30), (20000, 10), (20000, 1)]:
        scores = (rng.integers(0, 6, size=n) / 4).astype(np.float32)  # values 0..1.25: zeros and ties
        want = np.asarray(top_rows(scores, k), np.int64)
        rows, vals = select(scores.copy(), k, False)
        np.testing.assert_array_equal(rows, want)
        np.testing.assert_array_equal(vals, scores[want])
        buf = scores.copy()
        select(buf, k, True)
        assert not buf.any()  # cleared for the next query


def test_numba_lookup_finds_every_posting_however_the_rows_are_spread():
    """lookup() (interpolation steps, then a binary search) against a dense copy of random postings:
    rows spread evenly, bunched at either end, in runs, lists of one or two, and rows asked for that
    are below, above, between and on the postings, inside and outside the segment's offset."""
    _need_numba()
    import scipy.sparse as sp

    rng = np.random.default_rng(11)
    lookup = _kernel.kernels()["lookup"]
    n_docs = 5000
    columns = [np.sort(rng.choice(n_docs, size=m, replace=False)) for m in (0, 1, 2, 17, 300, 4000)]
    columns += [np.arange(40, 4040, 2), np.concatenate([np.arange(0, 30), np.arange(4900, 5000)]),
                np.sort(np.unique((rng.pareto(0.5, size=3000) * 20).astype(np.int64) % n_docs))]
    data = [rng.random(len(c)).astype(np.float32) + 0.1 for c in columns]
    seg = sp.csc_matrix((np.concatenate(data), np.concatenate(columns), np.cumsum([0] + [len(c) for c in columns])),
                        shape=(n_docs, len(columns)))
    dense = seg.toarray()
    terms = np.arange(len(columns), dtype=np.int64)
    weights = (rng.random(len(columns)) + 0.5).astype(np.float32)
    for offset in (0, 1000):
        rows = np.concatenate([rng.integers(0, n_docs + offset, 200), [0, 29, 30, 39, 40, 41, 4038, 4039, 4040, 4999],
                               np.asarray(columns[4][:20]) + offset]).astype(np.int64)
        out = np.full((len(rows), len(terms)), np.nan, np.float32)
        lookup(seg.indptr, seg.indices, seg.data, terms, weights, rows, offset, n_docs, out)
        local = rows - offset
        inside = (local >= 0) & (local < n_docs)
        want = np.full_like(out, np.nan)
        held = dense[np.where(inside, local, 0)] != 0
        held[~inside] = False
        want[held] = (dense[np.where(inside, local, 0)] * weights)[held]
        assert np.array_equal(out, want, equal_nan=True)


@pytest.mark.parametrize("bad", ["numbaa", "", None, 1, "NUMPY"])
def test_backend_is_checked(bad):
    with pytest.raises(govtext.errors.ParameterError, match="backend"):
        SimilarityIndex(backend=bad).fit(["社区开展文明劝导", "街道推行楼道自治"])
    index = SimilarityIndex(progress=False).fit(["社区开展文明劝导", "街道推行楼道自治"])
    index.backend = bad
    with pytest.raises(govtext.errors.ParameterError, match="backend"):
        index.query("文明劝导")


def test_asking_for_numba_without_it_says_how_to_install_it(monkeypatch):
    index = SimilarityIndex(progress=False, backend="numpy").fit(["社区开展文明劝导", "街道推行楼道自治"])
    want = index.query("文明劝导", rank="cosine")
    monkeypatch.setattr(_kernel, "_compiled", {})
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    index.backend = "numba"
    with pytest.raises(govtext.errors.ParameterError, match=r"pip install govtext\[fast\]"):
        index.query("文明劝导")
    index.backend = "auto"  # auto says what it chose
    assert index.backend_ == "numpy"
    assert index.query("文明劝导", rank="cosine") == want


def test_backend_is_not_saved(tmp_path):
    index = SimilarityIndex(progress=False, backend="numpy").fit(["社区开展文明劝导", "街道推行楼道自治"])
    index.save(tmp_path / "idx")
    assert "backend" not in json.loads((tmp_path / "idx" / "govtext.json").read_text(encoding="utf-8"))["params"]
    assert govtext.load(tmp_path / "idx").backend == "auto"


class _Counted(list):
    """A list that records which rows are read."""

    def __init__(self, items, reads):
        super().__init__(items)
        self.reads = reads

    def __getitem__(self, i):
        self.reads.append(i)
        return super().__getitem__(i)


def test_passages_and_metadata_are_read_when_first_asked_for_and_travel_worked_out(samples, monkeypatch):
    import dataclasses
    import pickle

    from govtext.search import similarity

    index, queries = samples
    calls = []
    real = similarity.best_passage
    monkeypatch.setattr(similarity, "best_passage", lambda *a: calls.append(1) or real(*a))
    reads = []
    monkeypatch.setattr(index, "metadata_", _Counted(index.metadata_, reads))
    got = index.query(queries[0], k=5, rank="cosine")
    assert got and calls == [] and reads == []  # no passage worked out, no metadata read, for results not looked at
    assert got[3].metadata == index.document(got[3].id)[1] and len(reads) == 2  # read when asked (and by document())
    first = got[0].passage
    assert len(calls) == 1 and first and first == got[0].passage and len(calls) == 1  # worked out once, then kept
    data = pickle.dumps(got[1])
    sent = pickle.loads(data)  # pickled with the passage and metadata, not the index's lists
    assert b"Source" not in data and len(data) < 4000 and sent == got[1] and sent.passage == got[1].passage
    assert sent.metadata == got[1].metadata and sent.metadata["title"]
    assert dataclasses.replace(got[2], rank=9).passage == got[2].passage
    with pytest.raises(dataclasses.FrozenInstanceError):
        got[0].passage = "x"  # type: ignore[misc]
    ranked = index.query(queries[0], k=3)  # the precedent order's records are lazy too
    assert all(m.why is not None for m in ranked) and ranked == index.query(queries[0], k=3)


# A Match pickled by govtext before its fields moved to slots (its state a dict, metadata and passage
# under _metadata and _passage): it must still read, and a Match pickled now must give that state.
_EARLIER_PICKLE = (
    b"\x80\x04\x95\xc6\x00\x00\x00\x00\x00\x00\x00\x8c\x19govtext.search.similarity\x94\x8c\x05Match\x94\x93\x94)"
    b"\x81\x94}\x94(\x8c\x02id\x94\x8c\x02a1\x94\x8c\x05score\x94G?\xe0\x00\x00\x00\x00\x00\x00\x8c\x04rank\x94K\x02"
    b"\x8c\t_metadata\x94}\x94\x8c\x05title\x94\x8c\x06\xe6\xa0\x87\xe9\xa2\x98\x94s\x8c\x0cshared_terms\x94\x8c\x06"
    b"\xe7\xa4\xbe\xe5\x8c\xba\x94\x8c\x06\xe8\x87\xaa\xe6\xb2\xbb\x94\x86\x94\x8c\x08_passage\x94\x8c\x1b\xe7\xa4\xbe"
    b"\xe5\x8c\xba\xe6\x8e\xa8\xe8\xa1\x8c\xe6\xa5\xbc\xe9\x81\x93\xe8\x87\xaa\xe6\xb2\xbb\xe3\x80\x82\x94\x8c\x03why\x94Nub."
)


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_query_many_records_stay_lazy_and_equal_to_records_made_by_hand(samples, monkeypatch, backend):
    """query_many's records (made a block at a time, reading their lazy fields from one source for
    the block) read no metadata and work out no passage until asked; once read, each equals the
    Match made by hand from its values - equality, repr, hash refusal, pickling (also from and to
    the state earlier versions pickled), dataclasses.replace, weak references, frozen fields."""
    import dataclasses
    import pickle
    import weakref

    from govtext import Match
    from govtext.search import similarity

    if backend == "numba":
        _need_numba()
    index, queries = samples
    calls, reads = [], []
    real = similarity.best_passage
    monkeypatch.setattr(similarity, "best_passage", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(index, "metadata_", _Counted(index.metadata_, reads))
    monkeypatch.setattr(index, "backend", backend)
    got = index.query_many(queries, k=10, rank="cosine", n_jobs=2)
    flat = [m for ms in got for m in ms]
    assert len(flat) > 10 * len(queries) // 2 and calls == [] and reads == []  # nothing read yet
    assert all(type(m) is Match and not hasattr(m, "__dict__") for m in flat)
    first = flat[7]
    assert first.metadata == index.document(first.id)[1] and len(reads) == 2 and calls == []
    assert first.passage and len(calls) == 1 and first.passage and len(calls) == 1  # worked out once, then kept
    by_hand = [Match(id=m.id, score=m.score, rank=m.rank, metadata=dict(m.metadata), shared_terms=tuple(m.shared_terms),
                     passage=m.passage) for m in flat]
    assert flat == by_hand and [repr(m) for m in flat] == [repr(m) for m in by_hand]
    assert all(isinstance(m.shared_terms, tuple) and all(isinstance(t, str) for t in m.shared_terms) for m in flat)
    with pytest.raises(TypeError):
        hash(first)  # eq and frozen: hashed by its fields, and metadata is a dict
    fresh = index.query_many(queries[:6], k=4, rank="cosine")
    for m in (m for ms in fresh for m in ms):  # pickled, copied, replaced before anything was read
        data = pickle.dumps(m)
        assert b"Source" not in data and pickle.loads(data) == m
        assert dataclasses.replace(m, rank=99) == Match(m.id, m.score, 99, m.metadata, m.shared_terms, m.passage)
    earlier = pickle.loads(_EARLIER_PICKLE)
    made = Match(id="a1", score=0.5, rank=2, metadata={"title": "标题"}, shared_terms=("社区", "自治"),
                 passage="社区推行楼道自治。")
    assert earlier == made and earlier.__getstate__() == {
        "id": "a1", "score": 0.5, "rank": 2, "_metadata": {"title": "标题"}, "shared_terms": ("社区", "自治"),
        "_passage": "社区推行楼道自治。", "why": None}
    assert Match(id="b", score=1.0, rank=1) == Match("b", 1.0, 1, {}, (), None, None)
    assert Match(id="b", score=1.0, rank=1).metadata == {} and Match.metadata is None and Match.shared_terms == ()
    assert weakref.ref(first)() is first
    for name in ("id", "metadata", "shared_terms", "passage", "why"):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(flat[3], name, None)


@pytest.mark.parametrize("block, block_k", [(5, 1024), (32, 1024), (7, 4)])
def test_query_many_on_one_segment_scores_whole_blocks_in_one_compiled_call(samples, monkeypatch, block, block_k):
    """An index of one segment (as every saved one is) scores query_many's blocks with one kernel call
    each; with k above BLOCK_K it goes query by query. Either way: the NumPy path's results."""
    _need_numba()
    from govtext.search import similarity

    index, queries = samples
    one = SimilarityIndex(progress=False).fit([index.document(i)[0] for i in index.ids_], ids=index.ids_)
    assert len(one.segments_) == 1
    monkeypatch.setattr(similarity, "_BLOCK", block)
    monkeypatch.setattr(_kernel, "BLOCK_K", block_k)
    calls = []
    real_block = _kernel.kernels()["block"]
    monkeypatch.setitem(_kernel._compiled, "block", lambda *a: calls.append(1) or real_block(*a))
    batch = queries + ["qzxvwkpj"]  # no known term: no result
    for k in (3, 10, 40):
        one.backend = "numpy"
        want = [one.query(q, k=k, rank="cosine") for q in batch]
        one.backend = "numba"
        before = len(calls)
        for n_jobs in (1, 2):
            _same(one.query_many(batch, k=k, rank="cosine", n_jobs=n_jobs), want)
        assert (len(calls) > before) == (k <= block_k)  # whole blocks in one call, or query by query


def test_a_huge_k_allocates_nothing_for_it():
    _need_numba()
    index = SimilarityIndex(progress=False, backend="numba").fit(["社区开展文明劝导", "街道推行楼道自治", "文明劝导志愿者"])
    got = index.query_many(["文明劝导"] * 5, k=10**12, rank="cosine")  # a k-long heap would need 8 TB
    one = index.query("文明劝导", k=10**12, rank="cosine")
    assert got[0] == one and sorted(m.id for m in one) == ["0", "2"]  # only the documents that share a term
