"""Dictionary methods: lexicon counts against hand-counted fixtures, KWIC and lexicon expansion on
real text, the count/kwic commands with the batch guarantees, and the tokenisation counting needs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone

import govtext
from govtext import LexiconCounter, Tokenizer, WordVectors, expand_lexicon, kwic
from govtext.apps.cli import main

from .conftest import SHARED, _need, read_xwlb

LEXICON = {"civility": ["文明", "文明楼道", "文明实践", "移风易俗"], "party": ["党建", "党建引领", "党支部"],
           "co_governance": ["议事会", "居民议事会", "共建共治共享"]}
EXCLUDE = ["生态文明", "中华文明"]

# Each text with the hits a person counted by hand: leftmost-longest, exclusions cover their characters.
FIXTURES = [
    ("创建文明楼道,建设生态文明,倡导文明新风。", {"civility": 2, "party": 0, "co_governance": 0}),  # 文明楼道 + 文明
    ("新时代文明实践站开展移风易俗宣传,弘扬中华文明。", {"civility": 2, "party": 0, "co_governance": 0}),
    ("党建引领基层治理,社区党支部召开居民议事会,议事会形成共识。", {"civility": 0, "party": 2, "co_governance": 2}),
    ("坚持共建共治共享,抓党建促发展。", {"civility": 0, "party": 1, "co_governance": 1}),
    ("今年一季度外贸进出口增长。", {"civility": 0, "party": 0, "co_governance": 0}),
    ("創建文明樓道", {"civility": 1, "party": 0, "co_governance": 0}),  # traditional script, normalised first
]


def test_counts_match_hand_counted_fixtures():
    counter = LexiconCounter(LEXICON, exclusions=EXCLUDE, normalize=None).fit()
    hits = counter.transform([t for t, _ in FIXTURES])
    expected = np.array([[e[c] for c in counter.categories_] for _, e in FIXTURES], dtype=float)
    np.testing.assert_array_equal(hits, expected)
    _, _, terms = counter.count([FIXTURES[0][0], FIXTURES[2][0]])
    assert terms[0] == {"文明楼道": 1, "文明": 1}
    assert terms[1] == {"党建引领": 1, "党支部": 1, "居民议事会": 1, "议事会": 1}


def test_per_1k_tokens_uses_the_tokenizer_with_the_terms_kept_whole():
    counter = LexiconCounter(LEXICON, exclusions=EXCLUDE).fit()
    text = FIXTURES[2][0]
    tokens = counter.tokenizer_(text)
    assert "居民议事会" in tokens and "党建引领" in tokens
    rate = counter.transform([text])[0]
    assert rate[counter.categories_.index("party")] == pytest.approx(2 * 1000 / len(tokens))
    frame = counter.to_frame([text, ""], ids=["a", "b"])
    assert list(frame.loc["b", ["tokens", "party", "party_per_1k"]]) == [0, 0, 0.0]
    assert frame.loc["a", "party_per_1k"] == pytest.approx(rate[counter.categories_.index("party")])


def test_lexicon_file_default_seed_terms_and_scikit_learn_protocol(tmp_path):
    path = tmp_path / "lex.tsv"
    path.write_text("# my lexicon\ncivility\t文明楼道\ncivility\t文明\nexclude\t生态文明\nparty\t党支部\n", encoding="utf-8")
    lexicon, exclusions = govtext.read_lexicon(path)
    assert lexicon == {"civility": ["文明楼道", "文明"], "party": ["党支部"]} and exclusions == ["生态文明"]
    counter = LexiconCounter(str(path), normalize=None)
    assert counter.fit_transform(["文明楼道 生态文明 党支部"]).tolist() == [[1.0, 1.0]]
    assert clone(counter).get_params()["lexicon"] == str(path)
    (tmp_path / "bad.tsv").write_text("civility 文明\n", encoding="utf-8")
    with pytest.raises(govtext.InputError, match="line 1"):
        govtext.read_lexicon(tmp_path / "bad.tsv")
    seeds = LexiconCounter().fit()  # govtext's seed terms, with their exclusions
    assert seeds.categories_ == list(govtext.THEMES) and "生态文明" in seeds.exclusions_
    with pytest.raises(govtext.ParameterError, match="normalize"):
        LexiconCounter(LEXICON, normalize="per_word").fit()
    with pytest.raises(govtext.NotFittedError):
        LexiconCounter(LEXICON).transform(["文明"])


def test_seed_lexicon_separates_coded_local_news():
    path = _need(SHARED / "labels" / "local_themes.jsonl")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")][:300]
    counter = LexiconCounter().fit()
    rates = counter.transform([r["text"] for r in rows])
    for j, theme in enumerate(counter.categories_):
        coded = np.array([r[theme] for r in rows]) == 1
        assert rates[coded, j].mean() > 2 * rates[~coded, j].mean(), theme


def test_kwic_on_real_text():
    items = [it for it in read_xwlb(400, step=50) if "文明" in it["text"]]
    assert items
    lines = kwic([it["text"] for it in items], "文明", window=12, ids=[it["id"] for it in items])
    assert len(lines) >= len(items)
    by_id = {it["id"]: govtext.normalize(it["text"]) for it in items}
    for line in list(lines)[:200]:
        text = by_id[line.doc_id]
        assert text[line.position : line.position + 2] == "文明"
        assert text[max(0, line.position - 12) : line.position].replace("\n", " ") == line.left
        assert len(line.right) <= 12
    frame = lines.to_frame()
    assert list(frame.columns) == ["doc_id", "position", "left", "term", "right"] and len(frame) == len(lines)
    assert "【文明】" in str(lines)
    assert len(kwic([it["text"] for it in items], "文明", limit=3)) == 3


def test_coverage_says_inside_a_longer_term_and_small_big_formulas_survive():
    report = govtext.coverage(["新时代文明实践站开展活动"], ["文明实践", "新时代文明实践站", "楼道长"])
    assert [t.status for t in report.terms] == ["inside", "ok", "absent"]
    assert report.inside == ["文明实践"] and "inside a longer term" in str(report)
    assert Tokenizer()("以小切口推动大治理,小网格大服务") == ["小切口", "推动", "大治理", "小网格", "大服务"]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_cli_count_keeps_the_batch_guarantees(tmp_path, capsys):
    rows = [{"id": f"r{i}", "text": t} for i, (t, _) in enumerate(FIXTURES)] + [{"id": "empty", "text": ""}]
    _write_jsonl(tmp_path / "in.jsonl", rows)
    lex = tmp_path / "lex.tsv"
    lex.write_text("".join(f"{c}\t{t}\n" for c, ts in LEXICON.items() for t in ts)
                   + "".join(f"exclude\t{e}\n" for e in EXCLUDE), encoding="utf-8")
    assert main(["count", str(tmp_path / "in.jsonl"), "--lexicon", str(lex), "--no-clean", "-q"]) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in out] == [r["id"] for r in rows]  # one row per record, in order
    assert out[-1]["error"] and all("error" not in r or r["error"] is None for r in out[:-1])
    assert [(r["civility"], r["party"], r["co_governance"]) for r in out[:-1]] == \
        [(e["civility"], e["party"], e["co_governance"]) for _, e in FIXTURES]
    one = tmp_path / "one.csv"
    two = tmp_path / "two.csv"
    assert main(["count", str(tmp_path / "in.jsonl"), "--lexicon", str(lex), "-o", str(one), "-q",
                 "--chunk-size", "2"]) == 1
    assert main(["count", str(tmp_path / "in.jsonl"), "--lexicon", str(lex), "-o", str(two), "-q",
                 "--chunk-size", "2", "--n-jobs", "2"]) == 1
    assert one.read_bytes() == two.read_bytes()


def test_cli_kwic(tmp_path, capsys):
    _write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "建设生态文明,创建文明城市"}, {"id": "b", "text": "居民议事会"}])
    assert main(["kwic", "文明", str(tmp_path / "in.jsonl"), "--json", "--window", "3", "--no-clean", "-q"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["left"], r["right"]) for r in lines] == [("a", "设生态", ",创建"), ("a", ",创建", "城市")]


def test_word_vectors_train_save_load_and_expand(tmp_path):
    rng = np.random.default_rng(0)
    civic = ["志愿者", "志愿服务", "文明城市", "移风易俗", "好人"]
    party = ["党支部", "党员", "党建", "组织生活会", "书记"]
    texts = []
    for _ in range(400):
        group = civic if rng.random() < 0.5 else party
        texts.append("。".join("".join(rng.choice(group, size=4)) for _ in range(3)))
    vectors = WordVectors.train(texts, dim=4, window=3, min_count=2)
    assert set(civic + party) <= set(vectors.terms)
    near = [n.term for n in vectors.most_similar("志愿服务", k=3)]
    assert set(near) <= set(civic)
    vectors.save(tmp_path / "wv")
    again = govtext.load(tmp_path / "wv")
    assert again.terms == vectors.terms and np.allclose(again.vectors, vectors.vectors)
    found = expand_lexicon(vectors, {"civility": ["志愿服务", "文明城市"], "party": ["党支部"]}, k=3)
    assert all(c.term not in ("志愿服务", "文明城市", "党支部") for cands in found.values() for c in cands)
    assert {c.term for c in found["civility"]} <= set(civic) and {c.term for c in found["party"]} <= set(party)
    assert all(set(c.seeds) <= {"志愿服务", "文明城市"} for c in found["civility"])
    with pytest.raises(govtext.InputError, match="none of the seeds"):
        expand_lexicon(vectors, {"x": ["不存在的词"]})


@pytest.mark.slow
def test_word_vectors_on_real_news_find_governance_neighbours():
    texts = [it["text"] for it in read_xwlb(20000, step=3) if it["text"].strip()]
    vectors = WordVectors.train(texts)
    near = {w: [n.term for n in vectors.most_similar(w, k=10)] for w in ("志愿服务", "党支部")}
    assert "志愿者" in near["志愿服务"], near
    assert {"党总支", "村支部", "党员", "党组织", "村党支部"} & set(near["党支部"]), near
    found = expand_lexicon(vectors, {"civility": ["志愿服务", "移风易俗"], "party": ["党支部", "党员"]}, k=15)
    civility = {c.term for c in found["civility"]}
    assert {"志愿者", "学雷锋", "文明实践", "新风尚", "社会风尚", "志愿服务队"} & civility, civility
    assert not civility & {"志愿服务", "移风易俗", "党支部", "党员"}
    assert all(c.seeds for c in found["civility"][:5])  # the best candidates are some seed's neighbours
