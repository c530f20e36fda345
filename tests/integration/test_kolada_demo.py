"""The demo with Kolada: ``demo load`` brings the Botkyrka loan's official figures and the similar
municipalities' from ``data/demo/kolada`` (never the network), the loan page shows them with "Källa:
Kolada" and offers the fetch button, a second ``demo load`` changes nothing, and the Kolada settings
decide where the CLI and the web pages ask."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select
from typer.testing import CliRunner, Result

from lanportfolj.cli import app
from lanportfolj.cli.portfolio import load_demo_kolada
from lanportfolj.config import Settings, load_settings
from lanportfolj.db import make_engine
from lanportfolj.kolada.fetch import MEAN_UNIT
from lanportfolj.models import IndicatorDefinition, Loan, LoanIndicator, Measurement
from lanportfolj.paths import demo_dir
from lanportfolj.services.evaluation import comparison_section
from lanportfolj.services.reports import draft_report, get_bond
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.unit

DEMO_KOLADA = demo_dir() / "kolada"
DEMO_YEAR = 2026
SIMILAR = {"Södertälje", "Huddinge", "Haninge", "Sigtuna", "Järfälla"}
DEMO_PASSWORD = "demo-lanportfolj"


def _official(kpi: str, municipality: str, year: int) -> Decimal:
    """The value the demo's recorded Kolada answer holds (illustrative, but what must arrive)."""
    rows = json.loads((DEMO_KOLADA / "data.json").read_text("utf-8"))["values"]
    for row in rows:
        if (row["kpi"], row["municipality"], row["period"]) == (kpi, municipality, year):
            return Decimal(str(row["values"][0]["value"]))
    raise KeyError((kpi, municipality, year))


def _kolada_values(engine: Engine, reference: str) -> dict[tuple[str, str, int], Measurement]:
    with Session(engine) as session:
        rows = session.exec(
            select(IndicatorDefinition.code, Measurement)
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
            .join(
                IndicatorDefinition, col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id)
            )
            .where(
                Loan.reference == reference,
                Measurement.source == "kolada",
                col(Measurement.is_current),
            )
        ).all()
    return {(code, m.group_name, m.year): m for code, m in rows}


@pytest.fixture
def demo_with_kolada(demo_settings: Settings) -> Iterator[Engine]:
    """The demo portfolio (as tests/conftest.py loads it) plus the demo's Kolada step."""
    engine = make_engine(demo_settings)
    load_demo_kolada(engine=engine, settings=demo_settings, current_year=DEMO_YEAR)
    yield engine
    engine.dispose()


def test_the_botkyrka_loan_holds_official_school_and_safety_values_and_a_comparison(
    demo_with_kolada: Engine,
) -> None:
    values = _kolada_values(demo_with_kolada, "SH-2023-001")
    # Botkyrka's own published figures, as comparison units next to the project's counts
    school = values[("school_eligibility_upper_secondary_share", "Botkyrka", 2023)]
    assert school.value == _official("N15428", "0127", 2023)
    assert school.comment.startswith("Källa: Kolada, hämtad ")
    safety = values[("perceived_safety_share", "Botkyrka", 2024)]
    assert safety.value == _official("N07609", "0127", 2024)
    # Kolada withdrew Botkyrka's 2019 safety value and has not published 2025: neither arrives
    assert ("perceived_safety_share", "Botkyrka", 2025) not in values
    # the similar municipalities and their mean, which is ours and says so
    units = {group for code, group, _ in values if code == "perceived_safety_share"}
    assert units == {"Botkyrka", MEAN_UNIT, *SIMILAR}
    mean = values[("perceived_safety_share", MEAN_UNIT, 2023)]
    assert "Källa: Kolada" not in mean.comment
    assert mean.comment.startswith("Egen bearbetning av data från Kolada")
    # the borrower's own reported values are untouched
    with Session(demo_with_kolada) as session:
        own = session.exec(
            select(Measurement)
            .join(LoanIndicator, col(LoanIndicator.id) == col(Measurement.loan_indicator_id))
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
            .where(
                Loan.reference == "SH-2023-001",
                Measurement.group_name == "",
                Measurement.source == "kolada",
            )
        ).all()
    assert own == []

    with Session(demo_with_kolada) as session:
        sections = comparison_section(session, loan_ref="SH-2023-001", lang="sv")
    by_code = {s["code"]: s for s in sections}
    for code in ("school_eligibility_upper_secondary_share", "perceived_safety_share"):
        assert code in by_code, sorted(by_code)
        assert set(by_code[code]["units"]) >= SIMILAR
        assert MEAN_UNIT in by_code[code]["units"]
        assert by_code[code]["comparisons"], "a DiD against the comparison units"


