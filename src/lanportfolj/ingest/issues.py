"""Import problems as data: a stable code, where it is, the offending cell and a message in two languages.

Every check in ``ingest`` reports through :func:`make_issue`, so the web page, the API and the CLI show
the same list and the wording lives in one catalogue (:data:`MESSAGES`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lanportfolj.domain import identifiers as ids

#: How many problems a result keeps, returns and stores; the rest are counted (:func:`cap_issues`).
MAX_ISSUES = 1000

#: How canonical columns are named in each language's messages.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "loan": ("lån", "loan"),
    "indicator": ("indikator", "indicator"),
    "year": ("år", "year"),
    "value": ("värde", "value"),
    "estimated": ("uppskattat", "estimated"),
    "comment": ("kommentar", "comment"),
    "group": ("grupp", "group"),
    "n": ("antal", "n"),
    "std_error": ("medelfel", "std_error"),
}

#: code → (Swedish template, English template). Fields: {value}, {column}, and per-code extras.
MESSAGES: dict[str, tuple[str, str]] = {
    "empty-file": (
        "Filen är tom.",
        "The file is empty.",
    ),
    "no-data-rows": (
        "Filen har en rubrikrad men inga rader med värden.",
        "The file has a header row but no rows with values.",
    ),
    "not-a-spreadsheet": (
        "Filen är inte en CSV-, Excel- (.xlsx, .xls) eller LibreOffice-fil (.ods) ({detail}). "
        "Spara den som .xlsx, .ods eller .csv.",
        "The file is not a CSV, Excel (.xlsx, .xls) or LibreOffice (.ods) file ({detail}). Save it "
        "as .xlsx, .ods or .csv.",
    ),
    "malformed-csv": (
        'CSV-filen går inte att läsa. Kontrollera att varje citattecken (") stängs och att '
        "kolumnerna skiljs åt med semikolon eller komma.",
        'The CSV file cannot be read. Check that every quote (") is closed and that columns are '
        "separated by semicolons or commas.",
    ),
    "bad-encoding": (
        "Filens teckenkodning känns inte igen. Spara som UTF-8 eller Windows-1252.",
        "The file's character encoding is not recognised. Save it as UTF-8 or Windows-1252.",
    ),
    "file-too-large": (
        "Filen är {size_mb} MB; högst {limit_mb} MB tillåts.",
        "The file is {size_mb} MB; at most {limit_mb} MB is allowed.",
    ),
    "zip-bomb": (
        "XLSX-filen {file} packas upp till mer än {limit_mb_sv} MB; högst {limit_mb_sv} MB "
        "tillåts. Filen läses inte.",
        "The XLSX file {file} unpacks to more than {limit_mb_en} MB; at most {limit_mb_en} MB is "
        "allowed. The file is not read.",
    ),
    # Same code as "zip-bomb": honest sizes, but far more than a spreadsheet compresses.
    "zip-ratio": (
        "XLSX-filen {file} packas upp {ratio} gånger (högst {limit} tillåts); det ser inte ut som "
        "ett vanligt kalkylblad och läses inte.",
        "The XLSX file {file} unpacks {ratio} times over (at most {limit} is allowed); that does "
        "not look like an ordinary spreadsheet and it is not read.",
    ),
    "zip-entries": (
        "XLSX-filen {file} innehåller fler än {limit} delar; högst {limit} tillåts. Filen läses "
        "inte.",
        "The XLSX file {file} holds more than {limit} parts; at most {limit} are allowed. The file "
        "is not read.",
    ),
    "zip-encrypted": (
        "XLSX-filen {file} är krypterad eller lösenordsskyddad ({part}). Spara den utan lösenord.",
        "The XLSX file {file} is encrypted or password-protected ({part}). Save it without a "
        "password.",
    ),
    "zip-method": (
        "XLSX-filen {file} är packad med en metod som inte stöds ({part}: metod {method}). "
        "Spara om den i Excel eller LibreOffice.",
        "The XLSX file {file} is packed with an unsupported method ({part}: method {method}). "
        "Save it again in Excel or LibreOffice.",
    ),
    "zip-size-mismatch": (
        "XLSX-filen {file} uppger fel storlek för {part} (uppger {declared} byte, innehåller "
        "{real}). Filen läses inte.",
        "The XLSX file {file} states the wrong size for {part} (states {declared} bytes, holds "
        "{real}). The file is not read.",
    ),
    "too-many-rows": (
        "Filen {file} har {rows_sv} rader med värden; högst {limit_sv} tillåts i en fil. Dela upp "
        "den i flera filer.",
        "The file {file} has {rows_en} rows with values; at most {limit_en} are allowed in one "
        "file. Split it into several files.",
    ),
    "missing-column": (
        "Kolumnen '{label_sv}' saknas i rubrikraden{on_sheet_sv}.",
        "The column '{label_en}' is missing from the header row{on_sheet_en}.",
    ),
    "duplicate-column": (
        "Kolumnen '{label_sv}' förekommer mer än en gång i rubrikraden{on_sheet_sv}.",
        "The column '{label_en}' appears more than once in the header row{on_sheet_en}.",
    ),
    "several-data-sheets": (
        "Flera blad har mallens rubrikrad ({sheets}); det går inte att veta vilket som ska läsas. "
        "Ta bort eller byt rubriker på kopiorna, eller ladda ned en ny mall.",
        "Several sheets have the template's header row ({sheets}); it cannot be known which one to "
        "read. Delete the copies or change their headers, or download a new template.",
    ),
    "formula-error": (
        "Cellen '{label_sv}' är en formel som ger felet {value}; rätta formeln eller skriv in "
        "värdet.",
        "The cell '{label_en}' is a formula that gives the error {value}; correct the formula or "
        "type in the value.",
    ),
    # Same code as "formula-error": the file keeps no result for the formula (not recalculated).
    "formula-no-result": (
        "Cellen '{label_sv}' är en formel utan sparat resultat; öppna filen i Excel eller "
        "LibreOffice, räkna om och spara, eller skriv in värdet.",
        "The cell '{label_en}' is a formula with no stored result; open the file in Excel or "
        "LibreOffice, recalculate and save it, or type in the value.",
    ),
    "year-is-date": (
        "Cellen '{label_sv}' innehåller ett datum, {date_sv}, inte ett årtal; formatera cellen som "
        "tal och skriv året, t.ex. 2025.",
        "The cell '{label_en}' holds a date, {date_en}, not a year; format the cell as a number and "
        "write the year, e.g. 2025.",
    ),
    "missing-value": (
        "Cellen '{label_sv}' är tom.",
        "The cell '{label_en}' is empty.",
    ),
    # Same code as "missing-value", used as a warning: an unfilled template row is skipped.
    "missing-value-skipped": (
        "Cellen '{label_sv}' är tom; raden hoppas över.",
        "The cell '{label_en}' is empty; the row is skipped.",
    ),
    "unknown-loan": (
        "Lånet '{value}' finns inte.",
        "There is no loan '{value}'.",
    ),
    "not-your-loan": (
        "Du får inte rapportera för lånet '{value}'.",
        "You may not report for loan '{value}'.",
    ),
    "unknown-indicator": (
        "Indikatorn '{value}' finns inte.",
        "There is no indicator '{value}'.",
    ),
    "bad-group-name": (
        f"Gruppnamnet '{{value}}' kan inte användas: högst {ids.COMPARISON_GROUP_MAX} tecken, en "
        "bokstav eller siffra först, sedan bokstäver, siffror, enkla mellanslag och - – _ . , : ' ’ "
        "( ) / & + %.",
        f"The group name '{{value}}' cannot be used: at most {ids.COMPARISON_GROUP_MAX} characters, a "
        "letter or digit first, then letters, digits, single spaces and - – _ . , : ' ’ ( ) / & + %.",
    ),
    "indicator-not-on-loan": (
        "Indikatorn '{value}' följs inte upp för lånet {loan}.",
        "The indicator '{value}' is not followed up for loan {loan}.",
    ),
    "bad-year": (
        "'{value}' är inget årtal; skriv året med fyra siffror, t.ex. 2025.",
        "'{value}' is not a year; write the year with four digits, e.g. 2025.",
    ),
    "year-out-of-range": (
        "Året {value} ligger utanför {first}–{last} (basår till innevarande år).",
        "The year {value} is outside {first}–{last} (baseline year to current year).",
    ),
    "not-a-number": (
        "'{value}' är inget tal.",
        "'{value}' is not a number.",
    ),
    "out-of-range": (
        "Värdet {value} ligger utanför det tillåtna intervallet {range_sv} för {indicator_sv}.",
        "The value {value} is outside the allowed range {range_en} for {indicator_en}.",
    ),
    "not-whole": (
        "Värdet {value} måste vara ett heltal för {indicator_sv}.",
        "The value {value} must be a whole number for {indicator_en}.",
    ),
    "bad-estimated": (
        "'{value}' går inte att tolka som uppskattat; skriv ja eller nej (eller lämna tomt).",
        "'{value}' cannot be read as estimated; write yes or no (or leave it empty).",
    ),
    "negative-count": (
        "Antalet {value} i kolumnen '{label_sv}' kan inte vara negativt.",
        "The count {value} in the column '{label_en}' cannot be negative.",
    ),
    "count-not-whole": (
        "Antalet {value} i kolumnen '{label_sv}' måste vara ett heltal.",
        "The count {value} in the column '{label_en}' must be a whole number.",
    ),
    "count-too-large": (
        "Antalet {value} i kolumnen '{label_sv}' är för stort; högst 2 147 483 647 kan sparas.",
        "The count {value} in the column '{label_en}' is too large; at most 2 147 483 647 can be "
        "stored.",
    ),
    "negative-std-error": (
        "Medelfelet {value} i kolumnen '{label_sv}' kan inte vara negativt.",
        "The standard error {value} in the column '{label_en}' cannot be negative.",
    ),
    "uncertainty-without-value": (
        "Kolumnen '{label_sv}' är ifylld ({value}) men raden har inget värde; ange värdet eller "
        "töm cellen.",
        "The column '{label_en}' is filled in ({value}) but the row has no value; give the value "
        "or clear the cell.",
    ),
    "history-after-baseline": (
        "Året {value} ligger efter basåret {first}: historik får bara gälla år före insatsen.",
        "The year {value} is after the baseline year {first}: history may only cover years "
        "before the intervention.",
    ),
    "history-without-unit": (
        "Historik måste ange kommunen i kolumnen '{label_sv}'; den sparas aldrig som lånets egna "
        "värden.",
        "History must name the municipality in the column '{label_en}'; it is never stored as "
        "the loan's own values.",
    ),
    "ambiguous-thousands": (
        "'{value}' läses som {read_sv} (kommatecken som decimaltecken); {previous_year} var värdet "
        "{previous_sv}. Menade du {thousands_sv}? Skriv då talet utan skiljetecken.",
        "'{value}' is read as {read_en} (the comma as a decimal mark); in {previous_year} the value "
        "was {previous_en}. Did you mean {thousands_en}? Then write the number without separators.",
    ),
    # Same code as "ambiguous-thousands", for a series with no earlier value to compare with.
    "ambiguous-thousands-new": (
        "'{value}' läses som {read_sv} (kommatecken som decimaltecken). Menade du {thousands_sv}? "
        "Skriv då talet utan skiljetecken.",
        "'{value}' is read as {read_en} (the comma as a decimal mark). Did you mean "
        "{thousands_en}? Then write the number without separators.",
    ),
    "far-from-previous": (
        "Värdet {read_sv} för {indicator_sv} är minst {times} gånger {direction_sv} än "
        "{previous_year} års värde {previous_sv}. Kontrollera enheten (procent eller andel, "
        "tusental) och bekräfta innan värdena sparas.",
        "The value {read_en} for {indicator_en} is at least {times} times {direction_en} than the "
        "{previous_year} value {previous_en}. Check the unit (percent or fraction, thousands) and "
        "confirm before the values are stored.",
    ),
    "duplicate-row": (
        "Samma lån, indikator, grupp och år finns redan på rad {first_row}.",
        "The same loan, indicator, group and year is already on row {first_row}.",
    ),
}


def column_label(column: str | None, lang: str = "en") -> str | None:
    """A canonical column as the template's header names it in ``lang`` (``value`` → ``värde``)."""
    if column is None:
        return None
    label_sv, label_en = COLUMN_LABELS.get(column, (column, column))
    return label_sv if lang == "sv" else label_en


