"""Error-corrected theme shares: the correction on synthetic data with known rates, validation samples,
groups, error rows and interval widths."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

import govtext
from govtext.errors import InputError, ParameterError
from govtext.persist import default_model_path
from govtext.themes.shares import RateRows, estimate_from_scores, poststratify, read_validation


def synthetic(n: int, share: float, rng: np.random.Generator, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of a classifier that is right about 85% of the time, for items with the given share."""
    y = (rng.random((n, k)) < share).astype(np.int8)
    z = rng.normal(0.0, 1.2, (n, k)) + np.where(y == 1, 1.6, -1.6)
    return 1 / (1 + np.exp(-z)), y


@pytest.fixture(scope="module")
def rates() -> RateRows:
    P, Y = synthetic(3000, 0.3, np.random.default_rng(0), k=2)
    return RateRows(proba=P, labels=Y, thresholds=[0.5, 0.5], origin="synthetic")


def shares_of(P, rates, method, **kw):
    frame = estimate_from_scores(P, thresholds=[0.5, 0.5], labels=["a", "b"], rates=rates, method=method,
                                 n_bootstrap=200, **kw)
    return frame


@pytest.mark.parametrize("method", ["acc", "pacc", "em"])
def test_correction_recovers_known_shares_where_counting_overstates(rates, method):
    rng = np.random.default_rng(1)
    P, Y = synthetic(2000, 0.05, rng, k=2)
    truth = Y.mean(axis=0)
    frame = shares_of(P, rates, method, confidence=0.99)
    naive = frame["naive_share"].to_numpy()
    assert (naive - truth > 0.05).all()  # false positives inflate the count about threefold
    assert np.abs(frame["share"].to_numpy() - truth).max() < 0.02
    assert ((frame["ci_low"] <= truth) & (truth <= frame["ci_high"])).all()
    assert (frame["method"] == method).all() and (frame["n"] == 2000).all()


def test_em_is_the_fixed_point_of_the_saerens_iterations(rates):
    from govtext.themes.shares import _em

    rng = np.random.default_rng(2)
    s = rng.random(500) ** 3  # calibrated posteriors under a training prior of 0.3
    q = 0.3
    for _ in range(5000):  # the textbook EM loop
        up, down = q / 0.3 * s, (1 - q) / 0.7 * (1 - s)
        q = float((up / (up + down)).mean())
    found = _em(s[None, :], np.ones((1, 500)), np.array([0.3]))[0]
    assert found == pytest.approx(q, abs=1e-6)


def test_intervals_shrink_as_n_grows(rates):
    rng = np.random.default_rng(3)
    widths = []
    for n in (100, 400, 1600):
        P, _ = synthetic(n, 0.2, rng, k=2)
        f = shares_of(P, rates, "pacc")
        widths.append(float((f["ci_high"] - f["ci_low"]).mean()))
    assert widths[0] > widths[1] > widths[2]


def test_intervals_carry_the_uncertainty_of_the_rates():
    rng = np.random.default_rng(4)
    P, _ = synthetic(3000, 0.2, rng, k=2)
    widths = []
    for m in (60, 3000):  # few coded rows: wider intervals for the same corpus
        Pr, Yr = synthetic(m, 0.3, np.random.default_rng(5), k=2)
        f = shares_of(P, RateRows(proba=Pr, labels=Yr, thresholds=[0.5, 0.5], origin="x"), "acc")
        widths.append(float((f["ci_high"] - f["ci_low"]).mean()))
    assert widths[0] > 1.5 * widths[1]


def test_groups_get_their_own_rows_and_counts(rates):
    rng = np.random.default_rng(6)
    low, _ = synthetic(300, 0.05, rng, k=2)
    high, _ = synthetic(500, 0.4, rng, k=2)
    P = np.vstack([low, high])
    keys = [2021] * 300 + [2022] * 500
    f = shares_of(P, rates, "pacc", groups=keys)
    assert list(f.columns[:2]) == ["group", "theme"]
    assert f.groupby("group")["n"].first().to_dict() == {2021: 300, 2022: 500}
    by = f.set_index(["group", "theme"])["share"]
    assert by[(2022, "a")] - by[(2021, "a")] > 0.25


def test_error_rows_are_counted_not_estimated(rates):
    rng = np.random.default_rng(7)
    P, _ = synthetic(200, 0.2, rng, k=2)
    P[:5] = np.nan
    errors = np.zeros(200, bool)
    errors[:5] = True
    f = shares_of(P, rates, "acc", errors=errors, groups=["x"] * 100 + ["y"] * 100)
    assert f.groupby("group")["n_errors"].first().to_dict() == {"x": 5, "y": 0}
    assert f.groupby("group")["n"].first().to_dict() == {"x": 95, "y": 100}


