"""The report's plotly charts, built from the report dict and embedded as ``<div>`` snippets.

Figures are plain plotly.js dicts (traces and layout) serialised straight to JSON: building
``go.Figure`` objects validates every property and embeds plotly's ~7 kB theme template in every
figure, which made the demo report's ~90 charts take seconds to render and Chromium seconds more to
draw. Trajectories are one figure per LOAN with its indicators as small multiples, not one figure per
loan indicator.

Every figure gets a generated div id (a hash, never stored text) and no plotly.js of its own (the page
loads plotly.js once), so the same dict always renders the same HTML. Every text given to plotly is
HTML-escaped first and the figure's JSON is written for a ``<script>`` (``script_json``): a borrower's
indicator name or code cannot become markup in the page or in plotly's labels. Charts take floats; the
tables keep the exact decimals.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Final

from lanportfolj.domain.categories import PROGRAMME_CATEGORIES, label
from lanportfolj.reporting import display
from lanportfolj.reporting.script_json import figure_call

_CONFIG: Final[dict[str, Any]] = {"displaylogo": False, "responsive": True}
_HEIGHT: Final = 340
_AXIS: Final[dict[str, Any]] = {
    "gridcolor": "#e5ecf6",
    "zerolinecolor": "#c8d4e3",
    "automargin": True,
    # whole numbers with the locale's separators (``layout.separators``), not "3B" / "6.5B"
    "exponentformat": "none",
    "separatethousands": True,
}
_LAYOUT: Final[dict[str, Any]] = {
    "height": _HEIGHT,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, sans-serif", "size": 12},
}
#: small multiples: columns per row and the height of one row of panels
_PANEL_COLUMNS: Final = 3
_PANEL_HEIGHT: Final = 230

_TEXT: Final[dict[str, dict[str, str]]] = {
    "allocation": {"sv": "Allokering per kategori", "en": "Allocation by category"},
    "financing": {"sv": "Finansiering och refinansiering", "en": "Financing and refinancing"},
    "attributed": {"sv": "Tillskrivet per kategori", "en": "Attributed by category"},
    "full": {"sv": "Hela projekten", "en": "Full projects"},
    "attributed_short": {"sv": "Tillskrivet", "en": "Attributed"},
    "value": {"sv": "Värde", "en": "Value"},
    "estimated": {"sv": "Uppskattat", "en": "Estimated"},
    "target": {"sv": "Bana mot målet", "en": "Path to target"},
    "financing_kind": {"sv": "Finansiering", "en": "Financing"},
    "refinancing_kind": {"sv": "Refinansiering", "en": "Refinancing"},
}


def text(key: str, lang: str) -> str:
    """A chart label in ``lang``."""
    return _TEXT[key][lang]


def div_id(kind: str, *parts: str) -> str:
    """A chart's element id: ``chart-<kind>-<hash of parts>``.

    ``kind`` is this code's own word for the chart (letters only); ``parts`` (a loan reference, an
    indicator code: data) only enter through their hash, so no stored text ever becomes an id or
    reaches the figure's script. The same parts always give the same id (the same dict renders the
    same HTML) and different parts practically never the same one.
    """
    if not kind.isascii() or not kind.isalpha() or not kind.islower():
        raise ValueError(f"a chart kind is lower-case letters: {kind!r}")
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"chart-{kind}-{digest}"


def plotly_text(spec: Any) -> Any:
    """``spec`` (traces, a layout, or any part of them) with every string HTML-escaped for plotly.js.

    plotly.js renders a subset of HTML in titles, legend names, category ticks, hover text and
    annotations (``<a href>`` is a live link, ``<b>``, ``<br>`` …) and decodes ``&lt;`` ``&gt;`` and
    ``&amp;`` back into the characters: escaping ``<``, ``>`` and ``&`` everywhere therefore shows
    every text exactly as it is stored and no stored text as markup. Colours, symbols and the like
    never contain those characters and come out unchanged; numbers and None are left alone.
    """
    if isinstance(spec, str):
        return _escape_plotly(spec)
    if isinstance(spec, dict):
        return {key: plotly_text(value) for key, value in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [plotly_text(value) for value in spec]
    return spec


def _escape_plotly(text: str) -> str:
    # quotes stay: plotly.js decodes only a few named entities, and a quote is not markup to it
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def figure_html(
    ident: str,
    traces: list[dict[str, Any]],
    layout: dict[str, Any],
    config: dict[str, Any] | None = None,
) -> str:
    """A plotly figure as a ``<div>`` with the generated id ``ident`` and the script that draws it.

    Every text in ``traces`` and ``layout`` is HTML-escaped for plotly (:func:`plotly_text`) and the
    JSON is written for a ``<script>`` (``script_json``): neither plotly.js nor the HTML parser can
    read stored text as markup. ``ident`` must come from :func:`div_id`.
    """
    call = figure_call(
        ident, [plotly_text(traces), plotly_text(layout), _CONFIG if config is None else config]
    )
    # no style= for the size: the page's CSP allows no inline style (web.security), and plotly.js sizes the
    # div from the layout's height (every layout here sets one) and the container's width
    return f'<div id="{ident}" class="plotly-graph-div"></div><script>{call}</script>'


def _number(value: str | None) -> float | None:
    # float() of the decimal string is the nearest double, as float(Decimal(value)) would be
    return None if value is None else float(value)


def separators(lang: str) -> str:
    """plotly's ``layout.separators`` for ``lang``: the decimal mark, then the thousands separator
    (Swedish ``1 234,5``, English ``1,234.5``), for axes and hovers alike."""
    return ",\u00a0" if lang == "sv" else ".,"


def _layout(title: str, lang: str = "en", **extra: Any) -> dict[str, Any]:
    """The common layout with ``title``, plain white axes and ``lang``'s number separators."""
    return {
        **_LAYOUT,
        "separators": separators(lang),
        "title": {"text": title},
        "xaxis": dict(_AXIS),
        "yaxis": dict(_AXIS),
        **extra,
    }


