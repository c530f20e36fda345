"""Loan applications from draft to repaid: the case form, the assessment, judgements, decisions, discount.

The only place that turns the eligibility engine's results into stored rows: every assessment run is kept with
its rule-set version, every judgement and decision with who, when and why, and every status change in the
audit trail (who, when, from, to, why). Invalid transitions raise :class:`ApplicationError` with the reason in
Swedish and English; values that cannot be read come back as :class:`FieldError` s next to their fields, and
whatever could be read is still saved, so a draft never loses what was typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, true
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.domain import eligibility
from lanportfolj.domain import identifiers as ids
from lanportfolj.domain.categories import (
    ICMA_CATEGORIES,
    INVESTMENT_TYPES,
    PROGRAMME_CATEGORIES,
    TARGET_POPULATIONS,
)
from lanportfolj.domain.discount import DiscountTerms, discount_terms, report_overdue
from lanportfolj.models import (
    Assessment,
    BondPoolEntry,
    Borrower,
    Decision,
    FormDraft,
    Goal,
    GoalIndicator,
    IndicatorDefinition,
    Judgement,
    Loan,
    LoanIndicator,
    Measurement,
)
from lanportfolj.services import audit
from lanportfolj.services.loans import CASE_TEXT_FIELDS, case_for, get_loan

#: Which status may follow which (PRODUCT §2). Sending back to draft lets the borrower fix the case.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("submitted",),
    "submitted": ("under_review", "draft"),
    "under_review": ("approved", "rejected", "draft"),
    "approved": ("active",),
    "rejected": (),
    "active": ("repaid",),
    "repaid": (),
}
#: The borrower (or analyst) may change the case only before the review starts.
EDITABLE_STATUSES = ("draft", "submitted")
#: Judgements and decisions belong to the review.
REVIEW_STATUSES = ("submitted", "under_review")
DECISION_KINDS = ("committee", "credit")
DECISION_OUTCOMES = ("approved", "rejected")
#: Transitions that must say why (the audit trail and the borrower read it).
REASON_REQUIRED = {("under_review", "rejected"), ("submitted", "draft"), ("under_review", "draft")}

STATUS_NAMES: dict[str, tuple[str, str]] = {
    "draft": ("utkast", "draft"),
    "submitted": ("inskickad", "submitted"),
    "under_review": ("under granskning", "under review"),
    "approved": ("godkänd", "approved"),
    "rejected": ("avslagen", "rejected"),
    "active": ("aktiv", "active"),
    "repaid": ("återbetald", "repaid"),
}

MONEY_FIELDS = ("amount", "total_project_cost")
DECIMAL_FIELDS = ("margin_bp",)
DATE_FIELDS = ("application_date", "disbursement_date", "maturity_date")
YEAR_FIELDS = ("follow_up_until_year",)
CHOICE_FIELDS: dict[str, tuple[str, ...]] = {
    "programme_category": tuple(PROGRAMME_CATEGORIES),
    "icma_category": tuple(ICMA_CATEGORIES),
    "investment_type": INVESTMENT_TYPES,
}
#: Every loan column the case form and ``PATCH /api/loans/{ref}`` may change.
CASE_FIELDS: tuple[str, ...] = (
    "title",
    *MONEY_FIELDS,
    *DECIMAL_FIELDS,
    *DATE_FIELDS,
    *CHOICE_FIELDS,
    "target_populations",
    "sdgs",
    *CASE_TEXT_FIELDS,
    "planned_sample_per_arm",
    "outcome_base_rate",
    *YEAR_FIELDS,
)
INDICATOR_KINDS = ("output", "outcome")
DIRECTIONS = ("increase", "decrease")
#: ``ratio`` needs numerator and denominator indicators, which the form does not offer.
OWN_AGGREGATIONS = ("sum", "latest", "none")

_SPACES = re.compile(r"[ \t\u00a0\u202f\u2009]+")
#: References the system gives out: ``SH-YYYY-NNN`` (more digits once a year passes 999); a subset of
#: :data:`lanportfolj.domain.identifiers.LOAN_REFERENCE_PATTERN`.
_REFERENCE = re.compile(r"^SH-(\d{4})-(\d{3,6})$")


# --- errors ---------------------------------------------------------------------------------------


class ApplicationError(ValueError):
    """A request about an application that cannot be carried out; the reason in Swedish and English."""

    def __init__(
        self, message_sv: str, message_en: str, *, code: str = "invalid", field: str | None = None
    ) -> None:
        super().__init__(message_en)
        self.message_sv = message_sv
        self.message_en = message_en
        self.code = code
        #: the request field the reason is about (the API names it), when there is one
        self.field = field

    def message(self, lang: str) -> str:
        """The reason in ``lang`` (``sv`` or ``en``)."""
        return self.message_sv if lang == "sv" else self.message_en


@dataclass(frozen=True)
class FieldError:
    """A value on the case form that could not be used as typed; shown next to its field."""

    field: str
    message_sv: str
    message_en: str

    def message(self, lang: str) -> str:
        """The message in ``lang``."""
        return self.message_sv if lang == "sv" else self.message_en

    def to_dict(self) -> dict[str, str]:
        """Plain data for the API."""
        return {"field": self.field, "message_sv": self.message_sv, "message_en": self.message_en}


class RequestRefused(ApplicationError):
    """A request refused as a whole before anything is stored: an identifier that breaks its grammar,
    a text over its limit, too many goals or indicators. ``errors`` name every field."""

    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0]
        super().__init__(first.message_sv, first.message_en, code="refused")
        self.errors = errors


def _status_name(status: str, lang: str) -> str:
    sv, en = STATUS_NAMES.get(status, (status, status))
    return sv if lang == "sv" else en


# --- the case form: parsing -----------------------------------------------------------------------


@dataclass
class GoalInput:
    """One goal as typed: its text, the codes of the loan indicators measuring it, target value and year."""

    text: str = ""
    indicators: list[str] = field(default_factory=list)
    target_value: Decimal | None = None
    target_year: int | None = None


@dataclass
class IndicatorInput:
    """One indicator on the loan: a library code, or the loan's own (then name, unit and kind are given)."""

    code: str = ""
    baseline_value: Decimal | None = None
    baseline_year: int | None = None
    target_value: Decimal | None = None
    target_year: int | None = None
    data_source: str = ""
    #: The value expected (ex ante) for the target year; frozen once the committee approves.
    expected_value: Decimal | None = None
    #: For the loan's own indicator; ignored for a library code.
    name: str = ""
    unit: str = ""
    kind: str = ""
    direction: str = "increase"
    aggregation: str = "latest"


