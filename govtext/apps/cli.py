"""The ``govtext`` command line.

Every input record yields exactly one output row (JSON Lines), in input order: the result, or an
``error`` field naming the problem. Fatal problems (a missing input, a bad model folder) print one
line to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Callable

from .._version import __version__
from ..errors import GovtextError, InputError, ParameterError

__all__ = ["main"]


def _write(fh: IO[str], row: dict[str, Any]) -> None:
    fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _records(args: argparse.Namespace) -> Any:
    from ..text.io import iter_records

    return iter_records(args.inputs, **_field_names(args))


def _field_names(args: argparse.Namespace) -> dict[str, Any]:
    """The --text-field, --id-field, --title-field and --date-field given (None: recognised by default)."""
    return {name: getattr(args, name, None) for name in ("text_field", "id_field", "title_field", "date_field")}


def _tokenizer(args: argparse.Namespace) -> Any:
    from ..text.tokenize import Tokenizer

    return Tokenizer(
        engine=args.engine,
        user_words=args.user_words,
        stopwords=args.stopwords if args.stopwords else "default",
        extra_stopwords=args.extra_stopwords,
    )


def run_fingerprint(args: argparse.Namespace, maker: Any, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything that decides a batch run's rows; ``--resume`` continues only a run with the same.
    Deterministic: the same command on the same inputs gives the same value in every process."""
    from ..runs._storage import input_fingerprint

    return {
        "command": args.command, "inputs": input_fingerprint(args.inputs), **_field_names(args),
        "chunk_size": args.chunk_size, **maker.fingerprint(), **(extra or {}),
    }


def _run_batch(args: argparse.Namespace, maker: Any, extra: dict[str, Any] | None = None) -> int:
    """Run a row maker over the inputs: one row per record, in order, to stdout or a resumable file."""
    from ..runs.batch import open_output, output_format, resolve_jobs, run_batch
    from ..text.io import InputReport, iter_lazy_records

    if args.chunk_size < 1:
        raise ParameterError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    jobs = resolve_jobs(args.jobs)
    fmt = output_format(args.output, args.format)
    # Records stay unread until a worker reads them (one pass; validates the inputs first).
    report = InputReport()
    records = iter_lazy_records(args.inputs, **_field_names(args), report=report)
    fingerprint = run_fingerprint(args, maker, extra)
    out = open_output(args.output, fmt, maker.columns, fingerprint, args.resume, inputs=args.inputs,
                      overwrite=args.overwrite)
    # Resuming: pass over the finished records, reusing a finished chunk only when it matches its
    # place and the ids of the records there (read, but not analysed again).
    records = out.resume(records)
    try:
        with contextlib.ExitStack() as stack:
            client = None
            if args.dask:
                from ..runs.dask import session

                client = stack.enter_context(session(args.dask, n_workers=jobs if args.jobs else None))
            summary = run_batch(records, maker, out, n_jobs=jobs, chunk_size=args.chunk_size,
                                progress=False if args.quiet else None, executor=client,
                                start_method=args.start_method)
    except KeyboardInterrupt:
        if args.output and args.output != "-":
            print("govtext: interrupted; finished chunks are kept, rerun with --resume to continue", file=sys.stderr)
        raise
    if not args.quiet:
        where = f" to {args.output}" if args.output and args.output != "-" else ""
        resumed = f" (after {summary.resumed} done before)" if summary.resumed else ""
        errors = f"; {summary.errors} record(s) had errors (see their 'error' field)" if summary.errors else ""
        print(f"govtext: wrote {summary.records} row(s){where}{resumed}{errors}", file=sys.stderr)
        if getattr(out, "redone", 0):
            print(f"govtext: {out.redone} damaged or incomplete chunk file(s) from the interrupted run were redone",
                  file=sys.stderr)
        for problem in report.failed_inputs:
            print(f"govtext: input failed (one error row): {problem}", file=sys.stderr)
        if report.skipped_files:
            print(f"govtext: passed over {len(report.skipped_files)} file(s) in folder inputs that are not .txt, .html, .docx or .pdf"
                  + ("" if args.verbose else " (list them with --verbose)"), file=sys.stderr)
            if args.verbose:
                for name in report.skipped_files:
                    print(f"govtext: not read: {name}", file=sys.stderr)
    # 0: every record has its result; 1: the output is complete but some rows are error rows.
    return 1 if summary.errors or report.failed_inputs else 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from ..runs.batch import CleanRows

    return _run_batch(args, CleanRows(show_removed=args.show_removed))


def _cmd_tokenize(args: argparse.Namespace) -> int:
    from ..runs.batch import TokenizeRows

    return _run_batch(args, TokenizeRows(_tokenizer(args), clean=not args.no_clean))


