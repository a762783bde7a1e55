"""Theme shares: how close each quantification method gets to the true share, and how often its interval covers it.

The artificial-prevalence protocol, on each dev set of ../shared/labels (national TV news, local news,
local headlines) separately: for each theme, 100 samples of 200 dev items with the theme's share set to
0%, 5%, …, 50% (11 levels, cycled), positives and negatives drawn at random (with replacement only where a
dev set has too few). Every method estimates each sample's share; we report the mean absolute error (MAE)
over the 300 samples (3 themes × 100) with a bootstrap 95% interval over samples, and, for the methods
that correct with error rates, how often the 90% interval covered the true share and its mean width.

The classifier is the bundled model's recipe (models/train_default.py) fitted on the ``train`` rows only
(the bundled model itself has seen the dev rows). The error rates come from that fit's own out-of-fold
probabilities on ``train`` (the cross-validated scores it tunes its thresholds on, stacked as in the
model), for the dev set's genre — what ``estimate_shares`` uses when a model ships ``oof.npz``. Each
sample's interval is ``estimate_shares``' own: a percentile bootstrap resampling the rate rows and the
sample's items (500 replicates). With ``--quapy``, QuaPy's ACC, PACC and EMQ (0.2.3; EMQ given the same
recalibrated posteriors) run on the same samples as an independent check.

    python benchmarks/shares.py [--quapy] [--samples 100] [--size 200]

The first run fits the model (minutes) and caches its probabilities in benchmarks/out/ (remade when the
recipe's code changes).
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/tokenize.py would shadow the stdlib module
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "models"))

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from govtext import shares  # noqa: E402

def _recipe_digest() -> str:
    """A digest of the code that makes the classifier, so the cache is remade when the recipe changes."""
    import hashlib

    h = hashlib.sha256()
    for path in sorted((ROOT / "govtext").rglob("*.py")) + [ROOT / "models" / "train_default.py"]:
        if path.name in ("classify.py", "_linear.py", "tokenize.py", "train_default.py"):
            h.update(path.read_bytes())
    return h.hexdigest()[:12]


CACHE = ROOT / "benchmarks" / "out" / f"shares_arrays_{_recipe_digest()}.npz"
SETS = {0: "national TV news", 1: "local news", 2: "local headlines"}
LEVELS = np.linspace(0.0, 0.5, 11)


def fitted_arrays() -> dict[str, np.ndarray]:
    """Dev probabilities of the recipe fitted on train, and that fit's out-of-fold probabilities on train."""
    if CACHE.is_file():
        with np.load(CACHE) as z:
            return {k: z[k] for k in z.files}
    import train_default as recipe

    from govtext.themes.classify import ThemeClassifier

    if not recipe.available():
        raise SystemExit(f"needs the labelled data in {recipe.LABELS}")
    captured: list[tuple[np.ndarray, np.ndarray]] = []
    original = ThemeClassifier._oof_scores

    def keep(self, feats, rows, y, w, *args, **kwargs):  # type: ignore[no-untyped-def]
        scores = original(self, feats, rows, y, w, *args, **kwargs)
        captured.append((rows.copy(), scores))
        return scores

    ThemeClassifier._oof_scores = keep  # record the fit's cross-validated scores, one call per theme
    try:
        data = recipe.load_labelled()
        train, dev = data["train"], data["dev"]
        t0 = time.perf_counter()
        model = recipe.fit_default(train)
        print(f"fitted the recipe on {len(train)} train rows in {time.perf_counter() - t0:.0f} s", flush=True)
    finally:
        ThemeClassifier._oof_scores = original
    code = {"xwlb": 0, "local": 1, "headline": 2}
    record = model.out_of_fold() if hasattr(model, "out_of_fold") else None
    dev_genre = np.array([code[s] for s in dev.source], np.int8)
    if record:  # models that keep their out-of-fold record (cross-fitted combiner and thresholds)
        oof, extra = record["proba"], {"oof_predicted": record["predicted"]}
        dev_proba = model.predict_proba(dev.texts, genre=dev_genre)
        thresholds = np.asarray(getattr(model, "genre_thresholds_", model.thresholds_))
    else:  # older models: the fit's own cross-validated scores, stacked as in the model
        oof, extra = np.zeros(train.Y.shape), {}
        for j, (rows, scores) in enumerate(captured):
            oof[rows, j] = 1 / (1 + np.exp(-(scores @ model.stack_[j, :2] + model.stack_[j, 2])))
        dev_proba, thresholds = model.predict_proba(dev.texts), np.asarray(model.thresholds_)
    arrays = {
        "dev_proba": dev_proba, "dev_labels": dev.Y.astype(np.int8), "dev_genre": dev_genre, "oof_proba": oof,
        "oof_labels": train.Y.astype(np.int8), "oof_genre": np.array([code[s] for s in train.source], np.int8),
        "thresholds": thresholds, **extra,
    }
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez(CACHE, **arrays)
    return arrays


