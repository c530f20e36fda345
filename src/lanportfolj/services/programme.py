"""The bond programme from the database: every bond, the eligible pool they share, FX from the table,
the dated "bonds outstanding ≤ eligible pool" test (``domain.programme`` computes).

The pool is the union of the bonds' pools: loans whose committee and credit decisions approve them
(``services.reports``' rule), approved or active, disbursed by the date, on their outstanding SEK
(``domain.programme.outstanding_at``: tranches and life events date the amounts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from lanportfolj.domain.allocation import months_before
from lanportfolj.domain.programme import (
    LifeEvent,
    PoolLoan,
    Programme,
    ProgrammeBond,
    TestPoint,
    Tranche,
    VintageRow,
    history_dates,
    left_pool,
    nominal_sek,
    pool_sek_on,
    programme_at,
    status_at,
    test_point,
    vintage,
)
from lanportfolj.models import (
    Borrower,
    DisbursementTranche,
    Loan,
    LoanEvent,
    Report,
    SocialBond,
)
from lanportfolj.services.fx import rate_on
from lanportfolj.services.reports import ReportError, eligible_pool_ids

OUTSTANDING: Final = "outstanding"


@dataclass(frozen=True)
class ProgrammeView:
    """The programme at a date, its dated test, and the loans that left the pool."""

    programme: Programme
    history: tuple[TestPoint, ...]
    #: history dates whose bonds could not be converted (no rate stored then): (date, currency)
    missing_rates: tuple[tuple[date, str], ...]
    left: tuple[dict[str, Any], ...]
    matured_active: tuple[dict[str, Any], ...]
    #: the pool by year of disbursement and financing/refinancing (tranches)
    vintage: tuple[VintageRow, ...] = ()
    lookback_cutoff: date | None = None


def _bond_rate(session: Session, bond: SocialBond, day: date) -> tuple[Decimal, str] | None:
    if bond.currency == "SEK":
        return Decimal(1), ""
    found = rate_on(session, bond.currency, day)
    if found is None:
        return None
    return found.rate.sek_per_unit, found.statement("en")


def _cents(value: Decimal | None) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def pool_loans(session: Session) -> list[PoolLoan]:
    """The loans of any bond's pool that the programme approves, with their tranches and events."""
    bond_ids = list(session.exec(select(SocialBond.id)).all())
    eligible: set[int] = set()
    for bond_id in bond_ids:
        if bond_id is not None:
            eligible |= eligible_pool_ids(session, bond_id)
    if not eligible:
        return []
    return list(dated_loans(session, sorted(eligible)).values())


def dated_loans(session: Session, ids: list[int] | Any) -> dict[int, PoolLoan]:
    """The loans ``ids`` (a list, or a select of ids) by id, in reference order, with their
    tranches and life events."""
    if isinstance(ids, list) and not ids:
        return {}
    tranches: dict[int, list[Tranche]] = defaultdict(list)
    for t in session.exec(
        select(DisbursementTranche)
        .where(col(DisbursementTranche.loan_id).in_(ids))
        .order_by(col(DisbursementTranche.disbursed_on), col(DisbursementTranche.id))
    ).all():
        tranches[t.loan_id].append(Tranche(t.disbursed_on, _cents(t.amount), t.funding))
    events: dict[int, list[LifeEvent]] = defaultdict(list)
    for e in session.exec(
        select(LoanEvent)
        .where(col(LoanEvent.loan_id).in_(ids))
        .order_by(col(LoanEvent.event_date), col(LoanEvent.id))
    ).all():
        events[e.loan_id].append(LifeEvent(e.kind, e.event_date, _cents(e.amount)))
    rows = session.execute(
        sa_select(
            col(Loan.id),
            col(Loan.reference),
            col(Borrower.name),
            col(Loan.status),
            col(Loan.disbursement_date),
            col(Loan.disbursed_amount),
            col(Loan.outstanding_amount),
            col(Loan.maturity_date),
        )
        .join(Borrower, col(Borrower.id) == col(Loan.borrower_id))
        .where(col(Loan.id).in_(ids))
        .order_by(col(Loan.reference))
    ).all()
    return {
        loan_id: PoolLoan(
            reference=ref,
            borrower=borrower,
            status=status,
            disbursement_date=disbursed_on,
            disbursed_amount=_cents(disbursed),
            outstanding_amount=_cents(outstanding),
            maturity_date=maturity,
            tranches=tuple(tranches.get(loan_id, ())),
            events=tuple(events.get(loan_id, ())),
        )
        for loan_id, ref, borrower, status, disbursed_on, disbursed, outstanding, maturity in rows
    }


def pool_sek_at(loans: list[PoolLoan], day: date) -> Decimal:
    return pool_sek_on(loans, [day])[day]


