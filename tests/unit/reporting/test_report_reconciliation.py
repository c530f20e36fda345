"""Reconciliation: per-loan rows add up to category totals, which add up to the bond's totals.

Run on the hand-computed fixture and on seeded synthetic portfolios in both currencies.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from conftest import make_inputs
from lanportfolj.reporting.inputs import ReportInputs
from lanportfolj.reporting.model import ReportModel, compute_report
from lanportfolj.reporting.synthetic import synthetic_inputs

pytestmark = pytest.mark.unit

CASES = {
    "fixture": lambda: make_inputs(),
    "eur-small-pool": lambda: synthetic_inputs(loans=60, indicators=8, years=4, seed=3),
    "sek-large-bond": lambda: synthetic_inputs(
        loans=40, indicators=6, years=3, seed=7, currency="SEK", nominal=Decimal("9e12")
    ),
}


@pytest.fixture(params=sorted(CASES))
def model(request: pytest.FixtureRequest) -> ReportModel:
    inputs: ReportInputs = CASES[request.param]()
    return compute_report(inputs)


def test_allocated_plus_unallocated_is_the_bond_amount(model: ReportModel) -> None:
    alloc = model.allocation
    assert alloc.allocated + alloc.unallocated == alloc.nominal_amount
    assert alloc.unallocated >= 0
    assert alloc.allocated <= alloc.pool_outstanding


def test_loans_add_up_to_categories_and_the_pool(model: ReportModel) -> None:
    alloc = model.allocation
    assert alloc.loans["outstanding"].sum() == alloc.pool_outstanding
    assert alloc.by_category["outstanding"].sum() == alloc.pool_outstanding
    assert alloc.by_icma_category["outstanding"].sum() == alloc.pool_outstanding
    assert alloc.by_category["outstanding_sek"].sum() == alloc.pool_outstanding_sek
    assert alloc.financing_amount + alloc.refinancing_amount == alloc.pool_outstanding
    assert alloc.financing["loan_count"].sum() == alloc.loan_count


def test_sum_rows_per_loan_add_up_to_category_totals(model: ReportModel) -> None:
    impact = model.impact
    per_loan = (
        impact.values.filter(aggregation="sum")
        .group_by("programme_category", "indicator", "year")
        .agg(pl.col("value").sum(), pl.col("attributed").sum(), pl.len().alias("n"))
        .sort("programme_category", "indicator", "year")
    )
    categories = impact.by_category.filter(aggregation="sum").sort(
        "programme_category", "indicator", "year"
    )
    assert per_loan.height == categories.height > 0
    assert per_loan["value"].to_list() == categories["value"].to_list()
    assert per_loan["attributed"].to_list() == categories["attributed"].to_list()
    assert per_loan["n"].cast(pl.Int64).to_list() == categories["loan_count"].to_list()


def test_latest_per_loan_adds_up_to_the_category_total_of_the_report_year(
    model: ReportModel,
) -> None:
    impact = model.impact
    year = model.report_date.year
    per_loan = (
        impact.per_loan.filter(aggregation="latest")
        .drop_nulls("latest_value")
        .group_by("programme_category", "indicator")
        .agg(pl.col("latest_value").sum(), pl.col("latest_attributed").sum())
        .sort("programme_category", "indicator")
    )
    categories = impact.by_category.filter(aggregation="latest", year=year).sort(
        "programme_category", "indicator"
    )
    assert per_loan["latest_value"].to_list() == categories["value"].to_list()
    assert per_loan["latest_attributed"].to_list() == categories["attributed"].to_list()


def test_categories_add_up_to_the_bond_totals(model: ReportModel) -> None:
    impact = model.impact
    sums = (
        impact.by_category.group_by("indicator", "year")
        .agg(
            pl.col("value").sum(),
            pl.col("attributed").sum(),
            pl.col("numerator").sum(),
            pl.col("denominator").sum(),
            pl.col("invested").sum(),
            pl.col("loan_count").sum(),
        )
        .sort("indicator", "year")
    )
    bond = impact.bond.sort("indicator", "year")
    assert sums.height == bond.height > 0
    summable = bond["aggregation"].is_in(["sum", "latest"]).to_list()
    for column in ("attributed", "invested", "loan_count"):
        expected = sums[column].to_list()
        got = bond[column].to_list()
        if column == "attributed":
            expected = [e for e, s in zip(expected, summable, strict=True) if s]
            got = [g for g, s in zip(got, summable, strict=True) if s]
        assert got == expected, column
    for row, total in zip(bond.to_dicts(), sums.to_dicts(), strict=True):
        if row["aggregation"] == "ratio":
            # the bond's percentage is re-pooled from the summed numerators and denominators
            assert (row["numerator"], row["denominator"]) == (
                total["numerator"],
                total["denominator"],
            )
            expected = (total["numerator"] * 100 / total["denominator"]).quantize(Decimal("0.0001"))
            assert row["value"] == expected
        else:
            assert row["value"] == total["value"]
