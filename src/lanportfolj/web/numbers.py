"""Money, rates and units as a person reads them, per language (one formatting layer for the pages).

- ``sek``: an amount in kronor, shortened where a person reads it: ``3 mdkr``, ``3,8 mdkr``, ``16 mnkr``,
  ``450 000 kr`` in Swedish; ``SEK 3 bn``, ``SEK 3.8 bn``, ``SEK 16 m``, ``SEK 450,000`` in English.
  Exports keep full amounts; this is for pages only.
- ``money``: an amount in a bond's currency: kronor as ``sek``, others ``300 mn EUR`` / ``EUR 300 m``.
- ``rate``: a percentage with the language's decimal sign: ``2,625 %`` / ``2.625 %``.
- ``bp``: basis points in words: ``2 baspunkter`` / ``2 basis points`` (``1 baspunkt``).
- ``unit``: a library unit (``count``, ``percent``, ``index``) in the reader's words.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from jinja2 import Environment

from lanportfolj.library import UNITS
from lanportfolj.web.i18n import fmt_number, get_language

BILLION = Decimal(1_000_000_000)
MILLION = Decimal(1_000_000)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _short(value: Decimal) -> str:
    """Up to one decimal for amounts under ten units, none above (``3,8``, ``16``, ``120``)."""
    digits = 1 if abs(value) < 10 and value != value.to_integral_value() else 0
    rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        digits = 0
    return fmt_number(rounded, digits)


#: (divisor, Swedish word for kronor, Swedish word before another currency's code, English word)
_SCALES = ((BILLION, "mdkr", "md", "bn"), (MILLION, "mnkr", "mn", "m"))


def sek(value: Any, lang: str | None = None) -> str:
    """An amount in kronor as a person reads it (``3 mdkr``, ``16 mnkr``); ``–`` when there is none."""
    return money(value, "SEK", lang)


def money(value: Any, currency: str = "SEK", lang: str | None = None) -> str:
    """An amount in ``currency`` as a person reads it: ``3 mdkr`` / ``SEK 3 bn`` for kronor, another
    currency shortened the same way with its code (``300 mn EUR`` / ``EUR 300 m``)."""
    amount = _decimal(value)
    if amount is None:
        return "–"
    sv = (lang or get_language()) == "sv"
    code = (currency or "SEK").upper()
    for divisor, kronor_sv, other_sv, word_en in _SCALES:
        if abs(amount) >= divisor:
            short = _short(amount / divisor)
            if sv:
                return f"{short} {kronor_sv}" if code == "SEK" else f"{short} {other_sv} {code}"
            return f"{code} {short} {word_en}"
    whole = fmt_number(amount, 0)
    if sv:
        return f"{whole} {'kr' if code == 'SEK' else code}"
    return f"{code} {whole}"


def rate(value: Any) -> str:
    """A percentage as written in the reader's language: ``2,625 %``."""
    number = _decimal(value)
    if number is None:
        return "–"
    return f"{fmt_number(number)} %"


def bp(value: Any) -> str:
    """Basis points in words: ``2 baspunkter``, ``1 baspunkt``, ``2 basis points``."""
    number = _decimal(value)
    if number is None:
        return "–"
    shown = fmt_number(number)
    one = number == 1
    if get_language() == "sv":
        return f"{shown} {'baspunkt' if one else 'baspunkter'}"
    return f"{shown} {'basis point' if one else 'basis points'}"


def unit(code: str | None) -> str:
    """A library unit in the reader's words (``antal``, ``procent``); an unknown one as it is."""
    if not code:
        return ""
    known = UNITS.get(code)
    if known is None:
        return code
    return known.sv if get_language() == "sv" else known.en


def configure(env: Environment) -> None:
    """The filters every template may use: ``|sek``, ``|money(currency)``, ``|rate``, ``|bp``, ``|unit``."""
    env.filters["sek"] = sek
    env.filters["money"] = money
    env.filters["rate"] = rate
    env.filters["bp"] = bp
    env.filters["unit"] = unit
