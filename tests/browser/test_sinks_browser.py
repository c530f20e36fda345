"""Hostile text stored straight into the database, seen in Chromium: the loan page, the evaluation page,
the published report and a report file opened from disk draw their charts (no CSP refusal of our own
scripts), no element of the attacker's exists, no script of theirs runs, and plotly shows their
"links" as text."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hostile_sinks import LOAN, store_hostile
from lanportfolj.db import make_engine, session_scope
from lanportfolj.services import reports
from lanportfolj.services.users import DEMO_PASSWORD

pytestmark = pytest.mark.browser

ISIN = "SE0021150208"
DAY = "2025-12-31"
#: plotly's legend text of the comparison group, shown literally
GROUP_TEXT = '<a href="https://evil.example" id=pwn>x</a>'


@pytest.fixture
def hostile_server(live_server):
    engine = make_engine(live_server.settings)
    try:
        store_hostile(engine)
        with session_scope(engine) as db:
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            reports.publish_report(
                session=db, bond=bond, report_date=date.fromisoformat(DAY), fx=None, actor="t"
            )
    finally:
        engine.dispose()
    return live_server


class Watch:
    """Console errors, page errors and dialogs (an ``alert(1)`` that ran) of one page."""

    def __init__(self, page: Any) -> None:
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _assert_inert_and_drawn(page: Any, watch: Watch, *, legend: bool = True) -> None:
    from playwright.sync_api import expect

    # a report's folded detail (<details>) draws its figures when unfolded, as a reader does
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    charts = page.locator("div.plotly-graph-div")
    count = charts.count()
    assert count >= 1
    for index in range(count):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        # a report's figures draw when they come into view (script_json.DRAW_ON_DEMAND): a
        # trajectory of twelve panels takes seconds on a loaded machine
        expect(chart.locator(".main-svg").first).to_be_attached(timeout=30_000)
    assert page.locator("#pwn").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href*='evil.example']").count() == 0
    # plotly draws links of its own only in the mode bar; none in legends, titles or hover labels
    assert page.locator(".plotly-graph-div .main-svg a").count() == 0
    if legend:
        legend_texts = page.locator(".plotly-graph-div .legendtext").all_text_contents()
        assert any(GROUP_TEXT in text for text in legend_texts), legend_texts
    assert watch.problems == []


def test_the_loan_and_evaluation_pages_draw_and_stay_inert(page, hostile_server) -> None:
    watch = Watch(page)
    _sign_in(page, hostile_server.url, hostile_server.accounts["admin"])
    page.goto(f"{hostile_server.url}/loans/{LOAN}?lang=en")
    _assert_inert_and_drawn(page, watch)
    # the indicator's title is the stored text, shown as text
    titles = page.locator(".plotly-graph-div .gtitle").all_text_contents()
    assert any('"><img src=x id=pwn onerror=alert(1)>' in t for t in titles), titles
    page.goto(f"{hostile_server.url}/loans/{LOAN}/evaluation?lang=en")
    _assert_inert_and_drawn(page, watch)


def test_the_published_report_draws_and_stays_inert(page, hostile_server) -> None:
    watch = Watch(page)
    _sign_in(page, hostile_server.url, hostile_server.accounts["investor"])
    page.goto(f"{hostile_server.url}/reports/{ISIN}/{DAY}?lang=en", timeout=60_000)
    _assert_inert_and_drawn(page, watch)


def test_a_downloaded_report_opened_from_disk_draws_and_refuses_an_injected_script(
    page, hostile_server, tmp_path: Path
) -> None:
    _sign_in(page, hostile_server.url, hostile_server.accounts["investor"])
    download = page.request.get(
        f"{hostile_server.url}/reports/{ISIN}/{DAY}/report.html?lang=en", timeout=60_000
    )
    assert download.ok
    html = download.text()
    saved = tmp_path / "report.html"
    saved.write_text(html, encoding="utf-8")
    watch = Watch(page)
    page.goto(saved.as_uri(), timeout=60_000)
    _assert_inert_and_drawn(page, watch)

    # the same file with a script slipped in after rendering: its own policy refuses it
    tampered = tmp_path / "tampered.html"
    tampered.write_text(
        html.replace("</body>", '<script>document.title="ran";alert(1)</script></body>'),
        encoding="utf-8",
    )
    refused = Watch(page)
    page.goto(tampered.as_uri(), timeout=60_000)
    assert page.title() != "ran"
    assert refused.problems and all("Content Security Policy" in p for p in refused.problems)
    assert page.locator("div.plotly-graph-div .main-svg").count() >= 1
