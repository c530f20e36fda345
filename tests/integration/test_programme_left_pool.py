"""Issue 17 item 5 (remainder) on a real database: a loan that left the pool keeps its impact for the
years it was in, attributed with its share as it left, and none after; a report at a past date
allocates on the amounts outstanding then (``outstanding_at``), as its programme section does.

By hand: one SEK bond of 100 000 000 issued 2024-06-01 on two loans, project cost twice the loan.
A: 60 m disbursed 2023-03-01 (project 120 m, share 0.5), stays. B: 50 m disbursed 2023-09-01
(project 100 m), 20 m prepaid 2024-03-01 → 30 m, the rest repaid 2025-06-15: it leaves with 30 m,
share 0.3. Dwellings renovated (sum) A 100/200/300, B 50/80/40 in 2024/2025/2026; places in
residential care (latest) A 10 (2024), 12 (2026), B 40 (2024).

Report at 2026-12-31: pool 60 m (A), the bond's share capped at 1, allocated 60 m.
  dwellings: 2024 value 150, attributed 100×0.5 + 50×0.3 = 65; 2025 value 280, attributed 124;
             2026 value 300, attributed 150 (B's 40 after it left is dropped), 1 loan.
  care places: 2024 50, attributed 5 + 12 = 17; 2026 12 (B's 40 not carried past 2025), attributed 6.
Report at 2025-03-31 (before the repayment): pool 60 m + 30 m = 90 m, B active with 30 m in the
allocation table, allocated 90 m, unallocated 10 m; the programme section's pool is 90 m too.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from programme_world import bonds_on, borrower, loan
from sqlmodel import Session, select

from lanportfolj.models import IndicatorDefinition, LoanIndicator, Measurement
from lanportfolj.services import reports
from lanportfolj.services.loan_events import record_event
from report_schema_check import load_schema, validate

pytestmark = pytest.mark.integration

BOND = ("SE0000000010", "SEK", "100000000")
VALUES = {
    "SH-2023-301": {"dwellings_renovated": {2024: 100, 2025: 200, 2026: 300},
                    "elderly_care_places": {2024: 10, 2026: 12}},
    "SH-2023-302": {"dwellings_renovated": {2024: 50, 2025: 80, 2026: 40},
                    "elderly_care_places": {2024: 40}},
}  # fmt: skip


def _indicator_id(session: Session, code: str) -> int:
    found = session.exec(
        select(IndicatorDefinition).where(
            IndicatorDefinition.code == code,
            IndicatorDefinition.loan_id == None,  # noqa: E711
        )
    ).one()
    assert found.id is not None
    return found.id


def _world(session: Session, leaving: str = "repaid") -> None:
    who = borrower(session)
    loans = [
        loan(session, who, "SH-2023-301", "60000000.00", date(2023, 3, 1)),
        loan(session, who, "SH-2023-302", "50000000.00", date(2023, 9, 1)),
    ]
    bonds_on(session, loans, [BOND])
    for row in loans:
        for code, by_year in VALUES[row.reference].items():
            link = LoanIndicator(loan_id=row.id or 0, indicator_id=_indicator_id(session, code))
            session.add(link)
            session.flush()
            for year, value in by_year.items():
                session.add(
                    Measurement(loan_indicator_id=link.id or 0, year=year, value=Decimal(value))
                )
    record_event(
        session,
        reference="SH-2023-302",
        kind="prepaid",
        day=date(2024, 3, 1),
        amount=Decimal("20000000.00"),
        actor="t",
    )
    record_event(session, reference="SH-2023-302", kind=leaving, day=date(2025, 6, 15), actor="t")
    session.commit()


def _report(session: Session, day: date) -> dict[str, Any]:
    bond = reports.get_bond(session, BOND[0])
    assert bond is not None
    return reports.draft_report(session=session, bond=bond, report_date=day)


def _bond_rows(report: dict[str, Any], code: str) -> dict[int, tuple[Any, ...]]:
    return {
        int(r["year"]): (
            Decimal(r["value"]),
            Decimal(r["attributed"]),
            Decimal(r["bond_attributed"]),
            int(r["loan_count"]),
        )
        for r in report["impact"]["bond"]
        if r["indicator"] == code
    }


def test_a_loan_that_left_keeps_its_impact_for_the_years_it_was_in(session: Session) -> None:
    _world(session)
    report = _report(session, date(2026, 12, 31))
    summary = report["allocation"]["summary"]
    assert (summary["pool_outstanding"], summary["allocated"]) == ("60000000.00", "60000000.00")
    assert [r["reference"] for r in report["allocation"]["loans"]] == ["SH-2023-301"]
    assert _bond_rows(report, "dwellings_renovated") == {
        2024: (Decimal(150), Decimal(65), Decimal(65), 2),
        2025: (Decimal(280), Decimal(124), Decimal(124), 2),
        2026: (Decimal(300), Decimal(150), Decimal(150), 1),
    }
    assert _bond_rows(report, "elderly_care_places") == {
        2024: (Decimal(50), Decimal(17), Decimal(17), 2),
        2026: (Decimal(12), Decimal(6), Decimal(6), 1),
    }
    # coverage is of today's pool: the loan that left is not in its base
    coverage = {
        int(r["year"]): (r["coverage_base"], r["covered_amount"])
        for r in report["impact"]["bond"]
        if r["indicator"] == "dwellings_renovated"
    }
    assert coverage[2026] == ("60000000.00", "60000000.00")
    assert coverage[2024] == ("60000000.00", "60000000.00")
    assert [e["loan"] for e in report["programme"]["left_pool"]] == ["SH-2023-302"]
    # the JSON file holds the kept years and still matches the documented schema
    document = json.loads(reports.render(report, fmt="json", lang="en"))
    schema = load_schema()
    assert validate(document, schema, schema, "$") == []
    page = reports.render(report, fmt="html", lang="en").decode()
    assert "left the pool in 2025" in page


def test_a_report_at_a_past_date_allocates_on_the_amounts_outstanding_then(
    session: Session,
) -> None:
    _world(session)
    report = _report(session, date(2025, 3, 31))
    summary = report["allocation"]["summary"]
    assert (
        summary["pool_outstanding"],
        summary["allocated"],
        summary["unallocated"],
        summary["loan_count"],
    ) == ("90000000.00", "90000000.00", "10000000.00", 2)
    rows = {r["reference"]: r for r in report["allocation"]["loans"]}
    assert (rows["SH-2023-302"]["status"], rows["SH-2023-302"]["outstanding"]) == (
        "active",
        "30000000.00",
    )
    assert report["programme"]["pool_sek"] == "90000000.00"
    assert report["programme"]["left_pool"] == []
    # B is in the pool in 2025 with 30 m of its 100 m project: 0.3 of its values
    assert _bond_rows(report, "dwellings_renovated")[2025] == (
        Decimal(280),
        Decimal(124),
        Decimal(124),
        2,
    )


def test_a_loan_written_down_to_nothing_counts_until_then_and_allocates_nothing(
    session: Session,
) -> None:
    _world(session, leaving="written_down")
    report = _report(session, date(2026, 12, 31))
    # written down, the loan stays active at 0 in the allocation table
    rows = {r["reference"]: r["outstanding"] for r in report["allocation"]["loans"]}
    assert rows == {"SH-2023-301": "60000000.00", "SH-2023-302": "0.00"}
    assert report["allocation"]["summary"]["allocated"] == "60000000.00"
    # its impact is the one it had as it left: 0.3 up to 2025, nothing in 2026
    dwellings = _bond_rows(report, "dwellings_renovated")
    assert (dwellings[2024][1], dwellings[2025][1], dwellings[2026]) == (
        Decimal(65),
        Decimal(124),
        (Decimal(300), Decimal(150), Decimal(150), 1),
    )