def draws(y: np.ndarray, n_samples: int, size: int, rng: np.random.Generator) -> list[tuple[np.ndarray, float]]:
    """(item indices, true share) for each artificial-prevalence sample of one theme."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    out = []
    for i in range(n_samples):
        k = int(round(LEVELS[i % len(LEVELS)] * size))
        take = [rng.choice(pool, m, replace=m > len(pool)) for pool, m in ((pos, k), (neg, size - k))]
        out.append((np.concatenate(take), k / size))
    return out


def mean_ci(x: np.ndarray, rng: np.random.Generator, n: int = 2000) -> tuple[float, float, float]:
    boots = x[rng.integers(0, len(x), (n, len(x)))].mean(axis=1)
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return float(x.mean()), float(lo), float(hi)


def quapy_check(oof_p: np.ndarray, oof_hit: np.ndarray, oof_y: np.ndarray, r: object, samples: list, p: np.ndarray,
                t: float) -> dict:
    """QuaPy's ACC, PACC and EMQ on the same samples (absolute errors)."""
    import warnings

    from quapy.method.aggregative import ACC, EMQ, PACC
    from sklearn.linear_model import LogisticRegression

    warnings.filterwarnings("ignore", module="quapy")
    fitted = LogisticRegression().fit([[0.0], [1.0]], [0, 1])  # QuaPy wants a fitted classifier; never used
    two = lambda q: np.column_stack([1 - q, q])  # noqa: E731
    acc = ACC(fitted, fit_classifier=False)
    acc.aggregation_fit(oof_hit.astype(int), oof_y)
    pacc = PACC(fitted, fit_classifier=False)
    pacc.aggregation_fit(two(oof_p), oof_y)
    emq = EMQ(fitted, fit_classifier=False)
    emq.train_prevalence = np.array([1 - r.prior[0], r.prior[0]])
    errs: dict[str, list[float]] = {"QuaPy ACC": [], "QuaPy PACC": [], "QuaPy EMQ": []}
    for idx, truth in samples:
        q = p[idx]
        calibrated = 1 / (1 + np.exp(-(r.a[0] * shares._logit(q) + r.c[0])))
        errs["QuaPy ACC"].append(abs(acc.aggregate((q >= t).astype(int))[1] - truth))
        errs["QuaPy PACC"].append(abs(pacc.aggregate(two(q))[1] - truth))
        errs["QuaPy EMQ"].append(abs(emq.aggregate(two(calibrated))[1] - truth))
    return errs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=100, help="samples per theme and dev set (default 100)")
    ap.add_argument("--size", type=int, default=200, help="items per sample (default 200)")
    ap.add_argument("--bootstrap", type=int, default=500, help="bootstrap replicates per interval (default 500)")
    ap.add_argument("--quapy", action="store_true", help="also run QuaPy's ACC, PACC and EMQ on the same samples")
    args = ap.parse_args()
    a = fitted_arrays()
    T = a["thresholds"]  # (k,), or one row per genre
    rates = shares.RateRows(proba=a["oof_proba"], labels=a["oof_labels"], thresholds=T, genre=a["oof_genre"],
                            predicted=a.get("oof_predicted"), origin="out-of-fold training rows")
    default = shares.DEFAULT_METHOD
    methods = list(shares.METHODS)
    print(f"artificial-prevalence protocol: {args.samples} samples x {args.size} items per theme, shares "
          f"{LEVELS[0]:.0%}..{LEVELS[-1]:.0%}; default method = {default}; 90% intervals, {args.bootstrap} replicates")
    for code, name in SETS.items():
        rng = np.random.default_rng(code)
        on = a["dev_genre"] == code
        P, Y = a["dev_proba"][on], a["dev_labels"][on]
        err = {m: [] for m in methods}
        cover = {m: [] for m in methods}
        width = {m: [] for m in methods}
        extra: dict[str, list[float]] = {}
        t0 = time.perf_counter()
        cut = T[code] if T.ndim == 2 else T
        for j in range(Y.shape[1]):
            rows = rates.rows_for(j, code)
            r = shares._rates(rates.proba[rows, j], rates.predicted[rows, j], rates.labels[rows, j],
                              rates.weights[rows, j], args.bootstrap, rng, calibrate=True)
            samples = draws(Y[:, j], args.samples, args.size, rng)
            for idx, truth in samples:
                for m in methods:
                    est = shares.cell_estimates(m, P[idx, j], float(cut[j]), r, args.bootstrap, rng)
                    lo, hi = shares.interval(est, args.size, 0.9)
                    err[m].append(abs(est[0] - truth))
                    cover[m].append(lo - 1e-9 <= truth <= hi + 1e-9)
                    width[m].append(hi - lo)
            if args.quapy:
                for k, v in quapy_check(rates.proba[rows, j], rates.predicted[rows, j], rates.labels[rows, j], r,
                                        samples, P[:, j], float(cut[j])).items():
                    extra.setdefault(k, []).extend(v)
        n_rates = len(rates.rows_for(0, code))
        print(f"\n== {name}: {on.sum()} dev items; rates from {n_rates} out-of-fold rows "
              f"({time.perf_counter() - t0:.0f} s)")
        print(f"{'method':<12} {'MAE':>7} {'[95% interval]':>17} {'coverage':>9} {'mean width':>11}")
        for m in methods + list(extra):
            e = np.asarray(err.get(m) or extra[m])
            mae, lo, hi = mean_ci(e, rng)
            label = m.upper() + (" (default)" if m == default else "")
            if m in cover:
                print(f"{label:<12} {mae:7.4f} [{lo:.4f}, {hi:.4f}] {np.mean(cover[m]):9.1%} {np.mean(width[m]):11.3f}")
            else:
                print(f"{label:<12} {mae:7.4f} [{lo:.4f}, {hi:.4f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
