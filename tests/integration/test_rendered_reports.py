"""A published report's page is rendered once for every worker process (services.rendered_reports), and
its security policy comes with the rendering."""

from __future__ import annotations

import time

import pytest
from shell_world import csrf, fast_hashing, signed_in
from sqlmodel import Session, select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Report
from lanportfolj.services import rendered_reports, reports, users

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
    yield create_app(demo_settings, engine=engine), engine, demo_settings
    engine.dispose()


def test_a_published_page_is_rendered_once_for_every_worker(app_and_engine, monkeypatch) -> None:
    from lanportfolj.web import reports as reports_web
    from lanportfolj.web.security import allowed_script_hashes, content_security_policy

    app, engine, settings = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    form = {"date": DAY, "confirm": "yes", "_csrf_token": csrf(analyst)}
    done = analyst.post(f"/reports/{ISIN}/publish", data=form, follow_redirects=False)
    assert done.status_code == 302, done.text
    with Session(engine) as db:
        sha = db.exec(select(Report.sha256)).one()

    # publishing renders the page in both languages in the background
    folder = rendered_reports.folder(settings)
    deadline = time.monotonic() + 60
    while len(list(folder.glob(f"{sha}-*.html"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert {p.name.split("-")[1] for p in folder.glob(f"{sha}-*.html")} == {"sv", "en"}

    # another worker process: nothing in its memory, and it must not render again
    reports_web._RENDERED.clear()

    def no_rendering(*args, **kwargs):
        raise AssertionError("a published report was rendered a second time")

    monkeypatch.setattr(reports, "render", no_rendering)
    investor = signed_in(app, "i@investor.example")
    for lang in ("sv", "en"):
        page = investor.get(f"/reports/{ISIN}/{DAY}?lang={lang}")
        assert page.status_code == 200
        assert f'lang="{lang}"' in page.text
        hashes = allowed_script_hashes(page.text)
        assert hashes, "the report page has plotly charts"
        assert page.headers["content-security-policy"] == content_security_policy(
            hashes, frameable_by_self=True
        )

    # yet another worker: the policy's hashes and the gzipped page are read, not made again
    reports_web._RENDERED.clear()
    monkeypatch.setattr(reports_web, "allowed_script_hashes", no_rendering)
    monkeypatch.setattr(reports_web.gzip, "compress", no_rendering)
    again = investor.get(f"/reports/{ISIN}/{DAY}?lang=en", headers={"Accept-Encoding": "gzip"})
    assert again.status_code == 200 and again.headers["content-encoding"] == "gzip"
    assert again.text == page.text
    assert again.headers["content-security-policy"] == page.headers["content-security-policy"]


def test_concurrent_first_requests_share_one_rendering(app_and_engine, monkeypatch) -> None:
    """Two processes asking at once: the second waits for the first's file instead of rendering."""
    import threading

    _app, engine, settings = app_and_engine
    with session_scope(engine) as db:
        bond = reports.get_bond(db, ISIN)
        assert bond is not None
        when = reports.parse_report_date(DAY)
        reports.publish_report(
            session=db, bond=bond, report_date=when, fx=None, actor="test", lang="en"
        )
    calls: list[str] = []
    real = reports.render

    def counting(*args, **kwargs):
        calls.append(kwargs.get("lang", ""))
        time.sleep(0.3)  # long enough for the other request to arrive while this one renders
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "render", counting)
    results: list[bytes] = []

    def ask() -> None:
        with Session(engine) as db:
            bond = reports.get_bond(db, ISIN)
            assert bond is not None
            report = reports.published_report(db, bond, reports.parse_report_date(DAY))
            assert report is not None
            results.append(
                rendered_reports.rendered(
                    settings, report.sha256, "html", "en", lambda: reports.frozen_bytes(report)
                )
            )

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert calls == ["en"]
    assert len(results) == 3 and len(set(results)) == 1


def test_a_browser_gets_the_report_page_gzipped_and_the_same_page(app_and_engine) -> None:
    app, _, _ = app_and_engine
    analyst = signed_in(app, "a@lender.example")
    form = {"date": DAY, "confirm": "yes", "_csrf_token": csrf(analyst)}
    assert analyst.post(f"/reports/{ISIN}/publish", data=form).status_code == 200
    zipped = analyst.get(f"/reports/{ISIN}/{DAY}", headers={"Accept-Encoding": "gzip"})
    plain = analyst.get(f"/reports/{ISIN}/{DAY}", headers={"Accept-Encoding": "identity"})
    refused = analyst.get(f"/reports/{ISIN}/{DAY}", headers={"Accept-Encoding": "gzip;q=0"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert zipped.text == plain.text == refused.text  # httpx undoes the gzip
    assert all(r.headers["vary"] == "Accept-Encoding" for r in (zipped, plain, refused))
    assert zipped.headers["content-security-policy"] == plain.headers["content-security-policy"]
