from __future__ import annotations

import json

import numpy as np
import pytest

import govtext
from govtext import Match, SimilarityIndex, clean_article

from .conftest import read_xwlb

def _is_mapped(arr: np.ndarray) -> bool:
    """True when the array's memory is a view on a memory-mapped file (no copy in RAM)."""
    import mmap

    base = arr
    while base is not None:
        if isinstance(base, mmap.mmap):
            return True
        base = getattr(base, "base", None)
    return False


SEED_NAMES = {"000": "wuxi", "001": "shanghai", "002": "jiaxing", "003": "xiangtan", "004": "suzhou"}

SMALL = {
    "a": "幸福里社区推行楼道微自治,党员带头认领楼道,居民议事会商量楼道杂物清理。",
    "b": "街道开展垃圾分类宣传活动,志愿者入户讲解分类知识。",
    "c": "某县召开经济工作会议,部署全年重点项目建设。",
    "d": "红星社区推行楼道自治,党员认领楼道责任区,楼道面貌焕然一新。",
}


@pytest.fixture(scope="module")
def small():
    meta = [{"date": "2023-01-05", "place": "上海"}, {"date": "2022-06-01", "place": "北京"},
            {"date": "2021-03-02", "place": "上海"}, {"date": "2024-09-09", "place": "武汉"}]
    return SimilarityIndex(progress=False).fit(list(SMALL.values()), ids=list(SMALL), metadata=meta)


def test_query_ranks_and_match_fields(small):
    res = small.query("在老旧小区推行楼道微自治,党员带头认领楼道", k=3)
    assert [m.id for m in res[:2]] == ["a", "d"]
    m = res[0]
    assert isinstance(m, Match) and m.rank == 1 and 0 < m.score <= 1
    assert res[0].score >= res[1].score
    assert "楼道" in m.shared_terms and "认领" in m.shared_terms
    assert m.passage and "楼道" in m.passage and m.passage in SMALL["a"]
    assert m.metadata["place"] == "上海"


def test_len_contains_repr(small):
    assert len(small) == 4 and "a" in small and "zz" not in small
    assert "4 documents" in repr(small)


def test_filters(small):
    q = "推行楼道自治,党员认领楼道"
    assert [m.id for m in small.query(q, k=5, filter={"place": "武汉"})] == ["d"]
    assert [m.id for m in small.query(q, k=5, filter={"date": ("2023-01-01", None)})] == ["d", "a"]
    # b and c share no term with the query: never returned, filter or not (no zero-score padding)
    assert [m.id for m in small.query(q, k=5, filter={"place": {"北京", "武汉"}})] == ["d"]
    assert small.query(q, k=5, filter=lambda meta: meta["date"] < "2022") == []


def test_date_filters_compare_dates_in_any_usual_form():
    texts = ["社区推行楼道自治,党员认领楼道。"] * 4
    dates = ["20250612", "2025/6/1", "2025年7月3日 08:30", "not a date"]
    idx = SimilarityIndex().fit(texts, ids=list("wxyz"), metadata=[{"date": d} for d in dates])
    stored = {m.id: m.metadata["date"] for m in idx.query("楼道自治", k=4)}
    assert stored == {"w": "2025-06-12", "x": "2025-06-01", "y": "2025-07-03", "z": "not a date"}
    got = {m.id for m in idx.query("楼道自治", k=4, filter={"date": ("2025年6月10日", "20250701")})}
    assert got == {"w"}
    assert {m.id for m in idx.query("楼道自治", k=4, filter={"date": ("2025-06-01", None)})} == {"w", "x", "y"}
    with pytest.raises(ValueError, match="cannot read the first date 'yesterday'"):
        idx.query("楼道自治", filter={"date": ("yesterday", None)})


def test_k_larger_than_index_returns_only_related_documents(small):
    res = small.query("楼道 街道", k=100, rank="cosine")
    assert {m.id for m in res[:2]} == {"a", "d"} and res[2].id == "b" and len(res) == 3  # c shares no term
    assert all(m.score > 0 and m.shared_terms for m in res)
    ranked = small.query("楼道 街道", k=100)  # the precedent order: the same three, re-ordered
    assert sorted(m.id for m in ranked) == ["a", "b", "d"] and all(m.why is not None for m in ranked)


