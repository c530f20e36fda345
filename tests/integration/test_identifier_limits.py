"""Identifiers and limits at the edges (issue 14): the case form, the loans API, ``portfolio load``, the
import, the Kolada fetch and the load check all refuse what breaks the grammar, naming the field, and
store nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from shell_world import World, build_world, csrf, fast_hashing, signed_in
from sqlalchemy import func, text
from sqlmodel import Session, select
from typer.testing import CliRunner

from lanportfolj.cli import app as cli
from lanportfolj.db import session_scope
from lanportfolj.domain import identifiers as ids
from lanportfolj.models import Goal, IndicatorDefinition, Loan, Measurement
from lanportfolj.services import users
from lanportfolj.services.stored_identifiers import StoredIdentifierError
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration

SMALL = Path(__file__).parent.parent / "fixtures" / "portfolio_small"
BAD_CODE = "</script><b id=pwn>"

OWN_INDICATOR = """
  [[loan.own_indicator]]
  code = "{code}"
  name_sv = "Trygghet"
  name_en = "Safety"
  unit = "percent"
  kind = "outcome"
  direction = "increase"
  aggregation = "none"
  programme_categories = ["housing"]
  icma_category = "affordable_housing"
  sdg_targets = ["11.1"]
  definition_sv = "Andel som känner sig trygga."
  definition_en = "Share who feel safe."
  data_source = "Survey"
