"""The social bond's impact: per loan and indicator, by category and for the bond.

Pure: polars frames in, polars frames out. The aggregation kind of each indicator decides how values
combine, because the commonest defects of results-tracking systems are aggregation mistakes:

* ``sum`` (flows, e.g. dwellings renovated this year): summed over projects per year, full and
  attributed (value × the exact fraction outstanding ÷ total project cost, capped at 1, rounded
  once), and per million of bond currency invested in the projects that could be attributed;
* ``latest`` (stocks and cumulative counts): each project's latest value up to the year, carried
  forward — never a sum over years — then summed over projects, full and attributed;
* ``ratio`` (percentages, per 1 000, per 100 000): pooled as Σnumerator ÷ Σdenominator × scale
  (100, 1 000 or 100 000 by the unit) from the measurements of the numerator and denominator
  indicators for the same loan and year — never a mean of percentages;
* ``none`` (averages, prices, indexes, scores): per project only, with the change since baseline.

A ``context`` indicator (a population used as a ratio's denominator, such as children 0–17) is pooled
inside its ratios but never attributed, never totalled on its own and never given per million: like
``none`` it is shown per project only. The bond's rows also carry **coverage**: the share of the pool's
outstanding amount whose projects reported the indicator that year, and the amounts missing because
the indicator does not apply to a project, is not yet due (the project was disbursed after that year)
or is overdue.

Values have 4 decimals, change in per cent 2, shares 8; each derived figure is rounded half-even once
from its exact value (see ``allocation.decimal_mul`` / ``decimal_div``). Category totals are sums of the
per-loan rows and the bond's totals are sums of the category rows, so the tables always reconcile.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Final

import polars as pl

from lanportfolj.domain.allocation import (
    MONEY,
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
#: Kinds whose values are attributed and totalled over projects (unless the indicator is context).
SUMMABLE: Final[tuple[str, ...]] = ("sum", "latest")
#: value = scale × numerator ÷ denominator, by the ratio's unit; a unit not listed here scales by 100.
RATIO_SCALES: Final[dict[str, int]] = {"percent": 100, "per_1000": 1000, "per_100000": 100_000}
DEFAULT_RATIO_SCALE: Final = 100
SCALE: Final = pl.Decimal(38, 0)

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
    "context",
    "ratio_scale",
)


@dataclass(frozen=True)
class Impact:
    """The impact tables; every frame is sorted, so its rows come out in the same order every time."""

    #: the indicator definitions the pool's loans use
    indicators: pl.DataFrame
    #: one row per loan and indicator (row ``sid``, sorted by loan and indicator): loan, borrower,
    #: programme category, indicator, aggregation, share
    series: pl.DataFrame
    #: the yearly values by series number: sid, year, value, numerator, denominator, estimated,
    #: restated, attributed (sorted by sid and year)
    yearly: pl.DataFrame
    #: loan × indicator: baseline, latest, target, expected at approval (ex ante), change, on track,
    #: attributed latest value
    per_loan: pl.DataFrame
    #: programme category × indicator × year, for sum, latest and ratio indicators
    by_category: pl.DataFrame
    #: indicator × year totals for the pool and the bond's share of them
    bond: pl.DataFrame

    @property
    def values(self) -> pl.DataFrame:
        """loan × indicator × year: value, numerator, denominator, estimated, restated, share,
        attributed, with the series' texts (``wide_values``; built on each use)."""
        return wide_values(self.series, self.yearly)


def wide_values(series: pl.DataFrame, yearly: pl.DataFrame) -> pl.DataFrame:
    """The yearly values (``Impact.yearly``, or a slice of it) with their series' texts, one row per
    loan, indicator and year, sorted so.

    At national scale this is the widest table (1.2 million rows, five texts each), so the report
    keeps it narrow and widens it only where a reader wants it (a chunk at a time for the JSON).
    """
    texts = series[yearly["sid"]]
    return pl.concat(
        [texts.drop("share"), yearly.drop("sid", "attributed"), texts.select("share"),
         yearly.select("attributed")],
        how="horizontal",
    )  # fmt: skip


