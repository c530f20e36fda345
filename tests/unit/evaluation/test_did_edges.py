"""The regression DiD's edges (domain/did_inference.py): a confidence level outside (0, 1), a panel with
no comparison unit, comparison units without values on both sides of the start, a placebo that ignores
sampling weights, and the event study's intervals (mutation testing, issue 20)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lanportfolj.domain.did_inference import Observation, PanelDid, did_panel

pytestmark = pytest.mark.unit

UNITS = ("Örebro", "Gävle", "Västerås", "Linköping")


def _obs(unit: str, year: int, value: float, variance: float | None = None) -> Observation:
    return Observation(unit, year, value, variance)


def _panel(*, variances: bool = False) -> list[Observation]:
    """Four units, 2019–2024, start 2022; Örebro gains 3 from then; a fixed, uneven wobble."""
    wobble = [0.3, -0.2, 0.5, -0.4, 0.1, 0.2, -0.3, 0.4, 0.0, -0.1, 0.6, -0.5]
    out = []
    for i, unit in enumerate(UNITS):
        for j, year in enumerate(range(2019, 2025)):
            value = 100 + 5 * i + 1.5 * j + wobble[(i * 6 + j) % len(wobble)]
            if unit == "Örebro" and year >= 2022:
                value += 3
            variance = (0.2 + 0.3 * ((i + j) % 3)) if variances else None
            out.append(_obs(unit, year, value, variance))
    return out


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_a_confidence_level_outside_zero_and_one_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError) as caught:
        did_panel(_panel(), treated="Örebro", start_year=2022, confidence=confidence)
    assert str(caught.value) == (
        f"Konfidensnivån måste ligga mellan 0 och 1 (fick {confidence!r}) / "
        f"confidence must lie between 0 and 1 (got {confidence!r})"
    )


def test_without_a_comparison_unit_no_estimate_and_the_reason() -> None:
    treated_only = [o for o in _panel() if o.unit == "Örebro"]
    assert did_panel(treated_only, treated="Örebro", start_year=2022) == PanelDid(
        estimate=None,
        se=None,
        ci_low=None,
        ci_high=None,
        p_value=None,
        confidence=0.95,
        se_method="none",
        method="did_twfe",
        treated_unit="Örebro",
        comparison_units=(),
        pre_years=(2019, 2020, 2021),
        post_years=(2022, 2023, 2024),
        observations=6,
        notes=("no_comparison",),
    )


def test_without_a_post_period_the_reason_is_that() -> None:
    before = [o for o in _panel() if o.year < 2022]
    result = did_panel(before, treated="Örebro", start_year=2022)
    assert (result.estimate, result.post_years, result.notes) == (None, (), ("no_post_period",))


def test_a_comparison_unit_seen_on_one_side_of_the_start_only_is_left_out() -> None:
    panel = _panel()
    extra = [_obs("Umeå", 2020, 90.0), _obs("Umeå", 2021, 91.0)]  # before the start only
    extra += [_obs("Luleå", 2023, 80.0), _obs("Luleå", 2024, 81.0)]  # after it only
    with_extra = did_panel(panel + extra, treated="Örebro", start_year=2022)
    alone = did_panel(panel, treated="Örebro", start_year=2022)
    assert with_extra.comparison_units == ("Gävle", "Linköping", "Västerås")
    assert with_extra == alone


def test_the_placebo_ignores_sampling_weights() -> None:
    weighted = did_panel(_panel(variances=True), treated="Örebro", start_year=2022)
    plain = did_panel(_panel(), treated="Örebro", start_year=2022)
    assert weighted.se_method == "sampling" and plain.se_method == "cluster"
    assert weighted.placebo is not None and plain.placebo is not None
    assert weighted.placebo.estimates == pytest.approx(plain.placebo.estimates, abs=1e-9)


def test_every_event_year_but_the_reference_has_its_interval() -> None:
    result = did_panel(_panel(variances=True), treated="Örebro", start_year=2022)
    rows = [replace(r, estimate=round(r.estimate, 6)) for r in result.event_study]
    assert [(r.year, r.relative_year, r.reference) for r in rows] == [
        (2019, -3, False),
        (2020, -2, False),
        (2021, -1, True),
        (2022, 0, False),
        (2023, 1, False),
        (2024, 2, False),
    ]
    for row in result.event_study:
        if row.reference:
            assert (row.estimate, row.se, row.ci_low, row.ci_high) == (0.0, None, None, None)
        else:
            assert row.se is not None and row.ci_low is not None and row.ci_high is not None
            assert row.ci_low < row.estimate < row.ci_high
            assert row.ci_high - row.estimate == pytest.approx(row.estimate - row.ci_low)
