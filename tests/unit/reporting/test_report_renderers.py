"""The three renderings of one report dict: JSON (against its schema), XLSX (read back) and HTML."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import openpyxl
import polars as pl
import pytest

from conftest import make_inputs
from lanportfolj.reporting.charts import div_id
from lanportfolj.reporting.columns import SUMMARY, Column
from lanportfolj.reporting.excel import render_xlsx, sheet_columns, workbook_tables
from lanportfolj.reporting.html import render_html
from lanportfolj.reporting.json import render_json
from lanportfolj.reporting.model import compute_report, report_to_dict, value_rows
from lanportfolj.reporting.names import indicator_units, vocabularies
from lanportfolj.reporting.names import name as code_name

pytestmark = pytest.mark.unit

SCHEMA = Path(__file__).resolve().parents[3] / "docs" / "report-schema.json"
HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)"]


@pytest.fixture
def data() -> dict[str, Any]:
    """The fixture's report dict, with borrower names that look like formulas and markup."""
    inputs = make_inputs()
    names = {
        "SH-2023-001": HOSTILE[0],
        "SH-2022-002": HOSTILE[1],
        "SH-2024-004": "<b>Cedertuna</b>",
    }
    loans = inputs.loans.with_columns(
        pl.col("reference").replace_strict(names, default=pl.col("borrower")).alias("borrower"),
        title=pl.when(pl.col("reference") == "SH-2021-003")
        .then(pl.lit(HOSTILE[2]))
        .otherwise(pl.col("title")),
        borrower_orgnr=pl.when(pl.col("reference") == "SH-2021-003")
        .then(pl.lit(HOSTILE[3]))
        .otherwise(pl.col("borrower_orgnr")),
    )
    return report_to_dict(compute_report(make_inputs(loans=loans)))


# --- JSON -------------------------------------------------------------------------------------

from report_schema_check import validate as _validate  # noqa: E402


def test_json_matches_the_documented_schema(data: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    document = json.loads(render_json(data))
    assert sorted(document) == sorted(schema["required"])
    assert _validate(document, schema, schema, "$") == []


def test_schema_check_catches_a_float_amount(data: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    data["allocation"]["summary"]["allocated"] = 3000000.0
    assert _validate(data, schema, schema, "$") == [
        "$.allocation.summary.allocated: 3000000.0 is not ['string']"
    ]


def test_json_round_trip_keeps_every_decimal_exact(data: dict[str, Any]) -> None:
    document = json.loads(render_json(data))
    assert document == data
    assert document["allocation"]["summary"]["pool_outstanding"] == "3700000.09"


# --- determinism --------------------------------------------------------------------------------


def test_each_rendering_is_byte_for_byte_repeatable_from_the_frozen_json(
    data: dict[str, Any],
) -> None:
    frozen = json.loads(render_json(data))
    assert render_json(frozen) == render_json(data)
    assert render_xlsx(frozen) == render_xlsx(data)
    assert render_html(frozen, plotly_js="url:/static/plotly.min.js") == render_html(
        data, plotly_js="url:/static/plotly.min.js"
    )
    assert render_html(frozen, lang="sv") == render_html(data, lang="sv")


def test_xlsx_created_property_is_the_report_date(data: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(data)))
    assert book.properties.created == datetime(2025, 12, 31)


# --- XLSX ---------------------------------------------------------------------------------------


def _expected(value: Any, column: Column) -> Any:
    """What the cell must hold for the report value (numbers compared at the JSON's scale); empty
    text has no cell."""
    if value is None or value == "":
        return None
    if column.kind == "list":
        return ", ".join(value)
    return value


def _cell(value: Any, column: Column, expected: Any) -> Any:
    """The cell read back, in the report dict's representation."""
    if value is None or expected is None:
        return value
    if column.kind in ("money", "value", "percent", "share"):
        exponent = Decimal(expected).as_tuple().exponent
        return format(Decimal(repr(value)).quantize(Decimal(1).scaleb(exponent)), "f")
    if column.kind == "date":
        return value.date().isoformat()
    return value


def _derived(row: dict[str, Any], column: Column, data: dict[str, Any]) -> Any:
    """A sheet column the workbook adds (``sheet_columns``): a code's name or an indicator's unit."""
    key, _, what = column.key.partition("__")
    code = row.get(key)
    if not what or code is None:
        return row.get(column.key)
    if what == "unit":
        return indicator_units(data)[code] or None
    return code_name(vocabularies(data)[key], code, "en")


def test_xlsx_read_back_equals_the_json(data: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(data)), read_only=True)
    frozen = json.loads(render_json(data))
    assert book.sheetnames[:2] == ["Cover", "Summary"] and book.sheetnames[-1] == "Methodology"
    assert {"Register", "Register indicators"} <= set(book.sheetnames)
    for table in workbook_tables(frozen):
        sheet = book[table.sheet]
        columns = sheet_columns(table, frozen, "en")
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == [c.label("en", "EUR") for c in columns], table.sheet
        expected_rows = table.rows(frozen)
        assert len(rows) - 1 == len(expected_rows), table.sheet
        for got, row in zip(rows[1:], expected_rows, strict=True):
            for column, value in zip(columns, got, strict=True):
                want = _expected(_derived(row, column, frozen), column)
                assert _cell(value, column, want) == want, (table.sheet, column.key)
    values = book["Impact values"]
    headers = next(values.iter_rows(values_only=True))
    # loan, category name and code, indicator name, code and unit, aggregation name and code, share
    assert headers[9:12] == ("2023", "2024", "2025")  # a column per year, not a row per year
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    for column in SUMMARY:
        want = _expected(frozen["allocation"]["summary"][column.key], column)
        assert _cell(summary[column.label("en", "EUR")], column, want) == want, column.key


