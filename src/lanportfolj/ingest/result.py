"""The outcome of reading one file: validated rows and every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import polars as pl

from lanportfolj.ingest.issues import ImportIssue

#: Columns of :attr:`ParseResult.accepted`; ``value`` is the number as plain text (``-1234.5``), exact.
ACCEPTED_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "loan": pl.String(),
    "indicator": pl.String(),
    "year": pl.Int64(),
    "value": pl.String(),
    "estimated": pl.Boolean(),
    "comment": pl.String(),
    "group": pl.String(),
}


@dataclass(frozen=True)
class MeasurementRow:
    """One validated measurement, with the row it came from."""

    row: int
    loan: str
    indicator: str
    year: int
    value: Decimal
    estimated: bool
    comment: str | None
    #: Comparison unit name; "" = the intervention itself.
    group: str = ""


@dataclass
class ParseResult:
    """Rows that passed validation and the issues found; the import may proceed only when ``ok``."""

    file: str
    #: The first :data:`~lanportfolj.ingest.issues.MAX_ISSUES` problems (errors before warnings).
    issues: list[ImportIssue] = field(default_factory=list)
    #: Problems found beyond those in ``issues``: counted, not kept.
    more_issues: int = 0
    #: Non-blank data rows in the file (accepted, rejected or skipped).
    total_rows: int = 0
    #: The rows that passed, one per row of the file (columns: :data:`ACCEPTED_SCHEMA`).
    accepted: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ACCEPTED_SCHEMA))

    @cached_property
    def rows(self) -> list[MeasurementRow]:
        """The rows that passed as objects (built on first use: a large import never needs them)."""
        return [
            MeasurementRow(
                row=row,
                loan=loan,
                indicator=indicator,
                year=year,
                value=Decimal(value),
                estimated=estimated,
                comment=comment,
                group=group,
            )
            for row, loan, indicator, year, value, estimated, comment, group in (
                self.accepted.select(list(ACCEPTED_SCHEMA)).iter_rows()
            )
        ]

    @property
    def ok(self) -> bool:
        """True when no issue is an error (warnings do not block an import)."""
        return not any(issue.severity == "error" for issue in self.issues)

    @property
    def errors(self) -> list[ImportIssue]:
        """The issues that block the import."""
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[ImportIssue]:
        """The issues that are shown but do not block the import."""
        return [issue for issue in self.issues if issue.severity != "error"]
