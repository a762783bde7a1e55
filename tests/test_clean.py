from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govtext import Article, clean_article, compose, normalize
from govtext.text.clean import (
    normalize_whitespace,
    remove_invisible,
    remove_pinyin_glosses,
    to_halfwidth,
    to_simplified,
)

# --------------------------------------------------------------------------- normalize


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("消費(fèi)", "消費"),
        ("創(chuàng)業(yè)", "創業"),
        ("學(xué)院", "學院"),
        ("的(de)", "的"),  # neutral tone, no tone mark
        ("市政府召开党组(扩大)会议", "市政府召开党组(扩大)会议"),  # not pinyin
        ("甲型(H1N1)流感", "甲型(H1N1)流感"),
        ("下载(app)", "下载(app)"),  # Latin, but not a pinyin syllable
        ("(fèi) at the start", "(fèi) at the start"),  # no Han character before it
    ],
)
def test_remove_pinyin_glosses(raw, expected):
    assert remove_pinyin_glosses(raw) == expected


def test_to_halfwidth_maps_ascii_only():
    assert to_halfwidth("ＡＢＣ１２３，（党建）：") == "ABC123,(党建):"
    assert to_halfwidth("。、“”《》") == "。、“”《》"


def test_remove_invisible():
    assert remove_invisible("党\u200b建\ufeff引\u00ad领\r\n共\u3000建") == "党建引领\n共 建"


def test_to_simplified_traditional_and_variants():
    assert to_simplified("萬融社區黨建引領") == "万融社区党建引领"
    # variants and the aspect marker 著 in traditional text
    assert to_simplified("對於雙職工家庭來説,帶著孩子在這裡") == "对于双职工家庭来说,带着孩子在这里"


def test_to_simplified_leaves_simplified_text_alone():
    text = "社区党总支着力推进共建共治共享,显著提升群众获得感;著名作家"
    assert to_simplified(text) == text


def test_normalize_whitespace():
    assert normalize_whitespace("  a\t\tb  \n\n\n\n  c  ") == "a b\n\nc"


def test_normalize_composes_all_steps():
    raw = "　消費(fèi)升級\u200b，ＡＰＰ下載　\r\n\r\n\r\n學(xué)院"
    assert normalize(raw) == "消费升级,APP下载\n\n学院"


def test_normalize_rejects_non_str():
    with pytest.raises(TypeError, match="expects a str"):
        normalize(None)  # type: ignore[arg-type]


def test_compose_builds_a_pipeline():
    strip_glosses_only = compose(remove_invisible, remove_pinyin_glosses)
    assert strip_glosses_only("消費(fèi)\u200b") == "消費"


_pieces = st.sampled_from(
    list("消費學院創業發佈時間萬融社區黨建引領顯著著名帶著説裡乾隆干部的一是fèixuéde()ＡＢ１，（）　 \t\n\r\u200b\ufeff")
    + ["(fèi)", "(de)", "(chuàng)", "(yè)", "(扩大)"]
)
_tricky = st.lists(_pieces, max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_tricky)
def test_normalize_is_idempotent_on_tricky_text(text):
    once = normalize(text)
    assert normalize(once) == once


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_normalize_is_idempotent_on_any_text(text):
    once = normalize(text)
    assert normalize(once) == once


# --------------------------------------------------------------------------- clean_article on the seeds

