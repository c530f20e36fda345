"""Login throttling that cannot be bypassed or used as a weapon: ``X-Forwarded-For`` counts only from a
trusted proxy; failures are counted per (account, client) and per client in the database (every worker
sees them); an attacker's failures never stop the owner signing in from another client; known, unknown
and throttled addresses answer alike and cost one Argon2 verification each."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from argon2 import PasswordHasher
from litestar.testing import TestClient, transport
from shell_world import PASSWORD, World, build_world, csrf, fast_hashing
from sqlmodel import Session, select

from lanportfolj.models import AuditEvent, LoginFailure
from lanportfolj.services import users
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration

PROXY = "10.0.0.9"
ATTACKER = "198.51.100.66"
OWNER = "203.0.113.20"


class CountingHasher(PasswordHasher):
    """Cheap Argon2 that counts verifications (the work a login costs), not time."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


@pytest.fixture
def hasher(monkeypatch) -> CountingHasher:
    fast_hashing(monkeypatch)
    counting = CountingHasher()
    monkeypatch.setattr(users, "_hasher", counting)
    users._dummy_hash.cache_clear()
    yield counting
    users._dummy_hash.cache_clear()


@pytest.fixture
def world(engine, hasher) -> World:
    return build_world(engine)


@pytest.fixture(autouse=True)
def peer_addresses(monkeypatch) -> None:
    """The test client connects from ``testclient``; a request header ``x-test-peer`` (taken out before
    the app sees it) makes it connect from that address instead, as a real socket would."""
    original = transport.TestClientTransport.parse_request

    def parse(self: Any, request: Any) -> dict[str, Any]:
        peer = request.headers.pop("x-test-peer", None)
        scope = original(self, request)
        if peer:
            scope["client"] = (peer, 50000)
        return scope

    monkeypatch.setattr(transport.TestClientTransport, "parse_request", parse)


def _attempt(
    client: TestClient, email: str, password: str, *, peer: str, forwarded: str | None = None
):
    headers = {"x-test-peer": peer}
    if forwarded is not None:
        headers["x-forwarded-for"] = forwarded
    return client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": csrf(client)},
        headers=headers,
        follow_redirects=False,
    )


def _app(settings, engine, **changes: Any):
    return create_app(replace(settings, **changes), engine=engine)


def test_forwarded_for_does_not_reset_the_throttle_without_trusted_proxies(
    settings, engine, world: World
) -> None:
    with TestClient(_app(settings, engine)) as c:
        for n in range(settings.login_max_failures):
            response = _attempt(
                c, world.emails["analyst"], "guess", peer=ATTACKER, forwarded=f"192.0.2.{n}"
            )
            assert response.status_code == 400
        # a new made-up address in the header changes nothing: the peer is the client
        again = _attempt(
            c, world.emails["analyst"], PASSWORD, peer=ATTACKER, forwarded="192.0.2.200"
        )
        assert again.status_code == 429
    with Session(engine) as db:
        clients = set(db.exec(select(LoginFailure.client)).all())
    assert clients == {ATTACKER}


def test_forwarded_for_names_the_client_behind_a_trusted_proxy(
    settings, engine, world: World
) -> None:
    app = _app(settings, engine, trusted_proxies=f"{PROXY}, 10.1.0.0/16")
    with TestClient(app) as c:
        for _ in range(settings.login_max_failures):
            assert (
                _attempt(c, world.emails["analyst"], "guess", peer=PROXY, forwarded=ATTACKER)
            ).status_code == 400
        # the attacker behind the proxy waits; the header names the client, so a forged left part
        # ("anything, <attacker>") is not believed either
        assert (
            _attempt(c, world.emails["analyst"], PASSWORD, peer=PROXY, forwarded=ATTACKER)
        ).status_code == 429
        assert (
            _attempt(
                c, world.emails["analyst"], PASSWORD, peer=PROXY, forwarded=f"192.0.2.1, {ATTACKER}"
            )
        ).status_code == 429
        # through two trusted hops, the nearest untrusted address counts
        assert (
            _attempt(
                c,
                world.emails["analyst"],
                PASSWORD,
                peer=PROXY,
                forwarded=f"{ATTACKER}, 10.1.2.3",
            )
        ).status_code == 429
        # another client behind the same proxy is a different client
        assert (
            _attempt(c, world.emails["analyst"], PASSWORD, peer=PROXY, forwarded=OWNER)
        ).status_code == 302
    with Session(engine) as db:
        clients = set(db.exec(select(LoginFailure.client)).all())
        login = db.exec(select(AuditEvent).where(AuditEvent.action == "login")).one()
    assert clients == {ATTACKER}
    assert login.detail == f"client {OWNER}"


