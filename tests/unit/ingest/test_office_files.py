"""Files saved by LibreOffice (Swedish locale) as .xlsx, .ods, .xls and CSV, read as the borrower meant.

The ``office_*`` fixtures are made by ``tests/fixtures/imports/make_office_files.py`` with ``soffice``
(and committed, so this runs without LibreOffice): a summary sheet and a stale copy of the data sheet
before the real one, a percent-formatted cell holding 0.915, formulas whose result is an error, a year
typed into a date-formatted cell and "45 %" typed as text.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter

from lanportfolj.ingest import (
    IngestContext,
    TemplateLine,
    TemplateSpec,
    parse_file,
    write_template_xlsx,
)
from lanportfolj.ingest.readers import sheet_of_reference

from .conftest import build_context

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"


@pytest.fixture(scope="module")
def analyst() -> IngestContext:
    return build_context()


def _parse(name: str, context: IngestContext):
    return parse_file(name, (FIXTURES / name).read_bytes(), context)


def _values(result) -> list[tuple[int, str, int, Decimal, str | None]]:
    return [(r.row, r.indicator, r.year, r.value, r.comment) for r in result.rows]


@pytest.mark.parametrize("name", ["office_good.xlsx", "office_good.ods"])
def test_the_marked_data_sheet_is_read_and_a_percent_cell_means_its_percentage(
    name: str, analyst: IngestContext
) -> None:
    result = _parse(name, analyst)
    assert result.issues == []
    # not the summary sheet first, not the stale copy ("1" renovated) second: the sheet the name marks;
    # 91,5 % in a percent cell (stored 0.915) is 91.5 for a percent indicator
    assert _values(result) == [
        (2, "dwellings_renovated", 2025, Decimal("212"), "Räknat i dec"),
        (3, "perceived_safety_share", 2025, Decimal("91.5"), None),
        (4, "home_visits_new_parents", 2025, Decimal("1234"), None),
    ]


def test_an_xls_file_is_read_from_its_marked_sheet(analyst: IngestContext) -> None:
    result = _parse("office_good.xls", analyst)
    assert result.ok
    rows = _values(result)
    assert rows[0] == (2, "dwellings_renovated", 2025, Decimal("212"), "Räknat i dec")
    assert rows[2] == (4, "home_visits_new_parents", 2025, Decimal("1234"), None)
    # .xls keeps its number formats where fastexcel does not show them: the stored fraction is what
    # is read (the README says so; the far-from-last-year warning is the safety net)
    assert rows[1][3] == Decimal("0.915")


def test_a_percent_cell_of_an_indicator_not_in_percent_is_left_as_it_is(
    analyst: IngestContext,
) -> None:
    rule = replace(analyst.rules[("SH-2023-001", "perceived_safety_share")], percent=False)
    context = replace(
        analyst, rules={**analyst.rules, ("SH-2023-001", "perceived_safety_share"): rule}
    )
    assert _values(_parse("office_good.xlsx", context))[1][3] == Decimal("0.915")


def test_a_number_over_one_in_a_percent_cell_is_not_multiplied(analyst: IngestContext) -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Data")
    percent = book.add_format({"num_format": "0%"})
    sheet.write_row(0, 0, ["loan", "indicator", "year", "value"])
    sheet.write_row(1, 0, ["SH-2023-001", "perceived_safety_share", 2024])
    sheet.write_number(1, 3, 45, percent)  # shown as 4500 %: too large to be a fraction
    sheet.write_row(2, 0, ["SH-2023-001", "perceived_safety_share", 2025])
    sheet.write_number(2, 3, 1, percent)  # 100 %
    book.close()
    result = parse_file("p.xlsx", buffer.getvalue(), analyst)
    assert [row.value for row in result.rows] == [Decimal("45"), Decimal("100")]


@pytest.mark.parametrize("name", ["office_errors.xlsx", "office_errors.ods", "office_errors.xls"])
def test_formula_errors_and_a_date_in_the_year_cell_are_row_errors(
    name: str, analyst: IngestContext
) -> None:
    result = _parse(name, analyst)
    assert not result.ok
    got = [(i.row, i.column, i.code, i.sheet) for i in result.issues]
    assert got == [
        (2, "value", "formula-error", "Data"),
        (3, "year", "year-is-date", "Data"),
        (5, "value", "formula-error", "Data"),
    ]
    div0, date, value = result.issues
    assert div0.value == "#DIV/0!" and value.value == "#VALUE!"
    assert div0.message_sv == (
        "Cellen 'värde' är en formel som ger felet #DIV/0!; rätta formeln eller skriv in värdet."
    )
    # 2025 typed into a date-formatted cell is a day in July 1905: named as that date, in words
    assert "17 juli 1905" in date.message_sv and "17 July 1905" in date.message_en
    assert "1905-07-17" not in date.message_en
    # row 4's "45 %" typed as text passes; the file as a whole is refused (all or nothing)
    assert [(r.row, r.value) for r in result.rows] == [(4, Decimal("45"))]


def test_45_percent_typed_as_text_is_45(analyst: IngestContext) -> None:
    data = "lån;indikator;år;värde\r\nSH-2023-001;perceived_safety_share;2024;45 %\r\n"
    assert [r.value for r in parse_file("x.csv", data.encode(), analyst).rows] == [Decimal("45")]


def test_a_formula_without_a_stored_result_is_a_row_error(analyst: IngestContext) -> None:
    result = _parse("office_formula_no_result.xlsx", analyst)
    assert [(i.row, i.column, i.code, i.value) for i in result.issues] == [
        (2, "value", "formula-error", None)
    ]
    assert "utan sparat resultat" in result.issues[0].message_sv
    assert "no stored result" in result.issues[0].message_en


def test_libreoffice_swedish_csv_reads_percent_and_grouped_numbers(analyst: IngestContext) -> None:
    result = _parse("office_swedish.csv", analyst)
    assert result.issues == []
    assert [r.value for r in result.rows] == [Decimal("91.5"), Decimal("62.25"), Decimal("1234")]


def _workbook(
    sheets: dict[str, list[list[object]]], marker: tuple[str, str] | None = None
) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for index, row in enumerate(rows):
            sheet.write_row(index, 0, row)
    if marker is not None:
        book.define_name(*marker)
    book.close()
    return buffer.getvalue()


HEADER = ["lån", "indikator", "år", "värde"]
ROW_A = ["SH-2023-001", "dwellings_renovated", 2024, 5]
ROW_B = ["SH-2023-001", "dwellings_renovated", 2024, 7]


def test_two_sheets_with_the_header_and_no_marker_are_refused_naming_both(
    analyst: IngestContext,
) -> None:
    data = _workbook({"Data": [HEADER, ROW_A], "Data (2)": [HEADER, ROW_B]})
    result = parse_file("two.xlsx", data, analyst)
    assert [i.code for i in result.issues] == ["several-data-sheets"]
    assert "'Data', 'Data (2)'" in result.issues[0].message_sv


def test_a_sheet_local_copy_of_the_marker_does_not_win(analyst: IngestContext) -> None:
    # Excel gives a copied sheet a sheet-local copy of the workbook's names
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Kopia").write_row(0, 0, HEADER)
    book.get_worksheet_by_name("Kopia").write_row(1, 0, ROW_B)
    data = book.add_worksheet("Data")
    data.write_row(0, 0, HEADER)
    data.write_row(1, 0, ROW_A)
    book.define_name("Kopia!lanportfolj_data", "=Kopia!$A$1:$D$2")
    book.define_name("lanportfolj_data", "=Data!$A$1:$D$2")
    book.close()
    result = parse_file("copy.xlsx", buffer.getvalue(), analyst)
    assert result.ok and [r.value for r in result.rows] == [Decimal("5")]


def test_no_sheet_with_the_header_names_the_sheet_in_the_error(analyst: IngestContext) -> None:
    data = _workbook({"Sammanfattning": [["Vår rapport"], ["lån", "summa"]]})
    result = parse_file("sum.xlsx", data, analyst)
    missing = [i for i in result.issues if i.code == "missing-column"]
    assert missing and all(i.sheet == "Sammanfattning" for i in missing)
    assert "på bladet 'Sammanfattning'" in missing[0].message_sv
    assert "on the sheet 'Sammanfattning'" in missing[0].message_en


def test_row_errors_carry_the_sheet_and_the_header_label_in_the_users_language(
    analyst: IngestContext,
) -> None:
    data = _workbook({"Om": [["text"]], "Mätvärden": [HEADER, ["SH-2023-001", "nope", 2024, 1]]})
    issue = parse_file("x.xlsx", data, analyst).issues[0]
    assert issue.to_dict("sv")["sheet"] == "Mätvärden"
    assert issue.to_dict("sv")["column_label"] == "indikator"
    assert issue.to_dict("en")["column_label"] == "indicator"


def test_out_of_range_names_the_indicator_by_name(analyst: IngestContext) -> None:
    context = replace(
        analyst,
        indicator_names={
            "perceived_safety_share": ("Andel som känner sig trygga", "Share feeling safe")
        },
    )
    data = "lån;indikator;år;värde\r\nSH-2023-001;perceived_safety_share;2024;120\r\n"
    issue = parse_file("x.csv", data.encode(), context).issues[0]
    assert issue.message_sv.endswith("för Andel som känner sig trygga.")
    assert issue.message_en.endswith("for Share feeling safe.")


@pytest.mark.parametrize(
    ("reference", "sheet"),
    [
        ("'Min data'!$A$1:$Q$9", "Min data"),
        ("Data!$A$1", "Data"),
        ("=Data!$A$1:$B$2", "Data"),
        ("$Data.$A$1:.$E$5", "Data"),
        ("$'Bob''s'.$A$1", "Bob's"),
        ("A1:B2", None),
    ],
)
def test_the_marker_reference_names_its_sheet(reference: str, sheet: str | None) -> None:
    assert sheet_of_reference(reference) == sheet


def test_the_template_carries_the_marker() -> None:
    spec = TemplateSpec(
        loan="SH-2023-001",
        loan_title="t",
        borrower="b",
        years=[2025],
        lines=[
            TemplateLine("dwellings_renovated", "Renoverade", "antal", None, None, None, None, {})
        ],
    )
    workbook = zipfile.ZipFile(io.BytesIO(write_template_xlsx(spec))).read("xl/workbook.xml")
    assert b'<definedName name="lanportfolj_data">' in workbook


def test_ods_rows_are_numbered_as_the_sheet_shows_them(analyst: IngestContext) -> None:
    # good_two_sheets.xlsx saved by LibreOffice as .ods: header on row 3 of the second sheet
    result = _parse("office_two_sheets.ods", analyst)
    assert result.issues == []
    assert [(r.row, r.year, r.value) for r in result.rows] == [
        (4, 2024, Decimal("120")),
        (5, 2025, Decimal("240")),
        (6, 2025, Decimal("12.3")),
    ]