@dataclass
class CaseChanges:
    """What to change on an application: loan columns (a ``None`` value clears), and optionally the whole
    list of goals and of indicators (``None``: leave them as they are)."""

    values: dict[str, Any] = field(default_factory=dict)
    goals: list[GoalInput] | None = None
    indicators: list[IndicatorInput] | None = None


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _decimal(raw: Any) -> Decimal:
    """A number as people type it: ``3 800 000``, ``16,5``, ``1.5``; never through a binary float."""
    if isinstance(raw, bool):
        raise InvalidOperation
    if isinstance(raw, Decimal | int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(str(raw))
    text = _SPACES.sub("", str(raw))
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    value = Decimal(text)
    if not value.is_finite():
        raise InvalidOperation
    return value


def _year(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    text = str(raw).strip()
    if not re.fullmatch(r"\d{4}", text):
        raise ValueError
    return int(text)


def _err(name: str, sv: str, en: str) -> FieldError:
    return FieldError(name, sv, en)


def _not_number(name: str, raw: Any) -> FieldError:
    return _err(
        name,
        f"'{raw}' är inget tal; skriv t.ex. 3 800 000 eller 16,5.",
        f"'{raw}' is not a number; write e.g. 3800000 or 16.5.",
    )


def _not_year(name: str, raw: Any) -> FieldError:
    return _err(
        name,
        f"'{raw}' är inget årtal; skriv fyra siffror, t.ex. 2030.",
        f"'{raw}' is not a year; write four digits, e.g. 2030.",
    )


def _strings(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part for part in re.split(r"[,;\s]+", raw) if part]
    return [str(part).strip() for part in raw if str(part).strip()]


def _parse_value(name: str, raw: Any, errors: list[FieldError]) -> tuple[bool, Any]:
    """(usable, value) for one loan column; an error is added when the value cannot be used."""
    if name == "title":
        text = "" if raw is None else str(raw).strip()
        if not text:
            errors.append(
                _err(name, "Ange en rubrik för ansökan.", "Enter a title for the application.")
            )
            return False, None
        return True, text
    if name in CASE_TEXT_FIELDS:
        return True, "" if raw is None else str(raw).strip()
    if name in MONEY_FIELDS or name in DECIMAL_FIELDS:
        if _blank(raw):
            # the amount column may not be empty: an application without one is for zero kronor
            return True, Decimal(0) if name == "amount" else None
        try:
            value = _decimal(raw)
        except (InvalidOperation, ValueError):
            errors.append(_not_number(name, raw))
            return False, None
        if value < 0:
            errors.append(
                _err(name, "Beloppet kan inte vara negativt.", "The amount cannot be negative.")
            )
            return False, None
        limit = ids.MAX_AMOUNT if name in MONEY_FIELDS else ids.MAX_VALUE
        if (problem := ids.too_big(name, value, limit)) is not None:
            _problem(problem, errors)
            return False, None
        return True, value
    if name in DATE_FIELDS:
        if _blank(raw):
            return True, None
        if isinstance(raw, date):
            return True, raw
        try:
            return True, date.fromisoformat(str(raw).strip())
        except ValueError:
            errors.append(
                _err(
                    name,
                    f"'{raw}' är inget datum; skriv ÅÅÅÅ-MM-DD.",
                    f"'{raw}' is not a date; write YYYY-MM-DD.",
                )
            )
            return False, None
    if name in YEAR_FIELDS:
        if _blank(raw):
            return True, None
        try:
            return True, _year(raw)
        except ValueError:
            errors.append(_not_year(name, raw))
            return False, None
    if name in CHOICE_FIELDS:
        text = "" if raw is None else str(raw).strip()
        if text and text not in CHOICE_FIELDS[name]:
            allowed = ", ".join(CHOICE_FIELDS[name])
            errors.append(
                _err(
                    name,
                    f"'{text}' är inget giltigt val; välj bland {allowed}.",
                    f"'{text}' is not a valid choice; choose one of {allowed}.",
                )
            )
            return False, None
        return True, text
    if name == "target_populations":
        values = _strings(raw)
        unknown = [v for v in values if v not in TARGET_POPULATIONS]
        if unknown:
            errors.append(
                _err(
                    name,
                    f"Okänd målgrupp: {', '.join(unknown)}.",
                    f"Unknown target population: {', '.join(unknown)}.",
                )
            )
            return False, None
        return True, list(dict.fromkeys(values))
    if name == "sdgs":
        values = list(dict.fromkeys(v.strip() for v in _strings(raw)))
        problems = [p for p in (ids.sdg_target_problem(v, name) for v in values) if p]
        if problems:
            errors.append(_err(name, problems[0].message_sv, problems[0].message_en))
            return False, None
        return True, values
    if name == "planned_sample_per_arm":
        if _blank(raw):
            return True, None
        try:
            number = int(str(raw).strip())
        except ValueError:
            number = -1
        if number < 1:
            errors.append(
                _err(
                    name,
                    f"'{raw}' är inget antal; ange ett heltal, t.ex. 120.",
                    f"'{raw}' is not a count; give a whole number, e.g. 120.",
                )
            )
            return False, None
        if (problem := ids.too_big(name, number, ids.MAX_SAMPLE_PER_ARM + 1)) is not None:
            _problem(problem, errors)
            return False, None
        return True, number
    if name == "outcome_base_rate":
        if _blank(raw):
            return True, None
        text = str(raw).strip()
        percent = text.endswith("%")
        try:
            rate = _decimal(text.rstrip("%").strip())
        except (InvalidOperation, ValueError):
            errors.append(_not_number(name, raw))
            return False, None
        if percent or rate >= 1:
            rate = rate / 100
        if not Decimal(0) < rate < Decimal(1):
            errors.append(
                _err(
                    name,
                    "Basnivån är en andel mellan 0 och 100 %, t.ex. 5 %.",
                    "The base rate is a share between 0 and 100 %, e.g. 5 %.",
                )
            )
            return False, None
        return True, float(rate)  # the column is a float: statistics, not money
    raise KeyError(name)


def _optional_decimal(name: str, raw: Any, errors: list[FieldError]) -> Decimal | None:
    if _blank(raw):
        return None
    try:
        value = _decimal(raw)
    except (InvalidOperation, ValueError):
        errors.append(_not_number(name, raw))
        return None
    if (problem := ids.too_big(name, value, ids.MAX_VALUE)) is not None:
        _problem(problem, errors)
        return None
    return value


def _optional_year(name: str, raw: Any, errors: list[FieldError]) -> int | None:
    if _blank(raw):
        return None
    try:
        return _year(raw)
    except ValueError:
        errors.append(_not_year(name, raw))
        return None


def parse_goal(index: int, raw: Mapping[str, Any], errors: list[FieldError]) -> GoalInput:
    """A goal from typed values (``text``, ``indicators``, ``target_value``, ``target_year``)."""
    prefix = f"goals.{index}"
    return GoalInput(
        text=str(raw.get("text") or "").strip(),
        indicators=_strings(raw.get("indicators")),
        target_value=_optional_decimal(f"{prefix}.target_value", raw.get("target_value"), errors),
        target_year=_optional_year(f"{prefix}.target_year", raw.get("target_year"), errors),
    )


def parse_indicator(index: int, raw: Mapping[str, Any], errors: list[FieldError]) -> IndicatorInput:
    """An indicator use from typed values; contradictory years are flagged, the values still kept."""
    prefix = f"indicators.{index}"
    ind = IndicatorInput(
        code=str(raw.get("code") or "").strip(),
        baseline_value=_optional_decimal(
            f"{prefix}.baseline_value", raw.get("baseline_value"), errors
        ),
        baseline_year=_optional_year(f"{prefix}.baseline_year", raw.get("baseline_year"), errors),
        target_value=_optional_decimal(f"{prefix}.target_value", raw.get("target_value"), errors),
        target_year=_optional_year(f"{prefix}.target_year", raw.get("target_year"), errors),
        expected_value=_optional_decimal(
            f"{prefix}.expected_value", raw.get("expected_value"), errors
        ),
        data_source=str(raw.get("data_source") or "").strip(),
        name=str(raw.get("name") or "").strip(),
        unit=str(raw.get("unit") or "").strip(),
        kind=str(raw.get("kind") or "").strip(),
        direction=str(raw.get("direction") or "increase").strip(),
        aggregation=str(raw.get("aggregation") or "latest").strip(),
    )
    if not ind.code:
        errors.append(
            _err(
                f"{prefix}.code",
                "Ange indikatorns kod (från biblioteket eller en egen).",
                "Enter the indicator's code (from the library or your own).",
            )
        )
    if (
        ind.baseline_year is not None
        and ind.target_year is not None
        and ind.target_year < ind.baseline_year
    ):
        errors.append(
            _err(
                f"{prefix}.target_year",
                f"Målåret {ind.target_year} ligger före utgångsvärdets år {ind.baseline_year}.",
                f"The target year {ind.target_year} is before the baseline year "
                f"{ind.baseline_year}.",
            )
        )
    return ind


#: The longest text each field takes, in characters (issue 14; the README lists them).
TEXT_LIMITS: dict[str, int] = {
    "title": ids.NAME_MAX,
    **{name: ids.LONG_TEXT_MAX for name in CASE_TEXT_FIELDS},
    "comparison_group": ids.NAME_MAX,
}
GOAL_TEXT_LIMITS: dict[str, int] = {"text": ids.GOAL_TEXT_MAX}
INDICATOR_TEXT_LIMITS: dict[str, int] = {
    "name": ids.NAME_MAX,
    "unit": ids.UNIT_MAX,
    "data_source": ids.DATA_SOURCE_MAX,
}
#: The longest entry of a short list (an SDG target is ``11.1``; a target population a key).
LIST_ITEM_MAX = 60


def _problem(problem: ids.Problem | None, errors: list[FieldError]) -> None:
    if problem is not None:
        errors.append(FieldError(problem.field, problem.message_sv, problem.message_en))


def _texts(prefix: str, raw: Mapping[str, Any], limits: Mapping[str, int]) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, limit in limits.items():
        value = raw.get(name)
        if isinstance(value, str):
            _problem(ids.too_long(f"{prefix}{name}", value, limit), errors)
    return errors


def _listed(name: str, raw: Any, errors: list[FieldError]) -> list[Any]:
    """``raw`` as a list (a form sends one text), with its length checked against the limit."""
    if raw is None:
        return []
    items = _strings(raw) if isinstance(raw, str) else list(raw) if isinstance(raw, list) else [raw]
    _problem(ids.too_many(name, len(items), ids.MAX_LIST_ITEMS), errors)
    for item in items[: ids.MAX_LIST_ITEMS]:
        if isinstance(item, str):
            _problem(ids.too_long(name, item, LIST_ITEM_MAX), errors)
    return items


def check_request(
    raw: Mapping[str, Any], *, reference: str | None = None, borrower: bool = False
) -> list[FieldError]:
    """What refuses a whole request before anything is stored (web form or API body).

    Identifiers must fit their grammar (indicator codes), texts their limits
    (:data:`TEXT_LIMITS`), lists their lengths (:data:`~lanportfolj.domain.identifiers.MAX_GOALS` goals,
    ``MAX_INDICATORS`` indicators). ``reference`` is what the request asks the new application to be
    called: a borrower may never choose one (the system gives it out), staff only within
    :data:`~lanportfolj.domain.identifiers.LOAN_REFERENCE_PATTERN`.
    """
    errors = _texts("", raw, TEXT_LIMITS)
    for name in ("target_populations", "sdgs"):
        if name in raw:
            _listed(name, raw[name], errors)
    if reference:
        if borrower:
            errors.append(
                _err(
                    "reference",
                    "Referensen ges av systemet (SH-ÅÅÅÅ-NNN); lämna fältet tomt.",
                    "The reference is given out by the system (SH-YYYY-NNN); leave the field out.",
                )
            )
        else:
            _problem(ids.loan_reference_problem(reference.strip(), "reference"), errors)
    goals = raw.get("goals")
    if isinstance(goals, list):
        _problem(ids.too_many("goals", len(goals), ids.MAX_GOALS), errors)
        for index, goal in enumerate(goals[: ids.MAX_GOALS]):
            if not isinstance(goal, Mapping):
                continue
            errors += _texts(f"goals.{index}.", goal, GOAL_TEXT_LIMITS)
            for code in _listed(f"goals.{index}.indicators", goal.get("indicators"), errors)[
                : ids.MAX_LIST_ITEMS
            ]:
                _problem(
                    ids.indicator_code_problem(str(code).strip(), f"goals.{index}.indicators"),
                    errors,
                )
    indicators = raw.get("indicators")
    if isinstance(indicators, list):
        _problem(ids.too_many("indicators", len(indicators), ids.MAX_INDICATORS), errors)
        for index, ind in enumerate(indicators[: ids.MAX_INDICATORS]):
            if not isinstance(ind, Mapping):
                continue
            errors += _texts(f"indicators.{index}.", ind, INDICATOR_TEXT_LIMITS)
            code = str(ind.get("code") or "").strip()
            if code:
                _problem(ids.indicator_code_problem(code, f"indicators.{index}.code"), errors)
    return errors


def _limit_text(field_name: str, value: str) -> None:
    """Refuse a rationale or reason over :data:`~lanportfolj.domain.identifiers.LONG_TEXT_MAX`."""
    problem = ids.too_long(field_name, value, ids.LONG_TEXT_MAX)
    if problem is not None:
        raise ApplicationError(problem.message_sv, problem.message_en, code="too_long")


def _refuse_if(errors: list[FieldError]) -> None:
    if errors:
        raise RequestRefused(errors)


def parse_case(raw: Mapping[str, Any]) -> tuple[CaseChanges, list[FieldError]]:
    """Read typed case values (web form or API body) into changes, with every problem at once.

    Only keys present in ``raw`` change (a PATCH); ``goals`` and ``indicators``, when present, are lists of
    mappings that replace the application's goals and indicators.
    """
    errors: list[FieldError] = []
    changes = CaseChanges()
    for name in CASE_FIELDS:
        if name in raw:
            usable, value = _parse_value(name, raw[name], errors)
            if usable:
                changes.values[name] = value
    if "indicators" in raw and raw["indicators"] is not None:
        changes.indicators = [
            parse_indicator(i, item, errors) for i, item in enumerate(raw["indicators"])
        ]
    if "goals" in raw and raw["goals"] is not None:
        changes.goals = [parse_goal(i, item, errors) for i, item in enumerate(raw["goals"])]
    return changes, errors


def _date_conflicts(loan: Loan) -> list[FieldError]:
    """Contradictory dates: kept as typed, flagged on the form."""
    errors = []
    maturity = loan.maturity_date
    for name, other in (
        ("application_date", loan.application_date),
        ("disbursement_date", loan.disbursement_date),
    ):
        if maturity is not None and other is not None and maturity <= other:
            errors.append(
                _err(
                    "maturity_date",
                    f"Förfallodagen {maturity} måste ligga efter "
                    f"{'ansökningsdatumet' if name == 'application_date' else 'utbetalningsdagen'} "
                    f"{other}.",
                    f"The maturity date {maturity} must be after the "
                    f"{'application date' if name == 'application_date' else 'disbursement date'} "
                    f"{other}.",
                )
            )
    if (
        loan.follow_up_until_year is not None
        and loan.application_date is not None
        and loan.follow_up_until_year < loan.application_date.year
    ):
        errors.append(
            _err(
                "follow_up_until_year",
                "Uppföljningen kan inte sluta före ansökningsåret.",
                "The follow-up cannot end before the application year.",
            )
        )
    return errors


def year_conflicts(loan: Loan, changes: CaseChanges) -> list[FieldError]:
    """Years that contradict the application year: a baseline is measured before (or in) the year the
    application is made, a target lies in or after it. Kept as typed, flagged on the form."""
    if loan.application_date is None:
        return []
    year = loan.application_date.year
    errors: list[FieldError] = []
    for index, ind in enumerate(changes.indicators or []):
        if ind.baseline_year is not None and ind.baseline_year > year:
            errors.append(
                _err(
                    f"indicators.{index}.baseline_year",
                    f"Utgångsvärdets år {ind.baseline_year} ligger efter ansökningsåret {year}; "
                    "utgångsvärdet är det senast kända före insatsen.",
                    f"The baseline year {ind.baseline_year} is after the application year {year}; "
                    "the baseline is the latest value known before the intervention.",
                )
            )
        before_baseline = (
            ind.baseline_year is not None
            and ind.target_year is not None
            and (ind.target_year < ind.baseline_year)
        )  # already flagged by parse_indicator
        if ind.target_year is not None and ind.target_year < year and not before_baseline:
            errors.append(
                _err(
                    f"indicators.{index}.target_year",
                    f"Målåret {ind.target_year} ligger före ansökningsåret {year}.",
                    f"The target year {ind.target_year} is before the application year {year}.",
                )
            )
    for index, goal in enumerate(changes.goals or []):
        if goal.target_year is not None and goal.target_year < year:
            errors.append(
                _err(
                    f"goals.{index}.target_year",
                    f"Målåret {goal.target_year} ligger före ansökningsåret {year}.",
                    f"The target year {goal.target_year} is before the application year {year}.",
                )
            )
    return errors


# --- the case form: storing -----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _require_editable(loan: Loan) -> None:
    if loan.status not in EDITABLE_STATUSES:
        raise ApplicationError(
            f"Ansökan {loan.reference} är {_status_name(loan.status, 'sv')} och kan inte ändras; "
            "bara utkast och inskickade ansökningar kan ändras.",
            f"Application {loan.reference} is {_status_name(loan.status, 'en')} and cannot be "
            "changed; only draft and submitted applications can.",
            code="not_editable",
        )


def _definitions_by_code(session: Session, loan: Loan) -> dict[str, IndicatorDefinition]:
    """Library indicators, overridden by the loan's own definitions of the same code."""
    rows = session.exec(
        select(IndicatorDefinition).where(
            (col(IndicatorDefinition.loan_id).is_(None))
            | (col(IndicatorDefinition.loan_id) == loan.id)
        )
    ).all()
    found: dict[str, IndicatorDefinition] = {}
    for row in sorted(rows, key=lambda r: r.loan_id is not None):
        found[row.code] = row
    return found


def _own_definition(
    session: Session, loan: Loan, index: int, ind: IndicatorInput, errors: list[FieldError]
) -> IndicatorDefinition | None:
    prefix = f"indicators.{index}"
    problems = []
    if not ind.name:
        problems.append(
            _err(f"{prefix}.name", "Ange indikatorns namn.", "Enter the indicator's name.")
        )
    if not ind.unit:
        problems.append(_err(f"{prefix}.unit", "Ange enhet.", "Enter the unit."))
    if ind.kind not in INDICATOR_KINDS:
        problems.append(
            _err(
                f"{prefix}.kind",
                "Välj typ: prestation eller effekt.",
                "Choose the kind: output or outcome.",
            )
        )
    if ind.direction not in DIRECTIONS:
        problems.append(
            _err(
                f"{prefix}.direction",
                "Välj riktning: ökning eller minskning är bättre.",
                "Choose the direction: increase or decrease is better.",
            )
        )
    if ind.aggregation not in OWN_AGGREGATIONS:
        problems.append(
            _err(
                f"{prefix}.aggregation",
                "Välj summering: summa (flöden), senaste (bestånd) eller ingen (index).",
                "Choose the aggregation: sum (flows), latest (stocks) or none (indexes).",
            )
        )
    if problems:
        errors.append(
            _err(
                f"{prefix}.code",
                f"'{ind.code}' finns inte i indikatorbiblioteket; ange namn, enhet och typ för att "
                "definiera en egen indikator.",
                f"'{ind.code}' is not in the indicator library; give a name, unit and kind to "
                "define your own indicator.",
            )
        )
        errors.extend(problems)
        return None
    row = IndicatorDefinition(
        code=ind.code[:80],
        loan_id=loan.id,
        name_sv=ind.name[:300],
        name_en=ind.name[:300],
        unit=ind.unit[:40],
        kind=ind.kind,
        direction=ind.direction,
        aggregation=ind.aggregation,
        icma_category=loan.icma_category,
        data_source=ind.data_source[:300],
    )
    session.add(row)
    session.flush()
    return row


def _replace_indicators(
    session: Session, loan: Loan, wanted: list[IndicatorInput], errors: list[FieldError]
) -> None:
    assert loan.id is not None
    defs = _definitions_by_code(session, loan)
    current = {
        li.indicator_id: li
        for li in session.exec(select(LoanIndicator).where(LoanIndicator.loan_id == loan.id)).all()
    }
    keep: set[int] = set()
    for index, ind in enumerate(wanted):
        if not ind.code:
            continue
        definition = defs.get(ind.code)
        if definition is not None and definition.loan_id is not None and ind.name:
            # the loan's own indicator: its definition follows the form
            definition.name_sv = definition.name_en = ind.name[:300]
            definition.unit = ind.unit[:40] or definition.unit
            if ind.kind in INDICATOR_KINDS:
                definition.kind = ind.kind
            if ind.direction in DIRECTIONS:
                definition.direction = ind.direction
            session.add(definition)
        if definition is None:
            definition = _own_definition(session, loan, index, ind, errors)
            if definition is None:
                continue
            defs[ind.code] = definition
        assert definition.id is not None
        if definition.id in keep:
            errors.append(
                _err(
                    f"indicators.{index}.code",
                    f"Indikatorn {ind.code} finns redan på ansökan.",
                    f"The indicator {ind.code} is already on the application.",
                )
            )
            continue
        keep.add(definition.id)
        row = current.get(definition.id) or LoanIndicator(
            loan_id=loan.id, indicator_id=definition.id
        )
        row.baseline_value = ind.baseline_value
        row.baseline_year = ind.baseline_year
        row.target_value = ind.target_value
        row.target_year = ind.target_year
        row.data_source = ind.data_source[:300]
        if row.expected_frozen_at is None:
            row.expected_value = ind.expected_value
        elif ind.expected_value != row.expected_value:
            frozen = "" if row.expected_value is None else format(row.expected_value, "f")
            errors.append(
                _err(
                    f"indicators.{index}.expected_value",
                    f"Det förväntade värdet för {ind.code} fastställdes när kommittén godkände "
                    f"ansökan ({frozen or 'inget'}) och kan inte ändras.",
                    f"The expected value of {ind.code} was fixed when the committee approved "
                    f"the application ({frozen or 'none'}) and cannot be changed.",
                )
            )
        session.add(row)
    session.flush()
    for indicator_id, row in current.items():
        if indicator_id in keep:
            continue
        has_values = session.exec(
            select(Measurement.id).where(Measurement.loan_indicator_id == row.id)
        ).first()
        if has_values is not None:
            code = next((c for c, d in defs.items() if d.id == indicator_id), str(indicator_id))
            errors.append(
                _err(
                    "indicators",
                    f"Indikatorn {code} har rapporterade värden och kan inte tas bort.",
                    f"The indicator {code} has reported values and cannot be removed.",
                )
            )
            continue
        for link in session.exec(
            select(GoalIndicator).where(GoalIndicator.loan_indicator_id == row.id)
        ).all():
            session.delete(link)
        session.flush()
        session.delete(row)
    session.flush()


def _replace_goals(
    session: Session, loan: Loan, wanted: list[GoalInput], errors: list[FieldError]
) -> None:
    assert loan.id is not None
    old = session.exec(select(Goal).where(Goal.loan_id == loan.id)).all()
    for old_goal in old:
        for link in session.exec(
            select(GoalIndicator).where(GoalIndicator.goal_id == old_goal.id)
        ).all():
            session.delete(link)
    session.flush()
    for old_goal in old:
        session.delete(old_goal)
    session.flush()
    uses = {
        ind.code: li.id
        for li, ind in session.exec(
            select(LoanIndicator, IndicatorDefinition)
            .join(
                IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id)
            )
            .where(LoanIndicator.loan_id == loan.id)
        ).all()
    }
    position = 0
    for index, goal in enumerate(wanted):
        if not (goal.text or goal.indicators or goal.target_value is not None or goal.target_year):
            continue
        position += 1
        row = Goal(
            loan_id=loan.id,
            position=position,
            text=goal.text,
            target_value=goal.target_value,
            target_year=goal.target_year,
        )
        session.add(row)
        session.flush()
        for code in dict.fromkeys(goal.indicators):
            li_id = uses.get(code)
            if li_id is None:
                errors.append(
                    _err(
                        f"goals.{index}.indicators",
                        f"Mål {position}: indikatorn {code} finns inte på ansökan; lägg till den "
                        "under indikatorer först.",
                        f"Goal {position}: the indicator {code} is not on the application; add it "
                        "under indicators first.",
                    )
                )
                continue
            session.add(GoalIndicator(goal_id=row.id or 0, loan_indicator_id=li_id))
    session.flush()


def apply_changes(
    *, session: Session, loan: Loan, changes: CaseChanges, actor: str
) -> list[FieldError]:
    """Store ``changes`` on an editable application and audit them; returns what could not be used.

    Everything usable is stored even when other values are wrong, so nothing typed is lost; the returned
    errors name the fields to fix. Raises :class:`ApplicationError` once the review has started.
    """
    _require_editable(loan)
    errors: list[FieldError] = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.values.items():
        old = getattr(loan, name)
        if old != value:
            before[name] = _plain(old)
            after[name] = _plain(value)
            setattr(loan, name, value)
    loan.updated_at = _now()
    session.add(loan)
    session.flush()
    if changes.indicators is not None:
        _replace_indicators(session, loan, changes.indicators, errors)
        after["indicators"] = [i.code for i in changes.indicators if i.code]
    if changes.goals is not None:
        _replace_goals(session, loan, changes.goals, errors)
        after["goals"] = len([g for g in changes.goals if g.text or g.indicators])
    errors.extend(_date_conflicts(loan))
    errors.extend(year_conflicts(loan, changes))
    audit.record(
        session,
        actor=actor,
        action="application.update",
        entity="loan",
        entity_id=loan.reference,
        before=before or None,
        after=after or None,
        detail=f"{len(errors)} field error(s)" if errors else "",
    )
    return errors


def _now() -> Any:
    from lanportfolj.models import utcnow

    return utcnow()


def next_reference(session: Session, year: int) -> str:
    """The next free reference for ``year``: ``SH-2026-001``, ``SH-2026-002`` …"""
    highest = 0
    for ref in session.exec(
        select(Loan.reference).where(col(Loan.reference).like(f"SH-{year}-%"))
    ).all():
        match = _REFERENCE.match(ref)
        if match:
            highest = max(highest, int(match.group(2)))
    return f"SH-{year}-{highest + 1:03d}"


def create_application(
    *,
    session: Session,
    borrower_id: int,
    actor: str,
    raw: Mapping[str, Any] | None = None,
    reference: str | None = None,
    today: date | None = None,
    borrower_request: bool = False,
) -> tuple[Loan, list[FieldError]]:
    """A new draft for ``borrower_id`` from typed values; stored even when some values are wrong.

    The application date defaults to ``today``; the title to a placeholder the form asks to replace.
    The reference is given out (:func:`next_reference`); staff may pass one within
    :data:`~lanportfolj.domain.identifiers.LOAN_REFERENCE_PATTERN`, a borrower's request
    (``borrower_request``) never. Raises :class:`RequestRefused` (nothing stored) when
    :func:`check_request` finds a problem.
    """
    _refuse_if(check_request(raw or {}, reference=reference, borrower=borrower_request))
    borrower = session.get(Borrower, borrower_id)
    if borrower is None:
        raise ApplicationError(
            "Låntagaren finns inte.", "The borrower does not exist.", code="unknown_borrower"
        )
    day = today or date.today()
    ref = (reference or "").strip() or next_reference(session, day.year)
    if get_loan(session, ref) is not None:
        raise ApplicationError(
            f"Referensen {ref} används redan.",
            f"The reference {ref} is already in use.",
            code="duplicate_reference",
        )
    changes, errors = parse_case(raw or {})
    title = changes.values.pop("title", None)
    if title is None and not any(e.field == "title" for e in errors):
        errors.append(
            _err("title", "Ange en rubrik för ansökan.", "Enter a title for the application.")
        )
    loan = Loan(
        reference=ref,
        borrower_id=borrower_id,
        title=title or f"Ny ansökan {ref}",
        status="draft",
        amount=Decimal(0),
        application_date=day,
    )
    session.add(loan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="application.create",
        entity="loan",
        entity_id=ref,
        after={"status": "draft", "borrower": borrower.orgnr},
    )
    errors += apply_changes(session=session, loan=loan, changes=changes, actor=actor)
    return loan, errors


def update_application(
    *, session: Session, loan: Loan, raw: Mapping[str, Any], actor: str
) -> list[FieldError]:
    """Parse typed values and store what is usable; all field errors (parse and store) come back.

    Raises :class:`RequestRefused` (nothing stored) when :func:`check_request` finds a problem."""
    _require_editable(loan)
    _refuse_if(check_request(raw))
    changes, errors = parse_case(raw)
    return errors + apply_changes(session=session, loan=loan, changes=changes, actor=actor)


# --- assessment and judgements --------------------------------------------------------------------


def latest_judgements(session: Session, loan: Loan) -> dict[str, eligibility.Judgement]:
    """The newest judgement of each criterion (E9–E11) on ``loan``, as the engine reads them."""
    rows = session.exec(
        select(Judgement)
        .where(Judgement.loan_id == loan.id)
        .order_by(col(Judgement.judged_at), col(Judgement.id))
    ).all()
    found: dict[str, eligibility.Judgement] = {}
    for row in rows:
        if row.criterion_id in eligibility.JUDGEMENT_CRITERIA and row.result in ("pass", "fail"):
            found[row.criterion_id] = eligibility.Judgement(
                criterion_id=row.criterion_id,
                result=row.result,
                rationale=row.rationale or "-",
                by=row.judged_by or "-",
                at=row.judged_at,
            )
    return found


def assess_loan(
    *, session: Session, loan: Loan, rules: eligibility.RuleSet | None = None
) -> eligibility.Assessment:
    """E1–E12 over the loan as it is now, with its recorded judgements; nothing is stored."""
    return eligibility.assess(
        case_for(session, loan),
        rules or eligibility.load_rule_set(),
        latest_judgements(session, loan),
    )


def assessment_record(result: eligibility.Assessment) -> dict[str, Any]:
    """What is stored for one run: every reason in both languages, so an old decision reads as it did."""
    return {
        "overall": result.overall,
        "rule_set": result.rule_set,
        "criteria": [
            {
                "id": c.id,
                "result": c.result,
                "title_sv": c.title_sv,
                "title_en": c.title_en,
                "reason_sv": c.reason_sv,
                "reason_en": c.reason_en,
                "fields": list(c.fields),
                "advisory": c.advisory,
                "judged_by": c.judged_by,
                "rationale": c.rationale,
            }
            for c in result.criteria
        ],
    }


def run_assessment(
    *,
    session: Session,
    loan: Loan,
    actor: str,
    rules: eligibility.RuleSet | None = None,
) -> tuple[Assessment, eligibility.Assessment]:
    """Assess the loan now and store the run with its rule-set version; returns (row, result)."""
    assert loan.id is not None
    result = assess_loan(session=session, loan=loan, rules=rules)
    row = Assessment(
        loan_id=loan.id,
        rule_set=result.rule_set,
        overall=result.overall,
        result=assessment_record(result),
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="assessment.run",
        entity="loan",
        entity_id=loan.reference,
        after={"overall": result.overall, "rule_set": result.rule_set, "assessment_id": row.id},
    )
    return row, result


def latest_assessment(session: Session, loan: Loan) -> Assessment | None:
    """The newest stored assessment run of ``loan``, or None."""
    return session.exec(
        select(Assessment)
        .where(Assessment.loan_id == loan.id)
        .order_by(col(Assessment.created_at).desc(), col(Assessment.id).desc())
    ).first()


def record_judgement(
    *,
    session: Session,
    loan: Loan,
    criterion_id: str,
    result: str,
    rationale: str,
    actor: str,
    rules: eligibility.RuleSet | None = None,
) -> Judgement:
    """Record an analyst's judgement of E9, E10 or E11 with its rationale, then re-assess and store.

    Allowed while the application is submitted or under review.
    """
    _limit_text("rationale", rationale)
    if loan.status not in REVIEW_STATUSES:
        raise ApplicationError(
            f"Bedömningar görs under granskningen; ansökan är {_status_name(loan.status, 'sv')}.",
            f"Judgements are made during the review; the application is "
            f"{_status_name(loan.status, 'en')}.",
            code="not_in_review",
        )
    try:
        eligibility.Judgement(
            criterion_id=criterion_id, result=result, rationale=rationale, by=actor
        )
    except eligibility.JudgementError as exc:
        field = "criterion" if criterion_id not in eligibility.JUDGEMENT_CRITERIA else "result"
        raise ApplicationError(
            exc.message_sv, exc.message_en, code="invalid_judgement", field=field
        ) from None
    row = Judgement(
        loan_id=loan.id or 0,
        criterion_id=criterion_id,
        result=result,
        rationale=rationale.strip(),
        judged_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="judgement.record",
        entity="loan",
        entity_id=loan.reference,
        after={"criterion": criterion_id, "result": result},
        detail=rationale.strip(),
    )
    run_assessment(session=session, loan=loan, actor=actor, rules=rules)
    return row


# --- decisions, discount and status -----------------------------------------------------------------


def latest_decisions(session: Session, loan: Loan) -> dict[str, Decision]:
    """The newest committee and credit decision on ``loan`` (a later decision replaces an earlier one)."""
    rows = session.exec(
        select(Decision)
        .where(Decision.loan_id == loan.id)
        .order_by(col(Decision.decided_at), col(Decision.id))
    ).all()
    return {row.kind: row for row in rows}


def both_approved(decisions: Mapping[str, Decision]) -> bool:
    """True when the committee's and the credit decision are both ``approved``."""
    return all(
        kind in decisions and decisions[kind].outcome == "approved" for kind in DECISION_KINDS
    )


def freeze_expected_values(session: Session, loan: Loan, *, actor: str) -> int:
    """Fix the loan indicators' expected (ex-ante) values as they stand at the committee's approval;
    returns how many were frozen now (audited). A later approval leaves the first one's values."""
    from lanportfolj.models import utcnow

    now = utcnow()
    rows = session.exec(
        select(LoanIndicator).where(
            LoanIndicator.loan_id == loan.id, col(LoanIndicator.expected_frozen_at).is_(None)
        )
    ).all()
    for row in rows:
        row.expected_frozen_at = now
        session.add(row)
    if rows:
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="loan.expected_frozen",
            entity="loan",
            entity_id=loan.reference,
            after={"indicators": len(rows)},
            detail="expected values fixed at the committee's approval",
        )
    return len(rows)


