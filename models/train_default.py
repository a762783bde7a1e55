"""Rebuild govtext's bundled default theme model from ../shared, deterministically.

    python models/train_default.py            # trains, evaluates on the dev split, writes models/default/
    python models/train_default.py --check    # retrains in a temporary folder and compares with the bundled model

Training data: ../shared/labels/xwlb_themes.jsonl (split == "train"), texts joined from
../shared/corpora/xwlb/items.jsonl.gz as ``title + "\\n" + text``. The dev split is used only for the
figures written to models/default/govtext.json and models/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
LABELS_FILE = SHARED / "labels" / "xwlb_themes.jsonl"
XWLB = SHARED / "corpora" / "xwlb" / "items.jsonl.gz"
THEMES = ("party_building", "civility", "co_governance")


def load_split() -> dict[str, dict[str, list]]:
    labels = [json.loads(line) for line in LABELS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    wanted = {row["id"] for row in labels}
    items = {}
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            if item["id"] in wanted:
                items[item["id"]] = item
    missing = wanted - set(items)
    if missing:
        raise SystemExit(f"{len(missing)} labelled ids are missing from {XWLB}")
    out: dict[str, dict[str, list]] = {}
    for split in ("train", "dev"):
        rows = [r for r in labels if r["split"] == split]
        out[split] = {
            "ids": [r["id"] for r in rows],
            "texts": [f"{items[r['id']]['title']}\n{items[r['id']]['text']}" for r in rows],
            "Y": [[int(r[t]) for t in THEMES] for r in rows],
            "confidence": [r["confidence"] for r in rows],
        }
    return out


def train(out_dir: Path) -> dict:
    import govtext
    from govtext.classify import ThemeClassifier

    data = load_split()
    train_, dev = data["train"], data["dev"]
    model = ThemeClassifier().fit(train_["texts"], np.array(train_["Y"]))
    ev = govtext.evaluate(model, dev["texts"], np.array(dev["Y"]), n_bootstrap=2000, random_state=0)
    high = [i for i, c in enumerate(dev["confidence"]) if c == "high"]
    ev_high = govtext.evaluate(model, [dev["texts"][i] for i in high], np.array([dev["Y"][i] for i in high]),
                               n_bootstrap=2000, random_state=0)
    card = {
        "training_data": "../shared/labels/xwlb_themes.jsonl, split=train (1,612 CCTV 新闻联播 items)",
        "n_train": len(train_["texts"]),
        "positives_train": {t: int(np.array(train_["Y"])[:, j].sum()) for j, t in enumerate(THEMES)},
        "dev": _summary(ev),
        "dev_high_confidence": _summary(ev_high),
    }
    model.save(out_dir, card=card)
    return {"eval": ev, "eval_high": ev_high, "card": card, "model": model}


def _summary(ev) -> dict:
    return {
        "n_documents": ev.n_documents,
        "macro_f1": round(ev.macro_f1, 4),
        "macro_f1_ci95": [round(x, 4) for x in ev.macro_f1_ci],
        "none_kept": round(ev.none_kept, 4),
        "none_kept_ci95": [round(x, 4) for x in ev.none_kept_ci],
        "labels": {
            s.label: {
                "precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
                "f1_ci95": [round(x, 4) for x in s.f1_ci], "support": s.support, "predicted": s.predicted,
            }
            for s in ev.labels
        },
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="retrain in a temp folder and compare with models/default")
    args = ap.parse_args()
    if not (LABELS_FILE.is_file() and XWLB.is_file()):
        print(f"needs {LABELS_FILE} and {XWLB}", file=sys.stderr)
        return 2
    if args.check:
        import govtext

        with tempfile.TemporaryDirectory() as tmp:
            result = train(Path(tmp) / "m")
            bundled = govtext.load(HERE / "default")
            same = np.allclose(bundled.coef_, result["model"].coef_, atol=1e-6) and \
                np.allclose(bundled.thresholds_, result["model"].thresholds_)
            print("retrained model matches the bundled one" if same else "retrained model DIFFERS from the bundled one")
            return 0 if same else 1
    result = train(HERE / "default")
    print(result["eval"])
    print("\nhigh-confidence dev items only:")
    print(result["eval_high"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
