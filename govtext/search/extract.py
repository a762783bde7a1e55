"""Administrative place names and named initiatives in governance news.

Both are heuristics tuned on local governance news; they are meant for filtering and display
(e.g. :class:`~govtext.SimilarityIndex` metadata), not as a gazetteer.
"""

from __future__ import annotations

import re
import threading

from .._common import HAN, HAN_RE, HAN_UNIFIED, SENTENCE_END, SENTENCE_RE, check_tokenizer
from ..text.clean import normalize
from ..errors import ParameterError
from ..text.tokenize import Tokenizer, governance_terms

__all__ = ["initiatives", "keepable_practice", "places", "places_from_tagged"]

# Suffixes of administrative units, longest first.
_ADMIN_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "街道", "社区", "地区", "新区", "省", "市", "区",
                   "县", "镇", "乡", "村")
# Words ending in an administrative suffix that are not names of a place.
_NOT_PLACES = set(
    "全市 我市 本市 该市 各市 城市 都市 超市 市区 上市 股市 门市 夜市 集市 全区 本区 该区 各区 辖区 城区 园区 景区 片区 "
    "小区 社区 地区 专区 分区 街区 校区 灾区 矿区 老区 新区 山区 牧区 库区 厂区 营区 风景区 示范区 试验区 开发区 自贸区 "
    "保护区 功能区 核心区 服务区 全县 本县 该县 各县 郡县 全镇 本镇 该镇 各镇 乡镇 城镇 集镇 小镇 古镇 重镇 全村 本村 "
    "该村 各村 农村 乡村 山村 邻村 渔村 新村 村村 全省 本省 该省 各省 外省 全乡 各乡 家乡 故乡 城乡 下乡 老乡 他乡 "
    "异乡 返乡 回乡 街道 居民区 生活区 住宅区 商业区 工业区 产业园区 高新区 经开区 自治区 部分地区 各地区 其他地区 "
    "有关地区 相关地区 周边地区 沿海地区 内陆地区 边远地区 偏远地区 贫困地区 欠发达地区 发达地区 重点地区 农村地区 "
    "城市地区 民族地区 少数民族地区 受灾地区 大城市 小城市 中小城市 特大城市 超大城市 大中城市 中心城市 省会城市 "
    "城市社区 农村社区 老旧小区 全省区 各省区 多省区 当地政府所在地区".split()
)
# Common nouns that often stand before 社区/街道 without naming a place.
_NOT_NAME_WORDS = set("图书馆 学校 医院 企业 单位 城市 农村 乡村 城乡 基层 现代 未来 智慧 和谐 幸福 美好 文明 平安 "
                      "老旧 完整 熟人 陌生人 居民 群众 党员 干部 服务 建设 治理 工作 活动 力量 资源".split())
# POS tags (jieba's tag set) of words that can name a place.
_SUFFIX_ENDS = frozenset(suffix[-1] for suffix in _ADMIN_SUFFIXES)
_SUFFIX_CLASS = re.compile("[" + "".join(sorted(_SUFFIX_ENDS)) + "]")
_NAME_TAGS = {"n", "nr", "ns", "nz", "nt", "nrt", "j"}
_PLACE_TAGS = {"ns", "nr", "nz", "nt"}
# A bare 区 also means "zone": after a common noun (jieba's plain "n") it makes a common noun (体验区,
# 先行区, 红线区), so such a pair names a district only when it continues an address (常州/ns 金坛/n 区).
_ZONE_SUFFIX = "区"
_HAN_WORD_RE = re.compile(f"^[{HAN}]+$")

_lock = threading.Lock()
_default_tokenizer: Tokenizer | None = None
_known: frozenset[str] | None = None


def _tokenizer(tokenizer: Tokenizer | None) -> Tokenizer:
    """The tokenizer to tag with: the caller's, or one shared default ``Tokenizer()`` (built once)."""
    global _default_tokenizer
    if tokenizer is not None:
        check_tokenizer("places()", tokenizer)
        return tokenizer
    if _default_tokenizer is None:
        with _lock:
            if _default_tokenizer is None:
                _default_tokenizer = Tokenizer()
    return _default_tokenizer


def _known_terms() -> frozenset[str]:
    """Governance terms: words such as 城市社区 end like a place but never name one."""
    global _known
    if _known is None:
        _known = frozenset(governance_terms())
    return _known


def _continues_address(pairs: list[tuple[str, str]], i: int) -> bool:
    """Whether the word before ``pairs[i]`` is a place: tagged ``ns`` or itself ending like a place name."""
    if i == 0:
        return False
    word, tag = pairs[i - 1]
    return tag == "ns" or (len(word) >= 2 and word.endswith(_ADMIN_SUFFIXES) and word not in _NOT_PLACES)


def places_from_tagged(pairs: list[tuple[str, str]]) -> list[str]:
    """Place names from (word, POS tag) pairs, in order of first mention, without repeats."""
    known = _known_terms()
    found: list[str] = []
    for i, (word, tag) in enumerate(pairs):
        if not word or word[-1] not in _SUFFIX_ENDS:
            continue  # every rule below needs a word ending like an administrative suffix
        name = None
        if word in _ADMIN_SUFFIXES and i > 0:
            prev, prev_tag = pairs[i - 1]
            # "瞻江" + "街道", "万融" + "社区": a short name-like word before a bare suffix
            if (2 <= len(prev) <= 6 and _HAN_WORD_RE.match(prev) and prev_tag in _NAME_TAGS
                    and prev not in _NOT_NAME_WORDS and prev not in known
                    and not prev.endswith(_ADMIN_SUFFIXES) and prev + word not in _NOT_PLACES
                    and not (word == _ZONE_SUFFIX and prev_tag == "n" and not _continues_address(pairs, i - 1))):
                name = prev + word
        elif (len(word) >= 3 and _HAN_WORD_RE.match(word) and word.endswith(_ADMIN_SUFFIXES)
              and word not in _NOT_PLACES and word not in known and tag in _PLACE_TAGS):
            name = word
        if name and name not in found:
            found.append(name)
    return found


