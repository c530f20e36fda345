"""The ICMA project register: one entry per project (loan) of the pool, with its indicators.

ICMA's Harmonised Framework for Impact Reporting asks for a per-project list: borrower, reference,
category, SDGs, signed amount, share of total project financing, eligibility share, amount allocated
to the bond, financing or refinancing, approval date, expected end, status, target population and,
per indicator, baseline, expected value at approval, reported value, target and whether the figure is
for the whole project or the financed share.

``build_register`` makes the entries from the report dict (``allocation.loans`` and
``impact.per_loan``) and the facts the dict does not carry otherwise (``ProjectFacts``: approval date,
target population, illustrative); the services put the result in the dict as ``register``, so a
published report freezes it. ``register_entries`` reads it back, or builds it from the dict alone for
a report frozen before the register existed (the facts then stay empty).

The entries are a JSON array, the workbook's two register sheets (``REGISTER`` and
``REGISTER_INDICATORS``), the CSV (``register_csv``) and the page's ``report/_register.html``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

import polars as pl

from lanportfolj.domain.allocation import MONEY_SCALE, SHARE_SCALE
from lanportfolj.reporting.columns import Column, Table
from lanportfolj.reporting.model import FrameRows, string_columns
from lanportfolj.reporting.names import (
    FUNDING,
    ICMA_CATEGORIES,
    LOAN_STATUSES,
    PROGRAMME_CATEGORIES,
    SCOPES,
    indicator_units,
    indicator_vocabulary,
    name,
)

_CENT: Final = Decimal(1).scaleb(-MONEY_SCALE)
_ONE: Final = format(Decimal(1).quantize(Decimal(1).scaleb(-SHARE_SCALE)), "f")
#: aggregations whose values may be attributed: the register gives their financed share too
_ADDITIVE: Final = ("sum", "latest")


@dataclass(frozen=True)
class ProjectFacts:
    """What the register shows of a loan beyond the report's allocation and impact tables."""

    approval_date: date | None = None
    target_group_who: str = ""
    target_group_where: str = ""
    target_group_size: str = ""
    illustrative: bool = False


#: the fields of a register indicator, in the sorted order the JSON writes them
INDICATOR_FIELDS: Final = (
    "aggregation",
    "baseline_value",
    "baseline_year",
    "expected_value",
    "financed_share_value",
    "indicator",
    "reported_this_year",
    "reported_value",
    "reported_year",
    "scope",
    "target_value",
    "target_year",
)
_PROJECT_TEXTS: Final = (
    "reference",
    "borrower",
    "borrower_orgnr",
    "title",
    "programme_category",
    "icma_category",
    "funding",
    "status",
)


def _frame(node: Any) -> pl.DataFrame:
    """A table of the report dict as a frame of its JSON values (decimals and dates as text)."""
    if isinstance(node, FrameRows) and not node.filled:
        return string_columns(node.frame)
    rows = list(node)
    return pl.from_dicts(rows, infer_schema_length=None) if rows else pl.DataFrame()


def _column(frame: pl.DataFrame, key: str, dtype: Any = pl.String) -> pl.Expr:
    if key in frame.columns:
        return pl.col(key).cast(dtype)
    # as long as the frame (a bare literal would be one row, also for an empty pool)
    return pl.repeat(None, pl.len(), dtype=dtype).alias(key)


def _allocated(outstanding: list[str | None], allocated_total: str) -> list[str]:
    """Each loan's part of the bond's allocated amount, pro rata to its outstanding amount.

    The parts are whole cents that add up exactly to the allocated total: each part is rounded down
    and the cents left over go to the largest remainders (ties: the earlier reference).
    """
    total = Decimal(allocated_total)
    weights = [Decimal(value or 0) for value in outstanding]
    pool = sum(weights, Decimal(0))
    if pool <= 0 or total <= 0:
        return [format(Decimal(0).quantize(_CENT), "f") for _ in weights]
    exact = [total * weight / pool for weight in weights]
    parts = [value.quantize(_CENT, rounding=ROUND_DOWN) for value in exact]
    left = int(((total - sum(parts, Decimal(0))) / _CENT).to_integral_value())
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in order[:left]:
        parts[index] += _CENT
    return [format(part, "f") for part in parts]


