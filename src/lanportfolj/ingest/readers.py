"""Bytes → a table of text cells with canonical column names and the row numbers the user sees.

The format is decided by the content, not the file name: a ZIP holding ``xl/workbook.xml`` is XLSX, one
holding ``content.xml`` with the spreadsheet mimetype is ODS (LibreOffice), an OLE2 file is Excel 97-2003
``.xls``; other recognisable binary formats (PDF, images, archives) are refused, and text is read as CSV.
Size and zip-bomb checks run before any parser sees the bytes: an XLSX or ODS file's parts are inflated and
counted first (``ingest.archive``), whatever sizes it declares.

In a workbook the data sheet is the one the template's defined name ``lanportfolj_data`` points to, else
the one sheet whose first rows hold our header row (two such sheets are refused, naming both), never the
first sheet by position. Percent formats and formulas without a result travel as extra columns
(``ingest.cell_marks``).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from posixpath import join, normpath
from typing import TYPE_CHECKING

import polars as pl

from lanportfolj.ingest.archive import ArchiveLimits, check_archive, count_central_entries
from lanportfolj.ingest.cell_marks import CellMarks, error_marks, ods_marks, xlsx_marks
from lanportfolj.ingest.headers import (
    CANONICAL_COLUMNS,
    REQUIRED_COLUMNS,
    duplicate_columns,
    looks_like_header,
    map_header,
)
from lanportfolj.ingest.issues import ImportIssue, make_issue
from lanportfolj.ingest.rules import IngestContext

if TYPE_CHECKING:
    import fastexcel

# fastexcel (calamine) is imported when a workbook is read: a CSV import never needs it (issue 15 item 4)

ROW_COLUMN = "_row"
#: True where the value cell is formatted as a percentage (XLSX, ODS).
PERCENT_COLUMN = "_percent"
#: The canonical column whose cell is a formula without a usable result, and the error it shows.
FORMULA_COLUMN = "_formula"
FORMULA_TEXT_COLUMN = "_formula_text"
#: How many leading non-empty rows are searched for the header row.
HEADER_SEARCH_ROWS = 10

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "PDF"),
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
    #: The workbook sheet read (None for CSV).
    sheet: str | None = None


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
        return _read_zip(filename, data, context)
    if data.startswith(_OLE2_SIGNATURE):
        return _read_workbook(filename, data, "xls", None)
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise ReadError(_not_a_spreadsheet(filename, kind))
    return _read_csv(filename, data)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def _not_a_spreadsheet(filename: str, detail: str) -> ImportIssue:
    return make_issue("not-a-spreadsheet", file=filename, detail=detail)


# --- workbooks: XLSX, ODS, XLS ------------------------------------------------------------------

#: The defined name the template gives its data range: how the data sheet is found whatever its place.
DATA_NAME = "lanportfolj_data"
_OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def _read_zip(filename: str, data: bytes, context: IngestContext) -> RawTable:
    entry_count = count_central_entries(data)
    if entry_count is not None and entry_count > context.max_zip_entries:
        raise ReadError(make_issue("zip-entries", file=filename, limit=context.max_zip_entries))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ReadError(_not_a_spreadsheet(filename, "damaged ZIP/XLSX")) from exc
    names = {entry.filename for entry in entries}
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "content.xml" in names:
        mimetype = _small_part(archive, "mimetype") if "mimetype" in names else b""
        if not mimetype.strip().startswith(_ODS_MIMETYPE):
            raise ReadError(_not_a_spreadsheet(filename, "OpenDocument, not a spreadsheet"))
        kind = "ods"
    else:
        raise ReadError(_not_a_spreadsheet(filename, "ZIP archive"))
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
    return _read_workbook(filename, data, kind, archive)


def _small_part(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        with archive.open(name) as stream:
            return stream.read(200)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
        return b""


_KIND_NAMES = {"xlsx": "XLSX", "ods": "ODS", "xls": "XLS"}


def _read_workbook(
    filename: str, data: bytes, kind: str, archive: zipfile.ZipFile | None
) -> RawTable:
    """The data sheet of a workbook: the one the template's name marks, else the one with our header."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(data)
        sheet_names = list(reader.sheet_names)
    except BaseException as exc:
        # calamine raises its own types, and a Rust panic surfaces as a BaseException.
        _reraise_interrupts(exc)
        raise ReadError(_not_a_spreadsheet(filename, f"damaged {_KIND_NAMES[kind]}")) from exc
    marked = _marked_sheet(kind, archive, reader)

    def load(sheet_name: str, rows: int | None = None) -> pl.DataFrame | None:
        try:
            return reader.load_sheet(
                sheet_name, header_row=None, dtypes="string", whitespace_as_null=True, n_rows=rows
            ).to_polars()
        except BaseException as exc:  # a sheet calamine cannot read (broken XML) is skipped
            _reraise_interrupts(exc)
            return None

    if marked in sheet_names:
        frame = load(marked)
        if frame is not None and frame.height:
            header_index = _find_header(frame)
            if header_index is not None:
                return _sheet_table(filename, kind, archive, reader, marked, frame, header_index)
    # no (usable) marker: the sheets whose first rows hold our header row. Each sheet is read once: in
    # full until the data sheet is found, then only its first rows, to see whether another has the header
    found: tuple[str, pl.DataFrame, int] | None = None
    with_header: list[str] = []
    first_frame: str | None = None
    for sheet_name in sheet_names:
        frame = load(sheet_name, None if found is None else 200)
        if frame is None or frame.height == 0:
            continue
        header_index = _find_header(frame)
        if header_index is not None:
            with_header.append(sheet_name)
            if found is None:
                found = (sheet_name, frame, header_index)
        elif first_frame is None:
            first_frame = sheet_name
        del frame
    if len(with_header) > 1:
        raise ReadError(
            make_issue(
                "several-data-sheets",
                file=filename,
                sheets=", ".join(f"'{name}'" for name in with_header),
            )
        )
    if found is not None:
        sheet_name, frame, header_index = found
        return _sheet_table(filename, kind, archive, reader, sheet_name, frame, header_index)
    if first_frame is None:
        raise ReadError(make_issue("empty-file", file=filename))
    # No sheet has our header: report the missing columns against the first sheet with content.
    frame = load(first_frame)
    if frame is None:
        raise ReadError(make_issue("empty-file", file=filename))
    return _sheet_table(
        filename, kind, archive, reader, first_frame, frame, _first_non_empty(frame) or 0
    )


