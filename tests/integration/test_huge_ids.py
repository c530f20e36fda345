"""A huge or negative number in a path, query or form field finds nothing: 404 or 400, never a 500.

Python's integers have no upper bound; the database drivers' do (SQLite raises OverflowError beyond 2⁶³−1,
PostgreSQL an out-of-range error). Run this file on both: ``LANPORTFOLJ_TEST_DATABASE_URL=… pytest …``.
``INT_ROUTES`` must name every route with an ``:int}`` path parameter the application registers.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from shell_world import World, build_world, csrf, fast_hashing, signed_in

from lanportfolj.domain.identifiers import MAX_ROW_ID
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration

HUGE = "99999999999999999999999"
NUMBERS = (HUGE, str(MAX_ROW_ID + 1), "-1", "0")

#: (method, Litestar's path) → who asks, and the form it posts.
INT_ROUTES: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("POST", "/admin/users/{user_id:int}/role"): ("admin", {"role": "investor"}),
    ("POST", "/admin/users/{user_id:int}/unlock"): ("admin", {}),
    ("POST", "/admin/tokens/{token_id:int}/revoke"): ("admin", {}),
    ("GET", "/admin/users/{user_id:int}"): ("admin", {}),
    ("POST", "/admin/users/{user_id:int}/password"): ("admin", {"password": "a-new-password-1"}),
    ("POST", "/admin/users/{user_id:int}/sessions/end"): ("admin", {}),
    ("POST", "/admin/users/{user_id:int}/deactivate"): ("admin", {}),
    ("POST", "/admin/users/{user_id:int}/activate"): ("admin", {}),
    ("POST", "/account/tokens/{token_id:int}/revoke"): ("borrower", {}),
    ("GET", "/imports/{submission_id:int}"): ("borrower", {}),
    ("GET", "/imports/{submission_id:int}/file"): ("analyst", {}),
    # a real loan, a case study id that cannot exist
    ("POST", "/loans/{reference:str}/case-studies/{study_id:int}/approve"): ("analyst", {}),
}
#: Integer query parameters and form fields: (method, path with {n}, who, form).
INT_FIELDS: list[tuple[str, str, str, dict[str, str]]] = [
    ("GET", "/?page={n}", "analyst", {}),
    ("GET", "/?page={n}", "borrower", {}),
    ("GET", "/admin/audit?page={n}", "admin", {}),
    ("GET", "/analyst/applications?borrower={n}", "analyst", {}),
    (
        "POST",
        "/admin/users",
        "admin",
        {
            "email": "n@test.example",
            "role": "borrower",
            "borrower_id": "{n}",
            "password": "long enough pass",
        },
    ),
    ("POST", "/admin/users/{spare}/role", "admin", {"role": "borrower", "borrower_id": "{n}"}),
]


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


@pytest.fixture
def app(settings, engine, world):
    return create_app(settings, engine=engine)


def _send(client: TestClient, method: str, url: str, form: dict[str, str]) -> Any:
    if method == "GET":
        return client.get(url, follow_redirects=False)
    token = csrf(client)
    return client.request(
        method,
        url,
        data={**form, "_csrf_token": token},
        headers={"x-csrftoken": token},
        follow_redirects=False,
    )


def test_every_int_route_is_listed(app) -> None:
    registered = {
        (method, route.path)
        for route in app.routes
        if ":int}" in route.path
        for method in getattr(route, "methods", ())
        if method not in ("HEAD", "OPTIONS")
    }
    assert registered == set(INT_ROUTES)


@pytest.mark.parametrize("key", sorted(INT_ROUTES), ids=lambda k: f"{k[0]} {k[1]}")
@pytest.mark.parametrize("number", NUMBERS)
def test_huge_path_ids_find_nothing(app, world: World, key, number: str) -> None:
    method, path = key
    who, form = INT_ROUTES[key]
    client = signed_in(app, world.emails[who])
    # a string parameter is a real loan of the world, so only the integer is out of range
    path = path.replace("{reference:str}", world.own_loan)
    url = path.split("{")[0] + number + path.split("}", 1)[1]
    response = _send(client, method, url, form)
    assert response.status_code in (400, 404), (url, response.status_code, response.text[:300])


@pytest.mark.parametrize("method,path,who,form", INT_FIELDS)
@pytest.mark.parametrize("number", NUMBERS)
def test_huge_numbers_in_queries_and_forms_are_refused_or_clamped(
    app, world: World, method: str, path: str, who: str, form: dict[str, str], number: str
) -> None:
    client = signed_in(app, world.emails[who])
    url = path.format(n=number, spare=world.spare_user_id)
    filled = {k: v.format(n=number) for k, v in form.items()}
    response = _send(client, method, url, filled)
    assert response.status_code < 500, (url, response.status_code, response.text[:300])
    assert response.status_code in (200, 302, 400, 404, 422), (url, response.status_code)


def test_a_huge_page_shows_the_last_page(app, world: World) -> None:
    client = signed_in(app, world.emails["analyst"])
    response = client.get(f"/admin/audit?page={HUGE}")
    assert response.status_code == 403  # the analyst may not read the audit log at all
    admin = signed_in(app, world.emails["admin"])
    last = admin.get(f"/admin/audit?page={HUGE}")
    assert last.status_code == 200
    first = admin.get("/admin/audit?page=1")
    # one page of events in this small world: the huge page is the same (last) page
    assert last.text.count("<tr") == first.text.count("<tr") > 1