"""


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


@pytest.fixture
def app(settings, engine, world):
    return create_app(settings, engine=engine)


def _token(engine, email: str) -> dict[str, str]:
    with session_scope(engine) as db:
        user = users.find_user(db, email)
        assert user is not None
        _, raw = users.create_token(db, user=user, name="t", actor="test")
    return {"Authorization": f"Bearer {raw}"}


def _loans(engine) -> int:
    with Session(engine) as db:
        return db.exec(select(func.count()).select_from(Loan)).one()


def _own_definitions(engine) -> list[str]:
    with Session(engine) as db:
        return list(
            db.exec(
                select(IndicatorDefinition.code).where(IndicatorDefinition.loan_id.is_not(None))  # type: ignore[union-attr]
            ).all()
        )


def _post_form(client: TestClient, url: str, data: dict[str, str]) -> Any:
    token = csrf(client)
    return client.post(url, data={**data, "_csrf_token": token}, follow_redirects=False)


OWN_ROW = {
    "title": "Trygga gårdar",
    "indicators-0-code": BAD_CODE,
    "indicators-0-name": "Trygghet",
    "indicators-0-unit": "andel",
    "indicators-0-kind": "outcome",
}


# --- the case form -----------------------------------------------------------------------------------


def test_the_form_refuses_a_bad_own_indicator_code_and_stores_nothing(app, engine, world) -> None:
    client = signed_in(app, world.emails["borrower"])
    before = _loans(engine)
    response = _post_form(client, "/applications/new", OWN_ROW)
    assert response.status_code == 422
    assert "2–64" in response.text  # the grammar, shown next to the field
    assert 'id="pwn"' not in response.text and "<b id=pwn>" not in response.text
    assert "inget sparades" in response.text  # the page says so (Swedish by default)
    assert _loans(engine) == before
    assert _own_definitions(engine) == []


def test_the_form_refuses_an_edit_with_a_bad_code_and_keeps_the_draft_as_it_was(
    app, engine, world
) -> None:
    client = signed_in(app, world.emails["borrower"])
    created = _post_form(client, "/applications/new", {"title": "Utkast"})
    assert created.status_code in (200, 302)
    with Session(engine) as db:
        draft = db.exec(select(Loan).where(Loan.title == "Utkast")).one()
    response = _post_form(
        client, f"/applications/{draft.reference}/edit", {**OWN_ROW, "title": "Ändrad"}
    )
    assert response.status_code == 422
    with Session(engine) as db:
        assert (
            db.exec(select(Loan).where(Loan.reference == draft.reference)).one().title == "Utkast"
        )
    assert _own_definitions(engine) == []


def test_the_form_ignores_a_posted_reference(app, engine, world) -> None:
    client = signed_in(app, world.emails["borrower"])
    response = _post_form(
        client, "/applications/new", {"title": "Egen referens", "reference": "SH-1999-999"}
    )
    assert response.status_code in (200, 302)
    with Session(engine) as db:
        loan = db.exec(select(Loan).where(Loan.title == "Egen referens")).one()
    assert loan.reference != "SH-1999-999"
    assert ids.loan_reference_problem(loan.reference) is None
    assert loan.reference.startswith("SH-")


def test_the_form_refuses_an_over_long_text_naming_the_limit(app, engine, world) -> None:
    client = signed_in(app, world.emails["borrower"])
    before = _loans(engine)
    response = _post_form(
        client,
        "/applications/new",
        {"title": "Lång", "social_need": "x" * (ids.LONG_TEXT_MAX + 1)},
    )
    assert response.status_code == 422
    assert "10000" in response.text or "10 000" in response.text
    assert _loans(engine) == before


# --- the API -----------------------------------------------------------------------------------------


def _api_new(**extra: Any) -> dict[str, Any]:
    return {"title": "API-ansökan", **extra}


def test_the_api_refuses_a_bad_own_indicator_code_with_422(app, engine, world) -> None:
    headers = _token(engine, world.emails["borrower"])
    before = _loans(engine)
    with TestClient(app) as client:
        body = _api_new(
            indicators=[{"code": BAD_CODE, "name": "Trygghet", "unit": "andel", "kind": "outcome"}]
        )
        response = client.post("/api/loans", json=body, headers=headers)
    assert response.status_code == 422, response.text
    fields = {e["field"]: e for e in response.json()["extra"]}
    assert "indicators.0.code" in fields
    assert "2–64" in fields["indicators.0.code"]["message_sv"]
    assert "2–64" in fields["indicators.0.code"]["message_en"]
    assert _loans(engine) == before
    assert _own_definitions(engine) == []


def test_the_api_refuses_a_bad_code_in_a_patch_and_changes_nothing(app, engine, world) -> None:
    headers = _token(engine, world.emails["borrower"])
    with TestClient(app) as client:
        created = client.post("/api/loans", json=_api_new(), headers=headers)
        assert created.status_code == 201, created.text
        ref = created.json()["reference"]
        response = client.patch(
            f"/api/loans/{ref}",
            json={
                "title": "Changed",
                "indicators": [{"code": "Bad Code", "name": "x", "unit": "x", "kind": "output"}],
            },
            headers=headers,
        )
        assert response.status_code == 422
        assert client.get(f"/api/loans/{ref}", headers=headers).json()["title"] == "API-ansökan"


def test_a_borrower_cannot_choose_a_reference_in_the_api(app, engine, world) -> None:
    headers = _token(engine, world.emails["borrower"])
    before = _loans(engine)
    with TestClient(app) as client:
        response = client.post(
            "/api/loans", json=_api_new(reference="SH-2026-777"), headers=headers
        )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["extra"]] == ["reference"]
    assert _loans(engine) == before


def test_staff_may_set_a_reference_only_within_the_pattern(app, engine, world) -> None:
    headers = _token(engine, world.emails["analyst"])
    with TestClient(app) as client:
        base = _api_new(borrower_orgnr="212000-1355")
        bad = client.post("/api/loans", json={**base, "reference": "<b>SH"}, headers=headers)
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["extra"]] == ["reference"]
        good = client.post("/api/loans", json={**base, "reference": "SH-2026-777"}, headers=headers)
        assert good.status_code == 201, good.text
        assert good.json()["reference"] == "SH-2026-777"


def test_too_many_goals_and_over_long_texts_are_422_naming_the_limit(app, engine, world) -> None:
    headers = _token(engine, world.emails["borrower"])
    before = _loans(engine)
    with TestClient(app) as client:
        goals = [{"text": f"Mål {n}"} for n in range(ids.MAX_GOALS + 1)]
        response = client.post("/api/loans", json=_api_new(goals=goals), headers=headers)
        assert response.status_code == 422
        entry = next(e for e in response.json()["extra"] if e["field"] == "goals")
        assert "20" in entry["message_en"] and "20" in entry["message_sv"]

        indicators = [{"code": f"code_{n}"} for n in range(ids.MAX_INDICATORS + 1)]
        response = client.post("/api/loans", json=_api_new(indicators=indicators), headers=headers)
        assert response.status_code == 422
        assert any(e["field"] == "indicators" for e in response.json()["extra"])

        response = client.post(
            "/api/loans", json=_api_new(title="x" * (ids.NAME_MAX + 1)), headers=headers
        )
        assert response.status_code == 422
        entry = next(e for e in response.json()["extra"] if e["field"] == "title")
        assert "200" in entry["message_en"]
    assert _loans(engine) == before
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(Goal)).one() == 0


def test_a_deeply_nested_body_is_422_before_it_is_decoded(app, engine, world) -> None:
    headers = _token(engine, world.emails["borrower"])
    with TestClient(app) as client:
        deep = b'{"sdgs": ' + b"[" * 5000 + b"]" * 5000 + b"}"
        response = client.post(
            "/api/loans", content=deep, headers={**headers, "content-type": "application/json"}
        )
    assert response.status_code == 422
    entry = response.json()["extra"][0]
    assert entry["field"] == "body" and "20" in entry["message_en"]


# --- portfolio load and the import --------------------------------------------------------------------


def _portfolio_with_own_code(tmp_path: Path, code: str) -> Path:
    target = tmp_path / "portfolio"
    shutil.copytree(SMALL, target)
    toml = target / "portfolio.toml"
    content = toml.read_text(encoding="utf-8")
    marker = "  [[loan.indicator]]"
    at = content.index(marker)
    toml.write_text(
        content[:at] + OWN_INDICATOR.format(code=code) + "\n" + content[at:], encoding="utf-8"
    )
    return target


def test_portfolio_load_refuses_a_bad_own_code_with_exit_1(settings, engine, tmp_path) -> None:
    folder = _portfolio_with_own_code(tmp_path, "Bad-Code")
    result = CliRunner().invoke(
        cli, ["--database-url", settings.database_url, "portfolio", "load", str(folder)]
    )
    assert result.exit_code == 1, result.output
    assert "code" in result.output and "Bad-Code" in result.output
    assert _loans(engine) == 0
    # the same folder with a code that fits loads
    good = _portfolio_with_own_code(tmp_path / "good", "safe_share")
    ok = CliRunner().invoke(
        cli, ["--database-url", settings.database_url, "portfolio", "load", str(good)]
    )
    assert ok.exit_code == 0, ok.output
    assert _own_definitions(engine) == ["safe_share"]


def test_portfolio_load_refuses_a_reference_outside_the_pattern(settings, engine, tmp_path) -> None:
    target = tmp_path / "portfolio"
    shutil.copytree(SMALL, target)
    toml = target / "portfolio.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('"SH-2023-001"', '"SH<2023>001"'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--database-url", settings.database_url, "portfolio", "load", str(target)]
    )
    assert result.exit_code == 1
    assert "reference" in result.output
    assert _loans(engine) == 0


def test_the_demo_and_the_library_fit_the_grammar(demo_engine) -> None:
    from lanportfolj.services.stored_identifiers import stored_identifier_problems

    assert stored_identifier_problems(demo_engine) == []


def test_an_import_row_with_a_bad_group_or_code_is_a_row_error(app, engine, world) -> None:
    headers = _token(engine, world.emails["borrower"])
    content = (
        "loan,indicator,year,value,estimated,comment,group\n"
        f"{world.own_loan},</script>,2024,1,,,\n"
        f"{world.own_loan},dwellings_renovated,2024,1,,,<a href=//x>B</a>\n"
    ).encode()
    with TestClient(app) as client:
        response = client.post(
            "/api/imports",
            files={"file": ("values.csv", content, "text/csv")},
            data={"dry_run": "true"},
            headers=headers,
        )
    assert response.status_code == 422, response.text
    by_place = {(e["row"], e["column"]): e for e in response.json()["errors"]}
    assert by_place[(2, "indicator")]["code"] == "unknown-indicator"
    assert by_place[(3, "group")]["code"] == "bad-group-name"
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(Measurement)).one() == 0


# --- Kolada years ---------------------------------------------------------------------------------------


def test_kolada_years_over_25_are_refused_in_the_cli_and_the_api(
    app, settings, engine, world
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--database-url",
            settings.database_url,
            "kolada",
            "fetch",
            world.own_loan,
            "--years",
            "1990-2026",
        ],
    )
    assert result.exit_code == 1
    assert "--years" in result.output and "25" in result.output
    headers = _token(engine, world.emails["analyst"])
    with TestClient(app) as client:
        response = client.post(
            f"/api/loans/{world.own_loan}/kolada?years=1990-2026", headers=headers
        )
    assert response.status_code == 400
    assert "25" in response.text


# --- the load check ------------------------------------------------------------------------------------


def test_db_upgrade_and_app_start_refuse_a_stored_bad_code(settings, engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE indicator_definition SET code = :bad WHERE code = :good"),
            {"bad": BAD_CODE, "good": "dwellings_renovated"},
        )
        row_id = conn.execute(
            text("SELECT id FROM indicator_definition WHERE code = :bad"), {"bad": BAD_CODE}
        ).scalar_one()
    result = CliRunner().invoke(cli, ["--database-url", settings.database_url, "db", "upgrade"])
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    assert "table indicator_definition" in flat
    assert f"row id {row_id}" in flat
    assert "field code" in flat
    assert "</script><b id=pwn>" in flat
    assert "UPDATE" in flat  # how to fix it
    with pytest.raises(StoredIdentifierError) as caught:
        create_app(settings, engine=engine)
    assert f"row id {row_id}" in str(caught.value)
    serve = CliRunner().invoke(cli, ["--database-url", settings.database_url, "serve"])
    assert serve.exit_code == 1 and "indicator_definition" in " ".join(serve.output.split())


def test_the_load_check_names_each_kind_of_column(settings, engine) -> None:
    from lanportfolj.services.stored_identifiers import stored_identifier_problems

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO borrower (orgnr, name, kind, member, created_at) "
                "VALUES ('212000-1356', 'Fel', 'municipality', true, CURRENT_TIMESTAMP)"
            )
        )
    found = stored_identifier_problems(engine)
    assert [(p.table, p.field, p.value) for p in found] == [("borrower", "orgnr", "212000-1356")]


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "1" + "0" * 40},
        {"total_project_cost": "9" * 30},
        {"margin_bp": "1e30"},
        {"planned_sample_per_arm": 10**15},
        {"planned_sample_per_arm": 2**63},
        {"follow_up_until_year": 99999},
        {"goals": [{"text": "x", "target_value": "1e40"}]},
        {"indicators": [{"code": "dwellings_renovated", "baseline_value": "1" + "0" * 30}]},
    ],
)
def test_numbers_too_big_for_their_column_are_422_not_500(app, engine, world, body) -> None:
    headers = _token(engine, world.emails["borrower"])
    before = _loans(engine)
    with TestClient(app) as client:
        response = client.post("/api/loans", json=_api_new(**body), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["extra"], response.text
    assert _loans(engine) == before


def test_an_over_long_rationale_or_reason_is_refused(app, engine, world) -> None:
    headers = _token(engine, world.emails["analyst"])
    long = "x" * (ids.LONG_TEXT_MAX + 1)
    with TestClient(app) as client:
        base = _api_new(borrower_orgnr="212000-1355")
        ref = client.post("/api/loans", json=base, headers=headers).json()["reference"]
        assert client.post(f"/api/loans/{ref}/submit", headers=headers).status_code == 200
        step = client.post(
            f"/api/loans/{ref}/transitions", json={"to": "draft", "reason": long}, headers=headers
        )
        assert step.status_code == 422
        assert "10000" in step.json()["detail"] and "reason" in step.json()["detail"]
        judged = client.post(
            f"/api/loans/{ref}/judgements",
            json={"criterion": "E9", "result": "pass", "rationale": long},
            headers=headers,
        )
        assert judged.status_code == 422
        decided = client.post(
            f"/api/loans/{ref}/decisions",
            json={"kind": "committee", "outcome": "approved", "rationale": long},
            headers=headers,
        )
        assert decided.status_code == 422
        assert client.get(f"/api/loans/{ref}", headers=headers).json()["status"] == "submitted"
