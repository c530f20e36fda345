"""Bytes → a table of text cells with canonical column names and the row numbers the user sees.

The format is decided by the content, not the file name: a ZIP holding ``xl/workbook.xml`` is XLSX,
recognisable binary formats (PDF, old .xls, ODS, images) are refused, and text is read as CSV.
Size and zip-bomb checks run before any parser sees the bytes: an XLSX file's parts are inflated and
counted first (``ingest.archive``), whatever sizes it declares.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from posixpath import join, normpath

import fastexcel
import polars as pl

from lanportfolj.ingest.archive import ArchiveLimits, check_archive, count_central_entries
from lanportfolj.ingest.headers import (
    CANONICAL_COLUMNS,
    REQUIRED_COLUMNS,
    duplicate_columns,
    looks_like_header,
    map_header,
)
from lanportfolj.ingest.issues import ImportIssue, make_issue
from lanportfolj.ingest.rules import IngestContext

ROW_COLUMN = "_row"
#: How many leading non-empty rows are searched for the header row.
HEADER_SEARCH_ROWS = 10

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel 97-2003 .xls"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"{\\rtf", "RTF"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7-Zip"),
)


@dataclass
class RawTable:
    """Text cells under canonical column names, plus ``_row`` (1-based row number in the file)."""

    frame: pl.DataFrame
    header_row: int
    issues: list[ImportIssue] = field(default_factory=list)


class ReadError(Exception):
    """The file cannot be read at all; carries the issue to report."""

    def __init__(self, issue: ImportIssue) -> None:
        super().__init__(issue.message_en)
        self.issue = issue


def read_table(filename: str, data: bytes, context: IngestContext) -> RawTable:
    """Read ``data`` into a :class:`RawTable`, or raise :class:`ReadError` with the reason."""
    if len(data) > context.max_bytes:
        raise ReadError(
            make_issue(
                "file-too-large",
                file=filename,
                size_mb=_megabytes(len(data)),
                limit_mb=_megabytes(context.max_bytes),
            )
        )
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise ReadError(make_issue("empty-file", file=filename))
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return _read_xlsx(filename, data, context)
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ReadError(_not_a_spreadsheet(filename, kind))
    return _read_csv(filename, data)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def _not_a_spreadsheet(filename: str, detail: str) -> ImportIssue:
    return make_issue("not-a-spreadsheet", file=filename, detail=detail)


# --- XLSX ---------------------------------------------------------------------------------------


def _read_xlsx(filename: str, data: bytes, context: IngestContext) -> RawTable:
    entry_count = count_central_entries(data)
    if entry_count is not None and entry_count > context.max_zip_entries:
        raise ReadError(make_issue("zip-entries", file=filename, limit=context.max_zip_entries))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError(_not_a_spreadsheet(filename, "damaged ZIP/XLSX")) from exc
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" not in names:
        kind = "OpenDocument (.ods)" if "content.xml" in names else "ZIP archive"
        raise ReadError(_not_a_spreadsheet(filename, kind))
    # every part inflated and counted before calamine, which trusts the sizes the file declares
    refused = check_archive(
        filename,
        data,
        entries,
        ArchiveLimits(
            max_bytes=context.max_uncompressed_bytes,
            max_entries=context.max_zip_entries,
            max_ratio=context.max_compression_ratio,
        ),
    )
    if refused is not None:
        raise ReadError(refused)
    try:
        reader = fastexcel.read_excel(data)
        sheet_names = reader.sheet_names
    except BaseException as exc:
        # calamine raises its own types, and a Rust panic surfaces as a BaseException.
        _reraise_interrupts(exc)
        raise ReadError(_not_a_spreadsheet(filename, "damaged XLSX")) from exc

    first_frame: tuple[str, pl.DataFrame] | None = None
    for sheet_name in sheet_names:
        try:
            frame = reader.load_sheet(
                sheet_name, header_row=None, dtypes="string", whitespace_as_null=True
            ).to_polars()
        except BaseException as exc:  # a sheet calamine cannot read (broken XML) is skipped
            _reraise_interrupts(exc)
            continue
        if frame.height == 0:
            continue
        header_index = _find_header(frame)
        if header_index is not None:
            first_row = _sheet_first_row(archive, sheet_name)
            return _build_table(frame, header_index, first_row, filename)
        if first_frame is None:
            first_frame = (sheet_name, frame)
    if first_frame is None:
        raise ReadError(make_issue("empty-file", file=filename))
    # No sheet has our header: report the missing columns against the first sheet with content.
    sheet_name, frame = first_frame
    first_row = _sheet_first_row(archive, sheet_name)
    return _build_table(frame, _first_non_empty(frame) or 0, first_row, filename)


def _reraise_interrupts(exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
        raise exc


_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b([^>]*)>")
_RELATIONSHIP_TAG = re.compile(r"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_VALUE_CELL = re.compile(
    r"<(?:\w+:)?c\b([^>/]*)>(?:(?!</(?:\w+:)?c>).)*?<(?:\w+:)?(?:v|is)\b", re.DOTALL
)
_ROW_TAG = re.compile(r"<(?:\w+:)?row\b[^>]*?\br=\"(\d+)\"")
_CELL_REFERENCE = re.compile(r"\br=\"[A-Z]+(\d+)\"")


def _attributes(text: str) -> dict[str, str]:
    return dict(_ATTRIBUTE.findall(text))


def _sheet_first_row(archive: zipfile.ZipFile, sheet_name: str) -> int:
    """1-based row of the first cell with a value; calamine trims leading empty rows, Excel does not."""
    try:
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        relationships = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return 1
    rel_id = None
    for match in _SHEET_TAG.finditer(workbook):
        attributes = _attributes(match.group(1))
        if _unescape(attributes.get("name", "")) == sheet_name:
            rel_id = next(
                (value for name, value in attributes.items() if name.split(":")[-1] == "id"),
                None,
            )
            break
    target = None
    for match in _RELATIONSHIP_TAG.finditer(relationships):
        attributes = _attributes(match.group(1))
        if attributes.get("Id") == rel_id:
            target = attributes.get("Target")
            break
    if target is None:
        return 1
    path = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
    try:
        with archive.open(path) as stream:
            # The first value sits near the top; read a bounded prefix, never the whole sheet.
            head = stream.read(4 * 1024 * 1024).decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
        return 1
    cell = _VALUE_CELL.search(head)
    if cell is None:
        return 1
    reference = _CELL_REFERENCE.search(cell.group(1))
    if reference is not None:
        return int(reference.group(1))
    rows = _ROW_TAG.findall(head, 0, cell.start())
    return int(rows[-1]) if rows else 1


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


# --- CSV ----------------------------------------------------------------------------------------

_SEPARATORS = (";", ",", "\t")


def decode_text(data: bytes) -> str | None:
    """Decode UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252; None when none fit."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: tuple[str, ...] = ("utf-8",)
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if "\x00" in sample:
        return True
    controls = sum(
        1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\x0c"
    )
    return controls > max(2, len(sample) // 200)


def _sniff_separator(line: str) -> str:
    counts = dict.fromkeys(_SEPARATORS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _leading_lines(text: str, count: int) -> tuple[list[str], bool]:
    """The first ``count`` lines of ``text`` with their line ends, and whether that is every line."""
    size = 64 * 1024
    while True:
        lines = text[:size].splitlines(keepends=True)
        if size >= len(text):
            return lines, len(lines) <= count
        if len(lines) > count:
            # the last line of the slice may be cut short; the first ``count`` are whole
            return lines[:count], False
        size *= 4


def _read_csv(filename: str, data: bytes) -> RawTable:
    if b"\x00" in data[:65536] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(_not_a_spreadsheet(filename, "binary data"))
    text = decode_text(data)
    if text is None:
        if _looks_binary(data[:65536].decode("latin-1")):
            raise ReadError(_not_a_spreadsheet(filename, "binary data"))
        raise ReadError(make_issue("bad-encoding", file=filename))
    if _looks_binary(text):
        raise ReadError(_not_a_spreadsheet(filename, "binary data"))

    wanted = 64
    while True:
        # only the lines above the table are looked at: never split a whole 100 000-row file into lines
        lines, whole = _leading_lines(text, wanted)
        skipped = 0
        separator: str | None = None
        # Leading blank lines and Excel's "sep=;" hint are not part of the table but are rows.
        while skipped < len(lines):
            stripped = lines[skipped].strip()
            if not stripped:
                skipped += 1
                continue
            if stripped.lower().startswith("sep=") and len(stripped) == 5:
                separator = stripped[4]
                skipped += 1
                continue
            break
        if whole or len(lines) - skipped >= 50:
            break
        wanted *= 4
    if skipped >= len(lines):
        raise ReadError(make_issue("empty-file", file=filename))
    # A title line above the header is skipped too (polars takes the column count from line one).
    candidates = [i for i in range(skipped, min(len(lines), skipped + 50)) if lines[i].strip()]
    for index in candidates[:HEADER_SEARCH_ROWS]:
        line_separator = separator or _sniff_separator(lines[index])
        cells = [cell.strip().strip('"') for cell in lines[index].split(line_separator)]
        if looks_like_header(cells):
            skipped = index
            break
    body = text[sum(len(line) for line in lines[:skipped]) :]
    if separator is None:
        separator = _sniff_separator(lines[skipped])
    try:
        frame = pl.read_csv(
            io.BytesIO(body.encode("utf-8")),
            has_header=False,
            infer_schema=False,
            separator=separator,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except Exception as exc:  # polars reports malformed quoting as ComputeError and friends
        raise ReadError(make_issue("malformed-csv", file=filename)) from exc
    if frame.height == 0:
        raise ReadError(make_issue("empty-file", file=filename))
    return _build_table(frame, 0, skipped + 1, filename)


# --- common -------------------------------------------------------------------------------------


def _non_empty_mask(frame: pl.DataFrame) -> pl.Series:
    return frame.select(
        pl.any_horizontal(
            pl.col(name).str.strip_chars(" \t\r\n\u00a0\u202f").str.len_chars() > 0
            for name in frame.columns
        ).fill_null(False)
    ).to_series()


def _first_non_empty(frame: pl.DataFrame) -> int | None:
    positions = _non_empty_mask(frame.head(1000)).arg_true()
    return int(positions[0]) if len(positions) else None


def _find_header(frame: pl.DataFrame) -> int | None:
    """Index of the header row among the first non-empty rows, or None."""
    head = frame.head(200)
    mask = _non_empty_mask(head)
    for index in mask.arg_true()[:HEADER_SEARCH_ROWS]:
        if looks_like_header(list(head.row(int(index)))):
            return int(index)
    return None


def _build_table(frame: pl.DataFrame, header_index: int, first_row: int, filename: str) -> RawTable:
    """Rename by the header row, number the rows, drop blank ones."""
    frame = frame.select(pl.all().cast(pl.String))
    header_cells = [None if cell is None else str(cell) for cell in frame.row(header_index)]
    header_row = first_row + header_index
    issues: list[ImportIssue] = []
    for column in duplicate_columns(header_cells):
        issues.append(make_issue("duplicate-column", row=header_row, column=column, file=filename))
    mapping = map_header(header_cells)
    present = set(mapping.values())
    for column in REQUIRED_COLUMNS:
        if column not in present:
            issues.append(
                make_issue("missing-column", row=header_row, column=column, file=filename)
            )
    names = frame.columns
    body = frame.slice(header_index + 1).with_row_index(ROW_COLUMN, offset=header_row + 1)
    selected = [pl.col(ROW_COLUMN).cast(pl.Int64)]
    for column in CANONICAL_COLUMNS:
        positions = [pos for pos, name in mapping.items() if name == column]
        if positions:
            selected.append(pl.col(names[positions[0]]).alias(column))
        else:
            selected.append(pl.lit(None, dtype=pl.String).alias(column))
    table = body.select(selected)
    table = table.filter(
        pl.any_horizontal(
            pl.col(column).str.strip_chars(" \t\r\n\u00a0\u202f").str.len_chars() > 0
            for column in CANONICAL_COLUMNS
        ).fill_null(False)
    )
    return RawTable(frame=table, header_row=header_row, issues=issues)
