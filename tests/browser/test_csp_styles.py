"""The style policy in Chromium: no ``'unsafe-inline'`` for styles, and yet no page reports a CSP violation
while plotly draws its charts (the empty ``<style>`` plotly fills through the CSSOM, the map library's fixed
stylesheet and the chart containers' sizes are allowed by hash, nothing else)."""

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
#: the demo loan with a comparison school: its evaluation page draws difference-in-differences charts
OREBRO = "SH-2024-002"

#: Every ``securitypolicyviolation`` event of the document and its frames, kept where the test can read it.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push([e.effectiveDirective, e.blockedURI, e.sourceFile, e.lineNumber, e.columnNumber, e.sample].join(' '));
});
"""


#: The page the test opens to see an unmatched route's 404: its own load is the one expected error.
MISSING = "/no-such-page"


def _watch(page: Any) -> list[str]:
    """Console errors, page errors and CSP violations of every page ``page`` opens from now on."""
    problems: list[str] = []

    def on_console(message: Any) -> None:
        text = message.text
        if "status of 404" in text and message.location.get("url", "").endswith(MISSING):
            return
        if message.type == "error" or "Content Security Policy" in text or "strict CSP" in text:
            problems.append(f"{message.type}: {text} {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.add_init_script(RECORD_VIOLATIONS)
    return problems


def _violations(page: Any) -> list[str]:
    found: list[str] = []
    for frame in page.frames:
        found.extend(frame.evaluate("window.__violations || []"))
    return found


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _visit(page: Any, url: str, problems: list[str], *, charts: int = 0) -> str:
    """Opens ``url``, waits until ``charts`` plotly charts at least are drawn, moves the mouse over the first
    (hover labels and the mode bar are where plotly styles at run time) and returns the style policy."""
    from playwright.sync_api import expect

    response = page.goto(url, timeout=60_000)
    assert response is not None and response.status < 500, url
    policy = response.headers.get("content-security-policy", "")
    if charts:
        # the loan page folds each indicator's chart: open them as a reader would
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        drawn = page.locator("div.plotly-graph-div .main-svg")
        expect(drawn.nth(charts - 1)).to_be_attached()
        first = page.locator("div.plotly-graph-div").first
        first.scroll_into_view_if_needed()
        first.hover()
        # the size comes from the layout now, not from a style= the policy would refuse
        box = first.bounding_box()
        assert box is not None and box["height"] >= 250, f"{url}: chart {box}"
        page.mouse.wheel(0, 400)
    page.wait_for_timeout(300)  # a violation is reported as an event after the blocked action
    problems.extend(f"{url}: {v}" for v in _violations(page))
    return policy


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


def _assert_strict(policy: str, url: str) -> None:
    assert policy, f"{url} has no Content-Security-Policy"
    style = [d for d in policy.split(";") if d.strip().startswith("style-src")]
    assert style, f"{url}: no style directive in {policy!r}"
    assert all("'unsafe-inline'" not in d for d in style), f"{url}: {policy!r}"


def test_no_page_needs_unsafe_inline_styles_and_none_reports_a_violation(
    page: Any, live_server: Any
) -> None:
    _publish(live_server.settings)
    problems = _watch(page)
    base = live_server.url

    login = _visit(page, f"{base}/login?lang=en", problems)
    _assert_strict(login, "/login")
    _sign_in(page, base, live_server.accounts["analyst"])
    loan = live_server.own_loan
    visited = {
        "/": _visit(page, f"{base}/", problems),
        f"/loans/{loan}": _visit(page, f"{base}/loans/{loan}", problems, charts=1),
        f"/loans/{OREBRO}": _visit(page, f"{base}/loans/{OREBRO}", problems, charts=1),
        f"/loans/{OREBRO}/evaluation": _visit(
            page, f"{base}/loans/{OREBRO}/evaluation", problems, charts=1
        ),
        f"/reports/{ISIN}/{DAY}": _visit(page, f"{base}/reports/{ISIN}/{DAY}", problems, charts=5),
        f"/reports/{ISIN}/draft": _visit(page, f"{base}/reports/{ISIN}/draft", problems),
        "/imports": _visit(page, f"{base}/imports", problems),
        MISSING: _visit(page, f"{base}{MISSING}", problems),
    }
    # the draft page's frame takes its size from app.css (it was a style= attribute): 80 % of the viewport
    page.goto(f"{base}/reports/{ISIN}/draft")
    frame = page.locator("iframe.draft-frame").bounding_box()
    assert frame is not None and frame["height"] == pytest.approx(0.8 * 800, abs=1)
    for url, policy in visited.items():
        _assert_strict(policy, url)
    assert problems == []
