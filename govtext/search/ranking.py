"""Rank comparable cases as precedents: a re-ranking of the exact cosine candidates.

Cosine similarity finds texts that share words with a proposal; an analyst wants *precedents*: a
concrete local practice of the same measure. :class:`Ranking` re-orders the top ``candidates``
cosine matches of :meth:`SimilarityIndex.query <govtext.SimilarityIndex.query>` by signals that
the relevance benchmark (``benchmarks/relevance.py``, issue 24) found to separate precedents from
the rest on its dev proposals:

- ``lexical_weight``: the base score is BM25 over the candidates (the query's terms counted in each
  candidate's stored text, saturated by ``k1``, length-normalised by ``b`` against the candidates'
  mean length in characters, weighted by the index's IDF), mixed with the cosine: term repetition
  saturates and long texts are not punished for their length, near-empty items do not win;
- ``passage_weight``: the best paragraph's cosine is mixed into the cosine part, so a round-up that
  treats the measure in one paragraph is judged by that paragraph (re-tokenises paragraphs: slow);
- ``length_pivot``: a length prior ``chars / (chars + pivot)``;
- ``place_weight``: the lowest administrative level the item names (village, community, street or
  town above county or district, above city, above none);
- ``headline_weight``: a title in the form of a place's report (``"杭州上城：…"``), the form local
  practice stories take;
- ``roundup_factor``: round-ups (快讯, 各地…) are weighted down;
- ``central_factor``: central documents, meetings and instructions (the State Council, ministries,
  national leaders, national figures) naming no county-level place are weighted down;
- ``policy_basis``: those central items are listed *after* every other candidate; whatever the
  order, :func:`split_policy_basis` shows them apart as the policy basis;
- ``practice_weight``: the practices the proposal names (quoted phrases, :func:`~govtext.initiatives`,
  and :func:`practice_names`) found whole in the candidate.

Every signal is switched off by its neutral value (0, 1.0 or False), and each match carries a
:class:`Why` that says how it was scored. ``rank="cosine"`` keeps the exact cosine order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from .similarity import Match

__all__ = ["Ranking", "Why", "Candidate", "corpus_practices", "practice_names", "query_practices", "place_level",
           "text_kind", "is_headline", "query_terms", "bm25_scores", "score_candidates", "ranked_order", "rerank",
           "split_policy_basis",
           "PRECEDENT"]

# Administrative levels, lowest (most local) first: the suffix a place name ends with.
_LEVELS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (3, "village, community, street or town", ("村", "社区", "街道", "镇", "乡", "嘎查", "小区", "苏木")),
    (2, "county or district", ("县", "区", "旗")),
    (1, "city", ("市", "州", "盟", "地区")),
)
_LEVEL_NAMES = {3: "village, community, street or town", 2: "county or district", 1: "city", 0: "no place below province"}

_LEADERS = ("习近平|李克强|李强|温家宝|胡锦涛|王沪宁|蔡奇|刘云山|赵乐际|韩正|丁薛祥|王岐山|栗战书|汪洋|张德江|俞正声|"
            "贾庆林|吴邦国|李长春|贺国强|张高丽|李源潮|刘奇葆|孙春兰|胡春华|刘鹤|郭声琨|黄坤明|孟建柱|赵克志|马凯|"
            "刘延东|回良玉|王晨|何立峰|张国清|李希|陈文清|王小洪|吴政隆|谌贻琴|刘国中|李干杰|李书磊")
_CENTRAL_RE = re.compile(
    rf"{_LEADERS}|国务院|中共中央|中央|中宣部|中办|国办|国新办|发布会|常务会议|政治局|全国人大|人大常委会|全国政协|"
    r"印发|批示|指示|座谈会|电视电话会议|会议|部署|《|全国|我国|多部门|部委|国家|十四五|十三五|权威访谈|"
    r"^[^:：]{0,8}(?:部|委|局|总局|办|署)[:：]")
_ROUNDUP_RE = re.compile(r"快讯|各地|多地|简讯|综述|盘点|纵览|各省区市")
_QUOTED_RE = re.compile(r"[“\"「『]([^“”\"「」『』\n]{2,12})[”\"」』]")
_HEADLINE_RE = re.compile(r"^[^，、：:\s]{2,12}[：:]")
_MIN_PARAGRAPH = 20


@lru_cache(maxsize=1)
def _curated() -> tuple[str, ...]:
    text = resources.files("govtext").joinpath("data/practice_names.txt").read_text(encoding="utf-8")
    return tuple(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


def practice_names() -> list[str]:
    """govtext's curated list of named local-governance practices (枫桥经验, 楼道微自治, 接诉即办, …)."""
    return list(_curated())


