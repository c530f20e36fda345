"""The report's plotly charts, built from the report dict and embedded as ``<div>`` snippets.

Every figure gets a fixed div id and no plotly.js of its own (the page loads plotly.js once), so the
same dict always renders the same HTML. Charts take floats; the tables keep the exact decimals.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

import plotly.graph_objects as go
import plotly.io as pio

from lanportfolj.domain.categories import PROGRAMME_CATEGORIES, label

_CONFIG: Final[dict[str, Any]] = {"displaylogo": False, "responsive": True}
_LAYOUT: Final[dict[str, Any]] = {
    "height": 340,
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "template": "plotly_white",
}

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


def div_id(*parts: str) -> str:
    """A stable HTML id from ``parts`` (letters, digits and dashes only)."""
    return "chart-" + "-".join(re.sub(r"[^A-Za-z0-9]+", "-", part).strip("-") for part in parts)


def _html(fig: go.Figure, ident: str) -> str:
    """The figure as a ``<div>`` with id ``ident`` and no plotly.js."""
    return str(
        pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=ident,
            config=_CONFIG,
            validate=False,
        )
    )


def _number(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def allocation_by_category(data: dict[str, Any], lang: str) -> tuple[str, str]:
    """A bar per programme category: outstanding in the bond's currency. Returns (id, html)."""
    rows = data["allocation"]["by_category"]
    currency = data["bond"]["currency"]
    fig = go.Figure(
        go.Bar(
            x=[label(PROGRAMME_CATEGORIES, r["programme_category"], lang) for r in rows],
            y=[_number(r["outstanding"]) for r in rows],
            name=currency,
        )
    )
    fig.update_layout(title=text("allocation", lang), yaxis_title=currency, **_LAYOUT)
    ident = div_id("allocation", "category")
    return ident, _html(fig, ident)


def financing_split(data: dict[str, Any], lang: str) -> tuple[str, str]:
    """Financing against refinancing, in the bond's currency. Returns (id, html)."""
    rows = data["allocation"]["financing"]
    fig = go.Figure(
        go.Pie(
            labels=[text(r["funding"] + "_kind", lang) for r in rows],
            values=[_number(r["outstanding"]) for r in rows],
            sort=False,
        )
    )
    fig.update_layout(title=text("financing", lang), **_LAYOUT)
    ident = div_id("financing")
    return ident, _html(fig, ident)


def indicator_name(data: dict[str, Any], code: str, lang: str) -> str:
    """The indicator's name in ``lang`` and its unit."""
    for row in data["impact"]["indicators"]:
        if row["code"] == code:
            name = row["name_sv" if lang == "sv" else "name_en"] or code
            return f"{name} ({row['unit']})" if row.get("unit") else name
    return code


def attributed_by_category(data: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """Per summable indicator: full and attributed totals by category in the report year."""
    year = int(data["report_date"][:4])
    charts = []
    rows = [
        r
        for r in data["impact"]["by_category"]
        if r["aggregation"] in ("sum", "latest") and r["year"] == year
    ]
    for code in sorted({r["indicator"] for r in rows}):
        mine = [r for r in rows if r["indicator"] == code]
        names = [label(PROGRAMME_CATEGORIES, r["programme_category"], lang) for r in mine]
        fig = go.Figure(
            [
                go.Bar(x=names, y=[_number(r["value"]) for r in mine], name=text("full", lang)),
                go.Bar(
                    x=names,
                    y=[_number(r["attributed"]) for r in mine],
                    name=text("attributed_short", lang),
                ),
            ]
        )
        fig.update_layout(
            title=f"{text('attributed', lang)}: {indicator_name(data, code, lang)}, {year}",
            barmode="group",
            **_LAYOUT,
        )
        ident = div_id("attributed", code)
        charts.append((ident, _html(fig, ident)))
    return charts


def trajectory(
    data: dict[str, Any], lang: str, summary: dict[str, Any], values: list[dict[str, Any]]
) -> tuple[str, str]:
    """One loan's indicator over the years against the straight path from baseline to target.

    Estimated values are drawn as open markers.
    """
    years = [v["year"] for v in values]
    fig = go.Figure(
        go.Scatter(
            x=years,
            y=[_number(v["value"]) for v in values],
            mode="lines+markers",
            name=text("value", lang),
            marker={
                "symbol": ["circle-open" if v["estimated"] else "circle" for v in values],
                "size": 9,
            },
        )
    )
    if None not in (
        summary["baseline_year"],
        summary["baseline_value"],
        summary["target_year"],
        summary["target_value"],
    ):
        fig.add_trace(
            go.Scatter(
                x=[summary["baseline_year"], summary["target_year"]],
                y=[_number(summary["baseline_value"]), _number(summary["target_value"])],
                mode="lines+markers",
                line={"dash": "dash"},
                name=text("target", lang),
            )
        )
    fig.update_layout(
        title=f"{summary['loan']}: {indicator_name(data, summary['indicator'], lang)}",
        xaxis={"dtick": 1},
        **_LAYOUT,
    )
    ident = div_id("trajectory", summary["loan"], summary["indicator"])
    return ident, _html(fig, ident)
