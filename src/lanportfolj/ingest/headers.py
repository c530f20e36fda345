"""Header names in English or Swedish, matched leniently, mapped to the canonical columns."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

CANONICAL_COLUMNS: tuple[str, ...] = (
    "loan",
    "indicator",
    "year",
    "value",
    "estimated",
    "comment",
    "group",
    # optional uncertainty of the value: units measured behind it, or its standard error
    "n",
    "std_error",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("loan", "indicator", "year", "value")

#: Header texts per language, as written in our templates.
HEADER_LABELS: dict[str, dict[str, str]] = {
    "sv": {
        "loan": "lån",
        "indicator": "indikator",
        "year": "år",
        "value": "värde",
        "estimated": "uppskattat",
        "comment": "kommentar",
        "group": "grupp",
        "n": "antal",
        "std_error": "medelfel",
    },
    "en": {column: column for column in CANONICAL_COLUMNS},
}

# Keys are header texts after _header_key (lower case, no diacritics, letters and digits only).
_ALIASES: dict[str, str] = {
    "loan": "loan",
    "lan": "loan",
    "loanref": "loan",
    "loanreference": "loan",
    "lanereferens": "loan",
    "lanreferens": "loan",
    "indicator": "indicator",
    "indikator": "indicator",
    "indicatorcode": "indicator",
    "indikatorkod": "indicator",
    "year": "year",
    "ar": "year",
    "reportingyear": "year",
    "rapportar": "year",
    "value": "value",
    "varde": "value",
    "estimated": "estimated",
    "estimate": "estimated",
    "uppskattat": "estimated",
    "uppskattad": "estimated",
    "comment": "comment",
    "comments": "comment",
    "kommentar": "comment",
    "kommentarer": "comment",
    "group": "group",
    "grupp": "group",
    "comparisongroup": "group",
    "jamforelsegrupp": "group",
    "n": "n",
    "antal": "n",
    "count": "n",
    "samplesize": "n",
    "urvalsstorlek": "n",
    "stderror": "std_error",
    "standarderror": "std_error",
    "se": "std_error",
    "medelfel": "std_error",
    "standardfel": "std_error",
}

_PARENTHESISED = re.compile(r"\(.*?\)|\[.*?\]")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def _header_key(text: str) -> str:
    # "Värde (SEK) *" and "VARDE" both become "varde": users add units, stars and capitals.
    text = _PARENTHESISED.sub("", text)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", stripped)


def canonical_column(header: str | None) -> str | None:
    """The canonical column a header cell names, or None when it names none (a context column)."""
    if header is None:
        return None
    return _ALIASES.get(_header_key(header))


def map_header(cells: Sequence[str | None]) -> dict[int, str]:
    """Position → canonical column for the recognised cells of a header row (first one wins)."""
    mapping: dict[int, str] = {}
    for position, cell in enumerate(cells):
        column = canonical_column(cell)
        if column is not None and column not in mapping.values():
            mapping[position] = column
    return mapping


def duplicate_columns(cells: Sequence[str | None]) -> list[str]:
    """Canonical columns named more than once in a header row."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for cell in cells:
        column = canonical_column(cell)
        if column is None:
            continue
        if column in seen and column not in duplicates:
            duplicates.append(column)
        seen.add(column)
    return duplicates


def looks_like_header(cells: Sequence[str | None]) -> bool:
    """True when a row names at least two of the required columns (how the data sheet is found)."""
    found = {canonical_column(cell) for cell in cells}
    return len(found.intersection(REQUIRED_COLUMNS)) >= 2
