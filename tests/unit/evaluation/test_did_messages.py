"""What the difference-in-differences note tells an analyst, whole, in Swedish and English: the warnings
on shaky data and the refusal of impossible requests."""

from __future__ import annotations

import pytest

from lanportfolj.domain.did import DidWarning, Series, did_2x2, did_multi

pytestmark = pytest.mark.unit

NO_CI = DidWarning(
    "no_confidence_interval",
    "Standardfel eller antal saknas för något år, så osäkerheten kan inte anges.",
    "Standard errors or counts are missing for some year, so the uncertainty cannot be stated.",
)


def test_two_schools_with_one_year_before_and_a_year_only_one_reported() -> None:
    treated = Series(unit="Skola A", values={2019: 40.0, 2020: 37.0, 2022: 30.0})
    comparison = Series(unit="Skola B", values={2019: 42.0, 2022: 38.0})
    result = did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022)
    assert result.warnings == (
        DidWarning(
            "unmatched_years",
            "Enheterna har inte rapporterat samma år (Skola B saknar 2020); bara gemensamma år "
            "används. Har jämförelseenheten bytts eller ändrats?",
            "The units do not report the same years (Skola B lacks 2020); only common years are "
            "used. Has the comparison unit changed?",
        ),
        DidWarning(
            "single_pre_period",
            "Bara ett år före insatsen: det går inte att pröva om enheterna utvecklades parallellt "
            "innan (antagandet om parallella trender).",
            "Only one year before the intervention: whether the units moved in parallel beforehand "
            "(the parallel-trends assumption) cannot be checked.",
        ),
        NO_CI,
    )


def test_diverging_trends_before_the_intervention_are_spelled_out() -> None:
    treated = Series(unit="A", values={2017: 50.0, 2018: 55.0, 2019: 60.0, 2020: 62.0})
    comparison = Series(unit="B", values={2017: 60.0, 2018: 60.0, 2019: 60.0, 2020: 60.0})
    result = did_multi(treated=treated, comparison=comparison, start_year=2020)
    assert result.warnings == (
        DidWarning(
            "diverging_pre_trends",
            "Trenderna före insatsen skiljer sig: A +5,00 per år, B +0,00 per år (gräns 5% av "
            "nivån 57,50 per år). Skattningen kan spegla olika trender snarare än insatsen.",
            "The trends before the intervention differ: A +5.00 a year, B +0.00 a year (limit 5% "
            "of the level 57.50 a year). The estimate may reflect different trends rather than the "
            "intervention.",
        ),
        NO_CI,
    )


def test_no_common_year_before_the_start_gives_no_estimate_and_says_why() -> None:
    treated = Series(unit="A", values={2019: 1.0, 2022: 2.0})
    comparison = Series(unit="B", values={2018: 1.0, 2022: 2.0})
    result = did_multi(treated=treated, comparison=comparison, start_year=2020)
    assert result.estimate is None
    assert result.warnings == (
        DidWarning(
            "unmatched_years",
            "Enheterna har inte rapporterat samma år (B saknar 2019; A saknar 2018); bara "
            "gemensamma år används. Har jämförelseenheten bytts eller ändrats?",
            "The units do not report the same years (B lacks 2019; A lacks 2018); only common "
            "years are used. Has the comparison unit changed?",
        ),
        DidWarning(
            "gap_in_series",
            "A har ett uppehåll i serien (2020, 2021 saknas).",
            "A has a gap in its series (2020, 2021 missing).",
        ),
        DidWarning(
            "gap_in_series",
            "B har ett uppehåll i serien (2019, 2020, 2021 saknas).",
            "B has a gap in its series (2019, 2020, 2021 missing).",
        ),
        DidWarning(
            "no_pre_period",
            "Inga gemensamma värden före 2020: det finns inget utgångsläge att jämföra med.",
            "No common values before 2020: there is no starting point to compare with.",
        ),
    )


def test_an_after_year_before_the_before_year_is_refused_in_both_languages() -> None:
    series = Series(unit="A", values={2019: 1.0, 2022: 2.0})
    with pytest.raises(ValueError) as caught:
        did_2x2(treated=series, comparison=series, pre_year=2022, post_year=2019)
    assert str(caught.value) == (
        "Året efter (2019) måste komma efter året före (2022) / "
        "post_year (2019) must come after pre_year (2022)"
    )


def test_shares_of_exactly_0_and_100_per_cent_have_a_standard_error() -> None:
    # a school where every pupil (or none) passed: the binomial variance is 0 for that year, not an error
    treated = Series(unit="A", values={2019: 100.0, 2022: 30.0}, n={2019: 10, 2022: 10}, scale=100)
    comparison = Series(unit="B", values={2019: 0.0, 2022: 38.0}, n={2019: 10, 2022: 10}, scale=100)
    result = did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022)
    # √(1e4 × (0.3 × 0.7 + 0.38 × 0.62) / 10) = 21.1092…
    assert result.se == pytest.approx(21.109239683134017)
    assert NO_CI not in result.warnings
