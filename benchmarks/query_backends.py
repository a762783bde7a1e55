"""One saved index queried with both backends of ``SimilarityIndex``: the compiled kernel (numba) and
the NumPy path, side by side in one process.

The queries are ``benchmarks/scale.py``'s 200 real texts (150 items' first 300 characters, 50 titles;
fixed seed, from ../shared/corpora/xwlb). The index is any folder ``govtext.load`` reads (for the 1M
figures in README: the single index ``scale.py --docs 1000000`` writes). Steps:

1. the first numba query in this process (numba imported and the kernels compiled), timed alone;
2. ``--rounds`` rounds over the queries one at a time, k = 10, for ``rank="cosine"`` (the exact stage)
   and the default precedent order; within a round each query runs on both backends one after the
   other, the backend that goes first alternating query by query; p50 / p95 per round and backend;
3. every query's results compared across backends (ids, scores bit for bit, shared terms, passages);
4. optionally (``--many``) ``query_many`` of all queries at once per backend (threads by default), after
   one untimed call that compiles the numba block kernel.

    nice python benchmarks/query_backends.py --index DIR [--queries 200] [--rounds 3] [--many]

Prints one JSON line per step and a summary, each with the load average.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
# benchmarks/tokenize.py shares its name with the stdlib module: keep this folder off the path (before
# any import that may import tokenize) and read scale.py by its path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def queries(n: int) -> list[str]:
    """The scale benchmark's real queries (``benchmarks/scale.py``'s ``queries``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_scale_benchmark", _HERE / "scale.py")
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)  # type: ignore[union-attr]
    return scale.queries(n)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _pct(xs: list[float]) -> dict:
    return {"p50_ms": round(1000 * float(np.percentile(xs, 50)), 2),
            "p95_ms": round(1000 * float(np.percentile(xs, 95)), 2)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--index", required=True, type=Path)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--many", action="store_true", help="also time query_many of all queries per backend")
    args = p.parse_args()

    import govtext

    qs = queries(args.queries)
    t0 = time.perf_counter()
    index = govtext.load(args.index)
    print(json.dumps({"step": "load", "index": str(args.index), "docs": len(index), "load_s": round(
        time.perf_counter() - t0, 2), "load_average": _load()}), flush=True)

    index.backend = "numba"
    t0 = time.perf_counter()
    index.backend_  # noqa: B018 - imports numba
    imported = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.query(qs[0], k=10, rank="cosine")
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.query(qs[0], k=10, rank="cosine")
    second = time.perf_counter() - t0
    print(json.dumps({"step": "first numba query", "import_numba_s": round(imported, 2),
                      "first_query_s": round(first, 2), "same_query_again_ms": round(1000 * second, 2),
                      "load_average": _load()}), flush=True)
    index.backend = "numpy"
    index.query(qs[0], k=10, rank="cosine")  # warm the NumPy path's page cache alike

    rounds = []
    for r in range(args.rounds):
        row: dict = {"step": f"round {r + 1}", "load_average_start": _load()}
        for rank in ("cosine", "precedent"):
            lat: dict[str, list[float]] = {"numba": [], "numpy": []}
            for i, q in enumerate(qs):
                for backend in (("numba", "numpy") if (i + r) % 2 == 0 else ("numpy", "numba")):
                    index.backend = backend
                    t0 = time.perf_counter()
                    index.query(q, k=10, rank=rank)
                    lat[backend].append(time.perf_counter() - t0)
            for backend, xs in lat.items():
                row[f"{rank} {backend}"] = _pct(xs)
            row[f"{rank} numpy / numba p50"] = round(float(np.percentile(lat["numpy"], 50)
                                                           / np.percentile(lat["numba"], 50)), 2)
        row["load_average_end"] = _load()
        rounds.append(row)
        print(json.dumps(row), flush=True)

    same = 0
    for q in qs:
        got = []
        for backend in ("numba", "numpy"):
            index.backend = backend
            got.append((index.query(q, k=10, rank="cosine"), index.query(q, k=10)))
        same += got[0] == got[1]
    print(json.dumps({"step": "equal results", "queries": len(qs), "identical_on_both_backends": same}), flush=True)

    if args.many:
        index.backend = "numba"
        t0 = time.perf_counter()
        index.query_many(qs[:8], k=10, rank="cosine")
        print(json.dumps({"step": "first numba query_many (its block kernel compiled)",
                          "took_s": round(time.perf_counter() - t0, 2)}), flush=True)
        for backend in ("numba", "numpy", "numba", "numpy"):
            index.backend = backend
            t0 = time.perf_counter()
            index.query_many(qs, k=10, rank="cosine")
            took = time.perf_counter() - t0
            print(json.dumps({"step": f"query_many {backend}", "queries_per_s": round(len(qs) / took, 1),
                              "load_average": _load()}), flush=True)

    print(json.dumps({"step": "summary", "docs": len(index), "rounds": [
        {k: v for k, v in row.items() if "p50" in k or k.startswith("load") or "numba" in k or "numpy" in k}
        for row in rounds], "load_average": _load()}), flush=True)


if __name__ == "__main__":
    main()
