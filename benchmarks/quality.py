"""Theme quality: govtext's default recipe against a strong and a weak scikit-learn baseline, on the same rows.

(a) strong baseline (the main comparison): the pipeline a competent user writes in fifteen lines —
    jieba words plus character 1-3-gram TF-IDF (two TfidfVectorizers, sublinear tf, min_df 2, in a
    FeatureUnion), one LogisticRegression per theme (C=10, balanced; solver liblinear, the same
    penalised likelihood as the default lbfgs fitted in a fraction of the time on these sparse
    features), each wrapped in TunedThresholdClassifierCV (5-fold, F1) for its threshold.
(b) weak baseline: jieba.lcut tokens, TfidfVectorizer (sublinear tf, min_df 2), one LogisticRegression
    per theme (C=10, balanced), cut at 0.5.
(c) govtext: ``ThemeClassifier()`` with its defaults, given the coders' evidence sentences, the source
    weights and genres of models/train_default.py (the bundled model's recipe), scored twice: through
    the API (``predict`` on the raw texts) and through the command line's default path (the model
    saved, ``govtext classify --model DIR`` on a JSON Lines file of the texts, cleaning on).

All are fitted on the ``train`` rows of ../shared/labels (CCTV, local news and headlines together)
and scored on each ``dev`` set separately: per-theme precision/recall/F1, macro-F1, the share of
no-theme items left with no theme, and paired bootstrap 95% intervals of the macro-F1 differences
(govtext - strong, govtext - weak) over the same resampled documents. Then (optional) a learning
curve (25 / 50 / 100% of train) against the strong baseline.

    python benchmarks/quality.py [--bootstrap 2000] [--curve] [--no-cli]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/tokenize.py would shadow the stdlib module
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import train_default as recipe  # noqa: E402

THEMES = recipe.THEMES


def _jieba_words(text: str) -> list[str]:
    import jieba

    return jieba.lcut(text)


class StrongBaseline:
    """jieba words + character 1-3-grams, one tuned-threshold logistic regression per theme."""

    def fit(self, texts: list[str], Y: np.ndarray) -> StrongBaseline:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import TunedThresholdClassifierCV
        from sklearn.pipeline import FeatureUnion

        self.vec = FeatureUnion([
            ("words", TfidfVectorizer(tokenizer=_jieba_words, lowercase=False, token_pattern=None,
                                      sublinear_tf=True, min_df=2)),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)),
        ])
        X = self.vec.fit_transform(texts)
        self.models = [
            TunedThresholdClassifierCV(LogisticRegression(C=10, class_weight="balanced", solver="liblinear"),
                                       scoring="f1", cv=5, random_state=0).fit(X, Y[:, j])
            for j in range(Y.shape[1])
        ]
        return self

    def predict(self, texts: list[str]) -> np.ndarray:
        X = self.vec.transform(texts)
        return np.column_stack([m.predict(X) for m in self.models]).astype(np.int64)


class Baseline:
    """The weak hand-rolled pipeline (jieba + TfidfVectorizer + one logistic regression per theme, cut at 0.5)."""

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


def cli_predict(model, texts: list[str]) -> np.ndarray:
    """Decisions of ``model`` through ``govtext classify`` (its default path: cleaning on)."""
    exe = Path(sys.executable).with_name("govtext")
    with tempfile.TemporaryDirectory() as tmp:
        model.save(Path(tmp) / "model")
        src = Path(tmp) / "dev.jsonl"
        with open(src, "w", encoding="utf-8") as fh:
            for i, t in enumerate(texts):
                fh.write(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) + "\n")
        out = Path(tmp) / "out.jsonl"
        cmd = [str(exe) if exe.exists() else "govtext", "classify", str(src), "--model", str(Path(tmp) / "model"),
               "-o", str(out), "-q"]
        subprocess.run(cmd, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        P = np.zeros((len(texts), len(THEMES)), dtype=np.int64)
        errors = 0
        with open(out, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if "error" in row:
                    errors += 1
                    continue
                for lab in row["labels"]:
                    P[int(row["id"]), THEMES.index(lab)] = 1
    if errors:
        print(f"(command line: {errors} error rows, counted as no theme)")
    return P


def report(name: str, T: np.ndarray, columns: dict[str, np.ndarray], n_boot: int) -> dict:
    """Print one dev set's table; return its figures."""
    print(f"\n== dev: {name} ({len(T)} items; coded {', '.join(f'{t} {int(T[:, j].sum())}' for j, t in enumerate(THEMES))}; "
          f"no theme {int((~T.any(1)).sum())})")
    print(f"{'':16}" + "".join(f"{c + ' P/R/F1':>27}" for c in columns))
    sc = {c: scores(T, P) for c, P in columns.items()}
    for j, t in enumerate(THEMES):
        print(f"{t:16}" + "".join(f"{s[0][0, j]:>9.3f}{s[0][1, j]:>9.3f}{s[0][2, j]:>9.3f}" for s in sc.values()))
    print(f"{'macro F1':16}" + "".join(f"{s[1]:>27.3f}" for s in sc.values()))
    print(f"{'no theme kept':16}" + "".join(f"{s[2]:>27.1%}" for s in sc.values()))
    out = {"n": int(len(T)), "macro_f1": {c: round(s[1], 4) for c, s in sc.items()},
           "none_kept": {c: round(s[2], 4) for c, s in sc.items()},
           "f1": {c: [round(float(x), 4) for x in s[0][2]] for c, s in sc.items()}, "differences": {}}
    ours = [c for c in columns if c.startswith("govtext")]
    for c in ours:
        for other in ("strong", "weak"):
            if other not in columns:
                continue
            lo, hi = paired_interval(T, columns[other], columns[c], n_boot)
            d = sc[c][1] - sc[other][1]
            print(f"macro-F1 {c} - {other}: {d:+.3f}, paired bootstrap 95% interval [{lo:+.3f}, {hi:+.3f}] "
                  f"({n_boot} resamples)")
            out["differences"][f"{c} - {other}"] = [round(d, 4), round(lo, 4), round(hi, 4)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--curve", action="store_true", help="add the learning curve (25/50/100%% of train)")
    ap.add_argument("--no-cli", action="store_true", help="skip scoring through the command line")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--train-fit", help="folder of the recipe already fitted on the train rows (as written by "
                    "models/train_default.py --save-train-fit), used instead of fitting it again; waits for it")
    args = ap.parse_args()
    if not recipe.available():
        print(f"skipped: labelled data not found in {recipe.LABELS}")
        return 0
    data = recipe.load_labelled()
    train, dev = data["train"], data["dev"]
    print(f"train: {len(train)} rows ({', '.join(f'{s} {train.source.count(s)}' for s in recipe.SOURCES)}); "
          f"dev: {', '.join(f'{s} {dev.source.count(s)}' for s in recipe.SOURCES)}", flush=True)
    t0 = time.perf_counter()
    strong = StrongBaseline().fit(train.texts, train.Y)
    t1 = time.perf_counter()
    weak = Baseline().fit(train.texts, train.Y)
    t2 = time.perf_counter()
    if args.train_fit:
        import govtext

        while not (Path(args.train_fit) / "govtext.json").is_file():
            time.sleep(10)
        time.sleep(5)
        ours = govtext.load(args.train_fit)
        fitted = ours.card_.get("fitted_on_rows")
        if fitted != len(train):
            print(f"{args.train_fit} was fitted on {fitted} rows, not the {len(train)} train rows", file=sys.stderr)
            return 2
    else:
        ours = recipe.fit_default(train)
    t3 = time.perf_counter()
    print(f"fit seconds: strong {t1 - t0:.0f}, weak {t2 - t1:.0f}, govtext {t3 - t2:.0f}", flush=True)
    columns = {"strong": strong.predict(dev.texts), "weak": weak.predict(dev.texts), "govtext": ours.predict(dev.texts)}
    if not args.no_cli:
        columns["govtext CLI"] = cli_predict(ours, dev.texts)
    figures = {}
    for source in recipe.SOURCES:
        rows = np.array([s == source for s in dev.source])
        figures[source] = report(source, dev.Y[rows], {c: P[rows] for c, P in columns.items()}, args.bootstrap)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
    if args.curve:
        print("\n== learning curve: macro-F1 on each dev set, strong baseline / govtext, by share of train rows")
        print(f"{'share':>6}{'rows':>7}" + "".join(f"{s:>18}" for s in recipe.SOURCES))
        rng = np.random.default_rng(0)
        order = rng.permutation(len(train))
        for share in (0.25, 0.5, 1.0):
            keep = np.sort(order[: int(round(share * len(train)))])
            part = train.subset(list(keep))
            if share == 1.0:
                pa, pb = columns["strong"], columns["govtext"]
            else:
                pa = StrongBaseline().fit(part.texts, part.Y).predict(dev.texts)
                pb = recipe.fit_default(part).predict(dev.texts)
            cells = []
            for source in recipe.SOURCES:
                rows = np.array([s == source for s in dev.source])
                cells.append(f"{scores(dev.Y[rows], pa[rows])[1]:.3f} / {scores(dev.Y[rows], pb[rows])[1]:.3f}")
            print(f"{share:>6.0%}{len(part):>7}" + "".join(f"{c:>18}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