def test_a_share_of_zero_still_has_an_upper_bound(rates):
    P = np.full((140, 2), 0.01)  # nothing looks like either theme: every replicate estimates 0
    f = shares_of(P, rates, "em")
    assert (f["share"] < 1e-3).all() and (f["ci_low"] < 1e-6).all()
    assert f["ci_high"].to_numpy() == pytest.approx(1 - 0.05 ** (1 / 140))


def test_a_group_of_only_error_rows_has_no_share(rates):
    P = np.full((3, 2), np.nan)
    f = shares_of(P, rates, "pacc", errors=[True] * 3)
    assert f["share"].isna().all() and (f["n_errors"] == 3).all() and (f["n"] == 0).all()


def test_methods_and_parameters_are_checked(rates):
    P, _ = synthetic(50, 0.2, np.random.default_rng(8), k=2)
    with pytest.raises(ParameterError, match="method"):
        shares_of(P, rates, "median")
    with pytest.raises(InputError, match="validation="):
        estimate_from_scores(P, thresholds=[0.5, 0.5], labels=["a", "b"], method="acc")
    with pytest.raises(ParameterError, match="confidence"):
        shares_of(P, rates, "cc", confidence=95)
    with pytest.raises(InputError, match="keys"):
        shares_of(P, rates, "cc", groups=[1, 2])


def test_rates_per_genre_are_used_for_items_of_that_genre():
    rng = np.random.default_rng(9)
    # genre 0: an accurate classifier; genre 1: one with many false positives (an offset of +1 log-odds)
    P0, Y0 = synthetic(2000, 0.3, rng)
    P1, Y1 = synthetic(2000, 0.3, rng)
    P1 = 1 / (1 + np.exp(-(np.log(P1 / (1 - P1)) + 1.0)))
    rates = RateRows(proba=np.vstack([P0, P1]), labels=np.vstack([Y0, Y1]), thresholds=[0.5], origin="x",
                     genre=np.r_[np.zeros(2000), np.ones(2000)])
    T1, Yt = synthetic(3000, 0.1, rng)
    T1 = 1 / (1 + np.exp(-(np.log(T1 / (1 - T1)) + 1.0)))
    right = estimate_from_scores(T1, thresholds=[0.5], labels=["a"], rates=rates, genre=np.ones(3000),
                                 method="acc", n_bootstrap=200)
    wrong = estimate_from_scores(T1, thresholds=[0.5], labels=["a"], rates=rates, genre=np.zeros(3000),
                                 method="acc", n_bootstrap=200)
    assert abs(right["share"][0] - Yt.mean()) < 0.03
    assert wrong["share"][0] - Yt.mean() > 0.1


def test_poststratification_weights_restore_the_corpus_mix():
    sample = np.array([[True], [True], [False], [False]])  # half predicted positive in the coded sample
    corpus = np.array([[True]] * 10 + [[False]] * 90)  # 10% in the corpus
    w = poststratify(sample, corpus)
    assert w[0, 0] == pytest.approx(0.1 / 0.5) and w[2, 0] == pytest.approx(0.9 / 0.5)


# --------------------------------------------------------------------------- with the bundled model


class _Model:
    classes_ = np.array(["a", "b"], dtype=object)
    thresholds_ = np.array([0.5, 0.5])


def _write_coded(path, P, codes, *, predicted=True):
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        fields = ["id", "text", "p_a", "p_b"] + (["predicted"] if predicted else []) + ["code_a", "code_b"]
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for i, (p, c) in enumerate(zip(P, codes)):
            row = {"id": i, "text": "x", "p_a": p[0], "p_b": p[1], "code_a": c[0], "code_b": c[1]}
            if predicted:
                row["predicted"] = ";".join(lab for lab, v in zip("ab", p) if v >= 0.5)
            w.writerow(row)


