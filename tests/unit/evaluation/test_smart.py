"""SMART hints: each hint a borrower would see for a goal that falls short, and none for a good one."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from lanportfolj.domain.case import Case, GoalCase, IndicatorUse
from lanportfolj.domain.smart import smart_hints

pytestmark = pytest.mark.unit

DIRECTIONS = {"placements": "decrease", "home_visits": "increase"}


def _indicator(**overrides) -> IndicatorUse:
    values = dict(
        code="home_visits",
        kind="output",
        unit="share",
        data_source="Familjecentralens journal",
        baseline_value=D("40"),
        baseline_year=2022,
        target_value=D("90"),
        target_year=2027,
    )
    values.update(overrides)
    return IndicatorUse(**values)


GOOD_GOAL = GoalCase(
    text="Hembesök till 90 % av nyblivna föräldrar med barn 0–6 månader i Vara kommun",
    indicator_codes=("home_visits",),
)


def _case(*goals: GoalCase, indicators=None) -> Case:
    return Case(
        reference="SH-2023-002",
        application_date=date(2023, 3, 1),
        maturity_date=date(2030, 12, 31),
        goals=goals,
        indicators=tuple(indicators) if indicators is not None else (_indicator(),),
    )


def _codes(hints, goal_index=None) -> list[str]:
    return [h.code for h in hints if goal_index is None or h.goal_index == goal_index]


def test_a_smart_goal_gets_no_hints():
    assert smart_hints(_case(GOOD_GOAL), DIRECTIONS) == []


def test_no_goals_is_one_application_level_hint():
    hints = smart_hints(_case())
    assert [(h.goal_index, h.code) for h in hints] == [(None, "no_goals")]


def test_missing_target_year_names_the_goal_from_one():
    second = replace(GOOD_GOAL, indicator_codes=("placements",))
    indicators = [_indicator(), _indicator(code="placements", target_year=None)]
    hints = smart_hints(_case(GOOD_GOAL, second, indicators=indicators))
    hint = next(h for h in hints if h.code == "goal_no_target_year")
    assert hint.goal_index == 1
    assert hint.message_sv == "Mål 2 saknar målår."
    assert hint.message_en == "Goal 2 has no target year."
    assert hint.criterion == "T"


def test_goal_without_indicator_or_target_value():
    goal = GoalCase(text="Fler barn i Alby ska känna sig trygga i skolan")
    hints = smart_hints(_case(goal))
    assert _codes(hints) == ["goal_no_indicator", "goal_no_target_value", "goal_no_target_year"]
    assert {h.criterion for h in hints} == {"M", "T"}


def test_goal_referring_to_an_indicator_not_on_the_loan():
    goal = replace(GOOD_GOAL, indicator_codes=("home_visits", "school_results"))
    hints = smart_hints(_case(goal))
    hint = next(h for h in hints if h.code == "goal_unknown_indicator")
    assert "school_results" in hint.message_sv and "school_results" in hint.message_en


def test_goal_level_target_counts_as_a_numeric_target():
    goal = replace(GOOD_GOAL, target_value=D("90"), target_year=2027)
    indicator = _indicator(target_value=None, target_year=None)
    assert smart_hints(_case(goal, indicators=[indicator]), DIRECTIONS) == []


@pytest.mark.parametrize(
    ("target_year", "code", "fragment_en"),
    [
        (2032, "target_after_maturity", "after the loan matures in 2030"),
        (2021, "target_before_application", "before the application year 2023"),
    ],
)
def test_target_year_outside_the_loan_term(target_year, code, fragment_en):
    hints = smart_hints(_case(GOOD_GOAL, indicators=[_indicator(target_year=target_year)]))
    hint = next(h for h in hints if h.code == code)
    assert fragment_en in hint.message_en
    assert str(target_year) in hint.message_sv


def test_target_year_before_the_baseline_year():
    indicator = _indicator(baseline_year=2024, target_year=2023)
    hints = smart_hints(_case(GOOD_GOAL, indicators=[indicator]))
    assert "target_before_baseline" in _codes(hints)


def test_target_against_the_indicators_better_direction():
    # Out-of-home placements should fall; a target above the baseline is not an improvement.
    goal = GoalCase(
        text="Färre placeringar utanför hemmet för barn i stadsdelen",
        indicator_codes=("placements",),
    )
    indicator = _indicator(code="placements", baseline_value=D("12"), target_value=D("15"))
    hints = smart_hints(_case(goal, indicators=[indicator]), DIRECTIONS)
    hint = next(h for h in hints if h.code == "target_against_direction")
    assert hint.criterion == "R"
    assert "ett lägre värde bättre" in hint.message_sv
    assert "a lower value is better" in hint.message_en
    assert "15" in hint.message_en and "12" in hint.message_en
    # Without directions the check cannot be made, and no hint is invented.
    assert "target_against_direction" not in _codes(
        smart_hints(_case(goal, indicators=[indicator]))
    )


def test_target_equal_to_baseline():
    indicator = _indicator(target_value=D("40.0"))
    hints = smart_hints(_case(GOOD_GOAL, indicators=[indicator]), DIRECTIONS)
    hint = next(h for h in hints if h.code == "target_equals_baseline")
    assert "(40)" in hint.message_en


def test_indicator_without_baseline():
    indicator = _indicator(baseline_value=None)
    hints = smart_hints(_case(GOOD_GOAL, indicators=[indicator]), DIRECTIONS)
    hint = next(h for h in hints if h.code == "indicator_no_baseline")
    assert "home_visits" in hint.message_sv
    assert hint.criterion == "M"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "goal_no_text"),
        ("Ökad trygghet", "goal_text_short"),
        ("Vi vill att det ska bli bättre och mer hållbart på sikt", "goal_text_vague"),
        ("We want things to get better and more sustainable over time", "goal_text_vague"),
    ],
)
def test_vague_goal_texts(text, code):
    hints = smart_hints(_case(replace(GOOD_GOAL, text=text)), DIRECTIONS)
    assert _codes(hints) == [code]
    assert hints[0].criterion == "S"
    assert hints[0].message_sv.startswith("Mål 1")
    assert hints[0].message_en.startswith("Goal 1")


@pytest.mark.parametrize(
    "text",
    [
        "Fler elever i Fittja ska nå behörighet till gymnasiet",
        "Higher well-being among tenants in the renovated estates",
        "Andelen med godkända betyg ska öka med 10 procentenheter",
    ],
)
def test_goal_texts_naming_a_group_place_or_number_are_specific_enough(text):
    hints = smart_hints(_case(replace(GOOD_GOAL, text=text)), DIRECTIONS)
    assert hints == []


def test_hint_dict():
    hint = smart_hints(_case())[0]
    assert hint.to_dict() == {
        "goal_index": None,
        "code": "no_goals",
        "message_sv": hint.message_sv,
        "message_en": hint.message_en,
        "criterion": "S",
    }
