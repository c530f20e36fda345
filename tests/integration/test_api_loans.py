"""The loans API: drafts, partial updates, 422 field errors, the review steps, access by organisation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from applications_builders import complete_case, make_borrower
from litestar.testing import TestClient
from sqlmodel import Session, select

from lanportfolj.db import session_scope
from lanportfolj.models import Loan
from lanportfolj.services import users
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration


@dataclass
class Api:
    client: TestClient
    analyst: dict[str, str]
    borrower: dict[str, str]
    other_borrower: dict[str, str]


def _token(
    session: Session, email: str, role: str, borrower_id: int | None = None
) -> dict[str, str]:
    user = users.create_user(session, email=email, role=role, borrower_id=borrower_id)
    _, raw = users.create_token(session, user=user, actor="test")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def api(settings, engine) -> Iterator[Api]:
    with session_scope(engine) as session:
        own = make_borrower(session)
        other = make_borrower(session, orgnr="212000-1355", name="Vara kommun")
        headers = (
            _token(session, "analyst@lender.se", "analyst"),
            _token(session, "b@stockholm.se", "borrower", own.id),
            _token(session, "b@vara.se", "borrower", other.id),
        )
    with TestClient(create_app(settings, engine=engine)) as client:
        yield Api(client, *headers)


def _case_json(**overrides):
    raw = complete_case(**overrides)
    raw["amount"] = "3800000000"
    for ind in raw["indicators"]:
        for key in ("baseline_year", "target_year"):
            ind[key] = int(ind[key])
    for goal in raw["goals"]:
        if "target_year" in goal:
            goal["target_year"] = int(goal["target_year"])
        if isinstance(goal["indicators"], str):
            goal["indicators"] = [goal["indicators"]]
    raw["follow_up_until_year"] = int(raw["follow_up_until_year"])
    return raw


def _create(api: Api, **overrides) -> str:
    response = api.client.post("/api/loans", json=_case_json(**overrides), headers=api.borrower)
    assert response.status_code == 201, response.text
    return response.json()["reference"]


def test_a_borrower_creates_a_draft_for_their_own_organisation(api):
    response = api.client.post("/api/loans", json=_case_json(), headers=api.borrower)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft"
    assert body["borrower_orgnr"] == "212000-0142"
    assert body["amount"] == "3800000000"
    assert [g["indicators"] for g in body["goals"]] == [
        ["dwellings_renovated"],
        ["reported_crimes"],
    ]
    listed = api.client.get("/api/loans", headers=api.borrower).json()
    assert [row["reference"] for row in listed] == [body["reference"]]
    assert api.client.get("/api/loans", headers=api.other_borrower).json() == []


def test_another_organisations_loan_is_not_found(api):
    reference = _create(api)
    for method, path, body in (
        ("GET", f"/api/loans/{reference}", None),
        ("GET", f"/api/loans/{reference}/assessment", None),
        ("PATCH", f"/api/loans/{reference}", {"title": "taken over"}),
        ("POST", f"/api/loans/{reference}/submit", None),
    ):
        response = api.client.request(method, path, json=body, headers=api.other_borrower)
        assert response.status_code == 404, (method, path)


def test_bad_values_give_422_with_every_field_named_and_nothing_saved(api):
    reference = _create(api)
    response = api.client.patch(
        f"/api/loans/{reference}",
        json={
            "programme_category": "space_travel",
            "indicators": [{"code": "not_in_the_library"}],
            "title": "Changed",
        },
        headers=api.borrower,
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["extra"]}
    assert {"programme_category", "indicators.0.code"} <= fields
    assert all(e["message_sv"] and e["message_en"] for e in response.json()["extra"])
    assert (
        api.client.get(f"/api/loans/{reference}", headers=api.borrower).json()["title"] != "Changed"
    )


def test_an_unreadable_body_is_422_naming_the_field(api):
    reference = _create(api)
    response = api.client.patch(
        f"/api/loans/{reference}", json={"follow_up_until_year": "soon"}, headers=api.borrower
    )
    assert response.status_code == 422
    assert response.json()["extra"][0]["field"] == "follow_up_until_year"


def test_a_patch_changes_only_what_is_sent(api):
    reference = _create(api)
    response = api.client.patch(
        f"/api/loans/{reference}", json={"comparison_group": "Norsborg"}, headers=api.borrower
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["case"]["comparison_group"] == "Norsborg"
    assert body["case"]["social_need"].startswith("Many households")
    assert len(body["goals"]) == 2


def test_the_review_through_the_api_ends_with_the_discount(api):
    reference = _create(api)
    client = api.client
    assert client.post(f"/api/loans/{reference}/submit", headers=api.borrower).status_code == 200
    # the borrower may not review their own application
    step = client.post(
        f"/api/loans/{reference}/transitions", json={"to": "under_review"}, headers=api.borrower
    )
    assert step.status_code == 403
    step = client.post(
        f"/api/loans/{reference}/transitions", json={"to": "under_review"}, headers=api.analyst
    )
    assert step.status_code == 200, step.text
    # editing stops once the review has started
    edit = client.patch(f"/api/loans/{reference}", json={"title": "x"}, headers=api.borrower)
    assert edit.status_code == 409
    assessment = client.get(f"/api/loans/{reference}/assessment", headers=api.borrower).json()
    assert assessment["overall"] == "needs_judgement"
    for criterion in ("E9", "E10", "E11"):
        judged = client.post(
            f"/api/loans/{reference}/judgements",
            json={"criterion": criterion, "result": "pass", "rationale": "Convincing."},
            headers=api.analyst,
        )
        assert judged.status_code == 201, judged.text
    assert judged.json()["overall"] == "eligible"
    early = client.post(
        f"/api/loans/{reference}/transitions", json={"to": "approved"}, headers=api.analyst
    )
    assert early.status_code == 409
    # Swedish by default, English on request
    assert "kommitténs" in early.json()["detail"]
    early = client.post(
        f"/api/loans/{reference}/transitions?lang=en", json={"to": "approved"}, headers=api.analyst
    )
    assert "committee" in early.json()["detail"]
    for kind in ("committee", "credit"):
        decided = client.post(
            f"/api/loans/{reference}/decisions",
            json={"kind": kind, "outcome": "approved", "rationale": "Sound."},
            headers=api.analyst,
        )
        assert decided.status_code == 201, decided.text
    assert decided.json()["discount_bp"] == "2"
    approved = client.post(
        f"/api/loans/{reference}/transitions", json={"to": "approved"}, headers=api.analyst
    )
    assert approved.status_code == 200, approved.text
    final = client.get(f"/api/loans/{reference}/assessment", headers=api.borrower).json()
    assert final["annual_saving_sek"] == "760000.00"
    assert {c["id"]: c["judged_by"] for c in final["criteria"]}["E9"] == "analyst@lender.se"


def test_a_bad_decision_is_422_and_a_borrower_may_not_decide(api):
    reference = _create(api)
    api.client.post(f"/api/loans/{reference}/submit", headers=api.borrower)
    api.client.post(
        f"/api/loans/{reference}/transitions", json={"to": "under_review"}, headers=api.analyst
    )
    bad = api.client.post(
        f"/api/loans/{reference}/decisions",
        json={"kind": "board", "outcome": "approved", "rationale": "x"},
        headers=api.analyst,
    )
    assert bad.status_code == 422
    assert "board" in bad.json()["detail"]
    denied = api.client.post(
        f"/api/loans/{reference}/decisions",
        json={"kind": "committee", "outcome": "approved", "rationale": "x"},
        headers=api.borrower,
    )
    assert denied.status_code == 403


def test_an_analyst_creates_for_a_named_borrower(api, engine):
    payload = _case_json() | {"borrower_orgnr": "212000-1355"}
    response = api.client.post("/api/loans", json=payload, headers=api.analyst)
    assert response.status_code == 201, response.text
    assert response.json()["borrower"] == "Vara kommun"
    missing = api.client.post("/api/loans", json=_case_json(), headers=api.analyst)
    assert missing.status_code == 422
    assert missing.json()["extra"][0]["field"] == "borrower_orgnr"
    with Session(engine) as session:
        assert len(session.exec(select(Loan)).all()) == 1


def test_the_schema_documents_the_bodies(api):
    schema = api.client.get("/schema/openapi.json").json()
    components = schema["components"]["schemas"]
    assert {"CaseBody", "DecisionBody", "JudgementBody", "AssessmentView"} <= set(components)
    assert "maturity_date" in components["CaseBody"]["properties"]
