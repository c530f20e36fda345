"""The report as one standalone HTML document (Jinja2, autoescaped) with plotly charts.

Tables come from ``reporting.columns``, the same specification the Excel sheets use. plotly.js is
loaded once: inlined (``plotly_js="inline"``, a file that works offline) or from a URL
(``plotly_js="url:/static/plotly.min.js"``, what the web app serves). Nothing depends on the time of
rendering, so the same dict renders the same HTML.

The document carries its own Content-Security-Policy in a ``<meta>`` (:func:`report_policy`): a report
file is opened from disk, where no server sends one. Its ``script-src`` is the hashes of the document's
own scripts — plotly.js when inlined, and each figure call — so a script that stored text could ever
smuggle in would not run, not even in an investor's browser from a saved file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from lanportfolj.domain.categories import ICMA_CATEGORIES, PROGRAMME_CATEGORIES, label
from lanportfolj.reporting import charts, display, headlines, script_json, style_hashes
from lanportfolj.reporting import names as vocabulary
from lanportfolj.reporting.columns import (
    ALLOCATION_BY_CATEGORY,
    ALLOCATION_BY_ICMA,
    FINANCING,
    IMPACT_PER_LOAN,
    LOANS,
    RESTATEMENTS,
    Column,
    Table,
    values_by_year,
)
from lanportfolj.reporting.model import FrameRows, frame_rows, value_series, value_series_rows
from lanportfolj.reporting.register import REGISTER, REGISTER_INDICATORS

_NUMERIC_KINDS: Final = ("money", "value", "percent", "share", "int", "year")

UI: Final[dict[str, dict[str, str]]] = {
    "report": {"sv": "Allokerings- och effektrapport", "en": "Allocation and impact report"},
    "summary": {"sv": "Sammanfattning", "en": "Summary"},
    "allocation": {"sv": "Allokering", "en": "Allocation"},
    "loans": {"sv": "Lån", "en": "Loans"},
    "impact_by_category": {"sv": "Effekter per kategori", "en": "Impact by category"},
    "impact_per_loan": {"sv": "Effekter per lån", "en": "Impact per loan"},
    "methodology": {"sv": "Metod", "en": "Methodology"},
    "restatements": {"sv": "Ändringar", "en": "Restatements"},
    "no_restatements": {
        "sv": "Inga värden har ändrats sedan förra publicerade rapporten.",
        "en": "No values have changed since the last published report.",
    },
    "isin": {"sv": "ISIN", "en": "ISIN"},
    "report_date": {"sv": "Rapportdag", "en": "Report date"},
    "issue_date": {"sv": "Emissionsdag", "en": "Issue date"},
    "maturity_date": {"sv": "Förfallodag", "en": "Maturity date"},
    "coupon": {"sv": "Kupong", "en": "Coupon"},
    "framework": {"sv": "Ramverk", "en": "Framework"},
    "fx": {"sv": "Valutakurs", "en": "Exchange rate"},
    "yes": {"sv": "Ja", "en": "Yes"},
    "no": {"sv": "Nej", "en": "No"},
    "financing": {"sv": "Finansiering", "en": "Financing"},
    "refinancing": {"sv": "Refinansiering", "en": "Refinancing"},
    "more_charts": {
        "sv": "Diagram visas för de första {shown} av {total} lånen; alla värden finns i "
        "Excel-filen och JSON-filen.",
        "en": "Charts are shown for the first {shown} of {total} loans; every value is in the Excel "
        "workbook and the JSON file.",
    },
    "more_rows": {
        "sv": "Tabellen visar de första {shown} av {total} raderna; alla rader finns i Excel-filen "
        "och JSON-filen.",
        "en": "The table shows the first {shown} of {total} rows; every row is in the Excel workbook "
        "and the JSON file.",
    },
    "values_elsewhere": {
        "sv": "Värdena per år ({rows} rader) finns i Excel-filen och JSON-filen.",
        "en": "The values by year ({rows} rows) are in the Excel workbook and the JSON file.",
    },
    "data_sources": {"sv": "Datakällor", "en": "Data sources"},
    "back": {"sv": "Obligationsrapporter", "en": "Bond reports"},
    "site": {"sv": "Sociala obligationer", "en": "Social bonds"},
    "contents": {"sv": "Innehåll", "en": "Contents"},
    "downloads": {"sv": "Ladda ner", "en": "Download"},
    "status_draft": {"sv": "Utkast – inte publicerad", "en": "Draft – not published"},
    "status_published": {"sv": "Publicerad", "en": "Published"},
    "status_revised": {"sv": "Reviderad", "en": "Revised"},
    "revised_title": {"sv": "Reviderad", "en": "Revised"},
    "published_on": {"sv": "publicerad {at}", "en": "published {at}"},
    "version": {"sv": "version {n}", "en": "version {n}"},
    "illustrative": {
        "sv": "Illustrativa data: låntagare och belopp är delvis verkliga, alla mätvärden är påhittade.",
        "en": "Illustrative data: borrowers and amounts are partly real, every measured value is made up.",
    },
    "key_figures": {"sv": "Nyckeltal", "en": "Key figures"},
    "headlines": {"sv": "Effekter i korthet", "en": "Impact at a glance"},
    "headline": {
        "sv": "{name}: {value}, varav {bond} tillskrivet obligationen ({year})",
        "en": "{name}: {value}, of which {bond} attributed to the bond ({year})",
    },
    "headline_plain": {"sv": "{name}: {value} ({year})", "en": "{name}: {value} ({year})"},
    "allocated": {"sv": "Allokerat", "en": "Allocated"},
    "unallocated": {"sv": "Ej allokerat", "en": "Unallocated"},
    "nominal": {"sv": "Nominellt belopp", "en": "Nominal amount"},
    "projects": {"sv": "Projekt (lån)", "en": "Projects (loans)"},
    "borrowers": {"sv": "Låntagare", "en": "Borrowers"},
    "categories": {"sv": "Kategorier", "en": "Categories"},
    "bond_share": {"sv": "Obligationens andel av poolen", "en": "Bond's share of the pool"},
    "period": {"sv": "Rapportperiod", "en": "Reporting period"},
    "impact": {"sv": "Effekter", "en": "Impact"},
    "impact_by_icma": {"sv": "Effekter per ICMA-kategori", "en": "Impact by ICMA category"},
    "impact_by_programme": {
        "sv": "Effekter per programkategori",
        "en": "Impact by programme category",
    },
    "impact_note": {
        "sv": "Senaste rapporterade år per indikator. Hela projekten = projektens samlade värde; "
        "tillskrivet obligationen = långivarens andel av varje projekt gånger obligationens andel "
        "av poolen. Kvoter visas som poolat värde (Σ täljare ÷ Σ nämnare); icke-additiva "
        "indikatorer visas bara per projekt. * = uppskattat värde.",
        "en": "Latest reported year per indicator. Whole projects = the projects' combined value; "
        "attributed to the bond = the lender's share of each project times the bond's share of "
        "the pool. Ratios are shown as the pooled value (Σ numerator ÷ Σ denominator); "
        "non-additive indicators are shown per project only. * = estimated value.",
    },
    "col_indicator": {"sv": "Indikator", "en": "Indicator"},
    "col_year": {"sv": "År", "en": "Year"},
    "col_loans": {"sv": "Lån", "en": "Loans"},
    "col_whole": {"sv": "Hela projekten", "en": "Whole projects"},
    "col_bond": {"sv": "Tillskrivet obligationen", "en": "Attributed to the bond"},
    "col_estimated": {"sv": "Uppskattat", "en": "Estimated"},
    "per_loan_details": {
        "sv": "Visa värden per lån ({rows} rader) och diagram per lån",
        "en": "Show the values per loan ({rows} rows) and the charts per loan",
    },
    "loans_details": {
        "sv": "Visa lånen i poolen ({rows})",
        "en": "Show the loans in the pool ({rows})",
    },
    "values_details": {"sv": "Visa värden per år", "en": "Show the values by year"},
    "charts_details": {
        "sv": "Visa diagram för övriga indikatorer ({rows})",
        "en": "Show the charts of the other indicators ({rows})",
    },
    "changes": {"sv": "Ändringar", "en": "Changes"},
    "first_report": {
        "sv": "Detta är obligationens första rapport: det finns ingen tidigare rapport att jämföra med.",
        "en": "This is the bond's first report: there is no earlier report to compare with.",
    },
    "changes_since": {
        "sv": "Värden som ändrats sedan rapporten publicerad {at}.",
        "en": "Values changed since the report published {at}.",
    },
    "revision_changes": {
        "sv": "Den här rapporten ersätter version {n} av rapporten för samma dag (publicerad {at}). "
        "Det här har ändrats:",
        "en": "This report replaces version {n} of the report for the same date (published {at}). "
        "What changed:",
    },
    "no_revision_changes": {
        "sv": "Inga värden skiljer sig från den tidigare versionen.",
        "en": "No values differ from the earlier version.",
    },
    "col_what": {"sv": "Vad", "en": "What"},
    "col_old": {"sv": "Tidigare", "en": "Before"},
    "col_new": {"sv": "Nu", "en": "Now"},
    "glossary": {"sv": "Ordlista", "en": "Glossary"},
    "issuer": {"sv": "Emittent", "en": "Issuer"},
    "lei": {"sv": "LEI", "en": "LEI"},
    "reviewer": {"sv": "Extern granskare", "en": "External reviewer"},
    "review_scope": {"sv": "Granskningens omfattning", "en": "Scope of the review"},
    "register": {"sv": "Projektregister", "en": "Project register"},
    "case_studies": {"sv": "Fallstudier", "en": "Case studies"},
    "case_studies_intro": {
        "sv": "Berättelser om enskilda projekt, skrivna av låntagaren eller en analytiker och "
        "godkända av en analytiker.",
        "en": "Narratives about single projects, written by the borrower or an analyst and approved "
        "by an analyst.",
    },
}

GLOSSARY: Final[tuple[tuple[dict[str, str], dict[str, str]], ...]] = (
    (
        {"sv": "Allokerat", "en": "Allocated"},
        {
            "sv": "Den del av obligationens belopp som motsvaras av utestående stödberättigade lån.",
            "en": "The part of the bond's amount matched by outstanding eligible loans.",
        },
    ),
    (
        {"sv": "Tillskrivet", "en": "Attributed"},
        {
            "sv": "Projektets värde gånger långivarens andel av projektets finansiering.",
            "en": "A project's value times the lender's share of the project's financing.",
        },
    ),
    (
        {"sv": "Hela projekten", "en": "Whole projects"},
        {
            "sv": "Projektens samlade värde, oavsett vem som finansierat dem.",
            "en": "The projects' combined value, whoever financed them.",
        },
    ),
    (
        {"sv": "Finansiering / refinansiering", "en": "Financing / refinancing"},
        {
            "sv": "Lån utbetalda från emissionsdagen är finansiering, tidigare lån refinansiering.",
            "en": "Loans disbursed on or after the issue date are financing, earlier ones refinancing.",
        },
    ),
    (
        {"sv": "Poolat värde", "en": "Pooled value"},
        {
            "sv": "En kvot över flera projekt: summan av täljarna delad med summan av nämnarna.",
            "en": "A ratio over several projects: the sum of numerators divided by the sum of "
            "denominators.",
        },
    ),
    (
        {"sv": "Ändring (omräkning)", "en": "Restatement"},
        {
            "sv": "Ett värde som låntagaren ändrat efter att en rapport publicerats.",
            "en": "A value the borrower changed after a report was published.",
        },
    ),
    (
        {"sv": "ICMA", "en": "ICMA"},
        {
            "sv": "International Capital Market Association; dess Social Bond Principles anger "
            "kategorierna för sociala projekt.",
            "en": "International Capital Market Association; its Social Bond Principles define the "
            "social project categories.",
        },
    ),
)

UNIT_COUNT: Final = {"sv": "antal", "en": "count"}

AGGREGATIONS: Final[dict[str, dict[str, str]]] = {
    "sum": {"sv": "summa", "en": "sum"},
    "latest": {"sv": "senaste", "en": "latest"},
    "ratio": {"sv": "kvot", "en": "ratio"},
    "none": {"sv": "ej additiv", "en": "non-additive"},
}

#: Download labels by format, in the order they are listed (report-files adds ``pdf`` and ``csv``).
DOWNLOADS: Final[dict[str, str]] = {
    "pdf": "PDF",
    "xlsx": "Excel (XLSX)",
    "json": "JSON",
    "csv": "CSV",
    "html": "HTML",
}


def default_templates_dir() -> Path:
    """The ``templates`` directory: packaged resources when installed, else the repository's."""
    here = Path(__file__).resolve()
    packaged = here.parents[1] / "_resources" / "templates"
    if packaged.is_dir():
        return packaged
    return here.parents[3] / "templates"


