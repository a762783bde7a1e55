"""The relevance benchmark's own arithmetic: metrics, split and excerpts (no corpus needed)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "relevance.py"


@pytest.fixture(scope="module")
def rel():
    spec = importlib.util.spec_from_file_location("relevance_benchmark", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_metrics_by_hand(rel):
    judged = {"a": 2, "b": 0, "c": 1, "d": 2, "e": 0}
    got = rel.per_proposal(["b", "c", "a", "x", "e"], judged)  # "x" is unjudged: counts as 0
    assert got["P@5"] == pytest.approx(1 / 5)
    assert got["prec@3"] == 1.0
    dcg = 1 / math.log2(3) + 3 / math.log2(4)
    idcg = 3 / math.log2(2) + 3 / math.log2(3) + 1 / math.log2(4)
    assert got["nDCG@10"] == pytest.approx(dcg / idcg)
    late = rel.per_proposal(["b", "c", "e", "a"], judged)
    assert late["prec@3"] == 0.0 and late["P@5"] == pytest.approx(1 / 5)
    assert rel.per_proposal(["a"], {"a": 0})["nDCG@10"] == 0.0


def test_bootstrap_interval_brackets_the_mean(rel):
    values = np.array([0.0, 0.2, 0.4, 0.6, 1.0, 0.8])
    lo, hi = rel.bootstrap(values, np.random.default_rng(0))
    assert lo < values.mean() < hi
    assert rel.bootstrap(np.zeros(5), np.random.default_rng(0)) == (0.0, 0.0)


def test_proposals_file_is_valid_and_split_is_fixed(rel):
    rows = rel.read_proposals()  # checks fields, lengths, topics and that the split is assign_split()'s
    assert len(rows) >= 40
    held = [r for r in rows if r["split"] == "heldout"]
    assert abs(len(held) - len(rows) / 3) <= 1
    assert {r["topic"] for r in held} == set(rel.TOPICS)
    named = sum(r["names_practice"] for r in rows)
    assert 0.25 <= named / len(rows) <= 0.45


def test_split_changes_with_the_seed_but_keeps_its_shape(rel):
    rows = rel.read_proposals()
    a, b = rel.assign_split(rows, seed=1), rel.assign_split(rows, seed=2)
    assert a != b
    assert sum(v == "heldout" for v in a.values()) == sum(v == "heldout" for v in b.values())


def test_excerpt_adds_the_best_passage_beyond_the_head(rel):
    body = "开头的句子。" * 200 + "社区推行楼道微自治，推选楼道长。" + "结尾的句子。" * 100
    out = rel.excerpt(body, {"楼道": 2.0, "微自治": 5.0})
    assert out.startswith(body[: rel.EXCERPT_HEAD])
    assert "推行楼道微自治" in out[rel.EXCERPT_HEAD :]
    assert len(out) <= rel.EXCERPT_HEAD + rel.EXCERPT_EXTRA + 10
    short = "社区推行楼道微自治。"
    assert rel.excerpt(short, {"楼道": 1.0}) == short


def test_clean_body_drops_boilerplate_only(rel):
    raw = "央视网消息（新闻联播）：某街道推行议事会。\n(视频编辑：张三 文字编辑：李四)"
    assert rel.clean_body(raw) == "某街道推行议事会。"
    assert rel.clean_body("某街道推行议事会。") == "某街道推行议事会。"


def test_judgments_hold_ids_and_grades_only_for_every_proposal(rel):
    rows = rel.read_jsonl(rel.JUDGMENTS)
    proposals = {p["id"] for p in rel.read_proposals()}
    assert len(rows) == 1010 + 448 + 471 and {r["proposal"] for r in rows} == proposals  # first pool, extra batches 1-2
    assert all(set(r) <= {"proposal", "doc", "grade", "reason"} and r["grade"] in (0, 1, 2) for r in rows)
    assert len({(r["proposal"], r["doc"]) for r in rows}) == len(rows)
    assert {r.get("reason") for r in rows} <= {"local_practice", "neighbouring", "central", "roundup", "incidental",
                                               "off_topic", "short"}


def test_extra_pool_depths_are_named_systems(rel):
    assert rel.parse_depths(["cosine:30", "bm25s:10"], ["cosine", "bm25s", "govtext"]) == [("cosine", 30), ("bm25s", 10)]
    for bad in (["cosine"], ["cosine:0"], ["tfidf:10"], ["cosine:x"]):
        with pytest.raises(SystemExit):
            rel.parse_depths(bad, ["cosine", "bm25s"])
