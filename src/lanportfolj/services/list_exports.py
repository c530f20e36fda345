"""The loan list and the application queue as CSV and XLSX files: the rows on screen, full amounts.

Columns are named in the reader's language; amounts are exact kronor (no mnkr rounding: a file is for
further work). A Swedish CSV uses ``;`` and a decimal comma, as Excel and LibreOffice in a Swedish locale
read it; an English one ``,`` and a point. Text cells pass through :func:`ingest.inert.inert_text`, so a
title starting with ``=`` stays text in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from lanportfolj.domain.categories import PROGRAMME_CATEGORIES, label
from lanportfolj.ingest.inert import inert_text

#: (key in the row, Swedish header, English header)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("reference", "Referens", "Reference"),
    ("borrower", "Låntagare", "Borrower"),
    ("title", "Titel", "Title"),
    ("category", "Programkategori", "Programme category"),
    ("status", "Status", "Status"),
    ("overall", "Bedömning", "Assessment"),
    ("amount", "Belopp (kr)", "Amount (SEK)"),
    ("application_date", "Ansökningsdatum", "Application date"),
    ("at_risk", "Rabatten i fara", "Discount at risk"),
)

STATUS_WORDS: dict[str, tuple[str, str]] = {
    "draft": ("utkast", "draft"),
    "submitted": ("inskickad", "submitted"),
    "under_review": ("under granskning", "under review"),
    "approved": ("godkänd", "approved"),
    "rejected": ("avslagen", "rejected"),
    "active": ("aktiv", "active"),
    "repaid": ("återbetald", "repaid"),
    "eligible": ("stödberättigad", "eligible"),
    "not_eligible": ("inte stödberättigad", "not eligible"),
    "needs_judgement": ("kräver bedömning", "needs judgement"),
}


def _word(key: str, lang: str) -> str:
    words = STATUS_WORDS.get(key)
    return "" if not key else (words[0] if lang == "sv" else words[1]) if words else key


def _cells(row: dict[str, Any], lang: str) -> list[Any]:
    out: list[Any] = []
    for key, _sv, _en in COLUMNS:
        value = row.get(key)
        if key == "category":
            value = label(PROGRAMME_CATEGORIES, value, lang) if value else ""
        elif key in ("status", "overall"):
            value = _word(value or "", lang)
        elif key == "at_risk":
            value = ("ja" if lang == "sv" else "yes") if value else ""
        out.append(value)
    return out


def headers(lang: str) -> list[str]:
    return [sv if lang == "sv" else en for _key, sv, en in COLUMNS]


def _csv_value(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        text = f"{Decimal(value):f}"
        return text.replace(".", ",") if lang == "sv" else text
    if isinstance(value, date):
        return value.isoformat()
    return inert_text(str(value))


def to_csv(rows: Sequence[dict[str, Any]], lang: str) -> bytes:
    """The rows as CSV (UTF-8 with a byte-order mark, so Excel reads å, ä and ö)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if lang == "sv" else ",", lineterminator="\r\n")
    writer.writerow(headers(lang))
    for row in rows:
        writer.writerow([_csv_value(v, lang) for v in _cells(row, lang)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[dict[str, Any]], lang: str, sheet: str) -> bytes:
    """The rows as a workbook: one sheet, a bold header row, amounts as numbers, dates as dates, and a
    total of the amounts under them."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for c, title in enumerate(headers(lang)):
        ws.write_string(0, c, title, bold)
    amount_col = [k for k, _s, _e in COLUMNS].index("amount")
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(_cells(row, lang)):
            if value is None or value == "":
                continue
            if isinstance(value, Decimal | int) and not isinstance(value, bool):
                ws.write_number(r, c, float(value), money)
            elif isinstance(value, date):
                ws.write_datetime(r, c, value, day)
            else:
                ws.write_string(r, c, str(value))
    total_row = len(rows) + 1
    ws.write_string(total_row, 0, "Summa" if lang == "sv" else "Total", bold)
    total = sum((Decimal(row.get("amount") or 0) for row in rows), Decimal(0))
    ws.write_number(total_row, amount_col, float(total), money)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 2, 40)
    ws.set_column(3, len(COLUMNS) - 1, 18)
    ws.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """How many rows and their amounts summed (exact)."""
    return {
        "count": len(rows),
        "amount": sum((Decimal(r.get("amount") or 0) for r in rows), Decimal(0)),
    }
