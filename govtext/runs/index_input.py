"""The documents ``govtext index`` indexes: one input record made into (text, id, metadata), and
Parquet inputs as a Dask DataFrame whose partitions the workers read themselves.

Each partition is a run of rows of the inputs (a file's row groups, sliced), planned here from the
files' footers alone; a worker reads its rows with pyarrow and turns every row into a document
exactly as the streaming path does (same cleaning, title, metadata, ids and error messages), so a
sharded index built on a cluster holds what ``govtext index`` builds from the same files in one
process, and no process holds all texts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import GovtextError
from ..text.io import Fields, Record, record_from_fields, record_text

__all__ = ["index_document", "parquet_frame", "parquet_inputs", "plan_parts"]

_PARQUET = (".parquet", ".pq")


def index_document(rec: Record, clean: bool) -> tuple[str, str, dict[str, Any]]:
    """(text, id, metadata) of one input record; a record that cannot be indexed raises a
    :class:`~govtext.GovtextError` saying why (its ``error``, or an empty text)."""
    from ..text.clean import clean_title, usable_text

    if rec.error is not None:
        raise GovtextError(rec.error)
    text, art = usable_text(record_text(rec), clean=clean)
    m = {k: v for k, v in (("title", art.title), ("date", art.date), ("source", art.source)) if v} if art else {}
    m.update(rec.metadata)
    if art is not None and rec.metadata.get("title") not in (None, ""):
        m["title"] = clean_title(rec.metadata["title"]) or m["title"]  # normalised like the body
    return text, rec.id, m


def parquet_inputs(inputs: Sequence[str]) -> bool:
    """Whether every input is an existing Parquet file (the inputs a Dask DataFrame reads)."""
    return bool(inputs) and all(Path(p).suffix.lower() in _PARQUET and Path(p).is_file() for p in inputs)


@dataclass(frozen=True)
class _Piece:
    path: str  # as given (it names records, as the streaming reader names them)
    first: int  # the piece's first row in the file (0-based)
    stop: int


def plan_parts(inputs: Sequence[str], bounds: Sequence[int]) -> list[list[_Piece]]:
    """The rows of ``inputs`` (in order) cut at ``bounds`` (global row numbers, first 0, last the
    total): for each part, the pieces of files it covers. Only the files' footers are read."""
    import pyarrow.parquet as pq

    sizes = [(str(Path(p)), pq.ParquetFile(p).metadata.num_rows) for p in inputs]
    parts: list[list[_Piece]] = []
    for lo, hi in zip(bounds, bounds[1:]):
        pieces, start = [], 0
        for path, n in sizes:
            a, b = max(lo, start), min(hi, start + n)
            if a < b:
                pieces.append(_Piece(path, a - start, b - start))
            start += n
        parts.append(pieces)
    return parts


def _read_part(pieces: list[_Piece], fields: Fields, clean: bool) -> Any:
    """One partition, read where it is computed: a row per input record, with its ``id``, ``text``
    (None when it cannot be indexed), ``metadata`` (a JSON object, as the index saves it: Dask
    turns object columns into text) and ``error`` (None, or why)."""
    import pandas as pd
    import pyarrow.parquet as pq

    rows: dict[str, list[Any]] = {"id": [], "text": [], "metadata": [], "error": []}
    for piece in pieces:
        pf = pq.ParquetFile(piece.path)
        start = 0
        for group in range(pf.num_row_groups):
            n = pf.metadata.row_group(group).num_rows
            a, b = max(piece.first, start), min(piece.stop, start + n)
            if a < b:
                table = pf.read_row_group(group).slice(a - start, b - a)
                for offset, obj in enumerate(table.to_pylist()):
                    row_no = a + offset + 1
                    rec = record_from_fields(obj, f"row {row_no} of {piece.path}", f"{piece.path}:{row_no}", fields)
                    try:
                        text, doc_id, meta = index_document(rec, clean)
                    except GovtextError as exc:
                        text, doc_id, meta, error = None, rec.id, {}, str(exc)
                    else:
                        error = None
                    meta_json = json.dumps(meta, ensure_ascii=False, default=str)  # as saving writes it
                    for key, value in (("id", doc_id), ("text", text), ("metadata", meta_json), ("error", error)):
                        rows[key].append(value)
            start += n
    return pd.DataFrame(rows, columns=["id", "text", "metadata", "error"]).astype(object)


def parquet_frame(inputs: Sequence[str], bounds: Sequence[int], fields: Fields, clean: bool) -> Any:
    """The Parquet ``inputs`` as a Dask DataFrame of one partition per run of rows between
    ``bounds``, each read and made into documents by the worker that computes it."""
    import dask.dataframe as dd
    import pandas as pd

    meta = pd.DataFrame({c: pd.Series([], dtype=object) for c in ("id", "text", "metadata", "error")})
    return dd.from_map(_read_part, plan_parts(inputs, bounds), fields=fields, clean=clean, meta=meta,
                       enforce_metadata=False)


def parquet_rows(inputs: Sequence[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in inputs)
