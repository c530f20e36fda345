"""The import context the ingest tests validate against (two loans of one borrower, one of another)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from lanportfolj.ingest import IngestContext, LoanIndicatorRule

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"


def build_context(
    *, allowed: frozenset[str] | None = None, max_bytes: int = 10 * 1024 * 1024
) -> IngestContext:
    """Loans SH-2023-001 and SH-2024-002 (the uploader's) and SH-2025-003 (someone else's)."""
    rules = [
        LoanIndicatorRule("SH-2023-001", "dwellings_renovated", 2022, Decimal(0), None, True),
        LoanIndicatorRule(
            "SH-2023-001", "perceived_safety_share", 2022, Decimal(0), Decimal(100), False, True
        ),
        LoanIndicatorRule("SH-2024-002", "home_visits_new_parents", 2023, Decimal(0), None, True),
        LoanIndicatorRule("SH-2025-003", "home_visits_new_parents", 2024, Decimal(0), None, True),
    ]
    return IngestContext(
        known_loans=frozenset({"SH-2023-001", "SH-2024-002", "SH-2025-003"}),
        known_indicators=frozenset(
            {"dwellings_renovated", "perceived_safety_share", "home_visits_new_parents"}
        ),
        rules={(rule.loan, rule.indicator): rule for rule in rules},
        current_year=2026,
        allowed_loans=allowed,
        max_bytes=max_bytes,
    )


BORROWER_LOANS = frozenset({"SH-2023-001", "SH-2024-002"})


@pytest.fixture(scope="session")
def context() -> IngestContext:
    """A borrower who may report for SH-2023-001 and SH-2024-002."""
    return build_context(allowed=BORROWER_LOANS)


@pytest.fixture(scope="session")
def analyst_context() -> IngestContext:
    """An analyst who may report for every loan."""
    return build_context()
