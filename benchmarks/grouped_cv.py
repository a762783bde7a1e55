"""Cross-validation grouped by source, on the train rows only: the theme recipe and headline-path
candidates against the strong baseline of benchmarks/quality.py, per genre, under the SAME folds.

Groups (models/train_default.py ``source_group``): a local item's or headline's web site (host without
``www.``/``m.``; e.g. the 143 train headlines of one Henan paper form one group), a CCTV item's broadcast
date. For each theme the rows are split by ``StratifiedGroupKFold(5, shuffle=True, random_state=0)``
(the folds ``ThemeClassifier.fit(groups=...)`` uses inside, so the recipe's own out-of-fold record is
this cross-validation); no source is ever in the fold that scores it.

* recipe: ``ThemeClassifier`` fitted on train with ``groups=`` (its out-of-fold record: document and
  sentence models, combiner and per-genre thresholds all fitted without the scored fold). Fitted here,
  or read from ``--fit DIR`` (a model saved after such a fit).
* strong baseline: jieba words + character 1-3-gram TF-IDF, one LogisticRegression(C=10, balanced) per
  theme in TunedThresholdClassifierCV(5-fold, F1), refitted inside each fold (vectorizers included).
* headline paths (``--candidates``): the recipe everywhere but on headlines, where the decision comes
  from a logistic regression on *short-text features* — govtext's own word tokens (the recipe's
  tokenizer) plus character 1-3-grams, TF-IDF fitted inside the fold on all train genres — alone, or
  blended with the recipe's probability (a logistic combiner of the two log-odds). Their thresholds (and
  the combiner) are fitted on the other folds' out-of-fold headline scores and applied to the held-out
  fold, as the recipe's own are.

* word vectors (``--word-vectors``): ``govtext.WordVectors`` (100 dimensions) trained, without labels, on
  12,000 CCTV items that are not dev items plus the train local items and headlines; a logistic regression
  (C = 1 and 10, balanced) on each text's mean word vector, cross-fitted in the same folds, for headlines
  alone or blended with the recipe's log-odds as above.

Per genre: macro-F1 and the share of no-theme rows kept clean, with 95% intervals from a bootstrap that
resamples whole groups, and paired differences (same resampled groups) against the baseline and the recipe.

    python benchmarks/grouped_cv.py [--fit DIR] [--params JSON ...] [--candidates] [--bootstrap 1000] [--json OUT]

The model card's table ("A third pass at headlines") came from the recipe (v3) and these candidates:

    python benchmarks/grouped_cv.py --candidates --word-vectors --cache /tmp/scores.npz --params '{"C": 3}' --params '{"C": 1}' \
        --params '{"genre_pooling": 0.5}' --params '{"genre_pooling": 1}' --params '{"headline_model": true}' \
        --params '{"headline_model": true, "genre_pooling": 1}'

(each ThemeClassifier fit takes 20-50 s on a quiet core, with headline_model a few minutes; the
baseline's refits inside the folds about 9 minutes.)
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/tokenize.py would shadow the stdlib module
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import train_default as recipe  # noqa: E402

THEMES = recipe.THEMES
HEADLINE = recipe.GENRE["headline"]


def folds_by_theme(Y: np.ndarray, codes: np.ndarray, n_splits: int = 5, seed: int = 0) -> list[np.ndarray]:
    """Per theme, the fold of each row (the split ThemeClassifier.fit(groups=...) makes)."""
    from govtext.themes.classify import cv_folds

    out = []
    for j in range(Y.shape[1]):
        fold = np.full(len(Y), -1)
        k = int(min(n_splits, np.bincount(Y[:, j]).min()))
        for f, (_, test) in enumerate(cv_folds(Y[:, j], codes, k, seed)):
            fold[test] = f
        out.append(fold)
    return out


def macro(T: np.ndarray, P: np.ndarray) -> tuple[float, float]:
    """Macro-F1 and the share of no-theme rows with no predicted theme."""
    T, P = T.astype(bool), P.astype(bool)
    tp, d = (T & P).sum(0), T.sum(0) + P.sum(0)
    f1 = np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0)
    none = ~T.any(1)
    return float(f1.mean()), float((~P[none].any(1)).mean()) if none.any() else float("nan")


def group_bootstrap(codes: np.ndarray, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` resamples of row indices, drawing whole groups with replacement."""
    rng = np.random.default_rng(seed)
    uniq, inv = np.unique(codes, return_inverse=True)
    members = [np.flatnonzero(inv == g) for g in range(len(uniq))]
    return [np.concatenate([members[g] for g in rng.integers(0, len(uniq), len(uniq))]) for _ in range(n)]


