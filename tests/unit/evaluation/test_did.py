"""Difference-in-differences on yearly series, with answers worked out by hand."""

from __future__ import annotations

import json
import math

import pytest

from lanportfolj.domain.did import Series, did_2x2, did_multi

pytestmark = pytest.mark.unit

Z95 = 1.959963984540054


def _codes(result) -> set[str]:
    return {w.code for w in result.warnings}


def test_two_by_two_from_the_hand_worked_example():
    # Treated school 40 → 30, comparison school 42 → 38: (30 − 40) − (38 − 42) = −10 − (−4) = −6.
    treated = Series(unit="Skola A", values={2019: 40.0, 2022: 30.0})
    comparison = Series(unit="Skola B", values={2019: 42.0, 2022: 38.0})
    result = did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022)
    assert result.estimate == pytest.approx(-6.0)
    assert result.change_treated == pytest.approx(-10.0)
    assert result.change_comparison == pytest.approx(-4.0)
    assert result.pre_years == (2019,)
    assert result.post_years == (2022,)
    # Nothing to say about uncertainty without standard errors or counts.
    assert result.ci_low is None and result.ci_high is None and result.se is None
    assert _codes(result) == {"single_pre_period", "no_confidence_interval"}
    assert result.pre_trend_treated is None
    assert "parallella trender" in result.assumptions_sv
    assert "parallel trends" in result.assumptions_en
    assert result.method == "did_2x2"


def test_confidence_interval_from_standard_errors():
    se = {2019: 1.0, 2022: 1.0}
    treated = Series(unit="A", values={2019: 40.0, 2022: 30.0}, se=se)
    comparison = Series(unit="B", values={2019: 42.0, 2022: 38.0}, se=se)
    result = did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022)
    # Four independent values with SE 1: SE of the DiD is √4 = 2.
    assert result.se == pytest.approx(2.0)
    assert result.ci_low == pytest.approx(-6.0 - Z95 * 2.0)
    assert result.ci_high == pytest.approx(-6.0 + Z95 * 2.0)
    assert "no_confidence_interval" not in _codes(result)
    assert "normalapproximation" in result.assumptions_sv
    assert "normal approximation" in result.assumptions_en


def test_confidence_interval_from_counts_of_a_percentage():
    treated = Series(unit="A", values={2019: 40.0, 2022: 30.0}, n={2019: 200, 2022: 200}, scale=100)
    comparison = Series(
        unit="B", values={2019: 42.0, 2022: 38.0}, n={2019: 300, 2022: 300}, scale=100
    )
    result = did_2x2(
        treated=treated, comparison=comparison, pre_year=2019, post_year=2022, confidence=0.9
    )
    variance = 1e4 * (0.4 * 0.6 / 200 + 0.3 * 0.7 / 200 + 0.42 * 0.58 / 300 + 0.38 * 0.62 / 300)
    assert result.se == pytest.approx(math.sqrt(variance))  # ≈ 6.20 percentage points
    z90 = 1.6448536269514722
    assert result.ci_low == pytest.approx(-6.0 - z90 * math.sqrt(variance))
    # The interval spans zero: 200 pupils per school cannot show a 6-point difference.
    assert result.ci_low < 0 < result.ci_high


def test_two_by_two_uses_earlier_years_only_to_check_trends():
    treated = Series(unit="A", values={2017: 44.0, 2018: 42.0, 2019: 40.0, 2022: 30.0})
    comparison = Series(unit="B", values={2017: 46.0, 2018: 44.0, 2019: 42.0, 2022: 38.0})
    result = did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022)
    assert result.estimate == pytest.approx(-6.0)
    assert result.pre_years == (2019,)
    assert result.pre_trend_treated == pytest.approx(-2.0)
    assert result.pre_trend_comparison == pytest.approx(-2.0)
    assert "single_pre_period" not in _codes(result)
    assert "diverging_pre_trends" not in _codes(result)


def test_several_years_compare_period_means():
    # Pre 2017–2019, post 2020–2022.
    treated = Series(
        unit="Alby",
        values={2017: 50.0, 2018: 51.0, 2019: 52.0, 2020: 50.0, 2021: 49.0, 2022: 48.0},
    )
    comparison = Series(
        unit="Fittja",
        values={2017: 60.0, 2018: 61.0, 2019: 62.0, 2020: 63.0, 2021: 64.0, 2022: 65.0},
    )
    result = did_multi(treated=treated, comparison=comparison, start_year=2020)
    # Treated: 49 − 51 = −2; comparison: 64 − 61 = +3; DiD = −5.
    assert result.estimate == pytest.approx(-5.0)
    assert result.pre_years == (2017, 2018, 2019)
    assert result.post_years == (2020, 2021, 2022)
    assert result.pre_trend_treated == pytest.approx(1.0)
    assert result.pre_trend_comparison == pytest.approx(1.0)
    assert _codes(result) == {"no_confidence_interval"}
    assert result.method == "did_multi"


