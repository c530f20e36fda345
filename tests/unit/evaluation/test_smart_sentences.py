"""SMART hints whole, as the borrower reads them: the goal they belong to, the letter of SMART they
concern, and the sentence in Swedish and English — including a target in the maturity year itself,
which is reachable and gets no hint."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from lanportfolj.domain.case import GoalCase
from lanportfolj.domain.smart import Hint, smart_hints

from .test_smart import DIRECTIONS, GOOD_GOAL, _case, _indicator

pytestmark = pytest.mark.unit


def test_no_goals_asks_for_one_with_indicator_target_value_and_year() -> None:
    assert smart_hints(_case()) == [
        Hint(
            None,
            "no_goals",
            "Ansökan har inga mål: formulera minst ett mål med indikator, målvärde och målår.",
            "The application has no goals: state at least one goal with an indicator, a target "
            "value and a target year.",
            "S",
        )
    ]


def test_a_goal_without_text_is_named_by_its_number() -> None:
    goal = GoalCase(text="", indicator_codes=("home_visits",))
    assert smart_hints(_case(goal), DIRECTIONS) == [
        Hint(0, "goal_no_text", "Mål 1 saknar text.", "Goal 1 has no text.", "S")
    ]


def test_a_target_in_the_maturity_year_is_reachable_and_one_a_year_later_is_not() -> None:
    # the loan matures 2030-12-31
    assert (
        smart_hints(
            _case(replace(GOOD_GOAL), indicators=[_indicator(target_year=2030)]), DIRECTIONS
        )
        == []
    )
    assert smart_hints(
        _case(replace(GOOD_GOAL), indicators=[_indicator(target_year=2031)]), DIRECTIONS
    ) == [
        Hint(
            0,
            "target_after_maturity",
            "Mål 1: målåret 2031 ligger efter lånets förfall 2030; välj ett mål som kan nås under "
            "lånetiden.",
            "Goal 1: the target year 2031 is after the loan matures in 2030; choose a target "
            "reachable within the loan term.",
            "T",
        )
    ]


@pytest.mark.parametrize(
    ("indicator", "hint"),
    [
        (
            {"target_year": None},
            Hint(
                0, "goal_no_target_year", "Mål 1 saknar målår.", "Goal 1 has no target year.", "T"
            ),
        ),
        (
            {"baseline_year": 2026, "target_year": 2025},
            Hint(
                0,
                "target_before_baseline",
                "Mål 1: målåret 2025 ligger före utgångsvärdets år 2026 för home_visits.",
                "Goal 1: the target year 2025 is before the baseline year 2026 of home_visits.",
                "T",
            ),
        ),
        (
            {"target_value": D("40")},
            Hint(
                0,
                "target_equals_baseline",
                "Mål 1: målvärdet för home_visits är detsamma som utgångsvärdet (40); vilken "
                "förändring eftersträvas?",
                "Goal 1: the target for home_visits equals its baseline (40); what change is "
                "sought?",
                "R",
            ),
        ),
    ],
)
def test_each_hint_names_its_smart_letter_and_says_what_to_change(
    indicator: dict[str, object], hint: Hint
) -> None:
    assert smart_hints(
        _case(replace(GOOD_GOAL), indicators=[_indicator(**indicator)]), DIRECTIONS
    ) == [hint]
