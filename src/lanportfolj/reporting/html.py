"""The report as one standalone HTML document (Jinja2, autoescaped) with plotly charts.

Tables come from ``reporting.columns``, the same specification the Excel sheets use. plotly.js is
loaded once: inlined (``plotly_js="inline"``, a file that works offline) or from a URL
(``plotly_js="url:/static/plotly.min.js"``, what the web app serves). Nothing depends on the time of
rendering, so the same dict renders the same HTML.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from plotly.offline import get_plotlyjs

from lanportfolj.domain.categories import ICMA_CATEGORIES, PROGRAMME_CATEGORIES, label
from lanportfolj.reporting import charts
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
        "sv": "Diagram visas för de första {shown} av {total} indikatorer per lån; alla värden finns "
        "i tabellerna, Excel-filen och JSON-filen.",
        "en": "Charts are shown for the first {shown} of {total} loan indicators; every value is in "
        "the tables, the Excel workbook and the JSON file.",
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


def _table(table: Table, data: dict[str, Any], lang: str) -> dict[str, Any]:
    """A table ready for ``_table.html``: headers and formatted cells, numbers right-aligned."""
    currency = data["bond"]["currency"]
    columns = table.columns
    numeric = [column.kind in _NUMERIC_KINDS for column in columns]
    return {
        "id": table.key.replace("_", "-"),
        "title": table.title(lang),
        "headers": [(c.label(lang, currency), n) for c, n in zip(columns, numeric, strict=True)],
        "rows": [
            [
                (format_cell(row.get(c.key), c, lang), n)
                for c, n in zip(columns, numeric, strict=True)
            ]
            for row in table.rows(data)
        ],
    }


def _trajectories(data: dict[str, Any], lang: str, limit: int) -> list[tuple[str, Markup]]:
    """Trajectory charts for the first ``limit`` loan indicators that have values."""
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in data["impact"]["values"]:
        by_pair.setdefault((row["loan"], row["indicator"]), []).append(row)
    out: list[tuple[str, Markup]] = []
    for summary in data["impact"]["per_loan"]:
        if len(out) >= limit:
            break
        values = by_pair.get((summary["loan"], summary["indicator"]))
        if values:
            ident, html = charts.trajectory(data, lang, summary, values)
            out.append((ident, Markup(html)))
    return out


def _plotly_script(plotly_js: str) -> Markup:
    """The one ``<script>`` that loads plotly.js."""
    if plotly_js == "inline":
        return Markup(f'<script type="text/javascript">{get_plotlyjs()}</script>')
    if plotly_js.startswith("url:"):
        return Markup('<script src="{}"></script>').format(plotly_js.removeprefix("url:"))
    raise ValueError(f"plotly_js must be 'inline' or 'url:<path>', not {plotly_js!r}")


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
    max_trajectory_charts: int = 60,
    max_value_rows: int = 5000,
) -> str:
    """The report dict as a standalone HTML document.

    ``plotly_js`` is ``"inline"`` or ``"url:<path>"``; ``lang`` defaults to the report's language.
    At most ``max_trajectory_charts`` per-loan trajectory charts are drawn and the yearly values table
    is shown when it has at most ``max_value_rows`` rows (both are complete in XLSX and JSON).
    """
    lang = lang or data["methodology"]["lang"]
    if lang not in ("sv", "en"):
        raise ValueError(f"lang must be 'sv' or 'en', not {lang!r}")
    env = build_environment(templates_dir)
    ui = {key: texts[lang] for key, texts in UI.items()}
    currency = data["bond"]["currency"]
    summary = data["allocation"]["summary"]
    trajectories = _trajectories(data, lang, max_trajectory_charts)
    value_rows = len(data["impact"]["values"])
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
            _table(t, data, lang) for t in (ALLOCATION_BY_CATEGORY, ALLOCATION_BY_ICMA, FINANCING)
        ],
        "loans_table": _table(LOANS, data, lang),
        "impact_charts": [(i, Markup(h)) for i, h in charts.attributed_by_category(data, lang)],
        "impact_tables": [_table(t, data, lang) for t in (IMPACT_BY_CATEGORY, IMPACT_BOND)],
        "per_loan_table": _table(IMPACT_PER_LOAN, data, lang),
        "trajectories": trajectories,
        "trajectory_note": ui["more_charts"].format(
            shown=len(trajectories), total=len(data["impact"]["per_loan"])
        )
        if len(trajectories) < len(data["impact"]["per_loan"])
        else "",
        "values_table": (
            _table(values_by_year(data), data, lang) if value_rows <= max_value_rows else None
        ),
        "values_note": ui["values_elsewhere"].format(rows=value_rows),
        "restatements_table": _table(RESTATEMENTS, data, lang),
        "methodology": [
            (section["key"], section["title"][lang], section["text"][lang])
            for section in data["methodology"]["sections"]
        ],
    }
    return env.get_template("report/report.html").render(context)
