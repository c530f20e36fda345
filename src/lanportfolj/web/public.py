"""The start page, a page per loan, and the health check; each shows what the visitor's role may see.

- Anonymous visitors get a landing page with the way in; ``/loans/…`` sends them to sign in.
- Analysts and admins see every loan with everything about it.
- A borrower user sees their own organisation's loans; any other loan is "not found" (404), never "forbidden",
  so the existence of another borrower's loan is not revealed.
- Investors see the loans in a bond's pool and only their published fields (no drafts, no contact data,
  no values not yet in a published report).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import anyio.to_thread
from litestar import Request, get
from litestar.response import Redirect, Response, Template
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from lanportfolj.domain.categories import LOAN_STATUSES, PROGRAMME_CATEGORIES, label
from lanportfolj.kolada.client import SOURCE_LINE, SOURCE_LINE_EN
from lanportfolj.kolada.fetch import MEAN_UNIT
from lanportfolj.kolada.fetch import SOURCE as KOLADA_SOURCE
from lanportfolj.models import Borrower
from lanportfolj.services.applications import discount_at_risk
from lanportfolj.services.home import borrower_home, overdue_reports, report_states
from lanportfolj.services.loans import list_loans, loan_detail, loan_totals
from lanportfolj.web.access import (
    PUBLIC,
    SIGNED_IN,
    CurrentUser,
    allow,
    is_public_view,
    pool_loan_references,
    require_loan_access,
)
from lanportfolj.web.i18n import get_language
from lanportfolj.web.loan_filters import LoanFilters, list_arguments, read_filters
from lanportfolj.web.page_cache import PageCache, RenderedBody, page_with_body, render_body

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


#: Texts of the loan page's Kolada section, in both languages.
KOLADA_TEXT: dict[str, dict[str, str]] = {
    "title": {"sv": "Officiell statistik från Kolada", "en": "Official statistics from Kolada"},
    "intro": {
        "sv": "Nyckeltal för låntagarens kommun och för liknande kommuner, hämtade från Kolada. "
        "De jämförs med lånets egna värden i utvärderingen.",
        "en": "Key figures for the borrower's municipality and for similar municipalities, fetched "
        "from Kolada. The evaluation compares them with the loan's own values.",
    },
    "unit": {"sv": "Enhet", "en": "Unit"},
    "own": {"sv": "Lånets egna värden", "en": "This loan's own values"},
    "derived": {
        "sv": "egen bearbetning av data från Kolada, inte Koladas värde",
        "en": "computed here from Kolada's data, not Kolada's own value",
    },
    "marked": {"sv": "värde hämtat från Kolada", "en": "value fetched from Kolada"},
    "fetch_hint": {
        "sv": "Hämtar lånets Kolada-kopplade indikatorer för kommunen och liknande kommuner. "
        "Inget sparas förrän du har sett värdena bredvid de lagrade.",
        "en": "Fetches the loan's Kolada-mapped indicators for the municipality and similar "
        "municipalities. Nothing is stored until you have seen the values next to the stored ones.",
    },
}
_FETCHED_RE = re.compile(r"hämtad (\d{4}-\d{2}-\d{2})")


def kolada_source_line(dates: list[str], lang: str) -> str:
    """The source line with the fetch dates, as Kolada's terms ask wherever its figures are shown."""
    when = ", ".join(dates)
    if lang == "sv":
        return SOURCE_LINE + (f", hämtad {when}" if when else "")
    return f"{SOURCE_LINE} ({SOURCE_LINE_EN}" + (f", fetched {when})" if when else ")")


