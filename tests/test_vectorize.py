from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

import govtext
from govtext import IncompatibleModelError, Keyword, Tokenizer, Vectorizer, clean_article

from .conftest import edit_manifest

DOCS = [
    "社区党总支召开居民议事会,协商加装电梯",
    "街道开展文明城市创建志愿服务活动",
    "党建引领基层治理,党员亮身份作表率",
    "志愿者清理楼道杂物,倡导文明行为",
    "居民议事会讨论停车难问题,形成共建共治共享格局",
    "新时代文明实践站开展移风易俗宣传",
]


def test_fit_transform_shapes_and_sublinear_tf():
    vec = Vectorizer()
    X = vec.fit_transform(DOCS)
    assert X.shape == (len(DOCS), len(vec.vocabulary_))
    assert X.dtype == np.float32
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    assert np.allclose(norms, 1.0, atol=1e-5)
    # sublinear tf: a term repeated 10 times weighs 1 + ln(10) times its idf before normalisation
    raw = Vectorizer(norm=None).fit(DOCS)
    col = raw.vocabulary_["居民议事会"]
    once = raw.transform(["居民议事会"])[0, col]
    ten = raw.transform([" ".join(["居民议事会"] * 10)])[0, col]
    assert ten / once == pytest.approx(1 + np.log(10), rel=1e-5)


def test_min_df_and_max_features():
    # only two terms occur in two or more of the documents
    assert set(Vectorizer(min_df=2).fit(DOCS).vocabulary_) == {"居民议事会", "开展"}
    assert len(Vectorizer(max_features=5).fit(DOCS).vocabulary_) == 5


def test_governance_terms_are_features():
    vocab = Vectorizer().fit(DOCS).vocabulary_
    assert "共建共治共享" in vocab and "新时代文明实践站" in vocab and "党建引领" in vocab


def test_keywords_rank_distinctive_terms():
    vec = Vectorizer().fit(DOCS)
    kws = vec.keywords("社区党总支召开居民议事会,协商加装电梯", k=3)
    assert all(isinstance(k, Keyword) for k in kws) and len(kws) == 3
    assert kws[0].score >= kws[1].score >= kws[2].score
    assert {k.term for k in kws} <= {"党总支", "居民议事会", "协商", "加装电梯", "召开", "社区"}
    assert vec.keywords("", k=5) == []
    with pytest.raises(TypeError, match="one document as a str"):
        vec.keywords(["a"], k=3)  # type: ignore[arg-type]


def test_bare_string_is_type_error():
    vec = Vectorizer().fit(DOCS)
    with pytest.raises(TypeError, match="list of documents, got a single str"):
        vec.transform("社区召开议事会")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of documents, got a single str"):
        Vectorizer().fit("社区召开议事会")  # type: ignore[arg-type]


def test_unfitted_and_empty_errors():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Vectorizer().transform(DOCS)
    with pytest.raises(ValueError, match="at least one document"):
        Vectorizer().fit([])
    with pytest.raises(ValueError, match="cannot build a vocabulary"):
        Vectorizer().fit(["", "   ", "的了"])


def test_save_load_round_trip_without_pickle(tmp_path):
    tok = Tokenizer(user_words=["楼道微议事"], extra_stopwords=["开展"])
    vec = Vectorizer(tokenizer=tok, ngram_range=(1, 2), min_df=1).fit(DOCS + ["幸福里推行楼道微议事"])
    vec.save(tmp_path / "vec")
    files = sorted(p.name for p in (tmp_path / "vec").iterdir())
    assert files == ["govtext.json", "idf.npy", "vocabulary.json"]
    manifest = json.loads((tmp_path / "vec" / "govtext.json").read_text(encoding="utf-8"))
    assert manifest["type"] == "Vectorizer"
    assert {"govtext", "scikit-learn", "numpy", "rjieba"} <= set(manifest["versions"])
    assert manifest["tokenizer"]["user_words"] == ["楼道微议事"]
    np.load(tmp_path / "vec" / "idf.npy", allow_pickle=False)  # plain array, no pickle
    loaded = govtext.load(tmp_path / "vec")
    assert isinstance(loaded, Vectorizer)
    new = ["居民议事会讨论楼道微议事", "开展志愿服务"]
    assert (abs(loaded.transform(new) - vec.transform(new))).max() == 0
    assert loaded.keywords(new[0], 3) == vec.keywords(new[0], 3)
    assert Vectorizer.load(tmp_path / "vec").vocabulary_ == vec.vocabulary_


def test_load_rejects_newer_format_and_wrong_type(tmp_path):
    vec = Vectorizer().fit(DOCS)
    vec.save(tmp_path / "v")
    edit_manifest(tmp_path / "v", format_version=99)
    with pytest.raises(IncompatibleModelError, match="format 99"):
        govtext.load(tmp_path / "v")
    edit_manifest(tmp_path / "v", format_version=1, type="Banana")
    with pytest.raises(IncompatibleModelError, match="unknown type 'Banana'"):
        govtext.load(tmp_path / "v")
    with pytest.raises(FileNotFoundError, match="govtext.json is missing"):
        govtext.load(tmp_path)


