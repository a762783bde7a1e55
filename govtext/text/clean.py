"""Cleaning of scraped Chinese news pages.

Two layers:

* small, pure ``str -> str`` functions (:func:`remove_invisible`, :func:`to_halfwidth`,
  :func:`remove_pinyin_glosses`, :func:`to_simplified`, :func:`normalize_whitespace`) that
  :func:`normalize` composes, and that users can compose differently with :func:`compose`;
* :func:`clean_article`, which reads a whole scraped page line by line, keeps the article and
  records every line it drops together with the reason.
"""

from __future__ import annotations

import functools
from importlib import resources
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from .._common import CLAUSE_END, FULL_STOP, HAN, HAN_RE, HAN_RUN_RE, HAN_UNIFIED, SENTENCE_END, sentence_pattern
from ..errors import InputError, ParameterError

__all__ = [
    "Article",
    "RemovedLine",
    "clean_article",
    "EmptyTextError",
    "MAX_RECORD_CHARS",
    "TextTooLongError",
    "compose",
    "line_kind",
    "normalize",
    "normalize_whitespace",
    "parse_date",
    "remove_invisible",
    "remove_pinyin_glosses",
    "to_halfwidth",
    "to_simplified",
    "usable_text",
]

# ---------------------------------------------------------------------------
# str -> str building blocks
# ---------------------------------------------------------------------------


# Zero-width characters, bidi marks, BOM, soft hyphen and C0/C1 controls other than \t and \n.
_INVISIBLE_RE = re.compile(
    "[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]"
)
# Space-like characters that should become a plain space.
_SPACES_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


_SPECIAL_RE = re.compile(_INVISIBLE_RE.pattern[:-1] + _SPACES_RE.pattern[1:-1] + "\r\u2028\u2029]")


def remove_invisible(text: str) -> str:
    """Drop zero-width and control characters and lone surrogates (halves of a character that no
    encoder can write); turn exotic spaces into ``" "``; unify newlines."""
    if not _SPECIAL_RE.search(text):
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = _INVISIBLE_RE.sub("", text)
    return _SPACES_RE.sub(" ", text)


_HALFWIDTH_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALFWIDTH_TABLE[0x3000] = 0x20
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
# The full-width characters found in nearly every Chinese news text; str.replace is much faster
# than str.translate, so these go first and translate runs only if anything else is left.
_COMMON_FULLWIDTH = "，：；！？（）％"


def to_halfwidth(text: str) -> str:
    """Map full-width ASCII letters, digits and punctuation (U+FF01..U+FF5E) to ASCII.

    Chinese-only punctuation with no ASCII twin (。、“”《》) is left alone.
    """
    if not _FULLWIDTH_RE.search(text):  # already half-width (a cleaned line): nothing to map
        return text
    for ch in _COMMON_FULLWIDTH:
        text = text.replace(ch, chr(ord(ch) - 0xFEE0))  # returns text itself when ch is absent
    if _FULLWIDTH_RE.search(text):
        text = text.translate(_HALFWIDTH_TABLE)
    return text


# A pinyin syllable written with tone marks (or none, for neutral-tone syllables), e.g. fèi, xué, de.
_PINYIN_SYLLABLE = (
    r"(?:zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(?:iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|vn|"
    r"ia|ie|iu|ua|uo|ui|ve|ue|er|a|o|e|i|u|v)"
)
_PINYIN_FULL_RE = re.compile(rf"{_PINYIN_SYLLABLE}(?:'?{_PINYIN_SYLLABLE})?r?", re.IGNORECASE)
# Candidate glosses: one or more "(letters)" groups. Letters may carry tone marks; the match is
# kept only if a Han character precedes it and every group parses as pinyin. The pattern starts
# with a literal "(" so the regex engine can skip quickly through text without parentheses.
_GLOSS_CANDIDATE_RE = re.compile(r"(?:\([a-zA-Z\u00c0-\u024f\u0300-\u036f']{1,8}\))+")
_GLOSS_GROUP_RE = re.compile(r"\(([^()]*)\)")
# Cheap pre-check (a literal "(" then a letter): most texts have no gloss and skip the full pattern.
_GLOSS_HINT_RE = re.compile(r"\((?=[a-zA-Z\u00c0-\u024f])")