def _sheet_table(
    filename: str,
    kind: str,
    archive: zipfile.ZipFile | None,
    reader: fastexcel.ExcelReader,
    sheet_name: str,
    frame: pl.DataFrame,
    header_index: int,
) -> RawTable:
    marks = CellMarks()
    first_row = 1
    if kind == "xlsx" and archive is not None:
        path = _sheet_path(archive, sheet_name)
        if path is not None:
            first_row = _sheet_first_row(archive, path)
            marks = xlsx_marks(archive, path)
    elif kind == "ods" and archive is not None:
        marks = ods_marks(archive, sheet_name)
        if marks.origin is not None:
            first_row = marks.origin[0] + 1
    else:
        marks = _xls_marks(reader, sheet_name, frame.width)
    return _build_table(frame, header_index, first_row, filename, sheet=sheet_name, marks=marks)


def _xls_marks(reader: fastexcel.ExcelReader, sheet_name: str, width: int) -> CellMarks:
    """Formula errors in an .xls sheet: calamine reports them when the cells are read as numbers."""
    try:
        sheet = reader.load_sheet(
            sheet_name, header_row=None, dtypes=dict.fromkeys(range(width), "float")
        )
        _batch, errors = sheet.to_arrow_with_errors()
    except BaseException as exc:
        _reraise_interrupts(exc)
        return CellMarks()
    if errors is None:
        return CellMarks()
    return error_marks([(tuple(error.offset_position), error.detail) for error in errors.errors])


_DEFINED_NAME = re.compile(
    r"<(?:\w+:)?definedName\b([^>]*)>(.*?)</(?:\w+:)?definedName>", re.DOTALL
)


def _marked_sheet(
    kind: str, archive: zipfile.ZipFile | None, reader: fastexcel.ExcelReader
) -> str | None:
    """The sheet the template's defined name ``lanportfolj_data`` points to, if the file has it.

    In an XLSX file only the workbook-wide name counts: a copy of the sheet gets a sheet-local copy of
    the name, which must not win over the original.
    """
    if kind == "xlsx" and archive is not None:
        try:
            workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
            return None
        for match in _DEFINED_NAME.finditer(workbook):
            attributes = _attributes(match.group(1))
            if attributes.get("name") == DATA_NAME and "localSheetId" not in attributes:
                return sheet_of_reference(_unescape(match.group(2)))
        return None
    try:
        names = reader.defined_names()
    except BaseException as exc:
        _reraise_interrupts(exc)
        return None
    for defined in names:
        if defined.name == DATA_NAME:
            return sheet_of_reference(defined.formula)
    return None


