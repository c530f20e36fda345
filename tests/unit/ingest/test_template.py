"""The reporting template: what a borrower sees in Excel, and that a filled-in one imports cleanly."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest

from lanportfolj.ingest import (
    IngestContext,
    TemplateLine,
    TemplateSpec,
    parse_file,
    write_template_csv,
    write_template_xlsx,
)

pytestmark = pytest.mark.unit


def _spec(lang: str = "sv") -> TemplateSpec:
    return TemplateSpec(
        loan="SH-2023-001",
        loan_title="Varsam renovering i Alby",
        borrower="Botkyrkabyggen",
        years=[2025, 2024],
        lines=[
            TemplateLine(
                "dwellings_renovated",
                "Renoverade lägenheter",
                "antal",
                Decimal(0),
                2022,
                Decimal(1200),
                2032,
                {2023: Decimal(150), 2024: Decimal(180)},
                min_value=Decimal(0),
                integer=True,
            ),
            TemplateLine(
                "perceived_safety_share",
                "Andel trygga",
                "%",
                Decimal("61.5"),
                2022,
                Decimal(75),
                2032,
                {2023: Decimal("62.3")},
                min_value=Decimal(0),
                max_value=Decimal(100),
            ),
        ],
        lang=lang,
    )


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_is_deterministic() -> None:
    assert write_template_xlsx(_spec()) == write_template_xlsx(_spec())


@pytest.mark.parametrize(
    ("lang", "header"),
    [
        (
            "sv",
            [
                "lån",
                "indikator",
                "år",
                "värde",
                "uppskattat",
                "kommentar",
                "grupp",
                "antal",
                "medelfel",
            ],
        ),
        (
            "en",
            [
                "loan",
                "indicator",
                "year",
                "value",
                "estimated",
                "comment",
                "group",
                "n",
                "std_error",
            ],
        ),
    ],
)
def test_header_follows_the_language(lang: str, header: list[str]) -> None:
    sheet = _open(write_template_xlsx(_spec(lang)))["Data"]
    assert [cell.value for cell in sheet[1][:9]] == header


def test_one_row_per_indicator_and_year_with_context() -> None:
    sheet = _open(write_template_xlsx(_spec()))["Data"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2, max_row=5)]
    assert [(row[0], row[1], row[2]) for row in rows] == [
        ("SH-2023-001", "dwellings_renovated", 2024),
        ("SH-2023-001", "dwellings_renovated", 2025),
        ("SH-2023-001", "perceived_safety_share", 2024),
        ("SH-2023-001", "perceived_safety_share", 2025),
    ]
    # A year already reported shows its value; the context columns show baseline, target, previous.
    assert rows[0][3] == 180
    assert rows[1][3] is None
    assert rows[1][9:] == ["Renoverade lägenheter", "antal", 0, 2022, 1200, 2032, 2024, 180]
    assert rows[3][9:] == ["Andel trygga", "%", 61.5, 2022, 75, 2032, 2023, 62.3]


def test_header_is_frozen_and_locked_but_values_are_editable() -> None:
    sheet = _open(write_template_xlsx(_spec()))["Data"]
    assert sheet.freeze_panes == "A2"
    assert sheet.protection.sheet is True
    assert sheet["A1"].protection.locked
    assert sheet["B2"].protection.locked  # the indicator of a pre-filled row
    for cell in ("D2", "E2", "F2"):  # value, estimated, comment
        assert not sheet[cell].protection.locked
    # The blank rows below are fully editable, for comparison groups.
    assert not sheet["A6"].protection.locked and not sheet["G6"].protection.locked


def test_cells_are_validated() -> None:
    workbook = _open(write_template_xlsx(_spec()))
    sheet = workbook["Data"]
    rules = {}
    for validation in sheet.data_validations.dataValidation:
        for ref in str(validation.sqref).split():
            rules[ref] = validation
    assert rules["D2"].type == "whole" and rules["D2"].formula1 == "0"
    assert rules["D4"].type == "decimal" and float(rules["D4"].formula2) == 100
    indicator_list = next(v for ref, v in rules.items() if ref.startswith("B6"))
    assert indicator_list.type == "list"
    assert indicator_list.formula1 == "'Listor'!$A$1:$A$2"
    assert [c.value for c in workbook["Listor"]["A"]] == [
        "dwellings_renovated",
        "perceived_safety_share",
    ]
    assert workbook["Listor"].sheet_state == "hidden"


def test_instructions_in_swedish_and_english() -> None:
    workbook = _open(write_template_xlsx(_spec()))
    text = "\n".join(str(c.value) for c in workbook["Instruktioner (Instructions)"]["A"] if c.value)
    assert "Så fyller du i mallen" in text
    assert "How to fill in the template" in text
    assert "SH-2023-001" in text


def test_filled_in_xlsx_template_imports_cleanly(context: IngestContext) -> None:
    workbook = _open(write_template_xlsx(_spec("en")))
    sheet = workbook["Data"]
    sheet["D3"] = 205
    sheet["E3"] = "yes"
    sheet["D4"] = 63.1
    sheet["D5"] = 64.9
    sheet["F5"] = "Survey 2025"
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_file("template.xlsx", buffer.getvalue(), context)
    assert result.ok
    assert result.errors == []
    assert [(r.row, r.indicator, r.year, r.value, r.estimated) for r in result.rows] == [
        (2, "dwellings_renovated", 2024, Decimal("180"), False),
        (3, "dwellings_renovated", 2025, Decimal("205"), True),
        (4, "perceived_safety_share", 2024, Decimal("63.1"), False),
        (5, "perceived_safety_share", 2025, Decimal("64.9"), False),
    ]


def test_untouched_template_says_there_is_nothing_to_import(context: IngestContext) -> None:
    spec = _spec()
    empty = TemplateSpec(
        spec.loan,
        spec.loan_title,
        spec.borrower,
        [2025],
        [TemplateLine(**{**line.__dict__, "previous": {}}) for line in spec.lines],
    )
    result = parse_file("template.xlsx", write_template_xlsx(empty), context)
    assert not result.ok
    assert [(i.code, i.severity) for i in result.issues] == [
        ("missing-value", "warning"),
        ("missing-value", "warning"),
        ("empty-file", "error"),
    ]


def test_swedish_csv_template() -> None:
    text = write_template_csv(_spec()).decode("utf-8")
    assert text.startswith("\ufefflån;indikator;år;värde;")
    lines = text.splitlines()
    assert lines[3] == (
        "SH-2023-001;perceived_safety_share;2024;;;;;;;Andel trygga;%;61,5;2022;75;2032;2023;62,3"
    )


def test_english_csv_template() -> None:
    lines = write_template_csv(_spec(), swedish=False).decode("utf-8-sig").splitlines()
    assert lines[0].startswith("loan,indicator,year,value,estimated,comment,group,n,std_error,name")
    assert lines[3].endswith("Andel trygga,%,61.5,2022,75,2032,2023,62.3")


@pytest.mark.parametrize("swedish", [True, False])
def test_filled_in_csv_template_imports_cleanly(swedish: bool, context: IngestContext) -> None:
    separator, decimal = (";", ",") if swedish else (",", ".")
    lines = write_template_csv(_spec(), swedish=swedish).decode("utf-8-sig").splitlines()
    cells = lines[4].split(separator)
    cells[3] = f"64{decimal}9"
    lines[4] = separator.join(cells)
    result = parse_file("t.csv", "\n".join(lines).encode("utf-8"), context)
    assert result.ok
    assert [(r.row, r.year, r.value) for r in result.rows] == [
        (2, 2024, Decimal(180)),
        (5, 2025, Decimal("64.9")),
    ]
