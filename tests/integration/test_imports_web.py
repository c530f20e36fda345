"""Reporting on the web and in the API: templates, upload → preview → confirm, submissions, 200/422."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from litestar.testing import TestClient
from shell_world import csrf, signed_in
from sqlmodel import Session, col, func, select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan, Measurement, Submission
from lanportfolj.reporting.charts import div_id
from lanportfolj.services import users

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
PASSWORD = "correct horse battery"
OWN = "SH-2023-001"  # Botkyrkabyggen
OTHER = "SH-2023-002"  # Vara kommun


@pytest.fixture
def app_and_emails(demo_settings):
    from lanportfolj.web.app import create_app

    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        own = db.exec(select(Loan.borrower_id).where(Loan.reference == OWN)).one()
        users.create_user(
            db, email="b@own.example", role="borrower", password=PASSWORD, borrower_id=own
        )
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
        users.create_user(db, email="i@investor.example", role="investor", password=PASSWORD)
    yield create_app(demo_settings, engine=engine), engine
    engine.dispose()


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as db:
        return (
            db.exec(select(func.count()).select_from(Measurement)).one(),
            db.exec(select(func.count()).select_from(Submission)).one(),
        )


def _upload(client: TestClient, name: str, data: bytes):
    return client.post(
        "/imports",
        files={"file": (name, data, "application/octet-stream")},
        data={"_csrf_token": csrf(client)},
    )


def _filled_template(client: TestClient, year: int, value: int) -> bytes:
    """Download the XLSX template and fill in one value, as a borrower would in Excel."""
    response = client.get(f"/loans/{OWN}/template.xlsx?lang=en")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["Data"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        values = {h: c for h, c in zip(header, row, strict=False)}
        if values["indicator"].value == "dwellings_renovated" and values["year"].value == year:
            values["value"].value = value
            break
    else:
        raise AssertionError("the template has no row for dwellings_renovated")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_upload_preview_confirm_stores_once_and_shows_on_the_loan_page(app_and_emails) -> None:
    app, engine = app_and_emails
    client = signed_in(app, "b@own.example")
    before = _counts(engine)
    data = _filled_template(client, 2025, 999)

    preview = _upload(client, "filled.xlsx", data)
    assert preview.status_code == 200, preview.text
    assert "change-table" in preview.text and "999" in preview.text
    assert _counts(engine) == before, "the preview must not write"

    digest = re.search(r'name="sha256" value="([0-9a-f]{64})"', preview.text)
    key = re.search(r'name="upload" value="([A-Za-z0-9_-]{43})"', preview.text)
    assert digest is not None and key is not None
    stored = client.post(
        "/imports/confirm",
        data={
            "sha256": digest.group(1),
            "upload": key.group(1),
            "filename": "filled.xlsx",
            "_csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    assert stored.status_code in (302, 303)
    detail_url = stored.headers["location"]
    assert re.fullmatch(r"/imports/\d+", detail_url)
    with Session(engine) as db:
        current = db.exec(
            select(Measurement.value).where(
                Measurement.is_current, col(Measurement.year) == 2025, Measurement.value == 999
            )
        ).all()
    assert current == [Decimal("999")]

    detail = client.get(detail_url)
    assert detail.status_code == 200 and "filled.xlsx" in detail.text
    original = client.get(detail_url + "/file")
    assert original.content == data

    page = client.get(f"/loans/{OWN}?lang=en")
    assert page.status_code == 200
    assert 'data-testid="progress"' in page.text and "999" in page.text
    assert div_id("progress", "SH-2023-001", "dwellings_renovated") in page.text  # the chart's div
    assert "Restatements" in page.text

    # the same bytes again: said so, nothing stored twice
    again = _upload(client, "filled.xlsx", data)
    assert "import-duplicate" in again.text
    assert _counts(engine)[1] == before[1] + 1


def test_rejected_upload_lists_every_problem_in_swedish(app_and_emails) -> None:
    app, engine = app_and_emails
    client = signed_in(app, "b@own.example")
    before = _counts(engine)
    bad = (
        "lån;indikator;år;värde\n"
        f"{OWN};dwellings_renovated;2024;många\n"
        f"{OTHER};home_visits_new_parents;2024;12\n"
    ).encode()
    response = client.post(
        "/imports?lang=sv",
        files={"file": ("fel.csv", bad, "text/csv")},
        data={"_csrf_token": csrf(client)},
    )
    assert response.status_code == 422
    assert "error-table" in response.text
    assert "många" in response.text
    assert OTHER in response.text  # another organisation's loan is reported as unknown
    assert "Filen" in response.text or "värde" in response.text
    assert _counts(engine) == before


def test_confirm_with_an_unknown_digest_stores_nothing(app_and_emails) -> None:
    app, engine = app_and_emails
    client = signed_in(app, "b@own.example")
    before = _counts(engine)
    response = client.post(
        "/imports/confirm",
        data={"sha256": "0" * 64, "filename": "x.csv", "_csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    assert _counts(engine) == before


def test_templates_download_and_open(app_and_emails) -> None:
    app, _ = app_and_emails
    client = signed_in(app, "b@own.example")
    xlsx = client.get(f"/loans/{OWN}/template.xlsx")
    assert xlsx.status_code == 200
    assert "attachment" in xlsx.headers["content-disposition"]
    import fastexcel

    reader = fastexcel.read_excel(xlsx.content)
    assert "Data" in reader.sheet_names
    frame = reader.load_sheet_by_name("Data").to_polars()
    assert set(frame["lån"].drop_nulls().unique().to_list()) == {OWN}
    csv = client.get(f"/loans/{OWN}/template.csv?lang=en")
    assert csv.status_code == 200
    assert csv.content.startswith(b"\xef\xbb\xbfloan,indicator,year,value")
    assert client.get(f"/loans/{OTHER}/template.xlsx").status_code == 404


def test_api_import_200_and_422(app_and_emails) -> None:
    app, engine = app_and_emails
    client = signed_in(app, "a@lender.example")
    headers = {"x-csrftoken": csrf(client)}
    good = (FIXTURES / "good_libreoffice_template.xlsx").read_bytes()
    before = _counts(engine)
    dry = client.post(
        "/api/imports",
        files={"file": ("t.xlsx", good)},
        data={"dry_run": "true"},
        headers=headers,
    )
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["accepted"] is True and body["dry_run"] is True
    assert (body["inserted"], body["restated"]) == (1, 2)
    assert _counts(engine) == before
    stored = client.post("/api/imports", files={"file": ("t.xlsx", good)}, headers=headers)
    assert stored.status_code == 200 and stored.json()["submission_id"] is not None
    assert _counts(engine)[1] == before[1] + 1

    bad = (FIXTURES / "bad_not-a-number.csv").read_bytes()
    rejected = client.post("/api/imports", files={"file": ("bad.csv", bad)}, headers=headers)
    assert rejected.status_code == 422
    errors = rejected.json()["errors"]
    assert errors and {"row", "column", "code", "message"} <= set(errors[0])
    assert any(e["code"] == "not-a-number" for e in errors)


def test_api_import_refuses_an_oversized_body(app_and_emails) -> None:
    from lanportfolj.web.imports import UPLOAD_BODY_LIMIT

    app, engine = app_and_emails
    client = signed_in(app, "a@lender.example")
    before = _counts(engine)
    huge = b"loan,indicator,year,value\n" + b"x" * (UPLOAD_BODY_LIMIT + 1)
    response = client.post(
        "/api/imports", files={"file": ("huge.csv", huge)}, headers={"x-csrftoken": csrf(client)}
    )
    assert response.status_code == 413
    assert _counts(engine) == before


def test_investor_may_not_upload_and_borrowers_see_only_their_submissions(app_and_emails) -> None:
    app, _ = app_and_emails
    analyst = signed_in(app, "a@lender.example")
    good = (FIXTURES / "good_libreoffice_template.xlsx").read_bytes()
    stored = analyst.post(
        "/api/imports", files={"file": ("t.xlsx", good)}, headers={"x-csrftoken": csrf(analyst)}
    )
    submission_id = stored.json()["submission_id"]
    assert analyst.get(f"/imports/{submission_id}/file").content == good
    borrower = signed_in(app, "b@own.example")
    # the analyst's upload belongs to no borrower's account: the borrower does not get it
    assert borrower.get(f"/imports/{submission_id}").status_code == 404
    investor = signed_in(app, "i@investor.example")
    assert investor.get("/imports").status_code == 403
