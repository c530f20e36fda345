"""Who may use which route: every handler declares its audience in ``opt``; anything else is refused.

``opt=allow(PUBLIC)`` for pages anyone may see, ``allow("analyst", "admin")`` for roles. A route without a
declaration is refused for everybody, so a forgotten rule shows up at once (and in the access-matrix test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
)
from litestar.handlers.base import BaseRouteHandler
from sqlmodel import Session, col, select

from lanportfolj.models import BondPoolEntry, Loan

PUBLIC = "public"
SCHEMA_PATH = "/schema"
ROLES = ("analyst", "borrower", "investor", "admin")
SIGNED_IN = ROLES
"""``allow(*SIGNED_IN)``: any signed-in user, whatever the role."""
STAFF = ("analyst", "admin")
"""The lender's own people, who see every loan."""


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as handlers see it."""

    id: int
    email: str
    role: str
    borrower_id: int | None = None
    language: str = "sv"

    @property
    def is_staff(self) -> bool:
        """Analysts and admins: the lender's own people."""
        return self.role in STAFF


def allow(*roles: str) -> dict[str, Any]:
    """The ``opt`` that declares a route's audience."""
    unknown = set(roles) - {PUBLIC, *ROLES}
    if unknown:
        raise ValueError(f"unknown role(s): {sorted(unknown)}")
    return {"roles": frozenset(roles)}


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """The signed-in user (web session or API token), or None for an anonymous request."""
    user = connection.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def require_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser:
    """The signed-in user; 401 (a redirect to the login page for a browser) when there is none."""
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("Sign in first.")
    return user


def provide_user(request: Request[Any, Any, Any]) -> CurrentUser:
    """Dependency ``user``: the signed-in user (handlers of routes for signed-in roles take ``user``)."""
    return require_user(request)


def provide_optional_user(request: Request[Any, Any, Any]) -> CurrentUser | None:
    """Dependency ``maybe_user``: the signed-in user or None, for public pages that adapt to who looks."""
    return current_user(request)


def may_see_borrower(user: CurrentUser | None, borrower_id: int | None) -> bool:
    """Staff see every organisation; a borrower user only their own; investors and anonymous none."""
    if user is None:
        return False
    if user.is_staff:
        return True
    return user.role == "borrower" and borrower_id is not None and user.borrower_id == borrower_id


def require_borrower_access(user: CurrentUser | None, borrower_id: int | None) -> None:
    """Refuse another organisation's data with 404, not 403: its existence is not revealed either."""
    if not may_see_borrower(user, borrower_id):
        raise NotFoundException("There is nothing here for you to see.")


def in_a_bond_pool(session: Session, loan_id: int) -> bool:
    """True when the loan is in some social bond's pool (and so its public fields are published)."""
    return (
        session.exec(select(BondPoolEntry.id).where(BondPoolEntry.loan_id == loan_id)).first()
        is not None
    )


def pool_loan_references(session: Session) -> set[str]:
    """References of the loans in any bond's pool: the loans investors may see."""
    stmt = (
        select(Loan.reference)
        .join(BondPoolEntry, col(BondPoolEntry.loan_id) == col(Loan.id))
        .distinct()
    )
    return set(session.exec(stmt).all())


def require_loan_access(
    session: Session, user: CurrentUser | None, reference: str, *, public_ok: bool = False
) -> Loan:
    """The loan ``reference`` if ``user`` may see it, else 404 (whether or not it exists).

    Staff see every loan, a borrower user their organisation's loans. With ``public_ok`` an investor may
    also see a loan in a bond's pool; the caller must then show only the public fields (``is_public_view``).
    """
    loan = session.exec(select(Loan).where(col(Loan.reference) == reference)).first()
    if loan is not None and loan.id is not None:
        if may_see_borrower(user, loan.borrower_id):
            return loan
        if (
            public_ok
            and user is not None
            and user.role == "investor"
            and in_a_bond_pool(session, loan.id)
        ):
            return loan
    raise NotFoundException("There is no such loan, or it is not yours to see.")


def is_public_view(user: CurrentUser | None) -> bool:
    """True when ``user`` may see only the published fields of a loan (investors)."""
    return user is None or user.role == "investor"


def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Default deny: the route must name the roles that may use it."""
    roles = handler.opt.get("roles")
    if roles is None and connection.scope["path"].startswith(SCHEMA_PATH):
        return  # the OpenAPI document describes the API to anyone; the API itself checks tokens
    if roles is None:
        raise PermissionDeniedException("This route has no access rule.")
    if PUBLIC in roles:
        return
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("Sign in first.")
    if user.role not in roles:
        raise PermissionDeniedException("Your role may not use this page.")