def _cmd_count(args: argparse.Namespace) -> int:
    from ..runs.batch import CountRows
    from ..features.lexicon import LexiconCounter

    counter = LexiconCounter(args.lexicon, exclusions=args.exclude or None, tokenizer=_tokenizer(args)).fit()
    return _run_batch(args, CountRows(counter, clean=not args.no_clean))


def _cmd_kwic(args: argparse.Namespace) -> int:
    from ..text.clean import usable_text
    from ..features.lexicon import MAX_WINDOW, kwic, visible_term
    from ..text.io import record_text

    if not 0 <= args.window <= MAX_WINDOW:
        raise ParameterError(f"--window must be 0 to {MAX_WINDOW:,} characters, got {args.window}")
    if not visible_term(args.term):
        raise ParameterError(f"the term {args.term[:40]!r} has no visible character")
    shown = unreadable = 0
    for rec in _records(args):
        if rec.error is not None:
            unreadable += 1
            print(f"govtext: skipped {rec.id}: {rec.error}", file=sys.stderr)
            continue
        try:
            text, _ = usable_text(record_text(rec), clean=not args.no_clean)
        except GovtextError as exc:
            unreadable += 1
            print(f"govtext: skipped {rec.id}: {exc}", file=sys.stderr)
            continue
        for line in kwic([text], args.term, window=args.window, ids=[rec.id]):
            if args.json:
                _write(sys.stdout, {"id": line.doc_id, "position": line.position, "left": line.left,
                                    "term": line.term, "right": line.right})
            else:
                print(f"{line.doc_id}\t{line.left:>{args.window}}【{line.term}】{line.right}")
            shown += 1
            if args.limit and shown >= args.limit:
                return 0
    if not args.quiet:
        print(f"govtext: {shown} line(s) for {args.term!r}" + (f"; {unreadable} record(s) skipped" if unreadable else ""),
              file=sys.stderr)
    return 1 if unreadable else 0


def _cmd_keywords(args: argparse.Namespace) -> int:
    from ..runs.batch import KeywordRows
    from ..text.clean import usable_text
    from ..text.io import iter_records, record_text
    from ..features.vectorize import Vectorizer

    if args.k < 1:
        raise ParameterError(f"-k must be at least 1, got {args.k}")

    if args.vectorizer:
        from ..persist import load

        vec = load(args.vectorizer)
        if not isinstance(vec, Vectorizer):
            raise InputError(f"{args.vectorizer} holds a {type(vec).__name__}, not a Vectorizer")
    else:
        # Fit the IDF on the inputs themselves (a first pass over the records, held in memory).
        records = iter_records(args.inputs, **_field_names(args))
        docs = []
        for r in records:
            if r.error is None:
                try:
                    docs.append(usable_text(record_text(r), clean=not args.no_clean)[0])
                except GovtextError:  # no text: the record gets its error row in the main pass
                    pass
        if not docs:
            raise InputError("no readable documents to fit the IDF on; pass --vectorizer DIR")
        vec = Vectorizer(tokenizer=_tokenizer(args), min_df=1).fit(docs)
    return _run_batch(args, KeywordRows(vec, k=args.k, clean=not args.no_clean))


def _cmd_classify(args: argparse.Namespace) -> int:
    from ..runs.batch import ClassifyRows, folder_digest, theme_model
    from ..persist import default_model_path

    model = theme_model(args.model)
    digest = folder_digest(args.model or default_model_path())
    return _run_batch(args, ClassifyRows(model, clean=not args.no_clean, explain=args.explain), {"model": digest})


