"""Server-side sessions: a saved cookie dies with logout, a password change or reset, a role change, a
deactivation and an admin's "sign out everywhere"; the session id is new at every sign-in and stored only
hashed; a CSRF token works only for its own session; API tokens expire and die with their user; users see
and revoke their own tokens, never another's."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from litestar.testing import TestClient
from shell_world import PASSWORD, World, build_world, csrf, fast_hashing, sign_in
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from lanportfolj.cli import app as cli_app
from lanportfolj.db import make_engine
from lanportfolj.models import ApiToken, AuditEvent, UserSession
from lanportfolj.services import sessions, users
from lanportfolj.web.app import create_app
from lanportfolj.web.auth import CSRF_COOKIE, SESSION_COOKIE
from lanportfolj.web.i18n import catalogue

pytestmark = pytest.mark.integration

NEW_PASSWORD = "a brand new long password"


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


@pytest.fixture
def app(settings, engine, world):
    return create_app(settings, engine=engine)


def _client(app, email: str | None = None) -> TestClient:
    client = TestClient(app)
    client.__enter__()
    if email is not None:
        assert sign_in(client, email).status_code == 302
    return client


def _replay(app, cookies: dict[str, str], path: str = "/account") -> int:
    """A request with cookies saved earlier, from a fresh browser: its status (302 = signed out)."""
    with TestClient(app) as replayed:
        replayed.cookies.update(cookies)
        response = replayed.get(path, follow_redirects=False)
        if response.status_code == 302:
            assert response.headers["location"].startswith("/login")
        return response.status_code


def _post(client: TestClient, path: str, **form: str):
    return client.post(path, data={**form, "_csrf_token": csrf(client)}, follow_redirects=False)


# --- a saved cookie is refused after each way a session ends -----------------------------------------


def _logout(admin: TestClient, victim: TestClient, world: World) -> None:
    assert _post(victim, "/logout").status_code == 302


def _own_password_change(admin: TestClient, victim: TestClient, world: World) -> None:
    changed = _post(
        victim, "/account/password", current=PASSWORD, password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    assert changed.status_code == 302
    # the browser that changed it got a new session and stays signed in
    assert victim.get("/account", follow_redirects=False).status_code == 200


def _password_reset(admin: TestClient, victim: TestClient, world: World) -> None:
    uid = world.user_ids["analyst"]
    assert _post(admin, f"/admin/users/{uid}/password", password=NEW_PASSWORD).status_code == 302


def _role_change(admin: TestClient, victim: TestClient, world: World) -> None:
    uid = world.user_ids["analyst"]
    assert _post(admin, f"/admin/users/{uid}/role", role="investor").status_code == 302


def _deactivation(admin: TestClient, victim: TestClient, world: World) -> None:
    uid = world.user_ids["analyst"]
    assert _post(admin, f"/admin/users/{uid}/deactivate").status_code == 302


def _sign_out_everywhere(admin: TestClient, victim: TestClient, world: World) -> None:
    uid = world.user_ids["analyst"]
    assert _post(admin, f"/admin/users/{uid}/sessions/end").status_code == 302


@pytest.mark.parametrize(
    "end",
    [
        _logout,
        _own_password_change,
        _password_reset,
        _role_change,
        _deactivation,
        _sign_out_everywhere,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_cookie_saved_before_the_session_ended_is_refused(
    app, world: World, end: Callable[[TestClient, TestClient, World], None]
) -> None:
    admin = _client(app, world.emails["admin"])
    victim = _client(app, world.emails["analyst"])
    # a second browser of the same user: "every session" means this one too
    other_browser = _client(app, world.emails["analyst"])
    saved = dict(victim.cookies.items())
    saved_elsewhere = dict(other_browser.cookies.items())
    assert _replay(app, saved) == 200
    end(admin, victim, world)
    assert _replay(app, saved) == 302
    assert _replay(app, saved_elsewhere) == 302
    assert other_browser.get("/account", follow_redirects=False).status_code == 302
    # the admin doing it was not signed out
    assert admin.get("/admin/users", follow_redirects=False).status_code == 200


def test_sign_out_everywhere_is_audited_and_listed(app, world: World, engine) -> None:
    admin = _client(app, world.emails["admin"])
    _client(app, world.emails["analyst"])
    _client(app, world.emails["analyst"])
    uid = world.user_ids["analyst"]
    page = admin.get(f"/admin/users/{uid}")
    assert page.status_code == 200
    assert page.text.count("<td>testclient") == 2  # two active sessions, with their client
    _post(admin, f"/admin/users/{uid}/sessions/end")
    after = admin.get(f"/admin/users/{uid}")
    assert "Inga aktiva sessioner." in after.text
    with Session(engine) as db:
        event = db.exec(select(AuditEvent).where(AuditEvent.action == "user.sessions_ended")).one()
        assert event.actor == world.emails["admin"]
        assert event.entity_id == str(uid) and event.detail == "2 session(s) ended"


def test_a_revocation_by_another_process_takes_effect_on_the_next_request(
    app, world: World, settings
) -> None:
    victim = _client(app, world.emails["analyst"])
    assert victim.get("/account", follow_redirects=False).status_code == 200
    assert victim.get("/account", follow_redirects=False).status_code == 200  # kept now
    # another process: an engine (and connections) of its own, as the CLI or another worker has
    elsewhere = make_engine(settings)
    try:
        with Session(elsewhere) as db:
            sessions.end_all(db, user_id=world.user_ids["analyst"])
            db.commit()
    finally:
        elsewhere.dispose()
    assert victim.get("/account", follow_redirects=False).status_code == 302


def test_cli_deactivation_ends_sessions_and_reactivation_lets_the_user_in(
    app, world: World, settings
) -> None:
    victim = _client(app, world.emails["analyst"])
    saved = dict(victim.cookies.items())
    runner = CliRunner()
    base = ["--database-url", settings.database_url]
    done = runner.invoke(cli_app, [*base, "users", "deactivate", world.emails["analyst"]])
    assert done.exit_code == 0, done.output
    assert _replay(app, saved) == 302
    with TestClient(app) as c:
        assert sign_in(c, world.emails["analyst"]).status_code == 400
    assert (
        runner.invoke(cli_app, [*base, "users", "activate", "ANALYST@test.example"]).exit_code == 0
    )
    with TestClient(app) as c:
        assert sign_in(c, world.emails["analyst"]).status_code == 302
    unknown = runner.invoke(cli_app, [*base, "users", "deactivate", "nobody@x.example"])
    assert unknown.exit_code == 1 and "no user nobody@x.example" in unknown.output


def test_cli_reset_password_prints_a_new_one_once_and_ends_sessions(
    app, world: World, settings
) -> None:
    victim = _client(app, world.emails["analyst"])
    saved = dict(victim.cookies.items())
    runner = CliRunner()
    base = ["--database-url", settings.database_url]
    done = runner.invoke(cli_app, [*base, "users", "reset-password", world.emails["analyst"]])
    assert done.exit_code == 0, done.output
    new = done.output.strip().splitlines()[-1]
    assert len(new) >= users.MIN_PASSWORD_LENGTH
    assert _replay(app, saved) == 302
    with TestClient(app) as c:
        assert sign_in(c, world.emails["analyst"]).status_code == 400
        assert sign_in(c, world.emails["analyst"], new).status_code == 302
    short = runner.invoke(
        cli_app,
        [*base, "users", "reset-password", world.emails["analyst"], "--password-stdin"],
        input="short\n",
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output


# --- passwords -------------------------------------------------------------------------------------


def test_changing_ones_password_needs_the_current_one(app, world: World, engine) -> None:
    victim = _client(app, world.emails["borrower"])
    wrong = _post(
        victim, "/account/password", current="not it", password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    assert wrong.status_code == 400
    assert "Det nuvarande lösenordet är fel." in wrong.text
    differs = _post(
        victim, "/account/password", current=PASSWORD, password=NEW_PASSWORD, confirm="other"
    )
    assert differs.status_code == 400 and "upprepningen" in differs.text
    short = _post(victim, "/account/password", current=PASSWORD, password="short", confirm="short")
    assert short.status_code == 400 and "minst 10 tecken" in short.text
    with TestClient(app) as c:  # nothing changed
        assert sign_in(c, world.emails["borrower"]).status_code == 302
    assert (
        _post(
            victim,
            "/account/password",
            current=PASSWORD,
            password=NEW_PASSWORD,
            confirm=NEW_PASSWORD,
        ).headers["location"]
        == "/account"
    )
    with TestClient(app) as c:
        assert sign_in(c, world.emails["borrower"]).status_code == 400
        assert sign_in(c, world.emails["borrower"], NEW_PASSWORD).status_code == 302
    with Session(engine) as db:
        event = db.exec(select(AuditEvent).where(AuditEvent.action == "user.password_set")).one()
        assert event.actor == world.emails["borrower"]


def test_an_admin_cannot_deactivate_themselves(app, world: World) -> None:
    admin = _client(app, world.emails["admin"])
    refused = _post(admin, f"/admin/users/{world.user_ids['admin']}/deactivate")
    assert refused.status_code == 400
    assert "Du kan inte avaktivera dig själv." in refused.text
    assert admin.get("/admin/users", follow_redirects=False).status_code == 200


# --- the session id ---------------------------------------------------------------------------------


def _session_set(response) -> str:
    cookie = next(h for h in response.headers.get_list("set-cookie") if SESSION_COOKIE in h)
    return cookie.split(";")[0].split("=", 1)[1]


def test_the_session_id_is_new_at_every_sign_in(app, world: World) -> None:
    with TestClient(app) as c:
        # a token planted before the sign-in (session fixation) is never the one after it
        c.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", domain="testserver.local")
        first = _session_set(sign_in(c, world.emails["analyst"]))
        assert first and first != "planted-by-an-attacker"
        # signing in again, already signed in: a new id, and the old one is dead
        c.cookies.clear()
        c.cookies.set(SESSION_COOKIE, first, domain="testserver.local")
        assert c.get("/account", follow_redirects=False).status_code == 200
        second = _session_set(sign_in(c, world.emails["analyst"]))
        assert second and second != first
    assert _replay(app, {SESSION_COOKIE: first}) == 302
    assert _replay(app, {SESSION_COOKIE: second}) == 200
    assert _replay(app, {SESSION_COOKIE: "planted-by-an-attacker"}) == 302


def test_the_stored_id_is_not_the_cookie_value(app, world: World, engine) -> None:
    victim = _client(app, world.emails["analyst"])
    raw = victim.cookies.get(SESSION_COOKIE)
    assert raw is not None and len(raw) >= 43  # 32 random bytes, base64url
    with Session(engine) as db:
        stored = db.exec(select(UserSession)).one()
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in repr(stored.model_dump())
    assert stored.user_id == world.user_ids["analyst"]
    assert stored.client_address == "testclient" and stored.user_agent == "testclient"
    assert stored.expires_at.replace(tzinfo=UTC) > datetime.now(UTC) + timedelta(hours=11)


def test_the_cookie_carries_only_the_session_token(app, world: World) -> None:
    with TestClient(app) as c:
        c.get("/login")
        response = sign_in(c, world.emails["analyst"])
    cookie = next(h for h in response.headers.get_list("set-cookie") if SESSION_COOKIE in h)
    value = cookie.split(";")[0].split("=", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=43200" in cookie


def test_an_expired_session_is_signed_out(app, world: World, engine) -> None:
    victim = _client(app, world.emails["analyst"])
    with Session(engine) as db:
        row = db.exec(select(UserSession)).one()
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.add(row)
        db.commit()
    assert victim.get("/account", follow_redirects=False).status_code == 302


def test_last_seen_is_not_written_on_every_request(settings, engine, world: World) -> None:
    def seen() -> datetime:
        with Session(engine) as db:
            return db.exec(select(UserSession.last_seen_at)).one()

    quiet = create_app(settings, engine=engine)
    victim = _client(quiet, world.emails["analyst"])
    first = seen()
    for _ in range(3):
        assert victim.get("/account").status_code == 200
    assert seen() == first  # within session_seen_seconds: no write, the page cache keeps its pages
    eager = create_app(replace(settings, session_seen_seconds=0), engine=engine)
    again = TestClient(eager)
    again.cookies.update(dict(victim.cookies.items()))
    with again:
        assert again.get("/account").status_code == 200
    assert seen() > first


# --- CSRF bound to the session --------------------------------------------------------------------------


def test_a_csrf_token_from_another_session_is_refused(app, world: World) -> None:
    mine = _client(app, world.emails["admin"])
    theirs = _client(app, world.emails["admin"])  # the same user, another session
    their_token = csrf(theirs)
    form = {"email": "x@y.example", "role": "wizard"}
    # the token in the form is not this browser's
    sent = mine.post("/admin/users", data={**form, "_csrf_token": their_token})
    assert sent.status_code == 403
    # cookie and form both set to the other session's token (a planted cookie): still refused
    planted = TestClient(app)
    planted.cookies.update(
        {SESSION_COOKIE: mine.cookies.get(SESSION_COOKIE) or "", CSRF_COOKIE: their_token}
    )
    with planted:
        assert (
            planted.post("/admin/users", data={**form, "_csrf_token": their_token}).status_code
            == 403
        )
        assert (
            planted.post(
                "/admin/users", data=form, headers={"x-csrftoken": their_token}
            ).status_code
            == 403
        )
    # the browser's own token works (400: the form itself is judged)
    assert mine.post("/admin/users", data={**form, "_csrf_token": csrf(mine)}).status_code == 400


def test_a_csrf_token_from_before_the_sign_in_is_refused_after_it(app, world: World) -> None:
    with TestClient(app) as c:
        c.get("/login")
        before = c.cookies.get(CSRF_COOKIE)
        assert sign_in(c, world.emails["admin"]).status_code == 302
        after = c.cookies.get(CSRF_COOKIE)
        session = c.cookies.get(SESSION_COOKIE) or ""
    assert before and after and before != after
    form = {"email": "x@y.example", "role": "wizard"}
    stale = TestClient(app)
    stale.cookies.update({SESSION_COOKIE: session, CSRF_COOKIE: before})
    with stale:
        assert stale.post("/admin/users", data={**form, "_csrf_token": before}).status_code == 403
        # the next page hands out a token for this session again, and that one works
        stale.get("/admin/users")
        fresh = stale.cookies.get(CSRF_COOKIE, domain="testserver.local")
        assert fresh and fresh != before
    again = TestClient(app)
    again.cookies.update({SESSION_COOKIE: session, CSRF_COOKIE: fresh})
    with again:
        assert again.post("/admin/users", data={**form, "_csrf_token": fresh}).status_code == 400


def test_loading_a_pages_static_files_keeps_its_csrf_token(app, world: World) -> None:
    admin = _client(app, world.emails["admin"])
    token = csrf(admin)
    admin.get("/static/app.css")
    assert admin.cookies.get(CSRF_COOKIE) == token
    form = {"email": "x@y.example", "role": "wizard", "_csrf_token": token}
    assert admin.post("/admin/users", data=form).status_code == 400


# --- API tokens ------------------------------------------------------------------------------------


def _make_token(engine, email: str, days: int = 90) -> tuple[int, str]:
    with Session(engine) as db:
        owner = users.find_user(db, email)
        assert owner is not None
        token, raw = users.create_token(db, user=owner, name="script", actor="test", days=days)
        db.commit()
        return token.id or 0, raw


def _whoami(app, raw: str) -> int:
    with TestClient(app) as script:
        return script.get("/api/loans", headers={"Authorization": f"Bearer {raw}"}).status_code


def test_an_expired_token_is_refused(app, world: World, engine) -> None:
    token_id, raw = _make_token(engine, world.emails["analyst"])
    assert _whoami(app, raw) == 200
    with Session(engine) as db:
        token = db.get(ApiToken, token_id)
        assert token is not None and token.expires_at is not None
        made = token.created_at.replace(tzinfo=UTC)
        assert token.expires_at.replace(tzinfo=UTC) - made == timedelta(days=90)
        token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.add(token)
        db.commit()
    assert _whoami(app, raw) == 401


def test_token_lifetime_follows_the_setting(settings, engine, world: World) -> None:
    app = create_app(replace(settings, token_days=7), engine=engine)
    admin = _client(app, world.emails["admin"])
    page = _post(admin, "/admin/tokens", email=world.emails["investor"], name="short-lived")
    assert page.status_code == 200
    with Session(engine) as db:
        token = db.exec(select(ApiToken).where(ApiToken.name == "short-lived")).one()
        assert token.expires_at is not None and token.created_at is not None
        lifetime = token.expires_at - token.created_at
    assert lifetime == timedelta(days=7)
    listed = admin.get("/admin/tokens").text
    assert (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%d") in listed
    assert "En ny nyckel gäller i 7 dagar." in listed


def test_a_deactivated_users_token_is_refused(app, world: World, engine) -> None:
    _token_id, raw = _make_token(engine, world.emails["analyst"])
    assert _whoami(app, raw) == 200
    admin = _client(app, world.emails["admin"])
    _post(admin, f"/admin/users/{world.user_ids['analyst']}/deactivate")
    assert _whoami(app, raw) == 401
    _post(admin, f"/admin/users/{world.user_ids['analyst']}/activate")
    assert _whoami(app, raw) == 200


def test_a_locked_users_token_is_refused(app, world: World, engine) -> None:
    _token_id, raw = _make_token(engine, world.emails["analyst"])
    with Session(engine) as db:
        user = users.find_user(db, world.emails["analyst"])
        assert user is not None
        user.locked_until = datetime.now(UTC) + timedelta(minutes=5)
        db.add(user)
        db.commit()
    assert _whoami(app, raw) == 401


def test_users_list_and_revoke_their_own_tokens_and_not_anothers(app, world: World, engine) -> None:
    mine_id, mine_raw = _make_token(engine, world.emails["borrower"])
    theirs_id, theirs_raw = _make_token(engine, world.emails["analyst"])
    borrower = _client(app, world.emails["borrower"])
    page = borrower.get("/account")
    assert page.status_code == 200
    assert f"/account/tokens/{mine_id}/revoke" in page.text
    assert f"/account/tokens/{theirs_id}/revoke" not in page.text
    assert theirs_raw[:8] not in page.text
    # another user's token: as if it did not exist, and it keeps working
    assert _post(borrower, f"/account/tokens/{theirs_id}/revoke").status_code == 404
    assert _whoami(app, theirs_raw) == 200
    done = _post(borrower, f"/account/tokens/{mine_id}/revoke")
    assert done.status_code == 302 and done.headers["location"] == "/account"
    assert _whoami(app, mine_raw) == 401
    assert "återkallad" in borrower.get("/account").text
    with Session(engine) as db:
        event = db.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "token.revoked")
            .order_by(col(AuditEvent.id).desc())
        ).first()
        assert event is not None and event.actor == world.emails["borrower"]


def test_cli_lists_tokens_with_their_expiry(settings, engine, world: World) -> None:
    runner = CliRunner()
    base = ["--database-url", settings.database_url]
    made = runner.invoke(cli_app, [*base, "tokens", "create", world.emails["analyst"]])
    assert made.exit_code == 0
    expiry = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    assert f"valid until {expiry}" in made.output
    listed = runner.invoke(cli_app, [*base, "tokens", "list", "--json"])
    assert listed.exit_code == 0
    assert f'"expires_at": "{expiry}' in listed.output
    assert '"state": "active"' in listed.output
    table = runner.invoke(
        cli_app,
        [*base, "tokens", "list", "--user", world.emails["analyst"]],
        env={"COLUMNS": "200"},
    )
    assert expiry in table.output and "spare@test.example" not in table.output


# --- translations ------------------------------------------------------------------------------------


def test_every_account_page_string_has_a_swedish_translation() -> None:
    # web/account.py is not among the shell files test_i18n reads
    source = (Path(__file__).resolve().parents[2] / "src/lanportfolj/web/account.py").read_text()
    wanted = set(re.findall(r'\b_\(\s*"((?:\\.|[^"\\])+)"', source))
    assert wanted
    swedish = catalogue("sv")
    assert sorted(m for m in wanted if m not in swedish) == []