def _ids(column: str, names: list[str]) -> pl.Expr:
    """The position of each text of ``column`` in the sorted, distinct ``names`` (null if absent).

    Numbering the loans and indicators in their sorted order lets every join, group and sort below go
    by small integers instead of texts (hashing and copying a million texts took most of the time and
    memory), and sorting by the numbers is sorting by the texts.
    """
    return (
        pl.col(column)
        .cast(pl.String)
        .cast(pl.Enum(names), strict=False)
        .to_physical()
        .cast(pl.UInt32)
    )


def _pair(loan: pl.Expr, indicator: pl.Expr) -> pl.Expr:
    """One 64-bit key for a loan number and an indicator number (null if either is)."""
    return loan.cast(pl.UInt64) * (1 << 32) + indicator.cast(pl.UInt64)


def _measurements(
    measurements: pl.DataFrame, report_year: int, loans: list[str], codes: list[str]
) -> pl.DataFrame:
    """The intervention group's measurements of pool loans up to the report year, typed and keyed.

    ``pair`` is the loan and indicator numbers (``_ids`` of ``loans`` and ``codes``) in one key;
    values of indicators no definition names are dropped (no table can use them).
    """
    frame = measurements
    lid = _ids("loan", loans)
    keep = (pl.col("year") <= report_year) & lid.is_not_null()
    if "group" in frame.columns:
        # comparison groups feed the difference-in-differences estimate, never the bond's totals
        keep = keep & (pl.col("group").fill_null("") == "")
    # the narrow typed columns first, then the filter: the texts are never copied
    keyed = frame.select(
        _pair(lid, _ids("indicator", codes)).alias("pair"),
        pl.col("year").cast(pl.Int64),
        pl.col("value").cast(VALUE),
        pl.col("estimated").cast(pl.Boolean).fill_null(False),
        pl.col("restated").cast(pl.Boolean).fill_null(False),
        keep.alias("keep"),
    )
    # (from the database every row is kept: then filtering would only copy them)
    if not keyed["keep"].all():
        keyed = keyed.filter("keep")
    keyed = keyed.drop("keep")
    # a hash per key, sorted: equal neighbours are the only candidates for a repeat; an undefined
    # indicator's key is null, so two of them may look alike here and are told apart by their texts
    hashes = keyed.select(pl.struct("pair", "year").hash().sort().alias("h"))
    if hashes.select((pl.col("h") == pl.col("h").shift()).any()).item():
        named = frame.filter(keep).select(
            pl.col("loan").cast(pl.String),
            pl.col("indicator").cast(pl.String),
            pl.col("year").cast(pl.Int64),
        )
        duplicates = named.group_by("loan", "indicator", "year").len().filter(pl.col("len") > 1)
        if duplicates.height:
            raise ValueError(
                f"one value per loan, indicator and year; repeated: {duplicates.to_dicts()}"
            )
    return keyed.filter(pl.col("pair").is_not_null())


_FLAGS: Final = ("value", "estimated", "restated")


def _until_left(m: pl.DataFrame, pool: pl.DataFrame, loans: list[str]) -> pl.DataFrame:
    """``m`` without the values of a loan that left the pool (``last_year`` set) from the years
    after it left: its impact is kept for the years it was in (issue 17 item 5)."""
    gone = pool.filter(pl.col("last_year").is_not_null())
    if gone.height == 0:
        return m
    lids = gone.select(_ids("loan", loans).alias("lid"))["lid"].to_list()
    last = (pl.col("pair") // (1 << 32)).replace_strict(
        lids, gone["last_year"].to_list(), default=None, return_dtype=pl.Int64
    )
    return m.filter(last.is_null() | (pl.col("year") <= last))


