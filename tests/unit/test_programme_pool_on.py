"""``domain.programme``: the pool on many days at once, and a one-tranche loan's vintage, give what the
day-by-day definitions give, digit for digit (the report's programme section and dated test use them)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from lanportfolj.domain.programme import (
    LEAVING_EVENTS,
    LifeEvent,
    PoolLoan,
    Tranche,
    outstanding_at,
    pool_sek_on,
    round_down,
    tranche_outstanding,
    tranches_of,
)

START = date(2022, 1, 1)
days = st.integers(min_value=0, max_value=1500).map(lambda n: START + timedelta(days=n))
cents = st.integers(min_value=0, max_value=10**9).map(lambda n: Decimal(n).scaleb(-2))
# amounts in öre, as services.programme.pool_loans gives them (every amount quantized to two decimals):
# with mixed exponents a sum of the same numbers can print differently (0.000 and 0.00)
amounts = st.one_of(cents, st.sampled_from([Decimal("100.00"), Decimal("0.00"), Decimal("12.50")]))


@st.composite
def loans(draw: st.DrawFn) -> PoolLoan:
    tranches = tuple(
        sorted(draw(st.lists(st.builds(Tranche, days, cents), max_size=3)), key=lambda t: t.day)
    )
    kinds = st.sampled_from([*LEAVING_EVENTS, "restructured"])
    events = tuple(draw(st.lists(st.builds(LifeEvent, kinds, days, cents), max_size=3)))
    return PoolLoan(
        reference="SH-1",
        borrower="Stockholms stad",
        status=draw(st.sampled_from(["approved", "active", "repaid", "matured"])),
        disbursement_date=draw(st.one_of(st.none(), days)),
        disbursed_amount=draw(amounts),
        outstanding_amount=draw(amounts),
        maturity_date=None,
        tranches=tranches,
        events=events,
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(loans(), max_size=6), st.lists(days, min_size=1, max_size=8))
def test_the_pool_on_many_days_is_the_sum_of_each_loan_on_each_day(
    pool: list[PoolLoan], when: list[date]
) -> None:
    found = pool_sek_on(pool, when)
    for day in when:
        expected = sum((outstanding_at(loan, day) for loan in pool), Decimal("0.00"))
        # the same text, not only the same number: the report prints it
        assert str(found[day]) == str(expected)


def _split(loan: PoolLoan, day: date) -> list[tuple[Tranche, Decimal]]:
    """The pro-rata split as written out in full, without the one-tranche shortcut."""
    paid = [t for t in tranches_of(loan) if t.day <= day]
    total = outstanding_at(loan, day)
    disbursed = sum((t.amount for t in paid), Decimal("0.00"))
    if not paid or total <= 0 or disbursed <= 0:
        return [(t, Decimal("0.00")) for t in paid]
    parts = [
        round_down(Fraction(total) * Fraction(t.amount) / Fraction(disbursed), 2) for t in paid
    ]
    parts[-1] += total - sum(parts, Decimal("0.00"))
    return list(zip(paid, parts, strict=True))


@settings(max_examples=300, deadline=None)
@given(loans(), days)
def test_a_loans_vintage_split_is_the_pro_rata_split(loan: PoolLoan, day: date) -> None:
    assert [(t, str(v)) for t, v in tranche_outstanding(loan, day)] == [
        (t, str(v)) for t, v in _split(loan, day)
    ]
