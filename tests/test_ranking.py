"""The precedent ranking (govtext.search.ranking): each signal on small fixtures, switched on and off."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from govtext import ParameterError, Ranking, SimilarityIndex, Vectorizer, Why, split_policy_basis
from govtext.search.ranking import place_level, query_practices, rerank, text_kind
from govtext.search.similarity import Match

OFF = Ranking(lexical_weight=0, passage_weight=0, length_pivot=0, place_weight=0, headline_weight=0,
              roundup_factor=1.0, central_factor=1.0, policy_basis=False, practice_weight=0)
LONG = "居民推选楼道长，制定楼道公约，商量堆物清理和照明维修，社区居委会给予指导和经费支持。" * 3


def _rank(matches, texts, ranking, query="推行楼道自治"):
    vec = Vectorizer().fit(list(texts.values()) + [query])
    return rerank(query, matches, ranking, text_of=texts.get, vectorizer=vec)


def _m(doc_id, score, rank, **meta):
    return Match(id=doc_id, score=score, rank=rank, metadata=meta)


def test_all_signals_off_keep_the_cosine_order():
    texts = {"a": "楼道", "b": LONG, "c": "国务院常务会议部署楼道自治"}
    ms = [_m("a", 0.5, 1), _m("b", 0.4, 2), _m("c", 0.3, 3, title="国务院常务会议")]
    out = _rank(ms, texts, OFF)
    assert [m.id for m in out] == ["a", "b", "c"] and [m.rank for m in out] == [1, 2, 3]
    assert all(m.why.score == pytest.approx(m.score / 0.5) for m in out)  # relative to the best cosine
    assert all(m.why.lexical is None for m in out)


def test_bm25_base_saturates_repeats_and_normalises_length():
    from govtext.search.ranking import bm25_scores, query_terms

    vec = Vectorizer().fit(["社区推行楼道议事", "社区楼道", "植树造林"])
    q = "社区楼道，楼道，植树造林，造房子"
    terms = {t: (n, w) for t, n, w in query_terms(q, vec)}
    tokens = vec.tokenizer_(q)
    assert set(terms) == set(tokens) & set(vec.vocabulary_) and "房子" not in terms  # vocabulary terms only
    assert terms["楼道"][0] == tokens.count("楼道") == 2
    assert terms["植树造林"][1] > terms["社区"][1] > 0  # rarer terms weigh more (社区 is in two documents)
    one, many = bm25_scores([("楼道", 1, 1.0)], ["楼道" + "某" * 20, "楼道" * 11], k1=1.2, b=0)
    assert one == pytest.approx(1.0) and 1.0 < many < 2.2  # eleven times is worth less than (k1 + 1) times once
    short, long = bm25_scores([("楼道", 1, 1.0)], ["楼道" + "某" * 8, "楼道" + "某" * 98], k1=1.2, b=0.75)
    assert short > long  # the same count in a longer text weighs less ...
    assert bm25_scores([("楼道", 1, 1.0)], ["楼道" + "某" * 8, "楼道" + "某" * 98], k1=1.2, b=0) == [1.0, 1.0]  # ... unless b=0
    texts = {"rep": "楼道楼道楼道楼道楼道楼道" + "某" * 30, "both": "楼道自治" + "某" * 30}
    ms = [_m("rep", 0.60, 1), _m("both", 0.40, 2)]
    on = _rank(ms, texts, dataclasses.replace(OFF, lexical_weight=1.0))
    assert [m.id for m in on] == ["both", "rep"] and on[0].why.lexical > on[1].why.lexical
    assert "BM25" in str(on[0].why)
    assert [m.id for m in _rank(ms, texts, OFF)] == ["rep", "both"]


def test_a_place_report_headline_is_weighted_up():
    from govtext.search.ranking import is_headline

    texts = {"h": LONG, "n": LONG}
    ms = [_m("n", 0.40, 1, title="楼道里的议事会"), _m("h", 0.38, 2, title="浙江桐乡：楼道里的议事会")]
    on = _rank(ms, texts, dataclasses.replace(OFF, headline_weight=0.3))
    assert [m.id for m in on] == ["h", "n"] and on[0].why.headline and on[0].why.headline_factor == 1.3
    assert "place's report" in str(on[0].why)
    assert not is_headline("国务院：部署社区治理", "central") and not is_headline("在社区里，大家说：好", "other")


def test_length_prior_stops_near_empty_items_winning():
    texts = {"short": "楼道自治", "long": LONG}
    ms = [_m("short", 0.50, 1), _m("long", 0.40, 2)]
    on = _rank(ms, texts, dataclasses.replace(OFF, length_pivot=100))
    assert [m.id for m in on] == ["long", "short"]
    assert on[1].why.chars == 4 and on[1].why.length_factor == pytest.approx(4 / 104)
    assert "4 characters" in str(on[1].why)


def test_a_street_or_village_outranks_a_city_and_no_place():
    texts = {d: LONG for d in "xyz"}
    ms = [_m("x", 0.40, 1, places=["北京市"]), _m("y", 0.40, 2), _m("z", 0.40, 3, places=["南京市", "仙林街道"])]
    on = _rank(ms, texts, dataclasses.replace(OFF, place_weight=0.5))
    assert [m.id for m in on] == ["z", "x", "y"]
    assert (on[0].why.level, on[0].why.place) == (3, "仙林街道") and "仙林街道" in str(on[0].why)
    assert place_level(["浙江省", "桐乡市", "高桥镇"]) == (3, "高桥镇")
    assert place_level(["浙江省"]) == (0, None)


def test_central_documents_come_after_the_precedents_as_policy_basis():
    texts = {"c": LONG, "l": LONG}
    ms = [_m("c", 0.60, 1, title="国务院常务会议部署推进基层治理"), _m("l", 0.30, 2, title="杭州：小区推行楼道自治",
                                                                 places=["上城区"])]
    on = _rank(ms, texts, dataclasses.replace(OFF, policy_basis=True))
    assert [m.id for m in on] == ["l", "c"] and on[1].why.policy_basis and on[1].why.kind == "central"
    cases, basis = split_policy_basis(on)
    assert [m.id for m in cases] == ["l"] and [m.id for m in basis] == ["c"]
    assert [m.id for m in _rank(ms, texts, OFF)] == ["c", "l"]  # switched off: cosine order
    down = _rank(ms, texts, dataclasses.replace(OFF, central_factor=0.4))  # weighted down, not moved apart
    assert [m.id for m in down] == ["l", "c"] and down[1].why.kind_factor == 0.4 and "×0.40" in str(down[1].why)
    assert [m.id for m in _rank(ms, texts, dataclasses.replace(OFF, central_factor=0.7))] == ["c", "l"]
    # a central visit that names a community is a local story, not policy basis
    assert text_kind("习近平在上海考察", 3) == "local" and text_kind("习近平在上海考察", 0) == "central"
    assert split_policy_basis([_m("x", 0.1, 1)]) == ([_m("x", 0.1, 1)], [])


def test_roundups_are_weighted_down():
    texts = {"r": LONG, "s": LONG}
    ms = [_m("r", 0.40, 1, title="国内联播快讯"), _m("s", 0.35, 2, title="楼道里的议事会")]
    on = _rank(ms, texts, dataclasses.replace(OFF, roundup_factor=0.7))
    assert [m.id for m in on] == ["s", "r"] and on[1].why.kind == "roundup" and on[1].why.kind_factor == 0.7


def test_a_roundup_is_scored_by_its_best_paragraph():
    other = "各地开展植树造林活动，绿化面积持续增加。" * 3
    roundup = other + "\n" + "某街道推行楼道自治，推选楼道长，制定楼道公约。" + "\n" + other
    texts = {"r": roundup}
    out = _rank([_m("r", 0.10, 1)], texts, dataclasses.replace(OFF, passage_weight=0.5), query="推行楼道自治，推选楼道长")
    assert out[0].why.passage > 0.10 and out[0].why.score > 0.10
    assert "best paragraph" in str(out[0].why)


def test_practices_named_whole_in_the_query_and_the_candidate():
    assert query_practices("关于推行“楼道微自治”的建议，推选楼道长") == ("楼道微自治", "楼道长")
    assert query_practices("学习枫桥经验和新时代枫桥经验") == ("新时代枫桥经验",)
    texts = {"a": LONG, "b": LONG.replace("楼道长", "楼道的长") + "楼道微自治"}
    ms = [_m("a", 0.40, 1), _m("b", 0.35, 2)]
    on = _rank(ms, texts, dataclasses.replace(OFF, practice_weight=0.5), query="推行“楼道微自治”")
    assert [m.id for m in on] == ["b", "a"] and on[0].why.practices == ("楼道微自治",)


def test_ranking_checks_its_parameters():
    for bad in ({"candidates": 0}, {"passage_weight": 2}, {"roundup_factor": -1}, {"policy_basis": 1},
                {"practices": "楼道"}, {"length_pivot": True}, {"lexical_weight": 1.5}, {"k1": -1}, {"b": 2},
                {"headline_weight": "x"}, {"central_factor": 1.2}):
        with pytest.raises(ParameterError):
            Ranking(**bad)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Ranking().candidates = 5  # type: ignore[misc]
    assert dataclasses.is_dataclass(Why)


DOCS = [
    ("gov", "国务院常务会议部署推进楼道自治和社区治理工作", {"title": "国务院常务会议部署社区治理"}),
    ("xl", "南京市栖霞区仙林街道推行楼道自治。" + LONG, {"title": "南京仙林街道：楼道里的自治"}),
    ("tiny", "楼道自治", {"title": "楼道自治"}),
    ("city", "某市召开会议研究楼道自治。" + LONG, {"title": "某市研究楼道自治"}),
    ("other", "各地开展植树造林活动，绿化面积持续增加。", {"title": "植树"}),
]


@pytest.fixture(scope="module")
def small():
    return SimilarityIndex(progress=False).fit([t for _, t, _ in DOCS], ids=[d for d, _, _ in DOCS],
                                               metadata=[m for _, _, m in DOCS])


def test_rank_cosine_is_the_exact_cosine_order(small):
    q = "推行楼道自治，推选楼道长"
    got = small.query(q, k=5, rank="cosine")
    Q = small.vectorizer_.transform([q]).toarray()[0]
    X = small.vectorizer_.transform([t for _, t, _ in DOCS]).toarray()
    scores = X @ Q
    want = [DOCS[i][0] for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    assert [m.id for m in got] == want and all(m.why is None for m in got)
    assert np.allclose([m.score for m in got], sorted(scores[scores > 0], reverse=True), atol=1e-6)


def test_default_query_ranks_precedents_and_explains(small):
    q = "推行楼道自治，推选楼道长"
    got = small.query(q, k=5)
    ids = [m.id for m in got]
    assert ids[0] == "xl" and ids[-1] == "gov"  # a street's practice first, the State Council item last
    assert ids.index("tiny") > ids.index("city")
    assert all(isinstance(m.why, Why) and str(m.why).startswith("cosine ") for m in got)
    assert [m.rank for m in got] == list(range(1, len(got) + 1)) and "other" not in ids  # shares no term
    assert [m.id for m in small.query(q, k=2)] == ids[:2]
    assert small.query_many([q], k=5, rank=Ranking())[0] == got
    # the index path (records built for the kept matches only) equals re-ranking the cosine matches
    cos = small.query(q, k=Ranking().candidates, rank="cosine")
    again = rerank(q, cos, Ranking(), text_of=small._text_of, vectorizer=small.vectorizer_)[:5]
    assert [(m.id, m.rank, m.why) for m in again] == [(m.id, m.rank, m.why) for m in got]
    with pytest.raises(ParameterError):
        small.query(q, rank="bm25")


def test_practice_names_kept_whole_by_a_tokenizer_given_them():
    from govtext import Tokenizer, corpus_practices, practice_names

    assert "楼道微自治" in practice_names() and "枫桥经验" in practice_names()
    assert "楼道微自治" not in Tokenizer()("推行楼道微自治")  # the default tokenizer splits it
    assert Tokenizer(user_words=practice_names())("推行楼道微自治和党员中心户") == ["推行", "楼道微自治", "党员中心户"]
    meta = [{"initiatives": ["三邻工作法", "一楼一品"]}, {"initiatives": ["三邻工作法"]}, {}, {"initiatives": None}]
    assert corpus_practices(meta, min_docs=2) == ["三邻工作法"]
    assert corpus_practices(meta, min_docs=1) == ["三邻工作法", "一楼一品"]
    with pytest.raises(ParameterError):
        corpus_practices(meta, min_docs=0)
