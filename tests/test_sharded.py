"""ShardedIndex gives exactly what one SimilarityIndex over the same texts gives: ids, scores, order
(ties included), shared terms, passages, filters, reprint groups; in-process and on a LocalCluster;
saved and loaded. Also the exact semantics of SimilarityIndex.add()'s statistics."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import govtext
from govtext import ShardedIndex, SimilarityIndex
from govtext.persist import IncompatibleModelError
from govtext.search.sharded import merge_terms, shard_bounds

from .conftest import read_xwlb

# A small corpus of my own: local-governance notices, with reprints of one release (same text with
# an outlet line changed) and exact copies spread over the shards, so that groups and equal scores
# cross shard borders.
_BASE = [
    "幸福里社区推行楼道微自治,党员带头认领楼道,居民议事会商量楼道杂物清理。",
    "街道开展垃圾分类宣传活动,志愿者入户讲解分类知识,居民积极参与。",
    "某县召开经济工作会议,部署全年重点项目建设和营商环境优化。",
    "红星社区推行楼道自治,党员认领楼道责任区,楼道面貌焕然一新。",
    "镇党委以党建引领乡村振兴,村党支部带领村民发展特色产业。",
    "区文明办组织新时代文明实践活动,志愿服务队走进老旧小区。",
    "社区居委会召开居民议事会,协商加装电梯和停车难题。",
    "市委组织部部署基层党组织建设,推动党员下沉社区报到服务。",
    "村里成立红白理事会,移风易俗,倡导文明新风。",
    "街道推行网格化管理,网格员走访独居老人,解决群众急难愁盼。",
    "县里建设新时代文明实践中心,打造志愿服务品牌项目。",
    "社区推行楼道长制度,楼道长收集居民意见,共建共治共享。",
]
_RELEASE = ("滨江街道创新推出“三社联动”工作法,社区、社会组织、社会工作者协同服务居民,"
            "已在全区十二个社区推广,居民满意度明显提升。")


def _corpus() -> tuple[list[str], list[str], list[dict]]:
    texts, ids, meta = [], [], []
    places = ["上海市", "北京市", "武汉市", "杭州市"]
    for i in range(36):
        if i % 9 == 4:  # the release, reprinted by four outlets across the shards
            text = f"{_RELEASE}(来源:第{i}号融媒体)"
        elif i % 11 == 7:  # an exact copy of a base text: equal scores in different shards
            text = _BASE[3]
        else:
            text = _BASE[i % len(_BASE)] + f"第{i % 5}次。"
        texts.append(text)
        ids.append(f"doc-{i:02d}")
        meta.append({"date": f"20{18 + i % 7}-0{1 + i % 9}-1{i % 10}", "place": places[i % 4], "n": i})
    return texts, ids, meta


QUERIES = ["在老旧小区推行楼道微自治,党员带头认领楼道", "三社联动工作法推广", "居民议事会协商加装电梯",
           "党建引领乡村振兴特色产业", "文明实践志愿服务", "无关的外语 words only"]


def _rows(results):
    return [[(m.id, m.score, m.rank, m.shared_terms, m.passage, m.metadata, str(m.why)) for m in r] for r in results]


def _same(single, sharded, queries, **kw):
    a, b = single.query_many(queries, **kw), sharded.query_many(queries, **kw)
    assert _rows(a) == _rows(b)  # bit for bit: same arithmetic on the same rows
    return a


CASES = [dict(k=5, rank="cosine"), dict(k=5), dict(k=3, rank="cosine", filter={"place": "上海市"}),
         dict(k=10, rank="cosine", filter={"date": ("2020-01-01", "2022-12-31")}),
         dict(k=10, rank="cosine", filter=lambda m: m.get("n", 1) % 2 == 0),
         dict(k=4, rank="cosine", exclude_duplicates=True), dict(k=4, exclude_duplicates=True),
         dict(k=8, rank="cosine", prune_df=0.3)]


@pytest.fixture(scope="module")
def pair():
    texts, ids, meta = _corpus()
    params = dict(chunk_size=5, progress=False)
    return (SimilarityIndex(**params).fit(texts, ids=ids, metadata=meta),
            ShardedIndex(n_shards=3, **params).fit(texts, ids=ids, metadata=meta))


def test_sharded_in_process_equals_one_index(pair):
    single, sharded = pair
    assert np.array_equal(single.vectorizer_.idf_, sharded.vectorizer_.idf_)
    assert list(single.vectorizer_.get_feature_names_out()) == list(sharded.vectorizer_.get_feature_names_out())
    assert np.array_equal(single.df_, sharded.df_)
    assert single.duplicates() == sharded.duplicates()
    assert any(len(g) >= 4 for g in sharded.duplicates())  # the release's reprints, across shards
    for kw in CASES:
        found = _same(single, sharded, QUERIES, **kw)
        assert any(found)
    ties = sharded.query(_BASE[3], k=6, rank="cosine")
    copies = [m for m in ties if m.score == ties[0].score]
    assert len(copies) >= 2 and [m.id for m in copies] == sorted(m.id for m in copies)  # equal scores: row order
    assert len({sharded._shard_of(m.id) for m in copies}) >= 2  # and they sit in different shards
    for doc_id in ("doc-00", "doc-13", "doc-35"):
        assert sharded.document(doc_id) == single.document(doc_id)
    with pytest.raises(KeyError):
        sharded.document("nope")
    assert len(sharded) == 36 and "doc-07" in sharded and "x" not in sharded
    assert single.timeline("楼道").places == sharded.timeline("楼道").places


def test_sharded_saved_and_loaded(pair, tmp_path):
    single, sharded = pair
    sharded.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "govtext.json").read_text(encoding="utf-8"))
    assert manifest["type"] == "ShardedIndex" and "govtext" in manifest["versions"]
    assert [s["path"] for s in manifest["shards"]] == ["shard-000", "shard-001", "shard-002"]
    assert isinstance(govtext.load(tmp_path / "idx" / "shard-001"), SimilarityIndex)  # each an ordinary index
    loaded = govtext.load(tmp_path / "idx")
    assert isinstance(loaded, ShardedIndex) and loaded.ids_ == sharded.ids_
    for kw in CASES:
        _same(single, loaded, QUERIES, **kw)
    # a shard whose terms are in another order, or whose IDF differs from the others', is refused
    vocab = tmp_path / "idx" / "shard-001" / "vec_vocabulary.json"
    original = vocab.read_text(encoding="utf-8")
    terms = json.loads(original)
    terms[0], terms[1] = terms[1], terms[0]
    vocab.write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(IncompatibleModelError, match="differs"):
        govtext.load(tmp_path / "idx")
    vocab.write_text(original, encoding="utf-8")
    assert all(s.vectorizer_ is loaded.vectorizer_ for s in loaded.shards_)  # one vocabulary in memory
    other = tmp_path / "idx" / "shard-002" / "vec_idf.npy"
    idf = np.load(other)
    idf[0] += 0.5
    np.save(other, idf)
    with pytest.raises(IncompatibleModelError, match="differs"):
        govtext.load(tmp_path / "idx")


def test_sharded_refuses_a_shard_path_outside_its_folder(pair, tmp_path):
    _, sharded = pair
    sharded.save(tmp_path / "idx")
    path = tmp_path / "idx" / "govtext.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["shards"][0]["path"] = "shard-../../elsewhere"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IncompatibleModelError, match="shards"):
        govtext.load(tmp_path / "idx")


def test_sharded_add_matches_one_index_add():
    texts, ids, meta = _corpus()
    single = SimilarityIndex(progress=False).fit(texts, ids=ids, metadata=meta)
    sharded = ShardedIndex(n_shards=4, progress=False).fit(texts, ids=ids, metadata=meta)
    new = ["青山社区推行楼道微自治,党员认领楼道,新词汇从未出现", _RELEASE]
    single.add(new, ids=["n1", "n2"])
    sharded.add(new, ids=["n1", "n2"])
    assert np.array_equal(single.df_, sharded.df_) and len(sharded) == 38
    for kw in CASES:
        _same(single, sharded, QUERIES, **kw)
    with pytest.raises(govtext.ParameterError, match="already"):
        sharded.add(["x"], ids=["n1"])


def test_sharded_with_pruned_vocabulary_matches_to_1e6():
    texts, ids, meta = _corpus()
    single = SimilarityIndex(min_df=2, max_df=0.5, progress=False).fit(texts, ids=ids, metadata=meta)
    sharded = ShardedIndex(n_shards=2, min_df=2, max_df=0.5, progress=False).fit(texts, ids=ids, metadata=meta)
    assert list(single.vectorizer_.get_feature_names_out()) == list(sharded.vectorizer_.get_feature_names_out())
    for a, b in zip(single.query_many(QUERIES, k=10, rank="cosine"), sharded.query_many(QUERIES, k=10, rank="cosine")):
        assert [m.id for m in a] == [m.id for m in b]
        assert np.allclose([m.score for m in a], [m.score for m in b], atol=1e-6, rtol=0)


def test_sharded_checks_its_arguments():
    with pytest.raises(govtext.ParameterError, match="n_shards"):
        ShardedIndex(n_shards=5).fit(["一", "二"])
    with pytest.raises(govtext.ParameterError, match="n_shards"):
        ShardedIndex(n_shards=0).fit(["社区"])
    with pytest.raises(govtext.ParameterError, match="unique"):
        ShardedIndex(n_shards=1).fit(["社区", "街道"], ids=["a", "a"])
    with pytest.raises(govtext.NotFittedError):
        ShardedIndex().query("社区")
    from sklearn.base import clone

    assert clone(ShardedIndex(n_shards=3, min_df=2)).get_params()["n_shards"] == 3


def test_shard_bounds_follow_whole_chunks():
    bounds = shard_bounds(10_000, 4, 1000)
    assert bounds[0] == 0 and bounds[-1] == 10_000 and {b - a for a, b in zip(bounds, bounds[1:])} == {2000, 3000}
    assert shard_bounds(10, 3, 1000) == [0, 3, 7, 10]
    bounds = shard_bounds(123_456, 7, 1000)
    assert all(b % 1000 == 0 for b in bounds[:-1]) and bounds[-1] == 123_456
    terms, maps = merge_terms([["a", "b"], ["c", "a"], ["b", "d"]])
    assert terms == ["a", "b", "c", "d"] and [m.tolist() for m in maps] == [[0, 1], [2, 0], [1, 3]]


def test_sharded_on_a_local_cluster_equals_one_index(pair, tmp_path):
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    single, _ = pair
    texts, ids, meta = _corpus()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        sharded = ShardedIndex(n_shards=4, chunk_size=5, progress=False).fit(texts, ids=ids, metadata=meta,
                                                                             client=client)
        assert "Dask" in repr(sharded)
        assert sharded.duplicates() == single.duplicates()
        for kw in CASES:
            _same(single, sharded, QUERIES, **kw)
        assert sharded.document("doc-13") == single.document("doc-13")
        sharded.save(tmp_path / "idx")
        again = ShardedIndex.load(tmp_path / "idx", client=client)
        _same(single, again, QUERIES, k=5, rank="cosine", exclude_duplicates=True)
    assert isinstance(govtext.load(tmp_path / "idx"), ShardedIndex)


@pytest.mark.slow
def test_sharded_on_real_news_equals_one_index_on_a_local_cluster():
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    items = [it for it in read_xwlb(1200, step=60) if it["text"].strip()]
    # reprints: a tenth of the items again later in the corpus, with a line of their own added
    items += [{**it, "id": f"{it['id']}-reprint", "text": it["text"] + "(转载)"} for it in items[::10]]
    texts, ids = [it["text"] for it in items], [it["id"] for it in items]
    meta = [{"date": it["date"], "title": it["title"]} for it in items]
    single = SimilarityIndex(chunk_size=200, progress=False).fit(texts, ids=ids, metadata=meta)
    queries = [t[:300] for t in texts[::37]] + [it["title"] for it in items[5::53]]
    cases = [dict(k=10, rank="cosine"), dict(k=10), dict(k=10, rank="cosine", exclude_duplicates=True),
             dict(k=10, rank="cosine", filter={"date": ("2016-01-01", "2019-12-31")})]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        sharded = ShardedIndex(n_shards=4, chunk_size=200, progress=False).fit(texts, ids=ids, metadata=meta,
                                                                               client=client)
        groups = sharded.duplicates()
        assert groups == single.duplicates() and len(groups) >= 100
        for kw in cases:
            found = _same(single, sharded, queries, **kw)
            assert sum(map(len, found)) >= 5 * len(queries)


def test_similarity_index_add_keeps_document_frequencies_and_the_fitted_idf(tmp_path):
    """add()'s exact semantics: df_ counts every document held (what one fit over all texts would
    count over the fitted vocabulary), the IDF stays the fitted one (every stored row was weighed
    with it), and the added rows are the fitted vectorizer's rows of the new texts."""
    from govtext.features.vectorize import count_terms

    texts, ids, _ = _corpus()
    index = SimilarityIndex(progress=False).fit(texts[:30], ids=ids[:30])
    idf = index.vectorizer_.idf_.copy()
    new = texts[30:] + ["全新的词语组合从未出现过,楼道"]
    index.add(new, ids=ids[30:] + ["fresh"])
    vocab = index.vectorizer_.vocabulary_
    counts, _ = count_terms(texts + new[-1:], tokenizer=index.vectorizer_.tokenizer_, vocabulary=dict(vocab))
    expected_df = np.bincount(counts.indices, minlength=len(vocab))
    assert np.array_equal(index.df_, expected_df)
    assert np.array_equal(index.vectorizer_.idf_, idf)
    added = index.segments_[-1].tocsr()
    assert abs(added - index.vectorizer_.transform(new)).max() == 0
    index.save(tmp_path / "grown")
    assert np.array_equal(govtext.load(tmp_path / "grown").df_, expected_df)


