"""The start page lists a national portfolio fifty loans at a time, with a search."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from litestar.testing import TestClient
from typer.testing import CliRunner

from lanportfolj.cli import app as cli
from lanportfolj.db import make_engine, session_scope
from lanportfolj.services import users
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loans: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith("/loans/") and href.count("/") == 2:
            self.loans.append(href.removeprefix("/loans/"))


def _loans_on(html: str) -> list[str]:
    """The loans of the paged list (after the search form; the overdue-report list above it is not paged)."""
    parser = _Links()
    parser.feed(html[html.index('role="search"') :])
    return parser.loans


def test_a_large_portfolio_is_paged_and_searchable(demo_settings):
    url = ["--database-url", demo_settings.database_url]
    assert (
        CliRunner().invoke(cli, [*url, "demo", "synth", "--loans", "120", "--years", "2"]).exit_code
        == 0
    )
    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        users.ensure_demo_users(db)
    engine.dispose()
    with TestClient(create_app(demo_settings)) as client:
        client.get("/login")
        client.post(
            "/login",
            data={
                "email": "analys@demo.lanportfolj.se",
                "password": "demo-lanportfolj",
                "next": "/",
                "_csrf_token": client.cookies.get("csrftoken", ""),
            },
        )
        first = client.get("/?lang=en")
        assert first.status_code == 200
        assert len(_loans_on(first.text)) == 50
        assert "Showing 1–50 of 129" in first.text
        last = client.get("/?page=3&lang=en")
        assert len(_loans_on(last.text)) == 29
        beyond = client.get("/?page=99")
        assert _loans_on(beyond.text) == _loans_on(last.text)
        found = client.get("/?q=vara")
        assert _loans_on(found.text) == ["SH-2023-002"]
        assert "Sök lån" in client.get("/?lang=sv").text
