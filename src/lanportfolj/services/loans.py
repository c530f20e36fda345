"""Reading loans: the listing and the full detail (case, indicators, measurements, decisions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from lanportfolj.domain.case import Case, GoalCase, IndicatorUse
from lanportfolj.models import (
    Borrower,
    Decision,
    Goal,
    GoalIndicator,
    IndicatorDefinition,
    Judgement,
    Loan,
    LoanIndicator,
    Measurement,
    SocialBond,
)

CASE_TEXT_FIELDS = (
    "social_need",
    "target_group_who",
    "target_group_where",
    "target_group_attributes",
    "interventions",
    "change_for_target_group",
    "future_state",
    "physical_investment",
    "social_intervention",
    "intervention_logic",
    "systematic_work_ref",
    "developed_practice",
    "evaluation_plan",
    "comparison_group",
)


def _loan_filters(
    stmt: Any,
    *,
    borrower_id: int | None,
    statuses: tuple[str, ...] | None,
    references: Collection[str] | None,
    search: str | None,
    category: str | None = None,
) -> Any:
    if borrower_id is not None:
        stmt = stmt.where(Loan.borrower_id == borrower_id)
    if category:
        stmt = stmt.where(Loan.programme_category == category)
    if statuses:
        stmt = stmt.where(col(Loan.status).in_(statuses))
    if references is not None:
        stmt = stmt.where(col(Loan.reference).in_(sorted(references)))
    if search:
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Loan.reference).like(pattern),
                func.lower(Loan.title).like(pattern),
                func.lower(Borrower.name).like(pattern),
            )
        )
    return stmt


def list_loans(
    session: Session,
    *,
    borrower_id: int | None = None,
    statuses: tuple[str, ...] | None = None,
    references: Collection[str] | None = None,
    search: str | None = None,
    category: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Summary rows of the loans that pass the filters, ordered by reference; a page when ``limit`` is set."""
    stmt = (
        select(Loan, Borrower)
        .join(Borrower, col(Borrower.id) == col(Loan.borrower_id))
        .order_by(col(Loan.reference))
    )
    stmt = _loan_filters(
        stmt,
        borrower_id=borrower_id,
        statuses=statuses,
        references=references,
        search=search,
        category=category,
    )
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    return [
        {
            "reference": loan.reference,
            "title": loan.title,
            "borrower": borrower.name,
            "borrower_orgnr": borrower.orgnr,
            "borrower_id": borrower.id,
            "status": loan.status,
            "amount": loan.amount,
            "currency": loan.currency,
            "outstanding_amount": loan.outstanding_amount,
            "programme_category": loan.programme_category,
            "icma_category": loan.icma_category,
            "discount_bp": loan.discount_bp,
            "disbursement_date": loan.disbursement_date,
            "maturity_date": loan.maturity_date,
            "illustrative": loan.illustrative,
        }
        for loan, borrower in session.exec(stmt).all()
    ]


def count_loans(
    session: Session,
    *,
    borrower_id: int | None = None,
    statuses: tuple[str, ...] | None = None,
    references: Collection[str] | None = None,
    search: str | None = None,
    category: str | None = None,
) -> int:
    """How many loans ``list_loans`` would give without a limit."""
    return loan_totals(
        session,
        borrower_id=borrower_id,
        statuses=statuses,
        references=references,
        search=search,
        category=category,
    )[0]


def loan_totals(
    session: Session,
    *,
    borrower_id: int | None = None,
    statuses: tuple[str, ...] | None = None,
    references: Collection[str] | None = None,
    search: str | None = None,
    category: str | None = None,
) -> tuple[int, Decimal]:
    """How many loans ``list_loans`` would give without a limit, and their amounts summed exactly
    (the amounts only leave the database: SQLite holds money as text, so its SUM would be a float)."""
    stmt = select(Loan.amount).join(Borrower, col(Borrower.id) == col(Loan.borrower_id))
    stmt = _loan_filters(
        stmt,
        borrower_id=borrower_id,
        statuses=statuses,
        references=references,
        search=search,
        category=category,
    )
    amounts = session.exec(stmt).all()
    return len(amounts), sum((Decimal(a or 0) for a in amounts), Decimal(0))


def get_loan(session: Session, reference: str) -> Loan | None:
    return session.exec(select(Loan).where(Loan.reference == reference)).first()


