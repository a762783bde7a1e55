"""Reading office documents: Word ``.docx`` (python-docx, ``govtext[docx]``) and ``.pdf``
(pypdf, ``govtext[pdf]``), as policy documents and reports often arrive. Each gives its text,
one paragraph a line, and the title its properties hold."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

__all__ = ["DOCUMENT_SUFFIXES", "Document", "read_docx", "read_pdf"]

DOCUMENT_SUFFIXES = (".docx", ".pdf")


@dataclass(frozen=True)
class Document:
    """The text of an office document and the title (and author) its properties hold."""

    title: str | None
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def read_docx(path: str | os.PathLike[str]) -> Document:
    """The paragraphs (and table cells, row by row) of a Word ``.docx`` file. Needs ``govtext[docx]``."""
    try:
        import docx
    except ImportError:
        raise ImportError(f"reading {path} needs python-docx: pip install govtext[docx]") from None
    try:
        doc = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - python-docx raises several kinds for a damaged file
        raise InputError(f"cannot read {path} as a .docx file: {exc}") from None
    lines = [p.text.strip() for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            lines.append(" ".join(dict.fromkeys(c for c in cells if c)))  # merged cells repeat their text
    text = "\n".join(line for line in lines if line)
    props = doc.core_properties
    meta = {k: v for k, v in (("author", props.author),) if v}
    return Document(title=(props.title or "").strip() or None, text=text, metadata=meta)


def read_pdf(path: str | os.PathLike[str]) -> Document:
    """The text layer of a ``.pdf`` file, page by page. Needs ``govtext[pdf]``. A scanned PDF has no
    text layer: that is an error naming the file (OCR it first), not an empty record."""
    try:
        import pypdf
    except ImportError:
        raise ImportError(f"reading {path} needs pypdf: pip install govtext[pdf]") from None
    try:
        reader = pypdf.PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except Exception as exc:  # noqa: BLE001 - pypdf raises several kinds for a damaged file
        raise InputError(f"cannot read {path} as a PDF: {exc}") from None
    text = "\n".join(line.strip() for page in pages for line in page.split("\n") if line.strip())
    if not text:
        raise InputError(f"{path} has no text layer (a scanned PDF?): run OCR on it first")
    title = info.get("/Title") if hasattr(info, "get") else None
    author = info.get("/Author") if hasattr(info, "get") else None
    return Document(title=str(title).strip() or None if title else None, text=text,
                    metadata={"author": str(author)} if author else {})
