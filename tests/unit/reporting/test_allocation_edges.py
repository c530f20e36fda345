"""The allocation on its date edges, as the investor report shows it: a loan disbursed on the bond's issue
day is new financing, one disbursed the day before is refinancing, a loan exactly at the look-back limit
is not flagged, one disbursed on the report day is in the pool; and a loan without a total project cost
is flagged in both languages.

A SEK bond of 20 000 000 issued 2025-04-01, reported 2025-12-31 (look-back 24 months → 2023-04-01):

| loan        | disbursed  | amount     | outstanding | project cost | funding     |
|-------------|------------|------------|-------------|--------------|-------------|
| SH-2025-001 | 2025-04-01 | 16 000 000 | 16 000 000  | 20 000 000   | financing   |
| SH-2025-002 | 2025-03-31 |  8 000 000 |  7 500 000  | (missing)    | refinancing |
| SH-2023-003 | 2023-04-01 |  4 000 000 |  4 000 000  |  4 000 000   | refinancing |
| SH-2025-004 | 2025-12-31 |  1 000 000 |  1 000 000  |  3 000 000   | financing   |
| SH-2026-005 | 2026-01-01 |  2 000 000 |  2 000 000  |  2 000 000   | (not yet)   |
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import polars as pl
import pytest

from conftest import LOAN_SCHEMA
from lanportfolj.domain.allocation import Allocation, BondInfo, FxRate, Message, allocate

pytestmark = pytest.mark.unit

ISSUE = date(2025, 4, 1)


def _loan(ref: str, when: date, amount: str, outstanding: str, cost: str | None) -> dict:
    return {
        "reference": ref,
        "borrower": "Vara kommun",
        "borrower_orgnr": "212000-1000",
        "title": f"Familjecentral {ref}",
        "programme_category": "health_education",
        "icma_category": "access_to_essential_services",
        "sdgs": ["3.2"],
        "currency": "SEK",
        "amount": D(amount),
        "disbursed_amount": D(amount),
        "outstanding_amount": D(outstanding),
        "total_project_cost": None if cost is None else D(cost),
        "disbursement_date": when,
        "maturity_date": date(2035, 1, 1),
        "status": "active",
        "eligible": True,
    }


@pytest.fixture
def allocation() -> Allocation:
    loans = pl.DataFrame(
        [
            _loan("SH-2025-001", ISSUE, "16000000.00", "16000000.00", "20000000.00"),
            _loan("SH-2025-002", date(2025, 3, 31), "8000000.00", "7500000.00", None),
            _loan("SH-2023-003", date(2023, 4, 1), "4000000.00", "4000000.00", "4000000.00"),
            _loan("SH-2025-004", date(2025, 12, 31), "1000000.00", "1000000.00", "3000000.00"),
            _loan("SH-2026-005", date(2026, 1, 1), "2000000.00", "2000000.00", "2000000.00"),
        ],
        schema=LOAN_SCHEMA,
    )
    bond = BondInfo(
        isin="SE0000000001",
        name="Social Bond 2025/2028",
        currency="SEK",
        nominal_amount=D("20000000.00"),
        issue_date=ISSUE,
        maturity_date=date(2028, 9, 1),
        coupon_pct=D("2.625"),
        framework_version="2024-1",
    )
    fx = FxRate("SEK", D("1"), date(2025, 12, 30), "Riksbanken")
    return allocate(bond=bond, fx=fx, loans=loans, report_date=date(2025, 12, 31))


def test_the_financing_split_counts_a_loan_disbursed_on_the_issue_day_as_new_financing(
    allocation: Allocation,
) -> None:
    assert allocation.financing.to_dicts() == [
        {
            "funding": "financing",
            "loan_count": 2,
            "outstanding": D("17000000.00"),
            "share_of_pool": D("0.59649123"),  # 17 / 28.5
        },
        {
            "funding": "refinancing",
            "loan_count": 2,
            "outstanding": D("11500000.00"),
            "share_of_pool": D("0.40350877"),
        },
    ]
    assert (allocation.financing_amount, allocation.refinancing_amount) == (
        D("17000000.00"),
        D("11500000.00"),
    )


def test_each_pool_loan_keeps_its_sek_amounts_share_funding_and_look_back_flag(
    allocation: Allocation,
) -> None:
    columns = [
        "reference",
        "disbursement_date",
        "amount_sek",
        "disbursed_sek",
        "outstanding_sek",
        "total_project_cost_sek",
        "disbursed",
        "outstanding",
        "project_share",
        "funding",
        "lookback_exceeded",
    ]
    assert allocation.loans.select(columns).rows() == [
        ("SH-2023-003", date(2023, 4, 1), D("4000000.00"), D("4000000.00"), D("4000000.00"),
         D("4000000.00"), D("4000000.00"), D("4000000.00"), D("1.00000000"), "refinancing", False),
        ("SH-2025-001", ISSUE, D("16000000.00"), D("16000000.00"), D("16000000.00"),
         D("20000000.00"), D("16000000.00"), D("16000000.00"), D("0.80000000"), "financing", False),
        ("SH-2025-002", date(2025, 3, 31), D("8000000.00"), D("8000000.00"), D("7500000.00"),
         None, D("8000000.00"), D("7500000.00"), None, "refinancing", False),
        ("SH-2025-004", date(2025, 12, 31), D("1000000.00"), D("1000000.00"), D("1000000.00"),
         D("3000000.00"), D("1000000.00"), D("1000000.00"), D("0.33333333"), "financing", False),
    ]  # fmt: skip


def test_the_totals_and_the_only_flag_a_reader_sees(allocation: Allocation) -> None:
    figures = {
        name: getattr(allocation, name)
        for name in (
            "nominal_amount",
            "pool_outstanding_sek",
            "pool_outstanding",
            "pool_disbursed",
            "allocated",
            "unallocated",
            "bond_share_of_pool",
            "bond_share_capped",
            "loan_count",
            "borrower_count",
            "pool_smaller_than_bond",
            "lookback_exceeded_count",
            "lookback_cutoff",
        )
    }
    assert figures == {
        "nominal_amount": D("20000000.00"),
        "pool_outstanding_sek": D("28500000.00"),
        "pool_outstanding": D("28500000.00"),
        "pool_disbursed": D("29000000.00"),
        "allocated": D("20000000.00"),
        "unallocated": D("0.00"),
        "bond_share_of_pool": D("0.70175439"),  # 20 / 28.5: outstanding basis (issue 17)
        "bond_share_capped": False,
        "loan_count": 4,
        "borrower_count": 1,
        "pool_smaller_than_bond": False,
        "lookback_exceeded_count": 0,
        "lookback_cutoff": date(2023, 4, 1),
    }
    assert allocation.messages == (
        Message(
            "total_project_cost_missing",
            "1 lån saknar total projektkostnad: SH-2025-002 (7\u00a0500\u00a0000\u00a0kr). Deras "
            "effekter tillskrivs inte, och 7\u00a0500\u00a0000\u00a0kr utestående räknas inte in i "
            "basen för effekter per miljon.",
            "1 loans lack a total project cost: SH-2025-002 (SEK\u00a07,500,000). Their impact is "
            "not attributed, and their SEK\u00a07,500,000 outstanding is left out of the base of "
            "the per-million figures.",
        ),
    )


def test_a_loan_disbursed_a_day_before_the_look_back_limit_is_flagged() -> None:
    loans = pl.DataFrame(
        [_loan("SH-2023-009", date(2023, 3, 31), "500000.00", "500000.00", "1000000.00")],
        schema=LOAN_SCHEMA,
    )
    bond = BondInfo(
        isin="SE0000000001",
        name="Social Bond 2025/2028",
        currency="SEK",
        nominal_amount=D("500000.00"),
        issue_date=ISSUE,
        maturity_date=date(2028, 9, 1),
        coupon_pct=None,
        framework_version="2024-1",
    )
    fx = FxRate("SEK", D("1"), date(2025, 12, 30), "Riksbanken")
    result = allocate(bond=bond, fx=fx, loans=loans, report_date=date(2025, 12, 31))
    assert result.lookback_exceeded_count == 1
    assert result.messages == (
        Message(
            "lookback_exceeded",
            "Refinansierade lån utbetalda före 2023-04-01 (24 månader före emissionen): 1.",
            "Refinanced loans disbursed before 2023-04-01 (24 months before issue): 1.",
        ),
    )
