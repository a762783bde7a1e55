"""Rebuild govtext's bundled default theme model from ../shared, deterministically.

    python models/train_default.py            # fit on train, score each dev set, refit on all, write models/default/
    python models/train_default.py --check    # rebuild in a temporary folder and compare with the bundled model

Labelled data (../shared/labels, made with the codebook):
  * xwlb_themes.jsonl      CCTV 《新闻联播》 items, text joined from ../shared/corpora/xwlb as title + "\\n" + text
  * local_themes.jsonl     local news excerpts
  * headline_themes.jsonl  local headlines
Each row has a ``split``. The recipe is ``ThemeClassifier()`` with its defaults, given the coders' evidence
sentences and a weight of 2 for local items and headlines (national TV news outnumbers them about 5 to 1).
The dev figures in the model card come from the fit on ``train`` rows only; the bundled model is then refitted
on train + dev of all three sources.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
LABELS = SHARED / "labels"
XWLB = SHARED / "corpora" / "xwlb" / "items.jsonl.gz"
THEMES = ("party_building", "civility", "co_governance")
SOURCES = ("xwlb", "local", "headline")
SOURCE_WEIGHT = {"xwlb": 1.0, "local": 2.0, "headline": 2.0}
GENRE = {"xwlb": 0, "local": 1, "headline": 2}  # govtext.GENRES: national broadcast, local news, headline
LOW_CONFIDENCE_WEIGHT = 1.0  # weight factor of rows a coder marked ``low`` confidence
FILES = {"xwlb": "xwlb_themes.jsonl", "local": "local_themes.jsonl", "headline": "headline_themes.jsonl"}


@dataclass
class Labelled:
    """Labelled rows of one or more sources, in file order."""

    ids: list[str]
    source: list[str]
    texts: list[str]
    Y: np.ndarray
    evidence: list[dict]
    confidence: list[str]
    group: list[str] = field(default_factory=list)  # the source each row came from (see ``source_group``)

    def subset(self, keep: np.ndarray | list[int]) -> Labelled:
        idx = list(np.flatnonzero(keep) if isinstance(keep, np.ndarray) and keep.dtype == bool else keep)
        return Labelled([self.ids[i] for i in idx], [self.source[i] for i in idx], [self.texts[i] for i in idx],
                        self.Y[idx], [self.evidence[i] for i in idx], [self.confidence[i] for i in idx],
                        [self.group[i] for i in idx] if self.group else [])

    def weights(self, low: float | None = None) -> np.ndarray:
        low = LOW_CONFIDENCE_WEIGHT if low is None else low
        return np.array([SOURCE_WEIGHT[s] * (low if c == "low" else 1.0) for s, c in zip(self.source, self.confidence)])

    def genres(self) -> np.ndarray:
        return np.array([GENRE[s] for s in self.source], dtype=np.int8)

    def __len__(self) -> int:
        return len(self.ids)


def source_group(source: str, row: dict, item: dict | None = None) -> str:
    """The source a labelled row came from, for cross-validation grouped by source: a local item's or
    headline's web site (host without ``www.``/``m.`` and port: ``m.yybnet.net`` and ``yybnet.net`` are
    one paper), and a CCTV item's broadcast (its date: one evening's items share stories and wording)."""
    if source == "xwlb":
        return f"xwlb:{item['date'] if item else row['id'][-6:]}"
    host = urlparse(row.get("url") or "").netloc.lower().split(":")[0]
    for prefix in ("www.", "m."):
        host = host.removeprefix(prefix)
    return f"web:{host or row['id']}"


def available() -> bool:
    return XWLB.is_file() and all((LABELS / f).is_file() for f in FILES.values())


def load_labelled() -> dict[str, Labelled]:
    """``{"train": ..., "dev": ...}`` over all three sources (rows keep their source name)."""
    rows: list[tuple[str, dict]] = []
    for source, name in FILES.items():
        with open(LABELS / name, encoding="utf-8") as fh:
            rows += [(source, json.loads(line)) for line in fh if line.strip()]
    wanted = {r["id"] for s, r in rows if s == "xwlb"}
    items = {}
    with gzip.open(XWLB, "rt", encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            if item["id"] in wanted:
                items[item["id"]] = item
    missing = wanted - set(items)
    if missing:
        raise SystemExit(f"{len(missing)} labelled ids are missing from {XWLB}")

    def text(source: str, r: dict) -> str:
        return f"{items[r['id']]['title']}\n{items[r['id']]['text']}" if source == "xwlb" else r["text"]

    out = {}
    for split in ("train", "dev"):
        chosen = [(s, r) for s, r in rows if r["split"] == split]
        out[split] = Labelled(
            ids=[r["id"] for _, r in chosen], source=[s for s, _ in chosen], texts=[text(s, r) for s, r in chosen],
            Y=np.array([[int(r[t]) for t in THEMES] for _, r in chosen], dtype=np.int64),
            evidence=[r.get("evidence") or {} for _, r in chosen], confidence=[r["confidence"] for _, r in chosen],
            group=[source_group(s, r, items.get(r["id"])) for s, r in chosen],
        )
    return out


def fit_default(data: Labelled, *, low: float | None = None, groups: list[str] | None = None, **params):
    """The default recipe on ``data`` (``params``: ThemeClassifier parameters to change, for experiments;
    ``groups``: out-of-fold scores grouped by these sources, e.g. ``data.group``)."""
    from govtext import ThemeClassifier

    return ThemeClassifier(**params).fit(data.texts, data.Y, sample_weight=data.weights(low), evidence=data.evidence,
                                         genre=data.genres(), groups=groups)


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


def oof_report(oof: dict) -> dict:
    """Per genre: macro-F1, per-theme F1 and the share of no-theme rows kept clean, of the out-of-fold decisions."""
    T, P, g = oof["labels"].astype(bool), oof["predicted"].astype(bool), oof["genre"]
    out = {}
    for code, source in enumerate(SOURCES):
        t, p = T[g == code], P[g == code]
        tp, d = (t & p).sum(0), t.sum(0) + p.sum(0)
        f1 = np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0)
        none = ~t.any(1)
        out[source] = {"macro_f1": round(float(f1.mean()), 4), "f1": [round(float(x), 4) for x in f1],
                       "none_kept": round(float((~p[none].any(1)).mean()), 4)}
    return out


def dev_report(model, dev: Labelled) -> dict:
    """Per dev source: evaluation with bootstrap intervals and the evidence agreement."""
    import govtext

    report = {}
    for source in SOURCES:
        part = dev.subset(np.array([s == source for s in dev.source]))
        ev = govtext.evaluate(model, part.texts, part.Y, n_bootstrap=2000, random_state=0)
        agree = govtext.evidence_agreement(model, part.texts, part.evidence)
        report[source] = {"evaluation": ev, "summary": _summary(ev), "evidence": agree}
    return report


def _saved_and_loaded(model, folder: Path, card: dict):
    """``model`` as it is saved (float32 coefficients): all figures come from the model as it ships."""
    import govtext

    model.save(folder, card=card)
    return govtext.load(folder)


def train(out_dir: Path, *, quiet: bool = False, save_train_fit: Path | None = None,
          train_fit_from: Path | None = None, final_from: Path | None = None) -> dict:
    """Fit on train, report on dev, refit on train + dev and save to ``out_dir``. ``train_fit_from`` /
    ``final_from``: folders where this script's two fits were already saved (to run them in parallel
    on a busy machine); they give the same files as fitting here."""
    import govtext

    data = load_labelled()
    train_, dev = data["train"], data["dev"]
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    say(f"fitting on train: {len(train_)} rows; dev: {len(dev)} rows")
    with tempfile.TemporaryDirectory() as tmp:
        if train_fit_from is not None:
            model = govtext.load(train_fit_from)
        else:
            model = _saved_and_loaded(fit_default(train_), save_train_fit or Path(tmp) / "train",
                                      {"fitted_on_rows": len(train_)})
    if model.card_.get("fitted_on_rows") != len(train_):
        raise SystemExit(f"the train fit was made on {model.card_.get('fitted_on_rows')} rows, not {len(train_)}")
    oof = oof_report(model.out_of_fold())
    say(f"out-of-fold on train (cross-fitted): {json.dumps(oof)}")
    report = dev_report(model, dev)
    for source, r in report.items():
        say(f"\n== dev {source} (model fitted on train only)\n{r['evaluation']}\nevidence: {r['evidence']}")
    both = Labelled(train_.ids + dev.ids, train_.source + dev.source, train_.texts + dev.texts,
                    np.vstack([train_.Y, dev.Y]), train_.evidence + dev.evidence, train_.confidence + dev.confidence,
                    train_.group + dev.group)
    say("\nrefitting on train + dev for the bundled model")
    final = govtext.load(final_from) if final_from is not None else fit_default(both)
    card = {
        "training_data": {s: {"train": sum(x == s for x in train_.source), "dev": sum(x == s for x in dev.source)}
                          for s in SOURCES},
        "fitted_on": "train + dev of all three sources (the dev figures below are from the fit on train only)",
        "source_weight": SOURCE_WEIGHT,
        "low_confidence_weight": LOW_CONFIDENCE_WEIGHT,
        "out_of_fold_on_train": oof,
        "dev_of_train_only_fit": {s: {**r["summary"], "evidence_agreement": r["evidence"].as_dict()}
                                  for s, r in report.items()},
    }
    # oof.npz: out-of-fold probabilities and decisions of the train-only fit, over the train rows (whose
    # labels and genres it holds), so that error rates estimated from it never saw a dev label.
    final.save(out_dir, card=card, out_of_fold=model.out_of_fold())
    return {"report": report, "card": card, "model": final}


def file_gaps(a: Path, b: Path) -> dict[str, float | None]:
    """Each file of two saved models (the manifest's versions block ignored) with the largest
    difference of its float values: 0.0 when the file is identical, None when it differs in anything
    else (missing, other keys, vocabularies, labels, decisions, a NaN)."""
    gaps: dict[str, float | None] = {}
    for name in sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()}):
        pa, pb = a / name, b / name
        if not (pa.is_file() and pb.is_file()):
            gap = None
        elif name == "govtext.json":
            ja, jb = (json.loads(p.read_text(encoding="utf-8")) for p in (pa, pb))
            ja.pop("versions", None)
            jb.pop("versions", None)
            gap = _json_gap(ja, jb)
        elif name.endswith(".npz"):
            with np.load(pa) as x, np.load(pb) as y:
                found = [_array_gap(x[k], y[k]) for k in x.files] if set(x.files) == set(y.files) else [None]
            gap = None if None in found else max(found, default=0.0)
        else:
            gap = 0.0 if pa.read_bytes() == pb.read_bytes() else None
        gaps[name] = None if gap is None or gap != gap else gap  # gap != gap: NaN
    return gaps


def same_model(a: Path, b: Path) -> list[str]:
    """Names of the files that differ between two saved models (the manifest's versions block ignored)."""
    return [name for name, gap in file_gaps(a, b).items() if gap != 0.0]


FLOAT_TOLERANCE = 1e-3  # a rebuild on another CPU: float arrays and manifest numbers may differ this much


def float_differences(a: Path, b: Path) -> float | None:
    """When two saved models differ in floating-point values only - the same files, vocabularies,
    labels and decisions (``oof.npz``'s predicted flags), every float array and manifest number
    within ``FLOAT_TOLERANCE`` - the largest difference; None when anything else differs. Training
    on a CPU with other floating-point libraries (SIMD logarithms, BLAS) gives such a model."""
    gaps = list(file_gaps(a, b).values())
    if None in gaps or max(gaps, default=0.0) > FLOAT_TOLERANCE:
        return None
    return max(gaps, default=0.0)


def _array_gap(x: np.ndarray, y: np.ndarray) -> float | None:
    if x.shape != y.shape:
        return None
    if x.dtype.kind != "f" or y.dtype.kind != "f":
        return 0.0 if np.array_equal(x, y) else None
    return float(np.abs(x.astype(np.float64) - y.astype(np.float64)).max()) if x.size else 0.0


def _json_gap(x: object, y: object) -> float | None:
    if isinstance(x, float) and isinstance(y, float):
        return abs(x - y)
    if isinstance(x, dict) and isinstance(y, dict):
        if set(x) != set(y):
            return None
        gaps = [_json_gap(x[k], y[k]) for k in x]
    elif isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y):
            return None
        gaps = [_json_gap(u, v) for u, v in zip(x, y)]
    else:
        return 0.0 if x == y else None
    return None if None in gaps else max(gaps, default=0.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="rebuild in a temp folder and compare with models/default")
    ap.add_argument("--save-train-fit", type=Path, help="also save the fit on train rows to this folder")
    ap.add_argument("--train-fit-from", type=Path, help="use the train-rows fit saved in this folder")
    ap.add_argument("--final-from", type=Path, help="use the train + dev fit saved in this folder")
    args = ap.parse_args()
    if not available():
        print(f"needs the labelled data in {LABELS} and {XWLB}", file=sys.stderr)
        return 2
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            train(Path(tmp) / "m", quiet=True)
            diffs = same_model(HERE / "default", Path(tmp) / "m")
            gap = float_differences(HERE / "default", Path(tmp) / "m") if diffs else None
        if diffs and gap is not None:
            print(f"rebuilt model is the same as models/default up to this CPU's floating point, not bit for bit: "
                  f"{', '.join(diffs)} differ in float values only (largest difference {gap:.2g}; the same "
                  f"vocabularies, labels and out-of-fold decisions)")
            return 0
        if diffs:
            print(f"rebuilt model DIFFERS from models/default in: {', '.join(diffs)}")
            return 1
        print("rebuilt model is identical to models/default (every array and vocabulary file, and the manifest "
              "apart from library versions)")
        return 0
    train(HERE / "default", save_train_fit=args.save_train_fit, train_fit_from=args.train_fit_from,
          final_from=args.final_from)
    return 0


if __name__ == "__main__":
    sys.exit(main())
