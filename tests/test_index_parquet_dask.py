"""``govtext index`` on Parquet inputs with ``--dask``: a Dask DataFrame whose partitions the
workers read and make into documents themselves (ShardedIndex.fit_dataframe), holding what the
streaming path builds from the same files (ids, texts, metadata, results, records not indexed).
dask, distributed and pyarrow are test extras: without them these tests skip, under CI they fail."""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import pytest

import govtext

SAMPLES = Path(__file__).parent.parent / "samples" / "news.jsonl"
QUERIES = ["社区党委牵头成立居民议事会,共商小区停车难题", "志愿者清理楼道杂物,创建文明楼道", "党建引领乡村振兴"]


def _need(*modules: str) -> None:
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            message = f"needs {name} (pip install govtext[test])"
            if os.environ.get("CI"):
                pytest.fail(message + "; under CI the test extra is installed")
            pytest.skip(message)


def _parquet_inputs(folder: Path) -> list[str]:
    """The sample news as two Parquet files (row groups of 40), with a record of white space only
    and one whose text is missing (neither can be indexed), and a date column typed as dates."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()]
    rows[7]["text"], rows[7]["title"] = "   ", ""
    rows[250]["text"] = None
    frame = pd.DataFrame(rows)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    paths = []
    for name, part in (("a.parquet", frame.iloc[:200]), ("b.parquet", frame.iloc[200:])):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / name, row_group_size=40)
        paths.append(str(folder / name))
    return paths


def test_partitions_read_on_workers_hold_the_streamed_documents(tmp_path):
    """The partitions (planned from the footers, read by pyarrow where they are computed) give,
    row for row, the documents and errors the streaming reader gives; in-process, no cluster."""
    _need("pyarrow", "dask.dataframe", "pandas")
    from govtext.runs.index_input import _read_part, index_document, plan_parts
    from govtext.text.io import Fields, iter_records

    paths = _parquet_inputs(tmp_path)
    streamed = []
    for rec in iter_records(paths):
        try:
            streamed.append(index_document(rec, clean=True) + (None,))
        except govtext.GovtextError as exc:
            streamed.append((None, rec.id, {}, str(exc)))
    bounds = [0, 35, 41, 200, 233, 360]  # inside row groups, on a file's border, across it
    parts = plan_parts(paths, bounds)
    assert [sum(p.stop - p.first for p in part) for part in parts] == [35, 6, 159, 33, 127]
    read = [row for part in parts for row in _read_part(part, Fields(), True).itertuples(index=False)]
    def plain(value):  # a missing value as None (pandas may hold it as NaN)
        return value if isinstance(value, str) else None

    assert [(plain(r.text), r.id, json.loads(r.metadata), plain(r.error)) for r in read] == \
        [(t, i, json.loads(json.dumps(m, ensure_ascii=False, default=str)), e) for t, i, m, e in streamed]
    assert sum(plain(r.error) is not None for r in read) == 2 and streamed[7][3] and "null" in streamed[250][3]
    assert isinstance(streamed[0][2]["date"], str) is False  # a date column: the JSON holds its ISO form


def test_fit_dataframe_takes_a_column_of_metadata_dicts():
    _need("dask.dataframe", "pandas")
    import dask
    import dask.dataframe as dd
    import pandas as pd

    texts = ["幸福里社区推行楼道微自治", "街道开展垃圾分类宣传", "红星社区推行楼道自治", "镇党委以党建引领乡村振兴"]
    meta = [{"place": "上海", "tags": ["a"]}, None, {"place": "北京", "n": 1}, {"place": "上海"}]
    frame = pd.DataFrame({"text": texts, "id": list("abcd"), "m": meta})
    with dask.config.set({"dataframe.convert-string": False}):  # else Dask turns the dicts into text
        sharded = govtext.ShardedIndex(n_shards=2, progress=False).fit_dataframe(
            dd.from_pandas(frame, npartitions=2), metadata_field="m")
    single = govtext.SimilarityIndex(progress=False).fit(texts, ids=list("abcd"), metadata=meta)
    assert [sharded.document(i) for i in "abcd"] == [single.document(i) for i in "abcd"]
    with pytest.raises(govtext.ParameterError, match="not both"):
        govtext.ShardedIndex(n_shards=2).fit_dataframe(dd.from_pandas(frame, npartitions=2), metadata_field="m",
                                                      metadata_fields=["id"])
    frame["m"] = [json.dumps(m, ensure_ascii=False) if m else None for m in meta]  # JSON objects as text
    again = govtext.ShardedIndex(n_shards=2, progress=False).fit_dataframe(
        dd.from_pandas(frame, npartitions=2), metadata_field="m")
    assert [again.document(i) for i in "abcd"] == [single.document(i) for i in "abcd"]
    frame["m"] = [str(m) for m in meta]  # what Dask makes of the dicts by default: not JSON
    with pytest.raises(govtext.InputError, match="must hold a dict .* not a JSON object .*convert-string"):
        govtext.ShardedIndex(n_shards=2).fit_dataframe(dd.from_pandas(frame, npartitions=2), metadata_field="m")


@pytest.mark.slow
def test_cli_index_parquet_on_a_local_cluster_equals_the_streamed_index(tmp_path, monkeypatch, capsys):
    _need("pyarrow", "dask.dataframe", "distributed")
    from govtext.apps.cli import main
    from govtext.search.sharded import ShardedIndex

    used = []
    real_fit_dataframe, real_fit_parts = ShardedIndex.fit_dataframe, ShardedIndex.fit_parts
    monkeypatch.setattr(ShardedIndex, "fit_dataframe", lambda self, *a, **k: used.append("frame") or real_fit_dataframe(self, *a, **k))
    monkeypatch.setattr(ShardedIndex, "fit_parts", lambda self, *a, **k: used.append("parts") or real_fit_parts(self, *a, **k))
    paths = _parquet_inputs(tmp_path)
    assert main(["index", *paths, "-o", str(tmp_path / "one"), "-q"]) == 1  # two records not indexed
    assert main(["index", *paths, "-o", str(tmp_path / "dask"), "-v", "--shards", "3", "--dask", "local",
                 "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert used == ["frame"]  # the DataFrame path, not the stream cut in this process
    assert "indexed 358 documents" in err and "2 record(s) not indexed" in err
    assert f"not indexed: {paths[0]}:8: the text is only white space" in err or "not indexed: n008" in err
    one, sharded = govtext.load(tmp_path / "one"), govtext.load(tmp_path / "dask")
    assert list(one.ids_) == list(sharded.ids_) and len(sharded.shards_) == 3
    assert [one.document(i) for i in one.ids_] == [sharded.document(i) for i in one.ids_]
    for flt in (None, {"theme": "civility"}, {"date": ("2021-01-01", None)}):
        a = one.query_many(QUERIES, k=10, rank="cosine", filter=flt)
        b = sharded.query_many(QUERIES, k=10, rank="cosine", filter=flt)
        assert [[m.id for m in r] for r in a] == [[m.id for m in r] for r in b]
        assert all(abs(x.score - y.score) < 1e-6 for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def test_dask_is_told_the_size_of_a_shard_only_once_dask_is_used():
    """Dask sized a shard by sys.getsizeof (56 bytes). A size is registered for shards (their
    postings, ids, metadata and texts), lazily: importing govtext, or fitting one index, changes
    nothing of Dask's; building shards where Dask is imported does."""
    _need("dask")
    import subprocess
    import sys

    script = (
        "import govtext, dask.sizeof\n"
        "from dask.sizeof import sizeof\n"
        "texts = [f'社区第{i}号楼道推行自治,党员认领楼道,居民议事会协商' * 5 for i in range(400)]\n"
        "one = govtext.SimilarityIndex(progress=False).fit(texts)\n"
        "print(sizeof(one))\n"
        "sharded = govtext.ShardedIndex(n_shards=2, progress=False).fit(texts)\n"
        "postings = sum(a.nbytes for s in sharded.shards_ for g in s.segments_ for a in (g.data, g.indices, g.indptr))\n"
        "print(sizeof(one), sum(sizeof(s) for s in sharded.shards_), postings)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    before, after, shards, postings = map(int, out)
    assert before < 1000  # not registered by import govtext or by one index
    assert after > postings / 2 and shards > postings  # postings, ids, texts counted once shards were built


@pytest.mark.slow
def test_a_cluster_scheduler_sees_the_size_of_each_shard():
    _need("distributed")
    from distributed import Client, LocalCluster

    texts = [f"社区第{i}号楼道推行自治,党员认领楼道,居民议事会协商" * 5 for i in range(2000)]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        sharded = govtext.ShardedIndex(n_shards=2, progress=False).fit(texts, client=client)
        sizes = client.nbytes(summary=False)
        assert all(sizes[f.key] > 500_000 for f in sharded._runner.shards)  # measured on the workers
