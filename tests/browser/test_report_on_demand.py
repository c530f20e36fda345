"""The published report's figures draw on demand in Chromium (``script_json.DRAW_ON_DEMAND``): those in
view at once, the others when scrolled to (their space kept meanwhile) or before printing, with no
console error and no refusal by the page's policy."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from lanportfolj.db import make_engine, session_scope
from lanportfolj.services import reports
from lanportfolj.services.users import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ISIN = "SE0021150208"
DAY = "2025-12-31"


def _publish(settings: Any) -> None:
    engine = make_engine(settings)
    try:
        with session_scope(engine) as db:
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            reports.publish_report(
                session=db, bond=bond, report_date=date.fromisoformat(DAY), fx=None, actor="t"
            )
    finally:
        engine.dispose()


def test_figures_far_down_the_report_draw_when_scrolled_to_or_printed(page, live_server) -> None:
    from playwright.sync_api import expect

    _publish(live_server.settings)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server.url}/login?lang=en")
    page.get_by_label("E-mail address").fill(live_server.accounts["investor"])
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/reports/{ISIN}/{DAY}?lang=en", timeout=60_000)

    # the folded per-loan detail and comparisons opened, as a reader who wants them does
    page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
    # the per-loan detail is folded (<details>): unfolded, its figures are far down the page
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    charts = page.locator("div.plotly-graph-div")
    count = charts.count()
    assert count >= 10
    # the first figure, at the top of the page, is drawn without scrolling
    expect(charts.first.locator(".main-svg").first).to_be_attached(timeout=30_000)
    # the last one, pages further down, waits: not drawn, but its space is kept
    last = charts.nth(count - 1)
    assert last.locator(".main-svg").count() == 0
    box = last.bounding_box()
    assert box is not None and box["height"] >= 250, box
    last.scroll_into_view_if_needed()
    expect(last.locator(".main-svg").first).to_be_attached(timeout=30_000)

    # printing draws every figure still waiting
    waiting = page.evaluate(
        "() => [...document.querySelectorAll('div.plotly-graph-div')]"
        ".filter(d => !d.querySelector('.main-svg')).length"
    )
    assert waiting > 0
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    expect(page.locator("div.plotly-graph-div:not(:has(.main-svg))")).to_have_count(
        0, timeout=60_000
    )
    assert problems == []
