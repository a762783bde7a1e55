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
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from ._linear import (
    MAX_CHAR_N,
    Explanation,
    LabelEvidence,
    TermWeight,
    Features,
    Segments,
    load_fitted,
    save_out_of_fold,
    save_tokenizer_lists,
    saved_tokenizer,
    max_per_doc,
    pack_ngrams,
    saved_settings,
    sigmoid,
    ThemeArithmetic,
    unpack_terms,
    evidence_overlap,
)
from .._common import check_tokenizer, check_bool, check_df, check_int, check_number, check_text_list
from .._fitted import check_fitted
from ..errors import InputError, ParameterError
from ..features.vectorize import write_vocabulary
from ..features.weighting import idf_from_df
from ..text.clean import normalize
from ..persist import IncompatibleModelError, read_manifest, reading, write_manifest
from ..text.tokenize import Tokenizer
from ._short import ShortVocabulary, short_terms
from .genre import GENRES, HEADLINE, check_genre, infer_genre

__all__ = [
    "THEMES", "Explanation", "LabelEvidence", "TermWeight", "ThemeClassifier", "default_seed_terms",
    "evidence_overlap",
]

THEMES = ("party_building", "civility", "co_governance")



def default_seed_terms() -> dict[str, dict[str, list[str]]]:
    """govtext's seed terms per theme: ``{theme: {"terms": [...], "exclude": [...]}}``."""
    raw = json.loads(resources.files("govtext").joinpath("data/seed_terms.json").read_text(encoding="utf-8"))
    return {k: v for k, v in raw.items() if not k.startswith("_")}


# --------------------------------------------------------------------------- helpers


