"""The notebooks run top to bottom in a real Jupyter kernel (nbclient), from the notebooks folder (as
Jupyter would start there) and from the repository root (as the README's instructions have users
start Jupyter). Any error in any cell fails the test."""

from __future__ import annotations

import pytest

from .conftest import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("matplotlib")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_four_notebooks_and_three_draw_charts():
    assert [p.stem for p in NOTEBOOKS] == ["01_quickstart", "02_comparable_cases", "03_your_own_themes", "04_trends"]
    drawing = [p for p in NOTEBOOKS if "govtext.plot." in p.read_text(encoding="utf-8")]
    assert len(drawing) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("where", ["notebooks", "root"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_a_kernel(path, where, cjk_font):
    book = nbformat.read(path, as_version=4)
    cwd = path.parent if where == "notebooks" else REPO
    client = nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    missing = [out.get("text", "") for cell in book.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []) if out.get("name") == "stderr" and "missing from" in out.get("text", "")]
    assert not missing, f"Chinese glyphs missing in charts: {missing[:2]}"
    drew = sum(1 for cell in book.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
               if "image/png" in out.get("data", {}))
    if "govtext.plot." in path.read_text(encoding="utf-8"):
        assert drew >= 1, "the notebook's charts were not drawn"
