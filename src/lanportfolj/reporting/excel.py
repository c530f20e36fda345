"""The report as an XLSX workbook: a Summary sheet, one sheet per table, and the methodology.

Every sheet is written from ``reporting.columns``: the header is the column labels, numbers are real
numbers with the column's number format, the header row is frozen and filterable. Text is always
written with ``write_string`` (never ``write``), so a borrower's text starting with ``=``, ``+``, ``-``
or ``@`` stays text and Excel never evaluates it; such cells also get Excel's quote prefix so an edit
in Excel keeps them text.

Deterministic: the workbook's ``created`` property is the report date and xlsxwriter stamps the zip
members with a fixed date, so the same dict gives the same bytes.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any, Final

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from lanportfolj.reporting.columns import EXCEL_FORMATS, SUMMARY, Column, Table, tables

FORMULA_TRIGGERS: Final = ("=", "+", "-", "@")
_NUMERIC: Final = ("money", "value", "percent", "share")

_SHEET_TEXT: Final[dict[str, dict[str, str]]] = {
    "bond": {"sv": "Obligation", "en": "Bond"},
    "isin": {"sv": "ISIN", "en": "ISIN"},
    "name": {"sv": "Namn", "en": "Name"},
    "currency": {"sv": "Valuta", "en": "Currency"},
    "issue_date": {"sv": "Emissionsdag", "en": "Issue date"},
    "maturity_date": {"sv": "Förfallodag", "en": "Maturity date"},
    "coupon_pct": {"sv": "Kupong (%)", "en": "Coupon (%)"},
    "framework_version": {"sv": "Ramverk", "en": "Framework"},
    "report_date": {"sv": "Rapportdag", "en": "Report date"},
    "fx": {"sv": "Valutakurs (SEK per enhet)", "en": "FX rate (SEK per unit)"},
    "fx_as_of": {"sv": "Kursdag", "en": "Rate as of"},
    "fx_source": {"sv": "Källa", "en": "Source"},
    "flags": {"sv": "Flaggor", "en": "Flags"},
}


class _Writer:
    """Writes typed cells with the workbook's formats (one Format per kind, made once)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.bold = book.add_format({"bold": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.quoted = book.add_format({"quote_prefix": True})
        self.formats: dict[str, Format | None] = {
            kind: book.add_format({"num_format": fmt}) if fmt else None
            for kind, fmt in EXCEL_FORMATS.items()
        }

    def text(
        self, sheet: Worksheet, row: int, col: int, value: str, fmt: Format | None = None
    ) -> None:
        """A text cell that Excel will never evaluate."""
        if value.startswith(FORMULA_TRIGGERS):
            sheet.write_string(row, col, value, self.quoted)
        else:
            sheet.write_string(row, col, value, fmt)

    def cell(self, sheet: Worksheet, row: int, col: int, value: Any, kind: str) -> None:
        """One report value in the cell type and number format of ``kind``; nothing for null."""
        if value is None:
            return
        fmt = self.formats.get(kind)
        if kind in _NUMERIC:
            # float() of the decimal string is the nearest double, as float(Decimal(...)) is
            sheet.write_number(row, col, float(value), fmt)
        elif kind in ("int", "year"):
            sheet.write_number(row, col, int(value), fmt)
        elif kind == "bool":
            sheet.write_boolean(row, col, bool(value))
        elif kind == "date":
            sheet.write_datetime(row, col, datetime.fromisoformat(str(value)), fmt)
        elif kind == "list":
            self.text(sheet, row, col, ", ".join(str(item) for item in value))
        else:
            self.text(sheet, row, col, str(value))


def _write_rows(
    sheet: Worksheet, writer: _Writer, columns: tuple[Column, ...], rows: list[dict[str, Any]]
) -> None:
    """The table's cells, row by row; the numeric columns (most of the cells) take a fast path.

    A big report writes millions of cells, so the per-cell work is kept to one float() and one
    xlsxwriter call for numbers; every other kind goes through ``_Writer.cell``.
    """
    write_number = sheet.write_number
    plan = [
        (index, column.key, column.kind, writer.formats.get(column.kind))
        for index, column in enumerate(columns)
    ]
    numbers = [(i, key, fmt) for i, key, kind, fmt in plan if kind in _NUMERIC]
    integers = [(i, key, fmt) for i, key, kind, fmt in plan if kind in ("int", "year")]
    others = [(i, key, kind) for i, key, kind, _ in plan if kind not in (*_NUMERIC, "int", "year")]
    cell = writer.cell
    for row_index, row in enumerate(rows, start=1):
        # cells of a row are written in column order only within a kind: constant_memory keeps
        # the whole current row until the next one starts, so the order within a row is free
        for index, key, fmt in numbers:
            value = row.get(key)
            if value is not None:
                write_number(row_index, index, float(value), fmt)
        for index, key, fmt in integers:
            value = row.get(key)
            if value is not None:
                write_number(row_index, index, int(value), fmt)
        for index, key, kind in others:
            cell(sheet, row_index, index, row.get(key), kind)


