"""Ex-ante expected values (issue 16 item 5): recorded on the loan indicator, fixed when the committee
approves, shown beside the reported values in the report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from applications_builders import complete_case, make_borrower
from sqlmodel import Session, select

from lanportfolj.models import AuditEvent, LoanIndicator, SocialBond
from lanportfolj.services import applications as apps
from lanportfolj.services import reports
from lanportfolj.services.loans import loan_detail

pytestmark = pytest.mark.integration

ANALYST = "analyst@lender.se"


def _case(expected: str) -> dict:
    raw = complete_case()
    raw["indicators"][0]["expected_value"] = expected  # dwellings_renovated, target 1 200 by 2030
    return raw


def _expected(detail: dict, code: str = "dwellings_renovated") -> dict:
    return next(i for i in detail["indicators"] if i["code"] == code)["expected"]


def test_the_expected_value_is_fixed_at_the_committees_approval(session: Session, settings) -> None:
    borrower = make_borrower(session)
    loan, errors = apps.create_application(
        session=session, borrower_id=borrower.id, actor="b@stockholm.se", raw=_case("1 100"),
        today=date(2023, 3, 1),
    )  # fmt: skip
    assert errors == []
    # before the decision the borrower may still change it
    assert apps.update_application(session=session, loan=loan, raw=_case("1150"), actor="b") == []
    assert _expected(loan_detail(session, loan.reference)) == {"value": "1150", "frozen_at": None}

    apps.transition(session=session, loan=loan, to="submitted", actor="b@stockholm.se")
    apps.transition(session=session, loan=loan, to="under_review", actor=ANALYST)
    apps.record_decision(
        session=session, loan=loan, kind="committee", outcome="approved", rationale="sound",
        actor=ANALYST, settings=settings,
    )  # fmt: skip
    fixed = _expected(loan_detail(session, loan.reference))
    assert fixed["value"] == "1150" and fixed["frozen_at"] is not None
    audit = session.exec(
        select(AuditEvent).where(AuditEvent.action == "loan.expected_frozen")
    ).all()
    assert len(audit) == 1

    # sent back to draft, the case can change, but not what the committee approved
    apps.transition(session=session, loan=loan, to="draft", actor=ANALYST, reason="more detail")
    errors = apps.update_application(session=session, loan=loan, raw=_case("1300"), actor="b")
    (error,) = [e for e in errors if e.field == "indicators.0.expected_value"]
    assert "1150" in error.message_en and "committee" in error.message_en
    assert "kommittén" in error.message_sv
    row = session.exec(
        select(LoanIndicator).where(
            LoanIndicator.loan_id == loan.id, LoanIndicator.expected_value.is_not(None)
        )  # type: ignore[union-attr]
    ).one()
    assert row.expected_value == Decimal("1150")
    # the same value again is no change and no error
    assert apps.update_application(session=session, loan=loan, raw=_case("1150"), actor="b") == []


def test_an_unreadable_expected_value_names_its_field(session: Session) -> None:
    borrower = make_borrower(session)
    _, errors = apps.create_application(
        session=session,
        borrower_id=borrower.id,
        actor="b",
        raw=_case("many"),
        today=date(2023, 3, 1),
    )
    assert [e.field for e in errors] == ["indicators.0.expected_value"]


def test_the_demo_report_shows_expected_beside_reported_and_the_placements_rate(
    demo_session: Session,
) -> None:
    bond = demo_session.exec(select(SocialBond)).first()
    assert bond is not None
    data = reports.draft_report(session=demo_session, bond=bond, report_date=date(2025, 12, 31))
    rows = {(r["loan"], r["indicator"]): r for r in data["impact"]["per_loan"]}
    placements = rows[("SH-2023-002", "out_of_home_placements_per_1000_children")]
    # Vara's family centre: 3.9 per 1 000 children (2022) towards 2.5, 2.8 expected at approval
    assert (placements["baseline_value"], placements["target_value"]) == ("3.9000", "2.5000")
    assert placements["expected_value"] == "2.8000"
    assert placements["latest_value"] == "2.7793"  # per 1 000, not 0.2779
    assert placements["on_track"] is True
    dwellings = rows[("SH-2023-001", "dwellings_renovated")]
    assert (dwellings["expected_value"], dwellings["target_value"]) == ("420.0000", "450.0000")
    # a population denominator is shown per project, never attributed
    children = rows[("SH-2023-002", "children_0_17")]
    assert children["latest_attributed"] is None
    assert not [r for r in data["impact"]["bond"] if r["indicator"] == "children_0_17"]
