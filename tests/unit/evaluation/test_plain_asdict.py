"""The evaluation's records as dicts: the same dicts ``dataclasses.asdict`` gives."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np

from lanportfolj.domain.did import DidResult, DidWarning
from lanportfolj.domain.did_inference import EventStudyRow, PanelDid, Placebo, PreTrend
from lanportfolj.domain.plain import plain_asdict


class _Pair(NamedTuple):
    a: int
    b: float


@dataclass(frozen=True)
class _Inner:
    x: float | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Outer:
    n: int
    inner: _Inner
    inners: tuple[_Inner, ...]
    pair: _Pair
    mapping: dict[str, list[float]] = field(default_factory=dict)
    raw: float = 1.5  # a numpy float below, copied as asdict copies it


def test_nested_records_tuples_and_mappings_come_out_as_asdict_makes_them() -> None:
    record = _Outer(
        3, _Inner(None, ("a",)), (_Inner(1.5), _Inner(-0.0, ("b", "c"))), _Pair(1, 2.0),
        {"k": [1.0, 2.0]}, np.float64(2.5),
    )  # fmt: skip
    made = plain_asdict(record)
    assert made == asdict(record)
    assert type(made["inners"]) is tuple and type(made["pair"]) is _Pair
    assert made["mapping"]["k"] is not record.mapping["k"]  # copied, as asdict copies


def _panel() -> PanelDid:
    fields = PanelDid.__dataclass_fields__
    kwargs = {name: None for name in fields}
    kwargs.update(
        estimate=1.25, se=0.5, ci_low=0.2, ci_high=2.3, p_value=0.04, confidence=0.95,
        se_method="cluster", method="twfe", treated_unit="A", comparison_units=("B", "C"),
        pre_years=(2019, 2020), post_years=(2021,), observations=9, notes=("n",),
    )  # fmt: skip
    for name in ("placebo", "event_study", "pre_trend"):
        kwargs.pop(name)
    return PanelDid(**kwargs)


def test_the_did_results_dicts_are_unchanged() -> None:
    result = DidResult(
        1.0, 0.2, 0.6, 1.4, 0.95, (2019, 2020), (2021,), 2.0, 1.0, None, 0.1,
        (DidWarning("c", "sv", "en"),), "2x2", "sv text", "en text", "A", "B",
    )  # fmt: skip
    expected = asdict(result)
    expected["pre_years"], expected["post_years"] = [2019, 2020], [2021]
    expected["warnings"] = [asdict(w) for w in result.warnings]
    assert result.to_dict() == expected
    panel = _panel()
    assert panel.to_dict()["comparison_units"] == ["B", "C"]
    assert plain_asdict(panel) == asdict(panel)
    for cls in (EventStudyRow, Placebo, PreTrend):
        names = list(cls.__dataclass_fields__)
        record = cls(*[(2020,) if name == "years" else 1.5 for name in names])
        assert plain_asdict(record) == asdict(record)
