"""What changed between two versions of the report for the same date (a revised report lists it).

Compared: the allocation's key figures, and each loan's latest value per indicator. Each change is one
row with its text in both languages, formatted for display (``reporting.display``); the exact values
are in both versions' JSON.
"""

from __future__ import annotations

from typing import Any, Final

from lanportfolj.reporting import display

#: allocation.summary keys compared: (key, label sv, label en, kind)
_SUMMARY: Final = (
    ("allocated", "Allokerat", "Allocated", "money"),
    ("unallocated", "Ej allokerat", "Unallocated", "money"),
    ("loan_count", "Antal lån", "Loans", "count"),
    ("borrower_count", "Antal låntagare", "Borrowers", "count"),
)


def _text(value: Any, kind: str, unit: str | None, currency: str, lang: str) -> str:
    if value is None:
        return "–"
    if kind == "money":
        return display.money(value, currency, lang)
    if kind == "count":
        return display.count(value, lang)
    return display.in_unit(value, unit, lang)


def _row(
    what: tuple[str, str], old: Any, new: Any, kind: str, unit: str | None, currency: str
) -> dict[str, str]:
    out = {"what_sv": what[0], "what_en": what[1]}
    for lang in ("sv", "en"):
        out[f"old_{lang}"] = _text(old, kind, unit, currency, lang)
        out[f"new_{lang}"] = _text(new, kind, unit, currency, lang)
    return out


def _latest(data: dict[str, Any]) -> dict[tuple[str, str], tuple[Any, Any]]:
    return {
        (row["loan"], row["indicator"]): (row["latest_year"], row["latest_value"])
        for row in data["impact"]["per_loan"]
    }


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, str]]:
    """The differences from ``old`` to ``new`` (two report dicts of the same bond and date)."""
    currency = new["bond"]["currency"]
    out = []
    for key, sv, en, kind in _SUMMARY:
        before = old["allocation"]["summary"].get(key)
        after = new["allocation"]["summary"].get(key)
        if str(before) != str(after):
            out.append(_row((sv, en), before, after, kind, None, currency))
    names = {
        row["code"]: (row["name_sv"] or row["code"], row["name_en"] or row["code"], row["unit"])
        for source in (old, new)
        for row in source["impact"]["indicators"]
    }
    before_values, after_values = _latest(old), _latest(new)
    for key in sorted(set(before_values) | set(after_values)):
        before = before_values.get(key, (None, None))
        after = after_values.get(key, (None, None))
        if before == after:
            continue
        loan, code = key
        name_sv, name_en, unit = names.get(code, (code, code, None))
        year = after[0] if after[0] is not None else before[0]
        what = (f"{loan}: {name_sv} ({year})", f"{loan}: {name_en} ({year})")
        out.append(_row(what, before[1], after[1], "value", unit, currency))
    return out
