"""Error-corrected theme shares (quantification) with intervals, by group.

Counting predicted labels overstates a theme wherever the classifier's false positives are common
(ordinary local news) and understates it where it misses cases. The methods here correct the count
with the classifier's own error rates, measured on coded rows it was not trained on:

* ``cc``    classify and count: the share of items predicted with the theme (the naive count);
* ``pcc``   probabilistic count: the mean probability;
* ``acc``   adjusted count: ``(cc - fpr) / (tpr - fpr)``, with the true- and false-positive rates;
* ``pacc``  probabilistic adjusted count: the same with mean probabilities among positives and negatives;
* ``em``    Saerens–Latinne–Decaestecker: probabilities recalibrated on the coded rows (Platt scaling), then
  re-weighted to a new prior by expectation–maximisation until the prior and the mean posterior agree.

The coded rows ("rate rows") are the model's out-of-fold predictions on its training data, per genre
(national broadcast, local news, headline), when the model carries them (``model.out_of_fold()``), or a
coded sample of the user's own corpus (``validation=``: the CSV :func:`~govtext.sample_for_coding` writes,
filled in, or a coded JSONL). Intervals are percentile bootstrap intervals that resample both the rate rows (so the
uncertainty of the rates themselves is in them) and the items of each group.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError
from ._linear import sigmoid

__all__ = ["GENRES", "METHODS", "RateRows", "estimate_from_scores", "estimate_shares", "guess_genre",
           "read_validation"]

GENRES = ("national broadcast", "local news", "headline")
METHODS = ("cc", "pcc", "acc", "pacc", "em")
# The default, chosen by benchmarks/shares.py (lowest mean absolute error on the dev sets, see README).
DEFAULT_METHOD = "em"
_MIN_CLASS_ROWS = 10  # rate rows of each class a genre needs before its own rates are used
_TRUE = {"1", "1.0", "yes", "y", "true", "t", "是", "有", "x", "✓"}
_FALSE = {"0", "0.0", "no", "n", "false", "f", "否", "无"}


# --------------------------------------------------------------------------- rate rows


@dataclass(frozen=True)
class RateRows:
    """Coded rows the error rates come from: probabilities ``proba`` (m, k), true ``labels`` (m, k) 0/1
    (-1: not coded for that theme), ``weights`` (m, k) (1 for out-of-fold rows; post-stratification weights
    for a validation sample), ``genre`` (m,) codes into :data:`GENRES` or None (one set of rates for every
    genre), the decisions ``predicted`` (m, k) 0/1 the model made on them (default: ``proba`` at the
    model's ``thresholds``, (k,) or one row per genre) and where they come from (``origin``)."""

    proba: np.ndarray
    labels: np.ndarray
    thresholds: np.ndarray
    origin: str
    weights: np.ndarray | None = None
    genre: np.ndarray | None = None
    predicted: np.ndarray | None = None
    uncoded: int = field(default=0)

    def __post_init__(self) -> None:
        p = np.asarray(self.proba, dtype=float)
        y = np.asarray(self.labels)
        if p.ndim != 2 or y.shape != p.shape:
            raise InputError(f"rate rows need proba and labels of the same (m, k) shape, got {p.shape} and {y.shape}")
        if not np.isin(y, (-1, 0, 1)).all():
            raise InputError("rate-row labels must be 0 or 1 (or -1 where a theme was not coded)")
        w = np.ones_like(p) if self.weights is None else np.asarray(self.weights, dtype=float)
        if w.shape != p.shape:
            w = np.broadcast_to(w.reshape(len(p), -1), p.shape).astype(float)
        object.__setattr__(self, "proba", p)
        object.__setattr__(self, "labels", y.astype(np.int8))
        object.__setattr__(self, "weights", w)
        object.__setattr__(self, "thresholds", np.asarray(self.thresholds, dtype=float))
        if self.genre is not None:
            object.__setattr__(self, "genre", np.asarray(self.genre, dtype=np.int64))
        if self.predicted is None:
            cut = self.thresholds if self.thresholds.ndim == 1 or self.genre is None else self.thresholds[self.genre]
            if cut.ndim == 2 and cut.shape[0] != len(p):
                cut = cut[0]
            object.__setattr__(self, "predicted", (p >= cut).astype(np.int8))
        else:
            object.__setattr__(self, "predicted", np.asarray(self.predicted).astype(np.int8).reshape(p.shape))

    def rows_for(self, theme: int, genre: int | None) -> np.ndarray:
        """Indices of the rows that give the rates of ``theme`` in ``genre``: that genre's rows when it has
        enough of both classes, else all rows."""
        coded = self.labels[:, theme] >= 0
        if self.genre is None or genre is None:
            return np.flatnonzero(coded)
        own = np.flatnonzero(coded & (self.genre == genre))
        y = self.labels[own, theme]
        if (y == 1).sum() >= _MIN_CLASS_ROWS and (y == 0).sum() >= _MIN_CLASS_ROWS:
            return own
        return np.flatnonzero(coded)


def rate_rows_from_model(model: Any, folder: str | os.PathLike[str] | None = None) -> RateRows | None:
    """The model's out-of-fold rate rows (``model.out_of_fold()``, or ``oof.npz`` in the folder it was
    loaded from), or None when it carries none."""
    getter = getattr(model, "out_of_fold", None)
    oof = getter() if callable(getter) else None
    if not oof and folder is not None and (Path(folder) / "oof.npz").is_file():
        with np.load(Path(folder) / "oof.npz", allow_pickle=False) as z:
            oof = {name: z[name] for name in z.files}
    if not oof:
        return None
    proba, labels = np.asarray(oof["proba"], dtype=float), np.asarray(oof["labels"])
    return RateRows(proba=proba, labels=labels, thresholds=model_thresholds(model), genre=oof.get("genre"),
                    predicted=oof.get("predicted"), origin="out-of-fold training rows")


def model_thresholds(model: Any) -> np.ndarray:
    """The model's decision thresholds: one row per genre (3, k) when it has them, else (k,)."""
    by_genre = getattr(model, "genre_thresholds_", None)
    return np.asarray(by_genre if by_genre is not None else model.thresholds_, dtype=float)


def _cut(thresholds: np.ndarray, genre: int) -> np.ndarray:
    return thresholds[genre] if thresholds.ndim == 2 else thresholds


def _code(value: Any, where: str) -> int | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise InputError(f"{where}: a code must be 1/0 (or yes/no, 是/否), got {value!r}")


def _read_validation_file(path: Path) -> list[dict[str, Any]]:
    """The rows of a coded sample file: JSON lines (one object a line, as samples/coded.jsonl) when the
    file starts with ``{``, else the CSV sample_for_coding writes."""
    import json

    if not path.is_file():
        raise InputError(f"validation: no file at {path}")
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise InputError(f"validation: {path} is not UTF-8 (byte 0x{exc.object[exc.start]:02x} at {exc.start}); "
                         "expected a UTF-8 CSV (as sample_for_coding writes) or JSON lines") from None
    if text.lstrip().startswith("{"):
        rows = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"validation: line {lineno} of {path} is not JSON ({exc.msg}); expected one "
                                 "coded item as a JSON object a line") from None
            if not isinstance(obj, dict):
                raise InputError(f"validation: line {lineno} of {path} is a JSON {type(obj).__name__}, "
                                 "not an object with the item's codes")
            rows.append(obj)
    else:
        rows = list(csv.DictReader(text.splitlines()))
    if not rows:
        raise InputError(f"validation: {path} has no rows")
    return rows


