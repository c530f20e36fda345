"""The synthetic portfolio: the size asked for, the same for the same seed, valid data throughout."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.models import Loan, LoanIndicator, Measurement
from lanportfolj.services.loans import loan_detail

pytestmark = pytest.mark.integration
PORTFOLIO = Path(__file__).resolve().parents[1] / "fixtures" / "portfolio_small"
runner = CliRunner()


def _synth(settings, seed: int = 7):
    return runner.invoke(
        app,
        [
            "--database-url",
            settings.database_url,
            "demo",
            "synth",
            "--loans",
            "30",
            "--years",
            "4",
            "--seed",
            str(seed),
            "--json",
        ],
    )


def test_synth_builds_the_requested_portfolio(settings, engine):
    result = _synth(settings)
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        loans = s.exec(select(func.count()).select_from(Loan)).one()
        indicators = s.exec(select(func.count()).select_from(LoanIndicator)).one()
        current = s.exec(
            select(func.count()).select_from(Measurement).where(col(Measurement.is_current))
        ).one()
        retired = s.exec(select(Measurement).where(~col(Measurement.is_current))).all()
        groups = s.exec(select(Measurement.group_name).distinct()).all()
        ref = s.exec(select(Loan.reference).order_by(col(Loan.id))).first()
        detail = loan_detail(s, ref)
    assert loans == 30
    assert 30 * 8 <= indicators <= 30 * 12
    # every loan indicator has one current value per year and unit
    assert current >= indicators * 4
    assert all(m.version == 1 for m in retired)  # restatements keep the first version
    assert "" in groups
    assert detail is not None and detail["illustrative"] is True
    assert detail["indicators"][0]["measurements"]


def test_same_seed_same_values(settings, engine, tmp_path):
    assert _synth(settings, seed=3).exit_code == 0
    with Session(engine) as s:
        first = s.exec(select(Measurement.value).order_by(col(Measurement.id))).all()
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert runner.invoke(app, ["--database-url", other, "db", "upgrade"]).exit_code == 0
    from lanportfolj.config import Settings
    from lanportfolj.db import make_engine

    assert _synth(Settings(database_url=other), seed=3).exit_code == 0
    with Session(make_engine(Settings(database_url=other))) as s:
        second = s.exec(select(Measurement.value).order_by(col(Measurement.id))).all()
    assert first == second


def test_a_portfolio_loaded_after_synth_gets_fresh_ids(settings, engine):
    """synth writes its own ids; on PostgreSQL the sequences must move past them, or the next ordinary
    insert (a borrower, loan, submission) fails with a duplicate key."""
    assert _synth(settings).exit_code == 0
    result = runner.invoke(
        app,
        ["--database-url", settings.database_url, "portfolio", "load", str(PORTFOLIO), "--json"],
    )
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        references = set(s.exec(select(Loan.reference)).all())
    assert len(references) > 30
