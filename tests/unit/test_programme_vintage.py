"""The programme's dated test days and the pool by vintage (domain/programme.py), as whole results:
the month ends and report days of the dated test, a loan's outstanding spread over its tranches, and the
vintage table with its look-back count (issue 20)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lanportfolj.domain.programme import (
    PoolLoan,
    Tranche,
    VintageRow,
    history_dates,
    month_ends,
    tranche_outstanding,
    vintage,
)

pytestmark = pytest.mark.unit


def test_month_ends_across_the_new_year() -> None:
    assert month_ends(date(2024, 11, 15), date(2025, 2, 28)) == [
        date(2024, 11, 30),
        date(2024, 12, 31),
        date(2025, 1, 31),
        date(2025, 2, 28),
    ]


def test_month_ends_of_a_leap_february_up_to_a_day_before_the_end() -> None:
    assert month_ends(date(2024, 2, 29), date(2024, 4, 29)) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
    ]
    assert month_ends(date(2024, 5, 2), date(2024, 5, 30)) == []


def test_the_dated_test_days_from_the_first_issue() -> None:
    reports = [
        date(2024, 12, 31),  # also a month end: a report
        date(2025, 2, 10),
        date(2025, 3, 15),  # the as-of day itself: a report
        date(2024, 10, 1),  # before the first issue: not a test day
        date(2025, 4, 1),  # after as-of: not yet
    ]
    assert history_dates(date(2024, 11, 20), date(2025, 3, 15), reports) == [
        (date(2024, 11, 30), "month_end"),
        (date(2024, 12, 31), "report"),
        (date(2025, 1, 31), "month_end"),
        (date(2025, 2, 10), "report"),
        (date(2025, 2, 28), "month_end"),
        (date(2025, 3, 15), "report"),
    ]


def test_the_as_of_day_is_a_test_day_of_its_own() -> None:
    assert history_dates(date(2025, 3, 2), date(2025, 3, 20), []) == [(date(2025, 3, 20), "as_of")]


def _loan(outstanding: str, *tranches: Tranche) -> PoolLoan:
    return PoolLoan(
        reference="SH-2023-001",
        borrower="Stockholms stad",
        status="active",
        disbursement_date=tranches[0].day if tranches else None,
        disbursed_amount=sum((t.amount for t in tranches), Decimal("0.00")),
        outstanding_amount=Decimal(outstanding),
        maturity_date=date(2040, 1, 1),
        tranches=tranches,
    )


T1 = Tranche(date(2021, 3, 1), Decimal("10000000.00"))
T2 = Tranche(date(2023, 6, 1), Decimal("10000000.00"))
T3 = Tranche(date(2024, 9, 1), Decimal("10000000.00"), "refinancing")


def test_the_outstanding_spread_over_three_tranches_adds_up_on_the_latest() -> None:
    loan = _loan("10000000.00", T1, T2, T3)
    assert tranche_outstanding(loan, date(2025, 1, 1)) == [
        (T1, Decimal("3333333.33")),
        (T2, Decimal("3333333.33")),
        (T3, Decimal("3333333.34")),
    ]
    # before the third tranche only the two drawn then share the outstanding
    assert tranche_outstanding(loan, date(2024, 1, 1)) == [
        (T1, Decimal("5000000.00")),
        (T2, Decimal("5000000.00")),
    ]


def test_the_pool_by_vintage_counts_refinancing_beyond_the_look_back() -> None:
    first_issue, cutoff = date(2023, 1, 1), date(2021, 6, 1)
    loans = [
        _loan("30000000.00", T1, T2, T3),
        _loan("2000000.00", Tranche(date(2023, 8, 1), Decimal("2000000.00"))),
        _loan("1000000.00", Tranche(date(2021, 9, 1), Decimal("1000000.00"))),
    ]
    assert vintage(loans, date(2025, 1, 1), first_issue, cutoff) == [
        VintageRow(2021, "refinancing", Decimal("11000000.00"), 2, 1),
        VintageRow(2023, "financing", Decimal("12000000.00"), 2, 0),
        VintageRow(2024, "refinancing", Decimal("10000000.00"), 1, 0),
    ]
