"""Theme classification throughput with the bundled default model on real news items.

Prints documents per second for ``predict`` on --docs items from ../shared/corpora/xwlb (one core),
and the share of that time spent normalising and tokenising (the rest is counting, TF-IDF weighting
and the linear models). Best of --repeats runs. With ``--against DIR`` a second saved model (e.g. an
earlier bundled model, checked out with ``git show``) is timed in the same run, alternating with the
default one, and the ratio is printed. The plain scikit-learn pipeline a user would write for speed —
rjieba words, ``TfidfVectorizer`` (sublinear tf, min_df 2), one ``LogisticRegression`` per theme — is
timed in the same run (its ``predict_proba``; it is fitted beforehand on the first 2,000 items with
the default model's decisions as targets, which only matters for timing). Times are the CPU seconds of
this process (``time.process_time``; the process is held to one core), which a machine shared with
other jobs disturbs far less than wall time; the ratio is printed in wall time too.

The default model's ``predict_proba`` is also timed with ``backend="numpy"`` (SciPy's sparse products
instead of the compiled kernel that ``pip install govtext[fast]`` brings), to show the kernel's gain.

    python benchmarks/classify.py [--docs 10000] [--repeats 2] [--against DIR] [--no-plain]
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/tokenize.py shares its name with the stdlib module; keep this folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import gzip
import itertools
import json
import os
import time

XWLB = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--against", help="folder of another saved ThemeClassifier to time side by side")
    ap.add_argument("--no-plain", action="store_true", help="skip the plain rjieba + scikit-learn pipeline")
    args = ap.parse_args()
    if not XWLB.is_file():
        print(f"skipped: {XWLB} not found")
        return 0
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass
    import govtext

    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        items = [json.loads(line) for line in itertools.islice(fh, 0, args.docs * 7, 7)]
    texts = [f"{it['title']}\n{it['text']}" for it in items]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    models = {"default": govtext.load()}
    if args.against:
        models["against"] = govtext.load(args.against)
    for model in models.values():
        model.predict(texts[:10])  # build the segmenter outside the timing
    tok = models["default"].tokenizer_

    def run_tokenize() -> None:
        for t in texts:
            tok(t[:1500])

    runs = {f"predict {name}": (lambda m=m: m.predict(texts)) for name, m in models.items()}
    if not args.no_plain:
        import rjieba
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.pipeline import make_pipeline

        def words(text: str) -> list[str]:
            return rjieba.cut(text[:1500])

        fit_on = texts[:2000]
        plain = make_pipeline(TfidfVectorizer(tokenizer=words, lowercase=False, token_pattern=None,
                                              sublinear_tf=True, min_df=2),
                              OneVsRestClassifier(LogisticRegression(C=10, class_weight="balanced", max_iter=2000)))
        plain.fit(fit_on, models["default"].predict(fit_on))
        runs["predict_proba plain"] = lambda: plain.predict_proba(texts)
        runs["predict_proba default"] = lambda: models["default"].predict_proba(texts)
    # the same model scoring with SciPy's sparse products instead of the compiled kernel (backend="numpy")
    runs["predict_proba default, backend numpy"] = lambda: _on_backend(models["default"], "numpy", texts)
    runs["tokenize"] = run_tokenize
    _on_backend(models["default"], "auto", texts[:200])  # the kernel compiled (or loaded) outside the timing
    best = dict.fromkeys(runs, float("inf"))
    wall = dict.fromkeys(runs, float("inf"))
    for _ in range(args.repeats):
        for name, fn in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - c0)
            wall[name] = min(wall[name], time.perf_counter() - t0)
    n = len(texts)
    print(f"corpus: {n} real items from ../shared/corpora/xwlb ({mb:.1f} MB), 1 core, best of {args.repeats}, "
          f"CPU seconds of this process (load average {os.getloadavg()[0]:.1f})")
    for name in models:
        print(f"predict ({name} model): {best[f'predict {name}']:.2f} s = {n / best[f'predict {name}']:.0f} docs/s")
    print(f"normalise + tokenise the first 1,500 characters alone: {best['tokenize']:.2f} s = "
          f"{best['tokenize'] / best['predict default']:.0%} of the default model's predict time")
    if args.against:
        print(f"throughput default / against: {best['predict against'] / best['predict default']:.2f}")
    compiled = "compiled kernel" if _numba_imports() else "no numba here: SciPy's sparse products"
    print(f"predict_proba of the default model (backend 'auto': {compiled}) {n / best['predict_proba default']:.0f} "
          f"docs/s; with backend='numpy' (SciPy) {n / best['predict_proba default, backend numpy']:.0f} docs/s; "
          f"auto / numpy: {best['predict_proba default, backend numpy'] / best['predict_proba default']:.2f}")
    if not args.no_plain:
        print(f"predict_proba: default model {n / best['predict_proba default']:.0f} docs/s, plain rjieba + "
              f"TfidfVectorizer + LogisticRegression {n / best['predict_proba plain']:.0f} docs/s; default / plain: "
              f"{best['predict_proba plain'] / best['predict_proba default']:.2f} (in wall time: "
              f"{wall['predict_proba plain'] / wall['predict_proba default']:.2f})")
    return 0


def _on_backend(model, backend: str, texts: list[str]):
    model.backend = backend
    try:
        return model.predict_proba(texts)
    finally:
        model.backend = "auto"


def _numba_imports() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
