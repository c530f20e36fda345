"""The loan list and the application queue: filters, totals, and CSV/XLSX files of the rows on screen
(issue 18 item 6), through the HTTP application on the demo database."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from urllib.parse import parse_qs

import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan
from lanportfolj.services import users
from lanportfolj.services.applications import OPEN_STATUSES
from lanportfolj.web.app import create_app


def _client(demo_settings, email: str) -> TestClient:
    client = TestClient(create_app(demo_settings))
    client.__enter__()
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": "demo-lanportfolj",
            "next": "/",
            "_csrf_token": client.cookies.get("csrftoken", ""),
        },
    )
    assert response.status_code in (200, 302)
    return client


@pytest.fixture
def loans(demo_settings) -> list[Loan]:
    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        users.ensure_demo_users(db)
    with Session(engine) as db:
        rows = list(db.exec(select(Loan)).all())
    engine.dispose()
    return rows


def _csv(body: bytes) -> list[list[str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the byte-order mark to read å, ä and ö"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_the_queue_opens_on_open_applications_and_all_shows_every_loan(demo_settings, loans):
    client = _client(demo_settings, "analys@demo.lanportfolj.se")
    try:
        first = client.get("/analyst/applications?lang=en")
        assert first.status_code == 200
        open_refs = sorted(loan.reference for loan in loans if loan.status in OPEN_STATUSES)
        shown = sorted(
            ref
            for ref in (loan.reference for loan in loans)
            if f'data-reference="{ref}"' in first.text
        )
        assert shown == open_refs and open_refs, "the queue opens on the open applications only"
        assert (
            f"{len(open_refs)} applications" in first.text
            or f"{len(open_refs)} application" in first.text
        )

        every = client.get("/analyst/applications?status=&lang=en")
        assert all(f'data-reference="{loan.reference}"' in every.text for loan in loans)
        assert f"{len(loans)} applications" in every.text
    finally:
        client.__exit__(None, None, None)


def test_the_queue_exports_the_filtered_rows_with_full_amounts(demo_settings, loans):
    client = _client(demo_settings, "analys@demo.lanportfolj.se")
    try:
        response = client.get("/analyst/applications.csv?status=active&lang=sv")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = _csv(response.content)
        assert rows[0][:3] == ["Referens", "Låntagare", "Titel"]
        active = {loan.reference: loan for loan in loans if loan.status == "active"}
        assert sorted(r[0] for r in rows[1:]) == sorted(active)
        amount_col = rows[0].index("Belopp (kr)")
        for row in rows[1:]:
            # the full amount with a decimal comma, never "3,8 mdkr"
            assert Decimal(row[amount_col].replace(",", ".")) == active[row[0]].amount
            assert row[rows[0].index("Status")] == "aktiv"

        workbook = client.get("/analyst/applications.xlsx?status=active&lang=en")
        assert workbook.status_code == 200
        sheet = load_workbook(io.BytesIO(workbook.content)).active
        values = list(sheet.iter_rows(values_only=True))
        assert values[0][0] == "Reference"
        body = values[1:-1]
        assert sorted(r[0] for r in body) == sorted(active)
        assert values[-1][0] == "Total"
        assert Decimal(str(values[-1][6])) == sum(loan.amount for loan in active.values())
    finally:
        client.__exit__(None, None, None)


def test_the_borrower_downloads_only_their_own_loans(demo_settings, loans):
    client = _client(demo_settings, "lantagare@demo.lanportfolj.se")
    try:
        page = client.get("/?lang=en")
        assert 'data-testid="list-exports"' in page.text
        rows = _csv(client.get("/loans.csv?lang=sv").content)
        own = {r[0] for r in rows[1:]}
        assert own and all(r[1] == "AB Botkyrkabyggen" for r in rows[1:])
        others = {loan.reference for loan in loans} - own
        assert others, "the demo has other borrowers' loans"
        assert client.get("/analyst/applications.csv").status_code in (403, 404)
    finally:
        client.__exit__(None, None, None)


def test_an_export_of_a_search_without_hits_has_only_the_header(demo_settings, loans):
    client = _client(demo_settings, "analys@demo.lanportfolj.se")
    try:
        rows = _csv(client.get("/loans.csv?q=nothing-like-this&lang=sv").content)
        assert rows == [rows[0]] and rows[0][0] == "Referens"
    finally:
        client.__exit__(None, None, None)


# --- the start page's loan list: filters and totals (issue 18 item 6) --------------------------------


def _shown(page: str, loans: list[Loan]) -> list[str]:
    """The references in the list's table (the analyst's overdue list above it links loans too)."""
    table = page.split('<table class="data" id="loans">', 1)[1].split("</table>", 1)[0]
    return sorted(loan.reference for loan in loans if f'href="/loans/{loan.reference}"' in table)


def test_the_loan_list_filters_by_status_and_category_with_totals_kept_by_exports_and_language(
    demo_settings, loans
):
    client = _client(demo_settings, "analys@demo.lanportfolj.se")
    try:
        page = client.get("/?status=active&category=health_education&lang=sv").text
        chosen = [
            ln
            for ln in loans
            if ln.status == "active" and ln.programme_category == "health_education"
        ]
        assert _shown(page, loans) == sorted(ln.reference for ln in chosen) and len(chosen) >= 2
        assert len(chosen) < len([ln for ln in loans if ln.status == "active"])
        # the totals under the table: how many, and the amounts summed as a person reads them
        total = sum(ln.amount for ln in chosen)
        assert f"{len(chosen)} lån" in page
        assert f"{int(total / 1_000_000)} mnkr" in page, total
        assert 'value="active" selected' in page and 'value="health_education" selected' in page

        # the export links carry the filters; the files hold the same rows with full amounts
        assert "/loans.csv?status=active&amp;category=health_education" in page
        rows = _csv(
            client.get("/loans.csv?status=active&category=health_education&lang=sv").content
        )
        assert sorted(r[0] for r in rows[1:]) == sorted(ln.reference for ln in chosen)
        amount_col = rows[0].index("Belopp (kr)")
        assert sum(Decimal(r[amount_col].replace(",", ".")) for r in rows[1:]) == total
        book = client.get("/loans.xlsx?status=active&category=health_education&lang=en")
        values = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
        assert sorted(r[0] for r in values[1:-1]) == sorted(ln.reference for ln in chosen)

        # the language switch keeps the filters
        switch = re.search(r'<a href="\?([^"]*)" hreflang', page)
        assert switch is not None
        kept = parse_qs(switch.group(1).replace("&amp;", "&"))
        assert kept == {"status": ["active"], "category": ["health_education"], "lang": ["en"]}
        english = client.get("/?status=active&category=health_education&lang=en").text
        assert _shown(english, loans) == _shown(page, loans)
        assert f"{len(chosen)} loans" in english
    finally:
        client.__exit__(None, None, None)


def test_the_loan_list_filters_by_borrower_discount_at_risk_and_overdue_report(
    demo_settings, loans, monkeypatch
):
    from datetime import date

    from lanportfolj.db import make_engine
    from lanportfolj.services.applications import discount_at_risk
    from lanportfolj.web import public

    day = date(2026, 11, 29)
    monkeypatch.setattr(public, "today", lambda: day)
    engine = make_engine(demo_settings)
    with Session(engine) as db:
        at_risk = discount_at_risk(db, day)
    engine.dispose()
    assert at_risk, "the demo has an active loan whose report is overdue"
    client = _client(demo_settings, "analys@demo.lanportfolj.se")
    try:
        risky = client.get("/?at_risk=1&lang=en").text
        assert _shown(risky, loans) == sorted(at_risk)
        overdue = client.get("/?report=overdue&lang=en").text
        assert _shown(overdue, loans) == sorted(at_risk)
        rows = _csv(client.get("/loans.csv?report=overdue&lang=sv").content)
        assert sorted(r[0] for r in rows[1:]) == sorted(at_risk)

        one = loans[0]
        mine = client.get(f"/?borrower={one.borrower_id}&lang=en").text
        assert _shown(mine, loans) == sorted(
            ln.reference for ln in loans if ln.borrower_id == one.borrower_id
        )
        # filters that leave nothing say so and offer the whole list (not "no loans yet")
        empty = client.get("/?status=active&report=due&lang=en").text
        assert "No loan matches these filters." in empty and "No loans yet" not in empty
        # an unknown value is ignored, never an error
        odd = client.get("/?status=bogus&category=%00&borrower=99999999999999999999&lang=en")
        assert odd.status_code == 200 and _shown(odd.text, loans) == sorted(
            ln.reference for ln in loans
        )
        # /loans is the same list, the filters kept
        moved = client.get("/loans?status=draft", follow_redirects=False)
        assert (
            moved.status_code in (301, 302, 303, 307)
            and moved.headers["location"] == "/?status=draft"
        )
    finally:
        client.__exit__(None, None, None)


def test_a_borrower_filters_only_their_own_loans(demo_settings, loans):
    client = _client(demo_settings, "lantagare@demo.lanportfolj.se")
    try:
        own = _shown(client.get("/?lang=en").text, loans)
        assert own
        other = next(ln for ln in loans if ln.reference not in own)
        # another organisation's id in the query shows nothing of theirs, and no lender's flag
        page = client.get(f"/?borrower={other.borrower_id}&at_risk=1&lang=en").text
        assert _shown(page, loans) == own
        assert 'name="borrower"' not in page and 'name="at_risk"' not in page
        assert 'name="status"' in page and 'name="report"' in page
    finally:
        client.__exit__(None, None, None)
