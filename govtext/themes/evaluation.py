"""Evaluating a theme classifier against human codes, and drawing samples for human coders."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ParameterError
from .._common import check_text_list
from .classify import evidence_overlap, labels_matrix

__all__ = ["EvidenceAgreement", "Evaluation", "LabelScore", "evaluate", "evidence_agreement", "sample_for_coding"]


@dataclass(frozen=True)
class LabelScore:
    """Precision, recall and F1 of one label, each with a bootstrap 95% interval (low, high)."""

    label: str
    precision: float
    recall: float
    f1: float
    precision_ci: tuple[float, float]
    recall_ci: tuple[float, float]
    f1_ci: tuple[float, float]
    support: int  # documents the coders marked with the label
    predicted: int  # documents the model marked with the label


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`evaluate`."""

    labels: tuple[LabelScore, ...]
    macro_f1: float
    macro_f1_ci: tuple[float, float]
    none_kept: float  # share of documents with no theme that the model also left with no theme
    none_kept_ci: tuple[float, float]
    n_documents: int
    n_none: int
    n_bootstrap: int

    def __getitem__(self, label: str) -> LabelScore:
        for s in self.labels:
            if s.label == label:
                return s
        raise KeyError(label)

    def to_rows(self) -> list[dict[str, Any]]:
        """One dict per label plus a macro row, ready for ``csv.DictWriter`` or ``pandas.DataFrame``."""
        rows = [
            {"label": s.label, "precision": s.precision, "precision_low": s.precision_ci[0],
             "precision_high": s.precision_ci[1], "recall": s.recall, "recall_low": s.recall_ci[0],
             "recall_high": s.recall_ci[1], "f1": s.f1, "f1_low": s.f1_ci[0], "f1_high": s.f1_ci[1],
             "support": s.support, "predicted": s.predicted}
            for s in self.labels
        ]
        rows.append({"label": "macro", "f1": self.macro_f1, "f1_low": self.macro_f1_ci[0],
                     "f1_high": self.macro_f1_ci[1], "support": self.n_documents})
        return rows

    def __str__(self) -> str:
        def ci(pair: tuple[float, float]) -> str:
            return f"[{pair[0]:.2f}, {pair[1]:.2f}]"

        lines = [f"{'label':<16}{'precision':>22}{'recall':>22}{'F1':>22}{'support':>9}{'predicted':>10}"]
        for s in self.labels:
            lines.append(
                f"{s.label:<16}{s.precision:>8.3f} {ci(s.precision_ci):>13}{s.recall:>8.3f} {ci(s.recall_ci):>13}"
                f"{s.f1:>8.3f} {ci(s.f1_ci):>13}{s.support:>9}{s.predicted:>10}"
            )
        lines.append(f"macro F1 {self.macro_f1:.3f} {ci(self.macro_f1_ci)}; documents with no theme kept with no "
                     f"theme: {self.none_kept:.1%} {ci(self.none_kept_ci)} of {self.n_none}; "
                     f"{self.n_documents} documents, {self.n_bootstrap} bootstrap resamples")
        return "\n".join(lines)


