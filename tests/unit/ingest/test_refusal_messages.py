"""Files that are not a borrower's spreadsheet are refused with the file named and what it looks like."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import xlsxwriter

from lanportfolj.ingest import ImportIssue, IngestContext, parse_file

from .conftest import build_context

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"


@pytest.fixture(scope="module")
def analyst() -> IngestContext:
    return build_context()


def test_an_opendocument_text_is_refused_as_not_a_spreadsheet(analyst: IngestContext) -> None:
    # LibreOffice's spreadsheets (.ods) are read; its text documents are not spreadsheets
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    assert parse_file("brev.odt", buffer.getvalue(), analyst).issues == [
        ImportIssue(
            code="not-a-spreadsheet",
            row=None,
            column=None,
            value=None,
            message_sv="Filen är inte en CSV-, Excel- (.xlsx, .xls) eller LibreOffice-fil (.ods) "
            "(OpenDocument, not a spreadsheet). Spara den som .xlsx, .ods eller .csv.",
            message_en="The file is not a CSV, Excel (.xlsx, .xls) or LibreOffice (.ods) file "
            "(OpenDocument, not a spreadsheet). Save it as .xlsx, .ods or .csv.",
            file="brev.odt",
            severity="error",
        )
    ]


def test_a_workbook_with_no_rows_is_an_empty_file_named_by_its_file(analyst: IngestContext) -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer)
    workbook.add_worksheet("Data")
    workbook.close()
    assert parse_file("tom.xlsx", buffer.getvalue(), analyst).issues == [
        ImportIssue(
            code="empty-file",
            row=None,
            column=None,
            value=None,
            message_sv="Filen är tom.",
            message_en="The file is empty.",
            file="tom.xlsx",
            severity="error",
        )
    ]


def test_a_zip_bomb_says_how_large_it_may_unpack(analyst: IngestContext) -> None:
    name = "bad_zip-bomb.xlsx"
    [issue] = parse_file(name, (FIXTURES / name).read_bytes(), analyst).issues
    assert (issue.code, issue.file, issue.message_sv, issue.message_en) == (
        "zip-bomb",
        name,
        f"XLSX-filen {name} packas upp till mer än 50 MB; högst 50 MB tillåts. Filen läses inte.",
        f"The XLSX file {name} unpacks to more than 50 MB; at most 50 MB is allowed. "
        "The file is not read.",
    )


@pytest.mark.parametrize(
    "text",
    [
        "\u00a0\n\u00a0\n",  # non-breaking spaces, as a spreadsheet exports an "empty" column
        "\u00a0\r\n\u2003\r\n\u00a0",
        "sep=;\n\u00a0\n",  # Excel's separator hint above nothing
    ],
    ids=["nbsp", "em-space-crlf", "hint"],
)
def test_a_csv_of_only_blank_lines_is_an_empty_file(text: str, analyst: IngestContext) -> None:
    assert parse_file("tom.csv", text.encode("utf-8"), analyst).issues == [
        ImportIssue(
            code="empty-file",
            row=None,
            column=None,
            value=None,
            message_sv="Filen är tom.",
            message_en="The file is empty.",
            file="tom.csv",
            severity="error",
        )
    ]