def _table_sheet(
    book: xlsxwriter.Workbook, writer: _Writer, table: Table, data: dict[str, Any], lang: str
) -> None:
    """One table on its own sheet: labelled header, frozen and filterable, typed cells."""
    currency = data["bond"]["currency"]
    sheet = book.add_worksheet(table.sheet)
    columns = table.columns
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
        writer.text(sheet, 0, index, column.label(lang, currency), writer.header)
    rows = table.rows(data)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(1, len(rows)), len(columns) - 1)
    _write_rows(sheet, writer, columns, rows)


def _summary_sheet(
    book: xlsxwriter.Workbook, writer: _Writer, data: dict[str, Any], lang: str
) -> None:
    """Bond, FX and allocation figures as label/value pairs, then the flags."""
    sheet = book.add_worksheet("Summary")
    sheet.set_column(0, 0, 40)
    sheet.set_column(1, 1, 24)
    bond, fx = data["bond"], data["fx"]

    def text(key: str) -> str:
        return _SHEET_TEXT[key][lang]

    pairs: list[tuple[str, Any, str]] = [
        (text("isin"), bond["isin"], "code"),
        (text("name"), bond["name"], "text"),
        (text("currency"), bond["currency"], "code"),
        (text("issue_date"), bond["issue_date"], "date"),
        (text("maturity_date"), bond["maturity_date"], "date"),
        (text("coupon_pct"), bond["coupon_pct"], "percent"),
        (text("framework_version"), bond["framework_version"], "text"),
        (text("report_date"), data["report_date"], "date"),
        (text("fx"), fx["sek_per_unit"], "value"),
        (text("fx_as_of"), fx["as_of"], "date"),
        (text("fx_source"), fx["source"], "text"),
    ]
    summary = data["allocation"]["summary"]
    pairs += [(c.label(lang, bond["currency"]), summary[c.key], c.kind) for c in SUMMARY]
    sheet.freeze_panes(1, 0)
    writer.text(sheet, 0, 0, text("bond"), writer.header)
    writer.text(sheet, 0, 1, bond["name"], writer.header)
    for row, (label, value, kind) in enumerate(pairs, start=1):
        writer.text(sheet, row, 0, label)
        writer.cell(sheet, row, 1, value, kind)
    row = len(pairs) + 2
    writer.text(sheet, row, 0, text("flags"), writer.bold)
    for offset, message in enumerate(data["allocation"]["messages"], start=1):
        writer.text(sheet, row + offset, 0, message["code"])
        writer.text(sheet, row + offset, 1, message["message_sv" if lang == "sv" else "message_en"])


def _methodology_sheet(
    book: xlsxwriter.Workbook, writer: _Writer, data: dict[str, Any], lang: str
) -> None:
    """The methodology sections as title and text."""
    sheet = book.add_worksheet("Methodology")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 110)
    for row, section in enumerate(data["methodology"]["sections"]):
        writer.text(sheet, row, 0, section["title"][lang], writer.bold)
        writer.text(sheet, row, 1, section["text"][lang], writer.wrap)


def render_xlsx(data: dict[str, Any], *, lang: str | None = None) -> bytes:
    """The report dict as XLSX bytes, labelled in ``lang`` (default: the report's language)."""
    lang = lang or data["methodology"]["lang"]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            # rows are written in order, so the big sheets can stream to disk
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    created = datetime.combine(date.fromisoformat(data["report_date"]), datetime.min.time())
    book.set_properties(
        {
            "title": f"{data['bond']['name']} {data['report_date']}",
            "subject": data["bond"]["isin"],
            "author": "lanportfolj",
            "created": created,
        }
    )
    writer = _Writer(book)
    _summary_sheet(book, writer, data, lang)
    for table in tables(data):
        _table_sheet(book, writer, table, data, lang)
    _methodology_sheet(book, writer, data, lang)
    book.close()
    return buffer.getvalue()


__all__ = ["FORMULA_TRIGGERS", "Column", "render_xlsx"]
