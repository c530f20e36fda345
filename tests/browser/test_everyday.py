"""Issue 18's everyday work in a real browser, as the role that does it.

- the borrower starts from "New application" on the start page; a save with a problem lands on the edit
  page (POST-redirect-GET), so reloading it creates nothing, and the typed values and the message stay;
- the borrower deletes a draft after ticking the confirmation, and it is gone;
- the analyst reads the whole application on the assessment page, follows it to the loan page and the
  printable committee summary (menus and forms left out of print);
- the language switch keeps a search; a search with no hit says so;
- at 390 px (a phone) no page scrolls sideways.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from lanportfolj.db import make_engine
from lanportfolj.models import Loan
from lanportfolj.services.users import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _loan_count(live_server: Any) -> int:
    engine = make_engine(live_server.settings)
    try:
        with Session(engine) as db:
            return int(db.exec(select(func.count()).select_from(Loan)).one())
    finally:
        engine.dispose()


def test_reloading_after_a_failed_save_creates_nothing_and_a_draft_can_be_deleted(
    page, live_server
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    _sign_in(page, base, live_server.accounts["borrower"])
    page.get_by_test_id("new-application").click()
    page.wait_for_url(f"{base}/applications/new")
    page.get_by_label("Title", exact=True).fill("Homework club in Alby")
    page.get_by_label("Amount (SEK)", exact=True).fill("about two million")
    page.get_by_label("Indicator 1: code").press_sequentially("dwellings_renovated")
    row = page.locator("[data-indicator='0']")
    next_year = str(date.today().year + 1)
    row.get_by_label("Baseline value").fill("10")
    row.get_by_label("Baseline year").fill(next_year)  # a baseline after the application year
    before = _loan_count(live_server)
    page.get_by_role("button", name="Save draft").click()

    # the browser was sent on to the edit page: F5 there asks for a page, it posts nothing
    page.wait_for_url(re.compile(r"/applications/SH-\d{4}-\d{3,}/edit\?kept=\d+$"))
    reference = page.url.split("/applications/")[1].split("/")[0]
    assert _loan_count(live_server) == before + 1
    for _ in range(2):
        page.reload()
        expect(page.locator("#form-errors")).to_be_visible()
    assert _loan_count(live_server) == before + 1, "reloading the page saved another draft"
    amount = page.get_by_label("Amount (SEK)", exact=True)
    expect(amount).to_have_value("about two million")
    expect(amount).to_have_attribute("aria-invalid", "true")
    baseline_year = row.get_by_label("Baseline year")
    expect(baseline_year).to_have_value(next_year)
    expect(baseline_year).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#case-form")).to_contain_text(
        f"The baseline year {next_year} is after the application year {date.today().year}"
    )

    # the start page lists the draft; the borrower deletes it after confirming
    page.goto(f"{base}/")
    expect(page.get_by_test_id("applications-in-progress")).to_contain_text(reference)
    page.goto(f"{base}/applications/{reference}")
    page.locator("#delete-draft summary").click()
    page.get_by_role("button", name="Delete the draft").click()
    # the confirmation box is required: nothing was sent, the draft is still there
    assert page.url.endswith(f"/applications/{reference}")
    assert _loan_count(live_server) == before + 1
    page.locator("#confirm-delete").check()
    page.get_by_role("button", name="Delete the draft").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator(".flash")).to_contain_text(f"The draft {reference} is deleted.")
    assert _loan_count(live_server) == before
    assert page.goto(f"{base}/applications/{reference}").status == 404


def test_the_analyst_reads_the_whole_application_and_prints_the_committee_summary(
    page, live_server
) -> None:
    from playwright.sync_api import expect

    engine = make_engine(live_server.settings)
    with Session(engine) as db:
        loan = db.exec(
            select(Loan).where(Loan.status == "submitted").order_by(col(Loan.reference))
        ).first()
        assert loan is not None, "the demo has a submitted application"
        reference, need = loan.reference, loan.social_need or ""
        logic = loan.intervention_logic or ""
    engine.dispose()
    assert need and logic

    base = live_server.url
    _sign_in(page, base, live_server.accounts["analyst"])
    page.goto(f"{base}/analyst/applications/{reference}")
    view = page.locator("#case-view")
    expect(view).to_have_attribute("open", "")
    expect(view.locator("[data-field=social_need]")).to_contain_text(need[:60])
    expect(view.locator("[data-field=intervention_logic]")).to_contain_text(logic[:60])
    expect(view.get_by_text("Budget and terms")).to_be_visible()

    page.get_by_test_id("to-loan").click()
    page.wait_for_url(f"{base}/loans/{reference}")
    page.get_by_test_id("to-assessment").click()
    page.wait_for_url(f"{base}/analyst/applications/{reference}")

    page.get_by_test_id("to-summary").click()
    page.wait_for_url(f"{base}/applications/{reference}/summary")
    expect(page.locator("h1")).to_contain_text(f"Committee summary: {reference}")
    expect(page.locator("#criteria")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.locator("#case-view [data-field=social_need]")).to_be_visible()


def test_a_search_without_hits_says_so_and_the_language_switch_keeps_it(page, live_server) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    _sign_in(page, base, live_server.accounts["analyst"])
    page.goto(f"{base}/?q=nothing-like-this")
    expect(page.get_by_test_id("no-loans")).to_contain_text("No loan matches “nothing-like-this”.")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_url(re.compile(r"q=nothing-like-this"))
    expect(page.get_by_test_id("no-loans")).to_contain_text("Inget lån matchar")
    expect(page.locator("#q")).to_have_value("nothing-like-this")


@pytest.mark.parametrize("role", ["borrower", "analyst"])
def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, role) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        base = live_server.url
        _sign_in(page, base, live_server.accounts[role])
        own = live_server.own_loan
        paths = ["/", f"/loans/{own}", f"/applications/{own}", f"/applications/{own}/summary"]
        if role == "borrower":
            paths += ["/applications/new"]
        else:
            paths += ["/analyst/applications", f"/analyst/applications/{own}"]
        wide = []
        for path in paths:
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, path
            # open every folded part: an opened chart or table must fit too
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            page.wait_for_timeout(200)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide.append((path, width))
        assert not wide, f"pages wider than the phone's 390 px: {wide}"
    finally:
        context.close()


def test_the_borrower_picks_an_indicator_by_name_and_adds_rows_without_saving(
    page, live_server
) -> None:
    from playwright.sync_api import expect

    from lanportfolj.library import load_library

    library = load_library()
    indicator = library["dwellings_renovated"]
    base = live_server.url
    _sign_in(page, base, live_server.accounts["borrower"])
    page.goto(f"{base}/applications/new?lang=sv")
    before = _loan_count(live_server)
    # the borrower knows the name, not the code: the Swedish name fills in the code
    page.get_by_label("Indikator 1: sök på namn").fill(indicator.name_sv)
    expect(page.get_by_label("Indikator 1: kod")).to_have_value("dwellings_renovated")
    # and the English name in row 2
    other = next(
        i
        for code, i in sorted(library.items())
        if code != "dwellings_renovated" and i.name_en != i.name_sv
    )
    page.get_by_label("Indikator 2: sök på namn").fill(other.name_en)
    expect(page.get_by_label("Indikator 2: kod")).to_have_value(other.code)

    rows = page.locator("#indicators .row")
    count = rows.count()
    page.get_by_role("button", name="Lägg till en indikator").click()
    expect(rows).to_have_count(count + 1)
    assert _loan_count(live_server) == before, "adding a row saved nothing"
    new_code = page.get_by_label(f"Indikator {count + 1}: kod")
    expect(new_code).to_have_value("")
    expect(new_code).to_have_attribute("name", f"indicators-{count}-code")
    goals = page.locator("#goals .row")
    goal_count = goals.count()
    page.get_by_role("button", name="Lägg till ett mål").click()
    expect(goals).to_have_count(goal_count + 1)
    expect(page.locator(f"#goals-{goal_count}-text")).to_have_value("")


def test_the_analyst_filters_the_loan_list_on_a_phone_and_the_switch_keeps_the_filters(
    browser, live_server
) -> None:
    """Issue 18 item 6: filters and totals on the start page at 390 px, kept by the language switch
    and the export links."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        base = live_server.url
        _sign_in(page, base, live_server.accounts["analyst"])
        page.get_by_label("Status", exact=True).select_option("active")
        page.get_by_label("Category", exact=True).select_option("health_education")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"status=active&.*category=health_education"))
        rows = page.locator("#loans tbody tr")
        expect(rows.first).to_be_visible()
        engine = make_engine(live_server.settings)
        try:
            with Session(engine) as db:
                chosen = db.exec(
                    select(Loan)
                    .where(Loan.status == "active")
                    .where(Loan.programme_category == "health_education")
                ).all()
        finally:
            engine.dispose()
        assert rows.count() == len(chosen) >= 2
        totals = page.get_by_test_id("loan-totals")
        expect(totals).to_contain_text(f"{len(chosen)} loans")
        expect(page.get_by_test_id("loan-totals-amount")).to_contain_text("SEK")
        csv_href = page.get_by_test_id("export-csv").get_attribute("href") or ""
        assert "status=active" in csv_href and "category=health_education" in csv_href
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the filtered list is {width} px wide on a 390 px phone"

        page.get_by_test_id("lang-switch").click()
        page.wait_for_url(re.compile(r"lang=sv"))
        expect(page.locator("#f-status")).to_have_value("active")
        expect(page.locator("#f-category")).to_have_value("health_education")
        expect(page.get_by_test_id("loan-totals")).to_contain_text(f"{len(chosen)} lån")
        expect(page.get_by_test_id("loan-totals-amount")).to_contain_text("mnkr")
        assert rows.count() == len(chosen)
    finally:
        context.close()
