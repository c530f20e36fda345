"""Warnings for values that read cleanly but are probably not what the borrower meant.

- ``ambiguous-thousands``: ``1,270`` or ``1.201`` in an indicator with decimals is read by the Swedish
  rule (a comma is the decimal mark, so 1.27), but it may be a thousands separator (1 270). Warned when the
  thousands reading fits the indicator's range and is no further from last year's value than the decimal
  one; the warning names last year's value.
- ``far-from-previous``: a value :data:`FACTOR` times or more above or below the same series' latest earlier
  value (the signature of a percentage given as a fraction, or of thousands). The uploader must confirm it
  before the values are stored (``ImportIssue.confirm``).

Both compare with ``IngestContext.previous`` (or what ``IngestContext.previous_for`` reads for the checked
rows): the stored current values of the file's series, of which the latest before each row's year counts.
"""

from __future__ import annotations

import math
from decimal import Decimal

import polars as pl

from lanportfolj.ingest.issues import ImportIssue, make_issue
from lanportfolj.ingest.rules import IngestContext

#: How many times larger or smaller than last year's value a new value is questioned (about ×100 off).
FACTOR = 50
_AMBIGUOUS = r"^[-+]?\d{1,3}[,.]\d{3}$"
_ROW = "_row"


def number_text(value: Decimal, lang: str) -> str:
    """``1265.5`` → ``1 265,5`` (Swedish) / ``1 265.5`` (English): grouped, exact, no exponent."""
    text = format(value.normalize() if value == value.to_integral_value() else value, "f")
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    grouped = f"{int(whole):,}".replace(",", " ") if whole else "0"
    mark = "," if lang == "sv" else "."
    return sign + grouped + (mark + fraction if fraction else "")


def _latest_previous(clean: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """Each row with the latest stored value before its year: ``prev_year``, ``prev_value``.

    An as-of join (backward, the row's own year excluded) per series: one match per row, never a row per
    stored year.
    """
    keys = ["loan", "indicator", "group"]
    rows = clean.select(
        pl.col(_ROW),
        pl.col("loan_ref").alias("loan"),
        pl.col("indicator_code").alias("indicator"),
        pl.col("group_name").alias("group"),
        pl.col("year_number").alias("year"),
    ).sort("year")
    earlier = previous.select(
        *keys, pl.col("year").alias("prev_year"), pl.col("value").alias("prev_value")
    ).sort("prev_year")
    return rows.join_asof(
        earlier,
        left_on="year",
        right_on="prev_year",
        by=keys,
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    ).select(_ROW, "prev_year", "prev_value")


def value_warnings(
    clean: pl.DataFrame, context: IngestContext, *, file: str = "", sheet: str | None = None
) -> list[ImportIssue]:
    """The plausibility warnings for the rows that passed every check (see the module's docstring)."""
    if clean.height == 0:
        return []
    previous = context.previous
    if context.previous_for is not None:
        previous = context.previous_for(
            clean.select(
                pl.col("loan_ref").alias("loan"),
                pl.col("indicator_code").alias("indicator"),
                pl.col("group_name").alias("group"),
                pl.col("year_number").alias("year"),
            )
        )
    frame = clean.select(
        _ROW, "value", "value_text", "indicator_code", "integer", "low", "high", "year_number"
    )
    if previous is not None and previous.height:
        frame = frame.join(
            _latest_previous(clean, previous), on=_ROW, how="left", maintain_order="left"
        )
    else:
        frame = frame.with_columns(
            prev_year=pl.lit(None, dtype=pl.Int64), prev_value=pl.lit(None, dtype=pl.String)
        )
    number = pl.col("value_text").cast(pl.Float64, strict=False)
    before = pl.col("prev_value").cast(pl.Float64, strict=False)
    ratio = (number / before).abs()
    frame = frame.with_columns(
        ambiguous=pl.col("value").str.contains(_AMBIGUOUS).fill_null(False)
        & ~pl.col("integer").fill_null(False),
        far=((number != 0) & (before != 0) & ((ratio >= FACTOR) | (ratio <= 1 / FACTOR))).fill_null(
            False
        ),
    )
    names = context.indicator_names
    issues: list[ImportIssue] = []
    for record in frame.filter(pl.col("ambiguous") | pl.col("far")).iter_rows(named=True):
        code = record["indicator_code"]
        name_sv, name_en = names.get(code, (code, code))
        value = Decimal(record["value_text"]).normalize()
        prev = None if record["prev_value"] is None else Decimal(record["prev_value"])
        common = {
            "row": record[_ROW],
            "column": "value",
            "value": record["value"],
            "file": file,
            "sheet": sheet,
            "severity": "warning",
            "indicator": code,
            "indicator_sv": name_sv,
            "indicator_en": name_en,
        }
        if record["ambiguous"] and _thousands_plausible(record, prev):
            thousands = Decimal(record["value"].replace(",", "").replace(".", ""))
            key = "ambiguous-thousands" if prev is not None else "ambiguous-thousands-new"
            issues.append(
                make_issue(
                    "ambiguous-thousands",
                    message_key=key,
                    read_sv=number_text(value, "sv"),
                    read_en=number_text(value, "en"),
                    thousands_sv=number_text(thousands, "sv"),
                    thousands_en=number_text(thousands, "en"),
                    previous_year=record["prev_year"] or "",
                    previous_sv="" if prev is None else number_text(prev, "sv"),
                    previous_en="" if prev is None else number_text(prev, "en"),
                    **common,  # type: ignore[arg-type]
                )
            )
        if record["far"] and prev is not None:
            issues.append(
                make_issue(
                    "far-from-previous",
                    confirm=True,
                    read_sv=number_text(value, "sv"),
                    read_en=number_text(value, "en"),
                    times=FACTOR,
                    direction_sv="större" if abs(value) > abs(prev) else "mindre",
                    direction_en="larger" if abs(value) > abs(prev) else "smaller",
                    previous_year=record["prev_year"],
                    previous_sv=number_text(prev, "sv"),
                    previous_en=number_text(prev, "en"),
                    **common,  # type: ignore[arg-type]
                )
            )
    return issues


def _thousands_plausible(record: dict[str, object], previous: Decimal | None) -> bool:
    """Whether reading the separator as thousands fits the range and last year's value as well."""
    raw = str(record["value"])
    thousands = float(raw.replace(",", "").replace(".", ""))
    low, high = record["low"], record["high"]
    if (isinstance(low, float) and thousands < low) or (
        isinstance(high, float) and thousands > high
    ):
        return False
    if previous is None or previous == 0:
        return True
    decimal_reading = float(str(record["value_text"]))
    if decimal_reading == 0 or thousands == 0:
        return True
    # the reading closer to last year's value (on a log scale) is the likelier one
    base = abs(float(previous))
    return abs(math.log(thousands / base)) <= abs(math.log(abs(decimal_reading) / base))