def _lifetime_years(start: str | None, end: str | None) -> str | None:
    """Years with one decimal between two ISO dates (the project's expected lifetime)."""
    if not start or not end:
        return None
    days = (date.fromisoformat(end[:10]) - date.fromisoformat(start[:10])).days
    return format((Decimal(days) / Decimal("365.25")).quantize(Decimal("0.1")), "f")


def _indicators(data: dict[str, Any]) -> pl.DataFrame:
    """Per loan (``loan``), its indicators as a list of structs with ``INDICATOR_FIELDS``."""
    per_loan = _frame(data["impact"]["per_loan"])
    report_year = int(str(data["report_date"])[:4])
    if per_loan.height == 0:
        return pl.DataFrame(schema={"loan": pl.String})
    latest_year = _column(per_loan, "latest_year", pl.Int64)
    fields = {
        "aggregation": _column(per_loan, "aggregation"),
        "baseline_value": _column(per_loan, "baseline_value"),
        "baseline_year": _column(per_loan, "baseline_year", pl.Int64),
        # ex-ante: recorded at committee approval (issue 16 item 5)
        "expected_value": _column(per_loan, "expected_value"),
        # the borrowers report every value for the whole project; an additive one is also
        # attributed to the lender's financed share
        "financed_share_value": pl.when(_column(per_loan, "aggregation").is_in(_ADDITIVE))
        .then(_column(per_loan, "latest_attributed"))
        .otherwise(pl.lit(None, pl.String)),
        "indicator": _column(per_loan, "indicator"),
        "reported_this_year": (latest_year == report_year).fill_null(False),
        "reported_value": _column(per_loan, "latest_value"),
        "reported_year": latest_year,
        "scope": pl.lit("whole_project"),
        "target_value": _column(per_loan, "target_value"),
        "target_year": _column(per_loan, "target_year", pl.Int64),
    }
    return (
        per_loan.select(
            _column(per_loan, "loan"),
            pl.struct(*(expr.alias(key) for key, expr in fields.items())).alias("item"),
        )
        .group_by("loan", maintain_order=True)
        .agg(pl.col("item").alias("indicators"))
    )


def build_register_frame(
    data: dict[str, Any], facts: dict[str, ProjectFacts] | None = None
) -> pl.DataFrame:
    """The register as a frame, one row per pool loan in reference order, its indicators a list of
    structs (see the module); every value as the JSON has it."""
    facts = facts or {}
    loans = _frame(data["allocation"]["loans"])
    if loans.height == 0:
        loans = pl.DataFrame(schema={"reference": pl.String})
    references = loans["reference"].to_list()
    outstanding = loans["outstanding"].to_list() if "outstanding" in loans.columns else []
    starts = _column(loans, "disbursement_date")
    ends = _column(loans, "maturity_date")
    dates = loans.select(starts.alias("s"), ends.alias("e"))
    empty = ProjectFacts()
    known = [facts.get(ref, empty) for ref in references]
    extra = pl.DataFrame(
        {
            "reference": references,
            "allocated": _allocated(
                outstanding or [None] * len(references), data["allocation"]["summary"]["allocated"]
            ),
            "lifetime_years": [
                _lifetime_years(a, b) for a, b in zip(dates["s"], dates["e"], strict=True)
            ],
            "approval_date": [
                f.approval_date.isoformat() if f.approval_date else None for f in known
            ],
            "target_group_who": [f.target_group_who for f in known],
            "target_group_where": [f.target_group_where for f in known],
            "target_group_size": [f.target_group_size for f in known],
            "illustrative": [f.illustrative for f in known],
        },
        schema={
            "reference": pl.String,
            "allocated": pl.String,
            "lifetime_years": pl.String,
            "approval_date": pl.String,
            "target_group_who": pl.String,
            "target_group_where": pl.String,
            "target_group_size": pl.String,
            "illustrative": pl.Boolean,
        },
    )
    sdgs = (
        pl.col("sdgs").cast(pl.List(pl.String)).fill_null(pl.lit([], pl.List(pl.String)))
        if "sdgs" in loans.columns
        else pl.lit([], pl.List(pl.String)).alias("sdgs")
    )
    project = loans.select(
        *(_column(loans, key) for key in _PROJECT_TEXTS if key != "reference"),
        _column(loans, "reference"),
        sdgs,
        _column(loans, "amount_sek").alias("signed_sek"),
        _column(loans, "disbursed_sek"),
        _column(loans, "outstanding_sek"),
        _column(loans, "total_project_cost_sek"),
        _column(loans, "project_share"),
        # the pool holds eligible loans only, each wholly eligible
        pl.lit(_ONE).alias("eligibility_share"),
        starts.alias("disbursement_date"),
        ends.alias("expected_end"),
    )
    indicators = _indicators(data)
    struct = (
        pl.Struct(
            {
                key: indicators.schema["indicators"].inner.fields[i].dtype  # type: ignore[union-attr]
                for i, key in enumerate(INDICATOR_FIELDS)
            }
        )
        if indicators.height
        else None
    )
    out = project.join(extra, on="reference", how="left", maintain_order="left")
    if indicators.height:
        out = out.join(
            indicators.rename({"loan": "reference"}),
            on="reference",
            how="left",
            maintain_order="left",
        ).with_columns(pl.col("indicators").fill_null(pl.lit([], pl.List(struct))))
    else:
        out = out.with_columns(indicators=pl.lit([], pl.List(pl.Null)))
    return out.select(sorted(out.columns))


