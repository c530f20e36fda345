"""Evaluation in the product: comparison sections with DiD, the power panel and SMART hints, as the
service returns them, as the partials render them and as the web page and its JSON show them."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar.testing import TestClient
from sqlmodel import Session, select

from lanportfolj.config import Settings
from lanportfolj.domain.case import Case
from lanportfolj.models import (
    Borrower,
    Goal,
    GoalIndicator,
    IndicatorDefinition,
    Loan,
    LoanIndicator,
    Measurement,
)
from lanportfolj.paths import templates_dir
from lanportfolj.services.evaluation import (
    LoanNotFound,
    comparison_chart_html,
    comparison_for_report,
    comparison_section,
    labels,
    power_panel,
    smart_panel,
)
from lanportfolj.services.users import create_user

pytestmark = pytest.mark.unit

REF = "SH-2023-901"
SCHOOL = "Jämförelseskola Norr"


def _indicator(session: Session, code: str) -> IndicatorDefinition:
    found = session.exec(
        select(IndicatorDefinition).where(
            IndicatorDefinition.code == code,
            IndicatorDefinition.loan_id == None,  # noqa: E711
        )
    ).one()
    return found


def make_school_loan(
    session: Session,
    *,
    reference: str = REF,
    treated: dict[int, str] | None = None,
    comparison: dict[str, dict[int, str]] | None = None,
    baseline: tuple[int, str] | None = (2022, "102"),
    disbursed: date | None = date(2023, 3, 1),
    code: str = "grade9_merit_value",
) -> Loan:
    """A school loan with one indicator reported for the intervention and comparison units.

    By default: the intervention 100 in 2021, the baseline 102 in 2022, then 110, 114; the
    comparison school 90, 92, 94, 96; the loan disbursed in 2023. Pre-period 2021–2022, post-period
    2023–2024, so the DiD is (112 − 101) − (95 − 91) = 7 and the 2×2 (baseline 2022 against 2024)
    is 12 − 4 = 8.
    """
    borrower = session.exec(select(Borrower).where(Borrower.orgnr == "212000-0142")).first()
    if borrower is None:
        borrower = Borrower(orgnr="212000-0142", name="Stockholms stad", kind="municipality")
        session.add(borrower)
        session.flush()
    assert borrower.id is not None
    loan = Loan(
        reference=reference,
        borrower_id=borrower.id,
        title="Uteklassrum vid en grundskola",
        amount=Decimal("12000000"),
        status="active",
        application_date=date(2022, 9, 1),
        disbursement_date=disbursed,
        maturity_date=date(2030, 12, 31),
    )
    session.add(loan)
    session.flush()
    assert loan.id is not None
    li = LoanIndicator(
        loan_id=loan.id,
        indicator_id=_indicator(session, code).id or 0,
        baseline_year=baseline[0] if baseline else None,
        baseline_value=Decimal(baseline[1]) if baseline else None,
        target_value=Decimal("120"),
        target_year=2027,
        data_source="Skolverket",
    )
    session.add(li)
    session.flush()
    assert li.id is not None
    treated = {2021: "100", 2023: "110", 2024: "114"} if treated is None else treated
    if comparison is None:
        comparison = {SCHOOL: {2021: "90", 2022: "92", 2023: "94", 2024: "96"}}
    for year, value in treated.items():
        session.add(Measurement(loan_indicator_id=li.id, year=year, value=Decimal(value)))
    for group, values in comparison.items():
        for year, value in values.items():
            session.add(
                Measurement(
                    loan_indicator_id=li.id, group_name=group, year=year, value=Decimal(value)
                )
            )
    session.commit()
    return loan


def _only(items: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(items) == 1
    return items[0]


# --- the comparison section ----------------------------------------------------------------------


def test_known_did_from_baseline_and_comparison_school(session: Session) -> None:
    make_school_loan(session)
    item = _only(comparison_section(session, loan_ref=REF, lang="en"))
    assert item["code"] == "grade9_merit_value"
    assert item["units"] == ["Intervention", SCHOOL]
    assert item["start_year"] == 2023
    assert item["start_rule"] == (
        "The intervention counts from 2023, the year after the baseline year 2022."
    )
    table = {row["year"]: [c["value"] for c in row["cells"]] for row in item["table"]["rows"]}
    assert table == {
        2021: ["100", "90"],
        2022: ["102", "92"],
        2023: ["110", "94"],
        2024: ["114", "96"],
    }
    # the baseline is the intervention's 2021 point, and marked as such
    assert [row["cells"][0]["baseline"] for row in item["table"]["rows"]] == [
        False,
        True,
        False,
        False,
    ]
    assert item["raw_change"]["value"] == "12"
    assert item["raw_change"]["from_year"] == 2022
    comparison = _only(item["comparisons"])
    multi = comparison["did_multi"]
    assert multi["estimate"] == pytest.approx(7.0)
    assert multi["pre_years"] == [2021, 2022]
    assert multi["post_years"] == [2023, 2024]
    assert multi["pre_trend_treated"] == pytest.approx(2.0)
    assert multi["pre_trend_comparison"] == pytest.approx(2.0)
    assert comparison["did_2x2"]["estimate"] == pytest.approx(8.0)
    assert multi["favourable"] is True
    assert "+7.00 points" in comparison["summary"]
    assert "desired direction" in comparison["summary"]
    # no counts or standard errors are reported: no interval, and the reader is told why
    assert multi["ci_low"] is None
    assert [w["code"] for w in comparison["warnings"]] == ["no_confidence_interval"]
    assert "parallel trends" in item["assumptions"]


def test_swedish_texts_use_decimal_comma_and_swedish_warnings(session: Session) -> None:
    make_school_loan(session)
    item = _only(comparison_section(session, loan_ref=REF, lang="sv"))
    comparison = item["comparisons"][0]
    assert item["units"][0] == "Insatsen"
    assert "+7,00 poäng" in comparison["summary"]
    assert comparison["warnings"][0]["message"].startswith("Standardfel eller antal saknas")
    assert comparison["warnings"][0]["message_en"].startswith("Standard errors")
    assert "parallella trender" in item["assumptions"]


def test_restated_values_use_the_current_version_only(session: Session) -> None:
    loan = make_school_loan(session)
    li = session.exec(select(LoanIndicator).where(LoanIndicator.loan_id == loan.id)).one()
    old = session.exec(
        select(Measurement).where(
            Measurement.loan_indicator_id == li.id,
            Measurement.group_name == "",
            Measurement.year == 2024,
        )
    ).one()
    old.is_current = False
    session.add(old)
    session.add(
        Measurement(loan_indicator_id=li.id or 0, year=2024, value=Decimal("118"), version=2)
    )
    session.commit()
    item = _only(comparison_section(session, loan_ref=REF, lang="en"))
    # (114 − 101) − (95 − 91) = 9 with the restated 118
    assert item["comparisons"][0]["did_multi"]["estimate"] == pytest.approx(9.0)


def test_diverging_pre_trends_and_a_single_pre_period_are_warned_about(session: Session) -> None:
    make_school_loan(
        session,
        baseline=(2021, "110"),
        treated={2019: "90", 2020: "100", 2022: "140"},
        comparison={SCHOOL: {2019: "100", 2020: "100", 2021: "100", 2022: "101"}},
        disbursed=date(2020, 1, 1),
        reference="SH-2023-902",
    )
    make_school_loan(
        session,
        baseline=None,
        treated={2021: "100", 2022: "102", 2023: "110"},
        disbursed=date(2022, 1, 1),
        reference="SH-2023-903",
    )
    diverging = _only(comparison_section(session, loan_ref="SH-2023-902", lang="en"))
    codes = [w["code"] for w in diverging["comparisons"][0]["warnings"]]
    assert "diverging_pre_trends" in codes
    single = _only(comparison_section(session, loan_ref="SH-2023-903", lang="en"))
    # no baseline: the disbursement year 2022 starts the intervention, only 2021 comes before
    assert single["start_year"] == 2022
    assert "single_pre_period" in [w["code"] for w in single["comparisons"][0]["warnings"]]


def test_each_comparison_unit_gets_its_own_did(session: Session) -> None:
    make_school_loan(
        session,
        comparison={
            SCHOOL: {2021: "90", 2022: "92", 2023: "94", 2024: "96"},
            "Jämförelseskola Syd": {2021: "80", 2022: "80", 2023: "80", 2024: "80"},
        },
    )
    item = _only(comparison_section(session, loan_ref=REF, lang="en"))
    by_unit = {c["unit"]: c["did_multi"]["estimate"] for c in item["comparisons"]}
    # Syd changed by 0, so its DiD is the intervention's raw change, 112 − 101 = 11
    assert by_unit == {"Jämförelseskola Syd": pytest.approx(11.0), SCHOOL: pytest.approx(7.0)}
    assert item["table"]["columns"] == ["Year", "Intervention", SCHOOL, "Jämförelseskola Syd"]


def test_loan_without_comparison_units_has_no_section(session: Session) -> None:
    make_school_loan(session, comparison={})
    assert comparison_section(session, loan_ref=REF) == []
    assert comparison_for_report(session, [REF]) == []


def test_unknown_loan_is_refused(session: Session) -> None:
    with pytest.raises(LoanNotFound):
        comparison_section(session, loan_ref="SH-0000-000")


def test_report_gets_the_sections_of_every_loan_with_a_comparison(session: Session) -> None:
    make_school_loan(session)
    make_school_loan(session, reference="SH-2023-904", comparison={})
    report = comparison_for_report(session, [REF, "SH-2023-904"], lang="en")
    assert [r["loan_ref"] for r in report] == [REF]
    assert report[0]["indicators"][0]["comparisons"][0]["did_multi"]["estimate"] == pytest.approx(
        7.0
    )


def test_chart_is_a_plotly_fragment_without_the_library(session: Session) -> None:
    make_school_loan(session)
    item = _only(comparison_section(session, loan_ref=REF, lang="en"))
    html = comparison_chart_html(item)
    assert "Plotly.newPlot" in html
    assert "Intervention" in html and "Norr" in html  # both lines (names JSON-escaped)
    assert "<script src" not in html and "<html" not in html


# --- power and SMART -----------------------------------------------------------------------------


def test_power_panel_for_40_families_and_a_5_percent_base_rate() -> None:
    case = Case(reference="X", planned_sample_per_arm=40, outcome_base_rate=0.05)
    panel = power_panel(case, lang="en")
    assert panel["available"] is True
    assert panel["message"].startswith("With 40 per group and a base rate of 5.0 %")
    assert panel["result"]["n_per_arm"] == 40
    codes = [note["code"] for note in panel["notes"]]
    # the article's point: with 40 per group not even a fall to zero would show
    assert codes == ["decrease_undetectable", "n_for_halving"]
    assert panel["n_needed_for_yardstick"] > 40
    common = power_panel(Case(reference="X", planned_sample_per_arm=60, outcome_base_rate=0.58))
    assert [note["code"] for note in common["notes"]] == ["n_for_ten_points"]
    sv = power_panel(case, lang="sv")
    assert sv["message"].startswith("Med 40 per grupp och basnivån 5,0 %")


def test_power_panel_says_what_is_missing() -> None:
    panel = power_panel(Case(reference="X", planned_sample_per_arm=40), lang="en")
    assert panel["available"] is False
    assert "no base rate" in panel["message"]


def test_smart_panel_names_the_goal_without_a_target_year(session: Session) -> None:
    loan = make_school_loan(session)
    li = session.exec(select(LoanIndicator).where(LoanIndicator.loan_id == loan.id)).one()
    li.target_year = None
    session.add(li)
    goal = Goal(loan_id=loan.id or 0, position=0, text="Högre meritvärde för eleverna i skolan")
    session.add(goal)
    session.flush()
    session.add(GoalIndicator(goal_id=goal.id or 0, loan_indicator_id=li.id or 0))
    session.commit()
    hints = smart_panel(session, REF, lang="en")
    assert [(h["goal_number"], h["code"]) for h in hints] == [(1, "goal_no_target_year")]
    assert hints[0]["message"] == "Goal 1 has no target year."
    assert hints[0]["criterion_name"] == "Time-bound"
    assert smart_panel(session, REF, lang="sv")[0]["message"] == "Mål 1 saknar målår."


# --- the web page and its JSON -------------------------------------------------------------------

PASSWORD = "a long enough password"


def _client(settings: Settings) -> TestClient[Any]:
    from lanportfolj.web import app as web_app
    from lanportfolj.web import evaluation as web_evaluation

    # the lead adds ROUTES to route_handlers(); until then the test adds them itself
    present = set(map(id, web_app.route_handlers()))
    extra = [h for h in web_evaluation.ROUTES if id(h) not in present]
    return TestClient(app=web_app.create_app(settings, extra_routes=extra))


def _sign_in(
    client: TestClient[Any], session: Session, *, role: str, borrower_id: int | None = None
) -> None:
    email = f"{role}-{borrower_id or 0}@example.se"
    create_user(session, email=email, role=role, password=PASSWORD, borrower_id=borrower_id)
    session.commit()
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": PASSWORD,
            "next": "/",
            "_csrf_token": client.cookies["csrftoken"],
        },
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_page_renders_the_comparison_in_both_languages(
    settings: Settings, session: Session
) -> None:
    make_school_loan(session)
    with _client(settings) as client:
        _sign_in(client, session, role="analyst")
        sv = client.get(f"/loans/{REF}/evaluation?lang=sv")
        assert sv.status_code == 200
        text = _text(sv.text)
        assert "Utvärdering" in text and "Jämförelsegrupper" in text
        assert "+7,00 poäng" in text
        assert "Plotly.newPlot" in sv.text
        assert re.search(r'src="/static/plotly\.min\.[0-9a-f]{12}\.js"', sv.text)  # fingerprinted
        en = client.get(f"/loans/{REF}/evaluation?lang=en")
        assert en.status_code == 200
        text = _text(en.text)
        assert "Evaluation" in text and "Difference-in-differences" in text
        assert "+7.00 points" in text
        assert "Statistical power" in text


def test_api_returns_the_same_data_as_json(settings: Settings, session: Session) -> None:
    make_school_loan(session)
    with _client(settings) as client:
        _sign_in(client, session, role="admin")
        response = client.get(f"/api/loans/{REF}/evaluation?lang=en")
        assert response.status_code == 200
        data = response.json()
        comparison = data["comparison"][0]["comparisons"][0]
        assert comparison["did_multi"]["estimate"] == pytest.approx(7.0)
        assert "chart_html" not in data["comparison"][0]
        assert data["power"]["available"] is False
        assert data["smart"] == [] or all("message" in h for h in data["smart"])
        assert client.get("/api/loans/SH-0000-000/evaluation").status_code == 404


def test_borrower_sees_own_loan_only_and_others_are_refused(
    settings: Settings, session: Session
) -> None:
    loan = make_school_loan(session)
    other = Borrower(orgnr="212000-1355", name="Örebro kommun", kind="municipality")
    session.add(other)
    session.commit()
    with _client(settings) as client:
        assert client.get(f"/api/loans/{REF}/evaluation").status_code == 401
        _sign_in(client, session, role="borrower", borrower_id=loan.borrower_id)
        assert client.get(f"/loans/{REF}/evaluation").status_code == 200
    with _client(settings) as client:
        _sign_in(client, session, role="borrower", borrower_id=other.id)
        # another organisation's loan: as if it did not exist
        assert client.get(f"/loans/{REF}/evaluation").status_code == 404
        assert client.get(f"/api/loans/{REF}/evaluation").status_code == 404
    with _client(settings) as client:
        _sign_in(client, session, role="investor")
        assert client.get(f"/api/loans/{REF}/evaluation").status_code == 403


def test_partials_render_from_the_dicts_alone(session: Session) -> None:
    """The bond report has its own strict Jinja environment without `_` or filters."""
    make_school_loan(session)
    env = Environment(
        loader=FileSystemLoader(templates_dir()), undefined=StrictUndefined, autoescape=True
    )
    comparison = comparison_section(session, loan_ref=REF, lang="en")
    html = env.get_template("evaluation/_comparison.html").render(comparison=comparison)
    assert "+7.00 points" in _text(html)
    panel = power_panel(Case(reference="X", planned_sample_per_arm=40, outcome_base_rate=0.05))
    html = env.get_template("evaluation/_power_panel.html").render(power=panel)
    assert "Med 40 per grupp" in html
    html = env.get_template("evaluation/_smart_hints.html").render(smart=[], labels=labels("en"))
    assert "No remarks" in html


# --- the demo's Örebro comparison ----------------------------------------------------------------

OREBRO = "SH-2024-002"


def test_demo_orebro_school_is_compared_with_the_comparison_school(demo_session: Session) -> None:
    items = {i["code"]: i for i in comparison_section(demo_session, loan_ref=OREBRO, lang="en")}
    # only the outcome indicators are reported for the comparison school
    assert set(items) == {"maths_science_pass_share", "grade9_merit_value"}
    share = items["maths_science_pass_share"]
    assert share["units"] == ["Intervention", "Jämförelseskola Väster"]
    did = share["comparisons"][0]["did_multi"]
    # (mean 2023–2025 − 2022) for the school minus the same for the comparison school
    expected = ((59.5 + 64.2 + 67.8) / 3 - 58.0) - ((60.2 + 61.5 + 62.0) / 3 - 61.0)
    assert did["estimate"] == pytest.approx(expected)
    assert "percentage points" in did["estimate_text"]
    # one pre-period year only: the reader is warned that parallel trends cannot be checked
    assert "single_pre_period" in [w["code"] for w in did["warnings"]]


def test_demo_orebro_in_the_report_data(demo_session: Session) -> None:
    from lanportfolj.models import BondPoolEntry

    pool = demo_session.exec(
        select(Loan.reference).join(BondPoolEntry, BondPoolEntry.loan_id == Loan.id)  # type: ignore[arg-type]
    ).all()
    report = comparison_for_report(demo_session, sorted(pool), lang="sv")
    assert [r["loan_ref"] for r in report] == [OREBRO]


def test_demo_orebro_page_shows_the_did_in_both_languages(
    demo_settings: Settings, demo_session: Session
) -> None:
    with _client(demo_settings) as client:
        _sign_in(client, demo_session, role="analyst")
        sv = _text(client.get(f"/loans/{OREBRO}/evaluation?lang=sv").text)
        assert "Skillnad-i-skillnader · Jämfört med Jämförelseskola Väster" in sv
        assert "+5,60 procentenheter" in sv
        assert "Med 60 per grupp och basnivån 58,0 %" in sv
        en = _text(client.get(f"/loans/{OREBRO}/evaluation?lang=en").text)
        assert "+5.60 percentage points" in en
        assert "Only one year before the intervention" in en


def test_the_loan_page_shows_the_comparison_school_with_its_did(demo_settings) -> None:
    """The demo's Örebro loan page carries the comparison section (issue 7), in both languages."""
    from litestar.testing import TestClient

    from lanportfolj.db import make_engine, session_scope
    from lanportfolj.services import users
    from lanportfolj.web.app import create_app

    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        users.ensure_demo_users(db)
    with TestClient(create_app(demo_settings, engine=engine)) as client:
        client.get("/login")
        client.post(
            "/login",
            data={
                "email": "analys@demo.lanportfolj.se",
                "password": "demo-lanportfolj",
                "next": "/",
                "_csrf_token": client.cookies.get("csrftoken", ""),
            },
        )
        english = client.get("/loans/SH-2024-002?lang=en")
        swedish = client.get("/loans/SH-2024-002?lang=sv")
    engine.dispose()
    assert english.status_code == 200
    assert 'id="comparison"' in english.text
    assert "Jämförelseskola Väster" in english.text
    assert "Comparison groups" in english.text
    assert "Jämförelsegrupper" in swedish.text
    assert 'class="did-estimate"' in english.text
