"""Document ids of a saved index, memory-mapped: nothing is read for them at load but their arrays'
headers and a few vectorised checks, and an id is decoded only when a result shows it.

Saved (no pickle), beside the other arrays of an index folder:

* ``ids_utf8.npy`` (uint8): every id's UTF-8 bytes, one after another (lone surrogates kept, as
  ``surrogatepass`` writes them), and ``ids_ends.npy`` (int64): where each ends, from 0;
* ``ids_hash.npy`` (uint64, ascending): an 8-byte BLAKE2b digest of each id, and
  ``ids_hash_rows.npy`` (int64): the row of each, so that an id is found by a binary search
  (``row_of_[id]``) and its bytes compared, without a dict of every id.

Folders saved before (``ids.json``) load as then: a list of the ids and a dict from id to row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..persist import IncompatibleModelError, check_saved, has_member, load_array
from ._metadata import checked_row

__all__ = ["ID_FILES", "IdRows", "StoredIds", "has_stored_ids", "read_ids", "write_ids"]

ID_FILES = ("ids_utf8.npy", "ids_ends.npy", "ids_hash.npy", "ids_hash_rows.npy")


def _encoded(doc_id: str) -> bytes:
    return doc_id.encode("utf-8", errors="surrogatepass")


def _digest(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


class StoredIds(Sequence[str]):
    """The ids in row order, decoded one at a time from the mapped bytes; ids added after loading
    are held as a list."""

    def __init__(self, ends: np.ndarray, data: np.ndarray, where: str) -> None:
        self._ends, self._data, self._where = ends, data, where
        self._n = len(ends) - 1
        self._extra: list[str] = []

    def __len__(self) -> int:
        return self._n + len(self._extra)

    def _bytes(self, i: int) -> bytes:
        return bytes(self._data[int(self._ends[i]):int(self._ends[i + 1])])

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = checked_row(int(i), len(self), "ids")
        if i >= self._n:
            return self._extra[i - self._n]
        try:
            return self._bytes(i).decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError as exc:
            raise IncompatibleModelError(f"{self._where}: id {i} is not UTF-8: {exc}") from None

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))

    def append(self, doc_id: str) -> None:
        self._extra.append(doc_id)

    def extend(self, ids: Iterable[str]) -> None:
        self._extra.extend(ids)


class IdRows:
    """``id -> row`` over :class:`StoredIds`: a binary search in the sorted digests, then the bytes
    compared (so a digest shared by two ids cannot mix them up); ids added after loading in a dict."""

    def __init__(self, ids: StoredIds, digests: np.ndarray, rows: np.ndarray) -> None:
        self._ids, self._digests, self._rows = ids, digests, rows
        self._extra: dict[str, int] = {}

    def _find(self, doc_id: Any) -> int | None:
        if not isinstance(doc_id, str):
            return None
        if doc_id in self._extra:
            return self._extra[doc_id]
        data = _encoded(doc_id)
        key = np.uint64(_digest(data))
        lo = int(np.searchsorted(self._digests, key, "left"))
        hi = int(np.searchsorted(self._digests, key, "right"))
        for j in range(lo, hi):
            row = int(self._rows[j])
            if self._ids._bytes(row) == data:
                return row
        return None

    def __contains__(self, doc_id: object) -> bool:
        return self._find(doc_id) is not None

    def __getitem__(self, doc_id: str) -> int:
        row = self._find(doc_id)
        if row is None:
            raise KeyError(doc_id)
        return row

    def get(self, doc_id: str, default: Any = None) -> Any:
        row = self._find(doc_id)
        return default if row is None else row

    def __setitem__(self, doc_id: str, row: int) -> None:
        self._extra[doc_id] = row

    def __len__(self) -> int:
        return len(self._rows) + len(self._extra)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)


def write_ids(folder: Path, ids: Sequence[str], replacing: Any) -> None:
    """Write ``ids`` (row order) as the four arrays above; ``replacing(path)`` writes a file beside
    its final name and moves it into place."""
    encoded = [_encoded(x) for x in ids]
    ends = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=ends[1:])
    digests = np.fromiter((_digest(b) for b in encoded), np.uint64, count=len(encoded))
    order = np.argsort(digests, kind="stable")
    arrays = {"ids_utf8.npy": np.frombuffer(b"".join(encoded), np.uint8), "ids_ends.npy": ends,
              "ids_hash.npy": digests[order], "ids_hash_rows.npy": order.astype(np.int64)}
    for name, value in arrays.items():
        with replacing(folder / name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, value, allow_pickle=False)


def has_stored_ids(folder: Path) -> bool:
    return has_member(folder, "ids_ends.npy")


def read_ids(folder: Path, n_docs: int, mmap: bool = True) -> tuple[StoredIds, IdRows]:
    """Read and check what :func:`write_ids` wrote: offsets rising through the bytes, digests in
    order, every row once, and no id twice (ids whose digests are equal are compared) — all with
    NumPy over the mapped arrays, so a crafted folder is an IncompatibleModelError, never a crash."""
    data = load_array(folder / "ids_utf8.npy", kinds="u", ndim=1, mmap=mmap)
    check_saved(folder / "ids_utf8.npy", data.dtype == np.uint8, "must hold bytes (uint8)")
    ends = load_array(folder / "ids_ends.npy", kinds="i", ndim=1, mmap=mmap, shape=(n_docs + 1,))
    check_saved(folder / "ids_ends.npy", int(ends[0]) == 0 and int(ends[-1]) == len(data)
                and not (np.diff(ends) < 0).any(), f"must rise from 0 to {len(data)}")
    digests = load_array(folder / "ids_hash.npy", kinds="u", ndim=1, mmap=mmap, shape=(n_docs,))
    rows = load_array(folder / "ids_hash_rows.npy", kinds="i", ndim=1, mmap=mmap, shape=(n_docs,))
    check_saved(folder / "ids_hash.npy", digests.dtype == np.uint64 and not (digests[1:] < digests[:-1]).any(),
                "must hold 8-byte digests in ascending order")
    every_row = len(rows) == 0 or (int(rows.min()) >= 0 and int(rows.max()) < n_docs
                                   and bool((np.bincount(rows, minlength=n_docs) == 1).all()))
    check_saved(folder / "ids_hash_rows.npy", every_row, f"must hold each row 0..{n_docs - 1} once")
    ids = StoredIds(ends, data, str(folder / "ids_utf8.npy"))
    same = np.flatnonzero(digests[1:] == digests[:-1])
    for j in same.tolist():
        a, b = int(rows[j]), int(rows[j + 1])
        if ids._bytes(a) == ids._bytes(b):
            raise IncompatibleModelError(f"{folder}: the id {ids[a]!r} is saved twice (rows {a} and {b})")
    return ids, IdRows(ids, digests, rows)
