"""The fast paths give what the plain ones give: the lean rjieba load, the batch runner's pieces."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import Future

import pytest

from govtext.runs._storage import Column, encode_rows
from govtext.runs.batch import _Pieces, _split


def _done(value):
    f = Future()
    f.set_result(value)
    return f


@pytest.mark.parametrize("n, pieces", [(1, 4), (7, 4), (8, 4), (1000, 4), (5, 1), (3, 10)])
def test_split_keeps_every_item_in_order_in_at_most_that_many_parts(n, pieces):
    chunk = list(range(n))
    parts = _split(chunk, pieces)
    assert [x for p in parts for x in p] == chunk
    assert 1 <= len(parts) <= pieces and all(parts)
    assert max(map(len, parts)) - min(map(len, parts)) <= max(map(len, parts)) // 2 + 1


@pytest.mark.parametrize("fmt", ["jsonl", "csv", None])
def test_pieces_join_to_the_chunk_encoded_whole(fmt):
    columns = (Column("id"), Column("p", "float"), Column("labels", "list"), Column("error"))
    rows = [{"id": f"d{i}", "p": i / 7, "labels": ["a", "b"][: i % 3]} for i in range(9)]
    rows[4] = {"id": "d4", "error": "EmptyTextError: no text"}
    parts = _split(rows, 4)
    futures = [_done((encode_rows(p, fmt, columns), len(p), sum("error" in r for r in p))) for p in parts]
    assert _Pieces(futures).result() == (encode_rows(rows, fmt, columns), 9, 1)


def test_rjieba_segmenter_loads_without_the_default_one_and_cuts_the_same():
    code = (
        "import sys\n"
        "from govtext.text.tokenize import Tokenizer\n"
        "text = '社区党建引领文明楼道创建,居民议事会协商加装电梯。'\n"
        "ours = Tokenizer().segment(text)\n"
        "print('rjieba' in sys.modules)\n"
        "import rjieba\n"  # the package imported after us still works, with the same extension
        "seg = rjieba.Jieba()\n"
        "from govtext.text.tokenize import governance_terms\n"
        "for w in governance_terms():\n"
        "    seg.add_word(w, None, None)\n"
        "print(ours == seg.cut(text, True), type(Tokenizer()._ensure_built()) is rjieba.Jieba)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "True", "True"]


def test_block_product_equals_the_public_sparse_product(monkeypatch):
    import numpy as np
    import scipy.sparse as sp

    from govtext.search import _topk

    rng = np.random.default_rng(7)
    docs = sp.random(300, 80, density=0.08, format="csc", dtype=np.float32, random_state=rng)
    docs.indices = docs.indices.astype(np.int32)
    docs.indptr = docs.indptr.astype(np.int32)
    (seg,) = _topk.term_rows([docs])
    rows = []
    for q in range(9):
        cols = np.sort(rng.choice(80, size=int(rng.integers(0, 12)), replace=False))
        rows.append((cols, rng.random(len(cols)).astype(np.float32)))
    queries = _topk.query_matrix(rows, 80, np.int32)
    calls = []
    matmat, todense = _topk._KERNELS
    monkeypatch.setattr(_topk, "_KERNELS", (lambda *a: calls.append(1) or matmat(*a), todense))
    fast = _topk.block_scores(queries, [seg])
    assert calls  # the direct kernel ran
    plain = (queries @ seg).toarray()
    assert fast.dtype == np.float32 and np.array_equal(fast, plain)
    monkeypatch.setattr(_topk, "_KERNELS", None)  # the fallback gives the same
    assert np.array_equal(_topk.block_scores(queries, [seg]), plain)


def test_shared_terms_from_rows_equal_those_from_the_postings():
    import numpy as np
    import scipy.sparse as sp

    from govtext.search import _topk

    rng = np.random.default_rng(11)
    segments = []
    for n in (120, 0, 75):  # segments as add() makes them, one of them empty
        seg = sp.random(n, 60, density=0.1, format="csc", dtype=np.float32, random_state=rng)
        seg.indices = seg.indices.astype(np.int32)
        segments.append(seg)
    queries, found = [], []
    for q in range(12):
        cols = np.sort(rng.choice(60, size=int(rng.integers(0, 15)), replace=False)).astype(np.int64)
        queries.append((cols, rng.random(len(cols)).astype(np.float32)))
        found.append(np.sort(rng.choice(195, size=int(rng.integers(0, 10)), replace=False)).astype(np.int64))
    by_rows = _topk.shared_from_rows(_topk.document_rows(segments), queries, found)
    assert by_rows == _topk.shared_contributions(segments, queries, found)
    assert sum(len(pairs) for d in by_rows for pairs in d.values()) > 20  # terms were really shared
