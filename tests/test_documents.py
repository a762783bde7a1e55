"""Office documents as input: .docx (python-docx) and .pdf (pypdf), optional extras with a clear error."""

from __future__ import annotations

import json
import sys

import pytest

from govtext.apps.cli import main
from govtext.text.io import iter_records


def chinese_pdf(lines, title=None):
    """A one-page PDF whose text layer holds ``lines`` (Chinese allowed): a Type0 font with Identity-H
    codes and a ToUnicode map, no glyphs needed for text extraction."""
    chars = sorted({ch for line in lines for ch in line})
    code = {ch: i + 1 for i, ch in enumerate(chars)}
    cmap_body = "\n".join(f"<{code[ch]:04X}> <{ord(ch):04X}>" for ch in chars)
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
            "/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
            f"{len(chars)} beginbfchar\n{cmap_body}\nendbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end")
    ops = ["BT /F1 12 Tf 50 750 Td 16 TL"]
    for line in lines:
        ops.append("<" + "".join(f"{code[ch]:04X}" for ch in line) + "> Tj T*")
    ops.append("ET")
    content = "\n".join(ops)
    objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode())} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H /DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        f"<< /Length {len(cmap.encode())} >>\nstream\n{cmap}\nendstream",
    ]
    info = None
    if title:
        hexed = "FEFF" + "".join(f"{ord(c):04X}" for c in title)
        objs.append(f"<< /Title <{hexed}> >>")
        info = len(objs)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objs) + 1} /Root 1 0 R" + (f" /Info {info} 0 R" if info else "") + " >>"
    out += f"trailer\n{trailer}\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


BODY = ["东湖社区召开居民议事会", "居民代表就老旧小区加装电梯协商讨论，形成三条共识，由楼栋长牵头收集意见。"]


def _docx(path):
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    doc.core_properties.title = "居民议事会纪要"
    for line in BODY:
        doc.add_paragraph(line)
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "参会人数", "32人"
    doc.save(str(path))
    return path


def test_docx_and_pdf_files_and_folders_are_read(tmp_path, capsys):
    pytest.importorskip("pypdf")
    folder = tmp_path / "docs"
    folder.mkdir()
    _docx(folder / "a.docx")
    (folder / "b.pdf").write_bytes(chinese_pdf(BODY, title="议事会纪要"))
    (folder / "scan.pdf").write_bytes(chinese_pdf([]))
    a, b, scan = iter_records([folder])
    assert a.metadata["title"] == "居民议事会纪要" and a.text.split("\n")[:2] == BODY and "参会人数 32人" in a.text
    assert b.metadata["title"] == "议事会纪要" and b.text == "\n".join(BODY)
    assert scan.text is None and "no text layer" in scan.error
    assert main(["classify", "-q", str(folder)]) == 1  # the scan is an error row
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == ["a.docx", "b.pdf", "scan.pdf"]
    assert "co_governance" in rows[0]["labels"] and "co_governance" in rows[1]["labels"]
    assert "error" in rows[2]


def test_missing_readers_name_the_extra(tmp_path, monkeypatch):
    from govtext.text.documents import read_docx, read_pdf

    (tmp_path / "x.pdf").write_bytes(chinese_pdf(BODY))
    monkeypatch.setitem(sys.modules, "pypdf", None)
    monkeypatch.setitem(sys.modules, "docx", None)
    with pytest.raises(ImportError, match=r"govtext\[pdf\]"):
        read_pdf(tmp_path / "x.pdf")
    with pytest.raises(ImportError, match=r"govtext\[docx\]"):
        read_docx(tmp_path / "x.docx")
