"""Batch work over whole corpora: ordered chunks, one row per record, worker processes, resumable output.

The engine reads :class:`~govtext.io.Record` objects lazily, groups them into chunks, has a *row
maker* turn each chunk into rows (in this process, in worker processes, or on a Dask cluster) and
writes the rows in input order. Memory stays flat: only a few chunks are in flight at any time.

With an output file, every finished chunk is first written to a folder beside the target
(``.NAME.govtext-parts``) under its final name by an atomic rename; when the last chunk is done
the chunks are joined into a temporary file that is renamed onto the target. A run killed at any
point therefore leaves either no output file or a complete one, plus the finished chunks, and a
rerun with ``resume=True`` continues after them and produces the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from ._common import CHUNK_SIZE, renamed
from .errors import InputError, ParameterError
from ._version import __version__
from .io import Record

__all__ = ["BatchSummary", "ClassifyRows", "CleanRows", "KeywordRows", "TokenizeRows", "classify_frame",
           "output_format", "run_batch"]

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet",
                   ".pq": "parquet"}


class Column(NamedTuple):
    """An output column: ``kind`` is str, float, int, list (of str) or json (nested, as a JSON string)."""

    name: str
    kind: str = "str"
    sep: str = ";"


def _fmt_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- row makers


class _RowMaker:
    """Turns a chunk of records into one row (dict) per record, in order. Picklable."""

    columns: tuple[Column, ...] = ()

    def fingerprint(self) -> dict[str, Any]:
        """Everything that changes the rows; a resumed run must match it."""
        raise NotImplementedError

    def rows(self, records: Sequence[Record]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def __call__(self, items: Sequence[Record | Callable[[], Record]]) -> list[dict[str, Any]]:
        # Items may be unread records (thunks from the readers): reading and parsing them here
        # moves that work into the worker processes.
        return self.rows([it if isinstance(it, Record) else it() for it in items])


def _document_text(text: str | None, clean: bool) -> str:
    """The record's text to analyse; EmptyTextError when there is none (becomes an error row)."""
    from .clean import usable_text

    return usable_text(text, clean=clean)[0]


class ClassifyRows(_RowMaker):
    """Rows of theme probabilities (``p_<label>``), predicted ``labels`` and, optionally, evidence.

    ``title`` and ``date`` come from the record's fields, or — when ``clean`` — from the page.
    ``digits`` rounds probabilities (``None`` keeps full precision).
    """

    def __init__(self, model: Any, *, clean: bool = True, explain: bool = False, digits: int | None = 4) -> None:
        from ._linear import ThemeArithmetic

        if not isinstance(model, ThemeArithmetic):
            raise ParameterError(f"model must be a ThemeClassifier, got {type(model).__name__}")
        if not hasattr(model, "coef_"):
            raise InputError("the ThemeClassifier is not fitted yet; call fit() or load a saved one")
        self.model = model
        self.clean = clean
        self.explain = explain
        self.digits = digits
        cols = [Column("id"), Column("title"), Column("date")]
        cols += [Column(f"p_{lab}", "float") for lab in model.classes_]
        cols.append(Column("labels", "list"))
        if explain:
            cols.append(Column("evidence", "json"))
        cols.append(Column("error"))
        self.columns = tuple(cols)

    def fingerprint(self) -> dict[str, Any]:
        return {"rows": "classify", "clean": self.clean, "explain": self.explain, "digits": self.digits,
                "labels": [str(c) for c in self.model.classes_]}

    def _prob(self, p: float) -> float:
        return round(float(p), self.digits) if self.digits is not None else float(p)

    def rows(self, records: Sequence[Record]) -> list[dict[str, Any]]:
        from .clean import usable_text

        model = self.model
        rows: list[dict[str, Any] | None] = [None] * len(records)
        texts: list[str] = []
        where: list[int] = []
        for i, rec in enumerate(records):
            if rec.error is not None:
                rows[i] = {"id": rec.id, "error": rec.error}
                continue
            try:
                text, art = usable_text(rec.text, clean=self.clean)
                row: dict[str, Any] = {"id": rec.id}
                row["title"] = rec.metadata.get("title") or (art.title if art else None) or None
                row["date"] = rec.metadata.get("date") or (art.date if art else None) or None
                rows[i] = {k: v for k, v in row.items() if v is not None}
                texts.append(text)
                where.append(i)
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the batch
                rows[i] = {"id": rec.id, "error": _fmt_error(exc)}
        if texts:
            # Article.text is normalised already, so the classifier need not normalise it again.
            predict = functools.partial(model.predict_proba, normalized=self.clean)
            try:
                proba = predict(texts)
            except Exception:  # noqa: BLE001 - find the record at fault, classify the others
                proba = None
            for k, i in enumerate(where):
                row = rows[i]  # type: ignore[assignment]
                try:
                    p = proba[k] if proba is not None else predict([texts[k]])[0]
                    row.update({f"p_{lab}": self._prob(v) for lab, v in zip(model.classes_, p)})
                    row["labels"] = [str(lab) for lab, v, t in zip(model.classes_, p, model.thresholds_) if v >= t]
                    if self.explain:
                        ex = model.explain(texts[k], top=5, max_sentences=2)
                        row["evidence"] = {e.label: {"terms": [t.term for t in e.terms], "sentences": list(e.sentences)}
                                           for e in ex.labels if e.predicted}
                except Exception as exc:  # noqa: BLE001
                    rows[i] = {"id": records[i].id, "error": _fmt_error(exc)}
        return rows  # type: ignore[return-value]


