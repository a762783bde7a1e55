"""How well saved web pages are read: body recall and boilerplate left, on govtext's own pages.

The pages (benchmarks/html_pages.py: 8 local-news articles written for govtext, each in 4 layouts —
a table-laid government portal in GB2312, a county news site, an official-account mirror, a Big5
page of <br>-separated text — 32 pages) are read by

* govtext: ``govtext.text.html.read_html`` (trafilatura with govtext's settings), then ``clean_article``,
  as ``govtext classify page.html`` does;
* trafilatura with its own defaults (``trafilatura.extract``), then ``clean_article``;
* readability-lxml (``Document(html).summary()`` as text), then ``clean_article``;
* the page's text with the tags stripped (lxml ``text_content``), then ``clean_article``
  (what one gets without an extractor).

Body recall: the share of the gold body's characters whose paragraph is found whole in the
output (spaces ignored). Boilerplate left: the share of the page's boilerplate strings (menus,
related headlines, share bars, footers) still in the output. Title/date: found as the gold ones.
Means over pages with 95% bootstrap intervals (pages resampled).

    python benchmarks/html.py
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # this file would shadow the stdlib html module

import importlib.util  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402


def _load_pages() -> list[dict]:
    spec = importlib.util.spec_from_file_location("html_pages", Path(__file__).with_name("html_pages.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules["html_pages"] = mod
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod.pages()


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def recall(out: str, body: list[str]) -> float:
    flat = _squeeze(out)
    total = sum(len(_squeeze(p)) for p in body)
    return sum(len(_squeeze(p)) for p in body if _squeeze(p) in flat) / total


def boiler_left(out: str, boiler: list[str]) -> float:
    flat = _squeeze(out)
    return sum(_squeeze(b) in flat for b in boiler) / len(boiler)


def interval(values: list[float], n: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n, len(v)))].mean(axis=1)
    return float(v.mean()), float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def govtext_reader(data: bytes) -> tuple[str, str | None, str | None]:
    from govtext.text.html import read_html

    page = read_html(data)
    return page.text, page.title, page.date


def trafilatura_default(data: bytes) -> tuple[str, str | None, str | None]:
    import trafilatura

    from govtext.text.html import decode_html

    doc = trafilatura.bare_extraction(decode_html(data)[0], with_metadata=True)
    return (doc.text or "", doc.title, doc.date) if doc is not None else ("", None, None)


def readability_reader(data: bytes) -> tuple[str, str | None, str | None]:
    import lxml.html
    from readability import Document

    from govtext.text.html import decode_html

    doc = Document(decode_html(data)[0])
    tree = lxml.html.fromstring(doc.summary())
    for br in tree.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for el in tree.iter("p", "div", "section", "h1", "h2", "li", "tr"):
        el.tail = "\n" + (el.tail or "")
    return tree.text_content(), doc.short_title(), None


def strip_tags(data: bytes) -> tuple[str, str | None, str | None]:
    import lxml.html

    from govtext.text.html import decode_html

    tree = lxml.html.fromstring(decode_html(data)[0])
    for bad in tree.xpath("//script|//style|//head"):
        bad.drop_tree()
    for br in tree.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for el in tree.iter("p", "div", "section", "h1", "h2", "li", "tr", "td"):
        el.tail = "\n" + (el.tail or "")
    return tree.text_content(), None, None


READERS: dict[str, Callable[[bytes], tuple[str, str | None, str | None]]] = {
    "govtext (trafilatura, govtext settings)": govtext_reader,
    "trafilatura defaults": trafilatura_default,
    "readability-lxml": readability_reader,
    "tags stripped": strip_tags,
}


def main() -> int:
    import govtext
    from govtext.text.clean import normalize

    pages = _load_pages()
    print(f"{len(pages)} pages ({', '.join(sorted({p['layout'] for p in pages}))}); "
          f"means with 95% bootstrap intervals over pages\n")
    head = f"{'reader':<40} {'stage':<14} {'body recall':>24} {'boilerplate left':>24} {'title':>6} {'ms/page':>8}"
    print(head)
    print("-" * len(head))
    for name, reader in READERS.items():
        if name == "readability-lxml" and importlib.util.find_spec("readability") is None:
            print(f"{name:<40} not installed (a benchmark-only install: pip install readability-lxml)")
            continue
        raw_r, raw_b, cl_r, cl_b, titles, secs = [], [], [], [], [], 0.0
        per_layout: dict[str, list[float]] = {}
        for p in pages:
            t0 = time.perf_counter()
            try:
                text, title, _ = reader(p["data"])
            except Exception:  # noqa: BLE001 - a reader that finds nothing scores nothing
                text, title = "", None
            secs += time.perf_counter() - t0
            art = govtext.clean_article(f"{title}\n{text}" if title and not text.startswith(title) else text)
            cleaned = art.text
            # clean_article normalises (simplified forms, half-width punctuation): compare normalised.
            body_s = [normalize(b) for b in p["body"]]
            boiler_s = [normalize(b) for b in p["boilerplate"]]
            raw_r.append(recall(text, p["body"]))
            raw_b.append(boiler_left(text, p["boilerplate"]))
            cl_r.append(recall(cleaned, body_s))
            cl_b.append(boiler_left(cleaned, boiler_s))
            got_title = title or art.title or ""  # the page's title first, as govtext's readers do
            titles.append(float(_squeeze(normalize(got_title)) == _squeeze(normalize(p["title"]))))
            per_layout.setdefault(p["layout"], []).append(cl_r[-1])
        ms = 1000 * secs / len(pages)
        for stage, r, b in (("extracted", raw_r, raw_b), ("+clean_article", cl_r, cl_b)):
            rm, rl, rh = interval(r)
            bm, bl, bh = interval(b)
            tshow = f"{np.mean(titles):.2f}" if stage != "extracted" else ""
            mshow = f"{ms:.1f}" if stage == "extracted" else ""
            print(f"{name:<40} {stage:<14} {rm:>7.3f} [{rl:.3f}, {rh:.3f}] {bm:>7.3f} [{bl:.3f}, {bh:.3f}] "
                  f"{tshow:>6} {mshow:>8}")
        print(f"{'':<40} {'by layout':<14} " + "  ".join(f"{k} {np.mean(v):.2f}" for k, v in sorted(per_layout.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
