"""Issue 14's hostile-input suite over HTTP: every field a user can write has a row in ``FIELDS`` (walked from
the OpenAPI schema, the import file's columns and every form each role is shown), every payload put into
every field is stored intact or refused with a clean 4xx naming the field, and every download of the
hostile world is inert. The pages themselves are opened in Chromium by ``tests/browser/test_hostile_pages.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar import MediaType, Response, get, post
from litestar.testing import TestClient
from tests.robustness.hostile_world import (
    FIELDS,
    PAYLOADS,
    Actors,
    HostileWorld,
    build_hostile_world,
    case_body,
    concrete_urls,
    csrf_of,
    csv_problems,
    draft_downloads,
    ensure_review,
    form_fields,
    get_routes,
    import_csv,
    import_fields,
    make_actors,
    openapi_fields,
    world_params,
    xlsx_problems,
)

from lanportfolj.config import Settings
from lanportfolj.db import make_engine
from lanportfolj.paths import demo_dir
from lanportfolj.services import users
from lanportfolj.web import access
from lanportfolj.web.app import create_app

# about two minutes of hundreds of hostile requests: run once, on SQLite, in the slow step (what it guards is
# what pages and files make of stored text, not the database)
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def hostile_settings(demo_settings: Settings) -> Settings:
    # the Kolada button answers from the demo's recorded JSON: no network, and its forms are shown
    return dataclasses.replace(demo_settings, kolada_fixtures=str(demo_dir() / "kolada"))


def _fast_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2 for the many sign-ins (the algorithm and code path stay the same)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def app_and_clients(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Any, list[TestClient]]]:
    _fast_hashing(monkeypatch)
    settings = hostile_settings(demo_settings)
    engine = make_engine(settings)
    app = create_app(settings, engine=engine)
    clients: list[TestClient] = []
    yield app, engine, clients
    if clients:
        clients[0].__exit__(None, None, None)
    engine.dispose()


def _client_factory(app: Any, clients: list[TestClient]) -> Any:
    def new_client() -> httpx.Client:
        # only the first client runs the app's lifespan: several open at once hang at shutdown
        client = TestClient(app)
        if not clients:
            client.__enter__()
        clients.append(client)
        return client

    return new_client


@pytest.fixture
def actors(app_and_clients: tuple[Any, Any, list[TestClient]]) -> Actors:
    """The demo's users signed in; a draft of the borrower's and an application under review."""
    app, engine, clients = app_and_clients
    world = make_actors(engine, _client_factory(app, clients))
    created = world.api("borrower", "POST", "/api/loans", json=case_body())
    assert created.status_code == 201, created.text
    world.draft = created.json()["reference"]
    review = world.api("borrower", "POST", "/api/loans", json=case_body(title="Granskas"))
    assert review.status_code == 201, review.text
    world.review = review.json()["reference"]
    ensure_review(world)
    return world


# --- 1. the inventory --------------------------------------------------------------------------------


def _pages_as_every_role(app: Any, world: Actors, params: dict[str, list[str]]) -> dict[str, str]:
    """Every GET page (ids from the data) as every role, and the pages a form post answers with (the
    import preview, the Kolada figures, the publish confirmation): html by "role url"."""
    pages, _downloads, missing = concrete_urls(get_routes(app), params)
    assert not missing, f"routes with a path parameter the suite has no value for: {missing}"
    seen: dict[str, str] = {}
    for role in ("anonymous", "analyst", "borrower", "investor", "admin"):
        client = world.clients[role]
        for url in pages:
            response = client.get(url)
            assert response.status_code < 500, (role, url, response.status_code)
            if "text/html" in response.headers.get("content-type", ""):
                seen[f"{role} {url}"] = response.text
    body = import_csv(
        [
            {
                "loan": world.own_loan,
                "indicator": world.api("analyst", "GET", f"/api/loans/{world.own_loan}").json()[
                    "indicators"
                ][0]["code"],
                "year": "2025",
                "value": "1",
                "estimated": "",
                "comment": "",
                "group": "",
            }
        ]
    )
    borrower = world.clients["borrower"]

    preview = borrower.post(
        "/imports",
        data={"_csrf_token": csrf_of(borrower)},
        files={"file": ("values.csv", body, "text/csv")},
    )
    seen["borrower POST /imports"] = preview.text
    kolada = world.form("borrower", f"/loans/{world.own_loan}/kolada", {"compare": "similar"})
    seen["borrower POST kolada"] = kolada.text
    confirm = world.form(
        "analyst", f"/reports/{world.isin}/publish", {"date": "2026-03-31", "fx_rate": ""}
    )
    seen["analyst POST publish"] = confirm.text
    return seen


def test_every_writable_field_has_a_row(app_and_clients, actors: Actors) -> None:
    """The OpenAPI schema's write operations, the import file's columns and every form input any role
    is shown, against ``FIELDS``: a field without a row fails naming it, and so does a row nothing has."""
    app, _engine, _clients = app_and_clients
    spec = actors.clients["anonymous"].get("/schema/openapi.json").json()
    found = openapi_fields(spec) | import_fields()
    params = {
        "reference": [actors.own_loan, actors.draft, actors.review],
        "submission_id": [],
        "isin": [actors.isin],
        "report_date": ["2026-03-31"],
        "user_id": [str(actors.user_ids["investor"])],
        "token_id": [],
    }
    ids = {ref: "reference" for ref in params["reference"]}
    ids[actors.isin] = "isin"
    for html in _pages_as_every_role(app, actors, params).values():
        found |= form_fields(html, ids)
    missing = sorted(found - set(FIELDS))
    stale = sorted(key for key in set(FIELDS) - found if not FIELDS[key].shown_when)
    assert not missing, "fields a user can write without a row in FIELDS:\n" + "\n".join(
        " ".join(key) for key in missing
    )
    # a row the app no longer has would hide a renamed field from the storing test
    assert not stale, "rows in FIELDS for fields no page or schema has:\n" + "\n".join(
        " ".join(key) for key in stale
    )


# --- 2. every payload into every field ---------------------------------------------------------------

OPERATIONS = sorted({(channel, operation) for channel, operation, _ in FIELDS})


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op[0]} {op[1]}")
def test_every_payload_is_stored_intact_or_refused_naming_the_field(
    actors: Actors, operation: tuple[str, str]
) -> None:
    problems: list[str] = []
    for (channel, where, name), row in FIELDS.items():
        if (channel, where) != operation:
            continue
        for key, payload in PAYLOADS.items():
            label = f"{channel} {where} {name} ← {key}"
            try:
                outcome = row.store(actors, payload)
            except httpx.InvalidURL:
                continue  # 100 kB does not fit in a URL: no client can send it as a query
            except (httpx.HTTPError, ValueError) as exc:
                problems.append(f"{label}: the request failed: {exc!r}")
                continue
            if outcome.status >= 500:
                problems.append(f"{label}: {outcome.status} {outcome.detail[:200]}")
            elif row.grammar and outcome.stored and outcome.kept is not False:
                problems.append(f"{label}: the grammar should refuse it, it was stored")
            elif not row.grammar and outcome.stored and outcome.kept is False:
                problems.append(f"{label}: stored, but not as typed")
            elif not outcome.stored and not outcome.refused:
                problems.append(
                    f"{label}: neither stored nor refused naming the field: "
                    f"{outcome.status} {outcome.detail[:200]}"
                )
    assert not problems, "\n".join(problems)


# --- 3. the downloads of the hostile world -----------------------------------------------------------


@pytest.fixture
def hostile(app_and_clients: tuple[Any, Any, list[TestClient]]) -> HostileWorld:
    app, engine, clients = app_and_clients
    return build_hostile_world(engine, _client_factory(app, clients))


def test_every_download_is_inert_for_every_role(app_and_clients, hostile: HostileWorld) -> None:
    """Every XLSX has no formula cell and the texts intact; every CSV the project writes has no cell a
    spreadsheet would run; no download is a 5xx; the hostile texts are really in them."""
    app, _engine, _clients = app_and_clients
    _pages, downloads, missing = concrete_urls(get_routes(app), world_params(hostile))
    assert not missing, f"routes with a path parameter the suite has no value for: {missing}"
    downloads += draft_downloads(hostile.actors.isin)
    problems: list[str] = []
    seen = 0
    fetched = 0
    for role in ("analyst", "borrower", "investor", "admin"):
        client = hostile.actors.clients[role]
        for url in downloads:
            response = client.get(url)
            where = f"{role} {url}"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
                continue
            if response.status_code != 200:
                continue
            fetched += 1
            kind = response.headers.get("content-type", "")
            if url.endswith("/file"):
                # the borrower's own upload, given back byte for byte: an attachment, never a page
                disposition = response.headers.get("content-disposition", "")
                if not disposition.startswith("attachment"):
                    problems.append(f"{where}: the original file is not an attachment")
                continue
            if "spreadsheetml" in kind or url.endswith(".xlsx") or "format=xlsx" in url:
                found, n = xlsx_problems(response.content, where)
            elif "csv" in kind or url.endswith(".csv"):
                found, n = csv_problems(response.content, where)
            else:
                found, n = [], 0
            problems += found
            seen += n
    assert fetched, "no download answered 200"
    assert not problems, "\n".join(problems)
    assert seen, "no download carried the stored payloads: the test would not see them"


class SurpriseBody(msgspec.Struct):
    """A body with a field no row of FIELDS knows."""

    nickname: str


def test_a_new_field_without_a_row_is_found_and_named(settings: Settings) -> None:
    """The inventory's own check: a page with a new form input and an API call with a new body field
    (added the way a developer would) are both reported as fields without a row."""

    @get("/test-only/new-form", opt=access.allow(access.PUBLIC), sync_to_thread=False)
    def new_form() -> Response[str]:
        html = '<form method="post" action="/applications/new"><input name="nickname"></form>'
        return Response(html, media_type=MediaType.HTML)

    @post("/api/test-only/surprise", opt=access.allow(access.PUBLIC), sync_to_thread=False)
    def surprise(data: SurpriseBody) -> str:
        return data.nickname

    app = create_app(settings, extra_routes=[new_form, surprise])
    assert "/test-only/new-form" in concrete_urls(get_routes(app), {})[0]
    with TestClient(app) as client:
        html = client.get("/test-only/new-form").text
        spec = client.get("/schema/openapi.json").json()
    missing = (form_fields(html, {}) | openapi_fields(spec)) - set(FIELDS)
    assert missing == {
        ("form", "POST /applications/new", "nickname"),
        ("api", "POST /api/test-only/surprise", "body.nickname"),
    }