def test_bad_queries(small):
    with pytest.raises(ValueError, match="empty query"):
        small.query("   ")
    with pytest.raises(TypeError):
        small.query(["楼道"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        small.query("楼道", k=0)
    assert small.query("the quick brown fox") == []  # no known terms


def test_ids_must_be_unique():
    with pytest.raises(ValueError, match="ids must be unique"):
        SimilarityIndex().fit(["社区", "街道"], ids=["x", "x"])
    idx = SimilarityIndex().fit(["社区议事", "街道宣传"], ids=["x", "y"])
    with pytest.raises(ValueError, match="already in the index"):
        idx.add(["楼道"], ids=["x"])
    with pytest.raises(TypeError, match="single str"):
        SimilarityIndex().fit("社区议事")  # type: ignore[arg-type]


def test_add_without_rebuild(small):
    idx = SimilarityIndex(progress=False).fit(list(SMALL.values()), ids=list(SMALL))
    vocab_before = dict(idx.vectorizer_.vocabulary_)
    idx.add(["青山社区推行楼道微自治,党员认领楼道,居民议事会定期议事。"], ids=["e"], metadata=[{"place": "青山"}])
    assert len(idx) == 5 and "e" in idx and idx.vectorizer_.vocabulary_ == vocab_before
    res = idx.query("楼道微自治 党员认领楼道 居民议事会", k=2)
    assert {m.id for m in res} <= {"a", "d", "e"} and "e" in {m.id for m in res}
    assert idx.query("楼道", k=5, filter={"place": "青山"})[0].id == "e"


def test_places_and_initiatives_are_metadata():
    idx = SimilarityIndex().fit(["岳塘区五里堆街道板塘社区推行“邻长制”,创新实践“三邻工作法”。"], ids=["x"])
    assert "岳塘区" in idx.metadata_[0]["places"]
    assert idx.metadata_[0]["initiatives"] == ["邻长制", "三邻工作法"]
    assert idx.query("邻长制", k=1, filter={"initiatives": "三邻工作法"})[0].id == "x"


def test_duplicates_and_one_per_story():
    story = "木渎镇长浜社区深化内外资源联动,打造幸福议事厅,五社联动解决楼道堆物问题,居民满意度明显提升。"
    texts = [f"来源:网站{i}\n{story}" for i in range(3)] + [SMALL["a"], SMALL["b"]]
    idx = SimilarityIndex().fit(texts, ids=["r1", "r2", "r3", "a", "b"])
    assert idx.duplicates(0.9) == [["r1", "r2", "r3"]]
    res = idx.query(story, k=3, exclude_duplicates=True)
    ids = [m.id for m in res]
    assert sum(i.startswith("r") for i in ids) == 1 and ids[0].startswith("r")
    assert all(m.score > 0 for m in res)  # one reprint, then only documents that share terms
    with pytest.raises(ValueError, match="threshold"):
        idx.duplicates(0)


def test_save_load_memory_mapped(tmp_path, small):
    small.save(tmp_path / "idx")
    names = sorted(p.name for p in (tmp_path / "idx").iterdir())
    assert {"govtext.json", "texts.jsonl", "postings_data.npy", "postings_indices.npy",
            "postings_indptr.npy", "df.npy", "vec_vocabulary.json", "vec_idf.npy", "texts_lines.npy",
            "ids_utf8.npy", "ids_ends.npy", "ids_hash.npy", "ids_hash_rows.npy",
            "meta.json", "meta_layout.npy", "meta_codes.npy", "meta_list_ends.npy", "meta_list_items.npy",
            "meta_value_ends.npy", "meta_values.npy"} == set(names)
    loaded = govtext.load(tmp_path / "idx")
    assert isinstance(loaded, SimilarityIndex)
    assert _is_mapped(loaded.segments_[0].data) and _is_mapped(loaded.segments_[0].indices)
    q = "推行楼道自治,党员认领楼道"
    assert [(m.id, round(m.score, 5), m.shared_terms) for m in loaded.query(q, k=4)] == \
        [(m.id, round(m.score, 5), m.shared_terms) for m in small.query(q, k=4)]
    assert loaded.query(q, k=1)[0].metadata == small.query(q, k=1)[0].metadata
    loaded.add(["青山社区推行楼道自治"], ids=["new"])  # a loaded index can grow
    assert "new" in loaded
    in_ram = SimilarityIndex.load(tmp_path / "idx", mmap=False)
    assert not _is_mapped(in_ram.segments_[0].data)
    assert _is_mapped(loaded.metadata_._columns.codes)  # metadata columns, memory-mapped
    assert in_ram.metadata_[0] == {"date": "2023-01-05", "place": "上海", "places": small.metadata_[0]["places"],
                                   "initiatives": small.metadata_[0]["initiatives"]}
    assert list(in_ram.metadata_[0]) == ["date", "place", "places", "initiatives"]  # the fields in their order


def test_wuxi_neighbours_among_thousands_of_news_items(seeds):
    """The Wuxi 文明楼道 article's nearest neighbours are the other 楼道/楼组 stories."""
    items = read_xwlb(3000, step=20)
    texts = [clean_article(s).text for s in seeds.values()] + [f"{it['title']}\n{it['text']}" for it in items]
    ids = [SEED_NAMES[k] for k in seeds] + [it["id"] for it in items]
    idx = SimilarityIndex(progress=False).fit(texts, ids=ids)
    ranked = [m.id for m in idx.query(texts[0], k=10, rank="cosine") if m.id != "wuxi"]
    print("\nWuxi neighbours:", ranked[:6])
    top3 = ranked[:3]
    assert "suzhou" in top3 and "shanghai" in top3
    last_loudao = max(ranked.index("suzhou"), ranked.index("shanghai"))
    before = ranked[:last_loudao]
    # only 楼道 stories (and 板塘, whose article also covers 楼栋/楼道 organising) come before them
    assert set(before) <= {"suzhou", "shanghai", "xiangtan"}


def test_unfitted():
    from sklearn.exceptions import NotFittedError as SklearnNotFitted

    for call in (lambda i: i.query("楼道"), lambda i: i.query_many(["楼道"]), lambda i: i.save("x"),
                 lambda i: i.duplicates(), lambda i: i.add(["楼道"], ids=["a"])):
        with pytest.raises(govtext.NotFittedError, match="not fitted yet"):
            call(SimilarityIndex())
        with pytest.raises(SklearnNotFitted):
            call(SimilarityIndex())
