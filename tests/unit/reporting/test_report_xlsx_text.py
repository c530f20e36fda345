"""Free text in the XLSX report: markup characters, control characters, formula-like text and non-ASCII
reach the big sheets (whose rows are written from polars with shared strings) and read back as the
same text, in a workbook whose every part is well-formed XML."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any
from xml.etree import ElementTree

import openpyxl
import polars as pl
import pytest

from conftest import make_indicators, make_inputs, make_loan_indicators
from lanportfolj.reporting.excel import render_xlsx
from lanportfolj.reporting.json import render_json
from lanportfolj.reporting.model import compute_report, report_to_dict

pytestmark = pytest.mark.unit

#: Every text here reaches a big sheet: Loans, Impact per loan, Indicators (and the Summary's flags).
BORROWER = "Åbo <&> \"bostäder\" 'AB' \x01 äöå 🏠"
TITLE_FORMULA = '=HYPERLINK("http://evil.example","x") <b>&amp;</b>'
TITLE_MINUS = "-2+3 Förskola i Örby 😀"
ORGNR = "@SUM(A1)\x01"
NAME_SV = "+Bostäder <&> \"x\" 'y' \x07 🏘"
NAME_EN = "@Home visits ÅÄÖ ✓"
SOURCE = 'Källa: <Kolada> & "RKA" \x1f 💡'
TEXTS = (BORROWER, TITLE_FORMULA, TITLE_MINUS, ORGNR, NAME_SV, NAME_EN, SOURCE)
FORMULA_LIKE = (TITLE_FORMULA, TITLE_MINUS, ORGNR, NAME_SV, NAME_EN)


def _as_stored(text: str) -> str:
    """The text as a workbook holds it: xlsxwriter (like Excel) writes a control character that XML
    cannot carry as ``_xHHHH_``, and openpyxl reads that back as it is."""
    return re.sub(r"[\x00-\x08\x0b-\x1f]", lambda m: f"_x{ord(m.group()):04X}_", text)


def _hostile_report() -> dict[str, Any]:
    base = make_inputs()
    loans = base.loans.with_columns(
        borrower=pl.when(pl.col("reference") == "SH-2023-001")
        .then(pl.lit(BORROWER))
        .otherwise(pl.col("borrower")),
        title=pl.when(pl.col("reference") == "SH-2022-002")
        .then(pl.lit(TITLE_FORMULA))
        .when(pl.col("reference") == "SH-2021-003")
        .then(pl.lit(TITLE_MINUS))
        .otherwise(pl.col("title")),
        borrower_orgnr=pl.when(pl.col("reference") == "SH-2024-004")
        .then(pl.lit(ORGNR))
        .otherwise(pl.col("borrower_orgnr")),
    )
    indicators = make_indicators().with_columns(
        name_sv=pl.when(pl.col("code") == "DWELL")
        .then(pl.lit(NAME_SV))
        .otherwise(pl.col("name_sv")),
        name_en=pl.when(pl.col("code") == "VISITS")
        .then(pl.lit(NAME_EN))
        .otherwise(pl.col("name_en")),
    )
    loan_indicators = make_loan_indicators().with_columns(
        data_source=pl.when((pl.col("loan") == "SH-2021-003") & (pl.col("indicator") == "VISITS"))
        .then(pl.lit(SOURCE))
        .otherwise(pl.col("data_source"))
    )
    inputs = make_inputs(loans=loans, indicators=indicators, loan_indicators=loan_indicators)
    return report_to_dict(compute_report(inputs))


@pytest.mark.parametrize("frozen", [False, True], ids=["computed", "frozen"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_xlsx_keeps_hostile_and_non_ascii_text_as_text(frozen: bool, lang: str) -> None:
    data = _hostile_report()
    if frozen:
        # a published report's dict: plain rows read back from its JSON, not frames
        data = json.loads(render_json(data))
    content = render_xlsx(data, lang=lang)

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(archive.read(name))  # raises on malformed XML
            if name.startswith("xl/worksheets/sheet"):
                assert "<f>" not in archive.read(name).decode("utf-8"), name

    book = openpyxl.load_workbook(io.BytesIO(content))
    cells: dict[str, list[Any]] = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cells.setdefault(cell.value, []).append((sheet.title, cell))
    for text in TEXTS:
        stored = _as_stored(text)
        assert stored in cells, f"{text!r} is not in the workbook"
        for sheet_title, cell in cells[stored]:
            assert cell.data_type == "s", (sheet_title, text)
    sheets_with = {title for title, _cell in cells[_as_stored(BORROWER)]}
    assert {"Loans", "Impact per loan"} <= sheets_with
    for text in FORMULA_LIKE:
        for sheet_title, cell in cells[_as_stored(text)]:
            assert cell.quotePrefix, (sheet_title, text)