def record_decision(
    *,
    session: Session,
    loan: Loan,
    kind: str,
    outcome: str,
    rationale: str,
    actor: str,
    settings: Settings,
) -> Decision:
    """Record the committee's or the credit decision (while under review) and set the discount.

    ``Loan.discount_bp`` becomes ``settings.discount_bp`` when both are approved, and 0 otherwise.
    """
    _limit_text("rationale", rationale)
    if kind not in DECISION_KINDS:
        raise ApplicationError(
            f"Beslutet gäller kommittén (committee) eller kreditprövningen (credit), inte "
            f"'{ids.shown(kind)}'.",
            f"A decision is the committee's or the credit decision, not '{ids.shown(kind)}'.",
            code="invalid_decision",
            field="kind",
        )
    if outcome not in DECISION_OUTCOMES:
        raise ApplicationError(
            f"Ett beslut är 'approved' eller 'rejected', inte '{ids.shown(outcome)}'.",
            f"A decision is 'approved' or 'rejected', not '{ids.shown(outcome)}'.",
            code="invalid_decision",
            field="outcome",
        )
    if not rationale.strip():
        raise ApplicationError(
            "Motivera beslutet; motiveringen sparas och visas för låntagaren.",
            "Give the decision's rationale; it is kept and shown to the borrower.",
            code="invalid_decision",
        )
    if loan.status != "under_review":
        raise ApplicationError(
            f"Beslut fattas under granskningen; ansökan är {_status_name(loan.status, 'sv')}.",
            f"Decisions are made during the review; the application is "
            f"{_status_name(loan.status, 'en')}.",
            code="not_in_review",
        )
    row = Decision(
        loan_id=loan.id or 0,
        kind=kind,
        outcome=outcome,
        rationale=rationale.strip(),
        decided_by=actor,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="decision.record",
        entity="loan",
        entity_id=loan.reference,
        after={"kind": kind, "outcome": outcome},
        detail=rationale.strip(),
    )
    if kind == "committee" and outcome == "approved":
        freeze_expected_values(session, loan, actor=actor)
    discount = (
        settings.discount_bp if both_approved(latest_decisions(session, loan)) else Decimal(0)
    )
    if loan.discount_bp != discount:
        audit.record(
            session,
            actor=actor,
            action="loan.discount",
            entity="loan",
            entity_id=loan.reference,
            before={"discount_bp": str(loan.discount_bp)},
            after={"discount_bp": str(discount)},
            detail="both approvals recorded" if discount else "an approval is missing",
        )
        loan.discount_bp = discount
        session.add(loan)
        session.flush()
    return row


