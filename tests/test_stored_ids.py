"""Ids of a saved index memory-mapped (UTF-8 bytes with offsets, sorted digests for lookups): the
same ids and rows as the list and dict they replace, without reading them at load."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import govtext
from govtext import IncompatibleModelError, ShardedIndex, SimilarityIndex
from govtext.search import _ids
from govtext.search._ids import IdRows, StoredIds

IDS = ["a", "b-2", "幸福里/1", "a\ud800", "  spaced ", "x" * 300, "0", "00", "é", "e\u0301"]
TEXTS = [f"社区第{i}号楼道推行自治,党员认领楼道" for i in range(len(IDS))]


def _mapped(arr) -> bool:
    while arr is not None:
        if isinstance(arr, np.memmap):
            return True
        arr = getattr(arr, "base", None)
    return False


def test_saved_ids_are_mapped_and_found_by_id(tmp_path):
    index = SimilarityIndex(progress=False).fit(TEXTS, ids=IDS)
    index.save(tmp_path / "idx")
    assert not (tmp_path / "idx" / "ids.json").exists()
    loaded = govtext.load(tmp_path / "idx")
    assert isinstance(loaded.ids_, StoredIds) and isinstance(loaded.row_of_, IdRows)
    assert _mapped(loaded.ids_._data) and _mapped(loaded.row_of_._digests)
    assert list(loaded.ids_) == IDS and loaded.ids_[-1] == IDS[-1] and loaded.ids_[2:4] == IDS[2:4]
    assert [loaded.row_of_[x] for x in IDS] == list(range(len(IDS)))
    assert all(x in loaded for x in IDS) and "c" not in loaded and "e" not in loaded and 3 not in loaded.row_of_
    with pytest.raises(KeyError):
        loaded.document("no such id")
    assert loaded.document("a\ud800") == index.document("a\ud800")
    q = "楼道自治 党员认领"
    assert [(m.id, m.score) for m in loaded.query(q, k=5)] == [(m.id, m.score) for m in index.query(q, k=5)]
    # grows after loading, saves over its own mapped files, and loads again
    loaded.add(["新的楼道自治"], ids=["new"])
    with pytest.raises(govtext.ParameterError, match="already in the index"):
        loaded.add(["又一个"], ids=["b-2"])
    assert loaded.row_of_["new"] == len(IDS) and loaded.ids_[len(IDS)] == "new"
    loaded.save(tmp_path / "idx")
    again = govtext.load(tmp_path / "idx")
    assert list(again.ids_) == IDS + ["new"] and again.row_of_["new"] == len(IDS)


def test_ids_sharing_a_digest_are_told_apart(tmp_path, monkeypatch):
    monkeypatch.setattr(_ids, "_digest", lambda data: len(data) % 3)  # many ids share each digest
    index = SimilarityIndex(progress=False).fit(TEXTS, ids=IDS)
    index.save(tmp_path / "idx")
    loaded = govtext.load(tmp_path / "idx")
    assert [loaded.row_of_[x] for x in IDS] == list(range(len(IDS))) and "zz" not in loaded


def test_crafted_id_arrays_are_refused(tmp_path):
    SimilarityIndex(progress=False).fit(TEXTS, ids=IDS).save(tmp_path / "good")

    def damaged(name, change):
        folder = tmp_path / f"bad-{name}"
        shutil.copytree(tmp_path / "good", folder, dirs_exist_ok=True)
        np.save(folder / name, change(np.load(folder / name)), allow_pickle=False)
        return folder

    for name, change, message in [
        ("ids_hash_rows.npy", lambda a: np.zeros_like(a), "must hold each row 0..9 once"),
        ("ids_hash_rows.npy", lambda a: a + 5, "must hold each row"),
        ("ids_hash.npy", lambda a: a[::-1].copy(), "ascending order"),
        ("ids_ends.npy", lambda a: a + 1, "must rise from 0"),
        ("ids_ends.npy", lambda a: a[:-1].copy(), "has shape"),
        ("ids_hash.npy", lambda a: a.astype(np.int64), "expected kind 'u'"),
    ]:
        with pytest.raises(IncompatibleModelError, match=message):
            govtext.load(damaged(name, change))
    # the same id twice (and so the same digest): refused at load
    folder = tmp_path / "twice"
    SimilarityIndex(progress=False).fit(TEXTS[:3], ids=["a", "b", "c"]).save(folder)
    data = np.load(folder / "ids_utf8.npy")
    data[1] = ord("a")
    np.save(folder / "ids_utf8.npy", data, allow_pickle=False)
    digest = _ids._digest(b"a")
    np.save(folder / "ids_hash.npy", np.array([digest, digest, _ids._digest(b"c")], np.uint64)[
        np.argsort([digest, digest, _ids._digest(b"c")], kind="stable")], allow_pickle=False)
    order = np.argsort([digest, digest, _ids._digest(b"c")], kind="stable")
    np.save(folder / "ids_hash_rows.npy", order.astype(np.int64), allow_pickle=False)
    with pytest.raises(IncompatibleModelError, match="the id 'a' is saved twice"):
        govtext.load(folder)
    # bytes that are not UTF-8: an error naming the file when the id is shown
    folder = tmp_path / "latin"
    SimilarityIndex(progress=False).fit(TEXTS[:3], ids=["a", "b", "c"]).save(folder)
    data = np.load(folder / "ids_utf8.npy")
    data[0] = 0xFF
    np.save(folder / "ids_utf8.npy", data, allow_pickle=False)
    with pytest.raises(IncompatibleModelError, match="ids_utf8.npy: id 0 is not UTF-8"):
        list(govtext.load(folder).ids_)


def test_a_folder_with_ids_json_loads_as_before():
    old = govtext.load(Path(__file__).parent / "data" / "index_before_columns")
    assert isinstance(old.ids_, list) and isinstance(old.row_of_, dict) and old.row_of_["hongxing"] == 2


def test_sharded_shards_keep_mapped_ids(tmp_path):
    index = ShardedIndex(n_shards=2, progress=False).fit(TEXTS, ids=IDS)
    index.save(tmp_path / "sh")
    loaded = govtext.load(tmp_path / "sh")
    assert all(isinstance(s.ids_, StoredIds) for s in loaded.shards_)
    assert list(loaded.ids_) == IDS and loaded.document("é") == index.document("é")
