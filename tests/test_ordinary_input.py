"""Nothing lost on ordinary input and the command line (issue 20, items 1-7, 13, 14, 16, 17): each
test here reproduces a failure seen on plain files or plain commands and fails without its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from govtext.apps.cli import main

REPO = Path(__file__).resolve().parent.parent


def _govtext(args: list[str], cwd: Path, seed: str = "0", **env: str) -> subprocess.CompletedProcess:
    """Run the command line in a fresh interpreter (its own hash seed)."""
    environ = {**os.environ, "PYTHONHASHSEED": seed, **env}
    return subprocess.run([sys.executable, "-m", "govtext", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=300)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- 3: fingerprints do not depend on the hash seed -----------------------------------------------

@pytest.mark.slow
def test_count_resumes_in_another_process_whatever_the_hash_seed(tmp_path):
    """`count --resume` compares the run's fingerprint with the one stored by the interrupted run;
    the lexicon's exclusions went through a set, so every new process (new hash seed) refused."""
    (tmp_path / "lex.tsv").write_text("civility\t文明楼道\nexclude\t生态文明\nexclude\t中华文明\n"
                                      "exclude\t精神文明建设\nexclude\t文明交流互鉴\nexclude\t文明互鉴\n",
                                      encoding="utf-8")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": str(i), "text": f"第{i}栋创建文明楼道,建设生态文明。"},
                                                          ensure_ascii=False) + "\n" for i in range(6)),
                                       encoding="utf-8")
    args = ["count", "in.jsonl", "--lexicon", "lex.tsv", "--no-clean", "-o", "out.jsonl", "--chunk-size", "2", "-q"]
    # Interrupt the first run where it joins the chunks: a folder in the way of its temporary file.
    (tmp_path / ".out.jsonl.joining").mkdir()
    first = _govtext(args, tmp_path, seed="1")
    assert first.returncode == 2, first.stderr
    assert len(list((tmp_path / ".out.jsonl.govtext-parts").glob("*.jsonl"))) == 3
    (tmp_path / ".out.jsonl.joining").rmdir()
    resumed = _govtext([*args[:-1], "--resume"], tmp_path, seed="2")
    assert resumed.returncode == 0, resumed.stderr
    assert "after 6 done before" in resumed.stderr
    assert [r["id"] for r in _rows(tmp_path / "out.jsonl")] == [str(i) for i in range(6)]


def test_run_fingerprints_are_the_same_under_two_hash_seeds(tmp_path):
    (tmp_path / "words.txt").write_text("楼道自治\n文明楼道\n共建共治共享\n党建引领\n", encoding="utf-8")
    (tmp_path / "lex.tsv").write_text("a\t文明楼道\nexclude\t生态文明\nexclude\t中华文明\nexclude\t文明互鉴\n",
                                      encoding="utf-8")
    (tmp_path / "in.jsonl").write_text('{"id": "1", "text": "文明楼道"}\n', encoding="utf-8")
    script = r"""
import json, sys
from govtext.apps.cli import _parser, run_fingerprint
from govtext.runs.batch import CountRows, TokenizeRows, ClassifyRows, theme_model
from govtext.features.lexicon import LexiconCounter
from govtext.text.tokenize import Tokenizer
tok = Tokenizer(user_words="words.txt", extra_stopwords="words.txt")
makers = [CountRows(LexiconCounter("lex.tsv", exclusions=["文明交流", "城市文明"], tokenizer=tok).fit()),
          TokenizeRows(tok), ClassifyRows(theme_model(None))]
args = _parser().parse_args(["count", "in.jsonl", "-o", "x.jsonl"])
print(json.dumps([run_fingerprint(args, m) for m in makers], ensure_ascii=False, sort_keys=True))
"""
    outs = set()
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, timeout=300)
        assert done.returncode == 0, done.stderr
        outs.add(done.stdout)
    assert len(outs) == 1


# -- 14: one name per thing -----------------------------------------------------------------------

