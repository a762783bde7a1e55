from __future__ import annotations

import re

import io as _io

import pytest

from govtext import DecodingError, iter_records, read_text
from govtext.text.io import decode_bytes

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
    assert recs[0].text == "社区议事会" and recs[0].metadata == {"title": "t"} and recs[0].error is None
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
        iter_records([tmp_path / "missing.jsonl"])
    with pytest.raises(TypeError, match="list of paths"):
        iter_records(str(tmp_path))  # type: ignore[arg-type]


def test_iter_records_jsonl_gz_and_bytes_that_are_not_utf8(tmp_path):
    import gzip

    path = tmp_path / "in.jsonl.gz"
    good = '{"id": "a", "text": "居民议事会"}\n'.encode()
    bad = '{"id": "b", "text": "居民议事会"}\n'.encode("gb18030")
    with gzip.open(path, "wb") as fh:
        fh.write(good + bad + good)
    recs = list(iter_records([path]))
    assert [r.text for r in recs] == ["居民议事会", None, "居民议事会"]
    assert "line 2" in recs[1].error and "not UTF-8" in recs[1].error


def test_iter_records_csv_tsv_with_bad_rows(tmp_path):
    long_text = "社区治理" * 50_000  # beyond the csv module's default 128 KB field limit
    csv_path = tmp_path / "in.csv"
    csv_path.write_text(
        "id,title,text\n"
        'a,标题,"第一段,含逗号\n第二段"\n'
        "b,only two\n"
        f"c,长文,{long_text}\n"
        ",无编号,文本\n",
        encoding="utf-8-sig",
    )
    before = __import__("csv").field_size_limit()
    recs = list(iter_records([csv_path]))
    assert __import__("csv").field_size_limit() == before  # process-wide setting left as it was
    assert [r.id for r in recs] == ["a", f"{csv_path}:4", "c", f"{csv_path}:6"]
    assert recs[0].text == "第一段,含逗号\n第二段" and recs[0].metadata == {"title": "标题"}
    assert "line 4" in recs[1].error and "2 fields, the header has 3" in recs[1].error
    assert recs[2].text == long_text
    tsv_path = tmp_path / "in.tsv"
    tsv_path.write_bytes("id\ttext\nx\t文明楼道\n".encode("gb18030"))
    assert [(r.id, r.text) for r in iter_records([tsv_path])] == [("x", "文明楼道")]


def test_table_without_text_column_among_good_inputs_is_one_error_row(tmp_path):
    ok = tmp_path / "ok.jsonl"
    ok.write_text('{"text": "x"}\n', encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\n1,x\n", encoding="utf-8")
    records = list(iter_records([ok, bad, ok]))
    assert [r.text for r in records] == ["x", None, "x"]
    assert records[1].id == str(bad) and re.search(r"no column 'text'.*\['id', 'body'\]", records[1].error)


def test_no_readable_input_is_fatal_before_any_record(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body\n1,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"no column 'text'.*and 1 more input"):
        iter_records([bad, bad])
    with pytest.raises(FileNotFoundError, match="input not found"):
        iter_records([tmp_path / "missing.jsonl"])


def test_iter_records_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"doc": ["d1", "d2"], "body": ["党建引领", None], "date": ["2024-01-01", "2024-01-02"]}), path)
    recs = list(iter_records([path], text_field="body", id_field="doc"))
    assert recs[0] == recs[0].__class__("d1", "党建引领", {"date": "2024-01-01"})
    assert recs[1].id == "d2" and "row 2" in recs[1].error and "no 'body' field" in recs[1].error


def test_iter_records_skip_does_not_read_skipped_files(tmp_path, monkeypatch):
    for i in range(5):
        (tmp_path / f"{i}.txt").write_text(f"文本{i}", encoding="utf-8")
    import govtext.text.io as gio

    calls = []
    real = gio.read_text
    monkeypatch.setattr(gio, "read_text", lambda p: calls.append(p) or real(p))
    recs = list(iter_records([tmp_path], skip=3))
    assert [r.id for r in recs] == ["3.txt", "4.txt"] and len(calls) == 2
