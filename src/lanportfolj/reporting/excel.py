"""The report as an XLSX workbook: a Summary sheet, one sheet per table, and the methodology.

Every sheet is written from ``reporting.columns``: the header is the column labels, numbers are real
numbers with the column's number format, the header row is frozen and filterable. Text is always a
string cell — ``write_string`` (never ``write``) for xlsxwriter's cells, shared strings for the table
bodies made in polars (``_TableSheet``) — so a borrower's text starting with ``=``, ``+``, ``-`` or
``@`` stays text and Excel never evaluates it; such cells also get Excel's quote prefix so an edit in
Excel keeps them text.

The tables are read straight from the report dict's frames when it holds them (``FrameRows``), so a
report just computed never goes through a dict per row; a frozen dict's rows are read into one frame.

Deterministic: the workbook's ``created`` property is the report date and the zip members carry a
fixed date, so the same dict gives the same bytes.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
import zipfile
from datetime import date, datetime
from typing import IO, Any, Final

import polars as pl
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from lanportfolj.reporting.columns import EXCEL_FORMATS, LOANS, SUMMARY, Column, Table, tables
from lanportfolj.reporting.model import bulk_conversion
from lanportfolj.reporting.names import indicator_units, name, vocabularies
from lanportfolj.reporting.register import REGISTER, REGISTER_INDICATORS

FORMULA_TRIGGERS: Final = ("=", "+", "-", "@")
_NUMERIC: Final = ("money", "value", "percent", "share", "rate")

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
    "illustrative": {"sv": "Illustrativa data", "en": "Illustrative data"},
    "report": {"sv": "Allokerings- och effektrapport", "en": "Allocation and impact report"},
    "status": {"sv": "Status", "en": "Status"},
    "draft": {"sv": "Utkast – ej publicerad", "en": "Draft – not published"},
    "published": {"sv": "Publicerad", "en": "Published"},
    "revised": {"sv": "Reviderad", "en": "Revised"},
    "sheets": {"sv": "Flikar", "en": "Sheets"},
    "code": {"sv": "kod", "en": "code"},
    "unit": {"sv": "Enhet", "en": "Unit"},
    "page": {"sv": "Sida &P av &N", "en": "Page &P of &N"},
    "disclaimer": {
        "sv": "Illustrativa data: siffrorna i den här rapporten kommer från påhittade lån och "
        "beskriver inga verkliga projekt. De får inte användas som underlag för beslut.",
        "en": "Illustrative data: the figures in this report come from made-up loans and describe "
        "no real projects. They must not be relied on for any decision.",
    },
    "draft_note": {
        "sv": "Utkast: siffrorna kan ändras innan rapporten publiceras.",
        "en": "Draft: the figures may change before the report is published.",
    },
    "exact_note": {
        "sv": "Cellerna har de exakta värdena; talformaten visar dem avrundade.",
        "en": "The cells hold the exact values; their number formats show them rounded.",
    },
}

#: number formats beyond the column kinds': a rate with its real decimals (a coupon of 2.625 %),
#: and the display rounding of indicator values by how they combine (counts whole, ratios 1 dp)
_RATE_FORMAT: Final = "#,##0.00####"
_WHOLE_FORMAT: Final = "#,##0"
_ONE_DECIMAL_FORMAT: Final = "#,##0.0"
_WHOLE_AGGREGATIONS: Final = ("sum", "latest")
#: A4, landscape, one page wide, narrow margins
_PAPER_A4: Final = 9


class _Writer:
    """Writes typed cells with the workbook's formats (one Format per kind, made once)."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.header = book.add_format({"bold": True, "bottom": 1, "text_wrap": True})
        self.bold = book.add_format({"bold": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.quoted = book.add_format({"quote_prefix": True})
        self.title = book.add_format({"bold": True, "font_size": 16})
        self.warning = book.add_format({"bold": True, "font_color": "#9C0006", "text_wrap": True})
        self.formats: dict[str, Format | None] = {
            kind: book.add_format({"num_format": fmt}) if fmt else None
            for kind, fmt in EXCEL_FORMATS.items()
        }
        # shares are shown as percentages with one decimal, the cell keeping the exact fraction
        self.formats["share"] = book.add_format({"num_format": "0.0%"})
        self.formats["rate"] = book.add_format({"num_format": _RATE_FORMAT})
        self.whole = book.add_format({"num_format": _WHOLE_FORMAT})
        self.one_decimal = book.add_format({"num_format": _ONE_DECIMAL_FORMAT})

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


class _TableSheet(Worksheet):
    """A worksheet whose body (every row after the header) is sheet XML made in polars.

    xlsxwriter spends tens of microseconds of Python on each cell; the big sheets have millions of
    cells, so their ``<row>`` elements are built column-wise in polars. xlsxwriter writes the sheet
    around them (header row, frozen pane, filter) with a marker where the body goes, and
    ``_with_bodies`` streams the body in when it packs the file. Text cells are shared strings, so
    nothing in a body cell is ever a formula.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body: pl.DataFrame | None = None
        self.body_xml: pl.Expr | None = None

    def set_body(self, body: pl.DataFrame, row_xml: pl.Expr, last_col: int) -> None:
        """Rows ``1..body.height`` of the sheet: ``row_xml`` evaluated on ``body``."""
        self.body, self.body_xml = body, row_xml
        self._check_dimensions(body.height, last_col)

    def _write_rows(self) -> None:
        if self.body is None or self.body_xml is None:
            super()._write_rows()
            return
        # xlsxwriter writes its own cells (the header row) only, then the marker for the body
        dim_rowmax, self.dim_rowmax = self.dim_rowmax, 0
        try:
            super()._write_rows()
        finally:
            self.dim_rowmax = dim_rowmax
        self.fh.write(_BODY_MARK)

    def write_body(self, out: IO[str]) -> None:
        """The body's ``<row>`` elements, in chunks so the XML of a whole sheet is never in memory."""
        assert self.body is not None and self.body_xml is not None
        for start in range(0, self.body.height, _CHUNK_ROWS):
            chunk = self.body.slice(start, _CHUNK_ROWS).select(self.body_xml.str.join(""))
            out.write(chunk.item())


_BODY_MARK: Final = "<!--lanportfolj:body-->"
#: zlib level of the big sheets: level 1 deflates the ~100 MB of sheet XML of a national pool in a
#: third of the time of the default 6, for a file about a third larger
_BODY_LEVEL: Final = 1


def _with_bodies(packed: bytes, sheets: list[_TableSheet], out: IO[bytes]) -> None:
    """xlsxwriter's file with each table sheet's body put in place of its marker.

    xlsxwriter has no setting for the compression level, so the file is packed again with the
    standard ``zipfile``: the same members in the same order, with the same dates and attributes
    (the sheet file is written to disk and dated as xlsxwriter dates its own), the big sheets
    deflated at ``_BODY_LEVEL``.
    """
    bodies = {f"xl/worksheets/sheet{sheet.index + 1}.xml": sheet for sheet in sheets}
    with (
        zipfile.ZipFile(io.BytesIO(packed)) as source,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as target,
        tempfile.TemporaryDirectory(prefix="lanportfolj-xlsx-") as folder,
    ):
        for info in source.infolist():
            sheet = bodies.get(info.filename)
            if sheet is None:
                member = zipfile.ZipInfo(info.filename, info.date_time)
                member.compress_type = zipfile.ZIP_DEFLATED
                member.external_attr = info.external_attr
                member.create_system = info.create_system
                target.writestr(member, source.read(info))
                continue
            head, tail = source.read(info).decode("utf-8").split(_BODY_MARK)
            handle, name = tempfile.mkstemp(dir=folder, suffix=".xml")
            with open(handle, "w", encoding="utf-8", newline="") as sheet_file:
                sheet_file.write(head)
                sheet.write_body(sheet_file)
                sheet_file.write(tail)
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(name, (stamp, stamp))
            target.write(name, info.filename, compresslevel=_BODY_LEVEL)
            os.remove(name)


_CHUNK_ROWS: Final = 20_000
_EXCEL_EPOCH: Final = date(1899, 12, 30)


def _body_frame(rows: list[dict[str, Any]], columns: tuple[Column, ...]) -> pl.DataFrame:
    """The columns of ``rows`` as a frame typed per kind.

    Numbers stay the report's decimal strings: Excel reads "1234.50" as the nearest double, the
    same number float() would give, and no float is ever formatted back to text here. The rows
    are read in polars (several times faster than a Python loop per column); list cells are joined
    in Python since their items need not be strings.
    """

    def dtype(kind: str) -> pl.DataType:
        if kind in ("int", "year"):
            return pl.Int64()
        if kind == "bool":
            return pl.Boolean()
        return pl.String()

    plain = {c.key: dtype(c.kind) for c in columns if c.kind != "list"}
    frame = pl.from_dicts(rows, schema=plain, strict=False)
    lists = [
        pl.Series(
            c.key,
            [
                None if (v := row.get(c.key)) is None else ", ".join(str(item) for item in v)
                for row in rows
            ],
            dtype=pl.String,
        )
        for c in columns
        if c.kind == "list"
    ]
    return frame.with_columns(lists).select(c.key for c in columns)


def _present(column: Column) -> pl.Expr:
    """Whether the row has a cell in ``column`` (no cell for null, nor for empty text)."""
    value = pl.col(column.key)
    if column.kind in (*_NUMERIC, "int", "year", "bool", "date"):
        return value.is_not_null()
    return value.is_not_null() & (value != "")


def _cell_xml(
    column: Column,
    index: int,
    writer: _Writer,
    previous: pl.Expr | None,
    styled_by: pl.Expr | None = None,
) -> pl.Expr:
    """The ``<c>`` element of ``column`` for each row, or "" where the cell is empty.

    A cell right after a cell of the same row needs no reference (``r`` is optional: such a cell
    is the next column), so only the first cell and those after a gap carry one; at 10 000 loans
    that is a fifth of the sheet XML that never has to be written and compressed. Text is a
    shared string (the column ``__sst_<key>`` holds its index), written and escaped by xlsxwriter.
    With ``styled_by`` (true where the row's value is a count), a value cell's number format shows
    it whole there and with one decimal elsewhere.
    """
    value = pl.col(column.key)
    kind = column.kind
    fmt = writer.formats.get(kind)
    style: str | pl.Expr = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
    if styled_by is not None and kind == "value":
        style = (
            pl.when(styled_by)
            .then(pl.lit(f' s="{writer.whole._get_xf_index()}"'))
            .otherwise(pl.lit(f' s="{writer.one_decimal._get_xf_index()}"'))
        )
    with_ref = pl.concat_str(
        [pl.lit(f'<c r="{xl_col_to_name(index)}'), pl.col("__row"), pl.lit('"')]
    )
    ref = with_ref if previous is None else pl.when(previous).then(pl.lit("<c")).otherwise(with_ref)
    if kind in _NUMERIC:
        # the decimal text without trailing zeros: the same number, fewer bytes
        text = value.cast(pl.String)
        trimmed = text.str.strip_chars_end("0").str.strip_chars_end(".")
        number = pl.when(text.str.contains(".", literal=True)).then(trimmed).otherwise(text)
        opening = (
            [style, pl.lit("><v>")] if isinstance(style, pl.Expr) else [pl.lit(f"{style}><v>")]
        )
        cell = pl.concat_str([ref, *opening, number, pl.lit("</v></c>")])
    elif kind in ("int", "year"):
        cell = pl.concat_str(
            [ref, pl.lit(f"{style}><v>"), value.cast(pl.String), pl.lit("</v></c>")]
        )
    elif kind == "bool":
        flag = pl.when(value).then(pl.lit("1")).otherwise(pl.lit("0"))
        cell = pl.concat_str([ref, pl.lit(' t="b"><v>'), flag, pl.lit("</v></c>")])
    elif kind == "date":
        # a timestamp (a restatement's "at") shows as its day, the column's format being a date
        day = value.str.slice(0, 10).str.to_date("%Y-%m-%d")
        serial = (day - pl.lit(_EXCEL_EPOCH)).dt.total_days().cast(pl.String)
        cell = pl.concat_str([ref, pl.lit(f"{style}><v>"), serial, pl.lit("</v></c>")])
    else:
        quoted = f' s="{writer.quoted._get_xf_index()}"'
        attrs = (
            pl.when(
                value.str.starts_with("=")
                | value.str.starts_with("+")
                | value.str.starts_with("-")
                | value.str.starts_with("@")
            )
            .then(pl.lit(quoted + ' t="s"><v>'))
            .otherwise(pl.lit(' t="s"><v>'))
        )
        cell = pl.concat_str([ref, attrs, pl.col(f"__sst_{column.key}"), pl.lit("</v></c>")])
    return pl.when(_present(column)).then(cell).otherwise(pl.lit(""))


def _shared_strings(sheet: _TableSheet, body: pl.DataFrame, key: str) -> pl.Expr:
    """The shared-string index of each text in column ``key``, as text (null for no cell).

    Each distinct text is added to the workbook's string table once, in order of first appearance,
    as ``write_string`` would add it; the table's reference count is kept as if every cell had
    been written one by one.
    """
    texts = body[key].filter(body[key] != "").drop_nulls()
    distinct = texts.unique(maintain_order=True)
    table = sheet.str_table
    indexes = [str(table._get_shared_string_index(text)) for text in distinct]
    table.count += texts.len() - distinct.len()
    return pl.col(key).replace_strict(distinct, indexes, default=None, return_dtype=pl.String)


def _set_body(
    sheet: _TableSheet, writer: _Writer, columns: tuple[Column, ...], body: pl.DataFrame
) -> None:
    """The table's rows (``_body_frame``) as the sheet's body, every column formatted once."""
    if body.height == 0:
        return
    texts = [c.key for c in columns if c.kind not in (*_NUMERIC, "int", "year", "bool", "date")]
    body = body.with_columns(
        __row=pl.int_range(2, body.height + 2).cast(pl.String),
        **{f"__sst_{key}": _shared_strings(sheet, body, key) for key in texts},
    )
    counted = (
        pl.col("aggregation").is_in(_WHOLE_AGGREGATIONS).fill_null(False)
        if "aggregation" in body.columns
        else None
    )
    cells = [
        _cell_xml(column, index, writer, _present(columns[index - 1]) if index else None, counted)
        for index, column in enumerate(columns)
    ]
    row_xml = pl.concat_str(
        [pl.lit('<row r="'), pl.col("__row"), pl.lit('">'), *cells, pl.lit("</row>")]
    )
    sheet.set_body(body, row_xml, len(columns) - 1)


def sheet_columns(table: Table, data: dict[str, Any], lang: str) -> tuple[Column, ...]:
    """The columns of ``table``'s sheet: the table's columns with, for each code column, its name
    in ``lang`` just before it (the code keeps its column, labelled "(code)"), the unit after an
    indicator's name, and no column whose label an earlier one has already (a SEK bond's
    "Outstanding (SEK)" and "Outstanding ({currency})" are one column)."""
    currency = data["bond"]["currency"]
    known = vocabularies(data)
    out: list[Column] = []
    has_unit = any(c.key == "unit" for c in table.columns)
    for column in table.columns:
        if column.kind == "code" and column.key in known:
            code = _SHEET_TEXT["code"]
            out.append(
                Column(
                    f"{column.key}__name", column.label_sv, column.label_en, "text", column.width
                )
            )
            out.append(
                Column(
                    column.key,
                    f"{column.label_sv} ({code['sv']})",
                    f"{column.label_en} ({code['en']})",
                    "code",
                    min(column.width, 14),
                )
            )
            if column.key == "indicator" and not has_unit:
                unit = _SHEET_TEXT["unit"]
                out.append(Column("indicator__unit", unit["sv"], unit["en"], "text", 10))
        else:
            out.append(column)
    seen: set[str] = set()
    distinct = []
    for column in out:
        label = column.label(lang, currency)
        if label not in seen:
            seen.add(label)
            distinct.append(column)
    return tuple(distinct)


def _named(
    body: pl.DataFrame, columns: tuple[Column, ...], data: dict[str, Any], lang: str
) -> pl.DataFrame:
    """``body`` with the derived columns of ``sheet_columns`` (names, units), in their order."""
    known = vocabularies(data)
    units = indicator_units(data)
    derived = []
    for column in columns:
        key, _, what = column.key.partition("__")
        if not what or key not in body.columns:
            continue
        codes = body[key].drop_nulls().unique().to_list()
        if what == "name":
            mapping = {code: name(known[key], code, lang) for code in codes}
        else:
            mapping = {code: units.get(code, "") for code in codes}
        derived.append(
            pl.col(key)
            .replace_strict(mapping, default=None, return_dtype=pl.String)
            .alias(column.key)
        )
    present = body.with_columns(derived) if derived else body
    return present.select(
        pl.col(c.key) if c.key in present.columns else pl.lit(None, pl.String).alias(c.key)
        for c in columns
    )


def _print_setup(sheet: Worksheet, title: str, lang: str, *, header_row: bool = True) -> None:
    """Print on A4 landscape, one page wide, the header row on every page, numbered pages."""
    sheet.set_landscape()
    sheet.set_paper(_PAPER_A4)
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if header_row:
        sheet.repeat_rows(0)
    # "&" starts a header code: a title holding one is written as "&&"
    sheet.set_header(f"&L{title.replace('&', '&&')[:200]}")
    sheet.set_footer(f"&R{_SHEET_TEXT['page'][lang]}")


def _table_sheet(
    book: xlsxwriter.Workbook, writer: _Writer, table: Table, data: dict[str, Any], lang: str
) -> None:
    """One table on its own sheet: labelled header, frozen and filterable, typed cells."""
    currency = data["bond"]["currency"]
    sheet = book.add_worksheet(table.sheet, worksheet_class=_TableSheet)
    columns = sheet_columns(table, data, lang)
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
        writer.text(sheet, 0, index, column.label(lang, currency), writer.header)
    # the dict's frames go straight to the sheet; a frozen dict's rows are read into one first
    body = table.frame(data)
    if body is None:
        rows = table.rows(data)
        body = _body_frame(rows, table.columns) if rows else pl.DataFrame()
    if body.height:
        body = _named(body, columns, data, lang)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(1, body.height), len(columns) - 1)
    _print_setup(sheet, f"{data['bond']['name']} – {table.title(lang)}", lang)
    _set_body(sheet, writer, columns, body)


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
        (text("coupon_pct"), bond["coupon_pct"], "rate"),
        (text("framework_version"), bond["framework_version"], "text"),
        (text("report_date"), data["report_date"], "date"),
        (text("fx"), fx["sek_per_unit"], "rate"),
        (text("fx_as_of"), fx["as_of"], "date"),
        (text("fx_source"), fx["source"], "text"),
        (text("illustrative"), bool(bond.get("illustrative")), "bool"),
    ]
    summary = data["allocation"]["summary"]
    seen = {label for label, _, _ in pairs}
    for column in SUMMARY:
        # a SEK bond's pool outstanding in SEK and in its currency are one line
        label = column.label(lang, bond["currency"])
        if label not in seen:
            seen.add(label)
            pairs.append((label, summary[column.key], column.kind))
    sheet.freeze_panes(1, 0)
    _print_setup(sheet, f"{bond['name']} – {text('report')}", lang)
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
    _print_setup(sheet, data["bond"]["name"], lang, header_row=False)
    sheet.set_portrait()


