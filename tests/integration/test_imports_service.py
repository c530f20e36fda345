"""Storing imports on the demo portfolio: insert, restate, idempotent re-upload, all-or-nothing, and a
borrower limited to their own loans; the template spec and the progress view read back what was stored."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from lanportfolj.ingest import parse_file
from lanportfolj.models import IndicatorDefinition, Loan, LoanIndicator, Measurement, Submission
from lanportfolj.services.measurements import build_context, import_file
from lanportfolj.services.progress_view import loan_progress, progress_chart_html
from lanportfolj.services.reporting_templates import build_template_spec, template_bytes

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
YEAR = 2026


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.exec(select(func.count()).select_from(Measurement)).one(),
        session.exec(select(func.count()).select_from(Submission)).one(),
    )


def _import(session: Session, settings, name: str, data: bytes, **kwargs):
    result = import_file(
        session=session,
        settings=settings,
        filename=name,
        data=data,
        uploaded_by=kwargs.pop("uploaded_by", "tester@example"),
        current_year=YEAR,
        **kwargs,
    )
    session.commit()
    return result


def _current(session: Session, year: int, code: str = "dwellings_renovated") -> list[Decimal]:
    stmt = (
        select(Measurement.value)
        .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
        .join(IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id))
        .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
        .where(
            Loan.reference == "SH-2023-001",
            IndicatorDefinition.code == code,
            Measurement.year == year,
            Measurement.group_name == "",
            col(Measurement.is_current),
        )
    )
    return list(session.exec(stmt).all())


def test_good_fixture_restates_and_reupload_changes_nothing(demo_settings, demo_session) -> None:
    data = (FIXTURES / "good_libreoffice_template.xlsx").read_bytes()
    before = _counts(demo_session)
    first = _import(demo_session, demo_settings, "t.xlsx", data)
    assert first.accepted and (first.inserted, first.restated) == (1, 2)
    assert first.submission_id is not None
    assert _current(demo_session, 2025) == [Decimal("212")]
    assert _counts(demo_session) == (before[0] + 3, before[1] + 1)

    # the old version stays, marked as no longer current
    versions = demo_session.exec(
        select(Measurement.version, Measurement.is_current).where(
            Measurement.submission_id == first.submission_id, Measurement.version > 1
        )
    ).all()
    assert len(versions) == 2 and all(current for _, current in versions)

    again = _import(demo_session, demo_settings, "t-again.xlsx", data)
    assert again.accepted and again.duplicate_of == first.submission_id
    assert (again.inserted, again.restated) == (0, 0)
    assert _counts(demo_session) == (before[0] + 3, before[1] + 1)


def test_restating_a_value_keeps_the_history_for_the_progress_view(
    demo_settings, demo_session
) -> None:
    csv = "loan,indicator,year,value\nSH-2023-001,dwellings_renovated,2024,{v}\n"
    old = _current(demo_session, 2024)
    assert old, "the demo portfolio reports dwellings_renovated for 2024"
    result = _import(
        demo_session,
        demo_settings,
        "r.csv",
        csv.format(v=401).encode(),
        uploaded_by="controller@botkyrkabyggen.example",
    )
    assert result.restated == 1
    items = {i["code"]: i for i in loan_progress(demo_session, "SH-2023-001", lang="en")}
    item = items["dwellings_renovated"]
    row = next(y for y in item["years"] if y["year"] == 2024)
    assert Decimal(row["value"]) == Decimal(401)
    assert row["restated"] is True
    history_2024 = [h for h in item["history"] if h["year"] == 2024]
    assert [Decimal(h["value"]) for h in history_2024][:2] == [Decimal(401), old[0]]
    assert history_2024[0]["recorded_by"] == "controller@botkyrkabyggen.example"
    assert history_2024[0]["current"] and not history_2024[1]["current"]
    chart = progress_chart_html(item, loan_ref="SH-2023-001", lang="en")
    assert "Target line" in chart and "<script" in chart and "plotly.min.js" not in chart


def test_progress_matches_the_straight_target_line(demo_settings, demo_session) -> None:
    items = loan_progress(demo_session, "SH-2023-001", lang="sv")
    assert items
    for item in items:
        p = item["progress"]
        if p["latest_value"] is not None and item["baseline"]["value"] is not None:
            change = Decimal(p["latest_value"]) - Decimal(item["baseline"]["value"])
            assert Decimal(p["change_abs"]) == change
        assert p["status_label"]  # Swedish label always present


def test_rejected_file_writes_nothing(demo_settings, demo_session) -> None:
    before = _counts(demo_session)
    bad = (
        b"loan,indicator,year,value\n"
        b"SH-2023-001,dwellings_renovated,2024,500\n"  # fine on its own
        b"SH-2023-001,dwellings_renovated,2025,lots\n"  # but this row spoils the file
    )
    result = _import(demo_session, demo_settings, "bad.csv", bad)
    assert not result.accepted
    assert [(e.row, e.column, e.code) for e in result.errors] == [(3, "value", "not-a-number")]
    assert _counts(demo_session) == before
    assert _current(demo_session, 2024) != [Decimal(500)]


def test_borrower_is_limited_to_own_loans(demo_settings, demo_session) -> None:
    own = demo_session.exec(select(Loan).where(Loan.reference == "SH-2023-001")).one()
    before = _counts(demo_session)
    other_loan = b"loan,indicator,year,value\nSH-2023-002,home_visits_new_parents,2024,10\n"
    result = _import(demo_session, demo_settings, "x.csv", other_loan, borrower_id=own.borrower_id)
    assert not result.accepted
    assert [(e.code, e.column) for e in result.errors] == [("unknown-loan", "loan")]
    assert _counts(demo_session) == before

    ok = b"loan,indicator,year,value\nSH-2023-001,dwellings_renovated,2025,300\n"
    mine = _import(demo_session, demo_settings, "ok.csv", ok, borrower_id=own.borrower_id)
    assert mine.accepted and mine.restated + mine.inserted == 1


def test_template_spec_and_filled_template_import_cleanly(demo_settings, demo_session) -> None:
    spec = build_template_spec(demo_session, "SH-2023-001", lang="en", current_year=YEAR)
    assert spec.years[-1] == YEAR - 1
    codes = {line.indicator for line in spec.lines}
    assert "dwellings_renovated" in codes
    line = next(x for x in spec.lines if x.indicator == "dwellings_renovated")
    assert line.baseline_year is not None and spec.years[0] == line.baseline_year + 1
    assert line.previous  # earlier values are pre-filled
    # the unfilled template's pre-filled values (and their "estimated" marks) are the stored ones:
    # importing it unchanged changes nothing
    estimated = set(
        demo_session.exec(
            select(Measurement.year)
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
            .where(
                Loan.reference == "SH-2023-001",
                col(Measurement.is_current),
                col(Measurement.estimated),
            )
        ).all()
    )
    for fmt in ("xlsx", "csv"):
        data = template_bytes(demo_session, "SH-2023-001", fmt=fmt, lang="sv", current_year=YEAR)
        context, _ = build_context(demo_session, settings=demo_settings, current_year=YEAR)
        parsed = parse_file(f"t.{fmt}", data, context)
        assert parsed.ok, [i.to_dict() for i in parsed.issues]
        result = import_file(
            session=demo_session,
            settings=demo_settings,
            filename=f"t.{fmt}",
            data=data,
            uploaded_by="x",
            dry_run=True,
            current_year=YEAR,
        )
        assert result.accepted and result.inserted == 0, fmt
        changed = [c for c in result.changes if c.kind != "unchanged"]
        assert estimated, "the demo should hold estimated values for this loan"
        assert changed == [], changed


def test_context_covers_only_the_loans_a_file_names(demo_settings, demo_session) -> None:
    # a one-row file on a large portfolio must not load every loan's rules; case and spaces as typed
    context, ids = build_context(
        demo_session, settings=demo_settings, current_year=YEAR, loans=[" sh-2023-001 ", "NOPE-1"]
    )
    assert context.known_loans == {"SH-2023-001"}
    assert {loan for loan, _ in context.rules} == {"SH-2023-001"}
    assert set(ids) == set(context.rules)
    everything, _ = build_context(demo_session, settings=demo_settings, current_year=YEAR)
    assert {k: v for k, v in everything.rules.items() if k[0] == "SH-2023-001"} == context.rules


def test_mixed_file_inserts_restates_and_keeps_in_one_submission(
    demo_settings, demo_session
) -> None:
    before = _counts(demo_session)
    stored = _current(demo_session, 2024)
    assert len(stored) == 1, "the demo should hold a 2024 value for SH-2023-001"
    data = (
        "loan,indicator,year,value,group\n"
        f"sh-2023-001,dwellings_renovated,2024,{stored[0]},\n"  # unchanged
        "SH-2023-001,dwellings_renovated,2025,777,\n"  # restated or new
        "SH-2023-001,dwellings_renovated,2024,5,Jämförelseenhet X\n"  # new comparison unit
    ).encode()
    dry = _import(demo_session, demo_settings, "mixed.csv", data, dry_run=True)
    assert dry.accepted and dry.unchanged == 1 and dry.inserted + dry.restated == 2
    assert dry.changes[0].kind == "unchanged"
    # a restatement names the value and version it replaces; nothing else does
    assert all((c.old_value is not None) == (c.kind == "restate") for c in dry.changes)
    assert all((c.old_version is not None) == (c.kind == "restate") for c in dry.changes)
    assert _counts(demo_session) == before
    result = _import(demo_session, demo_settings, "mixed.csv", data)
    assert (result.inserted, result.restated, result.unchanged) == (
        dry.inserted,
        dry.restated,
        dry.unchanged,
    )
    assert _current(demo_session, 2025) == [Decimal(777)]
    assert _counts(demo_session) == (before[0] + 2, before[1] + 1)
    rows = demo_session.exec(
        select(Measurement.group_name, Measurement.version).where(
            Measurement.submission_id == result.submission_id
        )
    ).all()
    assert sorted(rows) == sorted([("", 2 if result.restated else 1), ("Jämförelseenhet X", 1)])
