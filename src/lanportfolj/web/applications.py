"""Application pages: the borrower's case form and application page, the analyst's queue and assessment.

Handlers parse the form, call one service function and render. Saving a draft stores everything usable and
shows the typed values again, with each problem next to its field, so nothing typed is lost.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Response, Template
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.domain import eligibility
from lanportfolj.domain.categories import (
    ICMA_CATEGORIES,
    INVESTMENT_TYPES,
    LOAN_STATUSES,
    PROGRAMME_CATEGORIES,
    PROGRAMME_TO_ICMA,
    TARGET_POPULATIONS,
    label,
)
from lanportfolj.models import Borrower, IndicatorDefinition, Loan
from lanportfolj.services import applications as apps
from lanportfolj.services import form_drafts, list_exports
from lanportfolj.services.application_view import application_view
from lanportfolj.services.loans import loan_detail
from lanportfolj.web.access import CurrentUser, allow, require_loan_access
from lanportfolj.web.auth import flash
from lanportfolj.web.downloads import attachment_headers
from lanportfolj.web.i18n import get_language
from lanportfolj.web.i18n import gettext as _
from lanportfolj.web.params import row_id_or_none

STAFF = allow("analyst", "admin")
CASE_USERS = allow("analyst", "admin", "borrower")
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
BLANK_ROWS = 2
_ROW = re.compile(r"^(goals|indicators)-(\d+)-(\w+)$")

SCALAR_FIELDS = [name for name in apps.CASE_FIELDS if name not in ("target_populations", "sdgs")]


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings


def _vocabularies(lang: str) -> dict[str, Any]:
    return {
        "programmes": [(k, label(PROGRAMME_CATEGORIES, k, lang)) for k in PROGRAMME_CATEGORIES],
        "icma": [(k, label(ICMA_CATEGORIES, k, lang)) for k in ICMA_CATEGORIES],
        "programme_to_icma": PROGRAMME_TO_ICMA,
        "populations": [(k, label(TARGET_POPULATIONS, k, lang)) for k in TARGET_POPULATIONS],
        "investment_types": list(INVESTMENT_TYPES),
        "statuses": list(LOAN_STATUSES),
    }


def _library(db: Session) -> list[dict[str, str]]:
    rows = db.exec(
        select(IndicatorDefinition)
        .where(col(IndicatorDefinition.loan_id).is_(None))
        .order_by(col(IndicatorDefinition.code))
    ).all()
    lang = get_language()
    return [
        {
            "code": r.code,
            "name": r.name_sv if lang == "sv" else r.name_en,
            "name_sv": r.name_sv,
            "name_en": r.name_en,
            "unit": r.unit,
            "kind": r.kind,
        }
        for r in rows
    ]


# --- the case form --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def form_from_loan(detail: dict[str, Any]) -> dict[str, Any]:
    """The case form's values (all text) for a stored application."""
    case = detail["case"]
    values: dict[str, Any] = {
        "title": detail["title"],
        "amount": _text(detail["amount"]),
        "total_project_cost": _text(detail["total_project_cost"]),
        "margin_bp": _text(detail["margin_bp"]),
        "application_date": _text(detail["application_date"]),
        "disbursement_date": _text(detail["disbursement_date"]),
        "maturity_date": _text(detail["maturity_date"]),
        "programme_category": detail["programme_category"],
        "icma_category": detail["icma_category"],
        "investment_type": detail["investment_type"],
        "target_populations": list(detail["target_populations"] or []),
        "sdgs": _text(detail["sdgs"]),
    }
    for name, value in case.items():
        if name == "outcome_base_rate" and value is not None:
            values[name] = f"{float(value) * 100:g} %"
        else:
            values[name] = _text(value)
    values["goals"] = [
        {
            "text": g["text"],
            "indicators": ", ".join(g["indicators"]),
            "target_value": _text(g["target_value"]),
            "target_year": _text(g["target_year"]),
        }
        for g in detail["goals"]
    ]
    values["indicators"] = [
        {
            "code": i["code"],
            "own": i["own"],
            "name": (i["name_sv"] if get_language() == "sv" else i["name_en"]) if i["own"] else "",
            "unit": i["unit"] if i["own"] else "",
            "kind": i["kind"] if i["own"] else "",
            "direction": i["direction"],
            "aggregation": i["aggregation"],
            "baseline_value": _text(i["baseline"]["value"]),
            "baseline_year": _text(i["baseline"]["year"]),
            "target_value": _text(i["target"]["value"]),
            "target_year": _text(i["target"]["year"]),
            "expected_value": _text(i["expected"]["value"]),
            "expected_frozen": bool(i["expected"]["frozen_at"]),
            "data_source": i["data_source"] or "",
        }
        for i in detail["indicators"]
    ]
    return values


