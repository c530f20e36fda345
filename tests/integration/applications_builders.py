"""Test builders for applications: a member borrower and a complete, eligible-once-judged case.

Shared by the service, API, CLI and web tests of the application flow (issue 4).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

from lanportfolj.models import Borrower

LONG = (
    "Many households in the area live in crowded, worn flats; residents report feeling unsafe "
    "outdoors after dark and the school results are well below the municipality's average."
)
LOGIC = (
    "Renovation with tenants staying in their homes keeps rents affordable, while safety walks and "
    "lighting reduce the places where crime happens; together they raise well-being and safety."
)


def make_borrower(
    session: Session,
    *,
    orgnr: str = "212000-0142",
    name: str = "Stockholms stad",
    member: bool = True,
    kind: str = "municipality",
) -> Borrower:
    """A borrower row (a member municipality by default), flushed so it has an id."""
    borrower = Borrower(orgnr=orgnr, name=name, kind=kind, member=member)
    session.add(borrower)
    session.flush()
    return borrower


def complete_case(**overrides: Any) -> dict[str, Any]:
    """Typed values of an application that passes E1–E8 and leaves E9–E11 to judgement."""
    raw: dict[str, Any] = {
        "title": "Renovation with safety work in Alby",
        "amount": "3 800 000 000",
        "application_date": date(2023, 3, 1).isoformat(),
        "maturity_date": "2032-12-31",
        "margin_bp": "25",
        "programme_category": "housing",
        "icma_category": "affordable_housing",
        "investment_type": "social_linked_to_physical",
        "physical_investment": "Careful renovation of 1 200 flats in Alby",
        "social_intervention": "Safety walks with tenants and better lighting",
        "social_need": LONG,
        "target_group_who": "Tenants of the renovated buildings",
        "target_group_where": "Alby, Botkyrka",
        "target_group_attributes": "Low incomes, many children, crowded flats",
        "interventions": "Renovation, safety walks, lighting",
        "change_for_target_group": "Safer, affordable homes",
        "future_state": "A neighbourhood people choose to stay in",
        "intervention_logic": LOGIC,
        "systematic_work_ref": "Botkyrka's programme for social sustainability 2020-2030",
        "developed_practice": "Renovation with tenants staying, tried here for the first time at scale.",
        "evaluation_plan": "Yearly follow-up against Fittja as comparison area",
        "comparison_group": "Fittja",
        "follow_up_until_year": "2030",
        "indicators": [
            {
                "code": "dwellings_renovated",
                "baseline_value": "0",
                "baseline_year": "2022",
                "target_value": "1200",
                "target_year": "2030",
                "data_source": "Company records",
            },
            {
                "code": "reported_crimes",
                "baseline_value": "410",
                "baseline_year": "2022",
                "target_value": "300",
                "target_year": "2030",
                "data_source": "Police",
            },
        ],
        "goals": [
            {
                "text": "Renovate 1 200 flats by 2030",
                "indicators": ["dwellings_renovated"],
                "target_value": "1200",
                "target_year": "2030",
            },
            {"text": "Fewer reported crimes", "indicators": "reported_crimes"},
        ],
    }
    raw.update(overrides)
    return raw
