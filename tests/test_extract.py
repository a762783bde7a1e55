from __future__ import annotations

import pytest

from govtext import clean_article, initiatives, places


def test_places_in_a_nested_address():
    assert places("无锡市梁溪区瞻江街道万融社区举行文明楼道揭幕仪式") == ["无锡市", "梁溪区", "瞻江街道", "万融社区"]


def test_places_skip_generic_words():
    text = "全市各区县都在推进社区治理,城乡社区和农村小区面貌一新,发动社区力量,美好社区建设进社区"
    assert places(text) == []


def test_a_zone_named_by_a_common_noun_is_not_a_place():
    # 区 after a common noun is a zone (体验区, 先行区); after a place it is a district (常州金坛区)
    assert places("图书馆开设数字阅读体验区和自助借阅区,打造医疗旅游先行区") == []
    assert places("区水务局会同区发改委开展检查") == []
    assert places("江苏常州金坛区召开会议") == ["金坛区"]
    assert places("无锡市梁溪区瞻江街道万融社区") == ["无锡市", "梁溪区", "瞻江街道", "万融社区"]


def test_places_on_real_seeds(seeds):
    assert places(clean_article(seeds["004"]).text)[:3] == ["木渎镇", "苏州市", "吴中区"]
    assert "板塘社区" in places(clean_article(seeds["003"]).text)


def test_places_traditional_input():
    assert places("蘇州市吳中區木瀆鎮") == ["苏州市", "吴中区", "木渎镇"]


def test_initiatives():
    text = "推行“邻长制”,创新实践“三邻工作法”,营造“一楼一品”,打造“幸福议事厅”,以“小切口”推动“大治理”,“党建+楼道”"
    assert initiatives(text) == ["邻长制", "三邻工作法", "一楼一品", "幸福议事厅", "党建+楼道"]


def test_initiatives_on_real_seed(seeds):
    found = initiatives(clean_article(seeds["003"]).text)
    assert "三邻工作法" in found and "邻长制" in found


@pytest.mark.parametrize("fn", [places, initiatives])
def test_bad_input(fn):
    assert fn("") == []
    with pytest.raises(TypeError):
        fn(None)  # type: ignore[arg-type]
