"""Document metadata stored as columns, and filters evaluated on whole columns.

Every field of the metadata is a column of int32 codes, one per document: a code >= 0 is the
document's value (an index into the field's table of distinct values), -1 means the document has
no such field, and -2 - n means the value is a list, the field's list number n (its items are codes
into the same table). A filter's condition on a field is decided once per distinct value and then
spread over the rows with NumPy, so filtering a million documents reads arrays, not a million JSON
records. Each document's field order is kept (a code into the distinct orders, ``layouts``), so a
document's metadata comes back as the very dict it was.

Saved (no pickle), beside the other arrays of an index folder:

* ``meta.json``: ``fields`` (names), ``layouts`` (each a list of field numbers), ``values`` and
  ``lists`` (how many distinct values and lists each field has);
* ``meta_layout.npy`` (int32, one per document) and ``meta_codes.npy`` (int32, fields x documents);
* ``meta_list_ends.npy`` (int64: where each list's items end, field after field) and
  ``meta_list_items.npy`` (int32 value codes);
* ``meta_value_ends.npy`` (int64: where each value ends, field after field) and ``meta_values.npy``
  (uint8: the values as UTF-8 JSON, one after another), decoded only when a value is needed.
"""

from __future__ import annotations

import copy
import json
import os
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError
from ..persist import (
    IncompatibleModelError, check_saved, has_member, load_array, parse_json, read_json, saved_int,
)
from ._metadata import Filter, JsonLines, checked_row, is_range, key_matches

__all__ = ["COLUMN_FILES", "Columns", "MetadataTable", "encode", "filter_mask", "filter_rows", "read_columns",
           "write_columns"]

COLUMN_FILES = ("meta.json", "meta_layout.npy", "meta_codes.npy", "meta_list_ends.npy", "meta_list_items.npy",
                "meta_value_ends.npy", "meta_values.npy")
_ABSENT = -1
_MAX_SAVED = 2**31 - 3  # codes are int32


class _Held(Sequence[Any]):
    """A field's distinct values as Python objects (a table built in this process)."""

    def __init__(self, values: list[Any]) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: Any) -> Any:
        return self.values[i]

    def block(self) -> tuple[np.ndarray, bytes]:
        """The values as JSON, as saved: where each ends (from 0) and their UTF-8 bytes."""
        ends = [0]
        parts = []
        for v in self.values:
            data = json.dumps(v, ensure_ascii=False, default=str).encode("utf-8", errors="backslashreplace")
            parts.append(data)
            ends.append(ends[-1] + len(data))
        return np.asarray(ends, np.int64), b"".join(parts)


class _Stored(Sequence[Any]):
    """A field's distinct values in a saved folder: JSON read from the mapped bytes when asked for."""

    def __init__(self, ends: np.ndarray, data: np.ndarray, first: int, count: int, where: str) -> None:
        self._ends, self._data, self._first, self._count, self._where = ends, data, first, count, where

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, i: Any) -> Any:
        if not 0 <= i < self._count:
            raise IndexError(f"value {i} out of range for {self._count} values")
        a, b = int(self._ends[self._first + i]), int(self._ends[self._first + i + 1])
        return parse_json(bytes(self._data[a:b]), f"{self._where}, value {self._first + i}")

    def block(self) -> tuple[np.ndarray, bytes]:
        ends = np.asarray(self._ends[self._first:self._first + self._count + 1], np.int64)
        return ends - ends[0], bytes(self._data[int(ends[0]):int(ends[-1])])