def _jsonl(path, items):
    path.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    return path


def test_cli_index_with_shards_equals_the_single_index_and_serves(tmp_path, capsys):
    from govtext.apps.cli import main

    texts, ids, meta = _corpus()
    items = [{"id": i, "text": t, "date": m["date"], "place": m["place"]} for i, t, m in zip(ids, texts, meta)]
    items.insert(9, {"id": "empty", "text": "   "})  # a record that cannot be indexed: named, status 1
    src = _jsonl(tmp_path / "in.jsonl", items)
    assert main(["index", str(src), "-o", str(tmp_path / "one"), "-q", "--no-clean"]) == 1
    assert main(["index", str(src), "-o", str(tmp_path / "four"), "-q", "--no-clean", "--shards", "4"]) == 1
    single, sharded = govtext.load(tmp_path / "one"), govtext.load(tmp_path / "four")
    assert isinstance(sharded, ShardedIndex) and len(sharded.starts_) == 5 and len(sharded) == 36
    for kw in CASES:
        _same(single, sharded, QUERIES, **kw)
    printed = []
    for folder in ("one", "four"):
        capsys.readouterr()
        assert main(["similar", "--index", str(tmp_path / folder), "楼道微自治", "--json", "-k", "3",
                     "--one-per-story"]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1] and json.loads(printed[0].split("\n")[0])["rank"] == 1
    assert main(["index", str(src), "-o", str(tmp_path / "many"), "-q", "--shards", "100"]) != 0
    assert "--shards 100 needs at least 100 records" in capsys.readouterr().err
    assert not (tmp_path / "many").exists()

    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from govtext.apps.serve import create_app

    client = TestClient(create_app(tmp_path / "four"), base_url="http://127.0.0.1")
    q = "居民议事会协商加装电梯"
    got = client.get("/api/similar", params={"q": q, "k": 5, "one_per_story": "true"})
    assert got.status_code == 200, got.text
    assert [m["id"] for m in got.json()["matches"]] == [m.id for m in single.query(q, k=5, exclude_duplicates=True)]
    assert client.get("/api/doc/doc-13").status_code == 200


