"""Hostile files and misuse: crafted model and index folders, outputs that would overwrite inputs,
text that no encoder accepts, pathological lines."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

import govtext
from govtext import IncompatibleModelError, SimilarityIndex, ThemeClassifier
from govtext.apps.cli import main

from .test_classify import make_corpus

DOCS = ["社区推行楼道自治,党员认领楼道。", "街道开展垃圾分类宣传活动,志愿者入户讲解。",
        "居民议事会协商加装电梯,业委会参与。", "村里修订村规民约,倡导移风易俗。"]


@pytest.fixture()
def index_dir(tmp_path):
    folder = tmp_path / "idx"
    SimilarityIndex().fit(DOCS, ids=list("abcd")).save(folder)
    return folder


@pytest.fixture(scope="module")
def small_model():
    texts, Y = make_corpus(80)
    return ThemeClassifier(min_df=1, cv=3).fit(texts, Y)


def _rewrite_npy(path, array):
    np.save(path, array, allow_pickle=False)


def _crafted_header(path, shape, dtype="<i4"):
    """A .npy file whose header declares ``shape`` but which holds only a few bytes."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(b"\0" * 16)


# -- crafted index folders ----------------------------------------------------------------------

@pytest.mark.parametrize("damage, message", [
    (lambda f: _rewrite_npy(f / "postings_indices.npy", np.load(f / "postings_indices.npy") + 10**6),
     "names documents outside"),
    (lambda f: _rewrite_npy(f / "postings_indices.npy", np.load(f / "postings_indices.npy") - 5),
     "names documents outside"),
    (lambda f: _rewrite_npy(f / "postings_indptr.npy", np.load(f / "postings_indptr.npy")[::-1].copy()),
     "postings arrays disagree|increasing order"),
    (lambda f: _rewrite_npy(f / "postings_indptr.npy", np.load(f / "postings_indptr.npy")[:-1].copy()),
     "entries for|has shape"),
    (lambda f: _crafted_header(f / "postings_indices.npy", (10**12,)), "declares"),
    (lambda f: _rewrite_npy(f / "postings_data.npy", np.full_like(np.load(f / "postings_data.npy"), np.nan)),
     "NaN"),
    (lambda f: np.save(f / "df.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True), "Python objects"),
    (lambda f: (f / "postings_data.npy").unlink(), "missing"),
    (lambda f: (f / "meta.json").write_text('{"fields": 1}', encoding="utf-8"), "meta.json: 'fields'"),
    (lambda f: _rewrite_npy(f / "meta_codes.npy", np.load(f / "meta_codes.npy") + 1000), "meta_codes.npy: holds codes"),
    (lambda f: _rewrite_npy(f / "meta_layout.npy", np.load(f / "meta_layout.npy")[:-1].copy()), "meta_layout.npy has shape"),
    (lambda f: _rewrite_npy(f / "meta_value_ends.npy", np.load(f / "meta_value_ends.npy") + 7),
     "meta_value_ends.npy: must rise"),
    (lambda f: [(f / n).unlink() for n in ("meta.json", "meta_codes.npy")], "meta.json .the metadata columns. is missing"),
])
def test_crafted_index_is_refused(index_dir, damage, message):
    damage(index_dir)
    with pytest.raises(IncompatibleModelError, match=message):
        govtext.load(index_dir)


def test_crafted_index_cannot_crash_the_cli(index_dir):
    """Out-of-range postings used to reach scipy's C code and segfault `govtext similar`."""
    indices = np.load(index_dir / "postings_indices.npy")
    _rewrite_npy(index_dir / "postings_indices.npy", indices + 50)
    run = subprocess.run([sys.executable, "-m", "govtext", "similar", "--index", str(index_dir), "楼道自治"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "names documents outside" in run.stderr and "Traceback" not in run.stderr


# -- crafted model folders ----------------------------------------------------------------------

def _edit_manifest(folder, **changes):
    manifest = json.loads((folder / "govtext.json").read_text(encoding="utf-8"))
    for key, value in changes.items():
        target = manifest
        *path, last = key.split("__")
        for part in path:
            target = target[part]
        target[last] = value
    (folder / "govtext.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def _edit_linear(folder, **arrays):
    with np.load(folder / "linear.npz") as old:
        saved = {k: old[k] for k in old.files}
    saved.update(arrays)
    np.savez_compressed(folder / "linear.npz", **saved)


@pytest.mark.parametrize("damage, message", [
    (lambda f: _edit_manifest(f, tokenizer__user_words="/etc/passwd"), "user_words must be a list of words"),
    (lambda f: _edit_manifest(f, tokenizer__stopwords="../../secret.txt"), "stopwords must be a list of words"),
    (lambda f: _edit_manifest(f, thresholds=[0.5, 7, 0.5]), "thresholds"),
    (lambda f: _edit_manifest(f, params__labels="abc"), "labels"),
    (lambda f: _edit_manifest(f, params__char_ngrams=[1, 9]), "char_ngrams"),
    (lambda f: _edit_manifest(f, params__evil=1), "unknown parameters"),
    (lambda f: _edit_linear(f, coef=np.zeros((3, 5), dtype=np.float32)), "coef has shape"),
    (lambda f: _edit_linear(f, intercept=np.zeros(1)), "intercept has shape"),
    (lambda f: _edit_linear(f, coef=np.full_like(np.load(f / "linear.npz")["coef"], np.nan)), "NaN"),
    (lambda f: (f / "word_vocabulary.json").write_text('{"a": 1}', encoding="utf-8"), "list of distinct strings"),
    (lambda f: _crafted_header(f / "word_idf.npy", (10**12,), "<f8"), "declares"),
    (lambda f: (f / "linear.npz").write_bytes(b"not a zip"), "not a readable .npz"),
])
def test_crafted_model_is_refused(tmp_path, small_model, damage, message):
    folder = tmp_path / "m"
    small_model.save(folder)
    damage(folder)
    with pytest.raises(IncompatibleModelError, match=message):
        govtext.load(folder)


def test_saved_model_carries_its_word_lists(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("楼道微自治\n", encoding="utf-8")
    texts, Y = make_corpus(60)
    model = ThemeClassifier(min_df=1, cv=3, tokenizer=govtext.Tokenizer(user_words=str(words))).fit(texts, Y)
    model.save(tmp_path / "m")
    words.unlink()  # the saved folder must not depend on a file outside it
    manifest = json.loads((tmp_path / "m" / "govtext.json").read_text(encoding="utf-8"))
    assert manifest["tokenizer"]["user_words"] == ["楼道微自治"]
    assert "楼道微自治" in govtext.load(tmp_path / "m").tokenizer_("推行楼道微自治")


# -- outputs never overwrite inputs ---------------------------------------------------------------

def test_output_that_is_an_input_is_refused(tmp_path, capsys):
    src = tmp_path / "corpus.jsonl"
    src.write_text('{"id": "a", "text": "社区召开居民议事会"}\n', encoding="utf-8")
    before = src.read_bytes()
    assert main(["classify", str(src), "-o", str(src)]) == 2
    assert "is also an input" in capsys.readouterr().err
    link = tmp_path / "same.jsonl"
    link.symlink_to(src)
    assert main(["classify", str(src), "-o", str(link), "--overwrite"]) == 2  # same file by another name
    assert src.read_bytes() == before


def test_existing_output_needs_overwrite(tmp_path, capsys):
    src = tmp_path / "corpus.jsonl"
    src.write_text('{"id": "a", "text": "社区召开居民议事会"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    assert main(["classify", str(src), "-o", str(out), "-q"]) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err and out.read_text(encoding="utf-8") == "precious\n"
    assert main(["classify", str(src), "-o", str(out), "-q", "--overwrite"]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["id"] == "a"


# -- text no encoder accepts ----------------------------------------------------------------------

def test_lone_surrogates_in_ids_and_text_do_not_stop_a_run(tmp_path, capsys):
    """One lone-surrogate escape in an id used to fail chunk encoding and end the run with exit 2."""
    src = tmp_path / "s.jsonl"
    src.write_text('{"id": "a\\ud800", "text": "社区召开居民议事会"}\n'
                   '{"id": "b", "text": "志愿者\\udfff开展文明劝导"}\n'
                   '{"id": "c", "text": "居民议事会协商加装电梯"}\n', encoding="utf-8")
    assert main(["classify", str(src), "-q"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a\ud800", "b", "c"]  # the id comes back exactly (JSON escape)
    assert all("labels" in r for r in rows) and rows[1]["labels"] == ["civility"]
    assert main(["classify", str(src), "--format", "csv", "-q"]) == 0
    assert "a\\ud800," in capsys.readouterr().out  # CSV: escaped as text
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    out = tmp_path / "s.parquet"
    assert main(["classify", str(src), "-o", str(out), "-q"]) == 0
    assert pq.read_table(out).column("id").to_pylist() == ["a\\ud800", "b", "c"]


def test_public_text_functions_accept_lone_surrogates():
    text = "社区\ud800召开\udfff居民议事会"
    assert govtext.normalize(text)
    assert govtext.Tokenizer()(text)
    assert govtext.clean_article(text).text
    assert govtext.load().predict_proba([text]).shape == (1, 3)


# -- linear time on long lines --------------------------------------------------------------------

def _cpu_seconds(fn, arg, *, repeats=5, calls=5):
    """Best CPU time of ``fn(arg)`` (process time, so other processes on a busy machine do not
    count), over ``repeats`` batches of ``calls`` calls with a fresh string each time."""
    best = float("inf")
    for r in range(repeats):
        args = [arg + str(r * calls + i) for i in range(calls)]  # fresh strings: no cached result
        t0 = time.process_time()
        for a in args:
            fn(a)
        best = min(best, (time.process_time() - t0) / calls)
    return best


def test_cleaning_is_linear_in_line_length():
    """A line with no sentence end used to make cleaning quadratic (80k characters: 140 s).
    Measured as CPU time, not wall-clock time: on a loaded machine a single 30 ms preemption
    inside one call made the wall-clock ratio look superlinear although the work was linear."""
    unit = "社区居民议事会协商加装电梯业委会物业共同参与"  # no 。!?
    short, long_ = unit * (10_000 // len(unit)), unit * (160_000 // len(unit))
    govtext.clean_article("预热。")  # first call loads tables and compiles patterns
    a, b = _cpu_seconds(govtext.clean_article, short), _cpu_seconds(govtext.clean_article, long_)
    print(f"\n10k chars {a:.4f} s, 160k chars {b:.4f} s CPU, ratio {b / a:.1f} for 16x the text")
    assert b / a < 16 * 4  # linear, with room for cache effects; quadratic would be ~256


def test_oversized_record_is_an_error_row(monkeypatch):
    from govtext import clean

    monkeypatch.setattr(clean, "MAX_RECORD_CHARS", 1000)
    with pytest.raises(clean.TextTooLongError, match="1,001 characters; records are limited to 1,000"):
        clean.usable_text("社" * 1001)


# -- decoding guesses -----------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    "東京都は今日、新しい政策を発表しました。市民の生活を支援するための施策です。".encode("shift_jis"),
    "서울시는 오늘 새로운 정책을 발표했습니다. 시민들의 생활을 지원하기 위한 조치입니다.".encode("euc_kr"),
    ("社区召开会议".encode("utf-8") + "居民参加讨论".encode("gbk")) * 5,  # UTF-8 and GBK in one file
])
def test_text_that_decodes_only_into_mojibake_is_refused(data):
    with pytest.raises(govtext.DecodingError, match="no Chinese decoding reads as Chinese"):
        govtext.io.decode_bytes(data, "x.txt")


@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-be", "utf-16", "utf-16-be"])
def test_utf16_and_utf32_with_a_byte_order_mark(encoding):
    import codecs

    text = "社区居民议事会协商加装电梯。"
    bom = {"utf-32": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE,
           "utf-16": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}[encoding]
    body = text.encode(encoding.replace("utf-32", "utf-32-le").replace("utf-16", "utf-16-le")
                       if not encoding.endswith("-be") else encoding)
    assert govtext.io.decode_bytes(bom + body)[0] == text


# -- workers die with their parent ------------------------------------------------------------------

@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_workers_exit_when_the_main_process_is_killed(tmp_path, signal_name):
    import os
    import signal

    psutil = pytest.importorskip("psutil")
    src = tmp_path / "big.jsonl"
    line = json.dumps({"text": "社区党支部组织党员志愿者开展文明劝导,居民议事会协商加装电梯。" * 20}, ensure_ascii=False)
    src.write_text("\n".join([line] * 20000) + "\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "govtext", "classify", str(src), "-o", str(tmp_path / "o.jsonl"),
                             "--jobs", "2", "--chunk-size", "50", "-q"])
    main_process = psutil.Process(proc.pid)
    deadline = time.time() + 120
    workers = []
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = [c for c in main_process.children(recursive=True) if "python" in (c.name() or "")]
        time.sleep(0.2)
    assert len(workers) >= 2, "the workers did not start"
    time.sleep(1.0)  # let them get to work
    os.kill(proc.pid, getattr(signal, signal_name))
    proc.wait(timeout=60)
    gone, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive, f"workers still running after the parent died: {[p.pid for p in alive]}"


# -- command-line misuse ----------------------------------------------------------------------------

def test_closed_standard_streams_give_no_traceback(tmp_path):
    src = tmp_path / "a.jsonl"
    src.write_text('{"id": "a", "text": "社区召开居民议事会"}\n', encoding="utf-8")
    base = [sys.executable, "-m", "govtext"]
    closed_out = subprocess.run(" ".join(base + ["classify", str(src)]) + " >&- 2>&-", shell=True, timeout=300)
    assert closed_out.returncode == 0
    closed_in = subprocess.run(" ".join(base + ["classify", "-"]) + " <&-", shell=True, capture_output=True,
                               text=True, timeout=300)
    assert closed_in.returncode == 2 and "stdin is closed" in closed_in.stderr and "Traceback" not in closed_in.stderr


def test_keywords_k_zero_is_an_error(capsys):
    from .conftest import EXAMPLES

    assert main(["keywords", str(EXAMPLES), "-k", "0"]) == 2
    assert "-k must be at least 1" in capsys.readouterr().err


# -- resume verifies what it reuses -------------------------------------------------------------------

def _interrupted_run(inp, out, chunks=4, size="20"):
    """Leave an interrupted run behind: stop after ``chunks`` chunks have been written."""
    from govtext import batch

    real_write = batch.PartsOutput.write

    def write_then_stop(self, index, payload, n):
        if index == chunks:
            raise KeyboardInterrupt
        real_write(self, index, payload, n)

    batch.PartsOutput.write = write_then_stop
    try:
        assert main(["classify", str(inp), "-o", str(out), "-q", "--chunk-size", size]) == 130
    finally:
        batch.PartsOutput.write = real_write


@pytest.fixture()
def small_corpus(tmp_path):
    from .conftest import read_xwlb

    inp = tmp_path / "in.jsonl"
    items = [it for it in read_xwlb(200, step=40) if it["text"]]
    inp.write_text("".join(json.dumps({"id": it["id"], "text": it["text"]}, ensure_ascii=False) + "\n"
                           for it in items), encoding="utf-8")
    ref = tmp_path / "ref.jsonl"
    assert main(["classify", str(inp), "-o", str(ref), "-q", "--chunk-size", "20"]) == 0
    return inp, ref


@pytest.mark.parametrize("damage", ["truncate", "empty", "garble", "rename", "delete_middle"])
def test_damaged_chunks_are_redone(tmp_path, small_corpus, damage, capsys):
    inp, ref = small_corpus
    out = tmp_path / "out.jsonl"
    parts = tmp_path / ".out.jsonl.govtext-parts"
    _interrupted_run(inp, out)
    chunks = sorted(parts.glob("*.jsonl"))
    assert len(chunks) == 4
    victim = chunks[1]
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:-40])
    elif damage == "empty":
        victim.write_bytes(b"")
    elif damage == "garble":
        data = bytearray(victim.read_bytes())
        data[10] ^= 0x01
        victim.write_bytes(bytes(data))
    elif damage == "rename":
        victim.rename(victim.with_name(victim.name.replace("-20-", "-19-")))
    else:
        victim.unlink()
    capsys.readouterr()
    assert main(["classify", str(inp), "-o", str(out), "-q", "--chunk-size", "20", "--resume"]) == 0
    assert out.read_bytes() == ref.read_bytes()


def test_resume_sees_edits_that_keep_size_and_time(tmp_path, small_corpus, capsys):
    import os

    inp, _ = small_corpus
    out = tmp_path / "out.jsonl"
    _interrupted_run(inp, out)
    st = inp.stat()
    data = bytearray(inp.read_bytes())
    data[data.index(b'"text": "') + 12] ^= 0x01  # same size
    inp.write_bytes(bytes(data))
    os.utime(inp, ns=(st.st_atime_ns, st.st_mtime_ns))  # same time
    capsys.readouterr()
    assert main(["classify", str(inp), "-o", str(out), "-q", "--chunk-size", "20", "--resume"]) == 2
    assert "inputs" in capsys.readouterr().err


def test_resume_recognises_the_same_input_under_another_path(tmp_path, small_corpus):
    import shutil

    inp, ref = small_corpus
    out = tmp_path / "out.jsonl"
    _interrupted_run(inp, out)
    moved = tmp_path / "moved"
    moved.mkdir()
    shutil.copy(inp, moved / "in.jsonl")
    assert main(["classify", str(moved / "in.jsonl"), "-o", str(out), "-q", "--chunk-size", "20", "--resume"]) == 0
    assert out.read_bytes() == ref.read_bytes()


# -- CSV: a bad line costs that line ---------------------------------------------------------------------

def test_undecodable_csv_line_costs_only_that_line(tmp_path):
    rows = [f"{i},社区召开第{i}次居民议事会" for i in range(3000)]
    lines = ("id,text\n" + "\n".join(rows) + "\n").encode("utf-8").split(b"\n")
    lines[1500] = lines[1500][:5] + b"\xff\xfe" + lines[1500][5:]  # file line 1501: data row 1499
    path = tmp_path / "a.csv"
    path.write_bytes(b"\n".join(lines))
    records = list(govtext.iter_records([path]))
    assert len(records) == 3000
    bad = [r for r in records if r.error]
    assert [r.id for r in bad] == [f"{path}:1501"] and "line 1501" in bad[0].error and "not UTF-8" in bad[0].error
    assert records[1498].text == "社区召开第1498次居民议事会" and records[1500].text == "社区召开第1500次居民议事会"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_csv_with_a_utf16_or_utf32_byte_order_mark(tmp_path, encoding):
    path = tmp_path / "w.csv"
    path.write_bytes("id,text\n1,社区议事\n2,文明劝导\n".encode(encoding))
    assert [(r.id, r.text) for r in govtext.iter_records([path])] == [("1", "社区议事"), ("2", "文明劝导")]


# -- any Unicode into every public text entry point -----------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Arbitrary text with the troublemakers over-represented: lone surrogates, NULs and other controls,
# Han characters, sentence punctuation and line breaks.
_NASTY = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["\ud800", "\udfff", "\x00", "\x1b", "\u200b", "\ufeff", "\ufffd", "\n", "。", "!", " "]),
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
    ),
    max_size=300,
)
_QUICK = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def bundled():
    return govtext.load()


@_QUICK
@given(_NASTY)
def test_text_functions_take_any_unicode(text):
    assert isinstance(govtext.normalize(text), str)
    art = govtext.clean_article(text)
    assert isinstance(art.text, str)
    assert isinstance(govtext.Tokenizer()(text), list)
    try:
        usable, _ = govtext.usable_text(text)
        assert usable.strip()
    except govtext.EmptyTextError:
        pass
    govtext.clean.parse_date(text)
    govtext.evidence_overlap(text, text[::-1])


@_QUICK
@given(_NASTY)
def test_model_takes_any_unicode(bundled, text):
    p = bundled.predict_proba([text])
    assert p.shape == (1, 3) and np.isfinite(p).all()
    ex = bundled.explain(text)
    assert all(isinstance(s, str) for e in ex.labels for s in e.sentences)
    json.dumps(ex.to_dict(), ensure_ascii=True)


@_QUICK
@given(st.binary(max_size=400))
def test_decoding_any_bytes_gives_text_or_a_decoding_error(data):
    try:
        text, encoding = govtext.io.decode_bytes(data, "x")
        assert isinstance(text, str) and encoding
    except govtext.DecodingError:
        pass


def test_a_100k_character_line_with_nuls_and_surrogates(bundled):
    line = ("社区\x00议事会\ud800协商" * 12_500)[:100_000]
    assert bundled.predict_proba([line]).shape == (1, 3)
    assert govtext.clean_article(line).text


@pytest.mark.parametrize("engine", ["rjieba", "jieba"])
def test_tokenizer_without_normalising_takes_lone_surrogates(engine):
    assert govtext.Tokenizer(engine=engine, normalize=False)("社区\ud800议事会") == ["社区", "议事会"]
