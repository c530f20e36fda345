"""Every field error of the application form, through the service the form and ``PATCH /api/loans/{ref}``
call: each bad value comes back as one error naming its field, in Swedish and English, and the stored
application keeps what it had for that field (what was typed elsewhere is still saved)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from applications_builders import complete_case, make_borrower
from sqlmodel import Session

from lanportfolj.models import Loan
from lanportfolj.services import applications as apps
from lanportfolj.services.applications import FieldError
from lanportfolj.services.loans import get_loan, loan_detail

pytestmark = pytest.mark.integration

BORROWER = "borrower@stockholm.se"


def _not_number(raw: str) -> tuple[str, str]:
    return (
        f"'{raw}' är inget tal; skriv t.ex. 3 800 000 eller 16,5.",
        f"'{raw}' is not a number; write e.g. 3800000 or 16.5.",
    )


def _not_year(raw: str) -> tuple[str, str]:
    return (
        f"'{raw}' är inget årtal; skriv fyra siffror, t.ex. 2030.",
        f"'{raw}' is not a year; write four digits, e.g. 2030.",
    )


def _not_date(raw: str) -> tuple[str, str]:
    return (
        f"'{raw}' är inget datum; skriv ÅÅÅÅ-MM-DD.",
        f"'{raw}' is not a date; write YYYY-MM-DD.",
    )


def _not_choice(raw: str, allowed: str) -> tuple[str, str]:
    return (
        f"'{raw}' är inget giltigt val; välj bland {allowed}.",
        f"'{raw}' is not a valid choice; choose one of {allowed}.",
    )


def _not_count(raw: str) -> tuple[str, str]:
    return (
        f"'{raw}' är inget antal; ange ett heltal, t.ex. 120.",
        f"'{raw}' is not a count; give a whole number, e.g. 120.",
    )


NEGATIVE = ("Beloppet kan inte vara negativt.", "The amount cannot be negative.")
BASE_RATE = (
    "Basnivån är en andel mellan 0 och 100 %, t.ex. 5 %.",
    "The base rate is a share between 0 and 100 %, e.g. 5 %.",
)
TITLE = ("Ange en rubrik för ansökan.", "Enter a title for the application.")
ICMA = (
    "affordable_basic_infrastructure, access_to_essential_services, affordable_housing, "
    "employment_generation, food_security, socioeconomic_advancement"
)

#: (field, typed value, Swedish message, English message)
LOAN_FIELD_ERRORS: list[tuple[str, Any, str, str]] = [
    ("title", "", *TITLE),
    ("title", "   ", *TITLE),
    ("title", None, *TITLE),
    ("amount", "lots", *_not_number("lots")),
    ("amount", "1,2,3", *_not_number("1,2,3")),
    ("amount", "NaN", *_not_number("NaN")),
    ("amount", True, *_not_number("True")),
    ("amount", "-5", *NEGATIVE),
    ("amount", "-0,01", *NEGATIVE),
    ("total_project_cost", "Infinity", *_not_number("Infinity")),
    ("total_project_cost", "-1 000", *NEGATIVE),
    ("margin_bp", "tjugo", *_not_number("tjugo")),
    ("margin_bp", "-0,5", *NEGATIVE),
    ("application_date", "2023-02-30", *_not_date("2023-02-30")),
    ("disbursement_date", "1/3/2024", *_not_date("1/3/2024")),
    ("maturity_date", "snart", *_not_date("snart")),
    ("follow_up_until_year", "20x0", *_not_year("20x0")),
    ("follow_up_until_year", "203", *_not_year("203")),
    ("follow_up_until_year", True, *_not_year("True")),
    ("programme_category", "parks", *_not_choice("parks", "housing, safety, health_education")),
    ("icma_category", "green_bonds", *_not_choice("green_bonds", ICMA)),
    (
        "investment_type",
        "running",
        *_not_choice("running", "physical, social_linked_to_physical, running_costs"),
    ),
    (
        "target_populations",
        "children_families, martians, pirates",
        "Okänd målgrupp: martians, pirates.",
        "Unknown target population: martians, pirates.",
    ),
    ("planned_sample_per_arm", "0", *_not_count("0")),
    ("planned_sample_per_arm", "12.5", *_not_count("12.5")),
    ("planned_sample_per_arm", "många", *_not_count("många")),
    ("outcome_base_rate", "abc", *_not_number("abc")),
    ("outcome_base_rate", "0", *BASE_RATE),
    ("outcome_base_rate", "100 %", *BASE_RATE),
    ("outcome_base_rate", "150", *BASE_RATE),
    ("outcome_base_rate", "-5 %", *BASE_RATE),
]


def _draft(session: Session) -> Loan:
    borrower = make_borrower(session)
    loan, errors = apps.create_application(
        session=session,
        borrower_id=borrower.id,
        actor=BORROWER,
        raw=complete_case(outcome_base_rate="5 %", planned_sample_per_arm="120"),
        today=date(2023, 3, 1),
    )
    assert errors == []
    return loan


@pytest.mark.parametrize(("field", "raw", "sv", "en"), LOAN_FIELD_ERRORS)
def test_a_bad_value_is_named_in_both_languages_and_the_stored_value_stays(
    session: Session, field: str, raw: Any, sv: str, en: str
) -> None:
    loan = _draft(session)
    before = getattr(get_loan(session, loan.reference), field)
    errors = apps.update_application(
        session=session,
        loan=loan,
        raw={field: raw, "comparison_group": "Fittja and Hallunda"},
        actor=BORROWER,
    )
    assert errors == [FieldError(field, sv, en)]
    assert errors[0].to_dict() == {"field": field, "message_sv": sv, "message_en": en}
    stored = get_loan(session, loan.reference)
    assert getattr(stored, field) == before
    # the other value typed in the same save is kept
    assert stored.comparison_group == "Fittja and Hallunda"


@pytest.mark.parametrize(
    ("field", "raw", "stored"),
    [
        ("amount", "3 800 000", Decimal("3800000")),
        ("amount", "16,5", Decimal("16.5")),
        ("amount", "0", Decimal("0")),
        ("amount", "", Decimal("0")),
        ("total_project_cost", "", None),
        ("margin_bp", "0", Decimal("0")),
        ("follow_up_until_year", "2031", 2031),
        ("planned_sample_per_arm", "1", 1),
        ("outcome_base_rate", "5 %", 0.05),
        ("outcome_base_rate", "0,25", 0.25),
        ("outcome_base_rate", "99", 0.99),
        ("target_populations", "children_families; unemployed children_families", ["children_families", "unemployed"]),
    ],
)  # fmt: skip
def test_values_on_the_edge_of_each_rule_are_accepted(
    session: Session, field: str, raw: str, stored: Any
) -> None:
    loan = _draft(session)
    assert (
        apps.update_application(session=session, loan=loan, raw={field: raw}, actor=BORROWER) == []
    )
    assert getattr(get_loan(session, loan.reference), field) == stored


INDICATOR = {
    "code": "dwellings_renovated",
    "baseline_value": "0",
    "baseline_year": "2022",
    "target_value": "1200",
    "target_year": "2030",
    "data_source": "Company records",
}
OWN = {"code": "homework_club_visits", "baseline_value": "0", "baseline_year": "2022"}


def _own_is_unknown(code: str) -> FieldError:
    return FieldError(
        "indicators.0.code",
        f"'{code}' finns inte i indikatorbiblioteket; ange namn, enhet och typ för att definiera en "
        "egen indikator.",
        f"'{code}' is not in the indicator library; give a name, unit and kind to define your own "
        "indicator.",
    )


#: (the indicators typed, the errors expected)
INDICATOR_ERRORS: list[tuple[list[dict[str, str]], list[FieldError]]] = [
    ([INDICATOR | {"baseline_value": "noll"}], [FieldError("indicators.0.baseline_value", *_not_number("noll"))]),
    ([INDICATOR | {"baseline_year": "22"}], [FieldError("indicators.0.baseline_year", *_not_year("22"))]),
    ([INDICATOR | {"target_value": "x"}], [FieldError("indicators.0.target_value", *_not_number("x"))]),
    ([INDICATOR | {"target_year": "2030a"}], [FieldError("indicators.0.target_year", *_not_year("2030a"))]),
    (
        [INDICATOR | {"code": " "}],
        [FieldError("indicators.0.code", "Ange indikatorns kod (från biblioteket eller en egen).",
                    "Enter the indicator's code (from the library or your own).")],
    ),
    (
        [INDICATOR | {"target_year": "2020"}],
        [FieldError("indicators.0.target_year", "Målåret 2020 ligger före utgångsvärdets år 2022.",
                    "The target year 2020 is before the baseline year 2022.")],
    ),
    (
        [INDICATOR, INDICATOR],
        [FieldError("indicators.1.code", "Indikatorn dwellings_renovated finns redan på ansökan.",
                    "The indicator dwellings_renovated is already on the application.")],
    ),
    (
        [OWN],
        [
            _own_is_unknown("homework_club_visits"),
            FieldError("indicators.0.name", "Ange indikatorns namn.", "Enter the indicator's name."),
            FieldError("indicators.0.unit", "Ange enhet.", "Enter the unit."),
            FieldError("indicators.0.kind", "Välj typ: prestation eller effekt.",
                       "Choose the kind: output or outcome."),
        ],
    ),
    (
        [OWN | {"name": "Visits", "unit": "visits", "kind": "output", "direction": "better",
                "aggregation": "ratio"}],
        [
            _own_is_unknown("homework_club_visits"),
            FieldError("indicators.0.direction", "Välj riktning: ökning eller minskning är bättre.",
                       "Choose the direction: increase or decrease is better."),
            FieldError("indicators.0.aggregation",
                       "Välj summering: summa (flöden), senaste (bestånd) eller ingen (index).",
                       "Choose the aggregation: sum (flows), latest (stocks) or none (indexes)."),
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("typed", "expected"), INDICATOR_ERRORS)
def test_each_indicator_error_names_the_row_and_the_column(
    session: Session, typed: list[dict[str, str]], expected: list[FieldError]
) -> None:
    loan = _draft(session)
    errors = apps.update_application(
        session=session, loan=loan, raw={"indicators": typed, "goals": []}, actor=BORROWER
    )
    assert errors == expected


@pytest.mark.parametrize(
    ("goal", "expected"),
    [
        ({"text": "Safer", "target_value": "mycket"}, FieldError("goals.0.target_value", *_not_number("mycket"))),
        ({"text": "Safer", "target_year": "snart"}, FieldError("goals.0.target_year", *_not_year("snart"))),
        (
            {"text": "Safer", "indicators": ["dwellings_renovated", "not_on_the_loan"]},
            FieldError(
                "goals.0.indicators",
                "Mål 1: indikatorn not_on_the_loan finns inte på ansökan; lägg till den under "
                "indikatorer först.",
                "Goal 1: the indicator not_on_the_loan is not on the application; add it under "
                "indicators first.",
            ),
        ),
    ],
)  # fmt: skip
def test_each_goal_error_names_the_goal_and_the_column(
    session: Session, goal: dict[str, Any], expected: FieldError
) -> None:
    loan = _draft(session)
    errors = apps.update_application(
        session=session, loan=loan, raw={"goals": [goal]}, actor=BORROWER
    )
    assert errors == [expected]
    # the goal is kept with what could be read
    assert [g["text"] for g in loan_detail(session, loan.reference)["goals"]] == ["Safer"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            {"maturity_date": "2023-03-01"},
            [FieldError("maturity_date", "Förfallodagen 2023-03-01 måste ligga efter ansökningsdatumet 2023-03-01.",
                        "The maturity date 2023-03-01 must be after the application date 2023-03-01.")],
        ),
        (
            {"disbursement_date": "2030-01-01", "maturity_date": "2029-12-31"},
            [FieldError("maturity_date", "Förfallodagen 2029-12-31 måste ligga efter utbetalningsdagen 2030-01-01.",
                        "The maturity date 2029-12-31 must be after the disbursement date 2030-01-01.")],
        ),
        (
            {"follow_up_until_year": "2022"},
            [FieldError("follow_up_until_year", "Uppföljningen kan inte sluta före ansökningsåret.",
                        "The follow-up cannot end before the application year.")],
        ),
    ],
)  # fmt: skip
def test_contradictory_dates_are_kept_as_typed_and_flagged(
    session: Session, typed: dict[str, str], expected: list[FieldError]
) -> None:
    loan = _draft(session)
    assert (
        apps.update_application(session=session, loan=loan, raw=typed, actor=BORROWER) == expected
    )
    stored = get_loan(session, loan.reference)
    for name, value in typed.items():
        assert str(getattr(stored, name)) == value


def test_a_new_application_without_a_title_gets_a_placeholder_and_is_asked_for_one(
    session: Session,
) -> None:
    borrower = make_borrower(session)
    loan, errors = apps.create_application(
        session=session, borrower_id=borrower.id, actor=BORROWER, raw={}, today=date(2026, 5, 4)
    )
    assert errors == [FieldError("title", *TITLE)]
    assert (loan.reference, loan.title, loan.status) == (
        "SH-2026-001",
        "Ny ansökan SH-2026-001",
        "draft",
    )
