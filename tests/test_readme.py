"""Every ```python block in README.md runs, in order, from the repository root."""

from __future__ import annotations

import os
import re

from .conftest import REPO


def test_readme_python_examples_run(tmp_path, capsys):
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for i, block in enumerate(blocks):
            code = block.replace("/tmp/govtext-vectorizer", str(tmp_path / "vec"))
            # Run as a script would be, so `if __name__ == "__main__":` blocks run too.
            exec(compile(code, f"README.md block {i + 1}", "exec"), {"__name__": "__main__"})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "03_dangjian_yinling.txt" in out  # the classify_frame example printed its table
    if "distributed" in __import__("sys").modules:
        assert "('a', [" in out  # the Dask example ran on its LocalCluster