#: the programme sheet's bond columns: (key, Swedish, English, kind)
_PROGRAMME_BONDS: Final = (
    ("isin", "ISIN", "ISIN", "code"),
    ("currency", "Valuta", "Currency", "code"),
    ("nominal", "Nominellt", "Nominal", "money"),
    ("issue_date", "Emission", "Issue", "date"),
    ("maturity_date", "Förfall", "Maturity", "date"),
    ("status", "Status", "Status", "text"),
    ("sek_per_unit", "SEK per enhet", "SEK per unit", "value"),
    ("nominal_sek", "Nominellt (SEK)", "Nominal (SEK)", "money"),
    ("share", "Andel", "Share", "share"),
    ("allocated", "Allokerat", "Allocated", "money"),
    ("allocated_sek", "Allokerat (SEK)", "Allocated (SEK)", "money"),
    ("unallocated", "Ej allokerat", "Unallocated", "money"),
    ("fx", "Kurs", "FX", "text"),
)
_PROGRAMME_HISTORY: Final = (
    ("date", "Datum", "Date", "date"),
    ("kind", "Slag", "Kind", "text"),
    ("bonds_outstanding_sek", "Obligationer (SEK)", "Bonds (SEK)", "money"),
    ("pool_sek", "Pool (SEK)", "Pool (SEK)", "money"),
    ("headroom_sek", "Utrymme (SEK)", "Headroom (SEK)", "money"),
    ("within_pool", "Uppfyllt", "Met", "bool"),
)


