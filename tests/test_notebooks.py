"""The notebooks' code cells run top to bottom, from the notebooks folder (as Jupyter would) and from
the repository root (as the README's instructions have users start Jupyter)."""

from __future__ import annotations

import json
import os

import pytest

from .conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("where", ["notebooks", "root"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, where, capsys):
    nb = json.loads(path.read_text(encoding="utf-8"))
    cwd = os.getcwd()
    os.chdir(path.parent if where == "notebooks" else REPO)
    try:
        scope: dict = {"__name__": "notebook"}
        for i, cell in enumerate(nb["cells"]):
            if cell["cell_type"] == "code":
                exec(compile("".join(cell["source"]), f"{path.name} cell {i}", "exec"), scope)
    finally:
        os.chdir(cwd)
