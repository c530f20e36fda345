"""The analysts' programme page: every bond on the eligible pool, the allocation per bond, headroom,
ratio, the dated "bonds outstanding ≤ eligible pool" test, loans that left the pool, and the FX table
with a form to add a rate (CSRF-checked like every form). ``/api/programme`` is the same as JSON.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlmodel import Session

from lanportfolj.domain.fx import parse_currency, parse_day, parse_rate
from lanportfolj.services.fx import add_rate, list_rates
from lanportfolj.services.loan_events import LoanEventError, add_tranche, record_event
from lanportfolj.services.programme import programme_view, view_dict
from lanportfolj.services.reports import ReportError
from lanportfolj.web.access import CurrentUser, allow
from lanportfolj.web.auth import flash
from lanportfolj.web.i18n import get_language, gettext

STAFF = allow("analyst", "admin")
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
#: the longest source text kept (the column's length)
SOURCE_MAX = 200
RATE_FIELDS = ("currency", "rate_date", "sek_per_unit", "source")
LOAN_FIELDS = ("loan", "action", "day", "amount", "funding", "note")
#: what the loan form records: a tranche, or one of the life events
LOAN_ACTIONS = ("tranche", "matured", "repaid", "prepaid", "written_down")


def _when(raw: str | None) -> date | None:
    """The page's date (today when not given); None when ``raw`` is not a date."""
    if not raw:
        return date.today()
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def _page(
    db: Session,
    when: date,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    field_errors: dict[str, str] | None = None,
    status_code: int = 200,
    loan_form: dict[str, str] | None = None,
) -> Template:
    data: dict[str, Any] | None = None
    problem = error
    try:
        data = view_dict(programme_view(db, when))
    except ReportError as exc:
        problem = problem or exc.message(get_language())
    blank = {"currency": "", "rate_date": when.isoformat(), "sek_per_unit": "", "source": ""}
    return Template(
        "programme/page.html",
        context={
            "programme": data,
            "error": problem,
            "date": when.isoformat(),
            "rates": list_rates(db, limit=50),
            "form": form or blank,
            "field_errors": field_errors or {},
            "loan_form": loan_form or {name: "" for name in LOAN_FIELDS},
        },
        status_code=status_code,
    )


@get("/programme", opt=STAFF, sync_to_thread=True, include_in_schema=False, name="programme_page")
def programme_page(
    db: Session,
    user: CurrentUser,
    raw_date: Annotated[str | None, QueryParameter(name="date")] = None,
) -> Template:
    """The programme at ``?date=`` (default today)."""
    when = _when(raw_date)
    if when is None:
        message = gettext("Not a date (write YYYY-MM-DD): %(value)s", value=str(raw_date)[:40])
        return _page(db, date.today(), error=message, status_code=HTTP_400_BAD_REQUEST)
    return _page(db, when)


