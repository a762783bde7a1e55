"""Where batch rows go: output formats (JSON Lines, CSV, Parquet), the resumable chunk store
beside an output file, and the fingerprints that tell whether a rerun may resume.

With an output file, every finished chunk is first written to a folder beside the target
(``.NAME.govtext-parts``) under its final name by an atomic rename; when the last chunk is done
the chunks are joined into a temporary file that is renamed onto the target. A run killed at any
point therefore leaves either no output file or a complete one, plus the finished chunks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import os
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from .._version import __version__
from ..errors import InputError, ParameterError

__all__ = ["FORMATS", "Column", "ListOutput", "PartsOutput", "StreamOutput", "chunk_digest", "encode_rows",
           "folder_digest", "input_fingerprint", "open_output", "output_format", "refuse_output_as_input",
           "replace_folder", "same_file"]

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
                   ".pq": "parquet"}


class Column(NamedTuple):
    """An output column: ``kind`` is str, float, int, list (of str) or json (nested, as a JSON string)."""

    name: str
    kind: str = "str"
    sep: str = ";"



# --------------------------------------------------------------------------- output formats


def output_format(path: str | None, fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else from the file suffix, else JSON Lines."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ParameterError(f"unknown output format {fmt!r}; choose one of {', '.join(FORMATS)}")
        chosen = fmt
    elif path in (None, "-") or (os.path.exists(path) and not os.path.isfile(path)):
        chosen = "jsonl"  # stdout, or a device or pipe such as /dev/null
    else:
        suffix = Path(str(path)).suffix.lower()
        if suffix not in _SUFFIX_FORMATS:
            raise InputError(f"cannot tell the output format from {path!r}; name it .jsonl, .csv or .parquet, "
                             "or pass --format")
        chosen = _SUFFIX_FORMATS[suffix]
    if chosen == "parquet" and path in (None, "-"):
        raise InputError("Parquet output needs a file: pass -o OUT.parquet")
    return chosen


def _cell(value: Any, col: Column) -> Any:
    if value is None:
        return ""
    if col.kind == "list":
        return col.sep.join(str(v) for v in value)
    if col.kind == "json":
        return json.dumps(value, ensure_ascii=False)
    return value


def _encode_jsonl(rows: Sequence[dict[str, Any]]) -> bytes:
    # A lone surrogate in a passed-through field (an id such as "a\ud800") cannot be UTF-8; written
    # as the six characters \ud800 it is JSON's own escape for it, so the value comes back exactly.
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8", "backslashreplace")


def _escape_surrogates(value: Any) -> Any:
    """A str that UTF-8 can write (for Parquet): a lone surrogate becomes the text ``\ud800``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _encode_csv(rows: Sequence[dict[str, Any]], columns: Sequence[Column], header: bool = False) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if header:
        w.writerow([c.name for c in columns])
    for r in rows:
        w.writerow([_cell(r.get(c.name), c) for c in columns])
    return buf.getvalue().encode("utf-8", "backslashreplace")  # a lone surrogate as the text \ud800


def _arrow_schema(columns: Sequence[Column]) -> Any:
    import pyarrow as pa

    types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "list": pa.list_(pa.string()),
             "json": pa.string()}
    return pa.schema([(c.name, types[c.kind]) for c in columns])


def _arrow_table(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> Any:
    import pyarrow as pa

    data = {}
    for c in columns:
        values = [r.get(c.name) for r in rows]
        if c.kind == "json":
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        data[c.name] = [_escape_surrogates(v) for v in values]
    return pa.Table.from_pydict(data, schema=_arrow_schema(columns))


def need_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError("Parquet needs pyarrow: pip install govtext[parquet]") from None


def encode_rows(rows: list[dict[str, Any]], fmt: str | None, columns: Sequence[Column]) -> Any:
    """A chunk's rows as the output stores them: bytes for JSON Lines and CSV, else the rows."""
    if fmt == "jsonl":
        return _encode_jsonl(rows)
    if fmt == "csv":
        return _encode_csv(rows, columns)
    return rows


class StreamOutput:
    """Rows to an open text stream (stdout), chunk after chunk; nothing to resume."""

    def __init__(self, stream: IO[str], fmt: str, columns: Sequence[Column], close: bool = False) -> None:
        if fmt == "parquet":
            raise InputError("Parquet output needs a regular file: pass -o OUT.parquet")
        self.stream, self.fmt, self.columns, self.close = stream, fmt, columns, close
        self.done_records = 0
        self.done_chunks = 0
        if fmt == "csv":
            stream.write(_encode_csv([], columns, header=True).decode("utf-8"))

    def resume(self, records: Iterable[Any]) -> Iterator[Any]:
        return iter(records)

    def write(self, index: int, payload: bytes, n: int) -> None:
        self.stream.write(payload.decode("utf-8"))
        self.stream.flush()

    def finish(self) -> None:
        self.stream.flush()
        if self.close:
            self.stream.close()

    def abandon(self) -> None:
        if self.close:
            self.stream.close()


def hash_file(h: Any, path: Path) -> None:
    """Feed the bytes of ``path`` to the hash ``h``, a megabyte at a time."""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)


