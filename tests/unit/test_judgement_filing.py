"""A judgement filed under another criterion is refused with the whole message in both languages
(mutation testing, issue 20: the English text could be dropped unnoticed)."""

from __future__ import annotations

import pytest
from test_eligibility import eligible_case

from lanportfolj.domain.eligibility import (
    Judgement,
    JudgementError,
    RuleSet,
    assess,
    e10_systematic_work,
    load_rule_set,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rule_set()


def _e9() -> Judgement:
    return Judgement("E9", "pass", "The committee found E9 convincing.", "Committee 2023-05-10")


def test_a_judgement_filed_under_another_criterion_names_both(rules: RuleSet) -> None:
    with pytest.raises(JudgementError) as caught:
        assess(eligible_case(), rules, {"E10": _e9()})
    assert (caught.value.message_sv, caught.value.message_en, str(caught.value)) == (
        "Bedömningen under E10 gäller E9.",
        "The judgement filed under E10 is for E9.",
        "The judgement filed under E10 is for E9.",
    )


def test_a_criterion_given_another_criterions_judgement_refuses_it(rules: RuleSet) -> None:
    with pytest.raises(JudgementError) as caught:
        e10_systematic_work(eligible_case(), rules, _e9())
    assert (caught.value.message_sv, caught.value.message_en, str(caught.value)) == (
        "Bedömningen gäller E9, inte E10.",
        "The judgement is for E9, not E10.",
        "The judgement is for E9, not E10.",
    )
