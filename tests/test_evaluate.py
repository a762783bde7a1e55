from __future__ import annotations

import csv

import numpy as np
import pytest

import govtext
from govtext import THEMES, ThemeClassifier, evaluate, sample_for_coding

from .test_classify import make_corpus


class Fixed:
    """A stand-in model whose predictions are given."""

    def __init__(self, P, proba=None):
        self.P = np.asarray(P)
        self.classes_ = np.array(THEMES, dtype=object)
        self.thresholds_ = np.full(3, 0.5)
        self._proba = self.P * 0.8 + 0.1 if proba is None else proba

    def predict(self, texts):
        return self.P[: len(texts)]

    def predict_proba(self, texts):
        return self._proba[: len(texts)]


def test_evaluate_exact_figures():
    Y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    P = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 0, 0]])
    ev = evaluate(Fixed(P), ["t"] * 5, Y, n_bootstrap=200)
    pb = ev["party_building"]
    assert (pb.precision, pb.recall, pb.f1) == (0.5, 0.5, 0.5)
    assert ev["civility"].f1 == 1.0 and ev["co_governance"].f1 == 1.0
    assert ev.macro_f1 == pytest.approx((0.5 + 1 + 1) / 3)
    assert ev.none_kept == 0.5 and ev.n_none == 2
    assert pb.support == 2 and pb.predicted == 2
    lo, hi = pb.f1_ci
    assert 0 <= lo <= pb.f1 <= hi <= 1
    assert "macro F1" in str(ev) and ev.to_rows()[-1]["label"] == "macro"


def test_perfect_predictions_have_tight_intervals():
    Y = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]] * 20)
    ev = evaluate(Fixed(Y), ["t"] * 60, Y, n_bootstrap=100)
    assert ev.macro_f1 == 1.0 and ev.macro_f1_ci == (1.0, 1.0) and ev.none_kept == 1.0


def test_evaluate_errors():
    model = Fixed(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="3 documents but Y has 2 rows"):
        evaluate(model, ["a", "b", "c"], np.zeros((2, 3)))
    with pytest.raises(TypeError, match="single str"):
        evaluate(model, "abc", np.zeros((1, 3)))


def test_evaluate_real_classifier_on_synthetic_corpus():
    texts, Y = make_corpus(160)
    model = ThemeClassifier(min_df=1).fit(texts, Y)
    test_texts, test_Y = make_corpus(80, seed=7)
    ev = evaluate(model, test_texts, test_Y, n_bootstrap=200)
    assert ev.macro_f1 > 0.85 and ev.n_documents == 80


def test_sample_for_coding_writes_excel_friendly_csv(tmp_path):
    texts, Y = make_corpus(120)
    model = ThemeClassifier(min_df=1).fit(texts, Y)
    path = tmp_path / "coding.csv"
    rows = sample_for_coding(model, texts, ids=[f"doc{i}" for i in range(120)], n=40, path=path)
    assert len(rows) == 40 and len({r["id"] for r in rows}) == 40
    strata = {r["stratum"] for r in rows}
    assert {"predicted party_building", "predicted none", "uncertain"} <= strata
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads UTF-8 Chinese correctly
    with open(path, encoding="utf-8-sig", newline="") as fh:
        read = list(csv.DictReader(fh))
    assert read[0].keys() >= {"id", "text", "p_civility", "predicted", "code_co_governance"}
    assert all(r["code_civility"] == "" for r in read)


def test_sample_for_coding_errors():
    texts, Y = make_corpus(30)
    model = ThemeClassifier(min_df=1, cv=2).fit(texts, Y)
    with pytest.raises(ValueError, match="ids has 2 entries"):
        sample_for_coding(model, texts, ids=["a", "b"])
    with pytest.raises(ValueError, match="n must be positive"):
        sample_for_coding(model, texts, n=0)
    assert len(sample_for_coding(model, texts, n=500)) == 30  # never more than there is


def test_default_model_card_has_measured_figures():
    card = govtext.load().card_
    figures = card["dev_of_train_only_fit"]
    assert set(figures) == {"xwlb", "local", "headline"}
    for source in figures.values():
        assert set(source["labels"]) == set(THEMES)
        assert 0 < source["macro_f1"] < 1
        lo, hi = source["macro_f1_ci95"]
        assert lo <= source["macro_f1"] <= hi
    assert 0 < figures["local"]["evidence_agreement"]["share"] <= 1


def test_evidence_agreement_counts_exactly():
    class Fixed:
        classes_ = np.array(THEMES, dtype=object)

        def explain(self, text):
            from govtext import Explanation, LabelEvidence

            first = text.split("。")[0] + "。"
            return Explanation(tuple(LabelEvidence(t, 0.9, 0.5, t != "co_governance", (), (first,)) for t in THEMES))

    texts = ["党支部召开组织生活会。天气晴。", "天气晴。志愿者开展文明劝导。", "居民议事会协商。天气晴。"]
    evidence = [{"party_building": "党支部召开组织生活会"}, {"civility": "志愿者开展文明劝导"},
                {"co_governance": "居民议事会协商"}]
    agree = govtext.evidence_agreement(Fixed(), texts, evidence)
    # party_building: predicted, first sentence quoted -> agreed; civility: predicted, first sentence
    # is another one -> checked only; co_governance: not predicted -> not checked.
    assert agree.per_label == {"party_building": (1, 1), "civility": (0, 1), "co_governance": (0, 0)}
    assert agree.positives == 3 and agree.share == 0.5
    with pytest.raises(ValueError, match="evidence has 1 entries"):
        govtext.evidence_agreement(Fixed(), texts, evidence[:1])
