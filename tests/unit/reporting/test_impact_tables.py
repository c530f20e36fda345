"""The impact tables an investor reads, whole: the indicator table keeps a ratio's numerator and
denominator (the reader needs their definitions to check the percentage), the bond's ratio row is
pooled, and a decrease indicator exactly on its line to target is on track (see ``conftest`` for the
hand-computed fixture)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import polars as pl
import pytest

from conftest import make_indicators, make_inputs, make_loan_indicators, make_measurements
from lanportfolj.reporting.model import compute_report

pytestmark = pytest.mark.unit


def _definition(code: str, en: str, sv: str, unit: str, kind: str, aggregation: str) -> dict:
    return {
        "code": code,
        "name_en": en,
        "name_sv": sv,
        "unit": unit,
        "kind": kind,
        "direction": "increase",
        "aggregation": aggregation,
        "numerator": None,
        "denominator": None,
        "context": False,
        # a ratio's scale comes from its unit (an unknown unit such as "%" scales by 100)
        "ratio_scale": D(100) if aggregation == "ratio" else None,
    }


def test_the_indicator_table_keeps_the_ratio_components_no_loan_uses_on_its_own() -> None:
    # EMPLOYED and TENANTS are on no loan: they are there only as EMPL_RATE's numerator and denominator
    impact = compute_report(make_inputs()).impact
    assert impact.indicators.to_dicts() == [
        _definition("DWELL", "Dwellings renovated", "Renoverade bostäder", "dwellings", "output", "sum"),
        _definition("EMPLOYED", "Employed tenants", "Sysselsatta", "persons", "outcome", "sum"),
        {
            **_definition("EMPL_RATE", "Tenants employed", "Sysselsatta hyresgäster", "%", "outcome", "ratio"),
            "numerator": "EMPLOYED",
            "denominator": "TENANTS",
        },
        _definition("SAFETY", "=Safety index", "Trygghetsindex", "index", "outcome", "none"),
        _definition("STOCK", "Children enrolled (cumulative)", "Inskrivna barn (kumulativt)", "children", "outcome", "latest"),
        _definition("TENANTS", "Tenants", "Hyresgäster", "persons", "output", "latest"),
        _definition("VISITS", "Home visits", "Hembesök", "visits", "output", "sum"),
    ]  # fmt: skip


def test_the_bonds_ratio_row_is_pooled_and_carries_no_attribution() -> None:
    impact = compute_report(make_inputs()).impact
    assert impact.bond.filter(indicator="EMPL_RATE").to_dicts() == [
        {
            "indicator": "EMPL_RATE",
            "aggregation": "ratio",
            "year": 2025,
            "loan_count": 2,
            "value": D("22.0000"),  # (45 + 10) / (50 + 200) × 100
            "attributed": None,
            "bond_attributed": None,
            "numerator": D("55.0000"),
            "denominator": D("250.0000"),
            "invested": D("3000000.00"),
            "per_million": None,
            "estimated": True,
            "restated": False,
            # coverage: both loans with the ratio reported it (2 000 000 + 1 000 000 EUR) of the
            # pool's 3 700 000.09 EUR; the other two loans (500 000.09 + 200 000) do not have it
            "coverage_base": D("3700000.09"),
            "covered_amount": D("3000000.00"),
            "coverage_share": D("0.81081079"),
            "missing_not_yet_due": D("0.00"),
            "missing_overdue": D("0.00"),
            "missing_not_applicable": D("700000.09"),
        }
    ]


def test_a_decrease_indicator_exactly_on_its_line_is_on_track_and_just_above_it_is_not() -> None:
    # out-of-home placements, lower is better: SH-2024-004 40 (2024) → 20 (2028) expects 35 in 2025
    # and reports 35; SH-2021-003 30 (2021) → 10 (2026) expects 14 in 2025 and reports 14.0001;
    # SH-2023-001 50 (2020) → 40 (2024) reports its target a year late: the line stops at the target
    indicators = make_indicators()
    loan_indicators = make_loan_indicators()
    measurements = make_measurements()
    place = ("PLACE", "Out-of-home placements", "Placeringar utanför hemmet", "children")
    inputs = make_inputs(
        indicators=pl.concat(
            [
                indicators,
                pl.DataFrame(
                    [(*place, "outcome", "decrease", "latest", None, None)],
                    schema=indicators.schema,
                    orient="row",
                ),
            ]
        ),
        loan_indicators=pl.concat(
            [
                loan_indicators,
                pl.DataFrame(
                    [
                        ("SH-2024-004", "PLACE", D("40"), 2024, D("20"), 2028, "Socialtjänsten"),
                        ("SH-2021-003", "PLACE", D("30"), 2021, D("10"), 2026, "Socialtjänsten"),
                        ("SH-2023-001", "PLACE", D("50"), 2020, D("40"), 2024, "Socialtjänsten"),
                    ],
                    schema=loan_indicators.schema,
                    orient="row",
                ),
            ]
        ),
        measurements=pl.concat(
            [
                measurements,
                pl.DataFrame(
                    [
                        ("SH-2024-004", "PLACE", 2025, D("35"), False, False, ""),
                        ("SH-2021-003", "PLACE", 2025, D("14.0001"), False, False, ""),
                        ("SH-2023-001", "PLACE", 2025, D("40"), False, False, ""),
                    ],
                    schema=measurements.schema,
                    orient="row",
                ),
            ]
        ),
        report_date=date(2025, 12, 31),
    )
    per_loan = compute_report(inputs).impact.per_loan
    rows = (
        per_loan.filter(indicator="PLACE")
        .select("loan", "latest_value", "change_abs", "change_pct", "on_track")
        .rows()
    )
    assert rows == [
        ("SH-2021-003", D("14.0001"), D("-15.9999"), D("-53.33"), False),
        ("SH-2023-001", D("40.0000"), D("-10.0000"), D("-20.00"), True),
        ("SH-2024-004", D("35.0000"), D("-5.0000"), D("-12.50"), True),
    ]
    # the table reads loan by loan, each loan's indicators in code order, whatever order they came in
    pairs = per_loan.select("loan", "indicator").rows()
    assert pairs == sorted(pairs)


def test_a_per_loan_row_carries_the_value_expected_at_approval() -> None:
    # the register's "Förväntat vid beslut / Expected at approval" column is read from this row
    expected = make_loan_indicators().with_columns(
        expected_value=pl.when(loan="SH-2023-001", indicator="DWELL")
        .then(pl.lit(D("90")))
        .cast(pl.Decimal(38, 4))
    )
    per_loan = compute_report(make_inputs(loan_indicators=expected)).impact.per_loan
    assert per_loan.filter(loan="SH-2023-001", indicator="DWELL").to_dicts() == [
        {
            "loan": "SH-2023-001",
            "borrower": "Alby Bostäder",
            "programme_category": "housing",
            "indicator": "DWELL",
            "aggregation": "sum",
            "baseline_value": D("0.0000"),
            "baseline_year": 2023,
            # 2024: 40, 2025: 60 (estimated); the comparison group's 999 and 2026's 70 do not count
            "latest_year": 2025,
            "latest_value": D("60.0000"),
            "target_value": D("100.0000"),
            "target_year": 2026,
            "expected_value": D("90.0000"),
            "change_abs": D("60.0000"),
            "change_pct": None,  # no percentage of a baseline of 0
            # the line to target: 100 over 3 years, 2 years in → 66.67 planned; 60 is behind it
            "on_track": False,
            "share": D("0.50000000"),  # 23 000 000 outstanding of a 46 000 000 project
            "latest_attributed": D("30.0000"),
            "latest_estimated": True,
            "any_estimated": True,
            "any_restated": False,
            "years_reported": 2,
            "data_source": "+Borrower's register",
        }
    ]
    # a row without an expected value says so rather than borrowing one
    assert per_loan.filter(loan="SH-2022-002", indicator="DWELL")["expected_value"].to_list() == [
        None
    ]