def loan_indicator_rows(
    session: Session, loan_id: int
) -> list[tuple[LoanIndicator, IndicatorDefinition]]:
    stmt = (
        select(LoanIndicator, IndicatorDefinition)
        .join(IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id))
        .where(LoanIndicator.loan_id == loan_id)
        .order_by(col(IndicatorDefinition.kind).desc(), col(IndicatorDefinition.code))
    )
    return list(session.exec(stmt).all())


def measurement_history(session: Session, li_ids: list[int]) -> dict[int, list[Measurement]]:
    """Every version of every value, oldest first, by loan-indicator id."""
    out: dict[int, list[Measurement]] = defaultdict(list)
    if not li_ids:
        return out
    stmt = (
        select(Measurement)
        .where(col(Measurement.loan_indicator_id).in_(li_ids))
        .order_by(
            col(Measurement.loan_indicator_id),
            col(Measurement.group_name),
            col(Measurement.year),
            col(Measurement.version),
        )
    )
    for m in session.exec(stmt).all():
        out[m.loan_indicator_id].append(m)
    return out


def goals_with_codes(session: Session, loan_id: int) -> list[tuple[Goal, list[str]]]:
    goals = session.exec(
        select(Goal).where(Goal.loan_id == loan_id).order_by(col(Goal.position))
    ).all()
    codes: dict[int, list[str]] = defaultdict(list)
    if goals:
        stmt = (
            select(GoalIndicator.goal_id, IndicatorDefinition.code)
            .join(LoanIndicator, col(LoanIndicator.id) == col(GoalIndicator.loan_indicator_id))
            .join(
                IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id)
            )
            .where(col(GoalIndicator.goal_id).in_([g.id for g in goals]))
            .order_by(col(IndicatorDefinition.code))
        )
        for goal_id, code in session.exec(stmt).all():
            codes[goal_id].append(code)
    return [(g, codes.get(g.id or 0, [])) for g in goals]


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def loan_detail(session: Session, reference: str) -> dict[str, Any] | None:
    """Everything about one loan as plain data: the case, goals, indicators with baseline, target and
    every measurement version, decisions and judgements. None when there is no such loan."""
    loan = get_loan(session, reference)
    if loan is None or loan.id is None:
        return None
    borrower = session.get(Borrower, loan.borrower_id)
    assert borrower is not None
    owner = session.get(Borrower, borrower.owner_id) if borrower.owner_id else None
    rows = loan_indicator_rows(session, loan.id)
    history = measurement_history(session, [li.id for li, _ in rows if li.id is not None])
    indicators = []
    for li, ind in rows:
        versions = history.get(li.id or 0, [])
        indicators.append(
            {
                "code": ind.code,
                "name_sv": ind.name_sv,
                "name_en": ind.name_en,
                "unit": ind.unit,
                "kind": ind.kind,
                "direction": ind.direction,
                "aggregation": ind.aggregation,
                "own": ind.loan_id is not None,
                "baseline": {"value": _num(li.baseline_value), "year": li.baseline_year},
                "target": {"value": _num(li.target_value), "year": li.target_year},
                "expected": {
                    "value": _num(li.expected_value),
                    "frozen_at": li.expected_frozen_at.isoformat()
                    if li.expected_frozen_at
                    else None,
                },
                "data_source": li.data_source or ind.data_source,
                "measurements": [
                    {
                        "year": m.year,
                        "group": m.group_name,
                        "value": _num(m.value),
                        "estimated": m.estimated,
                        "comment": m.comment,
                        "version": m.version,
                        "current": m.is_current,
                        "source": m.source,
                        "recorded_by": m.recorded_by,
                        "recorded_at": m.recorded_at.isoformat() if m.recorded_at else None,
                    }
                    for m in versions
                ],
            }
        )
    decisions = session.exec(
        select(Decision).where(Decision.loan_id == loan.id).order_by(col(Decision.decided_at))
    ).all()
    judgements = session.exec(
        select(Judgement).where(Judgement.loan_id == loan.id).order_by(col(Judgement.judged_at))
    ).all()
    return {
        "reference": loan.reference,
        "title": loan.title,
        "status": loan.status,
        "illustrative": loan.illustrative,
        "borrower": {
            "name": borrower.name,
            "orgnr": borrower.orgnr,
            "kind": borrower.kind,
            "member": borrower.member,
            "owner": owner.name if owner else None,
        },
        "amount": _num(loan.amount),
        "currency": loan.currency,
        "disbursed_amount": _num(loan.disbursed_amount),
        "outstanding_amount": _num(loan.outstanding_amount),
        "total_project_cost": _num(loan.total_project_cost),
        "application_date": loan.application_date,
        "disbursement_date": loan.disbursement_date,
        "maturity_date": loan.maturity_date,
        "margin_bp": _num(loan.margin_bp),
        "discount_bp": _num(loan.discount_bp),
        "programme_category": loan.programme_category,
        "icma_category": loan.icma_category,
        "target_populations": loan.target_populations,
        "sdgs": loan.sdgs,
        "investment_type": loan.investment_type,
        "case": {name: getattr(loan, name) for name in CASE_TEXT_FIELDS}
        | {
            "planned_sample_per_arm": loan.planned_sample_per_arm,
            "outcome_base_rate": loan.outcome_base_rate,
            "follow_up_until_year": loan.follow_up_until_year,
        },
        "goals": [
            {
                "position": g.position,
                "text": g.text,
                "indicators": codes,
                "target_value": _num(g.target_value),
                "target_year": g.target_year,
            }
            for g, codes in goals_with_codes(session, loan.id)
        ],
        "indicators": indicators,
        "decisions": [
            {
                "kind": d.kind,
                "outcome": d.outcome,
                "by": d.decided_by,
                "at": d.decided_at.isoformat(),
                "rationale": d.rationale,
            }
            for d in decisions
        ],
        "judgements": [
            {
                "criterion": j.criterion_id,
                "result": j.result,
                "by": j.judged_by,
                "at": j.judged_at.isoformat(),
                "rationale": j.rationale,
            }
            for j in judgements
        ],
    }


