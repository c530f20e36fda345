"""The migrations build exactly the schema the models describe, and enforce the data's constraints."""

from __future__ import annotations

import gzip
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select
from typer.testing import CliRunner

from lanportfolj.cli import app as cli
from lanportfolj.config import Settings
from lanportfolj.db import make_engine, migration_heads
from lanportfolj.models import Borrower, IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.services import reports

pytestmark = pytest.mark.integration


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == []


def _loan(session: Session) -> LoanIndicator:
    borrower = Borrower(
        orgnr="212000-0142", name="Stockholms stad", kind="municipality", member=True
    )
    session.add(borrower)
    session.flush()
    loan = Loan(reference="SH-2024-001", borrower_id=borrower.id, title="t", amount=Decimal("1"))
    session.add(loan)
    session.flush()
    ind = session.exec(
        select(IndicatorDefinition).where(IndicatorDefinition.code == "dwellings_renovated")
    ).one()
    li = LoanIndicator(loan_id=loan.id, indicator_id=ind.id)
    session.add(li)
    session.flush()
    return li


def test_loan_reference_is_unique(session):
    li = _loan(session)
    loan = session.get(Loan, li.loan_id)
    session.add(
        Loan(
            reference="SH-2024-001",
            borrower_id=loan.borrower_id,
            title="again",
            amount=Decimal("2"),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_one_current_measurement_per_loan_indicator_and_year(session):
    li = _loan(session)
    session.add(Measurement(loan_indicator_id=li.id, year=2024, value=Decimal("10")))
    session.flush()
    # a retired version beside the current one is how restatements are kept
    session.add(
        Measurement(
            loan_indicator_id=li.id, year=2024, value=Decimal("9"), version=2, is_current=False
        )
    )
    session.flush()
    session.add(Measurement(loan_indicator_id=li.id, year=2024, value=Decimal("11"), version=3))
    with pytest.raises(IntegrityError):
        session.flush()


def test_foreign_keys_are_enforced(session):
    session.add(
        Loan(
            reference="SH-2024-009",
            borrower_id=999,
            title="orphan",
            amount=Decimal("1"),
            disbursement_date=date(2024, 1, 1),
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_amounts_beyond_float_precision_stay_exact(session):
    li = _loan(session)
    loan = session.get(Loan, li.loan_id)
    loan.amount = Decimal("123456789012345.67")
    session.add(loan)
    session.commit()
    session.expire_all()
    assert session.get(Loan, li.loan_id).amount == Decimal("123456789012345.67")


# -- a database made by an earlier release ------------------------------------------------------------

EARLIER = Path(__file__).resolve().parents[1] / "fixtures" / "db" / "demo-0007.sqlite.gz"


def _row_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_a_populated_database_of_the_previous_release_upgrades_with_every_row_kept(
    tmp_path: Path,
) -> None:
    """The demo as the release at migration 0007 stored it (``demo load`` of commit 1f87965): SQLite
    rebuilds changed tables by copying them, which failed on the first table other rows point at."""
    db = tmp_path / "earlier.db"
    db.write_bytes(gzip.decompress(EARLIER.read_bytes()))
    before = _row_counts(db)
    assert before["loan"] >= 9 and before["measurement"] > 100, "the fixture holds the demo"
    result = CliRunner().invoke(cli, ["--database-url", f"sqlite:///{db}", "db", "upgrade"])
    assert result.exit_code == 0, result.output
    after = _row_counts(db)
    for table, count in before.items():
        if table == "alembic_version":
            continue
        # the library sync may add indicators; nothing that was there is lost
        assert after[table] >= count, table
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] in (
            migration_heads()
        )
    # and the upgraded database is usable: its bond's report is drawn from the kept rows
    listed = CliRunner().invoke(
        cli, ["--database-url", f"sqlite:///{db}", "loans", "list", "--json"]
    )
    assert listed.exit_code == 0, listed.output
    assert "SH-2023-001" in listed.output
    engine = make_engine(Settings(database_url=f"sqlite:///{db}"))
    try:
        with Session(engine) as session:
            bond = reports.get_bond(session, "SE0021150208")
            assert bond is not None
            data = reports.draft_report(
                session=session, bond=bond, report_date=date(2025, 12, 31), lang="en"
            )
        assert data["allocation"], "the report has an allocation"
    finally:
        engine.dispose()


def test_published_reports_keep_their_bytes_from_text_to_pieces_and_back(demo_engine) -> None:
    """0016 moves a published report's frozen JSON from the text column into ``report_chunk``; its
    bytes (those of its SHA-256) are the same after the upgrade and, joined, after the downgrade."""
    from alembic import command
    from sqlalchemy import text

    from lanportfolj.db import alembic_config, session_scope, upgrade

    with session_scope(demo_engine) as db:
        bond = reports.get_bond(db, "SE0021150208")
        assert bond is not None
        reports.publish_report(
            session=db, bond=bond, report_date=date(2025, 12, 31), fx=None, actor="t"
        )
    with Session(demo_engine) as db:
        bond = reports.get_bond(db, "SE0021150208")
        assert bond is not None
        stored = reports.published_report(db, bond, date(2025, 12, 31))
        assert stored is not None and stored.sha256 is not None
        digest, payload = stored.sha256, reports.frozen_bytes(stored)
    assert not payload.isascii()  # the Swedish texts, so the UTF-8 round trip is tested
    command.downgrade(alembic_config(demo_engine), "0015")
    with demo_engine.connect() as connection:
        frozen = connection.execute(
            text("SELECT frozen_data FROM report WHERE sha256 = :digest"), {"digest": digest}
        ).scalar_one()
    assert frozen.encode("utf-8") == payload
    upgrade(demo_engine)
    with Session(demo_engine) as db:
        bond = reports.get_bond(db, "SE0021150208")
        assert bond is not None
        again = reports.published_report(db, bond, date(2025, 12, 31))
        assert again is not None and again.sha256 == digest
        assert reports.frozen_bytes(again) == payload
