"""Metadata of indexed documents and the filters that select on it (used by :class:`SimilarityIndex`).

A filter is ``None``, a callable ``metadata -> bool``, or a dict of field -> value (equality;
membership when the stored value is a list), field -> ``(low, high)`` (inclusive range, ``None``
for an open end; dates in any form :func:`~govtext.clean.parse_date` reads) or field -> a set of
values.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..text.clean import parse_date
from ..errors import ParameterError

__all__ = ["Filter", "JsonLines", "checked_filter", "checked_row", "is_range", "key_matches", "matches_filter", "with_parsed_date"]

Filter = Mapping[str, Any] | Callable[[dict[str, Any]], bool] | None


def with_parsed_date(meta: dict[str, Any]) -> dict[str, Any]:
    """Metadata with its ``date`` read once, as ``YYYY-MM-DD`` (kept as given when it is no date)."""
    if "date" in meta:
        parsed = parse_date(meta["date"])
        if parsed is not None and parsed != meta["date"]:
            meta = {**meta, "date": parsed}
    return meta


def date_bound(value: Any, which: str) -> str | None:
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        raise ParameterError(f"cannot read the {which} date {value!r}: use a date such as 2025-06-12, 20250612, "
                             f"2025/6/12 or 2025年6月12日")
    return parsed


def checked_filter(flt: Filter) -> Filter:
    """The filter with a ``date`` range's bounds read as dates (a bound that is no date is an error)."""
    if flt is None or callable(flt):
        return flt
    if not isinstance(flt, Mapping):
        raise ParameterError(f"filter must be a dict or a callable, got {type(flt).__name__}")
    want = flt.get("date")
    if isinstance(want, tuple) and len(want) == 2:
        return {**flt, "date": (date_bound(want[0], "first"), date_bound(want[1], "last"))}
    return flt


def matches_filter(meta: dict[str, Any], flt: Filter) -> bool:
    if flt is None:
        return True
    if callable(flt):
        return bool(flt(meta))
    return all(key_matches(meta.get(key), key, want) for key, want in flt.items())


def checked_row(i: int, n: int, what: str = "rows") -> int:
    """Row ``i`` of ``n`` rows, a negative one counted from the end; an ``IndexError`` outside them."""
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"row {i} out of range for {n} {what}")
    return i


def is_range(want: Any) -> bool:
    """Whether a filter's value is an inclusive range ``(low, high)``."""
    return isinstance(want, tuple) and len(want) == 2


def key_matches(have: Any, key: str, want: Any) -> bool:
    """Whether a stored value ``have`` (``None`` when the field is absent) passes the filter's
    ``key: want``: the one rule both the row-by-row and the column-wise filters apply."""
    if is_range(want):  # inclusive range, None = open end
        lo, hi = want
        if key == "date":
            have = parse_date(have)  # stored parsed; a value that is no date matches no range
        return not (have is None or (lo is not None and have < lo) or (hi is not None and have > hi))
    if isinstance(want, (set, frozenset, list)):
        values = have if isinstance(have, list) else [have]
        return any(v in want for v in values)
    if isinstance(have, list):
        return want in have
    return not have != want




class JsonLines(Sequence[Any]):
    """A read-only list over a JSON Lines file of a saved folder, decoded one line at a time when an
    item is asked for (``decode`` turns the parsed line into the item, raising
    :class:`~govtext.IncompatibleModelError` for a value it cannot use). The file is opened as every
    file of a saved folder is (a regular file, no link or FIFO) and memory-mapped, so a large index
    opens at once and only the rows a query shows are read; a line that is not UTF-8 JSON is an
    ``IncompatibleModelError`` naming the file and line when it is read. ``append``/``extend`` add
    items held in memory (documents added after loading)."""

    def __init__(self, path: str | os.PathLike[str], decode: Callable[[Any, str], Any] | None = None,
                 line_ends: np.ndarray | None = None) -> None:
        from ..persist import open_member

        self._path = Path(path)
        self._decode = decode
        with open_member(self._path.parent, self._path.name) as fh:
            size = os.fstat(fh.fileno()).st_size
            self._map: Any = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._line_ends = line_ends
        self._extra: list[Any] = []
        if line_ends is not None:
            # Where each line ends, saved beside the file, so the file need not be read to find them;
            # offsets that do not fit the file (it was rewritten without them) are not used.
            bounds = np.asarray(line_ends, dtype=np.int64)
            if (bounds.ndim == 1 and len(bounds) and bounds[0] == 0 and bounds[-1] == size
                    and not (np.diff(bounds) < 1).any()):
                self._starts, self._ends = bounds[:-1], bounds[1:] - 1
                return
            self._line_ends = None
        buf = np.frombuffer(self._map, dtype=np.uint8) if size else np.zeros(0, np.uint8)
        ends = np.flatnonzero(buf == 10)
        if size and (not len(ends) or ends[-1] != size - 1):
            ends = np.r_[ends, size]  # last line without a newline
        self._starts = np.r_[0, ends[:-1] + 1].astype(np.int64) if len(ends) else np.zeros(0, np.int64)
        self._ends = ends.astype(np.int64)

    def __len__(self) -> int:
        return len(self._starts) + len(self._extra)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self._starts)
        i = checked_row(i, len(self))
        if i >= n:
            return self._extra[i - n]
        from ..persist import parse_json

        value = parse_json(bytes(self._map[self._starts[i] : self._ends[i]]), f"{self._path}, line {i + 1},")
        return self._decode(value, f"{self._path}, line {i + 1}") if self._decode is not None else value

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to another process (a Dask worker) as its path: the receiver maps the same file.
        return (_reopened, (self._path, self._decode, self._extra, self._line_ends))

    def append(self, item: Any) -> None:
        self._extra.append(item)

    def extend(self, items: Iterable[Any]) -> None:
        self._extra.extend(items)


def _reopened(path: Path, decode: Callable[[Any, str], Any] | None, extra: list[Any],
              line_ends: np.ndarray | None = None) -> JsonLines:
    lines = JsonLines(path, decode, line_ends)
    lines.extend(extra)
    return lines
