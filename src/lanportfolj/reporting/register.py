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

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from typing import Any, Final

from lanportfolj.domain.allocation import MONEY_SCALE, SHARE_SCALE
from lanportfolj.ingest.inert import inert_text
from lanportfolj.reporting.columns import Column, Table
from lanportfolj.reporting.model import FrameRows, frame_rows
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


def _rows(node: Any) -> list[dict[str, Any]]:
    """A table's rows as dicts, without filling a ``FrameRows`` (its JSON stays written by polars)."""
    if isinstance(node, FrameRows) and not node.filled:
        return frame_rows(node.frame)
    return list(node)


def _allocated(loans: list[dict[str, Any]], allocated_total: str) -> list[str]:
    """Each loan's part of the bond's allocated amount, pro rata to its outstanding amount.

    The parts are whole cents that add up exactly to the allocated total: each part is rounded down
    and the cents left over go to the largest remainders (ties: the earlier reference).
    """
    total = Decimal(allocated_total)
    weights = [Decimal(loan.get("outstanding") or 0) for loan in loans]
    pool = sum(weights, Decimal(0))
    if pool <= 0 or total <= 0:
        return [format(Decimal(0).quantize(_CENT), "f") for _ in loans]
    exact = [total * weight / pool for weight in weights]
    parts = [value.quantize(_CENT, rounding=ROUND_DOWN) for value in exact]
    left = int(((total - sum(parts, Decimal(0))) / _CENT).to_integral_value())
    order = sorted(range(len(loans)), key=lambda i: (-(exact[i] - parts[i]), i))
    for index in order[:left]:
        parts[index] += _CENT
    return [format(part, "f") for part in parts]


def _lifetime_years(start: str | None, end: str | None) -> str | None:
    """Whole years and one decimal between two ISO dates (the project's expected lifetime)."""
    if not start or not end:
        return None
    days = (date.fromisoformat(end) - date.fromisoformat(start)).days
    return format((Decimal(days) / Decimal("365.25")).quantize(Decimal("0.1")), "f")


def _indicator_entry(row: dict[str, Any], report_year: int) -> dict[str, Any]:
    additive = row.get("aggregation") in _ADDITIVE
    latest_year = row.get("latest_year")
    return {
        "indicator": row["indicator"],
        "aggregation": row.get("aggregation"),
        "baseline_value": row.get("baseline_value"),
        "baseline_year": row.get("baseline_year"),
        # ex-ante: recorded at committee approval (issue 16 item 5), when the report carries it
        "expected_value": row.get("expected_value"),
        "reported_year": latest_year,
        "reported_value": row.get("latest_value"),
        "reported_this_year": latest_year == report_year,
        "target_value": row.get("target_value"),
        "target_year": row.get("target_year"),
        # the borrowers report every value for the whole project; an additive one is also
        # attributed to the lender's financed share
        "scope": "whole_project",
        "financed_share_value": row.get("latest_attributed") if additive else None,
    }


def build_register(
    data: dict[str, Any], facts: dict[str, ProjectFacts] | None = None
) -> list[dict[str, Any]]:
    """The register's entries, one per loan of the pool in reference order (see the module)."""
    facts = facts or {}
    loans = _rows(data["allocation"]["loans"])
    allocated = _allocated(loans, data["allocation"]["summary"]["allocated"])
    report_year = int(str(data["report_date"])[:4])
    indicators: dict[str, list[dict[str, Any]]] = {}
    for row in _rows(data["impact"]["per_loan"]):
        indicators.setdefault(row["loan"], []).append(_indicator_entry(row, report_year))
    entries = []
    for loan, allocated_amount in zip(loans, allocated, strict=True):
        fact = facts.get(loan["reference"], ProjectFacts())
        entries.append(
            {
                "reference": loan["reference"],
                "borrower": loan.get("borrower"),
                "borrower_orgnr": loan.get("borrower_orgnr"),
                "title": loan.get("title"),
                "programme_category": loan.get("programme_category"),
                "icma_category": loan.get("icma_category"),
                "sdgs": list(loan.get("sdgs") or []),
                "signed_sek": loan.get("amount_sek"),
                "disbursed_sek": loan.get("disbursed_sek"),
                "outstanding_sek": loan.get("outstanding_sek"),
                "total_project_cost_sek": loan.get("total_project_cost_sek"),
                "project_share": loan.get("project_share"),
                # the pool holds eligible loans only, each wholly eligible
                "eligibility_share": _ONE,
                "allocated": allocated_amount,
                "funding": loan.get("funding"),
                "approval_date": fact.approval_date.isoformat() if fact.approval_date else None,
                "disbursement_date": loan.get("disbursement_date"),
                "expected_end": loan.get("maturity_date"),
                "lifetime_years": _lifetime_years(
                    loan.get("disbursement_date"), loan.get("maturity_date")
                ),
                "status": loan.get("status"),
                "target_group_who": fact.target_group_who,
                "target_group_where": fact.target_group_where,
                "target_group_size": fact.target_group_size,
                "illustrative": fact.illustrative,
                "indicators": indicators.get(loan["reference"], []),
            }
        )
    return entries


