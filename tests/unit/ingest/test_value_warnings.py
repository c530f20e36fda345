"""Values that read cleanly but are probably not meant: ambiguous thousands, ×100 off last year's value."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import polars as pl
import pytest

from lanportfolj.ingest import IngestContext, LoanIndicatorRule, parse_file
from lanportfolj.ingest.plausibility import number_text

from .conftest import build_context

pytestmark = pytest.mark.unit

RENT = LoanIndicatorRule("SH-2023-001", "average_rent", 2022, Decimal(0), None, False)


def _context(previous: list[tuple[str, str, int, str]]) -> IngestContext:
    base = build_context()
    return replace(
        base,
        known_indicators=base.known_indicators | {"average_rent"},
        rules={**base.rules, ("SH-2023-001", "average_rent"): RENT},
        indicator_names={
            "average_rent": ("Genomsnittlig hyra", "Average rent"),
            "perceived_safety_share": ("Andel som känner sig trygga", "Share feeling safe"),
        },
        previous=pl.DataFrame(
            {
                "loan": ["SH-2023-001"] * len(previous),
                "indicator": [p[0] for p in previous],
                "group": [p[1] for p in previous],
                "year": [p[2] for p in previous],
                "value": [p[3] for p in previous],
            },
            schema={
                "loan": pl.String,
                "indicator": pl.String,
                "group": pl.String,
                "year": pl.Int64,
                "value": pl.String,
            },
        ),
    )


def _parse(lines: list[str], context: IngestContext):
    text = "lån;indikator;år;värde\r\n" + "".join(f"{line}\r\n" for line in lines)
    return parse_file("w.csv", text.encode(), context)


def test_ambiguous_thousands_warns_naming_last_years_value() -> None:
    context = _context([("average_rent", "", 2023, "1201"), ("average_rent", "", 2024, "1265")])
    result = _parse(['SH-2023-001;average_rent;2025;"1,270"'], context)
    assert result.ok  # a warning: the borrower is told, the file is not refused
    assert [r.value for r in result.rows] == [Decimal("1.27")]
    codes = [(i.code, i.severity, i.confirm) for i in result.issues]
    assert ("ambiguous-thousands", "warning", False) in codes
    ambiguous = next(i for i in result.issues if i.code == "ambiguous-thousands")
    assert ambiguous.message_sv == (
        "'1,270' läses som 1,27 (kommatecken som decimaltecken); 2024 var värdet 1 265. Menade du "
        "1 270? Skriv då talet utan skiljetecken."
    )
    assert "in 2024 the value was 1 265" in ambiguous.message_en
    # and 1.27 against 1 265 is far off: a warning the borrower must confirm
    far = next(i for i in result.issues if i.code == "far-from-previous")
    assert far.confirm and far.severity == "warning"
    assert "Genomsnittlig hyra" in far.message_sv and "1 265" in far.message_sv


def test_a_decimal_that_fits_last_year_is_not_questioned() -> None:
    context = _context([("average_rent", "", 2024, "1.25")])
    result = _parse(['SH-2023-001;average_rent;2025;"1,270"'], context)
    assert result.issues == []


def test_the_thousands_reading_outside_the_range_is_no_ambiguity() -> None:
    # 62,125 % cannot be 62 125 %: no warning
    result = _parse(["SH-2023-001;perceived_safety_share;2025;62,125"], _context([]))
    assert result.issues == []


def test_a_fraction_for_last_years_percentage_must_be_confirmed() -> None:
    context = _context([("perceived_safety_share", "", 2024, "90.2")])
    result = _parse(["SH-2023-001;perceived_safety_share;2025;0,915"], context)
    assert result.ok
    (far,) = result.issues
    assert (far.code, far.row, far.column, far.confirm) == ("far-from-previous", 2, "value", True)
    assert far.message_sv == (
        "Värdet 0,915 för Andel som känner sig trygga är minst 50 gånger mindre än 2024 års värde "
        "90,2. Kontrollera enheten (procent eller andel, tusental) och bekräfta innan värdena "
        "sparas."
    )


@pytest.mark.parametrize(("value", "warned"), [("50", True), ("49", False), ("0,02", True)])
def test_the_factor_is_fifty_either_way(value: str, warned: bool) -> None:
    context = _context([("average_rent", "", 2024, "1")])
    result = _parse([f"SH-2023-001;average_rent;2025;{value}"], context)
    assert any(i.code == "far-from-previous" for i in result.issues) is warned


def test_only_an_earlier_year_of_the_same_series_is_compared() -> None:
    context = _context(
        [
            ("average_rent", "", 2026, "1"),  # a later year: not "last year"
            ("average_rent", "Skola B", 2024, "1"),  # another comparison unit
        ]
    )
    assert _parse(["SH-2023-001;average_rent;2025;1000"], context).issues == []


def test_no_stored_value_no_comparison() -> None:
    assert _parse(["SH-2023-001;average_rent;2025;1000"], _context([])).issues == []


@pytest.mark.parametrize(
    ("number", "sv", "en"),
    [
        (Decimal("1265"), "1 265", "1 265"),
        (Decimal("1265.50"), "1 265,50", "1 265.50"),
        (Decimal("-0.5"), "-0,5", "-0.5"),
        (Decimal("390.000000"), "390", "390"),
    ],
)
def test_numbers_in_messages(number: Decimal, sv: str, en: str) -> None:
    assert (number_text(number, "sv"), number_text(number, "en")) == (sv, en)