def _strip_tones(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ü", "v").replace("Ü", "V")


def _is_pinyin(word: str) -> bool:
    return _PINYIN_FULL_RE.fullmatch(_strip_tones(word)) is not None


def remove_pinyin_glosses(text: str) -> str:
    """Remove pinyin readings glossed after Han characters: ``消費(fèi)`` -> ``消費``.

    Only parenthesised groups that parse as pinyin syllables are removed, so ``市政府(扩大)``,
    ``(H1N1)`` or ``(app)`` stay.
    """

    if not _GLOSS_HINT_RE.search(text):
        return text

    def repl(match: re.Match[str]) -> str:
        start = match.start()
        if start == 0 or not HAN_RE.match(text, start - 1):
            return match.group(0)
        groups = _GLOSS_GROUP_RE.findall(match.group(0))
        return "" if all(_is_pinyin(g) for g in groups) else match.group(0)

    return _GLOSS_CANDIDATE_RE.sub(repl, text)


class _Converter:
    """Lazily built, thread-safe OpenCC converter (the C++ object is built on first use)."""

    def __init__(self, config: str) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._cc: object | None = None

    def __call__(self, text: str) -> str:
        cc = self._cc
        if cc is None:
            with self._lock:
                if self._cc is None:
                    import opencc

                    self._cc = opencc.OpenCC(self._config)
                cc = self._cc
        return cc.convert(text)  # type: ignore[attr-defined]


_T2S = _Converter("t2s")
_TW2S = _Converter("tw2s")
_S2T = _Converter("s2t")


def to_traditional(text: str) -> str:
    """Convert simplified Chinese to traditional Chinese with OpenCC's ``s2t`` (character by character).

    >>> to_traditional("社区议事会")
    '社區議事會'
    """
    return _S2T(text) if text else text


def _convert_line(line: str) -> str:
    simple = _T2S(line)
    if simple == line:
        return line
    changed = sum(a != b for a, b in zip(simple, line)) if len(simple) == len(line) else len(line)
    # A line written in traditional script goes through tw2s, whose phrase tables also turn the
    # aspect marker 著 into 着 (带著 -> 带着). tw2s would wrongly touch simplified text (显著 -> 显着),
    # so a line with only a stray traditional character gets plain t2s.
    if changed >= 2 or changed * 10 >= len(HAN_RE.findall(line)):
        return _TW2S(line)
    return simple


_traditional_re: re.Pattern[str] | None = None


def _traditional_chars() -> re.Pattern[str]:
    """A character class of every character OpenCC's t2s would change (built once, from OpenCC)."""
    global _traditional_re
    if _traditional_re is None:
        chars = "".join(chr(cp) for r in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)) for cp in range(*r))
        converted = _T2S(chars)
        changed = sorted({a for a, b in zip(chars, converted) if a != b}) if len(converted) == len(chars) else []
        if not changed:  # table shape unexpected: never skip conversion
            _traditional_re = re.compile(f"[{HAN}]")
        else:
            _traditional_re = re.compile("[" + re.escape("".join(changed)) + "]")
    return _traditional_re


def to_simplified(text: str) -> str:
    """Convert traditional Chinese to simplified Chinese with OpenCC.

    Lines written in traditional script are converted with OpenCC's ``tw2s`` (which also handles
    variants such as 説 and 裡, and 著 used as 着); other lines with ``t2s``, so that simplified
    text is never altered.
    """
    if not text or not _traditional_chars().search(text) or _T2S(text) == text:
        return text
    out = "\n".join(_convert_line(line) for line in text.split("\n"))
    # OpenCC's tables are not closed: 薴 becomes 苧, which t2s maps on to 苎. Convert again until
    # nothing changes, so that to_simplified (and normalize) give the same text when run twice.
    for _ in range(_MAX_PASSES):
        if not _traditional_chars().search(out) or _T2S(out) == out:
            break
        out = "\n".join(_convert_line(line) for line in out.split("\n"))
    return out


_MAX_PASSES = 4  # the longest chain in OpenCC 1.1's t2s table has two steps


_MANY_SPACES_RE = re.compile(r"  +")
_MANY_NEWLINES_RE = re.compile(r"\n{3,}")


def normalize_whitespace(text: str) -> str:
    """Collapse runs of spaces/tabs, strip every line, keep at most one blank line in a row."""
    if "\t" in text:
        text = text.replace("\t", " ")
    if "  " in text:
        text = _MANY_SPACES_RE.sub(" ", text)
    if "\n" in text:
        text = text.replace(" \n", "\n").replace("\n ", "\n")
        if "\n\n\n" in text:
            text = _MANY_NEWLINES_RE.sub("\n\n", text)
    return text.strip()


def compose(*steps: Callable[[str], str]) -> Callable[[str], str]:
    """Chain ``str -> str`` functions left to right into one function."""

    def pipeline(text: str) -> str:
        for step in steps:
            text = step(text)
        return text

    pipeline.__doc__ = "Pipeline: " + " -> ".join(getattr(s, "__name__", repr(s)) for s in steps)
    return pipeline


