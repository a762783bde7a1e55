"""Primitives shared by every stage: character classes, sentence splitting, argument checks and
progress bars. Private to govtext; the names here have no underscore because other modules use them.

Nothing here imports scikit-learn, pandas or a segmenter, so any module may import it cheaply.
"""

from __future__ import annotations

import functools
import numbers
import os
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .errors import ParameterError

# Chinese names of the default themes, for charts and the local page (other labels show as they are).
THEME_NAMES = {"party_building": "党建引领", "civility": "文明创建", "co_governance": "共建共治共享"}

# CJK ideographs (regex class contents): the unified block, and with Extension A and the compatibility
# block, all of them. Every module builds its patterns from these two.
HAN_UNIFIED = "\u4e00-\u9fff"
HAN = f"\u3400-\u4dbf{HAN_UNIFIED}\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
HAN_RUN_RE = re.compile(f"[{HAN}]+")

# Sentence-ending punctuation, full or half width: full stops end a sentence; semicolons end a
# clause, which counts as a sentence unless a caller asks for full stops only.
FULL_STOP = "。!?！？"
CLAUSE_END = ";；"
SENTENCE_END = FULL_STOP + CLAUSE_END


@functools.lru_cache(maxsize=None)
def sentence_pattern(ends: str = SENTENCE_END) -> re.Pattern[str]:
    """A sentence: a run without ``ends`` or line breaks, with the ``ends`` that close it. One pass,
    linear time (nothing to backtrack into)."""
    return re.compile(f"[^{ends}\n]+[{ends}]*")


SENTENCE_RE = sentence_pattern()


def split_sentences(text: str, *, ends: str = SENTENCE_END, ended: bool = False,
                    strip: bool = True) -> list[str]:
    """Sentences of ``text`` in reading order, empty ones dropped. ``ends``: the punctuation that
    closes one (default: full stops and semicolons); ``ended=True`` drops a last piece that no
    punctuation closes; ``strip=False`` keeps the spaces around each."""
    found = sentence_pattern(ends).findall(text)
    if ended:
        found = [s for s in found if s[-1] in ends]
    return [s for s in map(str.strip, found) if s] if strip else found


def check_text_list(texts: Sequence[str] | object, what: str = "texts") -> list[Any]:
    """A list of documents; a bare string is an error, not a list of characters."""
    if isinstance(texts, (str, bytes)):
        raise ParameterError(
            f"{what} must be a list of documents, got a single {type(texts).__name__}; wrap it in a list: [text]"
        )
    if texts is None:
        raise ParameterError(f"{what} must be a list of documents, got None")
    try:
        return list(texts)  # type: ignore[call-overload]
    except TypeError:
        raise ParameterError(f"{what} must be an iterable of documents, got {type(texts).__name__}") from None


# -- parameter checks ------------------------------------------------------------------------------
# Each raises ParameterError saying which parameter, what was expected and what came in.

