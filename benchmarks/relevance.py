"""Relevance benchmark: do the comparable cases a ranking returns make usable precedents?

A judged set (issue 24): proposals written as a district or street official would draft them
(``benchmarks/relevance/proposals.jsonl``, split dev / heldout), results pooled from several
rankings over the 75,806 《新闻联播》 items in ../shared/corpora/xwlb (text = title + "\\n" + text),
judged blind on a 0/1/2 scale following ``benchmarks/relevance/GUIDELINE.md``.

    python benchmarks/relevance.py pool  [--out DIR] [--cache DIR]   # build the judging batches
    python benchmarks/relevance.py ingest JUDGED.jsonl ... [--mapping DIR/mapping.json]
    python benchmarks/relevance.py pool-extra --batch B.jsonl --mapping M.json [--systems cosine:30 ...] [--split dev]
    python benchmarks/relevance.py ingest JUDGED.jsonl --mapping MAP_DIR/map.json --merge
    python benchmarks/relevance.py score [--split dev] [--systems cosine bm25s govtext]
    python benchmarks/relevance.py score --systems govtext govtext+kp govtext-pw0 govtext+kp-pw0 cosine+kp
    python benchmarks/relevance.py score --split heldout --final     # once, logged in LOOKS.md
    python benchmarks/relevance.py speed                             # latency, precedent beside cosine

``pool`` builds (once; cached under ``--cache``, default /tmp/govtext_relevance) a govtext
``SimilarityIndex`` with default settings and a bm25s index (bm25s defaults: Lucene BM25, k1=1.5,
b=0.75) over the same govtext tokens, then pools for each proposal govtext's cosine top 20 (so
re-rankings of that candidate pool stay judgeable) and bm25s's top 10. It writes
``batch_1..3.jsonl`` (one line per (proposal, document) pair: pair_id, proposal_text, doc_title,
doc_date, doc_chars, doc_excerpt; no system, rank or score; the pairs of a proposal together, in a
random order, proposals in a random order; fixed seed) and ``mapping.json`` (pair_id -> proposal,
document, which systems returned it at which rank), which judges must not see.

``pool-extra`` writes one more blind batch, in the same format, of every (proposal, document) pair
that a system places within the given depth and that has no judgment yet (both splits), with its
mapping in a folder apart from the batch; ``ingest --merge`` adds the judged pairs to the existing
judgments (a pair judged twice is refused).

Systems: ``cosine`` (the exact cosine order), ``bm25s``, ``govtext`` (the default ranking), and
for measuring one part at a time ``govtext-pw0`` (the default ranking without its practice-name
signal, ``Ranking(practice_weight=0)``) and, over a second cached index built with
``SimilarityIndex(keep_practices=True)`` (practice names kept whole by the tokenizer),
``cosine+kp``, ``govtext+kp`` and ``govtext+kp-pw0``.

``ingest`` turns the judges' files (lines with ``pair_id`` and ``grade``) into
``benchmarks/relevance/judgments.jsonl``: proposal id, document id, grade and the judge's reason
category (a fixed label such as ``central`` or ``incidental``) only, no corpus text.

``score`` ranks every proposal of a split with each system (recomputed from the cached indexes, so
a new ranking is scored the same way) and prints P@5 (share of grade-2 results in the top 5),
nDCG@10 (gain 2^grade - 1, ideal order from every judged document of the proposal) and
"precedent in the top 3" (share of proposals with a grade-2 result in the top 3), each with a 95%
bootstrap interval over proposals, and paired bootstrap intervals of the differences between
systems (10,000 resamples of proposals, fixed seed). Unjudged results count as 0 and are counted
in the output. The heldout split is the final check: it is scored only with ``--final``, and every
such look is appended to ``benchmarks/relevance/LOOKS.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# benchmarks/tokenize.py shares its name with the stdlib module; keep this folder off the path.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import datetime as _dt
import gzip
import hashlib
import json
import random
import re
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "relevance"
PROPOSALS = DATA / "proposals.jsonl"
JUDGMENTS = DATA / "judgments.jsonl"
LOOKS = DATA / "LOOKS.md"
XWLB = HERE.parent.parent / "shared" / "corpora" / "xwlb" / "items.jsonl.gz"
DEFAULT_CACHE = Path("/tmp/govtext_relevance")
DEFAULT_OUT = HERE.parent.parent / "relevance_pool"

TOPICS = ("co_governance", "party_building", "civility", "ordinary_policy")
POOL_COSINE = 20  # govtext cosine candidates pooled per proposal
POOL_BM25 = 10  # bm25s results pooled per proposal
N_BATCHES = 3
SEED = 24
EXCERPT_HEAD = 700
EXCERPT_EXTRA = 300
BOOTSTRAP = 10_000

_BOILERPLATE = re.compile(r"^\s*(?:央视网消息|中国网络电视台消息)\s*[（(]新闻联播[)）]\s*[：:]\s*")
_TRAILER = re.compile(r"\s*[（(]\s*视频编辑[^）)]*[)）]\s*$")
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")


# -- proposals and corpus ----------------------------------------------------------------------
def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_proposals(path: Path = PROPOSALS) -> list[dict[str, Any]]:
    rows = read_jsonl(path)
    seen: set[str] = set()
    for r in rows:
        missing = {"id", "text", "topic", "names_practice", "split"} - set(r)
        if missing:
            raise SystemExit(f"{path}: proposal {r.get('id')!r} lacks {sorted(missing)}")
        if r["id"] in seen:
            raise SystemExit(f"{path}: proposal id {r['id']!r} repeated")
        seen.add(r["id"])
        if r["topic"] not in TOPICS or r["split"] not in ("dev", "heldout"):
            raise SystemExit(f"{path}: proposal {r['id']!r} has topic {r['topic']!r} / split {r['split']!r}; "
                             f"expected one of {TOPICS} / dev, heldout")
        if not 80 <= len(r["text"]) <= 400:
            raise SystemExit(f"{path}: proposal {r['id']!r} has {len(r['text'])} characters; expected 80-400")
    expected = assign_split(rows)
    moved = [r["id"] for r in rows if r["split"] != expected[r["id"]]]
    if moved:
        raise SystemExit(f"{path}: the split of {moved} differs from assign_split(); the held-out set is fixed")
    return rows


def assign_split(rows: Sequence[dict[str, Any]], seed: int = SEED) -> dict[str, str]:
    """The dev / heldout split: within each (topic, names_practice) cell the proposals are shuffled
    (fixed seed), the cells are laid end to end and every third proposal from a random offset is
    held out, so a third goes aside, balanced over topics and over named / described practices."""
    rng = random.Random(seed)
    order: list[str] = []
    for topic in TOPICS:
        for named in (True, False):
            cell = [r["id"] for r in rows if r["topic"] == topic and bool(r["names_practice"]) == named]
            rng.shuffle(cell)
            order += cell
    held = set(order[rng.randrange(3)::3])
    return {r["id"]: "heldout" if r["id"] in held else "dev" for r in rows}


def read_corpus(path: Path = XWLB) -> list[dict[str, Any]]:
    if not path.exists():
        raise SystemExit(f"corpus not found: {path} (the xwlb items of ../shared/corpora)")
    items = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            items.append({"id": r["id"], "date": r.get("date", ""), "title": r.get("title", ""),
                          "text": r.get("text", "")})
    return items


def doc_text(item: dict[str, Any]) -> str:
    """What is indexed: the title, a newline, the body."""
    return item["title"] + "\n" + item["text"]


# -- the cached indexes ----------------------------------------------------------------------
def _corpus_key(path: Path) -> str:
    import govtext

    st = path.stat()
    return hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{govtext.__version__}".encode()).hexdigest()[:12]


def build_cache(items: list[dict[str, Any]], cache: Path) -> tuple[Any, Any]:
    """The govtext index (default settings) and the bm25s index over the same govtext tokens,
    loaded from ``cache`` when it was built from this corpus file with this govtext version."""
    import bm25s

    import govtext
    from govtext.features.vectorize import count_terms

    key = _corpus_key(XWLB)
    folder = cache / key
    idx_dir, bm_dir = folder / "govtext_index", folder / "bm25s"
    if (folder / "DONE").exists():
        index = govtext.SimilarityIndex.load(idx_dir)
        return index, bm25s.BM25.load(str(bm_dir))
    folder.mkdir(parents=True, exist_ok=True)
    texts = [doc_text(r) for r in items]
    ids = [r["id"] for r in items]
    meta = [{"date": r["date"], "title": r["title"]} for r in items]
    t0 = time.perf_counter()
    index = govtext.SimilarityIndex().fit(texts, ids=ids, metadata=meta)
    index.save(idx_dir)
    print(f"govtext index: {len(index):,} documents, built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    t0 = time.perf_counter()
    tok = index.vectorizer_.tokenizer_
    counts, vocab = count_terms(texts, tokenizer=tok)
    counts = counts.tocsr()
    term_ids = [np.repeat(counts.indices[counts.indptr[i]:counts.indptr[i + 1]],
                          counts.data[counts.indptr[i]:counts.indptr[i + 1]].astype(np.int64)).tolist()
                for i in range(counts.shape[0])]
    bm = bm25s.BM25()
    bm.index(bm25s.tokenization.Tokenized(ids=term_ids, vocab=vocab), show_progress=False)
    bm.save(str(bm_dir))
    print(f"bm25s index over the same tokens: built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    (folder / "DONE").write_text(key)
    return index, bm


def build_practice_index(items: list[dict[str, Any]], cache: Path) -> Any:
    """The govtext index with practice names kept whole (``SimilarityIndex(keep_practices=True)``,
    otherwise default settings), cached beside the default one."""
    import govtext

    folder = cache / _corpus_key(XWLB)
    idx_dir = folder / "govtext_index_kp"
    if (folder / "DONE_kp").exists():
        return govtext.SimilarityIndex.load(idx_dir)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    index = govtext.SimilarityIndex(keep_practices=True).fit(
        [doc_text(r) for r in items], ids=[r["id"] for r in items],
        metadata=[{"date": r["date"], "title": r["title"]} for r in items])
    index.save(idx_dir)
    print(f"govtext index, practice names kept whole ({len(index.practice_words_)} names): "
          f"{len(index):,} documents, {len(index.vectorizer_.vocabulary_):,} terms, built in "
          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    (folder / "DONE_kp").write_text(str(idx_dir))
    return index


# -- systems ---------------------------------------------------------------------------------
def rank_cosine(index: Any, texts: Sequence[str], k: int) -> list[list[str]]:
    """govtext's exact TF-IDF cosine order (today's default; ``rank="cosine"`` once that exists)."""
    try:
        runs = index.query_many(list(texts), k=k, rank="cosine")
    except TypeError:
        runs = index.query_many(list(texts), k=k)
    return [[m.id for m in run] for run in runs]


def rank_govtext(index: Any, texts: Sequence[str], k: int, rank: Any = "precedent") -> list[list[str]]:
    """govtext's default ranking, whatever it is in the installed version (or ``rank``)."""
    return [[m.id for m in run] for run in index.query_many(list(texts), k=k, rank=rank)]


