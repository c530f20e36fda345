"""The bond programme on a real database (SQLite, or PostgreSQL with LANPORTFOLJ_TEST_DATABASE_URL):
hand-computed fixtures (a) and (d) of issue 17, FX rates loaded from files, the CLI and the report.

Fixture (a), by hand: pool 100 000 000 SEK outstanding. Bonds in SEK: 50 000 000; 3 000 000 EUR ×
11.5 = 34 500 000; 2 000 000 USD × 10.25 = 20 500 000; together 105 000 000 > pool → shares capped
together: 50/105 = 0.47619048, 34.5/105 = 0.32857143, 20.5/105 = 0.19523810. Allocated = share ×
pool, rounded down: 47 619 047.619… → 47 619 047.61 SEK; 32 857 142.857… SEK / 11.5 = 2 857 142.857…
→ 2 857 142.85 EUR (32 857 142.85 SEK); 19 523 809.523… SEK / 10.25 = 1 904 761.904… → 1 904 761.90
USD (19 523 809.52 SEK). Programme allocated 99 999 999.98 SEK; headroom 100 m − 105 m =
−5 000 000.00; ratio 105/100 = 1.05.
"""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from programme_world import DAY, PLAIN_USD, RIKSBANK_EUR, fixture_a, fixture_d
from sqlmodel import Session
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import make_engine
from lanportfolj.services import reports
from lanportfolj.services.fx import load_rates, rate_on
from lanportfolj.services.programme import programme_view, view_dict
from report_schema_check import load_schema, validate

pytestmark = pytest.mark.integration


def _rates(session: Session) -> None:
    for data in (RIKSBANK_EUR, PLAIN_USD):
        assert load_rates(session, data=data, source="test", actor="test").accepted


def _bonds(data: dict) -> dict[str, dict]:
    return {b["currency"]: b for b in data["bonds"]}


def test_fixture_a_three_currencies_share_one_pool(session: Session) -> None:
    fixture_a(session)
    _rates(session)
    data = view_dict(programme_view(session, DAY))
    bonds = _bonds(data)
    assert {c: b["share"] for c, b in bonds.items()} == {
        "SEK": "0.47619048",
        "EUR": "0.32857143",
        "USD": "0.19523810",
    }
    assert {c: (b["allocated"], b["allocated_sek"]) for c, b in bonds.items()} == {
        "SEK": ("47619047.61", "47619047.61"),
        "EUR": ("2857142.85", "32857142.85"),
        "USD": ("1904761.90", "19523809.52"),
    }
    # unallocated per bond: 50 000 000 − 47 619 047.61; 3 000 000 − 2 857 142.85; 2 000 000 − …
    assert {c: b["unallocated"] for c, b in bonds.items()} == {
        "SEK": "2380952.39",
        "EUR": "142857.15",
        "USD": "95238.10",
    }
    assert data["pool_sek"] == "100000000.00"
    assert data["bonds_outstanding_sek"] == "105000000.00"
    assert data["allocated_sek"] == "99999999.98"
    assert data["headroom_sek"] == "-5000000.00"
    assert data["ratio"] == "1.05000000"
    assert data["within_pool"] is False
    # the EUR rate of 2025-12-30 is the latest before the report date, and says so
    assert "latest rate before 2025-12-31" in bonds["EUR"]["fx"]
    assert "as of 2025-12-31 (test)" in bonds["USD"]["fx"]


def test_fixture_a_dated_test_each_month_end_from_the_issue(session: Session) -> None:
    fixture_a(session)
    _rates(session)
    history = view_dict(programme_view(session, DAY))["history"]
    days = [t["date"] for t in history]
    assert days[0] == "2024-06-30" and days[-1] == "2025-12-31" and len(days) == 19
    by_day = {t["date"]: t for t in history}
    # 2024-06-30: pool 40 m + 30 m = 70 m; bonds 50 m + 3 m × 11.6 + 2 m × 10.8 = 106.4 m → fails
    june = by_day["2024-06-30"]
    assert (june["pool_sek"], june["bonds_outstanding_sek"], june["within_pool"]) == (
        "70000000.00",
        "106400000.00",
        False,
    )
    # 2025-11-30: EUR still 11.6 (no later rate before 12-30), USD 10.8: 106.4 m against 100 m
    assert by_day["2025-11-30"]["headroom_sek"] == "-6400000.00"


def test_the_eur_report_allocates_its_share_of_the_pool(session: Session) -> None:
    fixture_a(session)
    _rates(session)
    session.commit()
    eur = reports.get_bond(session, "XS0000000017")
    assert eur is not None
    data = reports.draft_report(session=session, bond=eur, report_date=DAY)
    summary = data["allocation"]["summary"]
    # the report agrees with the programme: 2 857 142.85 EUR, share 0.32857143
    assert (summary["allocated"], summary["unallocated"]) == ("2857142.85", "142857.15")
    assert summary["bond_share_of_pool"] == "0.32857143"
    assert summary["bond_share_capped"] is True and summary["pool_smaller_than_bond"] is True
    assert data["fx"] == {
        "currency": "EUR",
        "sek_per_unit": "11.5",
        "as_of": "2025-12-30",
        "source": "test",
    }
    fx_text = next(s for s in data["methodology"]["sections"] if s["key"] == "fx")["text"]["en"]
    assert "the latest rate before the report date 2025-12-31" in fx_text
    # --fx-rate still overrides the table
    override = reports.make_fx(eur, report_date=DAY, rate="12", source="manual", session=session)
    assert override.sek_per_unit == Decimal("12") and override.source == "manual"


