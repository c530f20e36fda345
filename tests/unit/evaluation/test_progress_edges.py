"""Progress exactly on its edges: a value equal to the target or to the line, a measurement in the
baseline year or the target year, and percentages that end in a half — what the report's status column
and change column then say."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from lanportfolj.domain.progress import Progress, progress

pytestmark = pytest.mark.unit


def test_decrease_indicator_exactly_at_its_target_has_met_it() -> None:
    # out-of-home placements 40 → 20 by 2030; 20 reported in 2024, six years early
    result = progress(
        baseline_value=D("40"),
        baseline_year=2020,
        target_value=D("20"),
        target_year=2030,
        direction="decrease",
        points=[(2024, D("20"))],
    )
    assert result == Progress(
        baseline_value=D("40"),
        baseline_year=2020,
        target_value=D("20"),
        target_year=2030,
        latest_year=2024,
        latest_value=D("20"),
        change_abs=D("-20"),
        change_pct=D("-50.0"),
        expected_at_latest=D("32"),
        status="target_met",
        direction="decrease",
    )
    assert (result.status_sv, result.status_en) == ("Målet nått", "Target met")


def test_increase_indicator_exactly_at_its_target_has_met_it() -> None:
    result = progress(
        baseline_value=D("100"),
        baseline_year=2020,
        target_value=D("200"),
        target_year=2030,
        direction="increase",
        points=[(2022, D("200"))],
    )
    assert (result.status, result.expected_at_latest) == ("target_met", D("120"))


def test_decrease_indicator_exactly_on_the_line_is_on_track() -> None:
    # 40 → 20 over ten years: 30 is expected in 2025, and 30 is on track; 30.1 is behind
    on_line = progress(
        baseline_value=D("40"),
        baseline_year=2020,
        target_value=D("20"),
        target_year=2030,
        direction="decrease",
        points=[(2025, D("30"))],
    )
    behind = progress(
        baseline_value=D("40"),
        baseline_year=2020,
        target_value=D("20"),
        target_year=2030,
        direction="decrease",
        points=[(2025, D("30.1"))],
    )
    assert (on_line.status, on_line.expected_at_latest) == ("on_track", D("30"))
    assert (behind.status, behind.status_sv, behind.status_en) == (
        "off_track",
        "Efter plan",
        "Off track",
    )


def test_a_measurement_in_the_baseline_year_counts_and_one_in_the_target_year_is_judged_on_the_target() -> (
    None
):
    in_baseline_year = progress(
        baseline_value=D("100"),
        baseline_year=2020,
        target_value=D("200"),
        target_year=2030,
        direction="increase",
        points=[(2019, D("90")), (2020, D("110"))],
    )
    assert (in_baseline_year.latest_year, in_baseline_year.latest_value) == (2020, D("110"))
    assert in_baseline_year.status == "on_track"
    in_target_year = progress(
        baseline_value=D("100"),
        baseline_year=2020,
        target_value=D("200"),
        target_year=2030,
        direction="increase",
        points=[(2030, D("199"))],
    )
    assert (in_target_year.expected_at_latest, in_target_year.status) == (D("200"), "off_track")


@pytest.mark.parametrize(
    ("baseline", "latest", "change_pct"),
    [
        ("400", "401", D("0.3")),  # 0.25 % rounds half up, not to the even 0.2
        ("400", "399", D("-0.3")),
        ("-50", "-40", D("20.0")),  # from a negative baseline, an improvement is still positive
        ("-50", "-60", D("-20.0")),
    ],
)
def test_change_in_per_cent_rounds_half_up_and_follows_the_sign_of_the_change(
    baseline: str, latest: str, change_pct: D
) -> None:
    result = progress(
        baseline_value=D(baseline),
        baseline_year=2020,
        target_value=None,
        target_year=None,
        direction="increase",
        points=[(2024, D(latest))],
    )
    assert result.to_dict() == {
        "baseline_value": baseline,
        "baseline_year": 2020,
        "target_value": None,
        "target_year": None,
        "latest_year": 2024,
        "latest_value": latest,
        "change_abs": str(D(latest) - D(baseline)),
        "change_pct": str(change_pct),
        "expected_at_latest": None,
        "status": "no_target",
        "direction": "increase",
        "status_sv": "Målvärde saknas",
        "status_en": "No target",
    }


def test_unknown_direction_and_a_target_before_the_baseline_are_refused_in_both_languages() -> None:
    with pytest.raises(ValueError) as direction:
        progress(
            baseline_value=D("1"),
            baseline_year=2020,
            target_value=D("2"),
            target_year=2030,
            direction="up",
            points=[],
        )
    assert str(direction.value) == (
        "Okänd riktning 'up'; välj increase eller decrease / "
        "Unknown direction 'up'; choose increase or decrease"
    )
    with pytest.raises(ValueError) as years:
        progress(
            baseline_value=D("1"),
            baseline_year=2020,
            target_value=D("2"),
            target_year=2019,
            direction="increase",
            points=[],
        )
    assert str(years.value) == (
        "Målåret 2019 ligger före utgångsvärdets år 2020 / The target year 2019 is before the baseline year 2020"
    )


def test_two_values_for_a_year_and_a_float_value_are_refused_naming_the_year() -> None:
    common = {
        "baseline_value": D("1"),
        "baseline_year": 2020,
        "target_value": D("2"),
        "target_year": 2030,
        "direction": "increase",
    }
    with pytest.raises(ValueError) as twice:
        progress(**common, points=[(2024, D("1")), (2024, D("2"))])
    assert str(twice.value) == (
        "Två värden för år 2024; skicka bara den gällande versionen / "
        "Two values for year 2024; pass the current version only"
    )
    with pytest.raises(TypeError) as binary:
        progress(**common, points=[(2024, 1.5)])
    assert str(binary.value) == (
        "2024: ange värdet som Decimal, inte float / 2024: give the value as a Decimal, not float"
    )
