"""Comparable-case search at scale: one index against scikit-learn, and the same corpus as shards on
a Dask LocalCluster.

The corpus is REAL items with LIGHT PERTURBATION: the first pass takes the non-empty 《新闻联播》
items of ../shared/corpora/xwlb in file order; past their number (about 75,000) every further
document is a real item again (chosen with a fixed seed) with one of its sentences dropped and two
neighbouring sentences swapped, under an id of its own. Queries are 200 real texts: 150 items' first
300 characters and 50 titles (fixed seed).

Each phase runs in its own process, so that its peak RSS is its own (the corpus is built in each):

* ``single``: ``govtext.SimilarityIndex()`` with its DEFAULT settings (places/initiatives extracted,
  texts stored, one process) — build time, peak RSS, index size on disk, load time (``govtext.load``,
  best of 3, page cache warm), query p50/p95 one at a time (``rank="cosine"``, the exact stage, and the
  default precedent order), and every query's top 10 (ids, scores) for the comparison below;
* ``sklearn``: scikit-learn's ``TfidfVectorizer`` on the same tokens (``analyzer=govtext.Tokenizer()``,
  sublinear tf, float32), ``fit_transform`` time and peak RSS — the vectors alone, no index;
* ``sharded``: ``govtext.ShardedIndex(n_shards=4)`` built on a LocalCluster of 2 single-threaded worker
  processes — build time, the coordinator's and each worker's peak RSS, size on disk, load time (in
  this process), query p50/p95 one at a time through the cluster, and whether every query's top 10
  (ids and scores) equals the single index's.

    nice python benchmarks/scale.py --docs 100000 [--queries 200] [--shards 4] [--workers 2] [--out DIR]
                                    [--order sklearn-first] [--phases single,sklearn,sharded]

Prints one JSON line per phase (and partial lines as a phase's steps finish: build, load; each with
the load average at its start and end) and a summary with the machine's load average.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/tokenize.py shares its name with the stdlib module; keep this folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import gzip
import json
import os
import re
import resource
import subprocess
import tempfile
import time

import numpy as np

XWLB = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"
_SENT = re.compile(r"[^。!?！？]*[。!?！？]|[^。!?！？]+$")


def real_items() -> list[dict]:
    items = []
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r.get("text", "").strip():
                items.append({"id": r["id"], "text": r["text"], "title": r.get("title") or "",
                              "date": r.get("date")})
    return items


def _perturb(text: str, rng: np.random.Generator) -> str:
    sents = [s for s in _SENT.findall(text) if s]
    if len(sents) >= 3:
        del sents[int(rng.integers(len(sents)))]
        i = int(rng.integers(len(sents) - 1))
        sents[i], sents[i + 1] = sents[i + 1], sents[i]
    return "".join(sents) or text


def corpus(n: int) -> tuple[list[str], list[str], list[dict]]:
    """``n`` documents: the real items, then perturbed copies of real items (seeded)."""
    items = real_items()
    rng = np.random.default_rng(27)
    texts, ids, meta = [], [], []
    for i in range(n):
        if i < len(items):
            it, text, doc_id = items[i], items[i]["text"], items[i]["id"]
        else:
            it = items[int(rng.integers(len(items)))]
            text, doc_id = _perturb(it["text"], rng), f"{it['id']}~{i}"
        texts.append(text)
        ids.append(doc_id)
        meta.append({"title": it["title"], "date": it["date"]})
    return texts, ids, meta


def queries(n: int) -> list[str]:
    items = real_items()
    rng = np.random.default_rng(28)
    picks = rng.choice(len(items), size=n, replace=False)
    n_long = n * 3 // 4
    out = ["".join(items[i]["text"].split())[:300] for i in picks[:n_long]]
    return out + [items[i]["title"] or items[i]["text"][:30] for i in picks[n_long:]]


def _partial(row: dict) -> None:
    """Print a phase's figures so far (a later step that fails or runs out of time leaves them)."""
    print(json.dumps(row, ensure_ascii=False), flush=True)


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def _latency(fn, qs: list[str]) -> dict:
    lat = []
    for q in qs:
        t0 = time.perf_counter()
        fn(q)
        lat.append(time.perf_counter() - t0)
    return {"p50_ms": 1000 * float(np.percentile(lat, 50)), "p95_ms": 1000 * float(np.percentile(lat, 95))}


def _best_load(path: Path, repeat: int = 3, **kw) -> tuple[object, float]:
    import govtext

    best, index = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        index = govtext.ShardedIndex.load(path, **kw) if kw else govtext.load(path)
        took = time.perf_counter() - t0
        best = took if best is None else min(best, took)
    return index, best


