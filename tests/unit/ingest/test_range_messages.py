"""An out-of-range value is explained with the allowed range written as the reader writes numbers:
decimal comma in Swedish, decimal point in English."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lanportfolj.ingest import ImportIssue, IngestContext, LoanIndicatorRule, parse_file

pytestmark = pytest.mark.unit


@pytest.fixture
def context() -> IngestContext:
    rules = [
        LoanIndicatorRule(
            "SH-2023-001", "perceived_safety_share", 2022, Decimal("0.5"), Decimal("99.5"), False
        ),
        LoanIndicatorRule("SH-2023-001", "dwellings_renovated", 2022, Decimal("0.5"), None, False),
        LoanIndicatorRule(
            "SH-2024-002", "home_visits_new_parents", 2022, None, Decimal("12.25"), False
        ),
    ]
    return IngestContext(
        known_loans=frozenset({"SH-2023-001", "SH-2024-002"}),
        known_indicators=frozenset(
            {"perceived_safety_share", "dwellings_renovated", "home_visits_new_parents"}
        ),
        rules={(rule.loan, rule.indicator): rule for rule in rules},
        current_year=2026,
        allowed_loans=None,
        max_bytes=10 * 1024 * 1024,
    )


def _out_of_range(row: int, value: str, sv_range: str, en_range: str, code: str) -> ImportIssue:
    return ImportIssue(
        code="out-of-range",
        row=row,
        column="value",
        value=value,
        message_sv=f"Värdet {value} ligger utanför det tillåtna intervallet {sv_range} för {code}.",
        message_en=f"The value {value} is outside the allowed range {en_range} for {code}.",
        file="ranges.csv",
        severity="error",
    )


def test_bounds_with_decimals_are_written_in_each_language(context: IngestContext) -> None:
    text = (
        "loan,indicator,year,value\n"
        "SH-2023-001,perceived_safety_share,2024,99.75\n"
        "SH-2023-001,dwellings_renovated,2024,0.25\n"
        "SH-2024-002,home_visits_new_parents,2024,13\n"
        "SH-2023-001,perceived_safety_share,2025,99.5\n"
    )
    result = parse_file("ranges.csv", text.encode("utf-8"), context)
    assert result.issues == [
        _out_of_range(2, "99.75", "0,5–99,5", "0.5–99.5", "perceived_safety_share"),
        _out_of_range(3, "0.25", "≥ 0,5", "≥ 0.5", "dwellings_renovated"),
        _out_of_range(4, "13", "≤ 12,25", "≤ 12.25", "home_visits_new_parents"),
    ]
    assert [(row.row, row.value) for row in result.rows] == [(5, Decimal("99.5"))]