def test_an_attackers_failures_do_not_stop_the_owners_login_from_another_client(
    settings, engine, world: World
) -> None:
    app = _app(settings, engine)
    with TestClient(app) as attacker:
        # well past both the per-account delay and the attacker's own per-client cap
        for _ in range(settings.login_client_max_failures + 5):
            _attempt(attacker, world.emails["borrower"], "guess", peer=ATTACKER)
        refused = _attempt(attacker, world.emails["borrower"], PASSWORD, peer=ATTACKER)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
    with TestClient(app) as owner:
        assert _attempt(owner, world.emails["borrower"], PASSWORD, peer=OWNER).status_code == 302
        assert owner.get("/account", follow_redirects=False).status_code == 200


def test_the_per_client_cap_covers_many_accounts(settings, engine, world: World) -> None:
    app = _app(settings, engine, login_client_max_failures=4)
    with TestClient(app) as c:
        for n in range(4):
            assert _attempt(c, f"spray{n}@x.example", "guess", peer=ATTACKER).status_code == 400
        assert _attempt(c, world.emails["analyst"], PASSWORD, peer=ATTACKER).status_code == 429
        assert _attempt(c, world.emails["analyst"], PASSWORD, peer=OWNER).status_code == 302


def test_failures_are_shared_by_every_worker(settings, engine, world: World) -> None:
    first, second = _app(settings, engine), _app(settings, engine)
    with TestClient(first) as c:
        for _ in range(settings.login_max_failures):
            assert _attempt(c, world.emails["analyst"], "guess", peer=ATTACKER).status_code == 400
    with TestClient(second) as c:
        assert _attempt(c, world.emails["analyst"], PASSWORD, peer=ATTACKER).status_code == 429


def test_a_successful_login_clears_that_clients_failures(settings, engine, world: World) -> None:
    with TestClient(_app(settings, engine)) as c:
        for _ in range(settings.login_max_failures - 1):
            assert _attempt(c, world.emails["analyst"], "typo", peer=OWNER).status_code == 400
        assert _attempt(c, world.emails["analyst"], PASSWORD, peer=OWNER).status_code == 302
    with TestClient(_app(settings, engine)) as c:
        for _ in range(settings.login_max_failures - 1):
            assert _attempt(c, world.emails["analyst"], "typo", peer=OWNER).status_code == 400


def _answer(response, email: str) -> tuple[int, str, str | None]:
    body = response.text.replace(email, "EMAIL")
    # the seconds to wait tick with the clock; they are compared apart
    body = re.sub(r"Vänta \d+ sekunder", "Vänta N sekunder", body)
    return response.status_code, body, response.headers.get("retry-after") and "set"


def test_known_unknown_and_throttled_addresses_answer_alike_with_the_same_argon2_work(
    settings, engine, world: World, hasher: CountingHasher
) -> None:
    known, unknown = world.emails["investor"], "nobody-at-all@test.example"
    inactive = world.emails["analyst"]
    with Session(engine) as db:
        account = users.find_user(db, inactive)
        assert account is not None
        account.active = False
        db.add(account)
        db.commit()
    app = _app(settings, engine)

    def attempt(email: str, password: str, peer: str) -> tuple[tuple[int, str, Any], int]:
        # a client of its own per address, so the CSRF token (in the body) is alike
        with TestClient(app) as c:
            c.cookies.update(shared)
            before = hasher.verified
            response = _attempt(c, email, password, peer=peer)
            return _answer(response, email), hasher.verified - before

    with TestClient(app) as first:
        first.get("/login")
        shared = dict(first.cookies.items())

    wrong_known, work_known = attempt(known, "guess", ATTACKER)
    wrong_unknown, work_unknown = attempt(unknown, "guess", ATTACKER)
    wrong_inactive, work_inactive = attempt(inactive, PASSWORD, ATTACKER)
    assert wrong_known[0] == 400
    assert wrong_known == wrong_unknown == wrong_inactive
    assert work_known == work_unknown == work_inactive == 1

    # throttle both addresses from the attacker's client
    for _ in range(settings.login_max_failures - 1):
        attempt(known, "guess", ATTACKER)
        attempt(unknown, "guess", ATTACKER)
    throttled_known, work_tk = attempt(known, PASSWORD, ATTACKER)  # the right password, even
    throttled_unknown, work_tu = attempt(unknown, "guess", ATTACKER)
    assert throttled_known[0] == 429 and throttled_known[2] == "set"
    assert throttled_known == throttled_unknown
    assert work_tk == work_tu == 1

    # a throttled ("locked") account, from another client: the same answer as an unknown address
    locked_elsewhere, work_le = attempt(known, "guess", OWNER)
    unknown_elsewhere, work_ue = attempt(unknown + ".se", "guess", OWNER)
    assert locked_elsewhere == unknown_elsewhere == wrong_known
    assert work_le == work_ue == 1


