"""`govtext serve` end to end: request latency over a 100,000-document index, beside the in-process query.

The index holds every non-empty real 《新闻联播》 item of ../shared/corpora/xwlb (74,545) topped up to
100,000 with SYNTHETIC documents recombined from its sentences (seeded), built with the DEFAULT
settings (places, initiatives and texts stored). The server runs as `govtext serve` in its own
process; this process sends the requests one at a time over loopback, and prints p50/p95 of
`/api/similar` (JSON), `/` (the HTML page, which also classifies the proposal) and, side by side,
`SimilarityIndex.query` called in-process on the same proposals (300 local-news articles cut to
400 characters and 100 headlines, from ../shared/labels).

    python benchmarks/serve.py [--docs 100000]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import gzip
import http.client
import json
import socket
import subprocess
import tempfile
import time
from urllib.parse import urlencode

import numpy as np

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
XWLB = SHARED / "corpora" / "xwlb" / "items.jsonl.gz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    args = ap.parse_args()
    if not XWLB.is_file():
        print(f"skipped: {XWLB} not found")
        return 0
    import govtext

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from similarity import sentence_pool, synthetic  # the similarity benchmark's generator

    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        rows = [r for r in map(json.loads, fh) if r["text"].strip()][: args.docs]
    texts = [r["text"] for r in rows]
    ids = [r["id"] for r in rows]
    meta = [{"title": r["title"], "date": r["date"]} for r in rows]
    extra = args.docs - len(texts)
    if extra > 0:
        texts += synthetic(sentence_pool(), extra, seed=7)
        ids += [f"synthetic-{i}" for i in range(extra)]
        meta += [{"title": t.split("\n", 1)[0][:30], "date": "2020-01-01"} for t in texts[-extra:]]
    local = [json.loads(x)["text"] for x in (SHARED / "labels" / "local_themes.jsonl").open(encoding="utf-8")]
    heads = [json.loads(x)["text"] for x in (SHARED / "labels" / "headline_themes.jsonl").open(encoding="utf-8")]
    queries = ["".join(t.split())[:400] for t in local if len(t) > 200][:300] + [h for h in heads if h.strip()][:100]
    print(f"index: {len(texts):,} documents ({len(rows):,} real xwlb items, {max(extra, 0):,} synthetic), "
          f"default settings; {len(queries)} proposals, k=10")

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        govtext.SimilarityIndex(progress=False).fit(texts, ids=ids, metadata=meta).save(Path(tmp) / "idx")
        print(f"built and saved in {time.perf_counter() - t0:.0f} s")
        index = govtext.load(Path(tmp) / "idx")
        index.query(queries[0])
        inproc = []
        for q in queries:
            t0 = time.perf_counter()
            index.query(q, k=10)
            inproc.append(time.perf_counter() - t0)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "govtext", "serve", "--index", str(Path(tmp) / "idx"),
                                   "--port", str(port)], stderr=subprocess.PIPE, text=True)
        try:
            t0 = time.perf_counter()
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if server.poll() is not None:
                        print(server.stderr.read())
                        return 1
                    time.sleep(0.1)
            print(f"server ready {time.perf_counter() - t0:.1f} s after start (loads the index and the model)")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

            def timed(path: str) -> float:
                t0 = time.perf_counter()
                conn.request("GET", path)
                resp = conn.getresponse()
                body = resp.read()
                assert resp.status == 200, body[:300]
                return time.perf_counter() - t0

            timed("/api/similar?" + urlencode({"q": queries[0]}))  # first request pays the lazy start-up
            api = [timed("/api/similar?" + urlencode({"q": q, "k": 10})) for q in queries]
            page = [timed("/?" + urlencode({"q": q, "k": 10})) for q in queries]
        finally:
            server.terminate()
            server.wait(timeout=30)

    def show(name: str, lat: list[float]) -> None:
        print(f"  {name:<34} p50 {1000 * np.percentile(lat, 50):6.1f} ms   p95 {1000 * np.percentile(lat, 95):6.1f} ms")

    print("\nper request, one at a time (end to end over loopback for the server rows)")
    show("SimilarityIndex.query, in-process", inproc)
    show("GET /api/similar (JSON)", api)
    show("GET / (HTML page + proposal themes)", page)
    print(f"\n/api/similar p50 = {np.percentile(api, 50) / np.percentile(inproc, 50):.1f}x the in-process query; "
          f"page p50 = {np.percentile(page, 50) / np.percentile(inproc, 50):.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
