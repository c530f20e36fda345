"""Kolada figures for a loan: fetched from the offline stand-in, compared with stored values, imported
through the ordinary import path, cached, and shown by the CLI and the web pages with "Källa: Kolada"."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from lanportfolj.config import Settings
from lanportfolj.db import session_scope
from lanportfolj.kolada.cache import DatabaseCache, list_cached
from lanportfolj.kolada.client import KoladaClient, KoladaError
from lanportfolj.kolada.fetch import (
    MEAN_UNIT,
    CompareChoice,
    import_plan,
    plan_fetch,
)
from lanportfolj.kolada.offline import OfflineKolada
from lanportfolj.models import (
    AuditEvent,
    Borrower,
    IndicatorDefinition,
    Loan,
    LoanIndicator,
    Measurement,
    Submission,
)
from lanportfolj.services.measurements import import_file

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parents[1] / "fixtures" / "kolada"
FETCHED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
YEARS = range(2022, 2026)


def _indicator_id(session: Session, code: str) -> int:
    found = session.exec(
        select(IndicatorDefinition.id).where(
            IndicatorDefinition.code == code, col(IndicatorDefinition.loan_id).is_(None)
        )
    ).one()
    assert found is not None
    return found


def make_loans(session: Session) -> None:
    """Botkyrka kommun's loan (population, crime exposure) and Botkyrkabyggen's (school share from its
    own counts): both in municipality 0127. All values invented."""
    kommun = Borrower(
        orgnr="212000-2882",
        name="Botkyrka kommun",
        kind="municipality",
        member=True,
        municipality_code="0127",
    )
    session.add(kommun)
    session.flush()
    company = Borrower(
        orgnr="556000-0001",
        name="Botkyrkabyggen AB",
        kind="municipal_company",
        member=False,
        owner_id=kommun.id,
        municipality_code="0127",
    )
    nowhere = Borrower(orgnr="556000-0019", name="Utan kommun AB", kind="municipal_company")
    session.add_all([company, nowhere])
    session.flush()
    for ref, borrower, codes in (
        ("SH-2023-003", kommun, ["population", "crime_exposure_share", "safety_walks_held"]),
        ("SH-2023-001", company, ["school_eligibility_upper_secondary_share"]),
        ("SH-2024-009", nowhere, ["population"]),
    ):
        loan = Loan(reference=ref, borrower_id=borrower.id, title=ref, amount=Decimal(1000))
        session.add(loan)
        session.flush()
        for code in codes:
            session.add(
                LoanIndicator(
                    loan_id=loan.id, indicator_id=_indicator_id(session, code), baseline_year=2022
                )
            )
    session.flush()
    # the borrower's own reports: population 2022 equal to Kolada's, 2023 different
    csv = (
        "loan,indicator,year,value\n"
        "SH-2023-003,population,2022,{p22}\n"
        "SH-2023-003,population,2023,20910\n"
    )
    kolada_2022 = _fixture_value("N01951", "0127", 2022)
    result = import_file(
        session=session,
        settings=Settings(),
        filename="own.csv",
        data=csv.format(p22=kolada_2022).encode(),
        uploaded_by="borrower@botkyrka.se",
        current_year=2026,
    )
    assert result.accepted, result.errors
    session.commit()


def _fixture_value(kpi: str, code: str, year: int) -> Decimal:
    rows = json.loads((FIXTURES / "data.json").read_text("utf-8"), parse_float=Decimal)["values"]
    for row in rows:
        if (row["kpi"], row["municipality"], row["period"]) == (kpi, code, year):
            return Decimal(str(row["values"][0]["value"]))
    raise KeyError((kpi, code, year))


@pytest.fixture
def loans(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        make_loans(session)
    return engine


def client_for(server: OfflineKolada, session: Session, **kwargs: object) -> KoladaClient:
    return KoladaClient(
        transport=server.transport(),
        cache=DatabaseCache(session),
        sleep=lambda _s: None,
        now=lambda: FETCHED,
        **kwargs,  # type: ignore[arg-type]
    )


def test_new_values_go_in_and_a_difference_waits_for_a_person(
    loans: Engine, settings: Settings
) -> None:
    server = OfflineKolada(FIXTURES)
    with session_scope(loans) as session:
        plan = plan_fetch(
            session=session,
            client=client_for(server, session),
            loan_reference="SH-2023-003",
            years=YEARS,
            current_year=2026,
        )
    assert server.unexpected == []
    population = {p.year: p for p in plan.proposals if p.indicator == "population"}
    assert population[2022].status == "same"
    assert population[2023].status == "different"
    assert population[2023].existing == Decimal("20910")
    assert population[2023].value == _fixture_value("N01951", "0127", 2023)
    assert population[2024].status == "new"
    # the survey KPI is not yet published for 2025: no value is invented
    assert {p.year for p in plan.proposals if p.indicator == "crime_exposure_share"} == {
        2022,
        2023,
        2024,
    }
    assert plan.source_line("sv") == "Källa: Kolada, hämtad 2026-03-02"

    with session_scope(loans) as session:
        result = import_plan(
            session=session,
            settings=settings,
            plan=plan,
            uploaded_by="analyst@lender.se",
            current_year=2026,
        )
    assert result.accepted and result.restated == 0
    assert result.inserted == 5  # population 2024–2025, crime exposure 2022–2024
    with Session(loans) as session:
        current = {
            (m.year, m.source): (m.value, m.comment)
            for m in session.exec(select(Measurement).where(col(Measurement.is_current)))
        }
        assert current[(2023, "upload")][0] == Decimal("20910")  # never overwritten silently
        assert current[(2024, "kolada")][1] == "Källa: Kolada, hämtad 2026-03-02"
        submission = session.exec(select(Submission).where(Submission.source == "kolada")).one()
        assert submission.uploaded_by == "analyst@lender.se"
        assert session.exec(
            select(AuditEvent).where(AuditEvent.entity_id == str(submission.id))
        ).first()


def test_an_accepted_difference_becomes_a_restatement(loans: Engine, settings: Settings) -> None:
    server = OfflineKolada(FIXTURES)
    with session_scope(loans) as session:
        plan = plan_fetch(
            session=session,
            client=client_for(server, session),
            loan_reference="SH-2023-003",
            years=range(2023, 2024),
            current_year=2026,
        )
        result = import_plan(
            session=session,
            settings=settings,
            plan=plan,
            uploaded_by="analyst@lender.se",
            accept=["population||2023"],
            current_year=2026,
        )
    assert result.restated == 1
    with Session(loans) as session:
        population_id = _indicator_id(session, "population")
        versions = session.exec(
            select(Measurement.version, Measurement.is_current, Measurement.source)
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .where(LoanIndicator.indicator_id == population_id, Measurement.year == 2023)
            .order_by(col(Measurement.version))
        ).all()
    # the borrower's value stays in history; Kolada's is the new current version
    assert versions == [(1, False, "upload"), (2, True, "kolada")]


def test_similar_municipalities_become_comparison_units_with_a_derived_mean(
    loans: Engine, settings: Settings
) -> None:
    server = OfflineKolada(FIXTURES)
    with session_scope(loans) as session:
        plan = plan_fetch(
            session=session,
            client=client_for(server, session),
            loan_reference="SH-2023-001",
            years=YEARS,
            compare=CompareChoice.parse("similar:grundskola"),
            current_year=2026,
        )
    assert plan.group_title == "Liknande kommuner grundskola, Botkyrka, 2024"
    units = set(plan.comparison_units)
    # the company's share comes from its own counts: Botkyrka's share is a comparison, not its value
    assert {"Botkyrka", "Södertälje", "Sigtuna", MEAN_UNIT} <= units
    assert not any(p.unit == "" for p in plan.proposals)
    mean_2024 = next(p for p in plan.proposals if p.unit == MEAN_UNIT and p.year == 2024)
    members = [_fixture_value("N15428", c, 2024) for c in ("0181", "0191", "0139", "0136", "0123")]
    assert mean_2024.value == (sum(members) / 5).quantize(Decimal("0.1"))
    assert mean_2024.comment.startswith("Egen bearbetning av data från Kolada")
    assert "Källa: Kolada" not in mean_2024.comment
    with session_scope(loans) as session:
        result = import_plan(
            session=session, settings=settings, plan=plan, uploaded_by="a", current_year=2026
        )
    assert result.accepted
    with Session(loans) as session:
        groups = set(session.exec(select(Measurement.group_name).distinct()).all())
    assert MEAN_UNIT in groups and "Botkyrka" in groups


def test_years_before_the_baseline_are_named_not_half_imported(
    loans: Engine, settings: Settings
) -> None:
    server = OfflineKolada(FIXTURES)
    with session_scope(loans) as session:
        plan = plan_fetch(
            session=session,
            client=client_for(server, session),
            loan_reference="SH-2023-003",
            years=range(2018, 2026),
            current_year=2026,
        )
        result = import_plan(
            session=session, settings=settings, plan=plan, uploaded_by="a", current_year=2026
        )
    assert result.accepted
    assert min(p.year for p in plan.proposals) == 2022
    assert any(
        i.code == "outside-reporting-years" and "2018–2021" in i.text("en") for i in plan.issues
    )


def test_unknown_municipality_and_missing_code_are_refused_clearly(loans: Engine) -> None:
    server = OfflineKolada(FIXTURES)
    with session_scope(loans) as session:
        session.exec(select(Borrower).where(Borrower.name == "Botkyrka kommun")).one()
        with pytest.raises(KoladaError) as missing:
            plan_fetch(
                session=session,
                client=client_for(server, session),
                loan_reference="SH-2024-009",
                years=YEARS,
            )
        assert "no municipality code" in missing.value.issue.message_en
        borrower = session.exec(select(Borrower).where(Borrower.name == "Botkyrka kommun")).one()
        borrower.municipality_code = "9999"
        session.add(borrower)
        session.flush()
        with pytest.raises(KoladaError) as unknown:
            plan_fetch(
                session=session,
                client=client_for(server, session),
                loan_reference="SH-2023-003",
                years=YEARS,
            )
    assert unknown.value.issue.municipality == "9999"
    assert "municipality 9999" in unknown.value.issue.message_en
    assert "kommun 9999" in unknown.value.issue.message_sv


def test_network_down_uses_cached_values_labelled_with_their_date(loans: Engine) -> None:
    server = OfflineKolada(FIXTURES)
    with session_scope(loans) as session:
        plan_fetch(
            session=session,
            client=client_for(server, session),
            loan_reference="SH-2023-003",
            years=YEARS,
            current_year=2026,
        )
        assert list_cached(session)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    with session_scope(loans) as session:
        offline = KoladaClient(
            transport=httpx.MockTransport(down),
            cache=DatabaseCache(session),
            sleep=lambda _s: None,
            now=lambda: datetime(2026, 5, 1, tzinfo=UTC),
        )
        plan = plan_fetch(
            session=session,
            client=offline,
            loan_reference="SH-2023-003",
            years=YEARS,
            current_year=2026,
        )
    assert plan.proposals and all(p.from_cache for p in plan.proposals)
    assert plan.source_line("sv").startswith("Källa: Kolada, hämtad 2026-03-02 (sparade svar")
    assert plan.source_line("en").startswith("Källa: Kolada (Source: Kolada, fetched 2026-03-02)")


def test_network_down_and_nothing_cached_stores_nothing(loans: Engine) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    with Session(loans) as session:
        before = len(session.exec(select(Measurement)).all())
        offline = KoladaClient(
            transport=httpx.MockTransport(down),
            cache=DatabaseCache(session),
            sleep=lambda _s: None,
            retries=1,
        )
        with pytest.raises(KoladaError) as failed:
            plan_fetch(session=session, client=offline, loan_reference="SH-2023-003", years=YEARS)
        session.rollback()
        assert len(session.exec(select(Measurement)).all()) == before
    assert failed.value.issue.code == "kolada-unavailable"
    assert "municipality 0127" in failed.value.issue.message_en


# -- CLI --------------------------------------------------------------------------------------------


def _cli(settings: Settings, *args: str) -> object:
    from lanportfolj.cli import app

    return CliRunner().invoke(app, ["--database-url", settings.database_url, *args])


def test_cli_fetch_offline_fixtures_prints_the_source_and_the_differences(
    loans: Engine, settings: Settings
) -> None:
    result = _cli(
        settings,
        "kolada",
        "fetch",
        "SH-2023-003",
        "--years",
        "2022-2025",
        "--offline-fixtures",
        str(FIXTURES),
        "--dry-run",
        "--json",
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    data = json.loads(result.output)  # type: ignore[attr-defined]
    assert data["plan"]["source"].startswith("Källa: Kolada")
    assert data["plan"]["counts"]["different"] == 1
    assert data["import"]["dry_run"] is True
    with Session(loans) as session:
        assert not session.exec(select(Measurement).where(Measurement.source == "kolada")).all()

    text = _cli(
        settings,
        "kolada",
        "fetch",
        "SH-2023-003",
        "--years",
        "2022-2025",
        "--offline-fixtures",
        str(FIXTURES),
    )
    assert text.exit_code == 0, text.output  # type: ignore[attr-defined]
    assert "Källa: Kolada, hämtad" in text.output  # type: ignore[attr-defined]
    assert "population" in text.output  # type: ignore[attr-defined]
    with Session(loans) as session:
        assert session.exec(select(Measurement).where(Measurement.source == "kolada")).all()

    listing = _cli(settings, "kolada", "cache", "list", "--json")
    assert listing.exit_code == 0
    urls = [row["url"] for row in json.loads(listing.output)]  # type: ignore[attr-defined]
    assert any("/data/kpi/" in u for u in urls)


def test_cli_unknown_loan_exits_1_with_a_message(loans: Engine, settings: Settings) -> None:
    result = _cli(settings, "kolada", "fetch", "SH-1999-404", "--offline-fixtures", str(FIXTURES))
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "SH-1999-404" in result.output  # type: ignore[attr-defined]


# -- web --------------------------------------------------------------------------------------------


@pytest.fixture
def web(loans: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> object:
    from litestar.testing import TestClient

    from lanportfolj.services import users
    from lanportfolj.web.app import create_app

    with session_scope(loans) as session:
        kommun = session.exec(select(Borrower).where(Borrower.name == "Botkyrka kommun")).one()
        company = session.exec(select(Borrower).where(Borrower.name == "Botkyrkabyggen AB")).one()
        users.create_user(session, email="analyst@x.se", role="analyst", password="correct horse 1")
        users.create_user(
            session,
            email="kommun@x.se",
            role="borrower",
            password="correct horse 1",
            borrower_id=kommun.id,
        )
        users.create_user(
            session,
            email="bolag@x.se",
            role="borrower",
            password="correct horse 1",
            borrower_id=company.id,
        )
    with TestClient(
        app=create_app(replace(settings, kolada_fixtures=str(FIXTURES)), engine=loans)
    ) as client:
        yield client


def _sign_in(client: object, email: str) -> str:
    client.get("/login")  # type: ignore[attr-defined]
    token = client.cookies.get("csrftoken")  # type: ignore[attr-defined]
    response = client.post(  # type: ignore[attr-defined]
        "/login",
        data={"email": email, "password": "correct horse 1", "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    return str(client.cookies.get("csrftoken"))  # type: ignore[attr-defined]


def test_web_fetch_shows_differences_then_imports_only_what_was_ticked(
    web: object, loans: Engine
) -> None:
    token = _sign_in(web, "kommun@x.se")
    page = web.post(  # type: ignore[attr-defined]
        "/loans/SH-2023-003/kolada?lang=sv",
        data={"_csrf_token": token, "years": "2022-2025"},
    )
    assert page.status_code == 200, page.text
    assert "Källa: Kolada, hämtad" in page.text
    assert 'name="accept:population||2023"' in page.text  # the difference, for a person to decide
    with Session(loans) as session:
        assert not session.exec(select(Measurement).where(Measurement.source == "kolada")).all()

    done = web.post(  # type: ignore[attr-defined]
        "/loans/SH-2023-003/kolada/import?lang=en",
        data={"_csrf_token": token, "years": "2022-2025"},
    )
    assert done.status_code == 200, done.text
    assert "Imported: 5 new, 0 restated." in done.text
    assert "Källa: Kolada" in done.text
    with Session(loans) as session:
        kept = session.exec(
            select(Measurement).where(Measurement.year == 2023, Measurement.value == Decimal(20910))
        ).one()
        assert kept.is_current and kept.source == "upload"


def test_web_another_borrowers_loan_is_not_found(web: object) -> None:
    token = _sign_in(web, "bolag@x.se")
    response = web.post(  # type: ignore[attr-defined]
        "/loans/SH-2023-003/kolada", data={"_csrf_token": token}
    )
    assert response.status_code == 404


def test_api_returns_the_plan_with_the_source_line(web: object) -> None:
    token = _sign_in(web, "analyst@x.se")
    response = web.post(  # type: ignore[attr-defined]
        "/api/loans/SH-2023-001/kolada?years=2022-2024&compare=similar",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert body["source"].startswith("Källa: Kolada")
    assert body["plan"]["group_title"] == "Liknande kommuner, övergripande, Botkyrka, 2024"
    assert "import" not in body
