"""The published demo report in Chromium: every chart drawn by plotly, no console errors."""

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


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def test_an_investor_opens_the_published_report_and_every_chart_is_drawn(page, live_server) -> None:
    from playwright.sync_api import expect

    engine = make_engine(live_server.settings)
    try:
        with session_scope(engine) as db:
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            reports.publish_report(
                session=db, bond=bond, report_date=date.fromisoformat(DAY), fx=None, actor="t"
            )
    finally:
        engine.dispose()

    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            problems.append(f"{message.text} {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    _sign_in(page, live_server.url, live_server.accounts["investor"])
    page.goto(f"{live_server.url}/reports")
    link = page.get_by_role("link", name=DAY)
    expect(link).to_have_attribute("href", f"/reports/{ISIN}/{DAY}")
    # the demo report draws about ninety charts: give the page time to load them all
    page.goto(f"{live_server.url}/reports/{ISIN}/{DAY}", timeout=60_000)
    expect(page.locator("h1")).to_contain_text("social")

    charts = page.locator("div.plotly-graph-div")
    count = charts.count()
    assert count >= 5  # allocation, financing, attributed totals, trajectories, comparison
    for index in range(count):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        # drawn when it comes into view (script_json.DRAW_ON_DEMAND), seconds on a loaded machine
        expect(chart.locator(".main-svg").first).to_be_attached(timeout=30_000)
    expect(page.locator("#comparison")).to_be_visible()
    assert problems == []
