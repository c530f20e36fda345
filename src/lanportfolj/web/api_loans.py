"""The loans API: applications, their assessment, judgements, decisions and status steps.

Bodies are msgspec Structs, so ``/schema`` documents every field. Amounts and measured values are exact
decimals written as strings (``"3800000000"``). A body that cannot be read, or values that cannot be used,
give 422 with one entry per field (``field``, ``message``, ``message_sv``, ``message_en``); nothing is saved
then. A borrower user works only with their own organisation's loans; any other loan is 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get, patch, post
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_422_UNPROCESSABLE_ENTITY
from msgspec import UNSET, UnsetType
from sqlmodel import Session, select

from lanportfolj.config import Settings
from lanportfolj.domain import identifiers as ids
from lanportfolj.models import Borrower, Loan
from lanportfolj.services import applications as apps
from lanportfolj.services.loans import list_loans, loan_detail
from lanportfolj.web.access import CurrentUser, allow, require_loan_access
from lanportfolj.web.i18n import get_language

API_ROLES = ("analyst", "admin", "borrower")
STAFF_ROLES = ("analyst", "admin")

# --- bodies -------------------------------------------------------------------------------------------


class GoalBody(msgspec.Struct, forbid_unknown_fields=True):
    """A goal: its text, the codes of the loan indicators that measure it, target value and year."""

    text: str = ""
    indicators: list[str] = msgspec.field(default_factory=list)
    target_value: Decimal | None = None
    target_year: int | None = None


class IndicatorBody(msgspec.Struct, forbid_unknown_fields=True):
    """An indicator on the loan: a library code, or the loan's own with name, unit and kind."""

    code: str
    baseline_value: Decimal | None = None
    baseline_year: int | None = None
    target_value: Decimal | None = None
    target_year: int | None = None
    expected_value: Decimal | None = None
    data_source: str = ""
    name: str = ""
    unit: str = ""
    kind: str = ""
    direction: str = "increase"
    aggregation: str = "latest"


class CaseBody(msgspec.Struct, forbid_unknown_fields=True):
    """The case. In a PATCH only the fields sent change; ``goals`` and ``indicators`` replace the lists."""

    title: str | UnsetType = UNSET
    amount: Decimal | UnsetType = UNSET
    total_project_cost: Decimal | UnsetType | None = UNSET
    margin_bp: Decimal | UnsetType | None = UNSET
    application_date: date | UnsetType | None = UNSET
    disbursement_date: date | UnsetType | None = UNSET
    maturity_date: date | UnsetType | None = UNSET
    programme_category: str | UnsetType = UNSET
    icma_category: str | UnsetType = UNSET
    investment_type: str | UnsetType = UNSET
    target_populations: list[str] | UnsetType = UNSET
    sdgs: list[str] | UnsetType = UNSET
    social_need: str | UnsetType = UNSET
    target_group_who: str | UnsetType = UNSET
    target_group_where: str | UnsetType = UNSET
    target_group_attributes: str | UnsetType = UNSET
    interventions: str | UnsetType = UNSET
    change_for_target_group: str | UnsetType = UNSET
    future_state: str | UnsetType = UNSET
    physical_investment: str | UnsetType = UNSET
    social_intervention: str | UnsetType = UNSET
    intervention_logic: str | UnsetType = UNSET
    systematic_work_ref: str | UnsetType = UNSET
    developed_practice: str | UnsetType = UNSET
    evaluation_plan: str | UnsetType = UNSET
    comparison_group: str | UnsetType = UNSET
    planned_sample_per_arm: int | UnsetType | None = UNSET
    outcome_base_rate: float | UnsetType | None = UNSET
    follow_up_until_year: int | UnsetType | None = UNSET
    goals: list[GoalBody] | UnsetType = UNSET
    indicators: list[IndicatorBody] | UnsetType = UNSET


class NewApplicationBody(CaseBody, forbid_unknown_fields=True):
    """A new draft. A borrower user's draft is for their own organisation; an analyst names the borrower
    by organisation number. ``reference`` is given out by the system (``SH-2026-001``): a borrower's
    request that names one is refused (422); staff may name one matching
    ``^[A-Z]{2,4}-[0-9]{4}-[0-9]{3,6}$``."""

    borrower_orgnr: str = ""
    reference: str = ""


