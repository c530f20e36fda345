"""The programme's reward: a discount on the loan margin, and the yearly report that keeps it.

The discount (2 bp by default, a setting) applies only once both the committee on social
sustainability and the credit assessment have approved the loan. A borrower whose yearly indicator
report is late (deadline 30 April for the year before, a setting) has its discount at risk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

_BASIS_POINTS_PER_UNIT = Decimal(10_000)
#: Remaining term is counted in Julian years, so leap years do not bend the figure.
_DAYS_PER_YEAR = Decimal("365.25")
_ORE = Decimal("0.01")
_KRONA = Decimal("1")
_DEADLINE = re.compile(r"^(\d{2})-(\d{2})$")


class DiscountError(ValueError):
    """Input the discount cannot be computed from, with the reason in Swedish and English."""

    def __init__(self, message_sv: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_sv = message_sv
        self.message_en = message_en


@dataclass(frozen=True)
class DiscountTerms:
    """What the discount means for one loan on a given day, in basis points and SEK."""

    applies: bool
    #: The programme's discount offered to this loan, shown even before it applies.
    discount_bp: Decimal
    margin_bp: Decimal | None
    #: Margin after the discount when it applies; the margin itself when it does not yet.
    effective_margin_bp: Decimal | None
    #: SEK saved per year (to the öre); zero until the discount applies.
    annual_saving: Decimal
    #: Years from ``as_of`` to maturity: days / 365.25, rounded to 2 decimals; zero once matured.
    remaining_years: Decimal
    #: ``annual_saving × remaining_years``, rounded to whole SEK; zero until the discount applies.
    term_saving: Decimal
    reason_sv: str
    reason_en: str

    def reason(self, lang: str) -> str:
        """The reason in ``lang`` (``sv`` or ``en``)."""
        return self.reason_sv if lang == "sv" else self.reason_en


def _bp(value: Decimal, lang: str) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if lang == "sv" else text


def _sek(value: Decimal, lang: str) -> str:
    whole = int(value.quantize(_KRONA, rounding=ROUND_HALF_UP))
    if lang == "sv":
        return f"{whole:,}".replace(",", "\u00a0") + "\u00a0kr"
    return f"SEK {whole:,}"


def remaining_years(as_of: date, maturity: date) -> Decimal:
    """Years left from ``as_of`` to ``maturity``: days / 365.25 rounded to 2 decimals (≥ 0)."""
    days = max((maturity - as_of).days, 0)
    return (Decimal(days) / _DAYS_PER_YEAR).quantize(_ORE, rounding=ROUND_HALF_UP)


def discount_terms(
    *,
    amount: Decimal,
    discount_bp: Decimal,
    margin_bp: Decimal | None,
    committee_approved: bool,
    credit_approved: bool,
    as_of: date,
    maturity: date,
) -> DiscountTerms:
    """The discount on ``amount`` as of ``as_of``: whether it applies, the margin and the savings.

    Annual saving = amount × discount_bp / 10 000, to the öre (3.8 bn SEK at 2 bp is 760 000 SEK).
    The term saving multiplies the annual saving by the remaining years *as shown* (rounded to two
    decimals) and rounds to whole SEK, so the three figures on a page reconcile. Half-way cases
    round up, as in Swedish accounting.
    """
    if amount < 0:
        raise DiscountError(
            f"Lånebeloppet kan inte vara negativt ({amount}).",
            f"The loan amount cannot be negative ({amount}).",
        )
    if discount_bp < 0:
        raise DiscountError(
            f"Rabatten kan inte vara negativ ({discount_bp} baspunkter).",
            f"The discount cannot be negative ({discount_bp} basis points).",
        )
    years = remaining_years(as_of, maturity)
    missing_sv = []
    missing_en = []
    if not committee_approved:
        missing_sv.append("kommitténs godkännande")
        missing_en.append("the committee's approval")
    if not credit_approved:
        missing_sv.append("kreditgodkännandet")
        missing_en.append("the credit approval")

    if missing_sv:
        if len(missing_sv) == 2:
            what_sv = "både kommitténs godkännande och kreditgodkännandet saknas"
            what_en = "both the committee's approval and the credit approval are missing"
        else:
            what_sv = f"{missing_sv[0]} saknas"
            what_en = f"{missing_en[0]} is missing"
        return DiscountTerms(
            applies=False,
            discount_bp=discount_bp,
            margin_bp=margin_bp,
            effective_margin_bp=margin_bp,
            annual_saving=Decimal(0),
            remaining_years=years,
            term_saving=Decimal(0),
            reason_sv=(
                f"Rabatten på {_bp(discount_bp, 'sv')} baspunkter gäller inte än: {what_sv}. "
                "Den gäller när både kommittén för social hållbarhet och kreditprövningen har "
                "godkänt lånet."
            ),
            reason_en=(
                f"The discount of {_bp(discount_bp, 'en')} basis points does not apply yet: {what_en}. "
                "It applies once both the committee on social sustainability and the credit "
                "assessment have approved the loan."
            ),
        )

    annual = (amount * discount_bp / _BASIS_POINTS_PER_UNIT).quantize(_ORE, rounding=ROUND_HALF_UP)
    term = (annual * years).quantize(_KRONA, rounding=ROUND_HALF_UP)
    effective = None if margin_bp is None else margin_bp - discount_bp

    def margin_text(lang: str) -> str:
        if effective is None or margin_bp is None:
            return ""
        if lang == "sv":
            return (
                f" Marginal {_bp(margin_bp, 'sv')} baspunkter, efter rabatt {_bp(effective, 'sv')}."
            )
        return f" Margin {_bp(margin_bp, 'en')} basis points, {_bp(effective, 'en')} after the discount."

    if years == 0:
        saving_sv = f"Besparing {_sek(annual, 'sv')} per år; lånet har förfallit."
        saving_en = f"Saving {_sek(annual, 'en')} a year; the loan has matured."
    else:
        years_sv = f"{years:.2f}".replace(".", ",")
        saving_sv = (
            f"Besparing {_sek(annual, 'sv')} per år och {_sek(term, 'sv')} under återstående "
            f"{years_sv} år."
        )
        saving_en = (
            f"Saving {_sek(annual, 'en')} a year and {_sek(term, 'en')} over the remaining "
            f"{years:.2f} years."
        )
    return DiscountTerms(
        applies=True,
        discount_bp=discount_bp,
        margin_bp=margin_bp,
        effective_margin_bp=effective,
        annual_saving=annual,
        remaining_years=years,
        term_saving=term,
        reason_sv=(
            f"Rabatten på {_bp(discount_bp, 'sv')} baspunkter gäller: kommittén och kreditprövningen "
            f"har godkänt lånet.{margin_text('sv')} {saving_sv}"
        ),
        reason_en=(
            f"The discount of {_bp(discount_bp, 'en')} basis points applies: the committee and the credit "
            f"assessment have approved the loan.{margin_text('en')} {saving_en}"
        ),
    )


def report_deadline(year: int, deadline: str = "04-30") -> date:
    """The day by which values for ``year`` are due: ``deadline`` (``MM-DD``) of the next year."""
    match = _DEADLINE.match(deadline.strip())
    try:
        if not match:
            raise ValueError(deadline)
        return date(year + 1, int(match.group(1)), int(match.group(2)))
    except ValueError:
        raise DiscountError(
            f"Rapporteringsfristen '{deadline}' är inget giltigt datum (MM-DD, t.ex. 04-30).",
            f"The reporting deadline '{deadline}' is not a valid date (MM-DD, e.g. 04-30).",
        ) from None


def report_overdue(
    *,
    last_reported_year: int | None,
    first_due_year: int,
    as_of: date,
    deadline: str = "04-30",
) -> bool:
    """True when some year from ``first_due_year`` on is past its deadline and not yet reported.

    Reporting on the deadline day itself is on time; from the next day the year is overdue.
    Reports are yearly and cumulative: having reported year Y means every year up to Y is in.
    """
    # The deadline for year Y falls in Y + 1, so last year is due only once this year's deadline
    # has passed; the year before last is always due by then.
    passed = as_of > report_deadline(as_of.year - 1, deadline)
    latest_due = as_of.year - 1 if passed else as_of.year - 2
    if latest_due < first_due_year:
        return False
    return last_reported_year is None or last_reported_year < latest_due