class Columns:
    """The metadata of consecutive documents as columns (see the module's description)."""

    def __init__(self, fields: list[str], layouts: list[tuple[int, ...]], layout: np.ndarray, codes: np.ndarray,
                 list_ends: list[np.ndarray], list_items: list[np.ndarray], values: list[Any]) -> None:
        self.fields = fields
        self.layouts = layouts
        self.layout = layout
        self.codes = codes  # fields x documents
        self.list_ends = list_ends  # per field: where each of its lists ends, from 0
        self.list_items = list_items  # per field: the items of its lists
        self.values = values  # per field: its distinct values (_Held or _Stored)
        self._field_no = {name: i for i, name in enumerate(fields)}
        self._decoded: dict[int, list[Any]] = {}

    def __len__(self) -> int:
        return len(self.layout)

    def value(self, f: int, code: int) -> Any:
        if code >= 0:
            return self.values[f][code]
        if code == _ABSENT:
            return None
        n = -2 - code
        ends, items, table = self.list_ends[f], self.list_items[f], self.values[f]
        return [table[int(c)] for c in items[int(ends[n]):int(ends[n + 1])]]

    def row(self, i: int) -> dict[str, Any]:
        return {self.fields[f]: self.value(f, int(self.codes[f, i])) for f in self.layouts[int(self.layout[i])]}

    def _all_values(self, f: int) -> list[Any]:
        if f not in self._decoded:
            self._decoded[f] = list(self.values[f])
        return self._decoded[f]

    def key_mask(self, key: str, want: Any) -> np.ndarray:
        """Which documents pass the filter's ``key: want`` (the rule of :func:`key_matches`),
        decided once per distinct value of the field."""
        n = len(self)
        f = self._field_no.get(key)
        absent = key_matches(None, key, want)
        if f is None:
            return np.full(n, absent)
        codes = np.asarray(self.codes[f])
        values = self._all_values(f)
        out = np.full(n, absent)
        scalar = codes >= 0
        if scalar.any():
            ok = _decide(values, codes[scalar], lambda v: key_matches(v, key, want), key, want)
            out[scalar] = ok[codes[scalar]]
        lists = codes <= -2
        if lists.any():
            numbers = -2 - codes[lists]
            if is_range(want):  # a list against a range: the whole list compared, as row by row
                lists_of = _Held([self.value(f, int(c)) for c in codes[lists].tolist()])
                out[lists] = _decide(lists_of, np.arange(len(lists_of)), lambda v: key_matches(v, key, want), key, want)
            else:  # membership in a list: any of its items
                member = ((lambda v: v in want) if isinstance(want, (set, frozenset, list))
                          else (lambda v: want in [v]))
                items, ends = np.asarray(self.list_items[f]), np.asarray(self.list_ends[f], np.int64)
                item_ok = _decide(values, items, member, key, want)
                passed = np.zeros(len(items) + 1, np.int64)
                np.cumsum(item_ok[items], out=passed[1:])
                list_ok = passed[ends[1:]] > passed[ends[:-1]]
                out[lists] = list_ok[numbers]
        return out

    def mask(self, flt: Mapping[str, Any]) -> np.ndarray:
        out = np.ones(len(self), bool)
        for key, want in flt.items():
            out &= self.key_mask(key, want)
        return out


def _decide(values: Sequence[Any], used: np.ndarray, rule: Any, key: str, want: Any) -> np.ndarray:
    """``rule`` of each distinct value that ``used`` (codes) refers to; False for the others. A
    value the filter cannot be compared with is a ParameterError (a TypeError) naming both."""
    ok = np.zeros(len(values), bool)
    for code in np.flatnonzero(np.bincount(used, minlength=len(values))).tolist():
        try:
            ok[code] = bool(rule(values[code]))
        except TypeError as exc:
            raise ParameterError(f"filter {key!r}: {want!r} cannot be compared with the stored value "
                                 f"{values[code]!r} ({exc})") from None
    return ok


def _key(value: Any) -> Any:
    """A dict key telling distinct values apart (type included: 1, 1.0 and True stay distinct)."""
    try:
        hash(value)
        return (type(value), value)
    except TypeError:
        return ("json", type(value), json.dumps(value, ensure_ascii=False, default=str))


def _as_saved(value: Any) -> Any:
    """The value as it reads back from JSON (tuples become lists, dates strings), so that saved
    columns filter as the saved JSON records did."""
    if value is None or type(value) in (str, int, bool, float):
        return value
    if type(value) is list and all(v is None or type(v) in (str, int, bool, float) for v in value):
        return value
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _field_name(name: Any) -> str:
    """A field name as a JSON object's key reads back (1 -> "1", None -> "null")."""
    return name if isinstance(name, str) else next(iter(json.loads(json.dumps({name: 0}))))


