from __future__ import annotations

import io as _io

import pytest

from govtext import DecodingError, iter_records, read_text
from govtext.io import decode_bytes

ARTICLE = "万融社区以文明楼道建设为突破口,积极探索党建+楼道居民自治新模式,让最熟悉的陌生人变成了邻里一家亲。"
TRADITIONAL = "萬融社區以文明樓道建設為突破口,積極探索黨建+樓道居民自治新模式,讓最熟悉的陌生人變成了鄰里一家親。"


@pytest.mark.parametrize(
    "text, encoding",
    [
        (ARTICLE, "utf-8"),
        (ARTICLE, "utf-8-sig"),
        (ARTICLE, "gb18030"),
        (ARTICLE, "gbk"),
        (TRADITIONAL, "big5"),
        (TRADITIONAL, "gb18030"),
        (ARTICLE, "utf-16"),
        (ARTICLE[:8], "gb18030"),  # a short snippet
        (TRADITIONAL[:8], "big5"),
    ],
)
def test_read_text_detects_encoding(tmp_path, text, encoding):
    path = tmp_path / "a.txt"
    path.write_bytes(text.encode(encoding))
    assert read_text(path) == text


def test_real_seeds_survive_gb18030_and_big5_round_trips(tmp_path, seeds):
    for name, text in seeds.items():
        for enc in ("gb18030", "big5hkscs"):
            try:
                data = text.encode(enc)
            except UnicodeEncodeError:
                continue  # e.g. simplified characters have no Big5 form
            path = tmp_path / f"{name}.{enc}.txt"
            path.write_bytes(data)
            assert read_text(path) == text, (name, enc)


def test_undecodable_file_error_names_the_file(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes(b"\x80\xff\xfe\x81\x00\xff" * 10)
    with pytest.raises(DecodingError, match="broken.txt"):
        read_text(path)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_text("/no/such/file.txt")


def test_decode_bytes_reports_encoding():
    assert decode_bytes(ARTICLE.encode("gb18030")) == (ARTICLE, "gb18030")
    with pytest.raises(TypeError):
        decode_bytes("text")  # type: ignore[arg-type]


def test_iter_records_jsonl_errors_are_rows(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a", "text": "社区议事会", "title": "t"}\n'
        "{not json}\n"
        '{"id": "c", "body": "no text field"}\n'
        "\n"
        '{"id": 4, "text": 12}\n'
        '["a list"]\n',
        encoding="utf-8",
    )
    recs = list(iter_records([path]))
    assert [r.id for r in recs] == ["a", f"{path}:2", "c", "4", f"{path}:6"]
    assert recs[0].text == "社区议事会" and recs[0].meta == {"title": "t"} and recs[0].error is None
    assert "malformed JSON on line 2" in recs[1].error
    assert "no 'text' field" in recs[2].error
    assert "'text' is int" in recs[3].error
    assert "not a JSON object" in recs[4].error


def test_iter_records_folder_and_undecodable_file(tmp_path):
    (tmp_path / "b.txt").write_bytes(ARTICLE.encode("gb18030"))
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "c.txt").write_bytes(b"\x80\xff" * 8)
    recs = list(iter_records([tmp_path]))
    assert [r.id for r in recs] == ["a.txt", "b.txt", "c.txt"]
    assert recs[0].text == recs[1].text == ARTICLE
    assert recs[2].text is None and "c.txt" in recs[2].error


def test_iter_records_stdin_and_errors(tmp_path):
    recs = list(iter_records(["-"], stdin=_io.StringIO('{"id": 1, "text": "x"}\n')))
    assert recs[0].id == "1" and recs[0].text == "x"
    with pytest.raises(FileNotFoundError, match="input not found"):
        list(iter_records([tmp_path / "missing.jsonl"]))
    with pytest.raises(TypeError, match="list of paths"):
        list(iter_records(str(tmp_path)))  # type: ignore[arg-type]