def transition(
    *,
    session: Session,
    loan: Loan,
    to: str,
    actor: str,
    reason: str = "",
    rules: eligibility.RuleSet | None = None,
) -> Loan:
    """Move ``loan`` to status ``to`` and audit who, when, from, to and why.

    Approval needs both decisions approved and a fresh assessment that is ``eligible`` (the run is
    stored); rejection and sending back to draft need a reason. Submitting stores an assessment too, so
    the borrower sees the reasons at once.
    """
    _limit_text("reason", reason)
    before = loan.status
    if to not in TRANSITIONS:
        raise ApplicationError(
            f"Okänd status '{ids.shown(to)}'.",
            f"Unknown status '{ids.shown(to)}'.",
            code="unknown_status",
            field="to",
        )
    if to not in TRANSITIONS.get(before, ()):
        allowed = TRANSITIONS.get(before, ())
        allowed_sv = ", ".join(_status_name(s, "sv") for s in allowed) or "ingen"
        allowed_en = ", ".join(_status_name(s, "en") for s in allowed) or "none"
        raise ApplicationError(
            f"Ansökan {loan.reference} kan inte gå från {_status_name(before, 'sv')} till "
            f"{_status_name(to, 'sv')}; möjligt nästa steg: {allowed_sv}.",
            f"Application {loan.reference} cannot go from {_status_name(before, 'en')} to "
            f"{_status_name(to, 'en')}; possible next steps: {allowed_en}.",
            code="invalid_transition",
        )
    if (before, to) in REASON_REQUIRED and not reason.strip():
        raise ApplicationError(
            "Ange skälet; det sparas och visas för låntagaren.",
            "Give the reason; it is kept and shown to the borrower.",
            code="reason_required",
        )
    if to == "approved":
        decisions = latest_decisions(session, loan)
        if not both_approved(decisions):
            missing_sv = [
                name_sv
                for kind, name_sv in (("committee", "kommitténs"), ("credit", "kreditprövningens"))
                if kind not in decisions or decisions[kind].outcome != "approved"
            ]
            missing_en = [
                name_en
                for kind, name_en in (("committee", "the committee's"), ("credit", "the credit"))
                if kind not in decisions or decisions[kind].outcome != "approved"
            ]
            raise ApplicationError(
                f"Godkännande kräver både kommitténs och kreditprövningens godkännande; "
                f"{' och '.join(missing_sv)} godkännande saknas.",
                f"Approval needs both the committee's and the credit approval; "
                f"{' and '.join(missing_en)} approval is missing.",
                code="approvals_missing",
            )
        _, result = run_assessment(session=session, loan=loan, actor=actor, rules=rules)
        if result.overall != eligibility.ELIGIBLE:
            open_ids = [
                c.id for c in result.criteria if not c.advisory and c.result != eligibility.PASS
            ]
            raise ApplicationError(
                f"Ansökan är inte bedömd som stödberättigad ({', '.join(open_ids)} är inte "
                "uppfyllda eller inte bedömda).",
                f"The application is not assessed as eligible ({', '.join(open_ids)} not met or "
                "not yet judged).",
                code="not_eligible",
            )
    loan.status = to
    loan.updated_at = _now()
    session.add(loan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="loan.transition",
        entity="loan",
        entity_id=loan.reference,
        before={"status": before},
        after={"status": to},
        detail=reason.strip(),
    )
    if to == "submitted":
        run_assessment(session=session, loan=loan, actor=actor, rules=rules)
    return loan