def test_a_validation_sample_replaces_the_rates(tmp_path, rates):
    rng = np.random.default_rng(10)
    P, _ = synthetic(2000, 0.1, rng, k=2)
    # In this corpus only the model's most confident "a" are real (its rates differ from the training rows'):
    # coders of a random sample of 300 find exactly that.
    truth = np.column_stack([(P[:, 0] >= 0.9), (P[:, 1] >= 0.5)]).astype(int)
    path = tmp_path / "coded.csv"
    _write_coded(path, P[:300], truth[:300])
    vr = read_validation(path, _Model(), corpus_predicted=P >= 0.5)
    assert vr.origin == "validation sample" and len(vr.proba) == 300
    f_oof = shares_of(P, rates, "acc")
    f_val = shares_of(P, vr, "acc")
    assert abs(f_val["share"][0] - truth[:, 0].mean()) < 0.03
    assert abs(f_oof["share"][0] - truth[:, 0].mean()) > 0.05
    assert (f_val["n_coded"] == 300).all() and (f_val["rates"] == "validation sample").all()
    _write_coded(path, P[:300], np.column_stack([np.zeros(300, int), truth[:300, 1]]))
    with pytest.raises(InputError, match="positive"):  # no coded "a" at all: its rates cannot be measured
        shares_of(P, read_validation(path, _Model()), "acc")


def test_validation_rows_left_blank_are_not_coded_and_half_coded_rows_are_errors(tmp_path):
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.3]])
    path = tmp_path / "coded.csv"
    _write_coded(path, P, [[1, 0], ["", ""], [0, 0]])
    vr = read_validation(path, _Model())
    assert len(vr.proba) == 2 and vr.uncoded == 1
    _write_coded(path, P, [[1, 0], ["", 1], [0, 0]])
    with pytest.raises(InputError, match="coded for some themes"):
        read_validation(path, _Model())
    _write_coded(path, P, [[1, 0], ["maybe", 1], [0, 0]])
    with pytest.raises(InputError, match="1/0"):
        read_validation(path, _Model())


@pytest.fixture(scope="module")
def model_with_oof(tmp_path_factory):
    """The bundled model, with a synthetic out-of-fold record when it ships none (older models)."""
    folder = tmp_path_factory.mktemp("m") / "model"
    shutil.copytree(default_model_path(), folder)
    if not (folder / "oof.npz").is_file():
        rng = np.random.default_rng(11)
        P, Y = synthetic(1500, 0.25, rng, k=3)
        np.savez(folder / "oof.npz", proba=P.astype(np.float32), labels=Y.astype(np.int8),
                 genre=rng.integers(0, 3, 1500).astype(np.int8), predicted=(P >= 0.45).astype(np.int8))
    return str(folder)


TEXTS = ["社区党支部召开组织生活会,党员带头认领楼道。", "志愿者开展文明劝导活动,倡导移风易俗。",
         "居民议事会协商加装电梯,物业和业委会参与。", "全市一季度地区生产总值同比增长百分之五。",
         "气象台预计未来三天有中到大雨,请注意防范。", "高速公路新建路段正式通车。"]


def test_estimate_shares_end_to_end_with_groups_and_error_rows(model_with_oof):
    texts = TEXTS * 5 + [None, ""]
    years = [2021] * 15 + [2022] * 15 + [2022, 2022]
    f = govtext.estimate_shares(texts, model=model_with_oof, by=years, n_bootstrap=200, progress=False)
    assert set(f.columns) >= {"group", "theme", "share", "ci_low", "ci_high", "n", "method", "n_coded", "n_errors"}
    assert len(f) == 6 and (f["method"] == "em").all()
    g = f.groupby("group")
    assert g["n"].first().to_dict() == {2021: 15, 2022: 15}
    assert g["n_errors"].first().to_dict() == {2021: 0, 2022: 2}
    assert ((f["ci_low"] <= f["share"]) & (f["share"] <= f["ci_high"])).all()
    assert (f["n_coded"] > 0).all()


def test_estimate_shares_takes_a_classify_frame_result(model_with_oof):
    import pandas as pd

    frame = pd.DataFrame({"text": TEXTS * 3, "place": ["甲"] * 9 + ["乙"] * 9})
    tagged = govtext.classify_frame(frame, model=model_with_oof, progress=False)
    a = govtext.estimate_shares(tagged, model=model_with_oof, by="place", n_bootstrap=200)
    b = govtext.estimate_shares(frame, model=model_with_oof, by="place", n_bootstrap=200, progress=False)
    assert a["share"].tolist() == pytest.approx(b["share"].tolist())
    assert sorted(a["group"].unique()) == ["乙", "甲"]


