"""The programme page (analysts): fixture (a)'s figures, a rate added through the form (CSRF, field
errors), the same data as JSON; other roles never see it."""

from __future__ import annotations

import pytest
from programme_world import PLAIN_USD, RIKSBANK_EUR, fixture_a
from shell_world import csrf, fast_hashing, signed_in
from sqlmodel import select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import AuditEvent, ExchangeRate
from lanportfolj.services import users
from lanportfolj.services.fx import load_rates

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"


@pytest.fixture
def app_and_engine(settings, monkeypatch):
    from typer.testing import CliRunner

    from lanportfolj.cli import app as cli
    from lanportfolj.web.app import create_app

    fast_hashing(monkeypatch)
    assert (
        CliRunner()
        .invoke(cli, ["--database-url", settings.database_url, "db", "upgrade"])
        .exit_code
        == 0
    )
    engine = make_engine(settings)
    with session_scope(engine) as db:
        fixture_a(db)
        assert load_rates(db, data=RIKSBANK_EUR, source="Riksbanken", actor="t").accepted
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
        users.create_user(db, email="i@investor.example", role="investor", password=PASSWORD)
    yield create_app(settings, engine=engine), engine
    engine.dispose()


def test_the_page_names_the_missing_rate_then_shows_the_programme_once_it_is_added(
    app_and_engine,
) -> None:
    app, engine = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    page = analyst.get("/programme?date=2025-12-31&lang=en")
    assert page.status_code == 200
    # the USD bond has no rate yet: the page says so instead of failing
    assert "no USD rate on or before 2025-12-31 is stored" in page.text
    refused = analyst.post(
        "/programme/rates",
        data={"currency": "usd", "rate_date": "2025-12-31", "sek_per_unit": "ten", "source": "",
              "_csrf_token": csrf(analyst)},
    )  # fmt: skip
    assert refused.status_code == 400
    assert 'id="err-sek_per_unit"' in refused.text and 'id="err-source"' in refused.text
    assert 'id="err-currency"' not in refused.text  # "usd" is read as USD
    without_token = analyst.post(
        "/programme/rates",
        data={"currency": "USD", "rate_date": "2025-12-31", "sek_per_unit": "10.25", "source": "x"},
    )
    assert without_token.status_code == 403
    added = analyst.post(
        "/programme/rates",
        data={"currency": "USD", "rate_date": "2025-12-31", "sek_per_unit": "10,25",
              "source": "Riksbanken SEKUSDPMI", "_csrf_token": csrf(analyst)},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code in (302, 303)
    shown = analyst.get(added.headers["location"] + "&lang=en")
    assert "Stored: 1 USD = 10.25 SEK on 2025-12-31." in shown.text
    assert 'data-testid="allocated">99,999,999.98<' in shown.text
    assert 'data-testid="headroom">-5,000,000.00<' in shown.text
    assert "2,857,142.85" in shown.text and "1,904,761.90" in shown.text
    assert "The bonds outstanding exceed the eligible pool." in shown.text
    with session_scope(engine) as db:
        stored = db.exec(select(ExchangeRate).where(ExchangeRate.currency == "USD")).one()
        assert str(stored.sek_per_unit) == "10.25" and stored.created_by == "a@lender.example"
        audit = db.exec(select(AuditEvent).where(AuditEvent.action == "fx.load")).all()
        assert any(e.actor == "a@lender.example" for e in audit)
    data = analyst.get("/api/programme?date=2025-12-31").json()
    assert data["allocated_sek"] == "99999999.98" and data["ratio"] == "1.05000000"
    assert analyst.get("/api/programme?date=someday").status_code == 400
    assert analyst.get("/programme?date=someday").status_code == 400


def test_investors_do_not_see_the_programme(app_and_engine) -> None:
    app, _engine = app_and_engine
    investor = signed_in(app, "i@investor.example")
    assert investor.get("/programme").status_code in (403, 404)
    assert investor.get("/api/programme").status_code in (403, 404)


def test_the_swedish_page(app_and_engine) -> None:
    app, engine = app_and_engine
    with session_scope(engine) as db:
        assert load_rates(db, data=PLAIN_USD, source="t", actor="t").accepted
    analyst = signed_in(app, "a@lender.example")
    page = analyst.get("/programme?date=2025-12-31&lang=sv")
    assert "Obligationsprogrammet" in page.text
    assert "99\u00a0999\u00a0999,98" in page.text


def test_the_analyst_start_page_warns_of_matured_loans_still_active(app_and_engine) -> None:
    from datetime import date

    from lanportfolj.models import Loan

    app, engine = app_and_engine
    with session_scope(engine) as db:
        old = db.exec(select(Loan).where(Loan.reference == "SH-2023-001")).one()
        old.maturity_date = date(2025, 3, 1)
    analyst = signed_in(app, "a@lender.example")
    start = analyst.get("/?lang=en")
    assert start.status_code == 200
    assert 'data-testid="matured-active"' in start.text
    assert "SH-2023-001</a> (2025-03-01)" in start.text
    investor = signed_in(app, "i@investor.example")
    assert 'data-testid="matured-active"' not in investor.get("/").text


def test_a_repayment_and_a_tranche_recorded_through_the_page(app_and_engine) -> None:
    app, engine = app_and_engine
    with session_scope(engine) as db:
        assert load_rates(db, data=PLAIN_USD, source="t", actor="t").accepted
    analyst = signed_in(app, "a@lender.example")
    base = {"loan": "SH-2025-004", "action": "repaid", "day": "2025-12-31", "amount": "",
            "funding": "", "note": "paid back early"}  # fmt: skip
    unknown = analyst.post(
        "/programme/loan-events",
        data={**base, "loan": "SH-1999-999", "_csrf_token": csrf(analyst)},
    )
    assert unknown.status_code == 400 and 'id="err-loan"' in unknown.text
    done = analyst.post(
        "/programme/loan-events",
        data={**base, "_csrf_token": csrf(analyst)},
        follow_redirects=False,
    )
    assert done.status_code in (302, 303), done.text[:500]
    page = analyst.get("/programme?date=2025-12-31&lang=en").text
    # 10 m left the pool: 90 m against 105 m of bonds
    assert 'data-testid="pool">90,000,000.00<' in page
    assert "SH-2025-004 (Stockholms stad): left the pool in 2025" in page
    over = analyst.post(
        "/programme/loan-events",
        data={**base, "loan": "SH-2023-001", "action": "tranche", "amount": "40000000.01",
              "_csrf_token": csrf(analyst)},
    )  # fmt: skip
    assert over.status_code == 400 and "exceed the loan amount" in over.text