def delete_draft(*, session: Session, loan: Loan, actor: str) -> None:
    """Delete a draft nobody has reviewed: its goals, indicators, assessment runs and kept forms go with
    it, and the audit log keeps who deleted which reference. Anything past draft, or a draft holding
    reported values or judgements (one sent back from review), is refused: it has a history to keep."""
    if loan.status != "draft":
        raise ApplicationError(
            f"Ansökan {loan.reference} är {_status_name(loan.status, 'sv')}; bara ett utkast kan "
            "tas bort.",
            f"Application {loan.reference} is {_status_name(loan.status, 'en')}; only a draft can "
            "be deleted.",
            code="not_a_draft",
        )
    assert loan.id is not None
    li_ids = list(session.exec(select(LoanIndicator.id).where(LoanIndicator.loan_id == loan.id)))
    history = [
        session.exec(
            select(func.count()).select_from(Judgement).where(Judgement.loan_id == loan.id)
        ),
        session.exec(select(func.count()).select_from(Decision).where(Decision.loan_id == loan.id)),
        session.exec(
            select(func.count()).select_from(BondPoolEntry).where(BondPoolEntry.loan_id == loan.id)
        ),
        session.exec(
            select(func.count())
            .select_from(Measurement)
            .where(col(Measurement.loan_indicator_id).in_(li_ids or [-1]))
        ),
    ]
    if any(int(result.one()) for result in history):
        raise ApplicationError(
            f"Utkastet {loan.reference} har redan granskats eller fått rapporterade värden och kan "
            "inte tas bort; ändra det i stället.",
            f"The draft {loan.reference} has been reviewed or has reported values and cannot be "
            "deleted; edit it instead.",
            code="draft_has_history",
        )
    goal_ids = list(session.exec(select(Goal.id).where(Goal.loan_id == loan.id)))
    for model, condition in (
        (GoalIndicator, col(GoalIndicator.goal_id).in_(goal_ids or [-1])),
        (Goal, col(Goal.loan_id) == loan.id),
        (LoanIndicator, col(LoanIndicator.loan_id) == loan.id),
        (IndicatorDefinition, col(IndicatorDefinition.loan_id) == loan.id),
        (Assessment, col(Assessment.loan_id) == loan.id),
        (FormDraft, col(FormDraft.loan_id) == loan.id),
    ):
        for row in session.exec(select(model).where(condition)).all():
            session.delete(row)
        session.flush()
    reference = loan.reference
    session.delete(loan)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="loan.delete_draft",
        entity="loan",
        entity_id=reference,
        before={"status": "draft"},
        after={},
    )


