"""Indicator kinds in the report (issue 16 item 1), on the hand-computed fixture (``conftest``) extended
with a per-1 000 ratio over a context population and a non-additive average:

* PLACEMENTS_RATE = PLACED ÷ CHILDREN × 1 000 (unit ``per_1000``, lower is better) on SH-2021-003
  (7 of 2 400 children in 2025) and SH-2024-004 (3 of 1 200);
* CHILDREN (children 0–17 in the municipality) is ``context``: it feeds the ratio, nothing else;
* RENT (average rent, SEK/m², ``none``) on SH-2023-001: 1 000 (2023) → 1 100 (2024) → 1 150 (2025).
"""

from __future__ import annotations

from decimal import Decimal as D

import polars as pl
import pytest

from conftest import make_indicators, make_inputs, make_loan_indicators, make_measurements
from lanportfolj.domain.impact import Impact
from lanportfolj.reporting.inputs import ReportInputs
from lanportfolj.reporting.model import compute_report

pytestmark = pytest.mark.unit

VALUE = pl.Decimal(38, 4)


def _extended_inputs() -> ReportInputs:
    base = make_indicators()
    extra = pl.DataFrame(
        [
            ("PLACEMENTS_RATE", "Placements per 1 000 children", "Placeringar per 1 000 barn",
             "per_1000", "outcome", "decrease", "ratio", "PLACED", "CHILDREN", False),
            ("PLACED", "Children placed", "Placerade barn", "count", "outcome", "decrease", "sum",
             None, None, False),
            ("CHILDREN", "Children 0–17", "Barn 0–17 år", "count", "outcome", "increase",
             "latest", None, None, True),
            ("RENT", "Average rent", "Genomsnittlig hyra", "SEK/m2", "outcome", "decrease",
             "none", None, None, False),
        ],
        schema=[*base.columns, "context"],
        orient="row",
    )  # fmt: skip
    indicators = pl.concat([base.with_columns(context=pl.lit(False)), extra])
    uses = pl.DataFrame(
        [
            ("SH-2021-003", "PLACEMENTS_RATE", D("3.9"), 2021, D("2.5"), 2026, "Socialtjänsten"),
            ("SH-2024-004", "PLACEMENTS_RATE", D("3.0"), 2024, D("2.0"), 2028, "Socialtjänsten"),
            ("SH-2021-003", "CHILDREN", D("2380"), 2021, None, None, "SCB"),
            ("SH-2021-003", "PLACED", D("9"), 2021, D("6"), 2026, "Socialtjänsten"),
            ("SH-2024-004", "PLACED", D("4"), 2024, D("2"), 2028, "Socialtjänsten"),
            ("SH-2023-001", "RENT", D("1000"), 2023, D("1100"), 2027, "Hyresregister"),
        ],
        schema={**make_loan_indicators().schema},
        orient="row",
    )
    rows = [
        ("SH-2021-003", "PLACED", 2025, D("7")),
        ("SH-2021-003", "CHILDREN", 2025, D("2400")),
        ("SH-2024-004", "PLACED", 2025, D("3")),
        ("SH-2024-004", "CHILDREN", 2025, D("1200")),
        ("SH-2023-001", "RENT", 2024, D("1100")),
        ("SH-2023-001", "RENT", 2025, D("1150")),
    ]
    values = pl.DataFrame(
        [(loan, code, year, value, False, False, "") for loan, code, year, value in rows],
        schema=make_measurements().schema,
        orient="row",
    )
    return make_inputs(
        indicators=indicators,
        loan_indicators=pl.concat([make_loan_indicators(), uses]),
        measurements=pl.concat([make_measurements(), values]),
    )


@pytest.fixture
def impact() -> Impact:
    return compute_report(_extended_inputs()).impact


def test_a_per_1000_ratio_is_pooled_with_its_own_scale(impact: Impact) -> None:
    (row,) = impact.bond.filter(indicator="PLACEMENTS_RATE").to_dicts()
    # (7 + 3) ÷ (2 400 + 1 200) × 1 000 = 2.7777… — not × 100 (0.2778), not the mean (2.7083)
    assert (row["numerator"], row["denominator"], row["value"]) == (
        D("10.0000"),
        D("3600.0000"),
        D("2.7778"),
    )
    assert (row["attributed"], row["bond_attributed"], row["per_million"]) == (None, None, None)
    per_loan = {
        r["loan"]: r for r in impact.per_loan.filter(indicator="PLACEMENTS_RATE").to_dicts()
    }
    assert per_loan["SH-2021-003"]["latest_value"] == D("2.9167")  # 7 ÷ 2 400 × 1 000
    assert per_loan["SH-2024-004"]["latest_value"] == D("2.5000")  # 3 ÷ 1 200 × 1 000
    # 3.9 (2021) → 2.5 (2026) plans 2.78 for 2025: 2.9167 is behind (at × 100 it would be "ahead")
    assert per_loan["SH-2021-003"]["on_track"] is False
    assert per_loan["SH-2021-003"]["change_pct"] == D("-25.21")  # (2.9167 − 3.9) ÷ 3.9
    assert impact.indicators.filter(code="PLACEMENTS_RATE")["ratio_scale"].item() == D(1000)


def test_a_context_population_feeds_its_ratio_but_is_never_attributed_or_totalled(
    impact: Impact,
) -> None:
    assert impact.bond.filter(indicator="CHILDREN").height == 0
    assert impact.by_category.filter(indicator="CHILDREN").height == 0
    (row,) = impact.per_loan.filter(indicator="CHILDREN").to_dicts()
    assert (row["latest_value"], row["latest_attributed"]) == (D("2400.0000"), None)
    assert impact.values.filter(indicator="CHILDREN")["attributed"].to_list() == [None]
    assert impact.indicators.filter(code="CHILDREN")["context"].item() is True
    # the numerator is the project's own count: attributed, 7 × 1 (capped) + 3 × 0.25
    (placed,) = impact.bond.filter(indicator="PLACED").to_dicts()
    assert (placed["value"], placed["attributed"]) == (D("10.0000"), D("7.7500"))


def test_a_non_additive_average_is_shown_per_project_only(impact: Impact) -> None:
    assert impact.bond.filter(indicator="RENT").height == 0
    assert impact.by_category.filter(indicator="RENT").height == 0
    (row,) = impact.per_loan.filter(indicator="RENT").to_dicts()
    assert (row["latest_value"], row["change_abs"], row["change_pct"]) == (
        D("1150.0000"),
        D("150.0000"),
        D("15.00"),
    )
    assert row["latest_attributed"] is None
    assert impact.values.filter(indicator="RENT")["attributed"].to_list() == [None, None]


def test_the_original_figures_do_not_move(impact: Impact) -> None:
    original = compute_report(make_inputs()).impact
    keep = pl.col("indicator").is_in(["DWELL", "VISITS", "STOCK", "EMPL_RATE"])
    assert impact.bond.filter(keep).equals(original.bond.filter(keep))
