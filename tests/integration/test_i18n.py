"""Swedish and English: every shell string has a Swedish translation, the switch is remembered, and the
error pages (403, 404, 500) say what happened in both languages without a stack trace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar import get
from litestar.testing import TestClient
from shell_world import World, build_world, csrf, fast_hashing, sign_in

from lanportfolj.web.access import PUBLIC, allow
from lanportfolj.web.app import NAV, create_app
from lanportfolj.web.errors import TITLES
from lanportfolj.web.i18n import catalogue

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHELL_FILES = [
    *ROOT.glob("templates/*.html"),
    *ROOT.glob("templates/auth/*.html"),
    *ROOT.glob("templates/admin/*.html"),
    *ROOT.glob("templates/errors/*.html"),
    *ROOT.glob("templates/public/*.html"),
    *(ROOT / "src/lanportfolj/web" / name for name in ("auth.py", "admin.py", "errors.py")),
]
# _("literal") and ngettext("one", "many", …) in templates and Python
CALL = re.compile(
    r"""(?:\b_|ngettext)\(\s*(["'])((?:\\.|(?!\1).)+)\1(?:\s*,\s*(["'])((?:\\.|(?!\3).)+)\3)?"""
)


def _message_ids() -> set[str]:
    found: set[str] = set()
    for path in SHELL_FILES:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.update(g for g in (match.group(2), match.group(4)) if g)
    return found


def test_every_shell_string_has_a_swedish_translation() -> None:
    swedish = catalogue("sv")
    wanted = (
        _message_ids()
        | set(TITLES.values())
        | {label for items in NAV.values() for _, label in items}
    )
    wanted |= {"analyst", "borrower", "investor", "admin"}
    assert len(wanted) > 100
    missing = sorted(m for m in wanted if m not in swedish)
    assert not missing, f"no Swedish for: {missing}"


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


@get("/test-only/boom", opt=allow(PUBLIC), sync_to_thread=False)
def boom() -> str:
    raise RuntimeError("secret internals: password=hunter2")


@pytest.fixture
def client(settings, engine, world) -> TestClient:
    with TestClient(create_app(settings, engine=engine, extra_routes=[boom])) as c:
        yield c


def test_swedish_by_default_and_the_switch_is_remembered(client) -> None:
    page = client.get("/login")
    assert '<html lang="sv">' in page.text
    assert "<h1>Logga in</h1>" in page.text
    english = client.get("/login?lang=en")
    assert "lang=en" in english.headers["set-cookie"]
    assert "<h1>Sign in</h1>" in english.text
    # no ?lang= any more: the cookie remembers
    again = client.get("/")
    assert '<html lang="en">' in again.text
    assert "Loans for social sustainability" in again.text
    back = client.get("/?lang=sv")
    assert "Lån för social hållbarhet" in back.text


def test_signed_in_pages_in_both_languages(client, world) -> None:
    sign_in(client, world.emails["admin"])
    for path in ("/", "/admin/users", "/admin/tokens", "/admin/audit", f"/loans/{world.own_loan}"):
        sv = client.get(path + "?lang=sv").text
        en = client.get(path + "?lang=en").text
        assert "Logga ut" in sv and "Händelselogg" in sv, path
        assert "Sign out" in en and "Audit log" in en, path


ERROR_CASES = [
    # (who, path, status, Swedish title, English title)
    ("borrower", "/admin/users", 403, "Du får inte se den här sidan", "You may not see this page"),
    ("borrower", "/loans/TX-2025-001", 404, "Sidan finns inte", "Page not found"),
    ("anonymous", "/no/such/page", 404, "Sidan finns inte", "Page not found"),
    (
        "anonymous",
        "/test-only/boom",
        500,
        "Något gick fel hos oss",
        "Something went wrong on our side",
    ),
]


@pytest.mark.parametrize(("who", "path", "status", "sv", "en"), ERROR_CASES)
def test_error_pages_in_both_languages_without_stack_traces(
    client, world, who, path, status, sv, en
) -> None:
    if who != "anonymous":
        sign_in(client, world.emails[who])
    for lang, title in (("sv", sv), ("en", en)):
        client.cookies.set("lang", lang)
        response = client.get(path)
        assert response.status_code == status
        assert f"<h1>{status} · {title}</h1>" in response.text
        for leak in ("Traceback", "RuntimeError", "hunter2", 'File "'):
            assert leak not in response.text


def test_the_other_borrowers_loan_is_not_even_named(client, world) -> None:
    sign_in(client, world.emails["borrower"])
    response = client.get(f"/loans/{world.other_loan}")
    assert response.status_code == 404
    assert "Renovation in Alby" not in response.text and "Botkyrka" not in response.text


def test_investors_see_public_fields_only(client, world) -> None:
    sign_in(client, world.emails["investor"])
    page = client.get(f"/loans/{world.other_loan}?lang=en")
    assert page.status_code == 200
    assert "Renovation in Alby" in page.text and "Access to essential services" in page.text
    assert "secret-contact@botkyrka.example" not in page.text
    assert (
        "212000-2882" not in page.text
    )  # the detail page's orgnr is not part of the public fields
    listing = client.get("/").text
    assert world.draft_loan not in listing and world.own_loan in listing


def test_text_from_the_database_is_escaped(client, world) -> None:
    sign_in(client, world.emails["analyst"])
    page = client.get(f"/loans/{world.own_loan}")
    assert "Family centre &lt;b&gt;Vara&lt;/b&gt;" in page.text
    assert "<b>Vara</b>" not in page.text


def test_logout_button_posts_with_a_csrf_token(client, world) -> None:
    sign_in(client, world.emails["investor"])
    page = client.get("/")
    assert 'action="/logout"' in page.text
    assert f'name="_csrf_token" value="{csrf(client)}"' in page.text
