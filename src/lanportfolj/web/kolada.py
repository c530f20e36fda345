"""Fetch a loan's Kolada figures from its page: analysts and the owning borrower.

``POST /loans/{ref}/kolada`` fetches and shows the values side by side with what is stored (nothing is
imported yet); ``POST /loans/{ref}/kolada/import`` imports the new values and the differences a person
ticked, re-reading the cached responses so exactly the values shown go in. ``/api/loans/{ref}/kolada`` is
the same as JSON (``?import=1`` to import). Every page and JSON answer carries "Källa: Kolada".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, QueryParameter
from litestar.response import Template
from sqlalchemy import or_
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.kolada.cache import DatabaseCache
from lanportfolj.kolada.client import KoladaClient, KoladaError, issue
from lanportfolj.kolada.fetch import (
    CompareChoice,
    KoladaPlan,
    YearSpanError,
    grouped_by_indicator,
    import_plan,
    parse_years,
    plan_fetch,
)
from lanportfolj.kolada.offline import OfflineKolada
from lanportfolj.models import IndicatorDefinition, Loan
from lanportfolj.web.access import CurrentUser, allow, require_loan_access

ROLES = allow("analyst", "admin", "borrower")
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


def _client(db: Session, settings: Settings, mode: str) -> KoladaClient:
    # the setting kolada_fixtures names recorded JSON (demo without network, tests); empty asks Kolada
    folder = settings.kolada_fixtures.strip()
    transport = (
        OfflineKolada(Path(folder), base_url=settings.kolada_base_url).transport()
        if folder
        else None
    )
    return KoladaClient(
        base_url=settings.kolada_base_url,
        transport=transport,
        timeout=settings.kolada_timeout,
        cache=DatabaseCache(db),
        mode=mode,
    )


def _plan(
    db: Session, settings: Settings, reference: str, form: dict[str, Any], mode: str
) -> KoladaPlan:
    this_year = date.today().year
    try:
        years = parse_years(str(form.get("years") or "") or None, current_year=this_year)
        compare = CompareChoice.parse(str(form.get("compare") or ""))
    except YearSpanError as exc:
        # shown like any fetch problem: on the page next to the form, a 400 with both texts in the API
        problem = exc.problem
        raise KoladaError(issue(problem.code, problem.message_sv, problem.message_en)) from exc
    except ValueError as exc:
        raise ValidationException(str(exc)) from exc
    return plan_fetch(
        session=db,
        client=_client(db, settings, mode),
        loan_reference=reference,
        years=years,
        compare=compare,
        current_year=this_year,
    )


def _indicator_names(db: Session, loan: Loan, codes: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Swedish and English names of the indicators a fetch touched: people read names, not codes."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = db.exec(
        select(IndicatorDefinition).where(
            col(IndicatorDefinition.code).in_(wanted),
            or_(
                col(IndicatorDefinition.loan_id).is_(None),
                col(IndicatorDefinition.loan_id) == loan.id,
            ),
        )
    ).all()
    # a loan's own definition wins over the library's of the same code
    ordered = sorted(rows, key=lambda d: d.loan_id is not None)
    return {d.code: (d.name_sv, d.name_en) for d in ordered}


def _page(context: dict[str, Any]) -> Template:
    context.setdefault("back", f"/loans/{context['reference']}")
    return Template("kolada/fetch.html", context=context)


@post("/loans/{reference:str}/kolada", opt=ROLES, sync_to_thread=True, include_in_schema=False)
def fetch_page(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Template:
    """Fetch and show the values next to the stored ones; nothing is imported yet."""
    loan = require_loan_access(db, user, reference)
    try:
        plan = _plan(db, request.app.state.settings, reference, data, "online")
    except KoladaError as exc:
        db.rollback()
        return _page({"reference": reference, "error": exc.issue, "plan": None})
    db.commit()  # keep the cached responses: the import step reads exactly these
    by_indicator = grouped_by_indicator(plan)
    return _page(
        {
            "reference": reference,
            "plan": plan,
            "by_indicator": by_indicator,
            "names": _indicator_names(db, loan, by_indicator),
            "form": {"years": data.get("years", ""), "compare": data.get("compare", "")},
            "error": None,
            "result": None,
        }
    )


@post(
    "/loans/{reference:str}/kolada/import", opt=ROLES, sync_to_thread=True, include_in_schema=False
)
def import_page(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Template:
    """Import the new values and the differences ticked on the previous page."""
    loan = require_loan_access(db, user, reference)
    settings: Settings = request.app.state.settings
    accept = [k.removeprefix("accept:") for k in data if k.startswith("accept:")]
    try:
        plan = _plan(db, settings, reference, data, "cache-first")
    except KoladaError as exc:
        db.rollback()
        return _page({"reference": reference, "error": exc.issue, "plan": None})
    result = import_plan(
        session=db,
        settings=settings,
        plan=plan,
        uploaded_by=user.email,
        user_id=user.id,
        borrower_id=None if user.is_staff else loan.borrower_id,
        accept=accept,
        current_year=date.today().year,
    )
    if result.accepted:
        db.commit()
    else:
        db.rollback()
    by_indicator = grouped_by_indicator(plan)
    return _page(
        {
            "reference": reference,
            "plan": plan,
            "by_indicator": by_indicator,
            "names": _indicator_names(db, loan, by_indicator),
            "form": {"years": data.get("years", ""), "compare": data.get("compare", "")},
            "error": None,
            "result": result,
        }
    )


@post("/api/loans/{reference:str}/kolada", opt=ROLES, sync_to_thread=True, tags=["kolada"])
def fetch_api(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    years: str | None = None,
    compare: str | None = None,
    accept: list[str] | None = None,
    do_import: Annotated[bool, QueryParameter(name="import")] = False,
    lang: str = "en",
) -> dict[str, Any]:
    """The loan's Kolada values side by side with stored ones; with ``do_import`` also import them."""
    loan = require_loan_access(db, user, reference)
    form = {"years": years, "compare": compare}
    try:
        plan = _plan(db, request.app.state.settings, reference, form, "online")
    except KoladaError as exc:
        db.rollback()
        raise ValidationException(exc.issue.text(lang), extra=exc.issue.to_dict(lang)) from exc
    db.commit()
    out: dict[str, Any] = {"plan": plan.to_dict(lang)}
    if do_import:
        result = import_plan(
            session=db,
            settings=request.app.state.settings,
            plan=plan,
            uploaded_by=user.email,
            user_id=user.id,
            borrower_id=None if user.is_staff else loan.borrower_id,
            accept=accept or [],
            current_year=date.today().year,
        )
        if result.accepted:
            db.commit()
        else:
            db.rollback()
        out["import"] = result.to_dict(lang, with_changes=True)
    out["source"] = plan.source_line(lang)
    return out


ROUTES = [fetch_page, import_page, fetch_api]
