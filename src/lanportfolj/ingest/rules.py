"""What an import is checked against: the known loans and indicators, each loan's rules, who uploads.

Built by the measurements service from the database (or directly in tests); plain frozen data here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl


@dataclass(frozen=True)
class LoanIndicatorRule:
    """A loan's use of one indicator, as far as validation needs it."""

    loan: str
    indicator: str
    #: Earliest year that may be reported (the baseline year); None = no lower bound.
    baseline_year: int | None
    min_value: Decimal | None
    max_value: Decimal | None
    #: Counts and other whole-number indicators.
    integer: bool
    #: A percentage (0–100): a fraction in a percent-formatted cell is multiplied by 100.
    percent: bool = False


@dataclass(frozen=True)
class IngestContext:
    """Everything :func:`lanportfolj.ingest.parse_file` validates against."""

    known_loans: frozenset[str]
    known_indicators: frozenset[str]
    #: (loan reference, indicator code) → rule.
    rules: Mapping[tuple[str, str], LoanIndicatorRule]
    #: Latest year that may be reported.
    current_year: int
    #: Loans the uploader may report for; None = every loan (an analyst).
    allowed_loans: frozenset[str] | None = None
    max_bytes: int = 10 * 1024 * 1024
    #: Real bytes an XLSX file's parts may inflate to, all together (counted, never the declared sizes).
    max_uncompressed_bytes: int = 50 * 1024 * 1024
    max_compression_ratio: float = 100.0
    #: Parts an XLSX (ZIP) file may hold.
    max_zip_entries: int = 10_000
    #: Non-blank data rows one file may hold.
    max_rows: int = 200_000
    #: Earliest year accepted when a rule has no baseline year.
    earliest_year: int = field(default=1900)
    #: Official history before the baseline (Kolada): only years up to each rule's baseline year, and
    #: always for a named unit, never the loan's own series.
    history: bool = False
    #: Indicator code → (Swedish name, English name), for messages; a code without one is shown as is.
    indicator_names: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    #: The stored current values the file's rows are compared with (a value far off last year's is
    #: a warning): columns ``loan``, ``indicator``, ``group``, ``year``, ``value`` (exact text). None = none.
    previous: pl.DataFrame | None = field(default=None, compare=False)
    #: Instead of ``previous``: given the checked rows' series and years (columns ``loan``,
    #: ``indicator``, ``group``, ``year``), the stored values they are compared with, in ``previous``'s
    #: columns. Enough is the latest stored value before each row's year; the database answers that
    #: with one query, so no other stored value is read (issue 15).
    previous_for: Callable[[pl.DataFrame], pl.DataFrame] | None = field(default=None, compare=False)
