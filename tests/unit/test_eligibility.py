"""The eligibility check: what an analyst and a borrower see for each criterion and overall."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanportfolj.domain.case import Case, GoalCase, IndicatorUse
from lanportfolj.domain.eligibility import (
    CRITERIA,
    JUDGEMENT_CRITERIA,
    REQUIRED_TEXTS,
    Assessment,
    Judgement,
    JudgementError,
    RuleSet,
    RuleSetError,
    assess,
    available_rule_sets,
    e1_borrower,
    e2_investment,
    e3_category,
    e4_social_need,
    e5_target_group,
    e6_goals,
    e7_follow_up,
    e8_long_term,
    e9_intervention_logic,
    e10_systematic_work,
    e11_developed_practice,
    e12_evaluation_plan,
    load_rule_set,
)
from lanportfolj.domain.power import mde_proportions

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    """The shipped default rule set. Loaded by a fixture, not at import: under mutmut's forkserver the
    test modules are imported before any mutant is switched on, so an import-time load would hide every
    mutant of the loader."""
    return load_rule_set()


SAFETY = IndicatorUse(
    code="SAFE_RES",
    kind="outcome",
    unit="%",
    data_source="Botkyrkabyggen resident survey",
    baseline_value=Decimal("61"),
    baseline_year=2022,
    target_value=Decimal("75"),
    target_year=2030,
)
RENOVATED = IndicatorUse(
    code="DWELL_RENOV",
    kind="output",
    unit="dwellings",
    data_source="Project accounts",
    baseline_value=Decimal("0"),
    baseline_year=2023,
    target_value=Decimal("1200"),
    target_year=2032,
)


def eligible_case(**changes: object) -> Case:
    """A complete application modelled on Botkyrkabyggen's (illustrative texts)."""
    case = Case(
        reference="SH-2023-001",
        borrower_name="AB Botkyrkabyggen",
        borrower_kind="municipal_company",
        borrower_member=False,
        owner_member=True,
        investment_type="social_linked_to_physical",
        programme_category="housing",
        icma_category="affordable_housing",
        social_need=(
            "Alby, Fittja and Norsborg have low perceived safety, high crowding and school results "
            "well below the municipal average, according to the 2022 resident survey and SCB data."
        ),
        target_group_who="Tenants in Million-programme housing",
        target_group_where="Alby, Fittja and Norsborg",
        target_group_attributes="Households with low income, many families with children",
        physical_investment="Careful renovation of 1 200 dwellings in southern Stockholm suburbs",
        social_intervention="Safety certification, crime-prevention cooperation, gender equality",
        intervention_logic=(
            "Careful renovation keeps rents affordable so tenants can stay; safety certification and "
            "crime prevention with police and school reduce insecurity, as in earlier areas."
        ),
        systematic_work_ref="Botkyrka kommun, Program för social hållbarhet (KF 2019)",
        developed_practice=(
            "Renovation without displacement combined with a certified safety method is new locally."
        ),
        evaluation_plan="Yearly resident survey and register data, reviewed with the municipality",
        comparison_group="Similar housing areas in Huddinge without the programme",
        application_date=date(2023, 3, 1),
        maturity_date=date(2033, 6, 30),
        follow_up_until_year=2032,
        goals=(
            GoalCase(text="More residents feel safe", indicator_codes=("SAFE_RES",)),
            GoalCase(
                text="Renovate 1 200 dwellings",
                indicator_codes=("DWELL_RENOV",),
                target_value=Decimal("1200"),
                target_year=2032,
            ),
        ),
        indicators=(SAFETY, RENOVATED),
    )
    return replace(case, **changes)


ALL_JUDGED = {
    cid: Judgement(cid, "pass", f"The committee found {cid} convincing.", "Committee 2023-05-10")
    for cid in JUDGEMENT_CRITERIA
}


# --- the rule set -----------------------------------------------------------------------------


def test_default_rule_set_is_the_newest_shipped_version(rules: RuleSet) -> None:
    assert isinstance(rules, RuleSet)
    assert rules.version == "2021.1"
    assert rules.thresholds["min_long_term_years"] == 5
    assert rules.thresholds["max_baseline_year_offset"] == 0
    assert Path(rules.source).name == "eligibility-2021.1.toml"