class _PerRecord(_RowMaker):
    """A row maker that handles records one at a time."""

    def one(self, rec: Record) -> dict[str, Any]:
        raise NotImplementedError

    def rows(self, records: Sequence[Record]) -> list[dict[str, Any]]:
        out = []
        for rec in records:
            if rec.error is not None:
                out.append({"id": rec.id, "error": rec.error})
                continue
            try:
                out.append(self.one(rec))
            except Exception as exc:  # noqa: BLE001 - reported in the row
                out.append({"id": rec.id, "error": _fmt_error(exc)})
        return out


class CleanRows(_PerRecord):
    """Rows of the article found in each page: title, date, source, author, body and dropped lines."""

    def __init__(self, *, show_removed: bool = False) -> None:
        self.show_removed = show_removed
        cols = [Column(n) for n in ("id", "title", "date", "source", "author", "body")]
        cols.append(Column("removed", "json") if show_removed else Column("removed_lines", "int"))
        cols.append(Column("error"))
        self.columns = tuple(cols)

    def fingerprint(self) -> dict[str, Any]:
        return {"rows": "clean", "show_removed": self.show_removed}

    def one(self, rec: Record) -> dict[str, Any]:
        from .clean import usable_text

        _, art = usable_text(rec.text, clean=True)
        assert art is not None
        row: dict[str, Any] = {"id": rec.id, "title": art.title, "date": art.date, "source": art.source,
                               "author": art.author, "body": art.body}
        if self.show_removed:
            row["removed"] = [[r.reason, r.text] for r in art.removed]
        else:
            row["removed_lines"] = len(art.removed)
        return row


class TokenizeRows(_PerRecord):
    """Rows of tokens (space-separated in CSV)."""

    columns = (Column("id"), Column("tokens", "list", " "), Column("error"))

    def __init__(self, tokenizer: Any, *, clean: bool = True) -> None:
        self.tokenizer = tokenizer
        self.clean = clean

    def fingerprint(self) -> dict[str, Any]:
        return {"rows": "tokenize", "clean": self.clean, "tokenizer": self.tokenizer.to_config()}

    def one(self, rec: Record) -> dict[str, Any]:
        return {"id": rec.id, "tokens": self.tokenizer(_document_text(rec.text, self.clean))}


class KeywordRows(_PerRecord):
    """Rows of the ``k`` top TF-IDF keywords with their scores."""

    columns = (Column("id"), Column("keywords", "json"), Column("error"))

    def __init__(self, vectorizer: Any, *, k: int = 10, clean: bool = True) -> None:
        self.vectorizer = vectorizer
        self.k = k
        self.clean = clean

    def fingerprint(self) -> dict[str, Any]:
        vocab = sorted(self.vectorizer.vocabulary_.items())
        digest = hashlib.sha256(json.dumps(vocab, ensure_ascii=False).encode()).hexdigest()
        idf = hashlib.sha256(self.vectorizer.idf_.tobytes()).hexdigest()
        return {"rows": "keywords", "k": self.k, "clean": self.clean, "vocabulary": digest, "idf": idf}

    def one(self, rec: Record) -> dict[str, Any]:
        kws = self.vectorizer.keywords(_document_text(rec.text, self.clean), k=self.k)
        return {"id": rec.id, "keywords": [[kw.term, round(kw.score, 4)] for kw in kws]}


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


def _need_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise ImportError("Parquet needs pyarrow: pip install govtext[parquet]") from None


def _encode(rows: list[dict[str, Any]], fmt: str | None, columns: Sequence[Column]) -> Any:
    """A chunk's rows as the output stores them: bytes for JSON Lines and CSV, else the rows."""
    if fmt == "jsonl":
        return _encode_jsonl(rows)
    if fmt == "csv":
        return _encode_csv(rows, columns)
    return rows


