"""The report's figures against the hand-computed fixture (see conftest.py for the inputs).

Arithmetic in the comments; every expected value is an exact Decimal, compared to the last unit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import polars as pl
import pytest

from conftest import make_inputs
from lanportfolj.domain.allocation import MONEY, to_bond_currency
from lanportfolj.reporting.inputs import BondInfo, FxRate, ReportInputs
from lanportfolj.reporting.model import compute_report, report_to_dict

pytestmark = pytest.mark.unit


def _row(frame: pl.DataFrame, **keys: Any) -> dict[str, Any]:
    rows = frame.filter(**keys).to_dicts()
    assert len(rows) == 1, (keys, rows)
    return rows[0]


def test_pool_excludes_ineligible_draft_and_not_yet_disbursed_loans(inputs: ReportInputs) -> None:
    alloc = compute_report(inputs).allocation
    assert alloc.loans["reference"].to_list() == [
        "SH-2021-003",
        "SH-2022-002",
        "SH-2023-001",
        "SH-2024-004",
    ]
    assert alloc.loan_count == 4
    assert alloc.borrower_count == 3  # Alby holds two of the four loans


def test_each_loan_is_converted_to_the_bond_currency_to_the_cent(inputs: ReportInputs) -> None:
    loans = compute_report(inputs).allocation.loans
    # 23 000 000.00 / 11.5 = 2 000 000.00
    assert _row(loans, reference="SH-2023-001")["outstanding"] == D("2000000.00")
    # 11 500 000.00 / 11.5 = 1 000 000.00; disbursed 12 000 000 / 11.5 = 1 043 478.2608… → .26
    l2 = _row(loans, reference="SH-2022-002")
    assert (l2["outstanding"], l2["disbursed"]) == (D("1000000.00"), D("1043478.26"))
    # 5 750 001.00 / 11.5 = 500 000.0869… → 500 000.09; 6 000 000 / 11.5 = 521 739.1304… → .13
    l3 = _row(loans, reference="SH-2021-003")
    assert (l3["outstanding"], l3["disbursed"]) == (D("500000.09"), D("521739.13"))
    # 2 300 000.00 / 11.5 = 200 000.00
    assert _row(loans, reference="SH-2024-004")["outstanding"] == D("200000.00")


def test_attribution_share_is_outstanding_over_project_cost_capped_at_one(
    inputs: ReportInputs,
) -> None:
    loans = compute_report(inputs).allocation.loans
    shares = dict(zip(loans["reference"], loans["project_share"], strict=True))
    assert shares == {
        "SH-2023-001": D("0.50000000"),  # 23 000 000 / 46 000 000
        "SH-2022-002": D("0.33333333"),  # 11 500 000 / 34 500 000 = 1/3
        "SH-2021-003": D("1.00000000"),  # 5 750 001 / 4 000 000 > 1 → capped
        "SH-2024-004": D("0.25000000"),  # 2 300 000 / 9 200 000
    }


def test_allocation_totals(inputs: ReportInputs) -> None:
    alloc = compute_report(inputs).allocation
    # SEK: 23 000 000 + 11 500 000 + 5 750 001 + 2 300 000 = 42 550 001.00
    assert alloc.pool_outstanding_sek == D("42550001.00")
    # EUR: 2 000 000 + 1 000 000 + 500 000.09 + 200 000 = 3 700 000.09 (sum of converted loans)
    assert alloc.pool_outstanding == D("3700000.09")
    # 2 000 000 + 1 043 478.26 + 521 739.13 + 200 000 = 3 765 217.39
    assert alloc.pool_disbursed == D("3765217.39")
    # pool 3 700 000.09 ≥ nominal 3 000 000 → all proceeds allocated
    assert (alloc.allocated, alloc.unallocated) == (D("3000000.00"), D("0.00"))
    assert not alloc.pool_smaller_than_bond
    # one basis, SEK outstanding (issue 17): 3 000 000 × 11.5 = 34 500 000 SEK;
    # 34 500 000 / 42 550 001 = 0.8108107918… → 0.81081079
    assert alloc.bond_share_of_pool == D("0.81081079")
    assert not alloc.bond_share_capped
    # 42 550 001 / 425 500 010 = 0.1
    assert alloc.social_loan_ratio == D("0.10000000")


def test_financing_versus_refinancing_and_the_lookback_flag(inputs: ReportInputs) -> None:
    alloc = compute_report(inputs).allocation
    # financing: disbursed on/after 2025-04-01 → SH-2023-001 + SH-2024-004 = 2 200 000.00
    # refinancing: SH-2022-002 + SH-2021-003 = 1 500 000.09
    assert (alloc.financing_amount, alloc.refinancing_amount) == (
        D("2200000.00"),
        D("1500000.09"),
    )
    financing = {r["funding"]: r for r in alloc.financing.to_dicts()}
    # 2 200 000 / 3 700 000.09 = 0.5945945801… ; 1 500 000.09 / 3 700 000.09 = 0.4054054198…
    assert financing["financing"]["share_of_pool"] == D("0.59459458")
    assert financing["refinancing"]["share_of_pool"] == D("0.40540542")
    assert financing["refinancing"]["loan_count"] == 2
    # cutoff 24 months before 2025-04-01 = 2023-04-01; only SH-2021-003 (2021-09-01) is older
    assert alloc.lookback_cutoff == date(2023, 4, 1)
    flagged = alloc.loans.filter(pl.col("lookback_exceeded"))["reference"].to_list()
    assert flagged == ["SH-2021-003"]
    # SH-2021-003's project cost (4 000 000) is below its loan (6 000 000): a likely data error
    assert [m.code for m in alloc.messages] == [
        "lookback_exceeded",
        "total_project_cost_below_loan",
    ]
    below = alloc.messages[1]
    assert "SH-2021-003 (SEK\u00a04,000,000 < SEK\u00a06,000,000)" in below.message_en
    assert (
        "SH-2021-003 (4\u00a0000\u00a0000\u00a0kr < 6\u00a0000\u00a0000\u00a0kr)"
        in below.message_sv
    )
    assert "SH-2021-003" in below.message_sv


def test_allocation_by_category(inputs: ReportInputs) -> None:
    by_category = compute_report(inputs).allocation.by_category
    housing = _row(by_category, programme_category="housing")
    # 2 000 000 + 1 000 000; 3 000 000 / 3 700 000.09 = 0.8108107910… → 0.81081079
    assert housing["outstanding"] == D("3000000.00")
    assert housing["share_of_pool"] == D("0.81081079")
    health = _row(by_category, programme_category="health_education")
    # 500 000.09 + 200 000; 700 000.09 / 3 700 000.09 = 0.1891892089… → 0.18918921
    assert health["outstanding"] == D("700000.09")
    assert health["share_of_pool"] == D("0.18918921")
    assert health["outstanding_sek"] == D("8050001.00")


def test_pool_smaller_than_bond_is_flagged_and_unallocated_never_negative() -> None:
    base = make_inputs()
    bond = BondInfo(**{**base.bond.__dict__, "nominal_amount": D("4000000.00")})
    alloc = compute_report(make_inputs(bond=bond)).allocation
    # 4 000 000 × 11.5 = 46 000 000 SEK > pool 42 550 001 SEK: share capped at 1;
    # allocated = 1 × 42 550 001 / 11.5 = 3 700 000.0869… rounded down → 3 700 000.08;
    # unallocated = 4 000 000 − 3 700 000.08 = 299 999.92
    assert (alloc.allocated, alloc.unallocated) == (D("3700000.08"), D("299999.92"))
    assert alloc.pool_smaller_than_bond
    assert alloc.bond_share_of_pool == D("1.00000000")
    assert alloc.bond_share_capped
    codes = {m.code for m in alloc.messages}
    assert {"pool_smaller_than_bond", "bond_share_capped"} <= codes
    for message in alloc.messages:
        assert message.message_sv and message.message_en
    (smaller,) = [m for m in alloc.messages if m.code == "pool_smaller_than_bond"]
    # the amounts as a reader writes them, exact to the cent where there are cents (the pool is the sum of
    # the loans converted one by one: a cent above the allocated amount, which converts the SEK pool once)
    assert smaller.message_en == (
        "The eligible pool (EUR\u00a03,700,000.09) is smaller than the bonds outstanding"
        " (EUR\u00a04,000,000); EUR\u00a0299,999.92 is unallocated."
    )
    assert smaller.message_sv == (
        "Den stödberättigade poolen (3\u00a0700\u00a0000,09\u00a0EUR) är mindre än utestående"
        " obligationer (4\u00a0000\u00a0000\u00a0EUR); 299\u00a0999,92\u00a0EUR är ej allokerat."
    )


def test_other_bonds_on_the_pool_share_it_without_double_counting() -> None:
    alloc = compute_report(make_inputs(other_bonds_nominal_sek=D("11500000.00"))).allocation
    # other bonds: 11 500 000 SEK / 11.5 = 1 000 000 EUR
    assert alloc.other_bonds_nominal == D("1000000.00")
    # bonds 34 500 000 + 11 500 000 = 46 000 000 SEK > pool 42 550 001 → share 34.5 / 46 = 0.75;
    # allocated = 0.75 × 42 550 001 / 11.5 = 2 775 000.0652… rounded down → 2 775 000.06 (share ×
    # pool, not the pool minus the others' full nominal); unallocated 3 000 000 − that = 224 999.94
    assert (alloc.allocated, alloc.unallocated) == (D("2775000.06"), D("224999.94"))
    assert alloc.bond_share_of_pool == D("0.75000000")


def test_a_sek_bond_needs_no_conversion() -> None:
    bond = BondInfo(
        "SE0000000002", "SEK bond", "SEK", D("30000000.00"), date(2025, 4, 1), date(2028, 9, 1),
        D("2.625"), "2024-1",
    )  # fmt: skip
    fx = FxRate("SEK", D("1"), date(2025, 12, 31), "identity")
    alloc = compute_report(make_inputs(bond=bond, fx=fx)).allocation
    assert alloc.pool_outstanding == alloc.pool_outstanding_sek == D("42550001.00")
    # on outstanding (issue 17): 30 000 000 / 42 550 001 = 0.7050528600… → 0.70505286
    assert alloc.bond_share_of_pool == D("0.70505286")


def test_sum_indicator_full_and_attributed_by_year(inputs: ReportInputs) -> None:
    impact = compute_report(inputs).impact
    dwell = _row(impact.by_category, programme_category="housing", indicator="DWELL", year=2025)
    # full 60 + 30 = 90 (the comparison group's 999 and the 2026 value are left out)
    # attributed 60 × 0.5 = 30; 30 × 0.33333333 = 9.9999999 → 10.0000; 30 + 10 = 40
    assert (dwell["value"], dwell["attributed"]) == (D("90.0000"), D("40.0000"))
    # per million EUR: 40 / (3 000 000 / 1e6) = 13.3333…
    assert dwell["per_million"] == D("13.3333")
    assert dwell["estimated"] and dwell["restated"]  # SH-2023-001 estimated, SH-2022-002 restated
    visits = _row(impact.by_category, indicator="VISITS", year=2025)
    # full 1234.5 + 101 = 1335.5; attributed 1234.5 × 1 + 101 × 0.25 = 1259.75
    assert (visits["value"], visits["attributed"]) == (D("1335.5000"), D("1259.7500"))
    # invested 500 000.09 + 200 000 = 700 000.09; 1259.75e6 / 700 000.09 = 1799.6426257…
    assert visits["invested"] == D("700000.09")
    assert visits["per_million"] == D("1799.6426")


def test_latest_indicator_carries_the_latest_value_and_never_sums_years(
    inputs: ReportInputs,
) -> None:
    rows = compute_report(inputs).impact.by_category.filter(indicator="STOCK").sort("year")
    # SH-2021-003: 100 (2023), 150 (2024), nothing in 2025 → still 150; SH-2024-004: 80 (2025)
    # 2025: 150 + 80 = 230 (a sum over years would give 100 + 150 + 80 = 330)
    assert rows["year"].to_list() == [2023, 2024, 2025]
    assert rows["value"].to_list() == [D("100.0000"), D("150.0000"), D("230.0000")]
    # attributed 2025: 150 × 1 + 80 × 0.25 = 170
    assert rows["attributed"].to_list() == [D("100.0000"), D("150.0000"), D("170.0000")]
    # per million: 100e6 / 500 000.09 = 199.999964… → 200.0000; 150e6 / 500 000.09 = 299.999946…;
    # 170e6 / 700 000.09 = 242.8571116…
    assert rows["per_million"].to_list() == [D("200.0000"), D("299.9999"), D("242.8571")]


def test_ratio_indicator_pools_numerators_and_denominators(inputs: ReportInputs) -> None:
    impact = compute_report(inputs).impact
    rate = _row(impact.by_category, indicator="EMPL_RATE", year=2025)
    # (45 + 10) / (50 + 200) × 100 = 22 %; the mean of 90 % and 5 % would be 47.5 %
    assert rate["value"] == D("22.0000")
    assert (rate["numerator"], rate["denominator"]) == (D("55.0000"), D("250.0000"))
    assert rate["attributed"] is None and rate["per_million"] is None
    assert rate["estimated"]  # SH-2022-002's numerator is estimated
    per_loan = impact.values.filter(indicator="EMPL_RATE").sort("loan", "year")
    # per loan: 45/50 = 90 %; 10/200 = 5 %; SH-2022-002 reported 4.5 % directly for 2024
    assert per_loan["value"].to_list() == [D("4.5000"), D("5.0000"), D("90.0000")]
    # a directly reported percentage cannot be pooled: no 2024 category row
    assert impact.by_category.filter(indicator="EMPL_RATE", year=2024).height == 0


def test_none_indicator_is_per_project_only_with_change_since_baseline(
    inputs: ReportInputs,
) -> None:
    impact = compute_report(inputs).impact
    assert impact.by_category.filter(indicator="SAFETY").height == 0
    assert impact.bond.filter(indicator="SAFETY").height == 0
    safety = _row(impact.per_loan, loan="SH-2023-001", indicator="SAFETY")
    # 3.9 − 3.2 = 0.7; 0.7 / 3.2 × 100 = 21.875 → 21.88 (half to even)
    assert (safety["change_abs"], safety["change_pct"]) == (D("0.7000"), D("21.88"))
    # path 3.2 (2022) → 4.5 (2030): at 2025 3.2 + 1.3 × 3/8 = 3.6875 ≤ 3.9 → on track
    assert safety["on_track"] is True
    assert safety["latest_attributed"] is None


def test_per_loan_rows_baseline_target_and_on_track(inputs: ReportInputs) -> None:
    per_loan = compute_report(inputs).impact.per_loan
    dwell = _row(per_loan, loan="SH-2023-001", indicator="DWELL")
    # latest 2025: 60 (estimated); baseline 0 → no percentage; path 0 → 100 (2023→2026):
    # at 2025 66.67 > 60 → not on track; attributed latest 60 × 0.5 = 30
    assert (dwell["latest_year"], dwell["latest_value"]) == (2025, D("60.0000"))
    assert dwell["change_pct"] is None
    assert dwell["on_track"] is False
    assert dwell["latest_attributed"] == D("30.0000")
    assert dwell["latest_estimated"] is True
    stock = _row(per_loan, loan="SH-2021-003", indicator="STOCK")
    # latest value up to 2025 is 2024's 150: change 100, 100 / 50 = 200 %; path 50 → 200
    # (2021→2026) at 2024: 50 + 150 × 3/5 = 140 ≤ 150 → on track
    assert (stock["latest_year"], stock["change_pct"], stock["on_track"]) == (
        2024,
        D("200.00"),
        True,
    )
    # the loan outside the pool (SH-2025-007) reports VISITS but is not in the report
    assert "SH-2025-007" not in per_loan["loan"].to_list()


def test_bond_totals_and_the_bonds_share_of_them(inputs: ReportInputs) -> None:
    bond = compute_report(inputs).impact.bond
    visits = _row(bond, indicator="VISITS", year=2025)
    # pool attributed 1259.75 × bond share 0.81081079 = 1021.4189… → 1021.4189
    assert (visits["attributed"], visits["bond_attributed"]) == (D("1259.7500"), D("1021.4189"))
    dwell = _row(bond, indicator="DWELL", year=2025)
    # 40 × 0.81081079 = 32.43243160 → 32.4324
    assert dwell["bond_attributed"] == D("32.4324")
    stock = _row(bond, indicator="STOCK", year=2025)
    # 170 × 0.81081079 = 137.8378343 → 137.8378
    assert (stock["value"], stock["bond_attributed"]) == (D("230.0000"), D("137.8378"))


def test_report_dict_writes_decimals_as_fixed_scale_strings(inputs: ReportInputs) -> None:
    data = report_to_dict(compute_report(inputs))
    assert sorted(data) == [
        "allocation", "bond", "fx", "impact", "methodology", "report_date", "restatements",
    ]  # fmt: skip
    summary = data["allocation"]["summary"]
    assert summary["unallocated"] == "0.00"
    assert summary["bond_share_of_pool"] == "0.81081079"
    assert data["fx"]["sek_per_unit"] == "11.5"
    assert data["report_date"] == "2025-12-31"
    assert data["restatements"][0]["old"] == "25"
    methodology = {s["key"]: s for s in data["methodology"]["sections"]}
    assert "11.5 SEK" in methodology["fx"]["text"]["en"]
    assert "11.5 SEK" in methodology["fx"]["text"]["sv"]
    assert data["methodology"]["estimated_values"] == 2  # DWELL 2025 and EMPL_RATE 2025 (L2)
    assert data["methodology"]["restated_values"] == 1


def test_a_four_decimal_rate_converts_with_one_rounding() -> None:
    fx = FxRate("EUR", D("11.4567"), date(2025, 12, 30), "ECB")
    loans = compute_report(make_inputs(fx=fx)).allocation.loans
    # 5 750 001 / 11.4567 = 501 889.8112… → 501 889.81
    assert _row(loans, reference="SH-2021-003")["outstanding"] == D("501889.81")
    # 23 000 000 / 11.4567 = 2 007 558.8956… → 2 007 558.90
    assert _row(loans, reference="SH-2023-001")["outstanding"] == D("2007558.90")


def test_conversion_ties_round_half_to_even() -> None:
    fx = FxRate("EUR", D("0.8000"), date(2025, 12, 30), "test")
    amounts = pl.DataFrame(
        {"sek": [D("0.02"), D("0.06"), D("1000.02"), D("-0.02")]}, schema={"sek": MONEY}
    )
    converted = amounts.select(to_bond_currency("sek", fx))["sek"].to_list()
    # 0.02 / 0.8 = 0.025 → 0.02; 0.06 / 0.8 = 0.075 → 0.08; 1000.02 / 0.8 = 1250.025 → 1250.02
    assert converted == [D("0.02"), D("0.08"), D("1250.02"), D("-0.02")]


def test_an_empty_pool_leaves_the_whole_bond_unallocated() -> None:
    base = make_inputs()
    loans = base.loans.with_columns(eligible=pl.lit(False))
    model = compute_report(make_inputs(loans=loans))
    alloc = model.allocation
    assert (alloc.allocated, alloc.unallocated) == (D("0.00"), D("3000000.00"))
    assert alloc.bond_share_of_pool is None
    assert [m.code for m in alloc.messages] == ["pool_smaller_than_bond"]
    assert model.impact.values.height == model.impact.bond.height == 0


def test_a_value_given_twice_for_the_same_loan_indicator_and_year_is_refused() -> None:
    values = make_inputs().measurements
    first = values.filter(pl.col("group") == "").head(1)
    with pytest.raises(ValueError, match="one value per loan, indicator and year"):
        compute_report(make_inputs(measurements=pl.concat([values, first])))
    # the same key in a comparison group, and values of an indicator no definition names (twice
    # for the same year, under two such codes), are no repeat and change no figure
    unnamed = pl.concat(
        [first.with_columns(indicator=pl.lit(code)) for code in ("UNKNOWN_A", "UNKNOWN_B")]
    )
    other = pl.concat([values, first.with_columns(group=pl.lit("comparison")), unnamed])
    expected = compute_report(make_inputs()).impact
    got = compute_report(make_inputs(measurements=other)).impact
    assert got.values.equals(expected.values)
    assert got.by_category.equals(expected.by_category)