def _programme_sheet(
    book: xlsxwriter.Workbook, writer: _Writer, data: dict[str, Any], lang: str
) -> None:
    """Issue 17: the bonds on the pool with their allocation, then the dated bonds ≤ pool test
    (nothing for a report frozen before the section existed)."""
    programme = data.get("programme")
    if not programme or not programme.get("available"):
        return
    sv = lang == "sv"
    sheet = book.add_worksheet("Programme")
    sheet.set_column(0, len(_PROGRAMME_BONDS) - 1, 18)
    sheet.freeze_panes(1, 0)
    for col, (_key, label_sv, label_en, _kind) in enumerate(_PROGRAMME_BONDS):
        writer.text(sheet, 0, col, label_sv if sv else label_en, writer.header)
    for row, bond in enumerate(programme["bonds"], start=1):
        for col, (key, _sv, _en, kind) in enumerate(_PROGRAMME_BONDS):
            writer.cell(sheet, row, col, bond[key], kind)
    row = len(programme["bonds"]) + 2
    for key, label_sv, label_en, kind in (
        ("pool_sek", "Stödberättigad pool (SEK)", "Eligible pool (SEK)", "money"),
        (
            "bonds_outstanding_sek",
            "Utestående obligationer (SEK)",
            "Bonds outstanding (SEK)",
            "money",
        ),
        ("allocated_sek", "Allokerat (SEK)", "Allocated (SEK)", "money"),
        ("unallocated_sek", "Ej allokerat (SEK)", "Unallocated (SEK)", "money"),
        ("headroom_sek", "Utrymme (SEK)", "Headroom (SEK)", "money"),
        ("ratio", "Obligationer ÷ pool", "Bonds ÷ pool", "share"),
    ):
        writer.text(sheet, row, 0, label_sv if sv else label_en, writer.bold)
        writer.cell(sheet, row, 2, programme[key], kind)
        row += 1
    row += 1
    for col, (_key, label_sv, label_en, _kind) in enumerate(_PROGRAMME_HISTORY):
        writer.text(sheet, row, col, label_sv if sv else label_en, writer.header)
    for point in programme["history"]:
        row += 1
        for col, (key, _sv, _en, kind) in enumerate(_PROGRAMME_HISTORY):
            writer.cell(sheet, row, col, point[key], kind)
    _print_setup(sheet, data["bond"]["name"], lang, header_row=True)


