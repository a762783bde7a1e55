"""Draw the chart shown in README.md (docs/theme_shares.png), as notebook 04 draws it.

Needs ../shared/corpora/xwlb (the project's real corpus) and govtext[plot]:

    python docs/make_charts.py
"""

from __future__ import annotations

import gzip
import itertools
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

import govtext  # noqa: E402
import govtext.plot  # noqa: E402

HERE = Path(__file__).resolve().parent
XWLB = HERE.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"


def main() -> int:
    if not XWLB.is_file():
        print(f"skipped: {XWLB} not found")
        return 0
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in itertools.islice(fh, 0, None, 25)]
    corpus = pd.DataFrame([{"date": r["date"], "text": r["text"]} for r in rows if r["text"].strip()])
    tagged = govtext.classify_frame(corpus, progress=False)
    ax = govtext.plot.theme_shares(tagged, date="date", freq="Y")
    ax.set_title(f"主题占比随时间变化 (《新闻联播》每 25 条取 1 条, 共 {len(corpus):,} 条; 内置模型判定)")
    ax.figure.savefig(HERE / "theme_shares.png", dpi=80)
    print("wrote", HERE / "theme_shares.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
