"""The demo's outdoor-pedagogy school (SH-2024-002) after ``demo load``: its DiD against the
comparison school has an interval from the pupils counted, and Örebro's Kolada history gives a
DiD against six similar municipalities with a placebo test, an event study and a pre-trend test."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
import statsmodels.formula.api as smf
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from lanportfolj.cli.portfolio import load_demo_kolada
from lanportfolj.config import Settings
from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.services import users
from lanportfolj.services.evaluation import comparison_section
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration

OREBRO = "SH-2024-002"
SIMILAR = {"Västerås", "Linköping", "Jönköping", "Eskilstuna", "Gävle", "Norrköping"}


@pytest.fixture
def demo(demo_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(demo_settings)
    load_demo_kolada(engine=engine, settings=demo_settings, current_year=2026)
    yield engine
    engine.dispose()


def _items(engine: Engine, lang: str = "en") -> dict[str, dict[str, Any]]:
    with Session(engine) as session:
        return {i["code"]: i for i in comparison_section(session, loan_ref=OREBRO, lang=lang)}


def test_history_before_the_baseline_is_stored_for_each_municipality(demo: Engine) -> None:
    with Session(demo) as session:
        rows = session.exec(
            select(Measurement.group_name, Measurement.year)
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
            .where(Loan.reference == OREBRO, col(Measurement.history))
        ).all()
    units = {g for g, _ in rows}
    assert units == {"Örebro", *SIMILAR, "Liknande kommuner (medel)"}
    assert {y for _, y in rows} == set(range(2015, 2022))


def test_the_school_against_the_comparison_school_has_an_interval_from_the_counts(
    demo: Engine,
) -> None:
    share = _items(demo)["maths_science_pass_share"]
    (c,) = share["comparisons"]
    assert c["did_multi"]["estimate"] == pytest.approx(5.6, abs=0.005)
    model = c["model"]
    assert model["se_method"] == "sampling"
    # 57–66 pupils a school and year: the binomial error of each share is about 6 points
    assert model["ci_low"] < 0 < model["ci_high"]
    assert model["ci_high"] - model["ci_low"] > 30
    assert c["did_multi"]["ci_text"].startswith("95%: ")
    assert "Confidence interval 95%" in c["summary"]


def _reference(engine: Engine) -> Any:
    """statsmodels on the stored values: Örebro against the six municipalities, unit and year
    effects, errors clustered by municipality."""
    with Session(engine) as session:
        rows = session.exec(
            select(Measurement.group_name, Measurement.year, Measurement.value)
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .join(
                IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id)
            )
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
            .where(
                Loan.reference == OREBRO,
                IndicatorDefinition.code == "grade9_merit_value",
                col(Measurement.group_name).in_(["Örebro", *SIMILAR]),
                col(Measurement.is_current),
            )
        ).all()
    frame = pd.DataFrame([(g, y, float(v)) for g, y, v in rows], columns=["unit", "year", "y"])
    frame["d"] = ((frame.unit == "Örebro") & (frame.year >= 2023)).astype(float)
    return smf.ols("y ~ C(unit) + C(year) + d", frame).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["unit"])[0]}, use_t=True
    )


def test_orebro_against_similar_municipalities_agrees_with_statsmodels(demo: Engine) -> None:
    item = _items(demo)["grade9_merit_value"]
    official = item["official"]
    # the municipalities' history is the panel's pre-period, not a hole in the school's comparison
    (orebro,) = [c for c in item["comparisons"] if c["unit"] == "Örebro"]
    assert "unmatched_years" not in [w["code"] for w in orebro["warnings"]]
    ref = _reference(demo)
    assert official["treated_unit"] == "Örebro"
    assert set(official["comparison_units"]) == SIMILAR
    assert official["se_method"] == "cluster"
    assert official["estimate"] == pytest.approx(ref.params["d"], abs=1e-6)
    assert official["se"] == pytest.approx(ref.bse["d"], abs=1e-6)
    low, high = ref.conf_int().loc["d"]
    assert official["ci_low"] == pytest.approx(low, abs=1e-6)
    assert official["ci_high"] == pytest.approx(high, abs=1e-6)
    assert official["pre_years"] == list(range(2015, 2023))
    assert [r["year"] for r in official["event_rows"]] == list(range(2015, 2026))
    assert official["pre_trend"]["years"] == tuple(range(2015, 2023))
    assert official["placebo"]["units"] == 7
    assert official["source"] == "Egen bearbetning av data från Kolada"
    text = " ".join(official["sentences"])
    assert "parallel within ±" in text and "Placebo test" in text
    assert "diluted" in text


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_evaluation_page_shows_both_in_both_languages(
    demo: Engine, demo_settings: Settings
) -> None:
    from lanportfolj.web import app as web_app
    from lanportfolj.web import evaluation as web_evaluation

    with session_scope(demo) as session:
        users.ensure_demo_users(session)
    present = set(map(id, web_app.route_handlers()))
    extra = [h for h in web_evaluation.ROUTES if id(h) not in present]
    with TestClient(app=create_app(demo_settings, engine=demo, extra_routes=extra)) as client:
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
        sv = client.get(f"/loans/{OREBRO}/evaluation?lang=sv")
        en = client.get(f"/loans/{OREBRO}/evaluation?lang=en")
        api = client.get(f"/api/loans/{OREBRO}/evaluation?lang=en")
    assert api.status_code == 200
    merit = next(i for i in api.json()["comparison"] if i["code"] == "grade9_merit_value")
    assert merit["official"]["se_method"] == "cluster"
    assert merit["official"]["placebo"]["units"] == 7
    assert len(merit["official"]["event_study"]) == 11
    assert api.json()["mde"]["items"][0]["code"] == "grade9_merit_value"
    assert sv.status_code == en.status_code == 200
    sv_text, en_text = _text(sv.text), _text(en.text)
    assert "Kommunen mot liknande kommuner" in sv_text
    assert "parallella inom ±" in sv_text
    assert "Källa: Egen bearbetning av data från Kolada" in sv_text
    assert "Händelsestudie" in sv_text
    assert "The municipality against similar municipalities" in en_text
    assert "Event study" in en_text and "cluster-robust standard errors by unit" in en_text


def test_the_application_pages_show_the_mde_beside_the_target(
    demo: Engine, demo_settings: Settings
) -> None:
    with session_scope(demo) as session:
        users.ensure_demo_users(session)
    with TestClient(app=create_app(demo_settings, engine=demo)) as client:
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
        assess = client.get(f"/analyst/applications/{OREBRO}?lang=en")
        shown = client.get(f"/applications/{OREBRO}?lang=sv")
    assert assess.status_code == shown.status_code == 200
    en = _text(assess.text)
    assert "Smallest detectable effect against similar municipalities (Kolada)" in en
    assert "Your target +21.50 points is above the smallest detectable change (+0.86)" in en
    assert "Örebro against 6 similar municipalities" in en
    sv = _text(shown.text)
    assert "Ert mål +21,50 poäng är större än den minsta upptäckbara förändringen (+0,86)" in sv
    assert "80 % styrka vid 5 % signifikans" in sv
    assert "Källa: Egen bearbetning av data från Kolada" in sv


def test_a_target_below_the_mde_is_told_what_to_consider(demo: Engine) -> None:
    from lanportfolj.services.evaluation import mde_panel

    with session_scope(demo) as session:
        li = session.exec(
            select(LoanIndicator)
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
            .join(
                IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id)
            )
            .where(Loan.reference == OREBRO, IndicatorDefinition.code == "grade9_merit_value")
        ).one()
        li.target_value = li.baseline_value - Decimal("0.5")  # type: ignore[operator]
        session.add(li)
    with Session(demo) as session:
        (item,) = mde_panel(session, loan_ref=OREBRO, lang="en")["items"]
        (item_sv,) = mde_panel(session, loan_ref=OREBRO, lang="sv")["items"]
    assert item["detectable"] is False
    assert item["message"].startswith(
        "Your target −0.50 points is below the smallest detectable change (−0.86): consider a "
        "larger area, a longer follow-up or another indicator."
    ) or item["message"].startswith(
        "Your target -0.50 points is below the smallest detectable change (-0.86): consider a "
        "larger area, a longer follow-up or another indicator."
    )
    assert (
        "överväg ett större område, en längre uppföljning eller en annan indikator"
        in (item_sv["message"])
    )
    assert "−0,86" in item_sv["message"]


def test_cli_power_for_a_loan(demo: Engine, demo_settings: Settings) -> None:
    import json

    from typer.testing import CliRunner

    from lanportfolj.cli import app

    runner = CliRunner()
    env = {"LANPORTFOLJ_DATABASE_URL": demo_settings.database_url}
    text = runner.invoke(app, ["power", "--loan", OREBRO, "--lang", "en"], env=env)
    assert text.exit_code == 0, text.output
    assert (
        "grade9_merit_value" in text.output
        and "Smallest detectable change: 0.86 points" in text.output
    )
    assert "Source: Egen bearbetning av data från Kolada" in text.output
    as_json = runner.invoke(app, ["power", "--loan", OREBRO, "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    (item,) = json.loads(as_json.output)["items"]
    assert item["code"] == "grade9_merit_value" and item["detectable"] is True
    assert item["mde"] == pytest.approx(0.855, abs=0.001)
    assert runner.invoke(app, ["power", "--loan", "SH-0000-000"], env=env).exit_code == 1
    both = runner.invoke(app, ["power", "--loan", OREBRO, "--outcome", "binary"], env=env)
    assert both.exit_code == 2


def test_the_bond_report_has_a_short_evaluation_section_per_loan(demo: Engine) -> None:
    import json
    from datetime import date

    from lanportfolj.services.reports import draft_report, get_bond, render

    with Session(demo) as session:
        bond = get_bond(session, "SE0021150208")
        assert bond is not None
        data = draft_report(session=session, bond=bond, report_date=date(2026, 3, 31), lang="sv")
    loans = {loan["loan_ref"]: loan for loan in data["impact"]["evaluation"]["en"]}
    assert OREBRO in loans
    rows = loans[OREBRO]["rows"]
    school = [r for r in rows if r["compared_with"] == "Jämförelseskola Väster"]
    official = [r for r in rows if r["source"] == "Egen bearbetning av data från Kolada"]
    # the pass share and the merit value against the comparison school, and Örebro's merit value
    # against the similar municipalities; the municipalities one by one are left out
    assert len(school) == 2 and len(official) == 1
    assert all(r["ci_low"] is not None and r["ci_high"] is not None for r in rows)
    assert official[0]["compared_with"] == "Örebro against 6 similar municipalities"
    assert "cluster-robust" in official[0]["method"]
    html = render(data, fmt="html", lang="sv").decode("utf-8")
    section = html.split('<section id="evaluation">')[1].split("</section>")[0]
    assert "Utvärdering" in section and "Egen bearbetning av data från Kolada" in section
    assert "Örebro mot 6 liknande kommuner" in section
    assert "Låntagarens rapportering" in section
    assert html.index('<section id="evaluation">') < html.index('<section id="methodology">')
    as_json = json.loads(render(data, fmt="json"))
    assert as_json["impact"]["evaluation"]["sv"][0]["rows"]
