"""Multi-label theme classification with evidence.

:class:`ThemeClassifier` tags texts with any set of themes (by default govtext's three:
``party_building`` 党建引领, ``civility`` 文明创建, ``co_governance`` 共建共治共享). Each theme is
its own logistic regression over TF-IDF features of govtext's tokenizer (optionally with character
n-grams), with a decision threshold tuned for F1 on cross-validated predictions during ``fit``.
Because the model is linear, :meth:`ThemeClassifier.explain` can show exactly which terms pushed a
theme's score up, and in which sentences of the text they stand.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from .clean import _check_text_list, normalize
from .persist import read_manifest, write_manifest
from .tokenize import Tokenizer
from .vectorize import Vectorizer

__all__ = ["THEMES", "Explanation", "LabelEvidence", "TermWeight", "ThemeClassifier", "default_seed_terms"]

THEMES = ("party_building", "civility", "co_governance")
_SENTENCE_RE = re.compile(r"[^。!?！？;；\n]+[。!?！？;；]*")


def default_seed_terms() -> dict[str, dict[str, list[str]]]:
    """govtext's seed terms per theme: ``{theme: {"terms": [...], "exclude": [...]}}``."""
    raw = json.loads(resources.files("govtext").joinpath("data/seed_terms.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class TermWeight:
    """A term of the text and how much it added to a theme's score (TF-IDF value × coefficient)."""

    term: str
    weight: float


@dataclass(frozen=True)
class LabelEvidence:
    """One theme's verdict on a text and the evidence for it."""

    label: str
    probability: float
    threshold: float
    predicted: bool
    terms: tuple[TermWeight, ...]
    sentences: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    """Per-theme probability, decision, strongest terms and the sentences that carry them."""

    labels: tuple[LabelEvidence, ...]

    def __getitem__(self, label: str) -> LabelEvidence:
        for ev in self.labels:
            if ev.label == label:
                return ev
        raise KeyError(f"no label {label!r}; labels are {[e.label for e in self.labels]}")

    @property
    def predicted(self) -> list[str]:
        return [e.label for e in self.labels if e.predicted]

    def to_dict(self) -> dict[str, Any]:
        return {
            e.label: {
                "probability": round(e.probability, 4),
                "predicted": e.predicted,
                "terms": [[t.term, round(t.weight, 4)] for t in e.terms],
                "sentences": list(e.sentences),
            }
            for e in self.labels
        }

    def __str__(self) -> str:
        lines = []
        for e in self.labels:
            mark = "YES" if e.predicted else "no "
            lines.append(f"{mark} {e.label:<16} p={e.probability:.2f} (threshold {e.threshold:.2f})")
            if e.terms:
                lines.append("    terms: " + ", ".join(f"{t.term} +{t.weight:.2f}" for t in e.terms))
            for s in e.sentences:
                lines.append(f"    「{s}」")
        return "\n".join(lines)


# --------------------------------------------------------------------------- helpers


def _labels_matrix(Y: Any, labels: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Accept an (n, k) 0/1 array or a list of label lists; return (Y, label names)."""
    if isinstance(Y, (str, bytes)):
        raise TypeError("Y must be an (n, k) 0/1 array or a list of label lists, got a str")
    items = list(Y) if not isinstance(Y, np.ndarray) else Y
    if len(items) and all(isinstance(row, (list, tuple, set, frozenset)) and all(isinstance(x, str) for x in row)
                          for row in items) and any(len(row) for row in items):
        names = tuple(labels) if labels is not None else THEMES
        unknown = sorted({x for row in items for x in row} - set(names))
        if unknown:
            raise ValueError(f"unknown label name(s) {unknown}; expected labels are {list(names)} (set labels=...)")
        index = {name: j for j, name in enumerate(names)}
        mat = np.zeros((len(items), len(names)), dtype=np.int64)
        for i, row in enumerate(items):
            for x in row:
                mat[i, index[x]] = 1
        return mat, names
    arr = np.asarray(items)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(f"Y must be 2-dimensional (n_documents, n_labels), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
        raise ValueError("Y must hold only 0 and 1 (or be a list of label-name lists)")
    names = tuple(labels) if labels is not None else (THEMES if arr.shape[1] == len(THEMES) else None)  # type: ignore[assignment]
    if names is None:
        raise ValueError(f"Y has {arr.shape[1]} columns; pass labels=[...] naming them")
    if len(names) != arr.shape[1]:
        raise ValueError(f"Y has {arr.shape[1]} columns but {len(names)} labels were given: {list(names)}")
    return arr.astype(np.int64), names


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability cut-off that maximises F1 on (y, p); 0.5 when y has no positive."""
    if y.sum() == 0:
        return 0.5
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    tp = np.cumsum(ys)
    k = np.arange(1, len(ys) + 1)
    f1 = 2 * tp / (k + ys.sum())
    # only cut between distinct probabilities
    distinct = np.r_[ps[1:] < ps[:-1], True]
    best = int(np.argmax(np.where(distinct, f1, -1)))
    upper = ps[best]
    lower = ps[best + 1] if best + 1 < len(ps) else 0.0
    return float(min(max((upper + lower) / 2, 0.05), 0.95))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


class _CharVectorizer:
    """Character n-gram TF-IDF (a thin wrapper so that it can be saved without pickle)."""

    def __init__(self, ngram_range: tuple[int, int], min_df: int | float) -> None:
        self.sk = TfidfVectorizer(
            analyzer="char", ngram_range=tuple(ngram_range), min_df=min_df,
            sublinear_tf=True, lowercase=True, dtype=np.float32,
        )

    def fit_transform(self, texts: list[str]) -> sp.csr_matrix:
        return self.sk.fit_transform(texts)

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        return self.sk.transform(texts)

    def terms(self) -> list[str]:
        return [str(t) for t in self.sk.get_feature_names_out()]


# --------------------------------------------------------------------------- the estimator


class ThemeClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label theme classifier for Chinese governance news, with evidence.

    Parameters (keyword-only, stored unchanged; validated in ``fit``):

    labels
        Label names, in column order of ``Y``. Default: ``THEMES`` (party_building, civility,
        co_governance) when ``Y`` has three columns; any taxonomy works.
    tokenizer
        A :class:`~govtext.Tokenizer` (default ``Tokenizer()``).
    min_df
        Minimum document frequency of a word feature.
    char_ngrams
        ``None`` (default) or an n-gram range such as ``(2, 3)`` to add character n-gram features.
    C, class_weight
        Regularisation strength and class weighting of each theme's logistic regression.
    threshold
        ``"tune"`` (default): per-label threshold maximising F1 on ``cv``-fold out-of-fold
        predictions; or a float used for every label.
    cv
        Folds used to tune thresholds.
    max_chars
        Texts are normalised and cut to this many characters (the codebook's labels were decided
        on the first 1,500). ``None`` keeps whole texts.
    random_state
        Seed for the cross-validation split.

    Fitted attributes: ``classes_`` (label names), ``thresholds_``, ``coef_`` (k × n_features),
    ``intercept_``, ``vectorizer_``, ``n_features_``.
    """

    def __init__(
        self,
        *,
        labels: Sequence[str] | None = None,
        tokenizer: Tokenizer | None = None,
        min_df: int | float = 2,
        char_ngrams: tuple[int, int] | None = None,
        C: float = 10.0,
        class_weight: str | None = "balanced",
        threshold: str | float = "tune",
        cv: int = 5,
        max_chars: int | None = 1500,
        random_state: int | None = 0,
    ) -> None:
        self.labels = labels
        self.tokenizer = tokenizer
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.C = C
        self.class_weight = class_weight
        self.threshold = threshold
        self.cv = cv
        self.max_chars = max_chars
        self.random_state = random_state

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.classifier_tags.multi_label = True
        return tags

    # -- input preparation ------------------------------------------------------------------
    def _prepare(self, X: Any, normalized: bool = False) -> list[str]:
        docs = _check_text_list(X, "X")
        out = []
        for i, doc in enumerate(docs):
            if doc is None or (isinstance(doc, float) and np.isnan(doc)):
                out.append("")
                continue
            if not isinstance(doc, str):
                raise TypeError(f"X[{i}] is {type(doc).__name__}; every document must be a str")
            text = doc if normalized else normalize(doc)
            out.append(text[: self.max_chars] if self.max_chars else text)
        return out

    def _features(self, texts: list[str], fit: bool = False) -> sp.csr_matrix:
        """Features of prepared (normalised, cut) texts."""
        if fit:
            mats = [self.vectorizer_.fit_transform(texts)]
            if self.char_vectorizer_ is not None:
                mats.append(self.char_vectorizer_.fit_transform(texts))
        else:
            # _prepare has normalised the texts: the tokenizer need not do it again.
            mats = [self.vectorizer_._transform(texts, normalized=True)]
            if self.char_vectorizer_ is not None:
                mats.append(self.char_vectorizer_.transform(texts))
        return sp.hstack(mats, format="csr", dtype=np.float64) if len(mats) > 1 else mats[0].astype(np.float64)

    def _validate_params(self) -> None:  # type: ignore[override]
        if self.tokenizer is not None and not isinstance(self.tokenizer, Tokenizer):
            raise TypeError(f"tokenizer must be a govtext.Tokenizer, got {type(self.tokenizer).__name__}")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise ValueError(f"C must be a positive number, got {self.C!r}")
        if self.threshold != "tune" and not (isinstance(self.threshold, (int, float)) and 0 < self.threshold < 1):
            raise ValueError(f"threshold must be 'tune' or a number in (0, 1), got {self.threshold!r}")
        if not (isinstance(self.cv, int) and self.cv >= 2):
            raise ValueError(f"cv must be an int >= 2, got {self.cv!r}")
        if self.char_ngrams is not None:
            lo, hi = self.char_ngrams
            if not (1 <= lo <= hi):
                raise ValueError(f"char_ngrams must be (min_n, max_n) with 1 <= min_n <= max_n, got {self.char_ngrams!r}")

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X: Iterable[str], Y: Any, sample_weight: Any = None) -> ThemeClassifier:
        """Fit on texts ``X`` and labels ``Y`` ((n, k) 0/1 array, or a list of label-name lists)."""
        self._validate_params()
        texts = self._prepare(X)
        Ymat, names = _labels_matrix(Y, self.labels)
        if len(texts) != len(Ymat):
            raise ValueError(f"X has {len(texts)} documents but Y has {len(Ymat)} rows")
        mask = np.ones_like(Ymat, dtype=bool)
        return self._fit(texts, Ymat, mask, names, sample_weight)

    def _fit(self, texts: list[str], Y: np.ndarray, mask: np.ndarray, names: Sequence[str],
             sample_weight: Any = None) -> ThemeClassifier:
        """Fit with a mask saying which (document, label) entries are known (for weak labels)."""
        for j, name in enumerate(names):
            known = Y[mask[:, j], j]
            if len(np.unique(known)) < 2:
                what = "no labelled documents" if len(known) == 0 else f"only one class (all {int(known[0])})"
                raise ValueError(f"label {name!r} has {what}; each label needs positive and negative examples")
        self.classes_ = np.array(names, dtype=object)
        self.vectorizer_ = Vectorizer(
            tokenizer=self.tokenizer if self.tokenizer is not None else Tokenizer(),
            min_df=self.min_df, sublinear_tf=True,
        )
        self.char_vectorizer_ = (
            _CharVectorizer(self.char_ngrams, self.min_df) if self.char_ngrams is not None else None
        )
        try:
            Xm = self._features(texts, fit=True)
        except ValueError as exc:
            raise ValueError(f"cannot build features: {exc}") from None
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        k, d = len(names), Xm.shape[1]
        self.coef_ = np.zeros((k, d))
        self.intercept_ = np.zeros(k)
        thresholds = np.full(k, 0.5 if self.threshold == "tune" else float(self.threshold))
        for j in range(k):
            rows = np.flatnonzero(mask[:, j])
            Xj, yj = Xm[rows], Y[rows, j]
            wj = None if weights is None else weights[rows]
            model = self._new_lr().fit(Xj, yj, sample_weight=wj)
            self.coef_[j] = model.coef_[0]
            self.intercept_[j] = model.intercept_[0]
            if self.threshold == "tune":
                thresholds[j] = _best_threshold(yj, self._oof_proba(Xj, yj, wj))
        self.thresholds_ = thresholds
        self.n_features_ = d
        return self

    def _new_lr(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear", max_iter=5000)

    def _oof_proba(self, X: sp.csr_matrix, y: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        n_splits = int(min(self.cv, np.bincount(y).min()))
        if n_splits < 2:
            return np.full(len(y), 0.5)
        out = np.zeros(len(y))
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(np.zeros(len(y)), y):
            m = self._new_lr().fit(X[train], y[train], sample_weight=None if w is None else w[train])
            out[test] = m.predict_proba(X[test])[:, 1]
        return out

    # -- prediction -------------------------------------------------------------------------
    def decision_function(self, X: Iterable[str]) -> np.ndarray:
        check_is_fitted(self, "coef_")
        Xm = self._features(self._prepare(X))
        return np.asarray(Xm @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Iterable[str]) -> np.ndarray:
        """(n, k) probabilities, one column per label in ``classes_``."""
        return _sigmoid(self.decision_function(X))

    def _predict_proba_normalized(self, texts: list[str]) -> np.ndarray:
        """``predict_proba`` for texts that are already ``normalize()``-d (e.g. ``Article.text``)."""
        check_is_fitted(self, "coef_")
        Xm = self._features(self._prepare(texts, normalized=True))
        return _sigmoid(np.asarray(Xm @ self.coef_.T) + self.intercept_)

    def predict(self, X: Iterable[str]) -> np.ndarray:
        """(n, k) 0/1 decisions using the per-label ``thresholds_``."""
        return (self.predict_proba(X) >= self.thresholds_).astype(np.int64)

    def predict_labels(self, X: Iterable[str]) -> list[list[str]]:
        """Predicted label names per text (an empty list means no theme)."""
        return [[str(self.classes_[j]) for j in np.flatnonzero(row)] for row in self.predict(X)]

    # -- evidence ---------------------------------------------------------------------------
    def _feature_names(self) -> np.ndarray:
        names = list(self.vectorizer_.get_feature_names_out())
        if self.char_vectorizer_ is not None:
            names += self.char_vectorizer_.terms()
        return np.array(names, dtype=object)

    def explain(self, text: str, top: int = 5, max_sentences: int = 3) -> Explanation:
        """Per label: probability, decision, the ``top`` terms that raised the score most, and the
        sentences of ``text`` in which those terms stand (strongest first)."""
        check_is_fitted(self, "coef_")
        if not isinstance(text, str):
            raise TypeError(f"explain() expects one text as a str, got {type(text).__name__}")
        prepared = self._prepare([text])
        row = self._features(prepared).tocsr()
        names = self._feature_names()
        probs = _sigmoid(np.asarray(row @ self.coef_.T).ravel() + self.intercept_)
        sentences = [s.strip() for s in _SENTENCE_RE.findall(prepared[0]) if s.strip()]
        tokenized = [set(self.vectorizer_.tokenizer_(s)) for s in sentences]
        evidence = []
        for j, label in enumerate(self.classes_):
            contrib = row.data * self.coef_[j, row.indices]
            order = np.argsort(-contrib, kind="stable")
            terms = tuple(
                TermWeight(str(names[row.indices[i]]), float(contrib[i])) for i in order[:top] if contrib[i] > 0
            )
            weight = {t.term: t.weight for t in terms}
            scored = []
            for idx, (sent, toks) in enumerate(zip(sentences, tokenized)):
                score = sum(w for term, w in weight.items() if term in toks or (len(term) > 1 and term in sent))
                if score > 0:
                    scored.append((-score, idx, sent))
            best = tuple(s for _, _, s in sorted(scored)[:max_sentences])
            evidence.append(LabelEvidence(str(label), float(probs[j]), float(self.thresholds_[j]),
                                          bool(probs[j] >= self.thresholds_[j]), terms, best))
        return Explanation(tuple(evidence))

    # -- weak supervision -------------------------------------------------------------------
    @classmethod
    def from_seed_terms(
        cls,
        texts: Iterable[str],
        seed_terms: Mapping[str, Any] | None = None,
        *,
        min_hits: int = 2,
        self_training_rounds: int = 2,
        confidence: float = 0.9,
        **params: Any,
    ) -> ThemeClassifier:
        """Bootstrap a classifier from seed terms on your own unlabelled texts.

        1. Weak labels: a text is a positive for a theme when its seed terms occur at least
           ``min_hits`` times (title hits count twice, ``exclude`` phrases are removed first), a
           negative when none occurs, and unlabelled for that theme otherwise.
        2. A classifier is trained on those weak labels.
        3. Self-training: for ``self_training_rounds`` rounds, texts the classifier scores above
           ``confidence`` (or below ``1 - confidence``) join the training labels, and it is refitted.

        ``seed_terms`` maps each label to a list of terms, or to ``{"terms": [...], "exclude": [...]}``;
        default: :func:`default_seed_terms`.
        """
        docs = _check_text_list(texts, "texts")
        seeds = seed_terms if seed_terms is not None else default_seed_terms()
        if not seeds:
            raise ValueError("seed_terms is empty; give at least one label with terms")
        names = tuple(seeds)
        model = cls(labels=names, **params)
        model._validate_params()
        prepared = model._prepare(docs)
        hits = np.zeros((len(prepared), len(names)))
        for j, name in enumerate(names):
            spec = seeds[name]
            terms = [normalize(t) for t in (spec["terms"] if isinstance(spec, Mapping) else spec)]
            exclude = [normalize(t) for t in (spec.get("exclude", []) if isinstance(spec, Mapping) else [])]
            if not terms:
                raise ValueError(f"label {name!r} has no seed terms")
            for i, text in enumerate(prepared):
                for phrase in exclude:
                    text = text.replace(phrase, "")
                title, _, body = text.partition("\n")
                hits[i, j] = sum(2 * title.count(t) + body.count(t) for t in terms)
        Y = (hits >= min_hits).astype(np.int64)
        mask = (hits >= min_hits) | (hits == 0)
        for j, name in enumerate(names):
            if not Y[:, j].any():
                raise ValueError(
                    f"no text has {min_hits}+ hits of the seed terms for {name!r}; add terms that occur in "
                    f"your corpus (check them with govtext.coverage) or lower min_hits"
                )
            if Y[mask[:, j], j].all():
                raise ValueError(f"every text mentions the seed terms for {name!r}: no negative examples")
        model._fit(prepared, Y, mask, names)
        for _ in range(self_training_rounds):
            Xm = model._features(prepared)
            proba = _sigmoid(np.asarray(Xm @ model.coef_.T) + model.intercept_)
            confident = (proba >= confidence) | (proba <= 1 - confidence)
            new_mask = mask | confident
            new_Y = np.where(mask, Y, (proba >= confidence).astype(np.int64))
            if (new_mask == mask).all() and (new_Y == Y).all():
                break
            Y, mask = new_Y, new_mask
            model._fit(prepared, Y, mask, names)
        model.seed_label_counts_ = {name: int(Y[mask[:, j], j].sum()) for j, name in enumerate(names)}
        return model

    # -- persistence ------------------------------------------------------------------------
    def _params_json(self) -> dict[str, Any]:
        return {
            "labels": [str(c) for c in self.classes_],
            "min_df": self.min_df,
            "char_ngrams": list(self.char_ngrams) if self.char_ngrams else None,
            "C": self.C,
            "class_weight": self.class_weight,
            "threshold": self.threshold,
            "cv": self.cv,
            "max_chars": self.max_chars,
            "random_state": self.random_state,
        }

    def save(self, path: str | os.PathLike[str], *, card: Mapping[str, Any] | None = None) -> Path:
        """Write the fitted classifier to folder ``path``: JSON and ``.npy``/``.npz`` arrays, no pickle.

        ``card`` (optional) is stored in the manifest, e.g. training data and metrics.
        """
        check_is_fitted(self, "coef_")
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        self.vectorizer_._save_arrays(folder, prefix="word_")
        payload: dict[str, Any] = {
            "params": self._params_json(),
            "tokenizer": self.vectorizer_.tokenizer_.to_config(),
            "word_vectorizer": self.vectorizer_._config(),
            "thresholds": [float(t) for t in self.thresholds_],
        }
        if self.char_vectorizer_ is not None:
            terms = self.char_vectorizer_.terms()
            (folder / "char_vocabulary.json").write_text(json.dumps(terms, ensure_ascii=False), encoding="utf-8")
            np.save(folder / "char_idf.npy", self.char_vectorizer_.sk.idf_.astype(np.float64), allow_pickle=False)
        np.savez_compressed(folder / "linear.npz", coef=self.coef_.astype(np.float32), intercept=self.intercept_)
        if card:
            payload["card"] = dict(card)
        return write_manifest(folder, "ThemeClassifier", payload, engine=self.vectorizer_.tokenizer_.engine)

    @classmethod
    def _from_saved(cls, folder: Path, manifest: dict[str, Any]) -> ThemeClassifier:
        p = dict(manifest["params"])
        labels = p.pop("labels")
        char = p.pop("char_ngrams")
        tokenizer = Tokenizer.from_config(manifest["tokenizer"])
        model = cls(labels=labels, tokenizer=tokenizer, char_ngrams=tuple(char) if char else None, **p)
        model.classes_ = np.array(labels, dtype=object)
        model.vectorizer_ = Vectorizer._restore(folder, manifest["word_vectorizer"], manifest["tokenizer"], prefix="word_")
        model.char_vectorizer_ = None
        if char:
            cv = _CharVectorizer(tuple(char), model.min_df)
            terms = json.loads((folder / "char_vocabulary.json").read_text(encoding="utf-8"))
            cv.sk.vocabulary = {t: i for i, t in enumerate(terms)}
            cv.sk.idf_ = np.load(folder / "char_idf.npy", allow_pickle=False)
            model.char_vectorizer_ = cv
        with np.load(folder / "linear.npz", allow_pickle=False) as arrays:
            model.coef_ = arrays["coef"].astype(np.float64)
            model.intercept_ = arrays["intercept"].astype(np.float64)
        model.thresholds_ = np.array(manifest["thresholds"], dtype=float)
        model.n_features_ = model.coef_.shape[1]
        if model.coef_.shape != (len(labels), model.n_features_) or len(model.thresholds_) != len(labels):
            raise ValueError(f"{folder}: arrays do not match the {len(labels)} labels in govtext.json")
        model.card_ = manifest.get("card", {})
        return model

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ThemeClassifier:
        return cls._from_saved(Path(path), read_manifest(path, "ThemeClassifier"))
