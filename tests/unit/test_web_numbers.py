"""Amounts on the analyst and borrower pages: shortened where a person reads them."""

from __future__ import annotations

import pytest

from lanportfolj.web.i18n import set_language
from lanportfolj.web.numbers import money, sek


@pytest.mark.parametrize(
    ("value", "currency", "lang", "shown"),
    [
        ("3000000000.00", "SEK", "sv", "3 mdkr"),
        ("3800000000", "SEK", "en", "SEK 3.8 bn"),
        ("16000000", "SEK", "sv", "16 mnkr"),
        ("12500", "SEK", "en", "SEK 12,500"),
        ("300000000", "EUR", "sv", "300 mn EUR"),
        ("300000000", "eur", "en", "EUR 300 m"),
        ("2500000000", "USD", "sv", "2,5 md USD"),
        (None, "SEK", "sv", "–"),
    ],
)
def test_amounts_read_as_a_person_writes_them(value, currency, lang, shown) -> None:
    set_language(lang)  # the digits follow the page's language, as in a request
    try:
        assert money(value, currency, lang).replace("\u00a0", " ") == shown
        if currency == "SEK":
            assert sek(value, lang) == money(value, "SEK", lang)
    finally:
        set_language("sv")
