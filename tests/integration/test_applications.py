"""Applications end to end in the service: lifecycle, audit, judgements, decisions, discount, overdue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from applications_builders import complete_case, make_borrower
from sqlmodel import Session, col, select

from lanportfolj.models import Assessment, AuditEvent, Decision, Loan, LoanIndicator, Measurement
from lanportfolj.services import applications as apps
from lanportfolj.services.loans import get_loan, loan_detail

pytestmark = pytest.mark.integration

ANALYST = "analyst@lender.se"


def _draft(session: Session, **overrides):
    borrower = make_borrower(session)
    loan, errors = apps.create_application(
        session=session,
        borrower_id=borrower.id,
        actor="borrower@stockholm.se",
        raw=complete_case(**overrides),
        today=date(2023, 3, 1),
    )
    return loan, errors


def _judge_all(session: Session, loan: Loan) -> None:
    for criterion in ("E9", "E10", "E11"):
        apps.record_judgement(
            session=session,
            loan=loan,
            criterion_id=criterion,
            result="pass",
            rationale=f"{criterion} is convincing",
            actor=ANALYST,
        )


def _to_review(session: Session, loan: Loan) -> None:
    apps.transition(session=session, loan=loan, to="submitted", actor="borrower@stockholm.se")
    apps.transition(session=session, loan=loan, to="under_review", actor=ANALYST)


def _approve_both(session: Session, loan: Loan, settings) -> None:
    for kind in ("committee", "credit"):
        apps.record_decision(
            session=session,
            loan=loan,
            kind=kind,
            outcome="approved",
            rationale=f"{kind}: sound case",
            actor=ANALYST,
            settings=settings,
        )


def test_a_complete_draft_is_stored_with_goals_and_indicators(session):
    loan, errors = _draft(session)
    assert errors == []
    assert loan.reference == "SH-2023-001"
    assert loan.status == "draft"
    assert loan.amount == Decimal("3800000000")
    detail = loan_detail(session, loan.reference)
    assert [g["indicators"] for g in detail["goals"]] == [
        ["dwellings_renovated"],
        ["reported_crimes"],
    ]
    crimes = next(i for i in detail["indicators"] if i["code"] == "reported_crimes")
    assert crimes["baseline"] == {"value": "410", "year": 2022}
    result = apps.assess_loan(session=session, loan=loan)
    assert result.overall == "needs_judgement"
    assert result.open_judgements == ("E9", "E10", "E11")


def test_saving_an_invalid_draft_keeps_everything_usable_and_names_each_bad_field(session):
    loan, errors = _draft(
        session,
        amount="lots",
        maturity_date="2020-01-01",
        follow_up_until_year="20x0",
        goals=[{"text": "More safety", "indicators": ["not_on_the_loan"], "target_year": "soon"}],
    )
    fields = {e.field for e in errors}
    assert {"amount", "maturity_date", "follow_up_until_year", "goals.0.target_year"} <= fields
    assert "goals.0.indicators" in fields
    # what could be read is kept: the texts, the contradictory date, the goal's text
    stored = get_loan(session, loan.reference)
    assert stored.social_need.startswith("Many households")
    assert stored.maturity_date == date(2020, 1, 1)
    assert loan_detail(session, loan.reference)["goals"][0]["text"] == "More safety"
    bad = next(e for e in errors if e.field == "amount")
    assert "lots" in bad.message_en and "lots" in bad.message_sv


def test_an_unknown_indicator_code_needs_its_own_definition(session):
    own = {
        "code": "homework_club_visits",
        "baseline_value": "0",
        "baseline_year": "2022",
        "data_source": "Club register",
    }
    loan, errors = _draft(session, indicators=[own])
    assert {"indicators.0.code", "indicators.0.name", "indicators.0.unit"} <= {
        e.field for e in errors
    }
    errors = apps.update_application(
        session=session,
        loan=loan,
        raw={"indicators": [own | {"name": "Visits", "unit": "count", "kind": "output"}]},
        actor="borrower@stockholm.se",
    )
    assert errors == []
    detail = loan_detail(session, loan.reference)
    assert [(i["code"], i["own"]) for i in detail["indicators"]] == [("homework_club_visits", True)]


def test_the_lifecycle_is_audited_with_who_from_to_and_why(session, settings):
    loan, _ = _draft(session)
    _to_review(session, loan)
    _judge_all(session, loan)
    _approve_both(session, loan, settings)
    apps.transition(session=session, loan=loan, to="approved", actor=ANALYST, reason="all clear")
    apps.transition(session=session, loan=loan, to="active", actor=ANALYST)
    apps.transition(session=session, loan=loan, to="repaid", actor=ANALYST)
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "loan.transition")
        .order_by(col(AuditEvent.id))
    ).all()
    assert [(e.before["status"], e.after["status"]) for e in events] == [
        ("draft", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "approved"),
        ("approved", "active"),
        ("active", "repaid"),
    ]
    assert events[0].actor == "borrower@stockholm.se"
    assert events[2].actor == ANALYST and events[2].detail == "all clear"
    assert all(e.at is not None and e.entity_id == loan.reference for e in events)


@pytest.mark.parametrize(
    ("path", "to"),
    [((), "approved"), ((), "active"), (("submitted",), "approved"), (("submitted",), "repaid")],
)
def test_invalid_transitions_are_refused_in_both_languages(session, path, to):
    loan, _ = _draft(session)
    for step in path:
        apps.transition(session=session, loan=loan, to=step, actor=ANALYST)
    before = loan.status
    with pytest.raises(apps.ApplicationError) as caught:
        apps.transition(session=session, loan=loan, to=to, actor=ANALYST)
    assert caught.value.code == "invalid_transition"
    assert "cannot go from" in caught.value.message_en
    assert "kan inte gå från" in caught.value.message_sv
    assert loan.status == before


def test_rejecting_needs_a_reason_and_a_submitted_case_cannot_be_edited_in_review(session):
    loan, _ = _draft(session)
    _to_review(session, loan)
    with pytest.raises(apps.ApplicationError) as caught:
        apps.transition(session=session, loan=loan, to="rejected", actor=ANALYST)
    assert caught.value.code == "reason_required"
    with pytest.raises(apps.ApplicationError) as caught:
        apps.update_application(session=session, loan=loan, raw={"title": "x"}, actor=ANALYST)
    assert caught.value.code == "not_editable"


def test_approval_needs_both_decisions_and_an_eligible_assessment(session, settings):
    loan, _ = _draft(session)
    _to_review(session, loan)
    with pytest.raises(apps.ApplicationError) as caught:
        apps.transition(session=session, loan=loan, to="approved", actor=ANALYST)
    assert caught.value.code == "approvals_missing"
    _approve_both(session, loan, settings)
    with pytest.raises(apps.ApplicationError) as caught:
        apps.transition(session=session, loan=loan, to="approved", actor=ANALYST)
    assert caught.value.code == "not_eligible"
    assert "E9" in caught.value.message_en
    _judge_all(session, loan)
    apps.transition(session=session, loan=loan, to="approved", actor=ANALYST)
    assert loan.status == "approved"
    stored = apps.latest_assessment(session, loan)
    assert stored.overall == "eligible" and stored.rule_set == "2021.1"


def test_each_assessment_run_is_stored_with_its_rule_set_and_both_languages(session):
    loan, _ = _draft(session)
    apps.transition(session=session, loan=loan, to="submitted", actor="borrower@stockholm.se")
    apps.record_judgement(
        session=session,
        loan=loan,
        criterion_id="E9",
        result="fail",
        rationale="The logic does not say why lighting would reduce crime.",
        actor=ANALYST,
    )
    runs = session.exec(
        select(Assessment).where(Assessment.loan_id == loan.id).order_by(col(Assessment.id))
    ).all()
    assert [r.overall for r in runs] == ["needs_judgement", "not_eligible"]
    e9 = next(c for c in runs[-1].result["criteria"] if c["id"] == "E9")
    assert e9["result"] == "fail"
    assert "lighting" in e9["reason_en"] and "lighting" in e9["reason_sv"]
    assert e9["judged_by"] == ANALYST
    assert all(r.rule_set == "2021.1" for r in runs)


def test_a_judgement_of_a_criterion_not_judged_is_refused(session):
    loan, _ = _draft(session)
    apps.transition(session=session, loan=loan, to="submitted", actor="b")
    with pytest.raises(apps.ApplicationError) as caught:
        apps.record_judgement(
            session=session, loan=loan, criterion_id="E4", result="pass", rationale="x", actor="a"
        )
    assert "E4" in caught.value.message_en and "E4" in caught.value.message_sv
    with pytest.raises(apps.ApplicationError):
        apps.record_judgement(
            session=session, loan=loan, criterion_id="E9", result="pass", rationale=" ", actor="a"
        )


def test_the_discount_applies_only_after_both_approvals(session, settings):
    loan, _ = _draft(session)
    _to_review(session, loan)
    apps.record_decision(
        session=session,
        loan=loan,
        kind="committee",
        outcome="approved",
        rationale="good",
        actor=ANALYST,
        settings=settings,
    )
    assert loan.discount_bp == 0
    terms = apps.discount_for(session=session, loan=loan, settings=settings, as_of=date(2024, 1, 1))
    assert not terms.applies and terms.annual_saving == 0
    apps.record_decision(
        session=session,
        loan=loan,
        kind="credit",
        outcome="approved",
        rationale="sound",
        actor=ANALYST,
        settings=settings,
    )
    assert loan.discount_bp == Decimal("2")
    terms = apps.discount_for(session=session, loan=loan, settings=settings, as_of=date(2024, 1, 1))
    # 3.8 bn SEK at 2 bp is 760 000 SEK a year; 25 bp margin becomes 23
    assert terms.annual_saving == Decimal("760000.00")
    assert terms.effective_margin_bp == Decimal("23")
    assert terms.term_saving == Decimal("760000") * terms.remaining_years
    summary = apps.assessment_summary(
        session=session, loan=loan, settings=settings, as_of=date(2024, 1, 1)
    )
    assert summary["annual_saving_sek"] == "760000.00"
    # a later rejection takes it away again, and the change is audited
    apps.record_decision(
        session=session,
        loan=loan,
        kind="credit",
        outcome="rejected",
        rationale="new information",
        actor=ANALYST,
        settings=settings,
    )
    assert loan.discount_bp == 0
    changes = session.exec(select(AuditEvent).where(AuditEvent.action == "loan.discount")).all()
    assert [(e.before["discount_bp"], e.after["discount_bp"]) for e in changes] == [
        ("0", "2"),
        ("2", "0"),
    ]
    assert len(session.exec(select(Decision).where(Decision.loan_id == loan.id)).all()) == 3


def test_decisions_are_refused_outside_the_review_and_without_a_rationale(session, settings):
    loan, _ = _draft(session)
    with pytest.raises(apps.ApplicationError) as caught:
        apps.record_decision(
            session=session,
            loan=loan,
            kind="committee",
            outcome="approved",
            rationale="ok",
            actor=ANALYST,
            settings=settings,
        )
    assert caught.value.code == "not_in_review"
    _to_review(session, loan)
    with pytest.raises(apps.ApplicationError):
        apps.record_decision(
            session=session,
            loan=loan,
            kind="committee",
            outcome="approved",
            rationale="",
            actor=ANALYST,
            settings=settings,
        )


def test_an_active_loan_without_last_years_values_is_at_risk_after_the_deadline(session, settings):
    loan, _ = _draft(session, disbursement_date="2023-06-01")
    _to_review(session, loan)
    _judge_all(session, loan)
    _approve_both(session, loan, settings)
    apps.transition(session=session, loan=loan, to="approved", actor=ANALYST)
    apps.transition(session=session, loan=loan, to="active", actor=ANALYST)
    li = session.exec(select(LoanIndicator).where(LoanIndicator.loan_id == loan.id)).first()
    session.add(Measurement(loan_indicator_id=li.id, year=2023, value=Decimal("100")))
    session.flush()
    assert apps.discount_at_risk(session, date(2024, 4, 30), "04-30") == []
    assert apps.discount_at_risk(session, date(2025, 4, 30), "04-30") == []
    assert apps.discount_at_risk(session, date(2025, 5, 1), "04-30") == [loan.reference]
    queue = apps.application_queue(session=session, as_of=date(2025, 5, 1))
    assert queue[0]["at_risk"] is True
    session.add(Measurement(loan_indicator_id=li.id, year=2024, value=Decimal("300")))
    session.flush()
    assert apps.discount_at_risk(session, date(2025, 5, 1), "04-30") == []


def test_the_queue_filters_and_sorts(session):
    first, _ = _draft(session, amount="100")
    other = make_borrower(session, orgnr="212000-1355", name="Vara kommun")
    second, _ = apps.create_application(
        session=session,
        borrower_id=other.id,
        actor="x",
        raw={
            "title": "Family centre",
            "amount": "16000000",
            "programme_category": "health_education",
        },
        today=date(2023, 5, 1),
    )
    apps.transition(session=session, loan=second, to="submitted", actor="x")
    rows = apps.application_queue(
        session=session, as_of=date(2024, 1, 1), sort="amount", descending=True
    )
    assert [r["reference"] for r in rows] == [second.reference, first.reference]
    assert [
        r["reference"]
        for r in apps.application_queue(session=session, as_of=date(2024, 1, 1), status="submitted")
    ] == [second.reference]
    assert [
        r["reference"]
        for r in apps.application_queue(session=session, as_of=date(2024, 1, 1), category="housing")
    ] == [first.reference]
    assert [r["overall"] for r in rows] == ["not_eligible", ""]


# --- the demo portfolio ---------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["SH-2023-001", "SH-2023-002"])
def test_the_demos_botkyrkabyggen_and_vara_loans_are_eligible_with_recorded_judgements(
    demo_session, reference
):
    loan = get_loan(demo_session, reference)
    result = apps.assess_loan(session=demo_session, loan=loan)
    assert result.overall == "eligible"
    for criterion in ("E9", "E10", "E11"):
        judged = result.criterion(criterion)
        assert judged.result == "pass"
        assert judged.judged_by and judged.rationale
    assert loan.discount_bp == Decimal("2")


def test_the_demos_weak_application_is_not_eligible_and_says_what_to_add(demo_session):
    loan = get_loan(demo_session, "SH-2025-001")
    result = apps.assess_loan(session=demo_session, loan=loan)
    assert result.overall == "not_eligible"
    failed = {c.id: c for c in result.criteria if c.result == "fail"}
    assert {"E2", "E5", "E6", "E7"} <= set(failed)
    # every failing criterion names the field to fix and says, in both languages, what to add
    assert failed["E5"].fields == ("target_group_attributes",)
    assert "attributes" in failed["E5"].reason_en and "attribut" in failed["E5"].reason_sv
    assert "target year" in failed["E6"].reason_en
    assert "outcome indicator" in failed["E7"].reason_en
    assert "Running costs cannot be financed" in failed["E2"].reason_en
    assert all(c.fields and c.reason_sv and c.reason_en for c in failed.values())


def test_the_demos_overdue_report_puts_its_discount_at_risk(demo_session):
    assert apps.discount_at_risk(demo_session, date(2026, 4, 30), "04-30") == []
    assert apps.discount_at_risk(demo_session, date(2026, 5, 1), "04-30") == ["SH-2024-004"]