def corpus_practices(metadata: Iterable[Mapping[str, Any]], *, min_docs: int = 3) -> list[str]:
    """The named initiatives (:func:`~govtext.initiatives`, as a :class:`~govtext.SimilarityIndex`
    stores them under ``initiatives``) that at least ``min_docs`` documents name, most frequent
    first: with :func:`practice_names`, words to keep whole, ``Tokenizer(user_words=...)``.

    >>> corpus_practices([{"initiatives": ["三邻工作法"]}, {"initiatives": ["三邻工作法", "一楼一品"]}], min_docs=2)
    ['三邻工作法']
    """
    if isinstance(min_docs, bool) or not isinstance(min_docs, int) or min_docs < 1:
        raise ParameterError(f"min_docs must be a whole number of at least 1, got {min_docs!r}")
    counts: Counter[str] = Counter()
    for meta in metadata:
        counts.update({n for n in meta.get("initiatives") or [] if isinstance(n, str)})
    return [n for n, c in sorted(counts.items(), key=lambda t: (-t[1], t[0])) if c >= min_docs]


def query_practices(text: str, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The practices a proposal names: its quoted phrases, its :func:`~govtext.initiatives`, and the
    curated :func:`practice_names` (plus ``extra``) it contains; a name inside a longer one found
    is left out.

    >>> query_practices("建议推行“楼道微自治”，推选楼道长")
    ('楼道微自治', '楼道长')
    """
    from .extract import initiatives

    found = list(dict.fromkeys([*_QUOTED_RE.findall(text), *initiatives(text),
                                *(n for n in (*_curated(), *extra) if n in text)]))
    return tuple(n for n in found if not any(n != m and n in m for m in found))


def place_level(places: Sequence[str]) -> tuple[int, str | None]:
    """The lowest administrative level among ``places`` (3 village/community/street/town,
    2 county/district, 1 city, 0 none of these) and the first place at that level.

    >>> place_level(["江苏省", "南京市", "仙林街道"])
    (3, '仙林街道')
    """
    for level, _, suffixes in _LEVELS:
        for p in places:
            if p.endswith(suffixes):
                return level, p
    return 0, None


def text_kind(title: str, level: int) -> str:
    """``"central"`` (a central document, meeting, instruction or national figure naming no
    county-level place), ``"roundup"`` (快讯, 各地 …) or ``"local"`` / ``"other"`` (names a
    county-level place or lower / does not)."""
    if level < 2 and _CENTRAL_RE.search(title):
        return "central"
    if _ROUNDUP_RE.search(title):
        return "roundup"
    return "local" if level >= 2 else "other"


def is_headline(title: str, kind: str) -> bool:
    """A title in the form of a place's report, ``"Place：what happened"`` (2-12 characters before the
    colon), which is how local practice stories are headed; never for central items.

    >>> is_headline("浙江桐乡：小区里的楼道议事会", "other"), is_headline("国务院：部署社区治理", "central")
    (True, False)
    """
    return kind != "central" and bool(_HEADLINE_RE.match(title))


@dataclass(frozen=True)
class Why:
    """How one match was scored by a :class:`Ranking` (``score`` is ``base`` times the factors)."""

    cosine: float  # the document's TF-IDF cosine with the query
    passage: float  # the best paragraph's cosine (equal to cosine when not scored by paragraph)
    chars: int | None  # length of the stored text (None: no text stored)
    length_factor: float
    place: str | None  # the most local place the item names
    level: int  # 3 village/community/street/town, 2 county/district, 1 city, 0 none
    place_factor: float
    kind: str  # local, other, roundup or central
    kind_factor: float
    practices: tuple[str, ...]  # practices of the query named whole in the item
    practice_factor: float
    cosine_rank: int  # rank in the exact cosine order
    score: float  # the ranking score
    lexical: float | None = None  # BM25 of the query over the candidates (None: not used)
    base: float = 0.0  # the mix of BM25 and cosine, each relative to the best candidate's
    headline: bool = False  # titled as a place's report ("Place：…")
    headline_factor: float = 1.0

    @property
    def policy_basis(self) -> bool:
        """A central document, meeting or instruction: the policy basis, shown apart from precedents."""
        return self.kind == "central"

    def __str__(self) -> str:
        parts = [f"cosine {self.cosine:.3f} (rank {self.cosine_rank})"]
        if self.lexical is not None:
            parts.append(f"BM25 {self.lexical:.2f}")
        if self.passage != self.cosine:
            parts.append(f"best paragraph {self.passage:.3f}")
        if self.chars is not None and self.length_factor != 1.0:
            parts.append(f"{self.chars:,} characters ×{self.length_factor:.2f}")
        if self.place_factor != 1.0 or self.place:
            where = f"names {self.place} ({_LEVEL_NAMES[self.level]})" if self.place else _LEVEL_NAMES[0]
            parts.append(f"{where} ×{self.place_factor:.2f}")
        if self.headline:
            parts.append("headed as a place's report" + (f" ×{self.headline_factor:.2f}" if self.headline_factor != 1.0
                                                           else ""))
        kinds = {"central": "central document or meeting: policy basis", "roundup": "round-up",
                 "local": "local story", "other": "no local place"}
        parts.append(kinds[self.kind] + (f" ×{self.kind_factor:.2f}" if self.kind_factor != 1.0 else ""))
        if self.practices:
            parts.append("names " + "、".join(self.practices) + f" ×{self.practice_factor:.2f}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Ranking:
    """How :meth:`SimilarityIndex.query <govtext.SimilarityIndex.query>` orders comparable cases
    (``rank=Ranking(...)``; ``rank="precedent"`` is ``Ranking()``, ``rank="cosine"`` the exact
    cosine order). Each signal is off at its neutral value: ``lexical_weight=0`` (cosine base),
    ``passage_weight=0``, ``length_pivot=0``, ``place_weight=0``, ``headline_weight=0``,
    ``roundup_factor=1``, ``central_factor=1``, ``policy_basis=False``, ``practice_weight=0``. The defaults were chosen
    on the dev proposals of ``benchmarks/relevance.py`` only."""

    candidates: int = 30  # cosine candidates re-ranked
    lexical_weight: float = 1.0  # share of BM25 (over the candidates) in the base score; the rest is cosine
    k1: float = 1.2  # BM25 term-frequency saturation
    b: float = 0.75  # BM25 length normalisation (0: none, 1: full), against the candidates' mean length
    passage_weight: float = 0.0
    length_pivot: float = 0.0
    place_weight: float = 0.5
    headline_weight: float = 0.3
    roundup_factor: float = 0.7
    central_factor: float = 0.7
    policy_basis: bool = False
    practice_weight: float = 0.5
    practices: tuple[str, ...] = ()  # extra practice names, beside the curated list

    def __post_init__(self) -> None:
        checks = [("candidates", self.candidates, 1, None), ("lexical_weight", self.lexical_weight, 0, 1),
                  ("k1", self.k1, 0, None), ("b", self.b, 0, 1), ("passage_weight", self.passage_weight, 0, 1),
                  ("length_pivot", self.length_pivot, 0, None), ("place_weight", self.place_weight, 0, None),
                  ("headline_weight", self.headline_weight, 0, None), ("roundup_factor", self.roundup_factor, 0, 1),
                  ("central_factor", self.central_factor, 0, 1), ("practice_weight", self.practice_weight, 0, None)]
        for name, value, low, high in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value or (
                    high is not None and value > high):
                span = f"from {low} to {high}" if high is not None else f"at least {low}"
                raise ParameterError(f"Ranking.{name} must be a number {span}, got {value!r}")
        if not isinstance(self.candidates, int):
            raise ParameterError(f"Ranking.candidates must be an int, got {self.candidates!r}")
        if not isinstance(self.policy_basis, bool):
            raise ParameterError(f"Ranking.policy_basis must be True or False, got {self.policy_basis!r}")
        if isinstance(self.practices, str) or not all(isinstance(p, str) for p in self.practices):
            raise ParameterError(f"Ranking.practices must be a tuple of names, got {self.practices!r}")


PRECEDENT = Ranking()


def checked_rank(rank: Any) -> Ranking | None:
    """``None`` for the cosine order, else the :class:`Ranking` to apply."""
    if isinstance(rank, Ranking):
        return rank
    if rank == "cosine":
        return None
    if rank == "precedent":
        return PRECEDENT
    raise ParameterError(f"rank must be 'precedent', 'cosine' or a govtext.Ranking, got {rank!r}")


@dataclass(frozen=True)
class Candidate:
    """What the ranking reads of one cosine candidate."""

    cosine: float
    cosine_rank: int  # 1 = best cosine
    text: str | None  # the stored (normalised) text
    metadata: Mapping[str, Any]


def query_terms(query: str, vectorizer: Any) -> list[tuple[str, int, float]]:
    """The query's distinct terms in the vectorizer's vocabulary: (term, times in the query, BM25
    weight), where the weight is the IDF without its smoothing ``+ 1`` (``ln((1 + n) / (1 + df))``,
    close to Lucene's BM25 IDF)."""
    tokens = vectorizer.tokenizer_(query)
    vocab, idf = vectorizer.vocabulary_, vectorizer.idf_
    counts = Counter(t for t in tokens if t in vocab)
    return [(t, c, max(float(idf[vocab[t]]) - 1.0, 0.0)) for t, c in counts.items()]


def bm25_scores(terms: Sequence[tuple[str, int, float]], texts: Sequence[str], *, k1: float, b: float) -> list[float]:
    """BM25 of a query (``terms`` from :func:`query_terms`) over ``texts``: each term's occurrences
    counted in the text (``str.count``, so no re-tokenising), saturated by ``k1``, lengths in
    characters normalised by ``b`` against the mean length of ``texts``.

    >>> [round(x, 2) for x in bm25_scores([("楼道", 1, 2.0)], ["楼道楼道", "楼道议事会在楼道里开"], k1=1.2, b=0.75)]
    [3.13, 2.45]
    """
    if not texts:
        return []
    mean = max(sum(map(len, texts)) / len(texts), 1.0)
    out = []
    for text in texts:
        norm = k1 * (1 - b + b * len(text) / mean)
        total = 0.0
        for term, times, weight in terms:
            tf = text.count(term)
            if tf:
                total += times * weight * tf * (k1 + 1) / (tf + norm)
        out.append(total)
    return out


def _paragraphs(text: str) -> list[str]:
    paras = [p for p in text.split("\n") if len(p.strip()) >= _MIN_PARAGRAPH]
    return paras if len(paras) > 1 else []


def _best_paragraphs(query: str, texts: Sequence[str | None], vectorizer: Any) -> list[float | None]:
    """Each text's best paragraph cosine with ``query`` (None for a text of one paragraph or
    none), all paragraphs vectorised in one call."""
    import numpy as np

    paras: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        for p in _paragraphs(text) if text else []:
            paras.append(p)
            owner.append(i)
    out: list[float | None] = [None] * len(texts)
    if not paras:
        return out
    q = vectorizer.transform([query]).toarray().ravel()
    scores = vectorizer.transform(paras).dot(q)
    for i, score in zip(owner, np.asarray(scores).ravel().tolist()):
        out[i] = score if out[i] is None else max(out[i], score)  # type: ignore[type-var]
    return out


def score_candidates(query: str, candidates: Sequence[Candidate], ranking: Ranking, *,
                     vectorizer: Any) -> list[Why]:
    """How ``ranking`` scores each of ``candidates`` (one :class:`Why` each, in their order)."""
    texts = [c.text for c in candidates]
    practices = query_practices(query, ranking.practices) if ranking.practice_weight else ()
    best = _best_paragraphs(query, texts, vectorizer) if ranking.passage_weight else [None] * len(texts)
    cos = [c.cosine if para is None else (1 - ranking.passage_weight) * c.cosine
           + ranking.passage_weight * max(c.cosine, para) for c, para in zip(candidates, best)]
    lexical: list[float] | None = None
    if ranking.lexical_weight and all(t is not None for t in texts):
        lexical = bm25_scores(query_terms(query, vectorizer), texts, k1=ranking.k1, b=ranking.b)  # type: ignore[arg-type]
    top_cos = max(cos, default=0.0) or 1.0
    top_lex = (max(lexical, default=0.0) or 1.0) if lexical is not None else 1.0
    out = []
    for i, (c, text) in enumerate(zip(candidates, texts)):
        base = cos[i] / top_cos
        if lexical is not None:
            base = ranking.lexical_weight * lexical[i] / top_lex + (1 - ranking.lexical_weight) * base
        chars = len(text) if text is not None else None
        length = chars / (chars + ranking.length_pivot) if chars is not None and ranking.length_pivot else 1.0
        places = c.metadata.get("places") or []
        level, place = place_level([p for p in places if isinstance(p, str)])
        place_factor = 1 + ranking.place_weight * level / 3
        title = str(c.metadata.get("title") or (text.split("\n", 1)[0] if text else ""))
        kind = text_kind(title, level)
        kind_factor = {"roundup": ranking.roundup_factor, "central": ranking.central_factor}.get(kind, 1.0)
        headline = is_headline(title, kind)
        headline_factor = 1 + ranking.headline_weight if headline else 1.0
        named = tuple(p for p in practices if text and p in text)
        practice_factor = 1 + ranking.practice_weight if named else 1.0
        score = base * length * place_factor * headline_factor * kind_factor * practice_factor
        out.append(Why(cosine=c.cosine, passage=best[i] if best[i] is not None and best[i] > c.cosine else c.cosine,
                       chars=chars, length_factor=length, place=place, level=level, place_factor=place_factor,
                       kind=kind, kind_factor=kind_factor, practices=named, practice_factor=practice_factor,
                       cosine_rank=c.cosine_rank, score=score, lexical=None if lexical is None else lexical[i],
                       base=base, headline=headline, headline_factor=headline_factor))
    return out


def ranked_order(whys: Sequence[Why], ranking: Ranking) -> list[int]:
    """Positions of ``whys`` best first: by score (policy-basis items after all others when
    ``ranking.policy_basis``), ties in the cosine order."""
    return sorted(range(len(whys)), key=lambda i: (ranking.policy_basis and whys[i].policy_basis,
                                                   -whys[i].score, whys[i].cosine_rank))


def rerank(query: str, matches: Sequence[Match], ranking: Ranking, *,
           text_of: Callable[[str], str | None], vectorizer: Any) -> list[Match]:
    """``matches`` (cosine candidates, best first) re-ordered by ``ranking``, each with its
    :class:`Why` and its new ``rank``; policy-basis items come after all others when
    ``ranking.policy_basis``. Ties keep the cosine order."""
    whys = score_candidates(query, [Candidate(m.score, m.rank, text_of(m.id), m.metadata) for m in matches], ranking,
                            vectorizer=vectorizer)
    return [replace(matches[i], rank=r + 1, why=whys[i]) for r, i in enumerate(ranked_order(whys, ranking))]


def split_policy_basis(matches: Sequence[Match]) -> tuple[list[Match], list[Match]]:
    """(precedents, policy basis): the matches whose :class:`Why` marks them as central documents,
    meetings or instructions, apart from the rest; order kept. Matches without a ``why`` (the
    cosine order) are all precedents."""
    cases = [m for m in matches if not (m.why is not None and m.why.policy_basis)]
    basis = [m for m in matches if m.why is not None and m.why.policy_basis]
    return cases, basis