class _StreamOutput:
    """Rows to an open text stream (stdout), chunk after chunk; nothing to resume."""

    def __init__(self, stream: IO[str], fmt: str, columns: Sequence[Column], close: bool = False) -> None:
        if fmt == "parquet":
            raise InputError("Parquet output needs a regular file: pass -o OUT.parquet")
        self.stream, self.fmt, self.columns, self.close = stream, fmt, columns, close
        self.done_records = 0
        self.done_chunks = 0
        if fmt == "csv":
            stream.write(_encode_csv([], columns, header=True).decode("utf-8"))

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


def _hash_file(h: Any, path: Path) -> None:
    """Feed the bytes of ``path`` to the hash ``h``, a megabyte at a time."""
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)


def _file_digest(path: Path, records: int) -> str:
    """The first 16 hex digits of the SHA-256 of a chunk's record count and bytes."""
    h = hashlib.sha256(f"{records}\n".encode())
    _hash_file(h, path)
    return h.hexdigest()[:16]


class _PartsOutput:
    """Finished chunks as files beside the target, joined and renamed onto it at the end."""

    def __init__(self, target: str | os.PathLike[str], fmt: str, columns: Sequence[Column],
                 fingerprint: dict[str, Any], resume: bool) -> None:
        if fmt == "parquet":
            _need_pyarrow()
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
            self.done_chunks, self.done_records, self.redone = self._verified_chunks()
        else:
            self.dir.mkdir()
            tmp = run_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(wanted, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, run_file)

    def _verified_chunks(self) -> tuple[int, int, int]:
        """(chunks, records) that a resumed run may reuse, and how many chunk files it must redo.

        A chunk is reused only when its name gives its place, its record count and the SHA-256 of
        that count and its bytes, and they match; from the first chunk that does not (truncated, emptied,
        garbled, renamed, missing), that chunk and all later ones are deleted and redone."""
        files = {f.name: f for f in self.dir.glob(f"*.{self.ext}")}
        chunks = records = 0
        while True:
            found = [f for name, f in files.items() if name.startswith(f"{chunks:08d}-")]
            if len(found) != 1:
                break
            parts = found[0].name[: -len(self.ext) - 1].split("-")
            if len(parts) != 3 or not parts[1].isdigit() or _file_digest(found[0], int(parts[1])) != parts[2]:
                break
            records += int(parts[1])
            chunks += 1
            del files[found[0].name]
        for f in files.values():  # damaged or orphaned chunks: redone
            f.unlink()
        return chunks, records, len(files)

    def write(self, index: int, payload: Any, n: int) -> None:
        tmp = self.dir / f"{index:08d}.tmp"
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(_arrow_table(payload, self.columns), tmp)
        else:
            tmp.write_bytes(payload)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())  # on disk before it is named finished
        os.replace(tmp, self.dir / f"{index:08d}-{n}-{_file_digest(tmp, n)}.{self.ext}")

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


# --------------------------------------------------------------------------- running


class _Job:
    """What a worker does with a chunk: make the rows, count errors, encode them for the output."""

    def __init__(self, maker: _RowMaker, fmt: str | None, columns: Sequence[Column]) -> None:
        self.maker, self.fmt, self.columns = maker, fmt, tuple(columns)

    def __call__(self, items: Sequence[Any]) -> tuple[Any, int, int]:
        rows = self.maker(items)
        return _encode(rows, self.fmt, self.columns), len(rows), sum("error" in r for r in rows)


_JOB: _Job | None = None


def _exit_with_parent(parent: int) -> None:
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


def _install(job: _Job, parent: int | None = None) -> None:
    """Worker initialiser: keep the job (with the row maker and its model) for every chunk, and
    end with the parent process."""
    global _JOB
    _JOB = job
    if parent is not None:
        _exit_with_parent(parent)