def test_estimate_shares_with_a_coded_sample_from_sample_for_coding(tmp_path):
    model = govtext.load()
    texts = TEXTS * 6
    path = tmp_path / "to_code.csv"
    govtext.sample_for_coding(model, texts, n=18, path=path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    truth = {"党支部": "party_building", "文明": "civility", "议事会": "co_governance"}
    for row in rows:  # code by hand, as a coder would
        for lab in model.classes_:
            row[f"code_{lab}"] = int(any(w in row["text"] and t == lab for w, t in truth.items()))
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    f = govtext.estimate_shares(texts, validation=path, method="acc", n_bootstrap=200, progress=False)
    assert (f["rates"] == "validation sample").all() and (f["n_coded"] == len(rows)).all()
    # 0.04: the bundled model (v3) also tags the one-line 社区党支部… text with co_governance (a
    # headline's threshold), and 18 stratified coded rows estimate that false-positive rate coarsely.
    assert f.set_index("theme")["share"].to_dict() == pytest.approx(
        {"party_building": 1 / 6, "civility": 1 / 6, "co_governance": 1 / 6}, abs=0.04)


def test_govtext_shares_command_counts_error_rows_and_groups(tmp_path, model_with_oof, capsys):
    import json

    import pandas as pd

    from govtext.apps.cli import main

    corpus = tmp_path / "corpus.jsonl"
    rows = [{"id": str(i), "year": 2021 + i % 2, "text": t} for i, t in enumerate(TEXTS * 4)]
    rows += [{"id": "empty", "year": 2022, "text": ""}, {"id": "no-year", "text": TEXTS[0]}]
    corpus.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "shares.csv"
    code = main(["shares", str(corpus), "--by", "year", "--model", model_with_oof, "-o", str(out),
                 "--n-bootstrap", "200", "-j", "2", "--chunk-size", "5"])
    assert code == 1  # complete, but one record was an error row
    table = pd.read_csv(out, encoding="utf-8-sig", dtype={"group": str}, keep_default_na=False)
    assert len(table) == 9 and (table["method"] == "em").all()
    per = table.groupby("group")
    assert per["n"].first().to_dict() == {"2021": 12, "2022": 12, "": 1}
    assert per["n_errors"].first().to_dict() == {"2021": 0, "2022": 1, "": 0}
    err = capsys.readouterr().err
    assert "1 record(s) could not be read or classified" in err and "no usable 'year'" in err
    assert main(["shares", str(corpus), "--by", "date:decade"]) == 2


def test_govtext_shares_by_date_period(tmp_path, model_with_oof):
    import json

    import pandas as pd

    from govtext.apps.cli import main

    corpus = tmp_path / "c.jsonl"
    dates = ["2023年3月1日", "2023-05-02", "20240105", "2024/7/9"]
    corpus.write_text("\n".join(json.dumps({"id": str(i), "date": dates[i % 4], "text": t}, ensure_ascii=False)
                                for i, t in enumerate(TEXTS * 2)), encoding="utf-8")
    out = tmp_path / "s.jsonl"
    assert main(["shares", str(corpus), "--by", "date:year", "--model", model_with_oof, "--method", "cc",
                 "-o", str(out), "-q", "--n-bootstrap", "100"]) == 0
    table = pd.read_json(out, lines=True, dtype={"group": str})
    assert sorted(table["group"].unique()) == ["2023", "2024"]


def test_on_real_local_news_a_fully_coded_corpus_gives_its_coded_shares():
    """Real text: local news excerpts coded by hand (../shared/labels). With every item coded and passed
    as the validation sample, the adjusted count must return the coded share exactly (the rates and the
    count come from the same items)."""
    import json

    import pandas as pd

    from .conftest import SHARED, _need

    path = _need(SHARED / "labels" / "local_themes.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r["split"] == "dev"][:150]
    themes = ["party_building", "civility", "co_governance"]
    frame = govtext.classify_frame(pd.DataFrame({"text": [r["text"] for r in rows]}), progress=False)
    coded = frame[[f"p_{t}" for t in themes]].assign(**{f"code_{t}": [r[t] for r in rows] for t in themes})
    truth = {t: sum(r[t] for r in rows) / len(rows) for t in themes}
    f = govtext.estimate_shares(frame, validation=coded, method="acc", genre="local news", n_bootstrap=200)
    got = f.set_index("theme")
    for t in themes:
        assert got.loc[t, "share"] == pytest.approx(truth[t], abs=1e-9)
        assert got.loc[t, "ci_low"] <= truth[t] <= got.loc[t, "ci_high"]
    assert (f["n_coded"] == len(rows)).all() and (f["n"] == len(rows)).all()


def test_the_bundled_model_corrects_out_of_the_box():
    """A fresh install: the bundled model's error rates are found (its own oof.npz, or the record shipped
    beside it), so the default method needs no coded sample."""
    f = govtext.estimate_shares(TEXTS * 3, n_bootstrap=100, progress=False)
    assert (f["method"] == "em").all() and (f["n_coded"] > 100).all()
    assert f["rates"].str.startswith("out-of-fold").all()


class _TextModel(_Model):
    """Scores "a" by whether 甲 is in the text it is given (title included), "b" by 乙."""

    def __init__(self):
        self.seen: list[str] = []

    def predict_proba(self, texts):
        self.seen.extend(texts)
        return np.array([[0.9 if "甲" in t else 0.1, 0.9 if "乙" in t else 0.1] for t in texts])


def _write_jsonl(path, rows):
    import json

    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_validation_accepts_a_coded_jsonl_in_each_form(tmp_path):
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.3], [0.7, 0.6]])
    codes = [[1, 0], [0, 1], [0, 0], [1, 0]]
    csv_path = tmp_path / "coded.csv"
    _write_coded(csv_path, P, codes)
    from_csv = read_validation(csv_path, _Model())
    # the CSV's own columns, one JSON object a line
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        same = [dict(r) for r in csv.DictReader(fh)]
    _write_jsonl(tmp_path / "same.jsonl", same)
    from_jsonl = read_validation(tmp_path / "same.jsonl", _Model())
    assert np.array_equal(from_jsonl.labels, from_csv.labels) and np.allclose(from_jsonl.proba, from_csv.proba)
    assert np.array_equal(from_jsonl.predicted, from_csv.predicted)
    # the form of samples/coded.jsonl: a 0/1 field per theme, title and text (the title is classified too)
    items = [{"id": "1", "title": "甲事", "text": "正文", "a": 1, "b": 0},
             {"id": "2", "title": "", "text": "乙事", "a": 0, "b": 1},
             {"id": "3", "text": "别的事", "a": 0, "b": 0}]
    _write_jsonl(tmp_path / "themes.jsonl", items)
    model = _TextModel()
    vr = read_validation(tmp_path / "themes.jsonl", model)
    assert vr.labels.tolist() == [[1, 0], [0, 1], [0, 0]] and model.seen[0] == "甲事\n正文"
    assert vr.predicted.tolist() == [[True, False], [False, True], [False, False]]
    # or a labels list
    _write_jsonl(tmp_path / "lists.jsonl", [{"text": "甲事", "labels": ["a"]}, {"text": "无", "labels": []}])
    assert read_validation(tmp_path / "lists.jsonl", _TextModel()).labels.tolist() == [[1, 0], [0, 0]]