def format_number(value: Decimal, decimals: int, lang: str) -> str:
    """``value`` with thousands separators: ``1,234.50`` in English, ``1 234,50`` in Swedish."""
    return display.number(value, decimals, lang)


def format_cell(
    value: Any,
    column: Column,
    lang: str,
    *,
    unit: str | None = None,
    names: dict[str, str] | None = None,
) -> str:
    """One report value as the text of its HTML cell, rounded for display (``reporting.display``).

    ``unit`` is the row's indicator unit (values are rounded for it); ``names`` the indicators'
    names by code. Codes are shown as names.
    """
    if value is None:
        return "–"
    kind = column.kind
    if kind == "bool":
        return UI["yes" if value else "no"][lang]
    if kind == "money":
        return display.money_in_unit(value, lang)
    if kind == "percent":
        return display.number(value, 1, lang)
    if kind == "share":
        return display.percent(value, lang, share=True)
    if kind == "value":
        return display.in_unit(value, unit, lang, with_unit=False)
    if kind == "int":
        return display.count(value, lang)
    if kind == "list":
        return ", ".join(str(item) for item in value)
    if kind == "date":
        return str(value)[:10]
    key = column.key
    if key in vocabulary.BY_COLUMN:
        # categories, status, funding, aggregation, scope: by name (reporting.names)
        return vocabulary.name(vocabulary.BY_COLUMN[key], value, lang) or "–"
    if key == "unit":
        # the unit as a reader writes it (kr/m², per 1 000); a count is "antal" / "count"
        return display.unit_text(value, lang) or UNIT_COUNT[lang]
    if key == "indicator" and names is not None:
        return names.get(value, str(value))
    return str(value)


