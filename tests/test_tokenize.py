from __future__ import annotations

import logging
import pickle
import subprocess
import sys
import textwrap

import joblib
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from govtext import Tokenizer, clean_article, coverage, default_stopwords, governance_terms, normalize

ENGINES = ["rjieba", "jieba"]


def test_governance_dictionary_is_large_and_clean():
    terms = governance_terms()
    assert len(terms) >= 400
    assert len(set(terms)) == len(terms)
    for must in ["党建引领", "共建共治共享", "新时代文明实践站", "五社联动", "党群服务中心", "网格员", "议事会",
                 "急难愁盼", "文明楼道", "邻长制"]:
        assert must in terms


@pytest.mark.parametrize("engine", ENGINES)
def test_governance_terms_are_single_tokens_in_running_text(engine):
    tok = Tokenizer(engine=engine)
    text = ("社区党总支坚持党建引领,依托新时代文明实践站和党群服务中心,推行邻长制,组织网格员和居民议事会"
            "共同解决急难愁盼问题,推动五社联动,打造文明楼道,实现共建共治共享。")
    tokens = tok(text)
    for term in ["党建引领", "新时代文明实践站", "党群服务中心", "邻长制", "网格员", "居民议事会", "急难愁盼",
                 "五社联动", "文明楼道", "共建共治共享"]:
        assert term in tokens, (term, tokens)


@pytest.mark.parametrize("engine", ENGINES)
def test_every_shipped_term_survives_as_one_token(engine):
    tok = Tokenizer(engine=engine, stopwords=None, keep_numbers=True)
    missing = [t for t in governance_terms() if tok(f"我们看到{t}了") .count(t) != 1]
    assert not missing, missing[:20]


@pytest.mark.parametrize("bad", [None, "", "   ", "\n\t ", float("nan")])
def test_empty_input_gives_no_tokens(bad):
    assert Tokenizer()(bad) == []


def test_non_str_document_is_type_error():
    with pytest.raises(TypeError, match="expects a str"):
        Tokenizer()(123)  # type: ignore[arg-type]


def test_bare_string_where_a_list_is_expected():
    with pytest.raises(TypeError, match="list of documents, got a single str"):
        Tokenizer().tokenize("社区召开议事会")  # type: ignore[arg-type]


def test_filters_punctuation_numbers_and_stopwords():
    tokens = Tokenizer()("我们在2023年3月15日,召开了 100 人的议事会!!!")
    assert "我们" not in tokens  # stopword
    assert "," not in tokens and "!" not in tokens and " " not in tokens
    assert "100" not in tokens and "2023" not in tokens
    assert "议事会" in tokens


def test_options_keep_numbers_and_punct():
    tokens = Tokenizer(keep_numbers=True, keep_punct=True, stopwords=None)("我们召开100人的议事会!")
    assert "100" in tokens and "!" in tokens and "我们" in tokens


def test_user_words_and_stopwords_from_iterables_and_files(tmp_path):
    text = "幸福里社区推行楼道微议事,开展邻里守望活动"
    plain = Tokenizer()(text)
    assert "楼道微议事" not in plain
    words = tmp_path / "words.txt"
    words.write_text("# my terms\n楼道微议事 5\n", encoding="utf-8")
    stops = tmp_path / "stop.txt"
    stops.write_text("开展\n", encoding="utf-8")
    for tok in (Tokenizer(user_words=["楼道微议事"], extra_stopwords=["开展"]),
                Tokenizer(user_words=words, extra_stopwords=stops)):
        tokens = tok(text)
        assert "楼道微议事" in tokens and "开展" not in tokens


def test_custom_stopwords_replace_the_default():
    tok = Tokenizer(stopwords=["社区"])
    tokens = tok("我们的社区")
    assert "社区" not in tokens and "我们" in tokens


def test_missing_word_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="user_words: no such file"):
        Tokenizer(user_words=tmp_path / "nope.txt")("社区")


def test_bad_engine_is_a_clear_error():
    with pytest.raises(ValueError, match="engine must be one of"):
        Tokenizer(engine="thulac")("社区")


def test_default_stopwords_spare_governance_vocabulary():
    stop = default_stopwords()
    assert "我们" in stop and "的" in stop
    for word in ["社区", "党建", "文明", "治理", "居民", "群众", "志愿服务"]:
        assert word not in stop


def test_traditional_input_is_normalised_before_segmentation():
    assert Tokenizer()("萬融社區堅持黨建引領(lǐng)") == Tokenizer()("万融社区坚持党建引领")


def test_long_document_chunking_gives_the_same_tokens():
    para = "社区党总支推选楼栋长组成小区党支部,定期召开居民议事会。邻里守望相助,共建美好家园!\n"
    text = para * 2000  # ~90,000 characters: segmented in chunks
    tok = Tokenizer()
    assert tok(text) == tok(para) * 2000


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_tokenizer_pickles_and_rebuilds(engine):
    tok = Tokenizer(engine=engine, user_words=["楼道微议事"], extra_stopwords=["开展"])
    before = tok("幸福里社区开展楼道微议事")
    clone = pickle.loads(pickle.dumps(tok))
    assert clone == tok and clone._seg is None
    assert clone("幸福里社区开展楼道微议事") == before


