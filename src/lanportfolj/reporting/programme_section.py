"""The report's programme section (issue 17): every bond on the pool, the allocation per bond, the
pool, headroom, ratio, the dated "bonds outstanding ≤ eligible pool" test, the loans that left the
pool and the matured loans still active.

``section`` turns ``services.programme.view_dict`` into the frozen section (the bond the report is
about marked, warnings in both languages); ``section_html`` renders it, and returns "" for a report
frozen before the section existed, so older reports still render.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lanportfolj.reporting.html import build_environment, format_number

BASIS = {
    "sv": "Alla belopp jämförs i SEK på utestående belopp, obligationerna till daterade kurser ur "
    "valutatabellen. En obligations andel är dess nominella belopp delat med poolen; överstiger "
    "obligationerna poolen begränsas andelarna tillsammans till 100 %. Allokerat = andel × pool, "
    "avrundat nedåt, så obligationerna tillsammans aldrig allokerar mer än poolen.",
    "en": "Every amount is compared in SEK on outstanding amounts, the bonds at dated rates from the "
    "FX table. A bond's share is its nominal divided by the pool; when the bonds exceed the pool the "
    "shares together are capped at 100 %. Allocated = share × pool, rounded down, so the bonds "
    "together never allocate more than the pool.",
}


def _messages(view: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    if not view["within_pool"]:
        out.append(
            {
                "code": "bonds_exceed_pool",
                "message_sv": f"Utestående obligationer ({view['bonds_outstanding_sek']} SEK) "
                f"överstiger den stödberättigade poolen ({view['pool_sek']} SEK) per "
                f"{view['as_of']}.",
                "message_en": f"The bonds outstanding ({view['bonds_outstanding_sek']} SEK) exceed "
                f"the eligible pool ({view['pool_sek']} SEK) as of {view['as_of']}.",
            }
        )
    for loan in view["matured_active"]:
        out.append(
            {
                "code": "matured_but_active",
                "message_sv": f"Lånet {loan['loan']} förföll {loan['maturity_date']} men är "
                "fortfarande aktivt i poolen.",
                "message_en": f"Loan {loan['loan']} matured on {loan['maturity_date']} but is "
                "still active in the pool.",
            }
        )
    for gap in view["missing_rates"]:
        out.append(
            {
                "code": "fx_missing_for_test",
                "message_sv": f"Ingen kurs för {gap['currency']} per {gap['date']}: testet den "
                "dagen är inte gjort.",
                "message_en": f"No {gap['currency']} rate for {gap['date']}: the test of that "
                "day is not made.",
            }
        )
    return out


def section(view: dict[str, Any], isin: str) -> dict[str, Any]:
    """The frozen programme section for the report of bond ``isin``."""
    bonds = [{**bond, "this_bond": bond["isin"] == isin} for bond in view["bonds"]]
    return {
        "available": True,
        "as_of": view["as_of"],
        "basis": dict(BASIS),
        "pool_sek": view["pool_sek"],
        "bonds_outstanding_sek": view["bonds_outstanding_sek"],
        "allocated_sek": view["allocated_sek"],
        "unallocated_sek": view["unallocated_sek"],
        "headroom_sek": view["headroom_sek"],
        "ratio": view["ratio"],
        "capped": view["capped"],
        "within_pool": view["within_pool"],
        "bonds": bonds,
        "history": view["history"],
        "missing_rates": view["missing_rates"],
        "left_pool": view["left_pool"],
        "matured_active": view["matured_active"],
        "lookback_cutoff": view["lookback_cutoff"],
        "vintage": view["vintage"],
        "messages": _messages(view),
    }


def unavailable(message_sv: str, message_en: str) -> dict[str, Any]:
    """The section when the programme cannot be computed (a bond without a stored rate)."""
    return {"available": False, "note": {"sv": message_sv, "en": message_en}}


def _money(value: str | None, lang: str) -> str:
    return "–" if value is None else format_number(Decimal(value), 2, lang)


def _share(value: str | None, lang: str) -> str:
    if value is None:
        return "–"
    return format_number(Decimal(value) * 100, 2, lang) + "\u00a0%"


def section_html(data: dict[str, Any], lang: str) -> str:
    """The programme section as HTML ("" for a report frozen without one)."""
    programme = data.get("programme")
    if not programme:
        return ""
    return (
        build_environment()
        .get_template("report/_programme.html")
        .render(
            programme=programme,
            lang=lang,
            money=lambda v: _money(v, lang),
            share=lambda v: _share(v, lang),
        )
    )
