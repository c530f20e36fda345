"""E7's reasons name indicators as the borrower knows them (issue 18 item 10), the code only without a name."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from test_eligibility import RENOVATED, SAFETY, eligible_case

from lanportfolj.domain.eligibility import RuleSet, e7_follow_up, load_rule_set

pytestmark = pytest.mark.unit


@pytest.fixture
def rules() -> RuleSet:
    return load_rule_set()


NAMED_SAFETY = replace(
    SAFETY, name_sv="Andel boende som känner sig trygga", name_en="Share of residents feeling safe"
)
NAMED_RENOVATED = replace(RENOVATED, name_sv="Renoverade lägenheter", name_en="Dwellings renovated")


def test_the_pass_reason_lists_indicator_names_in_each_language(rules: RuleSet) -> None:
    result = e7_follow_up(eligible_case(indicators=(NAMED_SAFETY, NAMED_RENOVATED)), rules)
    assert result.result == "pass"
    assert "Output indicators: Dwellings renovated; outcome indicators: Share of residents" in (
        result.reason_en
    )
    assert "Prestationsindikatorer: Renoverade lägenheter; effektindikatorer: Andel boende" in (
        result.reason_sv
    )
    assert "DWELL_RENOV" not in result.reason_en + result.reason_sv


def test_an_incomplete_indicator_is_named_by_its_name(rules: RuleSet) -> None:
    bare = replace(NAMED_SAFETY, unit="", data_source="", baseline_year=None)
    assert bare.baseline_value == Decimal(61)
    result = e7_follow_up(eligible_case(indicators=(bare, NAMED_RENOVATED)), rules)
    assert result.reason_sv == (
        "Indikatorn Andel boende som känner sig trygga saknar: enhet, datakälla, år för utgångsvärdet."
    )
    assert result.reason_en.startswith("Indicator Share of residents feeling safe is missing")
