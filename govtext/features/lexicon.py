"""Dictionary methods: per-document lexicon counts and keyword-in-context concordances.

A *lexicon* maps categories to terms, ``{"civility": ["文明城市", "文明楼道", …]}``, with optional
*exclusions*: phrases whose occurrences never count (生态文明 and 中华文明 are not civility
campaigns). Matching is done on normalised text, leftmost-longest: every character belongs to at
most one hit, and an occurrence counts once, for the longest listed term (or exclusion) that covers
it — 文明 inside 文明楼道 is one 文明楼道 hit, and 文明 inside 生态文明 is none.

>>> counter = LexiconCounter({"civility": ["文明", "文明楼道"]}, exclusions=["生态文明"], normalize=None)
>>> counter.fit_transform(["创建文明楼道,建设生态文明,倡导文明新风"]).tolist()
[[2.0]]
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .._common import check_tokenizer, check_choice, check_int, check_text_list
from .._fitted import check_fitted
from ..text.clean import normalize as normalize_text
from ..errors import InputError, ParameterError
from ..text.tokenize import Tokenizer

__all__ = ["Concordance", "KwicLine", "LexiconCounter", "kwic", "read_lexicon"]

NORMALIZATIONS = ("per_1k_tokens", None)
MAX_WINDOW = 10_000  # characters either side of a KWIC hit


def read_lexicon(path: str | os.PathLike[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Read a lexicon file: one ``category<TAB>term`` a line (``#`` starts a comment). The category
    ``exclude`` (or ``-``) lists exclusion phrases. Returns ``(lexicon, exclusions)``. The file is
    decoded as inputs are (UTF-8 with or without BOM, GB18030/GBK or Big5, detected); other bytes
    are a :class:`~govtext.io.DecodingError` naming the file."""
    from ..text.io import read_text

    lexicon: dict[str, list[str]] = {}
    exclusions: list[str] = []
    for n, raw in enumerate(read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        category, sep, term = line.partition("\t")
        if not sep or not category.strip() or not term.strip():
            raise InputError(f"{path}, line {n}: expected 'category<TAB>term', got {raw!r}")
        category, term = category.strip(), term.strip()
        if not visible_term(term):
            raise InputError(f"{path}, line {n}: the term {term!r} has no visible character")
        if category in ("exclude", "-"):
            exclusions.append(term)
        else:
            lexicon.setdefault(category, []).append(term)
    if not lexicon:
        raise InputError(f"{path} lists no terms (expected lines of 'category<TAB>term')")
    return lexicon, exclusions


def visible_term(term: str) -> str:
    """``term`` normalised as texts are, without white space around it; empty when no visible
    character is left (only white space, zero-width or control characters: such a term would match
    at every position, or nowhere)."""
    text = normalize_text(term).strip()
    if all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs") for ch in text):
        return ""
    return text


class _Matcher:
    """Leftmost-longest matching of a fixed set of words: scanning from the left, at each position the
    longest word starting there is a match and scanning resumes after it; positions where no word
    starts are skipped. With ahocorasick-rs installed (``pip install govtext[lexicon]``) an
    Aho–Corasick automaton does this in time linear in the text whatever the number of words; without
    it, a character trie walked iteratively (no recursion, so a word of any length is fine) gives the
    same matches."""

    def __init__(self, words: Iterable[str], backend: str | None = None) -> None:
        self.words = list(dict.fromkeys(words))
        if backend is None:
            backend = "ahocorasick_rs" if _have_ahocorasick() else "trie"
        if backend not in ("ahocorasick_rs", "trie"):
            raise ParameterError(f"unknown matcher backend {backend!r}; use 'ahocorasick_rs' or 'trie'")
        if backend == "ahocorasick_rs" and any(_LONE_SURROGATE.search(w) for w in self.words):
            backend = "trie"  # the automaton takes only text UTF-8 can encode
        self.backend = backend
        self._trie: dict[str, Any] | None = None
        if backend == "ahocorasick_rs":
            import ahocorasick_rs

            self._ac = ahocorasick_rs.AhoCorasick(self.words, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
        else:
            self._build_trie()

    def _build_trie(self) -> None:
        trie: dict[str, Any] = {}
        for i, word in enumerate(self.words):
            node = trie
            for ch in word:
                node = node.setdefault(ch, {})
            node[""] = i
        firsts = "".join(re.escape(c) for c in sorted(trie))
        self._starts = re.compile(f"[{firsts}]") if firsts else None
        self._trie = trie

    def find(self, text: str) -> list[str]:
        """The matched words, in order."""
        if self.backend == "ahocorasick_rs" and not _LONE_SURROGATE.search(text):
            return self._ac.find_matches_as_strings(text)
        if self._trie is None:
            self._build_trie()  # a text with a lone surrogate: the automaton cannot take it
        return self._find_in_trie(text)

    def _find_in_trie(self, text: str) -> list[str]:
        out: list[str] = []
        if self._starts is None:
            return out
        pos, n, found = 0, len(text), -1
        search = self._starts.search
        while True:
            m = search(text, pos)
            if m is None:
                return out
            i = m.start()
            node, j, best = self._trie, i, -1
            while j < n:
                node = node.get(text[j])  # type: ignore[union-attr]
                if node is None:
                    break
                j += 1
                if "" in node:
                    best, found = j, node[""]
            if best < 0:
                pos = i + 1
            else:
                out.append(self.words[found])
                pos = best


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _have_ahocorasick() -> bool:
    try:
        import ahocorasick_rs  # noqa: F401
    except ImportError:
        return False
    return True


class LexiconCounter(TransformerMixin, BaseEstimator):
    """Count each category's terms in each text: a scikit-learn transformer.

    Parameters (keyword-only after ``lexicon``):

    lexicon
        ``{category: [terms]}``, a lexicon file (see :func:`read_lexicon`), or ``None`` for
        govtext's theme seed terms (with their exclusions).
    exclusions
        Phrases that never count (added to the lexicon file's and seed terms' own).
    normalize
        ``"per_1k_tokens"`` (default): hits per 1,000 tokens of the text; ``None``: raw hits.
    tokenizer
        Counts tokens for the normalisation. Default: ``Tokenizer()``; the lexicon's terms and
        exclusions are added to its user words, so a listed term is one token.

    ``transform`` returns an (n_texts, n_categories) float array (columns in ``categories_``);
    :meth:`count` returns the raw hits, the token totals and per-term hits; :meth:`to_frame` a
    pandas table of them. Fitted attributes: ``categories_``, ``terms_``, ``exclusions_``,
    ``tokenizer_``.
    """

    def __init__(self, lexicon: Mapping[str, Sequence[str]] | str | os.PathLike[str] | None = None, *,
                 exclusions: Sequence[str] | None = None, normalize: str | None = "per_1k_tokens",
                 tokenizer: Tokenizer | None = None) -> None:
        self.lexicon = lexicon
        self.exclusions = exclusions
        self.normalize = normalize
        self.tokenizer = tokenizer

    def fit(self, X: Any = None, y: Any = None) -> LexiconCounter:
        """Read and check the lexicon (the texts are not needed; accepted for pipelines)."""
        owner = "LexiconCounter"
        check_choice(owner, "normalize", self.normalize, NORMALIZATIONS)
        check_tokenizer(owner, self.tokenizer)
        extra: list[str] = []
        if self.lexicon is None:
            from ..themes.classify import default_seed_terms

            seeds = default_seed_terms()
            lexicon = {c: list(v["terms"]) for c, v in seeds.items()}
            extra = [w for v in seeds.values() for w in v.get("exclude", [])]
        elif isinstance(self.lexicon, (str, os.PathLike)):
            lexicon, extra = read_lexicon(self.lexicon)
        elif isinstance(self.lexicon, Mapping):
            lexicon = {}
            for category, terms in self.lexicon.items():
                if isinstance(terms, str) or not all(isinstance(t, str) for t in terms):
                    raise ParameterError(f"{owner}: lexicon[{category!r}] must be a list of terms, got {terms!r}")
                lexicon[str(category)] = list(terms)
        else:
            raise ParameterError(f"{owner}: lexicon must be a dict {{category: [terms]}}, a lexicon file or None, "
                                 f"got {type(self.lexicon).__name__}")
        if self.exclusions is not None and (isinstance(self.exclusions, str)
                                            or not all(isinstance(t, str) for t in self.exclusions)):
            raise ParameterError(f"{owner}: exclusions must be a list of phrases, got {self.exclusions!r}")
        invisible = [w for ws in [*lexicon.values(), extra, self.exclusions or []] for w in ws if not visible_term(w)]
        if invisible:
            raise ParameterError(f"{owner}: terms and exclusions need a visible character; got "
                                 f"{[w[:20] for w in invisible[:5]]}")
        exclusions = [visible_term(w) for w in [*extra, *(self.exclusions or [])]]
        terms = {c: list(dict.fromkeys(visible_term(w) for w in ws)) for c, ws in lexicon.items()}
        empty = [c for c, ws in terms.items() if not ws]
        if not terms or empty:
            raise ParameterError(f"{owner}: every category needs at least one term; empty: {empty or 'all'}")
        self.categories_ = list(terms)
        self.terms_ = terms
        self.exclusions_ = sorted({w for w in exclusions if w})
        self._owners: dict[str, list[int]] = {}
        for j, c in enumerate(self.categories_):
            for t in terms[c]:
                self._owners.setdefault(t, []).append(j)
        # A list in a fixed order (not a set): the tokenizer's user words, and so the fingerprint of
        # a `govtext count` run, must not change with Python's hash seed.
        excluded = [w for w in self.exclusions_ if w not in self._owners]
        self._matcher = _Matcher([*self._owners, *excluded])
        config = (self.tokenizer if self.tokenizer is not None else Tokenizer()).to_config()  # word files read
        config["user_words"] = list(config["user_words"] or []) + [*self._owners, *excluded]
        self.tokenizer_ = Tokenizer(**config)
        return self

    def _hits(self, text: str) -> tuple[np.ndarray, dict[str, int]]:
        row = np.zeros(len(self.categories_))
        per_term: dict[str, int] = {}
        for word in self._matcher.find(text):
            owners = self._owners.get(word)
            if owners is None:
                continue  # an exclusion phrase: covers its characters, counts for nothing
            per_term[word] = per_term.get(word, 0) + 1
            for j in owners:
                row[j] += 1
        return row, per_term

    def count(self, X: Iterable[str]) -> tuple[np.ndarray, np.ndarray, list[dict[str, int]]]:
        """Raw hits ``(n, n_categories)``, tokens per text ``(n,)`` and each text's hits per term."""
        return self._count(X, with_tokens=True)

    def _count(self, X: Iterable[str], with_tokens: bool) -> tuple[np.ndarray, np.ndarray, list[dict[str, int]]]:
        check_fitted(self, ["categories_"], how="fit()")
        docs = check_text_list(X, "X")
        hits = np.zeros((len(docs), len(self.categories_)))
        tokens = np.zeros(len(docs), dtype=np.int64)
        per_term: list[dict[str, int]] = []
        for i, doc in enumerate(docs):
            if doc is None or (isinstance(doc, float) and doc != doc):
                doc = ""
            if not isinstance(doc, str):
                raise ParameterError(f"X[{i}] is {type(doc).__name__}; every document must be a str")
            text = normalize_text(doc)
            hits[i], terms = self._hits(text)
            per_term.append(terms)
            tokens[i] = len(self.tokenizer_(text, normalized=True)) if with_tokens else 0
        return hits, tokens, per_term

    def transform(self, X: Iterable[str]) -> np.ndarray:
        hits, tokens, _ = self._count(X, with_tokens=self.normalize is not None)
        if self.normalize is None:
            return hits
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(tokens[:, None] > 0, hits * 1000.0 / np.maximum(tokens, 1)[:, None], 0.0)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        check_fitted(self, ["categories_"], how="fit()")
        return np.array(self.categories_, dtype=object)

    def to_frame(self, X: Iterable[str], ids: Sequence[Any] | None = None) -> Any:
        """A pandas table: per text, ``tokens``, the hits of each category, the hits per 1,000
        tokens (``<category>_per_1k``) and the terms found (``terms``: term -> hits)."""
        import pandas as pd

        docs = check_text_list(X, "X")
        hits, tokens, per_term = self.count(docs)
        frame = pd.DataFrame({"tokens": tokens}, index=list(ids) if ids is not None else None)
        for j, c in enumerate(self.categories_):
            frame[c] = hits[:, j].astype(int)
        for j, c in enumerate(self.categories_):
            frame[f"{c}_per_1k"] = np.where(tokens > 0, hits[:, j] * 1000.0 / np.maximum(tokens, 1), 0.0)
        frame["terms"] = per_term
        return frame


# -- keyword in context ------------------------------------------------------------------------------

@dataclass(frozen=True)
class KwicLine:
    """One occurrence of a term: the text before it, the term, the text after it."""

    doc_id: str
    position: int  # character offset in the normalised text
    left: str
    term: str
    right: str


@dataclass(frozen=True)
class Concordance:
    """The result of :func:`kwic`: lines in document order; ``to_frame()`` gives a pandas table."""

    term: str
    lines: tuple[KwicLine, ...]

    def __iter__(self) -> Iterator[KwicLine]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, i: int) -> KwicLine:
        return self.lines[i]

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame([vars(line) for line in self.lines], columns=["doc_id", "position", "left", "term", "right"])

    def __str__(self) -> str:
        width = max([len(line.left) for line in self.lines] + [0])
        return "\n".join(f"{line.doc_id:>10}  {line.left:>{width}} 【{line.term}】 {line.right}" for line in self.lines)


def kwic(texts: Iterable[str], term: str, window: int = 20, *, ids: Sequence[Any] | None = None,
         limit: int | None = None) -> Concordance:
    """Keyword in context: every occurrence of ``term`` in ``texts`` (normalised, so traditional
    characters and full-width forms match), with ``window`` characters either side (line breaks
    shown as spaces). Check how a term is used before counting it — 文明 as civility (文明城市) or
    as civilisation (中华文明).

    >>> [(l.left, l.term, l.right) for l in kwic(["建设生态文明,创建文明城市"], "文明", window=3)]
    [('设生态', '文明', ',创建'), (',创建', '文明', '城市')]
    """
    if not isinstance(term, str) or not visible_term(term):
        raise ParameterError(f"kwic(): term must be a str with a visible character, got {term[:40]!r}"
                             if isinstance(term, str) else f"kwic(): term must be a str, got {type(term).__name__}")
    check_int("kwic()", "window", window, low=0, high=MAX_WINDOW)
    check_int("kwic()", "limit", limit, low=1, none=True)
    docs = check_text_list(texts, "texts")
    names = [str(i) for i in range(len(docs))] if ids is None else [str(x) for x in check_text_list(ids, "ids")]
    if len(names) != len(docs):
        raise ParameterError(f"got {len(docs)} texts but {len(names)} ids")
    wanted = visible_term(term)
    lines: list[KwicLine] = []
    for doc_id, doc in zip(names, docs):
        if not isinstance(doc, str):
            continue
        text = normalize_text(doc)
        start = text.find(wanted)
        while start >= 0:
            left = text[max(0, start - window) : start].replace("\n", " ")
            right = text[start + len(wanted) : start + len(wanted) + window].replace("\n", " ")
            lines.append(KwicLine(doc_id, start, left, wanted, right))
            if limit is not None and len(lines) >= limit:
                return Concordance(wanted, tuple(lines))
            start = text.find(wanted, start + 1)
    return Concordance(wanted, tuple(lines))