def _ratio_values(ratios: pl.DataFrame, m: pl.DataFrame, reported: pl.DataFrame) -> pl.DataFrame:
    """Per-loan ratio values: numerator ÷ denominator × scale where both are measured, else as
    reported.

    ``ratios`` has each ratio series' ``sid``, its numerator's and denominator's ``pair`` keys and its
    ``scale``; ``reported`` the ratio series' own measurements by ``sid``.
    """
    parts = []
    for role in ("numerator", "denominator"):
        part = m.rename({"pair": role, **{name: f"{role}_{name}" for name in _FLAGS}})
        parts.append(ratios.select("sid", role).join(part, on=role).drop(role))
    computed = (
        parts[0]
        .join(parts[1], on=["sid", "year"])
        .join(ratios.select("sid", "scale"), on="sid")
        .with_columns(
            computed=decimal_div(
                pl.col("numerator_value") * pl.col("scale"),
                VALUE_SCALE,
                pl.col("denominator_value"),
                VALUE_SCALE,
                VALUE_SCALE,
            ),
            computed_est=pl.col("numerator_estimated") | pl.col("denominator_estimated"),
            computed_res=pl.col("numerator_restated") | pl.col("denominator_restated"),
        )
    )
    joined = computed.join(reported, on=["sid", "year"], how="full", coalesce=True)
    return joined.select(
        "sid",
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


def _scale_of(indicator: pl.Expr, scales: dict[str, int]) -> pl.Expr:
    """The ratio scale of each row's indicator (``scales`` by code; 100 for a code not in it)."""
    return indicator.replace_strict(
        list(scales), [Decimal(v) for v in scales.values()], default=Decimal(DEFAULT_RATIO_SCALE),
        return_dtype=SCALE,
    )  # fmt: skip


def _totals(frame: pl.DataFrame, keys: list[str], scales: dict[str, int]) -> pl.DataFrame:
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
                    pl.col("numerator") * _scale_of(pl.col("indicator"), scales),
                    VALUE_SCALE,
                    pl.col("denominator"),
                    VALUE_SCALE,
                    VALUE_SCALE,
                )
            )
            .otherwise(pl.col("value")),
        )
    )


def _sorted_names(column: pl.Series) -> list[str]:
    return column.drop_nulls().unique().sort().to_list()


