"""A loan's progress as plain data for its page: per indicator the baseline, every reported year, the
target, the change since baseline, the on-track status and the history of restatements; and a chart.

The status rules live in :mod:`lanportfolj.domain.progress`; this module only feeds it the current
version of each year's value (the intervention's own, not comparison groups') and keeps the older
versions for the history table.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from lanportfolj.domain.progress import STATUS_LABELS, progress
from lanportfolj.library import UNITS
from lanportfolj.models import Submission
from lanportfolj.services.loans import get_loan, loan_indicator_rows, measurement_history


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _uploader_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    stmt = select(Submission.id, Submission.uploaded_by, Submission.filename).where(
        col(Submission.id).in_(sorted(ids))
    )
    return {sid: f"{who} ({name})" for sid, who, name in session.exec(stmt).all() if sid}


def loan_progress(session: Session, reference: str, *, lang: str = "sv") -> list[dict[str, Any]]:
    """One dict per indicator of loan ``reference`` (empty list when there is no such loan).

    Keys: ``code``, ``name``, ``unit``, ``direction``, ``baseline`` / ``target`` ({value, year}),
    ``years`` (current versions: year, value, estimated, version, restated), ``progress`` (change_abs,
    change_pct, status, status_label, expected_at_latest, latest_year, latest_value), ``history``
    (every version of a restated year, newest first, with who and when). Values are strings (exact).
    """
    loan = get_loan(session, reference)
    if loan is None or loan.id is None:
        return []
    rows = loan_indicator_rows(session, loan.id)
    history = measurement_history(session, [li.id for li, _ in rows if li.id is not None])
    submissions = _uploader_names(
        session,
        {m.submission_id for ms in history.values() for m in ms if m.submission_id is not None},
    )
    out: list[dict[str, Any]] = []
    for li, ind in rows:
        # comparison units belong to the evaluation page; progress is the intervention's own
        versions = [m for m in history.get(li.id or 0, []) if m.group_name == ""]
        current = sorted((m for m in versions if m.is_current), key=lambda m: m.year)
        by_year: dict[int, list[Any]] = {}
        for m in versions:
            by_year.setdefault(m.year, []).append(m)
        restated_years = {year for year, ms in by_year.items() if len(ms) > 1}
        result = progress(
            baseline_value=li.baseline_value,
            baseline_year=li.baseline_year,
            target_value=li.target_value,
            target_year=li.target_year,
            direction=ind.direction if ind.direction in ("increase", "decrease") else "increase",
            points=[(m.year, m.value) for m in current],
        )
        history_rows = [
            {
                "year": m.year,
                "version": m.version,
                "value": _text(m.value),
                "estimated": m.estimated,
                "current": m.is_current,
                "comment": m.comment,
                "recorded_by": m.recorded_by,
                "recorded_at": m.recorded_at.isoformat(timespec="minutes")
                if m.recorded_at
                else None,
                "submission_id": m.submission_id,
                "submission": submissions.get(m.submission_id or 0),
            }
            for year in sorted(restated_years, reverse=True)
            for m in sorted(by_year[year], key=lambda m: m.version, reverse=True)
        ]
        out.append(
            {
                "code": ind.code,
                "name": ind.name_sv if lang == "sv" else ind.name_en,
                "unit": ind.unit,
                "direction": ind.direction,
                "aggregation": ind.aggregation,
                "baseline": {"value": _text(li.baseline_value), "year": li.baseline_year},
                "target": {"value": _text(li.target_value), "year": li.target_year},
                "years": [
                    {
                        "year": m.year,
                        "value": _text(m.value),
                        "estimated": m.estimated,
                        "version": m.version,
                        "restated": m.year in restated_years,
                    }
                    for m in current
                ],
                "progress": {
                    "latest_year": result.latest_year,
                    "latest_value": _text(result.latest_value),
                    "change_abs": _text(result.change_abs),
                    "change_pct": _text(result.change_pct),
                    "expected_at_latest": _text(result.expected_at_latest),
                    "status": result.status,
                    "status_label": STATUS_LABELS[result.status]["sv" if lang == "sv" else "en"],
                },
                "history": history_rows,
            }
        )
    return out


CHART_LABELS = {
    "sv": {"baseline": "Utgångsvärde", "values": "Rapporterat", "target": "Mållinje", "year": "År"},
    "en": {"baseline": "Baseline", "values": "Reported", "target": "Target line", "year": "Year"},
}


def progress_chart_html(item: dict[str, Any], *, loan_ref: str, lang: str = "sv") -> str:
    """A plotly chart of one indicator (an item of :func:`loan_progress`): the baseline point, the
    reported values and the straight line from baseline to target, as an HTML fragment without plotly.js
    (the page loads ``/static/plotly.min.js`` once).

    The figure is written as plain trace and layout dicts (``reporting.charts.figure_html``): building
    ``go.Figure`` objects cost most of a loan page's time.
    """
    from lanportfolj.reporting.charts import div_id, figure_html, separators

    labels = CHART_LABELS["sv" if lang == "sv" else "en"]
    traces: list[dict[str, Any]] = []
    base, target = item["baseline"], item["target"]
    # plotly takes floats: the chart only draws, every figure shown as text stays exact
    if base["value"] is not None and base["year"] is not None:
        traces.append(
            {
                "type": "scatter",
                "x": [base["year"]],
                "y": [float(base["value"])],
                "mode": "markers",
                "marker": {"size": 10, "symbol": "diamond"},
                "name": labels["baseline"],
            }
        )
    if item["years"]:
        traces.append(
            {
                "type": "scatter",
                "x": [y["year"] for y in item["years"]],
                "y": [float(y["value"]) for y in item["years"]],
                "mode": "lines+markers",
                "name": labels["values"],
            }
        )
    if None not in (base["value"], base["year"], target["value"], target["year"]):
        traces.append(
            {
                "type": "scatter",
                "x": [base["year"], target["year"]],
                "y": [float(base["value"]), float(target["value"])],
                "mode": "lines",
                "line": {"dash": "dash"},
                "name": labels["target"],
            }
        )
    unit = UNITS.get(item["unit"])
    unit_label = (unit.sv if lang == "sv" else unit.en) if unit else item["unit"]
    years = [y["year"] for y in item["years"]]
    years += [v for v in (base["year"], target["year"]) if v is not None]
    xaxis: dict[str, Any] = {"dtick": 1, "title": {"text": labels["year"]}}
    if years:  # every year from the baseline to the target year shows as a tick
        xaxis["range"] = [min(years) - 0.5, max(years) + 0.5]
    layout = {
        "title": {"text": item["name"]},
        "height": 320,
        "margin": {"l": 60, "r": 10, "t": 40, "b": 90},
        "xaxis": xaxis,
        # the reader's number separators on a plain axis: "6 000 000 000", not "6B"
        "separators": separators(lang),
        "yaxis": {
            "title": {"text": unit_label},
            # room for "6 500 000 000" beside the unit's title, never cut off or over it
            "automargin": True,
            "exponentformat": "none",
            "separatethousands": True,
        },
        # under the year axis' title, so it never covers it
        "legend": {"orientation": "h", "y": -0.35, "yanchor": "top", "x": 0},
    }
    return figure_html(div_id("progress", loan_ref, item["code"]), traces, layout)


def loan_progress_with_charts(
    session: Session, reference: str, *, lang: str = "sv"
) -> list[dict[str, Any]]:
    """:func:`loan_progress` with each item's ``chart_html`` filled in, ready for the page partials."""
    items = loan_progress(session, reference, lang=lang)
    for item in items:
        item["chart_html"] = progress_chart_html(item, loan_ref=reference, lang=lang)
    return items
