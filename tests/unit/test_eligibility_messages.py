"""What an analyst and a borrower are told when a judgement, a rule set or a follow-up period is wrong:
the whole message, in Swedish and in English."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_eligibility import eligible_case

from lanportfolj.domain.eligibility import (
    CriterionResult,
    Judgement,
    JudgementError,
    RuleSet,
    RuleSetError,
    available_rule_sets,
    e8_long_term,
    load_rule_set,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rule_set()


@pytest.mark.parametrize(
    ("args", "sv", "en"),
    [
        (
            ("E1", "pass", "Convincing", "analyst@lender.se"),
            "E1 avgörs inte genom bedömning; bara E9, E10, E11 gör det.",
            "E1 is not decided by judgement; only E9, E10, E11 are.",
        ),
        (
            ("E9", "maybe", "Convincing", "analyst@lender.se"),
            "En bedömning är 'pass' eller 'fail', inte 'maybe'.",
            "A judgement is 'pass' or 'fail', not 'maybe'.",
        ),
        (
            ("E9", "pass", "  ", "analyst@lender.se"),
            "Motivera bedömningen; den visas för låntagaren.",
            "Give the judgement's rationale; the borrower sees it.",
        ),
        (
            ("E9", "pass", "Convincing", " "),
            "Ange vem som gjorde bedömningen.",
            "State who made the judgement.",
        ),
    ],
)
def test_an_invalid_judgement_is_explained_in_both_languages(
    args: tuple[str, str, str, str], sv: str, en: str
) -> None:
    with pytest.raises(JudgementError) as caught:
        Judgement(*args)
    assert (caught.value.message_sv, caught.value.message_en) == (sv, en)


def test_a_rule_set_without_a_threshold_names_it_in_both_languages(tmp_path: Path) -> None:
    shipped = available_rule_sets()["2021.1"]
    text = shipped.read_text(encoding="utf-8")
    assert "min_long_term_years = 5\n" in text
    target = tmp_path / shipped.name
    target.write_text(text.replace("min_long_term_years = 5\n", "", 1), encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(target)
    assert (caught.value.message_sv, caught.value.message_en) == (
        f"Regeluppsättningen {target} saknar gränsvärdena: min_long_term_years.",
        f"The rule set {target} lacks the thresholds: min_long_term_years.",
    )


def test_a_follow_up_ending_before_the_application_says_from_when_to_follow_up(
    rules: RuleSet,
) -> None:
    assert e8_long_term(eligible_case(follow_up_until_year=2020), rules) == CriterionResult(
        id="E8",
        result="fail",
        reason_sv=(
            "Uppföljningen slutar 2020, före ansökningsåret 2023; ange ett slutår från 2027."
        ),
        reason_en=(
            "The follow-up ends in 2020, before the application year 2023; state a final year "
            "from 2027."
        ),
        fields=("follow_up_until_year",),
        title_sv="Långsiktighet",
        title_en="Long-term",
    )


def test_a_rule_set_with_several_text_problems_lists_every_one_in_both_languages(
    tmp_path: Path,
) -> None:
    shipped = available_rule_sets()["2021.1"]
    lines = shipped.read_text(encoding="utf-8").split("\n")
    who = next(line for line in lines if line.startswith("who_missing = "))
    attributes = next(line for line in lines if line.startswith("attributes_missing = "))
    kept = [line for line in lines if line != who]
    kept[kept.index(attributes)] = attributes.split(", en = ")[0] + " }"
    target = tmp_path / shipped.name
    target.write_text("\n".join(kept), encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(target)
    assert (caught.value.message_sv, caught.value.message_en) == (
        f"Regeluppsättningen {target} kan inte användas: E5.who_missing saknas; "
        "E5.attributes_missing saknar text på en",
        f"The rule set {target} cannot be used: E5.who_missing is missing; "
        "E5.attributes_missing has no en text",
    )


def test_a_rule_set_without_its_terms_table_is_refused_naming_each_missing_term(
    tmp_path: Path,
) -> None:
    shipped = available_rule_sets()["2021.1"]
    text = shipped.read_text(encoding="utf-8")
    without_terms = text[: text.index("[terms]")] + text[text.index("[common.reasons]") :]
    target = tmp_path / shipped.name
    target.write_text(without_terms, encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(target)
    assert caught.value.message_en == (
        f"The rule set {target} cannot be used: terms.unit is missing; terms.data_source is "
        "missing; terms.baseline_value is missing; terms.baseline_year is missing"
    )
    assert caught.value.message_sv == (
        f"Regeluppsättningen {target} kan inte användas: terms.unit saknas; terms.data_source "
        "saknas; terms.baseline_value saknas; terms.baseline_year saknas"
    )