def report_status(data: dict[str, Any], status: str | None = None) -> str:
    """draft, published or revised: ``status`` when given, else the report's ``publication``."""
    if status:
        return status
    publication = data.get("publication") or {}
    return str(publication.get("status") or "draft")


def _cover_sheet(
    book: xlsxwriter.Workbook,
    writer: _Writer,
    data: dict[str, Any],
    lang: str,
    status: str,
    sheet_names: list[tuple[str, str]],
) -> None:
    """The first sheet: title, bond, report date, status, the illustrative-data warning, contents."""
    sheet = book.add_worksheet("Cover")
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, 1, 90)
    bond = data["bond"]

    def text(key: str) -> str:
        return _SHEET_TEXT[key][lang]

    writer.text(sheet, 0, 0, bond["name"], writer.title)
    writer.text(sheet, 1, 0, text("report"), writer.bold)
    rows: list[tuple[str, Any, str]] = [
        (text("isin"), bond["isin"], "code"),
        (text("report_date"), data["report_date"], "date"),
        (text("status"), _SHEET_TEXT.get(status, {}).get(lang, status), "text"),
        (text("framework_version"), bond["framework_version"], "text"),
        (text("currency"), bond["currency"], "code"),
    ]
    row = 3
    for label, value, kind in rows:
        writer.text(sheet, row, 0, label, writer.bold)
        writer.cell(sheet, row, 1, value, kind)
        row += 1
    row += 1
    if bond.get("illustrative"):
        sheet.set_row(row, 45)
        writer.text(sheet, row, 0, text("illustrative"), writer.warning)
        writer.text(sheet, row, 1, text("disclaimer"), writer.warning)
        row += 2
    if status == "draft":
        writer.text(sheet, row, 0, text("draft"), writer.warning)
        writer.text(sheet, row, 1, text("draft_note"), writer.warning)
        row += 2
    writer.text(sheet, row, 1, text("exact_note"), writer.wrap)
    row += 2
    writer.text(sheet, row, 0, text("sheets"), writer.bold)
    for offset, (sheet_name, title) in enumerate(sheet_names, start=1):
        writer.text(sheet, row + offset, 0, sheet_name)
        writer.text(sheet, row + offset, 1, title)
    _print_setup(sheet, bond["name"], lang, header_row=False)
    sheet.set_portrait()