@dataclass(frozen=True)
class ImportIssue:
    """One problem found in an uploaded file."""

    code: str
    #: 1-based row as the user sees it in Excel/LibreOffice (header = row 1 in our templates).
    row: int | None
    #: Canonical column name (``loan``, ``indicator``, ``year`` …) or None for file-level problems.
    column: str | None
    #: The offending cell as text.
    value: str | None
    message_sv: str
    message_en: str
    file: str = ""
    #: "error" blocks the import; "warning" is shown but does not.
    severity: str = "error"
    #: The workbook sheet the problem is on (None for CSV and file-level problems).
    sheet: str | None = None
    #: A warning the uploader must confirm before the values are stored (a value far off last year's).
    confirm: bool = False

    def column_label(self, lang: str = "en") -> str | None:
        """The column as the template's header names it in ``lang`` (``värde``), or None."""
        return column_label(self.column, lang)

    def message(self, lang: str = "en") -> str:
        """The message in ``lang`` ("sv" or "en"; anything else falls back to English)."""
        return self.message_sv if lang == "sv" else self.message_en

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready dict: file, sheet, row, column (and its header label), code, value, message."""
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "column_label": self.column_label(lang),
            "code": self.code,
            "value": self.value,
            "message": self.message(lang),
            "severity": self.severity,
            "confirm": self.confirm,
        }


def make_issue(
    code: str,
    *,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
    file: str = "",
    severity: str = "error",
    message_key: str | None = None,
    sheet: str | None = None,
    confirm: bool = False,
    **params: object,
) -> ImportIssue:
    """Build an :class:`ImportIssue` with both messages filled in from :data:`MESSAGES`.

    ``message_key`` picks another wording for the same code (e.g. a warning variant). An ``indicator``
    parameter may come with ``indicator_sv`` / ``indicator_en`` (its names); they default to it.
    """
    sv_template, en_template = MESSAGES[message_key or code]
    label_sv, label_en = COLUMN_LABELS.get(column or "", (column or "", column or ""))
    fields: dict[str, object] = {
        "value": "" if value is None else value,
        "column": column or "",
        "file": file,
        "label_sv": label_sv,
        "label_en": label_en,
        "on_sheet_sv": f" på bladet '{sheet}'" if sheet else "",
        "on_sheet_en": f" on the sheet '{sheet}'" if sheet else "",
        **params,
    }
    if "indicator" in params:
        fields.setdefault("indicator_sv", params["indicator"])
        fields.setdefault("indicator_en", params["indicator"])
    return ImportIssue(
        code=code,
        row=row,
        column=column,
        value=value,
        message_sv=sv_template.format(**fields),
        message_en=en_template.format(**fields),
        file=file,
        severity=severity,
        sheet=sheet,
        confirm=confirm,
    )


def cap_issues(
    issues: Sequence[ImportIssue], limit: int = MAX_ISSUES
) -> tuple[list[ImportIssue], int]:
    """The first ``limit`` issues and how many more there were.

    Errors are kept before warnings (a thousand skipped template rows must not hide the one error that
    blocks the file); what is kept stays in its original order.
    """
    if len(issues) <= limit:
        return list(issues), 0
    errors = [index for index, issue in enumerate(issues) if issue.severity == "error"]
    others = [index for index, issue in enumerate(issues) if issue.severity != "error"]
    kept = sorted((errors + others)[:limit])
    return [issues[index] for index in kept], len(issues) - limit


def group_thousands(number: int) -> str:
    """``48213`` → ``48 213``: the space grouping both Swedish and SI-style English read."""
    return f"{number:,}".replace(",", " ")


def more_issues_text(count: int, lang: str = "en") -> str:
    """The line under a capped list: "… and 48 213 more" / "… och 48 213 till"."""
    number = group_thousands(count)
    return f"… och {number} till" if lang == "sv" else f"… and {number} more"