def test_every_reason_and_title_has_swedish_and_english_text(rules: RuleSet) -> None:
    keys = [f"{group}.{key}" for group, names in REQUIRED_TEXTS.items() for key in names]
    keys += [f"{cid}.title" for cid in CRITERIA]
    for key in keys:
        assert key in rules.texts, key
        for lang in ("sv", "en"):
            assert rules.texts[key][lang].strip(), f"{key} lacks {lang}"


def test_shipped_rule_set_holds_no_unused_text(rules: RuleSet) -> None:
    used = {f"{group}.{key}" for group, names in REQUIRED_TEXTS.items() for key in names}
    used |= {f"{cid}.title" for cid in CRITERIA}
    assert set(rules.texts) == used


def _copy_rules(
    tmp_path: Path, edit: tuple[str, str], name: str = "eligibility-2021.1.toml"
) -> Path:
    text = available_rule_sets()["2021.1"].read_text(encoding="utf-8")
    assert edit[0] in text
    target = tmp_path / name
    target.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    return target


def test_rule_set_missing_an_english_reason_is_refused(tmp_path: Path) -> None:
    path = _copy_rules(
        tmp_path,
        (
            'attributes_missing = { sv = "Ange målgruppens attribut (t.ex. ålder, inkomst).", '
            'en = "State the target group\'s attributes (e.g. age, income)." }',
            'attributes_missing = { sv = "Ange målgruppens attribut (t.ex. ålder, inkomst)." }',
        ),
    )
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(path)
    assert "E5.attributes_missing has no en text" in caught.value.message_en
    assert "E5.attributes_missing saknar text på en" in caught.value.message_sv


def test_rule_set_whose_languages_use_different_placeholders_is_refused(tmp_path: Path) -> None:
    path = _copy_rules(tmp_path, ("saknar: {missing}.", "saknar: {saknas}."))
    with pytest.raises(
        RuleSetError, match=re.escape("E7.indicator_incomplete uses different placeholders")
    ):
        load_rule_set(path)


def test_rule_set_file_name_must_match_its_version(tmp_path: Path) -> None:
    path = _copy_rules(tmp_path, ('version = "2021.1"', 'version = "2024.1"'))
    with pytest.raises(RuleSetError, match="does not match its file name"):
        load_rule_set(path)


def test_a_threshold_change_is_a_data_change(rules: RuleSet, tmp_path: Path) -> None:
    path = _copy_rules(
        tmp_path,
        ("min_long_term_years = 5", "min_long_term_years = 3"),
    )
    shorter = eligible_case(follow_up_until_year=2025)
    assert e8_long_term(shorter, rules).result == "fail"
    assert e8_long_term(shorter, load_rule_set(path)).result == "pass"


# --- E1 -------------------------------------------------------------------------------------------


def test_e1_member_municipality_passes(rules: RuleSet) -> None:
    case = eligible_case(
        borrower_name="Vara kommun", borrower_kind="municipality", borrower_member=True
    )
    result = e1_borrower(case, rules)
    assert result.result == "pass"
    assert result.reason_en == "Vara kommun is a member municipality or region."


def test_e1_company_owned_by_a_member_passes(rules: RuleSet) -> None:
    assert e1_borrower(eligible_case(), rules).result == "pass"


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        (
            {"borrower_kind": "municipality", "borrower_member": False},
            "borrower_member",
            "is not a member",
        ),
        ({"owner_member": False}, "owner_member", "The owner of AB Botkyrkabyggen is not a member"),
        ({"owner_member": None}, "owner_member", "State whether the municipality or region"),
        ({"borrower_kind": "foundation"}, "borrower_kind", "'foundation' is unknown"),
        ({"borrower_kind": ""}, "borrower_kind", "State the kind of borrower"),
        ({"borrower_name": "  "}, "borrower_name", "Enter the borrower's name"),
    ],
)
def test_e1_fails_say_why(rules: RuleSet, changes: dict, field: str, says: str) -> None:
    result = e1_borrower(eligible_case(**changes), rules)
    assert result.result == "fail"
    assert result.fields == (field,)
    assert says in result.reason_en
    assert result.reason_sv and result.reason_sv != result.reason_en


# --- E2 -------------------------------------------------------------------------------------------