def discount_for(*, session: Session, loan: Loan, settings: Settings, as_of: date) -> DiscountTerms:
    """The discount panel's figures: effective margin and SEK saved per year and over the term.

    The saving is on the outstanding amount once disbursed, else on the amount applied for.
    """
    decisions = latest_decisions(session, loan)
    amount = loan.outstanding_amount if loan.outstanding_amount > 0 else loan.amount
    return discount_terms(
        amount=amount,
        discount_bp=settings.discount_bp,
        margin_bp=loan.margin_bp,
        committee_approved="committee" in decisions
        and decisions["committee"].outcome == "approved",
        credit_approved="credit" in decisions and decisions["credit"].outcome == "approved",
        as_of=as_of,
        maturity=loan.maturity_date or as_of,
    )


def discount_if_approved(
    *, session: Session, loan: Loan, settings: Settings, as_of: date
) -> DiscountTerms:
    """The discount panel's figures as they will be once both approvals are in: what the borrower
    saves if the application is approved (the panel shows 0 until then)."""
    amount = loan.outstanding_amount if loan.outstanding_amount > 0 else loan.amount
    return discount_terms(
        amount=amount,
        discount_bp=settings.discount_bp,
        margin_bp=loan.margin_bp,
        committee_approved=True,
        credit_approved=True,
        as_of=as_of,
        maturity=loan.maturity_date or as_of,
    )


