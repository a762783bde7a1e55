"""Dictionary methods on real text: lexicon counting speed beside cntext and a plain jieba loop, and
word-vector training time, in one run.

The lexicon is govtext's theme seed terms: 134 terms in 3 categories (with 18 exclusion phrases).
The texts are the non-empty 《新闻联播》 items of ../shared/corpora/xwlb: the first 2,000, then
all of them. Every counter runs with its default settings:

* govtext: ``LexiconCounter().transform(texts)`` (hits per 1,000 tokens, so it also tokenises);
* cntext: ``cntext.sentiment(text, diction)`` per text, run by ``--cntext-python`` (an interpreter
  with cntext installed: it pulls in heavy dependencies, so it lives in its own virtualenv here);
* a plain loop: a private ``jieba.Tokenizer`` with the terms added, ``collections.Counter`` per text.

Then ``WordVectors.train`` on all items, and the neighbours of 志愿服务, 议事会 and 党支部.

    python benchmarks/lexicon.py [--cntext-python /path/to/venv/bin/python] [--skip-vectors]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import gzip
import json
import subprocess
import tempfile
import time
from collections import Counter

XWLB = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"

CNTEXT_SCRIPT = """
import json, sys, time
import cntext
texts = json.load(open(sys.argv[1], encoding="utf-8"))
diction = json.load(open(sys.argv[2], encoding="utf-8"))
cntext.sentiment(texts[0], diction=diction, lang="chinese")  # warm up (dictionary loading)
t0 = time.perf_counter()
rows = [cntext.sentiment(t, diction=diction, lang="chinese") for t in texts]
print(json.dumps({"seconds": time.perf_counter() - t0, "first": rows[0]}, ensure_ascii=False))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cntext-python", help="a Python interpreter that can import cntext")
    ap.add_argument("--skip-vectors", action="store_true")
    args = ap.parse_args()
    if not XWLB.is_file():
        print(f"skipped: {XWLB} not found")
        return 0
    import govtext

    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        texts = [r["text"] for r in map(json.loads, fh) if r["text"].strip()]
    small = texts[:2000]
    counter = govtext.LexiconCounter().fit()
    diction = counter.terms_
    n_terms = sum(len(v) for v in diction.values())
    print(f"lexicon: {n_terms} terms in {len(diction)} categories, {len(counter.exclusions_)} exclusions; "
          f"texts: {len(small):,} and {len(texts):,} real xwlb items\n")
    counter.transform(small[:10])  # build the segmenter outside the timings

    t0 = time.perf_counter()
    counter.transform(small)
    t_gov = time.perf_counter() - t0

    import jieba

    seg = jieba.Tokenizer()
    seg.tmp_dir = tempfile.mkdtemp()
    seg.initialize()
    for terms in diction.values():
        for t in terms:
            seg.add_word(t)
    owner = {t: c for c, terms in diction.items() for t in terms}
    t0 = time.perf_counter()
    for text in small:
        counts = Counter(seg.lcut(text))
        {c: sum(n for w, n in counts.items() if owner.get(w) == c) for c in diction}
    t_loop = time.perf_counter() - t0

    print(f"counting {len(small):,} items")
    print(f"  govtext LexiconCounter        {t_gov:7.2f} s")
    print(f"  jieba + Counter loop          {t_loop:7.2f} s   (govtext = {t_loop / t_gov:.1f}x its speed)")
    if args.cntext_python:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "t.json").write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
            (Path(tmp) / "d.json").write_text(json.dumps(diction, ensure_ascii=False), encoding="utf-8")
            out = subprocess.run([args.cntext_python, "-c", CNTEXT_SCRIPT, str(Path(tmp) / "t.json"),
                                  str(Path(tmp) / "d.json")], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  cntext: failed: {out.stderr.strip().splitlines()[-1:]}")
        else:
            t_cn = json.loads(out.stdout.strip().splitlines()[-1])["seconds"]
            print(f"  cntext sentiment()            {t_cn:7.2f} s   (govtext = {t_cn / t_gov:.1f}x its speed)")
    else:
        print("  cntext: not measured (pass --cntext-python)")

    t0 = time.perf_counter()
    counter.transform(texts)
    t_all = time.perf_counter() - t0
    print(f"\ncounting all {len(texts):,} items with govtext: {t_all:.1f} s ({len(texts) / t_all:,.0f} items/s)")

    if not args.skip_vectors:
        t0 = time.perf_counter()
        vectors = govtext.WordVectors.train(texts, progress=False)
        print(f"\nWordVectors.train on {len(texts):,} items: {time.perf_counter() - t0:.0f} s, {vectors}")
        for word in ("志愿服务", "议事会", "党支部"):
            near = vectors.most_similar(word, k=10) if word in vectors else []
            print(f"  {word}: " + "、".join(n.term for n in near))
    return 0


if __name__ == "__main__":
    sys.exit(main())
