"""clean_article's fast path (line tests skipped where a page-wide search shows they cannot match,
lines kept without per-line tests when a page has no spam prefix word and no mojibake character)
gives exactly what the plain path gives: every test on every line, as the code before it did.

The reference below keeps the line classifier, the list-run marking and the sentence split as they
were written before the fast path, and runs the cleaning with them on every line; the fast path
must give the same Article (title, date, source, author, body, removed lines and reasons) on crafted
dirty pages, the real seed pages, local news pages with their site boilerplate, headlines and
thousands of CCTV items."""

from __future__ import annotations

import json
import random

import pytest

from govtext._common import FULL_STOP, split_sentences
from govtext.text import clean as C

from .conftest import SHARED, _need, read_xwlb


# --- the code before the fast path, kept as the reference -----------------------------------------

def _classify_before(line: str) -> str:
    han = C._han_count(line)
    if han == 0:
        return "no text"
    low = line.lower()
    if C._is_spam(low):
        return "spam"
    if len(line) <= 200 and C._FOOTER_RE.search(low) and (len(line) <= 60 or not C._SENTENCE_END_PUNCT_RE.search(line)):
        return "footer"
    if len(line) <= 60 and C._IMAGE_RE.match(line):
        return "image caption"
    if len(line) <= 160 and not C._SENTENCE_PUNCT_RE.search(line):
        if C._META_LABEL_RE.search(line) or C._META_POSTED_RE.search(line) or C._BYLINE_RE.search(line):
            return "metadata"
    if len(line) <= 120 and C._BREADCRUMB_RE.search(line):
        return "navigation"
    if not C._CLAUSE_PUNCT_RE.search(line):
        chunks, mean = C._chunks(line)
        if chunks >= 3 and mean <= 4:
            return "navigation"
        if chunks >= 3 and mean <= 8 or chunks >= 5 and mean <= 10:
            return "link list"
    if C._LIST_ITEM_RE.match(line) and len(line) <= 80 and not C._CLAUSE_PUNCT_RE.search(line):
        return "link list"
    if han >= 15 and (C._SENTENCE_PUNCT_RE.search(line) or (han >= 30 and C._CLAUSE_PUNCT_RE.search(line))
                      or han >= 60):
        return "paragraph"
    return "short"


def _mark_list_runs_before(texts: list[str], labels: list[str]) -> None:
    i = 0
    n = len(texts)
    while i < n:
        j = i
        while j < n and (not texts[j] or (len(texts[j]) <= 80 and C._LIST_ITEM_RE.match(texts[j]))):
            j += 1
        items = [k for k in range(i, j) if texts[k]]
        if len(items) >= 3:
            for k in items:
                if labels[k] in ("paragraph", "short", "navigation"):
                    labels[k] = "link list"
        i = max(j, i + 1)


def _to_halfwidth_before(text: str) -> str:
    for ch in C._COMMON_FULLWIDTH:
        text = text.replace(ch, chr(ord(ch) - 0xFEE0))
    if C._FULLWIDTH_RE.search(text):
        text = text.translate(C._HALFWIDTH_TABLE)
    return text


def _mojibake_runs_before(line: str) -> list[tuple[int, int]]:
    if not C._mojibake_char_re().search(line):
        return []
    marks = C._mojibake_chars()
    mask = "".join("s" if c in marks else "o" for c in line)
    return [m.span() for m in C._MOJIBAKE_RUN_RE.finditer(mask)
            if m.end() - m.start() >= 6 and m.group().count("s") * 2 >= m.end() - m.start()]


def _fields(article: C.Article) -> tuple:
    return (article.title, article.date, article.source, article.author, article.body,
            tuple((r.text, r.reason) for r in article.removed))


@pytest.fixture()
def reference(monkeypatch):
    """clean_article as before: every line test on every line, with the code before the fast path."""

    def clean_before(raw: str) -> tuple:
        with monkeypatch.context() as m:
            m.setattr(C, "_classify", lambda line, han=None, gates=None: _classify_before(line))
            m.setattr(C, "_mark_list_runs", _mark_list_runs_before)
            m.setattr(C, "_mojibake_runs", _mojibake_runs_before)
            m.setattr(C, "_sentences_ended",
                      lambda line: split_sentences(line, ends=FULL_STOP, ended=True, strip=False))
            return _fields(C._clean_article(raw, gated=False))

    return clean_before


def _assert_same(pages: list[str], reference) -> None:
    assert pages
    for page in pages:
        assert _fields(C.clean_article(page)) == reference(page), page[:200]
        assert C.to_halfwidth(page) == _to_halfwidth_before(page)
        for line in C.normalize(page).split("\n"):
            if line:
                assert C._classify(line) == _classify_before(line), line


# --- crafted pages: every kind of chrome, alone and mixed ------------------------------------------

