"""The bond programme: several bonds, in any currency, on one eligible pool (issue 17, PRODUCT §5).

One documented basis for shares, flags and allocation:

* every amount is compared in **SEK** on **outstanding** amounts: each bond's nominal is converted at
  its dated rate (``nominal × SEK per unit``, rounded half-even to the öre), the pool is the eligible
  loans' outstanding SEK;
* a bond's share = its SEK nominal ÷ the pool; when the bonds together exceed the pool, the shares are
  capped together at 100 %: share = SEK nominal ÷ all bonds' SEK nominal (MuniFin's rule). The share is
  kept as an exact fraction and shown with 8 decimals;
* allocated = exact share × pool, **rounded down** to the öre (in SEK) and to the cent (in the bond's
  currency, exact share × pool ÷ rate), so the bonds together never allocate more than the pool;
* unallocated = nominal − allocated (never negative), per bond and for the programme;
* headroom = pool − bonds outstanding (negative when the bonds exceed the pool); the ratio is bonds
  outstanding ÷ pool (above 1 the "bonds ≤ pool" test fails).

Pure: plain dataclasses in, plain dataclasses out.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Final

MONEY_SCALE: Final = 2
SHARE_SCALE: Final = 8
CENT: Final = Decimal("0.01")

OUTSTANDING: Final = "outstanding"
NOT_ISSUED: Final = "not_issued"
MATURED: Final = "matured"


@dataclass(frozen=True)
class ProgrammeBond:
    """A bond of the programme with the rate that converts it (1 unit = ``sek_per_unit`` SEK)."""

    isin: str
    name: str
    currency: str
    nominal: Decimal
    issue_date: date
    maturity_date: date
    sek_per_unit: Decimal
    #: where the rate comes from and of which date (empty for SEK)
    fx_statement: str = ""


@dataclass(frozen=True)
class BondFigures:
    """One bond's figures in the programme at a date."""

    isin: str
    name: str
    currency: str
    nominal: Decimal
    issue_date: date
    maturity_date: date
    status: str
    sek_per_unit: Decimal
    fx_statement: str
    nominal_sek: Decimal
    share: Decimal | None
    allocated: Decimal
    allocated_sek: Decimal
    unallocated: Decimal
    unallocated_sek: Decimal


@dataclass(frozen=True)
class Programme:
    """The programme at ``as_of``: the bonds outstanding share ``pool_sek``."""

    as_of: date
    pool_sek: Decimal
    bonds_outstanding_sek: Decimal
    allocated_sek: Decimal
    unallocated_sek: Decimal
    headroom_sek: Decimal
    ratio: Decimal | None
    capped: bool
    within_pool: bool
    bonds: tuple[BondFigures, ...]


@dataclass(frozen=True)
class TestPoint:
    """The dated "bonds outstanding ≤ eligible pool" test."""

    day: date
    kind: str  # "report" | "month_end" | "as_of"
    bonds_outstanding_sek: Decimal
    pool_sek: Decimal
    headroom_sek: Decimal
    within_pool: bool


def round_half_even(value: Fraction | Decimal, scale: int) -> Decimal:
    exact = Fraction(value) * 10**scale
    return Decimal(round(exact)).scaleb(-scale)


def round_down(value: Fraction, scale: int) -> Decimal:
    """``value`` rounded towards minus infinity to ``scale`` decimals."""
    return Decimal(math.floor(value * 10**scale)).scaleb(-scale)


def status_at(issue_date: date, maturity_date: date, day: date) -> str:
    """``outstanding`` from issue until (not including) maturity, else ``not_issued``/``matured``."""
    if day < issue_date:
        return NOT_ISSUED
    if day >= maturity_date:
        return MATURED
    return OUTSTANDING


def nominal_sek(bond: ProgrammeBond) -> Decimal:
    """The bond's nominal in SEK at its rate, rounded half-even to the öre."""
    if bond.sek_per_unit <= 0:
        raise ValueError(f"{bond.isin}: the FX rate must be positive, not {bond.sek_per_unit}")
    return round_half_even(Fraction(bond.nominal) * Fraction(bond.sek_per_unit), MONEY_SCALE)