def _validation_rows(validation: Any, labels: Sequence[str]) -> list[dict[str, Any]]:
    if isinstance(validation, (str, os.PathLike)):
        return _read_validation_file(Path(validation))
    try:
        import pandas as pd

        if isinstance(validation, pd.DataFrame):
            return validation.to_dict("records")
    except ImportError:  # pragma: no cover - pandas is needed by estimate_shares anyway
        pass
    if isinstance(validation, Sequence) and all(isinstance(r, Mapping) for r in validation):
        return [dict(r) for r in validation]
    raise ParameterError("validation must be a path (the CSV sample_for_coding writes with its code_<theme> "
                         "columns filled in, or a coded JSONL), a DataFrame or a list of dicts; "
                         f"got {type(validation).__name__}")


def _as_code_columns(rows: list[dict[str, Any]], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Rows with ``code_<theme>`` columns: as they are when they have them, else made from a coded
    JSONL's 0/1 ``<theme>`` fields or its ``labels`` list (the form ``govtext evaluate --labels`` and
    training read). Raises InputError saying what was expected when neither fits."""
    first = rows[0]
    if all(f"code_{lab}" in first for lab in labels):
        return rows
    if all(lab in first for lab in labels):
        return [{**r, **{f"code_{lab}": r.get(lab) for lab in labels}} for r in rows]
    if "labels" in first:
        out = []
        for i, r in enumerate(rows):
            given = r.get("labels")
            if not isinstance(given, list) or not all(isinstance(x, str) for x in given):
                raise InputError(f"validation row {i + 1} ({r.get('id', '')}): 'labels' must be a list of theme "
                                 f"names, got {given!r}")
            unknown = sorted(set(given) - set(labels))
            if unknown:
                raise InputError(f"validation row {i + 1} ({r.get('id', '')}): unknown theme(s) {unknown}; "
                                 f"the model's themes are {list(labels)}")
            out.append({**r, **{f"code_{lab}": int(lab in given) for lab in labels}})
        return out
    missing = [f"code_{lab}" for lab in labels if f"code_{lab}" not in first]
    raise InputError(f"validation: no column(s) {missing}; expected one code_<theme> column per theme (1 or 0), "
                     f"as sample_for_coding writes, or a coded JSONL with a 0/1 field per theme {list(labels)} "
                     f"or a 'labels' list (as samples/coded.jsonl); its columns are {list(first)}")


def read_validation(validation: Any, model: Any, *, corpus_predicted: np.ndarray | None = None) -> RateRows:
    """Rate rows from a coded sample of the user's corpus.

    ``validation``: the CSV :func:`~govtext.sample_for_coding` writes with its ``code_<theme>`` columns filled
    in (1/0; a row left blank is not coded and is left out), a JSONL file, a DataFrame or a list of dicts
    with the same columns; or a coded JSONL as ``govtext evaluate --labels`` reads (``samples/coded.jsonl``:
    ``text``, optional ``title``, and a 0/1 field per theme or a ``labels`` list). The model's probabilities are read from the ``p_<theme>`` columns (the sample's own), or computed
    from ``text`` when there are none. ``sample_for_coding`` over-samples predicted positives and uncertain
    items, so the rows are weighted back to the corpus (``corpus_predicted``, the model's (n, k) decisions on
    it): for each theme, the coded rows predicted positive and predicted negative each stand for their share
    of the corpus.
    """
    labels = [str(c) for c in model.classes_]
    rows = _as_code_columns(_validation_rows(validation, labels), labels)
    coded, codes = [], []
    uncoded = 0
    for i, row in enumerate(rows):
        values = [_code(row.get(f"code_{lab}"), f"validation row {i + 1} ({row.get('id', '')}), code_{lab}")
                  for lab in labels]
        if all(v is None for v in values):
            uncoded += 1
            continue
        if any(v is None for v in values):
            gaps = [lab for lab, v in zip(labels, values) if v is None]
            raise InputError(f"validation row {i + 1} ({row.get('id', '')}) is coded for some themes but not "
                             f"{gaps}: code every theme (0 when absent) or leave the whole row blank")
        coded.append(row)
        codes.append(values)
    if not coded:
        raise InputError("validation: no row is coded yet (fill in the code_<theme> columns with 1 or 0)")
    if all(f"p_{lab}" in coded[0] for lab in labels):
        try:
            proba = np.array([[float(r[f"p_{lab}"]) for lab in labels] for r in coded])
        except (TypeError, ValueError) as exc:
            raise InputError(f"validation: a p_<theme> value is not a number ({exc})") from None
    elif "text" in coded[0]:
        from ..text.io import titled_text  # the title counts, as in every command that reads records

        proba = np.asarray(model.predict_proba([titled_text(str(r["text"] or ""), r.get("title")) for r in coded]),
                           dtype=float)
    else:
        raise InputError("validation: needs p_<theme> columns (as sample_for_coding writes) or a text column "
                         f"to classify; its columns are {list(coded[0])}")
    Y = np.array(codes, dtype=np.int8)
    thresholds = np.asarray(model.thresholds_, dtype=float)
    if "predicted" in coded[0]:  # the model's decisions as the sample recorded them (per-genre thresholds)
        said = [{x.strip() for x in str(r.get("predicted") or "").split(";")} for r in coded]
        predicted = np.array([[lab in row for lab in labels] for row in said])
    else:
        predicted = proba >= thresholds
    weights = np.ones_like(proba)
    if corpus_predicted is not None and len(corpus_predicted):
        weights = poststratify(predicted, np.asarray(corpus_predicted, bool))
    return RateRows(proba=proba, labels=Y, thresholds=thresholds, weights=weights, genre=None,
                    predicted=predicted, origin="validation sample", uncoded=uncoded)


def poststratify(sample_pred: np.ndarray, corpus_pred: np.ndarray) -> np.ndarray:
    """(m, k) weights that make each theme's predicted-positive and predicted-negative coded rows stand for
    their shares of the corpus (1 where a cell of the corpus has no coded row to stand for it)."""
    m, k = sample_pred.shape
    w = np.ones((m, k))
    for j in range(k):
        for cell in (True, False):
            in_sample = sample_pred[:, j] == cell
            if in_sample.any():
                w[in_sample, j] = (corpus_pred[:, j] == cell).mean() / in_sample.mean()
    return w


# --------------------------------------------------------------------------- the methods


def _wmean(x: np.ndarray, w: np.ndarray, axis: int = -1) -> np.ndarray:
    s = w.sum(axis=axis)
    return np.divide((x * w).sum(axis=axis), s, out=np.full(np.shape(s), np.nan), where=s > 0)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _platt(z: np.ndarray, y: np.ndarray, w: np.ndarray, iters: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic fit ``P(y=1) = sigmoid(a z + c)`` for each row of (B, m) arrays, by Newton steps
    with a light ridge; returns (a, c), each (B,)."""
    B = z.shape[0]
    a, c = np.ones(B), np.zeros(B)
    for _ in range(iters):
        s = sigmoid(a[:, None] * z + c[:, None])
        r = w * (s - y)
        h = w * s * (1 - s)
        ga, gc = (r * z).sum(1) + 1e-3 * (a - 1), r.sum(1) + 1e-3 * c
        haa, hac, hcc = (h * z * z).sum(1) + 1e-3, (h * z).sum(1), h.sum(1) + 1e-3
        det = haa * hcc - hac * hac
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)
        da, dc = (hcc * ga - hac * gc) / det, (haa * gc - hac * ga) / det
        a, c = a - da, c - dc
        if max(np.abs(da).max(), np.abs(dc).max()) < 1e-8:
            break
    return a, c


