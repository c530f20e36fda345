"""Issue 17 items 4 and 5 on a real database: dated tranches with a financing/refinancing mark and
vintage (fixture c), life events that take loans out of the pool (fixture b), the CLI, and the
matured-but-active warning.

Fixture (b), by hand: one SEK bond of 100 000 000 issued 2024-06-01 on two loans, 60 m (2023-03-01)
and 50 m (2023-09-01): pool 110 m. The 50 m loan is repaid on 2025-06-15 → pool 60 m < 100 m; 10 m of
the other is prepaid on 2025-09-01 → pool 50 m. At 2025-12-31: share capped at 1, allocated 50 m,
unallocated 50 m; the test holds at 2025-05-31 (headroom +10 m) and fails from 2025-06-30 (−40 m, then
−50 m from 2025-09-30).

Fixture (c), by hand: issue 2024-06-01, look-back 24 months → cut-off 2022-06-01. One 35 m loan in
tranches: 10 m 2022-03-01 (refinancing, before the cut-off), 10 m 2022-09-01 (refinancing), 5 m
2024-03-01 marked financing, 10 m 2024-09-01 (financing, derived). Vintage at 2025-12-31: 2022
refinancing 20 m (2 tranches, 1 before the cut-off), 2024 financing 15 m (2 tranches).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from programme_world import DAY, bonds_on, borrower, loan
from sqlmodel import Session, select
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import make_engine
from lanportfolj.models import AuditEvent, Loan
from lanportfolj.services import reports
from lanportfolj.services.loan_events import (
    LoanEventError,
    add_tranche,
    matured_active,
    record_event,
)
from lanportfolj.services.programme import programme_view, view_dict

pytestmark = pytest.mark.integration

BOND = ("SE0000000010", "SEK", "100000000")


def _fixture_b(session: Session) -> None:
    who = borrower(session)
    loans = [
        loan(session, who, "SH-2023-201", "60000000.00", date(2023, 3, 1)),
        loan(session, who, "SH-2023-202", "50000000.00", date(2023, 9, 1)),
    ]
    bonds_on(session, loans, [BOND])
    record_event(session, reference="SH-2023-202", kind="repaid", day=date(2025, 6, 15), actor="t")
    record_event(
        session,
        reference="SH-2023-201",
        kind="prepaid",
        day=date(2025, 9, 1),
        amount=Decimal("10000000.00"),
        actor="t",
    )


def test_fixture_b_a_repayment_mid_year_shrinks_the_pool_below_the_bond(session: Session) -> None:
    _fixture_b(session)
    repaid = session.exec(select(Loan).where(Loan.reference == "SH-2023-202")).one()
    assert (repaid.status, repaid.outstanding_amount) == ("repaid", Decimal("0.00"))
    data = view_dict(programme_view(session, DAY))
    assert data["pool_sek"] == "50000000.00"
    (bond,) = data["bonds"]
    assert (bond["share"], bond["allocated"], bond["unallocated"]) == (
        "1.00000000",
        "50000000.00",
        "50000000.00",
    )
    history = {t["date"]: t for t in data["history"]}
    assert (history["2025-05-31"]["headroom_sek"], history["2025-05-31"]["within_pool"]) == (
        "10000000.00",
        True,
    )
    assert (history["2025-06-30"]["headroom_sek"], history["2025-06-30"]["within_pool"]) == (
        "-40000000.00",
        False,
    )
    assert history["2025-08-31"]["pool_sek"] == "60000000.00"
    assert history["2025-09-30"]["headroom_sek"] == "-50000000.00"
    assert data["left_pool"] == [
        {
            "loan": "SH-2023-202",
            "borrower": "Stockholms stad",
            "event": "repaid",
            "date": "2025-06-15",
            "year": 2025,
            "amount_sek": "50000000.00",
        }
    ]
    # looked at on the day before the repayment, the loan is still in the pool with its amount
    before = view_dict(programme_view(session, date(2025, 6, 14)))
    assert before["pool_sek"] == "110000000.00" and before["within_pool"] is True
    assert before["left_pool"] == []
    # the bond's report agrees, and lists the loan that left
    session.commit()
    sek = reports.get_bond(session, BOND[0])
    assert sek is not None
    report = reports.draft_report(session=session, bond=sek, report_date=DAY)
    summary = report["allocation"]["summary"]
    assert (summary["allocated"], summary["unallocated"]) == ("50000000.00", "50000000.00")
    assert summary["pool_smaller_than_bond"] is True
    assert [e["loan"] for e in report["programme"]["left_pool"]] == ["SH-2023-202"]
    page = reports.render(report, fmt="html", lang="en").decode()
    assert "left the pool in 2025" in page


def test_events_are_checked_and_audited(session: Session) -> None:
    _fixture_b(session)
    with pytest.raises(LoanEventError) as repaid_again:
        record_event(session, reference="SH-2023-202", kind="repaid", day=DAY, actor="t")
    assert repaid_again.value.code == "not_in_pool"
    with pytest.raises(LoanEventError) as too_much:
        record_event(
            session,
            reference="SH-2023-201",
            kind="written_down",
            day=DAY,
            amount=Decimal("50000000.01"),
            actor="t",
        )
    assert "exceeds the outstanding 50000000.00" in too_much.value.message_en
    with pytest.raises(LoanEventError) as early:
        record_event(
            session, reference="SH-2023-201", kind="matured", day=date(2025, 1, 1), actor="t"
        )
    assert early.value.code == "out_of_order"
    with pytest.raises(LoanEventError):
        record_event(session, reference="SH-2023-201", kind="sold", day=DAY, actor="t")
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "loan")).all()
    assert sorted(actions) == ["loan.prepaid", "loan.repaid"]


def test_fixture_c_tranches_straddling_the_look_back_cut_off(session: Session) -> None:
    who = borrower(session)
    row = loan(session, who, "SH-2022-301", "35000000.00", date(2022, 3, 1))
    row.disbursed_amount = row.outstanding_amount = Decimal("0.00")
    bonds_on(session, [row], [BOND])
    for day, amount, funding in (
        (date(2022, 3, 1), "10000000.00", None),
        (date(2022, 9, 1), "10000000.00", None),
        (date(2024, 3, 1), "5000000.00", "financing"),
        (date(2024, 9, 1), "10000000.00", None),
    ):
        add_tranche(
            session,
            reference="SH-2022-301",
            day=day,
            amount=Decimal(amount),
            funding=funding,
            actor="t",
        )
    assert (row.disbursed_amount, row.outstanding_amount) == (
        Decimal("35000000.00"),
        Decimal("35000000.00"),
    )
    data = view_dict(programme_view(session, DAY))
    assert data["lookback_cutoff"] == "2022-06-01"
    assert data["vintage"] == [
        {
            "year": 2022,
            "funding": "refinancing",
            "outstanding_sek": "20000000.00",
            "tranches": 2,
            "lookback_exceeded": 1,
        },
        {
            "year": 2024,
            "funding": "financing",
            "outstanding_sek": "15000000.00",
            "tranches": 2,
            "lookback_exceeded": 0,
        },
    ]
    # at a past date only the tranches disbursed by then are in the pool
    assert view_dict(programme_view(session, date(2024, 6, 30)))["pool_sek"] == "25000000.00"
    assert view_dict(programme_view(session, date(2022, 12, 31)))["pool_sek"] == "20000000.00"
    with pytest.raises(LoanEventError) as over:
        add_tranche(
            session,
            reference="SH-2022-301",
            day=DAY,
            amount=Decimal("1.00"),
            funding=None,
            actor="t",
        )
    assert over.value.code == "over_amount"


def test_matured_but_active_is_warned(session: Session) -> None:
    who = borrower(session)
    old = loan(
        session, who, "SH-2015-401", "5000000.00", date(2015, 3, 1), maturity=date(2025, 3, 1)
    )
    bonds_on(session, [old], [BOND])
    assert matured_active(session, DAY) == [("SH-2015-401", date(2025, 3, 1))]
    data = view_dict(programme_view(session, DAY))
    assert data["matured_active"][0]["loan"] == "SH-2015-401"
    session.commit()
    sek = reports.get_bond(session, BOND[0])
    assert sek is not None
    report = reports.draft_report(session=session, bond=sek, report_date=DAY)
    codes = [m["code"] for m in report["programme"]["messages"]]
    assert "matured_but_active" in codes


def test_tranche_and_event_from_the_cli(settings) -> None:
    url = ["--database-url", settings.database_url]
    runner = CliRunner()
    assert runner.invoke(app, [*url, "db", "upgrade"]).exit_code == 0
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            who = borrower(db)
            row = loan(db, who, "SH-2023-501", "40000000.00", date(2023, 3, 1))
            bonds_on(db, [row], [BOND])
            db.commit()
    finally:
        engine.dispose()
    done = runner.invoke(
        app,
        [*url, "programme", "event", "SH-2023-501", "prepaid", "--date", "2025-04-01",
         "--amount", "15000000", "--note", "partial prepayment"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "15000000.00 SEK left the pool" in " ".join(done.output.split())
    bad = runner.invoke(
        app, [*url, "programme", "event", "SH-2023-501", "sold", "--date", "2025-04-02"]
    )
    assert bad.exit_code == 1 and "must be one of" in " ".join(bad.output.split())
    shown = json.loads(
        runner.invoke(app, [*url, "programme", "show", "--date", "2025-12-31", "--json"]).stdout
    )
    assert shown["pool_sek"] == "25000000.00"
    tranche = runner.invoke(
        app, [*url, "programme", "tranche", "SH-2023-501", "--date", "2025-05-01", "--amount", "x"]
    )
    assert tranche.exit_code == 2
