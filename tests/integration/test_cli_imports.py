"""``lanportfolj template`` and ``lanportfolj import``: files, exit codes and the JSON scripts read."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import make_engine
from lanportfolj.models import Measurement, Submission

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
KEYS = {"accepted", "rows", "inserted", "restated", "unchanged", "errors"}


def _run(settings, *args: str):
    return CliRunner().invoke(app, ["--database-url", settings.database_url, *args])


def _counts(settings) -> tuple[int, int]:
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            return (
                db.exec(select(func.count()).select_from(Measurement)).one(),
                db.exec(select(func.count()).select_from(Submission)).one(),
            )
    finally:
        engine.dispose()


def test_template_writes_xlsx_and_csv(demo_settings, tmp_path: Path) -> None:
    out = tmp_path / "t.xlsx"
    result = _run(demo_settings, "template", "SH-2023-001", "--out", str(out))
    assert result.exit_code == 0, result.output
    sheet = openpyxl.load_workbook(out)["Data"]
    assert [c.value for c in sheet[1]][:4] == ["lån", "indikator", "år", "värde"]
    assert sheet.cell(row=2, column=1).value == "SH-2023-001"

    csv = tmp_path / "t.csv"
    result = _run(
        demo_settings,
        "template",
        "SH-2023-001",
        "--out",
        str(csv),
        "--format",
        "csv",
        "--lang",
        "en",
    )
    assert result.exit_code == 0
    assert csv.read_bytes().startswith(b"\xef\xbb\xbfloan,indicator,year,value")

    missing = _run(demo_settings, "template", "NO-SUCH", "--out", str(tmp_path / "x.xlsx"))
    assert missing.exit_code == 1
    assert (
        _run(demo_settings, "template", "SH-2023-001", "--out", "x", "--format", "ods").exit_code
        == 2
    )


def test_import_dry_run_then_store_then_duplicate(demo_settings) -> None:
    good = str(FIXTURES / "good_libreoffice_template.xlsx")
    before = _counts(demo_settings)
    dry = _run(demo_settings, "import", good, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    body = json.loads(dry.stdout)
    assert set(body) >= KEYS
    assert (body["accepted"], body["inserted"], body["restated"]) == (True, 1, 2)
    assert {c["kind"] for c in body["changes"]} == {"insert", "restate"}
    assert _counts(demo_settings) == before

    stored = json.loads(_run(demo_settings, "import", good, "--json").stdout)
    assert stored["submission_id"] is not None
    assert _counts(demo_settings) == (before[0] + 3, before[1] + 1)

    again = _run(demo_settings, "import", good)
    assert again.exit_code == 0
    assert "already imported" in again.output
    assert _counts(demo_settings) == (before[0] + 3, before[1] + 1)


def test_rejected_file_exits_1_with_every_error(demo_settings) -> None:
    before = _counts(demo_settings)
    result = _run(demo_settings, "import", str(FIXTURES / "bad_not-a-number.csv"), "--json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["accepted"] is False
    assert body["errors"] and {"row", "column", "code", "message"} <= set(body["errors"][0])
    assert "not-a-number" in {e["code"] for e in body["errors"]}
    assert _counts(demo_settings) == before
    table = _run(demo_settings, "import", str(FIXTURES / "bad_not-a-spreadsheet.pdf"))
    assert table.exit_code == 1 and "not-a-spreadsheet" in table.output


def test_as_borrower_limits_to_own_loans(demo_settings, tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("loan,indicator,year,value\nSH-2023-002,home_visits_new_parents,2024,10\n")
    engine = make_engine(demo_settings)
    try:
        from lanportfolj.models import Borrower, Loan

        with Session(engine) as db:
            orgnr = db.exec(
                select(Borrower.orgnr)
                .join(Loan, Loan.borrower_id == Borrower.id)
                .where(Loan.reference == "SH-2023-001")
            ).one()
    finally:
        engine.dispose()
    as_other = _run(demo_settings, "import", str(other), "--json", "--as-borrower", orgnr)
    assert as_other.exit_code == 1
    assert [e["code"] for e in json.loads(as_other.stdout)["errors"]] == ["unknown-loan"]
    as_lender = _run(demo_settings, "import", str(other), "--json", "--dry-run")
    assert as_lender.exit_code == 0
    unknown = _run(demo_settings, "import", str(other), "--as-borrower", "000000-0000")
    assert unknown.exit_code == 2