@dataclass(frozen=True)
class _Rates:
    """One theme's rates in one genre, for the point estimate (index 0) and each bootstrap replicate."""

    tpr: np.ndarray
    fpr: np.ndarray
    tpp: np.ndarray
    fpp: np.ndarray
    a: np.ndarray
    c: np.ndarray
    prior: np.ndarray
    n_rows: int
    n_pos: int


def _binned(p: np.ndarray, w: np.ndarray, hit: np.ndarray, most: int) -> tuple[np.ndarray, ...]:
    """At most ``most`` points standing for rows (p, w, hit): per point the weighted mean probability, the
    mean weight, the number of rows and the decision; points are runs of rows of one decision sorted by p."""
    if len(p) <= most:
        return p, w, np.ones(len(p)), hit
    points, weights, sizes, hits = [], [], [], []
    for flag in (False, True):
        part = np.flatnonzero(hit == flag)
        if len(part) == 0:
            continue
        part = part[np.argsort(p[part], kind="stable")]
        for chunk in np.array_split(part, max(1, round(most * len(part) / len(p)))):
            if len(chunk):
                cw = w[chunk]
                points.append(float((p[chunk] * cw).sum() / cw.sum()) if cw.sum() > 0 else float(p[chunk].mean()))
                weights.append(float(cw.mean()))
                sizes.append(len(chunk))
                hits.append(flag)
    return np.asarray(points), np.asarray(weights), np.asarray(sizes, dtype=float), np.asarray(hits)