def allocation_by_category(data: dict[str, Any], lang: str) -> tuple[str, str]:
    """A bar per programme category: outstanding in the bond's currency. Returns (id, html)."""
    rows = data["allocation"]["by_category"]
    currency = data["bond"]["currency"]
    trace = {
        "type": "bar",
        "x": [label(PROGRAMME_CATEGORIES, r["programme_category"], lang) for r in rows],
        "y": [_number(r["outstanding"]) for r in rows],
        "name": currency,
    }
    layout = _layout(text("allocation", lang), lang)
    layout["yaxis"]["title"] = {"text": currency}
    ident = div_id("allocation", "category")
    return ident, figure_html(ident, [trace], layout)


def financing_split(data: dict[str, Any], lang: str) -> tuple[str, str]:
    """Financing against refinancing, in the bond's currency. Returns (id, html)."""
    rows = data["allocation"]["financing"]
    trace = {
        "type": "pie",
        "labels": [text(r["funding"] + "_kind", lang) for r in rows],
        "values": [_number(r["outstanding"]) for r in rows],
        "sort": False,
    }
    ident = div_id("financing")
    return ident, figure_html(
        ident,
        [trace],
        {**_LAYOUT, "separators": separators(lang), "title": {"text": text("financing", lang)}},
    )


def indicator_names(data: dict[str, Any], lang: str) -> dict[str, str]:
    """Every indicator's name in ``lang`` with its unit, by code."""
    names = {}
    for row in data["impact"]["indicators"]:
        name = row["name_sv" if lang == "sv" else "name_en"] or row["code"]
        unit = display.unit_text(row.get("unit"), lang)
        names[row["code"]] = f"{name} ({unit})" if unit else name
    return names


def indicator_name(data: dict[str, Any], code: str, lang: str) -> str:
    """The indicator's name in ``lang`` and its unit."""
    return indicator_names(data, lang).get(code, code)


