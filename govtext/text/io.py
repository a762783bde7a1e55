"""Reading inputs: encoding detection for UTF-8, GB18030/GBK and Big5 files, and records from
text files, folders, JSON Lines, CSV/TSV, Parquet and stdin."""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import json
import re
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .._common import HAN, HAN_RE
from ..errors import InputError, ParameterError
from .documents import DOCUMENT_SUFFIXES
from .html import HTML_SUFFIXES

__all__ = ["DecodingError", "Fields", "InputReport", "Record", "decode_bytes", "iter_lazy_records", "iter_records", "iter_text_files", "page_record", "read_text", "record_text", "titled_text"]

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
# A Chinese decoding of real text has over half its Han characters among the common ones (seeds:
# 0.50-0.78 down to 12-character snippets); mojibake and other languages have under a third.
_MIN_COMMON_SHARE = 0.35
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class DecodingError(InputError):
    """A file's bytes are not UTF-8, GB18030/GBK or Big5 text."""

    def __init__(self, source: str, detail: str) -> None:
        super().__init__(f"cannot decode {source}: {detail}")
        self.source = source


_common_chars: frozenset[str] | None = None


def _common() -> frozenset[str]:
    global _common_chars
    if _common_chars is None:
        from .clean import to_traditional

        traditional = to_traditional(_COMMON_SIMPLIFIED)
        _common_chars = frozenset(_COMMON_SIMPLIFIED + traditional)
    return _common_chars


_HAN_OR_PRIVATE_RE = re.compile(f"[{HAN}\ue000-\uf8ff]")


def _score(text: str) -> float:
    common = _common()
    # Private-use characters count as Han that is never common: GB18030 maps stray bytes there.
    han = _HAN_OR_PRIVATE_RE.findall(text)
    if not han:
        # No Han characters either way: prefer the decoding with fewer odd symbols.
        return -sum(1 for ch in text if not (ch.isascii() or ch.isspace()))
    return sum(ch in common for ch in han) / len(han)


# Japanese and Korean bytes decode as GBK or Big5 too, into plausible-looking Han characters. Read
# as Shift-JIS they show kana; read as EUC-KR, common Hangul syllables. A Chinese text shows
# neither (measured on random snippets of the shipped examples and seeds, see tests); below 5
# characters that can happen by chance, so shorter snippets are not judged.
_KANA_RE = re.compile("[\u3041-\u309f\u30a0-\u30ff]")
_COMMON_HANGUL = frozenset(
    "이다는의에하고을가를지기서한로사으리자도어대정아여나인일국수시니구게해부들있전상보주제적라성장마과와것우오"
    "만없중문동내년원경면소요생세화안비실위공야조그분회운미교신발물연식말되계명관거개업방습할했며까음저러합터민선"
    "통진행더또영점유모현결치데두무심본체용산금월각차단입표반출활법학청작참질역강특별울")
_MIN_JUDGED = 5
_ISO2022_ESCAPES = (b"\x1b$", b"\x1b(", b"\x1b)", b"\x1b*", b"\x1b+")


def _foreign(data: bytes, chinese_score: float) -> str | None:
    """"Japanese" or "Korean" when ``data`` reads better as Shift-JIS or EUC-KR than as Chinese."""
    for language, enc, share in (("Japanese (Shift-JIS)", "cp932", _kana_share), ("Korean (EUC-KR)", "cp949", _hangul_share)):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        letters = [ch for ch in text if not ch.isascii() and ch.isalpha()]
        if len(letters) < _MIN_JUDGED:
            continue
        found = share(letters)
        if found >= (0.15 if enc == "cp932" else 0.5) and found > chinese_score:
            return language
    return None


def _kana_share(chars: list[str]) -> float:
    if any("\uff61" <= ch <= "\uff9f" for ch in chars):
        return 0.0  # half-width katakana: GBK lead bytes read as Shift-JIS, not Japanese text
    return sum(1 for ch in chars if _KANA_RE.match(ch)) / len(chars)


def _hangul_share(chars: list[str]) -> float:
    if any(HAN_RE.match(ch) for ch in chars):
        return 0.0  # Korean is written in Hangul alone today; Chinese read as EUC-KR gives Hanja among it
    return sum(1 for ch in chars if ch in _COMMON_HANGUL) / len(chars)