def _got(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_int(owner: str, name: str, value: Any, *, low: int | None = None, high: int | None = None,
              none: bool = False) -> None:
    if value is None and none:
        return
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok and low is not None and value < low:
        ok = False
    if ok and high is not None and value > high:
        ok = False
    if not ok:
        bounds = (f" >= {low}" if low is not None and high is None else f" in [{low}, {high}]" if low is not None
                  else f" <= {high}" if high is not None else "")
        raise ParameterError(f"{owner}: {name} must be an int{bounds}{' or None' if none else ''}, got {_got(value)}")


def check_number(owner: str, name: str, value: Any, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, none: bool = False) -> None:
    if value is None and none:
        return
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value  # not NaN
    if ok and low is not None and (value < low or (low_open and value == low)):
        ok = False
    if ok and high is not None and value > high:
        ok = False
    if not ok:
        lo = "" if low is None else (f" > {low}" if low_open else f" >= {low}")
        hi = "" if high is None else f" <= {high}"
        raise ParameterError(f"{owner}: {name} must be a number{lo}{' and' if lo and hi else ''}{hi}"
                             f"{' or None' if none else ''}, got {_got(value)}")


def check_bool(owner: str, name: str, value: Any, *, none: bool = False) -> None:
    if value is None and none:
        return
    if not isinstance(value, (bool, numbers.Integral)) or value not in (0, 1):
        raise ParameterError(f"{owner}: {name} must be True or False{' or None' if none else ''}, got {_got(value)}")


def check_choice(owner: str, name: str, value: Any, choices: Iterable[Any]) -> None:
    options = tuple(choices)
    if value not in options:
        raise ParameterError(f"{owner}: {name} must be one of {options}, got {_got(value)}")


def check_df(owner: str, name: str, value: Any) -> None:
    """A document-frequency bound: an int count >= 0 or a float share in [0, 1]."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0:
        return
    if isinstance(value, float) and 0.0 <= value <= 1.0:
        return
    raise ParameterError(f"{owner}: {name} must be a document count (int >= 0) or a share of documents "
                         f"(float in [0, 1]), got {_got(value)}")


def check_tokenizer(owner: str, value: Any) -> None:
    """``None`` or a :class:`govtext.Tokenizer`."""
    from .text.tokenize import Tokenizer  # here, not at the top: tokenize imports this module

    if value is not None and not isinstance(value, Tokenizer):
        raise ParameterError(f"{owner}: tokenizer must be a govtext.Tokenizer or None, got {type(value).__name__}")


def check_n_jobs(owner: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value == 0 or value < -1:
        raise ParameterError(f"{owner}: n_jobs must be None, -1 (all cores) or a positive int, got {_got(value)}")


# -- progress -----------------------------------------------------------------------------------------

def tqdm_class(show: bool) -> Any:
    """tqdm.auto's bar (a widget in Jupyter) for a bar shown; the plain class for a hidden one, whose
    import does not warn in a Jupyter kernel without ipywidgets."""
    if show:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm


def progress_bar(total: int | None, *, desc: str | None = None, show: bool | None = None, initial: int = 0,
                 leave: bool = True) -> Any:
    """A tqdm bar on stderr (a widget in Jupyter). ``show=None`` shows it when stderr is a terminal;
    a hidden bar is a disabled tqdm, so callers update it without checking."""
    if show is None:
        show = sys.stderr.isatty()
    tqdm = tqdm_class(show)
    return tqdm(total=total, initial=initial, desc=desc, unit="doc", disable=not show, file=sys.stderr,
                mininterval=0.5, smoothing=0.05, dynamic_ncols=True, leave=leave)


# -- renamed parameters ----------------------------------------------------------------------------
CHUNK_SIZE = 1000  # documents per unit of work, everywhere (batch chunks, parallel tokenising, indexing)


def renamed(owner: str, old_params: dict[str, Any], new_names: dict[str, str], current: dict[str, Any]) -> dict[str, Any]:
    """Values of parameters passed under their old names (``old_params``: the caller's leftover
    keyword arguments), mapped to the new names with a DeprecationWarning. Unknown names and a
    parameter given under both names are errors."""
    import warnings

    out = dict(current)
    for old, value in old_params.items():
        if old not in new_names:
            raise ParameterError(f"{owner}() got an unexpected keyword argument {old!r}")
        new = new_names[old]
        warnings.warn(f"{owner}(): {old}= is deprecated and will be removed; use {new}=", DeprecationWarning,
                      stacklevel=3)
        out[new] = value
    return out


def process_map(fn: Any, items: Any, n_jobs: int, *args: Any) -> Any:
    """``fn(item, *args)`` for each item, yielded in order, computed in ``n_jobs`` (-1: one per core)
    worker processes with a few items in flight. The workers are this call's alone: they end when
    it does, and when this process dies, even by ``kill -9`` (joblib's reusable loky workers
    outlived a killed parent)."""
    import os
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    workers = max(1, os.cpu_count() or 1 if n_jobs == -1 else int(n_jobs))
    with ProcessPoolExecutor(max_workers=workers, initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
        pending: deque[Any] = deque()
        for item in items:
            pending.append(pool.submit(fn, item, *args))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def exit_with_parent(parent: int) -> None:
    """Make this worker end when the process that started it dies, even by ``kill -9``: on Linux
    the kernel sends SIGTERM (prctl PR_SET_PDEATHSIG); elsewhere a daemon thread polls the parent."""
    import signal
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, signal.SIGTERM, 0, 0, 0) == 0:  # 1 = PR_SET_PDEATHSIG
                if os.getppid() != parent:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="govtext-parent-watch", daemon=True).start()
