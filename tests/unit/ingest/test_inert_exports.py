"""Every CSV and XLSX the project writes is inert (issue 14 item 6): a text that starts like a formula is
shown as text by a spreadsheet, numbers stay numbers, and the project's importer reads its own files back
with the text that went in.

(The report workbook's texts are covered by ``tests/unit/reporting/test_report_xlsx_text.py``.)"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from lanportfolj.ingest import (
    IngestContext,
    LoanIndicatorRule,
    TemplateLine,
    TemplateSpec,
    parse_file,
    write_template_csv,
    write_template_xlsx,
)
from lanportfolj.ingest.inert import FORMULA_STARTS, inert_text, restored_text
from lanportfolj.kolada.fetch import Proposal, _csv

pytestmark = pytest.mark.unit

#: Stored texts a spreadsheet would otherwise evaluate, link or compute.
HOSTILE = ('=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3")
LINK = "http://evil.example/"

LOAN = "SH-2023-001"
#: One indicator without a lower bound, so a negative value is a valid report.
CONTEXT = IngestContext(
    known_loans=frozenset({LOAN}),
    known_indicators=frozenset({"net_change"}),
    rules={(LOAN, "net_change"): LoanIndicatorRule(LOAN, "net_change", 2022, None, None, False)},
    current_year=2026,
)


def _spec(lang: str) -> TemplateSpec:
    return TemplateSpec(
        loan=LOAN,
        loan_title=HOSTILE[0],
        borrower=LINK,
        years=[2024, 2025],
        lines=[
            TemplateLine(
                "net_change",
                HOSTILE[1],  # the indicator's name …
                HOSTILE[2],  # … and unit are borrower-visible texts written into the template
                Decimal("-2.5"),
                2022,
                Decimal("-10"),
                2030,
                {2024: Decimal("-1.25")},
            )
        ],
        lang=lang,
    )


def _cells(data: bytes, delimiter: str) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _assert_inert(rows: list[list[str]]) -> None:
    """No cell a spreadsheet would evaluate, except numbers the project wrote as numbers."""
    for row in rows:
        for cell in row:
            if cell[:1] and cell[0] in FORMULA_STARTS:
                assert cell.lstrip("-").replace(",", "").replace(".", "").isdigit(), cell


def test_inert_text_prefixes_only_formula_starts_and_is_undone_exactly() -> None:
    texts = [*HOSTILE, "\tx", "\rx", "plain", "'quoted", "'=already", "''=twice", "", "-"]
    cells = [inert_text(t) for t in texts]
    assert cells[:4] == ["'" + t for t in HOSTILE]
    assert inert_text("plain") == "plain" and inert_text("'quoted") == "'quoted"
    assert inert_text("'=already") == "''=already"  # so that reading it back gives the quote too
    assert [restored_text(c) for c in cells] == texts


@pytest.mark.parametrize(("lang", "delimiter"), [("sv", ";"), ("en", ",")])
def test_the_csv_template_is_inert_and_numbers_stay_numbers(lang: str, delimiter: str) -> None:
    swedish = lang == "sv"
    rows = _cells(write_template_csv(_spec(lang), swedish=swedish), delimiter)
    _assert_inert(rows)
    body = rows[1]
    assert body[-8:-6] == ["'+1", "'@SUM(A1)"]  # the indicator's name and unit, as text
    # a negative number is written as a number: the plain "-2,5" / "-2.5", no quote
    minus = "-2,5" if swedish else "-2.5"
    assert minus in body and f"'{minus}" not in body
    assert body[3] == ("-1,25" if swedish else "-1.25")  # the value reported before


@pytest.mark.parametrize(("lang", "delimiter"), [("sv", ";"), ("en", ",")])
def test_the_importer_reads_its_own_csv_template_back(lang: str, delimiter: str) -> None:
    data = write_template_csv(_spec(lang), swedish=lang == "sv")
    result = parse_file("template.csv", data, CONTEXT)
    assert result.errors == []
    assert [(r.loan, r.indicator, r.year, r.value) for r in result.rows] == [
        (LOAN, "net_change", 2024, Decimal("-1.25"))
    ]


def test_the_xlsx_template_keeps_every_string_a_string() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(write_template_xlsx(_spec("en"))))
    texts: list[str] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                where = f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                assert cell.data_type != "f", where
                assert cell.hyperlink is None, where  # no link made from "http://…"
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert f"{LOAN} – {HOSTILE[0]}" in texts and LINK in texts
    assert HOSTILE[1] in texts and HOSTILE[2] in texts
    data = workbook["Data"]
    assert data["J2"].value == -2.5 and data["J2"].data_type == "n"  # baseline: a number


def test_the_kolada_csv_is_inert_and_imports_the_unit_names_unchanged() -> None:
    proposals = [
        Proposal(
            indicator="net_change",
            kpi="N00001",
            municipality="0180",
            unit=unit,
            year=2022 + index,
            value=Decimal("-3.5"),
            fetched=date(2026, 1, 15),
            from_cache=False,
        )
        for index, unit in enumerate(HOSTILE)
    ]
    data = _csv(LOAN, proposals)
    rows = _cells(data, ",")
    _assert_inert(rows)
    assert [row[6] for row in rows[1:]] == ["'" + unit for unit in HOSTILE]
    assert [row[3] for row in rows[1:]] == ["-3.5"] * len(HOSTILE)
    result = parse_file("kolada.csv", data, CONTEXT)
    assert result.errors == []
    assert [(r.group, r.value) for r in result.rows] == [(u, Decimal("-3.5")) for u in HOSTILE]
