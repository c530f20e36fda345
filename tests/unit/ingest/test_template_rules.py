"""The English template's number rules, whole (type, bounds, error title and text, prompt), and its fixed
creation time, the reason the same spec gives the same bytes on any day (mutation testing, issue 20)."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import openpyxl
import pytest

from lanportfolj.ingest import TemplateLine, TemplateSpec, write_template_xlsx

pytestmark = pytest.mark.unit


@pytest.fixture
def workbook() -> openpyxl.Workbook:
    spec = TemplateSpec(
        loan="SH-2024-002",
        loan_title="Familjecentral i Vara",
        borrower="Vara kommun",
        years=[2025],
        lines=[
            TemplateLine(
                "home_visits_new_parents",
                "Home visits to new parents",
                "visits",
                Decimal(40),
                2023,
                Decimal(120),
                2027,
                {},
                integer=True,
                min_value=Decimal(0),
            ),
            TemplateLine("average_rent", "Average rent", "SEK/m²", None, None, None, None, {}),
        ],
        lang="en",
    )
    return openpyxl.load_workbook(io.BytesIO(write_template_xlsx(spec)))


def test_each_indicator_row_has_its_number_rule_in_english(workbook: openpyxl.Workbook) -> None:
    rules = [
        (dv.type, str(dv.sqref), dv.formula1, dv.formula2, dv.errorTitle, dv.error, dv.promptTitle,
         dv.prompt)
        for dv in workbook["Data"].data_validations.dataValidation
        if str(dv.sqref) in ("D2", "D3")
    ]  # fmt: skip
    assert rules == [
        ("whole", "D2", "0", "1000000000000000", "Värde / Value", "Enter a whole number.",
         "home_visits_new_parents", "Home visits to new parents (visits)"),
        ("decimal", "D3", "-1000000000000000.0", "1000000000000000.0", "Värde / Value",
         "Enter a number.", "average_rent", "Average rent (SEK/m²)"),
    ]  # fmt: skip


def test_the_template_is_dated_by_the_fixed_creation_time(workbook: openpyxl.Workbook) -> None:
    properties = workbook.properties
    assert (properties.created, properties.title, properties.creator) == (
        datetime(2024, 1, 1, 0, 0, 0),
        "SH-2024-002 Familjecentral i Vara",
        "lanportfolj",
    )
