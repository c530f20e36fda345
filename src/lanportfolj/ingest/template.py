"""The yearly reporting template per loan, as XLSX (validated, protected) and as CSV.

A filled-in template must import cleanly through :func:`lanportfolj.ingest.parse_file`, so the data
sheet starts with the canonical header in row 1 and the read-only context columns come after the
columns the reader uses (it ignores any header it does not recognise).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from lanportfolj.ingest.headers import CANONICAL_COLUMNS, HEADER_LABELS
from lanportfolj.ingest.inert import inert_text
from lanportfolj.ingest.readers import DATA_NAME

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

# xlsxwriter is imported where a workbook is written: ``lanportfolj import`` of a CSV (issue 15 item 4) and
# every user of ``lanportfolj.ingest`` would otherwise pay for it at start-up

#: Fixed creation time so the same spec always gives the same bytes.
_CREATED = datetime(2024, 1, 1, 0, 0, 0)
#: Blank, fully editable rows below the pre-filled ones (comparison groups, restatements).
EXTRA_ROWS = 30
DATA_SHEET = "Data"
LISTS_SHEET = "Listor"
INSTRUCTIONS_SHEET = "Instruktioner (Instructions)"

_CONTEXT_LABELS: dict[str, tuple[str, ...]] = {
    "sv": (
        "namn",
        "enhet",
        "basvärde",
        "basår",
        "målvärde",
        "målår",
        "föregående år",
        "föregående värde",
    ),
    "en": (
        "name",
        "unit",
        "baseline value",
        "baseline year",
        "target value",
        "target year",
        "previous year",
        "previous value",
    ),
}
_ESTIMATED_WORDS = {"sv": ("ja", "nej"), "en": ("yes", "no")}

_INSTRUCTIONS_SV = (
    "Så fyller du i mallen",
    "1. Fyll i kolumnen 'värde' för varje indikator och år på bladet Data. "
    "Lämna raden tom om värdet inte finns; den hoppas då över.",
    "2. Skriv 'ja' i 'uppskattat' om värdet är en uppskattning, annars 'nej' eller tomt.",
    "3. 'kommentar' är frivillig: datakälla, ändrad metod, förklaring till avvikelser.",
    "4. 'grupp' lämnas tom för insatsen själv. För en jämförelsegrupp (t.ex. en annan skola) "
    "använder du de tomma raderna längst ned och skriver gruppens namn.",
    "5. Ett ändrat värde för ett år som redan rapporterats sparas som en rättelse; "
    "det gamla värdet finns kvar i historiken.",
    "6. 'antal' och 'medelfel' är frivilliga och gör att osäkerheten kan anges: 'antal' är hur "
    "många som mättes (svarande, elever, barn; ett heltal, aldrig negativt), 'medelfel' är "
    "värdets standardfel om källan anger det. Fyll dem bara i på rader som har ett värde.",
    "7. Kolumnerna till höger om 'medelfel' är information och läses inte in.",
    "8. Procent: skriv 91,5 för 91,5 %. En cell formaterad som procent som visar 91,5 % "
    "(och alltså innehåller 0,915) läses som 91,5 för en indikator i procent; '45 %' som text läses "
    "som 45.",
    "9. Ett värde som är minst 50 gånger större eller mindre än förra årets visas som en varning "
    "som du bekräftar innan värdena sparas; '1,270' läses som 1,27 (skriv 1270 för tusen).",
    "10. Kommentarer som redan sparats står i 'kommentar'; en ändrad kommentar sparas även om "
    "värdet är detsamma.",
    "11. Spara som .xlsx, .ods (LibreOffice), .xls eller CSV och ladda upp filen. Alla fel visas på "
    "en gång. Bladet Data läses var det än ligger i filen; byt inte namn på rubrikerna.",
)
_INSTRUCTIONS_EN = (
    "How to fill in the template",
    "1. Fill in the 'value' column for each indicator and year on the Data sheet. "
    "Leave it empty if there is no value; the row is then skipped.",
    "2. Write 'yes' in 'estimated' if the value is an estimate, otherwise 'no' or leave it empty.",
    "3. 'comment' is optional: data source, change of method, reasons for deviations.",
    "4. Leave 'group' empty for the intervention itself. For a comparison group (e.g. another "
    "school) use the blank rows at the bottom and write the group's name.",
    "5. A changed value for a year already reported is kept as a restatement; the old value "
    "stays in the history.",
    "6. 'n' and 'std_error' are optional and let the uncertainty be stated: 'n' is how many "
    "were measured (respondents, pupils, children; a whole number, never negative), "
    "'std_error' is the value's standard error when the source gives one. Fill them in only on "
    "rows that have a value.",
    "7. The columns to the right of 'std_error' are information and are not imported.",
    "8. Percentages: write 91.5 for 91.5 %. A cell formatted as percent that shows 91.5 % (and so "
    "holds 0.915) is read as 91.5 for an indicator in percent; '45 %' as text is read as 45.",
    "9. A value at least 50 times larger or smaller than last year's is shown as a warning that you "
    "confirm before the values are stored; '1,270' is read as 1.27 (write 1270 for a thousand).",
    "10. Comments already stored are in 'comment'; a changed comment is stored even when the value "
    "is the same.",
    "11. Save as .xlsx, .ods (LibreOffice), .xls or CSV and upload the file. All problems are listed "
    "at once. The Data sheet is read wherever it is in the file; do not rename its headers.",
)


@dataclass(frozen=True)
class TemplateLine:
    """One indicator of the loan, with what the borrower needs to see while reporting."""

    indicator: str
    name: str
    unit: str
    baseline_value: Decimal | None
    baseline_year: int | None
    target_value: Decimal | None
    target_year: int | None
    #: Earlier reported values by year.
    previous: Mapping[int, Decimal] = field(default_factory=dict)
    #: Years whose earlier value was an estimate: pre-filled as such, so re-uploading changes nothing.
    previous_estimated: frozenset[int] = frozenset()
    #: Stored comments by year: pre-filled, so a comment round-trips and an edited one is stored.
    previous_comments: Mapping[int, str] = field(default_factory=dict)
    #: Allowed range and whole-number rule, used for the value cells' data validation.
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    integer: bool = False


@dataclass(frozen=True)
class TemplateSpec:
    """A loan's template: one row per indicator and year."""

    loan: str
    loan_title: str
    borrower: str
    years: Sequence[int]
    lines: Sequence[TemplateLine]
    lang: str = "sv"