def case_for(session: Session, loan: Loan) -> Case:
    """The plain ``Case`` the eligibility rules read, built from the stored loan."""
    assert loan.id is not None
    borrower = session.get(Borrower, loan.borrower_id)
    assert borrower is not None
    owner = session.get(Borrower, borrower.owner_id) if borrower.owner_id else None
    rows = loan_indicator_rows(session, loan.id)
    return Case(
        reference=loan.reference,
        borrower_name=borrower.name,
        borrower_kind=borrower.kind,
        borrower_member=borrower.member,
        owner_member=owner.member if owner else None,
        investment_type=loan.investment_type,
        programme_category=loan.programme_category,
        icma_category=loan.icma_category,
        **{name: getattr(loan, name) or "" for name in CASE_TEXT_FIELDS},
        planned_sample_per_arm=loan.planned_sample_per_arm,
        outcome_base_rate=loan.outcome_base_rate,
        application_date=loan.application_date,
        disbursement_date=loan.disbursement_date,
        maturity_date=loan.maturity_date,
        follow_up_until_year=loan.follow_up_until_year,
        amount=loan.amount,
        goals=tuple(
            GoalCase(
                text=g.text,
                indicator_codes=tuple(codes),
                target_value=g.target_value,
                target_year=g.target_year,
            )
            for g, codes in goals_with_codes(session, loan.id)
        ),
        indicators=tuple(
            IndicatorUse(
                code=ind.code,
                kind=ind.kind,
                unit=ind.unit,
                data_source=li.data_source or "",
                baseline_value=li.baseline_value,
                baseline_year=li.baseline_year,
                target_value=li.target_value,
                target_year=li.target_year,
                name_sv=ind.name_sv,
                name_en=ind.name_en,
            )
            for li, ind in rows
        ),
    )


def list_bonds(session: Session) -> list[dict[str, Any]]:
    from lanportfolj.models import BondPoolEntry

    # id breaks ties of the issue date, so the order is the same on every run and in lanportfolj.listings
    bonds = session.exec(
        select(SocialBond).order_by(col(SocialBond.issue_date), col(SocialBond.id))
    ).all()
    counts: dict[int, int] = defaultdict(int)
    for bond_id in session.exec(select(BondPoolEntry.bond_id)).all():
        counts[bond_id] += 1
    return [
        {
            "isin": b.isin,
            "name": b.name,
            "currency": b.currency,
            "nominal_amount": b.nominal_amount,
            "coupon_pct": b.coupon_pct,
            "issue_date": b.issue_date,
            "maturity_date": b.maturity_date,
            "framework_version": b.framework_version,
            "pool_loans": counts.get(b.id or 0, 0),
            "illustrative": b.illustrative,
        }
        for b in bonds
    ]