_NORMALIZE = compose(remove_invisible, to_halfwidth, remove_pinyin_glosses, to_simplified, normalize_whitespace)


def normalize(text: str) -> str:
    """Normalise scraped Chinese text.

    Removes invisible characters, maps full-width ASCII to half-width, removes pinyin glosses,
    converts traditional to simplified characters and normalises whitespace (paragraph breaks are
    kept). ``normalize(normalize(x)) == normalize(x)``.

    >>> normalize("消費(fèi)　ＡＢＣ１２３\u200b")
    '消费 ABC123'
    """
    if not isinstance(text, str):
        raise ParameterError(f"normalize() expects a str, got {type(text).__name__}")
    return _NORMALIZE(text)


# ---------------------------------------------------------------------------
# Article extraction
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RemovedLine:
    """A line (or the start of a line) that :func:`clean_article` dropped, and why."""

    text: str
    reason: str


@dataclass(frozen=True)
class Article:
    """The article found in a scraped page.

    ``body`` is normalised text with one paragraph per line; ``removed`` lists every dropped line
    in page order with the reason (``navigation``, ``link list``, ``spam``, ``footer``,
    ``metadata``, ``image caption``, ``duplicate``, ``outside article``, ``no text``, and
    ``mojibake`` for a run of mis-decoded characters cut out of a line).
    """

    title: str | None
    date: str | None
    source: str | None
    author: str | None
    body: str
    removed: tuple[RemovedLine, ...] = field(default=())

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.body.split("\n") if p]

    @property
    def text(self) -> str:
        """Title and body as one string, the usual input for tokenising and classifying."""
        return f"{self.title}\n{self.body}" if self.title and self.body else self.title or self.body


# Words that mark gambling/porn/ad spam on scraped pages. Strong ones hardly ever occur in news;
# weak ones do (澳门, 亚洲, 久久为功, 彩票 policy, a site's 网址), so they only add to strong ones.
_SPAM_STRONG = (
    "夜夜", "天天干", "天天射", "天天做", "日日做", "婷婷", "香蕉视频", "无码", "欧美日韩", "在线观看", "免费不卡",
    "综合网", "伊人", "色情", "成人视频", "百家乐", "娱乐城", "博彩", "真人视讯", "体育官网", "官网入口", "入口网址",
    "开云", "kaiyun", "pg电子", "赌场", "老虎机", "太阳城", "葡京", "威尼斯人",
)
_SPAM_WEAK = ("av", "亚洲", "久久", "棋牌", "彩票", "网址", "澳门")
_SPAM_WORDS = _SPAM_STRONG + _SPAM_WEAK
# Spam brand glued to the start of a real paragraph: "Kaiyun入口网址苏州市..."
_SPAM_PREFIX_RE = re.compile(
    r"^(?:[A-Za-z0-9]{2,20}|" f"[{HAN_UNIFIED}]" r"{1,6}(?:体育|娱乐|彩票|棋牌))"
    r"(?:官方网站|官网|入口|网址|登录|注册|下载|app|APP)+[:：]?"
)
# Matched against the lower-cased line (IGNORECASE makes Python's re several times slower).
_FOOTER_RE = re.compile(
    r"版权所有|版权声明|版权归|版权作品|copyright|©|all rights reserved|未经.{0,6}授权|禁止转载|严禁转载|转载.{0,8}注明|免责声明|"
    r"仅供参考|不对.{0,10}负责|本文章内容来源于|本站|网站地图|关于我们|联系我们|加入我们|客服热线|新闻热线|"
    r"新闻投稿|投稿邮箱|举报电话|违法和不良信息|icp备|公网安备|重新编辑|下载app|扫一扫|分享到|"
    r"@(?:qq|163|126|sina|gmail)\.com",
)
# A line that is nothing but a copyright notice or a filing number is chrome even on its own.
_FOOTER_ONLY_RE = re.compile(r"版权所有|copyright|©|all rights reserved|icp备|公网安备")
_META_LABEL_RE = re.compile(
    r"(发布日期|发布时间|发表时间|发布于|日期|时间|来源|作者|编辑|责编|责任编辑|撰稿|审核|校对|通讯员|记者|"
    r"浏览次数|阅读量|点击数|字号)\s*[:：]"
)
_META_POSTED_RE = re.compile(r"于\s*\d{4}年\d{1,2}月\d{1,2}日\s*(发表|发布)")
# "记者 房雅雯", "记者:陈东", "(通讯员王明)"; not "党务工作者例会".
_BYLINE_RE = re.compile(f"(?:(?:^|[^{HAN_UNIFIED}])" r"(?:记者|通讯员|作者)\s*|(?:记者|通讯员|作者)(?:\s*[:：]\s*|\s+))"
                        f"([{HAN_UNIFIED}]" r"{2,4})$")