def test_xlsx_sheets_have_frozen_filtered_headers_and_number_formats(data: dict[str, Any]) -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(data)))
    for name in ("Summary", "Allocation", "Loans", "Impact by category", "Impact per loan"):
        assert book[name].freeze_panes == "A2", name
    loans = book["Loans"]
    assert loans.auto_filter.ref is not None and loans.auto_filter.ref.startswith("A1:")
    headers = [cell.value for cell in loans[1]]
    outstanding = loans.cell(row=2, column=headers.index("Outstanding (EUR)") + 1)
    assert outstanding.number_format == "#,##0.00"
    share = loans.cell(row=2, column=headers.index("Share of project") + 1)
    assert share.number_format == "0.0%"  # percentages shown with one decimal
    assert loans.column_dimensions["D"].width > 20  # the project title column is wide


def test_xlsx_never_evaluates_text_that_looks_like_a_formula(data: dict[str, Any]) -> None:
    content = render_xlsx(data)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        for name in sheets:
            assert "<f>" not in archive.read(name).decode("utf-8"), name
    book = openpyxl.load_workbook(io.BytesIO(content))
    texts = {
        cell.value: cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }
    for hostile in [*HOSTILE, "=Safety index", "+Borrower's register"]:
        cell = texts[hostile]
        assert cell.data_type == "s", hostile
        assert cell.quotePrefix, hostile


# --- HTML ---------------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Collects ids, script sources and checks that every opened element is closed."""

    VOID: ClassVar[frozenset[str]] = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.scripts: list[str | None] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        ident = attributes.get("id")
        if ident:
            self.ids.append(ident)
        if tag == "script":
            self.scripts.append(attributes.get("src"))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    assert page.stack == []
    return page


def test_html_is_a_standalone_document_with_every_chart(data: dict[str, Any]) -> None:
    html = render_html(data, plotly_js="url:/static/plotly.min.js")
    page = _parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert [s for s in page.scripts if s] == ["/static/plotly.min.js"]
    charts = {i for i in page.ids if i.startswith("chart-")}
    assert {
        div_id("allocation", "category"),
        div_id("financing"),
        div_id("attributed", "DWELL"),
        div_id("attributed", "STOCK"),
        div_id("attributed", "VISITS"),
        div_id("trajectory", "SH-2023-001"),
        div_id("trajectory", "SH-2022-002"),
    } <= charts
    # ids are generated, never data: no loan reference or indicator code is part of one
    assert not any("SH-" in i or "DWELL" in i for i in page.ids)
    # one figure per loan, each of its indicators with values in its own panel
    traces, layout, _config = _figure(html, div_id("trajectory", "SH-2023-001"))
    panels = [a["text"] for a in layout["annotations"]]
    assert panels[0] == "Dwellings renovated (dwellings)" and "=Safety index (index)" in panels
    dwell = traces[0]
    assert (dwell["x"], dwell["y"]) == ([2024, 2025], [40.0, 60.0])
    assert dwell["marker"]["symbol"] == ["circle", "circle-open"]  # 2025 is estimated
    assert {t["xaxis"] for t in traces} == {"x"} | {f"x{i}" for i in range(2, len(panels) + 1)}
    for section in ("summary", "allocation", "loans", "impact-by-category", "impact-per-loan",
                    "methodology", "restatements"):  # fmt: skip
        assert section in page.ids
    for table in (
        "table-loans",
        "table-impact-per-loan",
        "table-impact-programme",
        "table-impact-icma",
    ):
        assert table in page.ids


def _figure(html: str, ident: str) -> list[Any]:
    """The [traces, layout, config] plotly draws in the div ``ident``."""
    start = html.index(f'Plotly.newPlot("{ident}",...') + len(f'Plotly.newPlot("{ident}",...')
    end = html.index(");</script>", start)
    figure: list[Any] = json.loads(html[start:end])
    return figure


