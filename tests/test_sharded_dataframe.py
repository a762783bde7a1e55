"""ShardedIndex.fit_dataframe: a Dask DataFrame's partitions counted where they are computed (on the
workers with a client), one shard per partition, giving what ShardedIndex.fit and one
SimilarityIndex give over the same rows in the same order; its checks of columns, texts and ids."""

from __future__ import annotations

import numpy as np
import pytest

import govtext
from govtext import ShardedIndex, SimilarityIndex

from .conftest import read_xwlb
from .test_sharded import CASES, QUERIES, _corpus, _rows

dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
pytest.importorskip("distributed")


def _frame(texts, ids, meta):
    return pd.DataFrame({"text": texts, "id": ids, **{k: [m[k] for m in meta] for k in meta[0]}})


def _close(a, b):
    """Same ids, shared terms and metadata in the same order; scores equal to 1e-6."""
    assert [[m.id for m in r] for r in a] == [[m.id for m in r] for r in b]
    assert [[(m.shared_terms, m.metadata) for m in r] for r in a] == [[(m.shared_terms, m.metadata) for m in r] for r in b]
    for ra, rb in zip(a, b):
        assert np.allclose([m.score for m in ra], [m.score for m in rb], atol=1e-6, rtol=0)


def _check_equal(built, texts, ids, meta, n_parts, queries=QUERIES, cases=CASES, chunk_size=5):
    """``built`` (from the DataFrame) against one index, fit(), and fit_parts() on the same partitions."""
    params = dict(chunk_size=chunk_size, progress=False)
    single = SimilarityIndex(**params).fit(texts, ids=ids, metadata=meta)
    fitted = ShardedIndex(n_shards=n_parts, **params).fit(texts, ids=ids, metadata=meta)
    bounds = built.starts_
    parts = ShardedIndex(n_shards=n_parts, **params).fit_parts(
        [(texts[a:b], ids[a:b], meta[a:b]) for a, b in zip(bounds, bounds[1:])])
    assert built.ids_ == single.ids_ and np.array_equal(built.df_, single.df_)
    assert list(built.vectorizer_.get_feature_names_out()) == list(single.vectorizer_.get_feature_names_out())
    assert np.allclose(built.vectorizer_.idf_, single.vectorizer_.idf_, atol=1e-12, rtol=0)
    assert built.duplicates() == single.duplicates() == fitted.duplicates()
    found = 0
    for kw in cases:
        got = built.query_many(queries, **kw)
        assert _rows(got) == _rows(parts.query_many(queries, **kw))  # the same shards: bit for bit
        _close(got, single.query_many(queries, **kw))
        _close(got, fitted.query_many(queries, **kw))
        found += sum(map(len, got))
    assert found >= len(cases) * len(queries)  # the queries find something
    for doc_id in (ids[0], ids[len(ids) // 2], ids[-1]):
        assert built.document(doc_id) == single.document(doc_id)


def test_fit_dataframe_in_process_equals_one_index():
    texts, ids, meta = _corpus()
    ddf = dd.from_pandas(_frame(texts, ids, meta), npartitions=3)  # 12 rows each: borders off the chunks of 5
    built = ShardedIndex(n_shards=3, chunk_size=5, progress=False).fit_dataframe(ddf)
    assert [b - a for a, b in zip(built.starts_, built.starts_[1:])] == [12, 12, 12]
    _check_equal(built, texts, ids, meta, 3)
    # metadata_fields chooses the columns kept; id_field=None numbers the rows as fit() does
    bare = ShardedIndex(n_shards=3, progress=False).fit_dataframe(ddf, id_field=None, metadata_fields=["place"])
    plain = ShardedIndex(n_shards=3, progress=False).fit(texts, metadata=[{"place": m["place"]} for m in meta])
    assert bare.ids_ == plain.ids_ == [str(i) for i in range(36)]
    assert bare.document("7") == plain.document("7") and "n" not in bare.document("7")[1]
    _close(bare.query_many(QUERIES, k=5, filter={"place": "上海市"}), plain.query_many(QUERIES, k=5, filter={"place": "上海市"}))


def test_fit_dataframe_on_a_local_cluster_counts_on_the_workers():
    from distributed import Client, LocalCluster, get_task_stream

    texts, ids, meta = _corpus()
    ddf = dd.from_pandas(_frame(texts, ids, meta), npartitions=4)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        with get_task_stream(client) as stream:
            built = ShardedIndex(n_shards=4, chunk_size=5, progress=False).fit_dataframe(ddf, client=client)
        counted = [t for t in stream.data if "_count_frame" in str(t["key"])]
        assert len(counted) == 4  # each partition counted by a worker task
        assert "Dask" in repr(built)
        _check_equal(built, texts, ids, meta, 4)


def test_fit_dataframe_rows_texts_and_ids():
    texts = ["社区推行楼道微自治,党员带头认领楼道。", "", "街道开展垃圾分类宣传。", "县里建设新时代文明实践中心。"]
    frame = pd.DataFrame({"text": texts, "id": [10, 11, 12, 13], "n": [1, 2, 3, 4],
                          "date": pd.to_datetime(["2020-01-02", None, "2021-03-04", "2022-05-06"])})
    built = ShardedIndex(n_shards=2, progress=False).fit_dataframe(dd.from_pandas(frame, npartitions=2))
    single = SimilarityIndex(progress=False).fit(texts, ids=["10", "11", "12", "13"],
                                                 metadata=[{"n": 1, "date": "2020-01-02"}, {"n": 2},
                                                           {"n": 3, "date": "2021-03-04"}, {"n": 4, "date": "2022-05-06"}])
    # an empty text is a document with no terms (as fit() keeps it); ids as str; missing values left out
    assert len(built) == 4 and built.document("11") == single.document("11") == ("", {"n": 2, "places": [], "initiatives": []})
    assert built.document("12") == single.document("12")
    flt = {"date": ("2021-01-01", "2022-12-31")}
    _close(built.query_many(["楼道自治", "文明实践"], k=3, filter=flt), single.query_many(["楼道自治", "文明实践"], k=3, filter=flt))

    no_text = frame.assign(text=[texts[0], None, texts[2], texts[3]])
    with pytest.raises(govtext.InputError, match=r"partition 0: 1 rows have no text in column 'text'.*\['11'\]"):
        ShardedIndex(n_shards=2).fit_dataframe(dd.from_pandas(no_text, npartitions=2))
    no_id = frame.assign(id=pd.array([10, 11, 12, None], dtype="Int64"))
    with pytest.raises(govtext.InputError, match="no id in column 'id'"):
        ShardedIndex(n_shards=2).fit_dataframe(dd.from_pandas(no_id, npartitions=2))
    repeated = frame.assign(id=["a", "b", "c", "a"])  # across partitions
    with pytest.raises(govtext.ParameterError, match=r"unique.*\['a'\]"):
        ShardedIndex(n_shards=2).fit_dataframe(dd.from_pandas(repeated, npartitions=2))


def test_fit_dataframe_checks_its_arguments():
    frame = dd.from_pandas(pd.DataFrame({"body": ["社区", "街道", "县里"], "key": ["a", "b", "c"]}), npartitions=1)
    with pytest.raises(govtext.InputError, match=r"no column 'text' \(asked for as text_field\).*\['body', 'key'\]"):
        ShardedIndex(n_shards=1).fit_dataframe(frame)
    with pytest.raises(govtext.InputError, match=r"no column 'id'"):
        ShardedIndex(n_shards=1).fit_dataframe(frame, text_field="body")
    with pytest.raises(govtext.InputError, match=r"no column 'x' \(asked for as metadata\)"):
        ShardedIndex(n_shards=1).fit_dataframe(frame, text_field="body", id_field="key", metadata_fields=["x"])
    with pytest.raises(govtext.ParameterError, match="n_shards=2 but the DataFrame has 1 partitions"):
        ShardedIndex(n_shards=2).fit_dataframe(frame, text_field="body", id_field="key")
    with pytest.raises(govtext.ParameterError, match="dask.dataframe.DataFrame"):
        ShardedIndex(n_shards=1).fit_dataframe(["社区"])
    with pytest.raises(govtext.ParameterError, match="metadata_fields"):
        ShardedIndex(n_shards=1).fit_dataframe(frame, text_field="body", id_field="key", metadata_fields="key")
    built = ShardedIndex(n_shards=1, progress=False).fit_dataframe(frame, text_field="body", id_field="key")
    assert built.ids_ == ["a", "b", "c"]


@pytest.fixture(scope="module")
def process_cluster():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


@pytest.mark.slow
def test_fit_dataframe_on_worker_processes_equals_one_index(process_cluster):
    texts, ids, meta = _corpus()
    ddf = dd.from_pandas(_frame(texts, ids, meta), npartitions=4)
    built = ShardedIndex(n_shards=4, chunk_size=5, progress=False).fit_dataframe(ddf, client=process_cluster)
    _check_equal(built, texts, ids, meta, 4)


@pytest.mark.slow
def test_fit_dataframe_from_parquet_of_real_news_on_worker_processes(process_cluster, tmp_path):
    from distributed import get_task_stream

    items = [it for it in read_xwlb(600, step=80) if it["text"].strip()]
    # reprints: a tenth of the items again later, with a line of their own added
    items += [{**it, "id": f"{it['id']}-reprint", "text": it["text"] + "(转载)"} for it in items[::10]]
    texts, ids = [it["text"] for it in items], [str(it["id"]) for it in items]
    meta = [{"date": it["date"], "title": it["title"]} for it in items]
    dd.from_pandas(_frame(texts, ids, meta), npartitions=4).to_parquet(tmp_path / "news", write_index=False)
    ddf = dd.read_parquet(tmp_path / "news")  # read by the workers: this process never holds the texts
    n = ddf.optimize().npartitions
    assert n >= 2
    with get_task_stream(process_cluster) as stream:
        built = ShardedIndex(n_shards=n, chunk_size=100, progress=False).fit_dataframe(ddf, client=process_cluster)
    assert sum("_count_frame" in str(t["key"]) for t in stream.data) == n
    queries = [t[:300] for t in texts[::41]] + [it["title"] for it in items[7::59]]
    cases = [dict(k=10, rank="cosine"), dict(k=10), dict(k=10, rank="cosine", exclude_duplicates=True),
             dict(k=10, rank="cosine", filter={"date": ("2016-01-01", "2019-12-31")})]
    assert len(built.duplicates()) >= 20
    _check_equal(built, texts, ids, meta, n, queries=queries, cases=cases, chunk_size=100)
