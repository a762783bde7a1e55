"""SimilarityIndex at scale: build time, index size, peak memory, query latency and recall@10.

The corpora are SYNTHETIC: each document is a random title sentence plus 4-9 random sentences,
all sampled (with a fixed seed) from real 《新闻联播》 items in ../shared/corpora/xwlb. Every size
runs in its own process so that its peak memory is its own. For each query mode the script prints
p50/p95 latency over the query set and recall@10 against exact full-vocabulary cosine, computed
independently (row-normalised TF-IDF matrix times the query vector, scipy).

    python benchmarks/similarity.py [--sizes 100000 1000000] [--queries 200] [--jobs 2]
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
import re
import resource
import subprocess
import time

import numpy as np

XWLB = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"
_SENT = re.compile(r"[^。!?！？\n]{8,}[。!?！？]")


def sentence_pool(max_items: int = 40_000) -> list[str]:
    pool: list[str] = []
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        for line in itertools.islice(fh, 0, max_items * 2, 2):
            pool.extend(_SENT.findall(json.loads(line)["text"]))
    return pool


def synthetic(pool: list[str], n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(pool), size=(n, 10))
    lengths = rng.integers(5, 11, size=n)
    return [pool[p[0]].rstrip("。") + "\n" + "".join(pool[j] for j in p[1:k]) for p, k in zip(picks, lengths)]


def exact_top(X, q, k: int = 10) -> set[int]:
    """Independent exact cosine: rows of X are l2-normalised TF-IDF, q is the query's row."""
    scores = (X @ q.T).toarray().ravel()
    top = np.argpartition(-scores, k)[:k]
    return {int(i) for i in top if scores[i] > 0}


def run_one(size: int, n_queries: int, jobs: int) -> dict:
    import govtext

    t0 = time.perf_counter()
    pool = sentence_pool()
    docs = synthetic(pool, size, seed=1)
    queries = synthetic(pool, n_queries, seed=2)
    extra = synthetic(pool, 10_000, seed=3)
    gen_s = time.perf_counter() - t0
    mb = sum(len(d) for d in docs) * 3 / 1e6  # upper bound of UTF-8 size

    index = govtext.SimilarityIndex(extract_metadata=False, store_text=False, n_jobs=jobs, progress=False)
    t0 = time.perf_counter()
    index.fit(docs, ids=[f"d{i}" for i in range(size)])
    build_s = time.perf_counter() - t0
    del docs
    seg = index.segments_[0]
    index_bytes = seg.data.nbytes + seg.indices.nbytes + seg.indptr.nbytes + index.df_.nbytes
    rss_after_build = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # independent exact reference: row-major copy of the same weights
    X = seg.tocsr()
    qv = index.vectorizer_.transform(queries).tocsr()
    modes = {"exact": None, "prune_df=0.5": 0.5, "prune_df=0.2": 0.2, "prune_df=0.05": 0.05}
    out_modes = {}
    for name, prune in modes.items():
        lat, hits, total = [], 0, 0
        for i, q in enumerate(queries):
            t0 = time.perf_counter()
            res = index.query(q, k=10, prune_df=prune)
            lat.append(time.perf_counter() - t0)
            ref = exact_top(X, qv[i])
            got = {int(m.id[1:]) for m in res}
            hits += len(ref & got)
            total += len(ref)
        out_modes[name] = {"p50_ms": 1000 * float(np.percentile(lat, 50)), "p95_ms": 1000 * float(np.percentile(lat, 95)),
                           "recall@10": hits / max(total, 1)}
    del X

    t0 = time.perf_counter()
    index.add(extra, ids=[f"e{i}" for i in range(len(extra))])
    add_s = time.perf_counter() - t0
    return {
        "size": size, "approx_mb": round(mb), "generate_s": gen_s, "build_s": build_s, "add_10k_s": add_s,
        "index_mb": index_bytes / 1e6, "terms": len(index.vectorizer_.vocabulary_),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_build_mb": rss_after_build, "modes": out_modes, "queries": n_queries,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if not XWLB.is_file():
        print(f"skipped: {XWLB} not found")
        return 0
    if args.one:
        print(json.dumps(run_one(args.one, args.queries, args.jobs)))
        return 0
    print("corpora: SYNTHETIC documents of 5-10 sentences sampled and recombined from real xwlb items (seeded)")
    print(f"machine: {__import__('os').cpu_count()} cores; fit with n_jobs={args.jobs}; {args.queries} queries, k=10\n")
    for size in args.sizes:
        proc = subprocess.run([sys.executable, __file__, "--one", str(size), "--queries", str(args.queries),
                               "--jobs", str(args.jobs)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{size:>9,} docs: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{r['size']:>9,} docs (~{r['approx_mb']} MB text): build {r['build_s']:.1f} s, index {r['index_mb']:.0f} MB "
              f"({r['terms']:,} terms), peak RSS {r['peak_rss_mb']:.0f} MB (after build {r['rss_after_build_mb']:.0f} MB, "
              f"includes the corpus itself), add 10k docs {r['add_10k_s']:.1f} s "
              f"({r['add_10k_s'] / r['build_s']:.1%} of a rebuild)")
        for name, m in r["modes"].items():
            print(f"    {name:<14} p50 {m['p50_ms']:7.1f} ms   p95 {m['p95_ms']:7.1f} ms   recall@10 {m['recall@10']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
