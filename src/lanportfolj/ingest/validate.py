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
from lanportfolj.ingest.plausibility import value_warnings
from lanportfolj.ingest.readers import (
    FORMULA_COLUMN,
    FORMULA_TEXT_COLUMN,
    PERCENT_COLUMN,
    ROW_COLUMN,
)
from lanportfolj.ingest.rules import IngestContext, LoanIndicatorRule
from lanportfolj.ingest.years import DATE_PATTERN as _DATE_PATTERN
from lanportfolj.ingest.years import spelled_date

Progress = Callable[[int, int], None]
_PROGRESS_STEP = 10_000
_COLUMN_ORDER = {column: index for index, column in enumerate(CANONICAL_COLUMNS)}


def _rules_frame(context: IngestContext) -> pl.DataFrame:
    loans, indicators, firsts, lows, highs, integers, percents = [], [], [], [], [], [], []
    for (loan, indicator), rule in context.rules.items():
        loans.append(loan)
        indicators.append(indicator)
        firsts.append(rule.baseline_year)
        lows.append(None if rule.min_value is None else float(rule.min_value))
        highs.append(None if rule.max_value is None else float(rule.max_value))
        integers.append(rule.integer)
        percents.append(rule.percent)
    return pl.DataFrame(
        {
            "loan_ref": pl.Series(loans, dtype=pl.String),
            "indicator_code": pl.Series(indicators, dtype=pl.String),
            "baseline_year": pl.Series(firsts, dtype=pl.Int64),
            "has_rule": pl.Series([True] * len(loans), dtype=pl.Boolean),
            "low": pl.Series(lows, dtype=pl.Float64),
            "high": pl.Series(highs, dtype=pl.Float64),
            "integer": pl.Series(integers, dtype=pl.Boolean),
            "percent": pl.Series(percents, dtype=pl.Boolean),
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
    sheet: str | None = None,
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
        *_mark_columns(table),
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
    frame = frame.with_columns(
        value_text=number_texts(frame["value"]),
        n_text=number_texts(frame["n"]),
        se_text=number_texts(frame["std_error"]),
    ).join(
        _rules_frame(context),
        on=["loan_ref", "indicator_code"],
        how="left",
        maintain_order="left",
        nulls_equal=False,
    )
    frame = _percent_cells_scaled(frame)
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
    frame = (
        frame.with_columns(
            first_year=first_year,
            loan_missing=pl.col("loan").is_null(),
            loan_unknown=pl.col("loan").is_not_null() & pl.col("loan_ref").is_null(),
            loan_not_allowed=pl.col("loan_ref").is_not_null() & ~allowed_expr,
            indicator_missing=pl.col("indicator").is_null(),
            indicator_unknown=pl.col("indicator").is_not_null()
            & pl.col("indicator_code").is_null(),
            not_on_loan=pl.col("loan_ref").is_not_null()
            & pl.col("indicator_code").is_not_null()
            & pl.col("has_rule").is_null(),
            year_missing=pl.col("year").is_null(),
            year_bad=pl.col("year").is_not_null() & pl.col("year_number").is_null(),
            year_is_date=pl.col("year").str.contains(_DATE_PATTERN).fill_null(False),
            formula_bad=pl.col(FORMULA_COLUMN).is_not_null(),
            year_out=pl.col("year_number").is_not_null()
            & (
                (
                    pl.col("year_number")
                    < (pl.lit(context.earliest_year) if context.history else first_year)
                )
                | (pl.col("year_number") > context.current_year)
            ),
            # history is the official series before the intervention: never after the baseline year
            history_after=pl.lit(context.history)
            & pl.col("year_number").is_not_null()
            & (pl.col("year_number") > first_year),
            history_no_unit=pl.lit(context.history) & (pl.col("group_name") == ""),
            value_missing=pl.col("value").is_null(),
            value_nan=pl.col("value").is_not_null() & pl.col("value_text").is_null(),
            estimated_bad=pl.col("estimated_flag").is_null(),
            group_bad=pl.col("group_name").is_in(bad_groups),
            # a count in digits no float reads ("５", "٣") is not a number either: it would be lost
            n_nan=pl.col("n").is_not_null()
            & (
                pl.col("n_text").is_null()
                | pl.col("n_text").cast(pl.Float64, strict=False).is_null()
            ),
            n_negative=pl.col("n_text").cast(pl.Float64, strict=False) < 0,
            n_not_whole=(pl.col("n_text").cast(pl.Float64, strict=False) >= 0)
            & ~pl.col("n_text").str.contains(_WHOLE_PATTERN),
            n_too_large=pl.col("n_text").cast(pl.Float64, strict=False) > MAX_COUNT,
            se_nan=pl.col("std_error").is_not_null() & pl.col("se_text").is_null(),
            se_negative=pl.col("se_text").cast(pl.Float64, strict=False) < 0,
            # an uncertainty with nothing to be uncertain about: the borrower forgot the value
            n_without_value=pl.col("value").is_null() & pl.col("n").is_not_null(),
            se_without_value=pl.col("value").is_null() & pl.col("std_error").is_not_null(),
            first_row=pl.col(ROW_COLUMN).filter(candidate).min().over(keys),
        )
        .with_columns(
            duplicate=candidate.fill_null(False) & (pl.col(ROW_COLUMN) > pl.col("first_row")),
            # a year typed into a date-formatted cell becomes a date in 1905: named plainly, not as 1905
            year_date_out=pl.col("year_out") & pl.col("year_is_date"),
        )
        .with_columns(year_out=pl.col("year_out") & ~pl.col("year_is_date"))
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
                    sheet=sheet,
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
    for row, cell in frame.filter(pl.col("year_date_out")).select(ROW_COLUMN, "year").iter_rows():
        issues.append(
            make_issue(
                "year-is-date",
                row=row,
                column="year",
                value=cell,
                file=file,
                sheet=sheet,
                date_sv=spelled_date(cell, "sv"),
                date_en=spelled_date(cell, "en"),
            )
        )
    for row, column, shown in (
        frame.filter(pl.col("formula_bad"))
        .select(ROW_COLUMN, FORMULA_COLUMN, FORMULA_TEXT_COLUMN)
        .iter_rows()
    ):
        issues.append(
            make_issue(
                "formula-error",
                row=row,
                column=column,
                value=shown or None,
                file=file,
                sheet=sheet,
                message_key="formula-error" if shown else "formula-no-result",
            )
        )
    report("value_nan", "not-a-number", "value")
    report("estimated_bad", "bad-estimated", "estimated")
    report("group_bad", "bad-group-name", "group")
    report("history_after", "history-after-baseline", "year")
    report("history_no_unit", "history-without-unit", "group")
    report("n_without_value", "uncertainty-without-value", "n")
    report("n_nan", "not-a-number", "n")
    report("n_negative", "negative-count", "n")
    report("n_not_whole", "count-not-whole", "n")
    report("n_too_large", "count-too-large", "n")
    report("se_without_value", "uncertainty-without-value", "std_error")
    report("se_nan", "not-a-number", "std_error")
    report("se_negative", "negative-std-error", "std_error")
    report("duplicate", "duplicate-row", None)
    # An unfilled template row is skipped with a warning, not an error: borrowers leave rows empty.
    unfilled = (
        pl.col("value_missing")
        & pl.col("n").is_null()
        & pl.col("std_error").is_null()
        & ~pl.col("formula_bad")
    )
    for record in frame.filter(unfilled).select(ROW_COLUMN).iter_rows():
        issues.append(
            make_issue(
                "missing-value",
                row=record[0],
                column="value",
                file=file,
                severity="warning",
                message_key="missing-value-skipped",
                sheet=sheet,
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
        "year_date_out",
        "formula_bad",
        "value_missing",
        "value_nan",
        "estimated_bad",
        "group_bad",
        "history_after",
        "history_no_unit",
        "n_nan",
        "n_negative",
        "n_not_whole",
        "n_too_large",
        "se_nan",
        "se_negative",
        "n_without_value",
        "se_without_value",
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
    failed = _exact_checks(suspects, context, file, issues, progress, total, sheet)
    if failed:
        checkable = checkable.filter(
            ~pl.col(ROW_COLUMN).is_in(pl.Series(failed, dtype=pl.Int64).implode())
        )
    clean = checkable.filter(pl.col("clean"))
    issues.extend(value_warnings(clean, context, file=file, sheet=sheet))
    accepted = clean.select(
        pl.col(ROW_COLUMN).alias("row"),
        pl.col("loan_ref").alias("loan"),
        pl.col("indicator_code").alias("indicator"),
        pl.col("year_number").alias("year"),
        pl.col("value_text").alias("value"),
        pl.col("estimated_flag").alias("estimated"),
        pl.col("comment"),
        pl.col("group_name").alias("group"),
        pl.col("n_text").str.replace(r"\.0*$", "").cast(pl.Int64, strict=False).alias("n"),
        pl.col("se_text").alias("std_error"),
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


#: The largest count the ``n`` column stores (a 32-bit ``integer`` column in PostgreSQL).
MAX_COUNT = 2_147_483_647
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
    sheet: str | None = None,
) -> list[int]:
    """Exact ``Decimal`` range and whole-number checks; returns the rows that fail them."""
    failed: list[int] = []
    if suspects.height == 0:
        return failed
    done = total - suspects.height
    rules = context.rules
    names = context.indicator_names
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
                    indicator_sv=names.get(indicator, (indicator, indicator))[0],
                    indicator_en=names.get(indicator, (indicator, indicator))[1],
                    range_sv=_range_text(rule, "sv"),
                    range_en=_range_text(rule, "en"),
                    sheet=sheet,
                )
            )
        if rule.integer and value != value.to_integral_value():
            bad = True
            issues.append(
                make_issue(
                    "not-whole",
                    row=row,
                    column="value",
                    value=raw,
                    file=file,
                    indicator=indicator,
                    indicator_sv=names.get(indicator, (indicator, indicator))[0],
                    indicator_en=names.get(indicator, (indicator, indicator))[1],
                    sheet=sheet,
                )
            )
        if bad:
            failed.append(row)
    return failed


def _mark_columns(table: pl.DataFrame) -> list[pl.Expr]:
    """The cell marks the reader found (``readers.PERCENT_COLUMN`` …), or their empty defaults."""
    defaults: dict[str, pl.Expr] = {
        PERCENT_COLUMN: pl.lit(False, dtype=pl.Boolean),
        FORMULA_COLUMN: pl.lit(None, dtype=pl.String),
        FORMULA_TEXT_COLUMN: pl.lit(None, dtype=pl.String),
    }
    return [
        pl.col(name) if name in table.columns else default.alias(name)
        for name, default in defaults.items()
    ]


def _percent_cells_scaled(frame: pl.DataFrame) -> pl.DataFrame:
    """A fraction (at most 1 either way) in a percent-formatted cell of a percent indicator, ×100.

    "91,5 %" typed into such a cell is stored as 0.915; the borrower meant 91.5. The shift is exact
    (``Decimal.scaleb``); a number over 1 in a percent cell is left as it is.
    """
    scale = (
        pl.col(PERCENT_COLUMN).fill_null(False)
        & pl.col("percent").fill_null(False)
        & (pl.col("value_text").cast(pl.Float64, strict=False).abs() <= 1)
    )
    rows = frame.select(scale.fill_null(False)).to_series().arg_true()
    if rows.len() == 0:
        return frame
    texts = frame["value_text"].gather(rows).to_list()
    scaled = pl.Series([format(Decimal(text).scaleb(2).normalize(), "f") for text in texts])
    return frame.with_columns(frame["value_text"].scatter(rows, scaled))