def register_entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The register of ``data``: as frozen with it, else built from the dict alone."""
    register = data.get("register")
    if register is None:
        return build_register(data)
    return list(register)


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


def indicator_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The register's indicators as one flat row per project and indicator (with the unit)."""
    units = indicator_units(data)
    return [
        {"reference": entry["reference"], **item, "unit": units.get(item["indicator"], "")}
        for entry in register_entries(data)
        for item in entry["indicators"]
    ]


@dataclass(frozen=True)
class _RegisterTable(Table):
    """A register table: its rows are made from the register entries, never a frame of the dict."""

    indicators: bool = False

    def rows(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        if self.indicators:
            return indicator_rows(data)
        return register_entries(data)

    def frame(self, data: dict[str, Any]) -> None:
        return None


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


def _csv_value(value: Any, column: Column, lang: str, names: dict[str, Any]) -> str:
    """One cell of the CSV: numbers as the report's exact decimal text (a decimal comma in Swedish),
    codes as names, text made inert (a leading ``=``, ``+``, ``-``, ``@`` gets a ``'``)."""
    if value is None:
        return ""
    kind = column.kind
    if kind in ("money", "value", "share", "percent"):
        text = str(value)
        return text.replace(".", ",") if lang == "sv" else text
    if kind in ("int", "year"):
        return str(value)
    if kind == "bool":
        return {"sv": ("Ja", "Nej"), "en": ("Yes", "No")}[lang][0 if value else 1]
    if kind == "list":
        return inert_text(", ".join(str(item) for item in value))
    if column.key in names:
        return inert_text(name(names[column.key], str(value), lang) or "")
    return inert_text(str(value))


def register_csv(data: dict[str, Any], lang: str) -> bytes:
    """The register as one CSV row per project and indicator (a project without indicators: one row).

    Swedish: ``;`` and decimal comma; English: ``,`` and decimal point. UTF-8 with a BOM so Excel
    shows å, ä and ö, rows end in CRLF, and no cell starts like a formula (``ingest.inert``).
    Categories, statuses and indicators are named; the reference and the indicator code are kept.
    """
    currency = data["bond"]["currency"]
    names = {**_VOCABULARY, "indicator_name": indicator_vocabulary(data)}
    units = indicator_units(data)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if lang == "sv" else ",", lineterminator="\r\n")
    indicator_name_label = {"sv": "Indikatorns namn", "en": "Indicator name"}[lang]
    writer.writerow(
        [
            REGISTER_COLUMNS[0].label(lang, currency),
            *(c.label(lang, currency) for c in _CSV_PROJECT),
            REGISTER_INDICATOR_COLUMNS[1].label(lang, currency),
            indicator_name_label,
            *(c.label(lang, currency) for c in _CSV_INDICATOR[1:]),
        ]
    )
    for entry in register_entries(data):
        project = [inert_text(entry["reference"])] + [
            _csv_value(entry.get(c.key), c, lang, names) for c in _CSV_PROJECT
        ]
        items = entry["indicators"] or [None]
        for item in items:
            if item is None:
                writer.writerow([*project, *([""] * (len(_CSV_INDICATOR) + 1))])
                continue
            code = item["indicator"]
            row = {**item, "unit": units.get(code, "")}
            writer.writerow(
                [
                    *project,
                    inert_text(code),
                    inert_text(name(names["indicator_name"], code, lang) or ""),
                    *(_csv_value(row.get(c.key), c, lang, names) for c in _CSV_INDICATOR[1:]),
                ]
            )
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