def build_register(data: dict[str, Any], facts: dict[str, ProjectFacts] | None = None) -> FrameRows:
    """The register's entries (a ``FrameRows``: written to JSON from the frame, read as row dicts
    by everything else), one per loan of the pool in reference order."""
    return FrameRows(build_register_frame(data, facts))


def register_frame(data: dict[str, Any]) -> pl.DataFrame:
    """The register of ``data`` as a frame: as frozen with it, else built from the dict alone
    (a report frozen before the register existed; its facts stay empty)."""
    register = data.get("register")
    if register is None:
        return build_register_frame(data)
    if isinstance(register, FrameRows) and not register.filled:
        return register.frame
    rows = list(register)
    if not rows:
        return build_register_frame({**data, "allocation": {**data["allocation"], "loans": []}})
    return pl.from_dicts(rows, infer_schema_length=None)


def register_entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The register of ``data`` as row dicts (see ``register_frame``)."""
    register = data.get("register")
    if register is not None:
        return list(register)
    return list(build_register(data))


C = Column

REGISTER_COLUMNS: Final[tuple[Column, ...]] = (
    C("reference", "Referens", "Reference", "code", 14),
    C("borrower", "Låntagare", "Borrower", "text", 24),
    C("borrower_orgnr", "Organisationsnummer", "Organisation number", "code", 14),
    C("title", "Projekt", "Project", "text", 30),
    C("programme_category", "Kategori", "Category", "code", 20),
    C("icma_category", "ICMA-kategori", "ICMA category", "code", 24),
    C("sdgs", "Globala mål", "SDGs", "list", 10),
    C("signed_sek", "Avtalat belopp (SEK)", "Signed amount (SEK)", "money", 16),
    C("disbursed_sek", "Utbetalt (SEK)", "Disbursed (SEK)", "money", 16),
    C("outstanding_sek", "Utestående (SEK)", "Outstanding (SEK)", "money", 16),
    C("total_project_cost_sek", "Projektkostnad (SEK)", "Total project cost (SEK)", "money", 16),
    C("project_share", "Andel av projektets finansiering", "Share of total project financing",
      "share", 12),
    C("eligibility_share", "Stödberättigad andel", "Eligibility share", "share", 10),
    C("allocated", "Allokerat till obligationen ({currency})",
      "Allocated to the bond ({currency})", "money", 16),
    C("funding", "Finansiering/refinansiering", "Financing/refinancing", "code", 14),
    C("approval_date", "Godkänt", "Approved on", "date", 11),
    C("disbursement_date", "Utbetalt", "Disbursed on", "date", 11),
    C("expected_end", "Förväntat slut", "Expected end", "date", 11),
    C("lifetime_years", "Livslängd (år)", "Lifetime (years)", "value", 9),
    C("status", "Status", "Status", "code", 10),
    C("target_group_who", "Målgrupp", "Target population", "text", 24),
    C("target_group_where", "Var", "Where", "text", 18),
    C("target_group_size", "Målgruppens storlek och särdrag",
      "Size and traits of the target population", "text", 18),
    C("illustrative", "Illustrativa data", "Illustrative data", "bool", 9),
)  # fmt: skip

REGISTER_INDICATOR_COLUMNS: Final[tuple[Column, ...]] = (
    C("reference", "Referens", "Reference", "code", 14),
    C("indicator", "Indikator", "Indicator", "code", 14),
    C("unit", "Enhet", "Unit", "text", 10),
    C("aggregation", "Aggregering", "Aggregation", "code", 11),
    C("baseline_value", "Utgångsvärde", "Baseline", "value", 12),
    C("baseline_year", "Utgångsår", "Baseline year", "year", 8),
    C("expected_value", "Förväntat vid beslut", "Expected at approval", "value", 12),
    C("reported_year", "Rapporterat år", "Reported year", "year", 8),
    C("reported_value", "Rapporterat värde", "Reported value", "value", 12),
    C("target_value", "Målvärde", "Target", "value", 12),
    C("target_year", "Målår", "Target year", "year", 8),
    C("scope", "Avser", "Scope", "code", 14),
    C("financed_share_value", "Finansierad andel av värdet", "Financed share of the value",
      "value", 12),
)  # fmt: skip


def indicator_frame(data: dict[str, Any]) -> pl.DataFrame:
    """The register's indicators as one flat row per project and indicator, with the unit."""
    register = register_frame(data)
    columns = [c.key for c in REGISTER_INDICATOR_COLUMNS]
    if register.height == 0 or register.schema["indicators"] == pl.List(pl.Null):
        return pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    units = indicator_units(data)
    flat = (
        register.select("reference", "indicators")
        .explode("indicators")
        .drop_nulls("indicators")
        .unnest("indicators")
    )
    return flat.with_columns(
        unit=pl.col("indicator").replace_strict(units, default="", return_dtype=pl.String)
    ).select(columns)


