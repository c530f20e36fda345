"""Case studies (issue 16 item 6): written on the loan's page by its borrower or an analyst, pending
until an analyst approves, and only then in the bond report's JSON, HTML and XLSX."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from litestar.testing import TestClient
from shell_world import World, build_world, csrf, fast_hashing, signed_in
from sqlmodel import Session, col, select

from lanportfolj.models import AuditEvent, CaseStudy
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration

ISIN = "SE0000000002"
DAY = "2025-12-31"
TITLE = "Hembesök <b id=pwn>i Vara</b>"
TEXT_SV = "Fler familjer fick hembesök.\n\nVäntetiden föll från sex veckor till två."
TEXT_EN = "More families got home visits.\n\nThe wait fell from six weeks to two."


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


@pytest.fixture
def app(settings, engine, world):
    return create_app(settings, engine=engine)


def _write(client: TestClient, loan: str, **over: str):
    form = {"title": TITLE, "year": "2025", "text_sv": TEXT_SV, "text_en": TEXT_EN, **over}
    return client.post(
        f"/loans/{loan}/case-studies",
        data={**form, "_csrf_token": csrf(client)},
        follow_redirects=False,
    )


def _approve(client: TestClient, loan: str, study_id: int):
    return client.post(
        f"/loans/{loan}/case-studies/{study_id}/approve",
        data={"_csrf_token": csrf(client)},
        follow_redirects=False,
    )


def _report(client: TestClient) -> dict:
    response = client.get(f"/reports/{ISIN}/draft?date={DAY}&format=json")
    assert response.status_code == 200, response.text[:300]
    return json.loads(response.content)


def _studies(engine) -> list[CaseStudy]:
    with Session(engine) as db:
        return list(db.exec(select(CaseStudy).order_by(col(CaseStudy.id))).all())


def test_a_case_study_appears_in_the_report_only_after_an_analyst_approves_it(
    app, engine, world: World
) -> None:
    borrower = signed_in(app, world.emails["borrower"])
    analyst = signed_in(app, world.emails["analyst"])
    written = _write(borrower, world.own_loan)
    assert written.status_code in (302, 303), written.text[:300]
    page = borrower.get(written.headers["location"])
    assert "Väntar på godkännande" in page.text
    # the text is shown as text, never as markup
    assert "<b id=pwn>" not in page.text and "&lt;b id=pwn&gt;" in page.text
    (study,) = _studies(engine)
    assert study.status == "pending" and study.written_by == world.emails["borrower"]

    # pending: in no report
    assert _report(analyst)["case_studies"] == []
    html = analyst.get(f"/reports/{ISIN}/draft?date={DAY}&format=html").text
    assert 'id="case-studies"' not in html and "i Vara" not in html

    # the borrower may not approve their own text; nothing changes
    assert _approve(borrower, world.own_loan, study.id).status_code == 403
    assert _studies(engine)[0].status == "pending"
    assert "approve-" not in borrower.get(f"/loans/{world.own_loan}/case-studies").text

    # an analyst approves: now in the JSON, the HTML (escaped, in the page's language) and XLSX
    assert _approve(analyst, world.own_loan, study.id).status_code in (302, 303)
    data = _report(analyst)
    assert data["case_studies"] == [
        {
            "loan": world.own_loan,
            "year": 2025,
            "title": TITLE,
            "text_sv": TEXT_SV,
            "text_en": TEXT_EN,
            "approved_on": data["case_studies"][0]["approved_on"],
        }
    ]
    assert data["case_studies"][0]["approved_on"] is not None
    from report_schema_check import load_schema, validate

    schema = load_schema()
    assert validate(data, schema, schema, "$") == []
    html = analyst.get(f"/reports/{ISIN}/draft?date={DAY}&format=html").text
    assert 'id="case-studies"' in html and "Fallstudier" in html
    assert "<p>Väntetiden föll från sex veckor till två.</p>" in html
    assert "<b id=pwn>" not in html and "&lt;b id=pwn&gt;" in html
    analyst.cookies.set("lang", "en")  # the draft follows the interface's language
    english = analyst.get(f"/reports/{ISIN}/draft?date={DAY}&format=html").text
    assert "More families got home visits." in english and "Fler familjer" not in english
    book = openpyxl.load_workbook(
        io.BytesIO(analyst.get(f"/reports/{ISIN}/draft?date={DAY}&format=xlsx").content)
    )
    assert "Case studies" in book.sheetnames
    sheet = book["Case studies"]
    assert [c.value for c in sheet[2]][:5] == [world.own_loan, 2025, TITLE, TEXT_SV, TEXT_EN]

    # both steps are in the audit trail, by whom
    with Session(engine) as db:
        events = db.exec(
            select(AuditEvent.action, AuditEvent.actor)
            .where(col(AuditEvent.entity) == "case_study")
            .order_by(col(AuditEvent.id))
        ).all()
    assert list(events) == [
        ("case_study.written", world.emails["borrower"]),
        ("case_study.approved", world.emails["analyst"]),
    ]
    page = borrower.get(f"/loans/{world.own_loan}/case-studies").text
    assert "Godkänd av analyst@test.example" in page


def test_another_organisations_loan_is_not_found_and_investors_may_not_write(
    app, engine, world: World
) -> None:
    borrower = signed_in(app, world.emails["borrower"])
    assert borrower.get(f"/loans/{world.other_loan}/case-studies").status_code == 404
    assert _write(borrower, world.other_loan).status_code == 404
    investor = signed_in(app, world.emails["investor"])
    assert investor.get(f"/loans/{world.own_loan}/case-studies").status_code == 403
    assert _write(investor, world.own_loan).status_code == 403
    assert _studies(engine) == []
    # an analyst writes on any loan; a case study of another loan cannot be approved through this one
    analyst = signed_in(app, world.emails["analyst"])
    assert _write(analyst, world.other_loan).status_code in (302, 303)
    (study,) = _studies(engine)
    assert _approve(analyst, world.own_loan, study.id).status_code == 404
    assert _studies(engine)[0].status == "pending"


def test_the_form_names_each_problem_and_stores_nothing(app, engine, world: World) -> None:
    borrower = signed_in(app, world.emails["borrower"])
    refused = _write(borrower, world.own_loan, title="", year="20x5", text_en="   ")
    assert refused.status_code == 400
    for field, message in (
        ("title", "Skriv en rubrik."),
        ("year", "Skriv året med fyra siffror"),
        ("text_en", "Skriv texten på båda språken."),
    ):
        assert f'id="err-{field}">{message}' in refused.text
    assert TEXT_SV.split("\n")[0] in refused.text  # what was typed is kept
    too_long = _write(borrower, world.own_loan, text_sv="x" * 20_001)
    assert too_long.status_code == 400 and 'id="err-text_sv"' in too_long.text
    assert _studies(engine) == []


def test_a_later_year_is_left_out_of_an_earlier_report(app, engine, world: World) -> None:
    analyst = signed_in(app, world.emails["analyst"])
    for year in ("2024", "2026"):
        assert _write(analyst, world.own_loan, year=year, title=f"År {year}").status_code == 302
    for study in _studies(engine):
        assert _approve(analyst, world.own_loan, study.id).status_code == 302
    assert [(s["year"], s["title"]) for s in _report(analyst)["case_studies"]] == [
        (2024, "År 2024")
    ]
