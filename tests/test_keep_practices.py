"""SimilarityIndex(keep_practices=True): practice names kept whole by the index's tokenizer."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone

import govtext
from govtext import ParameterError, SimilarityIndex, Tokenizer, practice_names
from govtext.persist import IncompatibleModelError
from govtext.search._build import practice_vocabulary, with_user_words
from govtext.search.extract import keepable_practice

# Written for these tests: three items name “三邻工作法” (a name not in the curated list), one “一楼一品”.
DOCS = [
    ("xl", "南京市栖霞区仙林街道推行楼道微自治，每个单元推选楼道长，居民商量制定楼道公约。"),
    ("sl1", "常州某社区推行“三邻工作法”，邻里互助，楼道长带头。"),
    ("sl2", "另一个社区学习“三邻工作法”，组织邻里议事。"),
    ("sl3", "推广“三邻工作法”，并开展“一楼一品”创建。"),
    ("ld", "某小区楼道堆物清理，物业公司上门服务。"),
    ("gov", "国务院常务会议部署推进城乡社区治理。"),
]
HEADLINES = ["楼道微自治", "推行三邻工作法", "“一楼一品”", "枫桥经验60年", "【快讯】国务院常务会议", "积分超市开张",
             "News: 社区 party building", "楼道", "自治", "三邻", "ｗｗｗ.ｇｏｖ.ｃｎ　楼道微自治！！", "60"]


@pytest.fixture(scope="module")
def kept() -> SimilarityIndex:
    return SimilarityIndex(keep_practices=True).fit([t for _, t in DOCS], ids=[i for i, _ in DOCS])


def test_names_are_kept_whole_for_documents_and_queries(kept):
    tok = kept.vectorizer_.tokenizer_
    assert Tokenizer()("推行楼道微自治") == ["推行", "楼道", "微自治"]
    assert tok("推行楼道微自治和三邻工作法") == ["推行", "楼道微自治", "三邻工作法"]
    assert "楼道微自治" in kept.vectorizer_.vocabulary_ and "三邻工作法" in kept.vectorizer_.vocabulary_
    # the curated list first, then the corpus's initiatives named in at least practice_min_docs (3) texts
    assert kept.practice_words_[:len(practice_names())] == practice_names()
    assert "三邻工作法" in kept.practice_words_ and "一楼一品" not in kept.practice_words_[len(practice_names()):]
    assert kept.tokenizer is None  # the parameter is unchanged
    # the default index splits the name; this one finds the one text that names it whole
    plain = SimilarityIndex().fit([t for _, t in DOCS], ids=[i for i, _ in DOCS])
    assert "楼道微自治" not in plain.vectorizer_.vocabulary_
    assert [m.id for m in kept.query("楼道微自治", rank="cosine")] == ["xl"]
    assert "ld" in [m.id for m in plain.query("楼道微自治", rank="cosine")]


def test_rank_cosine_is_exact_on_the_index_tokens(kept):
    q = "在老旧小区推行楼道微自治，学习三邻工作法"
    got = kept.query(q, k=10, rank="cosine")
    vec = kept.vectorizer_
    scores = vec.transform([t for _, t in DOCS]).toarray() @ vec.transform([q]).toarray()[0]
    want = [DOCS[i][0] for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
    assert [m.id for m in got] == want
    assert np.allclose([m.score for m in got], sorted(scores[scores > 0], reverse=True), atol=1e-6)
    assert kept.query(q, k=3)  # the precedent ranking runs on the same tokens


def test_min_docs_and_texts_without_extracted_metadata():
    texts = [t for _, t in DOCS]
    two = SimilarityIndex(keep_practices=True, practice_min_docs=1, extract_metadata=False).fit(texts)
    assert "三邻工作法" in two.practice_words_ and "一楼一品" in two.practice_words_  # read from the texts
    assert two.metadata_[0] == {}
    four = SimilarityIndex(keep_practices=True, practice_min_docs=4).fit(texts)
    assert "三邻工作法" not in four.practice_words_ and "楼道微自治" in four.practice_words_


def test_user_words_of_the_tokenizer_given_are_kept():
    tok = Tokenizer(user_words=["文明楼道", "楼道微自治"])
    index = SimilarityIndex(tokenizer=tok, keep_practices=True).fit([t for _, t in DOCS])
    words = index.vectorizer_.tokenizer_.user_words
    assert words[:2] == ["文明楼道", "楼道微自治"] and words.count("楼道微自治") == 1
    assert "楼道微自治" not in index.practice_words_ and words[2:] == index.practice_words_
    assert tok.user_words == ["文明楼道", "楼道微自治"]  # the tokenizer given is not changed


def test_parameters_follow_scikit_learn_conventions():
    index = SimilarityIndex(keep_practices=True, practice_min_docs=5)
    assert index.get_params()["keep_practices"] is True and index.get_params()["practice_min_docs"] == 5
    assert clone(index).get_params() == index.get_params()
    assert index.set_params(practice_min_docs=2).practice_min_docs == 2
    for bad in ({"keep_practices": "yes"}, {"practice_min_docs": 0}, {"practice_min_docs": 2.5}):
        with pytest.raises(ParameterError):
            SimilarityIndex(**bad).fit(["社区推行楼道微自治"])
    assert SimilarityIndex().fit(["社区推行楼道微自治"]).practice_words_ == []


def test_save_and_load_keep_the_words_without_pickle(kept, tmp_path):
    q = "在老旧小区推行楼道微自治，学习三邻工作法"
    kept.save(tmp_path / "kp")
    manifest = json.loads((tmp_path / "kp" / "govtext.json").read_text(encoding="utf-8"))
    assert manifest["params"]["keep_practices"] is True and manifest["practice_words"] == kept.practice_words_
    back = govtext.load(tmp_path / "kp")
    assert back.keep_practices is True and back.practice_min_docs == 3 and back.practice_words_ == kept.practice_words_
    assert back.tokenizer.user_words is None  # the parameter as given; the fitted tokenizer has the words
    assert back.vectorizer_.tokenizer_ == kept.vectorizer_.tokenizer_
    for rank in ("cosine", "precedent"):
        assert [(m.id, m.score) for m in back.query(q, rank=rank)] == [(m.id, m.score) for m in kept.query(q, rank=rank)]
    back.add(["青山社区推行楼道微自治"], ids=["new"])  # added texts use the fitted words
    assert back.query("楼道微自治", rank="cosine")[0].id in {"xl", "new"}


def test_an_index_saved_without_the_option_loads_as_before(tmp_path):
    plain = SimilarityIndex().fit([t for _, t in DOCS], ids=[i for i, _ in DOCS])
    plain.save(tmp_path / "plain")
    manifest = json.loads((tmp_path / "plain" / "govtext.json").read_text(encoding="utf-8"))
    assert "keep_practices" not in manifest["params"] and "practice_words" not in manifest
    back = govtext.load(tmp_path / "plain")
    assert back.keep_practices is False and back.practice_words_ == []
    assert back.vectorizer_.tokenizer_ == Tokenizer()
    q = "推行楼道微自治"
    assert [(m.id, m.score) for m in back.query(q)] == [(m.id, m.score) for m in plain.query(q)]


def test_a_damaged_practice_word_list_is_refused(kept, tmp_path):
    from .conftest import edit_manifest

    for i, change in enumerate([{"practice_words": ["不在用户词里"]}, {"practice_words": "楼道微自治"},
                                {"params": {**json.loads(_manifest(kept, tmp_path))["params"], "keep_practices": False}}]):
        folder = tmp_path / f"bad{i}"
        kept.save(folder)
        edit_manifest(folder, **change)
        with pytest.raises(IncompatibleModelError, match="practice_words"):
            govtext.load(folder)


def _manifest(index, tmp_path) -> str:
    index.save(tmp_path / "m")
    return (tmp_path / "m" / "govtext.json").read_text(encoding="utf-8")


def test_which_corpus_names_are_kept():
    assert [keepable_practice(n) for n in ("三邻工作法", "互联网+", "一月一课一片一实践")] == [True, True, True]
    # too short, a bare ending, a space, punctuation, too long, no Han
    for name in ("三农", "工作法", "联盟", "不负韶华 国聘行动", "保基本、强基层", "山水林田湖草是一个生命共同体", "16+1"):
        assert not keepable_practice(name)
    meta = [{"initiatives": ["三邻工作法", "三农", "联盟"]}] * 3
    words = practice_vocabulary(meta, min_docs=3)
    assert words[-1] == "三邻工作法" and "三农" not in words and len(words) == len(set(words))
    tok, added = with_user_words(Tokenizer(), ["三邻工作法"])
    assert added == ["三邻工作法"] and with_user_words(tok, ["三邻工作法"]) == (tok, [])


def test_short_headlines_are_never_emptied(kept):
    plain, tok = Tokenizer(), kept.vectorizer_.tokenizer_
    for h in HEADLINES:
        a, b = plain(h), tok(h)
        assert bool(a) == bool(b), h
        # only merges: the kept tokens spell out the default tokens' text, or more of the headline
        assert "".join(a) in "".join(b) or all(t in "".join(b) or t in "".join(b).lower() for t in a), h


def test_dirty_pages_keep_their_tokens(seeds):
    """The seed pages (scraped, traditional characters, menus and boilerplate), with the curated names
    and every initiative they name kept whole: every token the default tokenizer gives is still
    there or inside a practice name kept whole, and none is emptied."""
    pages = seeds
    words = practice_vocabulary([{"initiatives": govtext.initiatives(raw)} for raw in pages.values()], min_docs=1)
    assert len(words) > len(practice_names())
    tok, _ = with_user_words(Tokenizer(), words)
    plain = Tokenizer()
    for name, raw in pages.items():
        a, b = plain(raw), tok(raw)
        assert b and len(b) >= 0.9 * len(a), name
        extra = [t for t in b if t not in set(a)]
        assert all(t in words for t in extra), (name, extra[:5])
        lost = [t for t in set(a) - set(b) if not any(t in w for w in extra)]
        assert not lost, (name, lost[:5])


def test_the_index_command_keeps_practices_when_asked(tmp_path, capsys):
    from govtext.apps.cli import main

    src = tmp_path / "docs.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in DOCS),
                   encoding="utf-8")
    assert main(["index", str(src), "-o", str(tmp_path / "kp"), "-q", "--keep-practices"]) == 0
    index = govtext.load(tmp_path / "kp")
    assert index.keep_practices and "三邻工作法" in index.practice_words_
    assert main(["similar", "--index", str(tmp_path / "kp"), "楼道微自治", "--rank", "cosine", "--json"]) == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == ["xl"]
    assert main(["index", str(src), "-o", str(tmp_path / "plain"), "-q"]) == 0
    assert not govtext.load(tmp_path / "plain").keep_practices
    assert main(["index", str(src), "-o", str(tmp_path / "sh"), "-q", "--keep-practices", "--shards", "2"]) == 2
    assert "--keep-practices" in capsys.readouterr().err and not (tmp_path / "sh").exists()