_DATE_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_SOURCE_RE = re.compile(r"(?<!图)(?<!图片)来源\s*[:：]\s*([^|｜\s]+)")
_AUTHOR_RE = re.compile(r"(?:作者|记者|撰稿|通讯员)\s*[:：]\s*(?:(?:通讯员|记者)\s*[:：]\s*)?([^|｜\s]+)")
_IMAGE_RE = re.compile(
    r"^(?:\S{0,40}\.(?:jpe?g|png|gif|webp|bmp)|【?\s*(?:资料图|资料图片|图片|配图|图源|摄影|摄)\s*[:：]?[^】]{0,20}】?)$",
    re.IGNORECASE,
)
_BREADCRUMB_RE = re.compile(r"(您的位置|当前位置|所在位置)\s*[:：]|首页\s*[>›»]")
_LIST_ITEM_RE = re.compile(r"^(?:\d{1,3}\s*[.、)]\s+|\d{1,3}\.\s*|[-•·*▪►>]\s+)")
_SENTENCE_PUNCT_RE = re.compile(f"[{SENTENCE_END}]")
_SENTENCE_END_PUNCT_RE = re.compile(f"[{FULL_STOP}]")
_CLAUSE_PUNCT_RE = re.compile(f"[{SENTENCE_END},，:：]")
_SECTION_LABEL_RE = re.compile(
    f"\\s+[{HAN_UNIFIED}]" r"{0,4}(?:焦点|要闻|热点|头条|快讯|资讯|原创|推荐|独家|滚动)$"
)
_NON_AUTHORS = {"admin", "管理员", "编辑部", "本站", "佚名", "未知"}

_PARAGRAPH, _SHORT = "paragraph", "short"
_MOJIBAKE_RUN_RE = re.compile(r"s(?:o{0,2}s)+")
_CLOSERS = frozenset(FULL_STOP + "”」』")


_ANY_SPAM_RE = re.compile("|".join(re.escape(w) for w in _SPAM_WORDS))  # on the lower-cased line
# Every spam prefix (_SPAM_PREFIX_RE) contains one of these.
_SPAM_PREFIX_HINT_RE = re.compile(r"官方网站|官网|入口|网址|登录|注册|下载|app|APP")


def _han_count(line: str) -> int:
    return sum(map(len, HAN_RUN_RE.findall(line)))


@functools.lru_cache(maxsize=1)
def _mojibake_chars() -> frozenset[str]:
    """Characters that common Chinese text turns into when its UTF-8 bytes are read as GBK, and
    that are rare in real text (0.08% of the Han characters of CCTV news, 72% of such mojibake);
    see ``data/mojibake_chars.txt``. U+FFFD, the replacement character, counts too."""
    raw = resources.files("govtext").joinpath("data/mojibake_chars.txt").read_text(encoding="utf-8")
    chars = "".join(line.strip() for line in raw.splitlines() if not line.startswith("#"))
    return frozenset(chars) | {"\ufffd"}


@functools.lru_cache(maxsize=1)
def _mojibake_char_re() -> re.Pattern[str]:
    return re.compile("[" + "".join(sorted(_mojibake_chars())) + "]")


def _mojibake_runs(line: str) -> list[tuple[int, int]]:
    """Spans of mis-decoded text: six or more characters in which mojibake characters follow each
    other with at most two ordinary characters between them, and make at least half of the span."""
    # Nearly every line: one scan in C. A run (six or more characters, half of them mojibake)
    # holds at least three mojibake characters.
    if len(_mojibake_char_re().findall(line)) < 3:
        return []
    marks = _mojibake_chars()
    mask = "".join("s" if c in marks else "o" for c in line)
    return [m.span() for m in _MOJIBAKE_RUN_RE.finditer(mask)
            if m.end() - m.start() >= 6 and m.group().count("s") * 2 >= m.end() - m.start()]


def _chunks(line: str) -> tuple[int, float]:
    """How many space-separated parts with text a line has, and their mean length."""
    parts = [len(c) for c in line.split(" ") if any(ch.isalnum() for ch in c)]
    return len(parts), (sum(parts) / len(parts) if parts else 0.0)