def _id_text(value: Any) -> str:
    """An id as the outputs write it (a lone surrogate as the text \\ud800), so that ids read back
    from a chunk compare equal to the records' own."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def chunk_digest(path: Path, index: int, ids: Sequence[Any]) -> str:
    """The first 16 hex digits of a SHA-256 over a chunk's place in the run, its records' ids (in
    order) and its bytes: a chunk renamed to another place, copied under another number or holding
    other records' rows no longer matches."""
    h = hashlib.sha256(f"{index}\n{len(ids)}\n".encode())
    h.update(json.dumps([_id_text(i) for i in ids], ensure_ascii=False).encode("utf-8"))
    h.update(b"\n")
    hash_file(h, path)
    return h.hexdigest()[:16]


class PartsOutput:
    """Finished chunks as files beside the target, joined and renamed onto it at the end."""

    def __init__(self, target: str | os.PathLike[str], fmt: str, columns: Sequence[Column],
                 fingerprint: dict[str, Any], resume: bool) -> None:
        if fmt == "parquet":
            need_pyarrow()
        self.target = Path(target)
        self.fmt, self.columns = fmt, tuple(columns)
        self.ext = {"jsonl": "jsonl", "csv": "csv", "parquet": "parquet"}[fmt]
        self.dir = self.target.parent / f".{self.target.name}.govtext-parts"
        self.target.parent.mkdir(parents=True, exist_ok=True)
        run_file = self.dir / "run.json"
        wanted = {"format": fmt, "columns": [list(c) for c in self.columns], **fingerprint}
        self.done_chunks = 0
        self.done_records = 0
        self.redone = 0  # damaged chunk files found on resume (deleted; their records are done again)
        self._found: list[tuple[Path, int, str]] = []
        if self.dir.exists():
            if not resume:
                raise InputError(f"an interrupted run left its finished chunks in {self.dir}; add --resume to "
                                 "continue it, or delete that folder to start over")
            try:
                stored = json.loads(run_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                stored = None
            if stored != wanted:
                differ = sorted(k for k in set(wanted) | set(stored or {}) if (stored or {}).get(k) != wanted.get(k))
                raise InputError(f"cannot resume: the run in {self.dir} was made with different settings or inputs "
                                 f"({', '.join(differ)}); delete that folder to start over")
            for tmp in self.dir.glob("*.tmp"):
                tmp.unlink()
            self._found = self._named_chunks()
            # Until resume() has checked them against the inputs, the named chunks count as done.
            self.done_chunks, self.done_records = len(self._found), sum(n for _, n, _ in self._found)
        else:
            self.dir.mkdir()
            tmp = run_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(wanted, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, run_file)

    def _named_chunks(self) -> list[tuple[Path, int, str]]:
        """The chunk files named 0, 1, 2, … in a row (path, records, digest); any other file (after a
        gap, unparseable, a second file for one place) is deleted and its records are redone."""
        files = {f.name: f for f in self.dir.glob(f"*.{self.ext}")}
        found: list[tuple[Path, int, str]] = []
        while True:
            here = [f for name, f in files.items() if name.startswith(f"{len(found):08d}-")]
            if len(here) != 1:
                break
            parts = here[0].name[: -len(self.ext) - 1].split("-")
            if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) < 1:
                break
            found.append((here[0], int(parts[1]), parts[2]))
            del files[here[0].name]
        for f in files.values():
            f.unlink()
        self.redone = len(files)
        return found

    def resume(self, records: Iterable[Any]) -> Iterator[Any]:
        """The records still to do. Each finished chunk is reused only when its digest matches its
        place, the ids of the input records at that place and its bytes; from the first chunk that
        does not (truncated, garbled, renamed, copied, another run's), that chunk and all later ones
        are deleted and their records done again. ``records`` are Records or the readers' thunks."""
        it = iter(records)
        done = 0
        for i, (path, n, digest) in enumerate(self._found):
            taken = list(itertools.islice(it, n))
            ids = [(t if hasattr(t, "id") else t()).id for t in taken]
            if len(taken) == n and chunk_digest(path, i, ids) == digest:
                done += n
                continue
            for later, _, _ in self._found[i:]:
                later.unlink()
            self.redone += len(self._found) - i
            self.done_chunks, self.done_records = i, done
            self._found = self._found[:i]
            return itertools.chain(taken, it)
        return it

    def write(self, index: int, payload: Any, n: int) -> None:
        tmp = self.dir / f"{index:08d}.tmp"
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(_arrow_table(payload, self.columns), tmp)
        else:
            tmp.write_bytes(payload)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())  # on disk before it is named finished
        ids = self._ids(payload)
        if len(ids) != n:
            raise InputError(f"chunk {index} has {len(ids)} rows with ids for {n} records")
        os.replace(tmp, self.dir / f"{index:08d}-{n}-{chunk_digest(tmp, index, ids)}.{self.ext}")

    def _ids(self, payload: Any) -> list[str]:
        """The ids of a chunk's rows, in order, read from what is written."""
        if self.fmt == "parquet":
            return [r["id"] for r in payload]
        text = payload.decode("utf-8")
        if self.fmt == "jsonl":
            return [json.loads(line)["id"] for line in text.splitlines()]
        where = [c.name for c in self.columns].index("id")
        return [row[where] for row in csv.reader(io.StringIO(text, newline=""))]

    def _chunk_files(self) -> list[Path]:
        files = sorted(self.dir.glob(f"*-*-*.{self.ext}"))
        for i, f in enumerate(files):
            if not f.name.startswith(f"{i:08d}-"):
                raise InputError(f"chunk files in {self.dir} are not consecutive at {f.name}")
        return files

    def abandon(self) -> None:
        """After a failure: keep finished chunks for --resume, or remove the folder if there are none."""
        if not any(self.dir.glob(f"*-*.{self.ext}")):
            shutil.rmtree(self.dir, ignore_errors=True)

    def finish(self) -> None:
        files = self._chunk_files()
        tmp = self.target.parent / f".{self.target.name}.joining"
        try:
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                with pq.ParquetWriter(tmp, _arrow_schema(self.columns)) as writer:
                    for f in files:
                        writer.write_table(pq.read_table(f, schema=_arrow_schema(self.columns)))
            else:
                with open(tmp, "wb") as out:
                    if self.fmt == "csv":
                        out.write(b"\xef\xbb\xbf")  # BOM: Excel then reads the Chinese text as UTF-8
                        out.write(_encode_csv([], self.columns, header=True))
                    for f in files:
                        with open(f, "rb") as fh:
                            shutil.copyfileobj(fh, out, 1 << 20)
            os.replace(tmp, self.target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        shutil.rmtree(self.dir, ignore_errors=True)


def input_fingerprint(inputs: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """The content of each input: a SHA-256 over its bytes (a folder: over its .txt files' names
    relative to it and their bytes). An input edited in place, even to the same size and time, no
    longer matches; the same file under another path still does."""
    from ..text.io import iter_text_files

    out: list[dict[str, Any]] = []
    for item in inputs:
        if str(item) == "-":
            out.append({"input": "-"})
            continue
        p = Path(item)
        if not p.exists():
            out.append({"input": "missing", "name": p.name})
            continue
        files = list(iter_text_files(p)) if p.is_dir() else [p]
        h = hashlib.sha256()
        for f in files:
            h.update(f"{f.relative_to(p) if p.is_dir() else ''}\0".encode("utf-8", "surrogateescape"))
            hash_file(h, f)
            h.update(b"\0")
        out.append({"files": len(files), "sha256": h.hexdigest()})
    return out


def folder_digest(folder: str | os.PathLike[str]) -> str:
    """SHA-256 over the names and bytes of the files in a saved model folder."""
    h = hashlib.sha256()
    for f in sorted(Path(folder).rglob("*")):
        if f.is_file():
            h.update(f.name.encode() + b"\0")
            hash_file(h, f)
    return h.hexdigest()


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (which may not exist yet) is ``folder`` or below it, links resolved."""
    try:
        resolved, base = path.resolve(), folder.resolve()
    except (OSError, RuntimeError):
        return False
    return resolved == base or base in resolved.parents


def refuse_output_as_input(path: str | os.PathLike[str], inputs: Sequence[Any], *, folder: bool = False) -> None:
    """Raise InputError when the output ``path`` is an input, or would be read as one: the same
    file under any name, a file a folder input reads (a ``.txt`` below it), or — for a ``folder``
    output, which is replaced as a whole — a folder that holds an input or sits inside an input folder."""
    out = Path(path)
    for item in inputs:
        if str(item) == "-":
            continue
        src = Path(item)
        if same_file(out, src):
            raise InputError(f"output {path} is also an input ({item}); write the results elsewhere")
        if src.is_dir() and _inside(out, src) and (folder or out.suffix.lower() == ".txt"):
            raise InputError(f"output {path} is inside the input folder {item}, whose files are read as input; "
                             "write the results outside it")
        if folder and _inside(src, out):
            raise InputError(f"output folder {path} holds the input {item}, and writing replaces the folder; "
                             "write the results to another folder")


def replace_folder(built: Path, target: Path) -> None:
    """Move the finished folder ``built`` onto ``target`` (a sibling): one rename when ``target``
    does not exist; otherwise an atomic exchange where the system has one (Linux), else the old
    folder is renamed aside first. Readers see the old folder or the new one, whole; the old one is
    then deleted."""
    if not target.exists():
        os.rename(built, target)
        return
    if _exchange(built, target):
        shutil.rmtree(built, ignore_errors=True)  # now holds the old folder
        return
    aside = target.parent / f".{target.name}.old-{os.getpid()}"
    os.rename(target, aside)
    try:
        os.rename(built, target)
    except BaseException:
        os.rename(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2(RENAME_EXCHANGE); False where that is unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def open_output(path: str | None, fmt: str, columns: Sequence[Column], fingerprint: dict[str, Any],
                resume: bool, *, inputs: Sequence[Any] = (), overwrite: bool = False) -> Any:
    """stdout (JSON Lines or CSV) when ``path`` is None or ``-``; otherwise resumable chunked output.

    An output that is one of the ``inputs`` (the same file under any name) or that a folder input
    would read is refused, even with ``overwrite``; an existing
    output file is replaced only with ``overwrite`` (or continued with ``resume``).
    """
    if path not in (None, "-"):
        refuse_output_as_input(path, inputs)
        if os.path.isfile(path) and not (overwrite or resume):
            raise FileExistsError(f"output {path} exists; pass --overwrite to replace it (or write elsewhere)")
    if path in (None, "-"):
        if resume:
            raise InputError("--resume needs an output file (-o OUT); stdout cannot be resumed")
        return StreamOutput(sys.stdout, fmt, columns)
    if os.path.exists(path) and not os.path.isfile(path):
        # A device or pipe (/dev/null, a FIFO): write into it; never rename a file over it.
        if os.path.isdir(path):
            raise IsADirectoryError(f"output {path} is a folder; give a file name")
        if resume:
            raise InputError(f"--resume needs a regular output file; {path} is a device or pipe")
        return StreamOutput(open(path, "w", encoding="utf-8", newline=""), fmt, columns, close=True)
    return PartsOutput(path, fmt, columns, {"govtext": __version__, **fingerprint}, resume)



class ListOutput:
    done_records = 0
    done_chunks = 0
    fmt = None
    columns: tuple[Column, ...] = ()

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def resume(self, records: Iterable[Any]) -> Iterator[Any]:
        return iter(records)

    def write(self, index: int, rows: list[dict[str, Any]], n: int) -> None:
        self.rows.extend(rows)

    def finish(self) -> None:
        pass

    def abandon(self) -> None:
        pass
