"""The notebooks: committed with small outputs made from the repository's own samples (nothing from
../shared), and run top to bottom in a real Jupyter kernel (nbclient), from the notebooks folder (as
Jupyter would start there) and from the repository root (as the README's instructions have users
start Jupyter). Any error in any cell fails the run; the stored outputs are cleared first and never
compared, so they cannot make the run flaky."""

from __future__ import annotations

import base64
import json
import re

import pytest

from .conftest import REPO

nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
HAN_RUN = re.compile(r"[\u4e00-\u9fff]{10,}")
READS_SHARED = re.compile(r"\.\./shared|[\"']shared[\"'/]|\bshared\s*=", re.I)  # ../shared, "shared", shared = …


def _outputs(book) -> list[dict]:
    return [out for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def _output_text(out) -> str:
    if out.get("output_type") == "stream":
        return out.get("text", "")
    return "\n".join(v for k, v in out.get("data", {}).items() if k.startswith("text/"))


def test_there_are_four_notebooks_and_three_draw_charts():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_comparable_cases", "03_your_own_themes", "04_trends"]
    drawing = [p for p in NOTEBOOKS if "govtext.plot." in p.read_text(encoding="utf-8")]
    assert len(drawing) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_small_outputs(path):
    """Every code cell ran (in order) and kept its output; no error or stderr was saved; the charts are
    there and take at most 100 KB in all (notebooks/execute.py writes them so)."""
    book = nbformat.read(path, as_version=4)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), "run notebooks/execute.py"
    assert sum(bool(cell.outputs) for cell in code) >= len(code) - 2   # a cell may print nothing (%config)
    assert not [out for out in _outputs(book) if out.output_type == "error" or out.get("name") == "stderr"]
    images = [base64.b64decode(out.data["image/png"]) for out in _outputs(book) if "image/png" in out.get("data", {})]
    assert len(images) >= ("govtext.plot." in "".join(cell.source for cell in code))
    assert sum(map(len, images)) <= 100_000
    plain = [out.get("text", "") if out.output_type == "stream" else out.get("data", {}).get("text/plain", "")
             for out in _outputs(book)]
    assert all(len(text.splitlines()) <= 31 for text in plain)


def _sample_text() -> str:
    """The text of the repository's samples, as read, cleaned and normalised in the notebooks."""
    trafilatura = pytest.importorskip("trafilatura")  # noqa: F841  (the pages are read as the notebooks read them)
    import govtext
    from govtext.text.html import read_html

    parts = [json.dumps(json.loads(line), ensure_ascii=False)
             for line in (REPO / "samples" / "news.jsonl").read_text(encoding="utf-8").splitlines()]
    parts += [(REPO / "samples" / name).read_text(encoding="utf-8") for name in ("proposal.txt", "proposals.txt")]
    for page_path in sorted((REPO / "samples" / "pages").glob("*.htm*")):
        page = read_html(page_path.read_bytes(), source=page_path.name)
        parts += [page.title or "", page.text, govtext.clean_article(page.text).text]
    parts += [govtext.normalize(p) for p in parts]
    return "\n".join(parts)


def test_notebook_outputs_hold_no_text_but_the_samples():
    """The notebooks read samples/ only (never ../shared), and every run of ten or more Chinese
    characters in their saved outputs is text of the samples (or of the notebook's own code)."""
    allowed = _sample_text()
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        source = "\n".join(cell.source for cell in book.cells)
        assert not READS_SHARED.search(source), f"{path.name} reads ../shared"
        runs = {run for out in _outputs(book) for run in HAN_RUN.findall(_output_text(out))}
        foreign = sorted(run for run in runs if run not in allowed and run not in source)
        assert not foreign, f"{path.name}: text not from samples/: {foreign[:3]}"


def test_the_text_check_can_fail():
    """A sentence that is not in the samples is caught by the check above."""
    assert "社区党委组织居民开展垃圾分类宣传活动" not in _sample_text()


@pytest.mark.slow
@pytest.mark.parametrize("where", ["notebooks", "root"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_a_kernel(path, where, cjk_font):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    pytest.importorskip("ipykernel")
    book = nbformat.read(path, as_version=4)
    for cell in book.cells:  # run from a clean slate: the committed outputs play no part
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    cwd = path.parent if where == "notebooks" else REPO
    client = nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    missing = [out.get("text", "") for out in _outputs(book)
               if out.get("name") == "stderr" and "missing from" in out.get("text", "")]
    assert not missing, f"Chinese glyphs missing in charts: {missing[:2]}"
    drew = sum(1 for out in _outputs(book) if "image/png" in out.get("data", {}))
    if "govtext.plot." in path.read_text(encoding="utf-8"):
        assert drew >= 1, "the notebook's charts were not drawn"
