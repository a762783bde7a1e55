"""Prediction's fast path gives the probabilities of the plain reference path, to the last bit.

The reference: every text tokenised sentence by sentence (what fitting uses), the features built as
SciPy matrices, the scores as matrix products. The fast path (issue 26 item 2) segments a batch as one
string, looks short pieces up in a code table, packs character n-grams from the whole batch and scores
the sentences and documents from flat arrays. A change of one probability in the last bit fails here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import govtext
from govtext.themes._linear import ThemePredictor, _PieceColumns, sigmoid

ROOT = Path(__file__).resolve().parent.parent


def _reference_proba(model, texts, normalized=False):
    prepared = model._prepare(texts, normalized=normalized)
    feats = model._features(prepared, model._words_to_segments(*model._sentence_words(prepared)))
    return sigmoid(model._scores(feats, model._genres(prepared, None), prepared))


def _both_paths(model, texts, normalized=False):
    """Probabilities from flat NumPy arrays, from SciPy's sparse products and from the compiled kernel
    (whatever the batch size; the kernel's when numba imports, else it is an error under CI)."""
    prepared = model._prepare(texts, normalized=normalized)
    genres = model._genres(prepared, None)
    paths = ["flat", "sparse"] + (["compiled"] if _numba_imports() else [])
    return [sigmoid(model._predict_scores(prepared, genres, path=path)) for path in paths]


def _numba_imports() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise  # the test extra installs numba: under CI the compiled path is always checked
        return False
    return True


def _own_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.txt"))]
    for line in (ROOT / "samples" / "news.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        texts.append(f"{item['title']}\n{item['text']}")
    texts += ["", "   ", "。。。!!", "\n\n社区\n\n", "ABC abc Abc。社区 议事会;Party building", "社区\ud800议事会。党支部",
              "2023年5月12日,12345热线;第3网格", "居民议事会召开。会议通过了方案!", "党建引领" * 400,
              "首页 新闻 联系我们\n版权所有 © 2024", " 社区\u3000议事会 ;\t。\r\n文明实践站 ", "𠀀𠀁社区。𠀂党建",
              "ＡＢＣ社区ＤＥＦ，党员志愿者。", "中共某镇第三届代表大会第一次会议召开", "國家社區黨建引領文明創建"]
    return texts


@pytest.fixture(scope="module")
def predictor() -> ThemePredictor:
    return ThemePredictor.load(govtext.persist.default_model_path())


def test_fast_probabilities_equal_the_reference_on_own_texts(predictor):
    texts = _own_texts()
    for normalized in (False, True):
        fast = predictor.predict_proba(texts, normalized=normalized)
        reference = _reference_proba(predictor, texts, normalized=normalized)
        assert np.array_equal(fast, reference)
        for proba in _both_paths(predictor, texts, normalized=normalized):
            assert np.array_equal(proba, reference)
    # one at a time, and again once the short pieces are in the code table: the same bits
    for text in texts[:20]:
        assert np.array_equal(predictor.predict_proba([text]), _reference_proba(predictor, [text]))
    assert np.array_equal(predictor.predict_proba(texts), _reference_proba(predictor, texts))
    # lower-casing that depends on the context (Σ) or changes a length (İ): the sentence-by-sentence packing
    odd = texts + ["ΑΣ Σ。ΣΑ\nİstanbul 社区;  \t ; 党建"]
    assert np.array_equal(predictor.predict_proba(odd), _reference_proba(predictor, odd))


def test_fast_probabilities_equal_the_reference_on_real_news(predictor, xwlb_sample, seeds):
    texts = xwlb_sample[:600] + list(seeds.values())
    fresh = ThemePredictor.load(govtext.persist.default_model_path())  # an empty piece cache: all through the dictionary
    first = fresh.predict_proba(texts)
    assert np.array_equal(first, _reference_proba(fresh, texts))
    for batch in (texts, texts[::-1], xwlb_sample[600:1500]):  # the code table built, grown, used
        reference = _reference_proba(fresh, batch)
        assert np.array_equal(fresh.predict_proba(batch), reference)
        for proba in _both_paths(fresh, batch):
            assert np.array_equal(proba, reference)
    for text in texts[:50]:  # one text at a time: the flat path
        assert np.array_equal(fresh.predict_proba([text]), _reference_proba(fresh, [text]))
    whole = ThemePredictor.load(govtext.persist.default_model_path())
    whole.max_chars = None  # long texts reach the segmenter in chunks
    reference = _reference_proba(whole, texts[:100])
    assert all(np.array_equal(proba, reference) for proba in _both_paths(whole, texts[:100]))


def test_piece_table_gives_the_dictionary_columns(predictor):
    """Short pieces found in the code table get exactly the column the dictionary gives, over
    batches that build the table, add to it and rebuild it; long and empty pieces go by the dictionary."""
    tok = predictor.tokenizer_
    fast = _PieceColumns(tok, predictor._word_index)
    texts = _own_texts()
    rng = np.random.default_rng(0)
    batches = [texts[:40], texts[40:], texts, [t.upper() for t in texts[:50]]]
    batches.append(["".join(rng.choice(list("社区党建文明abcABC。 \n𠀀"), size=30)) for _ in range(3000)])
    sizes = []
    for batch in batches:
        pieces = [p for t in batch for p in tok.segment(t)] + ["", "社会主义核心价值观", "\n"]
        joined = "".join(pieces)
        ends = np.cumsum([len(p) for p in pieces], dtype=np.int64)
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
        plain = _PieceColumns(tok, predictor._word_index)
        assert fast.columns(pieces, points, ends).tolist() == [plain[p] for p in pieces]
        sizes.append(int((fast.short.keys != np.uint64(2**64 - 1)).sum()))
    assert sizes[0] > 100 and sizes[-1] > sizes[0]  # built on the first batch, grown since


def test_a_few_texts_are_classified_without_importing_scipy():
    """SciPy's import is most of a one-file command's start-up: a small batch is scored without it,
    and without numba's (the compiled kernel is for larger batches)."""
    import subprocess
    import sys

    code = ("import sys, govtext\n"
            "from govtext.themes._linear import ThemePredictor\n"
            "m = ThemePredictor.load(govtext.persist.default_model_path())\n"
            "p = m.predict_proba(['社区党支部召开组织生活会。居民议事会协商加装电梯。', '文明实践站开展志愿服务'])\n"
            "m.predict(['某社区召开居民议事会'])\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('scipy', 'sklearn', 'numba')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


_ODD = list("社区党建文明议事会aAbBİΣς。!?！？;；\n \t\u3000\u00a0\u2028\u0085\x1c𠀀") + ["党建引领", "居民议事会。", "  ", "。。"]


@pytest.mark.parametrize("seed", range(3))
def test_compiled_segmentation_finds_what_numpy_finds(predictor, seed):
    """Sentences (regular expression against the compiled scan, with Python's strip), short-piece
    columns and character n-grams: the compiled kernel's pieces equal the NumPy ones on random text
    of odd characters (sentence ends in a row, every kind of white space, case mappings)."""
    if not os.environ.get("CI"):  # the test extra installs numba: under CI a missing numba fails here
        pytest.importorskip("numba")
    rng = np.random.default_rng(seed)
    texts = ["".join(rng.choice(_ODD, size=rng.integers(0, 60))) for _ in range(300)]
    texts += ["", "。", "\n", " 。 ", "ΣΑ。", "a\u3000。\u2028b"]
    model = ThemePredictor.load(govtext.persist.default_model_path())
    for batch in (texts, texts[::-1], [t for t in texts if "Σ" not in t and "İ" not in t]):
        plain, fast = model._segments(batch), model._segments(batch, compiled=True)
        assert fast.sentences == plain.sentences
        assert np.array_equal(fast.per_doc, plain.per_doc)
        assert np.array_equal(fast.word_rows, plain.word_rows) and np.array_equal(fast.word_cols, plain.word_cols)
        if plain.char is None:
            assert fast.char is None
        else:  # the same (sentence, column) pairs; the kernel lists them sentence by sentence
            key = lambda pairs: sorted(zip(pairs[0].tolist(), pairs[1].tolist()))  # noqa: E731
            assert key(fast.char) == key(plain.char)
        reference = _reference_proba(model, batch)
        assert all(np.array_equal(p, reference) for p in _both_paths(model, batch))


def test_backend_picks_the_path_and_says_what_is_missing():
    """``backend``: a few texts always go the flat NumPy way; more go through the compiled kernel
    ("auto" with numba, "numba"), or SciPy ("numpy", or "auto" without numba); "numba" without numba
    and an unknown backend are errors that say what to do."""
    import subprocess
    import sys

    model = ThemePredictor.load(govtext.persist.default_model_path())
    assert model.backend == "auto"
    assert model._path_for(64) == "flat"
    model.backend = "numpy"
    assert model._path_for(65) == "sparse"
    model.backend = "fast"
    with pytest.raises(govtext.ParameterError, match="backend must be one of"):
        model.predict_proba(["社区"] * 65)
    if _numba_imports():
        for backend in ("auto", "numba"):
            model.backend = backend
            assert model._path_for(65) == "compiled"
    code = ("import sys; sys.modules['numba'] = None\n"  # numba cannot be imported
            "import govtext\n"
            "from govtext.themes._linear import ThemePredictor\n"
            "m = ThemePredictor.load(govtext.persist.default_model_path())\n"
            "print(m._path_for(65))\n"
            "m.predict_proba(['社区党支部'] * 65)\n"
            "m.backend = 'numba'\n"
            "try:\n"
            "    m.predict_proba(['社区党支部'] * 65)\n"
            "except govtext.ParameterError as exc:\n"
            "    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == "sparse"
    assert "pip install govtext[fast]" in out[1] and "backend='numpy'" in out[1]


def test_kernel_works_where_numba_cannot_cache():
    """Where numba has no folder to keep compiled code in (a read-only install, no writable home),
    the kernel is compiled in the process instead of failing."""
    import subprocess
    import sys

    if not _numba_imports():
        pytest.skip("numba is not installed")
    code = ("import numba.core.dispatcher as d\n"
            "def nowhere(self, *a, **k):\n"
            "    raise RuntimeError('cannot cache function: no locator available for file')\n"
            "d.FunctionCache.__init__ = nowhere\n"
            "import govtext, numpy as np\n"
            "from govtext.themes._linear import ThemePredictor\n"
            "from govtext.themes import _kernel\n"
            "m = ThemePredictor.load(govtext.persist.default_model_path())\n"
            "texts = ['社区党支部召开组织生活会。居民议事会协商加装电梯。'] * 65\n"
            "path = m._path_for(65)\n"
            "fast = m.predict_proba(texts)\n"
            "m.backend = 'numpy'\n"
            "print(_kernel._caching(), path, bool((m.predict_proba(texts) == fast).all()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "compiled", "True"]