class TransitionBody(msgspec.Struct, forbid_unknown_fields=True):
    """A status step: ``under_review``, ``approved``, ``rejected``, ``draft`` (send back), ``active``,
    ``repaid``. ``reason`` is required to reject or send back."""

    to: str
    reason: str = ""


class JudgementBody(msgspec.Struct, forbid_unknown_fields=True):
    """An analyst's judgement of E9, E10 or E11: ``pass`` or ``fail`` and why (the borrower sees it)."""

    criterion: str
    result: str
    rationale: str


class DecisionBody(msgspec.Struct, forbid_unknown_fields=True):
    """The committee's or the credit decision: ``committee|credit``, ``approved|rejected``, and why."""

    kind: str
    outcome: str
    rationale: str


# --- responses ----------------------------------------------------------------------------------------


class LoanSummary(msgspec.Struct):
    reference: str
    title: str
    borrower: str
    borrower_orgnr: str
    status: str
    amount: Decimal
    currency: str
    programme_category: str
    icma_category: str
    discount_bp: Decimal
    maturity_date: date | None
    illustrative: bool


class GoalView(msgspec.Struct):
    position: int
    text: str
    indicators: list[str]
    target_value: str | None
    target_year: int | None


class IndicatorView(msgspec.Struct):
    code: str
    name_sv: str
    name_en: str
    unit: str
    kind: str
    own: bool
    baseline_value: str | None
    baseline_year: int | None
    target_value: str | None
    target_year: int | None
    data_source: str
    #: expected (ex ante) for the target year; frozen at the committee's approval
    expected_value: str | None = None
    expected_frozen_at: str | None = None


class DecisionView(msgspec.Struct):
    kind: str
    outcome: str
    by: str
    at: str
    rationale: str


class JudgementView(msgspec.Struct):
    criterion: str
    result: str
    by: str
    at: str
    rationale: str


class FieldErrorView(msgspec.Struct):
    field: str
    message: str
    message_sv: str
    message_en: str


class LoanView(msgspec.Struct):
    """One application or loan as the API shows it to staff and to its own borrower."""

    reference: str
    title: str
    status: str
    borrower: str
    borrower_orgnr: str
    amount: str
    currency: str
    total_project_cost: str | None
    margin_bp: str | None
    discount_bp: str
    application_date: date | None
    disbursement_date: date | None
    maturity_date: date | None
    programme_category: str
    icma_category: str
    investment_type: str
    target_populations: list[str]
    sdgs: list[str]
    case: dict[str, Any]
    goals: list[GoalView]
    indicators: list[IndicatorView]
    decisions: list[DecisionView]
    judgements: list[JudgementView]
    #: Values the last change could not use (PATCH/POST only; empty otherwise).
    field_errors: list[FieldErrorView] = msgspec.field(default_factory=list)


class CriterionView(msgspec.Struct):
    id: str
    title: str
    result: str
    reason: str
    fields: list[str]
    advisory: bool
    judged_by: str | None
    rationale: str | None


class AssessmentView(msgspec.Struct):
    """The eligibility check as of now, and the discount (the same shape as ``lanportfolj assess --json``)."""

    loan: str
    overall: str
    rule_set: str
    criteria: list[CriterionView]
    discount_bp: str
    annual_saving_sek: str
    term_saving_sek: str


# --- errors -------------------------------------------------------------------------------------------


def _field_entry(field: str, sv: str, en: str) -> dict[str, str]:
    return {
        "field": field,
        "message": sv if get_language() == "sv" else en,
        "message_sv": sv,
        "message_en": en,
    }


class FieldErrors(ValidationException):
    """422 with one entry per field that cannot be used."""

    status_code = HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, errors: list[apps.FieldError]) -> None:
        super().__init__(
            detail="Some values cannot be used.",
            extra=[_field_entry(e.field, e.message_sv, e.message_en) for e in errors],
        )


