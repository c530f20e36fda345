"""The evaluation-plan advice (E12) as a borrower reads it: whole sentences in Swedish, with the decimal
comma, and in English, with the decimal point."""

from __future__ import annotations

import pytest
from test_eligibility import eligible_case

from lanportfolj.domain.eligibility import (
    CriterionResult,
    RuleSet,
    e12_evaluation_plan,
    load_rule_set,
)

pytestmark = pytest.mark.unit

TITLES = {"title_sv": "Utvärderingsplan (råd)", "title_en": "Evaluation plan (advisory)"}
PLAN_SV = (
    "Utvärderingsplan finns, med jämförelsegruppen: Similar housing areas in Huddinge without the "
    "programme."
)
PLAN_EN = (
    "An evaluation plan is given, with the comparison group: Similar housing areas in Huddinge "
    "without the programme."
)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rule_set()


def test_power_note_writes_decimals_with_a_comma_in_swedish(rules: RuleSet) -> None:
    result = e12_evaluation_plan(
        eligible_case(planned_sample_per_arm=300, outcome_base_rate=0.125), rules
    )
    assert result == CriterionResult(
        id="E12",
        result="pass",
        reason_sv=(
            f"{PLAN_SV} Med 300 per grupp och en basnivå på 12,5 % är den minsta effekt som kan "
            "upptäckas 6,5 procentenheter (α = 0,05, styrka 80 %)."
        ),
        reason_en=(
            f"{PLAN_EN} With 300 per arm and a 12.5 % base rate the smallest effect you can detect "
            "is 6.5 percentage points (α = 0.05, power 80 %)."
        ),
        advisory=True,
        **TITLES,
    )


@pytest.mark.parametrize(
    ("n", "base_rate", "sv", "en"),
    [
        (1, 1.5, "(1)", "150"),
        (40, 1.125, "(40)", "112,5"),
    ],
)
def test_impossible_sample_is_explained_with_the_figures_given(
    rules: RuleSet, n: int, base_rate: float, sv: str, en: str
) -> None:
    result = e12_evaluation_plan(
        eligible_case(planned_sample_per_arm=n, outcome_base_rate=base_rate), rules
    )
    shown_en = en.replace(",", ".")
    assert result == CriterionResult(
        id="E12",
        result="needs_judgement",
        reason_sv=(
            f"Kontrollera urvalet: antal per grupp {sv} ska vara minst 2 och basnivån ({en} %) ska "
            "ligga mellan 0 och 100 %."
        ),
        reason_en=(
            f"Check the sample: the number per arm {sv} must be at least 2 and the base rate "
            f"({shown_en} %) between 0 and 100 %."
        ),
        fields=("planned_sample_per_arm",),
        advisory=True,
        **TITLES,
    )
