"""Numbers as Excel and borrowers write them into text cells: the leading apostrophe Excel uses to keep a
number as text, and its neighbours, read to the exact value the borrower typed."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from lanportfolj.ingest import IngestContext, MeasurementRow, parse_file
from lanportfolj.ingest.normalise import clean_text, number_text, number_texts

pytestmark = pytest.mark.unit


def _number(cells: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"cell": pl.Series(cells, dtype=pl.String)})
    return frame.select(number_text(clean_text("cell"))).to_series().to_list()


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("'1234", "1234"),
        ("'1 234,5", "1234.5"),
        ("'-5", "-5"),
        ("'12,5 %", "12.5"),
        ("12'34", None),  # an apostrophe inside a number is no thousands mark here
        ("''1234", None),
        ("1234'", None),
    ],
)
def test_a_leading_apostrophe_from_excel_is_not_part_of_the_number(
    cell: str, number: str | None
) -> None:
    assert _number([cell]) == [number]
    # the fast path for columns of mostly plain numbers gives the same reading
    cleaned = pl.DataFrame({"c": [cell, "7"]}).select(clean_text("c")).to_series()
    assert number_texts(cleaned).to_list() == [number, "7"]


def test_a_file_of_apostrophe_numbers_is_imported_with_the_values_typed(
    context: IngestContext,
) -> None:
    text = (
        "lån;indikator;år;värde;kommentar\n"
        "SH-2023-001;dwellings_renovated;2024;'1 200;\n"
        "SH-2023-001;perceived_safety_share;2024;'61,5;enkät\n"
    )
    result = parse_file("excel-text.csv", text.encode("utf-8"), context)
    assert result.issues == []
    assert result.rows == [
        MeasurementRow(
            row=2,
            loan="SH-2023-001",
            indicator="dwellings_renovated",
            year=2024,
            value=Decimal("1200"),
            estimated=False,
            comment=None,
        ),
        MeasurementRow(
            row=3,
            loan="SH-2023-001",
            indicator="perceived_safety_share",
            year=2024,
            value=Decimal("61.5"),
            estimated=False,
            comment="enkät",
        ),
    ]
