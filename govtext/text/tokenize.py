"""Governance-aware Chinese word segmentation.

:class:`Tokenizer` wraps its *own* segmenter instance (rjieba by default, jieba as the reference),
loads govtext's governance dictionary into it, and filters stopwords, punctuation and numbers.
It never touches jieba's global tokenizer, configures no logging, and pickles cleanly: only its
parameters are pickled and the segmenter is rebuilt on first use.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Union

from ..errors import InputError, ParameterError
from .._common import SENTENCE_END, SENTENCE_RE, check_text_list
from .clean import normalize as normalize_text

__all__ = [
    "ENGINES",
    "CoverageReport",
    "TermCoverage",
    "Tokenizer",
    "coverage",
    "governance_terms",
    "default_stopwords",
]

ENGINES = ("rjieba", "jieba")
WordSource = Union[str, os.PathLike, Iterable[str], None]

MAX_WORD_FREQ = 10**12  # a word frequency above this overflows the segmenter
_MAX_SAVED_MIN_LENGTH = 1000
_LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_NUMBER_RE = re.compile(r"^[+\-−]?[\d０-９]+(?:[.,:/][\d０-９]+)*[%％‰]?$")


def _read_word_lines(lines: Iterable[str]) -> list[tuple[str, int | None]]:
    words: list[tuple[str, int | None]] = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isascii() and parts[1].isdigit() else None
        if freq is not None and freq > MAX_WORD_FREQ:
            raise InputError(f"the frequency {parts[1][:30]} given for the word {parts[0][:30]!r} is over "
                             f"{MAX_WORD_FREQ:,}; jieba's own dictionary stays below 10 million")
        words.append((parts[0], freq))
    return words


def _load_words(source: WordSource, what: str) -> list[tuple[str, int | None]]:
    """Read words from a path (one per line, optional frequency) or from an iterable of strings."""
    if source is None:
        return []
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{what}: no such file: {path}")
        with open(path, encoding="utf-8-sig") as fh:
            return _read_word_lines(fh)
    if isinstance(source, bytes):
        raise ParameterError(f"{what} must be a path or an iterable of words, got bytes")
    try:
        items = list(source)
    except TypeError:
        raise ParameterError(f"{what} must be a path or an iterable of words, got {type(source).__name__}") from None
    bad = [w for w in items if not isinstance(w, str)]
    if bad:
        raise ParameterError(f"{what} must contain strings, found {type(bad[0]).__name__}: {bad[0]!r}")
    return _read_word_lines(items)


def governance_terms() -> list[str]:
    """The governance terms shipped with govtext (党建引领, 共建共治共享, 新时代文明实践站, …)."""
    text = resources.files("govtext").joinpath("data/governance_terms.txt").read_text(encoding="utf-8")
    return [w for w, _ in _read_word_lines(text.splitlines())]


def default_stopwords() -> frozenset[str]:
    """govtext's default stopwords: the Chinese and English lists of the stopwords-iso project,
    minus any governance term."""
    import stopwordsiso

    words = set(stopwordsiso.stopwords(["zh", "en"]))
    words.difference_update(governance_terms())
    return frozenset(words)


def _cache_dir() -> Path:
    """Per-user cache directory for jieba's prefix-dictionary cache (never a shared /tmp file),
    one per jieba version, so an upgrade never reads a cache an older jieba wrote."""
    env = os.environ.get("GOVTEXT_CACHE_DIR")
    if env:
        base = Path(env)
    elif os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "govtext" / "cache"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "govtext"
    path = base / f"jieba-{_engine_version('jieba')}"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _rjieba_class() -> Any:
    """rjieba's ``Jieba`` class, without building the module-level default segmenter that ``import
    rjieba`` builds (its whole dictionary, about a third of a classify command's start-up): the
    compiled extension is loaded on its own. A later ``import rjieba`` gets the same extension.
    Falls back to ``import rjieba`` when the package is laid out otherwise."""
    import sys

    loaded = sys.modules.get("rjieba")
    if loaded is not None:
        return loaded.Jieba
    try:
        import importlib.machinery
        import importlib.util

        spec = importlib.util.find_spec("rjieba")
        folder = Path(next(iter(spec.submodule_search_locations or [])))  # type: ignore[union-attr]
        (path,) = [p for p in folder.iterdir() if p.name.startswith("rjieba.")
                   and p.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))]
        loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader("rjieba.rjieba", loader))
        loader.exec_module(module)
        return module.Jieba
    except Exception:  # noqa: BLE001 - any other layout: the ordinary import
        import rjieba

        return rjieba.Jieba


def _build_segmenter(engine: str, words: Sequence[tuple[str, int | None]]) -> Any:
    if engine == "rjieba":
        seg = _rjieba_class()()
        for word, freq in words:
            seg.add_word(word, freq, None)
        return seg
    import jieba

    seg = jieba.Tokenizer()
    seg.tmp_dir = str(_cache_dir())
    # jieba logs "Building prefix dict…" at DEBUG on its own logger; silence it while we build,
    # then restore the user's setting.
    logger = logging.getLogger("jieba")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        seg.initialize()
    finally:
        logger.setLevel(level)
    for word, freq in words:
        if freq == 0:
            # jieba would register a forced split in its module-global HMM state; refuse instead.
            raise InputError(f"user word {word!r} has frequency 0, which the jieba engine cannot honour locally")
        seg.add_word(word, freq)
    return seg


def _engine_version(engine: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(engine)
    except PackageNotFoundError:
        return "unknown"


# Long texts are segmented in chunks of about this many characters, split at line breaks or
# sentence ends (where the segmenter never joins characters anyway): rjieba slows down more than
# linearly on multi-megabyte strings, and this keeps a 10 MB document linear.
_CHUNK = 20_000
_BREAKS = ("\n", *SENTENCE_END)


def _chunks(text: str) -> Iterator[str]:
    start, n = 0, len(text)
    while start < n:
        end = min(start + _CHUNK, n)
        if end < n:
            cut = max(text.rfind(b, start + _CHUNK // 2, end) for b in _BREAKS)
            if cut > start:
                end = cut + 1
        yield text[start:end]
        start = end


class _FilterMemo(dict):  # type: ignore[type-arg]
    """piece -> kept token ("" when dropped), filled on first sight of each piece."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        super().__init__()
        self._judge = tokenizer._judge

    def __missing__(self, piece: str) -> str:
        value = self[piece] = self._judge(piece)
        return value


class Tokenizer:
    """Segment Chinese text into words, governance terms kept whole.

    Parameters (keyword-only, stored unchanged):

    engine
        ``"rjieba"`` (default; Rust port of jieba, same dictionary, ~10-20x faster) or ``"jieba"``.
    governance_terms
        Load govtext's governance dictionary (558 terms such as 党建引领, 五社联动, 邻长制).
    user_words
        Extra words: a path to a file (one word per line, optional frequency) or an iterable.
    stopwords
        ``"default"`` (stopwords-iso zh+en), ``None`` for none, a path, or an iterable of words.
    extra_stopwords
        Added to ``stopwords``: a path or an iterable (e.g. domain words like 开展, 进行).
    normalize
        Run :func:`govtext.normalize` first (traditional -> simplified, pinyin glosses, widths).
    hmm
        Let the segmenter guess unknown words with its HMM (jieba's default).
    keep_numbers, keep_punct
        Keep pure numbers / punctuation tokens (dropped by default).
    lowercase
        Lower-case Latin tokens.
    min_length
        Drop tokens shorter than this many characters.

    A tokenizer is callable: ``Tokenizer()("社区党总支召开居民议事会")`` returns a list of tokens.
    ``None``, empty and whitespace-only input give ``[]``.
    """

    def __init__(
        self,
        *,
        engine: str = "rjieba",
        governance_terms: bool = True,
        user_words: WordSource = None,
        stopwords: WordSource = "default",
        extra_stopwords: WordSource = None,
        normalize: bool = True,
        hmm: bool = True,
        keep_numbers: bool = False,
        keep_punct: bool = False,
        lowercase: bool = True,
        min_length: int = 1,
    ) -> None:
        self.engine = engine
        self.governance_terms = governance_terms
        self.user_words = user_words
        self.stopwords = stopwords
        self.extra_stopwords = extra_stopwords
        self.normalize = normalize
        self.hmm = hmm
        self.keep_numbers = keep_numbers
        self.keep_punct = keep_punct
        self.lowercase = lowercase
        self.min_length = min_length
        self._lock = threading.Lock()
        self._seg: Any = None
        self._stop: frozenset[str] = frozenset()
        self._memo: _FilterMemo | None = None
        self._pos: Any = None

    # -- parameters -------------------------------------------------------------------------
    _PARAMS = (
        "engine", "governance_terms", "user_words", "stopwords", "extra_stopwords", "normalize",
        "hmm", "keep_numbers", "keep_punct", "lowercase", "min_length",
    )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters, as scikit-learn's ``clone``, ``Pipeline`` and ``GridSearchCV`` expect
        (``deep`` is accepted for that protocol; a Tokenizer holds no nested estimators)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> Tokenizer:
        """Change parameters (the segmenter is rebuilt on next use); unknown names are an error."""
        unknown = sorted(set(params) - set(self._PARAMS))
        if unknown:
            raise ParameterError(f"Tokenizer has no parameter(s) {unknown}; its parameters are {list(self._PARAMS)}")
        with self._lock:
            for name, value in params.items():
                setattr(self, name, value)
            self._seg = None
            self._stop = frozenset()
            self._memo = None
            self._pos = None
        return self

    def to_config(self) -> dict[str, Any]:
        """JSON-safe parameters; word files are read and stored as lists so the config is self-contained."""
        config = self.get_params()
        for name in ("user_words", "extra_stopwords", "stopwords"):
            value = config[name]
            if value is None or (name == "stopwords" and value == "default"):
                continue
            config[name] = [w if f is None else f"{w} {f}" for w, f in _load_words(value, name)]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Tokenizer:
        """A tokenizer from a saved config (what :meth:`to_config` wrote), every value checked now,
        not when the segmenter is first built: an :class:`InputError` says which is wrong."""
        if not isinstance(config, dict):
            raise InputError(f"saved tokenizer config must be a JSON object, got {type(config).__name__}")
        unknown = set(config) - set(cls._PARAMS)
        if unknown:
            raise InputError(f"unknown Tokenizer parameters in saved config: {sorted(unknown)[:10]}")
        for name in ("user_words", "extra_stopwords", "stopwords"):
            value = config.get(name)
            if value is None or (name == "stopwords" and value == "default"):
                continue
            # A saved object carries its word lists; it may not point at a file (outside its folder).
            if not (isinstance(value, list) and all(isinstance(w, str) for w in value)):
                raise InputError(f"saved tokenizer config: {name} must be a list of words, got "
                                 f"{type(value).__name__} {str(value)[:60]!r}")
            _read_word_lines(value)  # frequencies in range
        if config.get("engine", "rjieba") not in ENGINES:
            raise InputError(f"saved tokenizer config: engine must be one of {ENGINES}, got {str(config['engine'])[:40]!r}")
        for name in ("governance_terms", "normalize", "hmm", "keep_numbers", "keep_punct", "lowercase"):
            if name in config and not (isinstance(config[name], int) and config[name] in (0, 1)):
                raise InputError(f"saved tokenizer config: {name} must be true or false, got {str(config[name])[:40]}")
        length = config.get("min_length", 1)
        if not (isinstance(length, int) and not isinstance(length, bool) and 1 <= length <= _MAX_SAVED_MIN_LENGTH):
            raise InputError(f"saved tokenizer config: min_length must be an int in 1..{_MAX_SAVED_MIN_LENGTH}, "
                             f"got {str(length)[:40]}")
        return cls(**config)

    def __repr__(self) -> str:
        defaults = Tokenizer.__init__.__kwdefaults__ or {}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if defaults.get(k) != v]
        return f"Tokenizer({', '.join(changed)})"

    def __getstate__(self) -> dict[str, Any]:
        return self.get_params()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and self.get_params() == other.get_params()

    def __hash__(self) -> int:
        return hash(repr(self))

    @property
    def version_info(self) -> dict[str, str]:
        """The segmenter package and version used by this tokenizer."""
        return {"engine": self.engine, "engine_version": _engine_version(self.engine)}

    # -- building ---------------------------------------------------------------------------
    def _validate(self) -> None:
        if self.engine not in ENGINES:
            raise ParameterError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if not isinstance(self.min_length, int) or self.min_length < 1:
            raise ParameterError(f"min_length must be a positive int, got {self.min_length!r}")

    def _ensure_built(self) -> Any:
        seg = self._seg
        if seg is not None:
            return seg
        with self._lock:
            if self._seg is None:
                self._validate()
                words: list[tuple[str, int | None]] = []
                if self.governance_terms:
                    words += [(w, None) for w in governance_terms()]
                words += _load_words(self.user_words, "user_words")
                if self.normalize:
                    words = [(normalize_text(w), f) for w, f in words]
                if isinstance(self.stopwords, str) and self.stopwords == "default":
                    stop = set(default_stopwords())
                else:
                    stop = {w for w, _ in _load_words(self.stopwords, "stopwords")}
                stop.update(w for w, _ in _load_words(self.extra_stopwords, "extra_stopwords"))
                # A user word is never a stopword.
                stop.difference_update(w for w, _ in words)
                self._stop = frozenset(stop)
                self._seg = _build_segmenter(self.engine, words)
            return self._seg

    # -- segmentation -----------------------------------------------------------------------
    def segment(self, text: str | None) -> list[str]:
        """Raw segmentation (after normalisation) with no filtering: every piece, spaces included."""
        return self._segment(text, self.normalize)

    def _segment(self, text: str | None, normalize: bool) -> list[str]:
        if text is None or (isinstance(text, float) and math.isnan(text)):
            return []
        if not isinstance(text, str):
            raise ParameterError(f"Tokenizer expects a str (one document), got {type(text).__name__}")
        prepare = normalize_text if normalize else str
        if len(text) <= _CHUNK:
            return self._cut(prepare(text))
        pieces: list[str] = []
        for chunk in _chunks(text):
            pieces.extend(self._cut(prepare(chunk)))
            pieces.append("\n")
        return pieces

    def sentences(self, text: str | None, *, normalized: bool = False) -> list[tuple[str, list[str]]]:
        """Split ``text`` into sentences and tokenise each, with one pass of the segmenter.

        A sentence ends at 。!?;(full or half width) or a line break; returns ``(sentence, tokens)``
        pairs in reading order (sentences stripped; punctuation after a sentence belongs to it).
        ``normalized=True`` says the text is already ``normalize()``-d.

        >>> [s for s, _ in Tokenizer().sentences("居民议事会召开。会议通过了方案!")]
        ['居民议事会召开。', '会议通过了方案!']
        """
        sentences, pieces, starts, stops = self.sentence_pieces(text, normalized=normalized)
        kept = list(map(self._filter_memo().__getitem__, pieces))
        return [(sentence, list(filter(None, kept[a:b]))) for sentence, a, b in zip(sentences, starts, stops)]

    def sentence_pieces(self, text: str | None, *,
                        normalized: bool = False) -> tuple[list[str], list[str], list[int], list[int]]:
        """The sentences of ``text`` (as :meth:`sentences` gives them) with the segmenter's pieces
        they are made of, from one pass of the segmenter: ``(sentences, pieces, starts, stops)``,
        where sentence ``i`` spans ``pieces[starts[i]:stops[i]]`` (a piece that straddles a sentence
        end belongs to both sentences). Pieces are unfiltered; :meth:`keep` says what each becomes.
        For callers that count many sentences at once without building a token list per sentence.

        >>> Tokenizer().sentence_pieces("居民议事会召开。会议通过了方案!")[2:]
        ([0, 3], [3, 8])
        """
        pieces = self._segment(text, self.normalize and not normalized)
        ends = list(accumulate(map(len, pieces)))  # ends[i]: offset just past piece i
        joined = "".join(pieces)
        sentences: list[str] = []
        starts: list[int] = []
        stops: list[int] = []
        n = len(pieces)
        for m in SENTENCE_RE.finditer(joined):
            sentence = m.group().strip()
            if sentence:
                sentences.append(sentence)
                starts.append(bisect_right(ends, m.start()))
                stops.append(min(bisect_left(ends, m.end()) + 1, n))
        return sentences, pieces, starts, stops

    def keep(self, piece: str) -> str:
        """The token one segmenter piece becomes, or ``""`` when the tokenizer drops it (a stopword,
        punctuation, a number, shorter than ``min_length``): the filter of :meth:`__call__`."""
        self._ensure_built()
        return self._filter_memo()[piece]

    def _filter_memo(self) -> _FilterMemo:
        # Tokens repeat heavily (Zipf), so each distinct piece is judged once and remembered.
        memo = self._memo
        if memo is None or len(memo) > 1_000_000:
            memo = self._memo = _FilterMemo(self)
        return memo

    def _normalize(self, text: str) -> str:
        return normalize_text(text) if self.normalize else text

    def _prepare(self, text: Any) -> str:
        """The text as the segmenter sees it (normalised)."""
        if text is None or (isinstance(text, float) and math.isnan(text)):
            return ""
        if not isinstance(text, str):
            raise ParameterError(f"Tokenizer expects a str (one document), got {type(text).__name__}")
        return self._normalize(text)

    def _cut(self, text: str) -> list[str]:
        if not text:
            return []
        seg = self._ensure_built()
        if self.engine == "rjieba":
            try:
                return seg.cut(text, self.hmm)
            except UnicodeEncodeError:
                # Lone surrogates (half characters) cannot cross into Rust; they carry no text.
                return seg.cut(_LONE_SURROGATE_RE.sub("", text), self.hmm)
        return seg.lcut(text, HMM=self.hmm)

    def __call__(self, text: str | None, *, normalized: bool = False) -> list[str]:
        """Tokens of one document (``None`` or NaN gives no tokens). ``normalized=True`` says the
        text is already ``normalize()``-d, so that step is skipped."""
        return self._filter(self._segment(text, self.normalize and not normalized))

    def tag(self, text: str | None, *, normalized: bool = False) -> list[tuple[str, str]]:
        """Segment ``text`` and tag each piece with its part of speech (jieba's tag set: ``ns``
        place, ``nr`` person, ``v`` verb, …), with this tokenizer's dictionary and no filtering.

        >>> Tokenizer().tag("无锡市召开居民议事会")[:2]
        [('无锡市', 'ns'), ('召开', 'v')]
        """
        if text is None or (isinstance(text, float) and math.isnan(text)):
            return []
        if not isinstance(text, str):
            raise ParameterError(f"Tokenizer.tag expects a str (one document), got {type(text).__name__}")
        prepared = normalize_text(text) if self.normalize and not normalized else text
        out: list[tuple[str, str]] = []
        for chunk in (_chunks(prepared) if len(prepared) > _CHUNK else [prepared]):
            if chunk:
                out.extend(self._tag(chunk))
        return out

    def _tag(self, text: str) -> list[tuple[str, str]]:
        seg = self._ensure_built()
        if self.engine == "rjieba":
            try:
                return list(seg.tag(text, self.hmm))
            except UnicodeEncodeError:
                return list(seg.tag(_LONE_SURROGATE_RE.sub("", text), self.hmm))
        if self._pos is None:
            with self._lock:
                if self._pos is None:
                    import jieba.posseg

                    self._pos = jieba.posseg.POSTokenizer(seg)
        return [(pair.word, pair.flag) for pair in self._pos.lcut(text, HMM=self.hmm)]

    def _filter(self, pieces: list[str]) -> list[str]:
        return list(filter(None, map(self._filter_memo().__getitem__, pieces)))

    def _judge(self, tok: str) -> str:
        """The token to emit for one segmenter piece, or "" to drop it."""
        tok = tok.strip()
        if not tok or len(tok) < self.min_length:
            return ""
        if not self.keep_punct and not any(ch.isalnum() for ch in tok):
            return ""
        if not self.keep_numbers and _NUMBER_RE.match(tok):
            return ""
        if self.lowercase and tok.isascii():
            tok = tok.lower()
        return "" if tok in self._stop else tok

    def tokenize(self, texts: Iterable[str | None]) -> list[list[str]]:
        """Tokenise a list of documents (a bare str is an error)."""
        return [self(t) for t in check_text_list(texts)]


