"""Power calculations checked against statsmodels' NormalIndPower over a grid of settings.

statsmodels' ``solve_power`` stops its root search about 1e-6 short of the root, so the reference
here solves statsmodels' own ``power`` function with a tight ``brentq``: the comparison is against
statsmodels' definition of power, not against its solver's tolerance.
"""

from __future__ import annotations

import itertools
import math

import pytest
from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

from lanportfolj.domain.power import (
    achieved_power,
    design_effect,
    mde_means,
    mde_proportions,
    n_for_means,
    n_for_proportions,
    power_summary,
)

pytestmark = pytest.mark.unit

SM = NormalIndPower()

BASE_RATES = (0.05, 0.2, 0.5, 0.8)
NS = (10, 40, 250)
ALPHAS = (0.01, 0.05, 0.1)
POWERS = (0.7, 0.8, 0.9)
SIDES = (True, False)
DESIGN_EFFECTS = (1.0, 1.9)


def _alternative(two_sided: bool) -> str:
    return "two-sided" if two_sided else "larger"


def _reference_effect_size(n: float, alpha: float, power: float, two_sided: bool) -> float:
    return brentq(
        lambda es: SM.power(es, n, alpha, alternative=_alternative(two_sided)) - power,
        1e-9,
        20.0,
        xtol=1e-14,
    )


def _reference_mde_proportion(
    base: float, n: int, alpha: float, power: float, two_sided: bool, de: float, up: bool
) -> float:
    """Smallest change of the proportion whose statsmodels power reaches ``power``."""

    def gap(change: float) -> float:
        other = base + change if up else base - change
        es = abs(proportion_effectsize(other, base))
        return SM.power(es, n / de, alpha, alternative=_alternative(two_sided)) - power

    limit = (1.0 - base) if up else base
    if gap(limit) < 0:
        return math.inf
    return brentq(gap, 1e-12, limit, xtol=1e-14)


GRID = list(itertools.product(BASE_RATES, NS, ALPHAS, POWERS, SIDES, DESIGN_EFFECTS))


@pytest.mark.parametrize(("base", "n", "alpha", "power", "two_sided", "de"), GRID)
def test_mde_for_a_proportion_matches_statsmodels(base, n, alpha, power, two_sided, de):
    kwargs = dict(alpha=alpha, power=power, two_sided=two_sided, design_effect=de)
    up = mde_proportions(base_rate=base, n_per_arm=n, direction="increase", **kwargs)
    down = mde_proportions(base_rate=base, n_per_arm=n, direction="decrease", **kwargs)
    either = mde_proportions(base_rate=base, n_per_arm=n, **kwargs)

    ref_up = _reference_mde_proportion(base, n, alpha, power, two_sided, de, up=True)
    ref_down = _reference_mde_proportion(base, n, alpha, power, two_sided, de, up=False)
    for mine, ref in ((up, ref_up), (down, ref_down)):
        if math.isinf(ref):
            assert math.isinf(mine)
        else:
            assert mine == pytest.approx(ref, abs=1e-6)
    assert either == min(up, down)


@pytest.mark.parametrize(
    ("n", "alpha", "power", "two_sided", "de"),
    list(itertools.product(NS, ALPHAS, POWERS, SIDES, DESIGN_EFFECTS)),
)
def test_mde_for_means_matches_statsmodels(n, alpha, power, two_sided, de):
    sd = 12.5
    mine = mde_means(
        sd=sd, n_per_arm=n, alpha=alpha, power=power, two_sided=two_sided, design_effect=de
    )
    ref = sd * _reference_effect_size(n / de, alpha, power, two_sided)
    assert mine == pytest.approx(ref, abs=1e-6)
    # And statsmodels' own solver agrees within its tolerance.
    sm = SM.solve_power(
        effect_size=None,
        nobs1=n / de,
        alpha=alpha,
        power=power,
        alternative=_alternative(two_sided),
    )
    assert mine / sd == pytest.approx(sm, abs=1e-5)


@pytest.mark.parametrize(
    ("base", "effect", "alpha", "power", "two_sided", "de"),
    list(itertools.product((0.05, 0.3, 0.6), (-0.03, 0.1), ALPHAS, POWERS, SIDES, DESIGN_EFFECTS)),
)
def test_sample_size_for_a_proportion_matches_statsmodels(
    base, effect, alpha, power, two_sided, de
):
    n = n_for_proportions(
        base_rate=base,
        effect=effect,
        alpha=alpha,
        power=power,
        two_sided=two_sided,
        design_effect=de,
    )
    es = abs(proportion_effectsize(base + effect, base))
    sm_n = SM.solve_power(
        effect_size=es, nobs1=None, alpha=alpha, power=power, alternative=_alternative(two_sided)
    )
    assert n == math.ceil(sm_n * de - 1e-6)
    # The answer is the smallest whole number that reaches the power.
    alt = _alternative(two_sided)
    assert SM.power(es, n / de, alpha, alternative=alt) >= power - 1e-9
    assert SM.power(es, (n - 1) / de, alpha, alternative=alt) < power


@pytest.mark.parametrize(
    ("effect", "alpha", "power", "two_sided", "de"),
    list(itertools.product((-2.0, 5.0), ALPHAS, POWERS, SIDES, DESIGN_EFFECTS)),
)
def test_sample_size_for_means_matches_statsmodels(effect, alpha, power, two_sided, de):
    sd = 10.0
    n = n_for_means(
        sd=sd, effect=effect, alpha=alpha, power=power, two_sided=two_sided, design_effect=de
    )
    alt = _alternative(two_sided)
    es = abs(effect) / sd
    assert SM.power(es, n / de, alpha, alternative=alt) >= power - 1e-9
    assert SM.power(es, (n - 1) / de, alpha, alternative=alt) < power