def programme_view(session: Session, as_of: date, lookback_months: int = 24) -> ProgrammeView:
    """The programme at ``as_of`` with its dated test from the first issue on.

    Raises ``ReportError("fx_missing")`` when a bond outstanding at ``as_of`` is in a currency with no
    stored rate on or before that day (the history marks such days instead of failing).
    """
    bonds = list(session.exec(select(SocialBond).order_by(col(SocialBond.issue_date))).all())
    loans = pool_loans(session)
    converted = []
    for bond in bonds:
        rate = _bond_rate(session, bond, as_of)
        if rate is None:
            if status_at(bond.issue_date, bond.maturity_date, as_of) == OUTSTANDING:
                raise ReportError(
                    "fx_missing",
                    f"Obligationen {bond.isin} är i {bond.currency} och ingen kurs för "
                    f"{bond.currency} per {as_of.isoformat()} eller tidigare finns lagrad "
                    "(`lanportfolj fx load`).",
                    f"Bond {bond.isin} is in {bond.currency} and no {bond.currency} rate on or "
                    f"before {as_of.isoformat()} is stored (`lanportfolj fx load`).",
                )
            rate = (Decimal(1), "no rate stored")
        converted.append(
            ProgrammeBond(
                isin=bond.isin,
                name=bond.name,
                currency=bond.currency,
                nominal=bond.nominal_amount,
                issue_date=bond.issue_date,
                maturity_date=bond.maturity_date,
                sek_per_unit=rate[0],
                fx_statement=rate[1],
            )
        )
    history: list[TestPoint] = []
    missing: list[tuple[date, str]] = []
    days = [(as_of, "as_of")]
    if bonds:
        report_dates = session.exec(
            select(Report.reporting_date).where(Report.status == "published")
        ).all()
        days = history_dates(bonds[0].issue_date, as_of, report_dates)
    # the pool on every day of the dated test from one pass over the loans
    pool_on = pool_sek_on(loans, [as_of, *(day for day, _kind in days)])
    programme = programme_at(converted, pool_on[as_of], as_of)
    if bonds:
        for day, kind in days:
            outstanding = Decimal("0.00")
            gap = False
            for bond in bonds:
                if status_at(bond.issue_date, bond.maturity_date, day) != OUTSTANDING:
                    continue
                rate = _bond_rate(session, bond, day)
                if rate is None:
                    missing.append((day, bond.currency))
                    gap = True
                    continue
                outstanding += nominal_sek(
                    ProgrammeBond(
                        isin=bond.isin,
                        name=bond.name,
                        currency=bond.currency,
                        nominal=bond.nominal_amount,
                        issue_date=bond.issue_date,
                        maturity_date=bond.maturity_date,
                        sek_per_unit=rate[0],
                    )
                )
            if not gap:
                history.append(test_point(day, kind, outstanding, pool_on[day]))
    left = []
    matured_active = []
    for loan in loans:
        event = left_pool(loan)
        if event is not None and event.day <= as_of:
            left.append(
                {
                    "loan": loan.reference,
                    "borrower": loan.borrower,
                    "event": event.kind,
                    "date": event.day.isoformat(),
                    "year": event.day.year,
                    "amount_sek": str(event.amount),
                }
            )
        if (
            loan.status == "active"
            and loan.maturity_date is not None
            and loan.maturity_date < as_of
        ):
            matured_active.append(
                {
                    "loan": loan.reference,
                    "borrower": loan.borrower,
                    "maturity_date": loan.maturity_date.isoformat(),
                    "outstanding_sek": str(_cents(loan.outstanding_amount)),
                }
            )
    cutoff = months_before(bonds[0].issue_date, lookback_months) if bonds else None
    rows = vintage(loans, as_of, bonds[0].issue_date, cutoff) if bonds and cutoff else []
    return ProgrammeView(
        programme,
        tuple(history),
        tuple(missing),
        tuple(left),
        tuple(matured_active),
        tuple(rows),
        cutoff,
    )


def _s(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return str(value)


def view_dict(view: ProgrammeView) -> dict[str, Any]:
    """The programme as a JSON-ready dict (decimals as fixed-scale strings, dates ISO)."""
    p = view.programme
    return {
        "as_of": p.as_of.isoformat(),
        "basis": "SEK, outstanding amounts; shares capped together at 100 %; allocated = share × "
        "pool rounded down",
        "pool_sek": _s(p.pool_sek),
        "bonds_outstanding_sek": _s(p.bonds_outstanding_sek),
        "allocated_sek": _s(p.allocated_sek),
        "unallocated_sek": _s(p.unallocated_sek),
        "headroom_sek": _s(p.headroom_sek),
        "ratio": _s(p.ratio),
        "capped": p.capped,
        "within_pool": p.within_pool,
        "bonds": [
            {
                "isin": b.isin,
                "name": b.name,
                "currency": b.currency,
                "nominal": _s(b.nominal),
                "issue_date": _s(b.issue_date),
                "maturity_date": _s(b.maturity_date),
                "status": b.status,
                "sek_per_unit": _s(b.sek_per_unit),
                "fx": b.fx_statement,
                "nominal_sek": _s(b.nominal_sek),
                "share": _s(b.share),
                "allocated": _s(b.allocated),
                "allocated_sek": _s(b.allocated_sek),
                "unallocated": _s(b.unallocated),
                "unallocated_sek": _s(b.unallocated_sek),
            }
            for b in p.bonds
        ],
        "history": [
            {
                "date": t.day.isoformat(),
                "kind": t.kind,
                "bonds_outstanding_sek": _s(t.bonds_outstanding_sek),
                "pool_sek": _s(t.pool_sek),
                "headroom_sek": _s(t.headroom_sek),
                "within_pool": t.within_pool,
            }
            for t in view.history
        ],
        "missing_rates": [{"date": d.isoformat(), "currency": c} for d, c in view.missing_rates],
        "lookback_cutoff": _s(view.lookback_cutoff),
        "vintage": [
            {
                "year": v.year,
                "funding": v.funding,
                "outstanding_sek": _s(v.outstanding_sek),
                "tranches": v.tranches,
                "lookback_exceeded": v.lookback_exceeded,
            }
            for v in view.vintage
        ],
        "left_pool": list(view.left),
        "matured_active": list(view.matured_active),
    }