def _rates(p: np.ndarray, hit: np.ndarray, y: np.ndarray, w: np.ndarray, n_boot: int, rng: np.random.Generator,
           calibrate: bool) -> _Rates:
    """Rates from rate rows (probability p, decision hit, label y, weight w), for the rows as they are (index 0) and ``n_boot``
    replicates that resample the positive and the negative rows apart (multinomial counts over the rows,
    or over runs of 1/500 of them for large sets). ``calibrate``: also fit the Platt recalibration EM needs."""
    pos, neg = y == 1, y == 0
    if not pos.any() or not neg.any():
        raise InputError("the rate rows hold no " + ("positive" if not pos.any() else "negative")
                         + " example of a theme, so its error rates cannot be measured")
    parts = []
    for rows in (pos, neg):
        v, wv, size, h = _binned(p[rows], w[rows], np.asarray(hit[rows], bool), 500)
        counts = np.vstack([size[None, :], rng.multinomial(int(size.sum()), size / size.sum(), size=n_boot)])
        parts.append((v, counts * wv[None, :], h))  # points, weight each carries in each replicate, decisions
    (vp, Wp, hp), (vn, Wn, hn) = parts
    tpr, fpr = Wp @ hp / Wp.sum(1), Wn @ hn / Wn.sum(1)
    tpp, fpp = Wp @ vp / Wp.sum(1), Wn @ vn / Wn.sum(1)
    prior = Wp.sum(1) / (Wp.sum(1) + Wn.sum(1))
    R = len(prior)
    if calibrate:
        z = _logit(np.concatenate([vp, vn]))
        Y = np.concatenate([np.ones(len(vp)), np.zeros(len(vn))])
        a, c = _platt(np.broadcast_to(z, (R, len(z))), np.broadcast_to(Y, (R, len(z))), np.hstack([Wp, Wn]))
    else:
        a, c = np.ones(R), np.zeros(R)
    return _Rates(tpr, fpr, tpp, fpp, a, c, prior, n_rows=len(p), n_pos=int(pos.sum()))