@pytest.mark.parametrize(("n", "two_sided"), [(30, True), (30, False), (400, True)])
def test_achieved_power_is_statsmodels_power(n, two_sided):
    got = achieved_power(effect_size=0.3, n_per_arm=n, alpha=0.05, two_sided=two_sided)
    assert got == pytest.approx(
        SM.power(0.3, n, 0.05, alternative=_alternative(two_sided)), abs=1e-12
    )


def test_article_example_forty_families_and_a_five_percent_base_rate():
    """The seed: out-of-home placements are rare, so a small trial cannot show a change.

    With 40 families a year in each group and a 5 % base rate, the smallest effect that can be
    detected (two-sided, α = 0.05, 80 % power) is a rise of 21.3 percentage points, to 26.3 %; a
    reduction cannot be detected at all, since even zero placements would not be significant.
    """
    assert mde_proportions(base_rate=0.05, n_per_arm=40) == pytest.approx(0.21323, abs=1e-5)
    assert math.isinf(mde_proportions(base_rate=0.05, n_per_arm=40, direction="decrease"))

    result = power_summary(base_rate=0.05, n_per_arm=40)
    assert result.detectable
    assert result.effect == pytest.approx(0.21323, abs=1e-5)
    assert "21,3 procentenheter" in result.message_sv
    assert "21.3 percentage points" in result.message_en

    # Halving the placements (5 % → 2.5 %) needs 882 families per group.
    n = n_for_proportions(base_rate=0.05, effect=-0.025)
    assert n == 882
    assert (
        f"behövs {n} deltagare per grupp" in power_summary(base_rate=0.05, effect=-0.025).message_sv
    )


def test_undetectable_result_says_so_in_both_languages():
    result = power_summary(base_rate=0.05, n_per_arm=4, direction="decrease")
    assert not result.detectable
    assert result.effect is None
    assert "går ingen förändring att upptäcka" in result.message_sv
    assert "no change can be detected" in result.message_en
    assert result.to_dict()["effect"] is None


def test_design_effect_shrinks_the_sample_for_cluster_interventions():
    # 20 school classes of 25 pupils, ICC 0.05: DE = 1 + 24 · 0.05 = 2.2.
    de = design_effect(icc=0.05, cluster_size=25)
    assert de == pytest.approx(2.2)
    clustered = mde_means(sd=1.0, n_per_arm=250, design_effect=de)
    assert clustered == pytest.approx(mde_means(sd=1.0, n_per_arm=250) * math.sqrt(de))
    assert n_for_means(sd=1.0, effect=0.3, design_effect=de) > n_for_means(sd=1.0, effect=0.3)
    assert design_effect(icc=0.3, cluster_size=1) == 1.0


def test_one_sided_test_detects_smaller_effects():
    two = mde_means(sd=1.0, n_per_arm=50)
    one = mde_means(sd=1.0, n_per_arm=50, two_sided=False)
    assert one < two


def test_means_summary_dict_is_json_ready():
    result = power_summary(sd=15.0, n_per_arm=60, alpha=0.05, power=0.8)
    data = result.to_dict()
    assert data["outcome"] == "mean"
    assert data["solved_for"] == "mde"
    assert data["effect"] == pytest.approx(mde_means(sd=15.0, n_per_arm=60))
    assert "standardavvikelser" in result.message_sv


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: mde_proportions(base_rate=0.0, n_per_arm=40), "base_rate"),
        (lambda: mde_proportions(base_rate=1.2, n_per_arm=40), "Basnivån"),
        (lambda: mde_proportions(base_rate=0.05, n_per_arm=1), "n_per_arm"),
        (lambda: mde_proportions(base_rate=0.05, n_per_arm=40, alpha=0.0), "alpha"),
        (lambda: mde_proportions(base_rate=0.05, n_per_arm=40, power=1.0), "Styrkan"),
        (lambda: mde_proportions(base_rate=0.05, n_per_arm=40, power=0.03), "must exceed alpha"),
        (lambda: mde_proportions(base_rate=0.05, n_per_arm=40, design_effect=0.5), "design_effect"),
        (lambda: mde_proportions(base_rate=0.05, n_per_arm=40, direction="up"), "direction"),
        (lambda: n_for_proportions(base_rate=0.05, effect=-0.06), "effect"),
        (lambda: n_for_proportions(base_rate=0.05, effect=0.0), "Effekten"),
        (lambda: mde_means(sd=0.0, n_per_arm=40), "sd"),
        (lambda: n_for_means(sd=1.0, effect=0.0), "effect"),
        (lambda: design_effect(icc=1.5, cluster_size=10), "icc"),
        (lambda: design_effect(icc=0.1, cluster_size=0), "cluster_size"),
        (lambda: power_summary(base_rate=0.05, sd=1.0, n_per_arm=40), "not both"),
        (lambda: power_summary(base_rate=0.05), "n_per_arm or effect"),
    ],
)
def test_nonsense_inputs_are_rejected_in_both_languages(call, fragment):
    with pytest.raises(ValueError, match=fragment) as caught:
        call()
    # Swedish first, then English, separated by " / ".
    assert " / " in str(caught.value)