def test_e2_physical_and_linked_investments_pass(rules: RuleSet) -> None:
    assert e2_investment(eligible_case(), rules).result == "pass"
    physical = e2_investment(
        eligible_case(investment_type="physical", social_intervention=""), rules
    )
    assert physical.result == "pass"
    assert physical.reason_sv == "Lånet finansierar en fysisk investering."


def test_e2_running_costs_never_pass(rules: RuleSet) -> None:
    result = e2_investment(eligible_case(investment_type="running_costs"), rules)
    assert result.result == "fail"
    assert "Running costs cannot be financed" in result.reason_en
    assert "Driftkostnader kan inte finansieras" in result.reason_sv


def test_e2_linked_intervention_needs_both_texts(rules: RuleSet) -> None:
    result = e2_investment(eligible_case(social_intervention=""), rules)
    assert result.result == "fail"
    assert result.fields == ("social_intervention",)
    assert "Describe the social intervention" in result.reason_en
    both = e2_investment(eligible_case(social_intervention="", physical_investment="x"), rules)
    assert both.fields == ("physical_investment", "social_intervention")


def test_e2_missing_type_fails(rules: RuleSet) -> None:
    result = e2_investment(eligible_case(investment_type=""), rules)
    assert (result.result, result.fields) == ("fail", ("investment_type",))


# --- E3 -------------------------------------------------------------------------------------------


def test_e3_known_category_with_allowed_icma_passes(rules: RuleSet) -> None:
    result = e3_category(eligible_case(), rules)
    assert result.result == "pass"
    assert result.reason_sv == (
        "Kategori: Boende och boendemiljöer, rapporteras som ICMA-kategorin Prisvärda bostäder."
    )


def test_e3_icma_category_not_allowed_for_the_programme_category_lists_the_allowed(
    rules: RuleSet,
) -> None:
    result = e3_category(eligible_case(icma_category="employment_generation"), rules)
    assert result.result == "fail"
    assert result.fields == ("icma_category",)
    assert "Employment generation does not belong to the category Housing" in result.reason_en
    assert "Affordable housing" in result.reason_en


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"programme_category": ""}, "programme_category"),
        ({"programme_category": "sport"}, "programme_category"),
        ({"icma_category": ""}, "icma_category"),
        ({"icma_category": "green_buildings"}, "icma_category"),
    ],
)
def test_e3_missing_or_unknown_categories_fail(rules: RuleSet, changes: dict, field: str) -> None:
    result = e3_category(eligible_case(**changes), rules)
    assert (result.result, result.fields) == ("fail", (field,))


# --- E4 -------------------------------------------------------------------------------------------


def test_e4_substantive_social_need_passes(rules: RuleSet) -> None:
    assert e4_social_need(eligible_case(), rules).result == "pass"


def test_e4_missing_or_thin_social_need_fails_with_the_minimum(rules: RuleSet) -> None:
    missing = e4_social_need(eligible_case(social_need="   "), rules)
    assert missing.result == "fail"
    assert "Describe the social need" in missing.reason_en
    thin = e4_social_need(eligible_case(social_need="Otrygghet."), rules)
    assert thin.result == "fail"
    assert "(10 characters, at least 100)" in thin.reason_en
    assert "(10 tecken, minst 100)" in thin.reason_sv


# --- E5 -------------------------------------------------------------------------------------------


def test_e5_complete_target_group_passes(rules: RuleSet) -> None:
    assert e5_target_group(eligible_case(), rules).result == "pass"


def test_e5_names_exactly_what_is_missing(rules: RuleSet) -> None:
    result = e5_target_group(eligible_case(target_group_attributes=""), rules)
    assert result.result == "fail"
    assert result.fields == ("target_group_attributes",)
    assert result.reason_sv == "Ange målgruppens attribut (t.ex. ålder, inkomst)."
    assert result.reason_en == "State the target group's attributes (e.g. age, income)."


def test_e5_lists_every_missing_part(rules: RuleSet) -> None:
    result = e5_target_group(eligible_case(target_group_who="", target_group_where="-"), rules)
    assert result.fields == ("target_group_who", "target_group_where")
    assert "State who" in result.reason_en and "State where" in result.reason_en
    assert "attributes" not in result.reason_en


