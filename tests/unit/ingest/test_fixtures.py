"""Every fixture file in tests/fixtures/imports gives exactly the rows or the issue it is named for."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lanportfolj.ingest import IngestContext, MeasurementRow, parse_file

from .conftest import BORROWER_LOANS, FIXTURES, build_context

pytestmark = pytest.mark.unit


def _parse(name: str, context: IngestContext):
    return parse_file(name, (FIXTURES / name).read_bytes(), context)


# file → (code, row, column, value) of the single error it must give
BAD_FILES = {
    "bad_unknown-loan.csv": ("unknown-loan", 3, "loan", "SH-1999-999"),
    "bad_unknown-indicator.csv": ("unknown-indicator", 2, "indicator", "dwellings_renovatd"),
    "bad_indicator-not-on-loan.csv": (
        "indicator-not-on-loan",
        2,
        "indicator",
        "home_visits_new_parents",
    ),
    "bad_year-out-of-range.csv": ("year-out-of-range", 2, "year", "2021"),
    "bad_year-out-of-range_future.csv": ("year-out-of-range", 2, "year", "2027"),
    "bad_bad-year.csv": ("bad-year", 2, "year", "tjugofyra"),
    "bad_not-a-number.csv": ("not-a-number", 3, "value", "tolv"),
    "bad_out-of-range.csv": ("out-of-range", 2, "value", "120,5"),
    "bad_out-of-range_negative.csv": ("out-of-range", 2, "value", "-3"),
    "bad_not-whole.csv": ("not-whole", 2, "value", "12,5"),
    "bad_duplicate-row.csv": ("duplicate-row", 4, None, None),
    "bad_missing-column.csv": ("missing-column", 1, "value", None),
    "bad_duplicate-column.csv": ("duplicate-column", 1, "value", None),
    "bad_empty-file.csv": ("empty-file", None, None, None),
    "bad_empty-file_header_only.csv": ("empty-file", 1, None, None),
    "bad_not-your-loan.csv": ("not-your-loan", 3, "loan", "SH-2025-003"),
    "bad_bad-estimated.csv": ("bad-estimated", 2, "estimated", "kanske"),
    "bad_missing-value.csv": ("missing-value", 2, "indicator", None),
    "bad_malformed-csv.csv": ("malformed-csv", None, None, None),
    "bad_bad-encoding.csv": ("bad-encoding", None, None, None),
    "bad_not-a-spreadsheet.pdf": ("not-a-spreadsheet", None, None, None),
    "bad_not-a-spreadsheet.bin": ("not-a-spreadsheet", None, None, None),
    "bad_not-a-spreadsheet.xlsx": ("not-a-spreadsheet", None, None, None),
    "bad_zip-bomb.xlsx": ("zip-bomb", None, None, None),
}


def test_every_bad_fixture_is_covered() -> None:
    on_disk = {path.name for path in FIXTURES.glob("bad_*")} - {"bad_file-too-large.csv"}
    assert on_disk == set(BAD_FILES)
    assert len(on_disk) >= 20


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_fixture_reports_its_problem(name: str, context: IngestContext) -> None:
    code, row, column, value = BAD_FILES[name]
    result = _parse(name, context)
    assert not result.ok
    errors = result.errors
    assert [(e.code, e.row, e.column, e.value) for e in errors] == [(code, row, column, value)]
    issue = errors[0]
    assert issue.file == name
    assert issue.message_sv and issue.message_en and issue.message_sv != issue.message_en


def test_file_over_the_size_limit_is_refused_before_reading() -> None:
    data = (FIXTURES / "bad_file-too-large.csv").read_bytes()
    assert len(data) > 1024
    result = parse_file("big.csv", data, build_context(allowed=BORROWER_LOANS, max_bytes=1024))
    assert [(i.code, i.row) for i in result.issues] == [("file-too-large", None)]
    assert result.rows == []
    # The same bytes are fine under the default limit of 10 MB.
    assert parse_file("big.csv", data, build_context(allowed=BORROWER_LOANS)).ok


def test_rows_next_to_a_bad_row_are_still_checked(context: IngestContext) -> None:
    result = _parse("bad_not-your-loan.csv", context)
    assert [row.row for row in result.rows] == [2]


def test_messages_name_the_problem_in_both_languages(context: IngestContext) -> None:
    issue = _parse("bad_out-of-range.csv", context).errors[0]
    assert issue.message("sv") == (
        "Värdet 120,5 ligger utanför det tillåtna intervallet 0–100 för perceived_safety_share."
    )
    assert issue.message("en") == (
        "The value 120,5 is outside the allowed range 0–100 for perceived_safety_share."
    )
    assert issue.to_dict("sv") == {
        "file": "bad_out-of-range.csv",
        "sheet": None,
        "row": 2,
        "column": "value",
        "column_label": "värde",
        "code": "out-of-range",
        "value": "120,5",
        "message": issue.message_sv,
        "severity": "error",
        "confirm": False,
    }


def test_duplicate_message_points_at_the_first_row(context: IngestContext) -> None:
    issue = _parse("bad_duplicate-row.csv", context).errors[0]
    assert "row 2" in issue.message_en and "rad 2" in issue.message_sv


def test_analyst_may_report_for_any_loan(analyst_context: IngestContext) -> None:
    result = _parse("bad_not-your-loan.csv", analyst_context)
    assert result.ok
    assert [row.loan for row in result.rows] == ["SH-2023-001", "SH-2025-003"]


def _row(row: int, loan: str, indicator: str, year: int, value: str, **extra) -> MeasurementRow:
    return MeasurementRow(
        row=row,
        loan=loan,
        indicator=indicator,
        year=year,
        value=Decimal(value),
        estimated=extra.get("estimated", False),
        comment=extra.get("comment"),
        group=extra.get("group", ""),
    )


GOOD_FILES = {
    "good_english.csv": [
        _row(2, "SH-2023-001", "dwellings_renovated", 2023, "150"),
        _row(
            3,
            "SH-2023-001",
            "dwellings_renovated",
            2024,
            "180",
            estimated=True,
            comment="Preliminary count",
        ),
        _row(4, "SH-2023-001", "perceived_safety_share", 2024, "62.3", comment="Survey, autumn"),
        _row(5, "SH-2023-001", "perceived_safety_share", 2024, "58.1", group="Skola B"),
        _row(6, "SH-2024-002", "home_visits_new_parents", 2025, "1234567", estimated=True),
    ],
    "good_swedish_excel.csv": [
        _row(
            2,
            "SH-2023-001",
            "dwellings_renovated",
            2025,
            "1234",
            estimated=True,
            comment="Åtgärdat enligt plan",
        ),
        _row(3, "SH-2023-001", "perceived_safety_share", 2025, "45.5"),
        _row(
            4,
            "SH-2024-002",
            "home_visits_new_parents",
            2024,
            "12",
            estimated=True,
            comment="Uppskattat från kvartal 1–3",
        ),
    ],
    "good_utf8_bom.csv": [
        _row(2, "SH-2023-001", "perceived_safety_share", 2023, "61.25", comment="Ökning i öster"),
        _row(3, "SH-2024-002", "home_visits_new_parents", 2023, "0"),
    ],
    # Header on row 3 of the second sheet; years stored as dates; row 5 is a formula's cached result.
    "good_two_sheets.xlsx": [
        _row(4, "SH-2023-001", "dwellings_renovated", 2024, "120"),
        _row(
            5,
            "SH-2023-001",
            "dwellings_renovated",
            2025,
            "240",
            estimated=True,
            comment="Dubbelt så många",
        ),
        _row(6, "SH-2023-001", "perceived_safety_share", 2025, "12.3"),
    ],
    # Our template, filled in and saved by LibreOffice Calc (see make_fixtures.py).
    "good_libreoffice_template.xlsx": [
        _row(2, "SH-2023-001", "dwellings_renovated", 2025, "212"),
        _row(
            3,
            "SH-2023-001",
            "perceived_safety_share",
            2025,
            "64.8",
            estimated=True,
            comment="Enkät hösten 2025",
        ),
        _row(
            4, "SH-2023-001", "perceived_safety_share", 2025, "55.2", group="Hallunda (jämförelse)"
        ),
    ],
    "good_libreoffice_template.ods": [
        _row(2, "SH-2023-001", "dwellings_renovated", 2025, "212"),
        _row(
            3,
            "SH-2023-001",
            "perceived_safety_share",
            2025,
            "64.8",
            estimated=True,
            comment="Enkät hösten 2025",
        ),
        _row(
            4, "SH-2023-001", "perceived_safety_share", 2025, "55.2", group="Hallunda (jämförelse)"
        ),
    ],
    "good_libreoffice_template.xls": [
        _row(2, "SH-2023-001", "dwellings_renovated", 2025, "212"),
        _row(
            3,
            "SH-2023-001",
            "perceived_safety_share",
            2025,
            "64.8",
            estimated=True,
            comment="Enkät hösten 2025",
        ),
        _row(
            4, "SH-2023-001", "perceived_safety_share", 2025, "55.2", group="Hallunda (jämförelse)"
        ),
    ],
}


@pytest.mark.parametrize("name", sorted(GOOD_FILES))
def test_good_fixture_gives_exactly_the_expected_rows(name: str, context: IngestContext) -> None:
    result = _parse(name, context)
    assert result.issues == []
    assert result.ok
    assert result.rows == GOOD_FILES[name]
    assert result.total_rows == len(GOOD_FILES[name])
    assert all(isinstance(row.value, Decimal) for row in result.rows)


def test_values_keep_the_digits_the_user_typed(context: IngestContext) -> None:
    result = _parse("good_two_sheets.xlsx", context)
    assert [str(row.value) for row in result.rows] == ["120", "240", "12.3"]
    result = _parse("good_swedish_excel.csv", context)
    assert [str(row.value) for row in result.rows] == ["1234", "45.5", "12"]