def _is_spam(low: str) -> bool:
    """A lower-cased line is spam when it names two distinct strong spam words, or one strong and
    two weak ones (a news line about 澳门 or 亚洲 never is)."""
    if not _ANY_SPAM_RE.search(low):  # most lines: one scan instead of one per word
        return False
    strong = sum(w in low for w in _SPAM_STRONG)
    return strong >= 2 or (strong == 1 and sum(w in low for w in _SPAM_WEAK) >= 2)


class _Gates:
    """Which of the rarer line tests can match on a page. Each gate is a pattern searched once over
    the whole page (its lines joined by line breaks) that every line the test matches contains, so
    a test whose gate finds nothing cannot match any line and is skipped on every line: the labels
    are the same as with every test run on every line (``_Gates()`` runs them all). Tests cheaper
    per line than a search of the page are not gated."""

    __slots__ = ("spam", "footer", "meta_posted", "byline", "crumb")

    def __init__(self, page: str | None = None) -> None:
        if page is None:
            self.spam = self.footer = self.meta_posted = self.byline = self.crumb = True
            return
        low = page.lower()  # the lines of page.lower() are the lower-cased lines
        if not _RARE_RE.search(low):  # most pages: one search says that no gated test can match
            self.spam = self.footer = self.meta_posted = self.byline = self.crumb = False
            return
        self.spam = _ANY_SPAM_RE.search(low) is not None
        self.footer = _FOOTER_RE.search(low) is not None
        self.meta_posted = _META_POSTED_RE.search(page) is not None
        self.byline = _BYLINE_HINT_RE.search(page) is not None
        self.crumb = _BREADCRUMB_HINT_RE.search(page) is not None


_ALL_TESTS = _Gates()
# Words that every match of _BYLINE_RE, and of _BREADCRUMB_RE, contains.
_BYLINE_HINT_RE = re.compile("记者|通讯员|作者")
_BREADCRUMB_HINT_RE = re.compile("位置|首页")
# Any of the gates above, on the lower-cased page (lower-casing leaves Han characters, digits and
# white space as they are, so the Han patterns find what they find on the page itself).
_RARE_RE = re.compile("|".join(r.pattern for r in (_ANY_SPAM_RE, _FOOTER_RE, _META_POSTED_RE, _BYLINE_HINT_RE,
                                                   _BREADCRUMB_HINT_RE)))


def _classify(line: str, han: int | None = None, gates: _Gates = _ALL_TESTS) -> str:
    """Label one normalised, non-empty line (``han``: its count of Han characters, when known;
    ``gates``: the tests that can match on its page)."""
    if han is None:
        han = _han_count(line)
    if han == 0:
        return "no text"
    n = len(line)
    if gates.spam or (gates.footer and n <= 200):
        low = line.lower()
        if gates.spam and _is_spam(low):
            return "spam"
        if (gates.footer and n <= 200 and _FOOTER_RE.search(low)
                and (n <= 60 or not _SENTENCE_END_PUNCT_RE.search(line))):
            return "footer"  # a copyright or contact line; a news sentence about 版权 or 举报电话 is not one
    if n <= 60 and _IMAGE_RE.match(line):
        return "image caption"
    sentence = None
    if n <= 160:
        sentence = _SENTENCE_PUNCT_RE.search(line) is not None
        if not sentence and (_META_LABEL_RE.search(line)
                             or (gates.meta_posted and _META_POSTED_RE.search(line))
                             or (gates.byline and _BYLINE_RE.search(line))):
            return "metadata"
    if gates.crumb and n <= 120 and _BREADCRUMB_RE.search(line):
        return "navigation"
    clause = _CLAUSE_PUNCT_RE.search(line) is not None
    if not clause:
        chunks, mean = _chunks(line)
        if chunks >= 3 and mean <= 4:
            return "navigation"  # 首页 新闻 政务 民生; a spaced headline has longer parts
        if chunks >= 3 and mean <= 8 or chunks >= 5 and mean <= 10:
            return "link list"  # parts longer than that are a spaced headline, kept or dropped by position
        if n <= 80 and _LIST_ITEM_RE.match(line):
            return "link list"
    # A paragraph ends sentences, or is long; a headline or subheading is short.
    if han >= 15:
        if han >= 60 or (han >= 30 and clause):
            return _PARAGRAPH
        if sentence is None:
            sentence = _SENTENCE_PUNCT_RE.search(line) is not None
        if sentence:
            return _PARAGRAPH
    return _SHORT


_ENDED_SENTENCE_RE = sentence_pattern(FULL_STOP)


def _sentences_ended(line: str) -> list[str]:
    """The sentences of a line (a line has no line break) that end with a full stop, as written
    (``split_sentences(line, ends=FULL_STOP, ended=True, strip=False)``)."""
    return [s for s in _ENDED_SENTENCE_RE.findall(line) if s[-1] in FULL_STOP]


