"""Batch work over whole corpora: ordered chunks, one row per record, worker processes, resumable output.

The engine reads :class:`~govtext.io.Record` objects lazily, groups them into chunks, has a *row
maker* (``govtext._rows``) turn each chunk into rows — in this process, in worker processes, or on
a Dask cluster — and writes the rows in input order to an output (``govtext._storage``). Memory
stays flat: only a few chunks are in flight at any time. A run killed at any point leaves either
no output file or a complete one, plus the finished chunks, and a rerun with ``resume=True``
continues after them and produces the same bytes as an uninterrupted run.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .._common import CHUNK_SIZE, exit_with_parent as _exit_with_parent, renamed
from ._rows import ClassifyRows, CleanRows, CountRows, KeywordRows, RowMaker, TokenizeRows, theme_model
from ._storage import (
    FORMATS, Column, ListOutput, PartsOutput, StreamOutput, encode_rows, folder_digest, input_fingerprint, open_output,
    output_format,
)
from ..errors import InputError, ParameterError
from ..text.io import Fields, Record

__all__ = ["FORMATS", "BatchSummary", "ClassifyRows", "CleanRows", "CountRows", "Column", "KeywordRows", "PartsOutput",
           "StreamOutput", "TokenizeRows", "classify_frame", "folder_digest", "input_fingerprint", "open_output",
           "output_format", "run_batch", "theme_model"]

# --------------------------------------------------------------------------- running


class _Job:
    """What a worker does with a chunk: make the rows, count errors, encode them for the output."""

    def __init__(self, maker: RowMaker, fmt: str | None, columns: Sequence[Column]) -> None:
        self.maker, self.fmt, self.columns = maker, fmt, tuple(columns)

    def __call__(self, items: Sequence[Any]) -> tuple[Any, int, int]:
        rows = self.maker(items)
        return encode_rows(rows, self.fmt, self.columns), len(rows), sum("error" in r for r in rows)


_JOB: _Job | None = None


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


class _Pieces:
    """One chunk's work, sent to the pool as several pieces; ``result()`` joins the pieces' results
    into the chunk's (the same bytes or rows as the chunk made whole, since rows are encoded one by
    one). Smaller units keep every worker busy until the end of a run, while the output and its
    resumable chunk files stay as ``chunk_size`` says."""

    def __init__(self, futures: list[Any]) -> None:
        self.futures = futures

    def result(self) -> tuple[Any, int, int]:
        parts = [f.result() for f in self.futures]
        payloads = [p for p, _, _ in parts]
        joined = b"".join(payloads) if isinstance(payloads[0], bytes) else [r for p in payloads for r in p]
        return joined, sum(n for _, n, _ in parts), sum(e for _, _, e in parts)


def _split(chunk: list[Any], pieces: int) -> list[list[Any]]:
    """``chunk`` in at most ``pieces`` consecutive parts of near-equal size, none empty."""
    size = -(-len(chunk) // max(1, pieces))
    return [chunk[i:i + size] for i in range(0, len(chunk), size)]


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


class _NoBar:
    """The progress bar of a run that shows none."""

    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(show: bool | None, initial: int, total: int | None) -> Any:
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return _NoBar()  # tqdm and what it imports (asyncio) cost start-up for nothing
    from tqdm.auto import tqdm  # a widget in Jupyter, text on a terminal

    return tqdm(total=total, initial=initial, unit="doc", disable=not show, file=sys.stderr, mininterval=0.5,
                smoothing=0.05, dynamic_ncols=True)


START_METHODS = ("spawn", "fork", "forkserver")


def run_batch(
    records: Iterable[Record | Callable[[], Record]],
    maker: RowMaker,
    output: Any,
    *,
    n_jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: bool | None = None,
    executor: Any = None,
    total: int | None = None,
    start_method: str | None = None,
) -> BatchSummary:
    """Write one row per record to ``output`` (a ``StreamOutput``, ``PartsOutput`` or ``ListOutput``), in order.

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
                # (The theme model's compiled kernel is not loaded here: each worker loads it with its
                # first chunk, side by side, which measured faster than the parent loading it first.)
                maker([Record("warm-up", "社区党建引领文明楼道創建")])
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                       initializer=_install, initargs=(job, os.getpid()))
            # Each chunk goes out in 2 x jobs pieces: when one worker is slowed (a busy machine) the
            # others take the remaining pieces, and no worker idles for long at the end of a run.
            results = _ordered(lambda c: _Pieces([pool.submit(_work, p) for p in _split(c, 2 * jobs)]), chunks,
                               window=2 * jobs)
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


# --------------------------------------------------------------------------- pandas


def classify_frame(
    df: Any,
    text_field: str | None = None,
    model: Any = None,
    *,
    title_field: str | None = None,
    clean: bool = True,
    n_jobs: int | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: bool | None = None,
    **deprecated: Any,
) -> Any:
    """A copy of ``df`` with a ``p_<label>`` column per theme, a ``labels`` column and an ``error`` column.

    ``text_field`` names the text column (default: ``text``, or 正文 or 内容) and ``title_field``
    the title column (default: ``title`` or 标题, when there is one): a title is classified with its
    text, title first, as the model was trained. ``model`` is a :class:`~govtext.ThemeClassifier` or a
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
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("classify_frame needs pandas: pip install govtext[pandas]") from None
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"df must be a pandas DataFrame, got {type(df).__name__}")
    fields = Fields.of(text_field, None, title_field)
    columns = [c for c in df.columns if isinstance(c, str)]
    text_col = fields.find(fields.text, columns)
    if text_col is None:
        raise InputError(f"no {fields.describe_text('column')} in the frame; its columns are {list(df.columns)} "
                         f"(choose one with text_field=)")
    title_col = fields.find(fields.title, columns)
    if title_field is not None and title_col is None:
        raise InputError(f"no column {title_field!r} in the frame; its columns are {list(df.columns)}")
    model = theme_model(model)
    maker = ClassifyRows(model, clean=clean, digits=None)
    missing = df[text_col].isna().tolist()
    titles = df[title_col].tolist() if title_col is not None else [None] * len(df)
    records = (_frame_record(i, v, m, t) for i, (v, m, t) in enumerate(zip(df[text_col].tolist(), missing, titles)))
    sink = ListOutput()
    run_batch(records, maker, sink, n_jobs=n_jobs, chunk_size=chunk_size,
              progress=_interactive() if progress is None else progress, total=len(df))
    out = df.copy()
    for lab in model.classes_:
        out[f"p_{lab}"] = [r.get(f"p_{lab}", float("nan")) for r in sink.rows]
    out["labels"] = [r.get("labels", []) for r in sink.rows]
    out["error"] = [r.get("error") for r in sink.rows]
    return out


def _frame_record(i: int, value: Any, missing: bool, title: Any = None) -> Record:
    if isinstance(value, str):
        return Record(str(i), value, {"title": title} if isinstance(title, str) and title.strip() else {})
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

