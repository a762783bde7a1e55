"""Nothing lost, nothing silent: short and empty records, real text kept by cleaning, mixed inputs."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import govtext
from govtext import EmptyTextError, clean_article, usable_text
from govtext.apps.cli import main

from .conftest import SHARED, _need, read_xwlb


def _rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


# -- short records keep their text ------------------------------------------------------------

@pytest.mark.parametrize("record", [
    "新时代文明实践站开展志愿服务,倡导移风易俗",  # no full stop: a JSONL field, not a paragraph
    "洛阳是我家 创建靠大家 全民齐动手 建好咱的家",  # a spaced slogan headline
    "公园街道 | 一周工作播报",
    "2.2万老人按月领钱",  # starts like a numbered list item
    "渠县作家李明春作品《川乡传》 外文版权输出7国",  # 版权 in a headline is not a footer
    "庙头村 污水横流 垃圾成堆",
])
def test_one_line_records_keep_their_text(record):
    assert clean_article(record).text == govtext.normalize(record)


@pytest.mark.parametrize("raw, message", [
    ("", "empty text"),
    ("  \n\t ", "only white space"),
    ("首页 新闻 政务 民生", "no text left after cleaning: 1 line removed as navigation"),
    ("版权所有 某某网 京ICP备12345678号\n首页 | 新闻 | 政务", "2 lines removed as footer, navigation"),
])
def test_nothing_to_analyse_is_an_error_that_says_why(raw, message):
    with pytest.raises(EmptyTextError, match=re.escape(message)):
        usable_text(raw)


def test_news_sentences_naming_macao_asia_or_jiujiu_are_not_spam():
    text = ("澳门特别行政区政府今天举行活动,澳门各界人士参加。亚洲文明对话大会在京开幕,澳门代表团出席。\n"
            "各地坚持久久为功,推动亚洲区域合作,澳门居民积极参与。")
    art = clean_article(text)
    assert not [r for r in art.removed if r.reason == "spam"]
    assert _chars(art.text) == _chars(govtext.normalize(text))


def test_seed_spam_menus_and_footers_are_still_removed(seeds):
    for raw in seeds.values():
        art = clean_article(raw)
        for junk in ("夜夜", "香蕉视频", "Kaiyun入口网址", "版权所有", "客服热线", "您的位置"):
            assert junk not in art.text


def test_cctv_items_keep_their_article_text():
    """Every line of a CCTV item is article text: cleaning keeps at least 99.5% of its characters
    (lines dropped as exact repeats of kept text lose nothing, and count as kept)."""
    items = [it for it in read_xwlb(3000, step=20) if it["text"]]
    kept = repeats = total = 0
    for it in items:
        raw = f"{it['title']}\n{it['text']}"
        art = clean_article(raw)
        total += _chars(govtext.normalize(raw))
        kept += _chars(art.text)
        repeats += sum(_chars(r.text) for r in art.removed if r.reason == "duplicate")
    print(f"\nCCTV: kept {kept / total:.4%} of {total:,} characters in {len(items)} items; "
          f"{(kept + repeats) / total:.4%} with exact repeats")
    assert (kept + repeats) / total >= 0.995
    assert kept / total >= 0.99


def test_local_news_keeps_the_sentences_coders_quoted():
    path = _need(SHARED / "labels" / "local_themes.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    kept = total = 0
    for row in rows:
        text = re.sub(r"\s", "", clean_article(row["text"]).text)
        for quote in (row.get("evidence") or {}).values():
            q = re.sub(r"\s", "", govtext.normalize(quote))
            total += len(q)
            kept += len(q) if q in text else 0
    print(f"\nlocal news: {kept / total:.2%} of quoted evidence characters kept")
    assert total > 10_000 and kept / total >= 0.99


# -- every entry point: an empty record is an error row ---------------------------------------

def test_cli_headlines_agree_with_the_model_on_raw_titles(tmp_path, capsys):
    """Default options (cleaning on) give the same labels as predict_labels on the raw titles."""
    path = _need(SHARED / "corpora" / "haidian-titles" / "titles.tsv")
    assert main(["classify", str(path), "--text-field", "title", "-q"]) == 0
    rows = _rows(capsys.readouterr().out)
    titles = [line.split("\t")[3] for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    assert len(rows) == len(titles) == 569 and not any("error" in r for r in rows)
    expected = govtext.load().predict_labels(titles)
    same = sum(r["labels"] == e for r, e in zip(rows, expected))
    print(f"\nHaidian titles: {same}/{len(rows)} same labels")
    assert same / len(rows) >= 0.99


def test_empty_cells_are_error_rows_in_classify_frame():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"text": ["新时代文明实践站开展志愿服务", "", "   ", "首页 新闻 政务 民生"]})
    out = govtext.classify_frame(df, progress=False)
    assert pd.isna(out["error"][0]) and out["labels"][0] == ["civility"]
    assert out["error"].tolist()[1:] == [
        "EmptyTextError: empty text", "EmptyTextError: the text is only white space",
        "EmptyTextError: no text left after cleaning: 1 line removed as navigation"]
    assert out["p_civility"][1:].isna().all()


@pytest.mark.parametrize("command", ["classify", "clean", "tokenize", "keywords"])
def test_empty_files_are_error_rows_in_every_command(tmp_path, capsys, command):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_text("社区召开居民议事会,协商加装电梯。", encoding="utf-8")
    (folder / "b.txt").write_text("", encoding="utf-8")
    assert main([command, str(folder), "-q"]) == 1
    rows = _rows(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["a.txt", "b.txt"]
    assert "error" not in rows[0] and rows[1]["error"] == "EmptyTextError: empty text"


# -- mixed inputs ------------------------------------------------------------------------------

def test_bad_table_among_good_inputs_gives_one_error_row_and_exit_1(tmp_path, capsys):
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "g1", "text": "社区召开居民议事会"}\n{"id": "g2", "text": "志愿者开展文明劝导"}\n',
                    encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\n1,社区\n", encoding="utf-8")
    assert main(["classify", str(good), str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    rows = _rows(captured.out)
    assert [r["id"] for r in rows] == ["g1", "g2", str(bad), "g1", "g2"]
    assert "no column 'text'" in rows[2]["error"] and "labels" in rows[3]
    assert "input failed (one error row)" in captured.err and "1 record(s) had errors" in captured.err


def test_folder_inputs_count_and_name_what_they_pass_over(tmp_path, capsys):
    folder = tmp_path / "mixed"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("社区召开居民议事会,协商加装电梯。", encoding="utf-8")
    (folder / "notes.md").write_text("# 笔记", encoding="utf-8")
    (folder / "sub" / "page.html").write_text("<p>社区</p>", encoding="utf-8")
    assert main(["clean", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "passed over 1 file(s) in folder inputs that are not .txt, .html, .docx or .pdf (list them with --verbose)" in err
    assert '"id": "sub/page.html"' in out  # saved pages are read (govtext[html])
    assert main(["clean", str(folder), "--verbose"]) == 0
    err = capsys.readouterr().err
    assert f"not read: {folder / 'notes.md'}" in err and "page.html" not in err


def test_no_readable_input_is_fatal(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\n1,社区\n", encoding="utf-8")
    assert main(["classify", str(bad)]) == 2
    assert "no column 'text'" in capsys.readouterr().err


def test_model_and_cli_agree_on_a_short_record(tmp_path, capsys):
    record = "新时代文明实践站开展志愿服务,倡导移风易俗"
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps({"id": "x", "text": record}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert main(["classify", str(path), "-q"]) == 0
    row = _rows(capsys.readouterr().out)[0]
    p = govtext.load().predict_proba([record])[0]
    assert np.allclose([row["p_party_building"], row["p_civility"], row["p_co_governance"]], p, atol=1e-4)
    assert row["labels"] == ["civility"]


# -- similar: real dates, no padding, whole ids, short passages ---------------------------------

@pytest.fixture(scope="module")
def dated_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("idx")
    src = folder / "docs.jsonl"
    items = [it for it in read_xwlb(400, step=30) if len(it["text"]) > 200]
    with open(src, "w", encoding="utf-8") as fh:
        for it in items:
            fh.write(json.dumps({"id": f"{it['id']}-with-a-long-suffix", "text": it["text"], "title": it["title"],
                                 "date": it["date"]}, ensure_ascii=False) + "\n")
    out = folder / "index"
    assert main(["index", str(src), "-o", str(out), "-q"]) in (0, 1)
    return out, items


def test_similar_dates_filters_and_ids(dated_index, capsys):
    out, items = dated_index
    assert all(re.fullmatch(r"\d{8}", it["date"]) for it in items)  # xwlb stores dates as 20250612
    query = "社区党支部组织党员志愿者开展服务"
    assert main(["similar", "--index", str(out), query, "--json", "-k", "50", "--since", "2013年1月1日"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows and all(r["metadata"]["date"] >= "2013-01-01" for r in rows)
    assert all(r["score"] > 0 for r in rows) and all(r["id"].endswith("-with-a-long-suffix") for r in rows)
    assert all(r["passage"] is None or len(r["passage"]) <= 122 for r in rows)
    assert main(["similar", "--index", str(out), query, "-k", "3"]) == 0
    table = capsys.readouterr().out
    assert "…" in table and "--json gives them whole" in table
    assert main(["similar", "--index", str(out), query, "--since", "yesterday"]) == 2
    assert "cannot read the first date 'yesterday'" in capsys.readouterr().err
    assert main(["similar", "--index", str(out), query, "--since", "2099-01-01"]) == 0
    assert "no similar document passes the filters (date from 2099-01-01 to any)" in capsys.readouterr().out


# -- mojibake ----------------------------------------------------------------------------------

def mojibake_signature() -> list[str]:
    """How govtext/data/mojibake_chars.txt is made: the characters that the 30,000 most frequent
    words of jieba's dictionary become when their UTF-8 bytes are read as GBK, minus the 2,500 most
    frequent characters of that dictionary."""
    import collections
    import os

    import jieba

    freq: collections.Counter[str] = collections.Counter()
    words = []
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as fh:
        for line in fh:
            word, count, *_ = line.split()
            words.append((int(count), word))
            for ch in word:
                freq[ch] += int(count)
    words.sort(key=lambda x: (-x[0], x[1]))
    common = {c for c, _ in sorted(freq.items(), key=lambda x: (-x[1], x[0]))[:2500]}
    sample = "".join(w for _, w in words[:30000])
    garbled = sample.encode("utf-8").decode("gbk", errors="ignore")
    return sorted({c for c in garbled if "\u4e00" <= c <= "\u9fff"} - common)


def test_shipped_mojibake_characters_are_reproducible():
    from importlib import resources

    raw = resources.files("govtext").joinpath("data/mojibake_chars.txt").read_text(encoding="utf-8")
    shipped = "".join(line.strip() for line in raw.splitlines() if not line.startswith("#"))
    assert shipped == "".join(mojibake_signature())


def test_mojibake_runs_are_cut_out_with_a_reason():
    good = "5月1日,某社区召开居民议事会,居民代表就加装电梯等事项协商讨论。"
    garbled = good.encode("utf-8").decode("gbk", errors="replace")  # a UTF-8 page read as GBK
    after = "会后,居民代表纷纷表示,这样的议事会让大家的意见有了出口。"
    page = f"某社区召开居民议事会\n{good}\n{garbled}\n{after}{garbled}\n版权所有 某某网"
    art = clean_article(page)
    cut = [r.text for r in art.removed if r.reason == "mojibake"]
    assert len(cut) >= 2 and all(len(c) >= 6 for c in cut)
    assert after in art.body and good in art.body
    body_han = [c for c in art.body if "\u4e00" <= c <= "\u9fff"]
    marks = set(mojibake_signature())
    assert sum(c in marks for c in body_han) <= 3  # a few stray characters of a cut run may stay


def test_no_mojibake_found_in_real_news():
    texts = [it["text"] for it in read_xwlb(1500, step=50)]
    path = _need(SHARED / "labels" / "local_themes.jsonl")
    texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    flagged = [r.text for t in texts for r in clean_article(t).removed if r.reason == "mojibake"]
    assert flagged == []
