"""The social bond's impact: per loan and indicator, by category and for the bond.

Pure: polars frames in, polars frames out. The aggregation kind of each indicator decides how values
combine, because the commonest defects of results-tracking systems are aggregation mistakes:

* ``sum`` (flows, e.g. dwellings renovated this year): summed over projects per year, full and
  attributed (value × the project's attribution share), and per million of bond currency invested;
* ``latest`` (stocks and cumulative counts): each project's latest value up to the year, carried
  forward — never a sum over years — then summed over projects, full and attributed;
* ``ratio`` (percentages): pooled as Σnumerator ÷ Σdenominator × 100 from the measurements of the
  numerator and denominator indicators for the same loan and year — never a mean of percentages;
* ``none`` (indexes, scores): per project only, with the change since baseline.

Values have 4 decimals, change in per cent 2, shares 8; each derived figure is rounded half-even once
from its exact value (see ``allocation.decimal_mul`` / ``decimal_div``). Category totals are sums of the
per-loan rows and the bond's totals are sums of the category rows, so the tables always reconcile.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import polars as pl

from lanportfolj.domain.allocation import (
    MONEY_SCALE,
    SHARE,
    SHARE_SCALE,
    decimal_div,
    decimal_mul,
)

VALUE_SCALE: Final = 4
PERCENT_SCALE: Final = 2
VALUE: Final = pl.Decimal(38, VALUE_SCALE)
AGGREGATIONS: Final[tuple[str, ...]] = ("sum", "latest", "ratio", "none")
#: Kinds whose values are attributed and totalled over projects.
SUMMABLE: Final[tuple[str, ...]] = ("sum", "latest")

INDICATOR_COLUMNS: Final[tuple[str, ...]] = (
    "code",
    "name_en",
    "name_sv",
    "unit",
    "kind",
    "direction",
    "aggregation",
    "numerator",
    "denominator",
)


@dataclass(frozen=True)
class Impact:
    """The impact tables; every frame is sorted, so its rows come out in the same order every time."""

    #: the indicator definitions the pool's loans use
    indicators: pl.DataFrame
    #: loan × indicator × year: value, numerator, denominator, estimated, restated, share, attributed
    values: pl.DataFrame
    #: loan × indicator: baseline, latest, target, change, on track, attributed latest value
    per_loan: pl.DataFrame
    #: programme category × indicator × year, for sum, latest and ratio indicators
    by_category: pl.DataFrame
    #: indicator × year totals for the pool and the bond's share of them
    bond: pl.DataFrame


def _measurements(measurements: pl.DataFrame, report_year: int, pool: pl.Series) -> pl.DataFrame:
    """The intervention group's measurements of pool loans up to the report year, typed."""
    frame = measurements
    if "group" in frame.columns:
        # comparison groups feed the difference-in-differences estimate, never the bond's totals
        frame = frame.filter(pl.col("group").fill_null("") == "")
    frame = frame.filter(
        (pl.col("year") <= report_year) & pl.col("loan").is_in(pool.implode())
    ).select(
        pl.col("loan").cast(pl.String),
        pl.col("indicator").cast(pl.String),
        pl.col("year").cast(pl.Int64),
        pl.col("value").cast(VALUE),
        pl.col("estimated").cast(pl.Boolean).fill_null(False),
        pl.col("restated").cast(pl.Boolean).fill_null(False),
    )
    # a hash per key, sorted: equal neighbours are the only candidates for a repeat (a 64-bit
    # hash of 1.5 million keys takes 12 MB; grouping the string keys took hundreds)
    hashes = frame.select(pl.struct("loan", "indicator", "year").hash().sort().alias("h"))
    if not hashes.select((pl.col("h") == pl.col("h").shift()).any()).item():
        return frame
    duplicates = frame.group_by("loan", "indicator", "year").len().filter(pl.col("len") > 1)
    if duplicates.height:
        raise ValueError(
            f"one value per loan, indicator and year; repeated: {duplicates.to_dicts()}"
        )
    return frame