def indicator_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """``indicator_frame`` as row dicts."""
    return indicator_frame(data).to_dicts()


def _sheet_frame(frame: pl.DataFrame, columns: tuple[Column, ...]) -> pl.DataFrame:
    """``frame`` as ``Table.frame`` gives a table: text, Int64 years, Boolean flags, lists joined."""
    out = []
    for column in columns:
        if column.key not in frame.columns:
            out.append(pl.lit(None, pl.String).alias(column.key))
        elif column.kind in ("int", "year"):
            out.append(pl.col(column.key).cast(pl.Int64))
        elif column.kind == "bool":
            out.append(pl.col(column.key).cast(pl.Boolean))
        elif column.kind == "list":
            out.append(pl.col(column.key).cast(pl.List(pl.String)).list.join(", "))
        else:
            out.append(pl.col(column.key).cast(pl.String))
    return frame.select(out)


@dataclass(frozen=True)
class _RegisterTable(Table):
    """A register table: its rows come from the register frame (``register_frame``)."""

    indicators: bool = False

    def _flat(self, data: dict[str, Any]) -> pl.DataFrame:
        if self.indicators:
            return indicator_frame(data)
        return register_frame(data).drop("indicators", strict=False)

    def rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        # a FrameRows: the page slices its first rows without converting the rest
        return FrameRows(self._flat(data))

    def frame(self, data: dict[str, Any]) -> pl.DataFrame | None:
        return _sheet_frame(self._flat(data), self.columns)


REGISTER: Final = _RegisterTable(
    "register",
    "Register",
    "Projektregister",
    "Project register",
    ("register",),
    REGISTER_COLUMNS,
)
REGISTER_INDICATORS: Final = _RegisterTable(
    "register_indicators",
    "Register indicators",
    "Projektregister: indikatorer",
    "Project register: indicators",
    ("register",),
    REGISTER_INDICATOR_COLUMNS,
    indicators=True,
)

