"""The evaluation page of a loan: comparison groups with difference-in-differences, the power
panel and SMART hints; and the same data as JSON under ``/api/``.

Staff see every loan, a borrower user only their own organisation's (anyone else gets 404, so a
loan's existence is not revealed). Handlers parse, call the evaluation service, render.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template
from sqlmodel import Session

from lanportfolj.services.evaluation import (
    LoanNotFound,
    comparison_chart_html,
    evaluation_overview,
)
from lanportfolj.web.access import CurrentUser, allow, require_loan_access
from lanportfolj.web.i18n import get_language

#: Who may see a loan's evaluation: the lender's staff, and the borrower for its own loans.
AUDIENCE = allow("analyst", "admin", "borrower")


def _overview(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> dict[str, Any]:
    require_loan_access(db, user, reference)
    try:
        return evaluation_overview(
            db,
            loan_ref=reference,
            lang=get_language(),
            settings=request.app.state.settings,
        )
    except LoanNotFound as exc:
        raise NotFoundException(f"No loan {reference}.") from exc


@get(
    "/loans/{reference:str}/evaluation",
    opt=AUDIENCE,
    sync_to_thread=True,
    include_in_schema=False,
    name="evaluation_page",
)
def evaluation_page(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> Template:
    """Comparison groups, statistical power, the minimum detectable effect on Kolada's figures and
    SMART hints for one loan."""
    data = _overview(request, db, user, reference)
    for item in data["comparison"]:
        item["chart_html"] = comparison_chart_html(item)
    return Template(
        "evaluation/page.html",
        context={
            "evaluation": data,
            "comparison": data["comparison"],
            "power": data["power"],
            "mde": data["mde"],
            "smart": data["smart"],
            "labels": data["labels"],
        },
    )


@get(
    "/api/loans/{reference:str}/evaluation",
    opt=AUDIENCE,
    sync_to_thread=True,
    tags=["evaluation"],
    name="evaluation_api",
)
def evaluation_api(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> dict[str, Any]:
    """The loan's evaluation as JSON: comparison sections with DiD, power panel, SMART hints
    (texts in the language of ``?lang=``, with both languages where they come from the rules)."""
    return _overview(request, db, user, reference)


ROUTES = [evaluation_page, evaluation_api]