def line_kind(line: str) -> str:
    """What one line of a page is: ``"paragraph"`` or ``"short"`` for article text, otherwise the
    reason :func:`clean_article` would remove it (``"navigation"``, ``"link list"``, ``"spam"``,
    ``"footer"``, ``"metadata"``, ``"image caption"``, ``"no text"``).

    >>> line_kind("首页 新闻 政务 民生 专题")
    'navigation'
    >>> line_kind("5月1日,某社区召开居民议事会,居民代表就加装电梯等事项协商讨论。")
    'paragraph'
    """
    line = normalize(line).strip()
    return _classify(line) if line else "no text"


def _mark_list_runs(texts: list[str], labels: list[str]) -> None:
    """Three or more consecutive short bulleted/numbered lines are a link list whatever they say."""
    listed = [bool(t) and len(t) <= 80 and _LIST_ITEM_RE.match(t) is not None for t in texts]
    if sum(listed) < 3:
        return  # fewer than three list items on the page: no run of them
    i = 0
    n = len(texts)
    while i < n:
        j = i
        while j < n and (not texts[j] or listed[j]):
            j += 1
        items = [k for k in range(i, j) if texts[k]]
        if len(items) >= 3:
            for k in items:
                if labels[k] in (_PARAGRAPH, _SHORT, "navigation"):
                    labels[k] = "link list"
        i = max(j, i + 1)


def _is_title_candidate(text: str, label: str) -> bool:
    # A headline has no full stop or semicolon (it may end with ! or ?). A long headline in spaced
    # parts ("习近平在……时强调 再接再厉 锐意进取 ……") reads like a link list on its own.
    if any(p in text for p in "。" + CLAUSE_END) or _han_count(text) < 4:
        return False
    if label in (_SHORT, _PARAGRAPH):
        return len(text) <= 80
    return label == "link list" and len(text) <= 160 and _chunks(text)[1] > 6


def _extract_metadata(line: str) -> dict[str, str]:
    found: dict[str, str] = {}
    m = _DATE_RE.search(line)
    if m:
        y, mo, d = (int(x) for x in m.groups())
        if 1 <= mo <= 12 and 1 <= d <= 31:
            found["date"] = f"{y:04d}-{mo:02d}-{d:02d}"
    m = _SOURCE_RE.search(line)
    if m:
        found["source"] = m.group(1)
    m = _AUTHOR_RE.search(line) or _BYLINE_RE.search(line)
    if m and m.group(1).lower() not in _NON_AUTHORS:
        found["author"] = m.group(1)
    if "source" not in found:
        # "中国网 · 通讯员:朱宁宁 | 发布时间…": a site name before a middle dot.
        m = re.match(f"^([{HAN_UNIFIED}A-Za-z]" r"{2,12})\s*[·•]\s", line)
        if m:
            found["source"] = m.group(1)
    return found


def clean_title(title: Any) -> str | None:
    """A title cleaned as :func:`clean_article` cleans the title it finds in a page: normalised
    (traditional to simplified, half-width, …) with a leading section label cut. Titles from any
    input — a page's ``<title>``, a JSONL or CSV field, a document's properties — go through here,
    so they read like the body. ``None`` when nothing is left.

    >>> clean_title("社區召開居民議事會")
    '社区召开居民议事会'
    """
    if title is None:
        return None
    return _SECTION_LABEL_RE.sub("", normalize(str(title))).strip() or None


def clean_article(raw: str) -> Article:
    """Extract title, date, source, author and body from a scraped news page.

    Drops navigation menus, breadcrumbs, headline/link lists, spam lines (and spam glued to the
    start of a paragraph), copyright/contact footers, image-file captions and repeated lines;
    metadata lines become fields. Every dropped line is kept in ``Article.removed`` with its reason.

    >>> a = clean_article("首页 新闻 政务 民生\\n某社区召开居民议事会\\n发布时间:2023-05-01 来源:某某网\\n"
    ...                   "5月1日,某社区召开居民议事会,居民代表就加装电梯等事项协商讨论。\\n版权所有 未经授权禁止转载")
    >>> a.title, a.date, a.source
    ('某社区召开居民议事会', '2023-05-01', '某某网')
    >>> [r.reason for r in a.removed]
    ['navigation', 'metadata', 'footer']
    """
    if raw is None or not isinstance(raw, str):
        raise ParameterError(f"clean_article() expects the raw page as a str, got {type(raw).__name__}")
    return _clean_article(raw, gated=True)