def _unreadable_body(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """A body msgspec could not read becomes 422 with its field named, like every other field error."""
    entries = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict) and "field" in item:
            entries.append(item)
        elif isinstance(item, dict):
            key = str(item.get("key") or "body")
            msg = str(item.get("message") or "")
            entries.append(
                _field_entry(
                    key, f"Värdet kan inte läsas: {msg}", f"The value cannot be read: {msg}"
                )
            )
    return Response(
        {"status_code": 422, "detail": "Some values cannot be used.", "extra": entries},
        status_code=HTTP_422_UNPROCESSABLE_ENTITY,
        media_type=MediaType.JSON,
    )


HANDLERS: dict[Any, Any] = {ValidationException: _unreadable_body}


async def refuse_deep_json(request: Request[Any, Any, Any]) -> None:
    """Before a body is decoded: refuse one nested deeper than ``MAX_JSON_DEPTH`` (422 naming the limit),
    so no decoder ever recurses through a hostile ``[[[[…``. The body is read once and kept for the
    handler."""
    problem = ids.too_deep(ids.raw_json_depth(await request.body()))
    if problem is not None:
        raise FieldErrors([apps.FieldError(problem.field, problem.message_sv, problem.message_en)])


CONFLICT_CODES = {
    "invalid_transition",
    "not_editable",
    "not_in_review",
    "approvals_missing",
    "not_eligible",
    "duplicate_reference",
}


def _refused(exc: apps.ApplicationError) -> HTTPException:
    status = HTTP_409_CONFLICT if exc.code in CONFLICT_CODES else HTTP_422_UNPROCESSABLE_ENTITY
    return HTTPException(
        status_code=status,
        detail=exc.message(get_language()),
        extra={
            "code": exc.code,
            **({"field": exc.field} if exc.field else {}),
            "message_sv": exc.message_sv,
            "message_en": exc.message_en,
        },
    )


# --- helpers ------------------------------------------------------------------------------------------


def _raw(body: CaseBody) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name in apps.CASE_FIELDS:
        value = getattr(body, name, UNSET)
        if value is not UNSET:
            raw[name] = value
    if body.goals is not UNSET:
        raw["goals"] = [msgspec.structs.asdict(g) for g in body.goals]
    if body.indicators is not UNSET:
        raw["indicators"] = [msgspec.structs.asdict(i) for i in body.indicators]
    return raw


def loan_view(db: Session, reference: str, errors: Sequence[apps.FieldError] = ()) -> LoanView:
    """The API's view of one loan."""
    d = loan_detail(db, reference)
    if d is None:
        raise NotFoundException(f"No loan {reference}.")
    return LoanView(
        reference=d["reference"],
        title=d["title"],
        status=d["status"],
        borrower=d["borrower"]["name"],
        borrower_orgnr=d["borrower"]["orgnr"],
        amount=d["amount"],
        currency=d["currency"],
        total_project_cost=d["total_project_cost"],
        margin_bp=d["margin_bp"],
        discount_bp=d["discount_bp"],
        application_date=d["application_date"],
        disbursement_date=d["disbursement_date"],
        maturity_date=d["maturity_date"],
        programme_category=d["programme_category"],
        icma_category=d["icma_category"],
        investment_type=d["investment_type"],
        target_populations=list(d["target_populations"] or []),
        sdgs=list(d["sdgs"] or []),
        case=d["case"],
        goals=[GoalView(**g) for g in d["goals"]],
        indicators=[
            IndicatorView(
                code=i["code"],
                name_sv=i["name_sv"],
                name_en=i["name_en"],
                unit=i["unit"],
                kind=i["kind"],
                own=i["own"],
                baseline_value=i["baseline"]["value"],
                baseline_year=i["baseline"]["year"],
                target_value=i["target"]["value"],
                target_year=i["target"]["year"],
                data_source=i["data_source"] or "",
                expected_value=i["expected"]["value"],
                expected_frozen_at=i["expected"]["frozen_at"],
            )
            for i in d["indicators"]
        ],
        decisions=[DecisionView(**x) for x in d["decisions"]],
        judgements=[JudgementView(**x) for x in d["judgements"]],
        field_errors=[
            FieldErrorView(**_field_entry(e.field, e.message_sv, e.message_en)) for e in errors
        ],
    )


def _settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings


