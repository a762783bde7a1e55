"""Charts of govtext results: theme shares over time, themes by place, an explanation's terms and a
query's matches. Each function returns the matplotlib ``Axes`` it drew on (pass ``ax=`` to draw
into your own figure) and takes a pandas frame (as :func:`~govtext.classify_frame` returns) or
govtext results.

Needs matplotlib (``pip install govtext[plot]``) and a font with Chinese characters:
:func:`use_cjk_font` finds one (the chart functions call it) or says what to install.

>>> import govtext, govtext.plot                                     # doctest: +SKIP
>>> frame = govtext.classify_frame(df, text_field="text")             # doctest: +SKIP
>>> govtext.plot.theme_shares(frame, date="date", freq="Q")           # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .._common import THEME_NAMES
from ..errors import GovtextError, ParameterError

__all__ = ["THEME_NAMES", "MissingFontError", "explanation", "matches", "theme_shares", "themes_by_place",
           "timeline", "use_cjk_font"]


# Families with simplified Chinese glyphs, preferred first: Noto/Source Han (Linux, pip-free installs),
# WenQuanYi (older Linux), the ones macOS and Windows ship. A pan-CJK face (Noto Sans CJK JP)
# also holds every simplified character, so it is an acceptable last resort.
_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "Microsoft YaHei",
             "SimHei", "DengXian", "Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN", "Noto Sans CJK JP",
             "Noto Sans CJK TC", "Droid Sans Fallback")
_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "sourcehanserif", "wqy", "msyh", "simhei",
               "pingfang", "droidsansfallback", "uming", "ukai")
_PROBE = "党建引领文明创建共建共治共享社区"
_INSTALL_HINT = ("no font with Chinese characters was found, so Chinese labels would show as empty boxes. "
                 "Install one and call use_cjk_font() again: Debian/Ubuntu `sudo apt-get install fonts-noto-cjk`; "
                 "Fedora `sudo dnf install google-noto-sans-cjk-fonts`; Arch `sudo pacman -S noto-fonts-cjk`; "
                 "conda `conda install -c conda-forge font-ttf-noto-cjk` (macOS and Windows ship PingFang SC / "
                 "Microsoft YaHei). Or pass a font file you have: use_cjk_font('NotoSansSC-Regular.otf').")

_chosen: str | None = None


class MissingFontError(GovtextError):
    """No installed font can draw Chinese characters; the message says what to install."""


def _matplotlib() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("govtext.plot needs matplotlib: pip install govtext[plot]") from None
    return plt


def _covers(path: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(ch) in charmap for ch in _PROBE)


def use_cjk_font(path: str | Path | None = None) -> str:
    """Make matplotlib draw Chinese: find an installed font with Chinese glyphs (or use the font file
    ``path``), put it first in ``font.sans-serif`` and return its family name.

    Changes matplotlib's settings for this session (``rcParams``) and nothing else; called by every
    chart function here. Raises :class:`MissingFontError`, saying what to install, when there is none.
    """
    global _chosen
    _matplotlib()
    from matplotlib import font_manager, rcParams

    manager = font_manager.fontManager
    if path is not None:
        if not Path(path).is_file():
            raise ParameterError(f"use_cjk_font(): no font file at {path}")
        if not _covers(str(path)):
            raise MissingFontError(f"{path} has no glyphs for Chinese characters such as {_PROBE[:4]}")
        manager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
    elif _chosen is not None:
        family = _chosen
    else:
        family = _find_family(manager, font_manager)
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [family] + [f for f in rcParams["font.sans-serif"] if f != family]
    rcParams["axes.unicode_minus"] = False  # the CJK fonts' minus sign is often missing
    _chosen = family
    return family


def _find_family(manager: Any, font_manager: Any) -> str:
    installed = {f.name: f.fname for f in manager.ttflist}
    for family in _FAMILIES:
        if family in installed and _covers(installed[family]):
            return family
    # Fonts installed after matplotlib built its font cache are not in it: look on disk.
    for file in font_manager.findSystemFonts():
        if any(h in Path(file).name.lower().replace("-", "").replace("_", "") for h in _FILE_HINTS) and _covers(file):
            manager.addfont(file)
            return font_manager.FontProperties(fname=file).get_name()
    for entry in manager.ttflist:  # any other font that happens to cover Chinese
        if _covers(entry.fname):
            return entry.name
    raise MissingFontError(_INSTALL_HINT)


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    plt = _matplotlib()
    use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _name(label: str) -> str:
    return THEME_NAMES.get(label, label)


def _frame(data: Any) -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("govtext.plot needs pandas for tables of results: pip install govtext[pandas]") from None
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (list, tuple)) and all(isinstance(r, Mapping) for r in data):
        return pd.DataFrame(list(data))
    raise ParameterError(f"expected a pandas DataFrame or a list of result rows (dicts), got {type(data).__name__}")


def _label_columns(frame: Any, labels: Sequence[str] | None) -> tuple[list[str], Any]:
    """Theme names and a 0/1 frame of them: from a ``labels`` column of lists, or ``p_<theme>``
    probabilities (at 0.5) when there is none."""
    import pandas as pd

    if "labels" in frame.columns:
        lists = frame["labels"].apply(lambda v: list(v) if isinstance(v, (list, tuple, set)) or hasattr(v, "tolist")
                                      else ([] if v is None or v != v else str(v).split(";")))
        order = list(THEME_NAMES)
        names = list(labels) if labels is not None else sorted(
            {x for row in lists for x in row} | set(order),
            key=lambda x: (order.index(x) if x in order else len(order), x))
        marks = pd.DataFrame({n: lists.apply(lambda row, n=n: n in row).astype(float) for n in names}, index=frame.index)
    else:
        probs = [c for c in frame.columns if str(c).startswith("p_")]
        if not probs:
            raise ParameterError("the frame needs a 'labels' column (lists of themes) or p_<theme> columns, "
                                 f"as classify_frame gives; it has {list(frame.columns)}")
        names = list(labels) if labels is not None else [c[2:] for c in probs]
        marks = pd.DataFrame({n: (frame[f"p_{n}"] >= 0.5).astype(float) for n in names}, index=frame.index)
    if "error" in frame.columns:  # error rows carry no decision: leave them out of the shares
        marks = marks[frame["error"].isna()]
    return names, marks


def theme_shares(data: Any, *, date: str = "date", freq: str = "M", labels: Sequence[str] | None = None,
                 min_count: int = 1, naive: bool = True, ax: Any = None) -> Any:
    """Share of articles carrying each theme, per period or group, as lines.

    ``data`` is either a table :func:`~govtext.estimate_shares` returned — then the error-corrected
    shares are drawn per group with their intervals as bands, and (``naive=True``) the plain counts of
    predicted labels as dashed lines of the same colour — or a frame of classified articles (as
    :func:`~govtext.classify_frame` returns) with a date column (any form
    :func:`~govtext.clean.parse_date` reads) and a ``labels`` column or ``p_<theme>`` columns: then
    the plain counts per period (``freq``: ``"M"`` months, ``"Q"`` quarters, ``"Y"`` years) are drawn,
    with the number of articles per period as bars behind; periods with fewer than ``min_count``
    articles are left out. Report the corrected shares: counts are biased by the classifier's errors.
    """
    import pandas as pd

    from ..text.clean import parse_date

    frame = _frame(data)
    if {"theme", "share", "ci_low", "ci_high"} <= set(frame.columns):
        return _corrected_shares(frame, labels=labels, naive=naive, ax=ax)
    if date not in frame.columns:
        raise ParameterError(f"theme_shares(): no column {date!r}; the frame has {list(frame.columns)}")
    names, marks = _label_columns(frame, labels)
    when = pd.to_datetime(frame.loc[marks.index, date].map(parse_date), errors="coerce")
    keep = when.notna()
    if not keep.any():
        raise ParameterError(f"theme_shares(): no value of {date!r} could be read as a date")
    period = when[keep].dt.to_period(freq)
    grouped = marks[keep].groupby(period)
    shares, counts = grouped.mean(), grouped.size()
    shares, counts = shares[counts >= min_count], counts[counts >= min_count]
    ax = _axes(ax, (9, 4))
    x = shares.index.to_timestamp()
    width = (x[1] - x[0]).days * 0.8 if len(x) > 1 else 20
    twin = ax.twinx()
    twin.bar(x, counts.values, width=width, color="#dddddd", zorder=0)
    twin.set_ylabel("文章数")
    ax.set_zorder(twin.get_zorder() + 1)
    ax.patch.set_visible(False)
    for name in names:
        ax.plot(x, shares[name].values * 100, marker="o", markersize=3, label=_name(name))
    ax.set_ylabel("含该主题的文章占比 (%)")
    _period_ticks(ax, x, freq)
    ax.set_xlabel({"M": "月份", "Q": "季度", "Y": "年份", "A": "年份"}.get(freq[:1].upper(), "时期"))
    ax.set_title("主题占比随时间变化")
    ax.legend(loc="upper left", frameon=False)
    ax.set_ylim(bottom=0)
    return ax


def _period_ticks(ax: Any, x: Any, freq: str, most: int = 12) -> None:
    """Ticks on the periods themselves: months labelled 2023-01, quarters 2023Q1, years 2023, every
    1, 2, 3, 6 or 12 months (or 1, 2, 5, 10 … years) so that at most ``most`` ticks are drawn.
    Matplotlib's automatic date ticks would mark days on a short monthly series and months on a
    short yearly one. Other frequencies (weeks, days) keep the automatic ticks."""
    from matplotlib import dates as mdates
    from matplotlib.ticker import FuncFormatter

    unit = freq[:1].upper()
    if unit not in "MQYA" or len(x) == 0:
        return
    first, last = x.min(), x.max()
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if unit == "M":
        step = next((k for k in (1, 2, 3, 6, 12) if months / k <= most), 12 * (-(-months // (12 * most))))
        if step < 12:
            locator = mdates.MonthLocator(bymonth=range(1, 13), interval=step)
        else:
            locator = mdates.YearLocator(base=step // 12, month=1, day=1)
        formatter = mdates.DateFormatter("%Y-%m")
    elif unit == "Q":
        quarters = -(-months // 3)
        step = next((k for k in (1, 2, 4) if quarters / k <= most), 4 * (-(-quarters // (4 * most))))
        if step < 4:
            locator = mdates.MonthLocator(bymonth=range(1, 13, 3 * step) if step != 2 else (1, 7))
        else:
            locator = mdates.YearLocator(base=step // 4, month=1, day=1)
        formatter = FuncFormatter(lambda v, _pos: (lambda d: f"{d.year}Q{(d.month - 1) // 3 + 1}")(mdates.num2date(v)))
    else:
        years = last.year - first.year + 1
        step = next((k for k in (1, 2, 5, 10, 20, 50, 100) if years / k <= most), 100)
        locator = mdates.YearLocator(base=step, month=1, day=1)
        formatter = mdates.DateFormatter("%Y")
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    ax.xaxis.set_minor_locator(mdates.MonthLocator() if unit in "MQ" and months <= 36 else mdates.YearLocator())
    if len(x) == 1:  # one period: a window around it, so the single tick sits in the middle
        import pandas as pd

        pad = pd.Timedelta(days={"M": 20, "Q": 60}.get(unit, 200))
        ax.set_xlim(first - pad, first + pad)


def _corrected_shares(table: Any, *, labels: Sequence[str] | None, naive: bool, ax: Any) -> Any:
    """Corrected shares with interval bands (and dashed naive counts) per group, from estimate_shares."""
    import numpy as np

    if "group" in table.columns:
        groups = list(dict.fromkeys(table["group"].tolist()))
    else:
        table = table.assign(group="")
        groups = [""]
    names = list(labels) if labels is not None else list(dict.fromkeys(table["theme"].tolist()))
    ax = _axes(ax, (9, 4))
    x = np.arange(len(groups))
    from matplotlib import rcParams

    cycle = rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2"])
    for i, name in enumerate(names):
        part = table[table["theme"] == name].set_index("group").reindex(groups)
        colour = cycle[i % len(cycle)]
        ax.plot(x, part["share"].to_numpy(dtype=float) * 100, marker="o", markersize=3, color=colour,
                label=_name(name))
        ax.fill_between(x, part["ci_low"].to_numpy(dtype=float) * 100, part["ci_high"].to_numpy(dtype=float) * 100,
                        color=colour, alpha=0.18, linewidth=0)
        if naive and "naive_share" in part.columns:
            ax.plot(x, part["naive_share"].to_numpy(dtype=float) * 100, linestyle="--", linewidth=1, color=colour,
                    label=f"{_name(name)}(未校正计数)")
    level = table.attrs.get("confidence")
    ax.set_xticks(x, [str(g) if g is not None else "(无)" for g in groups])
    ax.set_ylabel("含该主题的文章占比 (%)")
    ax.set_title("主题占比(已校正" + (f",{level:.0%} 区间" if level else ",区间") + ")")
    ax.legend(loc="upper left", frameon=False, fontsize="small")
    ax.set_ylim(bottom=0)
    return ax


def themes_by_place(data: Any, *, place: str = "places", top: int = 12, labels: Sequence[str] | None = None,
                    ax: Any = None) -> Any:
    """Heat map of the share of articles carrying each theme in the ``top`` places mentioned most.

    ``place``: a column holding a place name or a list of them (as :func:`~govtext.places` gives;
    an article counts once for every place it names). Cells show the share and the article count.
    """
    import numpy as np

    frame = _frame(data)
    if place not in frame.columns:
        raise ParameterError(f"themes_by_place(): no column {place!r}; the frame has {list(frame.columns)} "
                             f"(add one with frame[{place!r}] = frame['text'].map(govtext.places))")
    names, marks = _label_columns(frame, labels)
    where = frame.loc[marks.index, place].apply(lambda v: list(dict.fromkeys(v)) if isinstance(v, (list, tuple))
                                                 else ([] if v is None or v != v else [str(v)]))
    long = marks.assign(_place=where).explode("_place").dropna(subset=["_place"])
    if long.empty:
        raise ParameterError(f"themes_by_place(): no article names a place in column {place!r}")
    counts = long.groupby("_place").size().sort_values(ascending=False).head(top)
    shares = long.groupby("_place")[names].mean().loc[counts.index]
    ax = _axes(ax, (1.6 + 1.3 * len(names), 0.9 + 0.42 * len(counts)))
    top_share = float(np.nanmax(shares.values)) * 100 if shares.size else 0.0
    vmax = max(10.0, np.ceil(top_share / 10) * 10)
    image = ax.imshow(shares.values * 100, cmap="Blues", vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(names)), [_name(n) for n in names])
    ax.set_yticks(range(len(counts)), [f"{p} ({n})" for p, n in counts.items()])
    for i in range(len(counts)):
        for j in range(len(names)):
            value = shares.values[i, j] * 100
            ax.text(j, i, f"{value:.0f}%", ha="center", va="center", color="white" if value > 0.6 * vmax else "black")
    ax.figure.colorbar(image, ax=ax, label="含该主题的文章占比 (%)")
    ax.set_title("各地主题占比 (括号内为文章数)")
    return ax


def explanation(explained: Any, *, label: str | None = None, top: int = 10, ax: Any = None) -> Any:
    """The terms that raised a theme's score most in one text, as bars, from
    ``model.explain(text)`` (default: the most probable theme). The title gives the probability
    and the decision."""
    items = getattr(explained, "labels", None)
    if items is None:
        raise ParameterError(f"explanation() expects what model.explain(text) returns, got {type(explained).__name__}")
    chosen = explained[label] if label is not None else max(items, key=lambda e: e.probability)
    terms = list(chosen.terms)[:top][::-1]
    ax = _axes(ax, (6, 0.6 + 0.35 * max(len(terms), 1)))
    ax.barh([t.term for t in terms], [t.weight for t in terms], color="#3b7dd8")
    ax.set_xlabel("对主题得分的贡献 (TF-IDF × 系数)")
    verdict = "判定为是" if chosen.predicted else "判定为否"
    ax.set_title(f"{_name(chosen.label)}: 概率 {chosen.probability:.2f} ({verdict}, 阈值 {chosen.threshold:.2f})")
    if not terms:
        ax.text(0.5, 0.5, "没有正向贡献的词", ha="center", va="center", transform=ax.transAxes)
    return ax


def matches(found: Iterable[Any], *, title_field: str = "title", ax: Any = None) -> Any:
    """A query's matches (``index.query(...)``) as bars of their scores, labelled with the title
    (or id) and the strongest shared terms."""
    rows = list(found)
    if rows and not all(hasattr(m, "score") and hasattr(m, "id") for m in rows):
        raise ParameterError("matches() expects the Match results of SimilarityIndex.query")
    rows = rows[::-1]
    ax = _axes(ax, (8, 0.6 + 0.45 * max(len(rows), 1)))
    names = [str(m.metadata.get(title_field) or m.id)[:24] for m in rows]
    ax.barh(range(len(rows)), [m.score for m in rows], color="#e07b39")
    ax.set_yticks(range(len(rows)), names)
    for i, m in enumerate(rows):
        ax.text(m.score, i, "  " + "、".join(m.shared_terms[:4]), va="center", fontsize=8)
    ax.set_xlim(0, max([m.score for m in rows] + [0.1]) * 1.6)
    ax.set_xlabel("余弦相似度 (TF-IDF)")
    ax.set_title("最相似的已有案例 (右侧为共有关键词)")
    return ax


def timeline(found: Any, *, top: int = 20, ax: Any = None) -> Any:
    """An initiative's timeline (``index.timeline(name)``): one line per place from its first to its
    latest report, a dot per end sized by the number of documents, earliest place at the top;
    at most ``top`` places (the earliest dated ones)."""
    import datetime as _dt

    if not (hasattr(found, "places") and hasattr(found, "name") and hasattr(found, "documents")):
        raise ParameterError("timeline() expects the Timeline of SimilarityIndex.timeline(name)")
    rows = [p for p in found.places if p.first][:top]
    ax = _axes(ax, (8, 0.8 + 0.4 * max(len(rows), 1)))
    if not rows:
        ax.text(0.5, 0.5, f"没有带日期的“{found.name}”报道", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    rows = rows[::-1]
    day = _dt.date.fromisoformat
    for i, p in enumerate(rows):
        a, b = day(p.first), day(p.latest)
        ax.plot([a, b], [i, i], color="#3b6ea5", linewidth=2)
        ax.scatter([a, b], [i, i], s=[20 + 12 * p.count] * 2, color="#3b6ea5", zorder=3)
        ax.text(b, i, f"  {p.count}", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [p.place for p in rows])
    ax.set_xlabel("首次与最近一次报道 (右侧数字为报道数)")
    ax.set_title(f"“{found.name}”在各地的报道 ({found.documents} 篇)")
    return ax
