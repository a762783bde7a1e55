"""scikit-learn protocol for govtext's estimators when users bring their own Tokenizer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from govtext import ThemeClassifier, Tokenizer, Vectorizer

from .test_classify import make_corpus


def test_tokenizer_get_and_set_params_follow_the_protocol():
    tok = Tokenizer(engine="jieba", min_length=2)
    assert tok.get_params(deep=True) == tok.get_params(deep=False) == tok.get_params()
    assert tok.get_params()["min_length"] == 2
    assert tok.set_params(min_length=1) is tok and tok("社区召开居民议事会")
    with pytest.raises(ValueError, match="no parameter"):
        tok.set_params(colour="red")


def test_clone_of_estimators_holding_a_custom_tokenizer():
    tok = Tokenizer(user_words=["楼道微自治"], extra_stopwords=["开展"])
    for est in (ThemeClassifier(tokenizer=tok, min_df=1), Vectorizer(tokenizer=tok)):
        copy = clone(est)
        assert copy.tokenizer is not tok and copy.tokenizer.get_params() == tok.get_params()
        assert copy.get_params(deep=True)["tokenizer__user_words"] == ["楼道微自治"]


def test_grid_search_over_a_pipeline_with_a_custom_tokenizer():
    texts, Y = make_corpus(90)
    pipe = Pipeline([("strip", FunctionTransformer(lambda docs: [d.strip() for d in docs])),
                     ("clf", ThemeClassifier(tokenizer=Tokenizer(extra_stopwords=["昨晚"]), min_df=1, cv=2))])
    grid = GridSearchCV(pipe, {"clf__C": [1.0, 10.0], "clf__tokenizer__min_length": [1, 2]},
                        cv=KFold(2), scoring="f1_macro")
    grid.fit(texts, Y)
    assert set(grid.best_params_) == {"clf__C", "clf__tokenizer__min_length"}
    assert len(grid.cv_results_["mean_test_score"]) == 4 and np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.best_estimator_.predict(texts[:5]).shape == (5, 3)


# -- start-up: importing govtext and asking the CLI for help stay light ------------------------------------

def test_import_govtext_and_cli_help_do_not_import_heavy_packages():
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\n"
        "import govtext\n"
        "from govtext.apps.cli import main\n"
        "for argv in (['--version'], ['--help'], ['classify', '--help'], ['classify']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "heavy = [m for m in ('sklearn', 'pandas', 'scipy', 'jieba', 'rjieba', 'opencc') if m in sys.modules]\n"
        "print(','.join(heavy) or 'none')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "none"


def test_lazy_names_are_the_real_objects():
    import govtext
    from govtext.themes.classify import ThemeClassifier as Direct

    assert govtext.ThemeClassifier is Direct
    assert set(govtext.__all__) <= set(dir(govtext))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        govtext.nope  # noqa: B018


# -- one error family ----------------------------------------------------------------------------------------

def test_govtext_errors_share_one_base_and_stay_value_errors(tmp_path):
    import govtext

    for cls in (govtext.DecodingError, govtext.IncompatibleModelError, govtext.EmptyTextError,
                govtext.clean.TextTooLongError, govtext.InputError):
        assert issubclass(cls, govtext.GovtextError) and issubclass(cls, ValueError), cls
    with pytest.raises(govtext.GovtextError):
        govtext.usable_text("")
    with pytest.raises(govtext.GovtextError):
        govtext.io.decode_bytes("東京都は今日、新しい政策を発表しました。".encode("shift_jis") * 3, "x")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "govtext.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(govtext.GovtextError):
        govtext.load(tmp_path / "m")
    # importing the error module stays light (the CLI imports it for --help)
    assert "sklearn" not in govtext.errors.__dict__


# -- prediction without scikit-learn -------------------------------------------------------------------------

def test_predictor_gives_the_estimators_probabilities(xwlb_sample, seeds):
    import govtext
    from govtext.themes._linear import ThemePredictor

    estimator = govtext.load()
    predictor = ThemePredictor.load(govtext.persist.default_model_path())
    texts = xwlb_sample[:300] + list(seeds.values()) + ["", "社区\ud800议事会", "首页 新闻"]
    assert np.abs(estimator.predict_proba(texts) - predictor.predict_proba(texts)).max() < 1e-9
    assert estimator.predict_labels(texts) == predictor.predict_labels(texts)
    assert estimator.explain(texts[0]) == predictor.explain(texts[0])


def test_cli_classify_does_not_import_scikit_learn(tmp_path):
    import subprocess
    import sys

    from .conftest import EXAMPLES

    code = ("import sys, contextlib, io\n"
            "from govtext.apps.cli import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    status = main(['classify', {str(EXAMPLES)!r}, '-q', '--explain'])\n"
            "print(status, 'sklearn' in sys.modules, 'pandas' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0", "False", "False"]
