"""Static files and compression (issue 18 item 9): fingerprinted assets cached for a year, gzip for the
assets, pages and API answers of a client that accepts it, the same bytes once unpacked."""

from __future__ import annotations

import gzip
import re

import pytest
from litestar.testing import TestClient
from shell_world import PASSWORD, signed_in

from lanportfolj.db import make_engine, session_scope
from lanportfolj.services import users
from lanportfolj.web.static_files import IMMUTABLE, asset_dirs

pytestmark = pytest.mark.integration
PLAIN = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture
def app(demo_settings):
    from lanportfolj.web.app import create_app

    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
    yield create_app(demo_settings, engine=engine)
    engine.dispose()


def _file(name: str) -> bytes:
    return next(d / name for d in asset_dirs() if (d / name).is_file()).read_bytes()


def _links(html: str) -> dict[str, str]:
    """Plain name → fingerprinted URL of every asset the page links."""
    return {
        f"{m['stem']}.{m['ext']}": m[0].strip('"')
        for m in re.finditer(r'"/static/(?P<stem>[\w.]+?)\.[0-9a-f]{12}\.(?P<ext>\w+)"', html)
    }


def test_pages_link_fingerprinted_assets_kept_for_a_year(app) -> None:
    with TestClient(app) as client:
        page = client.get("/login", headers=PLAIN)
        links = _links(page.text)
        assert "app.css" in links and "favicon.svg" in links
        css = client.get(links["app.css"], headers=PLAIN)
    assert css.status_code == 200
    assert css.headers["cache-control"] == IMMUTABLE
    assert css.content == _file("app.css")
    assert css.headers["content-type"].startswith("text/css")


def test_plotly_is_gzipped_once_and_unpacks_to_the_same_bytes(app) -> None:
    analyst = signed_in(app, "a@lender.example")
    url = _links(analyst.get("/loans/SH-2023-001/evaluation?lang=en").text)["plotly.min.js"]
    with TestClient(app) as client:
        # raw bytes as sent: the client's own decoding is off for this request
        with client.stream("GET", url, headers=GZIP) as streamed:
            raw = b"".join(streamed.iter_raw())
            headers = streamed.headers
        again = client.get(url, headers=GZIP)
    assert headers["content-encoding"] == "gzip"
    assert headers["cache-control"] == IMMUTABLE
    assert "accept-encoding" in headers["vary"].lower()
    original = _file("plotly.min.js")
    assert len(raw) < len(original) / 3
    assert gzip.decompress(raw) == original
    assert again.content == original  # decoded by the client: the same file


def test_an_old_fingerprint_is_sent_to_the_current_file(app) -> None:
    with TestClient(app) as client:
        current = _links(client.get("/login").text)["app.css"]
        old = client.get("/static/app.0123456789ab.css", follow_redirects=False)
        assert old.status_code == 302
        assert old.headers["location"] == current
        assert "immutable" not in old.headers.get("cache-control", "")
        assert client.get("/static/nothing.0123456789ab.css").status_code == 404


def test_the_plain_name_still_works_and_revalidates(app) -> None:
    """Pre-rendered reports name /static/plotly.min.js: it is served, with an ETag, not for a year."""
    with TestClient(app) as client:
        first = client.get("/static/app.css", headers=PLAIN)
        assert first.status_code == 200 and first.content == _file("app.css")
        assert "cache-control" not in first.headers
        revalidated = client.get(
            "/static/app.css", headers={**PLAIN, "If-None-Match": first.headers["etag"]}
        )
        assert revalidated.status_code == 304 and revalidated.content == b""
        assert client.get("/static/../pyproject.toml").status_code == 404


def test_pages_and_api_answers_are_gzipped_for_clients_that_accept_it(app) -> None:
    analyst = signed_in(app, "a@lender.example")
    analyst.get("/?lang=en")  # the sign-in's message is shown once: not in the pages compared
    for path in ("/?lang=en", "/loans/SH-2023-001?lang=en", "/api/loans"):
        plain = analyst.get(path, headers=PLAIN)
        with analyst.stream("GET", path, headers=GZIP) as streamed:
            raw = b"".join(streamed.iter_raw())
            headers = streamed.headers
        assert plain.status_code == 200 and "content-encoding" not in plain.headers, path
        assert headers["content-encoding"] == "gzip", path
        assert len(raw) < len(plain.content), path
        unpacked = gzip.decompress(raw)
        if path.startswith("/api/"):
            assert unpacked == plain.content
        else:  # the same page but for its CSRF token, which is per request
            strip = re.compile(rb'value="[^"]{20,}"|content="[^"]{20,}"')
            assert strip.sub(b"", unpacked) == strip.sub(b"", plain.content), path
        # the policy was written from the page before it was compressed: its charts may still run
        assert headers["content-security-policy"] == plain.headers["content-security-policy"]


def test_a_client_that_refuses_gzip_gets_none(app) -> None:
    with TestClient(app) as client:
        response = client.get("/login", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in response.headers
