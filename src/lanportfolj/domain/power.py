"""Statistical power for two-group comparisons: what a planned evaluation can and cannot detect.

The seed's evaluators found interventions too small to show an effect (out-of-home placements are
rare, so a few dozen families cannot reveal a change). These functions turn a planned sample into
the smallest detectable effect, or an effect into the sample needed, so the analyst can say so at
application time.

Method (chosen so results match ``statsmodels.stats.power.NormalIndPower`` to 1e-6):

* Two independent arms of equal size ``n``; a z-test on the standardised effect ``es``, so the test
  statistic has mean ``es * sqrt(n / 2)`` under the alternative.
* Proportions: ``es`` is Cohen's h, ``2·asin(√p2) − 2·asin(√p1)`` (statsmodels'
  ``proportion_effectsize``).
* Means: ``es`` is Cohen's d, ``difference / sd``. This is the normal approximation; a t-test
  (statsmodels' ``tt_ind_solve_power``) needs one or two more participants per arm for small
  samples.
* Two-sided power counts both rejection tails, ``Φ(x − z) + Φ(−x − z)`` with ``z = z(1 − α/2)``,
  exactly as statsmodels does; one-sided power is ``Φ(x − z(1 − α))`` for an effect in the tested
  direction.
* Cluster interventions (whole school classes, districts): the effective sample per arm is
  ``n / DE`` with the design effect ``DE = 1 + (m − 1)·ICC``.

No scipy at run time: the normal quantiles come from ``statistics.NormalDist`` and the two-sided
case is solved with a bisection written here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist

_STD_NORMAL = NormalDist()

#: Directions for the minimum detectable change in a proportion.
MDE_DIRECTIONS = ("either", "increase", "decrease")


def _invalid(sv: str, en: str) -> ValueError:
    # One message in both languages, so the CLI, the API and the web page can show it as it is.
    return ValueError(f"{sv} / {en}")


def _check_probability(name: str, value: float, *, sv_name: str) -> None:
    if not (isinstance(value, int | float) and 0.0 < value < 1.0):
        raise _invalid(
            f"{sv_name} måste ligga mellan 0 och 1 (fick {value!r})",
            f"{name} must lie strictly between 0 and 1 (got {value!r})",
        )


def _check_common(*, alpha: float, power: float, design_effect: float) -> None:
    _check_probability("alpha", alpha, sv_name="Signifikansnivån (alfa)")
    _check_probability("power", power, sv_name="Styrkan")
    if not (isinstance(design_effect, int | float) and design_effect >= 1.0):
        raise _invalid(
            f"Designeffekten måste vara minst 1 (fick {design_effect!r})",
            f"design_effect must be at least 1 (got {design_effect!r})",
        )


def _check_n(n_per_arm: int) -> None:
    if isinstance(n_per_arm, bool) or not isinstance(n_per_arm, int) or n_per_arm < 2:
        raise _invalid(
            f"Antalet per grupp måste vara ett heltal, minst 2 (fick {n_per_arm!r})",
            f"n_per_arm must be a whole number of at least 2 (got {n_per_arm!r})",
        )


def _check_sd(sd: float) -> None:
    if not (isinstance(sd, int | float) and sd > 0 and math.isfinite(sd)):
        raise _invalid(
            f"Standardavvikelsen måste vara större än 0 (fick {sd!r})",
            f"sd must be greater than 0 (got {sd!r})",
        )


def design_effect(*, icc: float, cluster_size: float) -> float:
    """Design effect ``1 + (m − 1)·ICC`` for an intervention given to whole clusters of size ``m``.

    Divide the number of participants by it to get the effective sample size.
    """
    if not (isinstance(icc, int | float) and 0.0 <= icc <= 1.0):
        raise _invalid(
            f"ICC (intraklasskorrelationen) måste ligga mellan 0 och 1 (fick {icc!r})",
            f"icc (intra-cluster correlation) must lie between 0 and 1 (got {icc!r})",
        )
    if not (isinstance(cluster_size, int | float) and cluster_size >= 1.0):
        raise _invalid(
            f"Klusterstorleken måste vara minst 1 (fick {cluster_size!r})",
            f"cluster_size must be at least 1 (got {cluster_size!r})",
        )
    return 1.0 + (cluster_size - 1.0) * icc


def _critical_z(alpha: float, two_sided: bool) -> float:
    return _STD_NORMAL.inv_cdf(1.0 - (alpha / 2.0 if two_sided else alpha))


def _power_at(shift: float, crit: float, two_sided: bool) -> float:
    """Power for a test statistic with mean ``shift`` (≥ 0) and critical value ``crit``."""
    upper = _STD_NORMAL.cdf(shift - crit)
    # The far tail: a two-sided test also "rejects" when the estimate lands on the wrong side.
    return upper + _STD_NORMAL.cdf(-shift - crit) if two_sided else upper


def _required_shift(*, alpha: float, power: float, two_sided: bool) -> float:
    """The mean of the test statistic at which the test reaches ``power`` (bisection)."""
    crit = _critical_z(alpha, two_sided)
    if power <= alpha:
        raise _invalid(
            f"Styrkan ({power}) måste vara större än signifikansnivån ({alpha})",
            f"power ({power}) must exceed alpha ({alpha})",
        )
    if not two_sided:
        return crit + _STD_NORMAL.inv_cdf(power)
    # Ignoring the far tail gives a shift that is slightly too large: a safe upper bracket.
    low, high = 0.0, max(crit + _STD_NORMAL.inv_cdf(power), 0.0) + 1.0
    while _power_at(high, crit, True) < power:
        high *= 2.0
    for _ in range(200):
        mid = (low + high) / 2.0
        if _power_at(mid, crit, True) < power:
            low = mid
        else:
            high = mid
        if high - low <= 1e-14 * max(1.0, high):
            break
    return (low + high) / 2.0


def _effective_n(n_per_arm: float, design_effect: float) -> float:
    return n_per_arm / design_effect


def _mde_standardised(
    *, n_per_arm: int, alpha: float, power: float, two_sided: bool, design_effect: float
) -> float:
    shift = _required_shift(alpha=alpha, power=power, two_sided=two_sided)
    return shift / math.sqrt(_effective_n(n_per_arm, design_effect) / 2.0)


def _n_for_standardised(
    *, effect_size: float, alpha: float, power: float, two_sided: bool, design_effect: float
) -> int:
    shift = _required_shift(alpha=alpha, power=power, two_sided=two_sided)
    n_effective = 2.0 * (shift / abs(effect_size)) ** 2
    # Rounded up, with a hair of tolerance so 64.0000000001 (float noise) stays 64.
    return max(2, math.ceil(n_effective * design_effect - 1e-9))


def cohens_h(p2: float, p1: float) -> float:
    """Cohen's h for moving a proportion from ``p1`` to ``p2`` (positive when ``p2 > p1``)."""
    return 2.0 * math.asin(math.sqrt(p2)) - 2.0 * math.asin(math.sqrt(p1))


