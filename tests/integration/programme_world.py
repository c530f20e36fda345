"""Hand-computed programme fixtures (issue 17), built in a real database.

(a) one pool of 100 000 000 SEK outstanding shared by three bonds: SEK 50 m, EUR 3 m, USD 2 m; rates
    from loaded files: EUR 11.5 (Riksbank layout, 2025-12-30), USD 10.25 (plain file, 2025-12-31).
(d) five SEK bonds, 3 × 500 m + 445 m + 31 m, over a 1 786 m pool.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from lanportfolj.models import BondPoolEntry, Borrower, Decision, Loan, SocialBond

ISSUE = date(2024, 6, 1)
MATURITY = date(2029, 6, 1)
DAY = date(2025, 12, 31)

RIKSBANK_EUR = (
    b"Period;Group;Series;Value\n"
    b"2024-05-31;Currencies against Swedish kronor;SEKEURPMI;11,6000\n"
    b"2025-12-24;Currencies against Swedish kronor;SEKEURPMI;n/a\n"
    b"2025-12-30;Currencies against Swedish kronor;SEKEURPMI;11,5000\n"
)
PLAIN_USD = b"date;currency;rate\n2024-05-31;USD;10.80\n2025-12-31;USD;10.25\n"


def loan(
    session: Session,
    borrower: Borrower,
    reference: str,
    outstanding: str,
    disbursed_on: date,
    *,
    status: str = "active",
    maturity: date | None = None,
) -> Loan:
    row = Loan(
        reference=reference,
        borrower_id=borrower.id or 0,
        title=f"Project {reference}",
        status=status,
        amount=Decimal(outstanding),
        disbursed_amount=Decimal(outstanding),
        outstanding_amount=Decimal(outstanding),
        total_project_cost=Decimal(outstanding) * 2,
        disbursement_date=disbursed_on,
        maturity_date=maturity or date(2040, 1, 1),
        programme_category="housing",
    )
    session.add(row)
    session.flush()
    for kind in ("committee", "credit"):
        session.add(Decision(loan_id=row.id or 0, kind=kind, outcome="approved", decided_by="test"))
    return row


def borrower(session: Session) -> Borrower:
    row = Borrower(orgnr="212000-0142", name="Stockholms stad", kind="municipality", member=True)
    session.add(row)
    session.flush()
    return row


def bonds_on(session: Session, loans: list[Loan], specs: list[tuple[str, str, str]]) -> None:
    for isin, currency, nominal in specs:
        bond = SocialBond(
            isin=isin,
            name=f"Social bond {currency}",
            currency=currency,
            nominal_amount=Decimal(nominal),
            issue_date=ISSUE,
            maturity_date=MATURITY,
        )
        session.add(bond)
        session.flush()
        for row in loans:
            session.add(BondPoolEntry(bond_id=bond.id or 0, loan_id=row.id or 0))
    session.flush()


FIXTURE_A_BONDS = [
    ("SE0000000010", "SEK", "50000000"),
    ("XS0000000017", "EUR", "3000000"),
    ("US0000000010", "USD", "2000000"),
]


def fixture_a(session: Session) -> list[Loan]:
    """Four loans, 100 000 000 SEK outstanding in all, two before the issue, two after."""
    who = borrower(session)
    loans = [
        loan(session, who, "SH-2023-001", "40000000.00", date(2023, 3, 1)),
        loan(session, who, "SH-2023-002", "30000000.00", date(2023, 9, 1)),
        loan(session, who, "SH-2024-003", "20000000.00", date(2024, 9, 1)),
        loan(session, who, "SH-2025-004", "10000000.00", date(2025, 3, 1)),
    ]
    bonds_on(session, loans, FIXTURE_A_BONDS)
    return loans


def fixture_d(session: Session) -> list[Loan]:
    """Two loans, 1 786 000 000 SEK outstanding, under five SEK bonds."""
    who = borrower(session)
    loans = [
        loan(session, who, "SH-2023-101", "1000000000.00", date(2023, 3, 1)),
        loan(session, who, "SH-2023-102", "786000000.00", date(2023, 9, 1)),
    ]
    specs = [
        ("SE0000000101", "SEK", "500000000"),
        ("SE0000000119", "SEK", "500000000"),
        ("SE0000000127", "SEK", "500000000"),
        ("SE0000000135", "SEK", "445000000"),
        ("SE0000000143", "SEK", "31000000"),
    ]
    bonds_on(session, loans, specs)
    return loans
