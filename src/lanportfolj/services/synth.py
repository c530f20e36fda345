"""A synthetic national-scale portfolio for benchmarks: thousands of loans, a decade of values.

Realistic in shape, invented in content (every row is marked illustrative): the programme's category mix,
log-normal loan sizes, co-financing, indicators drawn from the library per category (ratios together with their
parts), yearly values that drift towards the target, restatements, comparison units and one bond over the pool.
Rows are written with bulk inserts and explicit ids, so no row costs a round trip.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from lanportfolj.db import advance_id_sequences, bulk_insert
from lanportfolj.domain.categories import PROGRAMME_TO_ICMA
from lanportfolj.domain.identifiers import isin_check_digit
from lanportfolj.domain.orgnr import luhn_check_digit
from lanportfolj.library import IndicatorDef
from lanportfolj.models import (
    BondPoolEntry,
    Borrower,
    Decision,
    IndicatorDefinition,
    Loan,
    LoanIndicator,
    Measurement,
    SocialBond,
    Submission,
)

CATEGORY_MIX = (("housing", 0.45), ("safety", 0.25), ("health_education", 0.30))
CHUNK = 20_000


@dataclass
class SynthSummary:
    borrowers: int = 0
    loans: int = 0
    loan_indicators: int = 0
    measurements: int = 0
    restated: int = 0
    comparison_values: int = 0
    bond_isin: str = ""

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _orgnr(prefix: str, serial: int) -> str:
    width = 9 - len(prefix)
    nine = f"{prefix}{serial % 10**width:0{width}d}"
    return f"{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"


def _pick_indicators(
    rng: random.Random, pool: list[IndicatorDef], library: dict[str, IndicatorDef], want: int
) -> list[IndicatorDef]:
    chosen: dict[str, IndicatorDef] = {}
    candidates = pool[:]
    rng.shuffle(candidates)
    for ind in candidates:
        if len(chosen) >= want:
            break
        group = [ind]
        if ind.aggregation == "ratio" and ind.numerator and ind.denominator:
            group += [library[ind.numerator], library[ind.denominator]]
        if len(chosen) + len(group) > want:
            continue
        for g in group:
            chosen[g.code] = g
    return list(chosen.values())


def _level(rng: random.Random, ind: IndicatorDef) -> float:
    if ind.unit == "percent":
        return rng.uniform(20, 80)
    if ind.unit in ("index", "points"):
        return rng.uniform(40, 80)
    if ind.unit == "SEK":
        return rng.uniform(1e6, 5e8)
    if ind.unit.startswith("SEK/"):
        return rng.uniform(900, 1800)
    return float(rng.randint(20, 5000))


def _value(ind: IndicatorDef, x: float) -> Decimal:
    lo = float(ind.min_value) if ind.min_value is not None else -math.inf
    hi = float(ind.max_value) if ind.max_value is not None else math.inf
    x = min(max(x, lo), hi)
    if ind.integer:
        return Decimal(round(x))
    return Decimal(f"{x:.1f}")


def synthesise(
    *,
    session: Session,
    library: dict[str, IndicatorDef],
    loans: int,
    years: int,
    seed: int = 1,
    indicators_per_loan: int = 12,
    last_year: int = 2025,
    progress: Callable[[str, int], None] | None = None,
) -> SynthSummary:
    """Add a synthetic portfolio to ``session`` (the caller commits). Same seed, same portfolio."""
    rng = random.Random(seed)
    step = progress or (lambda _label, _n: None)
    summary = SynthSummary()
    ind_ids = dict(
        session.exec(
            select(IndicatorDefinition.code, IndicatorDefinition.id).where(
                col(IndicatorDefinition.loan_id).is_(None)
            )
        ).all()
    )

    def next_id(model: Any) -> int:
        return int(session.exec(select(func.coalesce(func.max(model.id), 0))).one()) + 1

    first_year = last_year - years + 1
    now = datetime(last_year + 1, 3, 1, tzinfo=UTC)

    # borrowers: municipalities and their companies
    n_borrowers = max(2, min(400, loans // 10 + 2))
    borrower_id0 = next_id(Borrower)
    borrower_rows: list[dict[str, Any]] = []
    for i in range(n_borrowers):
        is_company = i % 3 == 2
        borrower_rows.append(
            {
                "id": borrower_id0 + i,
                "orgnr": _orgnr("5599" if is_company else "2129", seed * 1000 + i),
                "name": f"Synthetic {'Bostäder AB' if is_company else 'kommun'} {i:04d}",
                "kind": "municipal_company" if is_company else "municipality",
                "owner_id": borrower_id0 + i - 1 if is_company else None,
                "member": True,
                "created_at": now,
            }
        )
    session.execute(insert(Borrower), borrower_rows)
    summary.borrowers = n_borrowers
    step("borrowers", n_borrowers)

    by_category = {
        cat: [ind for ind in library.values() if cat in ind.programme_categories]
        for cat, _ in CATEGORY_MIX
    }
    loan_id0 = next_id(Loan)
    li_id0 = next_id(LoanIndicator)
    submission_id = next_id(Submission)
    session.execute(
        insert(Submission),
        [
            {
                "id": submission_id,
                "uploaded_by": "synth",
                "source": "synthetic",
                "filename": f"synthetic-seed-{seed}.csv",
                "content": b"",
                "sha256": f"synthetic-{seed}-{loans}-{years}",
                "size": 0,
                "uploaded_at": now,
                "status": "accepted",
            }
        ],
    )
    loan_rows: list[dict[str, Any]] = []
    li_rows: list[dict[str, Any]] = []
    decision_rows: list[dict[str, Any]] = []
    m_rows: list[dict[str, Any]] = []
    li_id = li_id0
    cats = [c for c, _ in CATEGORY_MIX]
    weights = [w for _, w in CATEGORY_MIX]

    def flush_measurements() -> None:
        if m_rows:
            bulk_insert(session, Measurement, m_rows)
            summary.measurements += len(m_rows)
            m_rows.clear()

    for n in range(loans):
        loan_id = loan_id0 + n
        category = rng.choices(cats, weights)[0]
        amount = Decimal(
            int(min(4e9, max(5e6, rng.lognormvariate(math.log(1.5e8), 1.0))) // 1000 * 1000)
        )
        share = rng.choice((1.0, 1.0, 1.0, 0.8, 0.5, 0.35))
        total_cost = (amount / Decimal(str(share))).quantize(Decimal(1))
        disbursed = date(first_year, 1, 1) + timedelta(days=rng.randint(0, 365 * max(1, years - 2)))
        outstanding = (amount * Decimal(str(rng.choice((1.0, 1.0, 0.9, 0.75))))).quantize(
            Decimal(1)
        )
        ref = f"SY-{disbursed.year}-{n + 1:05d}"
        loan_rows.append(
            {
                "id": loan_id,
                "reference": ref,
                "borrower_id": borrower_id0 + rng.randrange(n_borrowers),
                "title": f"Synthetic {category} project {n + 1}",
                "status": "active",
                "currency": "SEK",
                "amount": amount,
                "disbursed_amount": amount,
                "outstanding_amount": outstanding,
                "total_project_cost": total_cost,
                "application_date": disbursed - timedelta(days=90),
                "disbursement_date": disbursed,
                # day 28 at most: a 29 February disbursement has no anniversary in most years
                "maturity_date": disbursed.replace(
                    year=disbursed.year + rng.choice((5, 7, 10)), day=min(disbursed.day, 28)
                ),
                "margin_bp": Decimal(rng.choice((15, 20, 25, 30))),
                "discount_bp": Decimal(2),
                "programme_category": category,
                "icma_category": PROGRAMME_TO_ICMA[category][0],
                "target_populations": ["excluded_marginalised"],
                "sdgs": ["11.1"],
                "investment_type": "social_linked_to_physical",
                "illustrative": True,
                "created_at": now,
                "updated_at": now,
            }
        )
        for kind in ("committee", "credit"):
            decision_rows.append(
                {
                    "loan_id": loan_id,
                    "kind": kind,
                    "outcome": "approved",
                    "rationale": "synthetic",
                    "decided_by": "synth",
                    "decided_at": now,
                }
            )
        compare = rng.random() < 0.05
        for j, ind in enumerate(
            _pick_indicators(rng, by_category[category], library, indicators_per_loan)
        ):
            base = _level(rng, ind)
            better = 1 if ind.direction == "increase" else -1
            target = base * (1 + better * rng.uniform(0.05, 0.3))
            baseline_year = first_year - 1
            li_rows.append(
                {
                    "id": li_id,
                    "loan_id": loan_id,
                    "indicator_id": ind_ids[ind.code],
                    "baseline_value": _value(ind, base),
                    "baseline_year": baseline_year,
                    "target_value": _value(ind, target),
                    "target_year": last_year + 3,
                    "data_source": "synthetic",
                }
            )
            groups = [""] + (["Comparison unit"] if compare and j == 0 else [])
            for group in groups:
                level = base
                for year in range(first_year, last_year + 1):
                    drift = (target - base) / (last_year + 3 - baseline_year)
                    level = level + drift * (0.0 if group else 1.0) + rng.gauss(0, abs(base) * 0.02)
                    value = _value(ind, level)
                    restate = rng.random() < 0.02
                    common = {
                        "loan_indicator_id": li_id,
                        "group_name": group,
                        "year": year,
                        "estimated": rng.random() < 0.05,
                        "source": "synthetic",
                        "submission_id": submission_id,
                        "recorded_by": "synth",
                        "recorded_at": now,
                        "comment": None,
                    }
                    if restate:
                        m_rows.append(
                            common
                            | {
                                "value": _value(ind, level * 0.97),
                                "version": 1,
                                "is_current": False,
                            }
                        )
                        m_rows.append(common | {"value": value, "version": 2, "is_current": True})
                        summary.restated += 1
                    else:
                        m_rows.append(common | {"value": value, "version": 1, "is_current": True})
                    if group:
                        summary.comparison_values += 1
            li_id += 1
        if len(m_rows) >= CHUNK:
            # loans and their indicators go first: measurements point at them
            session.execute(insert(Loan), loan_rows)
            session.execute(insert(LoanIndicator), li_rows)
            session.execute(insert(Decision), decision_rows)
            summary.loans += len(loan_rows)
            summary.loan_indicators += len(li_rows)
            loan_rows.clear()
            li_rows.clear()
            decision_rows.clear()
            flush_measurements()
            step("loans", n + 1)
    if loan_rows:
        session.execute(insert(Loan), loan_rows)
        session.execute(insert(LoanIndicator), li_rows)
        session.execute(insert(Decision), decision_rows)
        summary.loans += len(loan_rows)
        summary.loan_indicators += len(li_rows)
    flush_measurements()
    step("loans", loans)

    bond_id = next_id(SocialBond)
    isin_base = f"XS{seed:09d}"[:11]
    isin = f"{isin_base}{isin_check_digit(isin_base)}"  # a valid ISIN: the load check refuses any other
    session.execute(
        insert(SocialBond),
        [
            {
                "id": bond_id,
                "isin": isin,
                "name": f"Synthetic social bond (seed {seed})",
                "currency": "SEK",
                "nominal_amount": Decimal(10_000_000_000),
                "coupon_pct": Decimal("2.5"),
                "issue_date": date(last_year - 1, 4, 1),
                "maturity_date": date(last_year + 4, 9, 1),
                "framework_version": "synthetic",
                "illustrative": True,
            }
        ],
    )
    session.execute(
        insert(BondPoolEntry),
        [{"bond_id": bond_id, "loan_id": loan_id0 + n, "added_at": now} for n in range(loans)],
    )
    # the ids above were chosen here: PostgreSQL's sequences must hear of them
    advance_id_sequences(session, (Borrower, Submission, Loan, LoanIndicator, SocialBond))
    summary.bond_isin = isin
    return summary