def kolada_view(detail: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """The loan's current values that came from Kolada, per indicator and unit, for the loan page.

    Rows: the loan's own series first, then the municipalities, then the similar municipalities'
    mean, which this system computed and so is labelled as derived, not as Kolada's. None when the
    loan holds no Kolada values.
    """
    lang = "sv" if lang == "sv" else "en"
    dates: set[str] = set()
    indicators = []
    for ind in detail["indicators"]:
        current = [m for m in ind["measurements"] if m["current"] and m["source"] == KOLADA_SOURCE]
        if not current:
            continue
        years = sorted({m["year"] for m in current})
        by_unit: dict[str, dict[int, Any]] = {}
        for m in current:
            by_unit.setdefault(m["group"], {})[m["year"]] = m["value"]
            found = _FETCHED_RE.search(m["comment"] or "")
            if found:
                dates.add(found.group(1))
        order = sorted(by_unit, key=lambda g: (g != "", g == MEAN_UNIT, g.casefold()))
        indicators.append(
            {
                "code": ind["code"],
                "name": ind["name_sv"] if lang == "sv" else ind["name_en"],
                "unit": ind["unit"],
                "years": years,
                "rows": [
                    {
                        "unit": group or KOLADA_TEXT["own"][lang],
                        "derived": group == MEAN_UNIT,
                        "cells": [by_unit[group].get(y) for y in years],
                    }
                    for group in order
                ],
            }
        )
    if not indicators:
        return None
    return {
        "indicators": indicators,
        # the loan's own series holds Kolada values: the indicator table marks them
        "own_values": any(
            row["unit"] == KOLADA_TEXT["own"][lang] for i in indicators for row in i["rows"]
        ),
        "source": kolada_source_line(sorted(dates), lang),
        "text": {key: texts[lang] for key, texts in KOLADA_TEXT.items()},
    }


def may_fetch_kolada(user: CurrentUser, borrower_id: int | None) -> bool:
    """Staff, and the borrower's own users, may fetch a loan's Kolada figures (the routes agree)."""
    return user.is_staff or (
        user.role == "borrower" and borrower_id is not None and user.borrower_id == borrower_id
    )


@get("/health", opt=allow(PUBLIC), sync_to_thread=True, tags=["system"])
def health(db: Session) -> dict[str, Any]:
    """Liveness and database reachability."""
    db.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return {"status": "ok", "database": "ok"}


def loan_scope(db: Session, user: CurrentUser) -> dict[str, Any] | None:
    """The ``list_loans`` filters for what ``user`` may see; None when they may see nothing."""
    if user.is_staff:
        return {}
    if user.role == "borrower":
        return {"borrower_id": user.borrower_id} if user.borrower_id else None
    if user.role == "investor":
        return {"references": pool_loan_references(db)}
    return None


def _public_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in PUBLIC_LOAN_FIELDS if k in r} | {"status": ""} for r in rows]


def today() -> date:
    """The day the overview judges overdue reports by (a seam for tests)."""
    return date.today()


PAGE_SIZE = 50


def pager_for(total: int, page: int, size: int = PAGE_SIZE) -> dict[str, int]:
    """Where page ``page`` of ``total`` rows stands (clamped to the pages there are)."""
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    return {"page": page, "pages": pages, "total": total, "first": (page - 1) * size + 1}


#: The staff start page's loans whose discount is at risk, and the signed-in start page's main part
#: per kind of view, search and page (web.page_cache).
_AT_RISK: PageCache[list[str]] = PageCache(size=8)
_INDEX_BODIES: PageCache[RenderedBody] = PageCache(size=512)


@get("/", opt=allow(PUBLIC), include_in_schema=False)
async def index(
    request: Request[Any, Any, Any],
    maybe_user: CurrentUser | None,
    page: int = 1,
    q: str = "",
    status: str = "",
    category: str = "",
    borrower: str = "",
    at_risk: str = "",
    report: str = "",
) -> Template:
    """The start page: the landing page for visitors, the loans the user may see for everyone else,
    fifty at a time (paged in the database), optionally narrowed by a search on reference, borrower or
    title and by status, category, borrower, discount at risk and the yearly report (``web.loan_filters``),
    with the count and the amounts summed for every page.

    Staff also see which active loans have their discount at risk because a yearly report is overdue;
    that is the lender's follow-up, so borrowers and investors never see the flag.
    """
    if maybe_user is None:
        return Template("public/landing.html")
    filters = read_filters(
        role=maybe_user.role,
        is_staff=maybe_user.is_staff,
        q=q,
        status=status,
        category=category,
        borrower=borrower,
        at_risk=at_risk,
        report=report,
    )
    # the body depends on what the user may see (their kind of view; a borrower's organisation), the
    # filters, the page, the language and the day; access itself is the scope worked out for the body
    view = (maybe_user.role, maybe_user.borrower_id if maybe_user.role == "borrower" else None)
    key = (view, filters.key(), page, get_language(), today())
    engine = request.app.state.engine
    found, body = _INDEX_BODIES.peek(engine, key)
    if not found or body is None:  # not kept: made in a thread, from the database
        body = await anyio.to_thread.run_sync(
            _index_body, request, engine, maybe_user, key, filters
        )
    return page_with_body(request, "public/index.html", body)


