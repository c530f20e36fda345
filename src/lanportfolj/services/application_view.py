"""The application as a reader sees it: every text, the target group, goals, indicators and budget.

One plain structure, built from ``services.loans.loan_detail``, for the read-only view on the assessment
page, the application page, the loan page and the printable committee summary. Labels are the English
message ids the case form already uses (the template translates them), so the view and the form name
each part alike.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from lanportfolj.domain.categories import (
    ICMA_CATEGORIES,
    PROGRAMME_CATEGORIES,
    TARGET_POPULATIONS,
    label,
)

#: The case texts in the order the form asks for them: (section title, [(field, label)]).
TEXT_SECTIONS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "The five questions",
        (
            ("social_need", "1. The social need"),
            ("interventions", "3. The interventions"),
            ("change_for_target_group", "4. The change for the target group"),
            ("future_state", "5. The future state the investment contributes to"),
        ),
    ),
    (
        "The loan",
        (
            ("physical_investment", "The physical investment"),
            ("social_intervention", "The social intervention"),
        ),
    ),
    (
        "Why it will work",
        (
            ("intervention_logic", "Intervention logic"),
            ("systematic_work_ref", "Part of your systematic social-sustainability work"),
            ("developed_practice", "Developed practice, innovation or higher quality"),
        ),
    ),
    (
        "Evaluation plan",
        (
            ("evaluation_plan", "How the results will be evaluated"),
            ("comparison_group", "Comparison group"),
        ),
    ),
)

TARGET_GROUP_FIELDS: tuple[tuple[str, str], ...] = (
    ("target_group_who", "2. Target group: who"),
    ("target_group_where", "Target group: where"),
    ("target_group_attributes", "Target group: which attributes"),
)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def financed_share(amount: Any, total_project_cost: Any) -> Decimal | None:
    """The loan's share of the project's cost in per cent (one decimal), or None when either is missing."""
    loan, total = _decimal(amount), _decimal(total_project_cost)
    if loan is None or total is None or total <= 0:
        return None
    return round(loan / total * 100, 1)


def application_view(detail: dict[str, Any], lang: str) -> dict[str, Any]:
    """The read-only application: texts per section (blank ones flagged), target group, goals with the
    names of the indicators that measure them, indicators with baseline and target, and the budget."""
    case = detail["case"]
    names = {
        ind["code"]: (ind["name_sv"] if lang == "sv" else ind["name_en"]) or ind["code"]
        for ind in detail["indicators"]
    }
    sections = [
        {
            "title": title,
            "texts": [
                {"field": field, "label": text_label, "text": (case.get(field) or "").strip()}
                for field, text_label in fields
            ],
        }
        for title, fields in TEXT_SECTIONS
    ]
    base_rate = case.get("outcome_base_rate")
    return {
        "reference": detail["reference"],
        "title": detail["title"],
        "borrower": detail["borrower"],
        "status": detail["status"],
        "sections": sections,
        "target_group": {
            "texts": [
                {"field": field, "label": text_label, "text": (case.get(field) or "").strip()}
                for field, text_label in TARGET_GROUP_FIELDS
            ],
            "populations": [
                label(TARGET_POPULATIONS, key, lang) for key in detail["target_populations"] or []
            ],
        },
        "goals": [
            {
                "position": goal["position"],
                "text": goal["text"],
                "indicators": [names.get(code, code) for code in goal["indicators"]],
                "target_value": goal["target_value"],
                "target_year": goal["target_year"],
            }
            for goal in detail["goals"]
        ],
        "indicators": [
            {
                "code": ind["code"],
                "name": names[ind["code"]],
                "unit": ind["unit"],
                "kind": ind["kind"],
                "own": ind["own"],
                "direction": ind["direction"],
                "baseline": ind["baseline"],
                "target": ind["target"],
                "data_source": ind["data_source"] or "",
            }
            for ind in detail["indicators"]
        ],
        "budget": {
            "amount": detail["amount"],
            "total_project_cost": detail["total_project_cost"],
            "financed_share": financed_share(detail["amount"], detail["total_project_cost"]),
            "margin_bp": detail["margin_bp"],
            "discount_bp": detail["discount_bp"],
            "application_date": detail["application_date"],
            "disbursement_date": detail["disbursement_date"],
            "maturity_date": detail["maturity_date"],
        },
        "categories": {
            "programme": label(PROGRAMME_CATEGORIES, detail["programme_category"], lang)
            if detail["programme_category"]
            else "",
            "icma": label(ICMA_CATEGORIES, detail["icma_category"], lang)
            if detail["icma_category"]
            else "",
            "investment_type": detail["investment_type"] or "",
            "sdgs": list(detail["sdgs"] or []),
        },
        "evaluation": {
            "planned_sample_per_arm": case.get("planned_sample_per_arm"),
            "outcome_base_rate": None if base_rate is None else Decimal(str(base_rate)) * 100,
            "follow_up_until_year": case.get("follow_up_until_year"),
        },
    }