def _lang(lang: str) -> str:
    return "sv" if lang == "sv" else "en"


def _previous_before(line: TemplateLine, year: int) -> tuple[int | None, Decimal | None]:
    earlier = [known for known in line.previous if known < year]
    if not earlier:
        return None, None
    latest = max(earlier)
    return latest, line.previous[latest]


def _template_rows(spec: TemplateSpec) -> list[tuple[TemplateLine, int]]:
    return [(line, year) for line in spec.lines for year in sorted(spec.years)]


def write_template_xlsx(spec: TemplateSpec) -> bytes:
    """The loan's reporting template as XLSX bytes (deterministic for a given spec)."""
    lang = _lang(spec.lang)
    buffer = io.BytesIO()
    # strings stay strings: a loan title or borrower name starting with "=" is no formula, one starting
    # with "http://" no link, one that looks like a number no number (issue 14)
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    workbook.set_properties(
        {
            "title": f"{spec.loan} {spec.loan_title}",
            "subject": "Rapportering / Reporting",
            "author": "lanportfolj",
            "company": spec.borrower,
            "created": _CREATED,
        }
    )
    header = workbook.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "locked": True})
    context_header = workbook.add_format(
        {"bold": True, "italic": True, "bg_color": "#EEEEEE", "border": 1, "locked": True}
    )
    locked = workbook.add_format({"locked": True, "bg_color": "#F5F5F5"})
    locked_number = workbook.add_format(
        {"locked": True, "bg_color": "#F5F5F5", "num_format": "General"}
    )
    editable = workbook.add_format({"locked": False, "bg_color": "#FFF9DB", "border": 1})
    wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
    title = workbook.add_format({"bold": True, "font_size": 13})

    sheet = workbook.add_worksheet(DATA_SHEET)
    lists = workbook.add_worksheet(LISTS_SHEET)
    instructions = workbook.add_worksheet(INSTRUCTIONS_SHEET)

    labels = [HEADER_LABELS[lang][column] for column in CANONICAL_COLUMNS]
    context_labels = list(_CONTEXT_LABELS[lang])
    sheet.write_row(0, 0, labels, header)
    sheet.write_row(0, len(labels), context_labels, context_header)
    col = {column: index for index, column in enumerate(CANONICAL_COLUMNS)}
    first_context = len(labels)

    # Codes go on a hidden sheet: an inline list is limited to 255 characters.
    codes = [line.indicator for line in spec.lines] or [""]
    lists.write_column(0, 0, codes)
    lists.write_column(0, 1, list(_ESTIMATED_WORDS[lang]))
    lists.write(0, 2, spec.loan)
    lists.hide()
    indicator_source = f"='{LISTS_SHEET}'!$A$1:$A${len(codes)}"
    estimated_source = f"='{LISTS_SHEET}'!$B$1:$B$2"
    loan_source = f"='{LISTS_SHEET}'!$C$1"

    rows = _template_rows(spec)
    for offset, (line, year) in enumerate(rows):
        row = offset + 1
        sheet.write_string(row, col["loan"], spec.loan, locked)
        sheet.write_string(row, col["indicator"], line.indicator, locked)
        sheet.write_number(row, col["year"], year, locked)
        known = line.previous.get(year)
        if known is not None:
            sheet.write_number(row, col["value"], float(known), editable)
        else:
            sheet.write_blank(row, col["value"], None, editable)
        if known is not None and year in line.previous_estimated:
            sheet.write_string(row, col["estimated"], _ESTIMATED_WORDS[lang][0], editable)
        else:
            sheet.write_blank(row, col["estimated"], None, editable)
        stored_comment = line.previous_comments.get(year)
        if stored_comment:
            sheet.write_string(row, col["comment"], stored_comment, editable)
        else:
            sheet.write_blank(row, col["comment"], None, editable)
        sheet.write_blank(row, col["group"], None, locked)
        # optional: how many were measured, or the value's standard error
        sheet.write_blank(row, col["n"], None, editable)
        sheet.write_blank(row, col["std_error"], None, editable)
        previous_year, previous_value = _previous_before(line, year)
        context: list[object] = [
            line.name,
            line.unit,
            line.baseline_value,
            line.baseline_year,
            line.target_value,
            line.target_year,
            previous_year,
            previous_value,
        ]
        for index, item in enumerate(context):
            target = first_context + index
            if item is None:
                sheet.write_blank(row, target, None, locked)
            elif isinstance(item, (Decimal, int)):
                sheet.write_number(row, target, float(item), locked_number)
            else:
                sheet.write_string(row, target, str(item), locked)
        sheet.data_validation(row, col["value"], row, col["value"], _value_rule(line, lang))

    first_extra = len(rows) + 1
    last_extra = first_extra + EXTRA_ROWS - 1
    for row in range(first_extra, last_extra + 1):
        for column in CANONICAL_COLUMNS:
            sheet.write_blank(row, col[column], None, editable)
    sheet.data_validation(
        first_extra,
        col["loan"],
        last_extra,
        col["loan"],
        {"validate": "list", "source": loan_source},
    )
    sheet.data_validation(
        first_extra,
        col["indicator"],
        last_extra,
        col["indicator"],
        {"validate": "list", "source": indicator_source},
    )
    sheet.data_validation(
        first_extra,
        col["year"],
        last_extra,
        col["year"],
        {"validate": "integer", "criteria": "between", "minimum": 1900, "maximum": 2100},
    )
    sheet.data_validation(
        first_extra,
        col["value"],
        last_extra,
        col["value"],
        {"validate": "decimal", "criteria": "between", "minimum": -1e15, "maximum": 1e15},
    )
    sheet.data_validation(
        1,
        col["estimated"],
        last_extra,
        col["estimated"],
        {"validate": "list", "source": estimated_source},
    )

    widths = {"loan": 14, "indicator": 30, "year": 8, "value": 12, "estimated": 12}
    for column, index in col.items():
        sheet.set_column(index, index, widths.get(column, 24))
    sheet.set_column(first_context, first_context, 40)
    sheet.set_column(first_context + 1, first_context + len(context_labels) - 1, 14)
    sheet.freeze_panes(1, 0)
    # the marker the importer finds the data sheet by, wherever the borrower moves or copies it
    last_column = first_context + len(context_labels) - 1
    from xlsxwriter.utility import xl_range_abs

    sheet_range = xl_range_abs(0, 0, last_extra, last_column)
    workbook.define_name(DATA_NAME, f"='{DATA_SHEET}'!{sheet_range}")
    sheet.protect(
        "",
        {
            "select_locked_cells": True,
            "select_unlocked_cells": True,
            "format_columns": True,
            "autofilter": True,
            "sort": True,
        },
    )
    sheet.activate()

    _write_instructions(instructions, spec, title, wrap)
    workbook.close()
    return buffer.getvalue()