def _code(value: Any, rid: str, label: str) -> int:
    """A coder's 0/1 for one label: 0 or 1 as a number, true/false, or the text "0"/"1"."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return int(value.strip())
    raise InputError(f"labels file, record {rid}: {label!r} must be 0 or 1 (or true/false), "
                     f"got {json.dumps(value, ensure_ascii=False)[:80]}")


def _cmd_evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from ..runs.batch import theme_model
    from ..themes.evaluation import evaluate
    from ..text.io import iter_records, record_text

    model = theme_model(args.model)
    labels = [str(c) for c in model.classes_]
    texts, rows = [], []
    for rec in iter_records([args.labels], **_field_names(args)):
        if rec.error is not None:
            raise InputError(f"labels file: {rec.error}")
        if "labels" in rec.metadata:
            codes = rec.metadata["labels"]
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise InputError(f"labels file, record {rec.id}: 'labels' must be a list of label names, "
                                 f"got {json.dumps(codes, ensure_ascii=False)[:80]}")
            unknown = set(codes) - set(labels)
            if unknown:
                raise InputError(f"labels file, record {rec.id}: unknown label(s) {sorted(unknown)}; model labels are {labels}")
            row = [int(lab in codes) for lab in labels]
        else:
            missing = [lab for lab in labels if lab not in rec.metadata]
            if missing:
                raise InputError(f"labels file, record {rec.id}: no 0/1 field for {missing} and no 'labels' list")
            row = [_code(rec.metadata[lab], rec.id, lab) for lab in labels]
        texts.append(record_text(rec))
        rows.append(row)
    if not texts:
        raise InputError(f"no labelled records in {args.labels}")
    ev = evaluate(model, texts, np.array(rows), n_bootstrap=args.n_bootstrap)
    if args.json:
        print(json.dumps(ev.to_rows(), ensure_ascii=False, indent=1))
    else:
        print(ev)
    return 0


def _index_target(output: str, inputs: list[str], overwrite: bool = False) -> Path:
    """The folder ``index -o`` replaces: new, empty, or a saved govtext object (never someone's own
    files), and never an input or a folder holding or inside one."""
    from ..runs._storage import refuse_output_as_input
    from ..persist import MANIFEST

    target = Path(output)
    refuse_output_as_input(target, inputs, folder=True)
    if target.exists() or target.is_symlink():
        if target.is_symlink() or not target.is_dir():
            raise InputError(f"-o {output} exists and is not a folder; the index is written to a folder")
        if any(target.iterdir()) and not (target / MANIFEST).is_file():
            raise InputError(f"-o {output} is a folder that does not hold a saved index (no {MANIFEST}); writing "
                             "the index replaces the whole folder, so give a new or empty folder")
        if (target / MANIFEST).is_file() and not overwrite:
            raise InputError(f"-o {output} already holds a saved index; pass --overwrite to replace it")
    return target


def _save_index(index: Any, target: Path) -> None:
    """Write the index beside ``target`` and move it into place whole: any failure (or a kill)
    leaves the index that was there before, readable."""
    import shutil
    import tempfile

    from ..runs._storage import replace_folder

    target.parent.mkdir(parents=True, exist_ok=True)
    built = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    built.chmod(0o777 & ~umask)  # mkdtemp makes it private; an index folder is as readable as any other
    try:
        index.save(built)
        replace_folder(built, target)
    except BaseException:
        shutil.rmtree(built, ignore_errors=True)
        raise


def _cmd_shares(args: argparse.Namespace) -> int:
    from ..runs.batch import resolve_jobs
    from ..themes.shares import shares_of_inputs

    if args.chunk_size < 1:
        raise ParameterError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    if args.output and args.output != "-":
        from ..runs._storage import refuse_output_as_input

        refuse_output_as_input(Path(args.output), args.inputs)
        if os.path.exists(args.output) and not args.overwrite:
            raise InputError(f"{args.output} exists; pass --overwrite to replace it")
    jobs = resolve_jobs(args.jobs)
    with contextlib.ExitStack() as stack:
        client = None
        if args.dask:
            from ..runs.dask import session

            client = stack.enter_context(session(args.dask, n_workers=jobs if args.jobs else None))
        run = shares_of_inputs(args.inputs, by=args.by, model=args.model, validation=args.validation,
                               method=args.method, confidence=args.confidence, **_field_names(args),
                               clean=not args.no_clean, n_jobs=jobs,
                               chunk_size=args.chunk_size, progress=False if args.quiet else None, executor=client,
                               start_method=args.start_method, n_bootstrap=args.n_bootstrap)
    table = run.table
    if args.output and args.output != "-":
        if args.output.endswith((".jsonl", ".json")):
            table.to_json(args.output, orient="records", lines=True, force_ascii=False)
        else:
            table.to_csv(args.output, index=False, encoding="utf-8-sig")
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if not args.quiet:
        where = f" to {args.output}" if args.output and args.output != "-" else ""
        print(f"govtext: {run.records} record(s) read; {len(table)} share row(s){where} "
              f"(method {table['method'].iloc[0]}, {table.attrs['confidence']:.0%} intervals)", file=sys.stderr)
        if run.errors:
            print(f"govtext: {run.errors} record(s) could not be read or classified: counted in n_errors, "
                  f"not in n (first: {'; '.join(run.error_examples)})", file=sys.stderr)
        if run.ungrouped:
            print(f"govtext: {run.ungrouped} record(s) have no usable {args.by!r}: they form the empty group",
                  file=sys.stderr)
        for problem in run.failed_inputs:
            print(f"govtext: input failed (one error row): {problem}", file=sys.stderr)
    return 1 if run.errors or run.failed_inputs else 0


def _index_documents(args: argparse.Namespace, skipped: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(text, id, metadata) of each usable input record, read as a stream; a record that cannot be
    indexed is named in ``skipped``."""
    from ..runs.index_input import index_document

    for rec in _records(args):
        try:
            yield index_document(rec, clean=not args.no_clean)
        except GovtextError as exc:
            skipped.append(f"{rec.id}: {exc}")


