"""A borrower downloads the template, fills in a value, uploads it, sees the preview, confirms, and the
loan page shows the new value and its chart. Runs the real application under uvicorn and Debian's
Chromium through Playwright."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan
from lanportfolj.services import users

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "ekonomi@botkyrkabyggen.example", "correct horse battery"
LOAN = "SH-2023-001"


@pytest.fixture
def server(live_server) -> str:
    """The shared live server, plus a borrower user of the organisation that owns LOAN."""
    engine = make_engine(live_server.settings)
    with session_scope(engine) as db:
        owner = db.exec(select(Loan.borrower_id).where(Loan.reference == LOAN)).one()
        users.create_user(
            db, email=EMAIL, role="borrower", password=PASSWORD, borrower_id=owner, language="en"
        )
    engine.dispose()
    return live_server.url


def test_borrower_reports_a_value_and_sees_it_on_the_loan_page(
    server: str, browser, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(f"{server}/login?lang=en")
        page.fill("#email", EMAIL)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")

        page.goto(f"{server}/loans/{LOAN}")
        expect(page.get_by_test_id("progress")).to_be_visible()
        with page.expect_download() as download:
            page.get_by_test_id("template-xlsx").click()
        template = tmp_path / "template.xlsx"
        download.value.save_as(template)

        book = openpyxl.load_workbook(template)
        sheet = book["Data"]
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            cells = dict(zip(header, row, strict=False))
            if cells["indicator"].value == "dwellings_renovated" and cells["year"].value == 2025:
                cells["value"].value = 4321
                break
        else:
            raise AssertionError("no 2025 row for dwellings_renovated in the template")
        filled = tmp_path / "filled.xlsx"
        buffer = io.BytesIO()
        book.save(buffer)
        filled.write_bytes(buffer.getvalue())

        page.goto(f"{server}/imports")
        page.set_input_files("#file", str(filled))
        page.get_by_test_id("upload-form").locator("button[type=submit]").click()
        expect(page.get_by_test_id("change-table")).to_contain_text("4,321")
        page.get_by_test_id("confirm-import").click()
        expect(page.locator(".flash")).to_contain_text("Stored:")

        page.goto(f"{server}/loans/{LOAN}")
        # the overview row links to the folded details; opening them shows the value and the chart
        expect(
            page.locator("[data-testid=indicator-overview] [data-indicator=dwellings_renovated]")
        ).to_contain_text("4,321")
        section = page.get_by_test_id("progress-dwellings_renovated")
        section.locator("summary").click()
        expect(section).to_contain_text("4,321")
        expect(section.locator(".plotly-graph-div")).to_be_visible()
        expect(page.get_by_test_id("restatements")).to_contain_text("4,321")
    finally:
        context.close()
