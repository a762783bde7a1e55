"""Reading saved web pages: the charset from the page's own declaration (or the HTTP header), then
the article — title, date, text and the page's metadata — found by trafilatura (``govtext[html]``).

The text that comes out still goes through :func:`~govtext.clean_article` in the usual pipeline,
which drops the dateline, editor lines and footers that an extractor keeps.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, ParameterError

__all__ = ["HTML_SUFFIXES", "Page", "decode_html", "html_charset", "read_html"]

HTML_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Declared names mapped to the codec that reads them best: GB2312 and GBK pages often hold
# characters only their superset GB18030 has; Big5 pages characters only Big5-HKSCS has.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030", "euc-cn": "gb18030",
              "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs"}
_BOM_CODECS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Page:
    """The article found in a saved web page.

    ``text`` holds the article's paragraphs one a line (usually headed by its title); ``metadata``
    the page's own metadata that was found (``source`` — the site name or the page's stated source —,
    ``author``, ``url``, ``description``, ``categories``, ``tags``); ``encoding`` the codec the
    bytes were read with (``None`` for a page given as ``str``).
    """

    title: str | None
    date: str | None
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    encoding: str | None = None


def _codec(name: str) -> str | None:
    name = name.strip().lower()
    name = _SUPERSETS.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def html_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset a page declares: a byte-order mark, the HTTP ``Content-Type`` header (when
    given), or a ``<meta charset>`` / ``http-equiv`` tag in its first 4 KB — mapped to the codec
    that reads it (GB2312/GBK → gb18030, Big5 → big5hkscs); ``None`` when nothing usable is declared.

    >>> html_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">')
    'gb18030'
    """
    for bom, enc in _BOM_CODECS:
        if data.startswith(bom):
            return enc
    if content_type:
        m = _HEADER_CHARSET_RE.search(content_type)
        if m and _codec(m.group(1)):
            return _codec(m.group(1))
    m = _META_CHARSET_RE.search(data[:4096])
    if m:
        return _codec(m.group(1).decode("ascii", "replace"))
    return None


def decode_html(data: bytes, source: str = "<html>", content_type: str | None = None) -> tuple[str, str]:
    """Decode a page's bytes; return ``(html, encoding)``. The declared charset is used when the
    bytes read cleanly in it; otherwise (no declaration, or a page that lies about its charset,
    which is common) the detection of :func:`govtext.text.io.decode_bytes` decides."""
    from .io import decode_bytes

    declared = html_charset(data, content_type)
    if declared is not None:
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError:
            pass
    return decode_bytes(data, source=source)


def _extractor() -> Any:
    try:
        import trafilatura
    except ImportError as exc:
        raise ImportError(f"reading HTML pages needs trafilatura: pip install govtext[html] ({exc})") from None
    return trafilatura


_CONFIG: Any = None
# trafilatura falls back to a cruder extraction (one run-on paragraph, menus included) when its main
# pass finds under 250 characters: a Latin-script default. A short Chinese news item says as much
# in 100 characters, so the main pass is trusted from 80 on.
_MIN_EXTRACTED_CHARS = 80


def _config(trafilatura: Any) -> Any:
    global _CONFIG
    if _CONFIG is None:
        from trafilatura.settings import use_config

        cfg = use_config()  # a fresh ConfigParser: trafilatura's own defaults are left alone
        cfg.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(_MIN_EXTRACTED_CHARS))
        _CONFIG = cfg
    return _CONFIG




def _text_of(doc: Any) -> str:
    return (getattr(doc, "text", None) or "").strip() if doc is not None else ""


def _prose(text: str) -> int:
    """Han characters in lines that end a sentence: article text, not menus, link lists or footers."""
    from .._common import HAN_RE, SENTENCE_END

    ends = tuple(SENTENCE_END) + ("”", "」", "…")
    return sum(len(HAN_RE.findall(line)) for line in text.split("\n") if line.rstrip().endswith(ends))


_SITE_WORDS = ("网", "政府", "门户", "网站", "官网", "新闻", "在线", "频道", "中心", "日报", "晚报", "报", "局", "委员会", "办公室",
               "網", "門戶", "網站", "官網", "新聞", "頻道", "報")
