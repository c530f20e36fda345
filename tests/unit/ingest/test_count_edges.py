"""The ``n`` column on its edges: a count of 0 is a count, a negative one is refused, and a count on a
row without a value is refused naming the column (mutation testing, issue 20)."""

from __future__ import annotations

import pytest

from lanportfolj.ingest import IngestContext, parse_file

pytestmark = pytest.mark.unit

HEADER = "lån;indikator;år;värde;antal\n"


def _issues(line: str, context: IngestContext) -> list[tuple[int | None, str | None, str]]:
    result = parse_file("upload.csv", (HEADER + line + "\n").encode(), context)
    return [(i.row, i.column, i.code) for i in result.issues]


def test_a_count_of_zero_is_accepted(context: IngestContext) -> None:
    assert _issues("SH-2023-001;perceived_safety_share;2024;61,5;0", context) == []


def test_a_negative_count_is_refused(context: IngestContext) -> None:
    assert _issues("SH-2023-001;perceived_safety_share;2024;61,5;-1", context) == [
        (2, "n", "negative-count")
    ]


def test_a_count_without_a_value_is_refused(context: IngestContext) -> None:
    assert _issues("SH-2023-001;perceived_safety_share;2024;;40", context) == [
        (2, "n", "uncertainty-without-value")
    ]
