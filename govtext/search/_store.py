"""Saving and loading an index: postings as ``.npy`` arrays (loaded memory-mapped), ids as UTF-8
bytes with offsets and sorted digests (``_ids``: memory-mapped, decoded when shown), metadata as
columns (``_columns``: code arrays memory-mapped, values decoded when needed),
normalised texts as JSON lines (read lazily), vocabulary and IDF as JSON + npy.
No pickle; every array is checked before any C code reads it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..features.vectorize import Vectorizer, read_vocabulary, saved_params, write_vocabulary
from ..persist import (
    IncompatibleModelError, check_range, check_saved, has_member, load_array, read_json, saved_int, section,
    write_manifest,
)
from ..text.tokenize import Tokenizer
from ._columns import MetadataTable, encode, has_columns, read_columns, remove_files, write_columns
from ._ids import has_stored_ids, read_ids, write_ids
from ._metadata import JsonLines, with_parsed_date
from ._topk import check_postings

__all__ = ["Stored", "read_index", "upgrade_index", "write_index"]


@dataclass
class Stored:
    """What a saved index holds, read back."""

    vectorizer: Vectorizer
    segments: list[sp.csc_matrix]
    df: np.ndarray
    ids: Sequence[str]
    row_of: Any  # a dict, or IdRows over memory-mapped ids
    metadata: MetadataTable
    texts: Sequence[str] | None


def write_index(path: str | os.PathLike[str], *, vectorizer: Vectorizer, segments: Sequence[sp.csc_matrix],
                df: np.ndarray, ids: Sequence[str], metadata: Sequence[dict[str, Any]],
                texts: Sequence[str] | None, params: dict[str, Any],
                practice_words: Sequence[str] | None = None) -> Path:
    """Write an index to folder ``path``. Each file is written beside its final name and then moved
    into place, so saving over the folder an index was loaded from (memory-mapped) is safe.
    ``practice_words`` (the user words ``keep_practices`` added, the last of the tokenizer's) are
    written to the manifest when given."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    mats = [seg.tocsr() for seg in segments]
    merged = (sp.vstack(mats, format="csr") if len(mats) > 1 else mats[0]).tocsc()
    arrays = {"postings_data.npy": merged.data.astype(np.float32), "postings_indices.npy": merged.indices.astype(np.int32),
              "postings_indptr.npy": merged.indptr.astype(np.int64), "df.npy": np.asarray(df, np.int64)}
    for name, array in arrays.items():
        with _replacing(folder / name) as tmp, open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
    staging = folder / f".staging.{os.getpid()}"
    staging.mkdir(exist_ok=True)
    write_vocabulary(staging, vectorizer.get_feature_names_out(), vectorizer.idf_, prefix="vec_")
    for name in ("vec_vocabulary.json", "vec_idf.npy"):
        (staging / name).replace(folder / name)
    staging.rmdir()
    write_ids(folder, ids, _replacing)
    parts = (metadata.saved_parts() if isinstance(metadata, MetadataTable)
             else [encode(metadata, len(metadata), as_saved=True)])
    write_columns(folder, parts, _replacing)
    remove_files(folder, ("records.jsonl", _offsets_name("records.jsonl"), "ids.json"))  # the format before columns
    if texts is not None:
        _write_lines(folder, "texts.jsonl", (json.dumps(t, ensure_ascii=False) for t in texts))
    else:
        for name in ("texts.jsonl", _offsets_name("texts.jsonl")):
            if (folder / name).exists():
                (folder / name).unlink()
    return write_manifest(folder, "SimilarityIndex", {
        "params": params, "tokenizer": vectorizer.tokenizer_.to_config(),
        "vectorizer": vectorizer.to_config(), "n_documents": len(ids), "shape": list(merged.shape),
        **({"practice_words": list(practice_words)} if practice_words is not None else {}),
    }, engine=vectorizer.tokenizer_.engine)


def read_index(folder: Path, manifest: dict[str, Any], tokenizer: Tokenizer, mmap: bool) -> Stored:
    """Read and check what :func:`write_index` wrote (``manifest``: its ``govtext.json``). Every file
    is opened through :mod:`govtext.persist` (regular files only, headers checked before allocating)
    and every value checked; a damaged or crafted folder is an IncompatibleModelError naming the file."""
    where = folder / "govtext.json"
    vec_params = saved_params(folder, section(manifest, folder, "vectorizer"))
    terms, idf = read_vocabulary(folder, prefix="vec_")
    vectorizer = Vectorizer.from_vocabulary(terms, idf, tokenizer=tokenizer, **vec_params)
    shape = manifest.get("shape")
    check_saved(where, isinstance(shape, list) and len(shape) == 2 and all(saved_int(n, 0, 2**62) for n in shape),
                "'shape' must be [documents, terms]")
    n_docs, n_terms = shape
    check_saved(where, n_terms == len(terms),
                f"'shape' gives {n_terms} term columns but vec_vocabulary.json has {len(terms)} terms")
    indptr = load_array(folder / "postings_indptr.npy", kinds="iu", ndim=1, mmap=mmap, shape=(n_terms + 1,))
    data = load_array(folder / "postings_data.npy", kinds="f", ndim=1, mmap=mmap)
    indices = load_array(folder / "postings_indices.npy", kinds="iu", ndim=1, mmap=mmap, shape=(len(data),))
    check_postings(folder, data, indices, indptr, (n_docs, n_terms))
    # Weights are tf-idf values, scaled to unit length unless norm is None: never negative, and with
    # a norm never above 1 (a crafted 3e38 would overflow scores to infinity).
    check_range(folder, "postings_data.npy", data, 0.0, 1.0 + 1e-3 if vectorizer.norm is not None else 1e12)
    segments = [sp.csc_matrix((data, indices, indptr), shape=(n_docs, n_terms), copy=False)]
    df = load_array(folder / "df.npy", kinds="iu", ndim=1, shape=(n_terms,))
    check_range(folder, "df.npy", df, 0, n_docs)
    if has_stored_ids(folder):
        ids, row_of = read_ids(folder, n_docs, mmap)
    elif has_member(folder, "ids.json"):  # saved before the ids were memory-mapped
        ids, row_of = _ids_from_json(folder)
    else:
        raise IncompatibleModelError(f"{folder}: the ids (ids_utf8.npy and ids_ends.npy) are missing; rebuild the "
                                     f"index (govtext index)")
    if has_columns(folder):
        metadata = MetadataTable(columns=read_columns(folder, n_docs, mmap), folder=folder)
    elif has_member(folder, "records.jsonl"):  # saved before metadata columns: read row by row, as then
        metadata = MetadataTable(JsonLines(folder / "records.jsonl", decode=_record_metadata,
                                           line_ends=_saved_offsets(folder, "records.jsonl", n_docs)))
    else:
        raise IncompatibleModelError(f"{folder}: meta.json (the metadata columns) is missing; rebuild the index "
                                     f"(govtext index)")
    if len(metadata) != len(ids):
        raise IncompatibleModelError(f"{folder}: {len(metadata)} records for {len(ids)} ids")
    if len(ids) != n_docs:
        raise IncompatibleModelError(f"{folder}: {len(ids)} records but {n_docs} rows of postings")
    texts = None
    if has_member(folder, "texts.jsonl"):
        texts = JsonLines(folder / "texts.jsonl", decode=_stored_text,
                          line_ends=_saved_offsets(folder, "texts.jsonl", n_docs))
        if len(texts) != n_docs:
            raise IncompatibleModelError(f"{folder}: texts.jsonl has {len(texts)} lines for {n_docs} documents")
    return Stored(vectorizer, segments, df, ids, row_of, metadata, texts)


def upgrade_index(path: str | os.PathLike[str]) -> bool:
    """Rewrite, in place, the metadata and ids of an index folder saved before metadata columns and
    memory-mapped ids (``records.jsonl``, ``ids.json``) in the present form, leaving its postings
    and texts as they are (``load(path).save(path)`` rewrites everything). False when there was
    nothing to do."""
    from ..persist import read_manifest, reading

    folder = Path(path)
    with reading(folder, "SimilarityIndex"):
        manifest = read_manifest(folder, "SimilarityIndex")
        if has_columns(folder) and has_stored_ids(folder):
            return False
        stored = read_index(folder, manifest, Tokenizer.from_config(section(manifest, folder, "tokenizer")), True)
        write_columns(folder, stored.metadata.saved_parts(), _replacing)
        write_ids(folder, stored.ids, _replacing)
        remove_files(folder, ("records.jsonl", _offsets_name("records.jsonl"), "ids.json"))
    return True


def _ids_from_json(folder: Path) -> tuple[list[str], dict[str, int]]:
    ids = read_json(folder, "ids.json")
    check_saved(folder / "ids.json", isinstance(ids, list) and set(map(type, ids)) <= {str},
                "must be a JSON list of strings")
    row_of = dict(zip(ids, range(len(ids))))
    if len(row_of) != len(ids):
        raise IncompatibleModelError(f"{folder}: ids.json repeats ids")
    return ids, row_of


def _offsets_name(name: str) -> str:
    return name.replace(".jsonl", "_lines.npy")


def _write_lines(folder: Path, name: str, lines: Iterator[str]) -> None:
    """Write JSON lines to ``folder/name`` and, beside it, where each line ends (``*_lines.npy``:
    0, then the byte after each line's newline), so that loading need not scan the file for them.
    An index saved before the offsets existed has none and is scanned as before."""
    ends = [0]
    with _replacing(folder / name) as tmp, open(tmp, "wb") as fh:
        for line in lines:
            # errors="backslashreplace": a lone surrogate is written as JSON's own escape for it
            data = (line + "\n").encode("utf-8", errors="backslashreplace")
            fh.write(data)
            ends.append(ends[-1] + len(data))
    with _replacing(folder / _offsets_name(name)) as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.asarray(ends, dtype=np.int64), allow_pickle=False)


def _saved_offsets(folder: Path, name: str, n_lines: int) -> np.ndarray | None:
    offsets = _offsets_name(name)
    if not has_member(folder, offsets):
        return None
    return load_array(folder / offsets, kinds="iu", ndim=1, shape=(n_lines + 1,))


def _record_metadata(record: Any, where: str) -> dict[str, Any]:
    if not (isinstance(record, dict) and isinstance(record.get("metadata"), dict)):
        raise IncompatibleModelError(f"{where}: a record must be a JSON object with a 'metadata' object")
    return with_parsed_date(record["metadata"])


def _stored_text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise IncompatibleModelError(f"{where}: a stored text must be a JSON string, got {type(value).__name__}")
    return value


@contextmanager
def _replacing(final: Path) -> Iterator[Path]:
    """A temporary path beside ``final``, moved onto it once written (and removed on failure):
    a reader that has the old file memory-mapped keeps its copy."""
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        tmp.replace(final)
    finally:
        if tmp.exists():
            tmp.unlink()

