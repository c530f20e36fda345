"""Check every row of a read table against the context and report all problems at once.

Every check (lookups, years, number syntax, duplicates, ranges) runs as polars expressions over the whole
table; only numbers a float comparison cannot settle (on or near a bound, exponents on whole-number
indicators) are turned into ``Decimal`` and checked exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import polars as pl

from lanportfolj.domain import identifiers as ids
from lanportfolj.ingest.headers import CANONICAL_COLUMNS
from lanportfolj.ingest.issues import ImportIssue, make_issue
from lanportfolj.ingest.normalise import clean_text, estimated_flag, number_texts, year_number
from lanportfolj.ingest.readers import ROW_COLUMN
from lanportfolj.ingest.rules import IngestContext, LoanIndicatorRule

Progress = Callable[[int, int], None]
_PROGRESS_STEP = 10_000
_COLUMN_ORDER = {column: index for index, column in enumerate(CANONICAL_COLUMNS)}


def _rules_frame(context: IngestContext) -> pl.DataFrame:
    loans, indicators, firsts, lows, highs, integers = [], [], [], [], [], []
    for (loan, indicator), rule in context.rules.items():
        loans.append(loan)
        indicators.append(indicator)
        firsts.append(rule.baseline_year)
        lows.append(None if rule.min_value is None else float(rule.min_value))
        highs.append(None if rule.max_value is None else float(rule.max_value))
        integers.append(rule.integer)
    return pl.DataFrame(
        {
            "loan_ref": pl.Series(loans, dtype=pl.String),
            "indicator_code": pl.Series(indicators, dtype=pl.String),
            "baseline_year": pl.Series(firsts, dtype=pl.Int64),
            "has_rule": pl.Series([True] * len(loans), dtype=pl.Boolean),
            "low": pl.Series(lows, dtype=pl.Float64),
            "high": pl.Series(highs, dtype=pl.Float64),
            "integer": pl.Series(integers, dtype=pl.Boolean),
        }
    )


def _format_decimal(value: Decimal, lang: str) -> str:
    text = format(value, "f")
    return text.replace(".", ",") if lang == "sv" else text


def _range_text(rule: LoanIndicatorRule, lang: str) -> str:
    low, high = rule.min_value, rule.max_value
    if low is not None and high is not None:
        return f"{_format_decimal(low, lang)}–{_format_decimal(high, lang)}"
    if low is not None:
        return f"≥ {_format_decimal(low, lang)}"
    if high is not None:
        return f"≤ {_format_decimal(high, lang)}"
    return ""


def validate_table(
    table: pl.DataFrame,
    context: IngestContext,
    *,
    file: str = "",
    progress: Progress | None = None,
) -> tuple[pl.DataFrame, list[ImportIssue]]:
    """Validate a table of text cells (canonical columns plus ``_row``) → accepted rows and issues.

    The accepted rows come as a frame (see :data:`lanportfolj.ingest.result.ACCEPTED_SCHEMA`), so a large
    file never turns into one Python object per row unless a caller asks for ``ParseResult.rows``.
    """
    total = table.height
    if progress is not None:
        progress(0, total)
    loan_lookup = {ref.upper(): ref for ref in context.known_loans}
    indicator_lookup = {code.lower(): code for code in context.known_indicators}
    allowed = context.allowed_loans

    frame = table.select(
        pl.col(ROW_COLUMN),
        *(clean_text(column).alias(column) for column in CANONICAL_COLUMNS),
    ).with_columns(
        loan_ref=pl.col("loan")
        .str.to_uppercase()
        .replace_strict(loan_lookup, default=None, return_dtype=pl.String),
        indicator_code=pl.col("indicator")
        .str.to_lowercase()
        .replace_strict(indicator_lookup, default=None, return_dtype=pl.String),
        year_number=year_number(pl.col("year")),
        estimated_flag=estimated_flag(pl.col("estimated")),
        # Comparison units are matched by name; collapse inner spaces so "Skola  B" = "Skola B".
        group_name=pl.col("group").str.replace_all(r"\s+", " ").fill_null(""),
    )
    frame = frame.with_columns(value_text=number_texts(frame["value"])).join(
        _rules_frame(context),
        on=["loan_ref", "indicator_code"],
        how="left",
        maintain_order="left",
        nulls_equal=False,
    )
    # a comparison unit's name reaches chart legends and workbook cells: the domain's grammar decides,
    # asked once per distinct name (a file has a handful)
    bad_groups = [
        name
        for name in frame["group_name"].unique().to_list()
        if name and ids.comparison_group_problem(name) is not None
    ]
    allowed_expr = pl.lit(True) if allowed is None else pl.col("loan_ref").is_in(sorted(allowed))
    first_year = pl.col("baseline_year").fill_null(context.earliest_year)
    keys = ["loan_ref", "indicator_code", "group_name", "year_number"]
    candidate = (
        pl.all_horizontal(pl.col(key).is_not_null() for key in keys) & pl.col("value").is_not_null()
    )
    frame = frame.with_columns(
        first_year=first_year,
        loan_missing=pl.col("loan").is_null(),
        loan_unknown=pl.col("loan").is_not_null() & pl.col("loan_ref").is_null(),
        loan_not_allowed=pl.col("loan_ref").is_not_null() & ~allowed_expr,
        indicator_missing=pl.col("indicator").is_null(),
        indicator_unknown=pl.col("indicator").is_not_null() & pl.col("indicator_code").is_null(),
        not_on_loan=pl.col("loan_ref").is_not_null()
        & pl.col("indicator_code").is_not_null()
        & pl.col("has_rule").is_null(),
        year_missing=pl.col("year").is_null(),
        year_bad=pl.col("year").is_not_null() & pl.col("year_number").is_null(),
        year_out=pl.col("year_number").is_not_null()
        & ((pl.col("year_number") < first_year) | (pl.col("year_number") > context.current_year)),
        value_missing=pl.col("value").is_null(),
        value_nan=pl.col("value").is_not_null() & pl.col("value_text").is_null(),
        estimated_bad=pl.col("estimated_flag").is_null(),
        group_bad=pl.col("group_name").is_in(bad_groups),
        first_row=pl.col(ROW_COLUMN).filter(candidate).min().over(keys),
    ).with_columns(
        duplicate=candidate.fill_null(False) & (pl.col(ROW_COLUMN) > pl.col("first_row")),
    )

    issues: list[ImportIssue] = []

    def report(flag: str, code: str, column: str | None) -> None:
        hits = frame.filter(pl.col(flag).fill_null(False))
        if hits.height == 0:
            return
        source = column if column is not None else "loan"
        for record in hits.select(
            ROW_COLUMN, source, "loan_ref", "first_year", "first_row"
        ).iter_rows(named=True):
            issues.append(
                make_issue(
                    code,
                    row=record[ROW_COLUMN],
                    column=column,
                    value=record[source] if column is not None else None,
                    file=file,
                    loan=record["loan_ref"],
                    first=record["first_year"],
                    last=context.current_year,
                    first_row=record["first_row"],
                )
            )

    report("loan_missing", "missing-value", "loan")
    report("loan_unknown", "unknown-loan", "loan")
    report("loan_not_allowed", "not-your-loan", "loan")
    report("indicator_missing", "missing-value", "indicator")
    report("indicator_unknown", "unknown-indicator", "indicator")
    report("not_on_loan", "indicator-not-on-loan", "indicator")
    report("year_missing", "missing-value", "year")
    report("year_bad", "bad-year", "year")
    report("year_out", "year-out-of-range", "year")
    report("value_nan", "not-a-number", "value")
    report("estimated_bad", "bad-estimated", "estimated")
    report("group_bad", "bad-group-name", "group")
    report("duplicate", "duplicate-row", None)
    # An unfilled template row is skipped with a warning, not an error: borrowers leave rows empty.
    for record in frame.filter(pl.col("value_missing")).select(ROW_COLUMN).iter_rows():
        issues.append(
            make_issue(
                "missing-value",
                row=record[0],
                column="value",
                file=file,
                severity="warning",
                message_key="missing-value-skipped",
            )
        )

    error_flags = [
        "loan_missing",
        "loan_unknown",
        "loan_not_allowed",
        "indicator_missing",
        "indicator_unknown",
        "not_on_loan",
        "year_missing",
        "year_bad",
        "year_out",
        "value_missing",
        "value_nan",
        "estimated_bad",
        "group_bad",
        "duplicate",
    ]
    # Range checks run on every number with a rule, so a duplicate that is also out of range shows both.
    checkable = frame.with_columns(
        clean=~pl.any_horizontal(pl.col(flag).fill_null(False) for flag in error_flags)
    ).filter(pl.col("value_text").is_not_null() & pl.col("has_rule").is_not_null())
    checkable = checkable.with_columns(exact=_needs_exact_check())
    suspects = checkable.filter(pl.col("exact"))
    if progress is not None and suspects.height:
        # every other row is fully checked by now
        progress(total - suspects.height, total)
    failed = _exact_checks(suspects, context, file, issues, progress, total)
    if failed:
        checkable = checkable.filter(
            ~pl.col(ROW_COLUMN).is_in(pl.Series(failed, dtype=pl.Int64).implode())
        )
    accepted = checkable.filter(pl.col("clean")).select(
        pl.col(ROW_COLUMN).alias("row"),
        pl.col("loan_ref").alias("loan"),
        pl.col("indicator_code").alias("indicator"),
        pl.col("year_number").alias("year"),
        pl.col("value_text").alias("value"),
        pl.col("estimated_flag").alias("estimated"),
        pl.col("comment"),
        pl.col("group_name").alias("group"),
    )
    issues.sort(
        key=lambda issue: (
            issue.row if issue.row is not None else 0,
            _COLUMN_ORDER.get(issue.column or "", len(_COLUMN_ORDER)),
        )
    )
    if progress is not None:
        progress(total, total)
    return accepted, issues


# A whole number without an exponent ("12", "-3.00"): certainly whole, no Decimal needed to tell.
_WHOLE_PATTERN = r"^[-+]?\d+(?:\.0*)?$"
# Values this close to a bound (relative) are compared exactly, whatever the float says.
_BOUND_MARGIN = 1e-9


def _needs_exact_check() -> pl.Expr:
    """True for the rows whose range or whole-number check a float cannot settle.

    Parsing to the nearest double is monotonic, so a value whose double lies strictly inside the bounds'
    doubles lies inside the bounds; only values on or near a bound, unparsable as a float, or not plainly
    whole for a whole-number indicator go through ``Decimal``. The margin guards against a parser that is
    an ulp off.
    """
    number = pl.col("value_text").cast(pl.Float64, strict=False)
    low, high = pl.col("low"), pl.col("high")
    near_low = low.is_not_null() & (number <= low + low.abs() * _BOUND_MARGIN)
    near_high = high.is_not_null() & (number >= high - high.abs() * _BOUND_MARGIN)
    not_plain_whole = pl.col("integer") & ~pl.col("value_text").str.contains(_WHOLE_PATTERN)
    return (
        number.is_null() | number.is_nan() | number.is_infinite() | near_low | near_high
    ).fill_null(True) | not_plain_whole.fill_null(False)


def _exact_checks(
    suspects: pl.DataFrame,
    context: IngestContext,
    file: str,
    issues: list[ImportIssue],
    progress: Progress | None,
    total: int,
) -> list[int]:
    """Exact ``Decimal`` range and whole-number checks; returns the rows that fail them."""
    failed: list[int] = []
    if suspects.height == 0:
        return failed
    done = total - suspects.height
    rules = context.rules
    columns = suspects.select(
        ROW_COLUMN, "loan_ref", "indicator_code", "value_text", "value"
    ).iter_rows()
    for index, (row, loan, indicator, text, raw) in enumerate(columns):
        if progress is not None and index and index % _PROGRESS_STEP == 0:
            progress(done + index, total)
        value = Decimal(text)
        rule = rules[(loan, indicator)]
        bad = False
        if (rule.min_value is not None and value < rule.min_value) or (
            rule.max_value is not None and value > rule.max_value
        ):
            bad = True
            issues.append(
                make_issue(
                    "out-of-range",
                    row=row,
                    column="value",
                    value=raw,
                    file=file,
                    indicator=indicator,
                    range_sv=_range_text(rule, "sv"),
                    range_en=_range_text(rule, "en"),
                )
            )
        if rule.integer and value != value.to_integral_value():
            bad = True
            issues.append(
                make_issue(
                    "not-whole", row=row, column="value", value=raw, file=file, indicator=indicator
                )
            )
        if bad:
            failed.append(row)
    return failed