def labels_matrix(Y: Any, labels: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Accept an (n, k) 0/1 array or a list of label lists; return (Y, label names)."""
    if isinstance(Y, (str, bytes)):
        raise ParameterError("Y must be an (n, k) 0/1 array or a list of label lists, got a str")
    items = list(Y) if not isinstance(Y, np.ndarray) else Y
    if len(items) and all(isinstance(row, (list, tuple, set, frozenset)) and all(isinstance(x, str) for x in row)
                          for row in items) and any(len(row) for row in items):
        names = tuple(labels) if labels is not None else THEMES
        unknown = sorted({x for row in items for x in row} - set(names))
        if unknown:
            raise InputError(f"unknown label name(s) {unknown}; expected labels are {list(names)} (set labels=...)")
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
        raise InputError(f"Y must be 2-dimensional (n_documents, n_labels), got shape {arr.shape}")
    if arr.dtype.kind not in "biuf" or not np.isin(arr, (0, 1)).all():
        raise InputError("Y must hold only 0 and 1 (or be a list of label-name lists)")
    names = tuple(labels) if labels is not None else (THEMES if arr.shape[1] == len(THEMES) else None)  # type: ignore[assignment]
    if names is None:
        raise InputError(f"Y has {arr.shape[1]} columns; pass labels=[...] naming them")
    if len(names) != arr.shape[1]:
        raise InputError(f"Y has {arr.shape[1]} columns but {len(names)} labels were given: {list(names)}")
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


def check_groups(groups: Any, n: int) -> np.ndarray:
    """One group label per text, as integer codes (equal labels, equal codes)."""
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__len__"):
        raise InputError(f"groups must give one group per text ({n}), got {type(groups).__name__}")
    values = list(groups)
    if len(values) != n:
        raise InputError(f"groups must give one group per text ({n}), got {len(values)}")
    try:
        index: dict[Any, int] = {}
        return np.array([index.setdefault(g, len(index)) for g in values], dtype=np.int64)
    except TypeError as err:
        raise InputError(f"groups must be hashable labels (site names, ids), got {err}") from None


def cv_folds(y: np.ndarray, groups: np.ndarray | None, n_splits: int,
             random_state: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of the out-of-fold scores: stratified on ``y``, shuffled with
    ``random_state``, and keeping each group whole when ``groups`` is given."""
    if groups is None:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
        return list(splitter.split(np.zeros(len(y)), y))
    n_splits = min(n_splits, len(np.unique(groups)))
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def _min_count(min_df: int | float, n_docs: int) -> int:
    return min_df if isinstance(min_df, int) else int(np.ceil(min_df * n_docs))


def _vocabulary(doc_terms: list[set[str]], min_df: int | float, n_docs: int) -> tuple[list[str], np.ndarray]:
    """Terms (sorted) in at least ``min_df`` documents (a float: that share of them) and their idf."""
    df: Counter[str] = Counter()
    for terms in doc_terms:
        df.update(terms)
    cut = _min_count(min_df, n_docs)
    terms = sorted(t for t, c in df.items() if c >= cut)
    return terms, idf_from_df([df[t] for t in terms], n_docs)


class ThemeClassifier(ClassifierMixin, ThemeArithmetic, BaseEstimator):
    """Multi-label theme classifier for Chinese governance news, with evidence.

    Each theme is decided from two linear models over the same TF-IDF features (govtext's word
    tokens plus character n-grams): a *document* model, and a *sentence* model trained on the
    sentences that coders quoted as evidence (a theme is present when one sentence carries it).
    A small logistic regression, fitted on cross-validated scores, combines the document score with
    the best sentence score, and a per-theme threshold is tuned for F1 on those scores.

    Parameters (keyword-only, stored unchanged; validated in ``fit``):

    labels
        Label names, in column order of ``Y``. Default: ``THEMES`` (party_building, civility,
        co_governance) when ``Y`` has three columns; any taxonomy works.
    tokenizer
        A :class:`~govtext.Tokenizer` (default ``Tokenizer()``).
    min_df
        Minimum document frequency of a feature (an int, or a float share of the documents).
    char_ngrams
        Character n-gram range added to the word features, default ``(2, 2)`` (bigrams); ``None`` for words only.
    sentence_model
        Train the sentence-level model where there are evidence sentences (default True). Without
        ``evidence=`` in ``fit``, only one-sentence texts (headlines) give it positive examples.
    C, class_weight
        Regularisation strength and class weighting of each logistic regression.
    threshold
        ``"tune"`` (default): per-label threshold maximising F1 on ``cv``-fold out-of-fold
        scores; or a float used for every label.
    genre_aware
        Calibrate and threshold per genre (default True): the combiner gets a log-odds shift per
        genre (national broadcast, local news, headline; see :func:`govtext.infer_genre`) and the
        F1-best threshold is tuned within each genre. ``fit(genre=...)`` gives the genres when
        known; otherwise they are read from the texts' form, as at prediction.
    genre_pooling
        How far each genre's threshold is pulled towards the one tuned over all genres: 0 (default)
        keeps the genre's own F1-best threshold, 1 uses the overall one, 0.5 takes their midpoint.
        A genre's own optimum rests on few positives (43 co_governance headlines in govtext's
        training data); the model card reports what 0.5 changed (more no-theme headlines kept
        clean, no macro-F1 gain on dev).
    headline_model
        Decide headlines (genre 2) with a separate *short-text model* (default False: v3's recipe,
        the same models for every genre): per label a logistic regression (``C``, ``class_weight``;
        every text counts once, all genres) on TF-IDF of the segmenter's raw words plus character
        1-3-grams, the features of the strong scikit-learn baseline in ``benchmarks/quality.py``.
        Its headline threshold is tuned on its own out-of-fold scores like the others (within the
        headline genre, pulled towards the overall one by ``genre_pooling``). Other genres are
        unchanged. The model card reports what it measured.
    cv
        Folds for the out-of-fold scores.
    max_chars
        Texts are normalised and cut to this many characters (the codebook's labels were decided
        on the first 1,500). ``None`` keeps whole texts.
    random_state
        Seed for the cross-validation split and the solver.

    Fitted attributes: ``classes_``, ``tokenizer_``, ``feature_names_``, ``idf_``, ``coef_`` and
    ``intercept_`` (document model), ``sentence_coef_`` and ``sentence_intercept_`` (sentence model;
    zero where a label has none), ``stack_`` (k × 3: weights of the document score and the best
    sentence score, and a bias), ``genre_shift_`` (k × 3 log-odds shifts per genre),
    ``thresholds_`` (one per label over all genres), ``genre_thresholds_`` (3 × k, the ones
    :meth:`predict` uses), ``n_features_``, and ``oof_`` (see :meth:`out_of_fold`).
    """

    def __init__(
        self,
        *,
        labels: Sequence[str] | None = None,
        tokenizer: Tokenizer | None = None,
        min_df: int | float = 2,
        char_ngrams: tuple[int, int] | None = (2, 2),
        sentence_model: bool = True,
        C: float = 10.0,
        class_weight: str | None = "balanced",
        threshold: str | float = "tune",
        genre_aware: bool = True,
        genre_pooling: float = 0.0,
        headline_model: bool = False,
        cv: int = 5,
        max_chars: int | None = 1500,
        random_state: int | None = 0,
    ) -> None:
        self.labels = labels
        self.tokenizer = tokenizer
        self.min_df = min_df
        self.char_ngrams = char_ngrams
        self.sentence_model = sentence_model
        self.C = C
        self.class_weight = class_weight
        self.threshold = threshold
        self.genre_aware = genre_aware
        self.genre_pooling = genre_pooling
        self.headline_model = headline_model
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

    def _validate_params(self) -> None:  # type: ignore[override]
        owner = "ThemeClassifier"
        if self.labels is not None and (isinstance(self.labels, str) or not all(isinstance(x, str) for x in self.labels)
                                        or len(set(self.labels)) != len(list(self.labels)) or not list(self.labels)):
            raise ParameterError(f"{owner}: labels must be a list of distinct label names or None, got {self.labels!r}")
        check_tokenizer(owner, self.tokenizer)
        check_df(owner, "min_df", self.min_df)
        if self.char_ngrams is not None:
            try:
                lo, hi = self.char_ngrams
                ok = isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= MAX_CHAR_N
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ParameterError(f"{owner}: char_ngrams must be None or (min_n, max_n) with "
                                     f"1 <= min_n <= max_n <= {MAX_CHAR_N}, got {self.char_ngrams!r}")
        check_bool(owner, "sentence_model", self.sentence_model)
        check_number(owner, "C", self.C, low=0.0, low_open=True)
        if not (self.class_weight is None or self.class_weight == "balanced" or isinstance(self.class_weight, Mapping)):
            raise ParameterError(f"{owner}: class_weight must be 'balanced', None or a dict {{class: weight}}, "
                                 f"got {self.class_weight!r}")
        if self.threshold != "tune":
            check_number(owner, "threshold (when not 'tune')", self.threshold, low=0.0, low_open=True, high=1.0)
            if self.threshold >= 1:
                raise ParameterError(f"{owner}: threshold must be 'tune' or a number in (0, 1), got {self.threshold!r}")
        check_bool(owner, "genre_aware", self.genre_aware)
        check_number(owner, "genre_pooling", self.genre_pooling, low=0.0, high=1.0)
        check_bool(owner, "headline_model", self.headline_model)
        check_int(owner, "cv", self.cv, low=2)
        check_int(owner, "max_chars", self.max_chars, low=1, none=True)
        check_int(owner, "random_state", self.random_state, low=0, none=True)

    # -- fitting ----------------------------------------------------------------------------
    def fit(self, X: Iterable[str], Y: Any, sample_weight: Any = None, *,
            evidence: Sequence[Mapping[str, Any] | None] | None = None, genre: Any = None,
            groups: Any = None) -> ThemeClassifier:
        """Fit on texts ``X`` and labels ``Y`` ((n, k) 0/1 array, or a list of label-name lists).

        ``evidence`` (optional, one entry per text): ``{label: quoted sentence or list of them}``
        for the labels a coder marked, as in govtext's labelled data; it trains the sentence model.
        ``genre`` (optional): each text's genre (codes or names of :data:`govtext.genre.GENRES`), when
        known; by default read from the texts' form with :func:`govtext.infer_genre`.
        ``groups`` (optional, one hashable per text, e.g. the site a text came from): the ``cv``
        folds of the out-of-fold scores (combiner, thresholds and :meth:`out_of_fold`) keep each
        group whole (``StratifiedGroupKFold``), so texts from one source never score each other.
        Without it the folds are stratified random folds, as before.
        """
        self._validate_params()
        texts = self._prepare(X)
        genres = infer_genre(texts) if genre is None else check_genre(genre, len(texts))
        Ymat, names = labels_matrix(Y, self.labels)
        if len(texts) != len(Ymat):
            raise InputError(f"X has {len(texts)} documents but Y has {len(Ymat)} rows")
        codes = None
        if groups is not None:
            codes = check_groups(groups, len(texts))
            if len(np.unique(codes)) < self.cv:
                raise InputError(f"groups must name at least cv={self.cv} distinct groups, got {len(np.unique(codes))}")
        if evidence is not None:
            evidence = list(evidence)
            if len(evidence) != len(texts):
                raise InputError(f"evidence has {len(evidence)} entries but X has {len(texts)} documents")
        mask = np.ones_like(Ymat, dtype=bool)
        return self._fit(texts, Ymat, mask, names, sample_weight, evidence, genres, groups=codes)

    def _fit_vocabulary(self, texts: list[str]) -> Segments:
        """Fit the vocabularies; return the segmentation of ``texts`` for the features."""
        self.tokenizer_ = self.tokenizer if self.tokenizer is not None else Tokenizer()
        sentences, per_doc, words = self._sentence_words(texts)
        bounds = np.r_[0, np.cumsum(per_doc)]
        word_terms, word_idf = _vocabulary([set().union(*words[a:b]) for a, b in zip(bounds[:-1], bounds[1:])],
                                           self.min_df, len(texts))
        if not word_terms:
            raise InputError("no term occurs in min_df documents (all documents empty or only stopwords?)")
        char_terms: list[str] = []
        char_idf = [np.zeros(0)]
        if self.char_ngrams:
            doc_of = np.repeat(np.arange(len(texts)), per_doc)
            lo, hi = self.char_ngrams
            for n in range(lo, hi + 1):
                owner, code = pack_ngrams(sentences, n)
                docs = doc_of[owner]
                order = np.lexsort((code, docs))
                docs, code = docs[order], code[order]
                first = np.r_[True, (docs[1:] != docs[:-1]) | (code[1:] != code[:-1])]  # once per document
                codes, df = np.unique(code[first], return_counts=True)
                keep = df >= _min_count(self.min_df, len(texts))
                char_terms += unpack_terms(codes[keep], n)
                char_idf.append(idf_from_df(df[keep], len(texts)))
        self._set_vocabulary(word_terms, word_idf, char_terms, np.concatenate(char_idf))
        return self._words_to_segments(sentences, per_doc, words)

    def _sentence_targets(self, feats: Features, texts_known: np.ndarray, Y: np.ndarray, names: Sequence[str],
                          evidence: Sequence[Mapping[str, Any] | None] | None) -> np.ndarray:
        """(n_sentences, k): 1 a sentence that carries the label, 0 one of a text without it, -1 unknown."""
        out = np.full((len(feats.sentences), len(names)), -1, dtype=np.int64)
        owner = np.repeat(np.arange(len(feats.per_doc)), feats.per_doc)
        for s, (i, sentence) in enumerate(zip(owner, feats.sentences)):
            for j, name in enumerate(names):
                if not texts_known[i, j]:
                    continue
                if Y[i, j] == 0:
                    out[s, j] = 0
                elif feats.per_doc[i] == 1:
                    out[s, j] = 1  # a one-sentence text (a headline) is its own evidence
                elif evidence is not None and evidence[i] and evidence[i].get(name):
                    quoted = evidence[i][name]
                    quotes = [quoted] if isinstance(quoted, str) else list(quoted)
                    if any(evidence_overlap(q, sentence) >= 0.5 for q in quotes):
                        out[s, j] = 1
        return out

    def _fit(self, texts: list[str], Y: np.ndarray, mask: np.ndarray, names: Sequence[str],
             sample_weight: Any = None, evidence: Sequence[Mapping[str, Any] | None] | None = None,
             genres: np.ndarray | None = None, *, groups: np.ndarray | None = None) -> ThemeClassifier:
        """Fit with a mask saying which (document, label) entries are known (for weak labels);
        ``groups`` (codes from :func:`check_groups`) keep each group whole in the out-of-fold folds."""
        for j, name in enumerate(names):
            known = Y[mask[:, j], j]
            if len(np.unique(known)) < 2:
                what = "no labelled documents" if len(known) == 0 else f"only one class (all {int(known[0])})"
                raise InputError(f"label {name!r} has {what}; each label needs positive and negative examples")
        self.classes_ = np.array(names, dtype=object)
        feats = self._features(texts, self._fit_vocabulary(texts))
        weights = np.ones(len(texts)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weights.shape != (len(texts),):
            raise InputError(f"sample_weight must hold one number per document ({len(texts)}), got shape {weights.shape}")
        targets = self._sentence_targets(feats, mask, Y, names, evidence) if self.sentence_model else None
        owner = np.repeat(np.arange(len(texts)), feats.per_doc)
        if genres is None:
            genres = infer_genre(texts)
        k, d = len(names), self.n_features_
        self.coef_, self.intercept_ = np.zeros((k, d)), np.zeros(k)
        self.sentence_coef_, self.sentence_intercept_ = np.zeros((k, d)), np.zeros(k)
        self.stack_ = np.tile([1.0, 0.0, 0.0], (k, 1))
        self.genre_shift_ = np.zeros((k, len(GENRES)))
        fixed = None if self.threshold == "tune" else float(self.threshold)
        thresholds = np.full(k, 0.5 if fixed is None else fixed)
        by_genre = np.tile(thresholds, (len(GENRES), 1))
        oof_proba = np.full((len(texts), k), np.nan, dtype=np.float32)
        oof_pred = np.zeros((len(texts), k), dtype=np.int8)
        for j in range(k):
            rows = np.flatnonzero(mask[:, j])
            yj, wj, gj = Y[rows, j], weights[rows], genres[rows]
            sl = targets[:, j] if targets is not None else None
            use_sentences = sl is not None and (sl == 1).sum() >= 10 and (sl == 0).sum() >= 10
            doc_model = self._new_lr().fit(feats.doc[rows], yj, sample_weight=wj)
            self.coef_[j], self.intercept_[j] = doc_model.coef_[0], doc_model.intercept_[0]
            if use_sentences:
                sent_model = self._fit_sentences(feats, sl, owner, weights, np.isin(owner, rows))
                self.sentence_coef_[j], self.sentence_intercept_[j] = sent_model.coef_[0], sent_model.intercept_[0]
            scores, fold = self._oof_scores(feats, rows, yj, wj, sl if use_sentences else None, owner, weights,
                                            None if groups is None else groups[rows])
            if fold.max() < 0:
                continue  # too few examples for cross-validation: document model as is, fixed thresholds
            stack, shift = self._fit_stack(scores, yj, wj, gj, use_sentences)
            self.stack_[j], self.genre_shift_[j] = stack, shift
            if fixed is None:
                thresholds[j], by_genre[:, j] = self._tune_thresholds(yj, self._stacked(scores, gj, stack, shift), gj)
            else:
                thresholds[j], by_genre[:, j] = fixed, fixed
            # Out-of-fold record: the combiner and thresholds are refitted without each fold too.
            for f in range(fold.max() + 1):
                test, train = fold == f, fold != f
                st, sh = self._fit_stack(scores[train], yj[train], wj[train], gj[train], use_sentences)
                p_train = self._stacked(scores[train], gj[train], st, sh)
                _, cut = (None, np.full(len(GENRES), fixed)) if fixed is not None else \
                    self._tune_thresholds(yj[train], p_train, gj[train])
                p_test = self._stacked(scores[test], gj[test], st, sh)
                oof_proba[rows[test], j] = p_test
                oof_pred[rows[test], j] = p_test >= cut[gj[test]]
        self.short_vocabulary_, self.short_coef_, self.short_intercept_ = None, None, None
        if self.headline_model:
            self._fit_headline_model(texts, Y, mask, genres, by_genre, oof_proba, oof_pred, groups)
        self.thresholds_ = thresholds
        self.genre_thresholds_ = by_genre
        self.oof_ = {"proba": oof_proba, "labels": np.where(mask, Y, -1).astype(np.int8),
                     "genre": genres.astype(np.int8), "predicted": oof_pred}
        return self

    def _fit_headline_model(self, texts: list[str], Y: np.ndarray, mask: np.ndarray, genres: np.ndarray,
                            by_genre: np.ndarray, oof_proba: np.ndarray, oof_pred: np.ndarray,
                            groups: np.ndarray | None) -> None:
        """The short-text model for headlines (``headline_model``): its regressions, its headline
        thresholds (in ``by_genre``) and the headline rows of the out-of-fold record."""
        terms = [short_terms(t, self.tokenizer_) for t in texts]
        vocab = ShortVocabulary.fit(terms, _min_count(self.min_df, len(texts)))
        X = vocab.transform(terms)
        k = Y.shape[1]
        self.short_vocabulary_ = vocab
        self.short_coef_, self.short_intercept_ = np.zeros((k, vocab.n_features)), np.zeros(k)
        for j in range(k):
            rows = np.flatnonzero(mask[:, j])
            y, g = Y[rows, j], genres[rows]
            model = self._new_lr().fit(X[rows], y)
            self.short_coef_[j], self.short_intercept_[j] = model.coef_[0], model.intercept_[0]
            n_splits = int(min(self.cv, np.bincount(y).min()))
            if self.threshold != "tune" or n_splits < 2:
                continue  # a fixed threshold, or too few examples to tune one: by_genre stays
            scores, fold = np.zeros(len(rows)), np.full(len(rows), -1)
            for f, (train, test) in enumerate(cv_folds(y, None if groups is None else groups[rows], n_splits,
                                                       self.random_state)):
                fold[test] = f
                scores[test] = self._new_lr().fit(X[rows[train]], y[train]).decision_function(X[rows[test]])
            p = sigmoid(scores)
            by_genre[HEADLINE, j] = self._tune_thresholds(y, p, g)[1][HEADLINE]
            for f in range(fold.max() + 1):  # the out-of-fold record's headline rows, cross-fitted as the others
                test, train = fold == f, fold != f
                cut = self._tune_thresholds(y[train], p[train], g[train])[1][HEADLINE]
                here = test & (g == HEADLINE)
                oof_proba[rows[here], j] = p[here]
                oof_pred[rows[here], j] = p[here] >= cut

    def _fit_stack(self, scores: np.ndarray, y: np.ndarray, w: np.ndarray, genres: np.ndarray,
                   use_sentences: bool) -> tuple[np.ndarray, np.ndarray]:
        """Combiner of the document score and the best sentence score (or of the document score
        alone), with a shift of the log-odds per genre when ``genre_aware``: ([w_doc, w_sent, bias],
        shift per genre). Genres without both classes in ``y`` get no shift of their own."""
        cols = [scores[:, 0]] + ([scores[:, 1]] if use_sentences else [])
        extra = []
        if self.genre_aware:
            for g in range(1, len(GENRES)):
                here = genres == g
                if here.any() and len(np.unique(y[here])) == 2:
                    extra.append(g)
                    cols.append(here.astype(float))
        if not use_sentences and not extra:
            return np.array([1.0, 0.0, 0.0]), np.zeros(len(GENRES))
        lr = LogisticRegression(C=1.0).fit(np.column_stack(cols), y, sample_weight=w)
        c = lr.coef_[0]
        stack = np.array([c[0], c[1] if use_sentences else 0.0, lr.intercept_[0]])
        shift = np.zeros(len(GENRES))
        for i, g in enumerate(extra):
            shift[g] = c[(2 if use_sentences else 1) + i]
        return stack, shift

    @staticmethod
    def _stacked(scores: np.ndarray, genres: np.ndarray, stack: np.ndarray, shift: np.ndarray) -> np.ndarray:
        return sigmoid(scores[:, 0] * stack[0] + scores[:, 1] * stack[1] + stack[2] + shift[genres])

    def _tune_thresholds(self, y: np.ndarray, p: np.ndarray, genres: np.ndarray) -> tuple[float, np.ndarray]:
        """The F1-best threshold over all texts, and per genre (when ``genre_aware`` and the genre has
        at least 5 positives and 5 negatives; otherwise the overall one): the genre's own F1-best
        threshold moved ``genre_pooling`` of the way to the overall one."""
        overall = _best_threshold(y, p)
        per = np.full(len(GENRES), overall)
        if self.genre_aware:
            for g in range(len(GENRES)):
                here = genres == g
                if y[here].sum() >= 5 and (1 - y[here]).sum() >= 5:
                    own = _best_threshold(y[here], p[here])
                    per[g] = own + self.genre_pooling * (overall - own)
        return overall, per

    def _new_lr(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight=self.class_weight, solver="liblinear", max_iter=5000,
                                  random_state=self.random_state)

    def _fit_sentences(self, feats: Features, targets: np.ndarray, owner: np.ndarray, weights: np.ndarray,
                       allowed: np.ndarray) -> LogisticRegression:
        ok = allowed & (targets >= 0)
        return self._new_lr().fit(feats.sentence[ok], targets[ok], sample_weight=weights[owner[ok]])

    def _oof_scores(self, feats: Features, rows: np.ndarray, y: np.ndarray, w: np.ndarray,
                    targets: np.ndarray | None, owner: np.ndarray, weights: np.ndarray,
                    groups: np.ndarray | None = None) -> np.ndarray:
        """Out-of-fold (document score, best sentence score) for the documents ``rows``, and the fold
        of each (all -1 when there are too few examples to cross-validate); ``groups``, one per row
        of ``rows``, kept whole in the folds."""
        out = np.zeros((len(rows), 2))
        fold = np.full(len(rows), -1)
        n_splits = int(min(self.cv, np.bincount(y).min()))
        if n_splits < 2:
            return out, fold
        for f, (train, test) in enumerate(cv_folds(y, groups, n_splits, self.random_state)):
            fold[test] = f
            m = self._new_lr().fit(feats.doc[rows[train]], y[train], sample_weight=w[train])
            out[test, 0] = m.decision_function(feats.doc[rows[test]])
            if targets is not None:
                sm = self._fit_sentences(feats, targets, owner, weights, np.isin(owner, rows[train]))
                in_test = np.isin(owner, rows[test])
                best = max_per_doc(sm.decision_function(feats.sentence[in_test])[:, None],
                                    feats.per_doc[rows[test]], sm.intercept_)
                # sentences of the test documents are in document order, as rows[test] is sorted
                out[test, 1] = best[:, 0]
        return out, fold

    def score(self, X: Iterable[str], y: Any, sample_weight: Any = None) -> float:
        """Macro-averaged F1 of :meth:`predict` against ``y`` (labels as for :meth:`fit`).

        This replaces scikit-learn's default for classifiers, subset accuracy, which counts an
        article as right only when every one of its themes is right; ``GridSearchCV`` and
        ``cross_val_score`` use it when no ``scoring`` is given."""
        from sklearn.metrics import f1_score

        check_fitted(self, ["coef_"])
        Ymat, _ = labels_matrix(y, [str(c) for c in self.classes_])
        return float(f1_score(Ymat, self.predict(X), average="macro", sample_weight=sample_weight, zero_division=0))

    # -- prediction (the arithmetic lives in govtext._linear, shared with ThemePredictor) ----------
    def decision_function(self, X: Iterable[str], *, genre: Any = None) -> np.ndarray:
        check_fitted(self, ["coef_"])
        return super().decision_function(X, genre=genre)

    def predict_proba(self, X: Iterable[str], *, normalized: bool = False, genre: Any = None) -> np.ndarray:
        check_fitted(self, ["coef_"])
        return super().predict_proba(X, normalized=normalized, genre=genre)

    def predict(self, X: Iterable[str], *, genre: Any = None) -> np.ndarray:
        check_fitted(self, ["coef_"])
        return super().predict(X, genre=genre)

    def thresholds_for(self, X: Iterable[str], *, normalized: bool = False, genre: Any = None) -> np.ndarray:
        check_fitted(self, ["coef_"])
        return super().thresholds_for(X, normalized=normalized, genre=genre)

    def explain(self, text: str, top: int = 5, max_sentences: int = 3, *, genre: Any = None) -> Explanation:
        check_fitted(self, ["coef_"])
        return super().explain(text, top=top, max_sentences=max_sentences, genre=genre)

    for _name in ("decision_function", "predict_proba", "predict", "thresholds_for", "explain"):
        locals()[_name].__doc__ = getattr(ThemeArithmetic, _name).__doc__
    del _name

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
        docs = check_text_list(texts, "texts")
        seeds = seed_terms if seed_terms is not None else default_seed_terms()
        if not seeds:
            raise InputError("seed_terms is empty; give at least one label with terms")
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
                raise InputError(f"label {name!r} has no seed terms")
            for i, text in enumerate(prepared):
                for phrase in exclude:
                    text = text.replace(phrase, "")
                title, _, body = text.partition("\n")
                hits[i, j] = sum(2 * title.count(t) + body.count(t) for t in terms)
        Y = (hits >= min_hits).astype(np.int64)
        mask = (hits >= min_hits) | (hits == 0)
        for j, name in enumerate(names):
            if not Y[:, j].any():
                raise InputError(
                    f"no text has {min_hits}+ hits of the seed terms for {name!r}; add terms that occur in "
                    f"your corpus (check them with govtext.coverage) or lower min_hits"
                )
            if Y[mask[:, j], j].all():
                raise InputError(f"every text mentions the seed terms for {name!r}: no negative examples")
        model._fit(prepared, Y, mask, names)
        for _ in range(self_training_rounds):
            proba = sigmoid(model._scores(model._features(prepared), infer_genre(prepared), prepared))
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
            "sentence_model": self.sentence_model,
            "C": self.C,
            "class_weight": self.class_weight,
            "threshold": self.threshold,
            "genre_aware": self.genre_aware,
            "cv": self.cv,
            "max_chars": self.max_chars,
            "random_state": self.random_state,
        }

    def save(self, path: str | os.PathLike[str], *, card: Mapping[str, Any] | None = None,
             out_of_fold: bool | Mapping[str, np.ndarray] | None = None) -> Path:
        """Write the fitted classifier to folder ``path``: JSON and ``.npy``/``.npz`` arrays, no pickle.

        ``card`` (optional) is stored in the manifest, e.g. training data and metrics.
        ``out_of_fold``: the out-of-fold record written as ``oof.npz`` (see :meth:`out_of_fold`):
        by default the model's own; ``False`` for none; or another record (a dict of the same four
        arrays, e.g. from a fit on the train rows only).
        """
        if out_of_fold is not None and not isinstance(out_of_fold, bool):
            out_of_fold = {name: np.asarray(out_of_fold[name]) for name in ("proba", "labels", "genre", "predicted")}
        check_fitted(self, ["coef_"])
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        n_words = len(self._word_idf)
        for prefix, terms, idf in (("word_", self.feature_names_[:n_words], self._word_idf),
                                   ("char_", self.feature_names_[n_words:], self._char_idf)):
            write_vocabulary(folder, terms, idf, prefix)
        np.savez_compressed(
            folder / "linear.npz", coef=self.coef_.astype(np.float32), intercept=self.intercept_,
            sentence_coef=self.sentence_coef_.astype(np.float32), sentence_intercept=self.sentence_intercept_,
            stack=self.stack_, genre_shift=self.genre_shift_,
        )
        if isinstance(out_of_fold, dict):
            save_out_of_fold(folder, out_of_fold)
        elif out_of_fold is not False and getattr(self, "oof_", None) is not None:
            save_out_of_fold(folder, self.oof_)
        params = self._params_json()
        if getattr(self, "short_coef_", None) is not None:
            # written only when used: a model without it is read by older govtext as before
            params["headline_model"] = True
            vocab = self.short_vocabulary_
            write_vocabulary(folder, vocab.words, vocab.word_idf, "short_word_")
            write_vocabulary(folder, vocab.chars, vocab.char_idf, "short_char_")
            np.savez_compressed(folder / "short.npz", coef=self.short_coef_.astype(np.float32),
                                intercept=self.short_intercept_)
        if self.genre_pooling:
            # written only when used: a model without it is read by older govtext as before
            params["genre_pooling"] = self.genre_pooling
        payload: dict[str, Any] = {
            "params": params,
            "tokenizer": self.tokenizer_.to_config(),
            "thresholds": [float(t) for t in self.thresholds_],
            "genre_thresholds": [[float(t) for t in row] for row in self.genre_thresholds_],
        }
        lists = save_tokenizer_lists(folder, self.tokenizer_)
        if lists:
            payload["tokenizer_lists"] = lists
        if card:
            payload["card"] = dict(card)
        return write_manifest(folder, "ThemeClassifier", payload, engine=self.tokenizer_.engine, format_version=3)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ThemeClassifier:
        """Read a classifier written by :meth:`save` (no pickle); a damaged folder is an
        :class:`~govtext.IncompatibleModelError`."""
        folder = Path(path)
        with reading(folder, "ThemeClassifier"):
            manifest = read_manifest(folder, "ThemeClassifier")
            labels, char, p = saved_settings(folder, manifest)
            unknown = set(p) - set(cls._get_param_names())
            if unknown:
                raise IncompatibleModelError(f"{folder}: unknown parameters {sorted(unknown)}")
            p.setdefault("sentence_model", False)  # models saved by govtext 0.1 have none
            p.setdefault("genre_aware", False)  # nor do models saved before format 3
            p.setdefault("genre_pooling", 0.0)  # written only when not 0
            p.setdefault("headline_model", False)  # written only when True
            tokenizer = saved_tokenizer(folder, manifest)
            model = cls(labels=labels, tokenizer=tokenizer, char_ngrams=char, **p)
            model._validate_params()  # max_chars: true, cv: -1, … are refused here, not at first use
            load_fitted(model, folder, manifest, labels)
            return model
