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

``--large`` measures a large lexicon instead: 100,000 terms (2 to 4 characters cut from other items
of the same corpus, in 100 categories) over 1,000 items, matched side by side, alternating, three
rounds: the Aho–Corasick automaton (``ahocorasick-rs``, what ``LexiconCounter`` uses when it is
installed), govtext's own iterative trie (its fallback), and the single trie-shaped regular expression
govtext used before; counts are checked to be identical. Raw hits (``normalize=None``) isolate the
matching; the default (hits per 1,000 tokens) is timed once for the automaton.

    python benchmarks/lexicon.py [--cntext-python /path/to/venv/bin/python] [--skip-vectors]
    python benchmarks/lexicon.py --large [--terms 100000] [--docs 1000]
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
    ap.add_argument("--large", action="store_true", help="time a large lexicon with each matcher instead")
    ap.add_argument("--terms", type=int, default=100_000)
    ap.add_argument("--docs", type=int, default=1000)
    args = ap.parse_args()
    if not XWLB.is_file():
        print(f"skipped: {XWLB} not found")
        return 0
    import govtext

    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        texts = [r["text"] for r in map(json.loads, fh) if r["text"].strip()]
    if args.large:
        return large_lexicon(texts, args.terms, args.docs)
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


def _regex_pattern(words: list[str]) -> str:
    """The matcher govtext used before: one regular expression shaped like a trie of the words,
    longest first at each position (written iteratively here so that it can be built at all)."""
    import re

    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(trie)


def large_lexicon(texts: list[str], n_terms: int, n_docs: int) -> int:
    import random
    import re
    import statistics

    import numpy as np

    import govtext
    from govtext.text.clean import normalize
    from govtext.features.lexicon import _have_ahocorasick, _Matcher

    if not _have_ahocorasick():
        print("ahocorasick-rs is not installed: pip install govtext[lexicon]")
        return 1
    rng = random.Random(0)
    docs = [normalize(t) for t in texts[:n_docs]]
    source = [normalize(t) for t in texts[n_docs : n_docs + 20_000]]
    terms: set[str] = set()
    while len(terms) < n_terms:
        t = rng.choice(source)
        n = rng.randint(2, 4)
        if len(t) > n:
            i = rng.randrange(len(t) - n)
            piece = t[i : i + n]
            if all("\u4e00" <= ch <= "\u9fff" for ch in piece):
                terms.add(piece)
    words = sorted(terms)
    lexicon = {f"c{j:03d}": words[j::100] for j in range(100)}
    print(f"large lexicon: {len(words):,} terms in 100 categories; {len(docs):,} real xwlb items "
          f"({sum(map(len, docs)) / 1e6:.1f} million characters)\n")

    def count_with(find) -> np.ndarray:
        owner = {w: int(c[1:]) for c, ws in lexicon.items() for w in ws}
        out = np.zeros((len(docs), 100))
        for i, d in enumerate(docs):
            for w in find(d):
                out[i, owner[w]] += 1
        return out

    t0 = time.perf_counter()
    automaton = _Matcher(words, backend="ahocorasick_rs")
    build = {"automaton": time.perf_counter() - t0}
    t0 = time.perf_counter()
    trie = _Matcher(words, backend="trie")
    build["trie"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    regex = re.compile(_regex_pattern(words))
    build["regex"] = time.perf_counter() - t0
    finders = {"automaton": automaton.find, "trie": trie.find,
               "regex": lambda d: [m.group() for m in regex.finditer(d)]}
    times: dict[str, list[float]] = {k: [] for k in finders}
    for _ in range(3):
        for name, find in finders.items():
            t0 = time.perf_counter()
            for d in docs:
                find(d)
            times[name].append(time.perf_counter() - t0)
    results = {name: count_with(find) for name, find in finders.items()}
    same = all((results[k] == results["automaton"]).all() for k in results)
    print(f"identical counts from all three: {same} ({int(results['automaton'].sum()):,} hits)")
    best = statistics.median(times["automaton"])
    print(f"{'matcher':<34}{'build':>9}{'match (median of 3)':>22}{'range':>20}{'x automaton':>13}")
    labels = {"automaton": "Aho-Corasick (ahocorasick-rs)", "trie": "govtext trie (fallback)",
              "regex": "trie regex (govtext before)"}
    for name in finders:
        med = statistics.median(times[name])
        print(f"{labels[name]:<34}{build[name]:>8.2f}s{med:>21.2f}s"
              f"{min(times[name]):>11.2f}-{max(times[name]):.2f}s{med / best:>12.1f}x")

    raw = govtext.LexiconCounter(lexicon, normalize=None).fit().transform(docs)
    print(f"LexiconCounter(lexicon, normalize=None) gives the same hits: {bool((raw == results['automaton']).all())}")
    t0 = time.perf_counter()
    counter = govtext.LexiconCounter(lexicon).fit()
    counter.transform(docs[:1])  # builds the tokenizer with the 100,000 terms as user words
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    counter.transform(docs)
    t_default = time.perf_counter() - t0
    print(f"LexiconCounter(lexicon) with its defaults (hits per 1,000 tokens, so it also tokenises): "
          f"fit and first use {t_fit:.1f} s, transform of {len(docs):,} items {t_default:.1f} s")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
