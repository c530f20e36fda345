"""A decimal number as locale text, digit for digit what babel's ``format_decimal`` writes.

``decimal_text(value, lang, digits)`` is ``format_decimal(value, format=PATTERN, locale=LOCALE)``
with ``PATTERN`` ``#,##0.###`` (``digits`` None: up to three decimals, trailing zeros dropped) or
``#,##0`` followed by exactly ``digits`` decimals, and ``LOCALE`` ``sv_SE`` (``lang`` "sv": a
no-break space between thousands and a decimal comma) or ``en_GB`` (``1,234.5``). A bond report
formats tens of thousands of figures; babel looks its locale data up again for every one, so the
common case (a finite number within the decimal context's precision) is written here with the same
rounding (the context's, as ``Decimal.quantize``) and the rare ones (infinities, NaN, more digits
than the context holds) are handed to babel itself, errors included.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from functools import cache

from babel import Locale
from babel.numbers import NumberPattern, format_decimal, parse_pattern

NBSP = "\u00a0"

#: (thousands separator, decimal mark) per language, as CLDR gives them for sv_SE and en_GB
_SYMBOLS = {"sv": (NBSP, ","), "en": (",", ".")}


def decimal_text(value: Decimal | float | int | str, lang: str, digits: int | None = None) -> str:
    """``value`` as ``format_decimal`` writes it for ``lang`` ("sv", else English), see the module."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if number.is_finite():
        context = decimal.getcontext()
        if len(number.as_tuple().digits) <= context.prec:
            try:
                return _finite(number, lang, digits, context)
            except decimal.InvalidOperation:
                pass  # more digits once rounded than the context holds: babel says so
    return babel_text(number, lang, digits)


def _finite(number: Decimal, lang: str, digits: int | None, context: decimal.Context) -> str:
    group, mark = _SYMBOLS["sv" if lang == "sv" else "en"]
    low, high = (0, 3) if digits is None else (digits, digits)
    # babel: the sign taken first (so -0.0004 is "-0"), then the absolute value rounded to the
    # pattern's decimals in the current context
    rounded = abs(number).quantize(_quantum(high), context=context)
    if not rounded.is_finite():  # a context that does not trap the overflow
        raise decimal.InvalidOperation
    whole, _, fraction = f"{rounded:f}".partition(".")
    text = f"{int(whole):,}"
    if group != ",":
        text = text.replace(",", group)
    fraction = fraction or "0"
    if len(fraction) < low:
        fraction += "0" * (low - len(fraction))
    if high and not (low == 0 and int(fraction) == 0):
        trimmed = fraction.rstrip("0")
        if len(trimmed) < low:
            trimmed = fraction[:low]
        text += mark + trimmed
    return "-" + text if number.is_signed() else text


@cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def babel_text(value: Decimal, lang: str, digits: int | None = None) -> str:
    """What babel's ``format_decimal`` writes (the reference ``decimal_text`` follows)."""
    return format_decimal(value, format=_pattern(digits), locale=_locale(lang))


@cache
def _pattern(digits: int | None) -> NumberPattern:
    return parse_pattern(
        "#,##0.###" if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    )


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse("sv_SE" if lang == "sv" else "en_GB")
