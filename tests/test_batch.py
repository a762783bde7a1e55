"""Batch runs: one row per record in input order, output formats, resume after SIGKILL, worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from govtext.apps.cli import main

from .conftest import EXAMPLES, read_xwlb


def _rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Real news items as JSON Lines, with title/date fields and a couple of bad lines in between."""
    folder = tmp_path_factory.mktemp("corpus")
    items = read_xwlb(600, step=25)
    lines = [json.dumps({"id": it["id"], "title": it["title"], "date": it["date"], "text": it["text"]},
                        ensure_ascii=False) for it in items]
    lines.insert(100, "{this is not json")
    lines.insert(300, json.dumps({"id": "no-text", "body": "x"}))
    path = folder / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])  # with 2, the workers read and parse the records
def test_every_kind_of_bad_record_gets_an_error_row_in_input_order(tmp_path, seeds, jobs):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.txt").write_text(seeds["001"], encoding="utf-8")
    (pages / "b.txt").write_bytes(seeds["002"].encode("gb18030"))
    (pages / "c.txt").write_bytes(b"\xff\xfe\x00\xd8" + b"\x81" * 50)  # UTF-16 BOM, then a broken surrogate
    jsonl = tmp_path / "items.jsonl"
    jsonl.write_bytes(
        json.dumps({"id": "j1", "text": seeds["000"]}, ensure_ascii=False).encode() + b"\n"
        + b'{"id": "j2", "text": "unterminated\n'
        + json.dumps({"id": "j3", "content": "wrong field"}).encode() + b"\n"
        + json.dumps({"id": "j4", "text": "党建引领"}, ensure_ascii=False).encode("gb18030") + b"\n"
        + json.dumps({"id": "j5", "text": ["a", "list"]}).encode() + b"\n"
    )
    table = tmp_path / "items.csv"
    table.write_text("id,text\nc1,文明楼道创建\nc2\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(pages), str(jsonl), str(table), "-o", str(out), "-q", "--jobs", jobs,
                 "--chunk-size", "3"]) == 1
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["a.txt", "b.txt", "c.txt", "j1", f"{jsonl}:2", "j3", f"{jsonl}:4", "j5",
                                       "c1", f"{table}:3"]
    errors = {r["id"]: r.get("error") for r in rows}
    assert errors["a.txt"] is None and errors["b.txt"] is None and errors["j1"] is None and errors["c1"] is None
    assert "cannot decode" in errors["c.txt"] and "c.txt" in errors["c.txt"]
    assert "malformed JSON on line 2" in errors[f"{jsonl}:2"]
    assert "line 3" in errors["j3"] and "no 'text' field" in errors["j3"]
    assert "line 4" in errors[f"{jsonl}:4"] and "not UTF-8" in errors[f"{jsonl}:4"]
    assert "'text' is list" in errors["j5"]
    assert "1 fields, the header has 2" in errors[f"{table}:3"]
    good = [r for r in rows if "error" not in r]
    assert all(set(r) >= {"p_party_building", "p_civility", "p_co_governance", "labels"} for r in good)
    # The GB18030 copy of a page is read and classified exactly like the UTF-8 one would be.
    assert rows[1]["title"] and rows[0]["title"]


@pytest.mark.slow
def test_output_formats_hold_the_same_rows(tmp_path, corpus):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    paths = {fmt: tmp_path / f"out.{fmt}" for fmt in ("jsonl", "csv", "parquet")}
    for path in paths.values():
        assert main(["classify", str(corpus), "-o", str(path), "-q", "--chunk-size", "128"]) == 1
    rows = _rows(paths["jsonl"])
    assert len(rows) == 602
    csv_df = pd.read_csv(paths["csv"], encoding="utf-8-sig", keep_default_na=False, dtype=str)
    import pyarrow.parquet as pq

    table = pq.read_table(paths["parquet"])
    pq_rows = table.to_pylist()
    assert list(csv_df["id"]) == [r["id"] for r in pq_rows] == [r["id"] for r in rows]
    assert list(csv_df.columns) == table.column_names == [
        "id", "title", "date", "p_party_building", "p_civility", "p_co_governance", "labels", "error"]
    assert str(table.schema.field("labels").type).startswith("list<") and table.schema.field("p_civility").type == "double"
    for i in (0, 100, 300, 601):
        r, p = rows[i], pq_rows[i]
        assert p["error"] == r.get("error") == (csv_df["error"][i] or None)
        if "error" in r:
            assert p["p_civility"] is None and csv_df["p_civility"][i] == ""
            continue
        assert p["labels"] == r["labels"] and csv_df["labels"][i] == ";".join(r["labels"])
        assert p["p_civility"] == r["p_civility"] == float(csv_df["p_civility"][i])
        assert p["title"] == r["title"] == csv_df["title"][i]


