from __future__ import annotations

import json
import random

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import estimator_checks

import govtext
from govtext import THEMES, Explanation, IncompatibleModelError, ThemeClassifier, clean_article

from .conftest import EXAMPLES, edit_manifest

# A small synthetic corpus written for these tests: each document mixes sentences of one, two or
# no themes with neutral news sentences.
PARTY = ["社区党支部召开组织生活会,党员亮身份作表率。", "街道党工委开展党史学习教育,在职党员进社区报到。",
         "村党总支书记带领党员志愿者走访困难群众。", "机关党委组织主题党日活动,重温入党誓词。"]
CIVIL = ["新时代文明实践站开展志愿服务活动,倡导移风易俗。", "社区评选最美家庭和身边好人,弘扬好家风。",
         "志愿者在路口开展文明劝导,助力文明城市创建。", "村里修订村规民约,抵制高价彩礼和人情攀比。"]
COGOV = ["居民议事会围绕加装电梯协商讨论,形成共识。", "业委会、物业公司和居委会三方联动解决停车难题。",
         "社区引入社会组织和社工,推动五社联动共建共治共享。", "网格员收集民情,居民代表参与老旧小区改造方案讨论。"]
OTHER = ["今年一季度全市地区生产总值同比增长百分之五。", "高速公路新建路段今天正式通车运营。",
         "足球联赛第十轮比赛昨晚结束,主队两比一获胜。", "气象台预计未来三天将有中到大雨。",
         "新一代芯片生产线在开发区投产。", "博物馆推出青铜器特展,吸引大批游客。"]


