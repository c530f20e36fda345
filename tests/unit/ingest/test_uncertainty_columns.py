"""Optional ``n`` and ``std_error`` columns, and the history mode of Kolada's pre-baseline years."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from lanportfolj.ingest import IngestContext, parse_file
from lanportfolj.ingest.headers import canonical_column


def _csv(text: str, context: IngestContext):
    return parse_file("upload.csv", text.encode("utf-8"), context)


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("antal", "n"),
        ("n", "n"),
        ("Antal (elever)", "n"),
        ("medelfel", "std_error"),
        ("Standardfel", "std_error"),
        ("std_error", "std_error"),
        ("Std. error", "std_error"),
    ],
)
def test_swedish_and_english_headers_name_the_uncertainty_columns(header, column) -> None:
    assert canonical_column(header) == column


def test_counts_and_standard_errors_are_read_with_swedish_conventions(context) -> None:
    text = (
        "lån;indikator;år;värde;grupp;antal;medelfel\n"
        "SH-2023-001;perceived_safety_share;2024;61,5;;412;2,4\n"
        "SH-2023-001;perceived_safety_share;2024;58,0;Skola B;1 020;\n"
        "SH-2023-001;perceived_safety_share;2025;60;;;\n"
    )
    result = _csv(text, context)
    assert result.ok, [i.message_en for i in result.issues]
    assert [(r.group, r.n, r.std_error) for r in result.rows] == [
        ("", 412, Decimal("2.4")),
        ("Skola B", 1020, None),
        ("", None, None),
    ]


def test_bad_uncertainty_is_a_row_error_naming_the_column(context) -> None:
    text = (
        "loan,indicator,year,value,n,std_error\n"
        "SH-2023-001,perceived_safety_share,2024,61.5,-3,\n"
        "SH-2023-001,perceived_safety_share,2025,,,1.2\n"
        "SH-2023-001,perceived_safety_share,2023,60,12.5,\n"
        "SH-2023-001,perceived_safety_share,2022,60,,-0.5\n"
        "SH-2023-001,dwellings_renovated,2024,3,many,\n"
    )
    result = _csv(text, context)
    assert [(i.row, i.column, i.code) for i in result.errors] == [
        (2, "n", "negative-count"),
        (3, "std_error", "uncertainty-without-value"),
        (4, "n", "count-not-whole"),
        (5, "std_error", "negative-std-error"),
        (6, "n", "not-a-number"),
    ]
    assert not result.ok and result.rows == []
    message = result.errors[1].message_sv
    assert "medelfel" in message and "inget värde" in message
    assert "'n'" in result.errors[0].message_en


def test_history_is_only_for_named_units_up_to_the_baseline_year(context) -> None:
    history = replace(context, history=True)
    text = (
        "loan,indicator,year,value,group\n"
        "SH-2023-001,perceived_safety_share,2016,55,Botkyrka\n"
        "SH-2023-001,perceived_safety_share,2022,57,Botkyrka\n"
        "SH-2023-001,perceived_safety_share,2023,58,Botkyrka\n"
        "SH-2023-001,perceived_safety_share,2019,56,\n"
    )
    result = _csv(text, history)
    assert [(i.row, i.column, i.code) for i in result.errors] == [
        (4, "year", "history-after-baseline"),
        (5, "group", "history-without-unit"),
    ]
    assert "2022" in result.errors[0].message_en
    # the same years are no history in an ordinary file: 2016 is before the baseline
    ordinary = _csv(text, context)
    assert ("year-out-of-range", 2) in [(i.code, i.row) for i in ordinary.errors]