def sheet_of_reference(reference: str) -> str | None:
    """The sheet a range reference names: ``'Min data'!$A$1:$Q$9``, ``Data!A1``, ``$Data.$A$1:.$Q$9``."""
    text = reference.strip().lstrip("=").lstrip("$")
    if text.startswith("'"):
        end = 1
        name = []
        while end < len(text):
            if text[end] == "'":
                if text[end + 1 : end + 2] == "'":
                    name.append("'")
                    end += 2
                    continue
                return "".join(name)
            name.append(text[end])
            end += 1
        return None
    if "!" in text:
        return text.rsplit("!", 1)[0] or None
    if "." in text:
        return text.split(".", 1)[0] or None
    return None


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


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    """The ZIP part holding the XLSX sheet named ``sheet_name``."""
    try:
        workbook = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        relationships = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError):
        return None
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
        return None
    return target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))


def _sheet_first_row(archive: zipfile.ZipFile, path: str) -> int:
    """1-based row of the first cell with a value; calamine trims leading empty rows, Excel does not."""
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


def _build_table(
    frame: pl.DataFrame,
    header_index: int,
    first_row: int,
    filename: str,
    *,
    sheet: str | None = None,
    marks: CellMarks | None = None,
) -> RawTable:
    """Rename by the header row, number the rows, drop blank ones; carry the cells' marks as columns.

    ``PERCENT_COLUMN`` is true where the value cell is formatted as a percentage; ``FORMULA_COLUMN`` names
    the first canonical column whose cell is a formula without a usable result (``FORMULA_TEXT_COLUMN``:
    the error it shows, "" for none stored). Such a row is kept even when it looks blank.
    """
    frame = frame.select(pl.all().cast(pl.String))
    header_cells = [None if cell is None else str(cell) for cell in frame.row(header_index)]
    header_row = first_row + header_index
    issues: list[ImportIssue] = []
    for column in duplicate_columns(header_cells):
        issues.append(
            make_issue(
                "duplicate-column", row=header_row, column=column, file=filename, sheet=sheet
            )
        )
    mapping = map_header(header_cells)
    present = set(mapping.values())
    for column in REQUIRED_COLUMNS:
        if column not in present:
            issues.append(
                make_issue(
                    "missing-column", row=header_row, column=column, file=filename, sheet=sheet
                )
            )
    names = frame.columns
    position_of = {name: position for position, name in mapping.items()}
    if marks:
        frame = frame.with_columns(*_mark_series(marks, mapping, header_index, frame.height))
    else:
        frame = frame.with_columns(
            pl.lit(False, dtype=pl.Boolean).alias(PERCENT_COLUMN),
            pl.lit(None, dtype=pl.String).alias(FORMULA_COLUMN),
            pl.lit(None, dtype=pl.String).alias(FORMULA_TEXT_COLUMN),
        )
    body = frame.slice(header_index + 1).with_row_index(ROW_COLUMN, offset=header_row + 1)
    selected = [pl.col(ROW_COLUMN).cast(pl.Int64)]
    for column in CANONICAL_COLUMNS:
        if column in position_of:
            selected.append(pl.col(names[position_of[column]]).alias(column))
        else:
            selected.append(pl.lit(None, dtype=pl.String).alias(column))
    selected += [pl.col(PERCENT_COLUMN), pl.col(FORMULA_COLUMN), pl.col(FORMULA_TEXT_COLUMN)]
    table = body.select(selected)
    table = table.filter(
        pl.any_horizontal(
            pl.col(column).str.strip_chars(" \t\r\n\u00a0\u202f").str.len_chars() > 0
            for column in CANONICAL_COLUMNS
        ).fill_null(False)
        | pl.col(FORMULA_COLUMN).is_not_null()
    )
    return RawTable(frame=table, header_row=header_row, issues=issues, sheet=sheet)


def _mark_series(
    marks: CellMarks, mapping: dict[int, str], header_index: int, height: int
) -> list[pl.Series]:
    """The marks as the three columns ``_build_table`` documents, one value per row of the sheet."""
    position_of = {name: position for position, name in mapping.items()}
    percent = [False] * height
    formula_column: list[str | None] = [None] * height
    formula_text: list[str | None] = [None] * height
    value_position = position_of.get("value")
    for row, column in marks.percent:
        if column == value_position and header_index < row < height:
            percent[row] = True
    order = {name: index for index, name in enumerate(CANONICAL_COLUMNS)}
    for (row, column), text in sorted(marks.formula.items()):
        name = mapping.get(column)
        if name is None or position_of[name] != column or not header_index < row < height:
            continue
        current = formula_column[row]
        if current is None or order[name] < order[current]:
            formula_column[row] = name
            formula_text[row] = text
    return [
        pl.Series(PERCENT_COLUMN, percent, dtype=pl.Boolean),
        pl.Series(FORMULA_COLUMN, formula_column, dtype=pl.String),
        pl.Series(FORMULA_TEXT_COLUMN, formula_text, dtype=pl.String),
    ]
