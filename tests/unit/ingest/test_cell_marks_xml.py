"""What ``ingest.cell_marks`` reads from an XLSX file's own XML, on hand-written parts: the percent
formats of ``styles.xml`` and the marks of a sheet beyond column Z (mutation testing, issue 20)."""

from __future__ import annotations

import io
import zipfile

import pytest

from lanportfolj.ingest.cell_marks import CellMarks, percent_styles, xlsx_marks

pytestmark = pytest.mark.unit

STYLES = (
    '<styleSheet><numFmts count="2"><numFmt numFmtId="164" formatCode="0.0%"/>'
    '<numFmt numFmtId="bad" formatCode="0%"/>'
    '<numFmt numFmtId="165" formatCode="&quot;%&quot;0"/></numFmts>'
    '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="x"/><xf numFmtId="164"/>'
    '<xf numFmtId="165"/><xf numFmtId="9"/></cellXfs></styleSheet>'
)


def test_percent_styles_skip_a_broken_format_and_read_on() -> None:
    # xf 1's format id is not a number and numFmt "bad" neither: skipped, the later xfs still read;
    # a "%" in quotes is literal text, not a percent format
    assert percent_styles(STYLES) == {2, 4}


def test_no_cell_formats_no_percent_styles() -> None:
    assert (
        percent_styles('<styleSheet><numFmts><numFmt numFmtId="9"/></numFmts></styleSheet>')
        == set()
    )


def _archive(sheet: str) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("xl/styles.xml", STYLES)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_marks_beyond_column_z_keep_their_column() -> None:
    sheet = (
        '<worksheet><sheetData><row r="2"><c r="B2" t="s"><v>0</v></c>'
        '<c r="AB2" s="2"><v>0.5</v></c></row>'
        '<row r="3"><c r="AA3"><f>1/0</f></c><c r="C3" t="e"><f>X()</f><v>#NAME?</v></c></row>'
        "</sheetData></worksheet>"
    )
    marks = xlsx_marks(_archive(sheet), "xl/worksheets/sheet1.xml")
    # positions counted from B2, the first cell with a value
    assert marks == CellMarks(
        percent={(0, 26)}, formula={(1, 25): "", (1, 1): "#NAME?"}, origin=(1, 1)
    )
