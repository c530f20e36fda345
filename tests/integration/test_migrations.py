"""The migrations build exactly the schema the models describe, and enforce the data's constraints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from lanportfolj.models import Borrower, IndicatorDefinition, Loan, LoanIndicator, Measurement

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