def _jieba(texts: list[str]) -> list[list[str]]:
    import jieba

    return [jieba.lcut(t) for t in texts]


def _vectorizer(words: bool = True):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = [("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2))]
    if words:  # documents are (text, tokens) pairs; the word block reads the tokens
        parts.insert(0, ("words", TfidfVectorizer(analyzer=lambda doc: doc[1], sublinear_tf=True, min_df=2)))
        parts[1] = ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                                             preprocessor=lambda doc: doc[0]))
    return FeatureUnion(parts)


def cross_fit(data: recipe.Labelled, folds: list[np.ndarray], candidates: bool, say) -> dict[str, np.ndarray]:
    """Out-of-fold decisions of the strong baseline and out-of-fold scores of the short-text models."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import TunedThresholdClassifierCV

    from govtext import Tokenizer

    n, k = data.Y.shape
    t0 = time.perf_counter()
    jieba_docs = list(zip(data.texts, _jieba(data.texts)))
    gov_docs = list(zip(data.texts, Tokenizer().tokenize(data.texts))) if candidates else None
    say(f"tokenised in {time.perf_counter() - t0:.0f} s")
    weights = data.weights()
    out = {"strong": np.zeros((n, k), dtype=np.int8)}
    if candidates:
        for name in ("short C10", "short C1", "short C10 w", "jieba C10"):
            out[name] = np.zeros((n, k))
    for j in range(k):
        for f in range(folds[j].max() + 1):
            test, train = folds[j] == f, folds[j] != f
            y = data.Y[train, j]
            vec = _vectorizer()
            Xtr = vec.fit_transform([jieba_docs[i] for i in np.flatnonzero(train)])
            Xte = vec.transform([jieba_docs[i] for i in np.flatnonzero(test)])
            tuned = TunedThresholdClassifierCV(LogisticRegression(C=10, class_weight="balanced", solver="liblinear"),
                                               scoring="f1", cv=5, random_state=0).fit(Xtr, y)
            out["strong"][test, j] = tuned.predict(Xte)
            if candidates:  # the baseline's own regression (refitted on the whole fold), before its threshold
                out["jieba C10"][test, j] = tuned.estimator_.decision_function(Xte)
            if candidates:
                vec = _vectorizer()
                Xtr = vec.fit_transform([gov_docs[i] for i in np.flatnonzero(train)])
                Xte = vec.transform([gov_docs[i] for i in np.flatnonzero(test)])
                for name, C, w in (("short C10", 10, None), ("short C1", 1, None), ("short C10 w", 10, weights[train])):
                    lr = LogisticRegression(C=C, class_weight="balanced", solver="liblinear").fit(Xtr, y, sample_weight=w)
                    out[name][test, j] = lr.decision_function(Xte)
            say(f"theme {THEMES[j]} fold {f}: {time.perf_counter() - t0:.0f} s")
    return out


def word_vector_scores(data: recipe.Labelled, folds: list[np.ndarray], say, n_items: int = 12000
                       ) -> dict[str, np.ndarray]:
    """Cross-fitted scores of logistic regressions on mean word vectors (see the module's docstring)."""
    import gzip

    from sklearn.linear_model import LogisticRegression

    from govtext import Tokenizer, WordVectors

    dev_ids = set(recipe.load_labelled()["dev"].ids)
    corpus = []
    with gzip.open(recipe.XWLB, "rt", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            if item["id"] not in dev_ids:
                corpus.append(item["title"] + "\n" + item["text"][:1500])
            if len(corpus) >= n_items:
                break
    corpus += [x for x, s in zip(data.texts, data.source) if s != "xwlb"]
    vectors = WordVectors.train(corpus, dim=100, min_count=5, progress=False)
    say(f"word vectors: {len(vectors)} terms from {len(corpus)} texts")
    tok = Tokenizer()

    def mean(text: str) -> np.ndarray:
        found = [vectors.vector(w) for w in tok(text) if w in vectors]
        return np.mean(found, axis=0) if found else np.zeros(100)

    X = np.array([mean(x) for x in data.texts])
    out = {f"word vectors C{C:g}": np.zeros(data.Y.shape) for C in (1, 10)}
    for j in range(data.Y.shape[1]):
        for f in range(folds[j].max() + 1):
            test, train = folds[j] == f, folds[j] != f
            for C in (1, 10):
                lr = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(X[train], data.Y[train, j])
                out[f"word vectors C{C:g}"][test, j] = lr.decision_function(X[test])
    return out


def headline_path(y: np.ndarray, folds: np.ndarray, genre: np.ndarray, base: np.ndarray, cols: list[np.ndarray],
                  tune_on_all: bool = False) -> np.ndarray:
    """Decisions on headline rows from the score columns ``cols`` (one: thresholded as it is; two or
    more: a logistic combiner), fitted on the other folds' headline rows (``tune_on_all``: a single
    column's threshold tuned on the other folds' rows of every genre); other rows keep ``base``."""
    from sklearn.linear_model import LogisticRegression

    from govtext.themes.classify import _best_threshold

    out = base.copy()
    Z = np.column_stack(cols)
    head = genre == HEADLINE
    for f in range(folds.max() + 1):
        fit, apply = (folds != f) if tune_on_all and len(cols) == 1 else head & (folds != f), head & (folds == f)
        if not apply.any():
            continue
        if Z.shape[1] == 1:
            s_fit, s_apply = 1 / (1 + np.exp(-Z[fit, 0])), 1 / (1 + np.exp(-Z[apply, 0]))
        else:
            lr = LogisticRegression(C=1.0).fit(Z[fit], y[fit])
            s_fit, s_apply = lr.predict_proba(Z[fit])[:, 1], lr.predict_proba(Z[apply])[:, 1]
        out[apply] = s_apply >= _best_threshold(y[fit], s_fit)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fit", action="append", default=[], help="a recipe fitted on train with groups= and saved "
                    "(repeatable: each is a column); default: fit ThemeClassifier() here")
    ap.add_argument("--params", action="append", default=[], help="JSON of ThemeClassifier parameters: a "
                    "candidate recipe fitted here with groups= beside the default one (repeatable)")
    ap.add_argument("--candidates", action="store_true", help="add the headline-path candidates")
    ap.add_argument("--word-vectors", action="store_true", help="add the word-vector headline candidates")
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--cache", help="npz file keeping the cross-fitted baseline and candidate scores (read when it "
                    "exists: the candidates' rules can then be compared without refitting)")
    args = ap.parse_args()
    if not recipe.available():
        print(f"skipped: labelled data not found in {recipe.LABELS}")
        return 0
    import govtext
    from govtext.themes.classify import check_groups

    say = lambda *a: print(*a, flush=True)  # noqa: E731
    data = recipe.load_labelled()["train"]
    codes = check_groups(data.group, len(data))
    genre = data.genres()
    folds = folds_by_theme(data.Y, codes)
    say(f"train: {len(data)} rows in {len(np.unique(codes))} source groups; "
        + ", ".join(f"{s} {int((genre == g).sum())} rows / {len(np.unique(codes[genre == g]))} groups"
                    for s, g in recipe.GENRE.items()))
    recipes = {}
    for folder in args.fit:
        model = govtext.load(folder)
        if model.card_.get("fitted_on_rows") != len(data) or not model.card_.get("grouped_cv"):
            print(f"{folder}: not a grouped fit on the {len(data)} train rows", file=sys.stderr)
            return 2
        recipes[model.card_.get("name", Path(folder).name)] = model.out_of_fold()
    if not recipes:
        say("fitting the default recipe with groups=")
        recipes["v3"] = recipe.fit_default(data, groups=data.group).out_of_fold()
    for spec in args.params:
        say(f"fitting the recipe with {spec} and groups=")
        recipes[f"v3 {spec}"] = recipe.fit_default(data, groups=data.group, **json.loads(spec)).out_of_fold()
    for name, oof in recipes.items():
        if not np.array_equal(oof["labels"], data.Y.astype(np.int8)):
            print(f"{name}: its out-of-fold record is not over these train rows", file=sys.stderr)
            return 2
    if args.cache and Path(args.cache).is_file():
        with np.load(args.cache) as z:
            scored = {name.replace("_", " "): z[name] for name in z.files}
    else:
        scored = cross_fit(data, folds, args.candidates, say)
        if args.cache:
            np.savez_compressed(args.cache, **{name.replace(" ", "_"): a for name, a in scored.items()})
    columns = {"strong baseline": scored["strong"]}
    columns.update({name: oof["predicted"] for name, oof in recipes.items()})
    first = next(iter(recipes))
    if args.candidates:
        v3 = recipes[first]
        logit = np.log(np.clip(v3["proba"], 1e-6, 1 - 1e-6)) - np.log1p(-np.clip(v3["proba"], 1e-6, 1 - 1e-6))
        for name in ("short C10", "short C1", "short C10 w", "jieba C10"):
            for rule in ("alone", "alone, one threshold", "blended"):
                columns[f"{first} + headlines: {name} {rule}"] = np.column_stack([
                    headline_path(data.Y[:, j], folds[j], genre, v3["predicted"][:, j].astype(bool),
                                  [scored[name][:, j]] + ([logit[:, j]] if rule == "blended" else []),
                                  tune_on_all=rule != "alone")
                    for j in range(len(THEMES))])
        head = genre == HEADLINE
        columns[f"{first} + headlines: strong baseline's decisions"] = np.where(head[:, None], scored["strong"],
                                                                                 v3["predicted"])
    if args.word_vectors:
        oof = recipes[first]
        p = np.clip(oof["proba"], 1e-6, 1 - 1e-6)
        logit = np.log(p) - np.log1p(-p)
        for name, score in word_vector_scores(data, folds, say).items():
            for rule in ("alone", "blended"):
                columns[f"{first} + headlines: {name} {rule}"] = np.column_stack([
                    headline_path(data.Y[:, j], folds[j], genre, oof["predicted"][:, j].astype(bool),
                                  [score[:, j]] + ([logit[:, j]] if rule == "blended" else []))
                    for j in range(len(THEMES))])
    samples = {g: group_bootstrap(codes[genre == g], args.bootstrap) for g in recipe.GENRE.values()}
    figures: dict = {}
    for source, g in recipe.GENRE.items():
        rows = genre == g
        T = data.Y[rows]
        say(f"\n== {source}: {int(rows.sum())} train rows, {len(np.unique(codes[rows]))} groups "
            f"(grouped out-of-fold; [95%] resampling groups)")
        boot = {c: np.array([macro(T[i], P[rows][i]) for i in samples[g]]) for c, P in columns.items()}
        figures[source] = {}
        for c, P in columns.items():
            f1, kept = macro(T, P[rows])
            lo, hi = np.percentile(boot[c][:, 0], [2.5, 97.5])
            cell = {"macro_f1": round(f1, 4), "ci95": [round(lo, 4), round(hi, 4)], "none_kept": round(kept, 4)}
            line = f"{c:52} {f1:.3f} [{lo:.3f}, {hi:.3f}] / kept {kept:.1%}"
            for other in ("strong baseline", first):
                if other == c or (other == first and c == "strong baseline"):
                    continue
                d = boot[c][:, 0] - boot[other][:, 0]
                dlo, dhi = np.percentile(d, [2.5, 97.5])
                diff = f1 - macro(T, columns[other][rows])[0]
                cell[f"minus {other}"] = [round(diff, 4), round(dlo, 4), round(dhi, 4)]
                line += f"  − {'baseline' if other == 'strong baseline' else other}: {diff:+.3f} [{dlo:+.3f}, {dhi:+.3f}]"
            say(line)
            figures[source][c] = cell
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