# --- E6 -------------------------------------------------------------------------------------------


def test_e6_goals_with_targets_from_goal_or_indicator_pass(rules: RuleSet) -> None:
    result = e6_goals(eligible_case(), rules)
    assert result.result == "pass"
    assert result.reason_en.startswith("2 goal(s)")


def test_e6_no_goals_fails(rules: RuleSet) -> None:
    result = e6_goals(eligible_case(goals=()), rules)
    assert (result.result, result.fields) == ("fail", ("goals",))


def test_e6_goal_without_target_year_is_named(rules: RuleSet) -> None:
    goals = (
        eligible_case().goals[1],
        GoalCase(text="Fewer evictions", indicator_codes=("EVICT",), target_value=Decimal(0)),
    )
    evictions = IndicatorUse(code="EVICT", kind="outcome")
    result = e6_goals(eligible_case(goals=goals, indicators=(SAFETY, RENOVATED, evictions)), rules)
    assert result.result == "fail"
    assert "Goal 2 has no target year" in result.reason_en
    assert "Mål 2 har inget målår" in result.reason_sv


def test_e6_target_year_after_maturity_is_named(rules: RuleSet) -> None:
    goal = GoalCase(
        text="Higher school results",
        indicator_codes=("SAFE_RES",),
        target_value=Decimal(80),
        target_year=2040,
    )
    result = e6_goals(eligible_case(goals=(goal,)), rules)
    assert result.result == "fail"
    assert "Goal 1's target year 2040 is after the loan matures in 2033" in result.reason_en
    assert "Mål 1:s målår 2040 ligger efter att lånet förfaller 2033" in result.reason_sv


def test_e6_indicator_target_year_outside_the_term_is_named(rules: RuleSet) -> None:
    late = replace(SAFETY, target_year=2035)
    result = e6_goals(eligible_case(indicators=(late, RENOVATED)), rules)
    assert "Goal 1's target year 2035 is after the loan matures in 2033" in result.reason_en
    early = replace(SAFETY, target_year=2020)
    result = e6_goals(eligible_case(indicators=(early, RENOVATED)), rules)
    assert "Goal 1's target year 2020 is before the application year 2023" in result.reason_en


def test_e6_goal_needs_an_indicator_on_the_loan_and_a_target_value(rules: RuleSet) -> None:
    goals = (
        GoalCase(text="Safer", indicator_codes=()),
        GoalCase(text="Jobs", indicator_codes=("JOBS",), target_year=2030),
    )
    result = e6_goals(eligible_case(goals=goals), rules)
    assert result.result == "fail"
    assert "Goal 1 is not measured by any indicator" in result.reason_en
    assert "Goal 2 refers to the indicator JOBS, which is not among" in result.reason_en
    assert "Goal 2 has no numeric target value" in result.reason_en
    assert result.fields == ("goals", "indicators")


def test_e6_missing_maturity_date_is_named_not_a_crash(rules: RuleSet) -> None:
    result = e6_goals(eligible_case(maturity_date=None), rules)
    assert result.result == "fail"
    assert "maturity_date" in result.fields


# --- E7 -------------------------------------------------------------------------------------------


def test_e7_output_and_outcome_with_baselines_pass(rules: RuleSet) -> None:
    result = e7_follow_up(eligible_case(), rules)
    assert result.result == "pass"
    assert "Output indicators: DWELL_RENOV; outcome indicators: SAFE_RES" in result.reason_en


def test_e7_needs_an_outcome_indicator(rules: RuleSet) -> None:
    result = e7_follow_up(eligible_case(indicators=(RENOVATED,)), rules)
    assert result.result == "fail"
    assert "Add at least one outcome indicator" in result.reason_en
    assert "output" not in result.reason_en


def test_e7_incomplete_indicator_is_named_with_what_it_lacks(rules: RuleSet) -> None:
    bare = IndicatorUse(code="SAFE_RES", kind="outcome", baseline_value=Decimal(61))
    result = e7_follow_up(eligible_case(indicators=(bare, RENOVATED)), rules)
    assert result.result == "fail"
    assert result.fields == ("indicators",)
    assert result.reason_en == "Indicator SAFE_RES is missing: unit, data source, baseline year."
    assert result.reason_sv == "Indikatorn SAFE_RES saknar: enhet, datakälla, år för utgångsvärdet."