def workbook_tables(data: dict[str, Any]) -> tuple[Table, ...]:
    """The tables of the workbook's sheets, in order: the report's, the register after the loans."""
    out: list[Table] = []
    for table in tables(data):
        out.append(table)
        if table is LOANS:
            out += [REGISTER, REGISTER_INDICATORS]
    return tuple(out)


#: the case studies sheet's columns: (key, Swedish, English, width)
_CASE_STUDIES: Final = (
    ("loan", "Lån", "Loan", 16),
    ("year", "År", "Year", 8),
    ("title", "Rubrik", "Title", 36),
    ("text_sv", "Text (svenska)", "Text (Swedish)", 80),
    ("text_en", "Text (engelska)", "Text (English)", 80),
    ("approved_on", "Godkänd", "Approved", 12),
)


def _case_studies_sheet(
    book: xlsxwriter.Workbook, writer: _Writer, data: dict[str, Any], lang: str
) -> None:
    """Issue 16 item 6: the approved case studies, both languages (none: no sheet)."""
    studies = data.get("case_studies") or []
    if not studies:
        return
    sheet = book.add_worksheet("Case studies")
    sheet.freeze_panes(1, 0)
    for col, (_key, label_sv, label_en, width) in enumerate(_CASE_STUDIES):
        sheet.set_column(col, col, width)
        writer.text(sheet, 0, col, label_sv if lang == "sv" else label_en, writer.header)
    for row, study in enumerate(studies, start=1):
        for col, (key, _sv, _en, _width) in enumerate(_CASE_STUDIES):
            if key == "year":
                sheet.write_number(row, col, study[key])
            else:
                writer.text(sheet, row, col, study[key] or "", writer.wrap)
    _print_setup(sheet, data["bond"]["name"], lang, header_row=True)