def _work(items: list[Any]) -> tuple[Any, int, int]:
    assert _JOB is not None, "worker started without a job"
    return _JOB(items)


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for rec in records:
        chunk.append(rec)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _ordered(submit: Callable[[list[Record]], Any], chunks: Iterable[list[Record]], window: int) -> Iterator[Any]:
    """Results of ``submit(chunk).result()`` in input order, with at most ``window`` chunks in flight."""
    pending: deque[Any] = deque()
    for chunk in chunks:
        pending.append(submit(chunk))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def resolve_jobs(jobs: int | None) -> int:
    if jobs is None:
        return 1
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs == 0 or jobs < -1:
        raise ParameterError(f"jobs must be a positive int or -1 (all cores), got {jobs!r}")
    return os.cpu_count() or 1 if jobs == -1 else jobs


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did: records written in this run, error rows among them, records resumed past."""

    records: int
    errors: int
    resumed: int


def _progress(show: bool | None, initial: int, total: int | None) -> Any:
    if show is None:
        show = sys.stderr.isatty()
    from tqdm.auto import tqdm  # a widget in Jupyter, text on a terminal

    return tqdm(total=total, initial=initial, unit="doc", disable=not show, file=sys.stderr, mininterval=0.5,
                smoothing=0.05, dynamic_ncols=True)


START_METHODS = ("spawn", "fork", "forkserver")


def run_batch(
    records: Iterable[Record | Callable[[], Record]],
    maker: _RowMaker,
    output: Any,
    *,
    n_jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: bool | None = None,
    executor: Any = None,
    total: int | None = None,
    start_method: str | None = None,
) -> BatchSummary:
    """Write one row per record to ``output`` (a ``_StreamOutput``, ``_PartsOutput`` or ``_ListOutput``), in order.

    ``records`` may hold unread records (the readers' thunks), which are then read in the workers.
    ``n_jobs > 1`` runs the row maker in that many worker processes, started with ``start_method``
    (default: the platform's — *fork* on Linux up to Python 3.13, *spawn* on macOS and Windows);
    every worker gets the row maker, and the model in it, once, when it starts. ``executor`` is a
    Dask client (see :mod:`govtext.dask`). The output is written in input order whatever finishes first.
    """
    jobs = resolve_jobs(n_jobs)
    if start_method is not None and start_method not in START_METHODS:
        raise ParameterError(f"start_method must be one of {START_METHODS} or None, got {start_method!r}")
    chunks = _chunks(records, chunk_size)
    job = _Job(maker, output.fmt, output.columns)
    bar = None
    n = n_err = 0
    pool = None
    try:
        if executor is not None:
            from .dask import submit_with_client

            results: Iterator[tuple[Any, int, int]] = _ordered(submit_with_client(executor, job), chunks,
                                                               window=2 * max(1, _n_workers(executor)) + 1)
        elif jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context(start_method)
            if context.get_start_method() == "fork":
                # Build what the row maker builds lazily (segmenter, OpenCC converters) once, here:
                # forked workers then share it instead of each building their own.
                maker([Record("warm-up", "社区党建引领文明楼道創建")])
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                       initializer=_install, initargs=(job, os.getpid()))
            results = _ordered(lambda c: pool.submit(_work, c), chunks, window=2 * jobs)
        else:
            results = (job(c) for c in chunks)
        for i, (payload, size, errors) in enumerate(results, start=output.done_chunks):
            if bar is None:  # made after the workers exist: no progress thread is ever forked
                bar = _progress(progress, output.done_records, total)
            output.write(i, payload, size)
            n += size
            n_err += errors
            bar.update(size)
        output.finish()
    except BaseException:
        output.abandon()
        raise
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return BatchSummary(records=n, errors=n_err, resumed=output.done_records)


def _n_workers(client: Any) -> int:
    try:
        return len(client.scheduler_info().get("workers", {}))
    except Exception:  # noqa: BLE001 - only sizes the window
        return 2


def input_fingerprint(inputs: Sequence[str | os.PathLike[str]]) -> list[dict[str, Any]]:
    """The content of each input: a SHA-256 over its bytes (a folder: over its .txt files' names
    relative to it and their bytes). An input edited in place, even to the same size and time, no
    longer matches; the same file under another path still does."""
    from .io import iter_text_files

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
            _hash_file(h, f)
            h.update(b"\0")
        out.append({"files": len(files), "sha256": h.hexdigest()})
    return out


def folder_digest(folder: str | os.PathLike[str]) -> str:
    """SHA-256 over the names and bytes of the files in a saved model folder."""
    h = hashlib.sha256()
    for f in sorted(Path(folder).rglob("*")):
        if f.is_file():
            h.update(f.name.encode() + b"\0")
            _hash_file(h, f)
    return h.hexdigest()


def _same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def open_output(path: str | None, fmt: str, columns: Sequence[Column], fingerprint: dict[str, Any],
                resume: bool, *, inputs: Sequence[Any] = (), overwrite: bool = False) -> Any:
    """stdout (JSON Lines or CSV) when ``path`` is None or ``-``; otherwise resumable chunked output.

    An output that is one of the ``inputs`` (the same file under any name) is refused; an existing
    output file is replaced only with ``overwrite`` (or continued with ``resume``).
    """
    if path not in (None, "-"):
        for item in inputs:
            if str(item) != "-" and _same_file(path, item):
                raise InputError(f"output {path} is also an input ({item}); write the results to another file")
        if os.path.isfile(path) and not (overwrite or resume):
            raise FileExistsError(f"output {path} exists; pass --overwrite to replace it (or write elsewhere)")
    if path in (None, "-"):
        if resume:
            raise InputError("--resume needs an output file (-o OUT); stdout cannot be resumed")
        return _StreamOutput(sys.stdout, fmt, columns)
    if os.path.exists(path) and not os.path.isfile(path):
        # A device or pipe (/dev/null, a FIFO): write into it; never rename a file over it.
        if os.path.isdir(path):
            raise IsADirectoryError(f"output {path} is a folder; give a file name")
        if resume:
            raise InputError(f"--resume needs a regular output file; {path} is a device or pipe")
        return _StreamOutput(open(path, "w", encoding="utf-8", newline=""), fmt, columns, close=True)
    return _PartsOutput(path, fmt, columns, {"govtext": __version__, **fingerprint}, resume)


# --------------------------------------------------------------------------- pandas


def theme_model(model: Any) -> Any:
    """``model`` if it is a ThemeClassifier (or ThemePredictor); else the model saved in that folder
    (None: the bundled model), loaded for prediction only, without importing scikit-learn."""
    from ._linear import ThemePredictor, ThemeArithmetic
    from .persist import default_model_path

    if isinstance(model, ThemeArithmetic):
        return model
    return ThemePredictor.load(default_model_path() if model is None else model)


def classify_frame(
    df: Any,
    text_field: str = "text",
    model: Any = None,
    *,
    clean: bool = True,
    n_jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: bool | None = None,
    **deprecated: Any,
) -> Any:
    """A copy of ``df`` with a ``p_<label>`` column per theme, a ``labels`` column and an ``error`` column.

    ``text_field`` names the text column. ``model`` is a :class:`~govtext.ThemeClassifier` or a
    saved model folder (default: the bundled model). Texts are cleaned with
    :func:`~govtext.clean_article` first unless ``clean=False``. ``n_jobs`` worker processes
    (default one; -1 for one per core). Rows whose text is missing or not a string get NaN
    probabilities, no labels and an ``error`` message. A progress bar (tqdm; a widget in Jupyter)
    shows when running interactively. (``text_col=`` and ``jobs=`` are deprecated spellings.)
    """
    if deprecated:
        given = renamed("classify_frame", deprecated, {"text_col": "text_field", "jobs": "n_jobs"},
                        {"text_field": text_field, "n_jobs": n_jobs})
        text_field, n_jobs = given["text_field"], given["n_jobs"]
    text_col = text_field
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("classify_frame needs pandas: pip install govtext[pandas]") from None
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    if text_col not in df.columns:
        raise InputError(f"no column {text_col!r} in the frame; its columns are {list(df.columns)} "
                         f"(choose one with text_field=)")
    model = theme_model(model)
    maker = ClassifyRows(model, clean=clean, digits=None)
    missing = df[text_col].isna().tolist()
    records = (_frame_record(i, v, m) for i, (v, m) in enumerate(zip(df[text_col].tolist(), missing)))
    sink = _ListOutput()
    run_batch(records, maker, sink, n_jobs=n_jobs, chunk_size=chunk_size,
              progress=_interactive() if progress is None else progress, total=len(df))
    out = df.copy()
    for lab in model.classes_:
        out[f"p_{lab}"] = [r.get(f"p_{lab}", float("nan")) for r in sink.rows]
    out["labels"] = [r.get("labels", []) for r in sink.rows]
    out["error"] = [r.get("error") for r in sink.rows]
    return out


def _frame_record(i: int, value: Any, missing: bool) -> Record:
    if isinstance(value, str):
        return Record(str(i), value)
    what = "missing" if missing else f"a {type(value).__name__}, not text"
    return Record(str(i), None, error=f"row {i}: the text is {what}")


def _interactive() -> bool:
    if sys.stderr.isatty():
        return True
    try:
        from IPython import get_ipython  # type: ignore[import-not-found]

        return get_ipython() is not None
    except ImportError:
        return False


class _ListOutput:
    done_records = 0
    done_chunks = 0
    fmt = None
    columns: tuple[Column, ...] = ()

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def write(self, index: int, rows: list[dict[str, Any]], n: int) -> None:
        self.rows.extend(rows)

    def finish(self) -> None:
        pass

    def abandon(self) -> None:
        pass
