"""Short-text features for the theme model's headline path (``ThemeClassifier(headline_model=True)``).

The features a competent user puts in front of a logistic regression for short texts: TF-IDF of the
segmenter's raw pieces (every word, with no stopword or length filter) and TF-IDF of character 1-3-grams,
each block sublinear and L2-normalised, as two scikit-learn ``TfidfVectorizer`` s in a ``FeatureUnion``
would make them (smooth IDF, terms in at least ``min_df`` documents). Pure numpy/scipy, so a saved model
predicts without scikit-learn.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from ..features.weighting import idf_from_df, weigh_counts
from ..text.tokenize import Tokenizer

__all__ = ["SHORT_CHAR_RANGE", "ShortVocabulary", "short_terms"]

SHORT_CHAR_RANGE = (1, 3)
_SPACE = re.compile(r"\s+")


def short_terms(text: str, tokenizer: Tokenizer) -> tuple[list[str], list[str]]:
    """(words, character 1-3-grams) of a prepared (normalised) text."""
    words = [p for p in tokenizer.segment(text) if p.strip()]
    flat = _SPACE.sub(" ", text.lower())
    lo, hi = SHORT_CHAR_RANGE
    grams = [flat[i:i + n] for n in range(lo, hi + 1) for i in range(len(flat) - n + 1)]
    return words, grams


class ShortVocabulary:
    """The two vocabularies (words, character n-grams) with their IDF, and the features they give."""

    def __init__(self, words: Sequence[str], word_idf: np.ndarray, chars: Sequence[str], char_idf: np.ndarray) -> None:
        self.words, self.chars = list(words), list(chars)
        self.word_idf = np.asarray(word_idf, dtype=np.float64)
        self.char_idf = np.asarray(char_idf, dtype=np.float64)
        self._word_index = {t: i for i, t in enumerate(self.words)}
        self._char_index = {t: i for i, t in enumerate(self.chars)}

    @property
    def n_features(self) -> int:
        return len(self.words) + len(self.chars)

    @classmethod
    def fit(cls, terms: list[tuple[list[str], list[str]]], min_df: int) -> ShortVocabulary:
        """Terms in at least ``min_df`` of the documents' ``short_terms``, sorted, with smooth IDF."""
        blocks = []
        for part in (0, 1):
            df: Counter[str] = Counter()
            for doc in terms:
                df.update(set(doc[part]))
            kept = sorted(t for t, c in df.items() if c >= min_df)
            blocks += [kept, idf_from_df([df[t] for t in kept], len(terms))]
        return cls(*blocks)

    def transform(self, terms: list[tuple[list[str], list[str]]]) -> sp.csr_matrix:
        """(n_docs, n_features) TF-IDF rows: words block, then character block, each L2-normalised."""
        out = []
        for part, index, idf in ((0, self._word_index, self.word_idf), (1, self._char_index, self.char_idf)):
            rows, cols = [], []
            for i, doc in enumerate(terms):
                found = [index[t] for t in doc[part] if t in index]
                rows += [i] * len(found)
                cols += found
            counts = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(terms), len(index)))
            counts.sum_duplicates()
            out.append(weigh_counts(counts, idf))
        return sp.hstack(out, format="csr")
