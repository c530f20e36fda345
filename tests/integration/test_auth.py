"""Signing in and out, lock-out, CSRF, sessions, API tokens, admin pages and the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import get, post
from litestar.testing import TestClient
from shell_world import PASSWORD, World, build_world, csrf, fast_hashing, sign_in
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from lanportfolj.cli import app as cli_app
from lanportfolj.models import ApiToken, AuditEvent, UserAccount
from lanportfolj.services import users
from lanportfolj.web.access import SIGNED_IN, CurrentUser, allow
from lanportfolj.web.app import create_app
from lanportfolj.web.auth import CSRF_COOKIE, SESSION_COOKIE

pytestmark = pytest.mark.integration


@get("/api/test-only/whoami", opt=allow(*SIGNED_IN), sync_to_thread=False)
def whoami(user: CurrentUser) -> dict[str, Any]:
    return {"email": user.email, "role": user.role}


@post("/api/test-only/echo", opt=allow(*SIGNED_IN), sync_to_thread=False)
def echo(user: CurrentUser, data: dict[str, Any]) -> dict[str, Any]:
    return {"email": user.email, "data": data}


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


@pytest.fixture
def client(settings, engine, world) -> TestClient:
    with TestClient(create_app(settings, engine=engine, extra_routes=[whoami, echo])) as c:
        yield c


def _actions(engine) -> list[tuple[str, str]]:
    with Session(engine) as db:
        return [
            (e.action, e.actor)
            for e in db.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        ]


def test_sign_in_sets_a_protected_session_cookie_and_shows_the_role_menu(client, world) -> None:
    response = sign_in(client, world.emails["analyst"])
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    cookie = next(c for c in response.headers.get_list("set-cookie") if SESSION_COOKIE in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/")
    assert "Inloggad som analyst@test.example." in page.text  # the flash, in Swedish by default
    assert 'href="/analyst/applications"' in page.text
    assert 'href="/admin/users"' not in page.text


def test_cookies_are_secure_outside_development(settings, engine, world) -> None:
    from dataclasses import replace

    app = create_app(replace(settings, development=False), engine=engine)
    with TestClient(app, base_url="https://testserver.local") as c:
        first = c.get("/login")
        assert any(CSRF_COOKIE in h and "Secure" in h for h in first.headers.get_list("set-cookie"))
        token = c.cookies.get(CSRF_COOKIE)
        response = c.post(
            "/login",
            data={"email": world.emails["admin"], "password": PASSWORD, "_csrf_token": token},
            follow_redirects=False,
        )
    cookies = response.headers.get_list("set-cookie")
    assert any(SESSION_COOKIE in c and "Secure" in c for c in cookies)


def test_wrong_password_is_refused_and_recorded(client, world, engine) -> None:
    response = sign_in(client, world.emails["analyst"], "not the password")
    assert response.status_code == 400
    assert "Fel e-postadress eller lösenord." in response.text
    assert client.get("/admin/audit", follow_redirects=False).status_code == 302
    assert ("login.failed", "analyst@test.example") in _actions(engine)


def test_repeated_failures_make_that_client_wait_even_for_the_right_password(
    client, world, engine, settings
) -> None:
    for _ in range(settings.login_max_failures):
        assert sign_in(client, world.emails["borrower"], "guess").status_code == 400
    waiting = sign_in(client, world.emails["borrower"], "guess")
    assert waiting.status_code == 429
    assert waiting.headers["retry-after"] == str(settings.login_delay_seconds)
    assert "Vänta" in waiting.text
    assert sign_in(client, world.emails["borrower"]).status_code == 429
    # the wait runs out
    with Session(engine) as db:
        later = datetime.now(UTC) + timedelta(seconds=settings.login_delay_seconds + 1)
        assert users.authenticate(
            db,
            email=world.emails["borrower"],
            password=PASSWORD,
            settings=settings,
            client="testclient",
            now=later,
        ).ok


def test_an_address_with_many_failures_is_throttled(settings, engine, world) -> None:
    from dataclasses import replace

    app = create_app(replace(settings, login_client_max_failures=3), engine=engine)
    with TestClient(app) as c:
        for n in range(3):
            assert sign_in(c, f"nobody{n}@x.example", "guess").status_code == 400
        assert sign_in(c, world.emails["analyst"]).status_code == 429


def test_forms_without_the_csrf_token_are_refused(client, world) -> None:
    csrf(client)
    response = client.post("/login", data={"email": world.emails["analyst"], "password": PASSWORD})
    assert response.status_code == 403
    assert "Formuläret hade gått ut" in response.text


def test_logout_ends_the_session(client, world, engine) -> None:
    sign_in(client, world.emails["admin"])
    assert client.get("/admin/users").status_code == 200
    response = client.post("/logout", data={"_csrf_token": csrf(client)}, follow_redirects=False)
    assert response.headers["location"] == "/login"
    gone = client.get("/admin/users", follow_redirects=False)
    assert gone.status_code == 302
    assert gone.headers["location"] == "/login?next=/admin/users"
    assert ("logout", "admin@test.example") in _actions(engine)


def test_next_only_leads_within_the_site(client, world) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": world.emails["analyst"],
            "password": PASSWORD,
            "next": "//evil.example/",
            "_csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_a_new_password_ends_older_sessions(client, world, engine) -> None:
    sign_in(client, world.emails["analyst"])
    assert client.get("/", follow_redirects=False).text.count("analyst@test.example") >= 1
    with Session(engine) as db:
        user = users.find_user(db, world.emails["analyst"])
        assert user is not None
        users.set_password(db, user=user, password="another long password", actor="test")
        db.commit()
    assert client.get("/loans/TO-2025-001", follow_redirects=False).status_code == 302


def test_a_role_change_applies_at_once(client, world, engine) -> None:
    sign_in(client, world.emails["admin"])
    assert client.get("/admin/users").status_code == 200
    with Session(engine) as db:
        user = users.find_user(db, world.emails["admin"])
        assert user is not None
        users.change_role(db, user=user, role="analyst", actor="test")
        db.commit()
    # the session of the old role ends; signed in again, the new role applies
    assert client.get("/admin/users", follow_redirects=False).status_code == 302
    sign_in(client, world.emails["admin"])
    assert client.get("/admin/users").status_code == 403


def test_admin_adds_a_user_and_changes_a_role_with_audit(client, world, engine) -> None:
    sign_in(client, world.emails["admin"])
    token = csrf(client)
    added = client.post(
        "/admin/users",
        data={
            "email": "New.Person@Vara.se",
            "role": "borrower",
            "borrower_id": str(world.own_borrower_id),
            "password": "a long enough password",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert added.status_code == 302
    page = client.get("/admin/users")
    assert "Användaren new.person@vara.se lades till." in page.text
    with Session(engine) as db:
        created = users.find_user(db, "new.person@vara.se")
        assert created is not None and created.borrower_id == world.own_borrower_id
        assert created.password_hash.startswith("$argon2id$")
    missing_org = client.post(
        "/admin/users",
        data={"email": "b2@x.se", "role": "borrower", "_csrf_token": token},
    )
    assert missing_org.status_code == 400
    assert "måste höra till en låntagarorganisation" in missing_org.text
    client.post(
        f"/admin/users/{created.id}/role",
        data={"role": "investor", "_csrf_token": token},
        follow_redirects=False,
    )
    with Session(engine) as db:
        event = db.exec(select(AuditEvent).where(AuditEvent.action == "user.role_changed")).one()
        assert event.actor == "admin@test.example"
        assert event.before is not None and event.before["role"] == "borrower"
        assert event.after is not None and event.after["role"] == "investor"
        assert event.after["borrower_id"] is None
    audit = client.get("/admin/audit?action=user.role_changed")
    assert "user.role_changed" in audit.text and "new.person@vara.se" in audit.text


def test_admins_cannot_demote_themselves(client, world) -> None:
    sign_in(client, world.emails["admin"])
    response = client.post(
        f"/admin/users/{world.user_ids['admin']}/role",
        data={"role": "analyst", "_csrf_token": csrf(client)},
    )
    assert response.status_code == 400
    assert client.get("/admin/users").status_code == 200


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(client, world, engine) -> None:
    sign_in(client, world.emails["admin"])
    page = client.post(
        "/admin/tokens",
        data={
            "email": world.emails["borrower"],
            "name": "upload script",
            "_csrf_token": csrf(client),
        },
    )
    assert page.status_code == 200
    raw = page.text.split('data-testid="new-token">')[1].split("<")[0]
    assert len(raw) >= 40
    assert raw not in client.get("/admin/tokens").text  # shown once only
    with Session(engine) as db:
        stored = db.exec(select(ApiToken).where(ApiToken.name == "upload script")).one()
        assert stored.token_hash == users.token_hash(raw) and raw not in stored.token_hash
    script = TestClient(client.app)
    auth = {"Authorization": f"Bearer {raw}"}
    assert script.get("/api/test-only/whoami", headers=auth).json() == {
        "email": "borrower@test.example",
        "role": "borrower",
    }
    # scripts with a token need no CSRF token
    assert script.post("/api/test-only/echo", headers=auth, json={"a": 1}).status_code == 201
    client.post(
        f"/admin/tokens/{stored.id}/revoke",
        data={"_csrf_token": csrf(client)},
        follow_redirects=False,
    )
    refused = script.get("/api/test-only/whoami", headers=auth)
    assert refused.status_code == 401
    assert "Traceback" not in refused.text
    assert (
        script.get("/api/test-only/whoami", headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )
    assert [a for a, _ in _actions(engine) if a.startswith("token.")] == [
        "token.created",  # the spare user's, from the world
        "token.created",
        "token.revoked",
    ]


def test_a_browser_session_calling_the_api_still_needs_csrf(client, world) -> None:
    sign_in(client, world.emails["analyst"])
    assert client.get("/api/test-only/whoami").json()["role"] == "analyst"
    assert client.post("/api/test-only/echo", json={"a": 1}).status_code == 403
    ok = client.post("/api/test-only/echo", json={"a": 1}, headers={"x-csrftoken": csrf(client)})
    assert ok.status_code == 201


def test_cli_creates_lists_and_tokens(settings, engine, monkeypatch) -> None:
    fast_hashing(monkeypatch)
    runner = CliRunner()
    base = ["--database-url", settings.database_url]
    made = runner.invoke(
        cli_app,
        [*base, "users", "create", "Ops@Lender.se", "--role", "admin", "--password-stdin"],
        input="a long cli password\n",
    )
    assert made.exit_code == 0, made.output
    refused = runner.invoke(cli_app, [*base, "users", "create", "b@x.se", "--role", "borrower"])
    assert refused.exit_code == 1
    listed = runner.invoke(cli_app, [*base, "users", "list", "--json"])
    assert '"email": "ops@lender.se"' in listed.output
    token = runner.invoke(cli_app, [*base, "tokens", "create", "ops@lender.se", "--name", "ci"])
    assert token.exit_code == 0
    raw = token.output.strip().splitlines()[-1]
    with Session(engine) as db:
        assert users.user_for_token(db, raw) is not None
        token_id = db.exec(select(ApiToken.id)).one()
    assert runner.invoke(cli_app, [*base, "tokens", "revoke", str(token_id)]).exit_code == 0
    with Session(engine) as db:
        assert users.user_for_token(db, raw) is None
        assert users.verify_password(
            db.exec(select(UserAccount.password_hash)).one(), "a long cli password"
        )


def test_demo_users_are_created_once(demo_session: Session) -> None:
    first = users.ensure_demo_users(demo_session)
    demo_session.commit()
    assert sorted(r["role"] for r in first) == ["admin", "analyst", "borrower", "investor"]
    assert all(r["created"] for r in first)
    borrower = next(r for r in first if r["role"] == "borrower")
    assert borrower["borrower"]
    again = users.ensure_demo_users(demo_session)
    assert not any(r["created"] for r in again)