def _index_body(
    request: Request[Any, Any, Any],
    engine: Engine,
    user: CurrentUser,
    key: tuple[Any, ...],
    filters: LoanFilters,
) -> RenderedBody:
    _view, _filters, page, _lang, _day = key
    with Session(engine, expire_on_commit=False) as db:
        return _INDEX_BODIES.get_or_make(
            db,
            key,
            lambda: render_body(
                request,
                "public/_index_body.html",
                _index_context(request, db, user, page, filters),
            ),
        )


def _staff_at_risk(request: Request[Any, Any, Any], db: Session) -> list[str]:
    # a look at every active loan's latest reported years (~190 ms at national scale): kept until
    # anything is committed, and the day or the deadline changes
    day, deadline = today(), request.app.state.settings.report_deadline
    return _AT_RISK.get_or_make(db, (day, deadline), lambda: discount_at_risk(db, day, deadline))


def _filtered_arguments(
    request: Request[Any, Any, Any],
    db: Session,
    scope: dict[str, Any],
    filters: LoanFilters,
    at_risk: list[str],
) -> dict[str, Any]:
    states = None
    if filters.report:
        states = report_states(db, today(), request.app.state.settings.report_deadline)
    return list_arguments(filters, scope, at_risk=at_risk, report_states=states)


def _index_context(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    page: int,
    filters: LoanFilters,
) -> dict[str, Any]:
    at_risk: list[str] = []
    matured: list[tuple[str, Any]] = []
    if user.is_staff:
        # issue 17: active loans past their maturity stay in the pool until a repayment is recorded
        from lanportfolj.services.loan_events import matured_active

        matured = matured_active(db, today())
        at_risk = _staff_at_risk(request, db)
    scope = loan_scope(db, user)
    loans: list[dict[str, Any]] = []
    pager = pager_for(0, 1)
    amount = Decimal(0)
    if scope is not None:
        args = _filtered_arguments(request, db, scope, filters, at_risk)
        total, amount = loan_totals(db, **args)
        pager = pager_for(total, page)
        loans = list_loans(db, limit=PAGE_SIZE, offset=pager["first"] - 1, **args)
        if user.role == "investor":
            loans = _public_rows(loans)
    home: dict[str, Any] = {"reports": [], "applications": []}
    overdue: list[dict[str, Any]] = []
    deadline = request.app.state.settings.report_deadline
    if user.role == "borrower" and user.borrower_id is not None:
        home = borrower_home(db, user.borrower_id, today(), deadline)
    if user.is_staff:
        overdue = overdue_reports(db, at_risk, today(), deadline)
    lang = get_language()
    borrowers: list[Any] = []
    if user.is_staff:
        borrowers = list(db.exec(select(Borrower).order_by(col(Borrower.name))).all())
    return {
        "home": home,
        "overdue": overdue,
        "loans": loans,
        "pager": pager,
        "pager_query": filters.query(),
        "totals": {"count": pager["total"], "amount": amount},
        "q": filters.q,
        "filters": filters,
        "export_query": filters.query(),
        "statuses": list(LOAN_STATUSES),
        "programmes": [(k, label(PROGRAMME_CATEGORIES, k, lang)) for k in PROGRAMME_CATEGORIES],
        "borrowers": borrowers,
        "staff_view": user.is_staff,
        "public_view": is_public_view(user),
        "borrower_view": user.role == "borrower",
        "at_risk": set(at_risk),
        "matured_active": matured,
    }


