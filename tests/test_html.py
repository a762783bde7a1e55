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
    assert rows["gov_wenming.html"]["title"] == pages["gov_wenming.html"]["title"]
    assert "civility" in rows["gov_wenming.html"]["labels"]
    assert "party_building" in rows["news_dangjian.html"]["labels"]
    assert "co_governance" in rows["big5_yishi.html"]["labels"]
    # One page given directly is read as a page, not as text with its tags.
    assert main(["clean", "-q", str(folder / "gov_wenming.html")]) == 0
    (row,) = map(json.loads, capsys.readouterr().out.splitlines())
    assert "<" not in row["body"] and row["title"] == pages["gov_wenming.html"]["title"]
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
