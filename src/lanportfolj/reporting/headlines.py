"""The report's impact read for the page: the latest figure per indicator and category, by programme
category and by ICMA category, with the bond's attributed part, and the headline figures in words.

Additive indicators (``sum``, ``latest``) have a whole-project and an attributed figure; a ratio has its
pooled value only; a non-additive indicator (``none``) is never combined and is shown per project only.
The report's tables may be polars-backed (``FrameRows``, tens of thousands of rows at national scale):
the per-loan rows are read in polars, never converted to dicts here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import polars as pl

from lanportfolj.reporting.model import FrameRows, string_columns

ADDITIVE: Final = ("sum", "latest")
#: headline figures per category at most
HEADLINES_PER_CATEGORY: Final = 5


@dataclass(frozen=True)
class Figure:
    """One indicator's figure in one category and year."""

    category: str
    indicator: str
    aggregation: str
    year: int
    loan_count: int
    value: Decimal | None
    attributed: Decimal | None
    bond_attributed: Decimal | None
    estimated: bool


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def bond_share(data: dict[str, Any]) -> Decimal | None:
    """The bond's share of the pool (None when the pool is empty)."""
    return _dec(data["allocation"]["summary"].get("bond_share_of_pool"))


def _times(value: Decimal | None, share: Decimal | None) -> Decimal | None:
    return None if value is None or share is None else value * share


def by_programme_category(data: dict[str, Any]) -> list[Figure]:
    """Per programme category and indicator: the latest year's figure (``none`` indicators left out)."""
    share = bond_share(data)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in data["impact"]["by_category"]:
        if row["aggregation"] not in (*ADDITIVE, "ratio") or row["value"] is None:
            continue
        key = (row["programme_category"], row["indicator"])
        if key not in latest or row["year"] > latest[key]["year"]:
            latest[key] = row
    out = []
    for (category, indicator), row in sorted(latest.items()):
        additive = row["aggregation"] in ADDITIVE
        attributed = _dec(row["attributed"]) if additive else None
        out.append(
            Figure(
                category=category,
                indicator=indicator,
                aggregation=row["aggregation"],
                year=int(row["year"]),
                loan_count=int(row["loan_count"] or 0),
                value=_dec(row["value"]),
                attributed=attributed,
                bond_attributed=_times(attributed, share),
                estimated=bool(row["estimated"]),
            )
        )
    return out


def _frame(rows: Any) -> pl.DataFrame:
    if isinstance(rows, FrameRows) and not rows.filled:
        return string_columns(rows.frame)
    return pl.DataFrame(list(rows), infer_schema_length=None) if len(rows) else pl.DataFrame()


def by_icma_category(data: dict[str, Any]) -> list[Figure]:
    """Per ICMA category and additive indicator: the sum over the loans of their latest value and
    attributed value, in the newest year any of the category's loans reported it (loans whose
    latest value is older are left out of that sum)."""
    per_loan = _frame(data["impact"]["per_loan"])
    loans = _frame(data["allocation"]["loans"])
    needed = {"loan", "indicator", "aggregation", "latest_year", "latest_value"}
    if per_loan.is_empty() or loans.is_empty() or not needed <= set(per_loan.columns):
        return []
    share = bond_share(data)
    joined = (
        per_loan.filter(
            pl.col("aggregation").is_in(list(ADDITIVE)) & pl.col("latest_value").is_not_null()
        )
        .join(
            loans.select(pl.col("reference").alias("loan"), "icma_category"),
            on="loan",
            how="inner",
        )
        .with_columns(
            pl.col("latest_value").cast(pl.Float64),
            pl.col("latest_attributed").cast(pl.Float64),
        )
    )
    if joined.is_empty():
        return []
    newest = joined.group_by("icma_category", "indicator").agg(
        pl.col("latest_year").max().alias("year")
    )
    summed = (
        joined.join(newest, on=["icma_category", "indicator"])
        .filter(pl.col("latest_year") == pl.col("year"))
        .group_by("icma_category", "indicator", "aggregation", "year")
        .agg(
            pl.len().alias("loan_count"),
            pl.col("latest_value").sum().alias("value"),
            pl.col("latest_attributed").sum().alias("attributed"),
            pl.col("latest_estimated").any().alias("estimated"),
        )
        .sort("icma_category", "indicator")
    )
    out = []
    for row in summed.iter_rows(named=True):
        attributed = _dec(row["attributed"])
        out.append(
            Figure(
                category=row["icma_category"],
                indicator=row["indicator"],
                aggregation=row["aggregation"],
                year=int(row["year"]),
                loan_count=int(row["loan_count"]),
                value=_dec(row["value"]),
                attributed=attributed,
                bond_attributed=_times(attributed, share),
                estimated=bool(row["estimated"]),
            )
        )
    return out


def headlines(figures: list[Figure], kinds: dict[str, str]) -> dict[str, list[Figure]]:
    """Up to :data:`HEADLINES_PER_CATEGORY` additive figures per category, the largest attributed
    first: the outputs (what was built, served or reached), or the outcomes of a category that
    reports no outputs."""
    out: dict[str, list[Figure]] = {}
    for figure in figures:
        if figure.aggregation in ADDITIVE and figure.value is not None:
            out.setdefault(figure.category, []).append(figure)
    for category, items in out.items():
        outputs = [f for f in items if kinds.get(f.indicator) == "output"]
        chosen = outputs or [f for f in items if kinds.get(f.indicator) == "outcome"]
        chosen.sort(key=lambda f: -(f.bond_attributed or f.attributed or Decimal(0)))
        out[category] = chosen[:HEADLINES_PER_CATEGORY]
    return {category: items for category, items in out.items() if items}


def headline_codes(chosen: dict[str, list[Figure]], per_category: int = 1) -> set[str]:
    """The indicators of the first ``per_category`` headline figures of each category."""
    return {figure.indicator for items in chosen.values() for figure in items[:per_category]}
