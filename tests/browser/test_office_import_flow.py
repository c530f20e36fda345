"""A borrower uploads a LibreOffice .ods file whose average rent reads 1,270 (last year 1 201): the preview
warns in Swedish naming last year's value, the store button does nothing until the box is ticked, and then
the values are stored, 91,5 % from a percent-formatted cell as 91,5. Real server, Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan, Submission
from lanportfolj.services import users

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "rapport@botkyrkabyggen.example", "correct horse battery"
LOAN = "SH-2023-001"
FILE = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "office_demo.ods"


@pytest.fixture
def server(live_server):
    engine = make_engine(live_server.settings)
    with session_scope(engine) as db:
        owner = db.exec(select(Loan.borrower_id).where(Loan.reference == LOAN)).one()
        users.create_user(
            db, email=EMAIL, role="borrower", password=PASSWORD, borrower_id=owner, language="sv"
        )
    yield live_server.url, engine
    engine.dispose()


def _submissions(engine) -> int:
    with session_scope(engine) as db:
        return len(db.exec(select(Submission.id)).all())


def test_borrower_confirms_a_far_off_value_before_it_is_stored(server, browser) -> None:
    from playwright.sync_api import expect

    url, engine = server
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}/login?lang=sv")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")

        page.goto(f"{url}/imports?lang=sv")
        page.set_input_files("#file", str(FILE))
        page.get_by_test_id("upload-form").locator("button[type=submit]").click()
        warnings = page.get_by_test_id("warning-table")
        expect(warnings).to_be_visible()
        expect(warnings).to_contain_text("2024 var värdet 1 201")
        expect(warnings).to_contain_text("minst 50 gånger mindre")
        changes = page.get_by_test_id("change-table")
        expect(changes).to_contain_text("Andel boende som känner sig trygga")
        expect(changes).to_contain_text("91,5")
        before = _submissions(engine)

        # not ticked: the browser keeps the form, nothing is stored
        page.get_by_test_id("confirm-import").click()
        expect(page.get_by_test_id("confirm-warnings")).to_be_visible()
        assert page.get_by_test_id("confirm-warnings").evaluate("el => !el.validity.valid")
        assert _submissions(engine) == before

        page.get_by_test_id("confirm-warnings").check()
        page.get_by_test_id("confirm-import").click()
        expect(page.locator(".flash")).to_contain_text("Sparat:")
        assert _submissions(engine) == before + 1

        page.goto(f"{url}/loans/{LOAN}?lang=sv")
        expect(page.get_by_test_id("progress-perceived_safety_share")).to_contain_text("91,5")
    finally:
        context.close()
