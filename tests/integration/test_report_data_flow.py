"""How a report's data flows at scale (issue 15): the page a publish renders from its own dict is the page
of its frozen JSON, the frozen JSON goes in and out of the database as bytes, ``report`` of a published
date writes the stored bytes and the kept renderings, and the comparison charts' specs are the data."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import session_scope
from lanportfolj.models import SocialBond
from lanportfolj.reporting.model import as_frozen
from lanportfolj.reporting.script_json import DRAW_ON_DEMAND, FIGURE_CALL, script_hash
from lanportfolj.services import rendered_reports, reports
from lanportfolj.services.evaluation import comparison_chart_html

pytestmark = pytest.mark.integration

ISIN = "SE0021150208"
DAY = date(2025, 12, 31)


def _bond(db: Session) -> SocialBond:
    bond = reports.get_bond(db, ISIN)
    assert bond is not None
    return bond


def _figures(page: str) -> dict[str, list]:
    """Every figure call's [traces, layout, config] in ``page``, by element id."""
    found = {}
    for match in FIGURE_CALL.finditer(page):
        # a match runs to the last ");" of the page: cut at the figure's own script end
        args = match.group("args")
        args = args[: args.index(");</script>")] if ");</script>" in args else args
        found[match.group("id")] = json.loads(args)
    return found


def test_the_page_a_publish_renders_is_the_page_of_its_frozen_json(demo_engine) -> None:
    with session_scope(demo_engine) as db:
        report, frozen = reports.publish_report_with_data(
            session=db, bond=_bond(db), report_date=DAY, fx=None, actor="t"
        )
    with Session(demo_engine) as db:
        stored = reports.published_report(db, _bond(db), DAY)
        assert stored is not None and stored.sha256 == report.sha256
        payload = reports.frozen_bytes(stored)
    parsed = reports.parse_frozen(payload)
    assert parsed == json.loads(payload)  # msgspec reads what json reads
    # what the publish kept is the frozen report: the same JSON, and the same page in both languages
    assert reports.render(frozen, fmt="json") == payload
    for lang in ("sv", "en"):
        page = reports.render(frozen, fmt="html", lang=lang).decode()
        assert page == reports.render(parsed, fmt="html", lang=lang).decode()
        # the demo has comparison charts, whose line order comes from a dict's keys: the frozen
        # JSON sorts them, the dict a report is computed as does not
        assert "chart-comparison-" in page


def test_a_page_from_as_frozen_is_the_page_of_the_json_whatever_order_the_dict_was_built_in(
    demo_engine,
) -> None:
    with Session(demo_engine) as db:
        data = reports.draft_report(session=db, bond=_bond(db), report_date=DAY)
    # a comparison unit whose name sorts before the intervention's ("Angered" < "Intervention"):
    # the computed dict has the intervention first, the frozen JSON (sorted keys) the unit first
    for lang in ("sv", "en"):
        for loan in data["impact"]["comparison"][lang]:
            for item in loan["indicators"]:
                values = item["series"]["values"]
                item["series"]["values"] = dict(reversed(list(values.items())))
    frozen = json.loads(reports.render(data, fmt="json"))
    for lang in ("sv", "en"):
        from_json = reports.render(frozen, fmt="html", lang=lang)
        assert reports.render(as_frozen(data), fmt="html", lang=lang) == from_json
        assert reports.render(data, fmt="html", lang=lang) != from_json  # the order does matter


def test_the_frozen_json_is_stored_and_read_as_the_same_bytes(demo_engine) -> None:
    with session_scope(demo_engine) as db:
        report = reports.publish_report(
            session=db, bond=_bond(db), report_date=DAY, fx=None, actor="t"
        )
        digest = report.sha256
    with Session(demo_engine) as db:
        stored = reports.published_report(db, _bond(db), DAY)  # its text not loaded
        assert stored is not None
        payload = reports.frozen_bytes(stored)
        assert hashlib.sha256(payload).hexdigest() == digest
        # the stored pieces, each whole UTF-8 characters, are the same bytes in order
        pieces = list(reports.frozen_chunks(db, stored.id))  # type: ignore[arg-type]
        assert b"".join(pieces) == payload
        assert all(piece.decode("utf-8") for piece in pieces)
        assert not payload.isascii()  # Swedish texts: UTF-8 went in and came out as such
        assert reports.frozen_lang(payload) == "en"


