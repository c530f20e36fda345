"""Files that are not a borrower's spreadsheet are refused with the file named and what it looks like."""

from __future__ import annotations

import io
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


def test_an_opendocument_file_is_named_as_such(analyst: IngestContext) -> None:
    name = "bad_not-a-spreadsheet.ods"
    assert parse_file(name, (FIXTURES / name).read_bytes(), analyst).issues == [
        ImportIssue(
            code="not-a-spreadsheet",
            row=None,
            column=None,
            value=None,
            message_sv="Filen är inte en CSV- eller XLSX-fil (OpenDocument (.ods)). Spara den som "
            ".xlsx eller .csv.",
            message_en="The file is not a CSV or XLSX file (OpenDocument (.ods)). Save it as .xlsx "
            "or .csv.",
            file=name,
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
