"""Every ```python block in README.md runs, in order, from the repository root."""

from __future__ import annotations

import os
import re

from .conftest import REPO


def _run_blocks(name: str, tmp_path) -> None:
    text = (REPO / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2
    cwd = os.getcwd()
    os.chdir(REPO)
    try:
        for i, block in enumerate(blocks):
            code = block.replace("/tmp/govtext-vectorizer", str(tmp_path / "vec"))
            # Run as a script would be, so `if __name__ == "__main__":` blocks run too.
            exec(compile(code, f"{name} block {i + 1}", "exec"), {"__name__": "__main__"})
    finally:
        os.chdir(cwd)


def test_readme_python_examples_run(tmp_path, capsys):
    _run_blocks("README.md", tmp_path)
    out = capsys.readouterr().out
    assert "03_dangjian_yinling.txt" in out  # the classify_frame example printed its table
    if "distributed" in __import__("sys").modules:
        assert "('a', [" in out  # the Dask example ran on its LocalCluster


def test_chinese_readme_python_examples_run(tmp_path, capsys):
    import pytest

    pytest.importorskip("pandas")
    pytest.importorskip("trafilatura")
    _run_blocks("README.zh.md", tmp_path)
    out = capsys.readouterr().out
    assert "gb18030" in out and "party_building" in out


def _commands(name: str) -> set[str]:
    text = (REPO / name).read_text(encoding="utf-8")
    bash = "\n".join(re.findall(r"```bash\n(.*?)```", text, flags=re.S))
    return set(re.findall(r"^(?:cat \S+ \| )?govtext (\w+)", bash, flags=re.M))


def test_chinese_readme_keeps_in_step_with_readme():
    """README.zh.md shows every command README.md shows, the same quick start, and the same HTML figures."""
    en, zh = (REPO / "README.md").read_text(encoding="utf-8"), (REPO / "README.zh.md").read_text(encoding="utf-8")
    assert _commands("README.md") <= _commands("README.zh.md"), _commands("README.md") - _commands("README.zh.md")
    assert "pip install . && govtext classify examples/ --explain" in en and \
        "pip install . && govtext classify examples/ --explain" in zh
    for figure in re.findall(r"\| \*\*govtext\*\*[^|]*\| ([0-9.]+ \[[0-9., ]+\]) \| ([0-9.]+ \[[0-9., ]+\])", en)[0]:
        assert figure in zh, figure
    assert "README.zh.md" in en