def _refuse_iso2022(data: bytes, source: str) -> None:
    if b"\x1b" in data and any(esc in data for esc in _ISO2022_ESCAPES):
        raise DecodingError(source, "holds ISO-2022 escape sequences (ISO-2022-JP, -KR or -CN, 7-bit Japanese, "
                                    "Korean or Chinese); govtext reads UTF-8, GB18030/GBK and Big5: convert it first")


def decode_bytes(data: bytes, source: str = "<bytes>") -> tuple[str, str]:
    """Decode ``data``; return ``(text, encoding)``.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are recognised first; otherwise GB18030
    (a superset of GBK and GB2312) and Big5-HKSCS are tried strictly and the decoding whose Han
    characters are mostly common ones wins. Raises :class:`DecodingError` naming ``source``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ParameterError(f"decode_bytes() expects bytes, got {type(data).__name__}")
    data = bytes(data)
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise DecodingError(source, f"starts with a {enc} byte-order mark but {exc.reason} at byte {exc.start}") from None
    _refuse_iso2022(data, source)
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
    score, text, enc = decoded[0]
    han = len(HAN_RE.findall(text))
    if han >= 8 and score < _MIN_COMMON_SHARE:
        # Decodes, but reads as mojibake in every candidate: Japanese Shift-JIS, Korean EUC-KR, or
        # UTF-8 and GBK mixed in one file. Refuse rather than pass garbage on.
        tried = ", ".join(f"{e} {sc:.0%}" for sc, _, e in decoded)
        raise DecodingError(source, f"not UTF-8, and no Chinese decoding reads as Chinese (share of common "
                                    f"characters: {tried}; real Chinese text has over 40%)")
    language = _foreign(data, score)
    if language is not None:
        raise DecodingError(source, f"not UTF-8, and it reads as {language}, not Chinese; govtext reads UTF-8, "
                                    "GB18030/GBK and Big5 Chinese text")
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
# Records: one document each, from text files, folders, JSON Lines, CSV/TSV, Parquet or stdin
# ---------------------------------------------------------------------------

_JSONL_SUFFIXES = (".jsonl", ".json", ".ndjson")
_CSV_SUFFIXES = (".csv",)
_TSV_SUFFIXES = (".tsv", ".tab")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_TABLE_SUFFIXES = _CSV_SUFFIXES + _TSV_SUFFIXES + _PARQUET_SUFFIXES
_CSV_FIELD_LIMIT = 2**31 - 1
_UNDECODED_RE = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of undecodable bytes


@dataclass(frozen=True)
class Record:
    """One input document, or the reason it could not be read (``error`` is then set, ``text`` None)."""

    id: str
    text: str | None
    metadata: dict[str, Any] = field(default_factory=dict)  # the record's other fields (title, date, …)
    error: str | None = None

    @property
    def meta(self) -> dict[str, Any]:
        """Deprecated spelling of :attr:`metadata` (the name :class:`~govtext.Match` uses too)."""
        import warnings

        warnings.warn("Record.meta is deprecated; use Record.metadata", DeprecationWarning, stacklevel=2)
        return self.metadata


# Each reader yields thunks (zero-argument callables making a Record), so that records skipped when
# resuming a run are counted without being decoded or parsed.
_Thunk = Callable[[], Record]


# Column names recognised without being named: English ones and those of Chinese crawlers' and
# news databases' exports (标题 / 正文 / 日期 …). A name given by the user replaces the list.
TEXT_NAMES = ("text", "正文", "内容")
ID_NAMES = ("id", "编号")
TITLE_NAMES = ("title", "标题")
DATE_NAMES = ("date", "日期", "发布时间")
SOURCE_NAMES = ("source", "来源")


@dataclass(frozen=True)
class Fields:
    """Which field or column of a record holds its text, id, title, date and source. Each is a
    tuple of names tried in order; :meth:`of` makes one from the names a user gave (``None``: the
    names recognised by default, Chinese ones included)."""

    text: tuple[str, ...] = TEXT_NAMES
    id: tuple[str, ...] = ID_NAMES
    title: tuple[str, ...] = TITLE_NAMES
    date: tuple[str, ...] = DATE_NAMES
    source: tuple[str, ...] = SOURCE_NAMES

    @classmethod
    def of(cls, text_field: str | None = None, id_field: str | None = None, title_field: str | None = None,
           date_field: str | None = None) -> Fields:
        def one(value: str | None, default: tuple[str, ...], name: str) -> tuple[str, ...]:
            if value is None:
                return default
            if not isinstance(value, str) or not value:
                raise ParameterError(f"{name} must be a non-empty field name, got {value!r}")
            return (value,)

        return cls(one(text_field, TEXT_NAMES, "text_field"), one(id_field, ID_NAMES, "id_field"),
                   one(title_field, TITLE_NAMES, "title_field"), one(date_field, DATE_NAMES, "date_field"))

    def find(self, names: tuple[str, ...], keys: Iterable[str]) -> str | None:
        """The first of ``names`` among ``keys``, or None."""
        present = set(keys)
        return next((n for n in names if n in present), None)

    def describe_text(self, kind: str = "field", also: tuple[str, ...] = ()) -> str:
        """``'text' field (nor '正文' or '内容')``: what was looked for, for error messages."""
        rest = [repr(n) for n in (*self.text[1:], *also)]
        others = f" (nor {', '.join(rest[:-1])} or {rest[-1]})" if len(rest) > 1 else f" (nor {rest[0]})" if rest else ""
        return f"column {self.text[0]!r}{others}" if kind == "column" else f"{self.text[0]!r} field{others}"


_DEFAULT_FIELDS = Fields()


def _as_fields(fields: Fields | str | None, id_field: str | None = None) -> Fields:
    """``fields`` itself, or — the older spelling — a text field name (with ``id_field``)."""
    if isinstance(fields, Fields):
        return fields
    return Fields.of(fields, id_field)


def record_from_fields(obj: dict[str, Any], where: str, default_id: str, fields: Fields | str | None = None,
                       id_field: str | None = None) -> Record:
    """A :class:`Record` from one JSON object or table row. The title, date and source found under
    any of their names go into ``metadata`` as ``title``, ``date`` and ``source``; other fields are
    kept under their own names."""
    f = _as_fields(fields, id_field)
    text_key = f.find(f.text, obj)
    id_key = f.find(f.id, obj)
    rid = obj.get(id_key) if id_key is not None else None
    rid = default_id if rid is None or rid == "" else str(rid)
    meta = {k: v for k, v in obj.items() if k not in (text_key, id_key)}
    for std, names in (("title", f.title), ("date", f.date), ("source", f.source)):
        key = f.find(names, meta)
        if key == std:
            continue
        if std in meta:  # a field of that name that is not the one chosen (--title-field headline)
            meta[f"original_{std}"] = meta.pop(std)
        if key is not None:
            value = meta.pop(key)
            if value not in (None, ""):
                meta[std] = value
    if text_key is None:
        html = meta.get("html")
        if isinstance(html, str) and html.strip():
            # A scraped page kept whole: its article becomes the text, its title and date the metadata.
            del meta["html"]
            return page_record(html, rid, where, meta)
        return Record(rid, None, meta, error=f"{where} has no {f.describe_text(also=('html',))}")
    text = obj[text_key]
    if text is None:
        return Record(rid, None, meta, error=f"{where} has no {text_key!r} field (it is null)")
    if not isinstance(text, str):
        return Record(rid, None, meta, error=f"{where}: {text_key!r} is {type(text).__name__}, not text")
    return Record(rid, text, meta)


def titled_text(text: str, title: Any) -> str:
    """``text`` with the record's ``title`` as its first line — the form the theme model was
    trained on (title + body) — unless there is no title or the text already begins with it.

    >>> titled_text("居民代表协商加装电梯。", "某社区召开居民议事会")
    '某社区召开居民议事会\n居民代表协商加装电梯。'
    >>> titled_text("某社区召开居民议事会\n居民代表协商。", "某社区召开居民议事会")
    '某社区召开居民议事会\n居民代表协商。'
    """
    if not isinstance(title, str) or not title.strip():
        return text
    head = title.strip()
    if text.lstrip().startswith(head):
        return text
    return f"{head}\n{text}"


def record_text(rec: Record) -> str | None:
    """The text of ``rec`` to analyse: its text with its title (``metadata['title']``) in front."""
    if rec.text is None:
        return None
    return titled_text(rec.text, rec.metadata.get("title"))


def _json_line_record(raw: bytes | str, lineno: int, source: str, fields: Fields) -> Record:
    default_id = f"{source}:{lineno}"
    if isinstance(raw, bytes):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Record(default_id, None, error=f"line {lineno} of {source} is not UTF-8 "
                                                   f"(invalid byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
    else:
        line = raw
    if lineno == 1:
        line = line.lstrip("\ufeff")
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return Record(default_id, None, error=f"malformed JSON on line {lineno} of {source}: {exc.msg} (column {exc.colno})")
    if not isinstance(obj, dict):
        return Record(default_id, None, error=f"line {lineno} of {source} is not a JSON object")
    return record_from_fields(obj, f"line {lineno} of {source}", default_id, fields)


def _jsonl_thunks(lines: Iterable[bytes | str], source: str, fields: Fields) -> Iterator[_Thunk]:
    for lineno, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        yield functools.partial(_json_line_record, raw, lineno, source, fields)


# How much of a table decides its encoding: the whole file up to this size, else its first part.
_ENCODING_SAMPLE = 8 << 20


def _csv_encoding(path: Path) -> str:
    """The encoding of a table: the candidate (UTF-8, GB18030/GBK, Big5) under which the fewest
    lines of the file (its first 8 MB when larger) fail to decode, among those that read as
    Chinese; UTF-8 on a tie. Lines that still fail become error rows, one each."""
    try:
        st = path.stat()
        key: tuple[Any, ...] | None = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        key = None
    if key is not None and key in _ENCODINGS:
        return _ENCODINGS[key]
    enc = _table_encoding(path)
    if key is not None:
        if len(_ENCODINGS) > 256:
            _ENCODINGS.clear()
        _ENCODINGS[key] = enc
    return enc


_ENCODINGS: dict[tuple[Any, ...], str] = {}  # a table is opened to check it and then to read it


def _table_encoding(path: Path) -> str:
    with _open_binary(path) as fh:
        head = fh.read(_ENCODING_SAMPLE + 1)
    for bom, enc in _BOMS:
        if head.startswith(bom):
            return enc  # utf-16/utf-32 read their own mark
    _refuse_iso2022(head, str(path))
    if len(head) > _ENCODING_SAMPLE:
        # Cut at the last newline so that a character split at the end does not count as a failure.
        cut = head.rfind(b"\n")
        head = head[: cut + 1] if cut > 0 else head[:_ENCODING_SAMPLE]
    failures = {enc: _failing_lines(head, enc) for enc in ("utf-8", *_DECODE_CANDIDATES)}
    best = "utf-8"
    for enc in _DECODE_CANDIDATES:
        if failures[enc] >= failures[best]:
            continue
        # Decodes better, but is it Chinese? UTF-8 text also decodes as GB18030, as mojibake.
        text = head.decode(enc, errors="replace")
        han = len(HAN_RE.findall(text))
        if (han >= 8 and _score(text) < _MIN_COMMON_SHARE) or _foreign(head, _score(text)) is not None:
            continue
        best = enc
    return "utf-8-sig" if best == "utf-8" else best


def _failing_lines(data: bytes, enc: str) -> int:
    """How many lines of ``data`` do not decode as ``enc``."""
    try:
        data.decode(enc)
        return 0
    except UnicodeDecodeError:
        pass
    failed = 0
    for line in data.split(b"\n"):
        try:
            line.decode(enc)
        except UnicodeDecodeError:
            failed += 1
    return failed


def _open_binary(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else open(path, "rb")


def _base_suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    return suffixes[-1] if suffixes else ""


def _csv_thunks(path: Path, delimiter: str, fields: Fields) -> Iterator[_Thunk]:
    source = str(path)
    encoding = _csv_encoding(path)
    # Bytes that do not decode become lone surrogates (surrogateescape), so that one bad line costs
    # that line alone, with its own line number, instead of the block of lines around it.
    shown = "UTF-8" if encoding.startswith("utf-8") else encoding
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding, errors="surrogateescape",
                                                     newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        old_limit = csv.field_size_limit()
        try:
            # Articles can exceed the csv module's 128 KB field limit. The limit is process-wide, so
            # it is raised only while a row is being parsed and restored before control returns.
            csv.field_size_limit(_CSV_FIELD_LIMIT)
            header = next(reader, None)
        finally:
            csv.field_size_limit(old_limit)
        if header is None:
            return
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
        if fields.find(fields.text, header) is None:
            raise InputError(f"{source} has no {fields.describe_text('column')}; its columns are {header} "
                             "(choose one with --text-field)")
        n_cols = len(header)
        id_key = fields.find(fields.id, header)
        id_col = header.index(id_key) if id_key is not None else None
        last_id: str | None = None  # the id of the last good record (what ids look like here)
        while True:
            start_line = reader.line_num + 1
            old_limit = csv.field_size_limit(_CSV_FIELD_LIMIT)
            try:
                row = next(reader, None)
            except UnicodeDecodeError as exc:  # an encoding without surrogateescape support
                yield functools.partial(Record, f"{source}:{start_line}", None, {}, f"{source} is not {encoding} "
                                        f"text from line {start_line} on ({exc.reason}); the rest of the file was not read")
                return
            except csv.Error as exc:
                yield functools.partial(Record, f"{source}:{start_line}", None, {}, f"{source}, line {start_line}: "
                                        f"malformed CSV ({exc}); the rest of the file was not read")
                return
            finally:
                csv.field_size_limit(old_limit)
            if row is None:
                return
            if not row:  # blank line
                continue
            end_line = reader.line_num
            if end_line > start_line and _swallowed_records(row, n_cols, delimiter, id_col, last_id):
                # An unbalanced quote: the lines up to where a later quote closes it were read as one
                # field. Each of those lines gets an error row instead of vanishing into it.
                for line in range(start_line, end_line + 1):
                    yield functools.partial(Record, f"{source}:{line}", None, {}, _UNBALANCED.format(
                        line=line, source=source, start=start_line, end=end_line))
                continue
            if any(_UNDECODED_RE.search(cell) for cell in row):
                yield functools.partial(Record, f"{source}:{start_line}", None, {},
                                        f"line {start_line} of {source} is not {shown} text (bytes that do not decode)")
                continue
            if len(row) != n_cols:
                yield functools.partial(Record, f"{source}:{start_line}", None, {},
                                        f"line {start_line} of {source} has {len(row)} fields, the header has {n_cols}")
                continue
            if id_col is not None:
                last_id = row[id_col]
            yield functools.partial(record_from_fields, dict(zip(header, row)), f"line {start_line} of {source}",
                                    f"{source}:{start_line}", fields)


_UNBALANCED = ("line {line} of {source} is inside a quoted field that opens on line {start} and closes only on "
               "line {end}, and the lines in it read as records: an unbalanced quote (\") on line {start}? "
               "Fix or remove that quote; lines {start}-{end} were not read")


def _id_shape(value: str) -> str:
    """What an id looks like: runs of digits as 0 and of Latin letters as a (r12 and r7 look alike)."""
    return re.sub(r"[A-Za-z]+", "a", re.sub(r"[0-9]+", "0", value.strip()))


def _swallowed_records(row: list[str], n_cols: int, delimiter: str, id_col: int | None, last_id: str | None) -> bool:
    """Whether a record that spans lines holds lines that are records themselves: an unbalanced
    quote swallowed them. A text with paragraphs has line breaks too, so an inner line counts as a
    record only when it splits into exactly as many fields as the header and, where the table has
    an id column, its id looks like the ids before it; at least half of the inner lines must."""
    if n_cols < 2:
        return False
    inner = [part.rstrip("\r") for cell in row if "\n" in cell for part in cell.split("\n")[1:-1] if part.strip()]
    if not inner:
        return False
    records = 0
    for part in inner:
        fields = next(csv.reader([part], delimiter=delimiter), [])
        if len(fields) != n_cols:
            continue
        if id_col is not None and last_id is not None and _id_shape(fields[id_col]) != _id_shape(last_id):
            continue
        records += 1
    return records >= (1 if id_col is not None and last_id is not None else 2) and records * 2 >= len(inner)


def _parquet_thunks(path: Path, fields: Fields) -> Iterator[_Thunk]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError(f"reading {path} needs pyarrow: pip install govtext[parquet]") from None
    source = str(path)
    pf = pq.ParquetFile(path)
    names = pf.schema_arrow.names
    if fields.find(fields.text, names) is None:
        raise InputError(f"{source} has no {fields.describe_text('column')}; its columns are {names} "
                         "(choose one with --text-field)")
    row_no = 0
    for batch in pf.iter_batches(batch_size=1000):
        for obj in batch.to_pylist():
            row_no += 1
            yield functools.partial(record_from_fields, obj, f"row {row_no} of {source}", f"{source}:{row_no}",
                                    fields)


def page_record(page: bytes | str, rid: str, source: str, metadata: dict[str, Any] | None = None,
                content_type: str | None = None) -> Record:
    """A :class:`Record` of the article in a saved web page: its text, with the page's title, date
    and metadata (the record's own ``metadata`` wins). An error record when no article is found."""
    from .html import read_html

    meta = dict(metadata or {})
    try:
        page_ = read_html(page, source=source, content_type=content_type, url=meta.get("url"))
    except (InputError, DecodingError) as exc:
        return Record(rid, None, meta, error=str(exc))
    found = {"title": page_.title, "date": page_.date, **page_.metadata}
    for key, value in found.items():
        if value and key not in meta:
            meta[key] = value
    return Record(rid, page_.text, meta)


def _html_file_record(path: Path, rid: str) -> Record:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Record(rid, None, error=_os_message(exc, path))
    return page_record(data, rid, str(path))


def _document_record(path: Path, rid: str) -> Record:
    """A record of a .docx or .pdf file: its text, with the title its properties hold."""
    from .documents import read_docx, read_pdf

    try:
        doc = (read_pdf if path.suffix.lower() == ".pdf" else read_docx)(path)
    except InputError as exc:
        return Record(rid, None, error=str(exc))
    meta = {"title": doc.title, **doc.metadata} if doc.title else dict(doc.metadata)
    return Record(rid, doc.text, meta)


def _os_message(exc: OSError, path: Any) -> str:
    """An OSError said in words, without Python's ``[Errno 2]`` prefix."""
    reason = exc.strerror or type(exc).__name__
    return f"cannot read {path}: {reason.lower() if reason[:1].isupper() and reason[1:2].islower() else reason}"


def _text_file_record(path: Path, rid: str) -> Record:
    try:
        return Record(rid, read_text(path))
    except DecodingError as exc:
        return Record(rid, None, error=str(exc))
    except OSError as exc:
        return Record(rid, None, error=_os_message(exc, path))


@dataclass
class InputReport:
    """What reading the inputs passed over: files in folders that are not read (only ``*.txt``,
    ``*.html``/``*.htm``, ``*.docx`` and ``*.pdf`` files are), and inputs that could not be read at all (each of those also yields one error record)."""

    skipped_files: list[str] = field(default_factory=list)
    failed_inputs: list[str] = field(default_factory=list)


def _error_record(item: Any, message: str) -> Record:
    return Record(str(item), None, error=message)


def _thunks(item: str | os.PathLike[str], fields: Fields, stdin: IO[Any] | None,
            report: InputReport | None = None) -> Iterator[_Thunk]:
    if str(item) == "-":
        if stdin is None and sys.stdin is None:
            raise InputError("input - reads JSON Lines from stdin, but stdin is closed")
        stream: Any = stdin if stdin is not None else sys.stdin.buffer
        yield from _jsonl_thunks(stream, "<stdin>", fields)
        return
    path = Path(item)
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            if file.suffix.lower() == ".txt":
                yield functools.partial(_text_file_record, file, str(file.relative_to(path)))
            elif file.suffix.lower() in HTML_SUFFIXES:
                yield functools.partial(_html_file_record, file, str(file.relative_to(path)))
            elif file.suffix.lower() in DOCUMENT_SUFFIXES:
                yield functools.partial(_document_record, file, str(file.relative_to(path)))
            elif report is not None:
                report.skipped_files.append(str(file))
        return
    kind = _base_suffix(path)
    if kind in _JSONL_SUFFIXES:
        with _open_binary(path) as fh:
            yield from _jsonl_thunks(fh, str(path), fields)
    elif kind in _CSV_SUFFIXES or kind in _TSV_SUFFIXES:
        yield from _csv_thunks(path, "," if kind in _CSV_SUFFIXES else "\t", fields)
    elif kind in _PARQUET_SUFFIXES:
        yield from _parquet_thunks(path, fields)
    elif kind in HTML_SUFFIXES:
        yield functools.partial(_html_file_record, path, str(path))
    elif kind in DOCUMENT_SUFFIXES:
        yield functools.partial(_document_record, path, str(path))
    else:
        yield functools.partial(_text_file_record, path, str(path))


def iter_records(
    inputs: Sequence[str | os.PathLike[str]],
    *,
    text_field: str | None = None,
    id_field: str | None = None,
    title_field: str | None = None,
    date_field: str | None = None,
    stdin: IO[Any] | None = None,
    skip: int = 0,
) -> Iterator[Record]:
    """Yield one :class:`Record` per document in ``inputs``, in order.

    An input is a ``.txt`` file (one document, encoding detected; id = file path), a saved web page
    (``.html``/``.htm``: the article found by :func:`govtext.text.html.read_html`, charset from the page;
    needs ``govtext[html]``), a ``.docx`` or ``.pdf`` file (``govtext[docx]``, ``govtext[pdf]``),
    a folder (the ``*.txt``, ``*.html``/``*.htm``, ``*.docx`` and ``*.pdf`` files below it,
    sorted; other files are passed over), JSON Lines (a record with an ``html`` field and no text
    field is read as a page)  (``.jsonl``/``.json``/``.ndjson``), ``.csv``/``.tsv``
    (a header row; UTF-8 or GB18030/Big5 detected), ``.parquet`` (needs ``govtext[parquet]``) —
    each optionally gzipped (``.jsonl.gz``) — or ``-`` (JSON Lines on stdin).

    ``text_field``, ``id_field``, ``title_field`` and ``date_field`` name the fields/columns
    holding the text, id, title and date; by default ``text`` (or 正文, 内容), ``id``, ``title``
    (or 标题) and ``date`` (or 日期, 发布时间) are recognised, and ``source`` (or 来源). Title,
    date and source go into ``Record.metadata`` under those English names, the other fields under
    their own; :func:`record_text` gives the text to analyse (title + body).

    Unreadable records (malformed JSON, a missing text field, an undecodable file) become records
    with ``error`` set, so nothing is dropped. An input that cannot be read at all (a missing path,
    a table without the text column) becomes one error record naming it; when no input can be read,
    ``iter_records`` raises. ``skip`` passes over the first records without
    decoding them (used to resume a run).
    """
    fields = Fields.of(text_field, id_field, title_field, date_field)
    checked = _checked_inputs(inputs, fields)
    return (thunk() for thunk in _lazy(checked, fields, stdin, skip))


def _input_problem(item: Any, fields: Fields) -> str | None:
    """Why an input cannot be read at all (a missing path, a table without the text column), or None."""
    if str(item) == "-":
        return None
    if not Path(item).exists():
        return f"input not found: {item}"
    if not Path(item).is_dir() and _base_suffix(Path(item)) in _TABLE_SUFFIXES:
        # Opening a table reads its header and fails on a missing text column.
        opened = _thunks(item, fields, None)
        try:
            next(opened, None)
        except (ValueError, OSError, DecodingError) as exc:
            return str(exc)
        finally:
            opened.close()
    return None


def _checked_inputs(inputs: Any, fields: Fields,
                    report: InputReport | None = None) -> list[tuple[Any, str | None]]:
    """Each input with the reason it cannot be read (None when it can). When no input can be read
    the problem is raised, before any output is written; otherwise a bad input becomes one error
    record and the good ones are read."""
    if isinstance(inputs, (str, os.PathLike)):
        raise ParameterError("inputs must be a list of paths, got a single path; wrap it in a list")
    inputs = list(inputs)
    if not inputs:
        raise InputError("no inputs given")
    checked = [(item, _input_problem(item, fields)) for item in inputs]
    problems = [p for _, p in checked if p is not None]
    if len(problems) == len(checked):
        first = problems[0]
        more = f" (and {len(problems) - 1} more input(s) that cannot be read)" if len(problems) > 1 else ""
        raise (FileNotFoundError if first.startswith("input not found") else InputError)(first + more)
    if report is not None:
        report.failed_inputs.extend(p for p in problems)
    return checked


def iter_lazy_records(
    inputs: Sequence[str | os.PathLike[str]], *, text_field: str | None = None, id_field: str | None = None,
    title_field: str | None = None, date_field: str | None = None, report: InputReport | None = None,
) -> Iterator[Callable[[], Record]]:
    """Like :func:`iter_records`, but yields picklable zero-argument callables that read and parse
    each record when called, so that a worker process, not the reader, does that work. ``report``
    (optional) collects the files that folders hold but are not read, and the inputs that failed."""
    fields = Fields.of(text_field, id_field, title_field, date_field)
    return _lazy(_checked_inputs(inputs, fields, report), fields, None, 0, report)


def _lazy(inputs: list[tuple[Any, str | None]], fields: Fields, stdin: IO[Any] | None, skip: int,
          report: InputReport | None = None) -> Iterator[_Thunk]:
    n = 0
    for item, problem in inputs:
        thunks = (iter([functools.partial(_error_record, item, problem)]) if problem is not None
                  else _thunks(item, fields, stdin, report))
        for thunk in thunks:
            n += 1
            if n > skip:
                yield thunk