def encode(rows: Iterable[Mapping[str, Any]], n: int, *, as_saved: bool = False) -> Columns:
    """The ``n`` metadata dicts ``rows`` as columns. ``as_saved``: values and field names as JSON
    reads them back (what a saved index holds), else as given (what a fitted index filters on)."""
    fields: list[Any] = []
    field_no: dict[Any, int] = {}
    layouts: list[tuple[int, ...]] = []
    layout_no: dict[tuple[Any, ...], int] = {}
    layout = np.zeros(n, np.int32)
    codes: list[np.ndarray] = []
    tables: list[dict[Any, int]] = []
    values: list[list[Any]] = []
    ends: list[array] = []
    items: list[array] = []
    count = 0
    for r, meta in enumerate(rows):
        count += 1
        keys = tuple(meta)
        lay = layout_no.get(keys)
        if lay is None:
            for k in keys:
                name = _field_name(k) if as_saved else k
                if name not in field_no:
                    field_no[name] = len(fields)
                    fields.append(name)
                    codes.append(np.full(n, _ABSENT, np.int32))
                    tables.append({})
                    values.append([])
                    ends.append(array("q", [0]))
                    items.append(array("i"))
            lay = layout_no[keys] = len(layouts)
            layouts.append(tuple(field_no[_field_name(k) if as_saved else k] for k in keys))
        layout[r] = lay
        for f, v in zip(layouts[lay], meta.values()):
            if as_saved:
                v = _as_saved(v)
            table, held = tables[f], values[f]
            if isinstance(v, list):
                out = items[f]
                for item in v:
                    key = _key(item)
                    code = table.get(key)
                    if code is None:
                        code = table[key] = len(held)
                        held.append(item)
                    out.append(code)
                codes[f][r] = -1 - len(ends[f])
                ends[f].append(len(out))
            else:
                key = _key(v)
                code = table.get(key)
                if code is None:
                    code = table[key] = len(held)
                    held.append(v)
                codes[f][r] = code
    if count != n:
        raise ValueError(f"expected {n} metadata records, got {count}")
    stacked = np.stack(codes) if codes else np.zeros((0, n), np.int32)
    return Columns(fields, layouts, layout, stacked, [np.frombuffer(e, np.int64) for e in ends],
                   [np.frombuffer(i, np.int32) if len(i) else np.zeros(0, np.int32) for i in items],
                   [_Held(v) for v in values])


def write_columns(folder: Path, parts: Sequence[Columns], replacing: Any) -> None:
    """Write the columns of ``parts`` (consecutive documents) as one table into ``folder``;
    ``replacing(path)`` is the context manager that writes a file beside its final name."""
    fields: list[str] = []
    field_no: dict[str, int] = {}
    for part in parts:
        for name in part.fields:
            if name not in field_no:
                field_no[name] = len(fields)
                fields.append(name)
    n = sum(len(p) for p in parts)
    n_fields = len(fields)
    layouts: list[tuple[int, ...]] = []
    layout_no: dict[tuple[int, ...], int] = {}
    layout = np.zeros(n, np.int32)
    codes = np.full((n_fields, n), _ABSENT, np.int32)
    n_values, n_lists = [0] * n_fields, [0] * n_fields
    value_ends: list[list[np.ndarray]] = [[] for _ in fields]
    value_data: list[list[bytes]] = [[] for _ in fields]
    list_ends: list[list[np.ndarray]] = [[] for _ in fields]
    list_items: list[list[np.ndarray]] = [[] for _ in fields]
    start = 0
    for part in parts:
        size = len(part)
        own = [field_no[name] for name in part.fields]
        lay_map = np.asarray([layout_no.setdefault(tuple(own[j] for j in lay), len(layout_no)) for lay in part.layouts]
                             or [0], np.int32)
        for lay, number in layout_no.items():
            if number == len(layouts):
                layouts.append(lay)
        layout[start:start + size] = lay_map[np.asarray(part.layout)] if size else []
        for j, f in enumerate(own):
            c = np.array(part.codes[j], np.int64)
            c[c >= 0] += n_values[f]
            c[c <= -2] -= n_lists[f]
            if len(c) and (c.max() > _MAX_SAVED or c.min() < -_MAX_SAVED):
                raise ValueError("more than 2**31 distinct values or lists in one metadata field")
            codes[f, start:start + size] = c
            ends, data = part.values[j].block()
            base = sum(len(d) for d in value_data[f])
            value_ends[f].append(ends[1:] + base)
            value_data[f].append(data)
            l_ends = np.asarray(part.list_ends[j], np.int64)
            done = sum(len(x) for x in list_items[f])
            list_ends[f].append(l_ends[1:] + done)
            list_items[f].append(np.asarray(part.list_items[j], np.int64) + n_values[f])
            n_values[f] += len(ends) - 1
            n_lists[f] += len(l_ends) - 1
        start += size
    offset, all_value_ends, all_data = 0, [np.zeros(1, np.int64)], []
    item_offset, all_list_ends, all_items = 0, [np.zeros(1, np.int64)], []
    for f in range(n_fields):
        for e, d in zip(value_ends[f], value_data[f]):
            all_value_ends.append(e + offset)
        size = sum(len(d) for d in value_data[f])
        all_data.extend(value_data[f])
        offset += size
        for e in list_ends[f]:
            all_list_ends.append(e + item_offset)
        count = sum(len(x) for x in list_items[f])
        all_items.extend(list_items[f])
        item_offset += count
    arrays = {
        "meta_layout.npy": layout, "meta_codes.npy": codes,
        "meta_list_ends.npy": np.concatenate(all_list_ends).astype(np.int64),
        "meta_list_items.npy": (np.concatenate(all_items) if all_items else np.zeros(0)).astype(np.int32),
        "meta_value_ends.npy": np.concatenate(all_value_ends).astype(np.int64),
        "meta_values.npy": np.frombuffer(b"".join(all_data), np.uint8),
    }
    for name, value in arrays.items():
        with replacing(folder / name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, value, allow_pickle=False)
    manifest = {"fields": fields, "layouts": [list(lay) for lay in layouts], "values": n_values, "lists": n_lists}
    with replacing(folder / "meta.json") as tmp:
        tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8", errors="backslashreplace")


