"""The regression DiD, its placebo test, event study and pre-trend agree with statsmodels' OLS / WLS
fitted here with the same specification through the formula interface (an independent design)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from lanportfolj.domain.did_inference import (
    Observation,
    did_panel,
    did_two_by_two,
    event_study,
    pre_trend,
    sampling_variance,
)

TOL = 1e-6
UNITS = ["Örebro", "Västerås", "Linköping", "Jönköping", "Eskilstuna", "Gävle", "Norrköping"]
YEARS = list(range(2015, 2026))
START = 2023


def _panel(effect: float = 0.9) -> list[Observation]:
    """Seven municipalities, eleven years: levels, a common trend, a fixed wobble, an effect."""
    rng = np.random.default_rng(19)
    obs = []
    for i, unit in enumerate(UNITS):
        for year in YEARS:
            value = 220 - 2.2 * i + 0.9 * (year - 2015) + float(rng.normal(0, 0.8))
            if i == 0 and year >= START:
                value += effect
            obs.append(Observation(unit, year, value))
    return obs


def _frame(obs: list[Observation]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": [o.unit for o in obs],
            "year": [o.year for o in obs],
            "y": [o.value for o in obs],
            "var": [o.variance for o in obs],
        }
    )


def test_two_by_two_from_counts_is_the_classic_formula_with_its_sampling_error() -> None:
    # shares in percent with the pupils behind them: binomial variances
    cells = {
        ("T", 2022): (58.0, 57),
        ("T", 2025): (67.8, 62),
        ("C", 2022): (61.0, 64),
        ("C", 2025): (62.0, 65),
    }
    obs = [
        Observation(u, y, v, sampling_variance(value=v, kind="share", n=n, scale=100))
        for (u, y), (v, n) in cells.items()
    ]
    result = did_two_by_two(obs, treated="T", comparison="C", pre_year=2022, post_year=2025)
    frame = _frame(obs).assign(
        treated=lambda f: (f.unit == "T").astype(float),
        post=lambda f: (f.year == 2025).astype(float),
    )
    ref = smf.wls("y ~ treated + post + treated:post", frame, weights=1 / frame["var"]).fit(
        cov_type="fixed scale"
    )
    assert result.se_method == "sampling"
    assert result.estimate == pytest.approx(ref.params["treated:post"], abs=TOL)
    assert result.estimate == pytest.approx((67.8 - 58.0) - (62.0 - 61.0), abs=TOL)
    assert result.se == pytest.approx(ref.bse["treated:post"], abs=TOL)
    assert result.se == pytest.approx(math.sqrt(frame["var"].sum()), abs=TOL)
    low, high = ref.conf_int().loc["treated:post"]
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(low, abs=TOL),
        pytest.approx(high, abs=TOL),
    )


def test_multi_period_with_several_units_is_clustered_by_unit() -> None:
    obs = _panel()
    result = did_panel(obs, treated="Örebro", start_year=START)
    frame = _frame(obs).assign(d=lambda f: ((f.unit == "Örebro") & (f.year >= START)).astype(float))
    groups = pd.factorize(frame["unit"])[0]
    ref = smf.ols("y ~ C(unit) + C(year) + d", frame).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    assert result.se_method == "cluster"
    assert result.estimate == pytest.approx(ref.params["d"], abs=TOL)
    assert result.se == pytest.approx(ref.bse["d"], abs=TOL)
    assert result.p_value == pytest.approx(ref.pvalues["d"], abs=TOL)
    low, high = ref.conf_int().loc["d"]
    assert result.ci_low == pytest.approx(low, abs=TOL)
    assert result.ci_high == pytest.approx(high, abs=TOL)
    assert result.pre_years == tuple(range(2015, START)) and result.post_years == (2023, 2024, 2025)


def test_permutation_p_value_ranks_the_treated_unit_among_the_placebos() -> None:
    obs = _panel(effect=5.0)
    result = did_panel(obs, treated="Örebro", start_year=START)
    frame = _frame([o for o in obs if o.unit != "Örebro"])
    placebos = {}
    for unit in UNITS[1:]:
        f = frame.assign(d=((frame.unit == unit) & (frame.year >= START)).astype(float))
        placebos[unit] = smf.ols("y ~ C(unit) + C(year) + d", f).fit().params["d"]
    assert result.placebo is not None
    assert result.placebo.estimates == pytest.approx(placebos, abs=TOL)
    # a large effect: no placebo is as large, so the treated unit ranks first of seven
    assert result.placebo.rank == 1 and result.placebo.units == 7
    assert result.placebo.p_value == pytest.approx(1 / 7)
    small = did_panel(_panel(effect=0.0), treated="Örebro", start_year=START)
    assert small.placebo is not None and small.placebo.p_value > 1 / 7


def test_event_study_has_one_coefficient_per_year_against_the_last_pre_year() -> None:
    obs = _panel()
    rows = event_study(obs, treated="Örebro", start_year=START)
    frame = _frame(obs)
    names = []
    for year in YEARS:
        if year != START - 1:
            frame[f"e{year}"] = ((frame.unit == "Örebro") & (frame.year == year)).astype(float)
            names.append(f"e{year}")
    groups = pd.factorize(frame["unit"])[0]
    ref = smf.ols("y ~ C(unit) + C(year) + " + " + ".join(names), frame).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    assert [r.year for r in rows] == YEARS
    for row in rows:
        if row.reference:
            assert row.year == START - 1 and row.estimate == 0.0 and row.se is None
            continue
        assert row.estimate == pytest.approx(ref.params[f"e{row.year}"], abs=TOL)
        assert row.se == pytest.approx(ref.bse[f"e{row.year}"], abs=TOL)
        assert row.relative_year == row.year - START


def test_pre_trend_is_the_difference_in_slopes_before_the_start() -> None:
    obs = _panel()
    # a treated unit drifting upwards before the start: the test must see it
    drifting = [
        Observation(o.unit, o.year, o.value + (0.5 * (o.year - 2015) if o.unit == "Örebro" else 0))
        for o in obs
    ]
    for data, expect_parallel in ((obs, True), (drifting, False)):
        trend = pre_trend(data, treated="Örebro", start_year=START)
        frame = _frame([o for o in data if o.year < START]).assign(
            tt=lambda f: np.where(f.unit == "Örebro", f.year - 2015, 0.0)
        )
        groups = pd.factorize(frame["unit"])[0]
        ref = smf.ols("y ~ C(unit) + C(year) + tt", frame).fit(
            cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
        )
        assert trend is not None
        assert trend.slope == pytest.approx(ref.params["tt"], abs=TOL)
        assert trend.se == pytest.approx(ref.bse["tt"], abs=TOL)
        assert trend.years == tuple(range(2015, START))
        assert (trend.p_value > 0.05) is expect_parallel


def test_without_counts_and_with_one_comparison_unit_the_interval_is_not_invented() -> None:
    obs = [
        Observation("T", 2022, 58.0),
        Observation("T", 2023, 61.0),
        Observation("C", 2022, 61.0),
        Observation("C", 2023, 61.5),
    ]
    result = did_panel(obs, treated="T", start_year=2023)
    assert result.estimate == pytest.approx(2.5)
    assert (result.se, result.ci_low, result.se_method) == (None, None, "none")
    assert result.pre_trend is None and result.placebo is None
    assert did_panel(obs, treated="T", start_year=2030).notes == ("no_post_period",)


@pytest.mark.parametrize(
    ("kind", "value", "n", "scale", "expected"),
    [
        ("share", 58.0, 57, 100, 0.58 * 0.42 / 57 * 100**2),
        ("share", 0.58, 57, 1, 0.58 * 0.42 / 57),
        ("count", 12.0, None, 1, None),
        ("count", 12.0, 400, 1, 12.0),
        ("rate", 2.5, 4000, 1000, 2.5 * 1000 / 4000),
        ("other", 201.0, 60, 1, None),
    ],
)
def test_sampling_variance_from_counts(kind, value, n, scale, expected) -> None:
    got = sampling_variance(value=value, kind=kind, n=n, scale=scale)
    assert got == (None if expected is None else pytest.approx(expected))


def test_a_standard_error_wins_over_the_count() -> None:
    assert sampling_variance(value=201.0, kind="other", n=60, std_error=5.5) == pytest.approx(30.25)


def test_mde_variance_factor_is_the_regressions_own_for_a_balanced_panel() -> None:
    from lanportfolj.domain.did_inference import residual_spread
    from lanportfolj.domain.power import _required_shift, did_variance_factor, mde_did

    obs = _panel()
    frame = _frame(obs).assign(d=lambda f: ((f.unit == "Örebro") & (f.year >= START)).astype(float))
    ref = smf.ols("y ~ C(unit) + C(year) + d", frame).fit()
    # Var(DiD) / σ² from statsmodels' (X'X)⁻¹: 8 years before, 3 after, 6 comparison units
    factor = did_variance_factor(pre_years=8, post_years=3, comparison_units=6)
    assert factor == pytest.approx(ref.normalized_cov_params.loc["d", "d"], abs=TOL)
    history = [o for o in obs if o.year < START]
    spread = residual_spread(history)
    ref_history = smf.ols("y ~ C(unit) + C(year)", _frame(history)).fit()
    assert spread is not None
    assert spread.sd == pytest.approx(math.sqrt(ref_history.scale), abs=TOL)
    assert (spread.units, spread.df) == (7, int(ref_history.df_resid))
    mde = mde_did(residual_sd=spread.sd, pre_years=8, post_years=3, comparison_units=6)
    shift = _required_shift(alpha=0.05, power=0.8, two_sided=True)
    assert shift == pytest.approx(2.8016, abs=1e-3)
    assert mde == pytest.approx(shift * spread.sd * math.sqrt(factor), abs=TOL)
    # a longer follow-up detects smaller effects; more comparison units too
    assert mde_did(residual_sd=spread.sd, pre_years=8, post_years=8, comparison_units=6) < mde
    assert mde_did(residual_sd=spread.sd, pre_years=8, post_years=3, comparison_units=20) < mde
    with pytest.raises(ValueError, match="comparison unit"):
        mde_did(residual_sd=1.0, pre_years=8, post_years=3, comparison_units=0)
