"""Synthetic report inputs of any size, for the benchmark and the reconciliation tests.

Seeded, so the same arguments always give the same inputs. The values are random and mean nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from lanportfolj.domain.categories import PROGRAMME_TO_ICMA
from lanportfolj.reporting.inputs import BondInfo, FxRate, ReportInputs

_KINDS = ("sum", "latest", "ratio", "none")


def _cents(values: list[int], scale: int) -> pl.Series:
    """Integers as decimals with ``scale`` decimals (``1234`` at scale 2 → ``12.34``), exactly."""
    unit = pl.lit(Decimal(1).scaleb(-scale), dtype=pl.Decimal(38, scale))
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Int64})
    return frame.select((pl.col("v").cast(pl.Decimal(38, 0)) * unit).cast(pl.Decimal(38, scale)))[
        "v"
    ]


def synthetic_inputs(
    *,
    loans: int = 100,
    indicators: int = 12,
    years: int = 10,
    seed: int = 1,
    currency: str = "EUR",
    nominal: Decimal = Decimal("500000000.00"),
) -> ReportInputs:
    """Inputs with ``loans`` loans, each using all ``indicators`` indicators for ``years`` years.

    Indicators cycle through the four aggregation kinds; every ratio indicator has its own numerator
    and denominator indicators, measured for each loan and year.
    """
    rng = random.Random(seed)
    report_year = 2025
    first_year = report_year - years + 1
    categories = sorted(PROGRAMME_TO_ICMA)
    refs = [f"SH-{2015 + i % 10}-{i:05d}" for i in range(loans)]
    outstanding = [rng.randint(100_000_00, 4_000_000_000_00) for _ in refs]
    disbursed = [o + rng.choice((0, 0, rng.randint(0, 50_000_000_00))) for o in outstanding]
    cost = [d * rng.choice((1, 2, 3, 4)) // rng.choice((1, 1, 2)) for d in disbursed]
    category = [rng.choice(categories) for _ in refs]
    loans_frame = pl.DataFrame(
        {
            "reference": refs,
            "borrower": [f"Borrower {rng.randint(1, max(1, loans // 3))}" for _ in refs],
            "title": [f"Project {ref}" for ref in refs],
            "programme_category": category,
            "icma_category": [PROGRAMME_TO_ICMA[c][rng.randint(0, 2)] for c in category],
            "sdgs": [["11.1", "10.2"] for _ in refs],
            "currency": ["SEK"] * loans,
            "disbursement_date": [
                date(2018, 1, 1) + timedelta(days=rng.randint(0, 8 * 365)) for _ in refs
            ],
            "maturity_date": [date(2040, 1, 1)] * loans,
            "status": [rng.choice(("active",) * 9 + ("repaid",)) for _ in refs],
            "eligible": [rng.random() < 0.95 for _ in refs],
        }
    ).with_columns(
        borrower_orgnr=pl.col("borrower").str.replace("Borrower ", "212000-"),
        amount=_cents(disbursed, 2),
        disbursed_amount=_cents(disbursed, 2),
        outstanding_amount=_cents(outstanding, 2),
        total_project_cost=_cents(cost, 2),
    )

    rows = []
    extra: list[tuple[str, str]] = []
    for index in range(indicators):
        kind = _KINDS[index % len(_KINDS)]
        code = f"IND{index:02d}"
        numerator = denominator = None
        if kind == "ratio":
            numerator, denominator = f"{code}N", f"{code}D"
            extra += [(numerator, "sum"), (denominator, "sum")]
        rows.append((code, f"Indicator {index}", f"Indikator {index}", "units", "outcome",
                     rng.choice(("increase", "decrease")), kind, numerator, denominator))  # fmt: skip
    for code, kind in extra:
        rows.append((code, code, code, "persons", "output", "increase", kind, None, None))
    indicator_frame = pl.DataFrame(
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
    used = [r[0] for r in rows[:indicators]]
    pairs = [(ref, code) for ref in refs for code in used]
    loan_indicators = pl.DataFrame(
        {
            "loan": [p[0] for p in pairs],
            "indicator": [p[1] for p in pairs],
            "baseline_year": [first_year - 1] * len(pairs),
            "target_year": [report_year + 3] * len(pairs),
            "data_source": ["Register"] * len(pairs),
        }
    ).with_columns(
        baseline_value=_cents([rng.randint(0, 100_000) for _ in pairs], 2).cast(pl.Decimal(38, 4)),
        target_value=_cents([rng.randint(0, 200_000) for _ in pairs], 2).cast(pl.Decimal(38, 4)),
    )

    # measured codes per loan: the plain indicators and every ratio's numerator and denominator
    measured = [r[0] for r in rows if r[6] != "ratio"]
    # one row per loan, measured code and year, in that order; built column-wise (no tuple per row:
    # at 10 000 loans that is 1.5 million rows, and the benchmark's peak memory counts them)
    count = loans * len(measured) * years
    values = [rng.randint(0, 1_000_000) for _ in range(count)]
    denominators = [index for index, code in enumerate(measured) if code.endswith("D")]
    for start in range(0, count, len(measured) * years):
        for index in denominators:  # a denominator at least as large as its numerator
            for position in range(start + index * years, start + (index + 1) * years):
                values[position] = values[position - years] + rng.randint(1, 100_000)
    estimated = [rng.random() < 0.05 for _ in range(count)]
    restated = [rng.random() < 0.01 for _ in range(count)]
    per_loan = len(measured) * years
    row = pl.int_range(0, count, eager=False)
    measurements = (
        pl.select(row=row)
        .select(
            loan=pl.lit(pl.Series(refs, dtype=pl.String)).gather(pl.col("row") // per_loan),
            indicator=pl.lit(pl.Series(measured, dtype=pl.String)).gather(
                pl.col("row") // years % len(measured)
            ),
            year=(pl.col("row") % years + first_year).cast(pl.Int64),
            estimated=pl.Series(estimated, dtype=pl.Boolean),
            restated=pl.Series(restated, dtype=pl.Boolean),
            group=pl.lit(""),
        )
        .with_columns(value=_cents(values, 2).cast(pl.Decimal(38, 4)))
    )
    del values, estimated, restated
    bond = BondInfo(
        isin="XS9999999998",
        name="Synthetic social bond",
        currency=currency,
        nominal_amount=nominal,
        issue_date=date(2023, 4, 1),
        maturity_date=date(2030, 4, 1),
        coupon_pct=Decimal("2.625"),
        framework_version="synthetic",
    )
    rate = Decimal("1") if currency == "SEK" else Decimal("11.4567")
    return ReportInputs(
        bond=bond,
        report_date=date(report_year, 12, 31),
        fx=FxRate(currency, rate, date(report_year, 12, 30), "synthetic"),
        loans=loans_frame,
        indicators=indicator_frame,
        loan_indicators=loan_indicators,
        measurements=measurements,
        all_loans_total_sek=None,
    )
