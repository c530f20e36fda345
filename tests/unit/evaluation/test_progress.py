"""Progress against baseline and target: the edge cases results-tracking systems get wrong."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from lanportfolj.domain.progress import progress

pytestmark = pytest.mark.unit


def _increase(points, **overrides):
    kwargs = dict(
        baseline_value=D("100"),
        baseline_year=2020,
        target_value=D("200"),
        target_year=2030,
        direction="increase",
        points=points,
    )
    kwargs.update(overrides)
    return progress(**kwargs)


def test_on_track_when_at_or_above_the_straight_line():
    # The line runs 100 → 200 over ten years: 150 expected in 2025.
    result = _increase([(2022, D("115")), (2025, D("150"))])
    assert result.latest_year == 2025
    assert result.latest_value == D("150")
    assert result.expected_at_latest == D("150")
    assert result.change_abs == D("50")
    assert result.change_pct == D("50.0")
    assert result.status == "on_track"
    assert result.status_sv == "I fas"


def test_off_track_when_below_the_line():
    result = _increase([(2025, D("149.9"))])
    assert result.status == "off_track"
    assert result.status_en == "Off track"


def test_target_met_counts_even_before_the_target_year():
    result = _increase([(2023, D("205"))])
    assert result.status == "target_met"


def test_target_year_passed_without_reaching_the_target_is_off_track():
    result = _increase([(2031, D("190"))])
    assert result.expected_at_latest == D("200")
    assert result.status == "off_track"


def test_points_are_read_in_any_order():
    result = _increase([(2025, D("160")), (2021, D("101")), (2023, D("120"))])
    assert result.latest_year == 2025
    assert result.latest_value == D("160")


def test_decrease_indicator_lower_is_better():
    # Out-of-home placements per 1 000 children: 8 → 4 by 2028.
    kwargs = dict(
        baseline_value=D("8"),
        baseline_year=2020,
        target_value=D("4"),
        target_year=2028,
        direction="decrease",
    )
    # Expected at 2024: 8 − 4 · 4/8 = 6.
    good = progress(points=[(2024, D("5.5"))], **kwargs)
    assert good.expected_at_latest == D("6")
    assert good.status == "on_track"
    assert good.change_abs == D("-2.5")
    assert good.change_pct == D("-31.3")  # −31.25 rounded half up
    bad = progress(points=[(2024, D("7"))], **kwargs)
    assert bad.status == "off_track"
    met = progress(points=[(2024, D("3.9"))], **kwargs)
    assert met.status == "target_met"


def test_zero_baseline_gives_no_percentage_but_still_a_status():
    # The line 0 → 40 over ten years is at 16 in 2024.
    behind = _increase([(2024, D("12"))], baseline_value=D("0"), target_value=D("40"))
    assert behind.change_abs == D("12")
    assert behind.change_pct is None
    assert behind.expected_at_latest == D("16")
    assert behind.status == "off_track"
    ahead = _increase([(2024, D("20"))], baseline_value=D("0"), target_value=D("40"))
    assert ahead.change_pct is None
    assert ahead.status == "on_track"


def test_baseline_without_measurements_is_insufficient_data():
    result = _increase([])
    assert result.status == "insufficient_data"
    assert result.latest_value is None
    assert result.change_abs is None
    assert result.expected_at_latest is None


def test_measurement_without_baseline_is_insufficient_data_unless_target_met():
    missing = _increase([(2024, D("150"))], baseline_value=None)
    assert missing.status == "insufficient_data"
    assert missing.change_abs is None and missing.change_pct is None
    met = _increase([(2024, D("250"))], baseline_value=None)
    assert met.status == "target_met"


def test_no_target():
    result = _increase([(2024, D("150"))], target_value=None)
    assert result.status == "no_target"
    assert result.change_pct == D("50.0")
    assert result.expected_at_latest is None
    result = _increase([(2024, D("150"))], target_year=None)
    assert result.status == "no_target"


def test_target_year_equal_to_baseline_year_expects_the_target_at_once():
    result = _increase([(2020, D("150"))], target_year=2020)
    assert result.expected_at_latest == D("200")
    assert result.status == "off_track"


def test_thirds_are_compared_exactly():
    # 10 → 20 over three years; the line at year one is 13.333…, so 13.3333 is just below it.
    kwargs = dict(
        baseline_value=D("10"),
        baseline_year=2021,
        target_value=D("20"),
        target_year=2024,
        direction="increase",
    )
    assert progress(points=[(2022, D("13.3333"))], **kwargs).status == "off_track"
    assert progress(points=[(2022, D("13.3334"))], **kwargs).status == "on_track"


def test_measurements_before_the_baseline_year_are_ignored():
    result = _increase([(2018, D("90")), (2019, D("95"))])
    assert result.latest_value is None
    assert result.status == "insufficient_data"


def test_duplicate_years_are_refused():
    with pytest.raises(ValueError, match="Two values for year 2024"):
        _increase([(2024, D("150")), (2024, D("151"))])


def test_float_values_are_refused():
    with pytest.raises(TypeError, match="Decimal"):
        _increase([(2024, 150.5)])


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (dict(direction="up"), "Unknown direction"),
        (dict(target_year=2019), "before the baseline year"),
    ],
)
def test_impossible_settings_are_refused(overrides, fragment):
    with pytest.raises(ValueError, match=fragment):
        _increase([(2024, D("150"))], **overrides)


def test_dict_keeps_every_digit():
    data = _increase([(2023, D("133.35"))]).to_dict()
    assert data["latest_value"] == "133.35"
    assert data["change_pct"] == "33.4"  # 33.35 rounded half up
    assert data["status"] == "on_track"
    assert data["status_sv"] == "I fas"
    json.dumps(data)