def _prf(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    tp = float((y & p).sum())
    pp, ap = float(p.sum()), float(y.sum())
    precision = tp / pp if pp else 0.0
    recall = tp / ap if ap else 0.0
    f1 = 2 * tp / (pp + ap) if (pp + ap) else 0.0
    return precision, recall, f1


def _interval(values: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def evaluate(
    model: Any,
    texts: Iterable[str],
    Y: Any,
    *,
    n_bootstrap: int = 1000,
    random_state: int = 0,
) -> Evaluation:
    """Score ``model`` against human codes ``Y`` ((n, k) 0/1 array or label-name lists).

    Per label: precision, recall and F1 with percentile bootstrap 95% intervals (documents
    resampled with replacement), the number coded and predicted; macro F1; and the share of
    documents coded with no theme that the model also leaves with no theme.
    """
    docs = check_text_list(texts, "texts")
    labels = [str(c) for c in getattr(model, "classes_", [])] or None
    Ymat, names = labels_matrix(Y, labels)
    if len(docs) != len(Ymat):
        raise InputError(f"texts has {len(docs)} documents but Y has {len(Ymat)} rows")
    if labels is not None and list(names) != labels:
        raise InputError(f"Y's labels {list(names)} differ from the model's {labels}")
    P = np.asarray(model.predict(docs)).astype(bool)
    T = Ymat.astype(bool)
    n, k = T.shape
    none_rows = ~T.any(axis=1)

    def stats(idx: np.ndarray) -> np.ndarray:
        t, p = T[idx], P[idx]
        row = []
        for j in range(k):
            row.extend(_prf(t[:, j], p[:, j]))
        f1s = row[2::3]
        nr = ~t.any(axis=1)
        row.append(float(np.mean(f1s)))
        row.append(float((~p[nr].any(axis=1)).mean()) if nr.any() else float("nan"))
        return np.array(row)

    point = stats(np.arange(n))
    rng = np.random.default_rng(random_state)
    boots = np.array([stats(rng.integers(0, n, n)) for _ in range(n_bootstrap)]) if n_bootstrap else point[None]
    scores = []
    for j, name in enumerate(names):
        b = boots[:, 3 * j: 3 * j + 3]
        scores.append(LabelScore(
            str(name), point[3 * j], point[3 * j + 1], point[3 * j + 2],
            _interval(b[:, 0]), _interval(b[:, 1]), _interval(b[:, 2]),
            int(T[:, j].sum()), int(P[:, j].sum()),
        ))
    none_boot = boots[:, -1][~np.isnan(boots[:, -1])]
    return Evaluation(
        labels=tuple(scores),
        macro_f1=float(point[-2]),
        macro_f1_ci=_interval(boots[:, -2]),
        none_kept=float(point[-1]),
        none_kept_ci=_interval(none_boot) if len(none_boot) else (float("nan"), float("nan")),
        n_documents=n,
        n_none=int(none_rows.sum()),
        n_bootstrap=n_bootstrap,
    )


@dataclass(frozen=True)
class EvidenceAgreement:
    """How often :meth:`~govtext.ThemeClassifier.explain` quotes first the sentence a coder quoted.

    Counted per label over texts that a coder marked with the label *and* gave evidence for:
    ``checked`` of them the model also predicted; of those, ``agreed`` had the quoted sentence
    first (same sentence, or an :func:`~govtext.classify.evidence_overlap` of at least 0.5).
    """

    per_label: dict[str, tuple[int, int]]  # label -> (agreed, checked)
    positives: int  # coded positives with evidence, predicted or not

    @property
    def agreed(self) -> int:
        return sum(a for a, _ in self.per_label.values())

    @property
    def checked(self) -> int:
        return sum(c for _, c in self.per_label.values())

    @property
    def share(self) -> float:
        return self.agreed / self.checked if self.checked else float("nan")

    def as_dict(self) -> dict[str, Any]:
        return {"share": round(self.share, 4) if self.checked else None, "agreed": self.agreed, "checked": self.checked,
                "coded_positives_with_evidence": self.positives,
                "per_label": {k: {"agreed": a, "checked": c} for k, (a, c) in self.per_label.items()}}

    def __str__(self) -> str:
        parts = ", ".join(f"{k} {a}/{c}" for k, (a, c) in self.per_label.items())
        return (f"first evidence sentence = coder's sentence: {self.share:.1%} ({self.agreed}/{self.checked} predicted "
                f"positives; {self.positives} coded positives with evidence) [{parts}]")


def evidence_agreement(model: Any, texts: Sequence[str], evidence: Sequence[Any]) -> EvidenceAgreement:
    """Compare ``model.explain()``'s first sentence with coders' quoted ``evidence`` (one
    ``{label: sentence}`` mapping, or None, per text)."""
    docs = check_text_list(texts, "texts")
    if len(evidence) != len(docs):
        raise InputError(f"evidence has {len(evidence)} entries but texts has {len(docs)}")
    labels = [str(c) for c in model.classes_]
    counts = {label: [0, 0] for label in labels}
    positives = 0
    for text, quoted in zip(docs, evidence):
        wanted = {k: v for k, v in (quoted or {}).items() if k in counts and v}
        if not wanted:
            continue
        positives += len(wanted)
        explanation = model.explain(text)
        for label, sentence in wanted.items():
            ev = explanation[label]
            if not ev.predicted:
                continue
            counts[label][1] += 1
            quotes = [sentence] if isinstance(sentence, str) else list(sentence)
            if ev.sentences and any(evidence_overlap(q, ev.sentences[0]) >= 0.5 for q in quotes):
                counts[label][0] += 1
    return EvidenceAgreement({k: (a, c) for k, (a, c) in counts.items()}, positives)


def sample_for_coding(
    model: Any,
    texts: Sequence[str],
    *,
    ids: Sequence[Any] | None = None,
    n: int = 200,
    path: str | os.PathLike[str] | None = None,
    snippet_chars: int = 300,
    random_state: int = 0,
) -> list[dict[str, Any]]:
    """Draw a stratified sample for human coders and (optionally) write it as an Excel-friendly CSV.

    Strata: documents predicted with each theme, documents predicted with none, and documents
    close to a threshold (the uncertain ones); the sample is spread evenly across them. Each row
    has the id, a text snippet, the model's probabilities and labels, and one empty column per
    theme (``code_<label>``) for the coder. The CSV is UTF-8 with a byte-order mark so that Excel
    shows Chinese correctly.
    """
    docs = check_text_list(texts, "texts")
    if ids is not None and len(ids) != len(docs):
        raise InputError(f"ids has {len(ids)} entries but texts has {len(docs)}")
    if n < 1:
        raise ParameterError(f"n must be positive, got {n}")
    ids = list(ids) if ids is not None else list(range(len(docs)))
    proba = np.asarray(model.predict_proba(docs))
    thresholds = np.asarray(model.thresholds_for(docs) if hasattr(model, "thresholds_for") else model.thresholds_)
    labels = [str(c) for c in model.classes_]
    pred = proba >= thresholds
    margin = np.abs(proba - thresholds).min(axis=1)
    strata: dict[str, np.ndarray] = {f"predicted {lab}": np.flatnonzero(pred[:, j]) for j, lab in enumerate(labels)}
    strata["predicted none"] = np.flatnonzero(~pred.any(axis=1))
    strata["uncertain"] = np.argsort(margin, kind="stable")[: max(1, len(docs) // 10)]
    rng = np.random.default_rng(random_state)
    chosen: dict[int, str] = {}
    pools = {name: list(rng.permutation(idx)) for name, idx in strata.items() if len(idx)}
    while len(chosen) < min(n, len(docs)) and any(pools.values()):
        for name, pool in pools.items():
            while pool and pool[-1] in chosen:
                pool.pop()
            if pool and len(chosen) < n:
                chosen[int(pool.pop())] = name
    rows = []
    for i in sorted(chosen):
        row: dict[str, Any] = {"id": ids[i], "stratum": chosen[i], "text": (docs[i] or "")[:snippet_chars]}
        for j, lab in enumerate(labels):
            row[f"p_{lab}"] = round(float(proba[i, j]), 4)
        row["predicted"] = ";".join(lab for j, lab in enumerate(labels) if pred[i, j])
        for lab in labels:
            row[f"code_{lab}"] = ""
        rows.append(row)
    if path is not None:
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["id"])
            writer.writeheader()
            writer.writerows(rows)
    return rows
