"""govtext: clean, tokenise, vectorise and tag Chinese local-governance news.

>>> import govtext
>>> article = govtext.clean_article(raw_page)            # doctest: +SKIP
>>> tokens = govtext.Tokenizer()(article.text)            # doctest: +SKIP
"""

from ._version import __version__
from .clean import Article, RemovedLine, clean_article, compose, normalize
from .io import DecodingError, Record, iter_records, read_text
from .persist import IncompatibleModelError, load
from .tokenize import CoverageReport, TermCoverage, Tokenizer, coverage, default_stopwords, governance_terms
from .vectorize import Keyword, Vectorizer

__all__ = [
    "Article",
    "CoverageReport",
    "DecodingError",
    "IncompatibleModelError",
    "Keyword",
    "Record",
    "RemovedLine",
    "TermCoverage",
    "Tokenizer",
    "Vectorizer",
    "__version__",
    "clean_article",
    "compose",
    "coverage",
    "default_stopwords",
    "governance_terms",
    "iter_records",
    "load",
    "normalize",
    "read_text",
]