_VOCABULARY: Final = {
    "programme_category": PROGRAMME_CATEGORIES,
    "icma_category": ICMA_CATEGORIES,
    "status": LOAN_STATUSES,
    "funding": FUNDING,
    "scope": SCOPES,
}
_CSV_PROJECT: Final = tuple(c for c in REGISTER_COLUMNS if c.key != "reference")
_CSV_INDICATOR: Final = tuple(c for c in REGISTER_INDICATOR_COLUMNS if c.key != "reference")
#: ``ingest.inert``'s test: any number of ``'``, then a character that starts a formula
_FORMULA_START: Final = r"^'*[=+\-@\t\r]"
_BOOL_WORDS: Final = {"sv": ("Ja", "Nej"), "en": ("Yes", "No")}


def _inert(value: pl.Expr) -> pl.Expr:
    """``ingest.inert.inert_text`` in polars: a ``'`` before a text that starts like a formula."""
    return (
        pl.when(value.str.contains(_FORMULA_START))
        .then(pl.concat_str([pl.lit("'"), value]))
        .otherwise(value)
    )


def _csv_column(key: str, column: Column, lang: str, names: dict[str, Any]) -> pl.Expr:
    """One CSV column: numbers as the report's exact decimal text (a decimal comma in Swedish),
    codes as names, every text made inert."""
    value = pl.col(key)
    kind = column.kind
    if kind in ("money", "value", "share", "percent"):
        text = value.cast(pl.String)
        return (text.str.replace(".", ",", literal=True) if lang == "sv" else text).alias(key)
    if kind in ("int", "year"):
        return value.cast(pl.String).alias(key)
    if kind == "bool":
        yes, no = _BOOL_WORDS[lang]
        return pl.when(value).then(pl.lit(yes)).when(value.not_()).then(pl.lit(no)).alias(key)
    if kind == "list":
        return _inert(value.cast(pl.List(pl.String)).list.join(", ")).alias(key)
    text = value.cast(pl.String)
    if key in names:
        mapping = {code: name(names[key], code, lang) for code in names[key]}
        text = text.replace(mapping)
    return _inert(text).alias(key)


def register_csv(data: dict[str, Any], lang: str) -> bytes:
    """The register as one CSV row per project and indicator (a project without indicators: one row).

    Swedish: ``;`` and decimal comma; English: ``,`` and decimal point. UTF-8 with a BOM so Excel
    shows å, ä and ö, rows end in CRLF, and no text cell starts like a formula (``ingest.inert``).
    Categories, statuses and indicators are named; the reference and the indicator code are kept.
    """
    currency = data["bond"]["currency"]
    projects = register_frame(data).drop("indicators", strict=False)
    indicators = indicator_frame(data).rename({"unit": "indicator_unit"})
    flat = projects.join(indicators, on="reference", how="left", maintain_order="left")
    flat = flat.with_columns(indicator_name=pl.col("indicator").cast(pl.String))
    names = {**_VOCABULARY, "indicator_name": indicator_vocabulary(data)}
    indicator_columns = [
        (c.key if c.key != "unit" else "indicator_unit", c) for c in _CSV_INDICATOR
    ]
    name_column = Column("indicator_name", "Indikatorns namn", "Indicator name", "text")
    layout = [
        ("reference", REGISTER_COLUMNS[0]),
        *((c.key, c) for c in _CSV_PROJECT),
        indicator_columns[0],
        ("indicator_name", name_column),
        *indicator_columns[1:],
    ]
    for key, _ in layout:
        if key not in flat.columns:
            flat = flat.with_columns(pl.lit(None, pl.String).alias(key))
    body = flat.select(_csv_column(key, column, lang, names) for key, column in layout)
    body.columns = [column.label(lang, currency) for _, column in layout]
    buffer = io.BytesIO()
    body.write_csv(
        buffer,
        separator=";" if lang == "sv" else ",",
        line_terminator="\r\n",
        include_bom=True,
        quote_style="necessary",
    )
    return buffer.getvalue()
