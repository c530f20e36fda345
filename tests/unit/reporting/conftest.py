"""The hand-computed report fixture: a EUR bond over four co-financed loans in two categories.

Every expected figure in the tests is worked out by hand from these numbers (see the comments there).

FX: 1 EUR = 11.5 SEK. Issue 2025-04-01, report 2025-12-31, look-back 24 months → cutoff 2023-04-01.

| loan        | borrower | category         | outstanding SEK | cost SEK   | share      | disbursed             |
|-------------|----------|------------------|-----------------|------------|------------|-----------------------|
| SH-2023-001 | A        | housing          | 23 000 000.00   | 46 000 000 | 0.5        | 2025-05-10 financing  |
| SH-2022-002 | B        | housing          | 11 500 000.00   | 34 500 000 | 0.33333333 | 2023-06-15 refinanc.  |
| SH-2021-003 | A        | health_education | 5 750 001.00    | 4 000 000  | 1 (capped) | 2021-09-01 refinanc.* |
| SH-2024-004 | C        | health_education | 2 300 000.00    | 9 200 000  | 0.25       | 2025-09-01 financing  |

(* older than the look-back.) Three more loans are outside the pool: not eligible, a draft, and one
disbursed after the report date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import polars as pl
import pytest

from lanportfolj.reporting.inputs import BondInfo, FxRate, ReportInputs

MONEY = pl.Decimal(38, 2)
VALUE = pl.Decimal(38, 4)


def _loan(
    ref: str,
    borrower: str,
    orgnr: str,
    category: str,
    icma: str,
    disbursed: str,
    outstanding: str,
    cost: str | None,
    when: date | None,
    status: str = "active",
    eligible: bool = True,
) -> dict[str, Any]:
    return {
        "reference": ref,
        "borrower": borrower,
        "borrower_orgnr": orgnr,
        "title": f"Project {ref}",
        "programme_category": category,
        "icma_category": icma,
        "sdgs": ["11.1"],
        "currency": "SEK",
        "amount": D(disbursed),
        "disbursed_amount": D(disbursed),
        "outstanding_amount": D(outstanding),
        "total_project_cost": D(cost) if cost is not None else None,
        "disbursement_date": when,
        "maturity_date": date(2035, 1, 1),
        "status": status,
        "eligible": eligible,
    }


LOAN_SCHEMA = {
    "reference": pl.String,
    "borrower": pl.String,
    "borrower_orgnr": pl.String,
    "title": pl.String,
    "programme_category": pl.String,
    "icma_category": pl.String,
    "sdgs": pl.List(pl.String),
    "currency": pl.String,
    "amount": MONEY,
    "disbursed_amount": MONEY,
    "outstanding_amount": MONEY,
    "total_project_cost": MONEY,
    "disbursement_date": pl.Date,
    "maturity_date": pl.Date,
    "status": pl.String,
    "eligible": pl.Boolean,
}


def make_loans() -> pl.DataFrame:
    """The seven loans of the fixture (four in the pool)."""
    rows = [
        _loan("SH-2023-001", "Alby Bostäder", "556000-0001", "housing", "affordable_housing",
              "23000000.00", "23000000.00", "46000000.00", date(2025, 5, 10)),
        _loan("SH-2022-002", "Bergby kommun", "212000-0002", "housing", "affordable_housing",
              "12000000.00", "11500000.00", "34500000.00", date(2023, 6, 15)),
        _loan("SH-2021-003", "Alby Bostäder", "556000-0001", "health_education",
              "access_to_essential_services", "6000000.00", "5750001.00", "4000000.00",
              date(2021, 9, 1)),
        _loan("SH-2024-004", "Cedertuna region", "232100-0003", "health_education",
              "access_to_essential_services", "2300000.00", "2300000.00", "9200000.00",
              date(2025, 9, 1)),
        _loan("SH-2024-005", "Dalby kommun", "212000-0004", "safety", "socioeconomic_advancement",
              "9000000.00", "9000000.00", "9000000.00", date(2024, 1, 1), eligible=False),
        _loan("SH-2025-006", "Dalby kommun", "212000-0004", "safety", "socioeconomic_advancement",
              "0.00", "0.00", "5000000.00", None, status="draft"),
        _loan("SH-2025-007", "Edsby kommun", "212000-0005", "safety", "socioeconomic_advancement",
              "1000000.00", "1000000.00", "2000000.00", date(2026, 2, 1)),
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=LOAN_SCHEMA)


def make_indicators() -> pl.DataFrame:
    """Six indicators: one per aggregation kind plus the ratio's numerator and denominator."""
    rows = [
        ("DWELL", "Dwellings renovated", "Renoverade bostäder", "dwellings", "output", "increase",
         "sum", None, None),
        ("VISITS", "Home visits", "Hembesök", "visits", "output", "increase", "sum", None, None),
        ("STOCK", "Children enrolled (cumulative)", "Inskrivna barn (kumulativt)", "children",
         "outcome", "increase", "latest", None, None),
        ("EMPL_RATE", "Tenants employed", "Sysselsatta hyresgäster", "%", "outcome", "increase",
         "ratio", "EMPLOYED", "TENANTS"),
        ("EMPLOYED", "Employed tenants", "Sysselsatta", "persons", "outcome", "increase", "sum",
         None, None),
        ("TENANTS", "Tenants", "Hyresgäster", "persons", "output", "increase", "latest", None,
         None),
        ("SAFETY", "=Safety index", "Trygghetsindex", "index", "outcome", "increase", "none",
         None, None),
    ]  # fmt: skip
    return pl.DataFrame(
        rows,
        schema=[
            "code",
            "name_en",
            "name_sv",
            "unit",
            "kind",
            "direction",
            "aggregation",
            "numerator",
            "denominator",
        ],
        orient="row",
    )


