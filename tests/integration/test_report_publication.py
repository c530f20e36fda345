"""Publishing as an investor meets it: ``demo load`` publishes the 2024 report, so the 2025 draft shows
the restatement against it; a report published again for its date is a revised version, titled so and
listing what changed; a first report says it is the first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from litestar.testing import TestClient
from shell_world import csrf, fast_hashing, signed_in
from sqlmodel import Session, col, select
from typer.testing import CliRunner, Result

from lanportfolj.cli import app
from lanportfolj.config import Settings
from lanportfolj.db import make_engine, session_scope
from lanportfolj.domain.lei import lei_check_digits
from lanportfolj.models import Report
from lanportfolj.services import demo_report, reports, users

pytestmark = pytest.mark.integration

ISIN = "SE0021150208"
PASSWORD = "correct horse battery"


def _cli(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(app, ["--database-url", settings.database_url, *args])


def _text(page: bytes) -> str:
    """The page's text without tags (crude, enough to find sentences)."""
    import html as entities
    import re

    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.decode("utf-8"))))


def test_demo_load_publishes_the_2024_report_and_the_2025_draft_restates_it(
    settings: Settings,
) -> None:
    first = _cli(settings, "demo", "load")
    assert first.exit_code == 0, first.output
    assert "Published the demo report SE0021150208 2024-12-31" in first.output
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            published = reports.published_report(db, bond, demo_report.REPORT_DATE)
            assert published is not None and published.version == 1
            assert published.published_at is not None
            assert published.published_at.replace(tzinfo=UTC) == datetime(
                2025, 5, 15, 10, tzinfo=UTC
            )
            frozen = json.loads(reports.frozen_bytes(published))
            # frozen as it stood in May 2025: Botkyrkabyggen's first count of renovated dwellings
            dwellings = [
                row
                for row in frozen["impact"]["per_loan"]
                if (row["loan"], row["indicator"]) == ("SH-2023-001", "dwellings_renovated")
            ]
            assert [row["latest_value"] for row in dwellings] == ["412.0000"]
            assert frozen["publication"]["status"] == "published"
            assert frozen["publication"]["previous"] is None
            page = _text(reports.render(frozen, fmt="html", lang="en"))
            assert "This is the bond's first report" in page
            assert "Values changed since the report published" not in page

            draft = reports.draft_report(session=db, bond=bond, report_date=date(2025, 12, 31))
            assert [(r["loan"], r["indicator"], r["year"], r["old"], r["new"])
                    for r in draft["restatements"]] == [
                ("SH-2023-001", "dwellings_renovated", 2024, "412", "431")
            ]  # fmt: skip
            assert draft["publication"]["previous"]["report_date"] == "2024-12-31"
            draft_page = _text(reports.render(draft, fmt="html", lang="sv"))
            assert "Utkast – inte publicerad" in draft_page
            assert "Värden som ändrats sedan rapporten publicerad 2025-05-15" in draft_page
    finally:
        engine.dispose()

    # a second run changes nothing and publishes nothing more
    second = _cli(settings, "demo", "load")
    assert second.exit_code == 0, second.output
    assert "Published the demo report" not in second.output
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            assert len(db.exec(select(Report)).all()) == 1
    finally:
        engine.dispose()


def test_a_report_published_again_is_revised_and_lists_what_changed(settings: Settings) -> None:
    assert _cli(settings, "demo", "load").exit_code == 0
    refused = _cli(settings, "report", "publish", ISIN, "--date", "2024-12-31", "--yes")
    assert refused.exit_code == 1
    assert "already published" in refused.output and "--revise" in refused.output
    again = _cli(settings, "report", "publish", ISIN, "--date", "2024-12-31", "--yes", "--revise")
    assert again.exit_code == 0, again.output
    assert "version 2" in again.output
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            rows = db.exec(select(Report).order_by(col(Report.version))).all()
            assert [(r.version, r.status) for r in rows] == [
                (1, "superseded"),
                (2, "published"),
            ]
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            current = reports.published_report(db, bond, date(2024, 12, 31))
            assert current is not None and current.version == 2
            data = json.loads(reports.frozen_bytes(current))
    finally:
        engine.dispose()
    publication = data["publication"]
    assert publication["status"] == "revised" and publication["revises"]["version"] == 1
    # the restated count of renovated dwellings came in after version 1
    assert {
        "what_en": "SH-2023-001: Dwellings renovated (2024)",
        "what_sv": "SH-2023-001: Renoverade lägenheter (2024)",
        "old_en": "412",
        "old_sv": "412",
        "new_en": "431",
        "new_sv": "431",
    } in publication["changes"]
    english = _text(reports.render(data, fmt="html", lang="en"))
    swedish = _text(reports.render(data, fmt="html", lang="sv"))
    assert "Revised: Allocation and impact report 2024-12-31" in english
    assert "Reviderad: Allokerings- och effektrapport 2024-12-31" in swedish
    assert "This report replaces version 1 of the report for the same date" in english
    assert "first report" not in english