def phase_single(n: int, n_queries: int, out: Path) -> dict:
    import govtext

    t0 = time.perf_counter()
    texts, ids, meta = corpus(n)
    gen_s = time.perf_counter() - t0
    qs = queries(n_queries)
    t0 = time.perf_counter()
    index = govtext.SimilarityIndex(progress=False).fit(texts, ids=ids, metadata=meta)
    build_s = time.perf_counter() - t0
    rss_build = _rss_mb()
    del texts, meta
    folder = out / "single"
    t0 = time.perf_counter()
    index.save(folder)
    save_s = time.perf_counter() - t0
    built = {"phase": "single-build", "docs": n, "build_s": build_s, "save_s": save_s, "peak_rss_build_mb": rss_build,
             "disk_mb": _du_mb(folder)}
    _partial(built)
    del index
    index, load_s = _best_load(folder)
    _partial({"phase": "single-load", "docs": n, "load_s": load_s})
    cosine = _latency(lambda q: index.query(q, k=10, rank="cosine"), qs)
    _partial({"phase": "single-query-cosine", "docs": n, "query_cosine": cosine, "load_average": _load_average()})
    precedent = _latency(lambda q: index.query(q, k=10), qs)
    top = [[(m.id, m.score) for m in index.query(q, k=10, rank="cosine")] for q in qs]
    (out / "single_top10.json").write_text(json.dumps(top, ensure_ascii=False), encoding="utf-8")
    return {"phase": "single", "docs": n, "generate_s": gen_s, "build_s": build_s, "save_s": save_s,
            "peak_rss_build_mb": rss_build, "disk_mb": _du_mb(folder), "load_s": load_s,
            "terms": len(index.vectorizer_.idf_), "postings": int(index.segments_[0].nnz),
            "query_cosine": cosine, "query_precedent": precedent, "queries": len(qs)}


def phase_sklearn(n: int) -> dict:
    import govtext
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, _, _ = corpus(n)
    base = _rss_mb()
    sk = TfidfVectorizer(analyzer=govtext.Tokenizer(), sublinear_tf=True, smooth_idf=True, norm="l2",
                         dtype=np.float32)
    t0 = time.perf_counter()
    X = sk.fit_transform(texts)
    build_s = time.perf_counter() - t0
    return {"phase": "sklearn", "docs": n, "build_s": build_s, "peak_rss_mb": _rss_mb(),
            "rss_before_fit_mb": base, "terms": X.shape[1], "nnz": int(X.nnz)}


def _worker_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_sharded(n: int, n_queries: int, out: Path, shards: int, workers: int) -> dict:
    import govtext
    from distributed import Client, LocalCluster

    texts, ids, meta = corpus(n)
    qs = queries(n_queries)
    single_top = json.loads((out / "single_top10.json").read_text(encoding="utf-8"))
    folder = out / "sharded"
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        t0 = time.perf_counter()
        index = govtext.ShardedIndex(n_shards=shards, progress=False).fit(texts, ids=ids, metadata=meta,
                                                                          client=client)
        build_s = time.perf_counter() - t0
        del texts, meta
        t0 = time.perf_counter()
        index.save(folder)
        save_s = time.perf_counter() - t0
        _partial({"phase": "sharded-build", "docs": n, "build_s": build_s, "save_s": save_s,
                  "coordinator_peak_rss_mb": _rss_mb(), "worker_peak_rss_mb": sorted(client.run(_worker_peak_mb).values())})
        # the identity check first (one round trip), then the one-at-a-time latencies, each printed as it ends
        t0 = time.perf_counter()
        batch = index.query_many(qs, k=10, rank="cosine")
        many_s = time.perf_counter() - t0
        top = [[(m.id, m.score) for m in r] for r in batch]
        same_ids = sum(1 for a, b in zip(top, single_top) if [x[0] for x in a] == [x[0] for x in b])
        max_diff = max((abs(x[1] - y[1]) for a, b in zip(top, single_top) for x, y in zip(a, b)), default=0.0)
        _partial({"phase": "sharded-identity", "docs": n, "query_many_s": many_s,
                  "identical_top10_ids": f"{same_ids}/{len(qs)}", "max_score_difference": max_diff,
                  "load_average": _load_average()})
        cosine = _latency(lambda q: index.query(q, k=10, rank="cosine"), qs)
        _partial({"phase": "sharded-query-cosine", "docs": n, "query_cosine_on_cluster": cosine,
                  "load_average": _load_average()})
        precedent = _latency(lambda q: index.query(q, k=10), qs)
        worker_rss = sorted(client.run(_worker_peak_mb).values())
        del index
        _, load_cluster_s = _best_load(folder, client=client)
    local, load_s = _best_load(folder)
    local_cosine = _latency(lambda q: local.query(q, k=10, rank="cosine"), qs)
    shard_sizes = [_du_mb(folder / f"shard-{i:03d}") for i in range(shards)]
    return {"phase": "sharded", "docs": n, "shards": shards, "workers": workers, "build_s": build_s,
            "save_s": save_s, "coordinator_peak_rss_mb": _rss_mb(), "worker_peak_rss_mb": worker_rss,
            "disk_mb": _du_mb(folder), "shard_disk_mb": shard_sizes, "load_on_cluster_s": load_cluster_s,
            "load_in_process_s": load_s, "query_cosine_on_cluster": cosine, "query_precedent_on_cluster": precedent,
            "query_many_s": many_s, "query_cosine_in_process": local_cosine,
            "identical_top10_ids": f"{same_ids}/{len(qs)}", "max_score_difference": max_diff}


