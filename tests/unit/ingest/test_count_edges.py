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


@pytest.mark.parametrize(
    ("count", "code"),
    [
        # more than the stored column holds: it used to be kept (and refused by PostgreSQL on saving)
        ("3000000000", "count-too-large"),
        # more than a 64-bit integer: it used to be read as "no count", silently
        ("12345678901234567890", "count-too-large"),
        # digits that look whole but no number parser reads: also lost silently before
        ("５", "not-a-number"),
        ("٣", "not-a-number"),
    ],
)
def test_a_count_that_cannot_be_stored_is_a_row_error_not_a_lost_count(
    count: str, code: str, context: IngestContext
) -> None:
    result = parse_file(
        "upload.csv",
        (HEADER + f"SH-2023-001;perceived_safety_share;2024;61,5;{count}\n").encode(),
        context,
    )
    assert [(i.row, i.column, i.code, i.value) for i in result.issues] == [(2, "n", code, count)]
    assert result.rows == []


def test_the_largest_storable_count_is_kept_and_one_more_is_refused_in_both_languages(
    context: IngestContext,
) -> None:
    text = (
        HEADER
        + "SH-2023-001;perceived_safety_share;2024;61,5;2147483647\n"
        + "SH-2023-001;perceived_safety_share;2025;61,5;2147483648\n"
    )
    result = parse_file("upload.csv", text.encode(), context)
    assert [(row.row, row.n) for row in result.rows] == [(2, 2_147_483_647)]
    (issue,) = result.issues
    assert (issue.row, issue.column, issue.code) == (3, "n", "count-too-large")
    assert issue.message_sv == (
        "Antalet 2147483648 i kolumnen 'antal' är för stort; högst 2 147 483 647 kan sparas."
    )
    assert issue.message_en == (
        "The count 2147483648 in the column 'n' is too large; at most 2 147 483 647 can be stored."
    )


def test_a_count_between_zero_and_one_is_not_whole(context: IngestContext) -> None:
    assert _issues("SH-2023-001;perceived_safety_share;2024;61,5;0,5", context) == [
        (2, "n", "count-not-whole")
    ]