def rank_bm25(index: Any, bm: Any, texts: Sequence[str], k: int) -> list[list[str]]:
    """bm25s scores over the same govtext tokens (the query's tokens as they come, repeats
    included, as ``bm25s.BM25.retrieve`` takes them); ties broken by corpus order."""
    tok = index.vectorizer_.tokenizer_
    out = []
    for text in texts:
        q = bm.get_tokens_ids(tok(text))
        scores = bm.get_scores(q) if q else np.zeros(len(index.ids_), np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        out.append([index.ids_[int(i)] for i in order if scores[int(i)] > 0])
    return out


def systems(index: Any, bm: Any, practice_index: Callable[[], Any] | None = None,
            ) -> dict[str, Callable[[Sequence[str], int], list[list[str]]]]:
    """The rankings scored by name; ``practice_index()`` gives the index with practice names kept
    whole (built or loaded the first time a ``+kp`` system runs)."""
    import govtext

    no_practice = govtext.Ranking(practice_weight=0)
    out: dict[str, Callable[[Sequence[str], int], list[list[str]]]] = {
        "cosine": lambda texts, k: rank_cosine(index, texts, k),
        "bm25s": lambda texts, k: rank_bm25(index, bm, texts, k),
        "govtext": lambda texts, k: rank_govtext(index, texts, k),
        "govtext-pw0": lambda texts, k: rank_govtext(index, texts, k, no_practice),
    }
    if practice_index is not None:
        kp: list[Any] = []

        def kept() -> Any:
            if not kp:
                kp.append(practice_index())
            return kp[0]

        out.update({
            "cosine+kp": lambda texts, k: rank_cosine(kept(), texts, k),
            "govtext+kp": lambda texts, k: rank_govtext(kept(), texts, k),
            "govtext+kp-pw0": lambda texts, k: rank_govtext(kept(), texts, k, no_practice),
        })
    return out


# -- excerpts --------------------------------------------------------------------------------
def clean_body(text: str) -> str:
    return _TRAILER.sub("", _BOILERPLATE.sub("", text)).strip()


def excerpt(body: str, weights: dict[str, float]) -> str:
    """The first EXCERPT_HEAD characters, plus up to EXCERPT_EXTRA characters around the sentence
    that holds the most proposal-term weight when that sentence ends beyond the head."""
    head = body[:EXCERPT_HEAD]
    if len(body) <= EXCERPT_HEAD or not weights:
        return head
    best, best_score = None, 0.0
    for m in _SENTENCE.finditer(body):
        sent = m.group(0)
        score = sum(w for term, w in weights.items() if term in sent)
        if score > best_score:
            best, best_score = m, score
    if best is None or best.end() <= EXCERPT_HEAD:
        return head
    mid = (best.start() + best.end()) // 2
    start = max(EXCERPT_HEAD, min(best.start(), mid - EXCERPT_EXTRA // 2))
    end = min(len(body), start + EXCERPT_EXTRA)
    return head + " …… " + body[start:end] + (" ……" if end < len(body) else "")


# -- pool ------------------------------------------------------------------------------------
def cmd_pool(args: argparse.Namespace) -> int:
    proposals = read_proposals()
    items = read_corpus()
    by_id = {r["id"]: r for r in items}
    index, bm = build_cache(items, Path(args.cache))
    texts = [p["text"] for p in proposals]
    cos = rank_cosine(index, texts, POOL_COSINE)
    b25 = rank_bm25(index, bm, texts, POOL_BM25)
    vec = index.vectorizer_
    tok, vocab, idf = vec.tokenizer_, vec.vocabulary_, vec.idf_
    rng = random.Random(SEED)
    groups: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    mapping: dict[str, dict[str, Any]] = {}
    for p, c_run, b_run in zip(proposals, cos, b25):
        found: dict[str, dict[str, int]] = {}
        for name, run in (("cosine", c_run), ("bm25s", b_run)):
            for r, doc_id in enumerate(run, start=1):
                found.setdefault(doc_id, {})[name] = r
        weights = {t: float(idf[vocab[t]]) for t in dict.fromkeys(tok(p["text"])) if t in vocab}
        pairs = []
        for doc_id, ranks in found.items():
            item = by_id[doc_id]
            body = clean_body(item["text"])
            d = item["date"]
            pairs.append({"proposal_text": p["text"], "doc_title": item["title"],
                          "doc_date": f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else d,
                          "doc_chars": len(body), "doc_excerpt": excerpt(body, weights),
                          "_map": {"proposal": p["id"], "doc": doc_id, "ranks": ranks}})
        rng.shuffle(pairs)
        groups.append((p, pairs))
    rng.shuffle(groups)
    # Proposals go to the batch with the fewest pairs so far (largest first): roughly equal batches.
    batches: list[list[dict[str, Any]]] = [[] for _ in range(N_BATCHES)]
    for p, pairs in sorted(groups, key=lambda g: -len(g[1])):
        min(batches, key=len).append((p, pairs))  # type: ignore[arg-type]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = []
    for b, batch in enumerate(batches, start=1):
        rng.shuffle(batch)
        lines = []
        for _, pairs in batch:  # type: ignore[misc]
            for pair in pairs:
                pair_id = f"b{b}-{len(lines) + 1:04d}"
                m = pair.pop("_map")
                mapping[pair_id] = {"proposal": m["proposal"], "doc": m["doc"], "batch": b,
                                    "systems": sorted(m["ranks"]), "ranks": m["ranks"]}
                lines.append({"pair_id": pair_id, **pair})
        with (out / f"batch_{b}.jsonl").open("w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        summary.append((b, len(batch), len(lines)))
    runs = {"cosine": dict(zip([p["id"] for p in proposals], cos)),
            "bm25s": dict(zip([p["id"] for p in proposals], b25))}
    with (out / "mapping.json").open("w", encoding="utf-8") as fh:
        json.dump({"seed": SEED, "pool": {"cosine": POOL_COSINE, "bm25s": POOL_BM25},
                   "pairs": mapping, "runs": runs}, fh, ensure_ascii=False, indent=1)
    for b, n_prop, n_pairs in summary:
        print(f"{out / f'batch_{b}.jsonl'}: {n_prop} proposals, {n_pairs} pairs")
    overlap = np.mean([len(set(c[:10]) & set(b)) / 10 for c, b in zip(cos, b25)])
    print(f"{len(mapping)} pairs in all; cosine top-10 / bm25s top-10 overlap {overlap:.2f}; mapping in {out / 'mapping.json'}")
    return 0


# -- extra pools: the unjudged results of the rankings in use ---------------------------------
EXTRA_SYSTEMS = ("cosine:30", "bm25s:10", "govtext:10")


def parse_depths(specs: Sequence[str], known: Sequence[str]) -> list[tuple[str, int]]:
    """``["cosine:30", "bm25s:10"]`` -> ``[("cosine", 30), ("bm25s", 10)]``; names must be known systems."""
    out = []
    for spec in specs:
        name, _, depth = spec.partition(":")
        if name not in known or not depth.isdigit() or int(depth) < 1:
            raise SystemExit(f"--systems takes NAME:DEPTH with NAME one of {sorted(known)}, got {spec!r}")
        out.append((name, int(depth)))
    return out


def blind_pair(p: dict[str, Any], item: dict[str, Any], weights: dict[str, float]) -> dict[str, Any]:
    """What a judge sees of one (proposal, document) pair: no system, rank or score."""
    body = clean_body(item["text"])
    d = item["date"]
    return {"proposal_text": p["text"], "doc_title": item["title"],
            "doc_date": f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 else d,
            "doc_chars": len(body), "doc_excerpt": excerpt(body, weights)}


def cmd_pool_extra(args: argparse.Namespace) -> int:
    """One blind batch of every (proposal, document) pair that a system in use places within its
    depth (default: cosine top 30, bm25s top 10, govtext's default top 10) and that has no judgment
    yet, for both splits; the mapping goes to a folder judges do not see."""
    proposals = read_proposals()
    judged = {(r["proposal"], r["doc"]) for r in read_jsonl(JUDGMENTS)} if JUDGMENTS.exists() else set()
    for path in args.also_judged or []:
        judged |= {(r["proposal"], r["doc"]) for r in read_jsonl(Path(path))}
    items = read_corpus()
    by_id = {r["id"]: r for r in items}
    index, bm = build_cache(items, Path(args.cache))
    fns = systems(index, bm, lambda: build_practice_index(items, Path(args.cache)))
    depths = parse_depths(args.systems, list(fns))
    if args.split != "both":
        proposals = [p for p in proposals if p["split"] == args.split]
    texts = [p["text"] for p in proposals]
    runs = {f"{name}:{depth}": fns[name](texts, depth) for name, depth in depths}
    vec = index.vectorizer_
    tok, vocab, idf = vec.tokenizer_, vec.vocabulary_, vec.idf_
    rng = random.Random(f"{SEED}-{args.tag}")
    groups = []
    for i, p in enumerate(proposals):
        found: dict[str, dict[str, int]] = {}
        for label, run in runs.items():
            for r, doc_id in enumerate(run[i], start=1):
                if (p["id"], doc_id) not in judged:
                    found.setdefault(doc_id, {})[label] = r
        if not found:
            continue
        weights = {t: float(idf[vocab[t]]) for t in dict.fromkeys(tok(p["text"])) if t in vocab}
        pairs = [(blind_pair(p, by_id[d], weights), {"proposal": p["id"], "split": p["split"], "doc": d,
                                                     "ranks": ranks}) for d, ranks in found.items()]
        rng.shuffle(pairs)
        groups.append(pairs)
    rng.shuffle(groups)
    batch, mapping = Path(args.batch), Path(args.mapping)
    if batch.parent.resolve() == mapping.parent.resolve():
        raise SystemExit("the mapping must not sit beside the batch: judges must not see it")
    batch.parent.mkdir(parents=True, exist_ok=True)
    mapping.parent.mkdir(parents=True, exist_ok=True)
    pairs_map: dict[str, dict[str, Any]] = {}
    with batch.open("w", encoding="utf-8") as fh:
        for pairs in groups:
            for shown, hidden in pairs:
                pair_id = f"{args.tag}-{len(pairs_map) + 1:04d}"
                pairs_map[pair_id] = {**hidden, "systems": sorted(hidden["ranks"])}
                fh.write(json.dumps({"pair_id": pair_id, **shown}, ensure_ascii=False) + "\n")
    with mapping.open("w", encoding="utf-8") as fh:
        json.dump({"seed": f"{SEED}-{args.tag}", "pool": dict(depths), "pairs": pairs_map,
                   "runs": {label: dict(zip([p["id"] for p in proposals], run)) for label, run in runs.items()}},
                  fh, ensure_ascii=False, indent=1)
    by_split = Counter(v["split"] for v in pairs_map.values())
    print(f"{batch}: {len(pairs_map)} unjudged pairs over {len(groups)} proposals "
          f"(dev {by_split['dev']}, heldout {by_split['heldout']}); systems {', '.join(runs)}; mapping in {mapping}")
    return 0


# -- ingest ----------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    with Path(args.mapping).open(encoding="utf-8") as fh:
        mapping = json.load(fh)["pairs"]
    grades: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for path in args.judged:
        for r in read_jsonl(Path(path)):
            pid, g = r.get("pair_id"), r.get("grade")
            if pid not in mapping:
                raise SystemExit(f"{path}: unknown pair_id {pid!r}")
            if g not in (0, 1, 2):
                raise SystemExit(f"{path}: pair {pid} has grade {g!r}; expected 0, 1 or 2")
            if pid in grades and grades[pid] != g:
                raise SystemExit(f"{path}: pair {pid} judged twice with different grades")
            grades[pid] = g
            if r.get("reason"):
                reasons[pid] = str(r["reason"])
    missing = sorted(set(mapping) - set(grades))
    new = {(mapping[p]["proposal"], mapping[p]["doc"]): {"proposal": mapping[p]["proposal"], "doc": mapping[p]["doc"],
                                                         "grade": g, **({"reason": reasons[p]} if p in reasons else {})}
           for p, g in grades.items()}
    out = Path(args.out)
    old: dict[tuple[str, str], dict[str, Any]] = {}
    if args.merge and out.exists():
        old = {(r["proposal"], r["doc"]): r for r in read_jsonl(out)}
        again = sorted(k for k in new if k in old)
        if again:
            raise SystemExit(f"{len(again)} pairs are judged already in {out} (e.g. {again[:3]}); "
                             "a pair is judged once")
    rows = sorted([*old.values(), *new.values()], key=lambda r: (r["proposal"], r["doc"]))
    with out.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(new)} judgments added to {len(old)} in {out}; {len(missing)} pairs of the mapping not judged"
          + (f" (e.g. {missing[:5]})" if missing else ""))
    return 0


# -- score -----------------------------------------------------------------------------------
def per_proposal(run: list[str], judged: dict[str, int]) -> dict[str, float]:
    g = [judged.get(d, 0) for d in run[:10]] + [0] * (10 - len(run[:10]))
    dcg = sum((2 ** x - 1) / np.log2(i + 2) for i, x in enumerate(g))
    ideal = sorted(judged.values(), reverse=True)[:10]
    idcg = sum((2 ** x - 1) / np.log2(i + 2) for i, x in enumerate(ideal))
    return {"P@5": sum(x == 2 for x in g[:5]) / 5,
            "nDCG@10": dcg / idcg if idcg > 0 else 0.0,
            "prec@3": float(any(x == 2 for x in g[:3]))}


def bootstrap(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    n = len(values)
    samples = values[rng.integers(0, n, size=(BOOTSTRAP, n))].mean(axis=1)
    lo, hi = np.percentile(samples, [2.5, 97.5])
    return float(lo), float(hi)


def cmd_score(args: argparse.Namespace) -> int:
    if args.split == "heldout" and not args.final:
        raise SystemExit("the heldout split is the final check: score it once, with --final, when the ranking is settled")
    proposals = [p for p in read_proposals() if p["split"] == args.split]
    if not JUDGMENTS.exists():
        raise SystemExit(f"no judgments yet: {JUDGMENTS} (see `ingest`)")
    judged: dict[str, dict[str, int]] = {}
    for r in read_jsonl(JUDGMENTS):
        judged.setdefault(r["proposal"], {})[r["doc"]] = int(r["grade"])
    unjudged_props = [p["id"] for p in proposals if p["id"] not in judged]
    if unjudged_props:
        raise SystemExit(f"proposals without judgments: {unjudged_props}")
    items = read_corpus()
    index, bm = build_cache(items, Path(args.cache))
    fns = systems(index, bm, lambda: build_practice_index(items, Path(args.cache)))
    unknown = [s for s in args.systems if s not in fns]
    if unknown:
        raise SystemExit(f"unknown systems {unknown}; known: {sorted(fns)}")
    texts = [p["text"] for p in proposals]
    metrics = ("P@5", "nDCG@10", "prec@3")
    table: dict[str, dict[str, np.ndarray]] = {}
    holes: dict[str, int] = {}
    for name in args.systems:
        runs = fns[name](texts, 10)
        rows = [per_proposal(run, judged[p["id"]]) for p, run in zip(proposals, runs)]
        table[name] = {m: np.array([r[m] for r in rows]) for m in metrics}
        holes[name] = sum(d not in judged[p["id"]] for p, run in zip(proposals, runs) for d in run[:10])
    rng = np.random.default_rng(SEED)
    lines = [f"relevance, split {args.split}: {len(proposals)} proposals, "
             f"{sum(len(judged[p['id']]) for p in proposals)} judged pairs; 95% bootstrap intervals over proposals "
             f"({BOOTSTRAP:,} resamples)", ""]
    width = max(10, *map(len, table))
    lines.append(f"{'system':<{width}}" + "".join(f"{m:>24}" for m in metrics) + "   unjudged in top 10")
    for name, vals in table.items():
        cells = []
        for m in metrics:
            lo, hi = bootstrap(vals[m], rng)
            cells.append(f"{vals[m].mean():.3f} [{lo:.3f}, {hi:.3f}]")
        lines.append(f"{name:<{width}}" + "".join(f"{c:>24}" for c in cells) + f"   {holes[name]}")
    names = list(table)
    if len(names) > 1:
        lines += ["", "paired differences (row minus column system), 95% paired bootstrap intervals"]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                cells = []
                for m in metrics:
                    d = table[a][m] - table[b][m]
                    lo, hi = bootstrap(d, rng)
                    cells.append(f"{d.mean():+.3f} [{lo:+.3f}, {hi:+.3f}]")
                lines.append(f"{a + ' - ' + b:<{2 * width - 2}}" + "".join(f"{c:>26}" for c in cells))
    print("\n".join(lines))
    if args.split == "heldout":
        try:
            commit = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                                    capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            commit = "unknown"
        with LOOKS.open("a", encoding="utf-8") as fh:
            fh.write(f"\n## heldout look, {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit}\n\n"
                     "```\n" + "\n".join(lines) + "\n```\n")
        print(f"\n(look recorded in {LOOKS})")
    return 0


# -- speed -----------------------------------------------------------------------------------
def cmd_speed(args: argparse.Namespace) -> int:
    """Per-query latency of the precedent ranking and the cosine order, side by side, over all 48
    proposals on the cached index (each proposal queried once per round, rounds alternating)."""
    index, _ = build_cache(read_corpus(), Path(args.cache))
    texts = [p["text"] for p in read_proposals()]
    index.query(texts[0], rank="cosine")
    index.query(texts[0])  # warm both paths
    times: dict[str, list[float]] = {"cosine": [], "precedent": []}
    for _ in range(args.rounds):
        for rank in times:
            for t in texts:
                t0 = time.perf_counter()
                index.query(t, k=10, rank=rank)
                times[rank].append(time.perf_counter() - t0)
    for rank, ts in times.items():
        p50, p95 = np.percentile(ts, [50, 95]) * 1e3
        print(f"{rank:<10} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   ({len(ts)} queries, k=10, {len(index):,} documents)")
    ratio = np.median(times["precedent"]) / np.median(times["cosine"])
    print(f"precedent / cosine median latency: {ratio:.1f}x")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pool", help="build the blind judging batches")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    p.set_defaults(fn=cmd_pool)
    p = sub.add_parser("ingest", help="turn judged batches into judgments.jsonl")
    p.add_argument("judged", nargs="+")
    p.add_argument("--mapping", default=str(DEFAULT_OUT / "mapping.json"))
    p.add_argument("--out", default=str(JUDGMENTS))
    p.add_argument("--merge", action="store_true", help="add to the judgments already in --out (extra pools)")
    p.set_defaults(fn=cmd_ingest)
    p = sub.add_parser("pool-extra", help="a blind batch of the unjudged results of the rankings in use")
    p.add_argument("--systems", nargs="+", default=list(EXTRA_SYSTEMS), help="NAME:DEPTH, e.g. cosine:30")
    p.add_argument("--batch", required=True, help="the batch judges read (jsonl)")
    p.add_argument("--mapping", required=True, help="pair_id -> proposal, document (not beside the batch)")
    p.add_argument("--tag", default="x1", help="pair_id prefix, one per batch")
    p.add_argument("--also-judged", nargs="*", help="judged files (proposal, doc) not yet ingested, left out too")
    p.add_argument("--split", choices=("dev", "heldout", "both"), default="both", help="the proposals pooled")
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    p.set_defaults(fn=cmd_pool_extra)
    p = sub.add_parser("score", help="P@5, nDCG@10, precedent in the top 3, with bootstrap intervals")
    p.add_argument("--split", choices=("dev", "heldout"), default="dev")
    p.add_argument("--final", action="store_true", help="required for the heldout split (recorded in LOOKS.md)")
    p.add_argument("--systems", nargs="+", default=["cosine", "bm25s", "govtext"])
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    p.set_defaults(fn=cmd_score)
    p = sub.add_parser("speed", help="latency of the precedent ranking beside the cosine order")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--cache", default=str(DEFAULT_CACHE))
    p.set_defaults(fn=cmd_speed)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    raise SystemExit(main())