def _run(settings, *args: str):
    return CliRunner().invoke(
        app,
        ["--database-url", settings.database_url, *args],
        env={"LANPORTFOLJ_RENDERED_DIR": settings.rendered_dir},
    )


def test_report_of_a_published_date_writes_the_stored_bytes_and_the_kept_renderings(
    demo_settings, tmp_path, monkeypatch
) -> None:
    done = _run(demo_settings, "report", "publish", ISIN, "--date", DAY.isoformat(), "--yes")
    assert done.exit_code == 0, done.output
    sha = done.stdout.split("sha256 ")[1].split()[0]

    # the publish rendered the pages: neither the JSON nor the HTML needs the frozen JSON parsed
    def no_parse(payload: bytes) -> dict:
        raise AssertionError("the frozen JSON was parsed")

    monkeypatch.setattr(reports, "parse_frozen", no_parse)
    out = tmp_path / "out"
    result = _run(
        demo_settings, "report", ISIN, "--date", DAY.isoformat(), "--format", "json,html", "--out",
        str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = {Path(line).suffix: Path(line) for line in result.stdout.split() if line.strip()}
    assert hashlib.sha256(written[".json"].read_bytes()).hexdigest() == sha
    page = rendered_reports.rendered(
        demo_settings, sha, "html", "en", lambda: pytest.fail("rendered again")
    )
    assert written[".html"].read_bytes() == page
    assert page.startswith(b"<!DOCTYPE html>") and ISIN.encode() in page

    # the workbook was not made by the publish: made once now, parsed once, and kept
    monkeypatch.undo()
    sv = _run(
        demo_settings, "report", ISIN, "--date", DAY.isoformat(), "--format", "xlsx", "--lang",
        "sv", "--out", str(out),
    )  # fmt: skip
    assert sv.exit_code == 0, sv.output
    book = Path(sv.stdout.strip()).read_bytes()
    assert book[:2] == b"PK"
    kept = rendered_reports.rendered(
        demo_settings, sha, "xlsx", "sv", lambda: pytest.fail("rendered again")
    )
    assert kept == book


def test_comparison_chart_specs_are_the_series_with_one_shared_layout(demo_engine) -> None:
    with Session(demo_engine) as db:
        data = reports.draft_report(session=db, bond=_bond(db), report_date=DAY)
    items = [item for loan in data["impact"]["comparison"]["en"] for item in loan["indicators"]]
    assert items, "the demo pool has comparison groups"
    layouts = []
    for item in items:
        [(ident, (traces, layout, config))] = _figures(comparison_chart_html(item)).items()
        assert ident.startswith("chart-comparison-")
        series = item["series"]
        # one line per unit, the years on x and the values (None where a year is missing) on y
        assert [t["name"] for t in traces] == list(series["values"])
        for trace, values in zip(traces, series["values"].values(), strict=True):
            assert trace["x"] == series["years"] and trace["y"] == values
        assert config == {"displayModeBar": False, "responsive": True}
        if item.get("start_year") is not None:
            assert layout["shapes"][0]["x0"] == item["start_year"] - 0.5
        layouts.append({k: v for k, v in layout.items() if k not in ("title", "shapes")})
    assert all(layout == layouts[0] for layout in layouts)  # the shared layout, as plain JSON


def test_a_report_page_loads_plotly_then_draws_its_figures_on_demand(demo_engine) -> None:
    with Session(demo_engine) as db:
        data = reports.draft_report(session=db, bond=_bond(db), report_date=DAY)
    page = reports.render(data, fmt="html", lang="en").decode()
    library = page.index('<script src="/static/plotly.min.js"></script>')
    loader = page.index(f"<script>{DRAW_ON_DEMAND}</script>")
    first_figure = page.index("Plotly.newPlot(")
    assert library < loader < first_figure  # plotly.js, then the loader, then the figure calls
    assert page.count(DRAW_ON_DEMAND) == 1
    # the loader runs under the document's own policy, as the figure calls do
    policy = page[page.index('http-equiv="Content-Security-Policy"') :].split(">", 1)[0]
    assert script_hash(DRAW_ON_DEMAND) in policy.replace("&#39;", "'")
