"""Difference-in-differences for yearly aggregate series: a treated unit against a comparison unit.

A borrower may report an indicator both for the area the investment serves and for a comparison
unit (another school, another district), as the Örebro outdoor-pedagogy evaluation compared pupils'
grades with a school that did not take part. The impact report then shows the raw change next to
the difference-in-differences (DiD) estimate

    (treated after − treated before) − (comparison after − comparison before)

with its assumptions and plain warnings when the data make the estimate doubtful. Statistics here
are floats; the values come from yearly aggregates (one number per unit and year), not from
individual records.

Uncertainty is shown only when standard errors, or counts for proportions, are supplied: the
confidence interval is a normal approximation that treats each unit-year estimate as independent
(sampling error only, no serial correlation), which the result states.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist

from lanportfolj.domain.plain import plain_asdict

#: Default tolerance for diverging pre-trends: the yearly slopes may differ by at most this share
#: of the pre-period level (0.05 = 5 % of the level per year) before a warning is given.
DEFAULT_TREND_TOLERANCE = 0.05


def _invalid(sv: str, en: str) -> ValueError:
    return ValueError(f"{sv} / {en}")


@dataclass(frozen=True)
class Series:
    """One unit's yearly values of an indicator.

    Give ``se`` (a standard error per year) or, for proportions, ``n`` (the number of individuals
    behind each year's share); the standard error is then ``√(p(1 − p)/n)``. Values of a proportion
    may be stated as shares (``scale=1``) or percentages (``scale=100``).
    """

    unit: str
    values: Mapping[int, float]
    se: Mapping[int, float] | None = None
    n: Mapping[int, int] | None = None
    scale: float = 1.0

    def variance(self, year: int) -> float | None:
        """Sampling variance of the year's value, or None when it cannot be known."""
        if self.se is not None and year in self.se:
            return float(self.se[year]) ** 2
        if self.n is not None and year in self.n:
            count = self.n[year]
            share = float(self.values[year]) / self.scale
            if count <= 0 or not 0.0 <= share <= 1.0:
                raise _invalid(
                    f"{self.unit} {year}: andelen måste ligga mellan 0 och {self.scale:g} och "
                    f"antalet vara större än 0 för att ge ett standardfel",
                    f"{self.unit} {year}: a share must lie between 0 and {self.scale:g} and the "
                    f"count be above 0 to give a standard error",
                )
            return share * (1.0 - share) / count * self.scale**2
        return None


@dataclass(frozen=True)
class DidWarning:
    """Why a DiD estimate may mislead, for the report's reader."""

    code: str
    message_sv: str
    message_en: str


@dataclass(frozen=True)
class DidResult:
    """A DiD estimate with what it rests on."""

    #: None when there is no pre- or no post-period to compare.
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float
    pre_years: tuple[int, ...]
    post_years: tuple[int, ...]
    #: Raw change of each unit, mean of post-period minus mean of pre-period.
    change_treated: float | None
    change_comparison: float | None
    #: Least-squares slope per year over the pre-period; None with fewer than two pre years.
    pre_trend_treated: float | None
    pre_trend_comparison: float | None
    warnings: tuple[DidWarning, ...]
    method: str
    assumptions_sv: str
    assumptions_en: str
    treated_unit: str
    comparison_unit: str

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready dict (years as lists, warnings as dicts)."""
        data = plain_asdict(self)
        data["pre_years"] = list(self.pre_years)
        data["post_years"] = list(self.post_years)
        data["warnings"] = [plain_asdict(w) for w in self.warnings]
        return data


def _slope(points: list[tuple[int, float]]) -> float | None:
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return sxy / sxx


def _mean(series: Series, years: Iterable[int]) -> float:
    ys = list(years)
    return sum(float(series.values[y]) for y in ys) / len(ys)


def _variance_of_mean(series: Series, years: tuple[int, ...]) -> float | None:
    total = 0.0
    for year in years:
        v = series.variance(year)
        if v is None:
            return None
        total += v
    return total / len(years) ** 2


def _gaps(years: Iterable[int]) -> list[int]:
    present = sorted(set(years))
    if not present:
        return []
    return [y for y in range(present[0], present[-1] + 1) if y not in present]


def _sv(x: float, sign: str = "") -> str:
    """A number the Swedish way: decimal comma, true minus sign."""
    return format(x, f"{sign}.2f").replace(".", ",").replace("-", "−")


def _fmt_years(years: Iterable[int]) -> str:
    return ", ".join(str(y) for y in sorted(years))


def _coverage_warnings(
    treated: Series,
    comparison: Series,
    span: tuple[int, int],
    gap_span: tuple[int, int] | None = None,
) -> list[DidWarning]:
    """Years reported for one unit only within ``span``, and holes in either series within
    ``gap_span`` (default: the same span)."""
    low, high = span
    gap_low, gap_high = gap_span or span
    warnings: list[DidWarning] = []
    t_years = {y for y in treated.values if low <= y <= high}
    c_years = {y for y in comparison.values if low <= y <= high}
    only_t, only_c = t_years - c_years, c_years - t_years
    if only_t or only_c:
        parts_sv, parts_en = [], []
        if only_t:
            parts_sv.append(f"{comparison.unit} saknar {_fmt_years(only_t)}")
            parts_en.append(f"{comparison.unit} lacks {_fmt_years(only_t)}")
        if only_c:
            parts_sv.append(f"{treated.unit} saknar {_fmt_years(only_c)}")
            parts_en.append(f"{treated.unit} lacks {_fmt_years(only_c)}")
        warnings.append(
            DidWarning(
                "unmatched_years",
                "Enheterna har inte rapporterat samma år ("
                + "; ".join(parts_sv)
                + "); bara gemensamma år används. Har jämförelseenheten bytts eller ändrats?",
                "The units do not report the same years ("
                + "; ".join(parts_en)
                + "); only common years are used. Has the comparison unit changed?",
            )
        )
    for series in (treated, comparison):
        holes = _gaps(y for y in series.values if gap_low <= y <= gap_high)
        if holes:
            warnings.append(
                DidWarning(
                    "gap_in_series",
                    f"{series.unit} har ett uppehåll i serien ({_fmt_years(holes)} saknas).",
                    f"{series.unit} has a gap in its series ({_fmt_years(holes)} missing).",
                )
            )
    return warnings


def _trend_warnings(
    *,
    treated: Series,
    comparison: Series,
    pre_years: tuple[int, ...],
    tolerance: float,
) -> tuple[float | None, float | None, list[DidWarning]]:
    slope_t = _slope([(y, float(treated.values[y])) for y in pre_years])
    slope_c = _slope([(y, float(comparison.values[y])) for y in pre_years])
    if slope_t is None or slope_c is None:
        return (
            None,
            None,
            [
                DidWarning(
                    "single_pre_period",
                    "Bara ett år före insatsen: det går inte att pröva om enheterna utvecklades "
                    "parallellt innan (antagandet om parallella trender).",
                    "Only one year before the intervention: whether the units moved in parallel "
                    "beforehand (the parallel-trends assumption) cannot be checked.",
                )
            ],
        )
    level = sum(abs(float(s.values[y])) for s in (treated, comparison) for y in pre_years) / (
        2 * len(pre_years)
    )
    gap = abs(slope_t - slope_c)
    # Relative to the level so that a trend of 1 point a year is small for 300 but large for 4.
    if gap > tolerance * level:
        return (
            slope_t,
            slope_c,
            [
                DidWarning(
                    "diverging_pre_trends",
                    f"Trenderna före insatsen skiljer sig: {treated.unit} {_sv(slope_t, '+')} "
                    f"per år, {comparison.unit} {_sv(slope_c, '+')} per år (gräns "
                    f"{tolerance:.0%} av nivån {_sv(level)} per år). Skattningen kan spegla olika "
                    f"trender snarare än insatsen.",
                    f"The trends before the intervention differ: {treated.unit} {slope_t:+.2f} a "
                    f"year, {comparison.unit} {slope_c:+.2f} a year (limit {tolerance:.0%} of the "
                    f"level {level:.2f} a year). The estimate may reflect different trends rather "
                    f"than the intervention.",
                )
            ],
        )
    return slope_t, slope_c, []


_ASSUMPTIONS_SV = (
    "Skattningen förutsätter att den behandlade enheten utan insatsen hade förändrats lika mycket "
    "som jämförelseenheten (parallella trender), att inget annat som bara berör den ena enheten "
    "hände samtidigt, och att båda enheterna mäts på samma sätt hela perioden."
)
_ASSUMPTIONS_EN = (
    "The estimate assumes that without the intervention the treated unit would have changed as "
    "much as the comparison unit (parallel trends), that nothing else affecting only one unit "
    "happened at the same time, and that both units are measured the same way throughout."
)
_CI_SV = (
    " Konfidensintervallet är en normalapproximation som behandlar varje års värde som en "
    "oberoende skattning (endast urvalsfel)."
)
_CI_EN = (
    " The confidence interval is a normal approximation treating each year's value as an "
    "independent estimate (sampling error only)."
)


def _estimate(
    *,
    treated: Series,
    comparison: Series,
    pre_years: tuple[int, ...],
    post_years: tuple[int, ...],
    trend_years: tuple[int, ...],
    confidence: float,
    tolerance: float,
    method: str,
    warnings: list[DidWarning],
) -> DidResult:
    slope_t: float | None = None
    slope_c: float | None = None
    trend_w: list[DidWarning] = []
    if trend_years:
        slope_t, slope_c, trend_w = _trend_warnings(
            treated=treated, comparison=comparison, pre_years=trend_years, tolerance=tolerance
        )
    warnings = warnings + trend_w
    estimate = se = ci_low = ci_high = change_t = change_c = None
    ci_note_sv = ci_note_en = ""
    if pre_years and post_years:
        change_t = _mean(treated, post_years) - _mean(treated, pre_years)
        change_c = _mean(comparison, post_years) - _mean(comparison, pre_years)
        estimate = change_t - change_c
        parts = [
            _variance_of_mean(s, years)
            for s in (treated, comparison)
            for years in (pre_years, post_years)
        ]
        if all(p is not None for p in parts):
            se = math.sqrt(sum(p for p in parts if p is not None))
            z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
            ci_low, ci_high = estimate - z * se, estimate + z * se
            ci_note_sv, ci_note_en = _CI_SV, _CI_EN
        else:
            warnings.append(
                DidWarning(
                    "no_confidence_interval",
                    "Standardfel eller antal saknas för något år, så osäkerheten kan inte anges.",
                    "Standard errors or counts are missing for some year, so the uncertainty "
                    "cannot be stated.",
                )
            )
    return DidResult(
        estimate=estimate,
        se=se,
        ci_low=ci_low,
        ci_high=ci_high,
        confidence=confidence,
        pre_years=pre_years,
        post_years=post_years,
        change_treated=change_t,
        change_comparison=change_c,
        pre_trend_treated=slope_t,
        pre_trend_comparison=slope_c,
        warnings=tuple(warnings),
        method=method,
        assumptions_sv=_ASSUMPTIONS_SV + ci_note_sv,
        assumptions_en=_ASSUMPTIONS_EN + ci_note_en,
        treated_unit=treated.unit,
        comparison_unit=comparison.unit,
    )


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise _invalid(
            f"Konfidensnivån måste ligga mellan 0 och 1 (fick {confidence!r})",
            f"confidence must lie between 0 and 1 (got {confidence!r})",
        )


def did_2x2(
    *,
    treated: Series,
    comparison: Series,
    pre_year: int,
    post_year: int,
    confidence: float = 0.95,
    trend_tolerance: float = DEFAULT_TREND_TOLERANCE,
) -> DidResult:
    """Classic two-period DiD: ``(T[post] − T[pre]) − (C[post] − C[pre])``.

    Earlier years present for both units (before ``pre_year``) are used only to check the
    pre-trends, never in the estimate.
    """
    _check_confidence(confidence)
    if post_year <= pre_year:
        raise _invalid(
            f"Året efter ({post_year}) måste komma efter året före ({pre_year})",
            f"post_year ({post_year}) must come after pre_year ({pre_year})",
        )
    for series in (treated, comparison):
        missing = [y for y in (pre_year, post_year) if y not in series.values]
        if missing:
            raise _invalid(
                f"{series.unit} saknar värde för {_fmt_years(missing)}",
                f"{series.unit} has no value for {_fmt_years(missing)}",
            )
    trend_years = tuple(
        sorted(y for y in treated.values if y <= pre_year and y in comparison.values)
    )
    return _estimate(
        treated=treated,
        comparison=comparison,
        pre_years=(pre_year,),
        post_years=(post_year,),
        trend_years=trend_years,
        confidence=confidence,
        tolerance=trend_tolerance,
        method="did_2x2",
        # Years between pre and post are not needed by a 2×2 design, so only earlier holes count.
        warnings=_coverage_warnings(
            treated, comparison, (trend_years[0], post_year), (trend_years[0], pre_year)
        ),
    )


def did_multi(
    *,
    treated: Series,
    comparison: Series,
    start_year: int,
    confidence: float = 0.95,
    trend_tolerance: float = DEFAULT_TREND_TOLERANCE,
) -> DidResult:
    """DiD over several years: the post-period mean minus the pre-period mean, for each unit.

    Years before ``start_year`` are the pre-period and years from ``start_year`` on the
    post-period; only years reported for both units count. Without a pre- or post-period the
    result has no estimate and says why.
    """
    _check_confidence(confidence)
    common = sorted(set(treated.values) & set(comparison.values))
    pre_years = tuple(y for y in common if y < start_year)
    post_years = tuple(y for y in common if y >= start_year)
    all_years = set(treated.values) | set(comparison.values)
    warnings = (
        _coverage_warnings(treated, comparison, (min(all_years), max(all_years)))
        if all_years
        else []
    )
    if not post_years:
        warnings.append(
            DidWarning(
                "no_post_period",
                f"Inga gemensamma värden från {start_year} och framåt: effekten kan inte skattas "
                f"ännu.",
                f"No common values from {start_year} on: the effect cannot be estimated yet.",
            )
        )
    if not pre_years:
        warnings.append(
            DidWarning(
                "no_pre_period",
                f"Inga gemensamma värden före {start_year}: det finns inget utgångsläge att "
                f"jämföra med.",
                f"No common values before {start_year}: there is no starting point to compare "
                f"with.",
            )
        )
    return _estimate(
        treated=treated,
        comparison=comparison,
        pre_years=pre_years,
        post_years=post_years,
        trend_years=pre_years,
        confidence=confidence,
        tolerance=trend_tolerance,
        method="did_multi",
        warnings=warnings,
    )
