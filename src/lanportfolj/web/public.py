"""The start page, a page per loan, and the health check; each shows what the visitor's role may see.

- Anonymous visitors get a landing page with the way in; ``/loans/…`` sends them to sign in.
- Analysts and admins see every loan with everything about it.
- A borrower user sees their own organisation's loans; any other loan is "not found" (404), never "forbidden",
  so the existence of another borrower's loan is not revealed.
- Investors see the loans in a bond's pool and only their published fields (no drafts, no contact data,
  no values not yet in a published report).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get
from litestar.response import Template
from sqlalchemy import text
from sqlmodel import Session

from lanportfolj.services.applications import discount_at_risk
from lanportfolj.services.loans import list_loans, loan_detail
from lanportfolj.web.access import (
    PUBLIC,
    SIGNED_IN,
    CurrentUser,
    allow,
    is_public_view,
    pool_loan_references,
    require_loan_access,
)

#: What an investor may read about a loan in a bond's pool (the fields the lender publishes per loan).
PUBLIC_LOAN_FIELDS = (
    "reference",
    "title",
    "borrower",
    "amount",
    "currency",
    "programme_category",
    "icma_category",
    "investment_type",
    "target_populations",
    "sdgs",
    "illustrative",
)


@get("/health", opt=allow(PUBLIC), sync_to_thread=True, tags=["system"])
def health(db: Session) -> dict[str, Any]:
    """Liveness and database reachability."""
    db.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok", "database": "ok"}


def visible_loans(db: Session, user: CurrentUser) -> list[dict[str, Any]]:
    """The loan list ``user`` may see (summary rows as ``list_loans`` gives them)."""
    if user.is_staff:
        return list_loans(db)
    if user.role == "borrower":
        return list_loans(db, borrower_id=user.borrower_id) if user.borrower_id else []
    if user.role == "investor":
        published = pool_loan_references(db)
        rows = [r for r in list_loans(db) if r["reference"] in published]
        return [{k: r[k] for k in PUBLIC_LOAN_FIELDS if k in r} | {"status": ""} for r in rows]
    return []


def today() -> date:
    """The day the overview judges overdue reports by (a seam for tests)."""
    return date.today()


@get("/", opt=allow(PUBLIC), sync_to_thread=True, include_in_schema=False)
def index(request: Request[Any, Any, Any], db: Session, maybe_user: CurrentUser | None) -> Template:
    """The start page: the landing page for visitors, the loans the user may see for everyone else.

    Staff also see which active loans have their discount at risk because a yearly report is overdue;
    that is the lender's follow-up, so borrowers and investors never see the flag.
    """
    if maybe_user is None:
        return Template("public/landing.html")
    at_risk: list[str] = []
    if maybe_user.is_staff:
        at_risk = discount_at_risk(db, today(), request.app.state.settings.report_deadline)
    return Template(
        "public/index.html",
        context={
            "loans": visible_loans(db, maybe_user),
            "public_view": is_public_view(maybe_user),
            "at_risk": set(at_risk),
        },
    )


@get("/loans/{reference:str}", opt=allow(*SIGNED_IN), sync_to_thread=True, include_in_schema=False)
def loan_page(db: Session, user: CurrentUser, reference: str) -> Template:
    """One loan: everything for staff and its own borrower, the published fields for investors."""
    require_loan_access(db, user, reference, public_ok=True)
    detail = loan_detail(db, reference)
    assert detail is not None  # require_loan_access found it
    if is_public_view(user):
        public = {k: detail[k] for k in PUBLIC_LOAN_FIELDS if k in detail}
        public["borrower"] = {k: detail["borrower"][k] for k in ("name", "kind", "member", "owner")}
        public["physical_investment"] = detail["case"]["physical_investment"]
        public["social_intervention"] = detail["case"]["social_intervention"]
        public["goals"] = detail["goals"]
        return Template("public/loan_public.html", context={"loan": public})
    # issue 5 (imports): progress against baseline and target, for templates/imports/_progress.html
    from lanportfolj.services.progress_view import loan_progress_with_charts
    from lanportfolj.web.i18n import get_language

    progress = loan_progress_with_charts(db, reference, lang=get_language())
    return Template("public/loan.html", context={"loan": detail, "progress": progress})


ROUTES = [health, index, loan_page]