def exact_shares(nominals_sek: Sequence[Decimal], pool_sek: Decimal) -> list[Fraction | None]:
    """Each nominal ÷ pool, capped together at 100 % (÷ the nominals' total when that is larger)."""
    total = sum((Fraction(n) for n in nominals_sek), Fraction(0))
    base = max(total, Fraction(pool_sek))
    if pool_sek <= 0 or base <= 0:
        return [None for _ in nominals_sek]
    return [Fraction(n) / base for n in nominals_sek]


def programme_at(bonds: Iterable[ProgrammeBond], pool_sek: Decimal, as_of: date) -> Programme:
    """The programme's figures at ``as_of``: only the bonds outstanding then share the pool; the
    others are listed with their status and no share."""
    all_bonds = sorted(bonds, key=lambda b: (b.issue_date, b.isin))
    live = [b for b in all_bonds if status_at(b.issue_date, b.maturity_date, as_of) == OUTSTANDING]
    sek = {b.isin: nominal_sek(b) for b in all_bonds}
    shares = dict(
        zip(
            [b.isin for b in live],
            exact_shares([sek[b.isin] for b in live], pool_sek),
            strict=True,
        )
    )
    pool = Fraction(pool_sek)
    rows: list[BondFigures] = []
    for bond in all_bonds:
        share = shares.get(bond.isin)
        if share is None:
            allocated_sek = allocated = Decimal("0.00")
        else:
            allocated_sek = round_down(share * pool, MONEY_SCALE)
            allocated = round_down(share * pool / Fraction(bond.sek_per_unit), MONEY_SCALE)
        in_programme = bond.isin in shares
        nominal = bond.nominal.quantize(CENT)
        rows.append(
            BondFigures(
                isin=bond.isin,
                name=bond.name,
                currency=bond.currency,
                nominal=nominal,
                issue_date=bond.issue_date,
                maturity_date=bond.maturity_date,
                status=status_at(bond.issue_date, bond.maturity_date, as_of),
                sek_per_unit=bond.sek_per_unit,
                fx_statement=bond.fx_statement,
                nominal_sek=sek[bond.isin],
                share=None if share is None else round_half_even(share, SHARE_SCALE),
                allocated=allocated,
                allocated_sek=allocated_sek,
                unallocated=max(Decimal("0.00"), nominal - allocated)
                if in_programme
                else Decimal("0.00"),
                unallocated_sek=max(Decimal("0.00"), sek[bond.isin] - allocated_sek)
                if in_programme
                else Decimal("0.00"),
            )
        )
    outstanding = sum((sek[b.isin] for b in live), Decimal("0.00"))
    allocated_total = sum((r.allocated_sek for r in rows), Decimal("0.00"))
    pool_money = pool_sek.quantize(CENT)
    return Programme(
        as_of=as_of,
        pool_sek=pool_money,
        bonds_outstanding_sek=outstanding,
        allocated_sek=allocated_total,
        unallocated_sek=max(Decimal("0.00"), outstanding - allocated_total),
        headroom_sek=pool_money - outstanding,
        ratio=round_half_even(Fraction(outstanding) / pool, SHARE_SCALE) if pool > 0 else None,
        capped=outstanding > pool_money,
        within_pool=outstanding <= pool_money,
        bonds=tuple(rows),
    )


def month_ends(start: date, end: date) -> list[date]:
    """The last day of every month from ``start``'s month up to ``end`` (inclusive, when it is one)."""
    out: list[date] = []
    year, month = start.year, start.month
    while True:
        last = date(year, month, calendar.monthrange(year, month)[1])
        if last > end:
            break
        if last >= start:
            out.append(last)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def test_point(
    day: date, kind: str, bonds_outstanding_sek: Decimal, pool_sek: Decimal
) -> TestPoint:
    pool = pool_sek.quantize(CENT)
    return TestPoint(
        day=day,
        kind=kind,
        bonds_outstanding_sek=bonds_outstanding_sek,
        pool_sek=pool,
        headroom_sek=pool - bonds_outstanding_sek,
        within_pool=bonds_outstanding_sek <= pool,
    )