def raw_from_form(data: dict[str, Any]) -> dict[str, Any]:
    """The service's raw values from the posted form: scalar fields, and the goal and indicator rows
    (``goals-0-text`` …) as lists; rows left entirely blank are dropped."""
    raw: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        if name in data:
            value = data[name]
            raw[name] = value[-1] if isinstance(value, list) else value
    populations = data.get("target_populations", [])
    raw["target_populations"] = populations if isinstance(populations, list) else [populations]
    raw["sdgs"] = data.get("sdgs", "")
    rows: dict[str, dict[int, dict[str, str]]] = {"goals": {}, "indicators": {}}
    for key, value in data.items():
        match = _ROW.match(key)
        if match:
            group, index, name = match.group(1), int(match.group(2)), match.group(3)
            text = value[-1] if isinstance(value, list) else value
            rows[group].setdefault(index, {})[name] = str(text)
    content = {
        "goals": ("text", "indicators", "target_value", "target_year"),
        "indicators": (
            "code",
            "name",
            "baseline_value",
            "baseline_year",
            "target_value",
            "target_year",
            "expected_value",
            "data_source",
        ),
    }
    for group, by_index in rows.items():
        raw[group] = [
            row
            for _, row in sorted(by_index.items())
            if any(str(row.get(k, "")).strip() for k in content[group])
        ]
    return raw