def attributed_by_category(data: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """Per summable indicator: full and attributed totals by category in the report year."""
    year = int(data["report_date"][:4])
    names = indicator_names(data, lang)
    charts = []
    rows = [
        r
        for r in data["impact"]["by_category"]
        if r["aggregation"] in ("sum", "latest") and r["year"] == year
    ]
    for code in sorted({r["indicator"] for r in rows}):
        mine = [r for r in rows if r["indicator"] == code]
        categories = [label(PROGRAMME_CATEGORIES, r["programme_category"], lang) for r in mine]
        traces = [
            {
                "type": "bar",
                "x": categories,
                "y": [_number(r["value"]) for r in mine],
                "name": text("full", lang),
            },
            {
                "type": "bar",
                "x": categories,
                "y": [_number(r["attributed"]) for r in mine],
                "name": text("attributed_short", lang),
            },
        ]
        layout = _layout(
            f"{text('attributed', lang)}: {names.get(code, code)}, {year}", lang, barmode="group"
        )
        ident = div_id("attributed", code)
        charts.append((ident, figure_html(ident, traces, layout)))
    return charts


def loan_trajectories(
    loan: str,
    items: list[tuple[dict[str, Any], dict[str, Any]]],
    names: dict[str, str],
    lang: str,
) -> tuple[str, str]:
    """One loan's indicators over the years, each in its own panel against its path to the target.

    ``items`` are (per-loan row, value series) pairs of the loan's indicators. Estimated values are
    drawn as open markers; the dashed line is the straight path from baseline to target.
    """
    columns = min(_PANEL_COLUMNS, len(items))
    rows = math.ceil(len(items) / columns)
    gap_x, gap_y = 0.06, 0.5 / (rows + 1) if rows > 1 else 0.0
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        **_LAYOUT,
        "height": 70 + _PANEL_HEIGHT * rows,
        "margin": {"l": 50, "r": 20, "t": 70, "b": 30},
        "title": {"text": loan},
        "separators": separators(lang),
        "legend": {"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"},
        "annotations": [],
    }
    for index, (summary, series) in enumerate(items):
        row, column = divmod(index, columns)
        suffix = "" if index == 0 else str(index + 1)
        left = column / columns + (gap_x / 2 if column else 0)
        right = (column + 1) / columns - (gap_x / 2 if column < columns - 1 else 0)
        top = 1 - row / rows - (gap_y / 2 if row else 0)
        bottom = 1 - (row + 1) / rows + (gap_y / 2 if row < rows - 1 else 0)
        layout["xaxis" + suffix] = {
            **_AXIS,
            "domain": [left, right],
            "anchor": "y" + suffix,
            "dtick": 1,
        }
        layout["yaxis" + suffix] = {**_AXIS, "domain": [bottom, top], "anchor": "x" + suffix}
        layout["annotations"].append(
            {
                "text": names.get(summary["indicator"], summary["indicator"]),
                "xref": "paper",
                "yref": "paper",
                "x": (left + right) / 2,
                "y": top,
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 11},
            }
        )
        first = index == 0
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": series["years"],
                "y": [_number(v) for v in series["values"]],
                "name": text("value", lang),
                "legendgroup": "value",
                "showlegend": first,
                "line": {"color": "#1f77b4"},
                "marker": {
                    "symbol": ["circle-open" if e else "circle" for e in series["estimated"]],
                    "size": 8,
                    "color": "#1f77b4",
                },
                "xaxis": "x" + suffix,
                "yaxis": "y" + suffix,
            }
        )
        path = (
            summary["baseline_year"],
            summary["baseline_value"],
            summary["target_year"],
            summary["target_value"],
        )
        if None not in path:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [path[0], path[2]],
                    "y": [_number(path[1]), _number(path[3])],
                    "name": text("target", lang),
                    "legendgroup": "target",
                    "showlegend": first,
                    "line": {"dash": "dash", "color": "#ff7f0e"},
                    "marker": {"color": "#ff7f0e"},
                    "xaxis": "x" + suffix,
                    "yaxis": "y" + suffix,
                }
            )
    ident = div_id("trajectory", loan)
    return ident, figure_html(ident, traces, layout)
