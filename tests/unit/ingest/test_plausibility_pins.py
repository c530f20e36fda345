"""Plausibility warnings compared whole (every field, both languages), so a wrong message key, direction
or year cannot pass (mutation testing, issue 20)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import polars as pl
import pytest

from lanportfolj.ingest import IngestContext, LoanIndicatorRule, parse_file
from lanportfolj.ingest.issues import ImportIssue

from .conftest import build_context

pytestmark = pytest.mark.unit

RENT = LoanIndicatorRule("SH-2023-001", "average_rent", 2022, Decimal(0), None, False)


@pytest.fixture(scope="module")
def rent_context() -> IngestContext:
    """The test loan also reports an average rent (decimals allowed), with no stored values."""
    base = build_context()
    return replace(
        base,
        known_indicators=base.known_indicators | {"average_rent"},
        rules={**base.rules, ("SH-2023-001", "average_rent"): RENT},
        indicator_names={"average_rent": ("Genomsnittlig hyra", "Average rent")},
    )


def _with_previous(context: IngestContext, year: int, value: str) -> IngestContext:
    previous = pl.DataFrame(
        {
            "loan": ["SH-2023-001"],
            "indicator": ["average_rent"],
            "group": [""],
            "year": [year],
            "value": [value],
        },
        schema={
            "loan": pl.String,
            "indicator": pl.String,
            "group": pl.String,
            "year": pl.Int64,
            "value": pl.String,
        },
    )
    return replace(context, previous=previous)


def _issues(line: str, context: IngestContext) -> list[ImportIssue]:
    text = f"lån;indikator;år;värde\r\n{line}\r\n"
    return parse_file("w.csv", text.encode(), context).issues


def test_ambiguous_thousands_in_a_new_series_names_no_last_year(
    rent_context: IngestContext,
) -> None:
    assert _issues('SH-2023-001;average_rent;2025;"1,270"', rent_context) == [
        ImportIssue(
            code="ambiguous-thousands",
            row=2,
            column="value",
            value="1,270",
            message_sv="'1,270' läses som 1,27 (kommatecken som decimaltecken). Menade du 1 270? "
            "Skriv då talet utan skiljetecken.",
            message_en="'1,270' is read as 1.27 (the comma as a decimal mark). Did you mean 1 270? "
            "Then write the number without separators.",
            file="w.csv",
            severity="warning",
        )
    ]


def test_a_value_fifty_times_last_years_must_be_confirmed_as_larger(
    rent_context: IngestContext,
) -> None:
    context = _with_previous(rent_context, 2024, "12")
    assert _issues("SH-2023-001;average_rent;2025;600", context) == [
        ImportIssue(
            code="far-from-previous",
            row=2,
            column="value",
            value="600",
            message_sv="Värdet 600 för Genomsnittlig hyra är minst 50 gånger större än 2024 års värde "
            "12. Kontrollera enheten (procent eller andel, tusental) och bekräfta innan värdena "
            "sparas.",
            message_en="The value 600 for Average rent is at least 50 times larger than the 2024 value "
            "12. Check the unit (percent or fraction, thousands) and confirm before the values are "
            "stored.",
            file="w.csv",
            severity="warning",
            confirm=True,
        )
    ]
