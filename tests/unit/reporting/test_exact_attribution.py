"""Exact attribution (issue 17 item 6) and coverage (issue 16 item 5) on the hand-computed fixture
(``conftest``): a share is kept as the exact fraction outstanding ÷ project cost and the product is
rounded once; a missing project cost is named with the amount it leaves out of the per-million base;
each bond row says how much of the pool reported the indicator and why the rest did not."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

import polars as pl
import pytest

from conftest import make_inputs, make_loans, make_measurements
from lanportfolj.reporting.model import compute_report

pytestmark = pytest.mark.unit


def _with(loans: pl.DataFrame, ref: str, **values: object) -> pl.DataFrame:
    return loans.with_columns(
        pl.when(pl.col("reference") == ref).then(pl.lit(v, loans.schema[k])).otherwise(pl.col(k)).alias(k)
        for k, v in values.items()
    )  # fmt: skip


def test_34356_times_200_over_409_is_16800_exactly() -> None:
    # SH-2023-001 lends 20 000 000 of a 40 900 000 project: share 200/409 = 0.48899756… (8 decimals)
    loans = _with(
        make_loans(),
        "SH-2023-001",
        amount=D("20000000.00"),
        disbursed_amount=D("20000000.00"),
        outstanding_amount=D("20000000.00"),
        total_project_cost=D("40900000.00"),
    )
    values = make_measurements().with_columns(
        value=pl.when((pl.col("loan") == "SH-2023-001") & (pl.col("indicator") == "DWELL")
                      & (pl.col("year") == 2025)).then(pl.lit(D("34356"), pl.Decimal(38, 4)))
        .otherwise(pl.col("value"))
    )  # fmt: skip
    model = compute_report(make_inputs(loans=loans, measurements=values))
    share = model.allocation.loans.filter(reference="SH-2023-001")["project_share"].item()
    assert share == D("0.48899756")  # shown rounded; 34 356 × it would be 16 800.0002
    attributed = model.impact.values.filter(loan="SH-2023-001", indicator="DWELL", year=2025)
    assert attributed["attributed"].item() == D("16800.0000")
    (per_loan,) = model.impact.per_loan.filter(loan="SH-2023-001", indicator="DWELL").to_dicts()
    assert per_loan["latest_attributed"] == D("16800.0000")


def test_the_bonds_part_is_the_exact_fraction_of_the_pool_rounded_once() -> None:
    model = compute_report(make_inputs())
    alloc = model.allocation
    # one basis (issue 17): 3 000 000 EUR × 11.5 = 34 500 000 SEK over the pool's outstanding
    # 42 550 001 SEK (see test_report_figures)
    assert alloc.bond_share_exact == Fraction(34_500_000, 42_550_001)
    (dwell,) = model.impact.bond.filter(indicator="DWELL", year=2025).to_dicts()
    exact = Fraction(dwell["attributed"]) * alloc.bond_share_exact
    assert dwell["bond_attributed"] == D(round(exact * 10**4)).scaleb(-4)


def test_a_missing_project_cost_is_named_and_left_out_of_the_per_million_base() -> None:
    loans = _with(make_loans(), "SH-2024-004", total_project_cost=None)
    model = compute_report(make_inputs(loans=loans))
    (message,) = [m for m in model.allocation.messages if m.code == "total_project_cost_missing"]
    assert "SH-2024-004 (EUR\u00a0200,000)" in message.message_en
    assert "EUR\u00a0200,000 outstanding is left out" in message.message_en
    assert "SH-2024-004 (200\u00a0000\u00a0EUR)" in message.message_sv
    (visits,) = model.impact.bond.filter(indicator="VISITS", year=2025).to_dicts()
    # only SH-2021-003 (1 234.5 visits, share capped at 1, 500 000.09 EUR) can be attributed
    assert visits["value"] == D("1335.5000")  # the full projects still count 1 234.5 + 101
    assert visits["attributed"] == D("1234.5000")
    assert visits["invested"] == D("500000.09")
    assert visits["per_million"] == D(
        round(Fraction("1234.5") * 10**6 / Fraction("500000.09") * 10**4)
    ).scaleb(-4)


def test_a_project_cost_below_the_loan_is_a_warning() -> None:
    codes = [m.code for m in compute_report(make_inputs()).allocation.messages]
    assert "total_project_cost_below_loan" in codes  # SH-2021-003: 4 000 000 of a 6 000 000 loan
    loans = _with(make_loans(), "SH-2021-003", total_project_cost=D("6000000.00"))
    codes = [m.code for m in compute_report(make_inputs(loans=loans)).allocation.messages]
    assert "total_project_cost_below_loan" not in codes


# --- coverage ------------------------------------------------------------------------------------
# The pool: SH-2023-001 2 000 000.00, SH-2022-002 1 000 000.00, SH-2021-003 500 000.09 (disbursed
# 2021), SH-2024-004 200 000.00 EUR (disbursed 2025-09-01): 3 700 000.09 EUR.


def _coverage(indicator: str, year: int) -> dict[str, object]:
    impact = compute_report(make_inputs()).impact
    (row,) = impact.bond.filter(indicator=indicator, year=year).to_dicts()
    return {k: row[k] for k in row if k.startswith(("cover", "missing"))}


def test_coverage_counts_an_overdue_value() -> None:
    # VISITS 2024: SH-2024-004 reported (50, early); SH-2021-003 has the indicator, was disbursed in
    # 2021 and reported nothing for 2024 (overdue); the housing loans do not have it
    assert _coverage("VISITS", 2024) == {
        "coverage_base": D("3700000.09"),
        "covered_amount": D("200000.00"),
        "coverage_share": D("0.05405405"),  # 200 000 ÷ 3 700 000.09
        "missing_not_yet_due": D("0.00"),
        "missing_overdue": D("500000.09"),
        "missing_not_applicable": D("3000000.00"),
    }


def test_coverage_tells_not_yet_due_from_overdue() -> None:
    # STOCK 2023: SH-2021-003 reported 100; SH-2024-004 (disbursed 2025) was not yet due
    assert _coverage("STOCK", 2023) == {
        "coverage_base": D("3700000.09"),
        "covered_amount": D("500000.09"),
        "coverage_share": D("0.13513516"),  # 500 000.09 ÷ 3 700 000.09 = 0.135135159…
        "missing_not_yet_due": D("200000.00"),
        "missing_overdue": D("0.00"),
        "missing_not_applicable": D("3000000.00"),
    }
    # DWELL 2024: SH-2023-001 reported, SH-2022-002 (disbursed 2023) did not: overdue
    dwell = _coverage("DWELL", 2024)
    assert (dwell["covered_amount"], dwell["missing_overdue"]) == (D("2000000.00"), D("1000000.00"))