def assessment_summary(
    *,
    session: Session,
    loan: Loan,
    settings: Settings,
    as_of: date,
    lang: str = "en",
    result: eligibility.Assessment | None = None,
) -> dict[str, Any]:
    """The CLI's and the API's view: ``loan``, ``overall``, ``rule_set``, ``criteria`` (id, result,
    reason, title, fields, advisory…), ``discount_bp``, ``annual_saving_sek``, ``term_saving_sek``."""
    result = result or assess_loan(session=session, loan=loan)
    terms = discount_for(session=session, loan=loan, settings=settings, as_of=as_of)
    data = result.to_dict(lang)
    return {
        "loan": loan.reference,
        "overall": data["overall"],
        "rule_set": data["rule_set"],
        "criteria": data["criteria"],
        "discount_bp": str(loan.discount_bp.normalize()) if loan.discount_bp else "0",
        "annual_saving_sek": str(terms.annual_saving),
        "term_saving_sek": str(terms.term_saving),
    }


# --- the analyst's overview ------------------------------------------------------------------------


def last_reported_years(session: Session, loan_ids: Sequence[int] | None = None) -> dict[int, int]:
    """The latest year with a current value (for the intervention itself) per loan id.

    One grouped query: a national portfolio has millions of values, none of which need to leave the database.
    ``loan_ids`` None means every loan.
    """
    # per loan indicator, the newest current year found through the partial unique index on
    # (loan_indicator_id, group_name, year) where is_current: index seeks, never a scan of every value
    # (``= true()`` renders as the index's own ``is_current = 1`` on SQLite, so the planner can use it)
    latest = (
        select(func.max(Measurement.year))
        .where(
            col(Measurement.loan_indicator_id) == col(LoanIndicator.id),
            Measurement.group_name == "",
            col(Measurement.is_current) == true(),
        )
        .correlate(LoanIndicator)
        .scalar_subquery()
    )
    stmt = select(LoanIndicator.loan_id, func.max(latest)).group_by(col(LoanIndicator.loan_id))
    if loan_ids is not None:
        if not loan_ids:
            return {}
        stmt = stmt.where(col(LoanIndicator.loan_id).in_(list(loan_ids)))
    return {loan_id: year for loan_id, year in session.exec(stmt).all() if year is not None}