#: The borrower of each loan a (role, organisation) may see, per data generation.
_LOAN_ACCESS: PageCache[int] = PageCache(size=4096)
#: Rendered main parts of loan pages; access is checked per request before one is looked up.
_LOAN_BODIES: PageCache[RenderedBody] = PageCache(size=512)


@get("/loans/{reference:str}", opt=allow(*SIGNED_IN), include_in_schema=False)
async def loan_page(request: Request[Any, Any, Any], user: CurrentUser, reference: str) -> Template:
    """One loan: everything for staff and its own borrower, the published fields for investors.

    The full view's main part (progress charts, comparison groups: tens of milliseconds of queries and
    plotly work at national scale) is the same for everyone allowed to see it, so it is rendered once and
    kept until anything is committed to the database (``web.page_cache``). A page whose parts are all
    kept is served on the event loop; anything else goes to a thread and the database.
    """
    engine = request.app.state.engine
    if not is_public_view(user):
        found, borrower_id = _LOAN_ACCESS.peek(engine, (user.role, user.borrower_id, reference))
        if found:
            key = _loan_body_key(user, borrower_id, reference)
            found, body = _LOAN_BODIES.peek(engine, key)
            if found and body is not None:
                return _loan_page_with(request, body, reference)
    return await anyio.to_thread.run_sync(_loan_page, request, engine, user, reference)


def _loan_body_key(
    user: CurrentUser, borrower_id: int | None, reference: str
) -> tuple[str, str, bool, date]:
    # what the body depends on besides the data: the loan, the language, the fetch form, and the day
    return (reference, get_language(), may_fetch_kolada(user, borrower_id), today())


def _loan_page_with(
    request: Request[Any, Any, Any], body: RenderedBody, reference: str
) -> Template:
    return page_with_body(request, "public/loan.html", body, {"loan": {"reference": reference}})


def _loan_page(
    request: Request[Any, Any, Any], engine: Engine, user: CurrentUser, reference: str
) -> Template:
    with Session(engine, expire_on_commit=False) as db:
        # who may see the loan depends on the user's role and organisation and on the data only: the
        # answer is kept per data generation (a refusal is not kept; it is asked again)
        borrower_id = _LOAN_ACCESS.get_or_make(
            db,
            (user.role, user.borrower_id, reference),
            lambda: require_loan_access(db, user, reference, public_ok=True).borrower_id,
        )
        if is_public_view(user):
            detail = loan_detail(db, reference)
            assert detail is not None  # require_loan_access found it
            public = {k: detail[k] for k in PUBLIC_LOAN_FIELDS if k in detail}
            public["borrower"] = {
                k: detail["borrower"][k] for k in ("name", "kind", "member", "owner")
            }
            public["physical_investment"] = detail["case"]["physical_investment"]
            public["social_intervention"] = detail["case"]["social_intervention"]
            public["goals"] = detail["goals"]
            return Template("public/loan_public.html", context={"loan": public})
        key = _loan_body_key(user, borrower_id, reference)
        reference_, lang, fetch, _day = key
        body = _LOAN_BODIES.get_or_make(
            db,
            key,
            lambda: render_body(
                request, "public/_loan_body.html", _loan_context(db, reference_, lang, fetch)
            ),
        )
        return _loan_page_with(request, body, reference)


