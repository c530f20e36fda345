"""The Legal Entity Identifier (ISO 17442): 20 characters, 18 capital letters or digits, then two check
digits such that the whole, letters read as numbers (A = 10 … Z = 35), is 1 modulo 97 (ISO 7064)."""

from __future__ import annotations

import re
from typing import Final

_LEI: Final = re.compile(r"[A-Z0-9]{18}[0-9]{2}")


def _as_number(text: str) -> int:
    return int("".join(str(int(ch, 36)) for ch in text))


def lei_check_digits(first18: str) -> str:
    """The two check digits that complete ``first18`` to a valid LEI."""
    return f"{98 - _as_number(first18 + '00') % 97:02d}"


def lei_problem(value: str) -> str | None:
    """None for a valid LEI, otherwise what is wrong with it (in English; the caller names the field)."""
    if not _LEI.fullmatch(value):
        return f"{value!r} is not an LEI: 20 characters, 18 capital letters or digits and two check digits"
    if _as_number(value) % 97 != 1:
        return f"the check digits of LEI {value} are wrong: they should be {lei_check_digits(value[:18])}"
    return None
