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
_NAMES = {
    "text.clean": ("Article", "EmptyTextError", "RemovedLine", "clean_article", "compose", "normalize", "usable_text"),
    "text.io": ("DecodingError", "Record", "iter_records", "read_text"),
    "text.tokenize": ("CoverageReport", "TermCoverage", "Tokenizer", "coverage", "default_stopwords",
                      "governance_terms"),
    "features.vectorize": ("Keyword", "Vectorizer"),
    "features.lexicon": ("Concordance", "KwicLine", "LexiconCounter", "kwic", "read_lexicon"),
    "features.wordvectors": ("Candidate", "Neighbour", "WordVectors", "expand_lexicon"),
    "themes.classify": ("THEMES", "Explanation", "LabelEvidence", "TermWeight", "ThemeClassifier",
                        "default_seed_terms", "evidence_overlap"),
    "themes._linear": ("ThemePredictor",),
    "themes.genre": ("GENRES", "infer_genre"),
    "themes.evaluation": ("EvidenceAgreement", "Evaluation", "LabelScore", "evaluate", "evidence_agreement",
                        "sample_for_coding"),
    "themes.shares": ("estimate_shares",),
    "search.similarity": ("Match", "SimilarityIndex"),
    "search.sharded": ("ShardedIndex",),
    "search.extract": ("initiatives", "places"),
    "search.ranking": ("Ranking", "Why", "corpus_practices", "practice_names", "split_policy_basis"),
    "search.timeline": ("PlaceSpan", "Timeline"),
    "runs.batch": ("classify_frame",),
    "persist": ("IncompatibleModelError", "load"),
    "errors": ("GovtextError", "InputError", "ParameterError"),
    "_fitted": ("NotFittedError",),
}
_WHERE = {name: module for module, names in _NAMES.items() for name in names}
# The stage subpackages, and each public module under the name it had before the stages
# (govtext.clean is govtext.text.clean: the same module object).
_SUBMODULES = {
    "text": "text", "features": "features", "themes": "themes", "search": "search", "runs": "runs", "apps": "apps",
    "errors": "errors", "persist": "persist",
    "clean": "text.clean", "io": "text.io", "html": "text.html", "tokenize": "text.tokenize",
    "vectorize": "features.vectorize", "lexicon": "features.lexicon", "wordvectors": "features.wordvectors",
    "classify": "themes.classify", "evaluation": "themes.evaluation", "shares": "themes.shares",
    "genre": "themes.genre",
    "similarity": "search.similarity", "extract": "search.extract",
    "batch": "runs.batch", "dask": "runs.dask",
    "cli": "apps.cli", "serve": "apps.serve", "plot": "apps.plot",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{_SUBMODULES[name]}", __name__)
    else:
        raise AttributeError(f"module 'govtext' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, imported eagerly
    from .runs.batch import classify_frame
    from .themes.classify import (
        THEMES, Explanation, LabelEvidence, TermWeight, ThemeClassifier, default_seed_terms, evidence_overlap,
    )
    from .text.clean import Article, EmptyTextError, RemovedLine, clean_article, compose, normalize, usable_text
    from .themes.evaluation import EvidenceAgreement, Evaluation, LabelScore, evaluate, evidence_agreement, sample_for_coding
    from .themes._linear import ThemePredictor
    from .themes.genre import GENRES, infer_genre
    from .._fitted import NotFittedError
    from ..errors import GovtextError, InputError, ParameterError
    from .search.extract import initiatives, places
    from .text.io import DecodingError, Record, iter_records, read_text
    from ..persist import IncompatibleModelError, load
    from .text.tokenize import CoverageReport, TermCoverage, Tokenizer, coverage, default_stopwords, governance_terms
    from .search.similarity import Match, SimilarityIndex
    from .search.sharded import ShardedIndex
    from .search.ranking import Ranking, Why, corpus_practices, practice_names, split_policy_basis
    from .search.timeline import PlaceSpan, Timeline
    from .themes.shares import estimate_shares
    from .features.vectorize import Keyword, Vectorizer
    from .features.lexicon import Concordance, KwicLine, LexiconCounter, kwic, read_lexicon
    from .features.wordvectors import Candidate, Neighbour, WordVectors, expand_lexicon

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
    "ShardedIndex",
    "PlaceSpan",
    "Ranking",
    "Timeline",
    "corpus_practices",
    "Why",
    "practice_names",
    "split_policy_basis",
    "NotFittedError",
    "ParameterError",
    "Record",
    "RemovedLine",
    "SimilarityIndex",
    "TermCoverage",
    "TermWeight",
    "ThemeClassifier",
    "ThemePredictor",
    "GENRES",
    "infer_genre",
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
