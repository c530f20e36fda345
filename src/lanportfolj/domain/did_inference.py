"""Difference-in-differences with standard errors, a placebo test, an event study and a pre-trend
test, for yearly aggregate values of a treated unit and one or more comparison units.

The inference is statsmodels' (OLS / WLS with its covariance estimators), not hand-written: this
module only builds the two-way fixed-effects design from plain data and reads the results back.

* **Specification.** ``y[u, t] = α_u + λ_t + β·D[u, t] + ε`` with ``D = 1`` for the treated unit
  from ``start_year`` on; β is the DiD. With one comparison unit and one year each side it is the
  classic 2×2 ``(T₁ − T₀) − (C₁ − C₀)``; on a balanced panel it equals the post-mean minus pre-mean
  difference of ``domain.did``.
* **Standard errors.** When every value has a sampling variance (from a reported standard error or
  a count: binomial for shares, Poisson for counts and rates) the model is weighted by the inverse
  variances with the scale fixed at one ("from counts"): the interval reflects sampling error only.
  Otherwise, with at least two comparison units, errors are clustered by unit (t with G − 1 degrees
  of freedom), which allows serial correlation within a unit. With few units a cluster-robust error
  is itself uncertain, so a **permutation (placebo) test** ranks the treated unit's estimate among
  the same estimate for each comparison unit pretending to be treated.
* **Event study and pre-trend.** One coefficient per year relative to the last year before the start
  (the reference, fixed at 0). With two or more pre-period years, a linear difference in pre-period
  trends (treated × year on the pre-period only) is estimated with its interval: the parallel-trends
  assumption is plausible when that difference is small, and the interval says how small.

Plain data in, frozen results out: no database, no HTTP.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lanportfolj.domain.plain import plain_asdict

#: Above this many comparison units a placebo test adds little and costs one fit per unit.
MAX_PLACEBO_UNITS = 60


@dataclass(frozen=True)
class Observation:
    """One unit's value in one year, with its sampling variance when it is known."""

    unit: str
    year: int
    value: float
    variance: float | None = None


def sampling_variance(
    *,
    value: float,
    kind: str,
    n: int | None = None,
    std_error: float | None = None,
    scale: float = 1.0,
) -> float | None:
    """The sampling variance of a reported value, or None when it cannot be known.

    A standard error wins. Otherwise a count ``n`` gives the binomial variance for a share
    (``kind="share"``, values on ``scale`` 1 or 100) and the Poisson variance for a count
    (``kind="count"``: the value itself) or a rate per ``scale`` (``kind="rate"``: ``value·scale/n``).
    Any other kind needs a standard error.
    """
    if std_error is not None:
        return float(std_error) ** 2
    if n is None or n <= 0:
        return None
    if kind == "share":
        p = value / scale
        if not 0.0 <= p <= 1.0:
            return None
        return p * (1.0 - p) / n * scale**2
    if kind == "count":
        return max(value, 0.0)
    if kind == "rate":
        return max(value, 0.0) * scale / n
    return None


@dataclass(frozen=True)
class Placebo:
    """The permutation test: the treated unit's estimate ranked among the comparison units'."""

    #: Comparison unit → its estimate when it pretends to be treated (the treated unit left out).
    estimates: dict[str, float]
    #: 1 = the largest absolute estimate of all.
    rank: int
    units: int
    p_value: float


@dataclass(frozen=True)
class EventStudyRow:
    year: int
    relative_year: int
    estimate: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    reference: bool = False


@dataclass(frozen=True)
class PreTrend:
    """Linear difference in pre-period trends (treated minus comparison, per year)."""

    slope: float
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    years: tuple[int, ...]

    @property
    def bound(self) -> float | None:
        """Parallel within ± this per year: the interval's farthest end from zero."""
        if self.ci_low is None or self.ci_high is None:
            return None
        return max(abs(self.ci_low), abs(self.ci_high))


@dataclass(frozen=True)
class PanelDid:
    """A DiD estimate with its interval, how the interval was made, and the diagnostics."""

    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    confidence: float
    #: ``sampling`` (inverse-variance weights, scale fixed), ``cluster`` (by unit) or ``none`` (no
    #: interval can be given: no sampling variances and fewer than two comparison units).
    se_method: str
    method: str
    treated_unit: str
    comparison_units: tuple[str, ...]
    pre_years: tuple[int, ...]
    post_years: tuple[int, ...]
    observations: int
    placebo: Placebo | None = None
    event_study: tuple[EventStudyRow, ...] = ()
    pre_trend: PreTrend | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = plain_asdict(self)
        data["pre_years"] = list(self.pre_years)
        data["post_years"] = list(self.post_years)
        data["comparison_units"] = list(self.comparison_units)
        data["event_study"] = [plain_asdict(r) for r in self.event_study]
        data["notes"] = list(self.notes)
        if self.pre_trend is not None:
            data["pre_trend"]["bound"] = self.pre_trend.bound
        return data


