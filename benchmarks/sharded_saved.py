"""A saved sharded index queried through a LocalCluster: load on the workers, ``query_many`` of the
queries, then each query one at a time (``rank="cosine"`` and the default precedent order), with the
workers' memory and the load average; optionally the top 10 compared with one index's.

    nice python benchmarks/sharded_saved.py --index SHARDED_FOLDER [--workers 2] [--queries 200]
        [--single-top10 single_top10.json]

The queries are benchmarks/scale.py's (real xwlb items and titles, ../shared); ``single_top10.json``
is what scale.py's single phase writes (each query's top 10 ids and scores, ``rank="cosine"``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/tokenize.py shares its name with the stdlib module; keep this folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import os
import time

import numpy as np


def _rss_mb() -> dict:
    import resource

    with open("/proc/self/status", encoding="ascii") as fh:
        now = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024
    return {"now": round(now), "peak": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _moves(dask_worker) -> int:  # shards (or anything) received from another worker
    return len(getattr(dask_worker, "transfer_incoming_log", ()))


def _latency(fn, qs) -> dict:
    lat = []
    for q in qs:
        t0 = time.perf_counter()
        fn(q)
        lat.append(time.perf_counter() - t0)
    return {f"p{p}_ms": round(1000 * float(np.percentile(lat, p)), 1) for p in (50, 95)} | \
        {"max_ms": round(1000 * max(lat), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--single-top10")
    args = ap.parse_args()

    import govtext
    from distributed import Client, LocalCluster

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import queries  # noqa: E402

    sys.path.pop(0)
    qs = queries(args.queries)

    def say(row: dict) -> None:
        print(json.dumps({**row, "load_average": [round(x, 2) for x in os.getloadavg()]}, ensure_ascii=False),
              flush=True)

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        say({"step": "start"})
        t0 = time.perf_counter()
        index = govtext.ShardedIndex.load(args.index, client=client)
        say({"step": "load on the cluster", "seconds": round(time.perf_counter() - t0, 1), "documents": len(index),
             "worker_rss_mb": sorted(client.run(_rss_mb).values(), key=str), "coordinator_rss_mb": _rss_mb(),
             "shard_sizes_dask_sees_mb": [round(v / 1e6, 1) for v in client.nbytes(summary=False).values()]})
        t0 = time.perf_counter()
        batch = index.query_many(qs, k=10, rank="cosine")
        row = {"step": "query_many", "queries": len(qs), "seconds": round(time.perf_counter() - t0, 2)}
        if args.single_top10:
            single = json.loads(Path(args.single_top10).read_text(encoding="utf-8"))[:len(qs)]
            top = [[(m.id, m.score) for m in r] for r in batch]
            row["identical_top10_ids"] = f"{sum([x[0] for x in a] == [x[0] for x in b] for a, b in zip(top, single))}/{len(qs)}"
            row["max_score_difference"] = max((abs(x[1] - y[1]) for a, b in zip(top, single) for x, y in zip(a, b)),
                                              default=0.0)
        say(row)
        for rank in ("cosine", "precedent"):
            say({"step": f"one at a time, rank={rank}", **_latency(lambda q: index.query(q, k=10, rank=rank), qs)})
        say({"step": "end", "worker_rss_mb": sorted(client.run(_rss_mb).values(), key=str),
             "moves_between_workers": sum(client.run(_moves).values())})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
