"""Dask: the CLI on a LocalCluster and the bag/dataframe helpers give the single-process results."""

from __future__ import annotations

import json

import numpy as np

import pytest

from govtext.apps.cli import main

from .conftest import read_xwlb

pytest.importorskip("distributed")
pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def items():
    return [{"id": it["id"], "title": it["title"], "text": it["text"]} for it in read_xwlb(300, step=40)]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        assert len(c.scheduler_info()["workers"]) == 2
        yield c


def test_cli_on_a_local_cluster_matches_one_process(tmp_path, items):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps(it, ensure_ascii=False) for it in items]
    lines.insert(7, "{oops")
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    single, cluster = tmp_path / "single.jsonl", tmp_path / "cluster.jsonl"
    status = main(["classify", str(src), "-o", str(single), "-q", "--chunk-size", "40"])
    assert main(["classify", str(src), "-o", str(cluster), "-q", "--chunk-size", "40", "--dask", "local",
                 "--jobs", "2"]) == status
    assert single.read_bytes() == cluster.read_bytes()
    assert len(single.read_text(encoding="utf-8").splitlines()) == 301


def test_classify_bag_and_dataframe_match_classify_frame(client, items):
    import dask.bag as db
    import dask.dataframe as dd

    import govtext
    from govtext.dask import classify_bag, classify_dataframe

    df = pd.DataFrame(items)
    expected = govtext.classify_frame(df, progress=False)

    bag = db.from_sequence(items + [{"id": "bad", "body": "no text"}, "纯文本也可以"], npartitions=4)
    rows = classify_bag(bag).compute()
    assert [r.get("id") for r in rows] == [it["id"] for it in items] + ["bad", None]
    assert "no 'text' field" in rows[-2]["error"] and "p_civility" in rows[-1]
    for i in (0, 150, 299):
        assert rows[i]["labels"] == expected["labels"][i]
        assert rows[i]["p_civility"] == round(expected["p_civility"][i], 4)

    ddf = dd.from_pandas(df, npartitions=3)
    got = classify_dataframe(ddf).compute()
    assert list(got.columns) == list(expected.columns)
    assert got["labels"].tolist() == expected["labels"].tolist()
    cols = ["p_party_building", "p_civility", "p_co_governance"]
    assert np.allclose(got[cols].to_numpy(), expected[cols].to_numpy(), rtol=0, atol=1e-12, equal_nan=True)


def test_the_bundled_model_is_loaded_by_the_workers_not_shipped_in_the_graph():
    # With the default model the graph holds a few bytes per task instead of the ~29 MB model (which
    # made distributed warn "Sending large graph" on every call); a model given explicitly is shipped.
    import pickle

    import dask
    import dask.bag as db
    import dask.dataframe as dd

    import govtext
    from govtext.dask import classify_bag, classify_dataframe

    items = [{"id": str(i), "text": "社区党支部组织志愿者开展文明创建活动。"} for i in range(6)]

    def graph_bytes(collection) -> int:
        return len(pickle.dumps(dict(collection.__dask_graph__())))

    bag = db.from_sequence(items, npartitions=3)
    assert graph_bytes(classify_bag(bag)) < 200_000
    assert graph_bytes(classify_dataframe(dd.from_pandas(pd.DataFrame(items), npartitions=2))) < 200_000
    assert graph_bytes(classify_bag(bag, govtext.load())) > 5_000_000
    with dask.config.set(scheduler="sync"):
        rows = classify_bag(bag).compute()
    expected = govtext.classify_frame(pd.DataFrame(items), progress=False)
    assert [r["p_civility"] for r in rows] == [round(p, 4) for p in expected["p_civility"]]