def _cli(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["--database-url", settings.database_url, *args], env=env)


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a load could change, row by row."""
    queries = {
        "measurement": "SELECT id, loan_indicator_id, group_name, year, value, version, "
        "is_current, source, comment FROM measurement ORDER BY id",
        "submission": "SELECT id, sha256 FROM submission ORDER BY id",
        "kolada_response": "SELECT url, fetched_at, body FROM kolada_response ORDER BY url",
        "borrower": "SELECT id, name, municipality_code FROM borrower ORDER BY id",
        "audit_event": "SELECT COUNT(*) FROM audit_event",
    }
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(q))] for name, q in queries.items()}


def test_cli_demo_load_fetches_kolada_once_and_a_second_load_changes_nothing(
    settings: Settings,
) -> None:
    first = _cli(settings, "demo", "load")
    assert first.exit_code == 0, first.output
    line = next(x for x in first.output.splitlines() if "Källa: Kolada" in x)
    # 49 values from the baseline on, and 55 of history (2018–2021) before it; the school gets
    # Örebro's and six similar municipalities' merit values 2015–2025 and their mean
    assert "SH-2023-001 104 new; SH-2024-002 88 new" in line
    engine = make_engine(settings)
    try:
        values = _kolada_values(engine, "SH-2023-001")
        assert values[("school_eligibility_upper_secondary_share", "Botkyrka", 2022)].value == (
            _official("N15428", "0127", 2022)
        )
        before = _snapshot(engine)
        assert before["kolada_response"], "the recorded answers are kept for offline rebuilds"

        second = _cli(settings, "demo", "load")
        assert second.exit_code == 0, second.output
        assert "SH-2023-001 0 new; SH-2024-002 0 new" in second.output
        assert "Källa: Kolada" in second.output
        assert _snapshot(engine) == before
    finally:
        engine.dispose()


def test_demo_load_names_the_site_it_was_given_for_signing_in(settings: Settings) -> None:
    default = _cli(settings, "demo", "load")
    assert "sign in at http://127.0.0.1:8000/login" in default.output
    elsewhere = _cli(settings, "demo", "load", "--site", "http://0.0.0.0:8123/")
    assert elsewhere.exit_code == 0, elsewhere.output
    assert "sign in at http://0.0.0.0:8123/login" in elsewhere.output
    assert "8000" not in elsewhere.output


def test_make_run_serves_kolada_from_the_recorded_demo_data_and_names_its_port() -> None:
    import shutil
    import subprocess

    make = shutil.which("make")
    if make is None:
        pytest.fail("make is needed: the README's two commands are make targets")
    repo = Path(__file__).resolve().parents[2]
    # -n prints the commands make would run, so this is what `make run PORT=8123` does
    planned = subprocess.run(
        [make, "-n", "-W", "pyproject.toml", "run", "PORT=8123", "VENV=/nonexistent-venv"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "demo load --site http://127.0.0.1:8123" in planned
    serve = next(line for line in planned.splitlines() if " serve " in line or "serve --" in line)
    assert f'LANPORTFOLJ_KOLADA_FIXTURES="{repo}/data/demo/kolada"' in planned
    assert "--port 8123" in serve


def test_demo_load_json_keeps_stdout_json(settings: Settings) -> None:
    result = CliRunner().invoke(
        app, ["--database-url", settings.database_url, "demo", "load", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accepted"] is True


# -- the loan page ------------------------------------------------------------------------------


def _sign_in(client: TestClient[Any], email: str, password: str = DEMO_PASSWORD) -> str:
    client.get("/login")
    token = client.cookies.get("csrftoken")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), response.text
    return str(client.cookies.get("csrftoken"))


@pytest.fixture
def web(demo_with_kolada: Engine, demo_settings: Settings) -> Iterator[TestClient[Any]]:
    from lanportfolj.db import session_scope
    from lanportfolj.services import users

    with session_scope(demo_with_kolada) as session:
        users.ensure_demo_users(session)
    # the fetch button answers from the demo's recorded Kolada files, never the network
    settings = replace(demo_settings, kolada_fixtures=str(DEMO_KOLADA))
    with TestClient(app=create_app(settings, engine=demo_with_kolada)) as client:
        yield client


def test_loan_page_shows_official_values_with_the_source_and_the_fetch_button(
    web: TestClient[Any],
) -> None:
    _sign_in(web, "analys@demo.lanportfolj.se")
    page = web.get("/loans/SH-2023-001?lang=sv")
    assert page.status_code == 200
    html = page.text
    assert 'data-testid="kolada-school_eligibility_upper_secondary_share"' in html
    assert 'data-testid="kolada-perceived_safety_share"' in html
    assert "Källa: Kolada, hämtad " in html
    assert "Södertälje" in html
    assert "egen bearbetning av data från Kolada" in html
    official = format(_official("N15428", "0127", 2023), "f").replace(".", ",")
    assert official in html
    assert 'action="/loans/SH-2023-001/kolada"' in html
    assert "Hämta från Kolada" in html
    assert 'name="_csrf_token"' in html.split('action="/loans/SH-2023-001/kolada"')[1][:300]

    english = web.get("/loans/SH-2023-001?lang=en").text
    assert "Källa: Kolada (Source: Kolada, fetched " in english
    assert "Fetch from Kolada" in english


def test_a_loan_without_kolada_values_has_the_button_but_no_source_line(
    web: TestClient[Any],
) -> None:
    _sign_in(web, "analys@demo.lanportfolj.se")
    html = web.get("/loans/SH-2023-002?lang=sv").text
    assert 'action="/loans/SH-2023-002/kolada"' in html
    assert "Källa: Kolada" not in html


def test_the_owning_borrower_fetches_from_the_button_and_investors_see_no_button(
    web: TestClient[Any],
) -> None:
    token = _sign_in(web, "lantagare@demo.lanportfolj.se")  # AB Botkyrkabyggen
    assert 'action="/loans/SH-2023-001/kolada"' in web.get("/loans/SH-2023-001").text
    fetched = web.post(
        "/loans/SH-2023-001/kolada?lang=sv", data={"_csrf_token": token, "compare": "similar"}
    )
    assert fetched.status_code == 200, fetched.text
    assert "Källa: Kolada, hämtad" in fetched.text
    assert "Liknande kommuner, övergripande, Botkyrka, 2024" in fetched.text
    # the form without its CSRF token is refused
    assert web.post("/loans/SH-2023-001/kolada", data={"compare": "similar"}).status_code == 403
    web.post("/logout", data={"_csrf_token": token})

    web.cookies.clear()
    _sign_in(web, "investerare@demo.lanportfolj.se")
    public = web.get("/loans/SH-2023-001?lang=sv")
    assert public.status_code == 200
    assert "/kolada" not in public.text


def test_every_demo_loans_fetch_button_answers_from_the_recorded_data_with_names(
    web: TestClient[Any],
) -> None:
    import re
    import tomllib

    token = _sign_in(web, "analys@demo.lanportfolj.se")
    portfolio = tomllib.loads((demo_dir() / "portfolio.toml").read_text("utf-8"))
    names = {d["code"]: d for d in _library_names()}
    named = 0
    for loan in portfolio["loan"]:
        reference = loan["reference"]
        page = web.post(
            f"/loans/{reference}/kolada?lang=sv", data={"_csrf_token": token, "compare": "similar"}
        )
        assert page.status_code == 200, (reference, page.text[:500])
        assert 'role="alert"' not in page.text, (reference, page.text)
        assert f'href="/loans/{reference}"' in page.text
        assert "Tillbaka till lånet" in page.text
        headings = re.findall(r"<h2>(.*?) <small>", page.text)
        for heading in headings:
            # the library's Swedish name, never the indicator's code
            assert heading not in names, (reference, heading)
            assert any(heading == d["name_sv"] for d in names.values()), (reference, heading)
            named += 1
    assert named >= 3, "the demo's Kolada-mapped indicators are shown under their names"


def test_the_fetch_button_says_it_is_busy_and_its_script_is_served(web: TestClient[Any]) -> None:
    _sign_in(web, "analys@demo.lanportfolj.se")
    html = web.get("/loans/SH-2023-001?lang=sv").text
    form = html.split('action="/loans/SH-2023-001/kolada"')[1].split("</form>")[0]
    assert 'data-busy="Hämtar från Kolada…"' in form
    assert 'role="status"' in form
    assert '<script src="/static/kolada.js"' in html
    script = web.get("/static/kolada.js")
    assert script.status_code == 200
    assert "data-busy" in script.text


def _library_names() -> list[dict[str, str]]:
    from lanportfolj.library import load_library

    return [
        {"code": d.code, "name_sv": d.name_sv, "name_en": d.name_en}
        for d in load_library().values()
    ]


# -- settings -----------------------------------------------------------------------------------


def test_kolada_settings_have_defaults_and_come_from_the_environment() -> None:
    default = load_settings(environ={})
    assert default.kolada_base_url == "https://api.kolada.se/v3"
    assert default.kolada_fixtures == ""
    custom = load_settings(
        environ={
            "LANPORTFOLJ_KOLADA_TIMEOUT": "2.5",
            "LANPORTFOLJ_KOLADA_FIXTURES": "data/demo/kolada",
            "LANPORTFOLJ_KOLADA_BASE_URL": "https://kolada.example/v3",
        }
    )
    assert custom.kolada_timeout == 2.5
    assert custom.kolada_fixtures == "data/demo/kolada"
    assert custom.kolada_base_url == "https://kolada.example/v3"


def test_cli_fetch_asks_where_the_settings_say(demo_settings: Settings, tmp_path: Path) -> None:
    config = tmp_path / "lanportfolj.toml"
    config.write_text(
        f'kolada_base_url = "https://kolada.example/v3"\nkolada_fixtures = "{DEMO_KOLADA}"\n',
        encoding="utf-8",
    )
    result = _cli(
        demo_settings,
        "--config",
        str(config),
        "kolada",
        "fetch",
        "SH-2023-001",
        "--years",
        "2022-2025",
        "--dry-run",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["plan"]["source"].startswith("Källa: Kolada")
    listing = _cli(demo_settings, "kolada", "cache", "list", "--json")
    urls = [row["url"] for row in json.loads(listing.stdout)]
    assert urls
    assert all(u.startswith("https://kolada.example/v3/") for u in urls)


def test_the_bond_report_methodology_names_kolada_for_the_comparison(
    demo_with_kolada: Engine,
) -> None:
    with Session(demo_with_kolada) as session:
        bond = get_bond(session, "SE0021150208")
        assert bond is not None
        data = draft_report(session=session, bond=bond, report_date=date(2026, 3, 31), lang="sv")
    methodology = data["methodology"]
    assert "Källa: Kolada" in methodology["data_sources"]
    (section,) = [s for s in methodology["sections"] if s["key"] == "kolada"]
    assert section["text"]["sv"].startswith("Källa: Kolada.")
    assert "SH-2023-001 school_eligibility_upper_secondary_share" in section["text"]["sv"]
    assert "egen bearbetning" in section["text"]["sv"]


def test_without_kolada_values_the_methodology_does_not_name_kolada(
    demo_settings: Settings,
) -> None:
    engine = make_engine(demo_settings)
    try:
        with Session(engine) as session:
            bond = get_bond(session, "SE0021150208")
            assert bond is not None
            data = draft_report(session=session, bond=bond, report_date=date(2026, 3, 31))
    finally:
        engine.dispose()
    assert "Källa: Kolada" not in data["methodology"]["data_sources"]
