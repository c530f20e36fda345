"""The loans that left the pool by the report date (``domain.allocation.left_loans``): only eligible loans
disbursed by then, each on the amount it had as it left, with the year it left and its look-back flag
(issue 17 item 5; mutation testing, issue 20).

A SEK bond issued 2025-04-01 (look-back 24 months → 2023-04-01), reported 2025-12-31.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import polars as pl
import pytest

from conftest import LOAN_SCHEMA
from lanportfolj.domain.allocation import BondInfo, FxRate, left_loans

pytestmark = pytest.mark.unit

ISSUE = date(2025, 4, 1)


def _loan(ref: str, when: date, cost: str, *, eligible: bool = True) -> dict:
    return {
        "reference": ref,
        "borrower": "Vara kommun",
        "borrower_orgnr": "212000-1000",
        "title": f"Familjecentral {ref}",
        "programme_category": "health_education",
        "icma_category": "access_to_essential_services",
        "sdgs": ["3.2"],
        "currency": "SEK",
        "amount": D("10000000.00"),
        "disbursed_amount": D("10000000.00"),
        "outstanding_amount": D("0.00"),
        "total_project_cost": D(cost),
        "disbursement_date": when,
        "maturity_date": date(2035, 1, 1),
        "status": "repaid",
        "eligible": eligible,
    }


def test_the_left_loans_on_what_they_owed_as_they_left() -> None:
    loans = pl.DataFrame(
        [
            _loan("SH-2023-001", date(2023, 3, 15), "20000000.00"),  # beyond the look-back
            _loan("SH-2025-002", date(2025, 5, 1), "8000000.00"),
            _loan("SH-2024-003", date(2024, 1, 10), "9000000.00", eligible=False),
            _loan("SH-2026-004", date(2026, 1, 5), "9000000.00"),  # after the report date
            _loan("SH-2024-005", date(2024, 2, 1), "9000000.00"),  # never left
        ],
        schema=LOAN_SCHEMA,
    )
    left = {
        "SH-2023-001": (date(2025, 6, 30), D("6000000.00")),
        "SH-2025-002": (date(2025, 11, 3), D("4000000.00")),
        "SH-2024-003": (date(2025, 7, 1), D("1000000.00")),
        "SH-2026-004": (date(2026, 2, 1), D("1000000.00")),
    }
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
    frame = left_loans(bond=bond, fx=fx, loans=loans, left=left, report_date=date(2025, 12, 31))
    columns = ["reference", "outstanding_sek", "outstanding", "project_share", "funding",
               "lookback_exceeded", "last_year"]  # fmt: skip
    assert frame.select(columns).rows() == [
        ("SH-2023-001", D("6000000.00"), D("6000000.00"), D("0.30000000"), "refinancing", True,
         2025),
        ("SH-2025-002", D("4000000.00"), D("4000000.00"), D("0.50000000"), "financing", False,
         2025),
    ]  # fmt: skip
