"""The loan list and the application queue: filters, totals, and CSV/XLSX files of the rows on screen
(issue 18 item 6), through the HTTP application on the demo database."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

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
