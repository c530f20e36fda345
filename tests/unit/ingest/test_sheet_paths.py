"""A workbook whose relationships name the sheet by an absolute part name (``/xl/worksheets/…``, as some
producers write it) still reports the rows the user sees when the data starts below row 1 (issue 20)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
import xlsxwriter

from lanportfolj.ingest import IngestContext, parse_file

pytestmark = pytest.mark.unit


def _workbook_from_row_three(absolute: bool) -> bytes:
    """Header in row 3, one good row (4) and one with a bad year (5); relationship targets made
    absolute when ``absolute``."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Data")
    sheet.write_row(2, 0, ["lån", "indikator", "år", "värde"])
    sheet.write_row(3, 0, ["SH-2023-001", "dwellings_renovated", 2024, 5])
    sheet.write_row(4, 0, ["SH-2023-001", "dwellings_renovated", "tjugo", 7])
    book.close()
    if not absolute:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b'Target="worksheets/', b'Target="/xl/worksheets/')
                assert b'Target="/xl/worksheets/sheet1.xml"' in data
            target.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
def test_the_bad_row_is_named_as_the_sheet_shows_it(
    absolute: bool, analyst_context: IngestContext
) -> None:
    result = parse_file("rapport.xlsx", _workbook_from_row_three(absolute), analyst_context)
    assert [(i.row, i.column, i.code, i.sheet) for i in result.issues] == [
        (5, "year", "bad-year", "Data")
    ]


def _without_cell_references(workbook: bytes) -> bytes:
    """``workbook`` with the ``r="A3"`` references taken off its cells (rows keep their number), as
    some producers write a sheet: the cell's place is then its position in the row."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(rb'(<c\b[^>]*?) r="[A-Z]+\d+"', rb"\1", data)
                assert count == 12 and b'<row r="3"' in data
            target.writestr(info, data)
    return out.getvalue()


def test_rows_above_the_first_cell_are_counted_when_cells_carry_no_reference(
    analyst_context: IngestContext,
) -> None:
    data = _without_cell_references(_workbook_from_row_three(absolute=False))
    result = parse_file("rapport.xlsx", data, analyst_context)
    assert [(i.row, i.column, i.code, i.sheet) for i in result.issues] == [
        (5, "year", "bad-year", "Data")
    ]
    assert [(row.row, row.year, row.value) for row in result.rows] == [(4, 2024, 5)]