def _shard_parts(args: argparse.Namespace, skipped: list[str], n_shards: int,
                 chunk_size: int) -> Iterator[tuple[list[str], list[str], list[dict[str, Any]]]]:
    """The documents cut into ``n_shards`` shards as they are read. A first pass counts the input
    records (without cleaning them) to place the shard borders on whole chunks; records that
    cannot be indexed make the last shard shorter."""
    from ..search.sharded import shard_bounds

    n_records = sum(1 for _ in _records(args))
    if n_records < n_shards:
        raise InputError(f"--shards {n_shards} needs at least {n_shards} records; the inputs hold {n_records}")
    bounds = shard_bounds(n_records, n_shards, chunk_size)
    sizes = [b - a for a, b in zip(bounds, bounds[1:])]
    part: tuple[list[str], list[str], list[dict[str, Any]]] = ([], [], [])
    done = 0
    for text, doc_id, meta in _index_documents(args, skipped):
        for column, value in zip(part, (text, doc_id, meta)):
            column.append(value)  # type: ignore[attr-defined]
        if len(part[0]) == sizes[done] and done < n_shards - 1:
            yield part
            part, done = ([], [], []), done + 1
    if done < n_shards - 1 or not part[0]:
        raise InputError(f"only {sum(sizes[:done]) + len(part[0])} of {n_records} records could be indexed: "
                         f"too few for --shards {n_shards}; give fewer shards")
    yield part


def _fit_parquet_on_dask(index: Any, args: argparse.Namespace, skipped: list[str], client: Any) -> None:
    """Parquet inputs with --dask: a Dask DataFrame whose partitions (one per shard, borders on whole
    chunks as in the streaming path) the workers read and make into documents themselves; the
    records that cannot be indexed are named in ``skipped`` and the rest built into the shards
    where they are (ShardedIndex.fit_dataframe), so no process holds all texts."""
    from ..runs.index_input import parquet_frame, parquet_rows
    from ..search.sharded import shard_bounds
    from ..text.io import Fields

    n_records = parquet_rows(args.inputs)
    if n_records < index.n_shards:
        raise InputError(f"--shards {index.n_shards} needs at least {index.n_shards} records; the inputs hold "
                         f"{n_records}")
    bounds = shard_bounds(n_records, index.n_shards, index.chunk_size)
    frame = client.persist(parquet_frame(args.inputs, bounds, Fields.of(**_field_names(args)), clean=not args.no_clean))
    failed = frame[frame["error"].notnull()][["id", "error"]].compute()
    skipped.extend(f"{i}: {e}" for i, e in zip(failed["id"], failed["error"]))
    if len(failed) == n_records:
        raise InputError("no readable documents to index")
    usable = frame[frame["error"].isnull()]
    try:
        index.fit_dataframe(usable, text_field="text", id_field="id", metadata_field="metadata", client=client)
    except ParameterError as exc:
        if "has no rows" not in str(exc):
            raise
        raise InputError(f"none of the records of one shard could be indexed ({exc}); give fewer shards") from None


def _cmd_index(args: argparse.Namespace) -> int:
    if args.keep_practices and (args.shards is not None or args.dask):
        raise ParameterError("--keep-practices builds one index; a sharded index (--shards, --dask) cannot keep "
                             "practice names whole yet: leave out one of them")
    target = _index_target(args.output, args.inputs, overwrite=args.overwrite)
    skipped: list[str] = []
    progress = False if args.quiet else None
    if args.shards is not None or args.dask:
        from ..runs.index_input import parquet_inputs
        from ..search.sharded import ShardedIndex

        shards = 4 if args.shards is None else args.shards
        if shards < 1:
            raise ParameterError(f"--shards must be at least 1, got {shards}")
        index: Any = ShardedIndex(n_shards=shards, n_jobs=None if args.dask else args.jobs, progress=progress)
        with contextlib.ExitStack() as stack:
            client = None
            if args.dask:
                from ..runs.dask import session

                client = stack.enter_context(session(args.dask, n_workers=args.jobs))
            if client is not None and parquet_inputs(args.inputs):
                _fit_parquet_on_dask(index, args, skipped, client)
            else:
                index.fit_parts(_shard_parts(args, skipped, shards, index.chunk_size), client=client)
            _save_index(index, target)
    else:
        from ..search.similarity import SimilarityIndex

        texts, ids, meta = [], [], []
        for text, doc_id, m in _index_documents(args, skipped):
            texts.append(text)
            ids.append(doc_id)
            meta.append(m)
        if not texts:
            raise InputError("no readable documents to index")
        index = SimilarityIndex(n_jobs=args.jobs, progress=progress, keep_practices=args.keep_practices).fit(
            texts, ids=ids, metadata=meta)
        _save_index(index, target)
    if not args.quiet:
        more = ""
        if skipped:
            more = f"; {len(skipped)} record(s) not indexed" + (":" if args.verbose else " (name them with --verbose)")
        print(f"govtext: indexed {len(index)} documents into {args.output}{more}", file=sys.stderr)
        if args.verbose:
            for line in skipped:
                print(f"govtext: not indexed: {line}", file=sys.stderr)
    # As the batch commands: 1 when the index is written but some records (or inputs) could not be used.
    return 1 if skipped else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve import run

    if not 0 < args.port < 65536:
        raise ParameterError(f"--port must be between 1 and 65535, got {args.port}")
    def ready() -> None:  # said only once the index and model are loaded and the port is free
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"govtext: serving on {args.host}: other machines can reach this page", file=sys.stderr)
        print(f"govtext: serving {args.index} at http://{args.host}:{args.port}/ (Ctrl-C to stop)", file=sys.stderr)

    run(args.index, args.model, host=args.host, port=args.port, ready=ready, allow_hosts=args.allow_host or ())
    return 0