def _run_phase(args: argparse.Namespace, phase: str) -> dict | None:
    """Run one phase in its own process, passing on each line it prints as it comes (partial figures
    included); its last line is its row. None when it failed (its earlier lines are in the log)."""
    cmd = [sys.executable, __file__, "--phase", phase, "--docs", str(args.docs), "--queries", str(args.queries),
           "--shards", str(args.shards), "--workers", str(args.workers), "--out", str(args.out)]
    last = None
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        for line in proc.stdout:  # type: ignore[union-attr]
            print(line.rstrip("\n"), flush=True)
            if line.strip():
                last = line
    if proc.returncode or last is None:
        print(f"# phase {phase} failed (exit status {proc.returncode})", flush=True)
        return None
    return json.loads(last)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--docs", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", type=Path, default=None, help="folder for the indexes (default: a temporary one)")
    p.add_argument("--order", choices=["single-first", "sklearn-first"], default="single-first",
                   help="which build runs first (alternate between runs: the machine's load drifts)")
    p.add_argument("--phases", default="single,sklearn,sharded",
                   help="which phases to run (comma-separated; sharded needs single's top 10 in --out)")
    p.add_argument("--phase", choices=["single", "sklearn", "sharded"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if not XWLB.is_file():
        print(f"needs {XWLB} (the shared corpora beside the repository)", file=sys.stderr)
        return 2
    if args.phase:
        args.out.mkdir(parents=True, exist_ok=True)
        _partial({"phase": f"{args.phase}-start", "docs": args.docs, "load_average": _load_average()})
        if args.phase == "single":
            row = phase_single(args.docs, args.queries, args.out)
        elif args.phase == "sklearn":
            row = phase_sklearn(args.docs)
        else:
            row = phase_sharded(args.docs, args.queries, args.out, args.shards, args.workers)
        row["load_average_end"] = _load_average()
        print(json.dumps(row, ensure_ascii=False), flush=True)
        return 0
    keep = args.out is not None
    args.out = args.out or Path(tempfile.mkdtemp(prefix="govtext-scale-"))
    load = os.getloadavg()
    print(f"# {args.docs:,} documents: real xwlb items, then perturbed copies of real items (one sentence dropped, "
          f"two swapped); {args.queries} real queries; {os.cpu_count()} cores, load average "
          f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}", flush=True)
    wanted = set(args.phases.split(","))
    order = ("single", "sklearn") if args.order == "single-first" else ("sklearn", "single")
    rows = {ph: _run_phase(args, ph) if ph in wanted else None for ph in order}
    ready = rows["single"] or (args.out / "single_top10.json").is_file()
    rows["sharded"] = _run_phase(args, "sharded") if "sharded" in wanted and ready else None
    s, k, d = rows["single"], rows["sklearn"], rows["sharded"]
    load = os.getloadavg()
    if not (s and k and d):
        print(f"# not every phase finished (see above); load average at the end {load[0]:.1f} / {load[1]:.1f} / "
              f"{load[2]:.1f}")
        return 1
    print(f"# build: govtext {s['build_s']:.1f} s, scikit-learn TfidfVectorizer {k['build_s']:.1f} s "
          f"({s['build_s'] / k['build_s']:.2f}x); peak RSS {s['peak_rss_build_mb']:.0f} vs {k['peak_rss_mb']:.0f} MB; "
          f"disk {s['disk_mb']:.0f} MB; load {s['load_s']:.3f} s; query p50/p95 cosine "
          f"{s['query_cosine']['p50_ms']:.1f}/{s['query_cosine']['p95_ms']:.1f} ms")
    print(f"# sharded ({d['shards']} shards, {d['workers']} workers): build {d['build_s']:.1f} s, identical top 10 "
          f"{d['identical_top10_ids']} (max score difference {d['max_score_difference']:.2g}), query p50/p95 on the "
          f"cluster {d['query_cosine_on_cluster']['p50_ms']:.1f}/{d['query_cosine_on_cluster']['p95_ms']:.1f} ms; "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    if not keep:
        import shutil

        shutil.rmtree(args.out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