@pytest.mark.slow
def test_cli_index_on_a_local_dask_cluster(tmp_path):
    pytest.importorskip("distributed")
    from govtext.apps.cli import main

    texts, ids, meta = _corpus()
    src = _jsonl(tmp_path / "in.csv.jsonl", [{"id": i, "text": t, "date": m["date"]} for i, t, m in zip(ids, texts, meta)])
    assert main(["index", str(src), "-o", str(tmp_path / "one"), "-q", "--no-clean"]) == 0
    assert main(["index", str(src), "-o", str(tmp_path / "dask"), "-q", "--no-clean", "--shards", "3",
                 "--dask", "local", "--jobs", "2"]) == 0
    _same(govtext.load(tmp_path / "one"), govtext.load(tmp_path / "dask"), QUERIES, k=5, rank="cosine")


def test_saved_line_offsets_are_used_and_old_folders_still_load(pair, tmp_path):
    """A saved index keeps where each text's JSON line ends (texts_lines.npy), so loading does not
    scan the file; a folder without it (saved before) or with offsets that no longer fit a rewritten
    file loads by scanning, with the same documents."""
    single, _ = pair
    folder = tmp_path / "idx"
    single.save(folder)
    assert (folder / "texts_lines.npy").is_file() and (folder / "meta.json").is_file()
    fresh = govtext.load(folder)
    expected = [fresh.document(i) for i in single.ids_]
    assert expected == [single.document(i) for i in single.ids_]
    assert fresh.texts_._line_ends is not None  # the offsets were used
    (folder / "texts_lines.npy").unlink()
    old = govtext.load(folder)  # as an index saved before the offsets existed
    assert [old.document(i) for i in single.ids_] == expected
    single.save(folder)
    texts = (folder / "texts.jsonl").read_text(encoding="utf-8")
    (folder / "texts.jsonl").write_text(texts.replace("楼道", "楼道里的楼道"), encoding="utf-8")  # rewritten by hand
    edited = govtext.load(folder)
    assert edited.texts_._line_ends is None and len(edited.texts_) == len(single)
    assert [edited.document(i)[1] for i in single.ids_] == [m for _, m in expected]


