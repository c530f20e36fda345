"""The demo's published report: the 2024 report of the demo bond, as it was published in May 2025.

``demo load`` on a database without it loads the portfolio with the measurement files uploaded by
then (``load_portfolio(submitted_until=…)``), publishes the report of 2024-12-31 as of
:data:`PUBLISHED_AT`, and then loads the rest. The files uploaded in 2026 (2025's values and
Botkyrkabyggen's restated 2024 count of renovated dwellings) then come after the publication: an
investor reads a published report, and the 2025 draft lists the restatement against it.

On a database that already holds the later files (a demo loaded before this existed) the report is
published from the values as they are: the restatement then is in it already.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

from sqlalchemy import Engine
from sqlmodel import Session

from lanportfolj.config import Settings
from lanportfolj.models import Report
from lanportfolj.services import reports

#: The demo bond (data/demo/portfolio.toml).
DEMO_ISIN: Final = "SE0021150208"
#: The published report's date, and when it was published (after the three files of spring 2025).
REPORT_DATE: Final = date(2024, 12, 31)
PUBLISHED_AT: Final = datetime(2025, 5, 15, 10, 0, tzinfo=UTC)
PUBLISHED_BY: Final = "analys@demo.lanportfolj.se"


def needs_publication(engine: Engine) -> bool:
    """True when the demo bond is missing or has no published report of :data:`REPORT_DATE`."""
    with Session(engine) as session:
        bond = reports.get_bond(session, DEMO_ISIN)
        return bond is None or reports.published_report(session, bond, REPORT_DATE) is None


def publish(engine: Engine, settings: Settings) -> Report | None:
    """Publish the demo bond's 2024 report as of :data:`PUBLISHED_AT` (None when there is no bond
    or it is published already). Commits."""
    with Session(engine, expire_on_commit=False) as session:
        bond = reports.get_bond(session, DEMO_ISIN)
        if bond is None or reports.published_report(session, bond, REPORT_DATE) is not None:
            return None
        report = reports.publish_report(
            session=session,
            bond=bond,
            report_date=REPORT_DATE,
            fx=reports.make_fx(bond, report_date=REPORT_DATE, session=session),
            actor=PUBLISHED_BY,
            lang="sv",
            lookback_months=settings.lookback_months,
            published_at=PUBLISHED_AT,
        )
        session.commit()
        return report