def test_e7_baseline_after_the_application_year_is_named(rules: RuleSet) -> None:
    late = replace(SAFETY, baseline_year=2024)
    result = e7_follow_up(eligible_case(indicators=(late, RENOVATED)), rules)
    assert result.result == "fail"
    assert (
        "Indicator SAFE_RES has baseline year 2024, after the application year 2023"
        in result.reason_en
    )
    # The application year itself is allowed.
    same = replace(SAFETY, baseline_year=2023)
    assert e7_follow_up(eligible_case(indicators=(same, RENOVATED)), rules).result == "pass"


def test_e7_without_indicators_or_application_date_fails_naming_fields(rules: RuleSet) -> None:
    none = e7_follow_up(eligible_case(indicators=()), rules)
    assert (none.result, none.fields) == ("fail", ("indicators",))
    undated = e7_follow_up(eligible_case(application_date=None), rules)
    assert (undated.result, undated.fields) == ("fail", ("application_date",))


# --- E8 -------------------------------------------------------------------------------------------


def test_e8_follow_up_until_the_last_year_counts_inclusively(rules: RuleSet) -> None:
    result = e8_long_term(eligible_case(follow_up_until_year=2027), rules)
    assert result.result == "pass"
    assert "2023–2027, 5 years" in result.reason_en


def test_e8_uses_the_maturity_year_when_no_follow_up_year_is_given(rules: RuleSet) -> None:
    result = e8_long_term(eligible_case(follow_up_until_year=None), rules)
    assert result.result == "pass"
    assert "2023–2033, 11 years" in result.reason_en


def test_e8_too_short_says_until_when_to_follow_up(rules: RuleSet) -> None:
    result = e8_long_term(eligible_case(follow_up_until_year=2026), rules)
    assert result.result == "fail"
    assert "only 4 years; at least 5 are required" in result.reason_en
    assert "until at least 2027" in result.reason_en
    assert result.fields == ("follow_up_until_year",)


def test_e8_without_end_year_or_dates_fails(rules: RuleSet) -> None:
    no_end = e8_long_term(eligible_case(follow_up_until_year=None, maturity_date=None), rules)
    assert (no_end.result, no_end.fields) == ("fail", ("follow_up_until_year",))
    no_start = e8_long_term(eligible_case(application_date=None), rules)
    assert (no_start.result, no_start.fields) == ("fail", ("application_date",))
    backwards = e8_long_term(eligible_case(follow_up_until_year=2020), rules)
    assert backwards.result == "fail"


# --- E9–E11 ---------------------------------------------------------------------------------------

JUDGED = [
    ("E9", e9_intervention_logic, "intervention_logic"),
    ("E10", e10_systematic_work, "systematic_work_ref"),
    ("E11", e11_developed_practice, "developed_practice"),
]


@pytest.mark.parametrize(("cid", "check", "field"), JUDGED)
def test_judged_criteria_wait_for_a_person(rules: RuleSet, cid: str, check, field: str) -> None:
    result = check(eligible_case(), rules)
    assert result.result == "needs_judgement"
    assert "judge" in result.reason_en
    assert result.judged_by is None


@pytest.mark.parametrize(("cid", "check", "field"), JUDGED)
def test_judged_criteria_fail_without_text_even_if_judged(
    rules: RuleSet, cid: str, check, field: str
) -> None:
    case = eligible_case(**{field: ""})
    result = check(case, rules, ALL_JUDGED[cid])
    assert (result.result, result.fields) == ("fail", (field,))
    thin = check(eligible_case(**{field: "Ja."}), rules)
    assert thin.result == "fail"
    assert "(3 characters, at least" in thin.reason_en