def _describe_filter(flt: dict[str, Any]) -> str:
    parts = []
    for key, value in flt.items():
        if isinstance(value, tuple):
            parts.append(f"{key} from {value[0] or 'any'} to {value[1] or 'any'}")
        else:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


def _cmd_similar(args: argparse.Namespace) -> int:
    from ..persist import load
    from ..search.similarity import SimilarityIndex

    if (args.text is None) == (args.file is None):
        raise InputError("give the proposal either as TEXT or with --file, not both")
    if args.each_line and not args.file:
        raise InputError("--each-line reads proposals from --file FILE, one a line")
    from ..search.sharded import ShardedIndex

    index = load(args.index)
    if not isinstance(index, (SimilarityIndex, ShardedIndex)):
        raise InputError(f"{args.index} holds a {type(index).__name__}, not a SimilarityIndex or ShardedIndex")
    if args.file:
        from ..text.io import read_text

        whole = read_text(args.file)
        if args.each_line:
            queries = [(n, line.strip()) for n, line in enumerate(whole.split("\n"), 1) if line.strip()]
            if not queries:
                raise InputError(f"{args.file} has no non-blank lines")
        else:
            queries = [(None, whole)]
    else:
        queries = [(None, args.text)]
    flt: dict[str, Any] = {}
    for item in args.where or []:
        key, _, value = item.partition("=")
        if not key or not _:
            raise InputError(f"--where takes FIELD=VALUE, got {item!r}")
        flt[key] = value
    if args.since or args.until:
        flt["date"] = (args.since, args.until)
    # Many proposals are scored together, as one sparse product per block of queries.
    results = index.query_many([q for _, q in queries], k=args.k, filter=flt or None,
                               exclude_duplicates=args.one_per_story, rank=args.rank)
    for (line_no, query), matches in zip(queries, results):
        if args.json:
            for m in matches:
                row = {"rank": m.rank, "id": m.id, "score": round(m.score, 4), "shared_terms": list(m.shared_terms),
                       "passage": m.passage, "metadata": m.metadata,
                       **({"why": str(m.why), "policy_basis": m.why.policy_basis} if m.why is not None else {})}
                _write(sys.stdout, row if line_no is None else {"query_line": line_no, **row})
            continue
        if line_no is not None:
            print(f"\n== line {line_no}: {query[:60]}{'…' if len(query) > 60 else ''}")
        if not matches:
            if flt and index.query(query, k=1):
                print(f"no similar document passes the filters ({_describe_filter(flt)})")
            else:
                print("no similar documents (the query shares no indexed terms)")
            continue
        print(f"{'rank':>4}  {'score':>5}  {'id':<28} title / shared terms   (ids cut with …; --json gives them whole)")
        for m in matches:
            title = str(m.metadata.get("title") or "")[:40]
            shown = m.id if len(m.id) <= 28 else m.id[:27] + "…"
            print(f"{m.rank:>4}  {m.score:5.3f}  {shown:<28} {title}")
            print(f"{'':>4}  {'':>5}  {'':<28} shared: {'、'.join(m.shared_terms[:8])}")
    return 0


_INPUTS_HELP = (".txt files, saved .html/.htm pages (needs govtext[html]), .docx/.pdf files (govtext[docx], govtext[pdf]), "
                "folders (their .txt, .html, .docx and .pdf files; other files "
                "are passed over and counted), .jsonl/.csv/.tsv/.parquet files (optionally .gz), "
                "or - for JSON Lines on stdin")


# -- the parser: one function per command declares its arguments; _COMMANDS registers them ---------

