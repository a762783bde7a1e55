"""Metadata stored as columns, filters evaluated on whole columns: the same documents pass every
filter as when each record was read and tested on its own (``matches_filter``, the rule before
columns), so results (ids, scores, order) are unchanged; and an index saved before columns (a
folder of ``records.jsonl``, tests/data/index_before_columns, written by govtext at 4fa60f9) still
loads and filters as it did then (its results, recorded then, in index_before_columns.expected.json)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import govtext
from govtext import ShardedIndex, SimilarityIndex
from govtext.search._columns import MetadataTable, encode
from govtext.search._metadata import checked_filter, matches_filter

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parent.parent / "samples" / "news.jsonl"

# The filters the expected results of the old folder were recorded with (same names).
OLD_FILTERS = {"none": None, "source": {"source": "区融媒体"}, "tags": {"tags": "楼道"}, "tagset": {"tags": {"文明", "乡村"}},
               "date": {"date": ("2024-01-01", "2024-12-31")}, "date_open": {"date": ("2024-04-01", None)},
               "year_range": {"year": (2023, 2024)}, "none_source": {"source": None}, "two": {"source": "市报", "year": 2024},
               "places": {"places": "红星社区"}, "missing": {"nothing": 1}, "set_src": {"source": {"市报", None}}}


def _check_old_results(index, expected):
    for name, flt in OLD_FILTERS.items():
        got = [[(m.id, m.score) for m in r] for r in index.query_many(expected["queries"], k=5, filter=flt, rank="cosine")]
        assert got == [[tuple(p) for p in r] for r in expected["results"][name]], name
        got = [[m.id for m in r] for r in index.query_many(expected["queries"], k=3, filter=flt)]
        assert got == expected["results"][name + "/precedent"], name
    assert {i: index.document(i)[1] for i in index.ids_} == expected["documents"]


def test_a_folder_saved_before_columns_loads_and_filters_as_then(tmp_path):
    expected = json.loads((DATA / "index_before_columns.expected.json").read_text(encoding="utf-8"))
    old = govtext.load(DATA / "index_before_columns")
    assert isinstance(old.metadata_, MetadataTable) and old.metadata_.row_wise  # records.jsonl, read row by row
    _check_old_results(old, expected)
    # saved again, it is written as columns and gives the same results, field order kept
    shutil.copytree(DATA / "index_before_columns", tmp_path / "idx")
    govtext.load(tmp_path / "idx").save(tmp_path / "idx")
    assert not (tmp_path / "idx" / "records.jsonl").exists() and (tmp_path / "idx" / "meta.json").exists()
    new = govtext.load(tmp_path / "idx")
    assert not new.metadata_.row_wise and new.metadata_.mask({"source": "市报"}) is not None
    _check_old_results(new, expected)
    assert [list(new.document(i)[1]) for i in new.ids_] == [list(m) for m in expected["documents"].values()]


# -- the column masks against the rule row by row ---------------------------------------------------

ODD = [{"date": "2025-01-02", "src": "a", "tags": ["x", "y"], "n": 1},
       {"date": "2025年3月1日", "src": "b", "n": 1.0, "tags": "x"},
       {"src": "a", "tags": [], "n": True, "t": (1, 2), "d": {"k": [1]}},
       {"n": None, "tags": ["y", ["x"]], 5: "five", "src": None, "v": 3},
       {},
       {"tags": ["x", "x"], "n": 0, "date": "不是日期", "src": "c", "v": "3"},
       {"n": 2.5, "src": "a", "date": None}]
ODD_FILTERS = [{}, {"src": "a"}, {"src": None}, {"tags": "x"}, {"tags": ["y", "z"]}, {"tags": ["x"]}, {"tags": [["x"]]}, {"v": 3}, {"v": {3}},
               {"date": ("2025-01-01", "2025-02-01")}, {"date": (None, "2025-12-31")}, {"date": ("2025/1/1", None)},
               {"n": 1}, {"n": (1, 2)}, {"n": None}, {"n": {0, 2.5}}, {"missing": None}, {"missing": 1},
               {"t": (1, 2)}, {"t": [1, 2]}, {"t": [(1, 2)]}, {"d": {"k": [1]}}, {"5": "five"}, {5: "five"},
               {"src": {"a", "b"}, "n": 1}, {"tags": "x", "src": "a"}]


def _row_wise(metadata, flt):
    flt = checked_filter(flt)
    out = []
    for i in range(len(metadata)):
        try:
            out.append(matches_filter(metadata[i], flt))
        except TypeError:
            out.append(None)  # the rule itself cannot compare these values
    return out


@pytest.mark.parametrize("saved", [False, True])
def test_column_masks_are_the_row_by_row_rule_for_odd_values(tmp_path, saved):
    """Lists (also of lists), tuples, dicts, None, absent fields, numbers equal across types, dates
    in other forms, a field name that is no str: the mask of every filter is, row for row, what
    the rule decides on that row's record (in memory, and after saving, on the records as read back)."""
    texts = [f"社区第{i}号楼道推行自治" for i in range(len(ODD))]
    index = SimilarityIndex(extract_metadata=False, progress=False).fit(texts, metadata=ODD)
    if saved:
        index.save(tmp_path / "idx")
        index = govtext.load(tmp_path / "idx")
    compared = 0
    for flt in ODD_FILTERS:
        want = _row_wise(index.metadata_, flt)
        if None in want:
            continue  # the rule cannot compare some row's value with the filter: below
        got = index.metadata_.mask(checked_filter(flt))
        assert got.tolist() == want, flt
        compared += 1
    assert compared == len(ODD_FILTERS) - 1  # all but {"t": (0, 3)}
    # Values a filter cannot be compared with (a tuple with a number, a list looked up in a set): the
    # rule raised a TypeError on the first such row it reached (none when the row passed on an earlier
    # item); the mask says which filter and value, as a ParameterError (a TypeError too).
    for flt in ({"t": (0, 3)}, {"tags": {"y", "z"}}, {"v": (1, 5)}):
        with pytest.raises(govtext.ParameterError, match="cannot be compared with the stored value"):
            index.metadata_.mask(checked_filter(flt))