def test_csv_to_stdout_and_format_errors(tmp_path, capsys, corpus):
    assert main(["clean", str(EXAMPLES), "--format", "csv", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "id,title,date,source,author,body,removed_lines,error" and len(lines) > 3
    assert main(["classify", str(corpus), "--format", "parquet"]) == 2
    assert "Parquet output needs a file" in capsys.readouterr().err
    assert main(["classify", str(corpus), "-o", str(tmp_path / "out.xlsx")]) == 2
    assert "cannot tell the output format" in capsys.readouterr().err
    assert main(["classify", str(corpus), "--resume"]) == 2
    assert "--resume needs an output file" in capsys.readouterr().err
    assert main(["classify", str(corpus), "--jobs", "0", "-o", str(tmp_path / "o.jsonl")]) == 2
    assert "jobs must be" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists() and not list(tmp_path.glob(".*"))


def _wait_for_chunks(proc: subprocess.Popen, folder, n: int) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if folder.exists() and len(list(folder.glob("*-*.*"))) >= n:
            return
        if proc.poll() is not None:
            raise AssertionError("the run finished before it could be killed; give it more work")
        time.sleep(0.02)
    raise AssertionError("no chunks written in time")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_resume_after_sigkill_gives_byte_identical_output(tmp_path, corpus, fmt, capsys):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    big = tmp_path / "big.jsonl"
    big.write_bytes(corpus.read_bytes() * 4)  # 2,408 records: enough work to kill the run part-way
    corpus = big
    reference = tmp_path / f"reference.{fmt}"
    assert main(["classify", str(corpus), "-o", str(reference), "-q", "--chunk-size", "10"]) == 1
    out = tmp_path / f"out.{fmt}"
    parts = tmp_path / f".out.{fmt}.govtext-parts"
    cmd = [sys.executable, "-m", "govtext", "classify", str(corpus), "-o", str(out), "-q", "--chunk-size", "10"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    _wait_for_chunks(proc, parts, 5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()  # never half-written
    done = len(list(parts.glob(f"*-*.{fmt}")))
    assert 5 <= done < 241
    # Without --resume the leftover run is not silently thrown away.
    assert main(["classify", str(corpus), "-o", str(out), "-q", "--chunk-size", "10"]) == 2
    assert "add --resume" in capsys.readouterr().err
    assert main(["classify", str(corpus), "-o", str(out), "--chunk-size", "10", "--resume"]) == 1
    err = capsys.readouterr().err
    assert f"after {done * 10} done before" in err
    assert out.read_bytes() == reference.read_bytes()
    assert not parts.exists()


def test_resume_refuses_other_settings_or_changed_input(tmp_path, corpus, capsys):
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(corpus.read_bytes())
    out = tmp_path / "out.jsonl"
    parts = tmp_path / ".out.jsonl.govtext-parts"
    # Leave an interrupted run behind by stopping after the third chunk.
    from govtext import batch

    real_write = batch.PartsOutput.write

    def write_then_stop(self, index, payload, n):
        if index == 3:
            raise KeyboardInterrupt
        real_write(self, index, payload, n)

    batch.PartsOutput.write = write_then_stop
    try:
        assert main(["classify", str(inp), "-o", str(out), "-q", "--chunk-size", "50"]) == 130
    finally:
        batch.PartsOutput.write = real_write
    assert len(list(parts.glob("*.jsonl"))) == 3 and not out.exists()
    assert main(["classify", str(inp), "-o", str(out), "-q", "--chunk-size", "50", "--resume", "--explain"]) == 2
    assert "explain" in capsys.readouterr().err
    assert main(["classify", str(inp), "-o", str(out), "-q", "--chunk-size", "20", "--resume"]) == 2
    assert "chunk_size" in capsys.readouterr().err
    with open(inp, "a", encoding="utf-8") as fh:
        fh.write('{"id": "late", "text": "后来加上的"}\n')
    assert main(["classify", str(inp), "-o", str(out), "-q", "--chunk-size", "50", "--resume"]) == 2
    assert "inputs" in capsys.readouterr().err
    assert len(list(parts.glob("*.jsonl"))) == 3  # refusing kept the finished chunks


@pytest.mark.slow
@pytest.mark.parametrize("start_method", ["spawn", None])
def test_jobs_2_matches_one_process(tmp_path, corpus, start_method):
    one = tmp_path / "one.jsonl"
    two = tmp_path / "two.jsonl"
    extra = ["--start-method", start_method] if start_method else []
    assert main(["classify", str(corpus), "-o", str(one), "-q", "--chunk-size", "64"]) == 1
    assert main(["classify", str(corpus), "-o", str(two), "-q", "--chunk-size", "64", "--jobs", "2", *extra]) == 1
    assert one.read_bytes() == two.read_bytes()
    clean_one, clean_two = tmp_path / "c1.csv", tmp_path / "c2.csv"
    assert main(["clean", str(EXAMPLES), "-o", str(clean_one), "-q"]) == 0
    assert main(["clean", str(EXAMPLES), "-o", str(clean_two), "-q", "--jobs", "2", "--chunk-size", "1", *extra]) == 0
    assert clean_one.read_bytes() == clean_two.read_bytes()


def test_progress_bar_only_on_a_terminal(tmp_path, corpus):
    import pty

    cmd = [sys.executable, "-m", "govtext", "classify", str(corpus), "-o", str(tmp_path / "o.jsonl")]
    piped = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 1 and "doc/s" not in piped.stderr and "wrote 602 row(s)" in piped.stderr
    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 columns wide
    proc = subprocess.Popen(cmd + ["--resume"], stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(timeout=300)
    os.close(master)
    assert proc.returncode == 1 and b"doc/s" in seen and b"602" in seen
    quiet = subprocess.run(cmd + ["-q", "--overwrite"], capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 1 and quiet.stderr == ""


def test_classify_frame_adds_columns_and_error_rows(corpus):
    pd = pytest.importorskip("pandas")
    import govtext

    items = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()[:60]]
    items = [it for it in items if "text" in it]
    df = pd.DataFrame({"doc": [it["id"] for it in items], "body": [it["text"] for it in items]})
    df.loc[3, "body"] = None
    df["body"] = df["body"].astype(object)
    df.loc[5, "body"] = 42
    out = govtext.classify_frame(df, text_field="body", progress=False)
    with pytest.warns(DeprecationWarning, match="text_col= is deprecated"):
        old = govtext.classify_frame(df, text_col="body", progress=False)
    assert old.equals(out)
    assert list(out.columns) == ["doc", "body", "p_party_building", "p_civility", "p_co_governance", "labels", "error"]
    assert list(df.columns) == ["doc", "body"]  # the input frame is left alone
    empty = [i for i, t in enumerate(df["body"]) if isinstance(t, str) and not t.strip()]  # real items without text
    assert empty, "the corpus should hold real items with no text"
    assert "missing" in out["error"][3] and "int" in out["error"][5]
    assert all(out["error"][i] == "EmptyTextError: empty text" for i in empty)
    assert out["p_civility"].isna().sum() == 2 + len(empty)
    model = govtext.load()
    keep = df["body"].drop(index=[3, 5, *empty])
    texts = [govtext.clean_article(t).text for t in keep]
    # the genre is read from each record as it came (cleaning can drop a byline that tells it)
    expected = model.predict_proba(texts, genre=govtext.infer_genre(list(keep)))
    got = out.loc[keep.index][["p_party_building", "p_civility", "p_co_governance"]].to_numpy()
    assert abs(got - expected).max() < 1e-12
    assert out["labels"].tolist()[0] == model.predict_labels([texts[0]], genre=govtext.infer_genre([keep.iloc[0]]))[0]
    with pytest.raises(govtext.InputError, match="no column 'text'"):
        govtext.classify_frame(df)
    with pytest.raises(TypeError, match="DataFrame"):
        govtext.classify_frame(df["body"])


def test_output_into_a_pipe_writes_into_it_and_leaves_it_a_pipe(tmp_path):
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert main(["clean", str(EXAMPLES), "-o", str(fifo), "--format", "jsonl", "-q"]) == 0
    reader.join(timeout=60)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert len(received[0].decode("utf-8").splitlines()) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