def _field_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text-field", help="field/column holding the text (default: text, or 正文 or 内容)")
    p.add_argument("--id-field", help="field/column holding the id (default: id or 编号; else file:line)")
    p.add_argument("--title-field", help="field/column holding the title, analysed with the text "
                                         "(default: title or 标题)")
    p.add_argument("--date-field", help="field/column holding the date (default: date, 日期 or 发布时间)")


def _no_clean_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-clean", action="store_true", help="inputs are already clean text: skip clean_article")


def _batch_options(p: argparse.ArgumentParser) -> None:
    """What every batch command (one output row per input record) takes."""
    p.add_argument("inputs", nargs="+", help=_INPUTS_HELP)
    p.add_argument("-o", "--output", help="output file (.jsonl, .csv or .parquet); JSON Lines on stdout when omitted")
    p.add_argument("--format", choices=["jsonl", "csv", "parquet"], help="output format (default: from the -o suffix)")
    _field_options(p)
    p.add_argument("-j", "--n-jobs", "--jobs", dest="jobs", type=int, default=None,
                   help="worker processes (-1: one per core; default 1)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run with the same -o and inputs")
    p.add_argument("--overwrite", "--force", action="store_true", help="replace an existing -o file")
    p.add_argument("--chunk-size", type=int, default=1000, help="records per chunk (default 1000)")
    p.add_argument("--start-method", choices=["spawn", "fork", "forkserver"],
                   help="how --jobs starts workers (default: the platform's; fork on Linux, spawn on macOS/Windows)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster: tcp://host:8786, or 'local' "
                                                     "(needs govtext[dask])")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="name the files in folder inputs that were passed over (only .txt, .html/.htm, .docx and .pdf files are read)")


def _tokenizer_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["rjieba", "jieba"], default="rjieba",
                   help="word segmenter: rjieba (default, the Rust port of jieba) or jieba (pure Python; "
                        "same dictionary)")
    p.add_argument("--user-words", help="file of extra words, one per line")
    p.add_argument("--stopwords", help="stopword file replacing the default list")
    p.add_argument("--extra-stopwords", help="stopword file added to the default list")
    _no_clean_option(p)


def _model_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="a saved ThemeClassifier folder (default: the bundled model)")


def _index_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="an index folder written by `govtext index`")


def _args_clean(p: argparse.ArgumentParser) -> None:
    _batch_options(p)
    p.add_argument("--show-removed", action="store_true", help="list every dropped line with its reason")


def _args_tokenize(p: argparse.ArgumentParser) -> None:
    _batch_options(p)
    _tokenizer_options(p)


def _args_keywords(p: argparse.ArgumentParser) -> None:
    _batch_options(p)
    _tokenizer_options(p)
    p.add_argument("-k", type=int, default=10, help="keywords per document (default 10)")
    p.add_argument("--vectorizer", help="a saved Vectorizer folder; default: fit the IDF on the inputs")


def _args_count(p: argparse.ArgumentParser) -> None:
    _batch_options(p)
    _tokenizer_options(p)
    p.add_argument("--lexicon", help="lexicon file: one 'category<TAB>term' a line ('exclude<TAB>phrase' for "
                                     "exclusions); default: govtext's theme seed terms")
    p.add_argument("--exclude", action="append", help="a phrase that never counts (repeatable), e.g. 生态文明")


def _args_kwic(p: argparse.ArgumentParser) -> None:
    p.add_argument("term", help="the term to look for")
    p.add_argument("inputs", nargs="+", help=_INPUTS_HELP)
    p.add_argument("--window", type=int, default=20, help="characters shown either side (default 20)")
    p.add_argument("--limit", type=int, help="stop after this many lines")
    _field_options(p)
    _no_clean_option(p)
    p.add_argument("--json", action="store_true", help="JSON lines instead of aligned text")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary on stderr")


def _args_classify(p: argparse.ArgumentParser) -> None:
    _batch_options(p)
    _model_option(p)
    p.add_argument("--explain", action="store_true", help="add evidence terms and sentences for each predicted theme")
    _no_clean_option(p)