@post("/programme/rates", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def add_rate_form(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    """Add (or replace, audited) one dated rate: SEK per unit of a currency, with its source."""
    form = {name: str(data.get(name, ""))[:300] for name in RATE_FIELDS}
    errors: dict[str, str] = {}
    currency = day = rate = None
    try:
        currency = parse_currency(form["currency"])
    except ValueError:
        errors["currency"] = gettext("Write a three-letter currency code other than SEK, e.g. EUR.")
    try:
        day = parse_day(form["rate_date"])
    except ValueError:
        errors["rate_date"] = gettext("Write the date as YYYY-MM-DD.")
    try:
        rate = parse_rate(form["sek_per_unit"])
    except ValueError:
        errors["sek_per_unit"] = gettext(
            "Write a positive number with at most six decimals (SEK per unit)."
        )
    source = form["source"].strip()
    if not source:
        errors["source"] = gettext("Say where the rate comes from.")
    elif len(source) > SOURCE_MAX or any(ord(ch) < 32 for ch in source):
        errors["source"] = gettext(
            "The source is one line of at most %(n)s characters.", n=str(SOURCE_MAX)
        )
    if errors or currency is None or day is None or rate is None:
        db.rollback()
        return _page(
            db,
            date.today(),
            error=gettext("The rate was not stored: see the fields marked below."),
            form=form,
            field_errors=errors,
            status_code=HTTP_400_BAD_REQUEST,
        )
    result = add_rate(
        db, currency=currency, day=day, sek_per_unit=rate, source=source, actor=user.email
    )
    db.commit()
    if result.replaced:
        message = gettext(
            "The %(currency)s rate of %(day)s was replaced: 1 %(currency)s = %(rate)s SEK.",
            currency=currency,
            day=day.isoformat(),
            rate=str(rate),
        )
    elif result.unchanged:
        message = gettext(
            "That %(currency)s rate of %(day)s was already stored.",
            currency=currency,
            day=day.isoformat(),
        )
    else:
        message = gettext(
            "Stored: 1 %(currency)s = %(rate)s SEK on %(day)s.",
            currency=currency,
            day=day.isoformat(),
            rate=str(rate),
        )
    flash(request, message, "info")
    return Redirect(f"/programme?date={day.isoformat()}")


@post("/programme/loan-events", opt=STAFF, sync_to_thread=True, include_in_schema=False)
def loan_event_form(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[dict[str, str], FORM],
) -> Template | Redirect:
    """Record a tranche (dated disbursement, optionally marked) or a life event of a loan."""
    form = {name: str(data.get(name, ""))[:2000] for name in LOAN_FIELDS}
    errors: dict[str, str] = {}
    action = form["action"]
    if action not in LOAN_ACTIONS:
        errors["action"] = gettext("Choose a tranche or a life event.")
    day = None
    try:
        day = parse_day(form["day"])
    except ValueError:
        errors["day"] = gettext("Write the date as YYYY-MM-DD.")
    amount = None
    if form["amount"].strip():
        try:
            amount = Decimal(form["amount"].strip().replace(" ", "").replace(",", "."))
            if not amount.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["amount"] = gettext("Write the amount in SEK, e.g. 1500000.00.")
    elif action == "tranche":
        errors["amount"] = gettext("A tranche needs its amount.")
    funding = form["funding"] or None
    if funding not in (None, "financing", "refinancing"):
        errors["funding"] = gettext("Choose financing, refinancing or derived.")
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in form["note"]):
        errors["note"] = gettext("The note holds control characters.")
    if not errors and day is not None:
        try:
            if action == "tranche":
                assert amount is not None
                add_tranche(
                    db,
                    reference=form["loan"],
                    day=day,
                    amount=amount,
                    funding=funding,
                    actor=user.email,
                )
            else:
                record_event(
                    db,
                    reference=form["loan"],
                    kind=action,
                    day=day,
                    amount=amount,
                    note=form["note"],
                    actor=user.email,
                )
        except LoanEventError as exc:
            field = {"no_loan": "loan", "bad_amount": "amount", "over_amount": "amount",
                     "over_outstanding": "amount", "bad_funding": "funding",
                     "out_of_order": "day"}.get(exc.code, "loan")  # fmt: skip
            errors[field] = exc.message_sv if get_language() == "sv" else exc.message_en
    if errors:
        db.rollback()
        return _page(
            db,
            date.today(),
            error=gettext("Nothing was recorded: see the fields marked below."),
            loan_form=form,
            field_errors=errors,
            status_code=HTTP_400_BAD_REQUEST,
        )
    db.commit()
    flash(
        request,
        gettext("Recorded for %(loan)s: %(action)s on %(day)s.", loan=form["loan"].strip(),
                action=gettext(action), day=form["day"].strip()),
        "info",
    )  # fmt: skip
    return Redirect(f"/programme?date={date.today().isoformat()}")


@get("/api/programme", opt=STAFF, sync_to_thread=True, tags=["programme"])
def programme_api(
    db: Session,
    user: CurrentUser,
    raw_date: Annotated[str | None, QueryParameter(name="date")] = None,
) -> dict[str, Any]:
    """The programme as JSON (exact figures as strings) at ``?date=`` (default today)."""
    when = _when(raw_date)
    if when is None:
        raise ValidationException(f"Not a date (write YYYY-MM-DD): {str(raw_date)[:40]}")
    try:
        return view_dict(programme_view(db, when))
    except ReportError as exc:
        raise ValidationException(exc.message_en) from exc


ROUTES = [programme_page, add_rate_form, loan_event_form, programme_api]
