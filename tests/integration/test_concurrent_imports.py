"""Many borrowers uploading at once: no value lost, duplicated or interleaved between versions.

Runs on whichever database the suite runs on; ``.ci/run`` runs it on PostgreSQL as well as SQLite.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlmodel import Session, col, select

from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import (
    Borrower,
    IndicatorDefinition,
    Loan,
    LoanIndicator,
    Measurement,
    Submission,
)
from lanportfolj.services.measurements import import_file

pytestmark = pytest.mark.integration

LOANS = [f"SH-2024-{i:03d}" for i in range(1, 11)]


def _setup(engine) -> None:
    with session_scope(engine) as s:
        borrower = Borrower(
            orgnr="212000-0142", name="Stockholms stad", kind="municipality", member=True
        )
        s.add(borrower)
        s.flush()
        ind = s.exec(
            select(IndicatorDefinition).where(IndicatorDefinition.code == "dwellings_renovated")
        ).one()
        for ref in LOANS:
            loan = Loan(
                reference=ref,
                borrower_id=borrower.id,
                title=ref,
                amount=Decimal("1000000"),
                status="active",
            )
            s.add(loan)
            s.flush()
            s.add(
                LoanIndicator(
                    loan_id=loan.id,
                    indicator_id=ind.id,
                    baseline_value=Decimal(0),
                    baseline_year=2022,
                )
            )


def _upload(settings, ref: str, value: int) -> tuple[int, int]:
    engine = make_engine(settings)
    try:
        data = f"loan,indicator,year,value\n{ref},dwellings_renovated,2024,{value}\n".encode()
        with session_scope(engine) as s:
            result = import_file(
                session=s,
                settings=settings,
                filename=f"{ref}-{value}.csv",
                data=data,
                uploaded_by=f"uploader-{value}",
                current_year=2026,
            )
        assert result.accepted, result.errors
        return result.inserted, result.restated
    finally:
        engine.dispose()


def test_twenty_concurrent_uploaders_same_and_different_loans(settings, engine):
    _setup(engine)
    same = [(LOANS[0], 100 + i) for i in range(10)]  # ten different values for one loan and year
    different = [(ref, 500 + i) for i, ref in enumerate(LOANS[1:])] + [(LOANS[1], 999)]
    jobs = same + different
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda job: _upload(settings, *job), jobs))

    assert sum(inserted for inserted, _ in results) == len(LOANS)  # one first value per loan
    assert sum(restated for _, restated in results) == len(jobs) - len(LOANS)

    with Session(engine) as s:
        rows = s.exec(
            select(Loan.reference, Measurement.version, Measurement.is_current, Measurement.value)
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
        ).all()
        submissions = len(s.exec(select(Submission.id)).all())
    assert submissions == len(jobs)  # every upload recorded once, none lost
    per_loan = Counter(ref for ref, *_ in rows)
    assert per_loan[LOANS[0]] == 10
    for ref in LOANS:
        versions = sorted(v for r, v, _, _ in rows if r == ref)
        # versions are 1..n without gaps or repeats: no interleaving
        assert versions == list(range(1, len(versions) + 1)), (ref, versions)
        current = [(v, val) for r, v, cur, val in rows if r == ref and cur]
        assert len(current) == 1
        assert current[0][0] == max(versions)  # the newest version is the current one
    assert {val for r, _, _, val in rows if r == LOANS[0]} == {Decimal(100 + i) for i in range(10)}
