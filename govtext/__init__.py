"""govtext: clean, tokenise, vectorise and tag Chinese local-governance news.

>>> import govtext
>>> article = govtext.clean_article(raw_page)            # doctest: +SKIP
>>> tokens = govtext.Tokenizer()(article.text)            # doctest: +SKIP
"""

from ._version import __version__
from .batch import classify_frame
from .classify import (
    THEMES, Explanation, LabelEvidence, TermWeight, ThemeClassifier, default_seed_terms, evidence_overlap,
)
from .clean import Article, EmptyTextError, RemovedLine, clean_article, compose, normalize, usable_text
from .evaluate import EvidenceAgreement, Evaluation, LabelScore, evaluate, evidence_agreement, sample_for_coding
from .extract import initiatives, places
from .io import DecodingError, Record, iter_records, read_text
from .persist import IncompatibleModelError, load
from .tokenize import CoverageReport, TermCoverage, Tokenizer, coverage, default_stopwords, governance_terms
from .similarity import Match, SimilarityIndex
from .vectorize import Keyword, Vectorizer

__all__ = [
    "THEMES",
    "Article",
    "CoverageReport",
    "DecodingError",
    "EmptyTextError",
    "Evaluation",
    "EvidenceAgreement",
    "Explanation",
    "IncompatibleModelError",
    "Keyword",
    "LabelEvidence",
    "LabelScore",
    "Match",
    "Record",
    "RemovedLine",
    "SimilarityIndex",
    "TermCoverage",
    "TermWeight",
    "ThemeClassifier",
    "Tokenizer",
    "Vectorizer",
    "__version__",
    "classify_frame",
    "clean_article",
    "compose",
    "coverage",
    "default_seed_terms",
    "default_stopwords",
    "evaluate",
    "evidence_agreement",
    "evidence_overlap",
    "governance_terms",
    "initiatives",
    "iter_records",
    "load",
    "normalize",
    "places",
    "read_text",
    "sample_for_coding",
    "usable_text",
]