def _shifted_proportion(base_rate: float, h: float) -> float | None:
    """The proportion ``p2`` with ``cohens_h(p2, base_rate) == h``; None when outside [0, 1]."""
    angle = math.asin(math.sqrt(base_rate)) + h / 2.0
    if angle < 0.0 or angle > math.pi / 2.0:
        return None
    return math.sin(angle) ** 2


def mde_proportions(
    *,
    base_rate: float,
    n_per_arm: int,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
    design_effect: float = 1.0,
    direction: str = "either",
) -> float:
    """Smallest absolute change in a proportion detectable with ``n_per_arm`` in each group.

    Returned positive, as a proportion (0.213 = 21.3 percentage points). ``direction`` says which
    change to look for: ``"increase"``, ``"decrease"`` or ``"either"`` (the smaller of the two
    that exist). Returns ``math.inf`` when no change in that direction within 0–1 can be detected,
    e.g. no decrease from a 5 % base rate with 40 per group: even reaching zero would not show.
    """
    _check_probability("base_rate", base_rate, sv_name="Basnivån")
    _check_n(n_per_arm)
    _check_common(alpha=alpha, power=power, design_effect=design_effect)
    if direction not in MDE_DIRECTIONS:
        raise _invalid(
            f"Okänd riktning {direction!r}; välj en av {', '.join(MDE_DIRECTIONS)}",
            f"Unknown direction {direction!r}; choose one of {', '.join(MDE_DIRECTIONS)}",
        )
    h = _mde_standardised(
        n_per_arm=n_per_arm,
        alpha=alpha,
        power=power,
        two_sided=two_sided,
        design_effect=design_effect,
    )
    changes = []
    if direction in ("either", "increase"):
        up = _shifted_proportion(base_rate, h)
        if up is not None:
            changes.append(up - base_rate)
    if direction in ("either", "decrease"):
        down = _shifted_proportion(base_rate, -h)
        if down is not None:
            changes.append(base_rate - down)
    return min(changes) if changes else math.inf