def _args_shares(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help=_INPUTS_HELP)
    p.add_argument("--by", help="field to group by (year, place …), or FIELD:year|quarter|month to cut a date "
                                "field (e.g. date:year)")
    p.add_argument("--validation", help="a coded sample of this corpus: the CSV sample_for_coding writes, with "
                                        "its code_<theme> columns filled in, or a coded JSONL (text, a 0/1 field "
                                        "per theme, as samples/coded.jsonl); the error rates are then measured on it")
    p.add_argument("--method", default="auto", choices=["auto", "cc", "pcc", "acc", "pacc", "em"],
                   help="auto (the benchmark's choice), cc (count predicted labels), pcc, acc, pacc or em")
    p.add_argument("--confidence", type=float, default=0.9, help="interval level (default 0.9)")
    p.add_argument("--n-bootstrap", type=int, default=500, help="bootstrap replicates (default 500)")
    p.add_argument("-o", "--output", help="output table (.csv, or .jsonl); a table on stdout when omitted")
    p.add_argument("--overwrite", "--force", action="store_true", help="replace an existing -o file")
    _model_option(p)
    _field_options(p)
    _no_clean_option(p)
    p.add_argument("-j", "--n-jobs", "--jobs", dest="jobs", type=int, default=None,
                   help="worker processes (-1: one per core; default 1)")
    p.add_argument("--chunk-size", type=int, default=1000, help="records per chunk (default 1000)")
    p.add_argument("--start-method", choices=["spawn", "fork", "forkserver"],
                   help="how --jobs starts workers (default: the platform's)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster (needs govtext[dask])")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr")


def _args_evaluate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", required=True, help="JSONL: a text field and 0/1 fields per label (or a 'labels' list)")
    _model_option(p)
    _field_options(p)
    p.add_argument("--n-bootstrap", type=int, default=1000,
                   help="bootstrap resamples for the 95%% intervals (default 1000)")
    p.add_argument("--json", action="store_true", help="print rows as JSON instead of a table")


def _args_index(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help=_INPUTS_HELP)
    p.add_argument("-o", "--output", required=True, help="folder to write the index to")
    _field_options(p)
    _no_clean_option(p)
    p.add_argument("-j", "--n-jobs", "--jobs", dest="jobs", type=int, default=None,
                   help="processes for tokenising (-1: one per core; default 1)")
    p.add_argument("--overwrite", "--force", action="store_true", help="replace the index already in -o")
    p.add_argument("--shards", type=int, metavar="N",
                   help="write a sharded index of N shards (govtext.ShardedIndex; same results as one index)")
    p.add_argument("--dask", metavar="ADDRESS",
                   help="build the shards on a Dask cluster: tcp://host:8786 (the -o folder must be on a disk the "
                        "workers share), or 'local' for a LocalCluster of --jobs workers (needs govtext[dask]); "
                        "Parquet inputs are read by the workers themselves; implies --shards 4 unless given")
    p.add_argument("--keep-practices", action="store_true",
                   help="keep practice names whole as terms (govtext's curated list and the initiatives at least 3 "
                        "documents name; SimilarityIndex(keep_practices=True)); off by default: it did not help on "
                        "the relevance benchmark")
    p.add_argument("--strict", action="store_true",
                   help="kept for old scripts: the exit status is 1 whenever some records could not be indexed")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary on stderr")
    p.add_argument("-v", "--verbose", action="store_true", help="name every record that was not indexed, and why")


def _args_similar(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", nargs="?", help="the proposal text (or use --file)")
    _index_option(p)
    p.add_argument("--file", help="read the proposal from this file")
    p.add_argument("-k", type=int, default=10, help="how many documents to show (default 10)")
    p.add_argument("--where", action="append", help="metadata filter FIELD=VALUE (repeatable)")
    p.add_argument("--since", help="only documents dated on or after this date (2025-06-12, 20250612, 2025年6月12日 …)")
    p.add_argument("--until", help="only documents dated on or before this date")
    p.add_argument("--one-per-story", action="store_true", help="one document per group of reprints")
    p.add_argument("--rank", choices=("precedent", "cosine"), default="precedent",
                   help="precedent (default): the cosine top 30 re-ranked as precedents (BM25; local places and "
                        "reports up; round-ups and central documents, the policy basis, down), each result saying "
                        "why; cosine: the exact TF-IDF cosine order")
    p.add_argument("--each-line", action="store_true",
                   help="with --file: every non-blank line is its own proposal (scored together, much faster "
                        "than one call per line); JSON rows carry query_line")
    p.add_argument("--json", action="store_true", help="JSON lines instead of a table")


def _args_serve(p: argparse.ArgumentParser) -> None:
    _index_option(p)
    p.add_argument("--model", help="theme model folder (default: the bundled model)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--allow-host", action="append", metavar="NAME",
                   help="also answer requests addressed to this host name (repeatable; by default only the "
                        "--host address, and localhost names when it is a loopback address)")


Declare = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]

