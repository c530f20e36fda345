"""A loan's case studies (issue 16 item 6): the list, the form that writes one, and approval.

``GET /loans/{ref}/case-studies`` shows them (staff every loan, a borrower its own; another
organisation's loan is 404); ``POST`` there writes one, pending; ``POST …/{id}/approve`` is for
analysts and admins only. Only approved case studies appear in a bond's report.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlmodel import Session

from lanportfolj.models import Loan
from lanportfolj.services import case_studies
from lanportfolj.web.access import CurrentUser, allow, require_loan_access
from lanportfolj.web.auth import flash
from lanportfolj.web.i18n import gettext
from lanportfolj.web.params import RowId

WRITERS = allow("analyst", "admin", "borrower")
STAFF = allow("analyst", "admin")
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _page(
    db: Session,
    loan: Loan,
    user: CurrentUser,
    *,
    form: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Template:
    studies = case_studies.for_loan(db, loan)
    return Template(
        "case_studies/loan.html",
        context={
            "loan": loan,
            "studies": studies,
            "may_approve": user.is_staff,
            "form": form or {"year": str(date.today().year - 1)},
            "field_errors": field_errors or {},
            "error": error,
        },
        status_code=status_code,
    )


@get("/loans/{reference:str}/case-studies", opt=WRITERS, sync_to_thread=True,
     include_in_schema=False)  # fmt: skip
def case_studies_page(db: Session, user: CurrentUser, reference: str) -> Template:
    """The loan's case studies, pending and approved, with the form to write one."""
    loan = require_loan_access(db, user, reference)
    return _page(db, loan, user)


@post("/loans/{reference:str}/case-studies", opt=WRITERS, sync_to_thread=True,
      include_in_schema=False)  # fmt: skip
def write_case_study(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    """Store a case study, pending an analyst's approval; the form again with its problems if any."""
    loan = require_loan_access(db, user, reference)
    form = {
        name: str(data.get(name, ""))[: case_studies.TEXT_MAX + 1000]
        for name in case_studies.FIELDS
    }
    draft, errors = case_studies.check(form)
    if draft is None:
        return _page(
            db,
            loan,
            user,
            form=form,
            field_errors={name: gettext(message) for name, message in errors.items()},
            error=gettext("Nothing was saved: see the fields marked below."),
            status_code=HTTP_400_BAD_REQUEST,
        )
    case_studies.add(db, loan=loan, draft=draft, actor=user.email)
    db.commit()
    flash(request, gettext("Case study saved; it appears in reports once an analyst approves it."),
          "info")  # fmt: skip
    return Redirect(f"/loans/{loan.reference}/case-studies")


@post("/loans/{reference:str}/case-studies/{study_id:int}/approve", opt=STAFF,
      sync_to_thread=True, include_in_schema=False)  # fmt: skip
def approve_case_study(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    study_id: RowId,
) -> Redirect:
    """Approve a pending case study: from now on it appears in the reports of the loan's bonds."""
    loan = require_loan_access(db, user, reference)
    study = case_studies.find(db, loan, study_id)
    if study is None:
        raise NotFoundException("There is no such case study on this loan.")
    if case_studies.approve(db, loan=loan, study=study, actor=user.email):
        db.commit()
        flash(request, gettext("Case study approved."), "info")
    else:
        flash(request, gettext("That case study was approved already."), "info")
    return Redirect(f"/loans/{loan.reference}/case-studies")


ROUTES = [case_studies_page, write_case_study, approve_case_study]
