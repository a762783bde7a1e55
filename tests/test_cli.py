from __future__ import annotations

import json
import subprocess
import sys

from govtext.apps.cli import main

from .conftest import EXAMPLES


def _rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_clean_examples(capsys):
    assert main(["clean", str(EXAMPLES)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert len(rows) == len(list(EXAMPLES.glob("*.txt")))
    assert rows[0]["title"] == "和平街道:楼组议事会让加装电梯“一楼也点头”"
    assert rows[0]["date"] == "2024-03-18" and rows[0]["removed_lines"] > 0


def test_tokenize_examples_to_file(tmp_path):
    out = tmp_path / "tokens.jsonl"
    assert main(["tokenize", str(EXAMPLES), "-o", str(out), "-q"]) == 0
    rows = _rows(out.read_text(encoding="utf-8"))
    tokens = rows[1]["tokens"]
    assert "新时代文明实践站" in tokens and "东湖" in tokens  # traditional input came out simplified
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tokens.jsonl"]  # no chunk folder or temp file left


def test_keywords_examples(capsys):
    assert main(["keywords", str(EXAMPLES), "-k", "3"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert all(len(r["keywords"]) == 3 for r in rows)


def test_keywords_with_saved_vectorizer(tmp_path, capsys):
    from govtext import Vectorizer, clean_article

    docs = [clean_article(p.read_text(encoding="utf-8")).text for p in sorted(EXAMPLES.glob("*.txt"))]
    Vectorizer().fit(docs).save(tmp_path / "vec")
    assert main(["keywords", str(EXAMPLES), "--vectorizer", str(tmp_path / "vec"), "-k", "2"]) == 0
    assert len(_rows(capsys.readouterr().out)) == len(docs)


def test_every_record_gets_a_row_even_bad_ones(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "ok", "text": "社区召开居民议事会"}\n{broken\n{"id": "x"}\n', encoding="utf-8")
    assert main(["tokenize", str(path), "--no-clean"]) == 1  # some rows are error rows
    captured = capsys.readouterr()
    rows = _rows(captured.out)
    assert [r["id"] for r in rows] == ["ok", f"{path}:2", "x"]
    assert rows[0]["tokens"] == ["社区", "召开", "居民议事会"]
    assert "malformed JSON on line 2" in rows[1]["error"] and "no 'text' field" in rows[2]["error"]
    assert "2 record(s) had errors" in captured.err


def test_missing_input_is_fatal_with_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "govtext", "clean", str(tmp_path / "nope.txt")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("govtext: error: input not found")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_console_script_version():
    proc = subprocess.run([sys.executable, "-m", "govtext", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.startswith("govtext ")


def test_classify_examples_with_explain(capsys):
    assert main(["classify", str(EXAMPLES), "--explain"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert len(rows) == 3
    assert set(rows[0]) >= {"id", "p_party_building", "p_civility", "p_co_governance", "labels", "evidence"}
    assert "civility" in rows[1]["labels"]
    assert rows[1]["evidence"]["civility"]["terms"]


def test_classify_error_rows_keep_order(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a", "text": "新时代文明实践站开展志愿服务", "title": "T"}\n{oops\n'
                    '{"id": "c", "text": ""}\n', encoding="utf-8")
    assert main(["classify", str(path), "-q"]) == 1  # complete, with error rows
    rows = _rows(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["a", f"{path}:2", "c"]
    assert rows[0]["title"] == "T" and "error" in rows[1]
    assert rows[2] == {"id": "c", "error": "EmptyTextError: empty text"}  # an error, not a prediction


def test_evaluate_cli(tmp_path, capsys):
    path = tmp_path / "coded.jsonl"
    lines = [
        {"text": "新时代文明实践站组织志愿者开展移风易俗宣传", "labels": ["civility"]},
        {"text": "社区居民议事会协商加装电梯,业委会和物业共同参与", "labels": ["co_governance"]},
        {"text": "今年一季度全国外贸进出口同比增长", "party_building": 0, "civility": 0, "co_governance": 0},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    assert main(["evaluate", "--labels", str(path), "--n-bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert "macro F1" in out and "co_governance" in out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "labels": ["党建"]}\n', encoding="utf-8")
    assert main(["evaluate", "--labels", str(bad)]) == 2


def test_classify_bad_model_is_fatal(tmp_path, capsys):
    assert main(["classify", str(EXAMPLES), "--model", str(tmp_path)]) == 2
    assert "govtext.json is missing" in capsys.readouterr().err


def test_index_and_similar(tmp_path, capsys):
    out = tmp_path / "idx"
    assert main(["index", str(EXAMPLES), "-o", str(out), "-q"]) == 0
    assert main(["similar", "--index", str(out), "楼组议事会协商加装电梯", "-k", "2"]) == 0
    table = capsys.readouterr().out
    assert "01_louzu_yishi.txt" in table.splitlines()[1] and "shared:" in table
    assert main(["similar", "--index", str(out), "--file", str(EXAMPLES / "02_wenming_shijian.txt"),
                 "--json", "-k", "1", "--since", "2023-01-01"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["id"] == "02_wenming_shijian.txt" and row["metadata"]["date"] >= "2023-01-01"
    assert main(["similar", "--index", str(out)]) == 2  # neither text nor --file
    assert main(["similar", "--index", str(out), "the quick brown fox"]) == 0
    assert "no similar documents" in capsys.readouterr().out


def test_each_command_declares_its_own_arguments_and_every_option_says_what_it_does():
    import argparse
    import ast
    import inspect

    from govtext.apps import cli

    parser = cli._parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert list(sub.choices) == list(cli._COMMANDS)
    for name, command in sub.choices.items():
        summary, declare, run = cli._COMMANDS[name]
        assert command.get_default("func") is run and summary
        undocumented = [a.option_strings or [a.dest] for a in command._actions
                        if not isinstance(a, argparse._HelpAction) and not a.help]
        assert not undocumented, f"govtext {name}: options without help: {undocumented}"
        assert len(inspect.getsource(declare).splitlines()) <= 25, f"{declare.__name__} is one small function"
    # the parser itself only registers: no argument of a command is declared in it
    body = ast.parse(inspect.getsource(cli._parser))
    declared = [n for n in ast.walk(body) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "add_argument"]
    assert len(declared) == 1  # --version
    # python -m govtext is the same command line
    out = subprocess.run([sys.executable, "-m", "govtext", "similar", "--help"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and "--one-per-story" in out.stdout and "how many documents" in out.stdout