# name: (one-line help, declares the arguments, runs the command), in the order `govtext --help` lists them.
_COMMANDS: dict[str, tuple[str, Declare, Run]] = {
    "clean": ("extract title, date, source, author and body from scraped pages", _args_clean, _cmd_clean),
    "tokenize": ("clean and tokenise documents", _args_tokenize, _cmd_tokenize),
    "keywords": ("top TF-IDF keywords of each document", _args_keywords, _cmd_keywords),
    "count": ("count a lexicon's terms per document (hits per category and per 1,000 tokens)", _args_count,
              _cmd_count),
    "kwic": ("keyword in context: every occurrence of a term with the text around it", _args_kwic, _cmd_kwic),
    "classify": ("tag documents with themes (probabilities, labels, evidence)", _args_classify, _cmd_classify),
    "shares": ("error-corrected share of documents carrying each theme, per group, with intervals", _args_shares,
               _cmd_shares),
    "evaluate": ("precision, recall and F1 (with 95%% intervals) against coded labels", _args_evaluate,
                 _cmd_evaluate),
    "index": ("build a similarity index of documents (for `govtext similar`)", _args_index, _cmd_index),
    "similar": ("find the documents most similar to a proposal", _args_similar, _cmd_similar),
    "serve": ("a local page (and JSON API) for finding comparable cases (needs govtext[serve])", _args_serve,
              _cmd_serve),
}


# One or two runnable examples per command, shown under its --help (they use the shipped samples/).
_EXAMPLES: dict[str, tuple[str, ...]] = {
    "clean": ("govtext clean samples/pages/ --show-removed",),
    "tokenize": ("govtext tokenize samples/news.jsonl -o tokens.jsonl",),
    "keywords": ("govtext keywords samples/news.jsonl -k 5",),
    "count": ("govtext count samples/news.jsonl --lexicon samples/lexicon.tsv -o counts.csv",),
    "kwic": ("govtext kwic 议事会 samples/news.jsonl --window 10 --limit 20",),
    "classify": ("govtext classify samples/news.csv -o themes.csv",
                 "govtext classify samples/pages/ --explain"),
    "shares": ("govtext shares samples/news.jsonl --by date:year",),
    "evaluate": ("govtext evaluate --labels samples/coded.jsonl",),
    "index": ("govtext index samples/news.jsonl -o my-index/",),
    "similar": ("govtext similar --index my-index/ --file samples/proposal.txt -k 5",),
    "serve": ("govtext serve --index my-index/     # then open http://127.0.0.1:8000/",),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="govtext", description="Chinese local-governance text toolkit",
        epilog="Exit status: 0 every record has its result; 1 the output is complete but some rows are "
               "error rows (unreadable or empty records, inputs that failed); 2 nothing was done (a fatal error); "
               "3 an internal error (a bug in govtext: the traceback is printed, please report it).")
    parser.add_argument("--version", action="version", version=f"govtext {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (summary, declare, run) in _COMMANDS.items():
        p = sub.add_parser(name, help=summary, description=summary[:1].upper() + summary[1:] + ".",
                           epilog="examples (with the files in samples/):\n" + "\n".join(f"  {line}" for line in _EXAMPLES[name]),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        declare(p)
        p.set_defaults(func=run)
    return parser


def _said(exc: BaseException) -> str:
    """An error in words: an OSError without Python's ``[Errno 2]`` prefix, naming the file."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        other = f" -> {exc.filename2}" if exc.filename2 is not None else ""
        return f"{exc.filename}{other}: {exc.strerror}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _usable_std_streams() -> None:
    """A stream closed by the caller (``govtext … >&- 2>&-``) is None in Python: write nowhere
    instead of failing with AttributeError. (Reading a closed stdin is a clear error later.)"""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def _escaping_stdout() -> str | None:
    """Let stdout write a lone surrogate (an id such as "a\ud800" from JSON input) as the text
    \ud800, JSON's own escape for it, instead of failing; returns the previous setting."""
    errors = getattr(sys.stdout, "errors", None)
    if errors in ("strict", "surrogateescape") and hasattr(sys.stdout, "reconfigure"):
        try:
            sys.stdout.reconfigure(errors="backslashreplace")
        except (ValueError, OSError):
            return None
        return errors
    return None


def main(argv: list[str] | None = None) -> int:
    _usable_std_streams()
    args = _parser().parse_args(argv)
    restore = _escaping_stdout()
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("govtext: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error of ours.
        sys.stderr.close()
        return 0
    except (GovtextError, OSError, ImportError) as exc:
        # Expected problems (bad input, missing file, damaged model, missing optional extra): one line.
        print(f"govtext: error: {_said(exc)}", file=sys.stderr)
        return 2
    except Exception:
        # Anything else is a bug in govtext: show where it happened and ask for a report.
        import traceback

        traceback.print_exc()
        print(f"govtext: internal error in govtext {__version__} (a bug, not a problem with your input). "
              f"Please report it to the govtext maintainers with the command you ran and the traceback above.",
              file=sys.stderr)
        return 3
    finally:
        if restore is not None and hasattr(sys.stdout, "reconfigure"):
            with contextlib.suppress(ValueError, OSError):
                sys.stdout.reconfigure(errors=restore)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
