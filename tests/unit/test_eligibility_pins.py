"""Eligibility results compared whole (result, both reasons, the fields to fix, titles) where mutation
testing found a change that passed: the borrower named when not a member, a regional company, the
application date missing for E6, E12 asking for whichever power input is missing (issue 20)."""

from __future__ import annotations

import pytest
from test_eligibility import eligible_case

from lanportfolj.domain.eligibility import (
    CriterionResult,
    RuleSet,
    e1_borrower,
    e6_goals,
    e12_evaluation_plan,
    load_rule_set,
)

pytestmark = pytest.mark.unit

E1 = {"title_sv": "Berättigad låntagare", "title_en": "Eligible borrower"}
E12 = {"title_sv": "Utvärderingsplan (råd)", "title_en": "Evaluation plan (advisory)"}
ASK_POWER_SV = (
    "Välj redan nu en jämförelsegrupp (t.ex. ett liknande bostadsområde eller en skola utan "
    "insatsen), så att effekten kan skiljas från den allmänna utvecklingen. Ange planerat antal "
    "deltagare per grupp och utfallets basnivå, så visas vilken effekt som går att upptäcka."
)
ASK_POWER_EN = (
    "Choose a comparison group now (e.g. a similar housing area or a school without the "
    "intervention), so that the effect can be told apart from the general trend. Enter the planned "
    "number of participants per arm and the outcome's base rate to see which effect can be detected."
)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rule_set()


def test_a_municipality_that_is_not_a_member_is_named(rules: RuleSet) -> None:
    case = eligible_case(borrower_kind="municipality", borrower_member=False)
    assert e1_borrower(case, rules) == CriterionResult(
        id="E1",
        result="fail",
        reason_sv="AB Botkyrkabyggen är inte medlem. Bara medlemskommuner och medlemsregioner, och "
        "bolag som de äger, kan få lånet.",
        reason_en="AB Botkyrkabyggen is not a member. Only member municipalities and regions, and "
        "companies they own, can get the loan.",
        fields=("borrower_member",),
        **E1,
    )


def test_a_company_owned_by_a_member_region_passes(rules: RuleSet) -> None:
    case = eligible_case(borrower_kind="regional_company", owner_member=True)
    assert e1_borrower(case, rules) == CriterionResult(
        id="E1",
        result="pass",
        reason_sv="AB Botkyrkabyggen är ett bolag som ägs av en medlemskommun eller medlemsregion.",
        reason_en="AB Botkyrkabyggen is a company owned by a member municipality or region.",
        **E1,
    )


def test_goals_without_an_application_date_ask_for_it(rules: RuleSet) -> None:
    assert e6_goals(eligible_case(application_date=None), rules) == CriterionResult(
        id="E6",
        result="fail",
        reason_sv="Ange ansökningsdatum; det behövs för att pröva år och löptid.",
        reason_en="Enter the application date; it is needed to check years against the loan term.",
        fields=("application_date",),
        title_sv="Tydliga mål (SMART)",
        title_en="Clear goals (SMART)",
    )


@pytest.mark.parametrize(
    ("n", "base_rate"), [(None, 0.125), (300, None)], ids=["no-sample", "no-base-rate"]
)
def test_e12_asks_for_the_power_inputs_when_either_is_missing(
    rules: RuleSet, n: int | None, base_rate: float | None
) -> None:
    case = eligible_case(planned_sample_per_arm=n, outcome_base_rate=base_rate, comparison_group="")
    assert e12_evaluation_plan(case, rules) == CriterionResult(
        id="E12",
        result="needs_judgement",
        reason_sv=ASK_POWER_SV,
        reason_en=ASK_POWER_EN,
        fields=("comparison_group", "planned_sample_per_arm", "outcome_base_rate"),
        advisory=True,
        **E12,
    )