# Expectations written by reading each seed page: title, date, source, author, number of article
# paragraphs (subheadings and photo captions inside the article count), the start of the first and
# last paragraph, and strings from the surrounding junk that must not reach the body.
SEED_EXPECTATIONS = {
    "000": dict(
        title="无锡瞻江:六大主题文明楼道揭幕,以“小切口”推动“大治理”",
        date="2023-02-19", source="交汇点新闻客户端", author="房雅雯", paragraphs=10,
        first="交汇点讯 2月19日", last="春风化雨,润物无声。",
        junk=["投资 干货", "风投 科技", "环球焦点", "发布日期", "资料图", "记者 房雅雯", "编辑: 管理员", "24小时热点", "资讯新闻"],
    ),
    "001": dict(
        title="治行万里(二)丨推开门看风景美丽楼组在中浩云花园遍地开花",
        date="2023-01-12", source=None, author=None, paragraphs=21,
        first="围绕如何“着力解决好人民群众急难愁盼问题”", last="居民有了“面子”",
        junk=["客服热线", "admin", "本文章内容来源于网络", "重新编辑", "劳务派遣", "关于我们", "宜昌市", "卫生院"],
    ),
    "002": dict(
        title="嘉兴经开:现代社区探索共同富裕新模式",
        date="2022-09-26", source="中国网", author="朱宁宁", paragraphs=20,
        first="今年召开的浙江省第十五次党代会", last="共同富裕,正在振兴社区生根发芽",
        junk=["推荐", "最新原创", "您的位置", "图片1.jpg", "发布时间", "责编", "新闻投稿", "新闻热线"],
    ),
    "003": dict(
        title="板塘社区:“三邻”聚力 探索共建社区共同体",
        date="2023-06-14", source="岳塘新闻网", author="陈东", paragraphs=11,
        first="岳塘新闻网6月14日讯", last="《论语·里仁》中",
        junk=["夜夜", "香蕉视频", "责编", "版权作品", "岳塘要闻", "视频精选", "我要报料", "下载APP"],
    ),
    "004": dict(
        title="吴中木渎镇:小楼道助推大治理 “小切口”撬动“大幸福”",
        date=None, source=None, author=None, paragraphs=7,
        first="苏州市吴中区木渎镇长浜社区下辖的巨塔花园小区", last="在大家共同努力下",
        junk=["Kaiyun", "入口网址", "同类文章排行", "宿舍", "摩天轮", "最新资讯文章", "家具"],
    ),
}


@pytest.mark.parametrize("seed_id", sorted(SEED_EXPECTATIONS))
def test_clean_article_on_real_seed(seeds, seed_id):
    exp = SEED_EXPECTATIONS[seed_id]
    art = clean_article(seeds[seed_id])
    assert art.title == exp["title"]
    assert art.date == exp["date"]
    assert art.source == exp["source"]
    assert art.author == exp["author"]
    paras = art.paragraphs
    assert len(paras) == exp["paragraphs"], paras
    assert paras[0].startswith(exp["first"])
    assert paras[-1].startswith(exp["last"])
    for junk in exp["junk"]:
        assert junk not in art.body, junk
    assert art.title not in art.body
    # every dropped line is accounted for, with a reason
    assert all(r.reason and r.text for r in art.removed)


def test_seed_body_is_normalised(seeds):
    body = clean_article(seeds["000"]).body
    assert "(fèi)" not in body and "社區" not in body and "社区" in body


def test_spam_glued_to_a_paragraph_is_cut_off(seeds):
    art = clean_article(seeds["004"])
    assert art.paragraphs[0].startswith("苏州市")
    assert any(r.reason == "spam" and r.text == "Kaiyun入口网址" for r in art.removed)


def test_repeated_summary_is_dropped_as_duplicate(seeds):
    art = clean_article(seeds["004"])
    assert [r.reason for r in art.removed].count("duplicate") == 1


def test_removed_reasons_on_seed_001(seeds):
    reasons = {r.reason for r in clean_article(seeds["001"]).removed}
    assert {"footer", "metadata", "link list"} <= reasons


@pytest.mark.parametrize("name", ["01_louzu_yishi.txt", "02_wenming_shijian.txt", "03_dangjian_yinling.txt"])
def test_clean_article_on_shipped_examples(examples, name):
    art = clean_article(examples[name])
    assert art.title and art.date and len(art.paragraphs) == 3
    for junk in ["首页", "版权", "相关新闻", "夜夜", "Kaiyun", "本站", "图片", "责任编辑"]:
        assert junk not in art.body


def test_article_is_frozen_and_has_text():
    art = clean_article("某社区召开居民议事会\n发布时间:2023-05-01\n5月1日,某社区召开居民议事会,居民代表就加装电梯等事项进行协商讨论,形成了方案。")
    assert art.text.startswith("某社区召开居民议事会\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        art.title = "x"  # type: ignore[misc]


def test_clean_article_none_is_type_error():
    with pytest.raises(TypeError, match="expects the raw page as a str, got NoneType"):
        clean_article(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["", "   \n\n  ", "?", "首页 新闻 政务"])
def test_clean_article_on_empty_or_junk_only(raw):
    art = clean_article(raw)
    assert isinstance(art, Article) and art.body == ""


def test_body_without_metadata_or_title():
    text = "居民们在社区议事厅围坐一堂,围绕小区停车难问题展开协商,最终形成了错时停车的方案,得到大家认可。"
    art = clean_article(text)
    assert art.body == text and art.title is None and art.date is None
