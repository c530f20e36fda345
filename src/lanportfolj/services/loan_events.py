"""Dated tranches and life events of a loan (issue 17 items 4 and 5), audited.

A tranche is one dated disbursement, marked financing or refinancing (or left to be derived from the
bond's issue date). A life event takes the loan, or part of it, out of the pool on its date: matured,
repaid, prepaid, written down. Without an amount the whole outstanding amount leaves: the loan is then
``repaid`` (written down: its outstanding becomes 0 and it stays as it was); with an amount only that
part leaves and the outstanding amount is reduced. The stored outstanding amount is always today's;
``domain.programme.outstanding_at`` adds later events back for an earlier date.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

from sqlmodel import Session, col, select

from lanportfolj.domain.programme import FINANCING, LEAVING_EVENTS, REFINANCING
from lanportfolj.models import DisbursementTranche, Loan, LoanEvent, utcnow
from lanportfolj.services import audit

FUNDING_MARKS: Final = (FINANCING, REFINANCING)
#: the loan statuses a life event applies to
DISBURSED: Final = ("approved", "active")


class LoanEventError(ValueError):
    """A tranche or event that cannot be recorded, with the reason in Swedish and English."""

    def __init__(self, code: str, message_sv: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_sv = message_sv
        self.message_en = message_en


def _loan(session: Session, reference: str) -> Loan:
    loan = session.exec(select(Loan).where(Loan.reference == reference.strip())).first()
    if loan is None:
        raise LoanEventError("no_loan", f"Lånet {reference} finns inte.", f"No loan {reference}.")
    return loan


def _amount(raw: Decimal | None, what_sv: str, what_en: str) -> Decimal | None:
    if raw is None:
        return None
    if not raw.is_finite() or raw <= 0 or raw != raw.quantize(Decimal("0.01")):
        raise LoanEventError(
            "bad_amount",
            f"{what_sv} ska vara ett positivt belopp med högst två decimaler: {raw}",
            f"{what_en} must be a positive amount with at most two decimals: {raw}",
        )
    return raw.quantize(Decimal("0.01"))


def add_tranche(
    session: Session,
    *,
    reference: str,
    day: date,
    amount: Decimal,
    funding: str | None,
    actor: str,
) -> DisbursementTranche:
    """Record one disbursement; the loan's disbursed amount becomes the sum of its tranches and its
    disbursement date the first tranche's."""
    loan = _loan(session, reference)
    value = _amount(amount, "Beloppet", "The amount")
    assert value is not None
    if funding is not None and funding not in FUNDING_MARKS:
        raise LoanEventError(
            "bad_funding",
            f"Märkningen ska vara financing eller refinancing, inte {funding!r}.",
            f"The mark must be financing or refinancing, not {funding!r}.",
        )
    existing = list(
        session.exec(select(DisbursementTranche).where(DisbursementTranche.loan_id == loan.id))
    )
    total = sum((t.amount for t in existing), Decimal("0.00")) + value
    if total > loan.amount:
        raise LoanEventError(
            "over_amount",
            f"Utbetalningarna ({total}) överstiger lånebeloppet ({loan.amount}) för {loan.reference}.",
            f"The tranches ({total}) exceed the loan amount ({loan.amount}) of {loan.reference}.",
        )
    tranche = DisbursementTranche(
        loan_id=loan.id or 0, disbursed_on=day, amount=value, funding=funding
    )
    session.add(tranche)
    before = {
        "disbursed_amount": str(loan.disbursed_amount),
        "outstanding": str(loan.outstanding_amount),
    }
    # once a loan has tranches they are its disbursements (the first may stand in for the one
    # disbursement stored before); what is newly disbursed adds to the outstanding amount
    delta = total - loan.disbursed_amount
    loan.disbursed_amount = total
    loan.outstanding_amount = max(
        Decimal("0.00"), min(loan.amount, loan.outstanding_amount + delta)
    )
    loan.disbursement_date = min([t.disbursed_on for t in existing] + [day])
    loan.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="loan.tranche",
        entity="loan",
        entity_id=loan.reference,
        before=before,
        after={
            "date": day.isoformat(),
            "amount": str(value),
            "funding": funding,
            "disbursed_amount": str(loan.disbursed_amount),
            "outstanding": str(loan.outstanding_amount),
        },
    )
    return tranche


def record_event(
    session: Session,
    *,
    reference: str,
    kind: str,
    day: date,
    amount: Decimal | None = None,
    note: str = "",
    actor: str,
) -> LoanEvent:
    """Record a life event; see the module docstring for what it does to the loan."""
    loan = _loan(session, reference)
    if kind not in LEAVING_EVENTS:
        raise LoanEventError(
            "bad_kind",
            f"Händelsen ska vara en av {', '.join(LEAVING_EVENTS)}, inte {kind!r}.",
            f"The event must be one of {', '.join(LEAVING_EVENTS)}, not {kind!r}.",
        )
    if loan.status not in DISBURSED:
        raise LoanEventError(
            "not_in_pool",
            f"Lånet {loan.reference} är {loan.status}: bara godkända eller aktiva lån lämnar poolen.",
            f"Loan {loan.reference} is {loan.status}: only approved or active loans leave the pool.",
        )
    value = _amount(amount, "Beloppet", "The amount")
    outstanding = loan.outstanding_amount.quantize(Decimal("0.01"))
    if value is not None and value > outstanding:
        raise LoanEventError(
            "over_outstanding",
            f"Beloppet {value} överstiger det utestående ({outstanding}) för {loan.reference}.",
            f"The amount {value} exceeds the outstanding {outstanding} of {loan.reference}.",
        )
    later = session.exec(
        select(LoanEvent).where(LoanEvent.loan_id == loan.id, col(LoanEvent.event_date) > day)
    ).first()
    if later is not None:
        raise LoanEventError(
            "out_of_order",
            f"Lånet {loan.reference} har redan en händelse den {later.event_date}: registrera i "
            "datumordning.",
            f"Loan {loan.reference} already has an event on {later.event_date}: record events in "
            "date order.",
        )
    whole = value is None or value == outstanding
    left = outstanding if value is None else value
    event = LoanEvent(
        loan_id=loan.id or 0,
        kind=kind,
        event_date=day,
        amount=left,
        note=note[:2000],
        recorded_by=actor,
    )
    session.add(event)
    before = {"status": loan.status, "outstanding": str(outstanding)}
    loan.outstanding_amount = outstanding - left
    if whole and kind != "written_down":
        loan.status = "repaid"
    loan.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"loan.{kind}",
        entity="loan",
        entity_id=loan.reference,
        before=before,
        after={
            "date": day.isoformat(),
            "amount": str(left),
            "status": loan.status,
            "outstanding": str(loan.outstanding_amount),
        },
        detail=note[:2000],
    )
    return event


def matured_active(session: Session, day: date, limit: int = 50) -> list[tuple[str, date]]:
    """Active loans whose maturity date is before ``day`` (reference, maturity), oldest first: they
    stay in the pool until a repayment is recorded, so the analysts are warned."""
    rows = session.exec(
        select(Loan.reference, Loan.maturity_date)
        .where(
            Loan.status == "active",
            col(Loan.maturity_date).is_not(None),
            col(Loan.maturity_date) < day,
        )
        .order_by(col(Loan.maturity_date), col(Loan.reference))
        .limit(limit)
    ).all()
    return [(ref, maturity) for ref, maturity in rows if maturity is not None]
