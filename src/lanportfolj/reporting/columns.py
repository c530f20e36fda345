"""The one column specification behind the report's HTML tables and Excel sheets.

Each table names where its rows live in the report dict and which columns it shows, in order; the
HTML table and the Excel sheet both iterate this list, so they can never disagree, and no renderer
writes a column by hard-coded position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from lanportfolj.reporting.model import FrameRows, string_columns, value_series

#: Column kinds → Excel number format (``None``: not a number).
EXCEL_FORMATS: Final[dict[str, str | None]] = {
    "text": None,
    "code": None,
    "list": None,
    "bool": None,
    "date": "yyyy-mm-dd",
    "year": "0",
    "int": "#,##0",
    "money": "#,##0.00",
    "value": "#,##0.0000",
    "percent": "#,##0.00",
    "share": "0.00%",
}

#: Decimal places a kind is shown with in HTML (``share`` is shown as a percentage).
DECIMALS: Final[dict[str, int]] = {"money": 2, "value": 4, "percent": 2, "share": 2}


@dataclass(frozen=True)
class Column:
    """One column: the row key, its label in both languages, its kind and its Excel width.

    Labels may contain ``{currency}``, filled with the bond's currency.
    """

    key: str
    label_sv: str
    label_en: str
    kind: str = "text"
    width: int = 14

    def label(self, lang: str, currency: str = "") -> str:
        """The header in ``lang``."""
        text = self.label_sv if lang == "sv" else self.label_en
        return text.format(currency=currency)


@dataclass(frozen=True)
class Table:
    """A table of the report: its sheet name, titles, the dict path of its rows and its columns."""

    key: str
    sheet: str
    title_sv: str
    title_en: str
    path: tuple[str, ...]
    columns: tuple[Column, ...]
    #: rows at ``path`` are the yearly value series; show one row per loan and indicator
    by_year: bool = False

    def title(self, lang: str) -> str:
        """The title in ``lang``."""
        return self.title_sv if lang == "sv" else self.title_en

    def rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """This table's rows in the report dict (a ``FrameRows`` stays one: slicing it is cheap)."""
        if self.by_year:
            return _by_year(data)
        node = self._node(data)
        return node if isinstance(node, FrameRows) else list(node)

    def _node(self, data: dict[str, Any]) -> Any:
        node: Any = data
        for part in self.path:
            node = node[part]
        return node

    def frame(self, data: dict[str, Any]) -> pl.DataFrame | None:
        """This table's rows as a frame, when the dict holds them as one (``FrameRows``), else None.

        One column per column key, in order: numbers and dates as the report's text, ints and years
        as Int64, booleans as Boolean, lists joined with ", " — the same values the rows hold.
        """
        node = self._node(data)
        if not isinstance(node, FrameRows) or node.filled:
            return None
        text = _by_year_frame(node.frame) if self.by_year else string_columns(node.frame)
        out = []
        for column in self.columns:
            if column.key not in text.columns:
                out.append(pl.lit(None, pl.String).alias(column.key))
            elif column.kind in ("int", "year"):
                out.append(pl.col(column.key).cast(pl.Int64))
            elif column.kind == "list":
                out.append(pl.col(column.key).list.join(", "))
            else:
                out.append(pl.col(column.key))
        return text.select(out)