def _ratio_values(ratio_uses: pl.DataFrame, m: pl.DataFrame) -> pl.DataFrame:
    """Per-loan ratio values: numerator ÷ denominator × 100 where both are measured, else as reported."""
    parts = []
    for role in ("numerator", "denominator"):
        part = m.rename(
            {
                "indicator": role,
                "value": role + "_value",
                "estimated": role + "_est",
                "restated": role + "_res",
            }
        )
        parts.append(
            ratio_uses.join(part, on=["loan", role]).select(
                "loan", "indicator", "year", role + "_value", role + "_est", role + "_res"
            )
        )
    computed = (
        parts[0]
        .join(parts[1], on=["loan", "indicator", "year"])
        .with_columns(
            computed=decimal_div(
                pl.col("numerator_value") * 100,
                VALUE_SCALE,
                pl.col("denominator_value"),
                VALUE_SCALE,
                VALUE_SCALE,
            ),
            computed_est=pl.col("numerator_est") | pl.col("denominator_est"),
            computed_res=pl.col("numerator_res") | pl.col("denominator_res"),
        )
    )
    reported = ratio_uses.select("loan", "indicator").join(m, on=["loan", "indicator"])
    joined = computed.join(reported, on=["loan", "indicator", "year"], how="full", coalesce=True)
    return joined.select(
        "loan",
        "indicator",
        "year",
        pl.coalesce("computed", "value").alias("value"),
        pl.col("numerator_value").alias("numerator"),
        pl.col("denominator_value").alias("denominator"),
        pl.when(pl.col("computed").is_not_null())
        .then(pl.col("computed_est"))
        .otherwise(pl.col("estimated"))
        .alias("estimated"),
        pl.when(pl.col("computed").is_not_null())
        .then(pl.col("computed_res"))
        .otherwise(pl.col("restated"))
        .alias("restated"),
    )


def _per_million(attributed: str, invested: str) -> pl.Expr:
    """Attributed value per million of bond currency invested."""
    return decimal_div(
        pl.col(attributed) * 1_000_000, VALUE_SCALE, pl.col(invested), MONEY_SCALE, VALUE_SCALE
    )


