"""``lanportfolj assess`` and the application steps on the command line."""

from __future__ import annotations

import json
from datetime import date

import pytest
from applications_builders import complete_case, make_borrower
from sqlmodel import Session, select
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import session_scope
from lanportfolj.models import Assessment
from lanportfolj.services import applications as apps

pytestmark = pytest.mark.integration

runner = CliRunner()


@pytest.fixture
def reference(engine) -> str:
    with session_scope(engine) as session:
        borrower = make_borrower(session)
        loan, _ = apps.create_application(
            session=session,
            borrower_id=borrower.id,
            actor="b",
            raw=complete_case(),
            today=date(2023, 3, 1),
        )
        return loan.reference


def _run(settings, *args: str):
    return runner.invoke(app, ["--database-url", settings.database_url, *args])


def test_assess_json_has_the_documented_shape_and_stores_the_run(settings, engine, reference):
    result = _run(settings, "assess", reference, "--json", "--as-of", "2024-01-01")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "loan",
        "overall",
        "rule_set",
        "criteria",
        "discount_bp",
        "annual_saving_sek",
        "term_saving_sek",
    }
    assert data["loan"] == reference
    assert data["overall"] == "needs_judgement"
    assert data["rule_set"] == "2021.1"
    assert [c["id"] for c in data["criteria"]] == [f"E{n}" for n in range(1, 13)]
    assert all({"id", "result", "reason"} <= set(c) for c in data["criteria"])
    e9 = data["criteria"][8]
    assert e9["result"] == "needs_judgement" and e9["reason"]
    # no approvals yet: no discount, nothing saved
    assert (data["discount_bp"], data["annual_saving_sek"]) == ("0", "0")
    with Session(engine) as session:
        assert len(session.exec(select(Assessment)).all()) == 1


def test_the_steps_on_the_command_line_lead_to_the_discount(settings, reference):
    analyst = ("--actor", "analyst@lender.se")
    assert _run(settings, "loans", "submit", reference, *analyst).exit_code == 0
    assert _run(settings, "loans", "review", reference, *analyst).exit_code == 0
    for criterion in ("E9", "E10", "E11"):
        step = _run(
            settings, "loans", "judge", reference, criterion, "pass", "--rationale", "ok", *analyst
        )
        assert step.exit_code == 0, step.output
    for kind in ("committee", "credit"):
        step = _run(
            settings, "loans", "decide", reference, kind, "approved", "--rationale", "ok", *analyst
        )
        assert step.exit_code == 0, step.output
    approve = _run(settings, "loans", "status", reference, "approved", *analyst)
    assert approve.exit_code == 0, approve.output
    data = json.loads(_run(settings, "assess", reference, "--json", "--as-of", "2024-01-01").stdout)
    assert data["overall"] == "eligible"
    assert data["discount_bp"] == "2"
    # 3.8 bn SEK at 2 bp
    assert data["annual_saving_sek"] == "760000.00"


def test_an_invalid_step_is_refused_with_exit_1_and_a_message(settings, reference):
    result = _run(settings, "loans", "status", reference, "active", "--actor", "a")
    assert result.exit_code == 1
    assert "cannot go from draft to active" in result.output


def test_an_unknown_loan_exits_1_with_a_message(settings):
    result = _run(settings, "assess", "SH-1999-999", "--json")
    assert result.exit_code == 1
    assert "SH-1999-999" in result.output
    assert result.stdout.strip() == "" or not result.stdout.strip().startswith("{")


def test_assess_prints_a_readable_table_in_swedish(settings, reference):
    result = _run(settings, "assess", reference, "--lang", "sv")
    assert result.exit_code == 0, result.output
    assert "Berättigad låntagare" in result.output
    assert "Rabatten" in result.output
