"""Report figures as text: the fast path writes exactly what babel writes, in both languages."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanportfolj.numtext import babel_text, decimal_text

DIGITS = [None, 0, 1, 2, 3, 4]
LANGS = ["sv", "en"]

EDGES = [
    "0", "-0", "0.000", "-0.0004", "0.0005", "0.0015", "0.0025", "-0.0005", "0.5", "1.5", "2.5",
    "-2.5", "0.05", "0.15", "0.25", "999.9995", "-999.9995", "1234567.891", "-1234567.891",
    "1000", "1E+3", "1E+12", "12345678901234567890.5", "123456789012345678901234.5678",
    "1.00", "10.10", "-0.00", "7", "-7", "100000", "0.1234567890123456789", "3.14159",
    "5E-10", "-5E-10", "1E+24", "9999999999999999999999999.9",
]  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("digits", DIGITS)
@pytest.mark.parametrize("text", EDGES)
def test_edge_values_read_as_babel_writes_them(text: str, digits: int | None, lang: str) -> None:
    value = Decimal(text)
    try:
        expected = babel_text(value, lang, digits)
    except decimal.InvalidOperation:
        # too many digits for the decimal context once rounded: the same error as before
        with pytest.raises(decimal.InvalidOperation):
            decimal_text(value, lang, digits)
        return
    assert decimal_text(value, lang, digits) == expected


def test_the_languages_group_and_mark_as_a_reader_expects() -> None:
    assert decimal_text(Decimal("-1234567.891"), "sv") == "-1\u00a0234\u00a0567,891"
    assert decimal_text(Decimal("-1234567.891"), "en") == "-1,234,567.891"
    assert decimal_text(Decimal("2.5"), "en", 0) == "2"  # half to even, as babel
    assert decimal_text(Decimal("1.20"), "sv") == "1,2"
    assert decimal_text(Decimal("1.20"), "sv", 2) == "1,20"
    assert decimal_text(Decimal("-0.0004"), "sv") == "-0"  # babel keeps the sign


@pytest.mark.parametrize("text", ["Infinity", "-Infinity", "NaN", "1E+40", "1" * 40])
@pytest.mark.parametrize("lang", LANGS)
def test_rare_values_go_to_babel_with_its_answer_or_error(text: str, lang: str) -> None:
    value = Decimal(text)
    for digits in DIGITS:
        try:
            expected = babel_text(value, lang, digits)
        except (decimal.InvalidOperation, ValueError) as error:
            with pytest.raises(type(error)):
                decimal_text(value, lang, digits)
        else:
            assert decimal_text(value, lang, digits) == expected


def test_floats_and_ints_are_read_through_their_text() -> None:
    for value in (0.1, 1 / 3, -2.675, 1e-7, 12345.6789, 3, -40000, 10**20):
        for lang in LANGS:
            for digits in DIGITS:
                assert decimal_text(value, lang, digits) == babel_text(
                    Decimal(str(value)), lang, digits
                )


@settings(max_examples=400, deadline=None)
@given(
    value=st.decimals(allow_nan=False, allow_infinity=False, places=None)
    | st.decimals(min_value=-(10**15), max_value=10**15, places=4),
    lang=st.sampled_from(LANGS),
    digits=st.sampled_from(DIGITS),
)
def test_any_decimal_reads_as_babel_writes_it(
    value: Decimal, lang: str, digits: int | None
) -> None:
    try:
        expected = babel_text(value, lang, digits)
    except decimal.InvalidOperation:
        with pytest.raises(decimal.InvalidOperation):
            decimal_text(value, lang, digits)
        return
    assert decimal_text(value, lang, digits) == expected


def test_another_rounding_context_is_followed_as_babel_follows_it() -> None:
    with decimal.localcontext(rounding=decimal.ROUND_HALF_UP):
        for text in ("2.5", "0.0025", "-1.5", "1234.5"):
            for digits in (0, 2, 3):
                assert decimal_text(Decimal(text), "sv", digits) == babel_text(
                    Decimal(text), "sv", digits
                )


@pytest.mark.parametrize("lang", LANGS)
def test_the_pages_number_filter_writes_what_babel_wrote(lang: str) -> None:
    from babel.numbers import format_decimal

    from lanportfolj.web.i18n import fmt_number, set_language

    locale = "sv_SE" if lang == "sv" else "en_GB"
    set_language(lang)
    try:
        for value in (Decimal("-1234567.8915"), Decimal("0.0004"), 12500, 61.5, Decimal("-0")):
            assert fmt_number(value) == format_decimal(value, locale=locale)
            for digits in (0, 1, 2):
                fmt = "#,##0" + ("." + "0" * digits if digits else "")
                rounded = round(Decimal(str(value)), digits)
                assert fmt_number(value, digits) == format_decimal(
                    rounded, format=fmt, locale=locale
                )
        assert fmt_number(None) == "–"
    finally:
        set_language("sv")
