"""Reading scraped files: encoding detection for UTF-8, GB18030/GBK and Big5."""

from __future__ import annotations

import codecs
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = ["DecodingError", "Record", "decode_bytes", "iter_records", "iter_text_files", "read_text"]

# The characters that make up roughly half of any modern Chinese text, in simplified and
# traditional forms. A wrong decoding of GB or Big5 bytes yields mostly rare characters, so the
# share of these tells the right codec even on a short snippet.
_COMMON_SIMPLIFIED = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其"
    "里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没"
    "公从现员因开实动工民长政新社区党建设发展群众服务治理文明居活务组织会议资源部门管理项目问题共基层"
    "村镇街道市县省委书记全体重点推进加强提升开展落实完善机制体系制度建立积极通过进一步志愿者楼栋环境"
    "安全保障经济城乡农业企业产业教育卫生健康文化生态改革创新合作交流相关关系规划标准质量情况工作时间"
    "领导干部同志代表人民国家中央地方全国世界历史传统精神思想理论学习研究宣传内容形式方式特色品牌"
)
_DECODE_CANDIDATES = ("gb18030", "big5hkscs")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DecodingError(ValueError):
    """A file's bytes are not UTF-8, GB18030/GBK or Big5 text."""

    def __init__(self, source: str, detail: str) -> None:
        super().__init__(f"cannot decode {source}: {detail}")
        self.source = source


_common_chars: frozenset[str] | None = None


def _common() -> frozenset[str]:
    global _common_chars
    if _common_chars is None:
        from .clean import _Converter

        traditional = _Converter("s2t")(_COMMON_SIMPLIFIED)
        _common_chars = frozenset(_COMMON_SIMPLIFIED + traditional)
    return _common_chars


def _score(text: str) -> float:
    common = _common()
    han = [ch for ch in text if "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"]
    if not han:
        # No Han characters either way: prefer the decoding with fewer odd symbols.
        return -sum(1 for ch in text if not (ch.isascii() or ch.isspace()))
    return sum(ch in common for ch in han) / len(han)


def decode_bytes(data: bytes, source: str = "<bytes>") -> tuple[str, str]:
    """Decode ``data``; return ``(text, encoding)``.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised first; otherwise GB18030
    (a superset of GBK and GB2312) and Big5-HKSCS are tried strictly and the decoding whose Han
    characters are mostly common ones wins. Raises :class:`DecodingError` naming ``source``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode_bytes() expects bytes, got {type(data).__name__}")
    data = bytes(data)
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise DecodingError(source, f"starts with a {enc} byte-order mark but {exc.reason} at byte {exc.start}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    decoded: list[tuple[float, str, str]] = []
    for enc in _DECODE_CANDIDATES:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        decoded.append((_score(text), text, enc))
    if not decoded:
        raise DecodingError(
            source,
            f"not UTF-8 (invalid byte 0x{data[utf8_error.start]:02x} at offset {utf8_error.start}), "
            "nor GB18030/GBK nor Big5",
        )
    decoded.sort(key=lambda item: item[0], reverse=True)
    _, text, enc = decoded[0]
    return text, enc


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a text file in UTF-8 (with or without BOM), GB18030/GBK or Big5 (detected).

    Raises :class:`FileNotFoundError` for a missing file and :class:`DecodingError` (naming the
    file) when the bytes are none of those encodings.
    """
    p = Path(path)
    data = p.read_bytes()
    text, _ = decode_bytes(data, source=str(p))
    return text


def iter_text_files(folder: str | os.PathLike[str], pattern: str = "*.txt") -> Iterator[Path]:
    """The files below ``folder`` matching ``pattern``, sorted by path, for stable output order."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    yield from sorted(p for p in root.rglob(pattern) if p.is_file())


# ---------------------------------------------------------------------------
# Records: one document each, from text files, folders, JSON Lines or stdin
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One input document, or the reason it could not be read (``error`` is then set, ``text`` None)."""

    id: str
    text: str | None
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _jsonl_records(lines: Iterable[str], source: str, text_field: str, id_field: str) -> Iterator[Record]:
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        default_id = f"{source}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Record(default_id, None, error=f"malformed JSON on line {lineno} of {source}: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            yield Record(default_id, None, error=f"line {lineno} of {source} is not a JSON object")
            continue
        rid = obj.get(id_field)
        rid = default_id if rid is None else str(rid)
        text = obj.get(text_field)
        meta = {k: v for k, v in obj.items() if k not in (text_field, id_field)}
        if text is None:
            yield Record(rid, None, meta, error=f"line {lineno} of {source} has no {text_field!r} field")
        elif not isinstance(text, str):
            yield Record(rid, None, meta, error=f"line {lineno} of {source}: {text_field!r} is {type(text).__name__}, not text")
        else:
            yield Record(rid, text, meta)


def _text_file_record(path: Path, rid: str) -> Record:
    try:
        return Record(rid, read_text(path))
    except (DecodingError, OSError) as exc:
        return Record(rid, None, error=str(exc))


def iter_records(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    text_field: str = "text",
    id_field: str = "id",
    stdin: IO[str] | None = None,
) -> Iterator[Record]:
    """Yield one :class:`Record` per document in ``inputs``, in order.

    An input is a ``.txt`` file (one document; id = file path), a folder (its ``*.txt`` files,
    sorted), a ``.jsonl``/``.json`` file (one JSON object per line) or ``-`` (JSON Lines on stdin).
    Unreadable records become records with ``error`` set; a missing input path raises
    :class:`FileNotFoundError` before anything is read.
    """
    if isinstance(inputs, (str, os.PathLike)):
        raise TypeError("inputs must be a list of paths, got a single path; wrap it in a list")
    for item in inputs:
        if str(item) != "-" and not Path(item).exists():
            raise FileNotFoundError(f"input not found: {item}")
    for item in inputs:
        if str(item) == "-":
            yield from _jsonl_records(stdin if stdin is not None else sys.stdin, "<stdin>", text_field, id_field)
            continue
        path = Path(item)
        if path.is_dir():
            for file in iter_text_files(path):
                yield _text_file_record(file, str(file.relative_to(path)))
        elif path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
            with open(path, encoding="utf-8-sig", errors="replace") as fh:
                yield from _jsonl_records(fh, str(path), text_field, id_field)
        else:
            yield _text_file_record(path, str(path))