def discount_at_risk(session: Session, as_of: date, deadline: str = "04-30") -> list[str]:
    """References of active loans whose yearly report is overdue on ``as_of``, in reference order.

    A year's values are due by ``deadline`` (``MM-DD``) of the next year; a loan is due from the year of
    its disbursement (or application). Any current value for a year counts as that year reported.
    """
    loans = session.exec(
        select(Loan.id, Loan.reference, Loan.disbursement_date, Loan.application_date)
        .where(Loan.status == "active")
        .order_by(col(Loan.reference))
    ).all()
    reported = last_reported_years(session)
    flagged = []
    for loan_id, reference, disbursed, applied in loans:
        start = disbursed or applied
        if start is None:
            continue
        if report_overdue(
            last_reported_year=reported.get(loan_id or 0),
            first_due_year=start.year,
            as_of=as_of,
            deadline=deadline,
        ):
            flagged.append(reference)
    return flagged


#: The queue's "open applications": still with the borrower or the lender, not yet a loan or refused.
OPEN = "open"
OPEN_STATUSES = ("draft", "submitted", "under_review", "approved")

QUEUE_SORTS = (
    "reference",
    "borrower",
    "title",
    "status",
    "amount",
    "category",
    "overall",
    "application_date",
)


def application_queue(
    *,
    session: Session,
    as_of: date,
    deadline: str = "04-30",
    status: str | None = None,
    category: str | None = None,
    borrower_id: int | None = None,
    sort: str = "reference",
    descending: bool = False,
    at_risk_only: bool = False,
) -> list[dict[str, Any]]:
    """The analyst's queue: one row per loan with its latest stored assessment and the at-risk flag.

    ``status`` :data:`OPEN` means every application still being worked on (:data:`OPEN_STATUSES`);
    ``at_risk_only`` keeps the active loans whose yearly report is overdue (their discount at risk)."""
    stmt = select(Loan, Borrower).join(Borrower, col(Borrower.id) == col(Loan.borrower_id))
    if status == OPEN:
        stmt = stmt.where(col(Loan.status).in_(OPEN_STATUSES))
    elif status:
        stmt = stmt.where(Loan.status == status)
    if category:
        stmt = stmt.where(Loan.programme_category == category)
    if borrower_id is not None:
        stmt = stmt.where(Loan.borrower_id == borrower_id)
    pairs = session.exec(stmt).all()
    latest: dict[int, Assessment] = {}
    if pairs:
        for row in session.exec(
            select(Assessment)
            .where(col(Assessment.loan_id).in_([loan.id for loan, _ in pairs]))
            .order_by(col(Assessment.created_at), col(Assessment.id))
        ).all():
            latest[row.loan_id] = row
    at_risk = set(discount_at_risk(session, as_of, deadline))
    rows = [
        {
            "reference": loan.reference,
            "title": loan.title,
            "borrower": borrower.name,
            "borrower_id": borrower.id,
            "status": loan.status,
            "amount": loan.amount,
            "category": loan.programme_category,
            "icma_category": loan.icma_category,
            "application_date": loan.application_date,
            "overall": latest[loan.id].overall if loan.id in latest else "",
            "assessed_at": latest[loan.id].created_at if loan.id in latest else None,
            "discount_bp": loan.discount_bp,
            "at_risk": loan.reference in at_risk,
            "illustrative": loan.illustrative,
        }
        for loan, borrower in pairs
    ]
    if at_risk_only:
        rows = [r for r in rows if r["at_risk"]]
    key = sort if sort in QUEUE_SORTS else "reference"

    def sort_key(row: dict[str, Any]) -> tuple[bool, Any]:
        value = row[key]
        return (value is None, value if value is not None else "")

    rows.sort(key=lambda r: str(r["reference"]))
    rows.sort(key=sort_key, reverse=descending)
    return rows