def test_without_a_stored_rate_the_report_says_what_is_missing(session: Session) -> None:
    fixture_a(session)
    session.commit()
    eur = reports.get_bond(session, "XS0000000017")
    assert eur is not None
    with pytest.raises(reports.ReportError) as missing:
        reports.draft_report(session=session, bond=eur, report_date=DAY)
    assert missing.value.code == "fx_required"
    assert "no EUR rate on or before 2025-12-31" in missing.value.message_en


def test_fixture_d_the_31m_bond_gets_its_share_not_nothing(session: Session) -> None:
    fixture_d(session)
    data = view_dict(programme_view(session, DAY))
    allocated = [b["allocated"] for b in data["bonds"]]
    # 500/1976 × 1 786 m = 451 923 076.92…; 445/1976 × … = 402 211 538.46…; 31/1976 × … = 28 019 230.76…
    assert sorted(allocated) == sorted(["451923076.92"] * 3 + ["402211538.46", "28019230.76"])
    small = next(b for b in data["bonds"] if b["nominal"] == "31000000.00")
    assert small["share"] == "0.01568826" and small["unallocated"] == "2980769.24"
    assert Decimal(data["allocated_sek"]) <= Decimal(data["pool_sek"])


def test_a_rate_file_with_a_bad_row_is_refused_naming_row_and_column(session: Session) -> None:
    bad = b"date;currency;rate\n2025-01-02;EUR;11,2\n2025-01-03;EURO;11,3\n2025-13-01;USD;-1\n"
    result = load_rates(session, data=bad, source="t", actor="t")
    assert not result.accepted and result.inserted == 0
    assert [(p.row, p.column) for p in result.problems] == [
        (3, "currency"),
        (4, "date"),
        (4, "rate"),
    ]
    assert rate_on(session, "EUR", date(2025, 1, 2)) is None  # nothing stored


def test_fx_load_and_programme_show_from_the_cli(settings, tmp_path) -> None:
    eur, usd = tmp_path / "eur.csv", tmp_path / "usd.csv"
    eur.write_bytes(RIKSBANK_EUR)
    usd.write_bytes(PLAIN_USD)
    url = ["--database-url", settings.database_url]
    runner = CliRunner()
    assert runner.invoke(app, [*url, "db", "upgrade"]).exit_code == 0
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            fixture_a(db)
            db.commit()
    finally:
        engine.dispose()
    loaded = runner.invoke(app, [*url, "fx", "load", str(eur)])
    assert loaded.exit_code == 0, loaded.output
    assert "2 new, 0 replaced, 0 unchanged, 1 n/a skipped" in loaded.output
    assert runner.invoke(app, [*url, "fx", "load", str(usd)]).exit_code == 0
    again = runner.invoke(app, [*url, "fx", "load", str(usd), "--json"])
    assert json.loads(again.stdout)["unchanged"] == 2
    listed = json.loads(runner.invoke(app, [*url, "fx", "list", "--json"]).stdout)
    assert listed[0] == {
        "date": "2025-12-31",
        "currency": "USD",
        "sek_per_unit": "10.25",
        "source": "usd.csv (usd.csv)",
    }
    assert {r["source"] for r in listed if r["currency"] == "EUR"} == {"Riksbanken (eur.csv)"}
    shown = runner.invoke(app, [*url, "programme", "show", "--date", "2025-12-31", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["allocated_sek"] == "99999999.98" and data["headroom_sek"] == "-5000000.00"
    text = runner.invoke(app, [*url, "programme", "show", "--date", "2025-12-31"]).output
    flat = " ".join(text.split())
    assert "EXCEED the pool" in flat and "headroom -5000000.00 SEK" in flat
    assert "2857142.85" in text
    bad = runner.invoke(app, [*url, "programme", "show", "--date", "31/12/2025"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_the_report_holds_the_programme_section_and_older_reports_still_render(
    session: Session,
) -> None:
    fixture_a(session)
    _rates(session)
    session.commit()
    eur = reports.get_bond(session, "XS0000000017")
    assert eur is not None
    data = reports.draft_report(session=session, bond=eur, report_date=DAY)
    section = data["programme"]
    assert section["available"] is True and section["allocated_sek"] == "99999999.98"
    assert [b["isin"] for b in section["bonds"] if b["this_bond"]] == ["XS0000000017"]
    assert [m["code"] for m in section["messages"]] == ["bonds_exceed_pool"]
    document = json.loads(reports.render(data, fmt="json"))
    schema = load_schema()
    assert validate(document, schema, schema, "$") == []
    page = reports.render(data, fmt="html", lang="en").decode()
    assert 'id="programme"' in page and "2,857,142.85" in page and "-5,000,000.00" in page
    swedish = reports.render(data, fmt="html", lang="sv").decode()
    assert "Obligationsprogrammet" in swedish and "2\u00a0857\u00a0142,85" in swedish
    book = openpyxl.load_workbook(io.BytesIO(reports.render(data, fmt="xlsx", lang="en")))
    sheet = book["Programme"]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, max_row=4, values_only=True)}
    allocated = header.index("Allocated")
    assert rows["XS0000000017"][allocated] == 2857142.85
    # a report frozen before issue 17 has no programme section: it renders as it did
    older = {k: v for k, v in document.items() if k != "programme"}
    assert validate(older, schema, schema, "$") == []
    old_page = reports.render(older, fmt="html", lang="en").decode()
    assert 'id="programme"' not in old_page and "Allocation" in old_page
    old_book = openpyxl.load_workbook(io.BytesIO(reports.render(older, fmt="xlsx", lang="en")))
    assert "Programme" not in old_book.sheetnames