def n_for_proportions(
    *,
    base_rate: float,
    effect: float,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
    design_effect: float = 1.0,
) -> int:
    """Participants needed per group to detect a change of ``effect`` in a proportion (rounded up).

    ``effect`` is the absolute change, as a proportion: ``-0.02`` for 5 % → 3 %, ``0.02`` for
    5 % → 7 %. The new proportion ``base_rate + effect`` must lie within 0–1.
    """
    _check_probability("base_rate", base_rate, sv_name="Basnivån")
    _check_common(alpha=alpha, power=power, design_effect=design_effect)
    target_rate = base_rate + effect
    if effect == 0 or not (0.0 <= target_rate <= 1.0):
        raise _invalid(
            f"Effekten måste vara skild från 0 och ge en andel mellan 0 och 1 (fick {effect!r})",
            f"effect must be non-zero and give a proportion between 0 and 1 (got {effect!r})",
        )
    return _n_for_standardised(
        effect_size=cohens_h(target_rate, base_rate),
        alpha=alpha,
        power=power,
        two_sided=two_sided,
        design_effect=design_effect,
    )


def mde_means(
    *,
    sd: float,
    n_per_arm: int,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
    design_effect: float = 1.0,
) -> float:
    """Smallest difference in means detectable with ``n_per_arm`` per group, in the outcome's unit.

    ``sd`` is the outcome's standard deviation within a group (e.g. 15 merit points).
    """
    _check_sd(sd)
    _check_n(n_per_arm)
    _check_common(alpha=alpha, power=power, design_effect=design_effect)
    return sd * _mde_standardised(
        n_per_arm=n_per_arm,
        alpha=alpha,
        power=power,
        two_sided=two_sided,
        design_effect=design_effect,
    )


def n_for_means(
    *,
    sd: float,
    effect: float,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
    design_effect: float = 1.0,
) -> int:
    """Participants needed per group to detect a difference ``effect`` in means (rounded up)."""
    _check_sd(sd)
    _check_common(alpha=alpha, power=power, design_effect=design_effect)
    if not (isinstance(effect, int | float) and effect != 0 and math.isfinite(effect)):
        raise _invalid(
            f"Effekten måste vara ett tal skilt från 0 (fick {effect!r})",
            f"effect must be a non-zero number (got {effect!r})",
        )
    return _n_for_standardised(
        effect_size=effect / sd,
        alpha=alpha,
        power=power,
        two_sided=two_sided,
        design_effect=design_effect,
    )


def achieved_power(
    *,
    effect_size: float,
    n_per_arm: float,
    alpha: float = 0.05,
    two_sided: bool = True,
    design_effect: float = 1.0,
) -> float:
    """Power of the test for a standardised effect (Cohen's h or d) with ``n_per_arm`` per group."""
    _check_probability("alpha", alpha, sv_name="Signifikansnivån (alfa)")
    shift = abs(effect_size) * math.sqrt(_effective_n(n_per_arm, design_effect) / 2.0)
    return _power_at(shift, _critical_z(alpha, two_sided), two_sided)


def _pct_sv(x: float) -> str:
    return f"{x * 100:.1f}".replace(".", ",").replace("-", "−")


def _pct_en(x: float) -> str:
    return f"{x * 100:.1f}"


def _num_sv(x: float) -> str:
    return f"{x:.2f}".replace(".", ",").replace("-", "−")