def test_validation_that_fits_neither_form_says_what_was_expected(tmp_path):
    _write_jsonl(tmp_path / "other.jsonl", [{"text": "甲事", "theme_a": 1}])
    with pytest.raises(InputError, match=r"code_<theme> column.*sample_for_coding.*coded JSONL.*\['a', 'b'\]"):
        read_validation(tmp_path / "other.jsonl", _TextModel())
    (tmp_path / "broken.jsonl").write_text('{"text": "甲事", "a": 1}\n{"text": 乙\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 2 .* not JSON"):
        read_validation(tmp_path / "broken.jsonl", _TextModel())
    _write_jsonl(tmp_path / "bad_list.jsonl", [{"text": "甲事", "labels": ["a", "c"]}])
    with pytest.raises(InputError, match=r"unknown theme\(s\) \['c'\]"):
        read_validation(tmp_path / "bad_list.jsonl", _TextModel())


def test_estimate_shares_with_the_shipped_coded_jsonl(model_with_oof):
    from pathlib import Path

    coded = Path(__file__).resolve().parent.parent / "samples" / "coded.jsonl"
    f = govtext.estimate_shares(TEXTS * 4, model=model_with_oof, validation=coded, method="acc",
                                n_bootstrap=100, progress=False)
    assert (f["rates"] == "validation sample").all()
    assert (f["n_coded"] == sum(1 for line in coded.open(encoding="utf-8") if line.strip())).all()


def test_em_recalibration_of_a_single_coded_row_warns_of_nothing():
    # A theme's coded rows can be few (one row in a bootstrap draw): the Newton steps of the Platt
    # fit then run off and exp() overflowed, numpy's RuntimeWarning on every such run; the fit must
    # stay quiet and finite.
    import warnings

    from govtext.themes.shares import _platt

    z, y = np.array([[13.8], [-2.0]]), np.array([[0.0], [1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a, c = _platt(z, y, np.ones_like(z))
    assert np.isfinite(a).all() and np.isfinite(c).all()
