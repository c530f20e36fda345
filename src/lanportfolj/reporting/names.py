"""The names the report's codes stand for, in Swedish and English.

The JSON keeps the codes; the workbook shows the name with the code in its own column, the register
and the PDF show names. Unknown codes are shown as they are, so nothing renders blank.
"""

from __future__ import annotations

from typing import Any, Final

from lanportfolj.domain.categories import ICMA_CATEGORIES, PROGRAMME_CATEGORIES

LOAN_STATUSES: Final[dict[str, dict[str, str]]] = {
    "draft": {"sv": "Utkast", "en": "Draft"},
    "submitted": {"sv": "Inskickad", "en": "Submitted"},
    "under_review": {"sv": "Under granskning", "en": "Under review"},
    "approved": {"sv": "Godkänd", "en": "Approved"},
    "rejected": {"sv": "Avslagen", "en": "Rejected"},
    "active": {"sv": "Aktiv", "en": "Active"},
    "repaid": {"sv": "Återbetald", "en": "Repaid"},
}

FUNDING: Final[dict[str, dict[str, str]]] = {
    "financing": {"sv": "Finansiering", "en": "Financing"},
    "refinancing": {"sv": "Refinansiering", "en": "Refinancing"},
}

AGGREGATIONS: Final[dict[str, dict[str, str]]] = {
    "sum": {"sv": "Summerbart flöde", "en": "Additive flow"},
    "latest": {"sv": "Summerbar stock (senaste värde)", "en": "Additive stock (latest value)"},
    "ratio": {"sv": "Kvot (täljare ÷ nämnare)", "en": "Ratio (numerator ÷ denominator)"},
    "none": {"sv": "Ej summerbar (per projekt)", "en": "Not additive (per project)"},
}

SCOPES: Final[dict[str, dict[str, str]]] = {
    "whole_project": {"sv": "Hela projektet", "en": "Whole project"},
    "financed_share": {"sv": "Finansierad andel", "en": "Financed share"},
}

#: The vocabulary of each code column the report shows, by the column's key.
BY_COLUMN: Final[dict[str, dict[str, dict[str, str]]]] = {
    "programme_category": PROGRAMME_CATEGORIES,
    "icma_category": ICMA_CATEGORIES,
    "status": LOAN_STATUSES,
    "funding": FUNDING,
    "aggregation": AGGREGATIONS,
    "scope": SCOPES,
}


def name(vocabulary: dict[str, dict[str, str]], code: str | None, lang: str) -> str | None:
    """The name of ``code`` in ``lang``; the code itself when unknown, None for None."""
    if code is None:
        return None
    entry = vocabulary.get(code)
    if entry is None:
        return code
    return entry.get(lang) or entry.get("en") or code


def indicator_vocabulary(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Every indicator of the report as ``{code: {"sv": name, "en": name}}``."""
    return {
        row["code"]: {
            "sv": row.get("name_sv") or row["code"],
            "en": row.get("name_en") or row["code"],
        }
        for row in data["impact"]["indicators"]
    }


def indicator_units(data: dict[str, Any]) -> dict[str, str]:
    """Every indicator's unit by code ("" when it has none)."""
    return {row["code"]: row.get("unit") or "" for row in data["impact"]["indicators"]}


def vocabularies(data: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """``BY_COLUMN`` with the report's indicators (columns ``indicator`` and ``code``)."""
    indicators = indicator_vocabulary(data)
    return {**BY_COLUMN, "indicator": indicators, "loan_indicator": indicators}