@dataclass(frozen=True)
class TermCoverage:
    """How one term fares in a corpus: occurrences as a whole token and as a substring."""

    term: str
    token_count: int
    text_count: int
    inside_count: int = 0  # occurrences inside a longer token (文明实践 within 新时代文明实践站)

    @property
    def status(self) -> str:
        """``"ok"`` (occurs as a token), ``"inside"`` (in the text, but only within longer tokens:
        a longer term holds it), ``"split"`` (in the text, cut apart by the segmenter) or ``"absent"``."""
        if self.token_count:
            return "ok"
        if not self.text_count:
            return "absent"
        return "inside" if self.inside_count else "split"

    @property
    def explanation(self) -> str:
        return {"ok": "a whole token", "inside": "inside a longer term", "split": "split by the segmenter",
                "absent": "not in the texts"}[self.status]


@dataclass(frozen=True)
class CoverageReport:
    """Result of :func:`coverage`, one :class:`TermCoverage` per term in the order given."""

    terms: tuple[TermCoverage, ...]

    @property
    def missing(self) -> list[str]:
        """Terms that never occur as a whole token (absent, or split by the segmenter)."""
        return [t.term for t in self.terms if t.status != "ok"]

    @property
    def split(self) -> list[str]:
        return [t.term for t in self.terms if t.status == "split"]

    @property
    def inside(self) -> list[str]:
        """Terms found only within longer tokens (counting them needs them as user words)."""
        return [t.term for t in self.terms if t.status == "inside"]

    @property
    def absent(self) -> list[str]:
        return [t.term for t in self.terms if t.status == "absent"]

    def __str__(self) -> str:
        width = max([4] + [_display_width(t.term) for t in self.terms]) + 2
        rows = [f"{_pad('term', width)}{'status':<8}{'as token':>9}{'in text':>9}  note"]
        rows += [f"{_pad(t.term, width)}{t.status:<8}{t.token_count:>9}{t.text_count:>9}  {t.explanation}"
                 for t in self.terms]
        return "\n".join(rows)