def assess_impact(
    *,
    loans: pl.DataFrame,
    indicators: pl.DataFrame,
    loan_indicators: pl.DataFrame,
    measurements: pl.DataFrame,
    report_year: int,
    bond_share: Decimal | Fraction | None,
) -> Impact:
    """Compute the impact tables for the pool ``loans`` (the allocation's per-loan frame).

    ``loans`` needs ``reference``, ``borrower``, ``programme_category``, ``project_share`` and
    ``outstanding`` (bond currency); with ``outstanding_sek`` and ``total_project_cost_sek`` the
    attribution uses the exact fraction of the two (else the rounded ``project_share``), and with
    ``disbursement_date`` coverage tells values not yet due from overdue ones. ``bond_share`` is the
    bond's share of the pool (best as the exact ``Fraction``); the bond's part of the attributed
    totals is ``attributed × bond_share``, rounded once.
    """
    unknown = set(loan_indicators["indicator"].unique().to_list()) - set(
        indicators["code"].to_list()
    )
    if unknown:
        raise ValueError(f"indicators not defined: {sorted(unknown)}")
    bad = set(indicators["aggregation"].to_list()) - set(AGGREGATIONS)
    if bad:
        raise ValueError(f"unknown aggregation kinds: {sorted(bad)}")

    exact = "outstanding_sek" in loans.columns and "total_project_cost_sek" in loans.columns
    pool = loans.select(
        pl.col("reference").alias("loan"),
        "borrower",
        "programme_category",
        pl.col("project_share").alias("share"),
        "outstanding",
        (pl.col("outstanding_sek") if exact else pl.lit(None, MONEY)).alias("share_num"),
        (pl.col("total_project_cost_sek") if exact else pl.lit(None, MONEY)).alias("share_den"),
        (
            pl.col("disbursement_date").dt.year().cast(pl.Int64)
            if "disbursement_date" in loans.columns
            else pl.lit(None, pl.Int64)
        ).alias("first_year"),
        (
            pl.col("last_year").cast(pl.Int64)
            if "last_year" in loans.columns
            else pl.lit(None, pl.Int64)
        ).alias("last_year"),
    )
    definitions = _definitions(indicators)
    scales = dict(
        definitions.filter(pl.col("aggregation") == "ratio")
        .select("code", pl.col("ratio_scale").cast(pl.Int64))
        .iter_rows()
    )
    loan_names = _sorted_names(pool["loan"])
    codes = _sorted_names(
        pl.concat([definitions["code"], definitions["numerator"], definitions["denominator"]])
    )
    # one row per series (loan × indicator), numbered ``sid`` in loan and indicator order: the
    # yearly values carry only that number until the texts are put on at the end
    series = (
        loan_indicators.filter(pl.col("loan").is_in(pool["loan"].implode()))
        .select(
            pl.col("loan").cast(pl.String),
            pl.col("indicator").cast(pl.String),
            pl.col("baseline_value").cast(VALUE),
            pl.col("baseline_year").cast(pl.Int64),
            pl.col("target_value").cast(VALUE),
            pl.col("target_year").cast(pl.Int64),
            pl.col("data_source").cast(pl.String),
            (
                pl.col("expected_value").cast(VALUE)
                if "expected_value" in loan_indicators.columns
                else pl.lit(None, VALUE).alias("expected_value")
            ),
        )
        .join(
            definitions.select(
                pl.col("code").alias("indicator"),
                "aggregation",
                "direction",
                "numerator",
                "denominator",
                "context",
                pl.col("ratio_scale").alias("scale"),
            ),
            on="indicator",
        )
        .join(pool, on="loan")
        .sort("loan", "indicator")
        .with_row_index("sid")
        .with_columns(
            lid=_ids("loan", loan_names),
            iid=_ids("indicator", codes),
            category=pl.col("programme_category").rank("dense").cast(pl.UInt32),
        )
        .with_columns(
            pair=_pair(pl.col("lid"), pl.col("iid")),
            numerator_pair=_pair(pl.col("lid"), _ids("numerator", codes)),
            denominator_pair=_pair(pl.col("lid"), _ids("denominator", codes)),
        )
    )
    m = _measurements(measurements, report_year, loan_names, codes)
    m = _until_left(m, pool, loan_names)
    measured = m.join(
        series.select("pair", "sid", ratio=pl.col("aggregation") == "ratio"), on="pair"
    ).drop("pair")
    plain = measured.filter(~pl.col("ratio")).select(
        "sid",
        "year",
        "value",
        numerator=pl.lit(None, VALUE),
        denominator=pl.lit(None, VALUE),
        estimated="estimated",
        restated="restated",
    )
    ratios = series.filter(pl.col("aggregation") == "ratio").select(
        "sid", "scale", numerator="numerator_pair", denominator="denominator_pair"
    )
    ratio_values = _ratio_values(ratios, m, measured.filter(pl.col("ratio")).drop("ratio"))
    del m, measured
    # sorted while it is narrow (numbers, no texts): the series' texts are gathered in that order
    core = pl.concat([plain, ratio_values]).sort("sid", "year")
    del plain, ratio_values
    attributable = series["aggregation"].is_in(list(SUMMABLE)) & ~series["context"]

    def of_series(column: pl.Series) -> pl.Expr:
        return pl.lit(column).gather(pl.col("sid"))

    core = core.with_columns(
        pl.col("sid").set_sorted(),
        attributed=pl.when(of_series(attributable)).then(
            _attributed(of_series(series["share_num"]), of_series(series["share_den"]))
            if exact
            else decimal_mul(
                pl.col("value"), VALUE_SCALE, of_series(series["share"]), SHARE_SCALE, VALUE_SCALE
            )
        ),
    )

    per_loan = _per_loan(series, core)
    by_category = _by_category(series, core, scales)
    bond = _totals(by_category, ["indicator", "aggregation", "year"], scales).with_columns(
        per_million=_per_million("attributed", "invested"),
        bond_attributed=_bond_part(bond_share),
    )
    # coverage is of the pool at the report date: a loan that left it counts for nothing there
    staying = pl.col("last_year").is_null()
    in_pool = series.with_columns(
        outstanding=pl.when(staying).then("outstanding").otherwise(pl.lit(Decimal(0), MONEY))
    )
    base = pool.filter(staying)["outstanding"].sum() if pool.height else Decimal(0)
    bond = (
        bond.join(
            _coverage(in_pool, core, bond, base),
            on=["indicator", "year"],
            how="left",
        )
        .select(_BOND_ORDER)
        .sort("indicator", "year")
    )

    used = set(series["indicator"].to_list())
    ratio_series = series.filter(pl.col("aggregation") == "ratio")
    used |= {
        c for c in ratio_series["numerator"].to_list() + ratio_series["denominator"].to_list() if c
    }
    return Impact(
        indicators=definitions.filter(pl.col("code").is_in(sorted(used))).sort("code"),
        series=series.select(
            "loan", "borrower", "programme_category", "indicator", "aggregation", "share"
        ),
        yearly=core,
        per_loan=per_loan,
        by_category=by_category,
        bond=bond,
    )


