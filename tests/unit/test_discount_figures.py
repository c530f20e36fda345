"""The discount's figures at their edges, as the analyst reads them to a borrower: half-öre and half-krona
amounts, a zero amount or a zero discount, and the refusal of negative ones, in Swedish and English."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lanportfolj.domain.discount import (
    DiscountError,
    DiscountTerms,
    discount_terms,
    report_deadline,
)

pytestmark = pytest.mark.unit

#: 2025-01-01 → 2026-01-01 is 365 days: 365 / 365.25 = 0.9993…, shown as 1.00 year.
ONE_YEAR = {"as_of": date(2025, 1, 1), "maturity": date(2026, 1, 1)}


def _approved(amount: str, discount_bp: str, margin_bp: str | None = "30") -> DiscountTerms:
    return discount_terms(
        amount=Decimal(amount),
        discount_bp=Decimal(discount_bp),
        margin_bp=None if margin_bp is None else Decimal(margin_bp),
        committee_approved=True,
        credit_approved=True,
        **ONE_YEAR,
    )


def test_half_an_ore_a_year_rounds_up_to_one_ore() -> None:
    # 10 SEK × 5 bp = 0.005 SEK: Swedish accounting rounds the half up (half-even would give 0.00)
    assert _approved("10", "5") == DiscountTerms(
        applies=True,
        discount_bp=Decimal("5"),
        margin_bp=Decimal("30"),
        effective_margin_bp=Decimal("25"),
        annual_saving=Decimal("0.01"),
        remaining_years=Decimal("1.00"),
        term_saving=Decimal("0"),
        reason_sv=(
            "Rabatten på 5 baspunkter gäller: kommittén och kreditprövningen har godkänt lånet. "
            "Marginal 30 baspunkter, efter rabatt 25. "
            "Besparing 0\u00a0kr per år och 0\u00a0kr under återstående 1,00 år."
        ),
        reason_en=(
            "The discount of 5 basis points applies: the committee and the credit assessment have approved "
            "the loan. Margin 30 basis points, 25 after the discount. "
            "Saving SEK 0 a year and SEK 0 over the remaining 1.00 years."
        ),
    )


def test_half_a_krona_is_shown_and_saved_as_a_whole_krona() -> None:
    # 5 000 SEK × 5 bp = 2.50 SEK a year: the sentence says 3 kr, and over the 1.00 year left, 3 kr
    assert _approved("5000", "5", margin_bp=None) == DiscountTerms(
        applies=True,
        discount_bp=Decimal("5"),
        margin_bp=None,
        effective_margin_bp=None,
        annual_saving=Decimal("2.50"),
        remaining_years=Decimal("1.00"),
        term_saving=Decimal("3"),
        reason_sv=(
            "Rabatten på 5 baspunkter gäller: kommittén och kreditprövningen har godkänt lånet. "
            "Besparing 3\u00a0kr per år och 3\u00a0kr under återstående 1,00 år."
        ),
        reason_en=(
            "The discount of 5 basis points applies: the committee and the credit assessment have approved "
            "the loan. Saving SEK 3 a year and SEK 3 over the remaining 1.00 years."
        ),
    )


def test_thousands_are_grouped_with_no_break_spaces_in_swedish_and_commas_in_english() -> None:
    terms = _approved("123456789", "2.5", margin_bp="27.25")
    assert (terms.annual_saving, terms.term_saving) == (Decimal("30864.20"), Decimal("30864"))
    assert terms.reason_sv == (
        "Rabatten på 2,5 baspunkter gäller: kommittén och kreditprövningen har godkänt lånet. "
        "Marginal 27,25 baspunkter, efter rabatt 24,75. "
        "Besparing 30\u00a0864\u00a0kr per år och 30\u00a0864\u00a0kr under återstående 1,00 år."
    )
    assert terms.reason_en == (
        "The discount of 2.5 basis points applies: the committee and the credit assessment have approved "
        "the loan. Margin 27.25 basis points, 24.75 after the discount. "
        "Saving SEK 30,864 a year and SEK 30,864 over the remaining 1.00 years."
    )


@pytest.mark.parametrize(
    ("amount", "discount_bp", "effective"),
    [
        # nothing lent yet, and a programme run without a discount: both are figures, not errors
        ("0", "2", Decimal("28")),
        ("0.50", "2", Decimal("28")),
        ("1000000", "0", Decimal("30")),
        ("1000000", "0.5", Decimal("29.5")),
    ],
)
def test_zero_and_small_amounts_and_discounts_are_accepted(
    amount: str, discount_bp: str, effective: Decimal
) -> None:
    terms = _approved(amount, discount_bp)
    assert terms.applies is True
    assert terms.effective_margin_bp == effective
    assert terms.annual_saving == (Decimal(amount) * Decimal(discount_bp) / 10_000).quantize(
        Decimal("0.01")
    )


@pytest.mark.parametrize(
    ("amount", "discount_bp", "sv", "en"),
    [
        (
            "-0.01",
            "2",
            "Lånebeloppet kan inte vara negativt (-0.01).",
            "The loan amount cannot be negative (-0.01).",
        ),
        (
            "1000",
            "-0.5",
            "Rabatten kan inte vara negativ (-0.5 baspunkter).",
            "The discount cannot be negative (-0.5 basis points).",
        ),
    ],
)
def test_negative_amount_or_discount_is_refused_in_both_languages(
    amount: str, discount_bp: str, sv: str, en: str
) -> None:
    with pytest.raises(DiscountError) as caught:
        _approved(amount, discount_bp)
    assert (caught.value.message_sv, caught.value.message_en, str(caught.value)) == (sv, en, en)


def test_a_matured_loan_still_shows_the_yearly_saving() -> None:
    terms = discount_terms(
        amount=Decimal("5000"),
        discount_bp=Decimal("5"),
        margin_bp=None,
        committee_approved=True,
        credit_approved=True,
        as_of=date(2026, 1, 2),
        maturity=date(2026, 1, 1),
    )
    assert (terms.remaining_years, terms.term_saving) == (Decimal("0.00"), Decimal("0"))
    assert terms.reason("sv") == (
        "Rabatten på 5 baspunkter gäller: kommittén och kreditprövningen har godkänt lånet. "
        "Besparing 3\u00a0kr per år; lånet har förfallit."
    )
    assert terms.reason("en") == (
        "The discount of 5 basis points applies: the committee and the credit assessment have approved "
        "the loan. Saving SEK 3 a year; the loan has matured."
    )


def test_without_approvals_the_reason_names_the_discount_and_what_is_missing() -> None:
    terms = discount_terms(
        amount=Decimal("16000000"),
        discount_bp=Decimal("2.5"),
        margin_bp=Decimal("30"),
        committee_approved=False,
        credit_approved=True,
        **ONE_YEAR,
    )
    assert terms == DiscountTerms(
        applies=False,
        discount_bp=Decimal("2.5"),
        margin_bp=Decimal("30"),
        effective_margin_bp=Decimal("30"),
        annual_saving=Decimal(0),
        remaining_years=Decimal("1.00"),
        term_saving=Decimal(0),
        reason_sv=(
            "Rabatten på 2,5 baspunkter gäller inte än: kommitténs godkännande saknas. Den gäller när "
            "både kommittén för social hållbarhet och kreditprövningen har godkänt lånet."
        ),
        reason_en=(
            "The discount of 2.5 basis points does not apply yet: the committee's approval is missing. It "
            "applies once both the committee on social sustainability and the credit assessment "
            "have approved the loan."
        ),
    )


def test_without_either_approval_the_reason_says_both_are_missing() -> None:
    terms = discount_terms(
        amount=Decimal("16000000"),
        discount_bp=Decimal("2"),
        margin_bp=None,
        committee_approved=False,
        credit_approved=False,
        **ONE_YEAR,
    )
    assert (terms.applies, terms.effective_margin_bp, terms.annual_saving) == (
        False,
        None,
        Decimal(0),
    )
    assert terms.reason_sv == (
        "Rabatten på 2 baspunkter gäller inte än: både kommitténs godkännande och kreditgodkännandet "
        "saknas. Den gäller när både kommittén för social hållbarhet och kreditprövningen har "
        "godkänt lånet."
    )
    assert terms.reason_en == (
        "The discount of 2 basis points does not apply yet: both the committee's approval and the credit "
        "approval are missing. It applies once both the committee on social sustainability and "
        "the credit assessment have approved the loan."
    )


@pytest.mark.parametrize("setting", ["4-30", "04-31"])
def test_a_bad_deadline_setting_is_explained_in_both_languages(setting: str) -> None:
    with pytest.raises(DiscountError) as caught:
        report_deadline(2024, setting)
    assert (caught.value.message_sv, caught.value.message_en) == (
        f"Rapporteringsfristen '{setting}' är inget giltigt datum (MM-DD, t.ex. 04-30).",
        f"The reporting deadline '{setting}' is not a valid date (MM-DD, e.g. 04-30).",
    )