def test_a_finished_shard_releases_its_counts():
    """_finish_shard drops the shard's local counts as soon as its global columns exist (a worker
    holds its counts about once); the shard's postings are still exactly what the counts give,
    with and without terms the vocabulary dropped."""
    from govtext.search.sharded import _count_shard, _finish_shard

    texts, ids, meta = _corpus()
    for max_df in (1.0, 0.3):
        sharded = ShardedIndex(n_shards=1, max_df=max_df).fit(texts, ids=ids, metadata=meta)
        single = SimilarityIndex(max_df=max_df).fit(texts, ids=ids, metadata=meta)
        vec = sharded.vectorizer_
        counted = _count_shard(texts, ids, meta, sharded._shard_params(), vec.tokenizer_)
        position = {t: i for i, t in enumerate(vec.get_feature_names_out())}
        column_of = np.array([position.get(t, -1) for t in counted.terms], np.int64)
        assert (column_of < 0).any() == (max_df < 1.0)
        shard = _finish_shard(counted, column_of, vec, sharded._shard_params())
        assert counted.counts is None
        got, want = shard.segments_[0], single.segments_[0]
        for a, b in ((got.data, want.data), (got.indices, want.indices), (got.indptr, want.indptr)):
            np.testing.assert_array_equal(a, b)


