"""How much real text ``clean_article`` keeps, and how fast, on the labelled data in ../shared.

* CCTV items (title + body): every line is article text, so every character dropped is a loss
  (lines dropped as exact repeats of kept text are counted apart).
* Local news excerpts: real pages with site boilerplate; the sentences coders quoted as evidence
  are certainly article text, so their share kept is the measure.
* Local headlines: one line each; how many come out with no text.

    python benchmarks/cleaning.py
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/tokenize.py would shadow the stdlib module
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "models"))

import re  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import train_default as recipe  # noqa: E402


def chars(text: str) -> int:
    return len(re.sub(r"\s", "", text))


def main() -> int:
    if not recipe.available():
        print(f"skipped: labelled data not found in {recipe.LABELS}")
        return 0
    import govtext

    data = recipe.load_labelled()
    rows = [(s, t, e) for part in data.values() for s, t, e in zip(part.source, part.texts, part.evidence)]
    t0 = time.perf_counter()
    cleaned = [govtext.clean_article(t) for _, t, _ in rows]
    seconds = time.perf_counter() - t0
    print(f"clean_article on {len(rows)} labelled items: {len(rows) / seconds:,.0f} items/s (one core, one run)")

    kept = repeats = total = 0
    reasons: Counter[str] = Counter()
    for (source, text, _), art in zip(rows, cleaned):
        if source != "xwlb":
            continue
        total += chars(govtext.normalize(text))
        kept += chars(art.text)
        for r in art.removed:
            reasons[r.reason] += chars(r.text)
        repeats += sum(chars(r.text) for r in art.removed if r.reason == "duplicate")
    print(f"CCTV items: {kept / total:.3%} of {total:,} characters kept ({(kept + repeats) / total:.3%} counting "
          f"exact repeats of kept text); dropped by reason: {dict(reasons.most_common())}")

    quoted = found = 0
    for (source, _, evidence), art in zip(rows, cleaned):
        if source != "local" or not evidence:
            continue
        body = re.sub(r"\s", "", art.text)
        for q in evidence.values():
            qn = re.sub(r"\s", "", govtext.normalize(q))
            quoted += len(qn)
            found += len(qn) if qn in body else 0
    local = [(t, a) for (s, t, _), a in zip(rows, cleaned) if s == "local"]
    share = sum(chars(a.text) for _, a in local) / sum(chars(govtext.normalize(t)) for t, _ in local)
    print(f"local news: {found / quoted:.2%} of the characters coders quoted kept; {share:.1%} of all characters "
          f"kept (the rest is site boilerplate and repeats)")

    heads = [(t, a) for (s, t, _), a in zip(rows, cleaned) if s == "headline"]
    empty = sum(1 for _, a in heads if not a.text.strip())
    print(f"headlines: {len(heads) - empty} of {len(heads)} keep their text; {empty} come out empty "
          f"(an error row in a batch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