def _loan_context(db: Session, reference: str, lang: str, fetch: bool) -> dict[str, Any]:
    """What the full loan page shows: details, progress, Kolada statistics and comparison groups."""
    detail = loan_detail(db, reference)
    assert detail is not None  # the caller checked access to it
    # issue 5 (imports): progress against baseline and target, for templates/imports/_progress.html
    from lanportfolj.services.progress_view import loan_progress_with_charts

    progress = loan_progress_with_charts(db, reference, lang=lang)
    kolada = kolada_view(detail, lang)
    # issue 7: comparison units with difference-in-differences, for templates/evaluation/_comparison.html
    from lanportfolj.services.evaluation import comparison_chart_html, comparison_section

    comparison = [
        item | {"chart_html": comparison_chart_html(item)}
        for item in comparison_section(db, loan_ref=reference, lang=lang)
    ]
    from lanportfolj.services.application_view import application_view

    return {
        "loan": detail,
        "case_view": application_view(detail, lang),
        "case_open": False,
        "progress": progress,
        "comparison": comparison,
        "kolada": kolada,
        "kolada_fetch": fetch,
        # the fetch form's hint and the source line are shown even before anything is fetched
        "kolada_text": {key: texts[lang] for key, texts in KOLADA_TEXT.items()},
        "kolada_source": kolada["source"] if kolada else "",
    }


def _loan_list_export(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, filters: LoanFilters, fmt: str
) -> Response[bytes]:
    """The start page's loan list (the user's loans, the search and filters applied, every page) as
    CSV or XLSX, with full amounts; for staff with the discount-at-risk flag."""
    from lanportfolj.services import list_exports
    from lanportfolj.web.downloads import attachment_headers

    scope = loan_scope(db, user)
    at_risk: list[str] = []
    if user.is_staff:
        at_risk = discount_at_risk(db, today(), request.app.state.settings.report_deadline)
    flagged = set(at_risk)
    found: list[dict[str, Any]] = []
    if scope is not None:
        found = list_loans(db, **_filtered_arguments(request, db, scope, filters, at_risk))
    rows = [
        row | {"category": row["programme_category"], "at_risk": row["reference"] in flagged}
        for row in found
    ]
    lang = get_language()
    name = "lan" if lang == "sv" else "loans"
    stamp = today().isoformat()
    if fmt == "xlsx":
        return Response(
            list_exports.to_xlsx(rows, lang, sheet=name),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=attachment_headers(f"{name}-{stamp}.xlsx"),
        )
    return Response(
        list_exports.to_csv(rows, lang),
        media_type="text/csv; charset=utf-8",
        headers=attachment_headers(f"{name}-{stamp}.csv"),
    )


LIST_EXPORT_USERS = allow("analyst", "admin", "borrower")


def _export_filters(user: CurrentUser, **raw: str) -> LoanFilters:
    return read_filters(role=user.role, is_staff=user.is_staff, **raw)


@get("/loans.csv", opt=LIST_EXPORT_USERS, sync_to_thread=True, include_in_schema=False)
def loan_list_csv(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    q: str = "",
    status: str = "",
    category: str = "",
    borrower: str = "",
    at_risk: str = "",
    report: str = "",
) -> Response[bytes]:
    """The start page's loan list (the user's loans, search and filters applied, every page) as CSV."""
    filters = _export_filters(
        user,
        q=q,
        status=status,
        category=category,
        borrower=borrower,
        at_risk=at_risk,
        report=report,
    )
    return _loan_list_export(request, db, user, filters, "csv")


@get("/loans.xlsx", opt=LIST_EXPORT_USERS, sync_to_thread=True, include_in_schema=False)
def loan_list_xlsx(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    q: str = "",
    status: str = "",
    category: str = "",
    borrower: str = "",
    at_risk: str = "",
    report: str = "",
) -> Response[bytes]:
    """The start page's loan list as a workbook (full amounts, a total row)."""
    filters = _export_filters(
        user,
        q=q,
        status=status,
        category=category,
        borrower=borrower,
        at_risk=at_risk,
        report=report,
    )
    return _loan_list_export(request, db, user, filters, "xlsx")


@get("/loans", opt=allow(*SIGNED_IN), include_in_schema=False)
async def loan_list(request: Request[Any, Any, Any]) -> Redirect:
    """``/loans`` is the start page's list: the same address with the search and filters kept."""
    query = request.url.query
    return Redirect(path="/" + (f"?{query}" if query else ""))


ROUTES = [health, index, loan_page, loan_list_csv, loan_list_xlsx, loan_list]
