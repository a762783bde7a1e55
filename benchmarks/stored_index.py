"""A saved index before and after metadata columns and memory-mapped ids: load time, resident
memory after loading, and filtered query latency, on the same index in both forms.

BEFORE is a folder saved by govtext before the change (metadata as ``records.jsonl``, filtered record
by record; ids as ``ids.json``, read into a list and a dict at load), loaded by the present code,
which reads such folders as it did. AFTER is a copy of it with only its metadata and ids rewritten
(``govtext.search._store.upgrade_index``; postings and texts are the same files), so every
difference is the storage's. Each load runs in a fresh process (page cache warm after the first;
the best of ``--loads``); the queries run in one process holding both indexes, interleaved query by
query for each filter (``rank="cosine"``, the exact stage, k=10), and their results are compared.

    nice python benchmarks/stored_index.py --index OLD_FOLDER --work DIR [--queries 200] [--loads 3]

The queries are benchmarks/scale.py's (real xwlb items and titles, ../shared). The filters are made
for the metadata govtext extracts (``date``, ``places``, ``initiatives``).
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
import shutil
import subprocess
import time

import numpy as np

FILTERS = {
    "none": None,
    "one year": {"date": ("2015-01-01", "2015-12-31")},
    "place 北京市": {"places": "北京市"},
    "two places since 2018": {"places": {"上海市", "广州市"}, "date": ("2018-01-01", None)},
    "initiative 河长制": {"initiatives": "河长制"},
}


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def phase_load(path: str) -> dict:
    import govtext

    before = _rss_mb()
    t0 = time.perf_counter()
    index = govtext.load(path)
    took = time.perf_counter() - t0
    loaded = _rss_mb()
    index.query("社区党员志愿者开展文明劝导活动", k=10, rank="cosine", filter={"date": ("2015-01-01", None)})
    return {"load_s": took, "rss_before_mb": before, "rss_loaded_mb": loaded, "rss_after_query_mb": _rss_mb(),
            "documents": len(index)}


def phase_queries(before_path: str, after_path: str, n_queries: int) -> dict:
    import govtext

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from scale import queries  # noqa: E402  (benchmarks/scale.py: the same 200 real queries)

    qs = queries(n_queries)
    sys.path.pop(0)
    old, new = govtext.load(before_path), govtext.load(after_path)
    for index in (old, new):  # warm up: the scoring kernel's compilation is not a filter's cost
        index.query(qs[0], k=10, rank="cosine")
    out: dict = {"load_average_start": os.getloadavg(), "queries": len(qs)}
    for name, flt in FILTERS.items():
        lat = {"before": [], "after": []}
        same = True
        passing = new.metadata_.mask(flt).mean() if flt else 1.0
        for i, q in enumerate(qs):
            order = (("before", old), ("after", new)) if i % 2 == 0 else (("after", new), ("before", old))
            got = {}
            for label, index in order:
                t0 = time.perf_counter()
                res = index.query(q, k=10, rank="cosine", filter=flt)
                lat[label].append(time.perf_counter() - t0)
                got[label] = [(m.id, m.score) for m in res]
            same = same and got["before"] == got["after"]
        row = {"filter": name, "share passing": round(float(passing), 4), "identical results": same}
        for label in ("before", "after"):
            row[f"{label} p50/p95 ms"] = [round(1000 * float(np.percentile(lat[label], p)), 1) for p in (50, 95)]
        row["after/before p50"] = round(float(np.percentile(lat["after"], 50) / np.percentile(lat["before"], 50)), 3)
        print(json.dumps(row, ensure_ascii=False), flush=True)
        out[name] = row
    out["load_average_end"] = os.getloadavg()
    return out


def _run(args: list[str]) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", help="a SimilarityIndex folder saved before metadata columns (read only)")
    ap.add_argument("--work", help="a folder for the upgraded copy")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--loads", type=int, default=3)
    ap.add_argument("--phase", choices=["load", "queries"], help=argparse.SUPPRESS)
    ap.add_argument("--after", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase == "load":
        print(json.dumps(phase_load(args.index)))
        return 0
    if args.phase == "queries":
        print(json.dumps(phase_queries(args.index, args.after, args.queries), ensure_ascii=False))
        return 0
    from govtext.search._store import upgrade_index

    src, after = Path(args.index), Path(args.work) / "after"
    if not (after / "meta.json").is_file():
        shutil.rmtree(after, ignore_errors=True)
        t0 = time.perf_counter()
        shutil.copytree(src, after)
        t1 = time.perf_counter()
        upgrade_index(after)
        print(json.dumps({"copy_s": round(t1 - t0, 1), "upgrade_s": round(time.perf_counter() - t1, 1)}), flush=True)
    sizes = {label: {f.name: f.stat().st_size for f in folder.iterdir()} for label, folder in (("before", src), ("after", after))}
    for label in ("before", "after"):
        own = {k: v for k, v in sizes[label].items() if k.startswith(("records", "ids", "meta"))}
        print(json.dumps({label: "metadata and ids on disk", "MB": round(sum(own.values()) / 1e6, 1), "files": own}))
    for label, folder in (("before", src), ("after", after)):
        runs = [_run(["--phase", "load", "--index", str(folder)]) for _ in range(args.loads)]
        best = min(runs, key=lambda r: r["load_s"])
        print(json.dumps({label: "load", "load_s (each run)": [round(r["load_s"], 3) for r in runs],
                          "rss_loaded_mb (each run)": [round(r["rss_loaded_mb"]) for r in runs],
                          "rss_before_load_mb": round(best["rss_before_mb"]),
                          "rss_after_one_filtered_query_mb": round(best["rss_after_query_mb"]),
                          "documents": best["documents"], "load_average": os.getloadavg()}), flush=True)
    done = subprocess.run([sys.executable, __file__, "--phase", "queries", "--index", str(src), "--after", str(after),
                           "--queries", str(args.queries)], check=True, text=True)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
