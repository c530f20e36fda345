"""Numbers as the report page shows them: rounded for their unit, with the locale's separators."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lanportfolj.reporting import display

pytestmark = pytest.mark.unit

NB = "\u00a0"


def test_swedish_and_english_separators() -> None:
    assert display.number(Decimal("1234.5"), 1, "sv") == f"1{NB}234,5"
    assert display.number(Decimal("1234.5"), 1, "en") == "1,234.5"
    assert display.number(Decimal("-0.04"), 1, "sv") == "0,0"  # never "-0,0"
    assert display.number(Decimal("-12.5"), 0, "sv") == "−12"  # half to even, a real minus sign


def test_counts_are_whole_and_an_attributed_count_rounds_to_what_it_is() -> None:
    # 34 356 × 200/409 computed exactly is 16 800.0000…; shown as a count it is 16 800
    exact = Decimal(34356) * Decimal(200) / Decimal(409)
    assert display.in_unit(exact, "count", "sv") == f"16{NB}800"
    assert display.in_unit(Decimal("1583.9474"), "count", "en") == "1,584"


def test_percentages_have_one_decimal_and_ratios_their_scale() -> None:
    assert display.percent(Decimal("0.85445742"), "sv", share=True) == f"85,4{NB}%"
    assert display.in_unit(Decimal("89.8765"), "percent", "en") == f"89.9{NB}%"
    assert display.in_unit(Decimal("2.7791"), "per_1000", "sv") == f"2,78{NB}per 1 000"
    assert display.in_unit(Decimal("1262.4"), "SEK/m2", "sv") == f"1{NB}262{NB}kr/m²"


def test_money_in_millions_and_billions() -> None:
    assert display.money(Decimal("3800000000"), "SEK", "sv") == f"3,8{NB}mdkr"
    assert display.money(Decimal("911000000"), "SEK", "sv") == f"911{NB}mnkr"
    assert display.money(Decimal("3800000000"), "SEK", "en") == f"SEK{NB}3.8bn"
    assert display.money(Decimal("12500000"), "EUR", "en") == f"EUR{NB}12.5m"
    assert display.money(Decimal("12500000"), "EUR", "sv") == f"12,5{NB}mn{NB}EUR"
    assert display.money(Decimal("0"), "SEK", "sv") == f"0{NB}kr"
    assert display.money_in_unit(Decimal("431000000"), "sv") == "431,0"
    assert display.million_unit("SEK", "en") == f"SEK{NB}m"