def test_fitted_sklearn_objects_holding_the_tokenizer_survive_joblib(tmp_path):
    docs = ["社区党总支召开居民议事会", "街道开展文明城市创建志愿服务", "党建引领基层治理", "志愿者清理楼道杂物"]
    tok = Tokenizer()
    tfidf = TfidfVectorizer(tokenizer=tok, token_pattern=None, lowercase=False).fit(docs)
    pipe = make_pipeline(TfidfVectorizer(tokenizer=tok, token_pattern=None, lowercase=False),
                         LogisticRegression()).fit(docs, [1, 0, 1, 0])
    for obj in (tfidf, pipe):
        path = tmp_path / "obj.joblib"
        joblib.dump(obj, path)
        loaded = joblib.load(path)
        if obj is tfidf:
            assert (loaded.transform(docs) != obj.transform(docs)).nnz == 0
        else:
            assert list(loaded.predict(docs)) == list(obj.predict(docs))


@pytest.mark.slow
def test_no_global_jieba_state_logging_or_tmp_cache(tmp_path):
    """In a fresh interpreter: building both engines leaves jieba's global tokenizer uninitialised,
    adds no logging handler outside jieba's own logger, and writes jieba's cache under our cache
    folder, not in the shared temp folder."""
    code = textwrap.dedent(
        f"""
        import logging, os, tempfile
        os.environ["GOVTEXT_CACHE_DIR"] = {str(tmp_path / "cache")!r}
        tmp_cache = os.path.join(tempfile.gettempdir(), "jieba.cache")
        before_tmp = os.path.getmtime(tmp_cache) if os.path.exists(tmp_cache) else None
        root_handlers = list(logging.getLogger().handlers)
        import govtext
        for engine in ("rjieba", "jieba"):
            govtext.Tokenizer(engine=engine)("党建引领基层治理")
        import jieba
        assert not jieba.dt.initialized, "global jieba tokenizer was initialised"
        assert "党建引领基层治理" not in jieba.dt.FREQ
        assert logging.getLogger().handlers == root_handlers, "root logging changed"
        after_tmp = os.path.getmtime(tmp_cache) if os.path.exists(tmp_cache) else None
        assert before_tmp == after_tmp, "wrote the shared /tmp jieba cache"
        from importlib.metadata import version
        assert os.path.exists(os.path.join({str(tmp_path / "cache")!r}, "jieba-" + version("jieba"), "jieba.cache"))
        print("OK")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "OK" in out.stdout
    assert "Building prefix dict" not in out.stderr


def test_importing_govtext_does_not_import_jieba():
    code = "import sys, govtext; govtext.Tokenizer()('社区'); print('jieba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "False", out.stderr


def _spans(tokens: list[str]) -> set[tuple[int, int]]:
    spans, pos = set(), 0
    for t in tokens:
        spans.add((pos, pos + len(t)))
        pos += len(t)
    return spans


@pytest.mark.slow
def test_rjieba_agrees_with_jieba_on_real_text(seeds, xwlb_sample):
    """Token-level agreement (F1 of token spans) between the engines, same dictionary and terms."""
    docs = [clean_article(s).text for s in seeds.values()] + xwlb_sample
    fast, ref = Tokenizer(engine="rjieba"), Tokenizer(engine="jieba")
    inter = n_fast = n_ref = identical = 0
    for doc in docs:
        a, b = fast.segment(doc), ref.segment(doc)
        sa, sb = _spans(a), _spans(b)
        inter += len(sa & sb)
        n_fast += len(sa)
        n_ref += len(sb)
        identical += a == b
    agreement = 2 * inter / (n_fast + n_ref)
    print(f"\nengine agreement on {len(docs)} real documents: token-level {agreement:.4%}, "
          f"identical documents {identical / len(docs):.1%}")
    assert agreement >= 0.99


def test_coverage_reports_split_and_absent_terms():
    texts = ["社区召开邻里议事会,推行楼道长制度", "居民议事会讨论加装电梯"]
    report = coverage(texts, ["议事会", "邻里议事会", "楼道长", "加装电梯", "垃圾分类"])
    status = {t.term: t.status for t in report.terms}
    assert status == {"议事会": "ok", "邻里议事会": "split", "楼道长": "split", "加装电梯": "ok", "垃圾分类": "absent"}
    assert report.missing == ["邻里议事会", "楼道长", "垃圾分类"]
    assert "邻里议事会" in str(report)
    fixed = coverage(texts, ["邻里议事会"], tokenizer=Tokenizer(user_words=["邻里议事会"]))
    assert fixed.missing == []


def test_coverage_normalises_traditional_terms():
    assert coverage(["社区推进党建引领"], ["黨建引領"]).missing == []


def test_coverage_rejects_a_bare_string():
    with pytest.raises(TypeError, match="texts must be a list of documents"):
        coverage("社区", ["社区"])  # type: ignore[arg-type]


def test_normalize_matches_tokenizer_view(seeds):
    text = seeds["002"]
    assert Tokenizer().segment(text) == Tokenizer(normalize=False).segment(normalize(text))


def test_engines_log_nothing_at_info(caplog):
    with caplog.at_level(logging.DEBUG):
        Tokenizer(engine="jieba")("社区")
    assert not [r for r in caplog.records if r.name.startswith("govtext")]
