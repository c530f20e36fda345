"""What a loan's borrower has to report next, and by when: the start page's "due by 30 April".

A year's values are due by the deadline (``MM-DD``, 30 April) of the next year; a loan reports from the year
of its disbursement. Reports are cumulative: having reported year Y means every year up to Y is in
(the same reading as :func:`lanportfolj.domain.discount.report_overdue`, which this agrees with).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lanportfolj.domain.discount import report_deadline

#: ``done``: this year's report is in; ``due``: not yet, the deadline is ahead; ``overdue``: a deadline
#: has passed without the report; ``not_yet``: the first report is due in a later year.
STATES = ("done", "due", "overdue", "not_yet")


@dataclass(frozen=True)
class ReportDue:
    """The year to report next, its deadline and where the borrower stands."""

    year: int
    deadline: date
    state: str
    last_reported_year: int | None


def report_due(
    *,
    last_reported_year: int | None,
    first_due_year: int,
    as_of: date,
    deadline: str = "04-30",
) -> ReportDue:
    """The report that matters on ``as_of``: last year's (due this spring), or an earlier missing one.

    >>> report_due(last_reported_year=2024, first_due_year=2023, as_of=date(2026, 3, 1)).state
    'due'
    """
    this_round = as_of.year - 1  # the year whose values are due by this year's deadline
    if first_due_year > this_round:
        return ReportDue(
            first_due_year,
            report_deadline(first_due_year, deadline),
            "not_yet",
            last_reported_year,
        )
    if last_reported_year is not None and last_reported_year >= this_round:
        return ReportDue(
            this_round, report_deadline(this_round, deadline), "done", last_reported_year
        )
    # the first year not reported: an earlier year still missing is overdue whatever the date
    missing = first_due_year if last_reported_year is None else last_reported_year + 1
    missing = max(missing, first_due_year)
    due_on = report_deadline(missing, deadline)
    state = "overdue" if as_of > due_on else "due"
    return ReportDue(missing, due_on, state, last_reported_year)