def _value_rule(line: TemplateLine, lang: str) -> dict[str, object]:
    # Excel needs some bound on a "between" rule; ±10^15 is beyond any indicator in the library.
    number = int if line.integer else float
    low = number(line.min_value) if line.min_value is not None else number(-1e15)
    high = number(line.max_value) if line.max_value is not None else number(1e15)
    message = (
        ("Skriv ett heltal." if line.integer else "Skriv ett tal.")
        if lang == "sv"
        else ("Enter a whole number." if line.integer else "Enter a number.")
    )
    return {
        "validate": "integer" if line.integer else "decimal",
        "criteria": "between",
        "minimum": low,
        "maximum": high,
        "error_title": "Värde / Value",
        "error_message": message,
        "input_title": line.indicator[:32],
        "input_message": f"{line.name} ({line.unit})"[:255],
    }


def _write_instructions(sheet: Worksheet, spec: TemplateSpec, title: object, wrap: object) -> None:
    sheet.set_column(0, 0, 110)
    sheet.write(0, 0, f"{spec.loan} – {spec.loan_title}", title)
    sheet.write(1, 0, spec.borrower)
    row = 3
    for text in (*_INSTRUCTIONS_SV, "", *_INSTRUCTIONS_EN):
        sheet.write(
            row, 0, text, title if text in (_INSTRUCTIONS_SV[0], _INSTRUCTIONS_EN[0]) else wrap
        )
        row += 1