_TITLE_SEPARATORS = ("_", " - ", " | ", "|", " — ", "——", " – ", "－")


def _site_suffix_cut(title: str, text: str) -> str:
    """The page title without a site name after it ("社区召开议事会_某区人民政府" → "社区召开议事会"):
    cut when the part before the separator heads the article text, or the part after it is short
    and names a site."""
    for sep in _TITLE_SEPARATORS:
        if sep in title:
            head, tail = (part.strip() for part in title.rsplit(sep, 1))
            if len(head) < 4:
                continue
            if head in text[: len(head) + 200] or (len(tail) <= 20 and tail.endswith(_SITE_WORDS)):
                return head
    return title


_BLOCK_TAGS = ("p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
               "table", "ul", "ol", "dd", "dt", "header", "footer", "blockquote", "pre")


def _plain_text(html: str) -> tuple[str, str | None]:
    """The page's visible text (scripts and styles dropped; a line per block) and its <title>."""
    import lxml.html
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return "", None
    title = tree.findtext(".//title")
    for bad in tree.xpath("//script|//style|//noscript|//head|//template"):
        bad.drop_tree()
    for el in tree.iter(*_BLOCK_TAGS):
        el.tail = "\n" + (el.tail or "")
    lines = (" ".join(line.split()) for line in tree.text_content().split("\n"))
    return "\n".join(line for line in lines if line), (title.strip() or None) if title else None


def read_html(page: bytes | str, *, source: str = "<html>", content_type: str | None = None,
              url: str | None = None) -> Page:
    """Find the article in a saved web page (bytes in any charset, or ``str``).

    Needs ``govtext[html]`` (trafilatura). Raises :class:`~govtext.errors.InputError` naming
    ``source`` when the page holds no article text.

    >>> p = read_html("<html><head><title>社区召开议事会_某区政府网</title></head><body>"
    ...               "<div><a href='/'>首页</a></div><article><h1>社区召开议事会</h1>"
    ...               "<p>5月7日，东湖社区召开居民议事会，居民代表就加装电梯、楼道改造等事项协商讨论，形成了三条意见。</p>"
    ...               "</article></body></html>")   # doctest: +SKIP
    >>> p.title   # doctest: +SKIP
    '社区召开议事会'
    """
    encoding = None
    if isinstance(page, (bytes, bytearray, memoryview)):
        html, encoding = decode_html(bytes(page), source, content_type)
    elif isinstance(page, str):
        html = page
    else:
        raise ParameterError(f"read_html() expects the page as bytes or str, got {type(page).__name__}")
    trafilatura = _extractor()
    plain, page_title = _plain_text(html)
    if not plain:  # nothing to find (and trafilatura would only log about an empty tree)
        raise InputError(f"no text in the page {source}")

    # Layout tables (old portals put the whole page in one) would come out as "|"-joined rows that
    # mix menus with the article; without tables trafilatura still finds the article in them
    # (benchmarks/html.py). Data tables inside an article are lost with them.
    def extract(config: Any) -> Any:
        return trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                           include_tables=False, include_images=False, deduplicate=False, config=config)

    # Two passes: with the Chinese-sized threshold (paragraphs kept apart) and with trafilatura's
    # default (which, on some table-laid portals, alone finds the article rather than a link list or
    # the footer). The first wins unless it holds under half the prose the second does.
    doc = extract(_config(trafilatura))
    fallback = extract(None)
    if fallback is not None and _prose(_text_of(doc)) < 0.5 * _prose(_text_of(fallback)):
        doc = fallback
    text = _text_of(doc)
    if not text:
        # No article found (a fragment, a page of one line): its text, tags removed, is kept rather
        # than lost; clean_article then judges it like any other text.
        text, doc = plain, None
    title = _site_suffix_cut((getattr(doc, "title", None) or page_title or "").strip(), text) or None
    meta: dict[str, Any] = {}
    for key, name in (("sitename", "source"), ("author", "author"), ("url", "url"), ("description", "description"),
                      ("categories", "categories"), ("tags", "tags")):
        value = getattr(doc, key, None)
        if value:
            meta[name] = value
    return Page(title=title, date=getattr(doc, "date", None) or None, text=text, metadata=meta, encoding=encoding)