def _by_year(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The yearly value series as one row per loan and indicator.

    The value of each year goes to the column ``y<year>``; the years whose value is estimated or
    restated are listed, so every flag survives the pivot.
    """
    out: list[dict[str, Any]] = []
    for series in value_series(data):
        wide = {key: series[key] for key in _WIDE_KEYS}
        years = series["years"]
        for year, value in zip(years, series["values"], strict=True):
            wide[f"y{year}"] = value
        estimated = [str(y) for y, e in zip(years, series["estimated"], strict=True) if e]
        restated = [str(y) for y, r in zip(years, series["restated"], strict=True) if r]
        wide["estimated_years"] = ", ".join(estimated) or None
        wide["restated_years"] = ", ".join(restated) or None
        out.append(wide)
    return out


def _by_year_frame(values: pl.DataFrame) -> pl.DataFrame:
    """``_by_year`` in polars, from the values frame (sorted by loan, indicator and year).

    Each series is a run of rows; numbering the runs gives one sorted integer key, which polars
    groups by slices and pivots by, instead of hashing the loan and indicator texts.
    """
    new_series = (pl.col("loan") != pl.col("loan").shift()) | (
        pl.col("indicator") != pl.col("indicator").shift()
    )
    text = string_columns(
        values.select(*_WIDE_KEYS, "year", "value", "estimated", "restated")
    ).with_columns(series=new_series.fill_null(True).cum_sum().set_sorted())

    def years_where(flag: str) -> pl.Expr:
        listed = pl.col("year").filter(pl.col(flag)).cast(pl.String).str.join(", ")
        return pl.when(listed != "").then(listed).alias(f"{flag}_years")

    heads = text.group_by("series", maintain_order=True).agg(
        *(pl.col(key).first() for key in _WIDE_KEYS),
        years_where("estimated"),
        years_where("restated"),
    )
    wide = text.pivot(on="year", index="series", values="value", sort_columns=True)
    wide = wide.rename({name: f"y{name}" for name in wide.columns if name != "series"})
    return heads.join(wide, on="series", how="left", maintain_order="left").drop("series")


C = Column

_CATEGORY = C("programme_category", "Kategori", "Category", "code", 20)
_LOAN = C("loan", "Lån", "Loan", "code", 14)
_INDICATOR = C("indicator", "Indikator", "Indicator", "code", 12)
_AGGREGATION = C("aggregation", "Aggregering", "Aggregation", "code", 11)
_YEAR = C("year", "År", "Year", "year", 7)
_ESTIMATED = C("estimated", "Uppskattat", "Estimated", "bool", 10)
_RESTATED = C("restated", "Ändrat", "Restated", "bool", 10)

ALLOCATION_BY_CATEGORY = Table(
    "allocation_by_category",
    "Allocation",
    "Allokering per kategori",
    "Allocation by category",
    ("allocation", "by_category"),
    (
        _CATEGORY,
        C("loan_count", "Antal lån", "Loans", "int", 8),
        C("borrower_count", "Antal låntagare", "Borrowers", "int", 10),
        C("outstanding_sek", "Utestående (SEK)", "Outstanding (SEK)", "money", 18),
        C("outstanding", "Utestående ({currency})", "Outstanding ({currency})", "money", 18),
        C("disbursed", "Utbetalt ({currency})", "Disbursed ({currency})", "money", 18),
        C("share_of_pool", "Andel av poolen", "Share of pool", "share", 12),
    ),
)

ALLOCATION_BY_ICMA = Table(
    "allocation_by_icma",
    "Allocation ICMA",
    "Allokering per ICMA-kategori",
    "Allocation by ICMA category",
    ("allocation", "by_icma_category"),
    (
        C("icma_category", "ICMA-kategori", "ICMA category", "code", 30),
        *ALLOCATION_BY_CATEGORY.columns[1:],
    ),
)

FINANCING = Table(
    "financing",
    "Financing",
    "Finansiering och refinansiering",
    "Financing and refinancing",
    ("allocation", "financing"),
    (
        C("funding", "Typ", "Type", "code", 14),
        C("loan_count", "Antal lån", "Loans", "int", 8),
        C("outstanding", "Utestående ({currency})", "Outstanding ({currency})", "money", 18),
        C("share_of_pool", "Andel av poolen", "Share of pool", "share", 12),
    ),
)

LOANS = Table(
    "loans",
    "Loans",
    "Lån i poolen",
    "Loans in the pool",
    ("allocation", "loans"),
    (
        C("reference", "Referens", "Reference", "code", 14),
        C("borrower", "Låntagare", "Borrower", "text", 24),
        C("borrower_orgnr", "Organisationsnummer", "Organisation number", "code", 14),
        C("title", "Projekt", "Project", "text", 30),
        _CATEGORY,
        C("icma_category", "ICMA-kategori", "ICMA category", "code", 24),
        C("sdgs", "Globala mål", "SDGs", "list", 12),
        C("status", "Status", "Status", "code", 9),
        C("disbursement_date", "Utbetalt", "Disbursed on", "date", 11),
        C("maturity_date", "Förfaller", "Matures on", "date", 11),
        C("funding", "Finansiering", "Funding", "code", 12),
        C("lookback_exceeded", "Äldre än återblicken", "Beyond look-back", "bool", 10),
        C("amount_sek", "Lånebelopp (SEK)", "Loan amount (SEK)", "money", 16),
        C("disbursed_sek", "Utbetalt (SEK)", "Disbursed (SEK)", "money", 16),
        C("outstanding_sek", "Utestående (SEK)", "Outstanding (SEK)", "money", 16),
        C("total_project_cost_sek", "Projektkostnad (SEK)", "Project cost (SEK)", "money", 16),
        C("disbursed", "Utbetalt ({currency})", "Disbursed ({currency})", "money", 16),
        C("outstanding", "Utestående ({currency})", "Outstanding ({currency})", "money", 16),
        C("project_share", "Andel av projektet", "Share of project", "share", 10),
    ),
)

INDICATORS = Table(
    "indicators",
    "Indicators",
    "Indikatorer",
    "Indicators",
    ("impact", "indicators"),
    (
        C("code", "Kod", "Code", "code", 12),
        C("name_sv", "Namn", "Name (sv)", "text", 30),
        C("name_en", "Namn (engelska)", "Name", "text", 30),
        C("unit", "Enhet", "Unit", "text", 10),
        C("kind", "Typ", "Kind", "code", 9),
        C("direction", "Riktning", "Direction", "code", 9),
        _AGGREGATION,
        C("numerator", "Täljare", "Numerator", "code", 12),
        C("denominator", "Nämnare", "Denominator", "code", 12),
    ),
)

IMPACT_BY_CATEGORY = Table(
    "impact_by_category",
    "Impact by category",
    "Effekter per kategori",
    "Impact by category",
    ("impact", "by_category"),
    (
        _CATEGORY,
        _INDICATOR,
        _AGGREGATION,
        _YEAR,
        C("loan_count", "Antal lån", "Loans", "int", 8),
        C("value", "Hela projekten", "Full projects", "value", 14),
        C("attributed", "Tillskrivet", "Attributed", "value", 14),
        C("numerator", "Täljare", "Numerator", "value", 12),
        C("denominator", "Nämnare", "Denominator", "value", 12),
        C("invested", "Investerat ({currency})", "Invested ({currency})", "money", 16),
        C("per_million", "Per miljon {currency}", "Per million {currency}", "value", 14),
        _ESTIMATED,
        _RESTATED,
    ),
)

IMPACT_BOND = Table(
    "impact_bond",
    "Impact totals",
    "Effekter totalt",
    "Impact totals",
    ("impact", "bond"),
    (
        _INDICATOR,
        _AGGREGATION,
        _YEAR,
        C("loan_count", "Antal lån", "Loans", "int", 8),
        C("value", "Hela projekten", "Full projects", "value", 14),
        C("attributed", "Tillskrivet poolen", "Attributed to the pool", "value", 14),
        C("bond_attributed", "Obligationens andel", "Bond's share", "value", 14),
        C("numerator", "Täljare", "Numerator", "value", 12),
        C("denominator", "Nämnare", "Denominator", "value", 12),
        C("invested", "Investerat ({currency})", "Invested ({currency})", "money", 16),
        C("per_million", "Per miljon {currency}", "Per million {currency}", "value", 14),
        _ESTIMATED,
        _RESTATED,
        # coverage (issue 16 item 5): share of the pool that reported, and why the rest did not
        C("coverage_share", "Täckning", "Coverage", "share", 10),
        C("missing_overdue", "Försenat ({currency})", "Overdue ({currency})", "money", 16),
        C(
            "missing_not_yet_due",
            "Ännu inte förfallet ({currency})",
            "Not yet due ({currency})",
            "money",
            16,
        ),
        C(
            "missing_not_applicable",
            "Ej tillämpligt ({currency})",
            "Not applicable ({currency})",
            "money",
            16,
        ),
    ),
)

IMPACT_PER_LOAN = Table(
    "impact_per_loan",
    "Impact per loan",
    "Effekter per lån",
    "Impact per loan",
    ("impact", "per_loan"),
    (
        _LOAN,
        C("borrower", "Låntagare", "Borrower", "text", 22),
        _CATEGORY,
        _INDICATOR,
        _AGGREGATION,
        C("baseline_value", "Utgångsvärde", "Baseline", "value", 12),
        C("baseline_year", "Utgångsår", "Baseline year", "year", 8),
        C("latest_year", "Senaste år", "Latest year", "year", 8),
        C("latest_value", "Senaste värde", "Latest value", "value", 12),
        C("target_value", "Målvärde", "Target", "value", 12),
        C("target_year", "Målår", "Target year", "year", 8),
        C("expected_value", "Förväntat vid beslut", "Expected at approval", "value", 12),
        C("change_abs", "Förändring", "Change", "value", 12),
        C("change_pct", "Förändring (%)", "Change (%)", "percent", 10),
        C("on_track", "I fas", "On track", "bool", 8),
        C("share", "Andel av projektet", "Share of project", "share", 10),
        C("latest_attributed", "Tillskrivet senaste", "Attributed latest", "value", 12),
        C("latest_estimated", "Senaste uppskattat", "Latest estimated", "bool", 10),
        C("any_restated", "Ändrat", "Restated", "bool", 9),
        C("years_reported", "År rapporterade", "Years reported", "int", 8),
        C("data_source", "Datakälla", "Data source", "text", 20),
    ),
)

_WIDE_KEYS: Final = ("loan", "programme_category", "indicator", "aggregation", "share")


def values_by_year(data: dict[str, Any]) -> Table:
    """The yearly values as one row per loan and indicator with a column per reported year.

    A long table (one row per year) would pass Excel's 1 048 576 rows for a large pool; the JSON keeps
    the long form.
    """
    values = data["impact"]["values"]
    if isinstance(values, FrameRows) and not values.filled:
        years = values.frame["year"].unique().sort().to_list()
    else:
        years = sorted({year for series in value_series(data) for year in series["years"]})
    return Table(
        "impact_values",
        "Impact values",
        "Värden per år",
        "Values by year",
        ("impact", "values"),
        (
            _LOAN,
            _CATEGORY,
            _INDICATOR,
            _AGGREGATION,
            C("share", "Andel av projektet", "Share of project", "share", 10),
            *(C(f"y{year}", str(year), str(year), "value", 11) for year in years),
            C("estimated_years", "Uppskattade år", "Estimated years", "text", 14),
            C("restated_years", "Ändrade år", "Restated years", "text", 14),
        ),
        by_year=True,
    )


RESTATEMENTS = Table(
    "restatements",
    "Restatements",
    "Ändringar sedan förra rapporten",
    "Restatements since the last report",
    ("restatements",),
    (
        _LOAN,
        _INDICATOR,
        _YEAR,
        C("old", "Tidigare värde", "Old value", "value", 12),
        C("new", "Nytt värde", "New value", "value", 12),
        C("at", "Ändrat", "Changed on", "date", 11),
    ),
)


def tables(data: dict[str, Any]) -> tuple[Table, ...]:
    """Every table of ``data``, in the order the workbook's sheets follow the Summary sheet."""
    return (
        ALLOCATION_BY_CATEGORY,
        ALLOCATION_BY_ICMA,
        FINANCING,
        LOANS,
        IMPACT_BY_CATEGORY,
        IMPACT_BOND,
        IMPACT_PER_LOAN,
        values_by_year(data),
        INDICATORS,
        RESTATEMENTS,
    )


#: The Summary sheet and section: (key in allocation.summary, label sv, label en, kind).
SUMMARY: Final[tuple[Column, ...]] = (
    C("nominal_amount", "Nominellt belopp ({currency})", "Nominal amount ({currency})", "money"),
    C("other_bonds_nominal", "Andra obligationer i poolen ({currency})",
      "Other bonds on the pool ({currency})", "money"),
    C("pool_outstanding_sek", "Poolen, utestående (SEK)", "Pool outstanding (SEK)", "money"),
    C("pool_outstanding", "Poolen, utestående ({currency})", "Pool outstanding ({currency})",
      "money"),
    C("pool_disbursed", "Poolen, utbetalt ({currency})", "Pool disbursed ({currency})", "money"),
    C("allocated", "Allokerat ({currency})", "Allocated ({currency})", "money"),
    C("unallocated", "Ej allokerat ({currency})", "Unallocated ({currency})", "money"),
    C("financing_amount", "Finansiering ({currency})", "Financing ({currency})", "money"),
    C("refinancing_amount", "Refinansiering ({currency})", "Refinancing ({currency})", "money"),
    C("bond_share_of_pool", "Obligationens andel av poolen", "Bond's share of the pool", "share"),
    C("bond_share_capped", "Andelen begränsad", "Share capped", "bool"),
    C("social_loan_ratio", "Andel sociala lån", "Social loan ratio", "share"),
    C("loan_count", "Antal lån", "Loans", "int"),
    C("borrower_count", "Antal låntagare", "Borrowers", "int"),
    C("pool_smaller_than_bond", "Poolen mindre än obligationerna", "Pool smaller than the bonds",
      "bool"),
    C("lookback_exceeded_count", "Lån äldre än återblicken", "Loans beyond the look-back", "int"),
    C("lookback_cutoff", "Återblick från", "Look-back cutoff", "date"),
)  # fmt: skip