def _display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _display_width(text))


def coverage(texts: Iterable[str], terms: Iterable[str], *, tokenizer: Tokenizer | None = None) -> CoverageReport:
    """Check seed terms against a corpus: does each occur as a whole token?

    A term that appears in the text but never as one token is being split by the segmenter; add it
    with ``Tokenizer(user_words=[...])``.

    >>> report = coverage(["社区召开邻里议事会"], ["议事会", "邻里议事会", "楼道长"])
    >>> report.missing
    ['邻里议事会', '楼道长']
    """
    docs = check_text_list(texts, "texts")
    term_list = check_text_list(terms, "terms")
    tok = tokenizer if tokenizer is not None else Tokenizer(stopwords=None)
    norm_terms = [normalize_text(t) if tok.normalize else t for t in term_list]
    wanted = set(norm_terms)
    token_counts: Counter[str] = Counter()
    text_counts: Counter[str] = Counter()
    all_tokens: Counter[str] = Counter()
    for doc in docs:
        if doc is None:
            continue
        prepared = tok._prepare(doc)
        tokens = tok(doc)
        all_tokens.update(tokens)
        token_counts.update(t for t in tokens if t in wanted)
        for term in wanted:
            if term in prepared:
                text_counts[term] += prepared.count(term)
    inside: Counter[str] = Counter()
    for term in wanted:
        if text_counts[term] and not token_counts[term]:
            inside[term] = sum(n * token.count(term) for token, n in all_tokens.items() if term in token)
    return CoverageReport(
        tuple(TermCoverage(orig, token_counts[n], text_counts[n], inside[n]) for orig, n in zip(term_list, norm_terms))
    )