class _ShardFuture:
    def __init__(self, key: str) -> None:
        self.key = key


class _RecordingClient:
    """Stands in for a dask.distributed Client: runs each submitted call here and records where it
    was asked to run."""

    def __init__(self, holders: dict[str, tuple[str, ...]]) -> None:
        self.holders, self.calls = holders, []

    def who_has(self, futures):
        return {f.key: self.holders.get(f.key, ()) for f in futures}

    def submit(self, fn, shard, *args, pure=True, workers=None, allow_other_workers=False):
        self.calls.append((shard.key, workers, allow_other_workers))
        result = fn(shard, *args)
        return type("Done", (), {"result": lambda self: result})()

    def gather(self, futures):
        return [f.result() for f in futures]


def test_shard_tasks_are_pinned_to_the_workers_holding_the_shards():
    # Dask sizes a shard at a few bytes (sys.getsizeof), so an unpinned shard task may be stolen by an
    # idle worker, which then fetches (pickles) the whole shard: seconds a query at 1M documents.
    from govtext.search.sharded import _OnDask

    client = _RecordingClient({"a": ("tcp://w1",), "b": ("tcp://w2",), "c": ("tcp://w1", "tcp://w2")})
    runner = _OnDask(client, [_ShardFuture(k) for k in "abc"])
    assert runner.map(lambda s, x: (s.key, x), 7) == [("a", 7), ("b", 7), ("c", 7)]
    assert runner.one(1, lambda s: s.key) == "b"
    assert client.calls == [("a", ["tcp://w1"], False), ("b", ["tcp://w2"], False),
                            ("c", ["tcp://w1", "tcp://w2"], False), ("b", ["tcp://w2"], False)]


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_sharded_shards_score_with_the_backend_asked_for(pair, backend, monkeypatch, tmp_path):
    if backend == "numba" and not os.environ.get("CI"):  # a test extra: CI must have it
        pytest.importorskip("numba")
    from govtext.search import similarity

    single, _ = pair
    texts, ids, meta = _corpus()
    sharded = ShardedIndex(n_shards=3, chunk_size=5, progress=False, backend=backend).fit(texts, ids=ids, metadata=meta)
    assert sharded.get_params()["backend"] == backend
    calls = []
    compiled = similarity._compiled_candidates
    monkeypatch.setattr(similarity, "_compiled_candidates", lambda *a: calls.append(1) or compiled(*a))
    monkeypatch.setattr(single, "backend", "numpy")  # the reference: the plain NumPy path of one index
    for kw in CASES:
        _same(single, sharded, QUERIES, **kw)
    assert (len(calls) > 0) == (backend == "numba")  # the shards really used the backend asked for
    sharded.save(tmp_path / "idx")
    saved = json.loads((tmp_path / "idx" / "govtext.json").read_text(encoding="utf-8"))
    assert "backend" not in saved["params"]
    loaded = ShardedIndex.load(tmp_path / "idx")
    assert loaded.backend == "auto"
    loaded.set_params(backend=backend)
    calls.clear()
    _same(single, loaded, QUERIES, k=5, rank="cosine")
    assert (len(calls) > 0) == (backend == "numba")
