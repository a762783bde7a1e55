"""The command line behaves alike everywhere: help on every option, a runnable example per command,
index refusing to overwrite and saying in one line what it skipped, no raw [Errno …], and serve
saying nothing about serving before it can serve."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from govtext.apps.cli import _EXAMPLES, _parser, main

ROOT = Path(__file__).resolve().parent.parent


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = _parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_option_has_help_and_every_command_an_example():
    commands = _subparsers()
    assert set(_EXAMPLES) == set(commands)
    for name, sub in commands.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"govtext {name} {action.option_strings or action.dest} has no help text"
        assert "examples" in sub.format_help() and f"govtext {name}" in sub.format_help()


@pytest.mark.slow
def test_every_command_example_runs_on_the_shipped_samples(tmp_path, monkeypatch, capsys):
    pytest.importorskip("trafilatura")
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    order = [n for n in _EXAMPLES if n not in ("similar", "serve")] + ["similar"]  # index before similar
    for name in order:
        for line in _EXAMPLES[name]:
            argv = shlex.split(line.split("#")[0])[1:]
            status = main(argv)
            out, err = capsys.readouterr()
            assert status == 0, f"{line}: exit {status}\n{err[-2000:]}"
    assert (tmp_path / "tokens.jsonl").stat().st_size > 0 and (tmp_path / "counts.csv").stat().st_size > 0
    assert (tmp_path / "my-index").is_dir()


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


DOCS = [{"id": "a", "title": "东湖社区召开居民议事会", "text": "居民代表协商加装电梯，形成三条共识。"},
        {"id": "b", "title": "和平街道开展志愿服务", "text": "新时代文明实践站组织志愿者为居民义诊。"}]


def test_index_missing_input_overwrite_and_one_line_summary(tmp_path, capsys):
    good = _jsonl(tmp_path / "ok.jsonl", DOCS)
    bad = _jsonl(tmp_path / "bad.jsonl", [{"id": "x", "text": ""}, {"id": "y", "body": "无正文字段"}])
    out = tmp_path / "idx"
    assert main(["index", str(good), str(tmp_path / "missing.jsonl"), "-o", str(out)]) == 1  # an input is missing
    err = capsys.readouterr().err
    assert "indexed 2 documents" in err and "1 record(s) not indexed (name them with --verbose)" in err
    assert len(err.strip().splitlines()) == 1
    before = (out / "govtext.json").read_bytes()
    assert main(["index", str(good), "-o", str(out), "-q"]) == 2  # refuses to replace without --overwrite
    assert "pass --overwrite" in capsys.readouterr().err
    assert (out / "govtext.json").read_bytes() == before
    assert main(["index", str(good), str(bad), "-o", str(out), "--overwrite", "--verbose"]) == 1
    err = capsys.readouterr().err
    assert "2 record(s) not indexed:" in err and "not indexed: x: empty text" in err and "not indexed: y:" in err
    assert main(["index", str(good), "-o", str(out), "-q", "--overwrite"]) == 0


def test_errors_are_said_without_errno_and_serve_says_nothing_before_serving(tmp_path, capsys):
    good = _jsonl(tmp_path / "ok.jsonl", DOCS)
    assert main(["index", str(good), "-o", str(tmp_path / "idx"), "-q"]) == 0
    assert main(["similar", "--index", str(tmp_path / "idx"), "--file", str(tmp_path / "nothere.txt")]) == 2
    err = capsys.readouterr().err
    assert "[Errno" not in err and "nothere.txt: No such file or directory" in err
    pytest.importorskip("fastapi")
    assert main(["serve", "--index", str(tmp_path / "no-index")]) == 2
    err = capsys.readouterr().err
    assert "serving" not in err and "no-index" in err


def _readme_commands(name: str, piped: bool = False) -> list[str]:
    """The `govtext …` lines of a README's bash blocks (and, with ``piped``, `cat FILE | govtext …`)."""
    lines, inside = [], False
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```bash"
            continue
        if inside and (line.startswith("govtext ") or piped and re.match(r"cat \S+ \| govtext ", line)):
            lines.append(line)
    return lines


# Lines that cannot run in a test: a server that runs until stopped, a cluster that is not there.
_NOT_RUN = ("govtext serve", "tcp://", "--dask local")


@pytest.mark.slow
@pytest.mark.parametrize("readme", ["README.md", "README.zh.md"])
def test_every_readme_command_runs_on_shipped_files(readme, tmp_path, monkeypatch, capsys):
    """Each `govtext …` line of README's bash blocks, run as written from a fresh checkout (in its
    own folder holding the repository's examples/, samples/ and models/, and an index built first)."""
    pytest.importorskip("trafilatura")
    if not (ROOT / readme).exists():
        pytest.skip(f"{readme} not written")
    commands = [c for c in _readme_commands(readme) if not any(x in c for x in _NOT_RUN)]
    assert len(commands) >= 10
    import shutil

    built = tmp_path / "built"
    built.mkdir()
    for folder in ("examples", "samples", "models"):
        (built / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(built)
    assert main(["index", "samples/news.jsonl", "-o", "my-index/", "-q"]) == 0
    capsys.readouterr()
    for i, line in enumerate(commands):
        work = tmp_path / f"run{i}"
        work.mkdir()
        for folder in ("examples", "samples", "models"):
            (work / folder).symlink_to(ROOT / folder)
        if not line.startswith("govtext index"):  # the index the README built a few lines before
            shutil.copytree(built / "my-index", work / "my-index")
        monkeypatch.chdir(work)
        status = main(shlex.split(line.split("  #")[0].split(" #")[0])[1:])
        _, err = capsys.readouterr()
        assert status == 0, f"{readme}: `{line}` exited {status}:\n{err[-1500:]}"


@pytest.mark.slow
@pytest.mark.parametrize("readme", ["README.md", "README.zh.md"])
def test_readme_commands_run_in_order_in_one_folder(readme, tmp_path, monkeypatch, capsys):
    """A reader follows the README top to bottom in one clone: every `govtext …` line, in order, in one
    folder, so that no line trips over what an earlier one wrote (an output that exists, an index
    already there) or needs what only a later one makes."""
    pytest.importorskip("trafilatura")
    commands = [c for c in _readme_commands(readme, piped=True) if not any(x in c for x in _NOT_RUN)]
    assert len(commands) >= 10
    for folder in ("examples", "samples", "models"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    for line in commands:
        line = line.split("  #")[0].split(" #")[0]
        if line.startswith("cat "):  # a shell pipe: run as a shell would, govtext as `python -m govtext`
            done = subprocess.run(line.replace("| govtext ", f"| {shlex.quote(sys.executable)} -m govtext "),
                                  shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=600)
            status, err = done.returncode, done.stderr
        else:
            status = main(shlex.split(line)[1:])
            _, err = capsys.readouterr()
        assert status == 0, f"{readme}: `{line}` exited {status} after the lines above it:\n{err[-1500:]}"