def test_public_functions_and_submodules_never_share_a_name():
    import govtext

    clash = set(govtext._WHERE) & set(govtext._SUBMODULES)
    assert not clash, f"these names are both a function and a submodule: {clash}"
    modules = {p.stem for p in (REPO / "govtext").rglob("*.py") if not p.stem.startswith("_")}
    assert not set(govtext.__all__) & modules


def test_evaluate_stays_a_function_after_sample_for_coding():
    # In a fresh interpreter: importing the submodule first used to replace the function.
    script = ("import govtext\n"
              "govtext.sample_for_coding\n"
              "assert callable(govtext.evaluate), type(govtext.evaluate)\n"
              "from govtext import evaluate\n"
              "assert callable(evaluate)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# -- 13: a bug in a row maker is a bug (exit 3), not an error row --------------------------------

@pytest.mark.parametrize("command, target", [
    ("tokenize", "govtext.runs._rows.TokenizeRows.one"),
    ("clean", "govtext.runs._rows.CleanRows.one"),
    ("classify", "govtext.themes._linear.ThemePredictor.predict_proba"),
])
@pytest.mark.parametrize("bug", [TypeError, KeyError, AttributeError])
def test_programming_errors_in_row_makers_exit_3_with_a_traceback(tmp_path, capsys, monkeypatch, command, target, bug):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "1", "text": "社区党建引领文明楼道创建。"}\n{"id": "2", "text": ""}\n', encoding="utf-8")

    def broken(*args, **kwargs):
        raise bug("a bug in govtext")

    monkeypatch.setattr(target, broken)
    assert main([command, str(path), "-q"]) == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "internal error" in err and bug.__name__ in err


def test_record_errors_still_become_error_rows(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "1", "text": "社区党建引领文明楼道创建。"}\n{"id": "2", "text": "   "}\n'
                    '{"id": "3", "text": "社区\\ud800党建"}\n', encoding="utf-8")
    for command in ("tokenize", "classify", "count", "clean"):
        assert main([command, str(path), "-q"]) == 1
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [r["id"] for r in rows] == ["1", "2", "3"]
        assert "error" not in rows[0] and "EmptyTextError" in rows[1]["error"]


# -- 5: writing an index is atomic; ids with lone surrogates ---------------------------------------

def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")  # ASCII escapes kept
    return path


DOCS = [{"id": "a", "text": "社区党建引领楼道自治,党员认领楼道。"},
        {"id": "b", "text": "街道开展垃圾分类宣传活动,志愿者入户讲解。"}]