CRAFTED_LINES = [
    "首页 新闻 政务 民生 专题",
    "您的位置: 首页 > 新闻中心 > 基层动态",
    "首页 › 要闻",
    "某街道召开居民议事会 共商老旧小区改造",
    "发布时间:2023-05-01 10:20 来源:某某区融媒体中心 作者:李明",
    "发布日期：2024年3月2日　浏览次数：120",
    "本报记者 房雅雯",
    "(通讯员 王小明)",
    "记者:陈东",
    "admin于2023年5月1日发布",
    "5月1日,某社区召开居民议事会,居民代表就加装电梯等事项协商讨论,形成三项共识。",
    "会上,社区党委书记介绍了小区党支部建设情况,并就下一步工作作出部署;与会代表纷纷发言。",
    "社区还组织志愿者开展文明实践活动，倡导移风易俗。",
    "图片来源:某某网",
    "【资料图】",
    "IMG_2034.JPG",
    "photo.png",
    "摄影:张三",
    "1. 我区召开安全生产工作会议",
    "2. 某镇开展垃圾分类宣传",
    "3. 某社区举办邻里节",
    "· 推荐阅读",
    "- 相关链接",
    "版权所有 某某区人民政府 未经授权禁止转载",
    "Copyright © 2024 某某网 All Rights Reserved",
    "COPYRIGHT 2023 某市政府网站",
    "京ICP备12345678号 京公网安备 11010802000000号",
    "联系我们 | 网站地图 | 关于我们",
    "投稿邮箱:news@163.com 新闻热线:010-12345678",
    "该举报电话开通以来,受理群众诉求三百余件,均已办结。",
    "Kaiyun入口网址苏州市某街道召开党建引领基层治理推进会,部署下一阶段重点任务和工作安排。",
    "开云体育官网入口 澳门葡京 百家乐 在线观看",
    "亚洲 久久 天天干 夜夜",
    "澳门特区政府举行亚洲青年交流活动,倡导文明旅游。",
    "鍙戝竷鏃堕棿锛氬叡寤哄叡娌诲叡浜",
    "某区推进共建共治共享鍙戝竷鏃堕棿锛氬叡寤哄叡娌诲叡浜,社区治理取得新成效。",
    "某社区召开会议戝的竷工作堕,居民代表协商讨论加装电梯等事项。",  # a run of exactly three mojibake characters
    "替换字符\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd在这里",
    "學(xué)院舉辦讀書會，師生共同閱讀經典著作。",
    "ＡＢＣ１２３　全角文字测试，共建共治共享。",
    "ΣΑΣ ΟΔΟΣ 希腊文字 COPYRIGHT",
    "İCP备 测试",
    "社区 议事 协商",
    "习近平在某地考察时强调 再接再厉 锐意进取 奋力谱写新篇章",
    "肖捷参加上述活动。",
    "责任编辑:赵六",
    "扫一扫 分享到 微信 微博",
    "",
    "   ",
    "12345",
    "重要新闻 要闻",
    "某社区召开居民议事会,居民代表就加装电梯等事项协商讨论。",
    "某社区召开居民议事会,居民代表就加装电梯等事项协商讨论。",
]


def test_crafted_pages_clean_as_before(reference):
    pages = ["\n".join(CRAFTED_LINES), "\n".join(reversed(CRAFTED_LINES))]
    pages += [line for line in CRAFTED_LINES if line.strip()]  # each line alone is a one-line record
    rng = random.Random(26)
    for _ in range(300):
        pages.append("\n".join(rng.choices(CRAFTED_LINES, k=rng.randint(2, 14))))
    pages = [p for p in pages if p.strip()]
    _assert_same(pages, reference)


def test_gates_skip_only_tests_that_cannot_match():
    # A page with no rare word: every gated test is off; a page with one: that test is on.
    plain = C._Gates("某社区召开居民议事会,居民代表协商讨论。\n会后开展志愿服务。")
    assert not (plain.spam or plain.footer or plain.meta_posted or plain.byline or plain.crumb)
    assert C._Gates("本报记者 房雅雯\n正文。").byline
    assert C._Gates("COPYRIGHT 2023").footer
    assert C._Gates("您的位置:首页").crumb
    assert C._Gates("开云体育 百家乐").spam
    assert C._Gates("admin于2023年5月1日发布").meta_posted


# --- real text ------------------------------------------------------------------------------------

def test_seed_pages_clean_as_before(seeds, reference):
    _assert_same(list(seeds.values()), reference)


def test_local_pages_and_headlines_clean_as_before(reference):
    pages = []
    for name in ("local_themes.jsonl", "headline_themes.jsonl"):
        with open(_need(SHARED / "labels" / name), encoding="utf-8") as fh:
            pages += [json.loads(line)["text"] for line in fh]
    _assert_same([p for p in pages if p and p.strip()], reference)


def test_cctv_items_clean_as_before(reference):
    items = read_xwlb(2500, step=10)
    pages = [f"{it['title']}\n{it['text']}" for it in items if it.get("text")]
    assert len(pages) > 2000
    _assert_same(pages, reference)
