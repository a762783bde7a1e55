"""govtext.plot: charts from govtext results, with Chinese labels that render (no missing glyphs)."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("matplotlib")
pd = pytest.importorskip("pandas")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import govtext  # noqa: E402
import govtext.plot as gplot  # noqa: E402

from .conftest import EXAMPLES  # noqa: E402


@pytest.fixture(autouse=True)
def _font(cjk_font):
    """Every chart test needs a Chinese font (skipped locally without one; .ci/run installs it)."""
    return cjk_font


def _draw_without_missing_glyphs(ax) -> None:
    """Render the figure and fail on matplotlib's 'Glyph … missing from font' warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax.figure.canvas.draw()
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing[:3]
    texts = [t.get_text() for t in ax.figure.findobj(matplotlib.text.Text)]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in t) for t in texts), "no Chinese label was drawn"
    plt.close(ax.figure)


@pytest.fixture(scope="module")
def frame():
    rows = []
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    dates = ["2023-01-15", "2023年2月3日", "20230320", "2023/4/1", "2023-05-09", "2023-06-30"]
    for i, d in enumerate(dates):
        rows.append({"text": texts[i % len(texts)], "date": d})
    df = pd.DataFrame(rows)
    out = govtext.classify_frame(df, progress=False)
    out["places"] = df["text"].map(govtext.places)
    return out


def test_cjk_font_is_found_and_chinese_renders():
    family = gplot.use_cjk_font()
    assert family
    fig, ax = plt.subplots()
    ax.set_title("党建引领 文明创建 共建共治共享")
    ax.set_xlabel("社区议事会")
    _draw_without_missing_glyphs(ax)


def test_without_the_cjk_font_matplotlib_would_warn():
    """The check above can fail: the default font has no Chinese glyphs and matplotlib says so."""
    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("党建引领")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
        plt.close(fig)
    assert any("missing from" in str(w.message) for w in caught)


def test_theme_shares_over_time(frame):
    ax = gplot.theme_shares(frame, date="date", freq="M")
    assert len(ax.get_lines()) == 3
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"党建引领", "文明创建", "共建共治共享"}
    _draw_without_missing_glyphs(ax)


def test_theme_shares_draws_corrected_shares_with_bands_and_dashed_counts():
    import numpy as np

    from govtext.themes.shares import RateRows, estimate_from_scores

    rng = np.random.default_rng(0)
    P = rng.random((600, 3)) ** 2
    rates = RateRows(proba=P, labels=(rng.random((600, 3)) < P).astype(int), thresholds=[0.5] * 3, origin="x")
    table = estimate_from_scores(rng.random((300, 3)) ** 3, thresholds=[0.5] * 3, rates=rates, method="pacc",
                                 labels=["party_building", "civility", "co_governance"],
                                 groups=[2021 + i % 3 for i in range(300)], n_bootstrap=200)
    ax = gplot.theme_shares(table)
    assert len(ax.get_lines()) == 6 and len(ax.collections) == 3  # corrected + dashed naive lines; 3 bands
    assert [ln.get_linestyle() for ln in ax.get_lines()].count("--") == 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2021", "2022", "2023"]
    _draw_without_missing_glyphs(ax)
    assert len(gplot.theme_shares(table, naive=False).get_lines()) == 3


def test_themes_by_place(frame):
    ax = gplot.themes_by_place(frame, place="places", top=5)
    assert 1 <= len(ax.get_yticklabels()) <= 5
    _draw_without_missing_glyphs(ax)


def test_explanation_and_matches_charts():
    model = govtext.load()
    text = (EXAMPLES / "03_dangjian_yinling.txt").read_text(encoding="utf-8")
    ax = gplot.explanation(model.explain(govtext.clean_article(text).text), label="party_building")
    assert ax.patches and "党建引领" in ax.get_title()
    _draw_without_missing_glyphs(ax)
    articles = [govtext.clean_article(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.txt"))]
    index = govtext.SimilarityIndex().fit([a.text for a in articles], metadata=[{"title": a.title} for a in articles])
    ax = gplot.matches(index.query("楼道微自治 党员认领楼道", k=3))
    assert ax.patches
    _draw_without_missing_glyphs(ax)


def test_bad_inputs_say_what_was_expected(frame):
    with pytest.raises(govtext.ParameterError, match="no column 'day'"):
        gplot.theme_shares(frame, date="day")
    with pytest.raises(govtext.ParameterError, match="model.explain"):
        gplot.explanation("not an explanation")
    with pytest.raises(govtext.ParameterError, match="DataFrame"):
        gplot.theme_shares(42)


def test_timeline_chart():
    docs = [("杭州市上城区推行楼道微自治", "2019-03-01", ["上城区"]), ("上城区楼道微自治三年", "2021-01-05", ["上城区"]),
            ("南京仙林街道学习楼道微自治", "2020-06-10", ["仙林街道"]), ("有社区推行楼道微自治", "", [])]
    index = govtext.SimilarityIndex().fit([t for t, _, _ in docs], metadata=[{"date": d, "places": p} for _, d, p in docs])
    ax = gplot.timeline(index.timeline("楼道微自治"))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["仙林街道", "上城区"]  # earliest at the top
    assert "楼道微自治" in ax.get_title() and "4" in ax.get_title()
    _draw_without_missing_glyphs(ax)
    with pytest.raises(govtext.ParameterError, match="Timeline"):
        gplot.timeline([1, 2])


def _visible_tick_labels(ax) -> list[str]:
    """The x tick labels matplotlib draws: ticks inside the axis' view, as the formatter writes them."""
    ax.figure.canvas.draw()
    low, high = sorted(ax.get_xlim())
    return [t.get_text() for t in ax.get_xticklabels() if low <= t.get_position()[0] <= high]


@pytest.mark.parametrize("dates, freq, expected", [
    (["2023-01-15", "2023-02-03", "2023-03-20"], "M", ["2023-01", "2023-02", "2023-03"]),  # auto ticks: days
    ([f"2023-{m:02d}-10" for m in range(1, 13)], "M", [f"2023-{m:02d}" for m in range(1, 13)]),  # auto: odd months
    (["2021-05-01", "2022-03-09", "2023-11-30"], "Y", ["2021", "2022", "2023"]),  # auto ticks: months
    (["2023-01-15", "2023-05-03", "2023-08-20", "2023-12-01"], "Q", ["2023Q1", "2023Q2", "2023Q3", "2023Q4"]),
    (["2023-04-02", "2023-04-20"], "M", ["2023-04"]),  # one period
])
def test_theme_shares_ticks_are_the_periods(dates, freq, expected):
    """A monthly series is labelled by month and a yearly one by year, never by day (matplotlib's
    automatic date ticks mark days on a three-month series and months on a three-year one)."""
    frame = pd.DataFrame({"date": dates, "labels": [["civility"]] * len(dates)})
    ax = gplot.theme_shares(frame, date="date", freq=freq, labels=["civility"])
    assert _visible_tick_labels(ax) == expected
    plt.close(ax.figure)


def test_a_long_monthly_series_keeps_month_ticks_but_not_too_many():
    dates = [f"{y}-{m:02d}-10" for y in range(2019, 2025) for m in range(1, 13)]
    frame = pd.DataFrame({"date": dates, "labels": [["civility"]] * len(dates)})
    labels = _visible_tick_labels(gplot.theme_shares(frame, date="date", freq="M", labels=["civility"]))
    assert 4 <= len(labels) <= 13 and all(len(t) == 7 and t[4] == "-" for t in labels), labels
    plt.close("all")