def make_corpus(n: int = 160, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = random.Random(seed)
    texts, Y = [], []
    for _ in range(n):
        row = [int(rng.random() < 0.35) for _ in THEMES]
        parts = [rng.choice(OTHER) for _ in range(rng.randint(1, 3))]
        for flag, pool in zip(row, (PARTY, CIVIL, COGOV)):
            if flag:
                parts.append(rng.choice(pool))
        rng.shuffle(parts)
        texts.append("".join(parts))
        Y.append(row)
    return texts, np.array(Y)


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


@pytest.fixture(scope="module")
def fitted(corpus):
    texts, Y = corpus
    return ThemeClassifier(min_df=1).fit(texts, Y)


def test_fit_predict_shapes_and_quality(fitted, corpus):
    test_texts, test_Y = make_corpus(60, seed=1)
    P = fitted.predict(test_texts)
    proba = fitted.predict_proba(test_texts)
    assert P.shape == proba.shape == (60, 3)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert list(fitted.classes_) == list(THEMES)
    assert ((fitted.thresholds_ > 0) & (fitted.thresholds_ < 1)).all()
    assert (P == test_Y).mean() > 0.9  # an easy synthetic task
    assert fitted.predict_labels([PARTY[0] + COGOV[0]]) == [["party_building", "co_governance"]]


def test_labels_as_lists_and_custom_taxonomy(corpus):
    texts, Y = corpus
    lists = [[t for t, f in zip(THEMES, row) if f] for row in Y]
    a = ThemeClassifier(min_df=1).fit(texts, lists)
    b = ThemeClassifier(min_df=1).fit(texts, Y)
    assert np.allclose(a.coef_, b.coef_)
    custom = ThemeClassifier(labels=["dang", "wenming"], min_df=1).fit(texts, Y[:, :2])
    assert list(custom.classes_) == ["dang", "wenming"]
    assert custom.predict(texts[:3]).shape == (3, 2)


@pytest.mark.parametrize(
    "Y, match",
    [
        ("y", "got a str"),
        (np.zeros((160, 3, 1)), "2-dimensional"),
        (np.full((160, 3), 2), "only 0 and 1"),
        (np.zeros((159, 3)), "160 documents but Y has 159 rows"),
        (np.ones((160, 4)), "pass labels"),
        ([["党建"]] * 160, r"unknown label name\(s\) \['党建'\]"),
    ],
)
def test_bad_labels_are_clear_errors(corpus, Y, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ThemeClassifier().fit(corpus[0], Y)


def test_single_class_label_is_an_error(corpus):
    texts, Y = corpus
    Y = Y.copy()
    Y[:, 1] = 0
    with pytest.raises(ValueError, match="label 'civility' has only one class"):
        ThemeClassifier().fit(texts, Y)


def test_bare_string_and_bad_documents(fitted):
    with pytest.raises(TypeError, match="list of documents, got a single str"):
        fitted.predict("社区召开议事会")
    with pytest.raises(TypeError, match=r"X\[1\] is int"):
        fitted.predict(["社区", 5])
    with pytest.raises(ValueError, match="C must be a number > 0"):
        ThemeClassifier(C=-1).fit(["a", "b"], [[0, 1, 0], [1, 0, 1]])


@pytest.mark.parametrize("text", ["", "   \n ", None, "The city council met on Monday to discuss the budget.",
                                  "12345 !!! ???"])
def test_empty_and_non_chinese_text_get_no_theme(text):
    model = govtext.load()
    assert model.predict([text]).sum() == 0


def test_explain_gives_terms_and_sentences(fitted):
    text = OTHER[0] + COGOV[0] + OTHER[1] + COGOV[2]
    ex = fitted.explain(text, top=4)
    assert isinstance(ex, Explanation)
    co = ex["co_governance"]
    assert co.predicted and co.probability > 0.5
    assert 0 < len(co.terms) <= 4 and all(t.weight > 0 for t in co.terms)
    assert [t.weight for t in co.terms] == sorted((t.weight for t in co.terms), reverse=True)
    assert co.sentences and all(s in text for s in co.sentences)
    assert OTHER[0] not in co.sentences  # neutral sentences carry no evidence
    assert ex.predicted == ["co_governance"]
    assert "co_governance" in str(ex) and json.dumps(ex.to_dict(), ensure_ascii=False)
    with pytest.raises(KeyError):
        ex["economy"]


def test_explain_on_real_seed_with_default_model(seeds):
    model = govtext.load()
    art = clean_article(seeds["000"])  # the Wuxi 文明楼道 article
    ex = model.explain(art.text)
    civ = ex["civility"]
    assert civ.predicted
    assert any("文明" in t.term or "志愿" in t.term for t in civ.terms)
    assert all(s in govtext.normalize(art.text) for s in civ.sentences)


def test_save_load_round_trip(tmp_path, fitted, corpus):
    fitted.save(tmp_path / "m", card={"note": "test"})
    names = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert names == ["char_idf.npy", "char_vocabulary.json", "govtext.json", "linear.npz", "oof.npz",
                     "tokenizer_lists.json", "word_idf.npy", "word_vocabulary.json"]
    loaded = govtext.load(tmp_path / "m")
    assert isinstance(loaded, ThemeClassifier)
    texts = corpus[0][:40]
    assert np.allclose(loaded.predict_proba(texts), fitted.predict_proba(texts), atol=1e-6)
    assert (loaded.predict(texts) == fitted.predict(texts)).all()
    assert np.array_equal(loaded.genre_thresholds_, fitted.genre_thresholds_)
    # the out-of-fold record survives the round trip, without pickle
    ours, theirs = fitted.out_of_fold(), loaded.out_of_fold()
    assert set(theirs) == {"proba", "labels", "genre", "predicted"}
    for name in theirs:
        assert np.array_equal(ours[name], theirs[name], equal_nan=name == "proba")
    with np.load(tmp_path / "m" / "oof.npz", allow_pickle=False) as z:
        assert z["proba"].dtype == np.float32 and z["labels"].dtype == np.int8 and z["genre"].dtype == np.int8
    fitted.save(tmp_path / "none", out_of_fold=False)
    assert govtext.load(tmp_path / "none").out_of_fold() is None
    assert loaded.card_ == {"note": "test"}
    manifest = json.loads((tmp_path / "m" / "govtext.json").read_text(encoding="utf-8"))
    assert {"govtext", "scikit-learn", "rjieba"} <= set(manifest["versions"])


def test_save_load_words_only(tmp_path, corpus):
    texts, Y = corpus
    words = ThemeClassifier(min_df=1, char_ngrams=None, sentence_model=False).fit(texts, Y)
    words.save(tmp_path / "w")
    loaded = ThemeClassifier.load(tmp_path / "w")
    assert np.allclose(loaded.predict_proba(texts[:20]), words.predict_proba(texts[:20]), atol=1e-6)
    both = ThemeClassifier(min_df=1).fit(texts, Y)
    assert both.n_features_ > words.n_features_  # character n-grams are features too
    assert not words.stack_[:, 1].any()  # no sentence model asked for, none used


def test_models_saved_by_govtext_0_1_still_load(tmp_path, corpus):
    """Format 1: words only, no sentence model, no character files, no sentence_model parameter."""
    texts, Y = corpus
    model = ThemeClassifier(min_df=1, char_ngrams=None, sentence_model=False, genre_aware=False).fit(texts, Y)
    folder = tmp_path / "old"
    model.save(folder, out_of_fold=False)
    for name in ("char_vocabulary.json", "char_idf.npy"):
        (folder / name).unlink()
    with np.load(folder / "linear.npz") as arrays:
        np.savez_compressed(folder / "linear.npz", coef=arrays["coef"], intercept=arrays["intercept"])
    manifest = json.loads((folder / "govtext.json").read_text(encoding="utf-8"))
    del manifest["params"]["sentence_model"], manifest["params"]["genre_aware"], manifest["genre_thresholds"]
    manifest["format_version"] = 1
    (folder / "govtext.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    old = govtext.load(folder)
    assert old.sentence_model is False and not old.stack_[:, 1].any()
    assert np.allclose(old.predict_proba(texts[:30]), model.predict_proba(texts[:30]), atol=1e-6)
    assert old.out_of_fold() is None and not old.genre_shift_.any()
    assert (old.genre_thresholds_ == old.thresholds_).all()  # one threshold for every genre


def test_models_saved_in_format_2_still_load(tmp_path, corpus):
    """Format 2 (govtext's second bundled model): sentence model, no genre shifts or genre thresholds."""
    texts, Y = corpus
    model = ThemeClassifier(min_df=1, genre_aware=False).fit(texts, Y)
    folder = tmp_path / "v2"
    model.save(folder, out_of_fold=False)
    with np.load(folder / "linear.npz") as arrays:
        kept = {name: arrays[name] for name in arrays.files if name != "genre_shift"}
    np.savez_compressed(folder / "linear.npz", **kept)
    manifest = json.loads((folder / "govtext.json").read_text(encoding="utf-8"))
    del manifest["params"]["genre_aware"], manifest["genre_thresholds"]
    manifest["format_version"] = 2
    (folder / "govtext.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    old = govtext.load(folder)
    assert old.genre_aware is False and not old.genre_shift_.any()
    assert np.allclose(old.predict_proba(texts[:30]), model.predict_proba(texts[:30]), atol=1e-6)
    assert (old.predict(texts[:30]) == (old.predict_proba(texts[:30]) >= old.thresholds_)).all()


def test_incompatible_saved_model(tmp_path, fitted):
    fitted.save(tmp_path / "m")
    edit_manifest(tmp_path / "m", format_version=4)
    with pytest.raises(IncompatibleModelError, match="Upgrade govtext"):
        govtext.load(tmp_path / "m")


@pytest.mark.slow
def test_pipeline_cross_val_and_grid_search(corpus):
    texts, Y = corpus
    pipe = Pipeline([("strip", FunctionTransformer(lambda docs: [d.strip() for d in docs])),
                     ("clf", ThemeClassifier(min_df=1, cv=3))])
    scores = cross_val_score(pipe, texts, Y, cv=KFold(3, shuffle=True, random_state=0), scoring="f1_macro")
    assert scores.shape == (3,) and scores.mean() > 0.8
    grid = GridSearchCV(ThemeClassifier(min_df=1, cv=3), {"C": [1.0, 10.0]}, cv=KFold(2), scoring="f1_macro")
    grid.fit(texts, Y)
    assert grid.best_params_["C"] in (1.0, 10.0)
    assert clone(ThemeClassifier(C=3.0)).get_params()["C"] == 3.0


# Checks from sklearn.utils.estimator_checks that apply to an estimator whose input is a list of
# texts. The others feed numeric 2-D arrays (e.g. check_fit2d_1sample, check_classifiers_train)
# and so do not apply to a text classifier.
APPLICABLE_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_mixin_order",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
]


@pytest.mark.parametrize("check_name", APPLICABLE_CHECKS)
def test_sklearn_estimator_checks(check_name):
    check = getattr(estimator_checks, check_name, None)
    if check is None:
        pytest.skip(f"{check_name} is not in this scikit-learn version")
    check("ThemeClassifier", ThemeClassifier())


def test_unfitted_errors():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        ThemeClassifier().predict(["社区"])
    with pytest.raises(NotFittedError):
        ThemeClassifier().explain("社区")


def test_from_seed_terms_on_synthetic_corpus(corpus):
    texts, Y = corpus
    seeds = {"party_building": ["党员", "党支部", "党总支", "党工委", "党委"],
             "civility": ["志愿服务", "文明", "好家风", "彩礼"],
             "co_governance": ["议事会", "业委会", "五社联动", "网格员"]}
    model = ThemeClassifier.from_seed_terms(texts, seeds, min_hits=1, min_df=1)
    P = model.predict(texts)
    assert (P == Y).mean() > 0.85
    assert set(model.seed_label_counts_) == set(seeds)


def test_from_seed_terms_defaults_on_real_news():
    from .conftest import read_xwlb

    items = read_xwlb(3000, step=20)
    texts = [f"{it['title']}\n{it['text']}" for it in items]
    model = ThemeClassifier.from_seed_terms(texts)  # govtext's default seed terms
    assert list(model.classes_) == list(THEMES)
    probe = ["新时代文明实践站组织志愿者开展移风易俗宣传,评选最美家庭。", "今年一季度全国外贸进出口同比增长。"]
    proba = model.predict_proba(probe)
    assert proba[0, 1] > proba[1, 1]
    assert model.predict(probe)[1].sum() == 0


def test_default_seed_terms_exclude_civilisation_senses():
    seeds = govtext.default_seed_terms()
    assert set(seeds) == set(THEMES)
    assert "中华文明" in seeds["civility"]["exclude"] and "生态文明" in seeds["civility"]["exclude"]


def test_default_model_loads_and_classifies_examples():
    model = govtext.load()
    assert isinstance(model, ThemeClassifier)
    texts = [clean_article(p.read_text(encoding="utf-8")).text for p in sorted(EXAMPLES.glob("*.txt"))]
    labels = model.predict_labels(texts)
    assert "co_governance" in labels[0]  # 楼组议事会 on a lift
    assert "civility" in labels[1]  # 新时代文明实践站 volunteers
    assert "party_building" in labels[2]  # 红色物业, 物业党支部


def _train_default_script():
    """models/train_default.py as a module (it needs no data to import)."""
    import importlib.util
    import sys

    from .conftest import REPO

    mod = sys.modules.get("govtext_train_default")
    if mod is None:
        spec = importlib.util.spec_from_file_location("govtext_train_default", REPO / "models" / "train_default.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
        spec.loader.exec_module(mod)
    return mod


def _train_default_module():
    mod = _train_default_script()
    if not mod.available():
        from .conftest import _need

        [_need(p) for p in (mod.XWLB, *(mod.LABELS / name for name in mod.FILES.values()))]  # skip; fail under CI
    return mod


@pytest.mark.slow
def test_bundled_model_is_rebuilt_bit_for_bit():
    """`python models/train_default.py --check` retrains from ../shared and finds identical arrays."""
    import subprocess
    import sys

    from .conftest import REPO

    _train_default_module()
    run = subprocess.run([sys.executable, str(REPO / "models" / "train_default.py"), "--check"],
                         capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, run.stdout + run.stderr
    # bit for bit on a CPU like the one that built it; elsewhere float values may differ slightly
    assert "identical" in run.stdout or "up to this CPU's floating point" in run.stdout


def test_rebuild_check_tells_float_noise_from_a_different_model(tmp_path):
    """The check's tolerance admits float differences alone: a changed vocabulary, a changed decision,
    a new manifest field or a difference above the tolerance is a different model."""
    import shutil

    from pathlib import Path

    mod = _train_default_script()
    bundled = govtext.persist.default_model_path()

    def copy(name: str) -> Path:
        return Path(shutil.copytree(bundled, tmp_path / name))

    def edit_npz(folder: Path, file: str, key: str, change) -> None:
        with np.load(folder / file) as z:
            arrays = {k: z[k] for k in z.files}
        arrays[key] = change(arrays[key].copy())
        np.savez(folder / file, **arrays)

    assert mod.float_differences(bundled, copy("same")) == 0.0
    noisy = copy("noisy")
    edit_npz(noisy, "linear.npz", "coef", lambda a: a + np.float32(1e-5))
    assert mod.same_model(bundled, noisy) == ["linear.npz"]
    assert 0 < mod.float_differences(bundled, noisy) < 1e-4
    far = copy("far")
    edit_npz(far, "linear.npz", "coef", lambda a: a + np.float32(0.01))
    assert mod.float_differences(bundled, far) is None
    decided = copy("decided")
    edit_npz(decided, "oof.npz", "predicted", lambda a: 1 - a)
    assert mod.float_differences(bundled, decided) is None
    words = copy("words")
    (words / "word_vocabulary.json").write_text((words / "word_vocabulary.json").read_text(encoding="utf-8")
                                                .replace("社区", "社會", 1), encoding="utf-8")
    assert mod.float_differences(bundled, words) is None
    manifest = copy("manifest")
    data = json.loads((manifest / "govtext.json").read_text(encoding="utf-8"))
    data["extra"] = 1
    (manifest / "govtext.json").write_text(json.dumps(data), encoding="utf-8")
    assert mod.float_differences(bundled, manifest) is None


def test_bundled_model_carries_its_out_of_fold_record_and_word_lists():
    """The contract theme-share estimates rely on: oof.npz from the train-only fit, readable without pickle."""
    from .conftest import REPO

    folder = REPO / "models" / "default"
    names = {p.name for p in folder.iterdir()}
    assert {"oof.npz", "tokenizer_lists.json"} <= names
    model = govtext.load()
    oof = model.out_of_fold()
    n = len(oof["genre"])
    assert oof["proba"].shape == oof["labels"].shape == oof["predicted"].shape == (n, 3)
    assert oof["proba"].dtype == np.float32 and oof["predicted"].dtype == np.int8
    assert set(np.unique(oof["genre"])) == {0, 1, 2} and set(np.unique(oof["labels"])) == {0, 1}
    assert n == sum(v["train"] for v in model.card_["training_data"].values())  # the train rows only
    # decisions are the cross-fitted thresholds' own: near, but not always equal to, the final ones
    agree = (oof["predicted"] == (oof["proba"] >= model.genre_thresholds_[oof["genre"]])).mean()
    assert 0.97 < agree <= 1.0
    # out of fold, the model is far from its in-sample near-perfection
    assert 0.6 < (oof["predicted"] == oof["labels"]).all(axis=1).mean() < 0.99


def test_explain_terms_are_words_of_the_text(seeds):
    """No character fragments: every term explain() shows occurs in the text and is a whole word
    (or run of words) of its segmentation."""
    from itertools import accumulate

    model = govtext.load()
    tok = model.tokenizer_

    def whole(term: str, sentences: list[str]) -> bool:
        for sentence in sentences:
            cuts = {0, *accumulate(map(len, tok.segment(sentence)))}
            at = sentence.lower().find(term)
            while at >= 0:
                if at in cuts and at + len(term) in cuts:
                    return True
                at = sentence.lower().find(term, at + 1)
        return False

    seen = 0
    for key in sorted(seeds):
        text = govtext.normalize(clean_article(seeds[key]).text)[:1500]
        sentences = [s for s, _ in tok.sentences(text, normalized=True)]
        for e in model.explain(text, top=8).labels:
            for t in e.terms:
                seen += 1
                assert whole(t.term.lower(), sentences), (key, e.label, t.term)
    assert seen >= 20


def test_evidence_trains_the_sentence_model_and_explain_quotes_it(corpus):
    texts, Y = corpus
    quoted = []
    for text, row in zip(texts, Y):
        marks = {}
        for flag, label, pool in zip(row, THEMES, (PARTY, CIVIL, COGOV)):
            if flag:
                marks[label] = next(s for s in pool if s in text)
        quoted.append(marks)
    model = ThemeClassifier(min_df=1).fit(texts, Y, evidence=quoted)
    assert (model.stack_[:, 1] > 0).all()  # every theme uses its sentence model
    assert np.abs(model.sentence_coef_).sum(axis=1).min() > 0
    test_texts, test_Y = make_corpus(60, seed=2)
    assert (model.predict(test_texts) == test_Y).mean() > 0.9
    text = OTHER[0] + PARTY[1] + OTHER[3] + COGOV[0]
    ex = model.explain(text)
    assert ex["co_governance"].sentences[0] == COGOV[0]
    assert ex["party_building"].sentences[0] == PARTY[1]
    assert OTHER[0] not in ex["co_governance"].sentences
    with pytest.raises(ValueError, match="evidence has 2 entries"):
        ThemeClassifier(min_df=1).fit(texts, Y, evidence=quoted[:2])


def test_explain_never_quotes_page_chrome():
    model = govtext.load()
    page = ("首页 | 党建动态 | 文明创建 | 社区治理 | 志愿服务 | 联系我们\n"
            "社区党支部 居民议事会 文明实践站 志愿服务队 党员先锋岗\n"
            "5月12日,某社区党支部组织党员志愿者开展文明劝导,并召开居民议事会协商加装电梯事宜。\n"
            "版权所有 某某区融媒体中心 备案号:京ICP备12345678号")
    ex = model.explain(page)
    quoted = [s for e in ex.labels for s in e.sentences]
    assert quoted, "the article sentence should be quoted for a predicted theme"
    assert all(s.startswith("5月12日") for s in quoted)


def test_evidence_overlap():
    assert govtext.evidence_overlap("召开居民议事会", "昨天,社区召开居民议事会。") == 1.0
    assert govtext.evidence_overlap("社区召开居民议事会讨论停车", "社区召开议事会讨论停车问题") >= 0.5
    assert govtext.evidence_overlap("党支部书记带头", "气象台预计未来三天有雨") == 0.0
    assert govtext.evidence_overlap("", "任何句子") == 0.0


def test_evidence_agreement_on_real_local_news():
    """The bundled model's first quoted sentence against coders' evidence on real local news
    (the bundled model saw these rows in training: this guards the measure, not a quality figure)."""
    mod = _train_default_module()
    dev = mod.load_labelled()["dev"]
    local = dev.subset(np.array([s == "local" for s in dev.source]))
    agree = govtext.evidence_agreement(govtext.load(), local.texts, local.evidence)
    assert agree.positives == sum(len(e) for e in local.evidence)
    assert agree.checked > 100 and 0.3 < agree.share <= 1.0
    assert set(agree.per_label) == set(THEMES)


def test_check_estimator_selects_and_passes_applicable_checks():
    """scikit-learn picks checks from the estimator's tags (string input, multi-label output)."""
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(ThemeClassifier(), on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert results and not failed


def test_from_seed_terms_with_terms_absent_from_corpus(corpus):
    with pytest.raises(ValueError, match="no text has 1\\+ hits of the seed terms for 'elderly'"):
        ThemeClassifier.from_seed_terms(corpus[0], {"elderly": ["长者食堂"], "party": ["党员"]}, min_hits=1)


def test_out_of_fold_record_is_out_of_fold(corpus):
    """The record's decisions come from models that never saw the row: on texts the model memorises
    (in-sample scores near perfect) the out-of-fold error is higher than the in-sample one."""
    texts, Y = corpus
    model = ThemeClassifier(min_df=1).fit(texts, Y)
    oof = model.out_of_fold()
    n, k = Y.shape
    assert oof["proba"].shape == (n, k) and oof["predicted"].shape == (n, k) and oof["genre"].shape == (n,)
    assert np.array_equal(oof["labels"], Y.astype(np.int8))
    assert np.array_equal(oof["predicted"], (oof["proba"] >= 0.0) & oof["predicted"].astype(bool))
    assert (oof["proba"] >= 0).all() and (oof["proba"] <= 1).all()
    in_sample = np.abs(model.predict_proba(texts) - Y).mean()
    assert np.abs(oof["proba"] - Y).mean() > in_sample
    assert np.array_equal(oof["genre"], govtext.infer_genre(model._prepare(texts)))


def test_genre_inference_and_override():
    texts = ["某街道传达学习区委全会精神",
             "中国网络电视台消息(新闻联播)：本台消息，全国文明城市表彰大会今天在北京举行。\n会议指出……",
             "我县召开党建引领基层治理推进会\n3日,县委组织部召开推进会,部署下一阶段工作。"]
    assert govtext.infer_genre(texts).tolist() == [2, 0, 1]
    assert govtext.infer_genre(texts).dtype == np.int8
    assert govtext.GENRES == ("national_broadcast", "local_news", "headline")
    model = govtext.load()
    p = model.predict_proba(texts)
    assert np.allclose(model.predict_proba(texts, genre=[2, 0, 1]), p)
    assert np.allclose(model.predict_proba(texts, genre=["headline", "national_broadcast", "local_news"]), p)
    assert model.thresholds_for(texts).shape == (3, 3)
    assert (model.predict(texts) == (p >= model.thresholds_for(texts))).all()
    with pytest.raises(govtext.InputError, match="genre"):
        model.predict_proba(texts, genre=[0, 1])
    with pytest.raises(govtext.InputError, match="genre"):
        model.predict_proba(texts, genre="radio")


def test_saved_model_keeps_the_word_lists_it_was_trained_with(tmp_path, fitted, corpus, monkeypatch):
    """A later change of govtext's dictionary or stopwords must not change an old model's features."""
    import govtext.themes._linear as linear
    import govtext.text.tokenize as tokenize

    fitted.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "govtext.json").read_text(encoding="utf-8"))
    assert set(manifest["tokenizer_lists"]) == {"governance_terms", "stopwords"}
    texts = corpus[0][:30] + ["居民议事会讨论加装电梯,党员志愿者服务队参与。"]
    before = fitted.predict_proba(texts)
    same = govtext.load(tmp_path / "m")
    assert same.tokenizer_ == fitted.tokenizer_  # lists unchanged: the ordinary tokenizer
    # govtext's lists change: no governance terms, and 居民 becomes a stopword
    stop = tokenize.default_stopwords() | {"居民"}
    for module in (tokenize, linear):
        monkeypatch.setattr(module, "governance_terms", lambda: [])
        monkeypatch.setattr(module, "default_stopwords", lambda: stop)
    assert "居民" not in tokenize.Tokenizer()("居民议事会")  # a fresh tokenizer would see other words
    loaded = govtext.load(tmp_path / "m")
    assert loaded.tokenizer_.governance_terms is False and "居民议事会" in loaded.tokenizer_("居民议事会召开")
    assert np.allclose(loaded.predict_proba(texts), before, atol=1e-9)
    # a damaged list file is refused, not silently used
    lists = json.loads((tmp_path / "m" / "tokenizer_lists.json").read_text(encoding="utf-8"))
    lists["stopwords"] = lists["stopwords"][1:]
    (tmp_path / "m" / "tokenizer_lists.json").write_text(json.dumps(lists, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(govtext.IncompatibleModelError, match="digests"):
        govtext.load(tmp_path / "m")


# -- prediction's one-pass features (issue 22 item 4 / issue 26 item 2) ---------------------------------------

def _same_matrix(a, b) -> bool:
    a, b = a.tocsr(), b.tocsr()
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
            and np.array_equal(a.data, b.data))


def _odd_texts() -> list[str]:
    return ["", "。。。!!", "\n\n社区\n\n", "ABC abc Abc。社区 议事会;Party building", "社区\ud800议事会。党支部",
            "2023年5月12日,12345热线;第3网格", "居民议事会召开。会议通过了方案!", "党建引领" * 400,
            "首页 新闻 联系我们\n版权所有 © 2024", "ΑΣ Σ。ΣΑ\nİstanbul 社区;  \t ; 党建"]


def test_prediction_features_equal_the_per_sentence_tokens(xwlb_sample, seeds):
    """Prediction looks each segmenter piece up once and places the words of all sentences at once;
    fitting tokenises sentence by sentence. Both must give the same matrices to the last bit."""
    from govtext.themes._linear import ThemePredictor

    model = ThemePredictor.load(govtext.persist.default_model_path())
    whole = ThemePredictor.load(govtext.persist.default_model_path())
    whole.max_chars = None  # long texts reach the segmenter in chunks
    texts = xwlb_sample[:200] + list(seeds.values()) + _odd_texts() + ["社区议事会。" * 4000]
    # the batch's character n-grams are packed from one lower-cased string, or sentence by sentence
    # when lower-casing depends on the context (Σ) or changes a length (İ): both ways are checked
    plain = [t for t in texts if "Σ" not in t and "İ" not in t]
    for m, batch in ((model, texts), (model, plain), (whole, texts), (whole, plain)):
        prepared = m._prepare(batch)
        assert (m._segments(prepared).char is None) == (batch is texts)
        fast = m._features(prepared)
        slow = m._features(prepared, m._words_to_segments(*m._sentence_words(prepared)))
        assert fast.sentences == slow.sentences and np.array_equal(fast.per_doc, slow.per_doc)
        assert _same_matrix(fast.doc, slow.doc) and _same_matrix(fast.sentence, slow.sentence)
        assert fast.sentence.nnz > 10_000
    # the remembered piece columns follow the tokenizer: a new stopword drops its column at once
    model.predict_proba(texts[:5])
    col = model._word_index["社区"]
    model.tokenizer_.set_params(extra_stopwords=["社区"])
    prepared = model._prepare(["社区议事会召开。"])
    assert col not in model._features(prepared).doc.indices
    slow = model._features(prepared, model._words_to_segments(*model._sentence_words(prepared)))
    assert _same_matrix(model._features(prepared).doc, slow.doc)


def test_sentence_pieces_cover_each_sentence_and_keep_is_the_filter(xwlb_sample):
    tok = govtext.Tokenizer()
    assert tok.keep("的") == "" and tok.keep("社区") == "社区"  # judged before anything was segmented
    for text in xwlb_sample[:100] + _odd_texts():
        sentences, pieces, starts, stops = tok.sentence_pieces(text)
        assert len(sentences) == len(starts) == len(stops)
        assert all(0 <= a < b <= len(pieces) for a, b in zip(starts, stops))
        assert all(s in "".join(pieces[a:b]) for s, a, b in zip(sentences, starts, stops))
        assert [s for s, _ in tok.sentences(text)] == sentences
        assert [t for t in map(tok.keep, tok.segment(text)) if t] == tok(text)


def test_code_table_finds_what_an_exact_lookup_finds():
    from govtext.themes._linear import CodeTable

    rng = np.random.default_rng(0)
    for n in (0, 1, 7, 5000):
        codes = np.unique(rng.integers(0, 2**63 - 1, size=n, dtype=np.int64).astype(np.uint64))
        codes = codes[rng.permutation(len(codes))]
        values = rng.permutation(len(codes)).astype(np.int64)
        table = CodeTable.build(codes, values)
        assert (table.keys != np.uint64(2**64 - 1)).sum() == len(codes)
        absent = rng.integers(0, 2**63 - 1, size=3000, dtype=np.int64).astype(np.uint64)
        queries = np.concatenate([codes, absent, codes[:50]])
        queries = queries[rng.permutation(len(queries))]
        expect = dict(zip(codes.tolist(), values.tolist()))
        assert table.find(queries).tolist() == [expect.get(q, -1) for q in queries.tolist()]
    # codes that all want the last slot still each get one (wrapping round to the first), and are found
    from govtext.themes._linear import _home

    pool = rng.integers(0, 2**63 - 1, size=40_000, dtype=np.int64).astype(np.uint64)
    crowded = np.unique(pool[_home(pool, 8) == 255])[:40]  # 40 codes: a table of 2**8 slots
    assert len(crowded) == 40
    table = CodeTable.build(crowded, np.arange(40))
    assert table.bits == 8 and table.keys[0] != np.uint64(2**64 - 1)
    assert table.find(crowded).tolist() == list(range(40))
    others = np.setdiff1d(pool[_home(pool, 8) == 255], crowded)  # the same home, not in the table
    assert len(others) and (table.find(others) == -1).all()


def test_genre_pooling_pulls_each_genre_threshold_towards_the_overall_one():
    """genre_pooling 0: a genre's own F1-best threshold; 1: the overall one; 0.5: their midpoint."""
    rng = np.random.default_rng(0)
    genres = np.repeat([0, 1, 2], 200)
    y = (rng.random(600) < 0.3).astype(int)
    # headlines (genre 2) score lower: their own F1-best cut-off sits below the overall one
    p = np.clip(0.35 * y + rng.random(600) * 0.6 - 0.2 * (genres == 2), 0.001, 0.999)
    overall, own = ThemeClassifier()._tune_thresholds(y, p, genres)
    _, pooled = ThemeClassifier(genre_pooling=1.0)._tune_thresholds(y, p, genres)
    _, half = ThemeClassifier(genre_pooling=0.5)._tune_thresholds(y, p, genres)
    assert own[2] < overall - 0.05  # the case the pooling is for
    assert np.allclose(pooled, overall)
    assert np.allclose(half, (own + overall) / 2)
    with pytest.raises(govtext.ParameterError, match="genre_pooling"):
        ThemeClassifier(genre_pooling=1.5).fit(["社区党支部召开组织生活会"] * 4, [[1, 0, 0], [0, 1, 1]] * 2)


def test_genre_pooling_is_saved_only_when_used(tmp_path, fitted, corpus):
    """0 (the default) is not written, so such a model reads as before; another value round-trips."""
    import copy

    fitted.save(tmp_path / "plain")
    manifest = json.loads((tmp_path / "plain" / "govtext.json").read_text(encoding="utf-8"))
    assert "genre_pooling" not in manifest["params"]
    assert govtext.load(tmp_path / "plain").genre_pooling == 0.0
    pooled = copy.deepcopy(fitted).set_params(genre_pooling=0.5)
    pooled.save(tmp_path / "pooled")
    loaded = govtext.load(tmp_path / "pooled")
    assert loaded.genre_pooling == 0.5
    assert np.array_equal(loaded.genre_thresholds_, fitted.genre_thresholds_)
    assert (loaded.predict(corpus[0][:30]) == fitted.predict(corpus[0][:30])).all()


def test_groups_keep_each_source_out_of_the_folds_that_score_it(corpus):
    """fit(groups=...): no group is split between the fold scored and the folds that score it; the
    fitted model is the same as without groups (only the out-of-fold scores and what is tuned on
    them change); without groups the folds are the plain stratified ones."""
    from govtext.themes.classify import cv_folds

    texts, Y = corpus
    groups = [f"site{i % 17}" for i in range(len(texts))]
    codes = np.array([i % 17 for i in range(len(texts))])
    for train, test in cv_folds(Y[:, 0], codes, 5, 0):
        assert not set(codes[train]) & set(codes[test])
    plain = [test for _, test in cv_folds(Y[:, 0], None, 5, 0)]
    assert all(len(set(codes[t])) > 10 for t in plain)  # random folds mix the sites
    grouped = ThemeClassifier(min_df=1).fit(texts, Y, groups=groups)
    ungrouped = ThemeClassifier(min_df=1).fit(texts, Y)
    assert np.allclose(grouped.coef_, ungrouped.coef_)
    assert not np.allclose(grouped.out_of_fold()["proba"], ungrouped.out_of_fold()["proba"])
    assert not hasattr(grouped, "_groups")
    with pytest.raises(govtext.InputError, match="one group per text"):
        ThemeClassifier(min_df=1).fit(texts, Y, groups=groups[:-1])
    with pytest.raises(govtext.InputError, match="at least cv=5 distinct groups"):
        ThemeClassifier(min_df=1).fit(texts, Y, groups=["a", "b"] * (len(texts) // 2))


def test_headline_model_decides_headlines_only_and_round_trips(tmp_path, corpus):
    """headline_model=True: headlines (one short line) get the short-text model's log-odds and its
    thresholds; longer texts score exactly as without it; saved without pickle, read back by
    ThemeClassifier and by the light ThemePredictor with the same decisions; not written when off."""
    from govtext.themes._linear import ThemePredictor
    from govtext.themes._short import short_terms

    texts, Y = corpus
    titles = [(s.split(",")[0], row) for pool, row in ((PARTY, [1, 0, 0]), (CIVIL, [0, 1, 0]), (COGOV, [0, 0, 1]),
                                                         (OTHER, [0, 0, 0])) for s in pool] * 5
    X = [t + "\n" + OTHER[i % len(OTHER)] for i, t in enumerate(texts)] + [t for t, _ in titles]
    YY = np.vstack([Y, [row for _, row in titles]])
    genres = govtext.infer_genre(X)
    assert (genres[:len(texts)] != 2).all() and (genres[len(texts):] == 2).all()
    plain = ThemeClassifier(min_df=1).fit(X, YY)
    model = ThemeClassifier(min_df=1, headline_model=True).fit(X, YY)
    assert model.short_coef_.shape == (3, model.short_vocabulary_.n_features)
    longer = [PARTY[0] + "\n" + OTHER[0], CIVIL[1] + OTHER[2] + "\n" + COGOV[0]]
    assert np.allclose(plain.predict_proba(longer), model.predict_proba(longer))
    heads = ["社区党支部召开组织生活会", "居民议事会协商加装电梯", "高速公路新建路段通车"]
    words, grams = short_terms(heads[0], model.tokenizer_)
    assert "党支部" in words and {"党", "党支", "党支部"} <= set(grams)
    z = model.short_vocabulary_.transform([short_terms(h, model.tokenizer_) for h in heads]) @ model.short_coef_.T
    assert np.allclose(model.decision_function(heads), z + model.short_intercept_)
    assert np.allclose(model.thresholds_for(heads), model.genre_thresholds_[2])
    assert "party_building" in model.predict_labels(heads)[0] and model.predict_labels(heads)[2] == []
    oof = model.out_of_fold()
    assert not np.isnan(oof["proba"]).any()
    model.save(tmp_path / "m")
    loaded, light = govtext.load(tmp_path / "m"), ThemePredictor.load(tmp_path / "m")
    assert loaded.headline_model is True
    both = heads + longer
    assert np.allclose(loaded.predict_proba(both), model.predict_proba(both), atol=1e-5)
    assert (light.predict(both) == model.predict(both)).all()
    plain.save(tmp_path / "plain")
    manifest = json.loads((tmp_path / "plain" / "govtext.json").read_text(encoding="utf-8"))
    assert "headline_model" not in manifest["params"] and not (tmp_path / "plain" / "short.npz").exists()
    assert govtext.load(tmp_path / "plain").short_coef_ is None
    with pytest.raises(govtext.ParameterError, match="headline_model"):
        ThemeClassifier(headline_model="yes").fit(X, YY)