def _definitions(indicators: pl.DataFrame) -> pl.DataFrame:
    """The indicator definitions with every column of ``INDICATOR_COLUMNS``: ``context`` false and
    ``ratio_scale`` from the unit (100 for an unknown unit) when the frame does not give them."""
    frame = indicators.select(
        pl.col(name) if name in indicators.columns else pl.lit(None, pl.String).alias(name)
        for name in INDICATOR_COLUMNS
        if name not in ("context", "ratio_scale")
    )
    context = (
        indicators["context"].cast(pl.Boolean).fill_null(False)
        if "context" in indicators.columns
        else pl.repeat(False, indicators.height, dtype=pl.Boolean, eager=True)
    )
    scale = pl.col("unit").replace_strict(
        list(RATIO_SCALES),
        [Decimal(v) for v in RATIO_SCALES.values()],
        default=Decimal(DEFAULT_RATIO_SCALE),
        return_dtype=SCALE,
    )
    return frame.with_columns(
        context=context,
        ratio_scale=pl.when(pl.col("aggregation") == "ratio").then(scale),
    )


def _attributed(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """value × min(1, numerator ÷ denominator), rounded once to ``VALUE_SCALE`` from the exact
    product (34 356 × 200/409 is 16 800, where a share rounded to 8 decimals first gives
    16 800.0002); null when the denominator (the project cost) is missing."""
    product = pl.Decimal(38, VALUE_SCALE + MONEY_SCALE)
    exact = pl.col("value").cast(product) * numerator.cast(product)
    return (
        pl.when(denominator.is_null() | numerator.is_null())
        .then(pl.lit(None, VALUE))
        .when(numerator >= denominator)
        .then(pl.col("value"))
        .otherwise(decimal_div(exact, VALUE_SCALE + MONEY_SCALE, denominator, MONEY_SCALE, VALUE_SCALE))
    )  # fmt: skip


def _bond_part(bond_share: Decimal | Fraction | None) -> pl.Expr:
    """The bond's part of the attributed totals: ``attributed × bond_share``, rounded once (an exact
    fraction is applied as × numerator ÷ denominator)."""
    if bond_share is None:
        return pl.lit(None, VALUE)
    if isinstance(bond_share, Fraction):
        top = pl.lit(Decimal(bond_share.numerator), SCALE)
        bottom = pl.lit(Decimal(bond_share.denominator), SCALE)
        return decimal_div(pl.col("attributed") * top, VALUE_SCALE, bottom, 0, VALUE_SCALE)
    return decimal_mul(
        pl.col("attributed"), VALUE_SCALE, pl.lit(bond_share, SHARE), SHARE_SCALE, VALUE_SCALE
    )


def _coverage(
    series: pl.DataFrame, core: pl.DataFrame, bond: pl.DataFrame, base: Decimal
) -> pl.DataFrame:
    """Per indicator and year of the bond's rows: how much of the pool reported it, and why the rest
    did not (amounts in the bond's currency, over the pool's outstanding amount).

    ``covered_amount``: the projects with a value that year; ``missing_not_applicable``: projects
    without the indicator; ``missing_not_yet_due``: projects with it, disbursed after that year;
    ``missing_overdue``: the rest. ``coverage_share`` = covered ÷ pool outstanding (8 decimals).
    """
    # by indicator number and year, from narrow columns: a grid of every series × year was 1.2
    # million rows at national scale; these are sums over the reported values and the series
    zero = pl.lit(Decimal(0), MONEY)
    keys = (
        bond.select("indicator", "year")
        .unique()
        .join(series.select("indicator", "iid").unique(), on="indicator")
    )
    later = pl.col("first_year").is_not_null() & (pl.col("first_year") > pl.col("year"))
    reported = (
        core.filter(pl.col("value").is_not_null())
        .select(
            "year",
            iid=pl.lit(series["iid"]).gather(pl.col("sid")),
            outstanding=pl.lit(series["outstanding"]).gather(pl.col("sid")),
            first_year=pl.lit(series["first_year"]).gather(pl.col("sid")),
        )
        .group_by("iid", "year")
        .agg(
            covered_amount=pl.col("outstanding").sum(),
            reported_early=pl.when(later).then(pl.col("outstanding")).otherwise(zero).sum(),
        )
    )
    by_start = series.group_by("iid", "first_year").agg(pl.col("outstanding").sum())
    # projects disbursed after the year: not yet due, unless they reported (early) all the same
    due_later = (
        keys.select("iid", "year")
        .join(by_start, on="iid")
        .group_by("iid", "year")
        .agg(
            applicable=pl.col("outstanding").sum(),
            later=pl.when(later).then(pl.col("outstanding")).otherwise(zero).sum(),
        )
    )
    counted = (
        keys.join(due_later, on=["iid", "year"], how="left")
        .join(reported, on=["iid", "year"], how="left")
        .with_columns(
            pl.col("covered_amount").fill_null(zero),
            missing_not_yet_due=pl.col("later") - pl.col("reported_early").fill_null(zero),
        )
    )
    total = pl.lit(Decimal(base), MONEY)
    return counted.select(
        "indicator",
        "year",
        coverage_base=total,
        covered_amount=pl.col("covered_amount").cast(MONEY),
        coverage_share=decimal_div(
            pl.col("covered_amount"), MONEY_SCALE, total, MONEY_SCALE, SHARE_SCALE
        ),
        missing_not_yet_due=pl.col("missing_not_yet_due").cast(MONEY),
        missing_overdue=(
            pl.col("applicable") - pl.col("covered_amount") - pl.col("missing_not_yet_due")
        ).cast(MONEY),
        missing_not_applicable=(total - pl.col("applicable")).cast(MONEY),
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
    "coverage_base",
    "covered_amount",
    "coverage_share",
    "missing_not_yet_due",
    "missing_overdue",
    "missing_not_applicable",
]


def _carried_forward(latest: pl.DataFrame, indicator: pl.Expr) -> pl.DataFrame:
    """For ``latest`` indicators: each project's latest value up to every year the indicator has data.

    A stock reported in 2023 but not in 2024 still stands in 2024; summing it over years would count
    the same dwellings twice, so each year takes the latest value at or before it. ``latest`` is
    keyed by series (``sid``); ``indicator`` gives a series' indicator number.
    """
    if latest.height == 0:
        return latest
    years = latest.select(indicator.alias("iid"), "year").unique()
    grid = (
        latest.select("sid")
        .unique()
        .with_columns(indicator.alias("iid"))
        .join(years, on="iid")
        .select("sid", "year")
    )
    found = latest.rename({"year": "source_year"}).with_columns(year=pl.col("source_year"))
    # sorted by year overall, hence within every series as join_asof needs
    carried = grid.sort("year").join_asof(
        found.sort("year"),
        on="year",
        by="sid",
        strategy="backward",
        check_sortedness=False,
    )
    return carried.filter(pl.col("source_year").is_not_null()).select(latest.columns)


def _by_category(series: pl.DataFrame, core: pl.DataFrame, scales: dict[str, int]) -> pl.DataFrame:
    """Category × indicator × year totals of the sum, latest and ratio indicators (a context
    indicator has none: it is pooled only inside its ratios).

    Grouped by one number per category and indicator (``cell``) and the year; the texts are put on
    the few hundred totals afterwards.
    """
    cells = series.select(
        "sid",
        cell=pl.col("category").fill_null(0).cast(pl.UInt64) * (pl.col("iid").max() + 1)
        + pl.col("iid"),
        # a context indicator is given a kind no total takes
        kind=pl.when(pl.col("context"))
        .then(pl.lit(len(AGGREGATIONS), pl.UInt8))
        .otherwise(
            pl.col("aggregation").replace_strict(
                list(AGGREGATIONS), list(range(len(AGGREGATIONS))), return_dtype=pl.UInt8
            )
        ),
    )

    def of_series(name: str) -> pl.Expr:
        source = cells[name] if name in cells.columns else series[name]
        return pl.lit(source).gather(pl.col("sid"))

    kind = of_series("kind")
    flags = ["estimated", "restated"]
    # each kind grouped on its own, from only the columns it sums (selected before filtering, so
    # nothing else is copied); the columns a kind does not sum are null, as the table shows them
    summed = core.select("sid", "year", "value", "attributed", *flags)
    sums = summed.filter(kind == AGGREGATIONS.index("sum"))
    latest = _carried_forward(summed.filter(kind == AGGREGATIONS.index("latest")), of_series("iid"))
    if series["last_year"].is_not_null().any():
        # a stock of a loan that left the pool is not carried past the year it left
        left = of_series("last_year")
        latest = latest.filter(left.is_null() | (pl.col("year") <= left))
    ratios = core.select("sid", "year", "numerator", "denominator", *flags).filter(
        (kind == AGGREGATIONS.index("ratio"))
        & pl.col("numerator").is_not_null()
        & pl.col("denominator").is_not_null()
    )
    del summed

    def totals(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        invested = of_series("outstanding")
        if "attributed" in frame.columns:
            # the per-million base is what was invested in the projects that could be attributed
            invested = pl.when(pl.col("attributed").is_not_null()).then(invested)
        return (
            frame.with_columns(cell=of_series("cell"), invested=invested)
            .group_by("cell", "year")
            .agg(
                pl.len().cast(pl.Int64).alias("loan_count"),
                *(pl.col(name).sum() for name in columns),
                pl.col("invested").sum(),
                pl.col("estimated").any(),
                pl.col("restated").any(),
            )
        )

    none = pl.lit(None, VALUE)
    order = ["cell", "year", "loan_count", "value", "attributed", "numerator", "denominator"]
    order += ["invested", *flags]
    summable = [
        totals(frame, ["value", "attributed"])
        .with_columns(numerator=none, denominator=none)
        .select(order)
        for frame in (sums, latest)
    ]
    pooled = totals(ratios, ["numerator", "denominator"]).with_columns(value=none, attributed=none)
    frame = pl.concat([*summable, pooled.select(order)])
    del sums, latest, ratios
    names = series.select(
        "programme_category", "indicator", "aggregation", cell=cells["cell"]
    ).unique(subset="cell")
    grouped = (
        frame.join(names, on="cell")
        .sort("cell", "year")
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
                pl.col("numerator") * _scale_of(pl.col("indicator"), scales),
                VALUE_SCALE,
                pl.col("denominator"),
                VALUE_SCALE,
                VALUE_SCALE,
            )
        )
        .otherwise(pl.col("value")),
        per_million=_per_million("attributed", "invested"),
    )
    # the cells are numbered in category and indicator order: this is sorted by their texts
    return grouped.select(_CATEGORY_ORDER)


def _per_loan(series: pl.DataFrame, core: pl.DataFrame) -> pl.DataFrame:
    """One row per loan and indicator: baseline, latest, target, change and whether on track."""
    # ``core`` is sorted by series and year: the latest year is each series' last row
    latest = core.group_by("sid", maintain_order=True).agg(
        pl.col("year").max().alias("latest_year"),
        pl.col("value").last().alias("latest_value"),
        pl.col("estimated").last().alias("latest_estimated"),
        pl.col("attributed").last().alias("latest_attributed"),
        pl.col("estimated").any().alias("any_estimated"),
        pl.col("restated").any().alias("any_restated"),
        pl.len().cast(pl.Int64).alias("years_reported"),
    )
    frame = (
        series.join(latest, on="sid", how="left", maintain_order="left")
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
    return frame.with_columns(on_track=on_track).select(
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
        "expected_value",
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
