"""A small world for the shell's tests: two organisations, their loans, a bond pool, one user per role.

``own`` is the borrower user's organisation; ``other`` is somebody else's. The draft loan is in no pool, so
investors must not see it. Passwords are all ``PASSWORD``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import Engine

from lanportfolj.db import session_scope
from lanportfolj.models import BondPoolEntry, Borrower, Loan, SocialBond
from lanportfolj.services import users

PASSWORD = "correct horse battery"
ROLES = ("analyst", "borrower", "investor", "admin")
WHO = ("anonymous", *ROLES)


@dataclass(frozen=True)
class World:
    own_borrower_id: int
    other_borrower_id: int
    own_loan: str
    other_loan: str
    draft_loan: str
    emails: dict[str, str]
    user_ids: dict[str, int]
    spare_user_id: int
    """A user the admin tests may change without touching anyone who signs in."""
    token_id: int

    def values(self) -> dict[str, Any]:
        return {
            "own_loan": self.own_loan,
            "other_loan": self.other_loan,
            "draft_loan": self.draft_loan,
            "spare_user_id": self.spare_user_id,
            "token_id": self.token_id,
            "own_borrower_id": self.own_borrower_id,
            "other_borrower_id": self.other_borrower_id,
        }


def _loan(borrower_id: int, reference: str, title: str, status: str = "active") -> Loan:
    return Loan(
        reference=reference,
        borrower_id=borrower_id,
        title=title,
        status=status,
        amount=Decimal("16000000"),
        disbursed_amount=Decimal("16000000"),
        outstanding_amount=Decimal("16000000"),
        programme_category="health_education",
        icma_category="access_to_essential_services",
        investment_type="physical",
        physical_investment="A new family centre.",
        social_intervention="Home visits to new parents.",
        disbursement_date=date(2024, 3, 1),
        maturity_date=date(2034, 3, 1),
    )


def fast_hashing(monkeypatch: Any) -> None:
    """Cheap Argon2 parameters for tests: production's cost (on purpose ~0.1 s a hash) would make the
    access matrix, with hundreds of sign-ins, take minutes. The algorithm and code path stay the same."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def build_world(engine: Engine) -> World:
    """Write the world into an empty (migrated) database."""
    with session_scope(engine) as db:
        own = Borrower(orgnr="212000-1355", name="Vara kommun", kind="municipality", member=True)
        other = Borrower(
            orgnr="212000-2882",
            name="Botkyrka kommun",
            kind="municipality",
            member=True,
            contact_email="secret-contact@botkyrka.example",
        )
        db.add(own)
        db.add(other)
        db.flush()
        assert own.id is not None and other.id is not None
        loans = [
            _loan(own.id, "TO-2025-001", "Family centre <b>Vara</b>"),
            _loan(other.id, "TX-2025-001", "Renovation in Alby"),
            _loan(other.id, "TD-2025-001", "Unpublished plans", status="draft"),
        ]
        for loan in loans:
            db.add(loan)
        bond = SocialBond(
            isin="SE0000000002",
            name="Test social bond",
            nominal_amount=Decimal("3000000000"),
            issue_date=date(2025, 4, 1),
            maturity_date=date(2028, 9, 1),
        )
        db.add(bond)
        db.flush()
        for loan in loans[:2]:
            db.add(BondPoolEntry(bond_id=bond.id or 0, loan_id=loan.id or 0))
        emails: dict[str, str] = {}
        ids: dict[str, int] = {}
        for role in ROLES:
            email = f"{role}@test.example"
            user = users.create_user(
                db,
                email=email,
                role=role,
                password=PASSWORD,
                borrower_id=own.id if role == "borrower" else None,
            )
            emails[role] = email
            ids[role] = user.id or 0
        spare = users.create_user(
            db, email="spare@test.example", role="investor", password=PASSWORD
        )
        token, _raw = users.create_token(db, user=spare, name="spare", actor="test")
        return World(
            own_borrower_id=own.id,
            other_borrower_id=other.id,
            own_loan="TO-2025-001",
            other_loan="TX-2025-001",
            draft_loan="TD-2025-001",
            emails=emails,
            user_ids=ids,
            spare_user_id=spare.id or 0,
            token_id=token.id or 0,
        )


def csrf(client: TestClient) -> str:
    """The CSRF token for ``client`` (a GET sets the cookie the first time)."""
    token = client.cookies.get("csrftoken")
    if token is None:
        client.get("/login")
        token = client.cookies.get("csrftoken")
    assert token, "the CSRF cookie was not set"
    return token


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Post the login form as a browser would; returns the response (302 on success)."""
    return client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": csrf(client)},
        follow_redirects=False,
    )


def signed_in(app: Any, email: str, password: str = PASSWORD) -> TestClient:
    """A test client for ``app``, opened and signed in as ``email`` (closed with the test's app).

    The session lives in the database (``user_session``): the client holds only its token cookie and
    the CSRF token signed for that session, both set by the sign-in itself. A forged cookie cannot stand
    in for a sign-in any more."""
    client = TestClient(app)
    client.__enter__()
    response = sign_in(client, email, password)
    assert response.status_code == 302, f"sign-in of {email} failed: {response.status_code}"
    assert client.cookies.get("lanportfolj_session"), "the sign-in set no session cookie"
    return client