def assessment_view(summary: dict[str, Any]) -> AssessmentView:
    return AssessmentView(
        loan=summary["loan"],
        overall=summary["overall"],
        rule_set=summary["rule_set"],
        criteria=[
            CriterionView(
                id=c["id"],
                title=c["title"],
                result=c["result"],
                reason=c["reason"],
                fields=c["fields"],
                advisory=c["advisory"],
                judged_by=c["judged_by"],
                rationale=c["rationale"],
            )
            for c in summary["criteria"]
        ],
        discount_bp=summary["discount_bp"],
        annual_saving_sek=summary["annual_saving_sek"],
        term_saving_sek=summary["term_saving_sek"],
    )


# --- routes -------------------------------------------------------------------------------------------

TAGS = ["loans"]


@get("/api/loans", opt=allow(*API_ROLES), sync_to_thread=True, tags=TAGS)
def api_list_loans(db: Session, user: CurrentUser, status: str | None = None) -> list[LoanSummary]:
    """Loans and applications the caller may see: all for staff, their own organisation's for a borrower."""
    if user.is_staff:
        rows = list_loans(db, statuses=(status,) if status else None)
    elif user.borrower_id is not None:
        rows = list_loans(db, borrower_id=user.borrower_id, statuses=(status,) if status else None)
    else:
        rows = []
    return [
        LoanSummary(**{k: r[k] for k in LoanSummary.__struct_fields__})  # type: ignore[arg-type]
        for r in rows
    ]


@get("/api/loans/{reference:str}", opt=allow(*API_ROLES), sync_to_thread=True, tags=TAGS)
def api_get_loan(db: Session, user: CurrentUser, reference: str) -> LoanView:
    """One loan with its case, goals, indicators, decisions and judgements."""
    require_loan_access(db, user, reference)
    return loan_view(db, reference)


@post(
    "/api/loans",
    opt=allow(*API_ROLES),
    sync_to_thread=True,
    tags=TAGS,
    exception_handlers=HANDLERS,
    before_request=refuse_deep_json,
)
def api_create_loan(db: Session, user: CurrentUser, data: NewApplicationBody) -> LoanView:
    """Create a draft application (201). Values that cannot be used give 422 and nothing is saved."""
    if user.is_staff:
        borrower = None
        if data.borrower_orgnr:
            borrower = db.exec(
                select(Borrower).where(Borrower.orgnr == data.borrower_orgnr.strip())
            ).first()
        if borrower is None:
            raise FieldErrors(
                [
                    apps.FieldError(
                        "borrower_orgnr",
                        "Ange låntagarens organisationsnummer (NNNNNN-NNNN).",
                        "Give the borrower's organisation number (NNNNNN-NNNN).",
                    )
                ]
            )
        borrower_id = borrower.id or 0
    elif user.borrower_id is not None:
        borrower_id = user.borrower_id
    else:
        raise NotFoundException("No organisation.")
    try:
        loan, errors = apps.create_application(
            session=db,
            borrower_id=borrower_id,
            actor=user.email,
            raw=_raw(data),
            reference=data.reference or None,
            borrower_request=not user.is_staff,
        )
    except apps.RequestRefused as exc:
        db.rollback()
        raise FieldErrors(exc.errors) from None
    except apps.ApplicationError as exc:
        raise _refused(exc) from None
    if errors:
        db.rollback()
        raise FieldErrors(errors)
    db.commit()
    return loan_view(db, loan.reference)


@patch(
    "/api/loans/{reference:str}",
    opt=allow(*API_ROLES),
    sync_to_thread=True,
    tags=TAGS,
    exception_handlers=HANDLERS,
    before_request=refuse_deep_json,
)
def api_update_loan(db: Session, user: CurrentUser, reference: str, data: CaseBody) -> LoanView:
    """Change some case fields of a draft or submitted application; 409 once the review has started."""
    loan = require_loan_access(db, user, reference)
    try:
        errors = apps.update_application(session=db, loan=loan, raw=_raw(data), actor=user.email)
    except apps.RequestRefused as exc:
        db.rollback()
        raise FieldErrors(exc.errors) from None
    except apps.ApplicationError as exc:
        raise _refused(exc) from None
    if errors:
        db.rollback()
        raise FieldErrors(errors)
    db.commit()
    return loan_view(db, reference)


