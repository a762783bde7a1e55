"""Crafted saved folders: every one is refused at load (or, for a line read lazily, when it is read)
with govtext's IncompatibleModelError naming the file and the reason; none follows a link, blocks on a
FIFO, allocates what a header declares before checking it, or loads silently wrong.

The folders are made here from a small saved index, vectorizer, theme model and word vectors, then
damaged one way each."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import struct
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

import govtext
from govtext import IncompatibleModelError, SimilarityIndex, ThemeClassifier, ThemePredictor, Vectorizer, WordVectors

from .test_classify import make_corpus

# Shared words (楼道, 社区, 居民 …) so that several postings lists hold more than one document.
DOCS = ["社区推行楼道自治,党员认领楼道,居民参与。", "街道开展垃圾分类宣传活动,社区志愿者入户讲解。",
        "居民议事会协商加装电梯,社区业委会参与。", "村里修订村规民约,倡导移风易俗,居民认领责任。",
        "社区楼道堆物清理,居民自治小组巡查。"]

OLD_INDEX = Path(__file__).parent / "data" / "index_before_columns"

windows = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and O_NOFOLLOW are POSIX")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """One saved folder of each kind."""
    root = tmp_path_factory.mktemp("saved")
    SimilarityIndex().fit(DOCS, ids=list("abcde"), metadata=[{"date": "2025-06-0%d" % (i + 1)} for i in range(5)]
                          ).save(root / "index")
    Vectorizer().fit(DOCS).save(root / "vectorizer")
    texts, Y = make_corpus(60)
    ThemeClassifier(min_df=1, cv=2).fit(texts, Y).save(root / "model")
    WordVectors.train(DOCS * 4, dim=3, min_count=1).save(root / "vectors")
    shutil.copytree(OLD_INDEX, root / "old_index")  # saved by govtext before metadata columns (records.jsonl)
    return root


@pytest.fixture()
def copy(saved, tmp_path):
    def make(kind: str):
        folder = tmp_path / kind
        shutil.copytree(saved / kind, folder)
        return folder
    return make


class _Hang(Exception):
    pass


def _load(folder, loader=govtext.load, seconds: int = 20):
    """Load with an alarm: a FIFO that blocks fails the test instead of hanging it."""
    def ring(signum, frame):
        raise _Hang(f"loading {folder} blocked for {seconds} s")
    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        return loader(folder)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _manifest(folder, edit):
    m = json.loads((folder / "govtext.json").read_text(encoding="utf-8"))
    edit(m)
    (folder / "govtext.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


def _set(path, value):
    """An edit function for _manifest: sets m[a][b]… = value for path 'a.b'."""
    def edit(m):
        *keys, last = path.split(".")
        for k in keys:
            m = m[k]
        m[last] = value
    return edit


def _symlink_outside(folder, name):
    outside = folder.parent / f"outside-{name}"
    shutil.copy(folder / name, outside)
    (folder / name).unlink()
    os.symlink(outside, folder / name)


def _fifo(folder, name):
    (folder / name).unlink()
    os.mkfifo(folder / name)


def _deep(folder, name, depth=200_000):
    (folder / name).write_text("[" * depth + "]" * depth, encoding="utf-8")


def _replace_line(folder, name, line_no, raw: bytes):
    lines = (folder / name).read_bytes().splitlines()
    lines[line_no] = raw
    (folder / name).write_bytes(b"\n".join(lines) + b"\n")


def _unsort_postings(folder):
    indices = np.load(folder / "postings_indices.npy")
    indptr = np.load(folder / "postings_indptr.npy")
    for j in range(len(indptr) - 1):
        a, b = indptr[j], indptr[j + 1]
        if b - a > 1:
            indices[a:b] = indices[a:b][::-1].copy()
            break
    else:
        raise AssertionError("no term with two postings")
    np.save(folder / "postings_indices.npy", indices, allow_pickle=False)


# -- links, FIFOs, folders where files belong ------------------------------------------------------

@windows
@pytest.mark.parametrize("kind, name", [
    ("index", "texts.jsonl"), ("old_index", "records.jsonl"), ("old_index", "ids.json"), ("index", "ids_utf8.npy"),
    ("index", "ids_hash.npy"), ("index", "govtext.json"),
    ("index", "meta.json"), ("index", "meta_codes.npy"), ("index", "meta_values.npy"), ("index", "postings_data.npy"), ("index", "vec_vocabulary.json"), ("model", "linear.npz"),
    ("model", "word_idf.npy"), ("vectorizer", "vocabulary.json"), ("vectors", "vectors.npy"),
])
def test_symbolic_links_are_refused(copy, kind, name):
    folder = copy(kind)
    _symlink_outside(folder, name)
    with pytest.raises(IncompatibleModelError, match=f"{name} is a symbolic link"):
        _load(folder)


@windows
def test_a_linked_text_is_never_shown(copy):
    """texts.jsonl linked to a file elsewhere used to be shown by document() and on the page."""
    folder = copy("index")
    secret = folder.parent / "secret.jsonl"
    secret.write_text("".join(json.dumps(f"SECRET {i}") + "\n" for i in range(5)), encoding="utf-8")
    (folder / "texts.jsonl").unlink()
    os.symlink(secret, folder / "texts.jsonl")
    with pytest.raises(IncompatibleModelError, match="symbolic link"):
        _load(folder).document("a")


@windows
@pytest.mark.parametrize("kind, name", [
    ("old_index", "ids.json"), ("index", "ids_ends.npy"), ("old_index", "records.jsonl"), ("index", "texts.jsonl"),
    ("index", "govtext.json"),
    ("index", "meta.json"), ("index", "meta_layout.npy"), ("index", "postings_indices.npy"), ("model", "linear.npz"), ("model", "word_vocabulary.json"),
    ("vectors", "counts.npy"),
])
def test_fifos_are_refused_without_blocking(copy, kind, name):
    folder = copy(kind)
    _fifo(folder, name)
    with pytest.raises(IncompatibleModelError, match=f"{name} is a FIFO"):
        _load(folder)


def test_a_folder_in_place_of_a_file_is_refused(copy):
    folder = copy("index")
    (folder / "texts.jsonl").unlink()
    (folder / "texts.jsonl").mkdir()
    with pytest.raises(IncompatibleModelError, match="texts.jsonl is a folder"):
        _load(folder)


# -- size bombs ------------------------------------------------------------------------------------

def _lying_npz(path, name, shape, dtype="<f4"):
    """An .npz whose member ``name`` has a header declaring ``shape`` and a zip entry whose recorded
    size agrees with it, while the archive holds a few bytes: reading it trusts the header."""
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    declared = len(buf.getvalue()) + int(np.prod(shape)) * np.dtype(dtype).itemsize
    buf.write(b"\0" * 64)
    with np.load(path) as old:
        others = {k: old[k] for k in old.files if k != name}
    np.savez(path, **others)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(name + ".npy", buf.getvalue())
    data = bytearray(path.read_bytes())
    member = (name + ".npy").encode()
    # Patch the uncompressed size in the member's local header and in its central directory entry.
    at = data.find(b"PK\x01\x02")
    while at != -1:
        n_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + n_len] == member:
            struct.pack_into("<I", data, at + 24, declared)
            offset = struct.unpack_from("<I", data, at + 42)[0]
            struct.pack_into("<I", data, offset + 22, declared)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def test_npz_declaring_a_huge_array_is_refused_before_allocating(copy):
    """A small linear.npz declaring a (3, 1.2e8) array used to allocate 1.4 GB before refusal."""
    folder = copy("model")
    _lying_npz(folder / "linear.npz", "coef", (3, 120_000_000))
    with zipfile.ZipFile(folder / "linear.npz") as zf:
        assert zf.getinfo("coef.npy").file_size > 10**9  # the archive itself agrees with the header
    tracemalloc.start()
    try:
        with pytest.raises(IncompatibleModelError, match=r"coef has shape \(3, 120000000\)"):
            _load(folder)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20


def test_npy_declaring_more_than_it_holds_is_refused(copy):
    folder = copy("vectors")
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**9, 100)}
    with open(folder / "vectors.npy", "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        fh.write(b"\0" * 64)
    with pytest.raises(IncompatibleModelError, match="vectors.npy declares"):
        _load(folder)


@pytest.mark.parametrize("kind, edit, message", [
    ("index", _set("vectorizer.ngram_range", [1, 10**6]), "ngram_range"),
    ("vectorizer", _set("params.ngram_range", [1, 10**6]), "ngram_range"),
    ("index", _set("params.n_jobs", 10**9), "n_jobs"),
    ("index", _set("params.chunk_size", True), "chunk_size"),
    ("index", _set("shape", [10**15, 0]), "shape|term columns"),
    ("index", _set("tokenizer.min_length", 10**30), "min_length"),
    ("index", _set("tokenizer.user_words", ["楼道 " + "9" * 40]), "frequency"),
    ("index", _set("tokenizer.hmm", "yes"), "hmm"),
    ("vectorizer", _set("params.dtype", "object"), "dtype"),
    ("model", _set("params.max_chars", True), "max_chars"),
    ("model", _set("params.max_chars", 10**30), "max_chars"),
    ("model", _set("params.cv", -1), "cv"),
    ("model", _set("params.labels", ["a", "a", "b"]), "distinct"),
])
def test_parameters_read_from_a_folder_are_bounded(copy, kind, edit, message):
    folder = copy(kind)
    _manifest(folder, edit)
    with pytest.raises(IncompatibleModelError, match=message):
        _load(folder)


def test_prediction_loader_bounds_max_chars_too(copy):
    folder = copy("model")
    _manifest(folder, _set("params.max_chars", True))
    with pytest.raises(IncompatibleModelError, match="max_chars"):
        _load(folder, ThemePredictor.load)


# -- JSON that is not what govtext writes -----------------------------------------------------------

@pytest.mark.parametrize("kind, name", [
    ("index", "govtext.json"), ("old_index", "ids.json"), ("index", "vec_vocabulary.json"),
    ("model", "word_vocabulary.json"), ("vectors", "vocabulary.json"),
])
def test_deeply_nested_json_is_refused(copy, kind, name):
    folder = copy(kind)
    _deep(folder, name)
    with pytest.raises(IncompatibleModelError, match=f"{name} nests JSON too deeply"):
        _load(folder)


@pytest.mark.parametrize("kind, text, message", [
    ("index", "[1, 2]", "must hold a JSON object, got a list"),
    ("model", '"model"', "must hold a JSON object, got a str"),
    ("vectors", "\xff", "not valid JSON|not UTF-8"),
])
def test_a_manifest_that_is_no_object_is_refused(copy, kind, text, message):
    folder = copy(kind)
    (folder / "govtext.json").write_text(text, encoding="latin-1")
    with pytest.raises(IncompatibleModelError, match=message):
        _load(folder)


@pytest.mark.parametrize("kind, edit, message", [
    ("index", _set("params", [1]), "'params' must be a JSON object"),
    ("index", _set("tokenizer", "rjieba"), "'tokenizer' must be a JSON object"),
    ("vectorizer", _set("tokenizer", None), "'tokenizer' must be a JSON object"),
    ("model", _set("card", [1]), "'card' must be a JSON object"),
    ("vectors", _set("params", "x"), "'params' must be a JSON object"),
    ("index", _set("versions", []), "SimilarityIndex"),
])
def test_manifest_sections_are_checked(copy, kind, edit, message):
    folder = copy(kind)
    _manifest(folder, edit)
    if message == "SimilarityIndex":  # 'versions' is informative only: a list there is harmless
        assert len(_load(folder)) == len(DOCS)
        return
    with pytest.raises(IncompatibleModelError, match=message):
        _load(folder)


def test_infinity_and_nan_in_json_are_refused(copy):
    folder = copy("model")
    text = (folder / "govtext.json").read_text(encoding="utf-8")
    m = json.loads(text)
    m["thresholds"][0] = float("inf")
    (folder / "govtext.json").write_text(json.dumps(m), encoding="utf-8")  # writes Infinity
    with pytest.raises(IncompatibleModelError, match="govtext.json is not valid JSON: Infinity"):
        _load(folder)


def test_a_number_too_large_for_a_float_is_refused(copy):
    """1e400 is valid JSON that Python reads as infinity."""
    folder = copy("index")
    text = (folder / "govtext.json").read_text(encoding="utf-8")
    (folder / "govtext.json").write_text(text.replace('"max_df": 1.0', '"max_df": 1e400'), encoding="utf-8")
    assert "1e400" in (folder / "govtext.json").read_text(encoding="utf-8")
    with pytest.raises(IncompatibleModelError, match="1e400 is not a finite number"):
        _load(folder)


# -- records read lazily --------------------------------------------------------------------------

@pytest.mark.parametrize("kind, name, raw, use, message", [
    ("old_index", "records.jsonl", b'{"id": "a", "metadata": ', lambda i: i.query("幸福里社区推行楼道微自治"),
     "records.jsonl, line 1, is not valid JSON"),
    ("old_index", "records.jsonl", b'{"id": "a", "metadata": [1]}', lambda i: i.query("幸福里社区推行楼道微自治"),
     "records.jsonl, line 1: a record"),
    ("old_index", "records.jsonl", b"[" * 100_000, lambda i: i.document("xingfuli"), "records.jsonl, line 1, nests JSON"),
    ("index", "texts.jsonl", b'"\xff\xfe"', lambda i: i.document("a"), "texts.jsonl, line 1, is not UTF-8"),
    ("index", "texts.jsonl", b"{}", lambda i: i.document("a"), "texts.jsonl, line 1: a stored text must be a JSON string"),
    ("index", "texts.jsonl", b"NaN", lambda i: i.document("a"), "texts.jsonl, line 1, is not valid JSON"),
])
def test_lazily_read_lines_give_a_govtext_error_naming_the_file(copy, kind, name, raw, use, message):
    folder = copy(kind)
    _replace_line(folder, name, 0, raw)
    index = _load(folder)  # opening stays instant: lines are read when needed
    with pytest.raises(IncompatibleModelError, match=message):
        use(index)


@pytest.mark.parametrize("raw, message", [(b"NaN", "is not valid JSON"), (b"\xff\xfe", "is not UTF-8"),
                                          (b"[" * 10, "is not valid JSON")])
def test_metadata_values_are_read_when_needed_and_a_bad_one_names_the_file(copy, raw, message):
    """The metadata columns' values are JSON decoded when a document or a filter needs them: a
    damaged value is an IncompatibleModelError naming meta_values.npy and the value, not a crash."""
    folder = copy("index")
    ends = np.load(folder / "meta_value_ends.npy")
    data = np.load(folder / "meta_values.npy").tobytes()
    first = data[:ends[1]]
    assert first == b'"2025-06-01"'  # the first document's date, the first value of the first field
    blob = raw + data[ends[1]:]
    np.save(folder / "meta_values.npy", np.frombuffer(blob, np.uint8), allow_pickle=False)
    np.save(folder / "meta_value_ends.npy", ends + (len(raw) - ends[1]) * (np.arange(len(ends)) > 0), allow_pickle=False)
    index = _load(folder)
    assert index.document("b")[1]["date"] == "2025-06-02"  # the other values read as before
    for use in (lambda i: i.document("a"), lambda i: i.query("楼道自治", filter={"date": ("2025-01-01", None)})):
        with pytest.raises(IncompatibleModelError, match=f"meta_values.npy, value 0 {message}"):
            use(index)


def test_lazily_read_line_in_the_cli_is_exit_2_without_traceback(copy, capsys):
    from govtext.apps.cli import main

    folder = copy("old_index")
    _replace_line(folder, "records.jsonl", 0, b'{"id": "a", "metadata": ')
    code = main(["similar", "--index", str(folder), "幸福里社区推行楼道微自治"])
    err = capsys.readouterr().err
    assert code == 2 and "records.jsonl, line 1" in err and "Traceback" not in err


# -- values that would load silently wrong ----------------------------------------------------------

@pytest.mark.parametrize("kind, damage, message", [
    ("index", lambda f: np.save(f / "vec_idf.npy", -np.abs(np.load(f / "vec_idf.npy"))), "vec_idf.npy holds values"),
    ("index", lambda f: np.save(f / "vec_idf.npy", np.zeros_like(np.load(f / "vec_idf.npy"))), "vec_idf.npy holds values"),
    ("index", lambda f: np.save(f / "vec_idf.npy", np.load(f / "vec_idf.npy") * 1e300), "vec_idf.npy holds values"),
    ("model", lambda f: np.save(f / "word_idf.npy", -np.load(f / "word_idf.npy")), "word_idf.npy holds values"),
    ("vectorizer", lambda f: np.save(f / "idf.npy", np.load(f / "idf.npy") * 0), "idf.npy holds values"),
    ("index", lambda f: np.save(f / "postings_data.npy", np.load(f / "postings_data.npy") * np.float32(3e38)),
     "postings_data.npy holds values"),
    ("index", lambda f: np.save(f / "postings_data.npy", -np.load(f / "postings_data.npy")),
     "postings_data.npy holds values"),
    ("index", _unsort_postings, "not sorted"),
    ("index", lambda f: np.save(f / "df.npy", np.load(f / "df.npy") - 10), "df.npy holds values"),
    ("vectors", lambda f: np.save(f / "vectors.npy", np.load(f / "vectors.npy").astype(np.float64) * 1e300),
     "vectors.npy holds values"),
    ("vectors", lambda f: np.save(f / "counts.npy", -np.load(f / "counts.npy")), "counts.npy holds values"),
    ("model", lambda f: _linear(f, coef=lambda a: a * 1e30), "coef holds values"),
    ("vectorizer", lambda f: (f / "vocabulary.json").write_text('["楼道", ""]', encoding="utf-8"),
     "distinct strings, none empty"),
])
def test_values_that_would_load_silently_wrong_are_refused(copy, kind, damage, message):
    folder = copy(kind)
    damage(folder)
    with pytest.raises(IncompatibleModelError, match=message):
        _load(folder)


def _linear(folder, **edits):
    with np.load(folder / "linear.npz") as old:
        arrays = {k: old[k] for k in old.files}
    for k, f in edits.items():
        arrays[k] = f(arrays[k])
    np.savez_compressed(folder / "linear.npz", **arrays)


def test_every_saved_kind_still_loads_and_works(saved):
    index = _load(saved / "index")
    assert [m.id for m in index.query("楼道自治", k=2)][0] in {"a", "e"}
    assert index.document("a")[0].startswith("社区")
    assert _load(saved / "vectorizer").transform(DOCS[:1]).shape[0] == 1
    assert _load(saved / "model").predict(DOCS[:1]).shape == (1, 3)
    assert _load(saved / "model", ThemePredictor.load).predict(DOCS[:1]).shape == (1, 3)
    assert len(_load(saved / "vectors").terms) > 5
    # the folder itself may be reached through a link (a user's shortcut); only files inside may not
    if hasattr(os, "symlink"):
        link = saved.parent / "index-link"
        if not link.exists():
            os.symlink(saved / "index", link)
        assert len(_load(link)) == len(DOCS)


# -- a bug in a loader is not disguised as a bad folder (issue 20, item 11) --------------------------

@pytest.mark.parametrize("error", [KeyError("tokenizer"), TypeError("bug"), AttributeError("bug")])
def test_a_bug_in_loader_code_surfaces(saved, monkeypatch, error):
    def broken(config):
        raise error
    monkeypatch.setattr(govtext.Tokenizer, "from_config", staticmethod(broken))
    with pytest.raises(type(error)) as caught:
        _load(saved / "index")
    assert not isinstance(caught.value, IncompatibleModelError)
