"""The DiD result as the report's JSON carries it, and the residual spread the power note uses, compared
whole (domain/did_inference.py; issue 20)."""

from __future__ import annotations

import pytest

from lanportfolj.domain.did_inference import (
    EventStudyRow,
    Observation,
    PanelDid,
    Placebo,
    PreTrend,
    ResidualSpread,
    residual_spread,
)

pytestmark = pytest.mark.unit


def _result() -> PanelDid:
    return PanelDid(
        estimate=2.5,
        se=0.5,
        ci_low=1.5,
        ci_high=3.5,
        p_value=0.01,
        confidence=0.95,
        se_method="cluster",
        method="twfe",
        treated_unit="Örebro",
        comparison_units=("Gävle", "Västerås"),
        pre_years=(2020, 2021),
        post_years=(2023,),
        observations=9,
        placebo=Placebo({"Gävle": 0.4, "Västerås": -0.2}, rank=1, units=3, p_value=0.33),
        event_study=(EventStudyRow(2021, -2, 0.0, None, None, None, True),),
        pre_trend=PreTrend(0.1, 0.2, -0.6, 0.3, 0.6, (2020, 2021)),
        notes=("Few comparison units.",),
    )


def test_the_result_as_json_lists_every_part() -> None:
    assert _result().to_dict() == {
        "estimate": 2.5,
        "se": 0.5,
        "ci_low": 1.5,
        "ci_high": 3.5,
        "p_value": 0.01,
        "confidence": 0.95,
        "se_method": "cluster",
        "method": "twfe",
        "treated_unit": "Örebro",
        "comparison_units": ["Gävle", "Västerås"],
        "pre_years": [2020, 2021],
        "post_years": [2023],
        "observations": 9,
        "placebo": {
            "estimates": {"Gävle": 0.4, "Västerås": -0.2},
            "rank": 1,
            "units": 3,
            "p_value": 0.33,
        },
        "event_study": [
            {
                "year": 2021,
                "relative_year": -2,
                "estimate": 0.0,
                "se": None,
                "ci_low": None,
                "ci_high": None,
                "reference": True,
            }
        ],
        "pre_trend": {
            "slope": 0.1,
            "se": 0.2,
            "ci_low": -0.6,
            "ci_high": 0.3,
            "p_value": 0.6,
            "years": (2020, 2021),
            "bound": 0.6,
        },
        "notes": ["Few comparison units."],
    }


def test_the_residual_spread_of_two_units_over_three_years() -> None:
    # y = unit + year + ε; the one interaction pattern left has residuals ±1/3, ±2/3 (SSR 4/3, df 2)
    values = {("A", 2020): 1.0, ("A", 2021): 2.0, ("A", 2022): 4.0}
    values |= {("B", 2020): 0.0, ("B", 2021): 1.0, ("B", 2022): 1.0}
    obs = [Observation(unit, year, value) for (unit, year), value in values.items()]
    obs.append(Observation("B", 2023, float("nan")))  # not a value: left out
    assert residual_spread(obs) == ResidualSpread(
        sd=pytest.approx((2 / 3) ** 0.5), units=2, years=(2020, 2021, 2022), df=2
    )


def test_no_spread_without_two_units_and_two_years() -> None:
    assert residual_spread([Observation("A", 2020, 1.0), Observation("A", 2021, 2.0)]) is None
    assert residual_spread([Observation("A", 2020, 1.0), Observation("B", 2020, 2.0)]) is None
