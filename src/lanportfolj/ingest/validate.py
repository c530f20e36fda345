"""Check every row of a read table against the context and report all problems at once.

The per-column checks (lookups, years, number syntax, duplicates) run as polars expressions over the
whole table; only rows that pass them are turned into ``Decimal`` values and range-checked exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import polars as pl

from lanportfolj.ingest.headers import CANONICAL_COLUMNS
from lanportfolj.ingest.issues import ImportIssue, make_issue
from lanportfolj.ingest.normalise import clean_text, estimated_flag, number_text, year_number
from lanportfolj.ingest.readers import ROW_COLUMN
from lanportfolj.ingest.result import MeasurementRow
from lanportfolj.ingest.rules import IngestContext, LoanIndicatorRule

Progress = Callable[[int, int], None]
_PROGRESS_STEP = 10_000
_COLUMN_ORDER = {column: index for index, column in enumerate(CANONICAL_COLUMNS)}


def _rules_frame(context: IngestContext) -> pl.DataFrame:
    loans, indicators, firsts = [], [], []
    for (loan, indicator), rule in context.rules.items():
        loans.append(loan)
        indicators.append(indicator)
        firsts.append(rule.baseline_year if rule.baseline_year is not None else None)
    return pl.DataFrame(
        {
            "loan_ref": pl.Series(loans, dtype=pl.String),
            "indicator_code": pl.Series(indicators, dtype=pl.String),
            "baseline_year": pl.Series(firsts, dtype=pl.Int64),
            "has_rule": pl.Series([True] * len(loans), dtype=pl.Boolean),
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
) -> tuple[list[MeasurementRow], list[ImportIssue]]:
    """Validate a table of text cells (canonical columns plus ``_row``) → rows and issues."""
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
        value_text=number_text(pl.col("value")),
        estimated_flag=estimated_flag(pl.col("estimated")),
        # Comparison units are matched by name; collapse inner spaces so "Skola  B" = "Skola B".
        group_name=pl.col("group").str.replace_all(r"\s+", " ").fill_null(""),
    )
    frame = frame.join(
        _rules_frame(context),
        on=["loan_ref", "indicator_code"],
        how="left",
        maintain_order="left",
        nulls_equal=False,
    )
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
        "duplicate",
    ]
    # Range checks run on every number with a rule, so a duplicate that is also out of range shows both.
    checkable = frame.with_columns(
        clean=~pl.any_horizontal(pl.col(flag).fill_null(False) for flag in error_flags)
    ).filter(pl.col("value_text").is_not_null() & pl.col("has_rule").is_not_null())
    rows = _build_rows(checkable, context, file, issues, progress, total)
    issues.sort(
        key=lambda issue: (
            issue.row if issue.row is not None else 0,
            _COLUMN_ORDER.get(issue.column or "", len(_COLUMN_ORDER)),
        )
    )
    if progress is not None:
        progress(total, total)
    return rows, issues


def _build_rows(
    checkable: pl.DataFrame,
    context: IngestContext,
    file: str,
    issues: list[ImportIssue],
    progress: Progress | None,
    total: int,
) -> list[MeasurementRow]:
    """Exact Decimal checks (range, whole numbers); row objects for the rows without any issue."""
    columns = checkable.select(
        ROW_COLUMN,
        "loan_ref",
        "indicator_code",
        "year_number",
        "value_text",
        "value",
        "estimated_flag",
        "comment",
        "group_name",
        "clean",
    ).to_dict(as_series=False)
    rows: list[MeasurementRow] = []
    rules = context.rules
    records = zip(*columns.values(), strict=True)
    for index, (
        row,
        loan,
        indicator,
        year,
        text,
        raw,
        estimated,
        comment,
        group,
        clean,
    ) in enumerate(records):
        if progress is not None and index and index % _PROGRESS_STEP == 0:
            progress(index, total)
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
        if clean and not bad:
            rows.append(
                MeasurementRow(
                    row=row,
                    loan=loan,
                    indicator=indicator,
                    year=year,
                    value=value,
                    estimated=estimated,
                    comment=comment,
                    group=group,
                )
            )
    return rows
