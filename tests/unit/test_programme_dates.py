"""``domain.programme``: a loan's amount as it left the pool and its status at a past date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lanportfolj.domain.programme import (
    LifeEvent,
    PoolLoan,
    Tranche,
    left_pool,
    outstanding_at,
    outstanding_before,
    status_on,
)


def _loan(status: str, outstanding: str, events: tuple[LifeEvent, ...]) -> PoolLoan:
    return PoolLoan(
        reference="SH-1",
        borrower="Stockholms stad",
        status=status,
        disbursement_date=date(2023, 1, 10),
        disbursed_amount=Decimal("50000000.00"),
        outstanding_amount=Decimal(outstanding),
        maturity_date=date(2040, 1, 1),
        tranches=(
            Tranche(date(2023, 1, 10), Decimal("40000000.00")),
            Tranche(date(2024, 1, 10), Decimal("10000000.00")),
        ),
        events=events,
    )


PREPAID = LifeEvent("prepaid", date(2024, 3, 1), Decimal("20000000.00"))
REPAID = LifeEvent("repaid", date(2025, 6, 15), Decimal("30000000.00"))


def test_a_repaid_loan_left_with_what_it_owed_after_the_earlier_prepayment() -> None:
    loan = _loan("repaid", "0.00", (PREPAID, REPAID))
    assert left_pool(loan) == REPAID
    assert outstanding_before(loan, REPAID.day) == Decimal("30000000.00")
    # before the prepayment it owed all it had drawn then (two tranches: 50 m)
    assert outstanding_before(loan, PREPAID.day) == Decimal("50000000.00")
    assert outstanding_at(loan, date(2025, 6, 14)) == Decimal("30000000.00")
    assert outstanding_at(loan, REPAID.day) == Decimal("0.00")


def test_a_loan_repaid_later_was_active_at_an_earlier_date() -> None:
    loan = _loan("repaid", "0.00", (PREPAID, REPAID))
    assert status_on(loan, date(2025, 3, 31)) == "active"
    assert status_on(loan, REPAID.day) == "repaid"
    # before its first tranche it was only approved
    assert status_on(loan, date(2022, 12, 31)) == "approved"
    written_down = _loan(
        "active", "0.00", (LifeEvent("written_down", REPAID.day, Decimal("50000000.00")),)
    )
    assert status_on(written_down, date(2020, 1, 1)) == "active"