def _loan_for_step(db: Session, user: CurrentUser, reference: str) -> Loan:
    return require_loan_access(db, user, reference)


@post(
    "/api/loans/{reference:str}/submit",
    opt=allow(*API_ROLES),
    sync_to_thread=True,
    tags=TAGS,
    status_code=200,
)
def api_submit(db: Session, user: CurrentUser, reference: str) -> LoanView:
    """Submit a draft for review; the assessment is run and stored at once."""
    loan = _loan_for_step(db, user, reference)
    try:
        apps.transition(session=db, loan=loan, to="submitted", actor=user.email)
    except apps.ApplicationError as exc:
        raise _refused(exc) from None
    db.commit()
    return loan_view(db, reference)


@post(
    "/api/loans/{reference:str}/transitions",
    opt=allow(*STAFF_ROLES),
    sync_to_thread=True,
    tags=TAGS,
    status_code=200,
    exception_handlers=HANDLERS,
    before_request=refuse_deep_json,
)
def api_transition(
    db: Session, user: CurrentUser, reference: str, data: TransitionBody
) -> LoanView:
    """An analyst's status step: review, approve (both approvals and an eligible assessment needed),
    reject or send back (with a reason), activate, mark repaid. 409 when the step is not possible."""
    loan = _loan_for_step(db, user, reference)
    try:
        apps.transition(session=db, loan=loan, to=data.to, actor=user.email, reason=data.reason)
    except apps.ApplicationError as exc:
        if exc.code == "not_eligible":
            db.commit()  # the assessment run that refused the approval is kept, to explain it
        raise _refused(exc) from None
    db.commit()
    return loan_view(db, reference)


@get(
    "/api/loans/{reference:str}/assessment",
    opt=allow(*API_ROLES),
    sync_to_thread=True,
    tags=TAGS,
)
def api_assessment(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, reference: str
) -> AssessmentView:
    """Every criterion E1–E12 as of now, with its reason in the request's language, and the discount."""
    loan = require_loan_access(db, user, reference)
    summary = apps.assessment_summary(
        session=db,
        loan=loan,
        settings=_settings(request),
        as_of=date.today(),
        lang=get_language(),
    )
    return assessment_view(summary)


@post(
    "/api/loans/{reference:str}/judgements",
    opt=allow(*STAFF_ROLES),
    sync_to_thread=True,
    tags=TAGS,
    status_code=201,
    exception_handlers=HANDLERS,
    before_request=refuse_deep_json,
)
def api_judgement(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: JudgementBody,
) -> AssessmentView:
    """Record a judgement of E9–E11; the assessment is re-run, stored and returned."""
    loan = require_loan_access(db, user, reference)
    try:
        apps.record_judgement(
            session=db,
            loan=loan,
            criterion_id=data.criterion.strip().upper(),
            result=data.result,
            rationale=data.rationale,
            actor=user.email,
        )
    except apps.ApplicationError as exc:
        raise _refused(exc) from None
    db.commit()
    summary = apps.assessment_summary(
        session=db, loan=loan, settings=_settings(request), as_of=date.today(), lang=get_language()
    )
    return assessment_view(summary)


@post(
    "/api/loans/{reference:str}/decisions",
    opt=allow(*STAFF_ROLES),
    sync_to_thread=True,
    tags=TAGS,
    status_code=201,
    exception_handlers=HANDLERS,
    before_request=refuse_deep_json,
)
def api_decision(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    reference: str,
    data: DecisionBody,
) -> LoanView:
    """Record the committee's or the credit decision; the discount follows both approvals."""
    loan = require_loan_access(db, user, reference)
    try:
        apps.record_decision(
            session=db,
            loan=loan,
            kind=data.kind,
            outcome=data.outcome,
            rationale=data.rationale,
            actor=user.email,
            settings=_settings(request),
        )
    except apps.ApplicationError as exc:
        raise _refused(exc) from None
    db.commit()
    return loan_view(db, reference)


ROUTES = [
    api_list_loans,
    api_get_loan,
    api_create_loan,
    api_update_loan,
    api_submit,
    api_transition,
    api_assessment,
    api_judgement,
    api_decision,
]