@dataclass(frozen=True)
class PowerResult:
    """A power calculation as the application page and the E12 note show it."""

    #: "proportion" (binary outcome) or "mean" (continuous outcome).
    outcome: str
    #: "mde" (the sample was given) or "n" (the effect was given).
    solved_for: str
    n_per_arm: int
    #: Participants per arm after dividing by the design effect.
    effective_n_per_arm: float
    #: Absolute effect: a proportion (0.213 = 21.3 points) or a difference in the outcome's unit.
    #: ``None`` when no change within 0–1 can be detected.
    effect: float | None
    #: Cohen's h (proportions) or d (means); ``None`` with ``effect``.
    effect_size: float | None
    base_rate: float | None
    sd: float | None
    alpha: float
    power: float
    two_sided: bool
    design_effect: float
    detectable: bool
    message_sv: str
    message_en: str
    method: str

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict."""
        return asdict(self)


_METHOD = (
    "Two-sample z-test, equal arms (normal approximation, as statsmodels NormalIndPower); "
    "proportions on Cohen's h (arcsine), means on Cohen's d; effective n = n / design effect."
)


def _sides(two_sided: bool) -> tuple[str, str]:
    return ("tvåsidigt", "two-sided") if two_sided else ("ensidigt", "one-sided")


def power_summary(
    *,
    base_rate: float | None = None,
    sd: float | None = None,
    n_per_arm: int | None = None,
    effect: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
    design_effect: float = 1.0,
    direction: str = "either",
) -> PowerResult:
    """One power calculation with a plain sentence in Swedish and English.

    Give exactly one of ``base_rate`` (binary outcome) or ``sd`` (continuous outcome), and exactly
    one of ``n_per_arm`` (→ minimum detectable effect) or ``effect`` (→ sample needed per arm).
    """
    if (base_rate is None) == (sd is None):
        raise _invalid(
            "Ange antingen basnivå (andel) eller standardavvikelse, inte båda",
            "Give either base_rate (proportion) or sd (mean), not both or neither",
        )
    if (n_per_arm is None) == (effect is None):
        raise _invalid(
            "Ange antingen antal per grupp eller effekt, inte båda",
            "Give either n_per_arm or effect, not both or neither",
        )
    conf_sv = f"α = {alpha:g}; {power * 100:g} %".replace(".", ",")
    conf_en = f"α = {alpha:g}; {power * 100:g} %"
    sides_sv, sides_en = _sides(two_sided)
    de_sv = f", designeffekt {_num_sv(design_effect)}" if design_effect != 1.0 else ""
    de_en = f", design effect {design_effect:.2f}" if design_effect != 1.0 else ""

    def build(
        *,
        outcome: str,
        solved_for: str,
        n: int,
        effect: float | None,
        effect_size: float | None,
        detectable: bool,
        message_sv: str,
        message_en: str,
    ) -> PowerResult:
        return PowerResult(
            outcome=outcome,
            solved_for=solved_for,
            n_per_arm=n,
            effective_n_per_arm=n / design_effect,
            effect=effect,
            effect_size=effect_size,
            base_rate=base_rate,
            sd=sd,
            alpha=alpha,
            power=power,
            two_sided=two_sided,
            design_effect=design_effect,
            detectable=detectable,
            message_sv=message_sv,
            message_en=message_en,
            method=_METHOD,
        )

    if base_rate is not None:
        if n_per_arm is not None:
            mde = mde_proportions(
                base_rate=base_rate,
                n_per_arm=n_per_arm,
                alpha=alpha,
                power=power,
                two_sided=two_sided,
                design_effect=design_effect,
                direction=direction,
            )
            detectable = math.isfinite(mde)
            h = (
                _mde_standardised(
                    n_per_arm=n_per_arm,
                    alpha=alpha,
                    power=power,
                    two_sided=two_sided,
                    design_effect=design_effect,
                )
                if detectable
                else None
            )
            if detectable:
                msg_sv = (
                    f"Med {n_per_arm} per grupp och basnivån {_pct_sv(base_rate)} % är den minsta "
                    f"effekt som kan upptäckas {_pct_sv(mde)} procentenheter "
                    f"({sides_sv} test, {conf_sv} styrka{de_sv})."
                )
                msg_en = (
                    f"With {n_per_arm} per group and a base rate of {_pct_en(base_rate)} %, the "
                    f"smallest detectable effect is {_pct_en(mde)} percentage points "
                    f"({sides_en} test, {conf_en} power{de_en})."
                )
            else:
                msg_sv = (
                    f"Med {n_per_arm} per grupp och basnivån {_pct_sv(base_rate)} % går ingen "
                    f"förändring att upptäcka ({sides_sv} test, {conf_sv} styrka{de_sv}): "
                    f"fler deltagare eller ett vanligare utfall behövs."
                )
                msg_en = (
                    f"With {n_per_arm} per group and a base rate of {_pct_en(base_rate)} %, no "
                    f"change can be detected ({sides_en} test, {conf_en} power{de_en}): more "
                    f"participants or a more common outcome are needed."
                )
            return build(
                outcome="proportion",
                solved_for="mde",
                n=n_per_arm,
                effect=mde if detectable else None,
                effect_size=h,
                detectable=detectable,
                message_sv=msg_sv,
                message_en=msg_en,
            )
        assert effect is not None
        n = n_for_proportions(
            base_rate=base_rate,
            effect=effect,
            alpha=alpha,
            power=power,
            two_sided=two_sided,
            design_effect=design_effect,
        )
        new_rate = base_rate + effect
        return build(
            outcome="proportion",
            solved_for="n",
            n=n,
            effect=abs(effect),
            effect_size=cohens_h(new_rate, base_rate),
            detectable=True,
            message_sv=(
                f"För att upptäcka en förändring från {_pct_sv(base_rate)} % till "
                f"{_pct_sv(new_rate)} % behövs {n} deltagare per grupp "
                f"({sides_sv} test, {conf_sv} styrka{de_sv})."
            ),
            message_en=(
                f"To detect a change from {_pct_en(base_rate)} % to {_pct_en(new_rate)} %, "
                f"{n} participants per group are needed ({sides_en} test, {conf_en} power{de_en})."
            ),
        )

    assert sd is not None
    if n_per_arm is not None:
        mde = mde_means(
            sd=sd,
            n_per_arm=n_per_arm,
            alpha=alpha,
            power=power,
            two_sided=two_sided,
            design_effect=design_effect,
        )
        return build(
            outcome="mean",
            solved_for="mde",
            n=n_per_arm,
            effect=mde,
            effect_size=mde / sd,
            detectable=True,
            message_sv=(
                f"Med {n_per_arm} per grupp är den minsta skillnad i medelvärde som kan upptäckas "
                f"{_num_sv(mde)} ({_num_sv(mde / sd)} standardavvikelser; {sides_sv} test, "
                f"{conf_sv} styrka{de_sv})."
            ),
            message_en=(
                f"With {n_per_arm} per group, the smallest detectable difference in means is "
                f"{mde:.2f} ({mde / sd:.2f} standard deviations; {sides_en} test, "
                f"{conf_en} power{de_en})."
            ),
        )
    assert effect is not None
    n = n_for_means(
        sd=sd,
        effect=effect,
        alpha=alpha,
        power=power,
        two_sided=two_sided,
        design_effect=design_effect,
    )
    return build(
        outcome="mean",
        solved_for="n",
        n=n,
        effect=abs(effect),
        effect_size=effect / sd,
        detectable=True,
        message_sv=(
            f"För att upptäcka en skillnad i medelvärde på {_num_sv(abs(effect))} behövs {n} "
            f"deltagare per grupp ({sides_sv} test, {conf_sv} styrka{de_sv})."
        ),
        message_en=(
            f"To detect a difference in means of {abs(effect):.2f}, {n} participants per group "
            f"are needed ({sides_en} test, {conf_en} power{de_en})."
        ),
    )


def did_variance_factor(*, pre_years: int, post_years: int, comparison_units: int) -> float:
    """Var(DiD) / σ² for one treated unit against ``comparison_units`` on a balanced yearly panel
    with independent errors of variance σ²: ``(1/T₀ + 1/T₁)·(1 + 1/J)``."""
    if pre_years < 1 or post_years < 1 or comparison_units < 1:
        raise _invalid(
            "Det behövs minst ett år före, ett år efter och en jämförelseenhet",
            "At least one year before, one year after and one comparison unit are needed",
        )
    return (1.0 / pre_years + 1.0 / post_years) * (1.0 + 1.0 / comparison_units)


def mde_did(
    *,
    residual_sd: float,
    pre_years: int,
    post_years: int,
    comparison_units: int,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = True,
) -> float:
    """The smallest effect a difference-in-differences could detect with ``power`` at ``alpha``.

    ``residual_sd`` is the standard deviation of a unit-year value around its unit and year effects,
    from the official history. Errors are taken as independent across years, so with serially
    correlated errors the true minimum detectable effect is larger.
    """
    _check_common(alpha=alpha, power=power, design_effect=1.0)
    if not residual_sd >= 0 or not math.isfinite(residual_sd):
        raise _invalid(
            f"Residualernas standardavvikelse måste vara ett tal ≥ 0 (fick {residual_sd!r})",
            f"the residual standard deviation must be a number ≥ 0 (got {residual_sd!r})",
        )
    factor = did_variance_factor(
        pre_years=pre_years, post_years=post_years, comparison_units=comparison_units
    )
    return (
        _required_shift(alpha=alpha, power=power, two_sided=two_sided)
        * residual_sd
        * math.sqrt(factor)
    )