def read_columns(folder: Path, n_docs: int, mmap: bool = True) -> Columns:
    """Read and check the columns :func:`write_columns` wrote (arrays memory-mapped with ``mmap``): every code,
    offset and layout within what the folder holds, so a crafted folder is an
    :class:`IncompatibleModelError` naming the file, never a crash or a wrong read elsewhere."""
    where = folder / "meta.json"
    info = read_json(folder, "meta.json")
    check_saved(where, isinstance(info, dict), "must be a JSON object")
    fields, layouts, n_values, n_lists = (info.get(k) for k in ("fields", "layouts", "values", "lists"))
    check_saved(where, isinstance(fields, list) and all(isinstance(x, str) for x in fields)
                and len(set(fields)) == len(fields), "'fields' must be a list of distinct names")
    n_fields = len(fields)
    check_saved(where, isinstance(layouts, list) and len(layouts) <= max(n_docs, 1)
                and all(isinstance(lay, list) and all(saved_int(f, 0, n_fields - 1) for f in lay)
                        and len(set(lay)) == len(lay) for lay in layouts),
                "'layouts' must be lists of distinct field numbers")
    for name, counts in (("values", n_values), ("lists", n_lists)):
        check_saved(where, isinstance(counts, list) and len(counts) == n_fields
                    and all(saved_int(c, 0, _MAX_SAVED) for c in counts), f"'{name}' must give a count per field")
    layout = load_array(folder / "meta_layout.npy", kinds="i", ndim=1, mmap=mmap, shape=(n_docs,))
    _check_codes(folder, "meta_layout.npy", layout, 0, len(layouts) - 1)
    codes = load_array(folder / "meta_codes.npy", kinds="i", ndim=2, mmap=mmap, shape=(n_fields, n_docs))
    list_ends = load_array(folder / "meta_list_ends.npy", kinds="i", ndim=1, mmap=mmap, shape=(sum(n_lists) + 1,))
    items = load_array(folder / "meta_list_items.npy", kinds="i", ndim=1, mmap=mmap)
    value_ends = load_array(folder / "meta_value_ends.npy", kinds="i", ndim=1, mmap=mmap, shape=(sum(n_values) + 1,))
    data = load_array(folder / "meta_values.npy", kinds="u", ndim=1, mmap=mmap)
    for name, ends, total in (("meta_list_ends.npy", list_ends, len(items)),
                              ("meta_value_ends.npy", value_ends, len(data))):
        ends_ok = int(ends[0]) == 0 and int(ends[-1]) == total and not (np.diff(ends) < 0).any()
        check_saved(folder / name, ends_ok, f"must rise from 0 to {total}")
    check_saved(folder / "meta_values.npy", data.dtype == np.uint8, "must hold bytes (uint8)")
    per_ends, per_items, per_values = [], [], []
    first_list = first_value = 0
    for f in range(n_fields):
        _check_codes(folder, "meta_codes.npy", codes[f], -1 - n_lists[f], n_values[f] - 1)
        ends = list_ends[first_list:first_list + n_lists[f] + 1]
        mine = items[int(ends[0]):int(ends[-1])]
        _check_codes(folder, "meta_list_items.npy", mine, 0, n_values[f] - 1)
        per_ends.append(np.asarray(ends, np.int64) - int(ends[0]))
        per_items.append(mine)
        per_values.append(_Stored(value_ends, data, first_value, n_values[f], str(folder / "meta_values.npy")))
        first_list += n_lists[f]
        first_value += n_values[f]
    return Columns(list(fields), [tuple(lay) for lay in layouts], layout, codes, per_ends, per_items, per_values)


def _check_codes(folder: Path, name: str, codes: np.ndarray, low: int, high: int) -> None:
    if len(codes) and (int(codes.min()) < low or int(codes.max()) > high):
        raise IncompatibleModelError(f"{folder / name}: holds codes from {int(codes.min())} to {int(codes.max())}; "
                                     f"the folder's counts allow {low} to {high}")