def test_standard_error_of_period_means():
    years = (2018, 2019, 2020, 2021)
    se = dict.fromkeys(years, 2.0)
    treated = Series(unit="A", values=dict.fromkeys(years, 10.0), se=se)
    comparison = Series(unit="B", values=dict.fromkeys(years, 12.0), se=se)
    result = did_multi(treated=treated, comparison=comparison, start_year=2020)
    # Each period mean of two values with SE 2 has variance 4·2/4 = 2; four such means: 8.
    assert result.estimate == pytest.approx(0.0)
    assert result.se == pytest.approx(math.sqrt(8.0))


def test_diverging_pre_trends_are_flagged():
    treated = Series(unit="A", values={2017: 50.0, 2018: 55.0, 2019: 60.0, 2020: 62.0})
    comparison = Series(unit="B", values={2017: 60.0, 2018: 60.0, 2019: 60.0, 2020: 60.0})
    result = did_multi(treated=treated, comparison=comparison, start_year=2020)
    assert result.pre_trend_treated == pytest.approx(5.0)
    assert result.pre_trend_comparison == pytest.approx(0.0)
    warning = next(w for w in result.warnings if w.code == "diverging_pre_trends")
    assert "+5,00 per år" in warning.message_sv
    assert "+5.00 a year" in warning.message_en
    # A looser tolerance (10 % of the level ≈ 5.75 a year) accepts the same data.
    loose = did_multi(treated=treated, comparison=comparison, start_year=2020, trend_tolerance=0.10)
    assert "diverging_pre_trends" not in _codes(loose)


def test_a_comparison_unit_with_missing_years_is_flagged_and_only_common_years_count():
    treated = Series(unit="A", values={2017: 10.0, 2018: 11.0, 2019: 12.0, 2020: 20.0})
    comparison = Series(unit="B", values={2017: 10.0, 2019: 12.0, 2020: 13.0})
    result = did_multi(treated=treated, comparison=comparison, start_year=2020)
    assert result.pre_years == (2017, 2019)
    # Treated: 20 − 11 = 9; comparison: 13 − 11 = 2; DiD 7.
    assert result.estimate == pytest.approx(7.0)
    assert {"unmatched_years", "gap_in_series"} <= _codes(result)
    gap = next(w for w in result.warnings if w.code == "gap_in_series")
    assert "B" in gap.message_en and "2018" in gap.message_sv


def test_no_post_period_gives_no_estimate_but_says_why():
    treated = Series(unit="A", values={2018: 10.0, 2019: 11.0})
    comparison = Series(unit="B", values={2018: 9.0, 2019: 9.5})
    result = did_multi(treated=treated, comparison=comparison, start_year=2024)
    assert result.estimate is None
    assert result.post_years == ()
    assert "no_post_period" in _codes(result)
    message = next(w for w in result.warnings if w.code == "no_post_period")
    assert "2024" in message.message_sv and "2024" in message.message_en


def test_no_pre_period_gives_no_estimate():
    treated = Series(unit="A", values={2024: 10.0})
    comparison = Series(unit="B", values={2024: 9.0})
    result = did_multi(treated=treated, comparison=comparison, start_year=2024)
    assert result.estimate is None
    assert "no_pre_period" in _codes(result)


def test_result_dict_is_json_ready():
    treated = Series(unit="A", values={2019: 40.0, 2022: 30.0})
    comparison = Series(unit="B", values={2019: 42.0, 2022: 38.0})
    data = did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022).to_dict()
    text = json.dumps(data)
    assert json.loads(text)["estimate"] == pytest.approx(-6.0)
    assert data["warnings"][0]["code"] == "single_pre_period"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(pre_year=2019, post_year=2021), "B has no value for 2021"),
        (dict(pre_year=2022, post_year=2019), "must come after"),
        (dict(pre_year=2019, post_year=2022, confidence=1.5), "confidence"),
    ],
)
def test_two_by_two_rejects_impossible_requests(kwargs, fragment):
    treated = Series(unit="A", values={2019: 40.0, 2021: 33.0, 2022: 30.0})
    comparison = Series(unit="B", values={2019: 42.0, 2022: 38.0})
    with pytest.raises(ValueError, match=fragment):
        did_2x2(treated=treated, comparison=comparison, **kwargs)


def test_counts_with_a_share_outside_zero_to_one_are_rejected():
    treated = Series(unit="A", values={2019: 140.0, 2022: 30.0}, n={2019: 10, 2022: 10}, scale=100)
    comparison = Series(unit="B", values={2019: 42.0, 2022: 38.0})
    with pytest.raises(ValueError, match="share must lie between 0 and 100"):
        did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022)


def test_two_by_two_flags_years_only_one_unit_reported():
    treated = Series(unit="A", values={2019: 40.0, 2020: 37.0, 2022: 30.0})
    comparison = Series(unit="B", values={2019: 42.0, 2022: 38.0})
    result = did_2x2(treated=treated, comparison=comparison, pre_year=2019, post_year=2022)
    assert result.estimate == pytest.approx(-6.0)
    unmatched = next(w for w in result.warnings if w.code == "unmatched_years")
    assert "B saknar 2020" in unmatched.message_sv
    assert "B lacks 2020" in unmatched.message_en
    assert "gap_in_series" not in _codes(result)
