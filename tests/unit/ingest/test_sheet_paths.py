"""A workbook whose relationships name the sheet by an absolute part name (``/xl/worksheets/…``, as some
producers write it) still reports the rows the user sees when the data starts below row 1 (issue 20)."""

from __future__ import annotations

import io
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
