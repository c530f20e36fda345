"""The start pages' to-do lists: a borrower's loans with what is due and by when, the lender's overdue
reports (the discount at risk). Plain rows; ``templates/public/_home_*.html`` show them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from lanportfolj.domain.report_due import report_due
from lanportfolj.models import Borrower, Loan
from lanportfolj.services.applications import last_reported_years

#: Statuses of an application still in the borrower's or the lender's hands.
IN_PROGRESS = ("draft", "submitted", "under_review", "approved")


def _first_due_year(loan: Loan) -> int | None:
    start = loan.disbursement_date or loan.application_date
    return start.year if start else None


def borrower_home(
    session: Session, borrower_id: int, as_of: date, deadline: str = "04-30"
) -> dict[str, Any]:
    """The borrower's active loans with the report due next (year, deadline, state) and their
    applications in progress."""
    loans = session.exec(
        select(Loan).where(Loan.borrower_id == borrower_id).order_by(col(Loan.reference))
    ).all()
    active = [loan for loan in loans if loan.status == "active"]
    reported = last_reported_years(session, [loan.id for loan in active if loan.id is not None])
    reports = []
    for loan in active:
        first = _first_due_year(loan)
        if first is None:
            continue
        due = report_due(
            last_reported_year=reported.get(loan.id or 0),
            first_due_year=first,
            as_of=as_of,
            deadline=deadline,
        )
        reports.append({"reference": loan.reference, "title": loan.title, "due": due})
    applications = [
        {"reference": loan.reference, "title": loan.title, "status": loan.status}
        for loan in loans
        if loan.status in IN_PROGRESS
    ]
    return {"reports": reports, "applications": applications}


def overdue_reports(
    session: Session, references: list[str], as_of: date, deadline: str = "04-30"
) -> list[dict[str, Any]]:
    """The lender's follow-up list: each loan in ``references`` (the discount-at-risk loans) with its
    borrower, the year missing and the deadline that passed."""
    if not references:
        return []
    rows = session.exec(
        select(Loan, Borrower)
        .join(Borrower, col(Borrower.id) == col(Loan.borrower_id))
        .where(col(Loan.reference).in_(references))
        .order_by(col(Loan.reference))
    ).all()
    reported = last_reported_years(session, [loan.id for loan, _ in rows if loan.id is not None])
    out = []
    for loan, borrower in rows:
        first = _first_due_year(loan)
        if first is None:
            continue
        due = report_due(
            last_reported_year=reported.get(loan.id or 0),
            first_due_year=first,
            as_of=as_of,
            deadline=deadline,
        )
        out.append(
            {
                "reference": loan.reference,
                "title": loan.title,
                "borrower": borrower.name,
                "due": due,
                "discount_bp": loan.discount_bp,
            }
        )
    return out


def report_states(session: Session, as_of: date, deadline: str = "04-30") -> dict[str, str]:
    """The yearly report's state (``due``, ``overdue``, ``done``, ``not_yet``) per active loan's
    reference on ``as_of``, for the loan list's "yearly report" filter. One grouped query for the
    reported years."""
    loans = session.exec(select(Loan).where(Loan.status == "active")).all()
    reported = last_reported_years(session)
    states: dict[str, str] = {}
    for loan in loans:
        first = _first_due_year(loan)
        if first is None:
            continue
        states[loan.reference] = report_due(
            last_reported_year=reported.get(loan.id or 0),
            first_due_year=first,
            as_of=as_of,
            deadline=deadline,
        ).state
    return states
