"""The loan page keeps its rendered main part between requests (web.page_cache): it must never show stale
data after a write, whoever and wherever the write came from, nor one viewer's page to another."""

from __future__ import annotations

import re

import pytest
from shell_world import PASSWORD, csrf, signed_in
from sqlmodel import select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan
from lanportfolj.services import users

OWN = "SH-2023-001"  # the borrower user's organisation
OTHER = "SH-2023-002"  # another organisation's loan


@pytest.fixture
def app_and_engine(demo_settings):
    from lanportfolj.web.app import create_app

    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        own = db.exec(select(Loan.borrower_id).where(Loan.reference == OWN)).one()
        users.create_user(
            db, email="b@own.example", role="borrower", password=PASSWORD, borrower_id=own
        )
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
        users.create_user(db, email="a2@lender.example", role="analyst", password=PASSWORD)
        users.create_user(db, email="i@investor.example", role="investor", password=PASSWORD)
    yield create_app(demo_settings, engine=engine), engine, demo_settings
    engine.dispose()


def test_an_import_shows_on_the_next_request(app_and_engine) -> None:
    app, _, _ = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    before = analyst.get(f"/loans/{OWN}?lang=en")
    assert before.status_code == 200 and "4 321" not in before.text and "4,321" not in before.text
    assert analyst.get(f"/loans/{OWN}?lang=en").text.count("4,321") == 0  # kept, still the same

    csv = b"loan,indicator,year,value\nSH-2023-001,dwellings_renovated,2025,4321\n"
    stored = analyst.post(
        "/api/imports", files={"file": ("v.csv", csv)}, headers={"x-csrftoken": csrf(analyst)}
    )
    assert stored.status_code == 200, stored.text

    after = analyst.get(f"/loans/{OWN}?lang=en")
    assert after.status_code == 200 and "4,321" in after.text


def test_a_write_from_another_process_shows_on_the_next_request(app_and_engine) -> None:
    """Another worker, the CLI or a migration writes through a connection of its own."""
    app, _, settings = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    assert "Renamed by the CLI" not in analyst.get(f"/loans/{OWN}?lang=en").text

    elsewhere = make_engine(settings)
    try:
        with session_scope(elsewhere) as db:
            loan = db.exec(select(Loan).where(Loan.reference == OWN)).one()
            loan.title = "Renamed by the CLI"
    finally:
        elsewhere.dispose()

    assert "Renamed by the CLI" in analyst.get(f"/loans/{OWN}?lang=en").text


def test_a_kept_page_is_never_shown_to_whoever_may_not_see_it(app_and_engine) -> None:
    app, _, _ = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    full = analyst.get(f"/loans/{OTHER}?lang=en")
    assert full.status_code == 200 and 'data-testid="progress"' in full.text

    borrower = signed_in(app, "b@own.example")
    assert borrower.get(f"/loans/{OTHER}?lang=en").status_code == 404
    assert borrower.get(f"/loans/{OWN}?lang=en").status_code == 200

    investor = signed_in(app, "i@investor.example")
    public = investor.get(f"/loans/{OTHER}?lang=en")
    if public.status_code == 200:  # in a bond's pool: the published fields only
        assert 'data-testid="progress"' not in public.text
        assert "kolada-fetch" not in public.text
    else:
        assert public.status_code == 404


def test_each_viewer_gets_their_own_csrf_token_and_name(app_and_engine) -> None:
    app, _, _ = app_and_engine
    first = signed_in(app, "a@lender.example")
    second = signed_in(app, "a2@lender.example")
    pages = {c: c.get(f"/loans/{OWN}?lang=en").text for c in (first, second)}
    for client, page in pages.items():
        tokens = set(re.findall(r'name="_csrf_token" value="([^"]+)"', page))
        assert tokens == {csrf(client)}
    assert "a@lender.example" in pages[first] and "a@lender.example" not in pages[second]
    assert "a2@lender.example" in pages[second]


def test_the_page_policy_allows_exactly_its_charts(app_and_engine) -> None:
    """The policy comes with the kept part instead of a scan per request: it must be the same policy."""
    from lanportfolj.web.security import allowed_script_hashes, content_security_policy

    app, _, _ = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    analyst.get(f"/loans/{OWN}")
    page = analyst.get(f"/loans/{OWN}")
    hashes = allowed_script_hashes(page.text)
    assert hashes, "the loan page has plotly charts"
    assert page.headers["content-security-policy"] == content_security_policy(hashes)


def test_reading_pages_reuse_the_kept_part(app_and_engine, monkeypatch) -> None:
    """Requests that only read (whichever pooled connection they get) render the main part once."""
    from lanportfolj.web import public

    app, _, _ = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    made: list[str] = []
    real = public._loan_context

    def counting(db, reference, lang, fetch):
        made.append(reference)
        return real(db, reference, lang, fetch)

    monkeypatch.setattr(public, "_loan_context", counting)
    pages = [analyst.get(f"/loans/{OWN}?lang=en") for _ in range(5)]
    assert all(p.status_code == 200 for p in pages)
    assert len({p.text for p in pages[1:]}) == 1  # the first one also shows the sign-in message
    assert made == [OWN]
