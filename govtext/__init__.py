"""govtext: clean, tokenise, vectorise and tag Chinese local-governance news.

>>> import govtext
>>> article = govtext.clean_article(raw_page)            # doctest: +SKIP
>>> tokens = govtext.Tokenizer()(article.text)            # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# Names are imported from their module on first use, so that `import govtext`, `govtext --help`
# and `govtext --version` do not pay for scikit-learn, SciPy or pandas.
_WHERE = {
    "classify_frame": "batch",
    "THEMES": "classify", "Explanation": "classify", "LabelEvidence": "classify", "TermWeight": "classify",
    "ThemeClassifier": "classify", "default_seed_terms": "classify", "evidence_overlap": "classify",
    "Article": "clean", "EmptyTextError": "clean", "RemovedLine": "clean", "clean_article": "clean",
    "compose": "clean", "normalize": "clean", "usable_text": "clean",
    "EvidenceAgreement": "evaluation", "Evaluation": "evaluation", "LabelScore": "evaluation",
    "evaluate": "evaluation", "evidence_agreement": "evaluation", "sample_for_coding": "evaluation",
    "initiatives": "extract", "places": "extract",
    "DecodingError": "io", "Record": "io", "iter_records": "io", "read_text": "io",
    "IncompatibleModelError": "persist", "load": "persist",
    "CoverageReport": "tokenize", "TermCoverage": "tokenize", "Tokenizer": "tokenize", "coverage": "tokenize",
    "default_stopwords": "tokenize", "governance_terms": "tokenize",
    "Match": "similarity", "SimilarityIndex": "similarity",
    "estimate_shares": "shares",
    "Keyword": "vectorize", "Vectorizer": "vectorize",
    "Concordance": "lexicon", "KwicLine": "lexicon", "LexiconCounter": "lexicon", "kwic": "lexicon",
    "read_lexicon": "lexicon",
    "Candidate": "wordvectors", "Neighbour": "wordvectors", "WordVectors": "wordvectors",
    "expand_lexicon": "wordvectors",
    "GovtextError": "errors", "InputError": "errors", "ParameterError": "errors", "NotFittedError": "_fitted",
    "ThemePredictor": "_linear",
}
_SUBMODULES = frozenset({"batch", "classify", "clean", "cli", "dask", "errors", "evaluation", "extract", "io", "persist",
                         "lexicon", "plot", "serve", "shares", "similarity", "tokenize", "vectorize", "wordvectors"})


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'govtext' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .batch import classify_frame
    from .classify import (
        THEMES, Explanation, LabelEvidence, TermWeight, ThemeClassifier, default_seed_terms, evidence_overlap,
    )
    from .clean import Article, EmptyTextError, RemovedLine, clean_article, compose, normalize, usable_text
    from .evaluation import EvidenceAgreement, Evaluation, LabelScore, evaluate, evidence_agreement, sample_for_coding
    from ._linear import ThemePredictor
    from ._fitted import NotFittedError
    from .errors import GovtextError, InputError, ParameterError
    from .extract import initiatives, places
    from .io import DecodingError, Record, iter_records, read_text
    from .persist import IncompatibleModelError, load
    from .tokenize import CoverageReport, TermCoverage, Tokenizer, coverage, default_stopwords, governance_terms
    from .similarity import Match, SimilarityIndex
    from .shares import estimate_shares
    from .vectorize import Keyword, Vectorizer
    from .lexicon import Concordance, KwicLine, LexiconCounter, kwic, read_lexicon
    from .wordvectors import Candidate, Neighbour, WordVectors, expand_lexicon

__all__ = [
    "THEMES",
    "Candidate",
    "Concordance",
    "KwicLine",
    "LexiconCounter",
    "Neighbour",
    "WordVectors",
    "expand_lexicon",
    "kwic",
    "read_lexicon",
    "Article",
    "CoverageReport",
    "DecodingError",
    "EmptyTextError",
    "Evaluation",
    "EvidenceAgreement",
    "Explanation",
    "GovtextError",
    "IncompatibleModelError",
    "InputError",
    "Keyword",
    "LabelEvidence",
    "LabelScore",
    "Match",
    "NotFittedError",
    "ParameterError",
    "Record",
    "RemovedLine",
    "SimilarityIndex",
    "TermCoverage",
    "TermWeight",
    "ThemeClassifier",
    "ThemePredictor",
    "Tokenizer",
    "Vectorizer",
    "__version__",
    "classify_frame",
    "clean_article",
    "compose",
    "coverage",
    "default_seed_terms",
    "default_stopwords",
    "estimate_shares",
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
