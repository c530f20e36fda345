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
from lanportfolj.reporting import charts, script_json, style_hashes
from lanportfolj.reporting.columns import (
    ALLOCATION_BY_CATEGORY,
    ALLOCATION_BY_ICMA,
    DECIMALS,
    FINANCING,
    IMPACT_BOND,
    IMPACT_BY_CATEGORY,
    IMPACT_PER_LOAN,
    LOANS,
    RESTATEMENTS,
    SUMMARY,
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
    text = f"{value:,.{decimals}f}"
    if lang == "sv":
        text = text.replace(",", "\u00a0").replace(".", ",")
    return text


def format_cell(value: Any, column: Column, lang: str) -> str:
    """One report value as the text of its HTML cell."""
    if value is None:
        return "–"
    kind = column.kind
    if kind == "bool":
        return UI["yes" if value else "no"][lang]
    if kind in ("money", "percent"):
        return format_number(Decimal(value), DECIMALS[kind], lang)
    if kind == "share":
        return format_number(Decimal(value) * 100, DECIMALS[kind], lang) + "\u00a0%"
    if kind == "value":
        number = Decimal(value)
        exponent = number.normalize().as_tuple().exponent
        assert isinstance(exponent, int)
        return format_number(number, min(DECIMALS["value"], max(0, -exponent)), lang)
    if kind == "int":
        return format_number(Decimal(value), 0, lang)
    if kind == "list":
        return ", ".join(str(item) for item in value)
    if column.key == "programme_category":
        return label(PROGRAMME_CATEGORIES, value, lang)
    if column.key == "icma_category":
        return label(ICMA_CATEGORIES, value, lang)
    if column.key == "funding":
        return UI[value][lang] if value in UI else str(value)
    return str(value)


def _table(table: Table, data: dict[str, Any], lang: str, max_rows: int) -> dict[str, Any]:
    """A table ready for ``_table.html``: headers and formatted cells, numbers right-aligned.

    At most ``max_rows`` rows are formatted; ``note`` then says where the rest are.
    """
    currency = data["bond"]["currency"]
    columns = table.columns
    numeric = [column.kind in _NUMERIC_KINDS for column in columns]
    rows = table.rows(data)
    shown = rows[:max_rows]
    note = (
        UI["more_rows"][lang].format(shown=len(shown), total=len(rows))
        if len(shown) < len(rows)
        else ""
    )
    return {
        "id": table.key.replace("_", "-"),
        "title": table.title(lang),
        "headers": [(c.label(lang, currency), n) for c, n in zip(columns, numeric, strict=True)],
        "rows": [
            [
                (format_cell(row.get(c.key), c, lang), n)
                for c, n in zip(columns, numeric, strict=True)
            ]
            for row in shown
        ],
        "note": note,
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
) -> str:
    """The report dict as a standalone HTML document.

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
    trajectories, charted_loans = _trajectories(data, lang, max_trajectory_charts)
    value_rows = len(value_series(data))
    allocation_charts = [
        charts.allocation_by_category(data, lang),
        charts.financing_split(data, lang),
    ]
    context = {
        "lang": lang,
        "ui": ui,
        "data": data,
        "plotly_script": _plotly_script(plotly_js),
        "fx_text": f"1 {data['fx']['currency']} = {data['fx']['sek_per_unit']} SEK "
        f"({data['fx']['as_of']}, {data['fx']['source']})",
        "summary": [
            (column.label(lang, currency), format_cell(summary[column.key], column, lang))
            for column in SUMMARY
        ],
        "messages": [
            m["message_sv" if lang == "sv" else "message_en"]
            for m in data["allocation"]["messages"]
        ],
        "allocation_charts": [(i, Markup(h)) for i, h in allocation_charts],
        "allocation_tables": [
            _table(t, data, lang, max_table_rows)
            for t in (ALLOCATION_BY_CATEGORY, ALLOCATION_BY_ICMA, FINANCING)
        ],
        "loans_table": _table(LOANS, data, lang, max_table_rows),
        "impact_charts": [(i, Markup(h)) for i, h in charts.attributed_by_category(data, lang)],
        "impact_tables": [
            _table(t, data, lang, max_table_rows) for t in (IMPACT_BY_CATEGORY, IMPACT_BOND)
        ],
        "per_loan_table": _table(IMPACT_PER_LOAN, data, lang, max_table_rows),
        "trajectories": trajectories,
        "trajectory_note": ui["more_charts"].format(shown=len(trajectories), total=charted_loans)
        if len(trajectories) < charted_loans
        else "",
        "values_table": (
            _table(values_by_year(data), data, lang, max_value_rows)
            if value_rows <= max_value_rows
            else None
        ),
        "values_note": ui["values_elsewhere"].format(rows=value_rows),
        "restatements_table": _table(RESTATEMENTS, data, lang, max_table_rows),
        # the ICMA project register (reporting.register), shown by report/_register.html
        "register": {
            "projects": _table(REGISTER, data, lang, max_table_rows),
            "indicators": _table(REGISTER_INDICATORS, data, lang, max_table_rows),
        },
        "methodology": [
            (section["key"], section["title"][lang], section["text"][lang])
            for section in data["methodology"]["sections"]
        ],
    }
    page = env.get_template("report/report.html").render(context | {"sections": Markup(sections)})
    return with_policy(page, plotly_js=plotly_js)