def _totals(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Sum the summable columns of ``frame`` over everything but ``keys``; ratios are re-pooled."""
    return (
        frame.group_by(keys)
        .agg(
            pl.col("loan_count").sum().cast(pl.Int64),
            pl.col("value").sum(),
            pl.col("attributed").sum(),
            pl.col("numerator").sum(),
            pl.col("denominator").sum(),
            pl.col("invested").sum(),
            pl.col("estimated").any(),
            pl.col("restated").any(),
        )
        .with_columns(
            # sums over nulls are 0 in polars: keep each kind's columns null where they do not apply
            attributed=pl.when(pl.col("aggregation").is_in(SUMMABLE)).then(pl.col("attributed")),
            numerator=pl.when(pl.col("aggregation") == "ratio").then(pl.col("numerator")),
            denominator=pl.when(pl.col("aggregation") == "ratio").then(pl.col("denominator")),
        )
        .with_columns(
            # a ratio's total is its pooled numerator over its pooled denominator, recomputed here
            value=pl.when(pl.col("aggregation") == "ratio")
            .then(
                decimal_div(
                    pl.col("numerator") * 100,
                    VALUE_SCALE,
                    pl.col("denominator"),
                    VALUE_SCALE,
                    VALUE_SCALE,
                )
            )
            .otherwise(pl.col("value")),
        )
    )


def assess_impact(
    *,
    loans: pl.DataFrame,
    indicators: pl.DataFrame,
    loan_indicators: pl.DataFrame,
    measurements: pl.DataFrame,
    report_year: int,
    bond_share: Decimal | None,
) -> Impact:
    """Compute the impact tables for the pool ``loans`` (the allocation's per-loan frame).

    ``loans`` needs ``reference``, ``borrower``, ``programme_category``, ``project_share`` and
    ``outstanding`` (bond currency). ``bond_share`` is the bond's share of the pool; the bond's part of
    the attributed totals is ``attributed × bond_share``.
    """
    unknown = set(loan_indicators["indicator"].unique().to_list()) - set(
        indicators["code"].to_list()
    )
    if unknown:
        raise ValueError(f"indicators not defined: {sorted(unknown)}")
    bad = set(indicators["aggregation"].to_list()) - set(AGGREGATIONS)
    if bad:
        raise ValueError(f"unknown aggregation kinds: {sorted(bad)}")

    pool = loans.select(
        pl.col("reference").alias("loan"),
        "borrower",
        "programme_category",
        pl.col("project_share").alias("share"),
        "outstanding",
    )
    definitions = indicators.select(
        pl.col(name) if name in indicators.columns else pl.lit(None, pl.String).alias(name)
        for name in INDICATOR_COLUMNS
    )
    uses = (
        loan_indicators.filter(pl.col("loan").is_in(pool["loan"].implode()))
        .select(
            pl.col("loan").cast(pl.String),
            pl.col("indicator").cast(pl.String),
            pl.col("baseline_value").cast(VALUE),
            pl.col("baseline_year").cast(pl.Int64),
            pl.col("target_value").cast(VALUE),
            pl.col("target_year").cast(pl.Int64),
            pl.col("data_source").cast(pl.String),
        )
        .join(
            definitions.select(
                pl.col("code").alias("indicator"),
                "aggregation",
                "direction",
                "numerator",
                "denominator",
            ),
            on="indicator",
        )
    )
    m = _measurements(measurements, report_year, pool["loan"])

    plain = (
        uses.filter(pl.col("aggregation") != "ratio")
        .select("loan", "indicator")
        .join(m, on=["loan", "indicator"])
    )
    plain = plain.with_columns(
        numerator=pl.lit(None, VALUE), denominator=pl.lit(None, VALUE)
    ).select(
        "loan", "indicator", "year", "value", "numerator", "denominator", "estimated", "restated"
    )
    ratio_uses = uses.filter(pl.col("aggregation") == "ratio").select(
        "loan", "indicator", "numerator", "denominator"
    )
    # sorted while it is narrow, then the loan's columns joined on in that order (a sort copies
    # every column of a million rows)
    values = (
        pl.concat([plain, _ratio_values(ratio_uses, m)])
        .sort("loan", "indicator", "year")
        .join(
            uses.select("loan", "indicator", "aggregation"),
            on=["loan", "indicator"],
            maintain_order="left",
        )
        .join(pool, on="loan", maintain_order="left")
        .with_columns(
            attributed=pl.when(pl.col("aggregation").is_in(SUMMABLE)).then(
                decimal_mul(pl.col("value"), VALUE_SCALE, pl.col("share"), SHARE_SCALE, VALUE_SCALE)
            )
        )
        .select(
            "loan",
            "borrower",
            "programme_category",
            "indicator",
            "aggregation",
            "year",
            "value",
            "numerator",
            "denominator",
            "estimated",
            "restated",
            "share",
            "attributed",
            "outstanding",
        )
    )
    del plain, m

    per_loan = _per_loan(uses, values, pool)
    by_category = _by_category(values)
    bond = _totals(by_category, ["indicator", "aggregation", "year"]).with_columns(
        per_million=_per_million("attributed", "invested"),
        bond_attributed=(
            decimal_mul(
                pl.col("attributed"),
                VALUE_SCALE,
                pl.lit(bond_share, SHARE),
                SHARE_SCALE,
                VALUE_SCALE,
            )
            if bond_share is not None
            else pl.lit(None, VALUE)
        ),
    )
    bond = bond.select(_BOND_ORDER).sort("indicator", "year")

    used = set(uses["indicator"].to_list())
    used |= {
        c for c in ratio_uses["numerator"].to_list() + ratio_uses["denominator"].to_list() if c
    }
    return Impact(
        indicators=definitions.filter(pl.col("code").is_in(sorted(used))).sort("code"),
        values=values.drop("outstanding"),
        per_loan=per_loan,
        by_category=by_category,
        bond=bond,
    )


_CATEGORY_ORDER = [
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
_BOND_ORDER = [
    "indicator",
    "aggregation",
    "year",
    "loan_count",
    "value",
    "attributed",
    "bond_attributed",
    "numerator",
    "denominator",
    "invested",
    "per_million",
    "estimated",
    "restated",
]


def _carried_forward(latest: pl.DataFrame) -> pl.DataFrame:
    """For ``latest`` indicators: each project's latest value up to every year the indicator has data.

    A stock reported in 2023 but not in 2024 still stands in 2024; summing it over years would count
    the same dwellings twice, so each year takes the latest value at or before it.
    """
    if latest.height == 0:
        return latest
    # ``latest`` is sorted by loan, indicator and year (a filter of the values): each project's
    # series is a run of rows, numbered here so the as-of join goes by one integer, not two texts
    latest = latest.with_columns(series=_runs())
    years = latest.select("indicator", "year").unique()
    grid = (
        latest.select("series", "indicator")
        .unique(subset="series")
        .join(years, on="indicator")
        .select("series", "year")
    )
    found = latest.rename({"year": "source_year"}).with_columns(year=pl.col("source_year"))
    # sorted by year overall, hence within every series as join_asof needs
    carried = grid.sort("year").join_asof(
        found.sort("year"),
        on="year",
        by="series",
        strategy="backward",
        check_sortedness=False,
    )
    return carried.filter(pl.col("source_year").is_not_null()).drop("source_year", "series")


def _runs() -> pl.Expr:
    """The number of each row's (loan, indicator) run in a frame sorted by loan and indicator."""
    starts = (pl.col("loan") != pl.col("loan").shift()) | (
        pl.col("indicator") != pl.col("indicator").shift()
    )
    return starts.fill_null(True).cum_sum().set_sorted()


def _by_category(values: pl.DataFrame) -> pl.DataFrame:
    """Category × indicator × year totals of the sum, latest and ratio indicators."""
    keys = ["programme_category", "indicator", "aggregation", "year"]
    # only what the totals read (a million rows: the loans' other columns are never copied)
    values = values.select(
        "loan",
        *keys,
        "value",
        "attributed",
        "numerator",
        "denominator",
        "outstanding",
        "estimated",
        "restated",
    )
    sums = values.filter(pl.col("aggregation") == "sum")
    latest = _carried_forward(values.filter(pl.col("aggregation") == "latest"))
    ratios = values.filter(
        (pl.col("aggregation") == "ratio")
        & pl.col("numerator").is_not_null()
        & pl.col("denominator").is_not_null()
    )
    frame = pl.concat([sums, latest.select(sums.columns), ratios])
    grouped = (
        frame.group_by(keys)
        .agg(
            pl.len().cast(pl.Int64).alias("loan_count"),
            pl.col("value").sum(),
            pl.col("attributed").sum(),
            pl.col("numerator").sum(),
            pl.col("denominator").sum(),
            pl.col("outstanding").sum().alias("invested"),
            pl.col("estimated").any(),
            pl.col("restated").any(),
        )
        .with_columns(
            # ratios carry no attribution and no plain sum; summable kinds carry no numerator
            attributed=pl.when(pl.col("aggregation").is_in(SUMMABLE)).then(pl.col("attributed")),
            numerator=pl.when(pl.col("aggregation") == "ratio").then(pl.col("numerator")),
            denominator=pl.when(pl.col("aggregation") == "ratio").then(pl.col("denominator")),
        )
    )
    grouped = grouped.with_columns(
        value=pl.when(pl.col("aggregation") == "ratio")
        .then(
            decimal_div(
                pl.col("numerator") * 100,
                VALUE_SCALE,
                pl.col("denominator"),
                VALUE_SCALE,
                VALUE_SCALE,
            )
        )
        .otherwise(pl.col("value")),
        per_million=_per_million("attributed", "invested"),
    )
    return grouped.select(_CATEGORY_ORDER).sort("programme_category", "indicator", "year")


def _per_loan(uses: pl.DataFrame, values: pl.DataFrame, pool: pl.DataFrame) -> pl.DataFrame:
    """One row per loan and indicator: baseline, latest, target, change and whether on track."""
    # ``values`` is sorted by loan, indicator and year: each series is a run of rows, numbered
    # here, so grouping by that sorted number takes slices of the run instead of hashing strings
    # and the latest year is the run's last row
    latest = (
        values.with_columns(series=_runs())
        .group_by("series", maintain_order=True)
        .agg(
            pl.col("loan").first(),
            pl.col("indicator").first(),
            pl.col("year").max().alias("latest_year"),
            pl.col("value").last().alias("latest_value"),
            pl.col("estimated").last().alias("latest_estimated"),
            pl.col("attributed").last().alias("latest_attributed"),
            pl.col("estimated").any().alias("any_estimated"),
            pl.col("restated").any().alias("any_restated"),
            pl.len().cast(pl.Int64).alias("years_reported"),
        )
        .drop("series")
    )
    frame = (
        uses.join(pool, on="loan")
        .join(latest, on=["loan", "indicator"], how="left")
        .with_columns(
            change_abs=pl.col("latest_value") - pl.col("baseline_value"),
            years_reported=pl.col("years_reported").fill_null(0),
        )
        .with_columns(
            change_pct=decimal_div(
                pl.col("change_abs") * 100,
                VALUE_SCALE,
                pl.col("baseline_value").abs(),
                VALUE_SCALE,
                PERCENT_SCALE,
            ),
        )
    )
    # on track: at or beyond the straight line from baseline to target, compared by cross
    # multiplication so that no division (and no rounding) decides it
    year_dt = pl.Decimal(38, 0)
    span = (pl.col("target_year") - pl.col("baseline_year")).cast(year_dt)
    elapsed = (
        pl.min_horizontal(pl.col("latest_year"), pl.col("target_year")) - pl.col("baseline_year")
    ).cast(year_dt)
    achieved = pl.col("change_abs") * span
    planned = (pl.col("target_value") - pl.col("baseline_value")) * elapsed
    on_track = (
        pl.when(
            pl.col("latest_value").is_null()
            | pl.col("baseline_value").is_null()
            | pl.col("target_value").is_null()
            | (pl.col("target_year") <= pl.col("baseline_year"))
        )
        .then(pl.lit(None, pl.Boolean))
        .when(pl.col("direction") == "decrease")
        .then(achieved <= planned)
        .otherwise(achieved >= planned)
    )
    return (
        frame.with_columns(on_track=on_track)
        .select(
            "loan",
            "borrower",
            "programme_category",
            "indicator",
            "aggregation",
            "baseline_value",
            "baseline_year",
            "latest_year",
            "latest_value",
            "target_value",
            "target_year",
            "change_abs",
            "change_pct",
            "on_track",
            "share",
            "latest_attributed",
            "latest_estimated",
            "any_estimated",
            "any_restated",
            "years_reported",
            "data_source",
        )
        .sort("loan", "indicator")
    )
