"""The LEI check (ISO 17442 / ISO 7064 mod 97-10) that refuses a mistyped issuer LEI."""

from __future__ import annotations

import pytest

from lanportfolj.domain.lei import lei_check_digits, lei_problem

pytestmark = pytest.mark.unit


def test_a_completed_lei_passes_and_a_changed_character_is_refused() -> None:
    base = "5493001KJTIIGC8Y1R"
    lei = base + lei_check_digits(base)
    assert lei_problem(lei) is None
    typo = lei[:5] + ("2" if lei[5] != "2" else "3") + lei[6:]
    assert "check digits" in (lei_problem(typo) or "")
    assert "20 characters" in (lei_problem("549300") or "")
    assert "20 characters" in (lei_problem(lei.lower()) or "")