def render_xlsx(
    data: dict[str, Any], *, lang: str | None = None, status: str | None = None
) -> bytes:
    """The report dict as XLSX bytes, labelled in ``lang`` (default: the report's language).

    ``status`` (draft, published, revised) is shown on the cover; by default the report's own
    ``publication`` status, else draft.
    """
    out = io.BytesIO()
    write_xlsx(data, out, lang=lang, status=status)
    return out.getvalue()


def write_xlsx(
    data: dict[str, Any], out: IO[bytes], *, lang: str | None = None, status: str | None = None
) -> None:
    """``render_xlsx``'s bytes written to ``out`` (a file: the packed workbook, ~100 MB at 30 000
    loans, is then never held in memory)."""
    lang = lang or data["methodology"]["lang"]
    status = report_status(data, status)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
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
    sheet_tables = workbook_tables(data)
    summary_title = {"sv": "Sammanfattning", "en": "Summary"}[lang]
    contents = [
        ("Summary", summary_title),
        *((t.sheet, t.title(lang)) for t in sheet_tables),
        *(
            [("Programme", {"sv": "Obligationsprogrammet", "en": "The bond programme"}[lang])]
            if (data.get("programme") or {}).get("available")
            else []
        ),
        *(
            [("Case studies", {"sv": "Fallstudier", "en": "Case studies"}[lang])]
            if data.get("case_studies")
            else []
        ),
        ("Methodology", {"sv": "Metod", "en": "Methodology"}[lang]),
    ]
    _cover_sheet(book, writer, data, lang, status, contents)
    _summary_sheet(book, writer, data, lang)
    with bulk_conversion():
        for table in sheet_tables:
            _table_sheet(book, writer, table, data, lang)
    _programme_sheet(book, writer, data, lang)
    _case_studies_sheet(book, writer, data, lang)
    _methodology_sheet(book, writer, data, lang)
    book.close()
    sheets = [s for s in book.worksheets() if isinstance(s, _TableSheet) and s.body is not None]
    if sheets:
        _with_bodies(buffer.getvalue(), sheets, out)
    else:
        out.write(buffer.getvalue())


__all__ = [
    "FORMULA_TRIGGERS",
    "Column",
    "render_xlsx",
    "report_status",
    "sheet_columns",
    "workbook_tables",
    "write_xlsx",
]
