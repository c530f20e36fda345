"""The analyst's overview ``/`` flags loans whose yearly report is overdue ("discount at risk"); the flag is
the lender's follow-up and never shown to borrowers or investors."""

from __future__ import annotations

import re
from datetime import date

import pytest
from litestar.testing import TestClient
from shell_world import fast_hashing, sign_in
from sqlmodel import select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan
from lanportfolj.services import users
from lanportfolj.web import public

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
OVERDUE = "SH-2024-004"  # Norrköping: its 2025 report never came (data/demo/README.md)
OWN = "SH-2023-001"  # Botkyrkabyggen, the demo borrower's organisation
FLAG = re.compile(r'data-at-risk="([^"]+)"')


@pytest.fixture
def app(demo_settings, monkeypatch):
    from lanportfolj.web.app import create_app

    fast_hashing(monkeypatch)
    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        own = db.exec(select(Loan.borrower_id).where(Loan.reference == OWN)).one()
        late = db.exec(select(Loan.borrower_id).where(Loan.reference == OVERDUE)).one()
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
        users.create_user(db, email="adm@lender.example", role="admin", password=PASSWORD)
        users.create_user(
            db, email="b@own.example", role="borrower", password=PASSWORD, borrower_id=own
        )
        users.create_user(
            db, email="b@late.example", role="borrower", password=PASSWORD, borrower_id=late
        )
        users.create_user(db, email="i@investor.example", role="investor", password=PASSWORD)
    yield create_app(demo_settings, engine=engine)
    engine.dispose()


def _overview(app, email: str, monkeypatch, today: date = date(2026, 11, 29)) -> str:
    monkeypatch.setattr(public, "today", lambda: today)
    with TestClient(app) as client:
        assert sign_in(client, email, PASSWORD).status_code == 302
        response = client.get("/?lang=en")
        assert response.status_code == 200
        return response.text


@pytest.mark.parametrize("email", ["a@lender.example", "adm@lender.example"])
def test_staff_see_the_overdue_loan_flagged(app, monkeypatch, email: str) -> None:
    html = _overview(app, email, monkeypatch)
    assert FLAG.findall(html) == [OVERDUE]
    row = re.search(rf'<tr>\s*<td><a href="/loans/{OVERDUE}">.*?</tr>', html, re.S)
    assert row is not None and "discount at risk" in row.group(0)
    assert "1 active loan has its discount at risk: the yearly report is overdue." in html


def test_no_flag_before_the_deadline(app, monkeypatch) -> None:
    html = _overview(app, "a@lender.example", monkeypatch, today=date(2026, 4, 30))
    assert FLAG.findall(html) == []
    # no badge and no summary (the list's "only discount at risk" filter is offered all the same)
    assert 'class="badge at-risk"' not in html and "at-risk-summary" not in html


def test_the_flag_is_in_swedish_for_a_swedish_analyst(app, monkeypatch) -> None:
    monkeypatch.setattr(public, "today", lambda: date(2026, 11, 29))
    with TestClient(app) as client:
        assert sign_in(client, "a@lender.example", PASSWORD).status_code == 302
        html = client.get("/?lang=sv").text
    assert "rabatten i fara" in html
    assert "discount at risk" not in html


@pytest.mark.parametrize("email", ["b@own.example", "b@late.example", "i@investor.example"])
def test_borrowers_and_investors_never_see_the_flag(app, monkeypatch, email: str) -> None:
    html = _overview(app, email, monkeypatch)
    assert FLAG.findall(html) == []
    assert "discount at risk" not in html
    assert "at-risk-summary" not in html
    if email == "b@own.example":
        # another organisation's overdue loan is not even listed
        assert OWN in html and OVERDUE not in html
    if email == "b@late.example":
        # the lender's flag stays the lender's, even on the borrower's own late loan
        assert OVERDUE in html