def history_dates(
    first_issue: date, as_of: date, report_dates: Iterable[date]
) -> list[tuple[date, str]]:
    """The dates of the dated test: every report date and month end from the first issue up to
    ``as_of``, and ``as_of`` itself; a day that is both a report date and a month end is a report."""
    days: dict[date, str] = {d: "month_end" for d in month_ends(first_issue, as_of)}
    for d in report_dates:
        if first_issue <= d <= as_of:
            days[d] = "report"
    days.setdefault(as_of, "as_of")
    return sorted(days.items())


#: loan statuses in the pool (approved or disbursed, not repaid): as ``domain.allocation``
POOL_STATUSES: Final = ("approved", "active")
#: the life events that take a loan (or part of it) out of the pool
LEAVING_EVENTS: Final = ("matured", "repaid", "prepaid", "written_down")


@dataclass(frozen=True)
class Tranche:
    day: date
    amount: Decimal
    #: "financing" | "refinancing" | None (derived from the bond's issue date)
    funding: str | None = None


@dataclass(frozen=True)
class LifeEvent:
    kind: str
    day: date
    #: the amount that left the pool (the whole outstanding amount when the loan left)
    amount: Decimal


@dataclass(frozen=True)
class PoolLoan:
    """A pool loan with what dates its amounts: tranches (else its one disbursement) and events."""

    reference: str
    borrower: str
    status: str
    disbursement_date: date | None
    disbursed_amount: Decimal
    outstanding_amount: Decimal
    maturity_date: date | None
    tranches: tuple[Tranche, ...] = ()
    events: tuple[LifeEvent, ...] = ()


def disbursed_by(loan: PoolLoan, day: date) -> Decimal:
    """What the loan had disbursed by ``day``: its tranches up to then, else its one disbursement."""
    if loan.tranches:
        return sum((t.amount for t in loan.tranches if t.day <= day), Decimal("0.00"))
    if loan.disbursement_date is not None and loan.disbursement_date <= day:
        return loan.disbursed_amount
    return Decimal("0.00")


def outstanding_at(loan: PoolLoan, day: date) -> Decimal:
    """The loan's outstanding SEK in the pool on ``day``.

    The stored outstanding amount is today's, after every recorded event; on an earlier day the
    amounts that left later are added back, never more than was disbursed by then. A loan that is no
    longer approved or active (repaid, say) counts only before the event that took it out; without
    such an event it is not in the pool at all.
    """
    later = [e for e in loan.events if e.kind in LEAVING_EVENTS and e.day > day]
    if loan.status not in POOL_STATUSES and not later:
        return Decimal("0.00")
    back = sum((e.amount for e in later), Decimal("0.00"))
    return max(Decimal("0.00"), min(disbursed_by(loan, day), loan.outstanding_amount + back))


def pool_sek_on(loans: Iterable[PoolLoan], days: Iterable[date]) -> dict[date, Decimal]:
    """The pool's outstanding SEK (the sum of ``outstanding_at``) on each of ``days``, by day.

    A loan's ``outstanding_at`` changes only on the days of its tranches, its disbursement and its
    leaving events, so each loan is evaluated once before its first such day and once on each of
    them, and the changes are summed by day: a few evaluations a loan instead of one for every day
    of the dated test (two dozen at a report date, 10 000 loans). The sums are exact decimals, the
    same as adding ``outstanding_at`` day by day, digit for digit when every amount is in öre (two
    decimals, as ``services.programme.pool_loans`` gives them).
    """
    base = Decimal("0.00")
    changes: dict[date, Decimal] = {}
    for loan in loans:
        points = {t.day for t in loan.tranches}
        points.update(e.day for e in loan.events if e.kind in LEAVING_EVENTS)
        if not loan.tranches and loan.disbursement_date is not None:
            points.add(loan.disbursement_date)
        before = outstanding_at(loan, date.min)
        base += before
        for point in sorted(points):
            now = outstanding_at(loan, point)
            if now != before:
                changes[point] = changes.get(point, Decimal("0.00")) + (now - before)
            before = now
    steps = sorted(changes.items())
    out: dict[date, Decimal] = {}
    total, index = base, 0
    for day in sorted(set(days)):  # in order: each day adds the changes since the one before
        while index < len(steps) and steps[index][0] <= day:
            total += steps[index][1]
            index += 1
        out[day] = total
    return out


