"""How cells, headers and file shapes are read: the forms borrowers' files really take."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from lanportfolj.ingest import IngestContext, parse_file
from lanportfolj.ingest.headers import canonical_column
from lanportfolj.ingest.normalise import (
    clean_text,
    estimated_flag,
    number_text,
    number_texts,
    year_number,
)

from .conftest import BORROWER_LOANS, build_context

pytestmark = pytest.mark.unit


def _apply(expression, values: list[str | None]) -> list:
    frame = pl.DataFrame({"cell": pl.Series(values, dtype=pl.String)})
    return frame.select(expression(clean_text("cell"))).to_series().to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234", "1234"),
        ("1 234,5", "1234.5"),
        ("1\u00a0234,5", "1234.5"),
        ("1\u202f234\u202f567", "1234567"),
        ("12,3", "12.3"),
        ("12.3", "12.3"),
        ("1,234.5", "1234.5"),
        ("1.234,5", "1234.5"),
        ("1,234,567", "1234567"),
        ("1.234.567", "1234567"),
        ("1,234", "1.234"),  # ambiguous: Swedish decimal comma wins
        ("\u22125", "-5"),
        ("45 %", "45"),
        ("  7  ", "7"),
        ("0.30000000000000004", "0.30000000000000004"),
        ("tolv", None),
        ("1,2,3", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_number_forms(text: str | None, expected: str | None) -> None:
    assert _apply(number_text, [text]) == [expected]


def test_a_column_of_mixed_forms_reads_as_each_cell_alone() -> None:
    # number_texts skips the rewrites for plain numbers; mixed columns must not tell the difference
    cells = ["1234", "1 234,5", None, "45 %", "tolv", "0.5", "\u22125", "1.234.567", "1e3", "1,234"]
    frame = pl.DataFrame({"cell": pl.Series(cells, dtype=pl.String)})
    cleaned = frame.select(clean_text("cell")).to_series()
    assert number_texts(cleaned).to_list() == [_apply(number_text, [cell])[0] for cell in cells]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", 2024),
        ("2024.0", 2024),
        ("2 024", 2024),
        ("2024-01-01 00:00:00", 2024),
        ("2024-12-31", 2024),
        ("24", None),
        ("2024.5", None),
        ("år 2024", None),
    ],
)
def test_year_forms(text: str, expected: int | None) -> None:
    assert _apply(year_number, [text]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ja", True),
        ("Yes", True),
        ("TRUE", True),
        ("SANT", True),
        ("1", True),
        ("x", True),
        ("nej", False),
        ("no", False),
        ("false", False),
        ("0", False),
        ("", False),
        (None, False),
        ("kanske", None),
    ],
)
def test_estimated_words(text: str | None, expected: bool | None) -> None:
    assert _apply(estimated_flag, [text]) == [expected]


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("Lån", "loan"),
        ("LAN", "loan"),
        (" loan ", "loan"),
        ("Indikator", "indicator"),
        ("År", "year"),
        ("ar", "year"),
        ("Värde (antal)", "value"),
        ("VARDE", "value"),
        ("Uppskattat", "estimated"),
        ("Kommentar", "comment"),
        ("Grupp", "group"),
        ("föregående värde", None),
        ("basår", None),
        ("enhet", None),
    ],
)
def test_header_names(header: str, column: str | None) -> None:
    assert canonical_column(header) == column


def _csv(text: str, context: IngestContext, encoding: str = "utf-8"):
    return parse_file("upload.csv", text.encode(encoding), context)


def test_row_numbers_count_blank_and_hint_lines(context: IngestContext) -> None:
    text = (
        "sep=;\n\n"
        "lån;indikator;år;värde\n"
        "SH-2023-001;dwellings_renovated;2024;5\n"
        "\n"
        "SH-2023-001;dwellings_renovated;2025;x\n"
    )
    result = _csv(text, context)
    assert [row.row for row in result.rows] == [4]
    assert [(i.code, i.row) for i in result.issues] == [("not-a-number", 6)]


def test_row_numbers_after_many_blank_lines_and_a_title(context: IngestContext) -> None:
    # the lines above the table are read in growing slices, never the whole file
    rows = "".join(f"SH-2023-001;dwellings_renovated;2024;5;;;g{n}\n" for n in range(300))
    text = (
        "\r\n" * 500
        + "Rapport 2024\n"
        + "lån;indikator;år;värde;;;grupp\n"
        + rows
        + "x;y;z;w;;;q\n"
    )
    result = _csv(text, context)
    assert [row.row for row in result.rows][:2] == [503, 504] and len(result.rows) == 300
    assert (result.errors[0].code, result.errors[0].row) == ("unknown-loan", 803)


def test_tab_separated_and_utf16_as_excel_saves_unicode_text(context: IngestContext) -> None:
    text = "Lån\tIndikator\tÅr\tVärde\r\nSH-2024-002\thome_visits_new_parents\t2024\t17\r\n"
    result = _csv(text, context, encoding="utf-16")
    assert [(r.loan, r.year, r.value) for r in result.rows] == [("SH-2024-002", 2024, Decimal(17))]


def test_title_line_above_the_header_is_skipped(context: IngestContext) -> None:
    text = "Rapport 2025 för Botkyrkabyggen\n\nloan,indicator,year,value\nSH-2023-001,x,2025,1\n"
    result = _csv(text, context)
    assert [(i.code, i.row, i.column) for i in result.issues] == [
        ("unknown-indicator", 4, "indicator")
    ]


def test_loan_and_indicator_are_matched_leniently(context: IngestContext) -> None:
    text = "LOAN,INDICATOR,YEAR,VALUE\n sh-2023-001 , Dwellings_Renovated ,2024,3\n"
    result = _csv(text, context)
    assert [(r.loan, r.indicator) for r in result.rows] == [("SH-2023-001", "dwellings_renovated")]


def test_comparison_group_is_a_separate_series(context: IngestContext) -> None:
    text = (
        "loan,indicator,year,value,group\n"
        "SH-2023-001,perceived_safety_share,2025,60,\n"
        "SH-2023-001,perceived_safety_share,2025,52,Skola  B\n"
        "SH-2023-001,perceived_safety_share,2025,53,Skola B\n"
    )
    result = _csv(text, context)
    assert [row.group for row in result.rows] == ["", "Skola B"]
    assert [(i.code, i.row) for i in result.issues] == [("duplicate-row", 4)]


def test_all_problems_of_a_file_at_once(context: IngestContext) -> None:
    text = (
        "lån;indikator;år;värde;uppskattat\n"
        "SH-9999-999;nope;2019;abc;kanske\n"
        "SH-2023-001;perceived_safety_share;2030;150;\n"
    )
    result = _csv(text, context)
    assert [(i.row, i.column, i.code) for i in result.issues] == [
        (2, "loan", "unknown-loan"),
        (2, "indicator", "unknown-indicator"),
        (2, "value", "not-a-number"),
        (2, "estimated", "bad-estimated"),
        (3, "year", "year-out-of-range"),
        (3, "value", "out-of-range"),
    ]
    assert result.total_rows == 2 and result.rows == []


def test_unfilled_rows_are_skipped_with_a_warning(context: IngestContext) -> None:
    text = (
        "loan,indicator,year,value\n"
        "SH-2023-001,dwellings_renovated,2024,4\n"
        "SH-2023-001,dwellings_renovated,2025,\n"
    )
    result = _csv(text, context)
    assert result.ok
    assert [row.row for row in result.rows] == [2]
    assert [(i.code, i.row, i.severity) for i in result.issues] == [("missing-value", 3, "warning")]


def test_zip_over_the_uncompressed_limit_is_refused(context: IngestContext) -> None:
    from lanportfolj.ingest import write_template_xlsx

    from .test_template import _spec

    data = write_template_xlsx(_spec())
    tight = build_context(allowed=BORROWER_LOANS)
    tight = type(tight)(**{**tight.__dict__, "max_uncompressed_bytes": 1000})
    assert [i.code for i in parse_file("t.xlsx", data, tight).issues] == ["zip-bomb"]


def test_progress_is_reported_up_to_the_total(context: IngestContext) -> None:
    lines = ["loan,indicator,year,value,group"] + [
        f"SH-2023-001,perceived_safety_share,2025,{n % 100},g{n}" for n in range(25_000)
    ]
    calls: list[tuple[int, int]] = []
    result = parse_file(
        "big.csv", "\n".join(lines).encode(), context, progress=lambda d, t: calls.append((d, t))
    )
    assert result.ok and len(result.rows) == 25_000
    assert calls[0] == (0, 25_000) and calls[-1] == (25_000, 25_000)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert len(calls) >= 3


def test_values_on_and_next_to_a_bound_are_judged_exactly(context: IngestContext) -> None:
    # perceived_safety_share is 0–100: floats cannot tell 100.0000000000000001 from 100
    values = ["100", "100.0000000000000001", "0", "-0.0000000000000000001", "99.9999999999999999"]
    lines = ["loan,indicator,year,value,group"] + [
        f"SH-2023-001,perceived_safety_share,2025,{value},g{n}" for n, value in enumerate(values)
    ]
    result = parse_file("bounds.csv", "\n".join(lines).encode(), context)
    assert [(issue.code, issue.row) for issue in result.errors] == [
        ("out-of-range", 3),
        ("out-of-range", 5),
    ]
    assert [row.value for row in result.rows] == [
        Decimal("100"),
        Decimal("0"),
        Decimal("99.9999999999999999"),
    ]


def test_whole_number_indicators_refuse_fractions_in_any_form(context: IngestContext) -> None:
    values = ["12", "12.00", "1.2e1", "12.5", "1.25e1", "12.0000000000000000001"]
    lines = ["loan,indicator,year,value,group"] + [
        f"SH-2023-001,dwellings_renovated,2025,{value},g{n}" for n, value in enumerate(values)
    ]
    result = parse_file("whole.csv", "\n".join(lines).encode(), context)
    assert [(issue.code, issue.row) for issue in result.errors] == [
        ("not-whole", 5),
        ("not-whole", 6),
        ("not-whole", 7),
    ]
    assert [row.value for row in result.rows] == [Decimal(12)] * 3
