"""Issue 17 item 7: a value is a restatement relative to a publication by when its version was
written to the database, never by the time its file claims (a portfolio's ``uploaded_at``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import Session, select

from lanportfolj.db import session_scope
from lanportfolj.models import Measurement
from lanportfolj.services import reports
from lanportfolj.services.measurements import import_file

pytestmark = pytest.mark.integration

ISIN = "SE0021150208"
DAY = date(2025, 12, 31)
VARA = "SH-2023-002"
VISITS = "home_visits_new_parents"
RESTATE_CSV = f"lån;indikator;år;värde;uppskattat;kommentar;grupp\n{VARA};{VISITS};2025;440;;;\n"


def test_a_restatement_claiming_an_earlier_time_is_still_listed_in_the_next_report(
    demo_settings, demo_engine
) -> None:
    with session_scope(demo_engine) as db:
        bond = reports.get_bond(db, ISIN)
        assert bond is not None
        reports.publish_report(session=db, bond=bond, report_date=DAY, fx=None, actor="a@test")
    claimed = datetime(2024, 1, 1, tzinfo=UTC)  # long before the publication
    with session_scope(demo_engine) as db:
        result = import_file(
            session=db,
            settings=demo_settings,
            filename="historical.csv",
            data=RESTATE_CSV.encode(),
            uploaded_by="portfolio",
            current_year=2026,
            recorded_at=claimed,
        )
        assert result.accepted and result.restated == 1
    with Session(demo_engine) as db:
        row = db.exec(
            select(Measurement).where(Measurement.is_current, Measurement.value == 440)
        ).one()
        assert row.recorded_at.replace(tzinfo=UTC) == claimed  # the claim is kept, as claimed
        assert row.written_at.replace(tzinfo=UTC) > claimed  # and the time of writing apart
        bond = reports.get_bond(db, ISIN)
        assert bond is not None
        nxt = reports.draft_report(session=db, bond=bond, report_date=date(2026, 6, 30))
    listed = [(r["loan"], r["year"], r["old"], r["new"]) for r in nxt["restatements"]]
    assert listed == [(VARA, 2025, "431", "440")]
    assert nxt["methodology"]["restated_values"] == 1