def test_republishing_on_the_web_asks_first_then_investors_read_the_revised_version(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lanportfolj.web.app import create_app

    fast_hashing(monkeypatch)
    engine = make_engine(demo_settings)
    try:
        with session_scope(engine) as db:
            users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
            users.create_user(db, email="i@investor.example", role="investor", password=PASSWORD)
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            reports.publish_report(
                session=db, bond=bond, report_date=date(2025, 12, 31), fx=None, actor="t"
            )
        web = create_app(demo_settings, engine=engine)
        analyst: TestClient = signed_in(web, "a@lender.example")
        investor: TestClient = signed_in(web, "i@investor.example")
        first = investor.get(f"/reports/{ISIN}/2025-12-31?lang=en")
        assert first.status_code == 200
        assert "Published" in first.text and "Revised" not in first.text
        # the page has the site's way back and its downloads
        assert 'href="/reports"' in first.text
        assert f'href="/reports/{ISIN}/2025-12-31/report.xlsx"' in first.text

        draft = analyst.get(f"/reports/{ISIN}/draft?date=2025-12-31")
        assert 'name="revise" value="yes"' in draft.text
        form = {"date": "2025-12-31", "fx_rate": "", "fx_source": "", "_csrf_token": csrf(analyst)}
        # without revise=yes a published date is refused, and nothing changes
        refused = analyst.post(f"/reports/{ISIN}/publish", data=form, follow_redirects=True)
        assert "already published" in refused.text or "redan publicerad" in refused.text
        asked = analyst.post(
            f"/reports/{ISIN}/publish", data={**form, "revise": "yes"}, follow_redirects=False
        )
        assert asked.status_code == 200
        assert (
            'name="confirm" value="yes"' in asked.text and 'name="revise" value="yes"' in asked.text
        )
        with Session(engine) as db:
            assert len(db.exec(select(Report)).all()) == 1  # asking publishes nothing
        done = analyst.post(
            f"/reports/{ISIN}/publish",
            data={**form, "revise": "yes", "confirm": "yes"},
            follow_redirects=False,
        )
        assert done.status_code == 302, done.text
        revised = investor.get(f"/reports/{ISIN}/2025-12-31?lang=en")
        assert revised.status_code == 200
        assert "Revised: Allocation and impact report 2025-12-31" in _text(revised.content)
        listing = investor.get("/reports")
        assert listing.text.count(f"/reports/{ISIN}/2025-12-31/report.json") == 1
    finally:
        engine.dispose()


def test_the_report_header_recorded_on_the_bond_is_on_the_next_report(settings: Settings) -> None:
    assert _cli(settings, "demo", "load").exit_code == 0
    bad = _cli(settings, "bonds", "header", ISIN, "--lei", "549300ABCDEFGHIJKL99")
    assert bad.exit_code == 1 and "issuer_lei" in bad.output and "check digits" in bad.output
    lei = "5493001KJTIIGC8Y1R" + lei_check_digits("5493001KJTIIGC8Y1R")
    done = _cli(
        settings,
        "bonds",
        "header",
        ISIN,
        "--issuer-name",
        "Emittenten AB",
        "--lei",
        lei,
        "--reviewer",
        "Granskaren AB",
        "--review-scope",
        "Second-party opinion on the framework",
    )
    assert done.exit_code == 0, done.output
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            draft = reports.draft_report(session=db, bond=bond, report_date=date(2025, 12, 31))
            # the report published before keeps the header it was frozen with (the demo's)
            published = reports.published_report(db, bond, demo_report.REPORT_DATE)
            assert published is not None
            frozen = json.loads(reports.frozen_bytes(published))
    finally:
        engine.dispose()
    assert draft["publication"]["header"]["issuer_lei"] == lei
    assert (
        frozen["publication"]["header"]["issuer_name"] == "Kommuninvest i Sverige AB (illustrativt)"
    )
    page = _text(reports.render(draft, fmt="html", lang="en"))
    for text in (
        "Issuer Emittenten AB",
        f"LEI {lei}",
        "External reviewer Granskaren AB",
        "Scope of the review Second-party opinion on the framework",
        "Reporting period 2025-01-01 – 2025-12-31",
    ):
        assert text in page