def _check(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(
            f"Konfidensnivån måste ligga mellan 0 och 1 (fick {confidence!r}) / "
            f"confidence must lie between 0 and 1 (got {confidence!r})"
        )


def _balanced(
    observations: Iterable[Observation], treated: str
) -> tuple[list[Observation], list[str], list[int]]:
    """Only years the treated unit has, and units with at least one of those years."""
    obs = [o for o in observations if math.isfinite(o.value)]
    treated_years = {o.year for o in obs if o.unit == treated}
    obs = [o for o in obs if o.year in treated_years]
    units = [treated, *sorted({o.unit for o in obs if o.unit != treated})]
    years = sorted(treated_years)
    return obs, units, years


def design(
    obs: Sequence[Observation], units: Sequence[str], years: Sequence[int], columns: np.ndarray
) -> np.ndarray:
    """Intercept, unit dummies (first unit left out), year dummies (first year left out), then
    ``columns``: the two-way fixed-effects design."""
    unit_index = {u: i for i, u in enumerate(units)}
    year_index = {y: i for i, y in enumerate(years)}
    x = np.zeros((len(obs), 1 + (len(units) - 1) + (len(years) - 1) + columns.shape[1]))
    x[:, 0] = 1.0
    for row, o in enumerate(obs):
        if unit_index[o.unit] > 0:
            x[row, unit_index[o.unit]] = 1.0
        if year_index[o.year] > 0:
            x[row, len(units) - 1 + year_index[o.year]] = 1.0
    x[:, x.shape[1] - columns.shape[1] :] = columns
    return x


@dataclass(frozen=True)
class _Fit:
    params: np.ndarray
    se: np.ndarray | None
    ci: np.ndarray | None
    p: np.ndarray | None
    method: str


def _fit(
    y: np.ndarray,
    x: np.ndarray,
    *,
    variances: np.ndarray | None,
    groups: np.ndarray | None,
    confidence: float,
) -> _Fit:
    import statsmodels.api as sm  # type: ignore[import-untyped]

    alpha = 1.0 - confidence
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise ValueError("design is rank deficient")
    if variances is not None:
        res = sm.WLS(y, x, weights=1.0 / variances).fit(cov_type="fixed scale")
        method = "sampling"
    elif groups is not None and len(set(groups.tolist())) >= 3:
        res = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        method = "cluster"
    else:
        # one comparison unit and no sampling error known: residuals would mix sampling noise with
        # the units' own shocks on a handful of degrees of freedom, so no interval is invented
        res = sm.OLS(y, x).fit()
        return _Fit(np.asarray(res.params), None, None, None, "none")
    se = np.asarray(res.bse)
    ci = np.asarray(res.conf_int(alpha=alpha))
    p = np.asarray(res.pvalues)
    # a degenerate fit (no variation left) gives no usable interval; never a NaN in the JSON
    if not (np.all(np.isfinite(se)) and np.all(np.isfinite(ci)) and np.all(np.isfinite(p))):
        return _Fit(np.asarray(res.params), None, None, None, "none")
    return _Fit(np.asarray(res.params), se, ci, p, method)


def _arrays(obs: Sequence[Observation]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    y = np.array([o.value for o in obs], dtype=float)
    variances = (
        np.array([o.variance for o in obs], dtype=float)
        if obs and all(o.variance is not None and o.variance > 0 for o in obs)
        else None
    )
    groups = np.array([o.unit for o in obs])
    _, codes = np.unique(groups, return_inverse=True)
    return y, variances, codes


def _did_estimate(
    obs: Sequence[Observation],
    units: Sequence[str],
    years: Sequence[int],
    treated: str,
    start_year: int,
    confidence: float,
    *,
    weighted: bool = True,
) -> _Fit:
    d = np.array([[1.0 if o.unit == treated and o.year >= start_year else 0.0] for o in obs])
    x = design(obs, units, years, d)
    y, variances, groups = _arrays(obs)
    return _fit(
        y,
        x,
        variances=variances if weighted else None,
        groups=groups,
        confidence=confidence,
    )


def did_panel(
    observations: Iterable[Observation],
    *,
    treated: str,
    start_year: int,
    confidence: float = 0.95,
    method: str = "did_twfe",
) -> PanelDid:
    """The two-way fixed-effects DiD of ``treated`` against every other unit, from ``start_year``.

    Only years the treated unit has are used. Without a pre- or a post-period year, or without a
    comparison unit, the result has no estimate and says why in ``notes``.
    """
    _check(confidence)
    obs, units, years = _balanced(observations, treated)
    comparison = tuple(units[1:])
    pre = tuple(y for y in years if y < start_year)
    post = tuple(y for y in years if y >= start_year)
    empty = PanelDid(
        estimate=None,
        se=None,
        ci_low=None,
        ci_high=None,
        p_value=None,
        confidence=confidence,
        se_method="none",
        method=method,
        treated_unit=treated,
        comparison_units=comparison,
        pre_years=pre,
        post_years=post,
        observations=len(obs),
    )
    if not comparison or not pre or not post:
        why = (
            "no_comparison" if not comparison else "no_pre_period" if not pre else "no_post_period"
        )
        return replace(empty, notes=(why,))
    # a comparison unit needs a value on each side of the start to tell anything
    keep = {
        u
        for u in comparison
        if any(o.unit == u and o.year < start_year for o in obs)
        and any(o.unit == u and o.year >= start_year for o in obs)
    }
    obs = [o for o in obs if o.unit == treated or o.unit in keep]
    units = [treated, *sorted(keep)]
    comparison = tuple(units[1:])
    if not comparison:
        return replace(empty, comparison_units=(), notes=("no_comparison",))
    fit = _did_estimate(obs, units, years, treated, start_year, confidence)
    k = -1
    placebo = _placebo(obs, units, years, treated, start_year, float(fit.params[k]))
    return PanelDid(
        estimate=float(fit.params[k]),
        se=None if fit.se is None else float(fit.se[k]),
        ci_low=None if fit.ci is None else float(fit.ci[k][0]),
        ci_high=None if fit.ci is None else float(fit.ci[k][1]),
        p_value=None if fit.p is None else float(fit.p[k]),
        confidence=confidence,
        se_method=fit.method,
        method=method,
        treated_unit=treated,
        comparison_units=comparison,
        pre_years=pre,
        post_years=post,
        observations=len(obs),
        placebo=placebo,
        event_study=event_study(obs, treated=treated, start_year=start_year, confidence=confidence),
        pre_trend=pre_trend(obs, treated=treated, start_year=start_year, confidence=confidence),
    )


def did_two_by_two(
    observations: Iterable[Observation],
    *,
    treated: str,
    comparison: str,
    pre_year: int,
    post_year: int,
    confidence: float = 0.95,
) -> PanelDid:
    """The classic 2×2: two units, one year before and one after, as the same regression."""
    obs = [
        o
        for o in observations
        if o.unit in (treated, comparison) and o.year in (pre_year, post_year)
    ]
    result = did_panel(
        obs, treated=treated, start_year=post_year, confidence=confidence, method="did_2x2"
    )
    # a placebo among one comparison unit says nothing
    return replace(result, placebo=None, event_study=(), pre_trend=None)


def _placebo(
    obs: Sequence[Observation],
    units: Sequence[str],
    years: Sequence[int],
    treated: str,
    start_year: int,
    actual: float,
) -> Placebo | None:
    comparison = list(units[1:])
    if len(comparison) < 2 or len(comparison) > MAX_PLACEBO_UNITS:
        return None
    # the treated unit is left out: each comparison unit is compared with the other comparison units
    others = [o for o in obs if o.unit != treated]
    estimates: dict[str, float] = {}
    for unit in comparison:
        unit_years = sorted({o.year for o in others if o.unit == unit})
        if not any(y < start_year for y in unit_years) or not any(
            y >= start_year for y in unit_years
        ):
            continue
        sub = [o for o in others if o.year in unit_years]
        order = [unit, *[u for u in comparison if u != unit and any(o.unit == u for o in sub)]]
        try:
            fit = _did_estimate(sub, order, unit_years, unit, start_year, 0.95, weighted=False)
        except ValueError:
            continue
        estimates[unit] = float(fit.params[-1])
    if len(estimates) < 2:
        return None
    # ties count against the treated unit: the p-value is never flattering
    larger = sum(1 for e in estimates.values() if abs(e) >= abs(actual) - 1e-12)
    strictly = sum(1 for e in estimates.values() if abs(e) > abs(actual) + 1e-12)
    return Placebo(
        estimates=estimates,
        rank=1 + strictly,
        units=len(estimates) + 1,
        p_value=(1 + larger) / (len(estimates) + 1),
    )


def event_study(
    observations: Iterable[Observation],
    *,
    treated: str,
    start_year: int,
    confidence: float = 0.95,
) -> tuple[EventStudyRow, ...]:
    """One coefficient per year relative to the last pre-period year (the reference, 0).

    Empty without a comparison unit, a pre-period or a post-period year.
    """
    obs, units, years = _balanced(observations, treated)
    pre = [y for y in years if y < start_year]
    if len(units) < 2 or not pre or not any(y >= start_year for y in years):
        return ()
    reference = pre[-1]
    event_years = [y for y in years if y != reference]
    columns = np.array(
        [[1.0 if o.unit == treated and o.year == e else 0.0 for e in event_years] for o in obs]
    )
    x = design(obs, units, years, columns)
    y, variances, groups = _arrays(obs)
    try:
        fit = _fit(y, x, variances=variances, groups=groups, confidence=confidence)
    except ValueError:
        return ()
    first = x.shape[1] - len(event_years)
    rows = [
        EventStudyRow(
            year=e,
            relative_year=e - start_year,
            estimate=float(fit.params[first + i]),
            se=None if fit.se is None else float(fit.se[first + i]),
            ci_low=None if fit.ci is None else float(fit.ci[first + i][0]),
            ci_high=None if fit.ci is None else float(fit.ci[first + i][1]),
        )
        for i, e in enumerate(event_years)
    ]
    rows.append(EventStudyRow(reference, reference - start_year, 0.0, None, None, None, True))
    return tuple(sorted(rows, key=lambda r: r.year))


def pre_trend(
    observations: Iterable[Observation],
    *,
    treated: str,
    start_year: int,
    confidence: float = 0.95,
) -> PreTrend | None:
    """The treated unit's pre-period trend minus the comparison units', per year, with its
    interval: unit and year effects plus ``treated × year`` on the years before ``start_year``.

    None with fewer than two pre-period years or without a comparison unit.
    """
    obs, units, years = _balanced(observations, treated)
    pre_years = [y for y in years if y < start_year]
    obs = [o for o in obs if o.year < start_year]
    if len(pre_years) < 2 or len(units) < 2:
        return None
    slope = np.array([[float(o.year - pre_years[0]) if o.unit == treated else 0.0] for o in obs])
    x = design(obs, units, pre_years, slope)
    y, variances, groups = _arrays(obs)
    try:
        fit = _fit(y, x, variances=variances, groups=groups, confidence=confidence)
    except ValueError:
        return None
    return PreTrend(
        slope=float(fit.params[-1]),
        se=None if fit.se is None else float(fit.se[-1]),
        ci_low=None if fit.ci is None else float(fit.ci[-1][0]),
        ci_high=None if fit.ci is None else float(fit.ci[-1][1]),
        p_value=None if fit.p is None else float(fit.p[-1]),
        years=tuple(pre_years),
    )


@dataclass(frozen=True)
class ResidualSpread:
    """How much a unit-year value varies around its unit and year effects, from history."""

    sd: float
    units: int
    years: tuple[int, ...]
    df: int


def residual_spread(observations: Iterable[Observation]) -> ResidualSpread | None:
    """The residual standard deviation of ``y = α_u + λ_t + ε`` over every unit and year given
    (OLS, ``√(SSR / df)``); None without two units, two years and a residual degree of freedom."""
    import statsmodels.api as sm  # type: ignore[import-untyped]

    obs = [o for o in observations if math.isfinite(o.value)]
    units = sorted({o.unit for o in obs})
    years = sorted({o.year for o in obs})
    if len(units) < 2 or len(years) < 2:
        return None
    x = design(obs, units, years, np.zeros((len(obs), 0)))
    res = sm.OLS(np.array([o.value for o in obs], dtype=float), x).fit()
    if res.df_resid < 1:
        return None
    return ResidualSpread(
        sd=float(math.sqrt(res.scale)), units=len(units), years=tuple(years), df=int(res.df_resid)
    )
