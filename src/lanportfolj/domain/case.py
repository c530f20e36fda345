"""A loan application ("the case") as plain data: what the eligibility rules and SMART hints read.

Built by the services from stored rows, or directly in tests; no database or HTTP types here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class IndicatorUse:
    """A loan's use of one indicator, with its baseline and target."""

    code: str
    kind: str  # "output" | "outcome"
    unit: str = ""
    data_source: str = ""
    baseline_value: Decimal | None = None
    baseline_year: int | None = None
    target_value: Decimal | None = None
    target_year: int | None = None
    #: The indicator's names, for the reasons a borrower reads ("" = show the code).
    name_sv: str = ""
    name_en: str = ""


@dataclass(frozen=True)
class GoalCase:
    """One goal of the application; measured by the loan indicators named in ``indicator_codes``."""

    text: str
    indicator_codes: tuple[str, ...] = ()
    target_value: Decimal | None = None
    target_year: int | None = None


@dataclass(frozen=True)
class Case:
    """Everything the lender's rules look at in an application."""

    reference: str
    borrower_name: str = ""
    borrower_kind: str = "municipality"
    borrower_member: bool = False
    #: For companies: is the owning municipality or region a member of the lender?
    owner_member: bool | None = None
    investment_type: str = ""
    programme_category: str = ""
    icma_category: str = ""
    social_need: str = ""
    target_group_who: str = ""
    target_group_where: str = ""
    target_group_attributes: str = ""
    interventions: str = ""
    change_for_target_group: str = ""
    future_state: str = ""
    physical_investment: str = ""
    social_intervention: str = ""
    intervention_logic: str = ""
    systematic_work_ref: str = ""
    developed_practice: str = ""
    evaluation_plan: str = ""
    comparison_group: str = ""
    #: Planned participants per arm (intervention and comparison) for the power note of E12.
    planned_sample_per_arm: int | None = None
    #: Base rate of a binary outcome (e.g. 0.05 for out-of-home placements) for the power note.
    outcome_base_rate: float | None = None
    application_date: date | None = None
    disbursement_date: date | None = None
    maturity_date: date | None = None
    #: Last year the intervention and its follow-up run (inclusive); E8 measures from the application year.
    follow_up_until_year: int | None = None
    amount: Decimal | None = None
    goals: tuple[GoalCase, ...] = field(default_factory=tuple)
    indicators: tuple[IndicatorUse, ...] = field(default_factory=tuple)
