"""What a borrower must report next and by when (domain/report_due.py), as the whole answer (issue 20)."""

from __future__ import annotations

from datetime import date

import pytest

from lanportfolj.domain.report_due import ReportDue, report_due

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("last", "first_due", "as_of", "expected"),
    [
        # 2025's values are due by 30 April 2026; 2024 is in
        (2024, 2023, date(2026, 3, 1), ReportDue(2025, date(2026, 4, 30), "due", 2024)),
        # on the deadline itself the report is still due, the day after it is overdue
        (2024, 2023, date(2026, 4, 30), ReportDue(2025, date(2026, 4, 30), "due", 2024)),
        (2024, 2023, date(2026, 5, 1), ReportDue(2025, date(2026, 4, 30), "overdue", 2024)),
        # 2025 is in: done for this round
        (2025, 2023, date(2026, 3, 1), ReportDue(2025, date(2026, 4, 30), "done", 2025)),
        # an earlier year still missing is overdue whatever this year's date
        (2022, 2021, date(2026, 1, 15), ReportDue(2023, date(2024, 4, 30), "overdue", 2022)),
        # nothing reported yet: the first year due
        (None, 2024, date(2026, 3, 1), ReportDue(2024, date(2025, 4, 30), "overdue", None)),
        (None, 2025, date(2026, 3, 1), ReportDue(2025, date(2026, 4, 30), "due", None)),
        # a year reported before the loan's first due year does not move it earlier
        (2020, 2024, date(2026, 3, 1), ReportDue(2024, date(2025, 4, 30), "overdue", 2020)),
        # disbursed this year: the first report is due next year
        (None, 2026, date(2026, 3, 1), ReportDue(2026, date(2027, 4, 30), "not_yet", None)),
    ],
)
def test_the_report_due(last: int | None, first_due: int, as_of: date, expected: ReportDue) -> None:
    assert report_due(last_reported_year=last, first_due_year=first_due, as_of=as_of) == expected


def test_another_deadline_day() -> None:
    assert report_due(
        last_reported_year=2024, first_due_year=2023, as_of=date(2026, 4, 1), deadline="03-31"
    ) == ReportDue(2025, date(2026, 3, 31), "overdue", 2024)