def _with_blank_rows(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    values["goals"] = list(values.get("goals") or []) + [
        {"text": "", "indicators": "", "target_value": "", "target_year": ""}
        for _ in range(BLANK_ROWS)
    ]
    values["indicators"] = list(values.get("indicators") or []) + [
        {"code": "", "direction": "increase", "aggregation": "latest"} for _ in range(BLANK_ROWS)
    ]
    return values


def _errors_by_field(errors: list[apps.FieldError]) -> dict[str, list[str]]:
    lang = get_language()
    found: dict[str, list[str]] = {}
    for error in errors:
        found.setdefault(error.field, []).append(error.message(lang))
    return found


def _form_page(
    db: Session,
    *,
    values: dict[str, Any],
    errors: list[apps.FieldError],
    action: str,
    reference: str | None,
    status_code: int = 200,
    refused: bool = False,
) -> Template:
    lang = get_language()
    library = _library(db)
    return Template(
        "applications/form.html",
        context={
            "values": _with_blank_rows(values),
            "errors": _errors_by_field(errors),
            "error_count": len(errors),
            "refused": refused,
            "action": action,
            "reference": reference,
            "library": library,
            "library_names": {ind["code"]: ind["name"] for ind in library},
            **_vocabularies(lang),
        },
        status_code=status_code,
    )


def _own_loan(db: Session, user: CurrentUser, reference: str) -> Loan:
    return require_loan_access(db, user, reference)


@get("/applications/new", opt=allow("borrower"), sync_to_thread=True, include_in_schema=False)
def new_application(db: Session, user: CurrentUser) -> Template:
    """An empty case form for the borrower's organisation."""
    if user.borrower_id is None:
        raise NotFoundException("No organisation.")
    return _form_page(
        db,
        values={"application_date": date.today().isoformat()},
        errors=[],
        action="/applications/new",
        reference=None,
    )


@post("/applications/new", opt=allow("borrower"), sync_to_thread=True, include_in_schema=False)
def create_application(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[dict[str, Any], FORM],
) -> Template | Redirect:
    """Store a new draft with whatever was typed; problems are shown on the edit form."""
    if user.borrower_id is None:
        raise NotFoundException("No organisation.")
    raw = raw_from_form(data)  # a posted "reference" is not read: the system gives it out
    try:
        loan, errors = apps.create_application(
            session=db,
            borrower_id=user.borrower_id,
            actor=user.email,
            raw=raw,
            borrower_request=True,
        )
    except apps.RequestRefused as exc:
        db.rollback()
        return _refused_form(db, raw, exc, action="/applications/new", reference=None)
    if errors:
        db.commit()
        return _kept_form(
            request,
            db,
            user,
            loan,
            raw,
            errors,
            _("The draft %(ref)s is saved; some values need attention.", ref=loan.reference),
        )
    db.commit()
    flash(request, _("The draft %(ref)s is saved.", ref=loan.reference))
    return Redirect(path=f"/applications/{loan.reference}")


def _kept_form(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    loan: Loan,
    raw: dict[str, Any],
    errors: list[apps.FieldError],
    message: str,
) -> Redirect:
    """After a save that left values unusable: keep what was typed with its problems and send the
    browser to the edit page (POST-redirect-GET: reloading that page saves nothing again)."""
    assert loan.id is not None
    kept_id = form_drafts.keep(
        db, loan_id=loan.id, user_id=user.id, typed=_typed(raw), errors=errors
    )
    db.commit()
    flash(request, message)
    return Redirect(path=f"/applications/{loan.reference}/edit?kept={kept_id}")


def _refused_form(
    db: Session,
    raw: dict[str, Any],
    exc: apps.RequestRefused,
    *,
    action: str,
    reference: str | None,
) -> Template:
    """The form again with every refused field marked (422): nothing of the request was stored."""
    return _form_page(
        db,
        values=_typed(raw),
        errors=exc.errors,
        action=action,
        reference=reference,
        status_code=422,
        refused=True,
    )


def _typed(raw: dict[str, Any]) -> dict[str, Any]:
    """The posted values as the form shows them again."""
    values = {k: v for k, v in raw.items() if k not in ("goals", "indicators")}
    values["goals"] = raw.get("goals", [])
    values["indicators"] = raw.get("indicators", [])
    return values


@get(
    "/applications/{reference:str}/edit",
    opt=CASE_USERS,
    sync_to_thread=True,
    include_in_schema=False,
)
def edit_application(
    db: Session, user: CurrentUser, reference: str, kept: str = ""
) -> Template | Redirect:
    """The case form with the stored values (only while draft or submitted); after a save that left
    values unusable (``?kept=``), what was typed with each problem next to its field."""
    loan = _own_loan(db, user, reference)
    detail = loan_detail(db, reference)
    assert detail is not None and loan.id is not None
    if loan.status not in apps.EDITABLE_STATUSES:
        return Redirect(path=f"/applications/{reference}")
    kept_id = row_id_or_none(kept)
    found = (
        form_drafts.kept(db, draft_id=kept_id, loan_id=loan.id, user_id=user.id)
        if kept_id is not None
        else None
    )
    values, errors = found if found else (form_from_loan(detail), [])
    return _form_page(
        db,
        values=values,
        errors=errors,
        action=f"/applications/{reference}/edit",
        reference=reference,
    )


@post(
    "/applications/{reference:str}/edit",
    opt=CASE_USERS,
    sync_to_thread=True,
    include_in_schema=False,
)
def save_application(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Template | Redirect:
    """Save the draft: what can be used is stored, the rest shown again with its problem."""
    loan = _own_loan(db, user, reference)
    raw = raw_from_form(data)
    try:
        errors = apps.update_application(session=db, loan=loan, raw=raw, actor=user.email)
    except apps.RequestRefused as exc:
        db.rollback()
        return _refused_form(
            db, raw, exc, action=f"/applications/{reference}/edit", reference=reference
        )
    except apps.ApplicationError as exc:
        db.rollback()
        return _form_page(
            db,
            values=_typed(raw),
            errors=[apps.FieldError("form", exc.message_sv, exc.message_en)],
            action=f"/applications/{reference}/edit",
            reference=reference,
            status_code=409,
        )
    if errors:
        db.commit()
        return _kept_form(
            request,
            db,
            user,
            loan,
            raw,
            errors,
            _("The draft is saved; some values need attention."),
        )
    assert loan.id is not None
    form_drafts.clear(db, loan_id=loan.id)
    db.commit()
    flash(request, _("The draft is saved."))
    return Redirect(path=f"/applications/{reference}")


# --- the application page (borrower and staff) ---------------------------------------------------


def _assessment_context(request: Request[Any, Any, Any], db: Session, loan: Loan) -> dict[str, Any]:
    """Everything the application and assessment pages show: criteria, discount, SMART and power."""
    from lanportfolj.services.evaluation import mde_panel, power_panel, smart_panel
    from lanportfolj.services.loans import case_for

    lang = get_language()
    settings = _settings(request)
    result = apps.assess_loan(session=db, loan=loan)
    stored = apps.latest_assessment(db, loan)
    terms = apps.discount_for(session=db, loan=loan, settings=settings, as_of=date.today())
    if_approved = (
        None
        if terms.applies or loan.status in ("rejected", "repaid")
        else apps.discount_if_approved(session=db, loan=loan, settings=settings, as_of=date.today())
    )
    decisions = apps.latest_decisions(db, loan)
    detail = loan_detail(db, loan.reference)
    assert detail is not None
    return {
        "loan": detail,
        "case_view": application_view(detail, lang),
        "case_open": True,
        "assessment": result.to_dict(lang),
        "open_judgements": result.open_judgements,
        "judgement_criteria": eligibility.JUDGEMENT_CRITERIA,
        "stored": stored,
        "terms": terms,
        "if_approved": if_approved,
        "terms_reason": terms.reason(lang),
        "latest_decisions": decisions,
        "next_steps": apps.TRANSITIONS.get(loan.status, ()),
        "editable": loan.status in apps.EDITABLE_STATUSES,
        "smart": smart_panel(db, loan.reference, lang=lang),
        "power": power_panel(case_for(db, loan), settings, lang=lang),
        "mde": mde_panel(db, loan_ref=loan.reference, lang=lang),
    }


@get("/applications/{reference:str}", opt=CASE_USERS, sync_to_thread=True, include_in_schema=False)
def application_page(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> Template:
    """The application as its borrower sees it: status, every criterion's reason, decisions, discount."""
    loan = _own_loan(db, user, reference)
    return Template("applications/show.html", context=_assessment_context(request, db, loan))


@get(
    "/applications/{reference:str}/summary",
    opt=CASE_USERS,
    sync_to_thread=True,
    include_in_schema=False,
)
def committee_summary(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> Template:
    """The printable committee summary: the whole application, every criterion, discount and decisions."""
    loan = _own_loan(db, user, reference)
    context = _assessment_context(request, db, loan)
    return Template(
        "applications/summary.html", context=context | {"today": date.today(), "printed_by": user}
    )


@post(
    "/applications/{reference:str}/submit",
    opt=CASE_USERS,
    sync_to_thread=True,
    include_in_schema=False,
)
def submit_application(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> Redirect:
    """Submit the draft for review."""
    loan = _own_loan(db, user, reference)
    try:
        apps.transition(session=db, loan=loan, to="submitted", actor=user.email)
        db.commit()
        flash(request, _("The application is submitted for review."))
    except apps.ApplicationError as exc:
        db.rollback()
        flash(request, exc.message(get_language()), "error")
    return Redirect(path=f"/applications/{reference}")


@post(
    "/applications/{reference:str}/withdraw",
    opt=CASE_USERS,
    sync_to_thread=True,
    include_in_schema=False,
)
def withdraw_application(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Redirect:
    """Take a submitted application back to draft before the review starts (the reason is audited)."""
    loan = _own_loan(db, user, reference)
    reason = _field(data, "reason") or _("Withdrawn by the borrower to change it.")
    try:
        apps.transition(session=db, loan=loan, to="draft", actor=user.email, reason=reason)
        db.commit()
        flash(
            request, _("The application is back to draft; nothing is reviewed until you submit it.")
        )
    except apps.ApplicationError as exc:
        db.rollback()
        flash(request, exc.message(get_language()), "error")
    return Redirect(path=f"/applications/{reference}")


@post(
    "/applications/{reference:str}/delete",
    opt=CASE_USERS,
    sync_to_thread=True,
    include_in_schema=False,
)
def delete_application(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Redirect:
    """Delete a draft, once its confirmation box is ticked; the start page says so."""
    loan = _own_loan(db, user, reference)
    if _field(data, "confirm") != "yes":
        flash(request, _("Tick the box to confirm that the draft is to be deleted."), "error")
        return Redirect(path=f"/applications/{reference}")
    try:
        apps.delete_draft(session=db, loan=loan, actor=user.email)
        db.commit()
    except apps.ApplicationError as exc:
        db.rollback()
        flash(request, exc.message(get_language()), "error")
        return Redirect(path=f"/applications/{reference}")
    flash(request, _("The draft %(ref)s is deleted.", ref=reference))
    return Redirect(path="/")


# --- the analyst's pages -----------------------------------------------------------------------------


def _queue_rows(
    request: Request[Any, Any, Any],
    db: Session,
    *,
    status: str | None,
    category: str,
    borrower: str,
    sort: str,
    order: str,
    at_risk: str,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The queue's rows for the filters as sent, and the filters as the page shows them. With no
    ``status`` at all (a first visit) the queue opens on the open applications."""
    settings = _settings(request)
    chosen = apps.OPEN if status is None else status
    rows = apps.application_queue(
        session=db,
        as_of=date.today(),
        deadline=settings.report_deadline,
        status=chosen or None,
        category=category or None,
        borrower_id=row_id_or_none(borrower),
        sort=sort,
        descending=order == "desc",
        at_risk_only=at_risk == "1",
    )
    filters = {
        "status": chosen,
        "category": category,
        "borrower": borrower,
        "at_risk": "1" if at_risk == "1" else "",
    }
    return rows, filters


@get("/analyst/applications", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def queue(
    request: Request[Any, Any, Any],
    db: Session,
    status: str | None = None,
    category: str = "",
    borrower: str = "",
    sort: str = "reference",
    order: str = "asc",
    at_risk: str = "",
) -> Template:
    """The application queue: open applications first; filter by status, category, borrower and
    discount at risk; sort by any column; totals under the table; the same rows as CSV or XLSX."""
    rows, filters = _queue_rows(
        request,
        db,
        status=status,
        category=category,
        borrower=borrower,
        sort=sort,
        order=order,
        at_risk=at_risk,
    )
    borrowers = db.exec(select(Borrower).order_by(col(Borrower.name))).all()
    query = urlencode(
        {k: v for k, v in {**filters, "sort": sort, "order": order}.items() if v != ""}
        | {"status": filters["status"]}
    )
    return Template(
        "applications/queue.html",
        context={
            "rows": rows,
            "totals": list_exports.totals(rows),
            "filters": filters,
            "export_query": query,
            "sort": sort if sort in apps.QUEUE_SORTS else "reference",
            "order": "desc" if order == "desc" else "asc",
            "borrowers": borrowers,
            "at_risk_count": sum(1 for r in rows if r["at_risk"]),
            "open_status": apps.OPEN,
            **_vocabularies(get_language()),
        },
    )


def _export_response(rows: list[dict[str, Any]], name: str, fmt: str) -> Response[bytes]:
    lang = get_language()
    stamp = date.today().isoformat()
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


def _queue_export(
    request: Request[Any, Any, Any], db: Session, fmt: str, params: dict[str, Any]
) -> Response[bytes]:
    rows, _filters = _queue_rows(request, db, **params)
    name = "ansokningar" if get_language() == "sv" else "applications"
    return _export_response(rows, name, fmt)


@get("/analyst/applications.csv", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def queue_csv(
    request: Request[Any, Any, Any],
    db: Session,
    status: str | None = None,
    category: str = "",
    borrower: str = "",
    sort: str = "reference",
    order: str = "asc",
    at_risk: str = "",
) -> Response[bytes]:
    """The queue's rows, filtered and sorted as on the page, as CSV with full amounts."""
    params = {"status": status, "category": category, "borrower": borrower}
    params |= {"sort": sort, "order": order, "at_risk": at_risk}
    return _queue_export(request, db, "csv", params)


@get("/analyst/applications.xlsx", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def queue_xlsx(
    request: Request[Any, Any, Any],
    db: Session,
    status: str | None = None,
    category: str = "",
    borrower: str = "",
    sort: str = "reference",
    order: str = "asc",
    at_risk: str = "",
) -> Response[bytes]:
    """The queue's rows, filtered and sorted as on the page, as a workbook with full amounts."""
    params = {"status": status, "category": category, "borrower": borrower}
    params |= {"sort": sort, "order": order, "at_risk": at_risk}
    return _queue_export(request, db, "xlsx", params)


@get(
    "/analyst/applications/{reference:str}",
    opt=STAFF,
    sync_to_thread=True,
    include_in_schema=False,
)
def assessment_page(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> Template:
    """Every criterion with its reason, the judgement and decision forms, the discount and power panels."""
    loan = _own_loan(db, user, reference)
    return Template("applications/assess.html", context=_assessment_context(request, db, loan))


def _back(reference: str) -> Redirect:
    return Redirect(path=f"/analyst/applications/{reference}")


def _field(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    return str(value[-1] if isinstance(value, list) else value).strip()


@post(
    "/analyst/applications/{reference:str}/judgements",
    opt=STAFF,
    sync_to_thread=True,
    include_in_schema=False,
)
def judge(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Redirect:
    """Record a judgement of E9–E11 with its rationale."""
    loan = _own_loan(db, user, reference)
    try:
        apps.record_judgement(
            session=db,
            loan=loan,
            criterion_id=_field(data, "criterion"),
            result=_field(data, "result"),
            rationale=_field(data, "rationale"),
            actor=user.email,
        )
        db.commit()
        flash(request, _("Judgement of %(id)s recorded.", id=_field(data, "criterion")))
    except apps.ApplicationError as exc:
        db.rollback()
        flash(request, exc.message(get_language()), "error")
    return _back(reference)


@post(
    "/analyst/applications/{reference:str}/decisions",
    opt=STAFF,
    sync_to_thread=True,
    include_in_schema=False,
)
def decide(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Redirect:
    """Record the committee's or the credit decision."""
    loan = _own_loan(db, user, reference)
    try:
        apps.record_decision(
            session=db,
            loan=loan,
            kind=_field(data, "kind"),
            outcome=_field(data, "outcome"),
            rationale=_field(data, "rationale"),
            actor=user.email,
            settings=_settings(request),
        )
        db.commit()
        flash(request, _("Decision recorded."))
    except apps.ApplicationError as exc:
        db.rollback()
        flash(request, exc.message(get_language()), "error")
    return _back(reference)


@post(
    "/analyst/applications/{reference:str}/transitions",
    opt=STAFF,
    sync_to_thread=True,
    include_in_schema=False,
)
def step(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: Annotated[dict[str, Any], FORM],
) -> Redirect:
    """Move the application to its next status."""
    loan = _own_loan(db, user, reference)
    to = _field(data, "to")
    try:
        apps.transition(
            session=db, loan=loan, to=to, actor=user.email, reason=_field(data, "reason")
        )
        db.commit()
        flash(request, _("The status is now: %(status)s.", status=_(to)))
    except apps.ApplicationError as exc:
        if exc.code == "not_eligible":
            db.commit()  # keep the assessment run that explains the refusal
        else:
            db.rollback()
        flash(request, exc.message(get_language()), "error")
    return _back(reference)


ROUTES = [
    new_application,
    create_application,
    edit_application,
    save_application,
    application_page,
    committee_summary,
    submit_application,
    withdraw_application,
    delete_application,
    queue,
    queue_csv,
    queue_xlsx,
    assessment_page,
    judge,
    decide,
    step,
]