@pytest.mark.parametrize(("cid", "check", "field"), JUDGED)
def test_judgement_decides_and_its_rationale_is_shown(
    rules: RuleSet, cid: str, check, field: str
) -> None:
    yes = check(eligible_case(), rules, ALL_JUDGED[cid])
    assert yes.result == "pass"
    assert yes.judged_by == "Committee 2023-05-10"
    assert f"The committee found {cid} convincing." in yes.reason_en
    assert f"The committee found {cid} convincing." in yes.reason_sv
    no = check(
        eligible_case(),
        rules,
        Judgement(cid, "fail", "Rests on no evidence.", "A. Analyst"),
    )
    assert no.result == "fail"
    assert no.reason_en.endswith("by A. Analyst: Rests on no evidence.")
    assert no.rationale == "Rests on no evidence."


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("E1", "pass", "Looks fine", "A"), "E1 is not decided by judgement"),
        (("E9", "maybe", "Unsure", "A"), "'pass' or 'fail'"),
        (("E9", "pass", "  ", "A"), "rationale"),
        (("E9", "pass", "Fine", ""), "who made"),
    ],
)
def test_invalid_judgements_are_refused(args: tuple, says: str) -> None:
    with pytest.raises(JudgementError) as caught:
        Judgement(*args)
    assert says in caught.value.message_en
    assert caught.value.message_sv


def test_judgement_filed_under_another_criterion_is_refused(rules: RuleSet) -> None:
    with pytest.raises(JudgementError):
        assess(eligible_case(), rules, {"E10": ALL_JUDGED["E9"]})


# --- E12 ------------------------------------------------------------------------------------------


def test_e12_power_note_states_sample_base_rate_and_effect(rules: RuleSet) -> None:
    result = e12_evaluation_plan(
        eligible_case(planned_sample_per_arm=40, outcome_base_rate=0.05), rules
    )
    assert result.advisory
    mde = mde_proportions(base_rate=0.05, n_per_arm=40)
    assert (
        f"With 40 per arm and a 5 % base rate the smallest effect you can detect is "
        f"{mde * 100:.1f} percentage points" in result.reason_en
    )
    assert re.search(
        r"Med 40 per grupp och en basnivå på 5 % .* \d+,\d procentenheter", result.reason_sv
    )
    # A change larger than the whole base rate: the sample is too small to show anything.
    assert result.result == "needs_judgement"
    assert "more than the whole base rate" in result.reason_en
    assert "planned_sample_per_arm" in result.fields


def test_e12_passes_with_plan_comparison_group_and_enough_power(rules: RuleSet) -> None:
    result = e12_evaluation_plan(
        eligible_case(planned_sample_per_arm=2000, outcome_base_rate=0.3), rules
    )
    assert result.result == "pass"
    assert result.advisory
    assert "Similar housing areas in Huddinge" in result.reason_en
    assert "With 2000 per arm and a 30 % base rate" in result.reason_en


def test_e12_without_comparison_group_advises_one(rules: RuleSet) -> None:
    result = e12_evaluation_plan(eligible_case(comparison_group=""), rules)
    assert result.result == "needs_judgement"
    assert result.advisory
    assert "Choose a comparison group now" in result.reason_en
    assert "comparison_group" in result.fields
    assert "Enter the planned number of participants" in result.reason_en


def test_e12_impossible_sample_is_advice_not_a_crash(rules: RuleSet) -> None:
    result = e12_evaluation_plan(
        eligible_case(planned_sample_per_arm=1, outcome_base_rate=1.5), rules
    )
    assert result.result == "needs_judgement"
    assert "must be at least 2" in result.reason_en


# --- overall --------------------------------------------------------------------------------------


def test_overall_eligible_when_all_pass_and_judged(rules: RuleSet) -> None:
    assessment = assess(eligible_case(), rules, ALL_JUDGED)
    assert assessment.overall == "eligible"
    assert assessment.rule_set == "2021.1"
    assert [c.id for c in assessment.criteria] == list(CRITERIA)
    assert assessment.open_judgements == ()


def test_overall_needs_judgement_while_any_judgement_is_open(rules: RuleSet) -> None:
    assert assess(eligible_case(), rules).overall == "needs_judgement"
    partly = {k: v for k, v in ALL_JUDGED.items() if k != "E10"}
    assessment = assess(eligible_case(), rules, partly)
    assert assessment.overall == "needs_judgement"
    assert assessment.open_judgements == ("E10",)