def _clean_article(raw: str, *, gated: bool) -> Article:
    """:func:`clean_article`; ``gated=False`` runs every line test on every line (the reference
    the tests compare the gated path with)."""
    page = normalize(raw)
    lines = page.split("\n")
    removed: list[tuple[int, RemovedLine]] = []
    texts: list[str]
    # A spam prefix needs one of its suffix words, a mojibake run a mojibake character: a page
    # with neither keeps its lines as they are (the usual case), without a test per line.
    if not gated or _SPAM_PREFIX_HINT_RE.search(page) or _mojibake_char_re().search(page):
        texts = []
        for i, line in enumerate(lines):
            m = _SPAM_PREFIX_RE.match(line)
            if m and _han_count(line[m.end():]) >= 15:
                removed.append((i, RemovedLine(m.group(0), "spam")))
                line = line[m.end():].lstrip()
            runs = _mojibake_runs(line) if line else []
            if runs:
                kept, prev = [], 0
                for a, b in runs:
                    removed.append((i, RemovedLine(line[a:b], "mojibake")))
                    kept.append(line[prev:a])
                    prev = b
                line = ("".join(kept) + line[prev:]).strip()
            texts.append(line)
        page = "\n".join(texts)
    else:
        texts = list(lines)
    gates = _Gates(page) if gated else _ALL_TESTS
    hans = [_han_count(line) if line else 0 for line in texts]
    labels = [_classify(line, han, gates) if line else "" for line, han in zip(texts, hans)]

    _mark_list_runs(texts, labels)
    filled = [i for i, t in enumerate(texts) if t]
    if len(filled) == 1 and labels[filled[0]] in ("navigation", "link list", "footer"):
        # A one-line record (a headline, a JSONL field) with spaced parts or 版权 in it is not page
        # chrome, unless it reads like a menu ("首页 新闻 政务").
        line = texts[filled[0]]
        if _chunks(line)[1] > 3 and not _FOOTER_ONLY_RE.search(line.lower()):
            labels[filled[0]] = _SHORT

    paragraph_idx = [i for i, lab in enumerate(labels) if lab == _PARAGRAPH]
    meta: dict[str, str] = {}
    title_idx: int | None = None
    start = end = len(lines)
    if paragraph_idx:
        # Anchor on the first substantial paragraph: a short teaser line above the headline
        # must not be taken for the start of the article.
        first_par = next((i for i in paragraph_idx if hans[i] >= 40), paragraph_idx[0])
        # Shorter paragraphs above it (a lede, "央视网消息:12号,……。") belong to the article too,
        # and so does a subheading between two paragraphs.
        above = first_par - 1
        while above >= 0:
            if labels[above] == _PARAGRAPH:
                first_par = above
            elif labels[above] == _SHORT:
                higher = next((k for k in range(above - 1, -1, -1) if labels[k]), None)
                if higher is None or labels[higher] != _PARAGRAPH:
                    break
            elif labels[above] != "":
                break
            above -= 1
        # The dateline: the first metadata line before the first paragraph. The title is the
        # nearest headline-like line above it (or above the first paragraph when there is none).
        meta_before = [i for i in range(first_par) if labels[i] == "metadata"]
        anchor = meta_before[0] if meta_before else first_par
        for i in range(anchor - 1, -1, -1):
            if _is_title_candidate(texts[i], labels[i]):
                title_idx = i
                break
            if labels[i] not in ("", "no text", "image caption", "metadata", "spam"):
                break
        if title_idx is None and not meta_before and _is_title_candidate(texts[first_par], labels[first_par]):
            # No headline above the first paragraph: a short first "paragraph" can be the title.
            title_idx = first_par
            paragraph_idx = paragraph_idx[1:] or [first_par]
            first_par = paragraph_idx[0]
        # Between the title (or the dateline) and the first paragraph stand subtitles and section
        # heads ("国内联播快讯"): they belong to the article; chrome there is labelled as such.
        if title_idx is not None:
            start = min(title_idx + 1, first_par)
        else:
            start = min(max(meta_before) + 1 if meta_before else first_par, first_par)
        # The article ends at its last paragraph before the first footer that follows it.
        stop = next((i for i in range(first_par, len(lines)) if labels[i] == "footer"), len(lines))
        end = max((i for i in paragraph_idx if i < stop), default=first_par) + 1
        # Short closing sentences after the last paragraph ("肖捷参加上述活动。") belong to it too.
        after = end
        while after < stop and (labels[after] == "" or (labels[after] == _SHORT and texts[after][-1] in _CLOSERS)):
            if labels[after] == _SHORT:
                end = after + 1
            after += 1
    else:
        # No page structure (a headline, a one-line record, an excerpt): every line that is not
        # page chrome is the body.
        start, end = 0, len(lines)

    title = (clean_title(texts[title_idx]) or "") if title_idx is not None else None
    if title_idx is not None and title != texts[title_idx]:
        removed.append((title_idx, RemovedLine(texts[title_idx][len(title):].strip(), "navigation")))

    body_lines: list[str] = []
    # Exact repeats of a kept line, or of one of its sentences (a page's summary repeating the
    # lead sentence), are duplicates. Sets keep this linear in the length of the page.
    seen: set[str] = set()
    for i, (line, lab) in enumerate(zip(texts, labels)):
        if not line or i == title_idx:
            continue
        if lab == "metadata":
            for key, value in _extract_metadata(line).items():
                meta.setdefault(key, value)
            removed.append((i, RemovedLine(line, "metadata")))
        elif not (start <= i < end):
            removed.append((i, RemovedLine(line, lab if lab not in (_PARAGRAPH, _SHORT) else "outside article")))
        elif lab not in (_PARAGRAPH, _SHORT):
            removed.append((i, RemovedLine(line, lab)))
        elif len(line) >= 10 and line in seen:
            removed.append((i, RemovedLine(line, "duplicate")))
        else:
            body_lines.append(line)
            seen.add(line)
            seen.update(_sentences_ended(line))
    removed.sort(key=lambda pair: pair[0])
    return Article(
        title=title,
        date=meta.get("date"),
        source=meta.get("source"),
        author=meta.get("author"),
        body="\n".join(body_lines),
        removed=tuple(r for _, r in removed),
    )