def test_pickle_round_trip():
    vec = Vectorizer().fit(DOCS)
    clone = pickle.loads(pickle.dumps(vec))
    assert (abs(clone.transform(DOCS) - vec.transform(DOCS))).max() == 0


def test_works_in_pipeline_and_grid_search():
    y = [0, 1, 0, 1, 0, 1]
    pipe = Pipeline([("tfidf", Vectorizer()), ("clf", LogisticRegression())])
    grid = GridSearchCV(pipe, {"tfidf__sublinear_tf": [True, False]}, cv=2).fit(DOCS, y)
    assert grid.best_estimator_.predict(["新时代文明实践站开展志愿服务"]).shape == (1,)


def test_parallel_tokenisation_matches_serial():
    docs = DOCS * 700  # > one chunk of 2,000 documents
    serial = Vectorizer().fit_transform(docs)
    parallel = Vectorizer(n_jobs=2).fit_transform(docs)
    assert (abs(serial - parallel)).max() == 0


def test_real_seeds_keywords(seeds):
    docs = [clean_article(s).text for s in seeds.values()]
    vec = Vectorizer().fit(docs)
    terms = [k.term for k in vec.keywords(docs[0], k=10)]
    # 万融 (the community's name) occurs only in the Wuxi article: it must top its keywords
    assert terms[0] == "万融"
    assert all(len(t) >= 2 for t in terms)


def _weigh_whole(counts, idf, norm):
    """The TF-IDF arithmetic over the whole matrix at once (no blocks), written out for comparison."""
    data = counts.data.astype(np.float32)
    np.log(data, out=data)
    data += 1.0
    data *= idf[counts.indices]
    lengths = np.diff(counts.indptr)
    values = data.astype(np.float64)
    values = values**2 if norm == "l2" else np.abs(values)
    totals = np.bincount(np.repeat(np.arange(len(lengths)), lengths), weights=values, minlength=len(lengths))
    norms = np.sqrt(totals) if norm == "l2" else totals
    norms[norms == 0] = 1.0
    return data / np.repeat(norms, lengths).astype(np.float32)


@pytest.mark.parametrize("norm", ["l2", "l1"])
@pytest.mark.parametrize("block", [1, 3, 50, 1 << 22])
def test_weighing_in_row_blocks_gives_the_same_bits(monkeypatch, norm, block):
    """weigh_rows weighs rows in blocks of stored values (bounded temporaries at a million documents);
    every weight is bit for bit what the whole-matrix arithmetic gives, with empty rows and rows
    longer than a block."""
    import scipy.sparse as sp

    from govtext.features import weighting
    from govtext.features.vectorize import count_terms

    from .conftest import read_xwlb

    texts = [r["text"] for r in read_xwlb(40)]
    counts, _ = count_terms(texts[:20] + [""] + texts[20:] + [""], tokenizer=Tokenizer())
    assert np.diff(counts.indptr).max() > 50 and (np.diff(counts.indptr) == 0).sum() >= 2
    idf = np.random.default_rng(0).uniform(1, 9, counts.shape[1]).astype(np.float32)
    monkeypatch.setattr(weighting, "_BLOCK_VALUES", block)
    got = sp.csr_matrix(counts, dtype=np.float32, copy=True)
    weighting.weigh_rows(got.data, got.indices, got.indptr, idf, sublinear_tf=True, norm=norm)
    np.testing.assert_array_equal(got.data, _weigh_whole(counts, idf, norm))
    assert len(weighting._row_blocks(counts.indptr, block)) >= (2 if block < 1000 else 1)


def test_counts_appended_in_place_equal_the_chunks_concatenated(monkeypatch):
    """count_terms appends each chunk's counts to arrays grown in place (_Growing) instead of keeping
    every chunk for one concatenation: the same values, in the same order and dtypes."""
    from govtext.features import vectorize
    from govtext.features.vectorize import _Growing, count_terms

    from .conftest import read_xwlb

    rng = np.random.default_rng(1)
    chunks = [rng.integers(0, 1000, size=int(n)).astype(np.int64) for n in rng.integers(0, 3000, size=60)]
    grown = _Growing(np.int32)
    for c in chunks:
        grown.extend(c)
    got = grown.array()
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, np.concatenate(chunks).astype(np.int32))
    texts = [r["text"] for r in read_xwlb(30)]

    class Listed:  # the way before: every chunk kept, one concatenation at the end
        def __init__(self, dtype):
            self.parts = [np.zeros(0, dtype)]

        def extend(self, values):
            self.parts.append(values.astype(self.parts[0].dtype))

        def array(self):
            return np.concatenate(self.parts)

    tok = Tokenizer()
    grown, vocab_grown = count_terms(texts, tokenizer=tok, chunk_size=2)
    monkeypatch.setattr(vectorize, "_Growing", Listed)
    listed, vocab_listed = count_terms(texts, tokenizer=tok, chunk_size=2)
    assert vocab_grown == vocab_listed and grown.nnz > 3000
    for a, b in ((grown.data, listed.data), (grown.indices, listed.indices), (grown.indptr, listed.indptr)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert (grown.data.dtype, grown.indices.dtype) == (np.float32, np.int32)
