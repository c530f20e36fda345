"""The reporting template as a borrower finds it in Excel: which cells are locked and shaded, the lists and
number rules on the cells they may fill in, the column widths and what the sheet protection still allows."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from lanportfolj.ingest import TemplateLine, TemplateSpec, write_template_xlsx

pytestmark = pytest.mark.unit

LONG_NAME = "Andel boende som känner sig trygga utomhus på kvällen " * 6  # 330 characters


@pytest.fixture
def workbook() -> openpyxl.Workbook:
    spec = TemplateSpec(
        loan="SH-2023-001",
        loan_title="Varsam renovering i Alby",
        borrower="Botkyrkabyggen",
        years=[2024],
        lines=[
            TemplateLine(
                "perceived_safety_share",
                LONG_NAME,
                "%",
                Decimal("61.5"),
                2022,
                Decimal(75),
                2032,
                {2024: Decimal("62.3")},
                min_value=Decimal(0),
                max_value=Decimal(100),
                previous_estimated=frozenset({2024}),
            )
        ],
        lang="sv",
    )
    return openpyxl.load_workbook(io.BytesIO(write_template_xlsx(spec)))


def _widths(sheet: Worksheet) -> dict[int, float]:
    widths: dict[int, float] = {}
    for dimension in sheet.column_dimensions.values():
        for index in range(dimension.min, dimension.max + 1):
            widths[index] = dimension.width
    return widths


def test_a_value_reported_as_estimated_is_prefilled_with_the_word_for_yes(
    workbook: openpyxl.Workbook,
) -> None:
    row = [cell.value for cell in workbook["Data"][2]]
    assert row == [
        "SH-2023-001",
        "perceived_safety_share",
        2024,
        62.3,
        "ja",
        None,
        None,
        None,  # n: the count behind the value, when the borrower has one
        None,  # std_error
        LONG_NAME,
        "%",
        61.5,
        2022,
        75,
        2032,
        None,
        None,
    ]


def test_given_cells_are_locked_and_grey_and_the_borrowers_cells_open_and_yellow(
    workbook: openpyxl.Workbook,
) -> None:
    sheet = workbook["Data"]
    header, loan, value = sheet["A1"], sheet["A2"], sheet["D2"]
    assert (header.font.b, header.fill.fgColor.rgb, header.protection.locked) == (
        True,
        "FFDCE6F1",
        True,
    )
    assert (loan.fill.fgColor.rgb, loan.protection.locked) == ("FFF5F5F5", True)
    assert (value.fill.fgColor.rgb, value.protection.locked, value.border.left.style) == (
        "FFFFF9DB",
        False,
        "thin",
    )
    assert sheet.freeze_panes == "A2"


def test_each_column_the_borrower_fills_has_its_list_or_number_rule(
    workbook: openpyxl.Workbook,
) -> None:
    rules = [
        (dv.type, str(dv.sqref), dv.formula1, dv.formula2)
        for dv in workbook["Data"].data_validations.dataValidation
    ]
    assert rules == [
        ("decimal", "D2", "0.0", "100.0"),
        ("list", "A3:A32", "'Listor'!$C$1", None),
        ("list", "B3:B32", "'Listor'!$A$1:$A$1", None),
        ("whole", "C3:C32", "1900", "2100"),
        ("decimal", "D3:D32", "-1000000000000000.0", "1000000000000000.0"),
        ("list", "E2:E32", "'Listor'!$B$1:$B$2", None),
    ]
    prompt = workbook["Data"].data_validations.dataValidation[0]
    # Excel refuses an input message longer than 255 characters
    assert (prompt.promptTitle, prompt.prompt) == (
        "perceived_safety_share",
        f"{LONG_NAME} (%)"[:255],
    )
    assert prompt.error == "Skriv ett tal."


def test_columns_are_wide_enough_and_the_protection_still_lets_the_borrower_sort_and_filter(
    workbook: openpyxl.Workbook,
) -> None:
    # xlsxwriter stores a width of w characters as w + 0.7109375
    pad = 0.7109375
    assert _widths(workbook["Data"]) == {
        1: 14 + pad,
        2: 30 + pad,
        3: 8 + pad,
        4: 12 + pad,
        5: 12 + pad,
        6: 24 + pad,
        7: 24 + pad,
        8: 24 + pad,
        9: 24 + pad,
        10: 40 + pad,
        **{column: 14 + pad for column in range(11, 18)},
    }
    protection = workbook["Data"].protection
    # in the file, False means "allowed despite the protection"
    assert (
        protection.sheet,
        protection.formatColumns,
        protection.sort,
        protection.autoFilter,
        protection.selectLockedCells,
        protection.selectUnlockedCells,
        protection.formatCells,
        protection.insertRows,
    ) == (True, False, False, False, False, False, True, True)
    instructions = workbook["Instruktioner (Instructions)"]
    assert _widths(instructions) == {1: 110 + pad}
    assert instructions["A1"].font.b is True


def test_the_prefilled_estimated_word_can_be_changed_and_empty_context_cells_are_locked_grey(
    workbook: openpyxl.Workbook,
) -> None:
    sheet = workbook["Data"]
    estimated, no_previous_year, no_previous_value = sheet["E2"], sheet["P2"], sheet["Q2"]
    assert (estimated.value, estimated.fill.fgColor.rgb, estimated.protection.locked) == (
        "ja",
        "FFFFF9DB",
        False,
    )
    for cell in (no_previous_year, no_previous_value):
        assert (cell.value, cell.fill.fgColor.rgb, cell.protection.locked) == (
            None,
            "FFF5F5F5",
            True,
        )
    # the instructions' paragraphs wrap in their wide column
    paragraph = workbook["Instruktioner (Instructions)"]["A5"]
    assert (paragraph.alignment.wrap_text, paragraph.alignment.vertical) == (True, "top")
