"""Saved web pages as input: charset from the page, the article found by trafilatura, then the usual
cleaning; on govtext's own pages (benchmarks/html_pages.py, no third-party text)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from govtext.apps.cli import main
from govtext.text.html import decode_html, html_charset, read_html
from govtext.text.io import iter_records

pytest.importorskip("trafilatura")

ROOT = Path(__file__).resolve().parent.parent


def _pages_module():
    spec = importlib.util.spec_from_file_location("html_pages", ROOT / "benchmarks" / "html_pages.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("html_pages", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def pages():
    return {p["name"]: p for p in _pages_module().pages()}


def test_charset_from_meta_header_and_bom():
    assert html_charset(b'<meta charset="GBK">') == "gb18030"
    assert html_charset(b'<meta http-equiv="content-type" content="text/html;charset=big5">') == "big5hkscs"
    assert html_charset(b"<p>x</p>", "text/html; charset=GB2312") == "gb18030"
    assert html_charset(b"\xef\xbb\xbf<p>x</p>") == "utf-8-sig"
    assert html_charset(b"<p>no declaration</p>") is None
    # A page that declares UTF-8 but is GBK (common on old portals) is still read right.
    lying = '<meta charset="utf-8"><p>社区召开居民议事会，共商加装电梯事宜。</p>'.encode("gbk")
    html, enc = decode_html(lying)
    assert "居民议事会" in html and enc == "gb18030"


@pytest.mark.parametrize("name", ["gov_yishi.html", "news_wenming.html", "account_laji.html", "big5_dangjian.html"])
def test_read_html_finds_title_date_and_body(pages, name):
    from govtext.text.clean import normalize

    p = pages[name]
    page = read_html(p["data"], source=name)
    assert page.title == p["title"] and page.date == p["date"]
    for para in p["body"]:
        assert para in page.text
    assert page.encoding == {"utf-8": "utf-8", "gb2312": "gb18030", "big5": "big5hkscs"}[p["encoding"]]
    # After clean_article (as every command runs it) the menus, lists and footers are gone.
    import govtext

    cleaned = govtext.clean_article(page.text).text
    left = [b for b in p["boilerplate"] if normalize(b) in cleaned]
    assert len(left) <= 1, left


def test_folder_of_pages_is_read_and_classified(tmp_path, pages, capsys):
    folder = tmp_path / "scraped"
    folder.mkdir()
    for name in ("gov_wenming.html", "news_dangjian.html", "big5_yishi.html"):
        (folder / name).write_bytes(pages[name]["data"])
    (folder / "note.txt").write_text("东湖社区召开居民议事会\n居民代表就加装电梯事宜协商讨论，形成三条共识。", encoding="utf-8")
    (folder / "logo.png").write_bytes(b"\x89PNG")
    assert main(["classify", "-q", str(folder)]) == 0
    rows = {r["id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert sorted(rows) == ["big5_yishi.html", "gov_wenming.html", "news_dangjian.html", "note.txt"]
    from govtext.text.clean import normalize

    # The page's title is reported normalised, as its body is (full-width ： becomes :).
    assert rows["gov_wenming.html"]["title"] == normalize(pages["gov_wenming.html"]["title"])
    assert "civility" in rows["gov_wenming.html"]["labels"]
    assert "party_building" in rows["news_dangjian.html"]["labels"]
    assert "co_governance" in rows["big5_yishi.html"]["labels"]
    # One page given directly is read as a page, not as text with its tags.
    assert main(["clean", "-q", str(folder / "gov_wenming.html")]) == 0
    (row,) = map(json.loads, capsys.readouterr().out.splitlines())
    assert "<" not in row["body"] and row["title"] == normalize(pages["gov_wenming.html"]["title"])
    assert row["date"] == "2024-05-08"


def test_jsonl_html_field_and_empty_page(tmp_path, pages):
    path = tmp_path / "crawl.jsonl"
    page = pages["news_yanglao.html"]["data"].decode("utf-8")
    path.write_text(json.dumps({"id": "u1", "url": "http://example.org/a/1.html", "html": page}, ensure_ascii=False) + "\n"
                    + json.dumps({"id": "u2", "html": "<html><head><title>x</title></head><body><script>var a;</script></body></html>"}) + "\n",
                    encoding="utf-8")
    first, second = iter_records([path])
    assert first.error is None and first.metadata["title"] == pages["news_yanglao.html"]["title"]
    assert first.metadata["url"] == "http://example.org/a/1.html" and "html" not in first.metadata
    assert "嵌入式养老服务站" in first.text
    assert second.text is None and "no text in the page" in second.error


def test_missing_extractor_names_the_extra(monkeypatch, pages):
    monkeypatch.setitem(sys.modules, "trafilatura", None)
    with pytest.raises(ImportError, match=r"pip install govtext\[html\]"):
        read_html(pages["gov_yishi.html"]["data"])


def test_benchmark_pages_recall_and_boilerplate(pages):
    """The figures README quotes, checked loosely: every body paragraph kept, little boilerplate left."""
    import govtext
    from govtext.text.clean import normalize

    recalls, left = [], []
    for p in pages.values():
        page = read_html(p["data"])
        text = govtext.clean_article(page.text).text
        body = [normalize(b) for b in p["body"]]
        recalls.append(sum(len(b) for b in body if b in text) / sum(len(b) for b in body))
        left.append(sum(normalize(b) in text for b in p["boilerplate"]) / len(p["boilerplate"]))
    assert sum(recalls) / len(recalls) >= 0.95
    assert sum(left) / len(left) <= 0.15


def test_a_fragment_without_an_article_keeps_its_text():
    page = read_html("<html><head><title>社区召开议事会_某区政府网</title></head><body><p>社区</p></body></html>")
    assert page.text == "社区" and page.title == "社区召开议事会"


# A Big5 page of our own: its <title> and body in traditional characters.
_BIG5_PAGE = ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=big5'>"
              "<title>東湖社區召開居民議事會 共商加裝電梯</title></head><body>"
              "<div class='nav'>首頁 | 新聞 | 政務公開</div><article><h1>東湖社區召開居民議事會 共商加裝電梯</h1>"
              "<p>近日，東湖社區黨委召集居民代表、物業公司和社區民警召開居民議事會，圍繞老舊樓棟加裝電梯事宜協商討論。</p>"
              "<p>會上，居民代表踴躍發言，就資金分攤、施工時間和低層住戶的顧慮充分交換意見，最終形成三條共識。</p>"
              "<p>社區將依托議事會機制，推動共建共治共享，讓居民的事情由居民商量著辦。</p></article></body></html>")


def test_a_big5_pages_title_is_simplified_like_its_body(tmp_path, capsys):
    page = tmp_path / "big5_page.html"
    page.write_bytes(_BIG5_PAGE.encode("big5"))
    want = "东湖社区召开居民议事会 共商加装电梯"
    assert main(["clean", "-q", str(page)]) == 0
    (row,) = map(json.loads, capsys.readouterr().out.splitlines())
    assert row["title"] == want and "东湖社区党委召集居民代表" in row["body"]
    assert main(["classify", "-q", str(page)]) == 0
    (row,) = map(json.loads, capsys.readouterr().out.splitlines())
    assert row["title"] == want
    import govtext

    assert main(["index", "-q", str(page), "-o", str(tmp_path / "idx")]) == 0
    assert govtext.load(tmp_path / "idx").metadata_[0]["title"] == want
    # A title field of a JSONL record goes the same way; without cleaning it is reported as it came.
    records = tmp_path / "items.jsonl"
    records.write_text(json.dumps({"id": "a", "title": "東湖社區召開居民議事會", "text": "居民代表就加裝電梯事宜協商討論。"},
                                  ensure_ascii=False) + "\n", encoding="utf-8")
    for command in (["clean"], ["classify"], ["classify", "--no-clean"]):
        assert main([*command, "-q", str(records)]) == 0
        (row,) = map(json.loads, capsys.readouterr().out.splitlines())
        expected = "東湖社區召開居民議事會" if "--no-clean" in command else "东湖社区召开居民议事会"
        assert row["title"] == expected, command