def outstanding_before(loan: PoolLoan, day: date) -> Decimal:
    """The loan's outstanding SEK just before the events of ``day`` (what left on that day added
    back), never more than was disbursed by then: a loan's amount in the pool as it left."""
    back = sum(
        (e.amount for e in loan.events if e.kind in LEAVING_EVENTS and e.day >= day),
        Decimal("0.00"),
    )
    return max(Decimal("0.00"), min(disbursed_by(loan, day), loan.outstanding_amount + back))


def status_on(loan: PoolLoan, day: date) -> str:
    """The loan's status on ``day``: a loan repaid later was still in the pool then (``active``
    when it had disbursed, else as it was approved); otherwise its stored status."""
    if loan.status in POOL_STATUSES:
        return loan.status
    later = [e for e in loan.events if e.kind in LEAVING_EVENTS and e.day > day]
    if later:
        return "active" if disbursed_by(loan, day) > 0 else "approved"
    return loan.status


def left_pool(loan: PoolLoan) -> LifeEvent | None:
    """The event that took the whole loan out of the pool (the last one), or None."""
    leaving = sorted((e for e in loan.events if e.kind in LEAVING_EVENTS), key=lambda e: e.day)
    if leaving and (loan.status not in POOL_STATUSES or loan.outstanding_amount <= 0):
        return leaving[-1]
    return None


FINANCING: Final = "financing"
REFINANCING: Final = "refinancing"


@dataclass(frozen=True)
class VintageRow:
    """The pool's outstanding SEK by year of disbursement and funding mark."""

    year: int
    funding: str
    outstanding_sek: Decimal
    tranches: int
    lookback_exceeded: int


def tranches_of(loan: PoolLoan) -> tuple[Tranche, ...]:
    """The loan's tranches; a loan without any is one tranche: its disbursement."""
    if loan.tranches:
        return loan.tranches
    if loan.disbursement_date is None or loan.disbursed_amount <= 0:
        return ()
    return (Tranche(loan.disbursement_date, loan.disbursed_amount),)


def funding_of(tranche: Tranche, first_issue: date) -> str:
    """The tranche's own mark, else financing when disbursed on or after the (first) issue."""
    if tranche.funding in (FINANCING, REFINANCING):
        return tranche.funding
    return FINANCING if tranche.day >= first_issue else REFINANCING


def tranche_outstanding(loan: PoolLoan, day: date) -> list[tuple[Tranche, Decimal]]:
    """The loan's outstanding on ``day`` spread over its tranches disbursed by then, pro rata to their
    amounts, each rounded down to the öre and the remainder on the latest, so they add up exactly."""
    paid = [t for t in tranches_of(loan) if t.day <= day]
    total = outstanding_at(loan, day)
    if len(paid) == 1 and total > 0 and paid[0].amount > 0:
        # one tranche takes it all: what the split below gives (its remainder is the whole), with
        # the same exponent, without its exact fractions (most loans, 10 000 at national scale)
        return [(paid[0], total + Decimal("0.00"))]
    disbursed = sum((t.amount for t in paid), Decimal("0.00"))
    if not paid or total <= 0 or disbursed <= 0:
        return [(t, Decimal("0.00")) for t in paid]
    parts = [
        round_down(Fraction(total) * Fraction(t.amount) / Fraction(disbursed), 2) for t in paid
    ]
    parts[-1] += total - sum(parts, Decimal("0.00"))
    return list(zip(paid, parts, strict=True))


def vintage(
    loans: Iterable[PoolLoan], day: date, first_issue: date, cutoff: date
) -> list[VintageRow]:
    """The pool on ``day`` by year of disbursement and financing/refinancing; refinancing tranches
    disbursed before ``cutoff`` (the look-back limit before the first issue) are counted apart."""
    rows: dict[tuple[int, str], list[Decimal | int]] = {}
    for loan in loans:
        for tranche, amount in tranche_outstanding(loan, day):
            funding = funding_of(tranche, first_issue)
            row = rows.setdefault((tranche.day.year, funding), [Decimal("0.00"), 0, 0])
            row[0] = Decimal(row[0]) + amount
            row[1] = int(row[1]) + 1
            if funding == REFINANCING and tranche.day < cutoff:
                row[2] = int(row[2]) + 1
    return [
        VintageRow(year, funding, Decimal(v[0]), int(v[1]), int(v[2]))
        for (year, funding), v in sorted(rows.items())
    ]
