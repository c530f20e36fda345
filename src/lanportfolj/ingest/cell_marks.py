"""What a spreadsheet cell says beyond its text: a percent format, a formula without a usable result.

fastexcel (calamine) gives every cell as text, which loses two things a borrower's file carries:

- a cell formatted as percent holds the fraction (``91,5 %`` typed is stored as ``0.915``), and
- a formula whose cached result is an error (``#DIV/0!``) or missing reads as an empty cell.

This module finds those cells, by sheet, from the file's own XML (XLSX: ``xl/styles.xml`` and the sheet
part; ODS: ``content.xml``) or, for the binary ``.xls``, from calamine's typed read. Positions are relative
to the first cell with a value, as calamine's table starts there (it trims leading empty rows and columns).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree import ElementTree

#: (row, column), 0-based, counted from the first row and column holding a value.
Position = tuple[int, int]

#: How many marks a sheet may carry (a percent-formatted column of a large file); more are not looked at.
MAX_MARKS = 1_100_000

#: calamine's error names → what the spreadsheet shows.
_ERROR_TEXTS = {
    "Div0": "#DIV/0!",
    "NA": "#N/A",
    "Name": "#NAME?",
    "Null": "#NULL!",
    "Num": "#NUM!",
    "Ref": "#REF!",
    "Value": "#VALUE!",
    "GettingData": "#GETTING_DATA",
}


@dataclass
class CellMarks:
    """The marked cells of one sheet."""

    #: Cells whose number format is a percentage.
    percent: set[Position] = field(default_factory=set)
    #: Formula cells without a usable result → the error shown (``#DIV/0!``) or "" when no result is stored.
    formula: dict[Position, str] = field(default_factory=dict)
    #: 0-based sheet (row, column) of the first cell with a value, when the scan saw every cell.
    origin: Position | None = None

    def __bool__(self) -> bool:
        return bool(self.percent or self.formula)


# --- XLSX ---------------------------------------------------------------------------------------

#: Built-in number formats 9 (``0%``) and 10 (``0.00%``).
_BUILTIN_PERCENT = {9, 10}
_NUMFMT = re.compile(r"<(?:\w+:)?numFmt\b([^>]*)/?>")
_CELL_XFS = re.compile(r"<(?:\w+:)?cellXfs\b[^>]*>(.*?)</(?:\w+:)?cellXfs>", re.DOTALL)
_XF = re.compile(r"<(?:\w+:)?xf\b([^>]*)")
_ATTRIBUTE = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')
_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)",
    re.DOTALL,
)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_CELL_STYLE = re.compile(rb'\bs="(\d+)"')
_CELL_TYPE = re.compile(rb'\bt="(\w+)"')
_HAS_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*>(.*?)</(?:\w+:)?v>", re.DOTALL)
_HAS_VALUE = re.compile(rb"<(?:\w+:)?(?:v|is)\b")
_SCAN_CHUNK = 1024 * 1024


def _attributes(text: str) -> dict[str, str]:
    return dict(_ATTRIBUTE.findall(text))


def _is_percent_code(code: str) -> bool:
    # a "%" inside quotes, after a backslash or in [brackets] is literal text, not the percent format
    return "%" in _QUOTED.sub("", code.replace("&quot;", '"'))


def percent_styles(styles_xml: str) -> set[int]:
    """Indexes of the cell formats (``s="N"`` on a cell) whose number format is a percentage."""
    percent_ids = set(_BUILTIN_PERCENT)
    for match in _NUMFMT.finditer(styles_xml):
        attributes = _attributes(match.group(1))
        if _is_percent_code(attributes.get("formatCode", "")):
            try:
                percent_ids.add(int(attributes.get("numFmtId", "")))
            except ValueError:
                continue
    block = _CELL_XFS.search(styles_xml)
    if block is None:
        return set()
    found: set[int] = set()
    for index, match in enumerate(_XF.finditer(block.group(1))):
        try:
            number_format = int(_attributes(match.group(1)).get("numFmtId", "0"))
        except ValueError:
            continue
        if number_format in percent_ids:
            found.add(index)
    return found


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - 64)
    return index - 1


def xlsx_marks(archive: zipfile.ZipFile, sheet_path: str) -> CellMarks:
    """The marked cells of the XLSX sheet part ``sheet_path`` (``xl/worksheets/sheet1.xml``)."""
    marks = CellMarks()
    try:
        styles = archive.read("xl/styles.xml").decode("utf-8", "replace")
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
        styles = ""
    percent = percent_styles(styles)
    try:
        with archive.open(sheet_path) as stream:
            first = _first_pass(stream, percent)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
        return marks
    if not first:
        return marks
    try:
        xml = archive.read(sheet_path)
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
        return marks
    found: list[tuple[int, int, str, str]] = []  # row, column, kind, text
    first_row: int | None = None
    first_column: int | None = None
    for match in _CELL.finditer(xml):
        attributes, body = match.group(1), match.group(2) or b""
        reference = _CELL_REF.search(attributes)
        if reference is None:
            continue
        row = int(reference.group(2)) - 1
        column = _column_index(reference.group(1))
        has_value = _HAS_VALUE.search(body) is not None
        kind = _CELL_TYPE.search(attributes)
        cell_type = kind.group(1) if kind else b"n"
        value = _VALUE.search(body)
        value_text = value.group(1).strip() if value else b""
        if has_value and (cell_type != b"str" or value_text):
            first_row = row if first_row is None else min(first_row, row)
            first_column = column if first_column is None else min(first_column, column)
        if _HAS_FORMULA.search(body):
            if cell_type == b"e":
                found.append((row, column, "formula", value_text.decode("utf-8", "replace")))
                continue
            if not value_text:
                found.append((row, column, "formula", ""))
                continue
        style = _CELL_STYLE.search(attributes)
        if style is not None and int(style.group(1)) in percent and cell_type == b"n" and value:
            found.append((row, column, "percent", ""))
        if len(found) > MAX_MARKS:
            break
    origin_row, origin_column = first_row or 0, first_column or 0
    marks.origin = (origin_row, origin_column)
    for row, column, kind_name, text in found:
        position = (row - origin_row, column - origin_column)
        if kind_name == "percent":
            marks.percent.add(position)
        else:
            marks.formula[position] = text
    return marks


def _first_pass(stream: zipfile.ZipExtFile, percent: set[int]) -> bool:
    """Whether the sheet has a formula or a percent-formatted cell, read as a stream and kept nowhere."""
    style_pattern = (
        re.compile(rb'\bs="(?:' + b"|".join(str(s).encode() for s in sorted(percent)) + rb')"')
        if percent
        else None
    )
    tail = b""
    while chunk := stream.read(_SCAN_CHUNK):
        window = tail + chunk
        if _HAS_FORMULA.search(window) or (
            style_pattern is not None and style_pattern.search(window)
        ):
            return True
        tail = chunk[-32:]
    return False


# --- ODS ----------------------------------------------------------------------------------------

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_T = f"{{{_TABLE}}}"
_CELL_TAGS = (f"{_T}table-cell", f"{_T}covered-table-cell")
#: More repetitions of a marked row or cell than this are not expanded (LibreOffice repeats empty ones).
_MAX_REPEAT = 100_000


def _repeat(element: ElementTree.Element, attribute: str) -> int:
    try:
        return max(1, int(element.get(f"{_T}{attribute}", "1")))
    except ValueError:
        return 1


def _ods_rows(archive: zipfile.ZipFile, sheet_name: str) -> Iterator[ElementTree.Element]:
    """The ``table:table-row`` elements of the sheet named ``sheet_name``, each once complete."""
    inside = False
    depth = 0
    with archive.open("content.xml") as stream:
        for event, element in ElementTree.iterparse(stream, events=("start", "end")):
            if event == "start":
                if element.tag == f"{_T}table":
                    depth += 1
                    if depth == 1 and element.get(f"{_T}name") == sheet_name:
                        inside = True
                continue
            if element.tag == f"{_T}table":
                depth -= 1
                if inside and depth == 0:
                    return
                element.clear()
            elif inside and depth == 1 and element.tag == f"{_T}table-row":
                yield element
                element.clear()


def ods_marks(archive: zipfile.ZipFile, sheet_name: str) -> CellMarks:
    """The marked cells of the ODS sheet ``sheet_name`` (``office:value-type="percentage"``, formulas)."""
    marks = CellMarks()
    found: list[tuple[int, int, str, str]] = []
    first_row: int | None = None
    first_column: int | None = None
    row = 0
    try:
        for element in _ods_rows(archive, sheet_name):
            rows = _repeat(element, "number-rows-repeated")
            column = 0
            for cell in element:
                if cell.tag not in _CELL_TAGS:
                    continue
                columns = _repeat(cell, "number-columns-repeated")
                value_type = cell.get(f"{{{_OFFICE}}}value-type")
                calc_type = cell.get(f"{{{_CALCEXT}}}value-type")
                formula = cell.get(f"{_T}formula")
                kind: tuple[str, str] | None = None
                if formula is not None and (calc_type == "error" or value_type is None):
                    shown = "".join(cell.itertext()).strip() if calc_type == "error" else ""
                    kind = ("formula", shown)
                elif value_type == "percentage":
                    kind = ("percent", "")
                has_value = value_type is not None and (
                    value_type != "string" or bool("".join(cell.itertext()).strip())
                )
                if has_value or kind is not None:
                    if has_value:
                        first_row = row if first_row is None else min(first_row, row)
                        first_column = column if first_column is None else min(first_column, column)
                    if kind is not None:
                        for dr in range(min(rows, _MAX_REPEAT)):
                            for dc in range(min(columns, _MAX_REPEAT)):
                                found.append((row + dr, column + dc, *kind))
                        if len(found) > MAX_MARKS:
                            break
                column += columns
            row += rows
            if len(found) > MAX_MARKS:
                break
    except (ElementTree.ParseError, KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError):
        return marks
    origin_row, origin_column = first_row or 0, first_column or 0
    marks.origin = (origin_row, origin_column)
    for r, c, kind_name, text in found:
        position = (r - origin_row, c - origin_column)
        if kind_name == "percent":
            marks.percent.add(position)
        else:
            marks.formula[position] = text
    return marks


# --- XLS ----------------------------------------------------------------------------------------

_CALAMINE_ERROR = re.compile(r"Error\((\w+)\)")


def error_marks(details: list[tuple[Position, str]]) -> CellMarks:
    """Formula errors from calamine's typed read (``Expected float but got 'Error(Div0)'``)."""
    marks = CellMarks()
    for position, detail in details:
        match = _CALAMINE_ERROR.search(detail)
        if match is not None:
            marks.formula[position] = _ERROR_TEXTS.get(match.group(1), f"#{match.group(1)}")
    return marks