def test_html_caps_charts_and_long_tables_and_says_where_the_rest_is(
    data: dict[str, Any],
) -> None:
    html = render_html(
        data, plotly_js="url:/static/plotly.min.js", max_trajectory_charts=1, max_table_rows=2
    )
    page = _parse(html)
    assert [i for i in page.ids if i.startswith("chart-trajectory-")] == [
        div_id("trajectory", "SH-2021-003")
    ]
    assert "Charts are shown for the first 1 of 4 loans" in html
    loans = html[html.index('id="table-loans"') : html.index('<section id="impact">')]
    assert loans.count("<tr>") == 1 + 2  # the header and two loans
    assert "The table shows the first 2 of 4 rows" in loans
    assert "The table shows" not in render_html(data, plotly_js="url:/static/plotly.min.js")


def test_chart_text_cannot_close_its_script(data: dict[str, Any]) -> None:
    data["impact"]["indicators"][0]["name_en"] = "</script><script>alert(1)</script>"
    html = render_html(data, plotly_js="url:/static/plotly.min.js")
    assert "<script>alert(1)" not in html
    _traces, layout, _config = _figure(html, div_id("attributed", "DWELL"))
    # escaped for plotly.js too, which shows it as the text it is
    assert layout["title"]["text"].startswith(
        "Attributed by category: &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    )


def test_html_escapes_borrower_text(data: dict[str, Any]) -> None:
    html = render_html(data, plotly_js="url:/static/plotly.min.js")
    assert "<b>Cedertuna</b>" not in html
    assert "&lt;b&gt;Cedertuna&lt;/b&gt;" in html


def test_html_inline_plotly_needs_no_network(data: dict[str, Any]) -> None:
    page = _parse(render_html(data))
    assert [s for s in page.scripts if s] == []
    assert any("plotly.js v" in text for text in page.text)


def test_html_in_swedish_uses_swedish_labels_and_numbers(data: dict[str, Any]) -> None:
    html = render_html(data, lang="sv", plotly_js="url:/static/plotly.min.js")
    assert '<html lang="sv">' in html
    assert "Sammanfattning" in html and "Metod" in html
    # amounts in millions with the locale's separators (reporting.display)
    assert "<dd>3,0\u00a0mn\u00a0EUR</dd>" in html  # allocated, in EUR
    assert "Hembesök: 1\u00a0335,5\u00a0visits, varav 1\u00a0021,4\u00a0visits" in html
    assert "Boende och boendemiljöer" in html
    english = render_html(data, lang="en", plotly_js="url:/static/plotly.min.js")
    assert "<dd>EUR\u00a03.0m</dd>" in english and "Housing and residential environments" in english
    assert (
        "Home visits: 1,335.5\u00a0visits, of which 1,021.4\u00a0visits attributed to the bond"
        in english
    )


def test_html_lists_restatements_and_marks_estimates(data: dict[str, Any]) -> None:
    html = render_html(data, plotly_js="url:/static/plotly.min.js")
    section = html[
        html.index('<section id="restatements">') : html.index('<section id="glossary">')
    ]
    # the indicator by its name, not its code
    assert "SH-2022-002" in section and "Dwellings renovated" in section and "DWELL" not in section
    methodology = html[html.index('<section id="methodology">') :]
    assert "Estimated values: 2" in methodology and "11.5 SEK" in methodology
    assert "Data sources" in methodology and "Journal" in methodology


def test_html_rejects_an_unknown_plotly_source(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="plotly_js"):
        render_html(data, plotly_js="cdn")


def test_a_report_frozen_with_one_object_per_year_still_renders_the_same(
    data: dict[str, Any],
) -> None:
    # schema version 1 stored the yearly values as one object per loan, indicator and year
    old = json.loads(render_json(data))
    old["impact"]["values"] = value_rows(data)
    assert len(old["impact"]["values"]) == sum(len(s["years"]) for s in data["impact"]["values"])
    assert {"loan": "SH-2023-001", "indicator": "DWELL", "year": 2025, "value": "60.0000"}.items() <= (
        next(r for r in old["impact"]["values"] if r["year"] == 2025 and r["indicator"] == "DWELL"
             and r["loan"] == "SH-2023-001").items()
    )  # fmt: skip
    assert render_xlsx(old) == render_xlsx(data)
    assert render_html(old) == render_html(data)


def test_xlsx_restatement_timestamp_is_shown_as_its_day(data: dict[str, Any]) -> None:
    frozen = json.loads(render_json(data))
    frozen["restatements"][0]["at"] = "2026-02-01T14:30:00"
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(frozen)), read_only=True)
    rows = list(book["Restatements"].iter_rows(values_only=True))
    assert rows[1][-1] == datetime(2026, 2, 1)