def test_saved_columns_give_back_each_record_as_json_reads_it(tmp_path):
    texts = [f"社区第{i}号楼道推行自治" for i in range(len(ODD))]
    index = SimilarityIndex(extract_metadata=False, progress=False).fit(texts, metadata=ODD)
    index.save(tmp_path / "idx")
    loaded = govtext.load(tmp_path / "idx")
    as_json = [json.loads(json.dumps({str(k): v for k, v in m.items()}, ensure_ascii=False)) for m in index.metadata_]
    assert list(loaded.metadata_) == as_json
    assert [list(m) for m in loaded.metadata_] == [list(m) for m in as_json]  # field order too
    loaded.add(["新的楼道自治"], ids=["new"], metadata=[{"src": "a", "extra": [3]}])  # added after loading
    assert loaded.metadata_.mask({"src": "a"}).tolist() == [m.get("src") == "a" for m in loaded.metadata_]
    loaded.save(tmp_path / "idx")  # stored columns and added records written as one table, over the mapped files
    again = govtext.load(tmp_path / "idx")
    assert list(again.metadata_) == as_json + [{"src": "a", "extra": [3]}]
    assert again.metadata_.mask({"extra": 3}).tolist() == [False] * len(ODD) + [True]


def test_encode_and_write_many_parts_agree():
    rows = [{"a": i % 3, "b": [i, i + 1][: i % 3]} for i in range(50)]
    cols = encode(rows, len(rows))
    assert [cols.row(i) for i in range(50)] == rows
    assert cols.mask({"b": 3}).tolist() == [3 in r["b"] for r in rows]
    with pytest.raises(ValueError, match="expected 51"):
        encode(rows, 51)


# -- real text: results with filters unchanged, one index and shards ---------------------------------

def _news():
    rows = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()]
    texts = [f"{r['title']}\n{r['text']}" for r in rows]
    meta = [{k: v for k, v in r.items() if k not in ("id", "text")} for r in rows]
    return texts, [r["id"] for r in rows], meta


NEWS_FILTERS = [None, {"theme": "civility"}, {"date": ("2021-01-01", "2022-06-30")}, {"source": {"朝阳区委组织部", "浦东新区民政局"}},
                {"places": "浦东新区"}, {"places": {"上海市", "杭州市"}, "date": ("2020-01-01", None)}, {"theme": "none_such"},
                {"initiatives": "网格化管理"}, lambda m: m["date"] < "2021"]
NEWS_QUERIES = ["社区党委牵头成立居民议事会,共商小区停车难题", "志愿者清理楼道杂物,创建文明楼道", "党建引领乡村振兴",
                "垃圾分类 宣传 入户", "老旧小区加装电梯 协商"]


def _results(index, flt, **kw):
    return [[(m.id, m.score, m.rank, m.metadata, m.passage) for m in r]
            for r in index.query_many(NEWS_QUERIES, filter=flt, **kw)]


