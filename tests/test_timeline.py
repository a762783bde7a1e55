"""An initiative's timeline on a small fixture: places, first and latest dates, counts."""

from __future__ import annotations

import pytest

import govtext
from govtext import ParameterError, SimilarityIndex, Timeline

DOCS = [
    ("a", "2019-03-01", ["浙江省", "杭州市", "上城区"], "杭州市上城区推行楼道微自治，居民推选楼道长。"),
    ("b", "2020-06-10", ["江苏省", "南京市", "仙林街道"], "南京仙林街道学习楼道微自治做法，制定楼道公约。"),
    ("c", "2021-01-05", ["浙江省", "杭州市", "上城区"], "上城区楼道微自治三年：楼道长队伍扩大。"),
    ("d", "2022-02-02", ["江苏省"], "江苏开展楼道整治，清理堆物。"),  # 楼道 without the practice
    ("e", "", [], "有社区推行“楼道微自治”。"),  # no date, no place
    ("f", "2018-01-01", ["河北省"], "河北推行楼道微 自治"),  # split by a space: not the name whole
]


@pytest.fixture(scope="module")
def index():
    return SimilarityIndex(progress=False).fit(
        [t for *_, t in DOCS], ids=[d for d, *_ in DOCS],
        metadata=[{"date": day, "places": places} for _, day, places, _ in DOCS])


def test_places_with_first_and_latest_dates_and_counts(index):
    tl = index.timeline("楼道微自治")
    assert isinstance(tl, Timeline) and tl.documents == 4 and tl.undated == 1 and tl.first == "2019-03-01"
    rows = {p.place: p for p in tl.places}
    assert (rows["上城区"].first, rows["上城区"].latest, rows["上城区"].count) == ("2019-03-01", "2021-01-05", 2)
    assert rows["上城区"].ids == ("a", "c") and rows["上城区"].level == 2
    assert (rows["仙林街道"].first, rows["仙林街道"].count, rows["仙林街道"].level) == ("2020-06-10", 1, 3)
    assert "江苏省" in rows and "河北省" not in rows and "d" not in {i for p in tl.places for i in p.ids}
    assert tl.places[-1].place == "(no place named)" and tl.places[-1].first is None  # undated last
    assert [p.first for p in tl.places[:3]] == sorted(p.first for p in tl.places[:3])
    assert "楼道微自治: 4 documents" in str(tl)


def test_local_only_and_unknown_practice(index):
    local = index.timeline("楼道微自治", local_only=True)
    assert {p.place for p in local.places} == {"上城区", "仙林街道", "(no county-level or lower place named)"}
    none = index.timeline("接诉即办")
    assert none.documents == 0 and none.places == () and none.first is None
    with pytest.raises(ParameterError, match="name of a practice"):
        index.timeline("  ")


def test_timeline_needs_stored_texts():
    idx = SimilarityIndex(progress=False, store_text=False).fit(["楼道微自治"], ids=["x"])
    with pytest.raises(ParameterError, match="store_text"):
        idx.timeline("楼道微自治")
