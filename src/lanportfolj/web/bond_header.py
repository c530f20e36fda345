"""The report header of a bond as a form for analysts (issue 16 item 7): issuer name and LEI, framework
version, external reviewer and the scope of its statement, the same fields as
``lanportfolj bonds header``. Each change is audited (``services.bond_header``)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlmodel import Session, select

from lanportfolj.domain.lei import lei_problem
from lanportfolj.models import SocialBond
from lanportfolj.services import bond_header
from lanportfolj.web.access import CurrentUser, allow
from lanportfolj.web.auth import flash
from lanportfolj.web.i18n import gettext

STAFF = allow("analyst", "admin")
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _bond(db: Session, isin: str) -> SocialBond:
    bond = db.exec(select(SocialBond).where(SocialBond.isin == isin.strip().upper())).first()
    if bond is None:
        raise NotFoundException("There is no such bond.")
    return bond


def _page(
    bond: SocialBond,
    form: dict[str, str],
    field_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "reports/header.html",
        context={
            "bond": bond,
            "form": form,
            "field_errors": field_errors or {},
            "error": gettext("Nothing was saved: see the fields marked below.")
            if field_errors
            else "",
        },
        status_code=status_code,
    )


def problems(form: dict[str, str]) -> dict[str, str]:
    """What is wrong with each field of the form, in the page's language (none: it can be saved)."""
    errors: dict[str, str] = {}
    for field, longest in bond_header.FIELDS.items():
        text = " ".join(form.get(field, "").split())
        if len(text) > longest:
            errors[field] = gettext("At most %(n)s characters.", n=longest)
        elif field == "issuer_lei" and text and lei_problem(text) is not None:
            errors[field] = gettext(
                "Not an LEI: 20 characters, 18 capital letters or digits and two check digits."
            )
    return errors


@get("/reports/{isin:str}/header", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def header_page(db: Session, user: CurrentUser, isin: str) -> Template:
    """The bond's report header as a form with its current values."""
    bond = _bond(db, isin)
    return _page(bond, {field: getattr(bond, field) or "" for field in bond_header.FIELDS})


@post("/reports/{isin:str}/header", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def save_header(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    isin: str,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    """Record the header fields the form sent (audited); the form again naming each problem."""
    bond = _bond(db, isin)
    sent = {field: str(data[field])[:5000] for field in bond_header.FIELDS if field in data}
    errors = problems(sent)
    if errors:
        current = {field: getattr(bond, field) or "" for field in bond_header.FIELDS}
        return _page(bond, current | sent, errors, HTTP_400_BAD_REQUEST)
    bond_header.record(db, bond.isin, sent, actor=user.email)
    db.commit()
    flash(request, gettext("Report header of %(isin)s saved.", isin=bond.isin), "info")
    return Redirect("/reports")


ROUTES = [header_page, save_header]
