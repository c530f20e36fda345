"""The power note as an applicant reads it: one-sided tests, a design effect and a standard deviation
other than 1, with the whole sentence in Swedish (decimal comma) and English, and the refusals."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from lanportfolj.domain.power import achieved_power, n_for_proportions, power_summary

pytestmark = pytest.mark.unit

METHOD = (
    "Two-sample z-test, equal arms (normal approximation, as statsmodels NormalIndPower); "
    "proportions on Cohen's h (arcsine), means on Cohen's d; effective n = n / design effect."
)
COMMON = {"alpha": 0.05, "power": 0.8, "method": METHOD, "detectable": True}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            {"base_rate": 0.2, "n_per_arm": 200, "two_sided": False, "design_effect": 1.5},
            {
                "outcome": "proportion", "solved_for": "mde", "n_per_arm": 200,
                "effective_n_per_arm": 133.33333333333334, "effect": 0.10613425132406375,
                "effect_size": 0.3045297333271358, "base_rate": 0.2, "sd": None,
                "two_sided": False, "design_effect": 1.5,
                "message_sv": "Med 200 per grupp och basnivån 20,0 % är den minsta effekt som kan "
                "upptäckas 10,6 procentenheter (ensidigt test, α = 0,05; 80 % styrka, designeffekt "
                "1,50).",
                "message_en": "With 200 per group and a base rate of 20.0 %, the smallest detectable "
                "effect is 10.6 percentage points (one-sided test, α = 0.05; 80 % power, design "
                "effect 1.50).",
            },
        ),
        (
            {"base_rate": 0.2, "effect": 0.05, "two_sided": False, "design_effect": 1.5},
            {
                "outcome": "proportion", "solved_for": "n", "n_per_arm": 1291,
                "effective_n_per_arm": 860.6666666666666, "effect": 0.05,
                "effect_size": 0.11990233319498567, "base_rate": 0.2, "sd": None,
                "two_sided": False, "design_effect": 1.5,
                "message_sv": "För att upptäcka en förändring från 20,0 % till 25,0 % behövs 1291 "
                "deltagare per grupp (ensidigt test, α = 0,05; 80 % styrka, designeffekt 1,50).",
                "message_en": "To detect a change from 20.0 % to 25.0 %, 1291 participants per "
                "group are needed (one-sided test, α = 0.05; 80 % power, design effect 1.50).",
            },
        ),
        (
            {"sd": 2.5, "effect": -0.75, "design_effect": 1.25},
            {
                "outcome": "mean", "solved_for": "n", "n_per_arm": 219,
                "effective_n_per_arm": 175.2, "effect": 0.75, "effect_size": -0.3,
                "base_rate": None, "sd": 2.5, "two_sided": True, "design_effect": 1.25,
                "message_sv": "För att upptäcka en skillnad i medelvärde på 0,75 behövs 219 "
                "deltagare per grupp (tvåsidigt test, α = 0,05; 80 % styrka, designeffekt 1,25).",
                "message_en": "To detect a difference in means of 0.75, 219 participants per group "
                "are needed (two-sided test, α = 0.05; 80 % power, design effect 1.25).",
            },
        ),
        (
            {"sd": 2.5, "effect": 0.75, "two_sided": False},
            {
                "outcome": "mean", "solved_for": "n", "n_per_arm": 138,
                "effective_n_per_arm": 138.0, "effect": 0.75, "effect_size": 0.3,
                "base_rate": None, "sd": 2.5, "two_sided": False, "design_effect": 1.0,
                "message_sv": "För att upptäcka en skillnad i medelvärde på 0,75 behövs 138 "
                "deltagare per grupp (ensidigt test, α = 0,05; 80 % styrka).",
                "message_en": "To detect a difference in means of 0.75, 138 participants per group "
                "are needed (one-sided test, α = 0.05; 80 % power).",
            },
        ),
        (
            {"sd": 2.5, "n_per_arm": 150, "two_sided": False},
            {
                "outcome": "mean", "solved_for": "mde", "n_per_arm": 150,
                "effective_n_per_arm": 150.0, "effect": 0.7177834650284955,
                "effect_size": 0.28711338601139824, "base_rate": None, "sd": 2.5,
                "two_sided": False, "design_effect": 1.0,
                "message_sv": "Med 150 per grupp är den minsta skillnad i medelvärde som kan "
                "upptäckas 0,72 (0,29 standardavvikelser; ensidigt test, α = 0,05; 80 % styrka).",
                "message_en": "With 150 per group, the smallest detectable difference in means is "
                "0.72 (0.29 standard deviations; one-sided test, α = 0.05; 80 % power).",
            },
        ),
    ],
)  # fmt: skip
def test_the_power_note_is_the_whole_result_in_both_languages(
    given: dict[str, object], expected: dict[str, object]
) -> None:
    assert asdict(power_summary(**given)) == pytest.approx({**COMMON, **expected})


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: n_for_proportions(base_rate=1.2, effect=0.1),
            "Basnivån måste ligga mellan 0 och 1 (fick 1.2) / "
            "base_rate must lie strictly between 0 and 1 (got 1.2)",
        ),
        (
            lambda: achieved_power(effect_size=0.3, n_per_arm=50, alpha=1.5),
            "Signifikansnivån (alfa) måste ligga mellan 0 och 1 (fick 1.5) / "
            "alpha must lie strictly between 0 and 1 (got 1.5)",
        ),
    ],
)
def test_an_impossible_probability_is_refused_naming_it_in_both_languages(
    call: object, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        call()  # type: ignore[operator]
    assert str(caught.value) == message
