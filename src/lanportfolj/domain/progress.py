"""Progress of one indicator against its baseline and target, as the impact report shows it.

The edge cases results-tracking systems get wrong are decided here, once:

* Direction: for a ``decrease`` indicator (e.g. out-of-home placements) lower is better.
* Zero or missing baseline: the absolute change is shown, the percentage change is ``None``
  (a change from 0 has no meaningful percentage).
* Too little data: a baseline without any measurement, or a measurement without a baseline, is
  ``insufficient_data`` (unless the target is already met, which needs no baseline).
* Duplicate years: the caller passes the current version of each year's value only (restatements
  already resolved); two values for one year raise ``ValueError`` rather than guessing.
* Target year equal to the baseline year: nothing to interpolate, so the target is expected from
  that year on.
* On track means at least as good as a straight line from baseline (year, value) to target
  (year, value) at the latest reported year; after the target year the line stays at the target.

Values are ``Decimal``; the percentage change is rounded half up to one decimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

TARGET_MET = "target_met"
ON_TRACK = "on_track"
OFF_TRACK = "off_track"
INSUFFICIENT_DATA = "insufficient_data"
NO_TARGET = "no_target"

#: Labels for each status, for pages and reports.
STATUS_LABELS: dict[str, dict[str, str]] = {
    TARGET_MET: {"sv": "Målet nått", "en": "Target met"},
    ON_TRACK: {"sv": "I fas", "en": "On track"},
    OFF_TRACK: {"sv": "Efter plan", "en": "Off track"},
    INSUFFICIENT_DATA: {"sv": "För lite data", "en": "Insufficient data"},
    NO_TARGET: {"sv": "Målvärde saknas", "en": "No target"},
}

DIRECTIONS = ("increase", "decrease")

_ONE_DECIMAL = Decimal("0.1")


def _invalid(sv: str, en: str) -> ValueError:
    return ValueError(f"{sv} / {en}")


def _decimal(value: object, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    # Floats would smuggle binary rounding into measured values.
    raise TypeError(
        f"{what}: ange värdet som Decimal, inte {type(value).__name__} / "
        f"{what}: give the value as a Decimal, not {type(value).__name__}"
    )


@dataclass(frozen=True)
class Progress:
    """One indicator's position against baseline and target."""

    baseline_value: Decimal | None
    baseline_year: int | None
    target_value: Decimal | None
    target_year: int | None
    latest_year: int | None
    latest_value: Decimal | None
    #: latest − baseline; None without both.
    change_abs: Decimal | None
    #: Change in % of the baseline, one decimal; None when the baseline is 0 or missing.
    change_pct: Decimal | None
    #: The straight line from baseline to target, at the latest year.
    expected_at_latest: Decimal | None
    #: One of ``target_met``, ``on_track``, ``off_track``, ``insufficient_data``, ``no_target``.
    status: str
    direction: str

    @property
    def status_sv(self) -> str:
        """The status in Swedish."""
        return STATUS_LABELS[self.status]["sv"]

    @property
    def status_en(self) -> str:
        """The status in English."""
        return STATUS_LABELS[self.status]["en"]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict; Decimals as strings so no digit is lost."""
        data: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            data[f.name] = str(value) if isinstance(value, Decimal) else value
        data["status_sv"] = self.status_sv
        data["status_en"] = self.status_en
        return data


def _at_least_as_good(value: Decimal, reference: Decimal, direction: str) -> bool:
    return value >= reference if direction == "increase" else value <= reference


def progress(
    *,
    baseline_value: Decimal | int | None,
    baseline_year: int | None,
    target_value: Decimal | int | None,
    target_year: int | None,
    direction: str,
    points: Sequence[tuple[int, Decimal]],
) -> Progress:
    """Where an indicator stands: latest value, change since baseline, and status against target.

    ``points`` are the reported (year, value) measurements, current versions only, in any order;
    measurements from before the baseline year are ignored. ``direction`` is the indicator's
    better direction, ``"increase"`` or ``"decrease"``.
    """
    if direction not in DIRECTIONS:
        raise _invalid(
            f"Okänd riktning {direction!r}; välj increase eller decrease",
            f"Unknown direction {direction!r}; choose increase or decrease",
        )
    base = _decimal(baseline_value, "baseline_value")
    target = _decimal(target_value, "target_value")
    if baseline_year is not None and target_year is not None and target_year < baseline_year:
        raise _invalid(
            f"Målåret {target_year} ligger före utgångsvärdets år {baseline_year}",
            f"The target year {target_year} is before the baseline year {baseline_year}",
        )

    seen: dict[int, Decimal] = {}
    for year, value in points:
        if year in seen:
            raise _invalid(
                f"Två värden för år {year}; skicka bara den gällande versionen",
                f"Two values for year {year}; pass the current version only",
            )
        measured = _decimal(value, str(year))
        if measured is None:
            raise _invalid(f"År {year} saknar värde", f"Year {year} has no value")
        seen[year] = measured
    usable = {y: v for y, v in seen.items() if baseline_year is None or y >= baseline_year}

    latest_year = max(usable) if usable else None
    latest = usable[latest_year] if latest_year is not None else None

    change_abs = latest - base if latest is not None and base is not None else None
    change_pct = None
    if change_abs is not None and base is not None and base != 0:
        # Divided by |baseline| so the sign always follows the change.
        change_pct = (change_abs / abs(base) * 100).quantize(_ONE_DECIMAL, ROUND_HALF_UP)

    expected = None
    if (
        base is not None
        and baseline_year is not None
        and target is not None
        and target_year is not None
        and latest_year is not None
    ):
        if latest_year >= target_year:
            expected = target
        else:
            span = target_year - baseline_year  # > 0 here: latest_year ≥ baseline_year
            expected = base + (target - base) * (latest_year - baseline_year) / span

    if target is None or target_year is None:
        status = NO_TARGET
    elif latest is None or latest_year is None:
        status = INSUFFICIENT_DATA
    elif _at_least_as_good(latest, target, direction):
        status = TARGET_MET
    elif base is None or baseline_year is None:
        status = INSUFFICIENT_DATA
    elif latest_year >= target_year:
        status = OFF_TRACK  # the target year has come and the target is not met
    else:
        on_line = _on_line(
            latest=latest,
            latest_year=latest_year,
            base=base,
            baseline_year=baseline_year,
            target=target,
            target_year=target_year,
            direction=direction,
        )
        status = ON_TRACK if on_line else OFF_TRACK

    return Progress(
        baseline_value=base,
        baseline_year=baseline_year,
        target_value=target,
        target_year=target_year,
        latest_year=latest_year,
        latest_value=latest,
        change_abs=change_abs,
        change_pct=change_pct,
        expected_at_latest=expected,
        status=status,
        direction=direction,
    )


def _on_line(
    *,
    latest: Decimal,
    latest_year: int,
    base: Decimal,
    baseline_year: int,
    target: Decimal,
    target_year: int,
    direction: str,
) -> bool:
    """Is ``latest`` at least as good as the straight line at ``latest_year``?

    Compared by cross-multiplication, so a line through thirds (10 → 20 over three years) is exact.
    """
    span = target_year - baseline_year
    achieved = (latest - base) * span
    planned = (target - base) * (latest_year - baseline_year)
    return _at_least_as_good(achieved, planned, direction)