def _header(column: Column, lang: str, currency: str) -> str:
    """A column's header; money columns are in millions (``mnkr``, ``EUR m``)."""
    if column.kind == "money":
        text = column.label(lang, currency)
        unit = display.million_unit(currency, lang)
        sek = display.million_unit("SEK", lang)
        return text.replace(f"({currency})", f"({unit})").replace("(SEK)", f"({sek})")
    return column.label(lang, currency)


def _table(
    table: Table,
    data: dict[str, Any],
    lang: str,
    max_rows: int,
    *,
    columns: tuple[Column, ...] | None = None,
    units: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A table ready for ``_table.html``: headers and formatted cells, numbers right-aligned.

    At most ``max_rows`` rows are formatted; ``note`` then says where the rest are. ``columns``
    narrows the table's columns for the page (the workbook keeps them all).
    """
    currency = data["bond"]["currency"]
    columns = columns or table.columns
    numeric = [column.kind in _NUMERIC_KINDS for column in columns]
    rows = table.rows(data)
    shown = rows[:max_rows]
    note = (
        UI["more_rows"][lang].format(shown=len(shown), total=len(rows))
        if len(shown) < len(rows)
        else ""
    )
    units = units or {}
    return {
        "id": table.key.replace("_", "-"),
        "title": table.title(lang),
        "headers": [(_header(c, lang, currency), n) for c, n in zip(columns, numeric, strict=True)],
        "rows": [
            [
                (
                    format_cell(
                        row.get(c.key),
                        c,
                        lang,
                        unit=units.get(row.get("indicator") or ""),
                        names=names,
                    ),
                    n,
                )
                for c, n in zip(columns, numeric, strict=True)
            ]
            for row in shown
        ],
        "count": len(rows),
        "note": note,
    }


def _columns(table: Table, keys: tuple[str, ...]) -> tuple[Column, ...]:
    by_key = {c.key: c for c in table.columns}
    return tuple(by_key[k] for k in keys if k in by_key)


#: The page's columns of each table (the workbook and the JSON keep every column).
_PAGE_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "allocation_by_category": (
        "programme_category", "loan_count", "borrower_count", "outstanding", "disbursed",
        "share_of_pool",
    ),
    "allocation_by_icma": (
        "icma_category", "loan_count", "borrower_count", "outstanding", "disbursed",
        "share_of_pool",
    ),
    "financing": ("funding", "loan_count", "outstanding", "share_of_pool"),
    "loans": (
        "reference", "borrower", "title", "programme_category", "icma_category", "sdgs", "status",
        "disbursement_date", "maturity_date", "funding", "amount_sek", "outstanding",
        "project_share",
    ),
    "impact_per_loan": (
        "loan", "borrower", "indicator", "baseline_value", "baseline_year", "latest_value",
        "latest_year", "target_value", "target_year", "change_pct", "on_track", "share",
        "latest_attributed", "latest_estimated", "any_restated",
    ),
    "restatements": ("loan", "indicator", "year", "old", "new", "at"),
}  # fmt: skip


def _figures_table(
    figures: list[headlines.Figure],
    vocabulary: dict[str, dict[str, str]],
    names: dict[str, str],
    units: dict[str, str],
    lang: str,
    ident: str,
    title: str,
) -> dict[str, Any]:
    """Impact figures grouped by category as one table: a category row, then its indicators."""
    headers = [
        (UI["col_indicator"][lang], False),
        (UI["col_year"][lang], True),
        (UI["col_loans"][lang], True),
        (UI["col_whole"][lang], True),
        (UI["col_bond"][lang], True),
    ]
    groups: list[tuple[str, list[list[tuple[str, bool]]]]] = []
    current = None
    for figure in figures:
        if figure.category != current:
            current = figure.category
            groups.append((label(vocabulary, current, lang), []))
        unit = units.get(figure.indicator)
        whole = display.in_unit(figure.value, unit, lang)
        if figure.aggregation == "ratio":
            whole += " (" + AGGREGATIONS["ratio"][lang] + ")"
        bond = (
            display.in_unit(figure.bond_attributed, unit, lang)
            if figure.bond_attributed is not None
            else "–"
        )
        groups[-1][1].append(
            [
                (names.get(figure.indicator, figure.indicator), False),
                (str(figure.year), True),
                (display.count(figure.loan_count, lang), True),
                (whole + (" *" if figure.estimated else ""), True),
                (bond, True),
            ]
        )
    return {"id": ident, "title": title, "headers": headers, "groups": groups}


def _publication(data: dict[str, Any]) -> dict[str, Any]:
    """The report's publication facts; a report frozen before they were recorded is 'published'."""
    publication: dict[str, Any] = dict(data.get("publication") or {"status": "published"})
    publication.setdefault("status", "published")
    publication.setdefault("version", 1)
    publication.setdefault("previous", None)
    publication.setdefault("revises", None)
    publication.setdefault("changes", [])
    publication.setdefault("header", {})
    return publication


def page_links(data: dict[str, Any]) -> dict[str, str]:
    """The web page's links: back to the list, and the downloads of this report (or this draft):
    PDF, XLSX, JSON, the register as CSV and the HTML file (``web.reports`` serves each)."""
    isin, day = data["bond"]["isin"], data["report_date"]
    if _publication(data)["status"] == "draft":
        base = f"/reports/{isin}/draft?date={day}&format="
        formats = {"pdf": "pdf", "xlsx": "xlsx", "json": "json", "csv": "register-csv"}
        links = {key: base + fmt for key, fmt in formats.items()}
        return {"back": "/reports", **links, "html": base + "html"}
    base = f"/reports/{isin}/{day}/"
    return {
        "back": "/reports",
        "pdf": base + "report.pdf",
        "xlsx": base + "report.xlsx",
        "json": base + "report.json",
        "csv": base + "register.csv",
        "html": base + "report.html",
    }


def _trajectories(
    data: dict[str, Any], lang: str, limit: int
) -> tuple[list[tuple[str, Markup]], int]:
    """One small-multiples figure per loan for the first ``limit`` loans that have values.

    Returns the charts and the number of loans that have values.
    """
    per_loan: list[dict[str, Any]] = data["impact"]["per_loan"]
    all_series: list[dict[str, Any]] = value_series(data)
    total: int | None = None
    if (
        isinstance(per_loan, FrameRows)
        and isinstance(all_series, FrameRows)
        and not (per_loan.filled or all_series.filled)
    ):
        # only the charted loans' rows leave polars
        per_loan, all_series, total = _first_charted(per_loan, all_series, limit)
    by_pair = {(s["loan"], s["indicator"]): s for s in all_series}
    by_loan: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for summary in per_loan:
        series = by_pair.get((summary["loan"], summary["indicator"]))
        if series and series["years"]:
            by_loan.setdefault(summary["loan"], []).append((summary, series))
    names = charts.indicator_names(data, lang)
    out = []
    for loan, items in list(by_loan.items())[:limit]:
        ident, html = charts.loan_trajectories(loan, items, names, lang)
        out.append((ident, Markup(html)))
    return out, len(by_loan) if total is None else total


def _first_charted(
    per_loan: FrameRows, values: FrameRows, limit: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """The per-loan rows and series of the first ``limit`` loans with values, and how many loans
    have values: what ``_trajectories`` reads, without converting the other loans' rows."""
    keys = ["loan", "indicator"]
    measured = values.frame.select(keys).unique()
    loans = (
        per_loan.frame.select(keys)
        .join(measured, on=keys, how="semi", maintain_order="left")["loan"]
        .unique(maintain_order=True)
    )
    first = loans.head(limit).implode()
    return (
        frame_rows(per_loan.frame.filter(pl.col("loan").is_in(first))),
        value_series_rows(values.frame.filter(pl.col("loan").is_in(first))),
        loans.len(),
    )


def _plotly_script(plotly_js: str) -> Markup:
    """The one ``<script>`` that loads plotly.js, and the one that makes the figures draw when they
    come into view (``script_json.DRAW_ON_DEMAND``: hundreds of charts at national scale)."""
    on_demand = Markup(f"<script>{script_json.DRAW_ON_DEMAND}</script>")
    if plotly_js == "inline":
        return Markup(f'<script type="text/javascript">{get_plotlyjs()}</script>\n') + on_demand
    if plotly_js.startswith("url:"):
        library = Markup('<script src="{}"></script>\n').format(plotly_js.removeprefix("url:"))
        return library + on_demand
    raise ValueError(f"plotly_js must be 'inline' or 'url:<path>', not {plotly_js!r}")


def report_policy(page: str, *, plotly_js: str) -> str:
    """The Content-Security-Policy of a finished report document ``page``.

    Only the document's own inline scripts run (``script_json.allowed_script_hashes``: the figure
    calls and the plotly.js library); with ``plotly_js="url:…"`` the library may also come from the
    site that serves it. Nothing is fetched, framed, submitted or used as a base. Styles: only the
    document's own ``<style>`` and plotly.js's fixed ones, by hash (``style_hashes``); no ``style=``
    attribute (plotly.js styles through the CSSOM, which CSP does not govern).
    """
    self_source = ["'self'"] if plotly_js.startswith("url:") else []
    script_src = " ".join([*self_source, *script_json.allowed_script_hashes(page)]) or "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {script_src}",
            " ".join(["style-src", *style_hashes.style_element_hashes()]),
            "style-src-attr 'none'",
            "img-src data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


#: Where the policy goes: right after the ``<meta charset>`` that opens the document's ``<head>``,
#: before any script (``templates/report/base.html``).
_HEAD: Final = '<meta charset="utf-8">\n'


def with_policy(page: str, *, plotly_js: str) -> str:
    """``page`` with its ``<meta http-equiv="Content-Security-Policy">`` (:func:`report_policy`)."""
    at = page.find(_HEAD)
    if at < 0 or page.find("<script", 0, at) >= 0:
        raise ValueError("the report template must open its <head> with <meta charset>")
    meta = str(
        Markup('<meta http-equiv="Content-Security-Policy" content="{}">\n').format(
            report_policy(page, plotly_js=plotly_js)
        )
    )
    at += len(_HEAD)
    return page[:at] + meta + page[at:]


def build_environment(templates_dir: Path | None = None) -> Environment:
    """A Jinja2 environment over ``templates_dir`` (default: ``default_templates_dir()``)."""
    return Environment(
        loader=FileSystemLoader(templates_dir or default_templates_dir()),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(
    data: dict[str, Any],
    *,
    plotly_js: str = "inline",
    lang: str | None = None,
    templates_dir: Path | None = None,
    max_trajectory_charts: int = 20,
    max_value_rows: int = 5000,
    max_table_rows: int = 1000,
    sections: str = "",
    with_links: bool = False,
) -> str:
    """The report dict as a standalone HTML document.

    ``with_links``: the site's header and the download links (the web page; a saved file has none).

    ``plotly_js`` is ``"inline"`` or ``"url:<path>"``; ``lang`` defaults to the report's language.
    ``sections`` is rendered HTML put before the methodology (the comparison groups), inside the
    document's policy: its figure calls are hashed with the rest.
    Trajectories are drawn for the first ``max_trajectory_charts`` loans (one figure per loan, its
    indicators as small multiples), the yearly values table is shown when it has at most
    ``max_value_rows`` rows, and every other table shows its first ``max_table_rows`` rows with a
    note; XLSX and JSON are always complete. An investor's browser draws a few dozen figures and a
    few thousand rows quickly, not tens of thousands.
    """
    lang = lang or data["methodology"]["lang"]
    if lang not in ("sv", "en"):
        raise ValueError(f"lang must be 'sv' or 'en', not {lang!r}")
    env = build_environment(templates_dir)
    ui = {key: texts[lang] for key, texts in UI.items()}
    currency = data["bond"]["currency"]
    summary = data["allocation"]["summary"]
    publication = _publication(data)
    header = publication["header"]
    names: dict[str, str] = {}
    units: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for row in data["impact"]["indicators"]:
        names[row["code"]] = row["name_sv" if lang == "sv" else "name_en"] or row["code"]
        units[row["code"]] = row.get("unit") or ""
        kinds[row["code"]] = row.get("kind") or ""
    trajectories, charted_loans = _trajectories(data, lang, max_trajectory_charts)
    value_rows = len(value_series(data))
    allocation_charts = [
        charts.allocation_by_category(data, lang),
        charts.financing_split(data, lang),
    ]
    programme = headlines.by_programme_category(data)
    icma = headlines.by_icma_category(data)
    headline_items = []
    chosen = headlines.headlines(programme, kinds)
    # the attributed charts of the headline indicators on the page, the others folded
    shown_charts = {charts.div_id("attributed", code) for code in headlines.headline_codes(chosen)}
    impact_charts = [(i, Markup(h)) for i, h in charts.attributed_by_category(data, lang)]
    for category, figures in chosen.items():
        lines = []
        for figure in figures:
            unit = units.get(figure.indicator)
            values = {
                "name": names.get(figure.indicator, figure.indicator),
                "value": display.in_unit(figure.value, unit, lang),
                "year": figure.year,
            }
            if figure.bond_attributed is not None:
                bond = display.in_unit(figure.bond_attributed, unit, lang)
                lines.append(ui["headline"].format(bond=bond, **values))
            else:
                lines.append(ui["headline_plain"].format(**values))
        headline_items.append((label(PROGRAMME_CATEGORIES, category, lang), lines))
    categories = len({row["programme_category"] for row in data["allocation"]["by_category"]})
    key_figures = [
        (ui["nominal"], display.money(summary["nominal_amount"], currency, lang)),
        (ui["allocated"], display.money(summary["allocated"], currency, lang)),
        (ui["unallocated"], display.money(summary["unallocated"], currency, lang)),
        (ui["projects"], display.count(summary["loan_count"], lang)),
        (ui["borrowers"], display.count(summary["borrower_count"], lang)),
        (ui["categories"], display.count(categories, lang)),
    ]
    if summary.get("bond_share_of_pool") is not None:
        key_figures.append(
            (ui["bond_share"], display.percent(summary["bond_share_of_pool"], lang, share=True))
        )
    status = publication["status"]
    title = ui["report"]
    if status == "revised":
        title = f"{ui['revised_title']}: {title}"
    status_text = ui.get(f"status_{status}", status)
    if publication.get("published_at"):
        status_text += ", " + ui["published_on"].format(at=publication["published_at"][:10])
    if publication["version"] > 1:
        status_text += ", " + ui["version"].format(n=publication["version"])
    report_year = data["report_date"][:4]
    facts = [
        (ui["period"], f"{report_year}-01-01 – {data['report_date']}"),
        *([(ui["issuer"], header["issuer_name"])] if header.get("issuer_name") else []),
        *([(ui["lei"], header["issuer_lei"])] if header.get("issuer_lei") else []),
        (ui["isin"], data["bond"]["isin"]),
        (ui["issue_date"], data["bond"]["issue_date"]),
        (ui["maturity_date"], data["bond"]["maturity_date"]),
        *(
            [(ui["coupon"], display.number(data["bond"]["coupon_pct"], 3, lang) + "\u00a0%")]
            if data["bond"].get("coupon_pct") is not None
            else []
        ),
        (ui["framework"], header.get("framework_version") or data["bond"]["framework_version"]),
        *([(ui["reviewer"], header["reviewer"])] if header.get("reviewer") else []),
        *([(ui["review_scope"], header["review_scope"])] if header.get("review_scope") else []),
    ]
    if currency != "SEK":
        facts.append(
            (
                ui["fx"],
                f"1 {data['fx']['currency']} = {data['fx']['sek_per_unit']} SEK "
                f"({data['fx']['as_of']}, {data['fx']['source']})",
            )
        )
    previous = publication.get("previous")
    if publication.get("revises"):
        revises = publication["revises"]
        changes_intro = ui["revision_changes"].format(
            n=revises.get("version", 1), at=str(revises.get("published_at", ""))[:10]
        )
    elif previous:
        changes_intro = ui["changes_since"].format(at=str(previous.get("published_at", ""))[:10])
    elif status == "draft" or "publication" in data:
        changes_intro = ui["first_report"]
    else:
        changes_intro = ""
    links = page_links(data) if with_links else {}
    downloads = [
        (f"CSV ({ui['register'].lower()})" if fmt == "csv" else DOWNLOADS[fmt], links[fmt])
        for fmt in DOWNLOADS
        if fmt in links
    ]
    toc = [
        ("summary", ui["summary"]),
        ("allocation", ui["allocation"]),
        ("impact", ui["impact"]),
        ("register", ui["register"]),
        *([("case-studies", ui["case_studies"])] if data.get("case_studies") else []),
        ("methodology", ui["methodology"]),
        ("restatements", ui["changes"]),
        ("glossary", ui["glossary"]),
    ]
    restatements_table = _table(
        RESTATEMENTS, data, lang, max_table_rows,
        columns=_columns(RESTATEMENTS, _PAGE_COLUMNS["restatements"]), units=units, names=names,
    )  # fmt: skip
    context = {
        "lang": lang,
        "ui": ui,
        "data": data,
        "title": title,
        "status": status,
        "status_text": status_text,
        "illustrative": bool(data["bond"].get("illustrative") or publication.get("illustrative")),
        "links": links,
        "downloads": downloads,
        "toc": toc,
        "facts": facts,
        "key_figures": key_figures,
        "headline_items": headline_items,
        "plotly_script": _plotly_script(plotly_js),
        "messages": [
            m["message_sv" if lang == "sv" else "message_en"]
            for m in data["allocation"]["messages"]
        ],
        "allocation_charts": [(i, Markup(h)) for i, h in allocation_charts],
        "allocation_tables": [
            _table(t, data, lang, max_table_rows, columns=_columns(t, _PAGE_COLUMNS[t.key]))
            for t in (ALLOCATION_BY_CATEGORY, ALLOCATION_BY_ICMA, FINANCING)
        ],
        "loans_table": _table(
            LOANS, data, lang, max_table_rows, columns=_columns(LOANS, _PAGE_COLUMNS["loans"])
        ),
        "impact_charts": [(i, h) for i, h in impact_charts if i in shown_charts],
        "more_impact_charts": [(i, h) for i, h in impact_charts if i not in shown_charts],
        "icma_table": _figures_table(
            icma, ICMA_CATEGORIES, names, units, lang, "impact-icma", ui["impact_by_icma"]
        ),
        "programme_table": _figures_table(
            programme, PROGRAMME_CATEGORIES, names, units, lang, "impact-programme",
            ui["impact_by_programme"],
        ),
        "per_loan_table": _table(
            IMPACT_PER_LOAN, data, lang, max_table_rows,
            columns=_columns(IMPACT_PER_LOAN, _PAGE_COLUMNS["impact_per_loan"]),
            units=units, names=names,
        ),
        "trajectories": trajectories,
        "trajectory_note": ui["more_charts"].format(shown=len(trajectories), total=charted_loans)
        if len(trajectories) < charted_loans
        else "",
        "values_table": (
            _table(values_by_year(data), data, lang, max_value_rows, units=units, names=names)
            if value_rows <= max_value_rows
            else None
        ),
        "values_note": ui["values_elsewhere"].format(rows=value_rows),
        "restatements_table": restatements_table,
        "changes_intro": changes_intro,
        "revision_changes": publication["changes"],
        # the ICMA project register (reporting.register), shown by report/_register.html
        "register": {
            "projects": _table(REGISTER, data, lang, max_table_rows, units=units, names=names),
            "indicators": _table(
                REGISTER_INDICATORS, data, lang, max_table_rows, units=units, names=names
            ),
        },
        # issue 16 item 6: approved case studies (report/_case_studies.html), in the page's language
        "case_studies": [
            {
                "loan": study["loan"],
                "year": study["year"],
                "title": study["title"],
                "paragraphs": [
                    part.strip()
                    for part in study[f"text_{lang}"].split("\n\n")
                    if part.strip()
                ],
            }
            for study in data.get("case_studies") or []
        ],
        "methodology": [
            (section["key"], section["title"][lang], section["text"][lang])
            for section in data["methodology"]["sections"]
        ],
        "glossary": [(term[lang], text[lang]) for term, text in GLOSSARY],
    }  # fmt: skip
    page = env.get_template("report/report.html").render(context | {"sections": Markup(sections)})
    return with_policy(page, plotly_js=plotly_js)
