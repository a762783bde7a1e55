"""Theme quality: govtext's default recipe against the hand-rolled baseline, on the same rows.

(a) baseline: what a user writes in ten lines — jieba.lcut tokens, scikit-learn TfidfVectorizer
    (sublinear tf, min_df 2), one LogisticRegression per theme (C=10, balanced), cut at 0.5.
(b) govtext: ``ThemeClassifier()`` with its defaults, given the coders' evidence sentences and the
    source weights of models/train_default.py (the bundled model's recipe).

Both are fitted on the ``train`` rows of ../shared/labels (CCTV, local news and headlines together)
and scored on each ``dev`` set separately: per-theme precision/recall/F1, macro-F1, the share of
no-theme items left with no theme, and a paired bootstrap 95% interval of the macro-F1 difference
(b - a) over the same resampled documents. Then a learning curve (25 / 50 / 100% of train).

    python benchmarks/quality.py [--bootstrap 2000] [--no-curve]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/tokenize.py would shadow the stdlib module
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))

import argparse  # noqa: E402

import numpy as np  # noqa: E402

import train_default as recipe  # noqa: E402

THEMES = recipe.THEMES


class Baseline:
    """The hand-rolled pipeline (jieba + TfidfVectorizer + one logistic regression per theme)."""

    def fit(self, texts: list[str], Y: np.ndarray) -> Baseline:
        import jieba
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        self.vec = TfidfVectorizer(tokenizer=jieba.lcut, lowercase=False, token_pattern=None, sublinear_tf=True,
                                   min_df=2)
        X = self.vec.fit_transform(texts)
        self.models = [LogisticRegression(C=10, class_weight="balanced", max_iter=5000).fit(X, Y[:, j])
                       for j in range(Y.shape[1])]
        return self

    def predict(self, texts: list[str]) -> np.ndarray:
        X = self.vec.transform(texts)
        return np.column_stack([m.predict(X) for m in self.models]).astype(np.int64)


def scores(T: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(per-theme precision, recall, F1 as a 3×k array), macro-F1, share of no-theme rows kept."""
    T, P = T.astype(bool), P.astype(bool)
    tp = (T & P).sum(0).astype(float)
    prec = np.divide(tp, P.sum(0), out=np.zeros_like(tp), where=P.sum(0) > 0)
    rec = np.divide(tp, T.sum(0), out=np.zeros_like(tp), where=T.sum(0) > 0)
    denom = P.sum(0) + T.sum(0)
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    none = ~T.any(1)
    kept = float((~P[none].any(1)).mean()) if none.any() else float("nan")
    return np.vstack([prec, rec, f1]), float(f1.mean()), kept


def paired_interval(T: np.ndarray, Pa: np.ndarray, Pb: np.ndarray, n: int, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    diffs = []
    for _ in range(n):
        idx = rng.integers(0, len(T), len(T))
        diffs.append(scores(T[idx], Pb[idx])[1] - scores(T[idx], Pa[idx])[1])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--no-curve", action="store_true", help="skip the learning curve")
    args = ap.parse_args()
    if not recipe.available():
        print(f"skipped: labelled data not found in {recipe.LABELS}")
        return 0
    data = recipe.load_labelled()
    train, dev = data["train"], data["dev"]
    print(f"train: {len(train)} rows ({', '.join(f'{s} {train.source.count(s)}' for s in recipe.SOURCES)}); "
          f"dev: {', '.join(f'{s} {dev.source.count(s)}' for s in recipe.SOURCES)}")
    base = Baseline().fit(train.texts, train.Y)
    ours = recipe.fit_default(train)
    Pa, Pb = base.predict(dev.texts), ours.predict(dev.texts)
    for source in recipe.SOURCES:
        rows = np.array([s == source for s in dev.source])
        T = dev.Y[rows]
        print(f"\n== dev: {source} ({rows.sum()} items; coded {', '.join(f'{t} {int(T[:, j].sum())}' for j, t in enumerate(THEMES))}; "
              f"no theme {int((~T.any(1)).sum())})")
        print(f"{'':16}{'baseline P/R/F1':>24}{'govtext P/R/F1':>24}")
        sa, ma, ka = scores(T, Pa[rows])
        sb, mb, kb = scores(T, Pb[rows])
        for j, t in enumerate(THEMES):
            print(f"{t:16}{sa[0, j]:>8.3f}{sa[1, j]:>8.3f}{sa[2, j]:>8.3f}{sb[0, j]:>8.3f}{sb[1, j]:>8.3f}{sb[2, j]:>8.3f}")
        lo, hi = paired_interval(T, Pa[rows], Pb[rows], args.bootstrap)
        print(f"{'macro F1':16}{ma:>24.3f}{mb:>24.3f}")
        print(f"{'no theme kept':16}{ka:>24.1%}{kb:>24.1%}")
        print(f"macro-F1 difference govtext - baseline: {mb - ma:+.3f}, paired bootstrap 95% interval "
              f"[{lo:+.3f}, {hi:+.3f}] ({args.bootstrap} resamples)")
    if not args.no_curve:
        print("\n== learning curve: macro-F1 on each dev set, baseline / govtext, by share of train rows")
        print(f"{'share':>6}{'rows':>7}" + "".join(f"{s:>18}" for s in recipe.SOURCES))
        rng = np.random.default_rng(0)
        order = rng.permutation(len(train))
        for share in (0.25, 0.5, 1.0):
            keep = np.sort(order[: int(round(share * len(train)))])
            part = train.subset(list(keep))
            if share == 1.0:
                pa, pb = Pa, Pb
            else:
                pa = Baseline().fit(part.texts, part.Y).predict(dev.texts)
                pb = recipe.fit_default(part).predict(dev.texts)
            cells = []
            for source in recipe.SOURCES:
                rows = np.array([s == source for s in dev.source])
                cells.append(f"{scores(dev.Y[rows], pa[rows])[1]:.3f} / {scores(dev.Y[rows], pb[rows])[1]:.3f}")
            print(f"{share:>6.0%}{len(part):>7}" + "".join(f"{c:>18}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