_DATE_VALUE_RE = re.compile(
    r"^\s*(?:(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?|(\d{4})(\d{2})(\d{2}))"
    r"(?:$|[\sT]\d{1,2}[:：]\d{2}.*$|[\sT]\d{1,2}[时點点].*$)"
)


def parse_date(value: Any) -> str | None:
    """The date in ``value`` as ``YYYY-MM-DD``, or None when it is not a date.

    Reads ``2025-06-12``, ``20250612``, ``2025/6/12``, ``2025.6.12`` and ``2025年6月12日``, each
    optionally followed by a time; also ``datetime.date`` / ``datetime.datetime`` objects.

    >>> parse_date("2025年6月12日 08:30"), parse_date("20250612"), parse_date("yesterday")
    ('2025-06-12', '2025-06-12', None)
    """
    import datetime as _dt

    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    m = _DATE_VALUE_RE.match(value)
    if not m:
        return None
    y, mo, d = (int(x) for x in (m.group(1, 2, 3) if m.group(1) else m.group(4, 5, 6)))
    try:
        return _dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


class EmptyTextError(InputError):
    """A record has no text to analyse: it is empty, or cleaning removed every line of it."""


class TextTooLongError(InputError):
    """A record is longer than a batch handles (:data:`MAX_RECORD_CHARS`); it gets an error row."""


# A record longer than this (a whole dump pasted into one field) is an error row, not a stall.
MAX_RECORD_CHARS = 20_000_000


def usable_text(raw: str | None, *, clean: bool = True) -> tuple[str, Article | None]:
    """The text to analyse in ``raw`` — ``clean_article(raw).text`` when ``clean`` — and the
    :class:`Article` (``None`` without cleaning).

    Raises :class:`EmptyTextError` when there is nothing to analyse, saying why: an empty or
    whitespace-only record, or every line removed (with the reasons), so that a batch gives an
    error row for the record instead of the prediction of an empty text.

    >>> usable_text("新时代文明实践站开展志愿服务")[0]
    '新时代文明实践站开展志愿服务'
    """
    if raw is None or not isinstance(raw, str):
        raise ParameterError(f"expected the record's text as a str, got {type(raw).__name__}")
    if len(raw) > MAX_RECORD_CHARS:
        raise TextTooLongError(f"the text has {len(raw):,} characters; records are limited to "
                               f"{MAX_RECORD_CHARS:,} (split it into documents)")
    if not raw.strip():
        raise EmptyTextError("empty text" if not raw else "the text is only white space")
    if not clean:
        return raw, None
    article = clean_article(raw)
    if not article.text.strip():
        reasons: dict[str, int] = {}
        for r in article.removed:
            reasons[r.reason] = reasons.get(r.reason, 0) + 1
        why = ", ".join(f"{k} ({v})" if v > 1 else k for k, v in reasons.items()) or "no characters with text"
        lines = len(article.removed)
        raise EmptyTextError(f"no text left after cleaning: {lines} line{'s' if lines != 1 else ''} removed as {why}")
    return article.text, article