def make_loan_indicators() -> pl.DataFrame:
    """Which loan uses which indicator, with baselines and targets."""
    rows = [
        ("SH-2023-001", "DWELL", "0", 2023, "100", 2026, "+Borrower's register"),
        ("SH-2023-001", "EMPL_RATE", "80", 2023, "95", 2028, "SCB"),
        ("SH-2023-001", "SAFETY", "3.2", 2022, "4.5", 2030, "Survey"),
        ("SH-2022-002", "DWELL", "0", 2022, "60", 2025, "Borrower's register"),
        ("SH-2022-002", "EMPL_RATE", "4", 2022, "10", 2027, "SCB"),
        ("SH-2021-003", "VISITS", "1000", 2021, "1500", 2026, "Journal"),
        ("SH-2021-003", "STOCK", "50", 2021, "200", 2026, "Journal"),
        ("SH-2024-004", "VISITS", "40", 2024, "120", 2027, "Journal"),
        ("SH-2024-004", "STOCK", "0", 2024, "100", 2028, "Journal"),
        ("SH-2025-007", "VISITS", "0", 2025, "10", 2027, "Journal"),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "loan",
            "indicator",
            "baseline_value",
            "baseline_year",
            "target_value",
            "target_year",
            "data_source",
        ],
        orient="row",
    )
    return frame.with_columns(
        pl.col("baseline_value").map_elements(D, return_dtype=VALUE),
        pl.col("target_value").map_elements(D, return_dtype=VALUE),
    )


def make_measurements() -> pl.DataFrame:
    """The yearly values; a comparison-group row and a 2026 row must be ignored."""
    rows = [
        # loan, indicator, year, value, estimated, restated, group
        ("SH-2023-001", "DWELL", 2024, "40", False, False, ""),
        ("SH-2023-001", "DWELL", 2025, "60", True, False, ""),
        ("SH-2023-001", "DWELL", 2025, "999", False, False, "comparison"),
        ("SH-2023-001", "DWELL", 2026, "70", False, False, ""),
        ("SH-2022-002", "DWELL", 2025, "30", False, True, ""),
        ("SH-2023-001", "EMPLOYED", 2025, "45", False, False, ""),
        ("SH-2023-001", "TENANTS", 2025, "50", False, False, ""),
        ("SH-2022-002", "EMPLOYED", 2025, "10", True, False, ""),
        ("SH-2022-002", "TENANTS", 2025, "200", False, False, ""),
        ("SH-2022-002", "EMPL_RATE", 2024, "4.5", False, False, ""),
        ("SH-2023-001", "SAFETY", 2024, "3.5", False, False, ""),
        ("SH-2023-001", "SAFETY", 2025, "3.9", False, False, ""),
        ("SH-2021-003", "VISITS", 2025, "1234.5", False, False, ""),
        ("SH-2024-004", "VISITS", 2024, "50", False, False, ""),
        ("SH-2024-004", "VISITS", 2025, "101", False, False, ""),
        ("SH-2021-003", "STOCK", 2023, "100", False, False, ""),
        ("SH-2021-003", "STOCK", 2024, "150", False, False, ""),
        ("SH-2024-004", "STOCK", 2025, "80", False, False, ""),
        ("SH-2025-007", "VISITS", 2025, "5", False, False, ""),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["loan", "indicator", "year", "value", "estimated", "restated", "group"],
        orient="row",
    )
    return frame.with_columns(pl.col("value").map_elements(D, return_dtype=VALUE))


def make_inputs(**overrides: Any) -> ReportInputs:
    """The fixture's inputs; ``overrides`` replace fields (e.g. ``bond=...``)."""
    bond = BondInfo(
        isin="XS0000000009",
        name="Social Bond 2025/2030",
        currency="EUR",
        nominal_amount=D("3000000.00"),
        issue_date=date(2025, 4, 1),
        maturity_date=date(2030, 4, 1),
        coupon_pct=D("2.625"),
        framework_version="2024-1",
    )
    fields: dict[str, Any] = {
        "bond": bond,
        "report_date": date(2025, 12, 31),
        "fx": FxRate("EUR", D("11.5"), date(2025, 12, 30), "Riksbanken"),
        "loans": make_loans(),
        "indicators": make_indicators(),
        "loan_indicators": make_loan_indicators(),
        "measurements": make_measurements(),
        "all_loans_total_sek": D("425500010.00"),
        "restatements": [
            {
                "loan": "SH-2022-002",
                "indicator": "DWELL",
                "year": 2025,
                "old": D("25"),
                "new": D("30"),
                "at": date(2026, 2, 1),
            },
        ],
    }
    fields.update(overrides)
    return ReportInputs(**fields)


@pytest.fixture
def inputs() -> ReportInputs:
    """The hand-computed fixture's inputs."""
    return make_inputs()