def _number_text(value: Decimal | int | None, swedish: bool) -> str:
    if value is None:
        return ""
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text.replace(".", ",") if swedish else text


def write_template_csv(spec: TemplateSpec, *, swedish: bool = True) -> bytes:
    """The template as CSV: ';' and decimal comma when ``swedish``, else ',' and decimal point.

    UTF-8 with a BOM so Excel shows å, ä and ö; rows end in CRLF as Excel writes them. Text cells that
    start like a formula get a ``'`` (``ingest.inert``); numbers are written as numbers (``-2,5``).
    """
    lang = "sv" if swedish else "en"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if swedish else ",", lineterminator="\r\n")
    writer.writerow(
        [HEADER_LABELS[lang][column] for column in CANONICAL_COLUMNS] + list(_CONTEXT_LABELS[lang])
    )
    for line, year in _template_rows(spec):
        previous_year, previous_value = _previous_before(line, year)
        writer.writerow(
            [
                inert_text(spec.loan),
                inert_text(line.indicator),
                str(year),
                _number_text(line.previous.get(year), swedish),
                _ESTIMATED_WORDS[lang][0]
                if year in line.previous and year in line.previous_estimated
                else "",
                inert_text(line.previous_comments.get(year, "")),
                "",
                "",
                "",
                inert_text(line.name),
                inert_text(line.unit),
                _number_text(line.baseline_value, swedish),
                _number_text(line.baseline_year, swedish),
                _number_text(line.target_value, swedish),
                _number_text(line.target_year, swedish),
                _number_text(previous_year, swedish),
                _number_text(previous_value, swedish),
            ]
        )
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
