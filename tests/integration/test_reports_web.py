"""Bond reports on the web: investors read published reports only, analysts preview and publish."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal

import openpyxl
import pytest
from litestar.testing import TestClient
from shell_world import csrf, fast_hashing, signed_in
from sqlmodel import Session, col, select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import AuditEvent, Report
from lanportfolj.services import reports, users

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"
ISIN = "SE0021150208"
DAY = "2025-12-31"


@pytest.fixture
def app_and_engine(demo_settings, monkeypatch):
    from lanportfolj.web.app import create_app

    fast_hashing(monkeypatch)
    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
        users.create_user(db, email="i@investor.example", role="investor", password=PASSWORD)
    yield create_app(demo_settings, engine=engine), engine
    engine.dispose()


def _publish(analyst: TestClient, day: str = DAY) -> None:
    form = {"date": day, "fx_rate": "", "fx_source": "", "_csrf_token": csrf(analyst)}
    confirm = analyst.post(f"/reports/{ISIN}/publish", data=form, follow_redirects=False)
    assert confirm.status_code == 200
    assert 'name="confirm" value="yes"' in confirm.text  # nothing is published before confirming
    done = analyst.post(
        f"/reports/{ISIN}/publish", data={**form, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 302, done.text


def test_investor_sees_published_reports_only_and_never_a_draft(app_and_engine) -> None:
    app, engine = app_and_engine
    investor = signed_in(app, "i@investor.example")
    analyst = signed_in(app, "a@lender.example")

    listing = investor.get("/reports")
    assert listing.status_code == 200
    assert (
        "Ingen rapport har publicerats för den här obligationen ännu." in listing.text
    )  # sv default
    assert "/draft" not in listing.text  # no draft form for investors
    assert investor.get(f"/reports/{ISIN}/draft?date={DAY}").status_code == 404
    assert investor.get(f"/reports/{ISIN}/draft?date={DAY}&format=json").status_code == 404
    assert investor.get(f"/reports/{ISIN}/{DAY}").status_code == 404  # not published yet

    # the analyst's draft preview works, and stores nothing
    draft = analyst.get(f"/reports/{ISIN}/draft?date={DAY}")
    assert draft.status_code == 200 and "Publicera …" in draft.text
    bare = analyst.get(f"/reports/{ISIN}/draft?date={DAY}&format=html")
    assert bare.status_code == 200 and 'id="allocation"' in bare.text
    with Session(engine) as db:
        assert db.exec(select(Report)).all() == []

    _publish(analyst)
    listing = investor.get("/reports")
    assert f"/reports/{ISIN}/{DAY}/report.xlsx" in listing.text
    page = investor.get(f"/reports/{ISIN}/{DAY}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/static/plotly.min.js"></script>' in page.text
    assert "Comparison groups" in page.text or "Jämförelsegrupper" in page.text
    # publishing the same date twice is refused with a clear message, and nothing changes
    form = {"date": DAY, "confirm": "yes", "_csrf_token": csrf(analyst)}
    again = analyst.post(f"/reports/{ISIN}/publish", data=form, follow_redirects=True)
    assert "already published" in again.text or "redan publicerad" in again.text
    with Session(engine) as db:
        assert len(db.exec(select(Report)).all()) == 1
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "report.publish")).all()
        assert [e.actor for e in events] == ["a@lender.example"]
    # investors may not publish
    refused = investor.post(
        f"/reports/{ISIN}/publish",
        data={"date": "2026-06-30", "confirm": "yes", "_csrf_token": csrf(investor)},
        follow_redirects=False,
    )
    assert refused.status_code == 403


def test_downloads_open_and_the_workbook_equals_the_json(app_and_engine) -> None:
    app, engine = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    investor = signed_in(app, "i@investor.example")
    _publish(analyst)

    raw = investor.get(f"/reports/{ISIN}/{DAY}/report.json")
    assert raw.status_code == 200
    assert "attachment" in raw.headers["content-disposition"]
    with Session(engine) as db:
        stored = db.exec(select(Report)).one()
        assert raw.content == reports.frozen_bytes(stored)  # the frozen bytes themselves
    data = json.loads(raw.content)
    assert set(data) == {
        "bond",
        "report_date",
        "fx",
        "allocation",
        "impact",
        "methodology",
        "restatements",
        "publication",
        "register",
        "programme",
        "case_studies",
    }
    assert data["publication"]["status"] == "published" and data["publication"]["version"] == 1

    html = investor.get(f"/reports/{ISIN}/{DAY}/report.html")
    assert html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    assert data["bond"]["name"] in html.text

    xlsx = investor.get(f"/reports/{ISIN}/{DAY}/report.xlsx")
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    loans_sheet = next(s for s in book.worksheets if s.title in ("Loans", "Lån"))
    rows = list(loans_sheet.iter_rows(values_only=True))
    header, body = rows[0], [r for r in rows[1:] if any(v is not None for v in r)]
    assert len(body) == len(data["allocation"]["loans"]) == 7
    refs = [row[0] for row in body]
    assert refs == [loan["reference"] for loan in data["allocation"]["loans"]]
    # the outstanding amount per loan, in the bond's currency, is the same number in both files
    column = next(
        i for i, h in enumerate(header) if h and re.match(r"(Outstanding|Utestående) \(SEK\)", h)
    )
    assert [Decimal(str(row[column])) for row in body] == [
        Decimal(loan["outstanding"]) for loan in data["allocation"]["loans"]
    ]


def test_bad_inputs_answer_clearly(app_and_engine) -> None:
    app, _engine = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    assert analyst.get("/reports/SE0000000000/draft?date=2025-12-31").status_code == 404
    assert analyst.get(f"/reports/{ISIN}/not-a-date").status_code == 404
    bad = analyst.get(f"/reports/{ISIN}/draft?date=2025-02-30")
    assert bad.status_code == 400 and "Ogiltigt datum" in bad.text  # Swedish by default
    sek_with_rate = analyst.post(
        f"/reports/{ISIN}/publish",
        data={"date": DAY, "fx_rate": "11.5", "_csrf_token": csrf(analyst)},
        follow_redirects=False,
    )
    assert sek_with_rate.status_code == 400
    assert "Obligationen är i SEK" in sek_with_rate.text
    with Session(_engine) as db:
        assert db.exec(select(col(Report.id))).all() == []


def test_the_report_pages_show_amounts_as_a_person_reads_them(app_and_engine) -> None:
    """Issue 18 item 7: "3000000000.00 SEK" on the list, the draft and the publish page is "3 mdkr"."""
    app, _engine = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    if True:
        pages = [
            analyst.get("/reports?lang=sv").text,
            analyst.get(f"/reports/{ISIN}/draft?date={DAY}&lang=sv").text,
            analyst.post(
                f"/reports/{ISIN}/publish?lang=sv",
                data={"date": DAY, "fx_rate": "", "fx_source": "", "_csrf_token": csrf(analyst)},
                follow_redirects=False,
            ).text,
        ]
        for page in pages:
            text = re.sub(r"<[^>]+>", " ", page)
            assert not re.search(r"\d{5,}(\.\d+)?\s*SEK|\d\.\d+ %", text), text
        assert re.search(r"<dd>\d+(,\d)? mdkr</dd>", pages[0])
        assert re.search(r"<dt>Allokerat</dt><dd>[\d,]+ (mdkr|mnkr)</dd>", pages[1]), pages[1]
        assert re.search(r"(mdkr|mnkr)</dd>", pages[2])
