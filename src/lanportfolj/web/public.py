"""The foundation pages: the loan list, a page per loan, and the health check."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.response import Template
from sqlalchemy import text
from sqlmodel import Session

from lanportfolj.services.loans import list_loans, loan_detail
from lanportfolj.web.access import PUBLIC, allow


@get("/health", opt=allow(PUBLIC), sync_to_thread=True, tags=["system"])
def health(db: Session) -> dict[str, Any]:
    """Liveness and database reachability."""
    db.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok", "database": "ok"}


@get("/", opt=allow(PUBLIC), sync_to_thread=True, include_in_schema=False)
def index(db: Session) -> Template:
    return Template("public/index.html", context={"loans": list_loans(db)})


@get("/loans/{reference:str}", opt=allow(PUBLIC), sync_to_thread=True, include_in_schema=False)
def loan_page(db: Session, reference: str) -> Template:
    detail = loan_detail(db, reference)
    if detail is None:
        raise NotFoundException(f"No loan {reference}.")
    return Template("public/loan.html", context={"loan": detail})


ROUTES = [health, index, loan_page]