def test_overall_not_eligible_when_any_criterion_fails(rules: RuleSet) -> None:
    failing = assess(eligible_case(investment_type="running_costs"), rules, ALL_JUDGED)
    assert failing.overall == "not_eligible"
    # A failure outranks open judgements.
    assert assess(eligible_case(owner_member=False), rules).overall == "not_eligible"
    rejected = dict(ALL_JUDGED, E11=Judgement("E11", "fail", "Nothing new.", "Committee"))
    assert assess(eligible_case(), rules, rejected).overall == "not_eligible"


def test_advisory_e12_never_blocks(rules: RuleSet) -> None:
    case = eligible_case(comparison_group="", evaluation_plan="")
    assessment = assess(case, rules, ALL_JUDGED)
    assert assessment.criterion("E12").result == "needs_judgement"
    assert assessment.overall == "eligible"


def test_to_dict_speaks_the_requested_language(rules: RuleSet) -> None:
    assessment = assess(eligible_case(target_group_attributes=""), rules)
    data = assessment.to_dict("sv")
    assert data["overall"] == "not_eligible"
    assert data["rule_set"] == "2021.1"
    e5 = next(c for c in data["criteria"] if c["id"] == "E5")
    assert e5 == {
        "id": "E5",
        "title": "Definierad målgrupp",
        "result": "fail",
        "reason": "Ange målgruppens attribut (t.ex. ålder, inkomst).",
        "fields": ["target_group_attributes"],
        "advisory": False,
        "judged_by": None,
        "rationale": None,
    }
    assert assessment.to_dict()["criteria"][4]["title"] == "Defined target group"


def test_empty_case_fails_every_blocking_criterion_without_crashing(rules: RuleSet) -> None:
    assessment = assess(Case(reference="SH-2024-009"), rules)
    assert assessment.overall == "not_eligible"
    for result in assessment.criteria[:11]:
        assert result.result == "fail", result.id
        assert result.fields, result.id
        assert result.reason_sv and result.reason_en


_texts = st.one_of(st.none(), st.text(max_size=120))
_years = st.one_of(st.none(), st.integers(1990, 2060))
_dates = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2060, 12, 31)))
_values = st.one_of(st.none(), st.decimals(allow_nan=False, allow_infinity=False, places=2))
_indicators = st.builds(
    IndicatorUse,
    code=st.text(max_size=8),
    kind=st.sampled_from(["output", "outcome", "", "impact"]),
    unit=st.text(max_size=5),
    data_source=st.text(max_size=5),
    baseline_value=_values,
    baseline_year=_years,
    target_value=_values,
    target_year=_years,
)
_goals = st.builds(
    GoalCase,
    text=st.text(max_size=20),
    indicator_codes=st.lists(st.sampled_from(["A", "B", "", "SAFE_RES"]), max_size=3).map(tuple),
    target_value=_values,
    target_year=_years,
)


@settings(max_examples=150, deadline=None)
@given(
    case=st.builds(
        Case,
        reference=st.just("SH-X"),
        borrower_name=_texts,
        borrower_kind=st.sampled_from(["municipality", "region", "municipal_company", "", "x"]),
        borrower_member=st.booleans(),
        owner_member=st.one_of(st.none(), st.booleans()),
        investment_type=st.sampled_from(["physical", "social_linked_to_physical", "", "other"]),
        programme_category=st.sampled_from(["housing", "safety", "", "x"]),
        icma_category=st.sampled_from(["affordable_housing", "", "x"]),
        social_need=_texts,
        intervention_logic=_texts,
        comparison_group=_texts,
        planned_sample_per_arm=st.one_of(st.none(), st.integers(-5, 5000)),
        outcome_base_rate=st.one_of(st.none(), st.floats(-1, 2, allow_nan=False)),
        application_date=_dates,
        maturity_date=_dates,
        follow_up_until_year=_years,
        goals=st.lists(_goals, max_size=3).map(tuple),
        indicators=st.lists(_indicators, max_size=3).map(tuple),
    )
)
def test_any_case_gets_a_complete_bilingual_assessment(rules: RuleSet, case: Case) -> None:
    assessment = assess(case, rules)
    assert isinstance(assessment, Assessment)
    assert assessment.overall in ("eligible", "not_eligible", "needs_judgement")
    for result in assessment.criteria:
        assert result.result in ("pass", "fail", "needs_judgement")
        assert result.reason_sv.strip() and result.reason_en.strip()
        if result.result == "fail":
            assert result.fields, result.id
