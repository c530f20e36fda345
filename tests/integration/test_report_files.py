"""The demo report's files (issue 16 items 4, 8, 9): the PDF printed by Chromium, the workbook's cover
and print setup, the project register as CSV, and their downloads on the web."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from litestar.testing import TestClient
from shell_world import fast_hashing, signed_in
from sqlmodel import Session, select
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import ReportFile
from lanportfolj.services import reports, users

pytestmark = pytest.mark.integration

ISIN = "SE0021150208"
DAY = "2025-12-31"
PASSWORD = "correct horse battery"
#: the issue's bound on the demo PDF
MAX_PAGES = 25

needs_chromium = pytest.mark.skipif(
    not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed"
)


def _run(settings, *args: str):
    return CliRunner().invoke(
        app,
        ["--database-url", settings.database_url, *args],
        env={"LANPORTFOLJ_RENDERED_DIR": settings.rendered_dir},
    )


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))  # type: ignore[union-attr]


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@needs_chromium
def test_cli_writes_a_bounded_pdf_holding_the_headline_figures(demo_settings, tmp_path) -> None:
    result = _run(
        demo_settings,
        "report", ISIN, "--date", DAY, "--format", "pdf,register-csv,json",
        "--lang", "sv", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    paths = [Path(line) for line in result.stdout.splitlines() if line.strip()]
    assert [p.name for p in paths] == [
        f"{ISIN}-{DAY}.pdf",
        f"{ISIN}-{DAY}.register.csv",
        f"{ISIN}-{DAY}.json",
    ]
    pdf = paths[0]
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert 5 <= _pages(pdf) <= MAX_PAGES
    text = _text(pdf)
    data = __import__("json").loads(paths[2].read_bytes())
    assert data["bond"]["name"] in text and ISIN in text
    # the allocated amount (3 000 000 000 SEK) in one of the page's roundings
    assert re.search(r"3 000 000 000|3,0 mdkr|3 000 mnkr|3 000,0 mnkr", text.replace("\u00a0", " "))
    # every project of the register is in it, and the pages are numbered "n / N"
    for entry in data["register"]:
        assert entry["reference"] in text, entry["reference"]
    assert re.search(rf"\b1\s*/\s*{_pages(pdf)}\b", text)
    # the register CSV has every project, named categories
    csv_text = paths[1].read_bytes().decode("utf-8-sig")
    for entry in data["register"]:
        assert entry["reference"] in csv_text
    assert "Boende och boendemiljöer" in csv_text or "Hälsa, utbildning" in csv_text


def test_cli_names_the_missing_chromium(demo_settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LANPORTFOLJ_CHROMIUM", str(tmp_path / "no-chromium"))
    result = _run(
        demo_settings, "report", ISIN, "--date", DAY, "--format", "pdf", "--out", str(tmp_path)
    )
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "headless Chromium is not available" in said
    assert "no-chromium does not exist" in said
    assert not list(tmp_path.glob("*.pdf"))


def test_workbook_has_a_cover_and_print_setup_on_every_sheet(demo_settings, tmp_path) -> None:
    result = _run(
        demo_settings, "report", ISIN, "--date", DAY, "--format", "xlsx", "--lang", "en",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / f"{ISIN}-{DAY}.xlsx")
    cover = book.worksheets[0]
    assert cover.title == "Cover"
    texts = [c.value for row in cover.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Allocation and impact report" in texts
    assert "Draft – not published" in texts  # a draft says so
    assert any(t.startswith("Illustrative data: the figures") for t in texts)  # the demo is made up
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert setup.orientation == (
            "portrait" if sheet.title in ("Cover", "Methodology") else "landscape"
        ), sheet.title
        assert setup.paperSize == 9 and setup.fitToHeight == 0, sheet.title
        # one page wide (fitToWidth 1 is the default, so xlsxwriter leaves it out), any number tall
        assert (setup.fitToWidth or 1) == 1, sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert "&P" in (sheet.oddFooter.right.text or ""), sheet.title
        if sheet.title not in ("Cover", "Methodology"):
            assert sheet.print_title_rows == "$1:$1", sheet.title  # the header row on every page
    # the coupon with its real decimals, names beside codes, units, no duplicate columns
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    coupon = next(c for c in book["Summary"]["B"] if c.value == summary["Coupon (%)"])
    assert coupon.value == 2.625 and coupon.number_format == "#,##0.00####"
    labels = [row[0] for row in book["Summary"].iter_rows(values_only=True) if row[0]]
    assert len(labels) == len(set(labels))
    for sheet in book.worksheets[2:-1]:
        headers = [c.value for c in sheet[1]]
        assert len(headers) == len(set(headers)), sheet.title
    loans = [c.value for c in book["Loans"][1]]
    assert loans.count("Outstanding (SEK)") == 1  # a SEK bond's two outstanding columns are one
    category = loans.index("Category")
    assert loans[category + 1] == "Category (code)"
    assert book["Loans"].cell(row=2, column=category + 1).value in (
        "Housing and residential environments",
        "Safety, security and accessibility",
        "Health, education, sport and culture",
    )
    per_loan = [c.value for c in book["Impact per loan"][1]]
    assert per_loan[per_loan.index("Indicator (code)") + 1] == "Unit"


@pytest.fixture
def web(demo_settings, monkeypatch):
    from lanportfolj.web.app import create_app

    fast_hashing(monkeypatch)
    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        users.create_user(db, email="i@investor.example", role="investor", password=PASSWORD)
        bond = reports.get_bond(db, ISIN)
        assert bond is not None
        when = date.fromisoformat(DAY)
        reports.publish_report(
            session=db, bond=bond, report_date=when,
            fx=reports.make_fx(bond, report_date=when), actor="test", lang="sv",
        )  # fmt: skip
    yield create_app(demo_settings, engine=engine)
    engine.dispose()


@needs_chromium
def test_investor_downloads_the_pdf_and_the_register(web, monkeypatch) -> None:
    from lanportfolj.web import page_cache
    from lanportfolj.web import reports as web_reports

    investor: TestClient = signed_in(web, "i@investor.example")
    listing = investor.get("/reports")
    assert f"/reports/{ISIN}/{DAY}/report.pdf" in listing.text
    assert f"/reports/{ISIN}/{DAY}/register.csv" in listing.text
    pdf = investor.get(f"/reports/{ISIN}/{DAY}/report.pdf")
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"{ISIN}-{DAY}.pdf" in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF-")
    # frozen once made: kept in the database with its SHA-256, listed on the reports page, and
    # served as kept even when no rendering is at hand any more
    digest = hashlib.sha256(pdf.content).hexdigest()
    with Session(web.state.engine) as db:
        stored = db.exec(select(ReportFile)).one()
    assert (stored.fmt, stored.lang, stored.sha256) == ("pdf", "sv", digest)
    assert digest[:12] in investor.get("/reports").text
    monkeypatch.setattr(web_reports, "_RENDERED", page_cache.KeptOnce(size=8))
    monkeypatch.setenv("LANPORTFOLJ_CHROMIUM", "/nonexistent/chromium")
    again = investor.get(f"/reports/{ISIN}/{DAY}/report.pdf")
    assert again.status_code == 200 and again.content == pdf.content
    register = investor.get(f"/reports/{ISIN}/{DAY}/register.csv")
    assert register.status_code == 200
    assert register.headers["content-type"].startswith("text/csv")
    assert f"{ISIN}-{DAY}.register.csv" in register.headers["content-disposition"]
    assert register.content.startswith(b"\xef\xbb\xbf")
    book = openpyxl.load_workbook(
        io.BytesIO(investor.get(f"/reports/{ISIN}/{DAY}/report.xlsx").content)
    )
    cover = [c.value for row in book["Cover"].iter_rows() for c in row]
    assert "Publicerad" in cover  # a published report's cover says so


def test_pdf_without_chromium_is_a_503_with_a_clear_message(web, monkeypatch, tmp_path) -> None:
    from lanportfolj.web import page_cache
    from lanportfolj.web import reports as web_reports

    # this process may hold the PDF from another test (the demo's report has one SHA-256)
    monkeypatch.setattr(web_reports, "_RENDERED", page_cache.KeptOnce(size=8))
    monkeypatch.setenv("LANPORTFOLJ_CHROMIUM", str(tmp_path / "no-chromium"))
    investor: TestClient = signed_in(web, "i@investor.example")
    response = investor.get(f"/reports/{ISIN}/{DAY}/report.pdf")
    assert response.status_code == 503
    assert "headless Chromium är inte installerat" in response.text  # the reader's language (sv)
    # the other downloads still work
    assert investor.get(f"/reports/{ISIN}/{DAY}/register.csv").status_code == 200