def has_columns(folder: Path) -> bool:
    return has_member(folder, "meta.json")


class MetadataTable(Sequence[dict[str, Any]]):
    """Every document's metadata, in row order: stored columns (a loaded index) followed by
    records held as dicts (fitted or added in this process), or, for an index saved before
    columns existed, its ``records.jsonl`` read a line at a time. ``mask(filter)`` evaluates a
    dict filter on whole columns (the dicts are turned into columns once, when a filter first
    needs them); for an old folder it is ``None`` and the filter runs row by row, as it did."""

    def __init__(self, rows: Sequence[Mapping[str, Any]] | JsonLines = (), *, columns: Columns | None = None,
                 folder: Path | None = None) -> None:
        self._columns = columns
        self._folder = folder  # where the columns were read from (a process receiving this reopens them)
        self._rows: Any = rows if isinstance(rows, JsonLines) else list(rows)
        self._encoded: list[Columns] = []
        self._encoded_n = 0
        self._last: tuple[Any, int, np.ndarray] | None = None

    @property
    def _base(self) -> int:
        return len(self._columns) if self._columns is not None else 0

    def __len__(self) -> int:
        return self._base + len(self._rows)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = checked_row(i, len(self))
        base = self._base
        return self._columns.row(i) if i < base else self._rows[i - base]  # type: ignore[union-attr]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(len(self)))

    def append(self, item: Mapping[str, Any]) -> None:
        self._rows.append(item)

    def extend(self, items: Iterable[Mapping[str, Any]]) -> None:
        self._rows.extend(items)

    @property
    def row_wise(self) -> bool:
        """True for an index saved before metadata columns existed (filters run row by row)."""
        return isinstance(self._rows, JsonLines)

    def mask(self, flt: Mapping[str, Any]) -> np.ndarray | None:
        """Which rows pass the dict filter ``flt`` (as :func:`matches_filter` decides it), or None
        for an old folder. The last filter's mask is kept, so the queries of one ``query_many``
        share it."""
        if self.row_wise:
            return None
        if self._last is not None and self._last[1] == len(self) and self._last[0] == flt:
            return self._last[2]
        if self._encoded_n < len(self._rows):
            fresh = self._rows[self._encoded_n:]
            self._encoded.append(encode(fresh, len(fresh)))
            self._encoded_n = len(self._rows)
        parts = ([self._columns] if self._columns is not None else []) + self._encoded
        out = np.concatenate([p.mask(flt) for p in parts]) if parts else np.zeros(0, bool)
        self._last = (copy.deepcopy(dict(flt)), len(self), out)
        return out

    def saved_parts(self) -> list[Columns]:
        """The columns to save: the stored ones as they are, the dicts as JSON reads them back."""
        parts = [self._columns] if self._columns is not None else []
        if len(self._rows):
            parts.append(encode(self._rows, len(self._rows), as_saved=True))
        return parts

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent to another process (a Dask worker): stored columns as their folder (the receiver maps
        # the same files), dicts as they are.
        if self._columns is not None and self._folder is not None:
            return (_reopened, (self._folder, len(self._columns), self._rows))
        return (_rebuilt, (self._columns, self._rows))


def _reopened(folder: Path, n: int, rows: Any) -> MetadataTable:
    return MetadataTable(rows, columns=read_columns(folder, n), folder=folder)


def _rebuilt(columns: Columns | None, rows: Any) -> MetadataTable:
    return MetadataTable(rows, columns=columns)


def filter_mask(metadata: Sequence[Mapping[str, Any]], flt: Filter) -> np.ndarray | None:
    """The rows a dict filter passes, as a mask over the metadata columns; None for no filter, a
    callable, or metadata without columns (an old folder, a plain list)."""
    if flt is None or callable(flt) or not isinstance(metadata, MetadataTable):
        return None
    return metadata.mask(flt)


def filter_rows(metadata: Sequence[Mapping[str, Any]], flt: Filter) -> Any:
    """A ``row -> bool`` for ``flt`` over ``metadata``: a dict filter read from a column mask when
    the metadata has columns, otherwise (callables, old folders) the filter applied row by row."""
    from ._metadata import matches_filter

    if flt is None:
        return None
    if not callable(flt) and isinstance(metadata, MetadataTable):
        mask = metadata.mask(flt)
        if mask is not None:
            return mask.__getitem__
    return lambda row: matches_filter(metadata[row], flt)  # type: ignore[arg-type]


def remove_files(folder: Path, names: Iterable[str]) -> None:
    for name in names:
        if (folder / name).exists():
            os.unlink(folder / name)
