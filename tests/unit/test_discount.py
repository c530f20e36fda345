"""The discount on the margin and the yearly report deadline: the figures an analyst shows a borrower."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lanportfolj.domain.discount import (
    DiscountError,
    discount_terms,
    remaining_years,
    report_deadline,
    report_overdue,
)

pytestmark = pytest.mark.unit

BOTKYRKABYGGEN = {
    "amount": Decimal("3800000000"),
    "discount_bp": Decimal("2"),
    "margin_bp": Decimal("35"),
    "as_of": date(2023, 1, 1),
    "maturity": date(2033, 1, 1),
}


def test_two_basis_points_on_3_8_billion_is_760_000_a_year() -> None:
    terms = discount_terms(**BOTKYRKABYGGEN, committee_approved=True, credit_approved=True)
    assert terms.applies
    assert terms.annual_saving == Decimal("760000")
    assert isinstance(terms.annual_saving, Decimal)
    assert terms.effective_margin_bp == Decimal("33")
    # 3 653 days / 365.25 = 10.0 years; 760 000 × 10.00.
    assert terms.remaining_years == Decimal("10.00")
    assert terms.term_saving == Decimal("7600000")
    assert "760\u00a0000\u00a0kr per år" in terms.reason_sv
    assert "SEK 760,000 a year and SEK 7,600,000 over the remaining 10.00 years" in terms.reason_en
    assert "Margin 35 basis points, 33 after the discount" in terms.reason_en


def test_term_saving_reconciles_with_the_figures_shown() -> None:
    terms = discount_terms(
        amount=Decimal("16000000"),
        discount_bp=Decimal("2"),
        margin_bp=None,
        committee_approved=True,
        credit_approved=True,
        as_of=date(2024, 6, 15),
        maturity=date(2031, 9, 1),
    )
    assert terms.annual_saving == Decimal("3200")
    assert terms.remaining_years == Decimal("7.21")  # 2 634 days / 365.25 = 7.2115…
    assert terms.term_saving == Decimal("23072")  # 3 200 × 7.21
    assert terms.effective_margin_bp is None
    assert "Margin" not in terms.reason_en
    assert "3\u00a0200\u00a0kr per år och 23\u00a0072\u00a0kr under återstående 7,21 år" in (
        terms.reason_sv
    )


@pytest.mark.parametrize(
    ("committee", "credit", "sv", "en"),
    [
        (False, True, "kommitténs godkännande saknas", "the committee's approval is missing"),
        (True, False, "kreditgodkännandet saknas", "the credit approval is missing"),
        (
            False,
            False,
            "både kommitténs godkännande och kreditgodkännandet saknas",
            "both the committee's approval and the credit approval are missing",
        ),
    ],
)
def test_discount_waits_for_both_approvals_and_says_which_is_missing(
    committee: bool, credit: bool, sv: str, en: str
) -> None:
    terms = discount_terms(**BOTKYRKABYGGEN, committee_approved=committee, credit_approved=credit)
    assert not terms.applies
    assert terms.annual_saving == 0
    assert terms.term_saving == 0
    assert terms.effective_margin_bp == Decimal("35")
    assert sv in terms.reason_sv
    assert en in terms.reason_en
    assert terms.reason("sv") == terms.reason_sv


def test_matured_loan_has_no_remaining_saving() -> None:
    terms = discount_terms(
        **{**BOTKYRKABYGGEN, "as_of": date(2034, 1, 1)},
        committee_approved=True,
        credit_approved=True,
    )
    assert terms.remaining_years == 0
    assert terms.term_saving == 0
    assert terms.annual_saving == Decimal("760000")
    assert "the loan has matured" in terms.reason_en


def test_fractional_discount_and_ore_rounding() -> None:
    terms = discount_terms(
        amount=Decimal("1234567"),
        discount_bp=Decimal("2.5"),
        margin_bp=Decimal("30"),
        committee_approved=True,
        credit_approved=True,
        as_of=date(2024, 1, 1),
        maturity=date(2025, 1, 1),
    )
    assert terms.annual_saving == Decimal("308.64")  # 308.64175
    assert terms.effective_margin_bp == Decimal("27.5")
    assert "2,5 baspunkter" in terms.reason_sv


@pytest.mark.parametrize(
    "bad",
    [{"amount": Decimal("-1")}, {"discount_bp": Decimal("-2")}],
)
def test_negative_inputs_are_refused(bad: dict) -> None:
    with pytest.raises(DiscountError) as caught:
        discount_terms(**{**BOTKYRKABYGGEN, **bad}, committee_approved=True, credit_approved=True)
    assert caught.value.message_sv and caught.value.message_en


def test_remaining_years_convention() -> None:
    assert remaining_years(date(2024, 1, 1), date(2025, 1, 1)) == Decimal("1.00")  # 366 days
    assert remaining_years(date(2024, 1, 1), date(2024, 7, 1)) == Decimal("0.50")  # 182 days
    assert remaining_years(date(2025, 1, 1), date(2024, 1, 1)) == Decimal("0.00")


def test_report_deadline_is_in_the_following_year() -> None:
    assert report_deadline(2024) == date(2025, 4, 30)
    assert report_deadline(2024, "03-31") == date(2025, 3, 31)


@pytest.mark.parametrize("bad", ["4-30", "04-31", "13-01", "april", "02-29"])
def test_invalid_deadline_setting_is_refused(bad: str) -> None:
    # 02-29 is refused for 2024's report because 2025 is not a leap year.
    with pytest.raises(DiscountError) as caught:
        report_deadline(2024, bad)
    assert "MM-DD" in caught.value.message_en


@pytest.mark.parametrize(
    ("last_reported", "as_of", "overdue"),
    [
        # 2024's values are due 30 April 2025.
        (2023, date(2025, 4, 29), False),
        (2023, date(2025, 4, 30), False),  # the deadline day itself is on time
        (2023, date(2025, 5, 1), True),
        (2024, date(2025, 5, 1), False),
        (2024, date(2026, 4, 30), False),
        (2024, date(2026, 5, 1), True),
        (2022, date(2025, 1, 15), True),  # 2023's report, due April 2024, never came
        (None, date(2025, 5, 1), True),
    ],
)
def test_report_overdue_around_the_deadline(
    last_reported: int | None, as_of: date, overdue: bool
) -> None:
    assert (
        report_overdue(last_reported_year=last_reported, first_due_year=2023, as_of=as_of)
        is overdue
    )


def test_nothing_is_overdue_before_the_first_report_is_due() -> None:
    # First values are for 2024, due 30 April 2025.
    assert not report_overdue(last_reported_year=None, first_due_year=2024, as_of=date(2025, 4, 30))
    assert report_overdue(last_reported_year=None, first_due_year=2024, as_of=date(2025, 5, 1))


def test_overdue_follows_the_deadline_setting() -> None:
    kwargs = {"last_reported_year": 2023, "first_due_year": 2023, "as_of": date(2025, 4, 1)}
    assert report_overdue(**kwargs, deadline="03-31")
    assert not report_overdue(**kwargs, deadline="04-30")
