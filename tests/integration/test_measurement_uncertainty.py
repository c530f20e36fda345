"""Counts and standard errors are stored with the value; a bad one stores nothing; history is kept
apart from the borrower's own measurements."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session, col, func, select

from lanportfolj.models import IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.services.measurements import import_file

pytestmark = pytest.mark.integration

YEAR = 2026


def _import(session: Session, settings, data: str, **kwargs):
    result = import_file(
        session=session,
        settings=settings,
        filename="u.csv",
        data=data.encode("utf-8"),
        uploaded_by="tester@example",
        current_year=YEAR,
        **kwargs,
    )
    session.commit()
    return result


def _stored(
    session: Session, code: str, group: str = ""
) -> list[tuple[int, Decimal, int | None, Decimal | None, bool]]:
    stmt = (
        select(
            Measurement.year,
            Measurement.value,
            Measurement.n,
            Measurement.std_error,
            Measurement.history,
        )
        .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
        .join(IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id))
        .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
        .where(
            Loan.reference == "SH-2024-002",
            IndicatorDefinition.code == code,
            Measurement.group_name == group,
            col(Measurement.is_current),
        )
        .order_by(col(Measurement.year))
    )
    return [tuple(row) for row in session.exec(stmt).all()]  # type: ignore[misc]


def test_counts_and_standard_errors_are_stored_and_a_new_count_restates(
    demo_settings, demo_session
) -> None:
    first = _import(
        demo_session,
        demo_settings,
        "lån;indikator;år;värde;antal;medelfel\nSH-2024-002;grade9_merit_value;2024;196,4;58;3,1\n",
    )
    assert first.accepted and first.restated == 1
    assert _stored(demo_session, "grade9_merit_value")[2] == (
        2024,
        Decimal("196.4"),
        58,
        Decimal("3.1"),
        False,
    )
    again = _import(
        demo_session,
        demo_settings,
        "lån;indikator;år;värde;antal;medelfel\nSH-2024-002;grade9_merit_value;2024;196,4;61;3,1\n",
    )
    assert again.restated == 1
    assert _stored(demo_session, "grade9_merit_value")[2][2] == 61


def test_a_negative_count_rejects_the_whole_file(demo_settings, demo_session) -> None:
    before = demo_session.exec(select(func.count()).select_from(Measurement)).one()
    result = _import(
        demo_session,
        demo_settings,
        "loan,indicator,year,value,n\n"
        "SH-2024-002,grade9_merit_value,2025,201,60\n"
        "SH-2024-002,grade9_merit_value,2024,196.4,-1\n",
    )
    assert not result.accepted
    assert [(e.row, e.column, e.code) for e in result.errors] == [(3, "n", "negative-count")]
    assert demo_session.exec(select(func.count()).select_from(Measurement)).one() == before


def test_history_is_stored_for_a_named_unit_and_marked(demo_settings, demo_session) -> None:
    result = _import(
        demo_session,
        demo_settings,
        "loan,indicator,year,value,group\n"
        "SH-2024-002,grade9_merit_value,2019,221.3,Örebro\n"
        "SH-2024-002,grade9_merit_value,2020,222.0,Örebro\n",
        history=True,
        source="kolada",
    )
    assert result.accepted, [e.message_en for e in result.errors]
    assert [
        (y, h) for y, _v, _n, _se, h in _stored(demo_session, "grade9_merit_value", "Örebro")
    ] == [
        (2019, True),
        (2020, True),
    ]
    # the borrower's own series is untouched
    assert all(not h for *_rest, h in _stored(demo_session, "grade9_merit_value"))
    late = _import(
        demo_session,
        demo_settings,
        "loan,indicator,year,value,group\nSH-2024-002,grade9_merit_value,2024,225,Örebro\n",
        history=True,
        source="kolada",
    )
    assert [(e.column, e.code) for e in late.errors] == [("year", "history-after-baseline")]


def test_a_ratio_uses_its_denominator_as_the_count_behind_each_share(
    demo_settings, demo_session
) -> None:
    """Botkyrkabyggen's perceived safety is residents feeling safe / residents surveyed: with the
    same counts for a comparison area, the DiD's interval is the binomial one from those counts."""
    import pandas as pd
    import statsmodels.formula.api as smf

    from lanportfolj.services.evaluation import comparison_section

    surveyed = {2022: 1980, 2023: 2010, 2024: 1995, 2025: 2040}
    share = {2022: "58.0", 2023: "58.6", 2024: "59.1", 2025: "59.5"}
    lines = ["loan,indicator,year,value,group"]
    for year in surveyed:
        lines.append(f"SH-2023-001,residents_surveyed,{year},{surveyed[year]},Skogås")
        lines.append(f"SH-2023-001,perceived_safety_share,{year},{share[year]},Skogås")
    result = _import(demo_session, demo_settings, "\n".join(lines) + "\n")
    assert result.accepted, [e.message_en for e in result.errors]
    items = {i["code"]: i for i in comparison_section(demo_session, loan_ref="SH-2023-001")}
    (c,) = [c for c in items["perceived_safety_share"]["comparisons"] if c["unit"] == "Skogås"]
    model = c["model"]
    assert model["se_method"] == "sampling"
    # the intervention's own counts from the demo file (residents surveyed), the comparison's above
    own = {2022: (61.0, 2315), 2023: (63.5, 2360), 2024: (65.6, 2388), 2025: (67.5, 2402)}
    rows = [("T", y, v, v / 100 * (1 - v / 100) / n * 100**2) for y, (v, n) in own.items()]
    rows += [
        ("C", y, float(share[y]), float(share[y]) / 100 * (1 - float(share[y]) / 100) / n * 1e4)
        for y, n in surveyed.items()
    ]
    frame = pd.DataFrame(rows, columns=["unit", "year", "y", "var"])
    frame["d"] = ((frame.unit == "T") & (frame.year >= 2023)).astype(float)
    ref = smf.wls("y ~ C(unit) + C(year) + d", frame, weights=1 / frame["var"]).fit(
        cov_type="fixed scale"
    )
    assert model["estimate"] == pytest.approx(ref.params["d"], abs=1e-6)
    assert model["se"] == pytest.approx(ref.bse["d"], abs=1e-6)
