"""Benchmark: the report's impact aggregation in polars against one DuckDB SQL query.

    .venv/bin/python bench/bench_aggregation.py [--loans 10000] [--indicators 12] [--years 10]

Both sides read the same frames (the allocation's pool, the indicator definitions, the loans'
indicators and the measurements) and produce the category table (programme category × indicator ×
year: loan count, full and attributed sums with ``latest`` values carried forward, pooled ratios,
invested amount, per million, flags) and the bond's totals. The results are asserted equal to the
last decimal, then the seconds and the ratio polars ÷ DuckDB are printed.

The polars side is the whole of ``assess_impact``: it also builds the per-loan table and the yearly
values, which the DuckDB query does not, so the ratio is an upper bound.

DuckDB (and pyarrow, which it reads polars frames through) is a benchmark-only dependency.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from typing import Any

import duckdb
import polars as pl

from lanportfolj.domain.allocation import allocate
from lanportfolj.domain.impact import assess_impact
from lanportfolj.reporting.synthetic import synthetic_inputs

# Exact half-even rounding in integer units, so DuckDB's figures match polars' to the last unit:
# DuckDB's ROUND is half away from zero and its decimal division returns a DOUBLE.
MACROS = """
CREATE OR REPLACE MACRO half_even_div(a, b) AS (
    CASE WHEN b = 0 THEN NULL ELSE
        (a // b) + CASE
            WHEN 2 * (a - (a // b) * b) > b THEN 1
            WHEN 2 * (a - (a // b) * b) = b AND (a // b) % 2 = 1 THEN 1
            ELSE 0 END
    END
);
CREATE OR REPLACE MACRO units(x, scale) AS CAST(x * (10 ** scale)::HUGEINT AS HUGEINT);
CREATE OR REPLACE MACRO from_units(u) AS CAST(u AS DECIMAL(38, 4)) / 10000;
"""

QUERY = """
WITH pool AS (
    SELECT reference AS loan, programme_category, outstanding, outstanding_sek AS out_sek,
           total_project_cost_sek AS cost
    FROM loans
), uses AS (
    SELECT li.loan, li.indicator, d.aggregation, d.numerator AS num_code,
           d.denominator AS den_code
    FROM loan_indicators li JOIN indicators d ON d.code = li.indicator
    WHERE li.loan IN (SELECT loan FROM pool)
), m AS (
    SELECT loan, indicator, year, CAST(value AS DECIMAL(38, 4)) AS value,
           coalesce(estimated, false) AS est, coalesce(restated, false) AS res
    FROM measurements
    WHERE coalesce("group", '') = '' AND year <= $year AND loan IN (SELECT loan FROM pool)
), plain AS (
    SELECT u.loan, u.indicator, u.aggregation, m.year, m.value, m.est, m.res
    FROM uses u JOIN m ON m.loan = u.loan AND m.indicator = u.indicator
    WHERE u.aggregation IN ('sum', 'latest')
), latest_years AS (
    SELECT DISTINCT indicator, year FROM plain WHERE aggregation = 'latest'
), latest_pairs AS (
    SELECT DISTINCT loan, indicator, aggregation FROM plain WHERE aggregation = 'latest'
), carried AS (
    -- a stock stands until it is reported again: each year takes the latest value at or before it
    -- (a window over the years, not an ASOF JOIN: DuckDB's ASOF JOIN grows faster than linearly
    -- here, 1.1 of the query's 1.3 s at 1 000 loans)
    SELECT * FROM (
        SELECT p.loan, p.indicator, p.aggregation, y.year,
               last_value(s.year IGNORE NULLS) OVER w AS reported,
               last_value(s.value IGNORE NULLS) OVER w AS value,
               last_value(s.est IGNORE NULLS) OVER w AS est,
               last_value(s.res IGNORE NULLS) OVER w AS res
        FROM latest_pairs p JOIN latest_years y ON y.indicator = p.indicator
        LEFT JOIN plain s
            ON s.loan = p.loan AND s.indicator = p.indicator AND s.year = y.year
            AND s.aggregation = 'latest'
        WINDOW w AS (PARTITION BY p.loan, p.indicator ORDER BY y.year
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    ) WHERE reported IS NOT NULL
), ratios AS (
    SELECT u.loan, u.indicator, u.aggregation, n.year, n.value AS num, d.value AS den,
           n.est OR d.est AS est, n.res OR d.res AS res
    FROM uses u
    JOIN m n ON n.loan = u.loan AND n.indicator = u.num_code
    JOIN m d ON d.loan = u.loan AND d.indicator = u.den_code AND d.year = n.year
    WHERE u.aggregation = 'ratio'
), rows AS (
    SELECT loan, indicator, aggregation, year, value, NULL::DECIMAL(38, 4) AS num,
           NULL::DECIMAL(38, 4) AS den, est, res
    FROM plain WHERE aggregation = 'sum'
    UNION ALL
    SELECT loan, indicator, aggregation, year, value, NULL, NULL, est, res FROM carried
    UNION ALL
    SELECT loan, indicator, aggregation, year, NULL, num, den, est, res FROM ratios
), attributed AS (
    SELECT r.*, p.programme_category, p.outstanding,
           -- the exact fraction outstanding ÷ project cost (capped at 1), rounded once
           CASE WHEN r.aggregation IN ('sum', 'latest') THEN
               CASE WHEN p.cost IS NULL THEN NULL
                    WHEN p.out_sek >= p.cost THEN r.value
                    ELSE from_units(half_even_div(units(r.value, 4) * units(p.out_sek, 2),
                                                  units(p.cost, 2)))
               END
           END AS attributed
    FROM rows r JOIN pool p ON p.loan = r.loan
), totals AS (
    SELECT programme_category, indicator, aggregation, year,
           GROUPING(programme_category) AS is_bond,
           count(*)::BIGINT AS loan_count,
           sum(value) AS value, sum(attributed) AS attributed,
           sum(num) AS numerator, sum(den) AS denominator,
           -- the per-million base: the projects that could be attributed
           sum(CASE WHEN aggregation = 'ratio' OR attributed IS NOT NULL THEN outstanding END)
               AS invested,
           bool_or(est) AS estimated, bool_or(res) AS restated
    FROM attributed
    GROUP BY GROUPING SETS ((programme_category, indicator, aggregation, year),
                            (indicator, aggregation, year))
)
SELECT programme_category, indicator, aggregation, year, is_bond, loan_count,
       CASE WHEN aggregation = 'ratio' THEN
           from_units(half_even_div(units(numerator, 4) * 1000000, units(denominator, 4)))
       ELSE value END AS value,
       CASE WHEN aggregation <> 'ratio' THEN attributed END AS attributed,
       numerator, denominator, invested,
       from_units(half_even_div(units(attributed, 4) * 100000000, units(invested, 2))) AS per_million,
       CASE WHEN aggregation <> 'ratio' THEN
           from_units(half_even_div(units(attributed, 4) * $share_top::HUGEINT,
                                    $share_bottom::HUGEINT))
       END AS bond_attributed,
       estimated, restated
FROM totals
"""

CATEGORY_COLUMNS = [
    "programme_category",
    "indicator",
    "aggregation",
    "year",
    "loan_count",
    "value",
    "attributed",
    "numerator",
    "denominator",
    "invested",
    "per_million",
    "estimated",
    "restated",
]


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


def _best(step: Any, repeat: int) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs (seconds) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
    return best, result


def _normalised(frame: pl.DataFrame, columns: list[str], keys: list[str]) -> pl.DataFrame:
    """``columns`` with decimals at their report scale, sorted by ``keys``, for comparison."""
    return (
        frame.select(columns)
        .with_columns(
            pl.col(c).cast(pl.Decimal(38, 2 if c == "invested" else 4))
            for c in columns
            if c in ("value", "attributed", "numerator", "denominator", "invested", "per_million")
            or c == "bond_attributed"
        )
        .with_columns(pl.col("year").cast(pl.Int64), pl.col("loan_count").cast(pl.Int64))
        .sort(keys)
    )


def _assert_equal(mine: pl.DataFrame, theirs: pl.DataFrame, what: str) -> None:
    """The two results are the same, column by column; else name the first differing column."""
    assert mine.height == theirs.height, (what, mine.height, theirs.height)
    for name in mine.columns:
        left, right = mine[name], theirs[name]
        same = (left == right) | (left.is_null() & right.is_null())
        if not same.fill_null(False).all():
            bad = mine.with_columns(duckdb=right).filter(~same.fill_null(False))
            raise AssertionError(f"{what}.{name} differs:\n{bad.head(5)}")


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--indicators", type=int, default=12)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    inputs = synthetic_inputs(loans=args.loans, indicators=args.indicators, years=args.years)
    allocation = allocate(
        bond=inputs.bond,
        fx=inputs.fx,
        loans=inputs.loans,
        report_date=inputs.report_date,
        other_bonds_nominal_sek=inputs.other_bonds_nominal_sek,
        all_loans_total_sek=inputs.all_loans_total_sek,
        lookback_months=inputs.lookback_months,
    )
    year = inputs.report_date.year
    share = allocation.bond_share_exact
    assert share is not None
    print(f"{'measurements':<30}{inputs.measurements.height:10d} rows")

    def with_polars() -> Any:
        return assess_impact(
            loans=allocation.loans,
            indicators=inputs.indicators,
            loan_indicators=inputs.loan_indicators,
            measurements=inputs.measurements,
            report_year=year,
            bond_share=share,
        )

    con = duckdb.connect()
    con.execute(MACROS)
    # the same frames, registered as views (DuckDB reads them through Arrow, no copy in SQL)
    con.register("loans", allocation.loans)
    con.register("indicators", inputs.indicators)
    con.register("loan_indicators", inputs.loan_indicators)
    con.register("measurements", inputs.measurements)

    def with_duckdb() -> pl.DataFrame:
        params = {
            "year": year,
            "share_top": str(share.numerator),
            "share_bottom": str(share.denominator),
        }
        table = con.sql(QUERY, params=params).to_arrow_table()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        return frame

    polars_s, impact = _best(with_polars, args.repeat)
    duck_s, result = _best(with_duckdb, args.repeat)

    keys = ["programme_category", "indicator", "year"]
    mine = _normalised(impact.by_category, CATEGORY_COLUMNS, keys)
    theirs = _normalised(result.filter(pl.col("is_bond") == 0), CATEGORY_COLUMNS, keys)
    _assert_equal(mine, theirs, "by_category")
    bond_columns = [c for c in CATEGORY_COLUMNS if c != "programme_category"] + ["bond_attributed"]
    mine_bond = _normalised(impact.bond, bond_columns, ["indicator", "year"])
    theirs_bond = _normalised(
        result.filter(pl.col("is_bond") == 1), bond_columns, ["indicator", "year"]
    )
    _assert_equal(mine_bond, theirs_bond, "bond")

    print(f"{'category rows (equal)':<30}{mine.height:10d}")
    print(f"{'bond rows (equal)':<30}{mine_bond.height:10d}")
    print(f"{'polars assess_impact':<30}{polars_s:10.2f} s  (best of {args.repeat})")
    print(f"{'DuckDB one SQL query':<30}{duck_s:10.2f} s  (best of {args.repeat})")
    print(f"{'ratio polars / DuckDB':<30}{polars_s / duck_s:10.2f}   (target ≤ 2)")
    print(f"{'duckdb version':<30}{duckdb.__version__:>10}")
    print(f"{'peak RSS':<30}{_peak_rss_mb():10.0f} MB")


if __name__ == "__main__":
    main()