def _adjust(q: np.ndarray, hit: np.ndarray, miss: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    denom = hit - miss
    ok = denom > 0.02  # a classifier no better than chance cannot be corrected: keep the count
    out = np.where(ok, (q - miss) / np.where(ok, denom, 1.0), fallback)
    return np.clip(out, 0.0, 1.0)


def _em(s: np.ndarray, counts: np.ndarray, prior: np.ndarray, iters: int = 34) -> np.ndarray:
    """Saerens–Latinne–Decaestecker: for calibrated posteriors ``s`` (R, u) made under training priors (R,)
    and item counts (R, u), the new priors (R,) at which the re-weighted posteriors' mean equals the prior.

    That fixed point of the EM iterations is the maximum-likelihood prior; the log-likelihood is concave in
    it, so it is found here by bisection on its slope (34 halvings: exact to 1e-10), which needs far fewer
    passes than the EM iterations themselves when the prior is near 0."""
    pi = np.clip(prior, 1e-6, 1 - 1e-6)[:, None]
    up, down = s / pi, (1 - s) / (1 - pi)  # likelihood ratios of the two classes, per item
    lo, hi = np.zeros(len(pi)), np.ones(len(pi))
    for _ in range(iters):
        mid = (lo + hi) / 2
        rising = (counts * (up - down) / (mid[:, None] * up + (1 - mid[:, None]) * down)).sum(axis=1) > 0
        lo, hi = np.where(rising, mid, lo), np.where(rising, hi, mid)
    return (lo + hi) / 2


def _estimate(method: str, v: np.ndarray, counts: np.ndarray, t: float, r: _Rates | None,
              which: slice) -> np.ndarray:
    """Estimates (R,) from probabilities ``v`` (u,) taken ``counts`` (R, u) times; row i uses replicate
    ``which``'s i-th rates."""
    n = counts.sum(axis=1)
    cc = counts @ (v >= t).astype(float) / n
    if method == "cc":
        return cc
    pcc = counts @ v / n
    if method == "pcc":
        return pcc
    assert r is not None
    if method == "acc":
        return _adjust(cc, r.tpr[which], r.fpr[which], cc)
    if method == "pacc":
        return _adjust(pcc, r.tpp[which], r.fpp[which], pcc)
    if method == "em":
        a, c = r.a[which], r.c[which]
        s = sigmoid(a[:, None] * _logit(v)[None, :] + c[:, None])
        return _em(s, counts, r.prior[which])
    raise ParameterError(f"method must be one of {METHODS} or 'auto', got {method!r}")  # pragma: no cover


_MAX_POINTS = 1000  # items are binned into this many points (equal-count bins) for the group bootstrap


def _support(p: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray]:
    """Points (u,) and their weights (u,) summing to 1 standing for the items ``p``: the items themselves,
    or, for large groups, the means of equal-count bins that never straddle the threshold ``t``."""
    if len(p) <= _MAX_POINTS:
        return p, np.full(len(p), 1 / len(p))
    points, weights = [], []
    for part in (np.sort(p[p < t]), np.sort(p[p >= t])):
        if len(part) == 0:
            continue
        bins = max(1, round(_MAX_POINTS * len(part) / len(p)))
        for chunk in np.array_split(part, bins):
            if len(chunk):
                points.append(chunk.mean())
                weights.append(len(chunk) / len(p))
    return np.asarray(points), np.asarray(weights)


def cell_estimates(method: str, p: np.ndarray, t: float, r: _Rates | None, n_bootstrap: int,
                   rng: np.random.Generator) -> np.ndarray:
    """The estimate for items with probabilities ``p`` (index 0) and ``n_bootstrap`` replicates, each with
    the items resampled (multinomial counts) and the rates of the matching replicate of ``r``."""
    point = _estimate(method, p, np.ones((1, len(p))), t, r, slice(0, 1))
    points, weights = _support(p, t)
    counts = rng.multinomial(len(p), weights, size=n_bootstrap).astype(float)
    return np.concatenate([point, _estimate(method, points, counts, t, r, slice(1, n_bootstrap + 1))])


def interval(estimates: np.ndarray, n: int, confidence: float) -> tuple[float, float]:
    """The interval around ``estimates[0]`` from its bootstrap replicates ``estimates[1:]``: their
    percentiles, widened where needed to contain the point. When the estimate is under one item's worth
    of the ``n`` items (or over all but one), every replicate may give 0 (or 1); the interval then reaches
    at least the exact binomial bound for no such item among ``n`` (``1 - alpha ** (1 / n)``), the share
    that ``n`` items cannot rule out."""
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(estimates[1:], [alpha, 1 - alpha])
    point = float(estimates[0])
    lo, hi = min(float(lo), point), max(float(hi), point)
    if n > 0:
        bound = 1 - alpha ** (1 / n)
        if point * n < 1:
            hi = max(hi, bound)
        if (1 - point) * n < 1:
            lo = min(lo, 1 - bound)
    return lo, hi


# --------------------------------------------------------------------------- estimating


def _check_method(method: Any) -> str:
    if method == "auto":
        return DEFAULT_METHOD
    if method not in METHODS:
        raise ParameterError(f"method must be 'auto' or one of {METHODS}, got {method!r}")
    return str(method)


def estimate_from_scores(
    proba: np.ndarray,
    *,
    thresholds: Any,
    labels: Sequence[str],
    rates: RateRows | None = None,
    groups: Sequence[Any] | None = None,
    genre: Sequence[int] | None = None,
    errors: Sequence[bool] | None = None,
    method: str = "auto",
    confidence: float = 0.9,
    n_bootstrap: int = 500,
    random_state: int | None = 0,
) -> Any:
    """Shares per (group, theme) from an (n, k) matrix of probabilities (NaN rows for items that could not
    be classified, flagged in ``errors``), the model's ``thresholds`` ((k,), or one row per genre) and the
    items' ``genre`` codes. See :func:`estimate_shares` for the columns."""
    import pandas as pd

    name = _check_method(method)
    if not (isinstance(confidence, float) and 0.5 <= confidence < 1):
        raise ParameterError(f"confidence must be a float between 0.5 and 1, got {confidence!r}")
    if not isinstance(n_bootstrap, int) or n_bootstrap < 100:
        raise ParameterError(f"n_bootstrap must be an int of at least 100, got {n_bootstrap!r}")
    P = np.asarray(proba, dtype=float)
    n, k = P.shape
    T = np.asarray(thresholds, dtype=float)
    err = np.zeros(n, bool) if errors is None else np.asarray(errors, bool)
    err = err | np.isnan(P).any(axis=1)
    keys = [None] * n if groups is None else list(groups)
    if len(keys) != n:
        raise InputError(f"by has {len(keys)} keys but there are {n} texts")
    g = np.zeros(n, np.int64) if genre is None else np.asarray(genre, np.int64)
    if name in ("acc", "pacc", "em") and rates is None:
        raise InputError(f"method {name!r} needs coded rows for the error rates: the model carries no out-of-fold "
                         "rates, so pass validation= (--validation: a coded sample, see sample_for_coding) or use "
                         "method 'cc' or 'pcc'")
    rng = np.random.default_rng(random_state)
    rate_cache: dict[tuple[int, int | None], _Rates] = {}

    def rates_for(j: int, genre_code: int | None) -> tuple[_Rates | None, int | None]:
        if rates is None or name in ("cc", "pcc"):
            return None, None
        key = genre_code if rates.genre is not None else None
        rows = rates.rows_for(j, key)
        key = key if rows.size < len(rates.proba) else None  # fell back to all genres
        if (j, key) not in rate_cache:
            rate_cache[(j, key)] = _rates(rates.proba[rows, j], rates.predicted[rows, j], rates.labels[rows, j],
                                          rates.weights[rows, j], n_bootstrap, rng, calibrate=name == "em")
        return rate_cache[(j, key)], key

    where: dict[Any, list[int]] = {}
    for i, kk in enumerate(keys):
        where.setdefault(kk, []).append(i)
    order = list(where)
    try:
        order = sorted(order, key=lambda v: (v is None, v))
    except TypeError:
        pass
    out = []
    for key in order:
        members = np.asarray(where[key], dtype=np.int64)
        ok = members[~err[members]]
        n_err = int(len(members) - len(ok))
        for j, lab in enumerate(labels):
            row: dict[str, Any] = {"group": key, "theme": lab}
            if len(ok) == 0:
                row.update(share=np.nan, ci_low=np.nan, ci_high=np.nan, naive_share=np.nan)
                coded = 0
            else:
                total = np.zeros(n_bootstrap + 1)
                naive = 0.0
                coded_rows: dict[Any, int] = {}
                for code in np.unique(g[ok]):
                    cell = ok[g[ok] == code]
                    pj = P[cell, j]
                    r, used = rates_for(j, int(code))
                    t = float(_cut(T, int(code))[j])
                    total += cell_estimates(name, pj, t, r, n_bootstrap, rng) * (len(cell) / len(ok))
                    naive += float((pj >= t).mean()) * len(cell) / len(ok)
                    if r is not None:
                        coded_rows[used] = r.n_rows
                lo, hi = interval(total, len(ok), confidence)
                row.update(share=float(total[0]), ci_low=lo, ci_high=hi, naive_share=naive)
                coded = int(sum(coded_rows.values()))
            row.update(n=int(len(ok)), n_errors=n_err, method=name, n_coded=coded,
                       rates=(rates.origin if rates is not None and name not in ("cc", "pcc") else "none"))
            out.append(row)
    frame = pd.DataFrame(out, columns=["group", "theme", "share", "ci_low", "ci_high", "naive_share", "n",
                                       "n_errors", "method", "n_coded", "rates"])
    if groups is None:
        frame = frame.drop(columns="group")
    else:
        frame["group"] = pd.Series([r["group"] for r in out], dtype=object)
    frame.attrs.update(confidence=confidence, n_bootstrap=n_bootstrap,
                       interval="percentile bootstrap over the rate rows and the items of each group")
    return frame


# --------------------------------------------------------------------------- genre


def guess_genre(texts: Sequence[str]) -> np.ndarray:
    """Genre codes into :data:`GENRES` for each text: ``govtext.infer_genre`` when the library has it,
    else headline-length text (one line of at most 60 characters) as ``headline`` and the rest as
    ``local news``."""
    import govtext

    try:
        infer = govtext.infer_genre  # type: ignore[attr-defined]
    except AttributeError:
        infer = None
    if infer is not None:
        found = infer(list(texts))
        codes = []
        for v in found:
            if isinstance(v, (int, np.integer)):
                codes.append(int(v))
            elif str(v) in GENRES:
                codes.append(GENRES.index(str(v)))
            else:
                codes.append(_GENRE_ALIASES.get(str(v).lower().replace("_", " "), 1))
        return np.asarray(codes, dtype=np.int64)
    return np.array([2 if isinstance(t, str) and "\n" not in t.strip() and len(t.strip()) <= 60 else 1
                     for t in texts], dtype=np.int64)


_GENRE_ALIASES = {"national": 0, "broadcast": 0, "national broadcast": 0, "xwlb": 0, "local": 1, "local news": 1,
                  "news": 1, "headline": 2, "headlines": 2, "title": 2}


def _genre_codes(genre: Any, texts: Sequence[Any] | None, n: int) -> np.ndarray:
    if genre is None or genre == "auto":
        if texts is None:
            return np.ones(n, np.int64)
        return guess_genre([t if isinstance(t, str) else "" for t in texts])
    if isinstance(genre, str):
        key = genre.lower().replace("_", " ")
        if key not in _GENRE_ALIASES:
            raise ParameterError(f"genre must be one of {GENRES} (or 'auto', or one per text), got {genre!r}")
        return np.full(n, _GENRE_ALIASES[key], np.int64)
    values = list(genre)
    if len(values) != n:
        raise InputError(f"genre has {len(values)} entries but there are {n} texts")
    return np.array([_genre_codes(v, None, 1)[0] if isinstance(v, str) else int(v) for v in values], np.int64)


# --------------------------------------------------------------------------- the public entry


def _rates_for(model: Any, folder: Any, validation: Any, method: str, proba: np.ndarray, errors: np.ndarray,
               codes: np.ndarray, thresholds: np.ndarray) -> Any:
    """The error rates a correction uses: re-estimated on the coded ``validation`` sample (against
    the corpus's own decisions, for the post-stratification weights), else the model's
    out-of-fold record; none for the methods that use no rates (CC, PCC)."""
    if validation is not None:
        good = ~(errors | np.isnan(proba).any(axis=1))
        cut = thresholds[codes[good]] if thresholds.ndim == 2 else thresholds
        return read_validation(validation, model, corpus_predicted=proba[good] >= cut)
    return rate_rows_from_model(model, folder) if method not in ("cc", "pcc") else None


def estimate_shares(
    texts: Any,
    *,
    model: Any = None,
    by: Any = None,
    validation: Any = None,
    method: str = "auto",
    confidence: float = 0.9,
    genre: Any = "auto",
    text_field: str = "text",
    clean: bool = True,
    n_bootstrap: int = 500,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    progress: bool | None = None,
) -> Any:
    """Error-corrected share of items carrying each theme, per group, with intervals.

    ``texts``: a list of texts, or a frame :func:`~govtext.classify_frame` returned (its ``p_<theme>``
    probabilities are used; its ``error`` rows are counted, never silently dropped) or any frame with a
    ``text_field`` column. ``by``: one key per text (year, place …) or, for a frame, a column name.
    ``model``: a ThemeClassifier or model folder (default: the bundled model). The error rates come from
    ``validation`` (a coded sample of this corpus: the CSV :func:`~govtext.sample_for_coding` writes, filled
    in, or a coded JSONL such as ``samples/coded.jsonl``; see :func:`read_validation`) when given, else from the model's out-of-fold rows for each text's ``genre`` (``"auto"``: inferred;
    or one of :data:`GENRES`, or one per text). ``method``: ``"auto"`` (the benchmark's choice) or one of
    ``cc``, ``pcc``, ``acc``, ``pacc``, ``em``.

    Returns a DataFrame with one row per (group, theme): ``group`` (only with ``by``), ``theme``, ``share``,
    ``ci_low`` and ``ci_high`` (the ``confidence`` percentile bootstrap interval, resampling the coded rate
    rows and the group's items), ``naive_share`` (the plain count of predicted labels), ``n`` (items
    estimated), ``n_errors`` (items that could not be classified: not in ``n``), ``method``, ``n_coded``
    (coded rows behind the rates) and ``rates`` (where they come from).
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("estimate_shares needs pandas: pip install govtext[pandas]") from None
    from ..runs.batch import classify_frame, theme_model
    from ..persist import default_model_path

    folder = default_model_path() if model is None else model if isinstance(model, (str, os.PathLike)) else None
    model = theme_model(model)
    labels = [str(c) for c in model.classes_]
    if isinstance(texts, pd.DataFrame):
        frame = texts
        if isinstance(by, str):
            if by not in frame.columns:
                raise InputError(f"by={by!r} is not a column; the frame has {list(frame.columns)}")
            by = frame[by].tolist()
        if not all(f"p_{lab}" in frame.columns for lab in labels):
            frame = classify_frame(frame, text_field, model, clean=clean, n_jobs=n_jobs, progress=progress)
        raw = frame[text_field].tolist() if text_field in frame.columns else None
    else:
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise ParameterError(f"texts must be a list of texts or a DataFrame, got {type(texts).__name__}")
        raw = list(texts)
        if not raw:
            raise InputError("no texts to estimate shares from")
        frame = classify_frame(pd.DataFrame({text_field: raw}), text_field, model, clean=clean, n_jobs=n_jobs,
                               progress=progress)
    if len(frame) == 0:
        raise InputError("no texts to estimate shares from")
    proba = frame[[f"p_{lab}" for lab in labels]].to_numpy(dtype=float)
    errors = frame["error"].notna().to_numpy() if "error" in frame.columns else np.zeros(len(frame), bool)
    name = _check_method(method)
    thresholds = model_thresholds(model)
    codes = _genre_codes(genre, raw, len(frame))  # thresholds, and out-of-fold rates, differ by genre
    rates = _rates_for(model, folder, validation, name, proba, errors, codes, thresholds)
    result = estimate_from_scores(proba, thresholds=thresholds, labels=labels, rates=rates, groups=by,
                                  genre=codes, errors=errors, method=name, confidence=confidence,
                                  n_bootstrap=n_bootstrap, random_state=random_state)
    if rates is not None:
        result.attrs["uncoded_validation_rows"] = rates.uncoded
    return result


# --------------------------------------------------------------------------- corpora on disk (govtext shares)

_PERIODS = ("year", "quarter", "month")


def group_key(value: Any, period: str | None) -> Any:
    """The group of a record's ``by`` value: the value itself, or its date cut to ``period``
    (``year``: ``2023``, ``quarter``: ``2023Q2``, ``month``: ``2023-05``); None when missing or not a date."""
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return None
    if period is None:
        return value if isinstance(value, (int, str)) else str(value)
    from ..text.clean import parse_date

    day = parse_date(value)
    if day is None:
        return None
    if period == "year":
        return day[:4]
    if period == "month":
        return day[:7]
    return f"{day[:4]}Q{(int(day[5:7]) - 1) // 3 + 1}"


def parse_by(by: str) -> tuple[str, str | None]:
    """``FIELD`` or ``FIELD:year|quarter|month`` as (field, period)."""
    field_name, _, period = by.partition(":")
    if not field_name or (period and period not in _PERIODS):
        raise ParameterError(f"--by takes FIELD or FIELD:year|quarter|month (e.g. date:year), got {by!r}")
    return field_name, period or None


class ShareRows:
    """Row maker for ``govtext shares``: the theme probabilities of each record (as ``govtext classify``
    gives them, error rows included), its group key and its genre code. Picklable, for worker processes."""

    def __init__(self, model: Any, *, by: str | None, clean: bool = True) -> None:
        from ..runs.batch import ClassifyRows

        self.inner = ClassifyRows(model, clean=clean, digits=None)
        self.columns = self.inner.columns
        self.by = parse_by(by) if by else None

    def fingerprint(self) -> dict[str, Any]:
        return {**self.inner.fingerprint(), "rows": "shares", "by": self.by}

    def __call__(self, items: Sequence[Any]) -> list[dict[str, Any]]:
        from ..text.io import Record

        records = [it if isinstance(it, Record) else it() for it in items]
        rows = self.inner.rows(records)
        genres = guess_genre([r.text if isinstance(r.text, str) else "" for r in records])
        for rec, row, g in zip(records, rows, genres):
            row["genre"] = int(g)
            if self.by is not None:
                name, period = self.by
                row["group"] = group_key(rec.metadata.get(name, row.get(name)), period)
        return rows


class _Collect:
    """A batch output that keeps only what the estimate needs from each row."""

    done_records = 0
    done_chunks = 0
    fmt = None
    columns: tuple[Any, ...] = ()

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = list(labels)
        self.proba: list[list[float]] = []
        self.groups: list[Any] = []
        self.genres: list[int] = []
        self.errors: list[str | None] = []

    def write(self, index: int, rows: list[dict[str, Any]], n: int) -> None:
        for row in rows:
            self.proba.append([row.get(f"p_{lab}", float("nan")) for lab in self.labels])
            self.groups.append(row.get("group"))
            self.genres.append(int(row.get("genre", 1)))
            self.errors.append(row.get("error"))

    def finish(self) -> None:
        pass

    def abandon(self) -> None:
        pass


@dataclass(frozen=True)
class SharesRun:
    """What :func:`shares_of_inputs` read: the shares table, records read, error rows (with the first few
    messages) and records without a ``by`` value."""

    table: Any
    records: int
    errors: int
    error_examples: list[str]
    ungrouped: int
    failed_inputs: list[str]


def shares_of_inputs(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    by: str | None = None,
    model: Any = None,
    validation: Any = None,
    method: str = "auto",
    confidence: float = 0.9,
    text_field: str | None = None,
    id_field: str | None = None,
    clean: bool = True,
    n_jobs: int | None = None,
    chunk_size: int = 1000,
    progress: bool | None = None,
    executor: Any = None,
    start_method: str | None = None,
    n_bootstrap: int = 500,
    random_state: int | None = 0,
    title_field: str | None = None,
    date_field: str | None = None,
) -> SharesRun:
    """Theme shares of the records in ``inputs`` (files, folders, JSONL/CSV/Parquet, as ``govtext classify``
    reads them), streamed through the batch engine (chunks, ``n_jobs`` worker processes or a Dask
    ``executor``, a progress bar); ``by`` names the field to group by, optionally cut to a period
    (``date:year``). Every record is counted: the ones that could not be read or classified are error rows
    (``n_errors`` of their group), never dropped from the count silently."""
    from ..runs.batch import run_batch, theme_model
    from ..text.io import InputReport, iter_lazy_records
    from ..persist import default_model_path

    name = _check_method(method)
    folder = default_model_path() if model is None else model if isinstance(model, (str, os.PathLike)) else None
    model = theme_model(model)
    labels = [str(c) for c in model.classes_]
    maker = ShareRows(model, by=by, clean=clean)
    report = InputReport()
    records = iter_lazy_records(inputs, text_field=text_field, id_field=id_field, title_field=title_field,
                                date_field=date_field, report=report)
    sink = _Collect(labels)
    summary = run_batch(records, maker, sink, n_jobs=n_jobs, chunk_size=chunk_size, progress=progress,
                        executor=executor, start_method=start_method)
    if summary.records == 0:
        raise InputError("no records in the inputs")
    proba = np.asarray(sink.proba, dtype=float)
    errors = np.array([e is not None for e in sink.errors])
    codes = np.asarray(sink.genres, dtype=np.int64)
    thresholds = model_thresholds(model)
    rates = _rates_for(model, folder, validation, name, proba, errors, codes, thresholds)
    groups = sink.groups if by else None
    table = estimate_from_scores(proba, thresholds=thresholds, labels=labels, rates=rates, groups=groups,
                                 genre=codes, errors=errors, method=name, confidence=confidence,
                                 n_bootstrap=n_bootstrap, random_state=random_state)
    examples = [e for e in sink.errors if e is not None][:3]
    return SharesRun(table=table, records=summary.records, errors=int(errors.sum()), error_examples=examples,
                     ungrouped=sum(g is None for g in sink.groups) if by else 0,
                     failed_inputs=list(report.failed_inputs))
