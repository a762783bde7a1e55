"""Tokenisation throughput: plain ``jieba.lcut`` against ``govtext.Tokenizer`` with each engine.

Runs on real news text from ../shared/corpora/xwlb (one core, same documents for every contender,
runs interleaved and the best of --repeats kept, since this machine is noisy). Prints MB/s and
the ratio to plain jieba. Also checks that tokenising grows linearly with document size.

    python benchmarks/tokenize.py [--docs 3000] [--repeats 3]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the stdlib module `tokenize`; keep its folder off the import path so
# `import tokenize` elsewhere finds the standard library.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import gzip
import itertools
import json
import os
import time

HERE = Path(__file__).resolve().parent
XWLB = HERE.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"


def load_docs(n: int) -> list[str]:
    docs = []
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        for line in itertools.islice(fh, 0, n * 15, 15):  # every 15th item: spread over the years
            item = json.loads(line)
            docs.append(f"{item['title']}\n{item['text']}")
    return docs


def best_time(fn, docs, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for d in docs:
            fn(d)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    if not XWLB.is_file():
        print(f"skipped: {XWLB} not found (the benchmark needs ../shared beside the repo)")
        return 0
    try:  # one core, as the target says
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass

    import jieba
    import logging

    logging.getLogger("jieba").setLevel(logging.WARNING)
    from govtext import Tokenizer

    docs = load_docs(args.docs)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    print(f"corpus: {len(docs)} real items from ../shared/corpora/xwlb, {mb:.2f} MB UTF-8, 1 core, best of {args.repeats}")

    jieba.lcut("预热")
    contenders = {
        "jieba.lcut (plain, no filtering)": jieba.lcut,
        "govtext.Tokenizer(engine='jieba')": Tokenizer(engine="jieba"),
        "govtext.Tokenizer(engine='rjieba') [default]": Tokenizer(engine="rjieba"),
        "govtext.Tokenizer(normalize=False)": Tokenizer(normalize=False),
    }
    for fn in contenders.values():
        fn("预热")  # build segmenters outside the timed region
    times = {name: float("inf") for name in contenders}
    for _ in range(args.repeats):  # interleave contenders so drift hits all of them alike
        for name, fn in contenders.items():
            times[name] = min(times[name], best_time(fn, docs, 1))
    base = times["jieba.lcut (plain, no filtering)"]
    print(f"{'contender':48s}{'MB/s':>8s}{'x jieba':>9s}")
    for name, t in times.items():
        print(f"{name:48s}{mb / t:8.2f}{base / t:9.2f}")
    ratio = base / times["govtext.Tokenizer(engine='rjieba') [default]"]
    print(f"default Tokenizer vs plain jieba: {ratio:.1f}x (target >= 10x)")

    # Linear time on one very long document: 1 MB vs 10 MB of the same text.
    tok = contenders["govtext.Tokenizer(engine='rjieba') [default]"]
    joined = "\n".join(docs)
    one_mb = joined[: 350_000]  # ~1 MB of UTF-8
    ten_mb = one_mb * 10
    t1 = best_time(tok, [one_mb], args.repeats)
    t10 = best_time(tok, [ten_mb], args.repeats)
    print(f"one 1 MB document: {t1:.2f} s; one 10 MB document: {t10:.2f} s; ratio {t10 / t1:.1f} (linear = 10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