class _RowWise(list):
    """The metadata as a plain list: the filter runs record by record, the rule before columns."""


@pytest.fixture(scope="module")
def news_index():
    texts, ids, meta = _news()
    return SimilarityIndex(progress=False).fit(texts, ids=ids, metadata=meta), (texts, ids, meta)


@pytest.mark.parametrize("kw", [dict(k=10, rank="cosine"), dict(k=5), dict(k=5, rank="cosine", exclude_duplicates=True)])
def test_filtered_results_on_real_news_are_unchanged(news_index, tmp_path, kw):
    index, (texts, ids, meta) = news_index
    assert any(index.metadata_.mask(f).sum() for f in NEWS_FILTERS[1:-1] if not callable(f))
    row_wise = SimilarityIndex(progress=False).fit(texts, ids=ids, metadata=meta)
    row_wise.metadata_ = _RowWise(row_wise.metadata_)
    index.save(tmp_path / "idx")
    loaded = govtext.load(tmp_path / "idx")
    sharded = ShardedIndex(n_shards=3, chunk_size=50, progress=False).fit(texts, ids=ids, metadata=meta)
    sharded.save(tmp_path / "sharded")
    sharded_loaded = govtext.load(tmp_path / "sharded")
    passing = 0
    for flt in NEWS_FILTERS:
        want = _results(row_wise, flt, **kw)
        passing += sum(len(r) for r in want)
        for other in (index, loaded, sharded, sharded_loaded):
            assert _results(other, flt, **kw) == want, (type(other).__name__, flt)
        if flt is not None and not callable(flt):  # one query at a time too
            assert [(m.id, m.score) for m in loaded.query(NEWS_QUERIES[0], filter=flt, **kw)] == \
                [(a, b) for a, b, *_ in want[0]]
    assert passing > 50  # the filters pass documents, not only nothing


def test_a_filter_mask_is_computed_once_per_filter(news_index):
    index, _ = news_index
    table = index.metadata_
    first = table.mask({"theme": "civility"})
    assert table.mask({"theme": "civility"}) is first  # query_many's queries share it
    assert table.mask({"theme": "party_building"}) is not first
    assert np.array_equal(table.mask({"theme": "civility"}), first)


def test_an_old_folder_is_upgraded_in_place_without_rewriting_postings(tmp_path):
    from govtext.search._store import upgrade_index

    expected = json.loads((DATA / "index_before_columns.expected.json").read_text(encoding="utf-8"))
    folder = tmp_path / "idx"
    shutil.copytree(DATA / "index_before_columns", folder)
    postings = (folder / "postings_data.npy").stat().st_mtime_ns, (folder / "texts.jsonl").stat().st_mtime_ns
    assert upgrade_index(folder) is True
    assert not any((folder / n).exists() for n in ("records.jsonl", "records_lines.npy", "ids.json"))
    assert ((folder / "postings_data.npy").stat().st_mtime_ns, (folder / "texts.jsonl").stat().st_mtime_ns) == postings
    upgraded = govtext.load(folder)
    assert not upgraded.metadata_.row_wise and type(upgraded.ids_).__name__ == "StoredIds"
    _check_old_results(upgraded, expected)
    assert upgrade_index(folder) is False  # nothing left to do


@pytest.mark.parametrize("n", [50, 40_000])
def test_top_rows_drops_a_masks_rejected_rows_at_once_with_the_same_result(n):
    """With the filter's mask on the accept function, top_rows ranks only the rows it passes (and
    walks only the rest of the checks): the same rows, in the same order, as testing row by row."""
    from govtext.search._topk import top_rows

    rng = np.random.default_rng(5)
    scores = np.round(rng.random(n).astype(np.float32), 2) * (rng.random(n) < 0.6)  # ties and zeros
    mask = rng.random(n) < 0.03
    groups = np.where(rng.random(n) < 0.3, rng.integers(0, 20, n), -1)

    def accepting(with_mask: bool, dedupe: bool):
        seen: set[int] = set()

        def accept(row):
            if not mask[row]:
                return False
            if dedupe and groups[row] >= 0:
                if groups[row] in seen:
                    return False
                seen.add(int(groups[row]))
            return True
        if with_mask:
            accept.mask, accept.mask_only = mask, not dedupe
        return accept

    for k in (1, 10, 100):
        for dedupe in (False, True):
            want = top_rows(scores, k, accepting(False, dedupe))
            assert top_rows(scores, k, accepting(True, dedupe)) == want and len(want) > 0
