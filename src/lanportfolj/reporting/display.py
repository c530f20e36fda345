"""Numbers as a reader sees them, per locale and unit.

Swedish: a no-break space between thousands and a decimal comma (``1 234,5``), money in ``mnkr`` and
``mdkr`` (``3,8 mdkr``); English: ``1,234.5`` and ``SEK 3.8bn``. Counts are whole, percentages have one
decimal, every other unit the decimals :data:`UNIT_DECIMALS` gives it. The exact values stay in the
JSON and as the workbook's cell values: this module only writes text.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final

NBSP: Final = "\u00a0"

#: Decimal places shown per indicator unit (anything else: :data:`DEFAULT_DECIMALS`).
UNIT_DECIMALS: Final[dict[str, int]] = {
    "count": 0,
    "percent": 1,
    "per_1000": 2,
    "per_100000": 1,
    "SEK": 0,
    "SEK/m2": 0,
    "m2": 0,
    "days": 1,
    "index": 1,
    "points": 1,
}
DEFAULT_DECIMALS: Final = 1

#: Units as words after a number ("" for a count: the indicator's name says what is counted).
UNIT_TEXT: Final[dict[str, dict[str, str]]] = {
    "count": {"sv": "", "en": ""},
    "percent": {"sv": "%", "en": "%"},
    "per_1000": {"sv": "per 1 000", "en": "per 1,000"},
    "per_100000": {"sv": "per 100 000", "en": "per 100,000"},
    "SEK": {"sv": "kr", "en": "SEK"},
    "SEK/m2": {"sv": "kr/m²", "en": "SEK/m²"},
    "m2": {"sv": "m²", "en": "m²"},
    "days": {"sv": "dagar", "en": "days"},
    "index": {"sv": "index", "en": "index"},
    "points": {"sv": "poäng", "en": "points"},
}

#: Money scales: (divisor, Swedish suffix for SEK, Swedish suffix otherwise, English suffix).
_SCALES: Final = (
    (Decimal(10) ** 9, "mdkr", "md", "bn"),
    (Decimal(10) ** 6, "mnkr", "mn", "m"),
)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def number(value: Any, decimals: int, lang: str) -> str:
    """``value`` rounded to ``decimals`` with the locale's separators (``1 234,5`` / ``1,234.5``)."""
    exact = _decimal(value)
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0"
    text = f"{rounded:,.{decimals}f}"
    if lang == "sv":
        text = text.replace(",", NBSP).replace(".", ",").replace("-", "−")
    return text


def count(value: Any, lang: str) -> str:
    """A count: whole (``16 800``)."""
    return number(value, 0, lang)


def percent(value: Any, lang: str, *, share: bool = False) -> str:
    """A percentage with one decimal and its sign (``12,3 %``); ``share``: ``value`` is a fraction."""
    exact = _decimal(value) * (100 if share else 1)
    return f"{number(exact, 1, lang)}{NBSP}%"


def unit_decimals(unit: str | None) -> int:
    """The decimals a value in ``unit`` is shown with."""
    return UNIT_DECIMALS.get(unit or "", DEFAULT_DECIMALS)


def unit_text(unit: str | None, lang: str) -> str:
    """The unit as words (``kr/m²``), empty for a count."""
    if not unit:
        return ""
    return UNIT_TEXT.get(unit, {}).get(lang, unit)


def in_unit(value: Any, unit: str | None, lang: str, *, with_unit: bool = True) -> str:
    """An indicator value rounded for its unit, followed by the unit when ``with_unit``."""
    if value is None:
        return "–"
    if unit == "SEK":
        return money(value, "SEK", lang)
    text = number(value, unit_decimals(unit), lang)
    words = unit_text(unit, lang) if with_unit else ""
    return f"{text}{NBSP}{words}" if words else text


def money(value: Any, currency: str, lang: str) -> str:
    """An amount in millions or billions: ``3,8 mdkr`` / ``911 mnkr``, ``SEK 3.8bn`` / ``EUR 12.5m``.

    Below a million the amount is shown whole (``12 500 kr``, ``SEK 12,500``).
    """
    exact = _decimal(value)
    for divisor, sek_sv, other_sv, en in _SCALES:
        if abs(exact) >= divisor:
            scaled = exact / divisor
            decimals = 1 if abs(scaled) < 100 else 0
            text = number(scaled, decimals, lang)
            if lang == "sv":
                suffix = sek_sv if currency == "SEK" else f"{other_sv}{NBSP}{currency}"
                return f"{text}{NBSP}{suffix}"
            return f"{currency}{NBSP}{text}{en}"
    whole = number(exact, 0, lang)
    if lang == "sv":
        return f"{whole}{NBSP}{'kr' if currency == 'SEK' else currency}"
    return f"{currency}{NBSP}{whole}"


def money_in_unit(value: Any, lang: str, *, decimals: int = 1) -> str:
    """An amount in millions without a suffix (for a column headed "mnkr" / "SEK m")."""
    return number(_decimal(value) / Decimal(10) ** 6, decimals, lang)


def million_unit(currency: str, lang: str) -> str:
    """The heading unit of :func:`money_in_unit`: ``mnkr``, ``mn EUR``, ``SEK m``."""
    if lang == "sv":
        return "mnkr" if currency == "SEK" else f"mn{NBSP}{currency}"
    return f"{currency}{NBSP}m"
