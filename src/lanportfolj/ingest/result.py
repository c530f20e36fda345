"""The outcome of reading one file: validated rows and every problem found."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from lanportfolj.ingest.issues import ImportIssue


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
    rows: list[MeasurementRow] = field(default_factory=list)
    issues: list[ImportIssue] = field(default_factory=list)
    #: Non-blank data rows in the file (accepted, rejected or skipped).
    total_rows: int = 0

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