def test_index_with_a_lone_surrogate_id_is_written_and_read_back_exactly(tmp_path, capsys):
    import govtext

    good = _jsonl(tmp_path / "ok.jsonl", DOCS)
    odd = _jsonl(tmp_path / "odd.jsonl", [{"id": "x\ud800", "text": "居民议事会协商楼道加装电梯。", "title": "t\udcff"}])
    out = tmp_path / "idx"
    assert main(["index", str(good), "-o", str(out), "-q"]) == 0
    assert main(["index", str(good), str(odd), "-o", str(out), "-q", "--overwrite"]) == 0
    index = govtext.load(out)
    assert list(index.ids_) == ["a", "b", "x\ud800"]
    assert main(["similar", "楼道电梯", "--index", str(out), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "x\ud800" in [r["id"] for r in rows]
    assert main(["similar", "楼道电梯", "--index", str(out)]) == 0
    assert "x\\ud800" in capsys.readouterr().out
    for extra in ([], ["--json"]):
        assert main(["kwic", "楼道", str(odd), *extra]) == 0
        assert "x\\ud800" in capsys.readouterr().out


def test_a_failed_index_write_leaves_the_old_index_whole(tmp_path, monkeypatch, capsys):
    import govtext
    from govtext.search.similarity import SimilarityIndex

    good = _jsonl(tmp_path / "ok.jsonl", DOCS)
    out = tmp_path / "idx"
    assert main(["index", str(good), "-o", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_save = SimilarityIndex.save

    def failing_save(self, path):
        real_save(self, path)
        (Path(path) / "postings_indices.npy").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(SimilarityIndex, "save", failing_save)
    more = _jsonl(tmp_path / "more.jsonl", [{"id": "c", "text": "村里修订村规民约,倡导移风易俗。"}])
    assert main(["index", str(good), str(more), "-o", str(out), "-q", "--overwrite"]) == 2
    assert "disk full" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert list(govtext.load(out).ids_) == ["a", "b"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["idx", "more.jsonl", "ok.jsonl"]  # nothing left beside


def test_index_never_replaces_a_folder_that_is_not_an_index(tmp_path, capsys):
    good = _jsonl(tmp_path / "ok.jsonl", DOCS)
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "draft.docx").write_bytes(b"mine")
    assert main(["index", str(good), "-o", str(mine), "-q"]) == 2
    assert "does not hold a saved index" in capsys.readouterr().err
    assert (mine / "draft.docx").read_bytes() == b"mine"


# -- 6: no output is, or would be read as, an input -------------------------------------------------

def test_output_inside_an_input_folder_is_refused_even_with_overwrite(tmp_path, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_text("社区党建引领楼道自治。", encoding="utf-8")
    (folder / "b.txt").write_text("街道开展文明创建。", encoding="utf-8")
    for target in (folder / "a.txt", folder / "new.txt", folder / "sub" / "c.TXT"):
        assert main(["clean", str(folder), "--format", "jsonl", "-o", str(target), "--overwrite", "-q"]) == 2
        assert "inside the input folder" in capsys.readouterr().err
    assert (folder / "a.txt").read_text(encoding="utf-8") == "社区党建引领楼道自治。"
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]
    # Through a link to the folder, too.
    (tmp_path / "link").symlink_to(folder)
    assert main(["clean", str(tmp_path / "link"), "--format", "jsonl", "-o", str(folder / "b.txt"),
                 "--overwrite", "-q"]) == 2
    assert (folder / "b.txt").read_text(encoding="utf-8") == "街道开展文明创建。"
    # A file the folder does not read may go there.
    assert main(["clean", str(folder), "-o", str(folder / "cleaned.jsonl"), "-q"]) == 0


def test_index_output_may_not_be_or_hold_or_sit_in_an_input(tmp_path, capsys):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_text("社区党建引领楼道自治,党员认领楼道。", encoding="utf-8")
    (folder / "b.txt").write_text("街道开展垃圾分类宣传活动,志愿者入户讲解。", encoding="utf-8")
    for target in (folder, folder / "idx"):
        assert main(["index", str(folder), "-o", str(target), "-q"]) == 2
        assert "input" in capsys.readouterr().err
    assert main(["index", str(folder / "a.txt"), "-o", str(tmp_path), "-q"]) == 2
    assert "holds the input" in capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == ["a.txt", "b.txt"]


# -- 1: one undecodable line costs one row ----------------------------------------------------------

def _table(n: int, encoding: str, bad_at: int, bad: bytes) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    line = ("第{}條 社區黨建引領基層治理,推進文明創建工作,群眾滿意度提升。" if encoding.startswith("big5")
            else "第{}条 社区党建引领基层治理,推进文明创建工作,群众满意度提升。")
    rows = [("id", "text")] + [(str(i), line.format(i)) for i in range(n)]
    csv.writer(buf, lineterminator="\n").writerows(rows)
    lines = buf.getvalue().encode(encoding).split(b"\n")
    lines[bad_at] += bad
    return b"\n".join(lines)


@pytest.mark.parametrize("encoding, bad", [("gb18030", b"\x80\xff\xfe"), ("gbk", b"\xff"), ("big5hkscs", b"\x80\xff"),
                                           ("utf-8", "居民议事".encode("gbk"))])
@pytest.mark.parametrize("bad_at", [1, 6, 900])
def test_one_undecodable_line_costs_one_row_wherever_it_is(tmp_path, encoding, bad, bad_at):
    from govtext.text.io import iter_records

    path = tmp_path / "table.csv"
    path.write_bytes(_table(1000, encoding, bad_at, bad))
    records = list(iter_records([path]))
    assert len(records) == 1000
    errors = [r for r in records if r.error]
    assert [r.id for r in errors] == [f"{path}:{bad_at + 1}"]
    good = [r for r in records if not r.error]
    assert good[0].text.startswith(f"第{0 if bad_at != 1 else 1}") and good[-1].text.startswith("第999")
    assert "党建引领" in good[-1].text or "黨建引領" in good[-1].text


# -- 4: a chunk's digest binds its place and its records' ids --------------------------------------

def _interrupt_after(monkeypatch, chunks: int) -> None:
    from govtext.runs import _storage

    real_write = _storage.PartsOutput.write

    def write_then_stop(self, index, payload, n):
        if index == chunks:
            raise KeyboardInterrupt
        real_write(self, index, payload, n)

    monkeypatch.setattr(_storage.PartsOutput, "write", write_then_stop)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("damage", ["swap", "copy_later", "copy_over"])
def test_resume_never_trusts_a_chunk_moved_to_another_place(tmp_path, monkeypatch, capsys, fmt, damage):
    inp = _jsonl(tmp_path / "in.jsonl", [{"id": f"r{i}\ud800" if i == 3 else f"r{i}", "text": f"第{i}栋楼道自治,党员认领楼道。"}
                                         for i in range(8)])
    out = tmp_path / f"out.{fmt}"
    args = ["tokenize", str(inp), "-o", str(out), "--chunk-size", "2", "--no-clean", "-q"]
    assert main([*args[:3], str(tmp_path / f"ref.{fmt}"), *args[4:]]) == 0
    with monkeypatch.context() as m:
        _interrupt_after(m, 3)
        assert main(args) == 130
    parts = tmp_path / f".out.{fmt}.govtext-parts"
    chunks = sorted(parts.glob(f"*.{fmt}"))
    assert len(chunks) == 3
    rename = lambda f, i: f.name.replace(f.name[:8], f"{i:08d}")  # noqa: E731
    if damage == "swap":  # rows out of order
        a, b = chunks[0], chunks[1]
        a.rename(parts / "tmp")
        b.rename(parts / rename(b, 0))
        (parts / "tmp").rename(parts / rename(a, 1))
    elif damage == "copy_later":  # the first chunk again under the next number: duplicated rows
        (parts / rename(chunks[0], 3)).write_bytes(chunks[0].read_bytes())
    else:  # another chunk's bytes under this chunk's name
        chunks[1].write_bytes(chunks[2].read_bytes())
    capsys.readouterr()
    assert main([*args[:-1], "--resume"]) == 0
    assert out.read_bytes() == (tmp_path / f"ref.{fmt}").read_bytes()
    assert "redone" in capsys.readouterr().err


# -- 7: normalize is idempotent; Hypothesis is derandomized under CI ------------------------------

def test_normalize_is_idempotent_on_every_han_character():
    """OpenCC maps 薴 to 苧 and 苧 to 苎: one pass was not a fixed point (a Hypothesis example)."""
    from govtext import normalize

    chars = [chr(cp) for lo, hi in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00)) for cp in range(lo, hi)]
    once = [normalize(c) for c in chars]
    assert [c for c, n in zip(chars, once) if normalize(n) != n] == []
    assert normalize("薴麻") == normalize(normalize("薴麻")) == "苎麻"
    mixed = "薴麻種植,著名的臺灣鄉鎮,社区党建"
    assert normalize(normalize(mixed)) == normalize(mixed)


def test_hypothesis_runs_derandomized_under_ci():
    from hypothesis import settings

    from .conftest import hypothesis_profile

    assert hypothesis_profile({"CI": "true"}) == "ci" and hypothesis_profile({}) == "dev"
    assert settings.get_profile("ci").derandomize and not settings.get_profile("dev").derandomize
    assert settings.default.derandomize == bool(os.environ.get("CI"))


# -- 17: tests on ../shared fail under CI when it is missing ---------------------------------------

def test_missing_shared_data_skips_locally_and_fails_under_ci(tmp_path, monkeypatch):
    from .conftest import _need

    missing = tmp_path / "shared" / "labels" / "x.jsonl"
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        _need(missing)
    monkeypatch.setenv("CI", "true")
    try:
        _need(missing)
    except pytest.skip.Exception:
        outcome = "skipped"
    except pytest.fail.Exception as exc:
        outcome = "failed" if "under CI" in str(exc) else str(exc)
    else:
        outcome = "passed"
    assert outcome == "failed"
    assert _need(tmp_path) == tmp_path


def test_every_test_reading_shared_data_goes_through_need():
    """No test reads ../shared (SHARED, SEEDS, XWLB, train_default's files) without ``_need``, and
    none skips on its own when the data is missing."""
    import re

    offenders = []
    for path in sorted((REPO / "tests").glob("test_*.py")):
        if path.name == "test_ordinary_input.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            reads = re.search(r"\b(SHARED|SEEDS|XWLB)\b", line) and not line.lstrip().startswith(("from ", "import "))
            if reads and "_need(" not in line:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
            if re.search(r"skip\(.*shared", line) or ".available()" in line and "_need" not in line and "if not" not in line:
                offenders.append(f"{path.name}:{n}: {line.strip()}")
    assert offenders == []


# -- 2: an unbalanced quote in a CSV is reported, never merged -------------------------------------

def _quoted_table(tmp_path: Path, broken: bool) -> Path:
    lines = ["id,text,title"] + [f"{i},第{i}条 社区党建引领基层治理,标题{i}" for i in range(10)]
    if broken:
        lines[4] = '3,"他说 社区党建引领,标题3'      # a quote opened and never closed on its line ...
        lines[8] = '7,第7条 "社区" 党建引领,标题7'  # ... is closed by a later one: 3 fields, exit 0 before
    else:  # a proper multi-paragraph text, commas and quotes inside
        lines[4] = '3,"第一段 社区党建引领\n第二段,有逗号,也有""引号""\n第三段",标题3'
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_an_unbalanced_quote_gives_error_rows_with_line_numbers(tmp_path, capsys):
    path = _quoted_table(tmp_path, broken=True)
    assert main(["tokenize", str(path), "--no-clean", "-q"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["0", "1", "2", *(f"{path}:{n}" for n in range(5, 10)), "8", "9"]
    assert all("unbalanced quote" in r["error"] and "line 5" in r["error"] for r in rows[3:8])
    # Nothing merged: a row holds its own title (titles are analysed with the text) and no other line's.
    assert all(" ".join(r.get("tokens", [])).count("标题") <= 1 for r in rows)


def test_quoted_fields_with_line_breaks_are_still_read_whole(tmp_path, capsys):
    path = _quoted_table(tmp_path, broken=False)
    assert main(["tokenize", str(path), "--no-clean", "-q"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [str(i) for i in range(10)]
    assert "第三段" in rows[3]["tokens"]


def test_a_quote_never_closed_costs_error_rows_not_the_rest_of_the_file(tmp_path):
    from govtext.text.io import iter_records

    lines = ["id,text,title"] + [f"r{i},第{i}条 社区党建引领基层治理,标题{i}" for i in range(10)]
    lines[4] = 'r3,"他说 社区党建引领,标题3'
    path = tmp_path / "table.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = list(iter_records([path]))
    assert [r.id for r in records] == ["r0", "r1", "r2", *(f"{path}:{n}" for n in range(5, 12))]
    assert all(r.error and "unbalanced quote" in r.error for r in records[3:])


# -- 16: evaluate's label values, index's workers, short foreign snippets ---------------------------

@pytest.mark.slow
def test_index_workers_end_when_the_parent_is_killed(tmp_path):
    import signal
    import time

    psutil = pytest.importorskip("psutil")
    inp = _jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": f"第{i}条 社区党建引领基层治理,推进文明创建工作。" * 20}
                                         for i in range(8000)])
    proc = subprocess.Popen([sys.executable, "-m", "govtext", "index", str(inp), "-o", str(tmp_path / "idx"),
                             "--jobs", "2", "--no-clean", "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    parent = psutil.Process(proc.pid)
    children: list = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(children) < 2 and proc.poll() is None:
        children = parent.children(recursive=True)
        time.sleep(0.2)
    assert len(children) >= 2, "the index run never started its worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    for p in alive:  # do not leave them behind even when the test fails
        p.kill()
    assert alive == []


@pytest.mark.parametrize("record, message", [
    ({"party_building": "yes", "civility": 0, "co_governance": 0}, "'party_building' must be 0 or 1"),
    ({"party_building": None, "civility": 0, "co_governance": 0}, "got null"),
    ({"party_building": [[1]], "civility": 0, "co_governance": 0}, "got [[1]]"),
    ({"party_building": 2, "civility": 0, "co_governance": 0}, "got 2"),
    ({"labels": [["civility"]]}, "'labels' must be a list of label names"),
    ({"labels": [None]}, "'labels' must be a list of label names"),
    ({"labels": "civility"}, "'labels' must be a list of label names"),
])
def test_evaluate_says_which_label_value_is_wrong(tmp_path, capsys, record, message):
    path = _jsonl(tmp_path / "coded.jsonl", [{"id": "a", "text": "社区党建引领楼道自治。", **record}])
    assert main(["evaluate", "--labels", str(path), "--n-bootstrap", "10"]) == 2
    err = capsys.readouterr().err
    assert "record a" in err and message in err and "Traceback" not in err


def test_evaluate_reads_0_1_true_false_and_text_codes(tmp_path, capsys):
    rows = [{"id": "a", "text": "社区党委书记带领党员认领楼道,党建引领基层治理。", "party_building": True, "civility": "0",
             "co_governance": 0.0},
            {"id": "b", "text": "街道开展文明城市创建,志愿者清理楼道。", "party_building": 0, "civility": "1",
             "co_governance": False}]
    assert main(["evaluate", "--labels", str(_jsonl(tmp_path / "coded.jsonl", rows)), "--n-bootstrap", "10",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)


JAPANESE = ["東京都は今日", "新しい政策を", "市民の生活を", "支援するため", "ありがとう", "カタカナです", "日本語の文章"]
KOREAN = ["서울시는 오늘", "새로운 정책을", "시민들의 생활", "지원하기 위한", "감사합니다", "한국어 문장", "대한민국 정부"]


@pytest.mark.parametrize("data", [s.encode("shift_jis") for s in JAPANESE] + [s.encode("euc_kr") for s in KOREAN]
                         + ["東京都は今日、新しい政策".encode("iso2022_jp"), "서울시는 오늘".encode("iso2022_kr")])
def test_short_japanese_and_korean_snippets_are_refused_not_read_as_chinese(data):
    from govtext.text.io import DecodingError, decode_bytes

    with pytest.raises(DecodingError, match="Japanese|Korean|ISO-2022"):
        decode_bytes(data, source="snippet.txt")


def test_short_chinese_snippets_are_never_taken_for_japanese_or_korean(examples):
    import random
    import re

    from govtext.text.io import DecodingError, decode_bytes

    text = re.sub(r"\s+", "", "".join(examples.values()))
    rng = random.Random(0)
    refused, tried = [], 0
    for n in (5, 6, 8, 12):
        for _ in range(400):
            i = rng.randrange(len(text) - n)
            snippet = text[i : i + n]
            for enc in ("gb18030", "big5hkscs"):
                try:
                    data = snippet.encode(enc)
                except UnicodeEncodeError:
                    continue
                tried += 1
                try:
                    decode_bytes(data)
                except DecodingError as exc:
                    if "Japanese" in str(exc) or "Korean" in str(exc):
                        refused.append((snippet, enc))
    assert tried > 2000 and refused == []


def test_a_japanese_table_is_not_read_as_chinese(tmp_path):
    from govtext.text.io import iter_records

    path = tmp_path / "ja.csv"
    path.write_bytes("id,text\n".encode() + "".join(f"{i},{s}\n" for i, s in enumerate(JAPANESE)).encode("shift_jis"))
    records = list(iter_records([path]))
    assert len(records) == len(JAPANESE) and all(r.error for r in records)