def places(text: str, *, tokenizer: Tokenizer | None = None, normalized: bool = False) -> list[str]:
    """Administrative place names in order of first mention: 省/市/区/县/街道/镇/乡/社区/村 and the like.

    Words are tagged with ``tokenizer`` (its engine and user words; default ``Tokenizer()``).
    ``normalized=True`` says the text is already ``normalize()``-d.

    >>> places("无锡市梁溪区瞻江街道万融社区举行文明楼道揭幕仪式")
    ['无锡市', '梁溪区', '瞻江街道', '万融社区']
    """
    if not isinstance(text, str):
        raise ParameterError(f"places() expects a str, got {type(text).__name__}")
    prepared = text if normalized else normalize(text)
    # Only sentences with a character that ends an administrative suffix can name a place. The
    # segmenter never joins words across sentence ends or line breaks, so tagging just those
    # sentences, one a line, gives the same words and tags as tagging the whole text.
    relevant = "\n".join(s for s in SENTENCE_RE.findall(prepared) if _SUFFIX_CLASS.search(s))
    return places_from_tagged(_tokenizer(tokenizer).tag(relevant, normalized=True)) if relevant else []


_QUOTED_RE = re.compile(r"[“\"「『]([^“”\"「」『』\n]{2,14})[”\"」』]")
_INITIATIVE_SUFFIXES = (
    "工作法", "法", "制", "工程", "行动", "计划", "模式", "机制", "品牌", "项目", "驿站", "站", "课堂", "工作室", "服务队",
    "志愿队", "联盟", "体系", "平台", "中心", "之家", "超市", "议事厅", "议事会", "会客厅", "管家", "物业", "网格", "书记",
    "讲堂", "微实事", "微心愿", "一张网", "一件事", "共同体", "楼", "楼道", "小院", "食堂",
)
# Numbered formulas: 一楼一品 / 一月一课一片一实践 (一X一X…), or 三邻 / 五社联动 / 三方联席会议 (二…十 + name).
_NUMBERED_RE = re.compile(f"^(?:[一两双][{HAN_UNIFIED}][一两双二三四五六七八九十][{HAN_UNIFIED}]"
                          r"|[二三四五六七八九十][^一二三四五六七八九十百千万\d])")
_NOT_INITIATIVE_END = tuple("的了吗呢吧啊")
_NOT_IN_NAME = SENTENCE_END + ",:"  # of normalized text: full-width ，：！？； are ASCII by then


def initiatives(text: str, *, normalized: bool = False) -> list[str]:
    """Named initiatives, usually quoted: “三邻工作法”, “一楼一品”, “红色物业”, “幸福议事厅”.

    A quoted phrase of 2–14 characters counts when it ends like an initiative (…工作法, …制,
    …工程, …驿站, …议事厅, …) or is a numbered formula (一楼一品, 五社联动, 党建+楼道).
    Quoted slogans such as “小切口” do not count. ``normalized=True`` says the text is already
    ``normalize()``-d.

    >>> initiatives("推行“邻长制”,创新实践“三邻工作法”,以“小切口”推动“大治理”")
    ['邻长制', '三邻工作法']
    """
    if not isinstance(text, str):
        raise ParameterError(f"initiatives() expects a str, got {type(text).__name__}")
    if not normalized:
        text = normalize(text)
    found: list[str] = []
    for match in _QUOTED_RE.finditer(text):
        name = match.group(1).strip()
        if len(name) < 2 or name.endswith(_NOT_INITIATIVE_END) or any(c in name for c in _NOT_IN_NAME):
            continue
        numbered = _NUMBERED_RE.match(name) is not None
        if name.endswith(_INITIATIVE_SUFFIXES) or numbered or "+" in name:
            if name not in found:
                found.append(name)
    return found


# A word the segmenter can keep whole: it only ever sees runs of these characters (jieba's blocks).
_SEGMENTABLE_RE = re.compile(f"^[{HAN_UNIFIED}A-Za-z0-9+]+$")
PRACTICE_CHARS = (3, 10)  # the lengths of a corpus practice name kept whole


def keepable_practice(name: str) -> bool:
    """Whether a practice name found in a corpus is kept whole by the tokenizer: 3 to 10 characters
    the segmenter reads as one run (Han, Latin letters, digits, ``+``; no space or punctuation), some
    of them Han, and more than a bare initiative ending (工作法, 联盟 …). Two-character names (三农,
    减法) are mostly common words already, and longer ones are slogans whose words should stay
    searchable.

    >>> [keepable_practice(n) for n in ("三邻工作法", "工作法", "减法", "大手牵小手 西部暖冬行动", "互联网+")]
    [True, False, False, False, True]
    """
    low, high = PRACTICE_CHARS
    return (low <= len(name) <= high and bool(_SEGMENTABLE_RE.match(name)) and bool(HAN_RE.search(name))
            and name not in _INITIATIVE_SUFFIXES)
