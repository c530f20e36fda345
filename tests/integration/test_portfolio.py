"""Loading a portfolio folder: what is stored, idempotence, and every kind of bad input rejected whole."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.db import session_scope
from lanportfolj.models import Borrower, Loan, Measurement, Submission
from lanportfolj.services.loans import loan_detail
from lanportfolj.services.portfolio import PortfolioError, load_portfolio

pytestmark = pytest.mark.integration

SMALL = Path(__file__).parent.parent / "fixtures" / "portfolio_small"


def _load(settings: Settings, engine, path: Path):
    with session_scope(engine) as session:
        return load_portfolio(session=session, settings=settings, path=path, current_year=2026)


def _counts(engine) -> tuple[int, int, int, int]:
    with Session(engine) as s:
        return (
            s.exec(select(func.count()).select_from(Borrower)).one(),
            s.exec(select(func.count()).select_from(Loan)).one(),
            s.exec(select(func.count()).select_from(Measurement)).one(),
            s.exec(select(func.count()).select_from(Submission)).one(),
        )


def test_loads_borrowers_loans_bond_and_measurements_with_a_restatement(settings, engine):
    summary = _load(settings, engine, SMALL)
    assert (summary.borrowers, summary.loans, summary.bonds) == (2, 1, 1)
    assert (summary.inserted, summary.restated) == (4, 1)
    with Session(engine) as s:
        detail = loan_detail(s, "SH-2023-001")
        loan = s.exec(select(Loan)).one()
    assert detail is not None
    assert loan.amount == Decimal("3800000000")
    # both approvals recorded → the programme's discount applies
    assert loan.discount_bp == Decimal("2")
    assert detail["borrower"]["owner"] == "Stockholms stad"
    crimes = next(i for i in detail["indicators"] if i["code"] == "reported_crimes")
    versions = [(m["year"], m["value"], m["version"], m["current"]) for m in crimes["measurements"]]
    assert (2024, "370", 1, False) in versions
    assert (2024, "365", 2, True) in versions
    assert crimes["baseline"] == {"value": "410", "year": 2022}
    assert detail["goals"][0]["indicators"] == ["dwellings_renovated"]


def test_loading_twice_changes_nothing(settings, engine):
    _load(settings, engine, SMALL)
    before = _counts(engine)
    again = _load(settings, engine, SMALL)
    assert again.changed_records == []
    assert (again.inserted, again.restated) == (0, 0)
    assert _counts(engine) == before


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    target = tmp_path / "portfolio"
    shutil.copytree(SMALL, target)
    toml = target / "portfolio.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text, old
    toml.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("old", "new", "record", "field", "message"),
    [
        ('orgnr = "212000-0142"', 'orgnr = "212000-0143"', "borrower #1", "orgnr", "check digit"),
        (
            'programme_category = "housing"',
            'programme_category = "castles"',
            "loan SH-2023-001",
            "programme_category",
            "castles",
        ),
        (
            'code = "reported_crimes"',
            'code = "no_such_indicator"',
            "loan SH-2023-001 indicator #2",
            "code",
            "unknown indicator",
        ),
        ('amount = "3800000000"', 'amount = "-5"', "loan SH-2023-001", "amount", "negative"),
        (
            "maturity_date = 2032-12-31",
            "maturity_date = 2020-01-01",
            "loan SH-2023-001",
            "maturity_date",
            "after the disbursement",
        ),
        ('kind = "municipal_company"', 'kind = "ministry"', "borrower #2", "kind", "ministry"),
        (
            'amount = "3800000000"',
            "amount = 3800000000.5",
            "loan SH-2023-001",
            "amount",
            "binary floats",
        ),
        (
            'pool = ["SH-2023-001"]',
            'pool = ["SH-1999-999"]',
            "bond SE0000000002",
            "pool",
            "SH-1999-999",
        ),
        (
            'indicators = ["dwellings_renovated"]',
            'indicators = ["reported_crime"]',
            "loan SH-2023-001 goal #1",
            "indicators",
            "reported_crime",
        ),
    ],
)
def test_bad_records_are_named_and_nothing_is_written(
    settings, engine, tmp_path, old, new, record, field, message
):
    path = _broken(tmp_path, old, new)
    with pytest.raises(PortfolioError) as info:
        _load(settings, engine, path)
    hits = [i for i in info.value.issues if i.record.startswith(record) and i.field == field]
    assert hits, [str(i) for i in info.value.issues]
    assert message in hits[0].message
    assert hits[0].file.endswith("portfolio.toml")
    assert _counts(engine) == (0, 0, 0, 0)


def test_duplicate_loan_reference_is_rejected(settings, engine, tmp_path):
    path = tmp_path / "portfolio"
    shutil.copytree(SMALL, path)
    toml = path / "portfolio.toml"
    text = toml.read_text(encoding="utf-8")
    loan_block = text[text.index("[[loan]]") : text.index("[[bond]]")]
    toml.write_text(text.replace("[[bond]]", loan_block + "[[bond]]", 1), encoding="utf-8")
    with pytest.raises(PortfolioError) as info:
        _load(settings, engine, path)
    assert any(i.field == "reference" and "twice" in i.message for i in info.value.issues)


def test_malformed_toml_names_the_file_and_line(settings, engine, tmp_path):
    path = _broken(tmp_path, "[[bond]]", "[[bond]\n")
    with pytest.raises(PortfolioError) as info:
        _load(settings, engine, path)
    assert "not valid TOML" in info.value.issues[0].message
    assert "line" in info.value.issues[0].message


def test_a_bad_measurement_file_rolls_back_the_whole_load(settings, engine, tmp_path):
    path = tmp_path / "portfolio"
    shutil.copytree(SMALL, path)
    csv = path / "measurements" / "2023-2024.csv"
    csv.write_text(csv.read_text().replace("2024,300", "2024,not-a-number"))
    with pytest.raises(PortfolioError) as info:
        _load(settings, engine, path)
    issue = info.value.issues[0]
    assert issue.file.endswith("2023-2024.csv")
    assert issue.record == "row 3"
    assert issue.field == "value"
    assert _counts(engine) == (0, 0, 0, 0)


def test_loan_values_are_exact_on_this_database(settings, engine):
    _load(settings, engine, SMALL)
    with Session(engine) as s:
        total = s.exec(select(Loan.total_project_cost)).one()
        values = s.exec(select(Measurement.value).order_by(col(Measurement.id))).all()
    assert total == Decimal("7600000000")
    assert all(isinstance(v, Decimal) for v in values)