def test_the_throttle_is_recorded_in_the_audit_trail(settings, engine, world: World) -> None:
    with TestClient(_app(settings, engine, login_max_failures=1)) as c:
        _attempt(c, world.emails["analyst"], "guess", peer=ATTACKER)
        _attempt(c, world.emails["analyst"], "guess", peer=ATTACKER)
    with Session(engine) as db:
        actions = [e.action for e in db.exec(select(AuditEvent)).all()]
        throttled = db.exec(select(AuditEvent).where(AuditEvent.action == "login.throttled")).one()
    assert actions.count("login.failed") == 1
    assert throttled.detail.startswith(f"client {ATTACKER}, retry after ")
    assert throttled.actor == world.emails["analyst"]


def test_an_admin_unlock_lifts_the_throttle(settings, engine, world: World) -> None:
    app = _app(settings, engine)
    with TestClient(app) as c:
        for _ in range(settings.login_max_failures):
            _attempt(c, world.emails["analyst"], "guess", peer=ATTACKER)
        assert _attempt(c, world.emails["analyst"], PASSWORD, peer=ATTACKER).status_code == 429
        # a typo is not a lock-out: it is not shown as one
        assert _attempt(c, world.emails["investor"], "typo", peer=OWNER).status_code == 400
    with TestClient(app) as admin:
        assert _attempt(admin, world.emails["admin"], PASSWORD, peer=OWNER).status_code == 302
        page = admin.get("/admin/users")
        assert page.text.count("spärrad") == 1
        row = next(r for r in page.text.split("<tr>") if world.emails["analyst"] in r)
        assert "spärrad" in row
        unlocked = admin.post(
            f"/admin/users/{world.user_ids['analyst']}/unlock",
            data={"_csrf_token": csrf(admin)},
            follow_redirects=False,
        )
        assert unlocked.status_code == 302
    with TestClient(app) as c:
        assert _attempt(c, world.emails["analyst"], PASSWORD, peer=ATTACKER).status_code == 302


@pytest.mark.parametrize(
    ("trusted", "headers", "allowed"),
    [("", False, []), ("10.0.0.9, 10.1.0.0/16", True, ["10.0.0.9/32", "10.1.0.0/16"])],
)
def test_serve_hands_uvicorn_the_trusted_proxies_only(
    settings, monkeypatch, trusted: str, headers: bool, allowed: list[str]
) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from lanportfolj.cli import app as cli_app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    # serve hands its settings to the workers through the environment: restored after the test
    monkeypatch.setenv("LANPORTFOLJ_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LANPORTFOLJ_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LANPORTFOLJ_TRUSTED_PROXIES", trusted)
    result = CliRunner().invoke(cli_app, ["--database-url", settings.database_url, "serve"])
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is headers
    assert seen["forwarded_allow_ips"] == allowed


def test_serve_refuses_a_trusted_proxies_setting_it_cannot_read(settings, monkeypatch) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from lanportfolj.cli import app as cli_app

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: pytest.fail("served"))
    monkeypatch.setenv("LANPORTFOLJ_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("LANPORTFOLJ_SECRET_KEY", settings.secret_key)
    monkeypatch.setenv("LANPORTFOLJ_TRUSTED_PROXIES", "10.0.0.9, the-proxy")
    result = CliRunner().invoke(cli_app, ["--database-url", settings.database_url, "serve"])
    assert result.exit_code == 1
    assert "'the-proxy' is not an IP address or network" in result.output
