"""The security headers on every response, matched route or not (issue 14 item 8): the router's own 404 and
405, a 413 refused before the body is read, an unexpected 500; ``no-store`` on everything a signed-in user
or an API client gets; no ``server`` header from ``lanportfolj serve``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import get
from litestar.testing import TestClient
from shell_world import World, build_world, fast_hashing, sign_in

from lanportfolj.web.access import PUBLIC, allow
from lanportfolj.web.app import create_app
from lanportfolj.web.security import body_limit, csp_hash, style_attribute_hashes

pytestmark = pytest.mark.integration


@get("/test-only/explode", opt=allow(PUBLIC), sync_to_thread=False)
def explode() -> str:
    raise RuntimeError("internal detail that must not leak")


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


@pytest.fixture
def production(settings, engine, world) -> Any:
    """The application as deployed (not in development: HSTS on), with a route that fails."""
    app = create_app(replace(settings, development=False), engine=engine, extra_routes=[explode])
    with TestClient(app, base_url="https://testserver.local") as client:
        yield client


def assert_secured(response: Any, where: str) -> None:
    """Every header of issue 14 item 8, on one response."""
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, f"{where}: {csp!r}"
    assert "default-src 'self'" in csp and "object-src 'none'" in csp, where
    assert "'unsafe-inline'" not in csp, f"{where}: {csp!r}"
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") == "same-origin", where
    permissions = headers.get("permissions-policy", "")
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions, f"{where}: {permissions!r}"
    assert headers.get("strict-transport-security") == "max-age=31536000; includeSubDomains", where
    assert headers.get("cache-control") == "no-store", where
    assert "server" not in headers, where


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/api/no-such-thing", 404),
        ("GET", "/static/no-such-file.css", 404),
        ("DELETE", "/login", 405),
        ("PUT", "/api/loans", 405),
    ],
)
def test_an_unmatched_route_is_answered_with_every_security_header(
    production, method: str, path: str, status: int
) -> None:
    response = production.request(method, path)
    assert response.status_code == status
    assert_secured(response, f"{method} {path}")


def test_a_body_over_the_limit_is_refused_413_with_every_security_header(
    production, settings
) -> None:
    too_big = body_limit(settings) + 1
    for path in ("/imports", "/api/imports"):
        response = production.post(
            path,
            content=b"x",  # the declared length is what is refused, before a byte is read
            headers={"content-length": str(too_big), "content-type": "text/csv"},
        )
        assert response.status_code == 413, path
        assert_secured(response, f"POST {path} ({too_big} bytes)")


def test_an_unexpected_error_is_a_500_with_every_security_header(production) -> None:
    response = production.get("/test-only/explode")
    assert response.status_code == 500
    assert "internal detail" not in response.text
    assert_secured(response, "a route that raises")


def test_signed_in_pages_api_answers_and_downloads_are_never_stored(production, world) -> None:
    assert sign_in(production, world.emails["analyst"]).status_code == 302
    for path in (
        "/",
        f"/loans/{world.own_loan}",
        "/imports",
        "/api/loans",
        f"/api/loans/{world.own_loan}",
        f"/loans/{world.own_loan}/template.csv",
        f"/loans/{world.own_loan}/template.xlsx",
    ):
        response = production.get(path)
        assert response.status_code == 200, path
        assert_secured(response, path)


def test_static_assets_keep_normal_caching(production) -> None:
    response = production.get("/static/app.css")
    assert response.status_code == 200
    assert "cache-control" not in response.headers  # the browser revalidates by ETag, as before
    assert response.headers.get("etag")
    assert response.headers.get("x-content-type-options") == "nosniff"


def test_no_hsts_in_development(settings, engine, world) -> None:
    assert settings.development
    with TestClient(create_app(settings, engine=engine)) as client:
        response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "strict-transport-security" not in response.headers
    assert response.headers.get("cache-control") == "no-store"


def test_the_only_style_attributes_allowed_are_plotlys_fixed_containers(production) -> None:
    """An overlay a stored text might carry gets no hash; the evaluation page's containers do."""
    csp = production.get("/login").headers["content-security-policy"]
    attr = next(d for d in csp.split("; ") if d.startswith("style-src-attr"))
    assert set(attr.split()[2:]) == set(style_attribute_hashes())
    assert csp_hash("position:fixed;inset:0;opacity:0") not in csp


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_lanportfolj_serve_sends_no_server_header(tmp_path: Path) -> None:
    """The real command, on a free loopback port: uvicorn's own ``server: uvicorn`` is switched off."""
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = {
        **os.environ,
        "LANPORTFOLJ_DATABASE_URL": url,
        "LANPORTFOLJ_SECRET_KEY": "x" * 64,
        "LANPORTFOLJ_RENDERED_DIR": str(tmp_path / "rendered"),
    }
    cli = [str(Path(sys.executable).parent / "lanportfolj")]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        response = None
        deadline = time.monotonic() + 60
        while response is None:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "lanportfolj serve did not answer"
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/no-such-page", timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
        assert response.status_code == 404
        assert "server" not in response.headers
        assert response.headers.get("x-content-type-options") == "nosniff"
        assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
    finally:
        server.terminate()
        server.wait(timeout=20)


STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')


def test_every_style_attribute_the_chart_emitters_write_is_allowed_by_the_policy(
    demo_session,
) -> None:
    """A changed figure height in an emitter fails here (and would be refused by the browser)."""
    from lanportfolj.services.evaluation import comparison_chart_html, comparison_section
    from lanportfolj.services.progress_view import loan_progress, progress_chart_html

    allowed = set(style_attribute_hashes())
    comparison = comparison_section(demo_session, loan_ref="SH-2024-002", lang="en")
    assert comparison, "the demo's Örebro loan has a comparison school"
    charts = [comparison_chart_html(item) for item in comparison]
    progress = loan_progress(demo_session, "SH-2024-002", lang="en")
    charts += [progress_chart_html(item, loan_ref="SH-2024-002") for item in progress]
    styles = {text for html in charts for text in STYLE_ATTRIBUTE.findall(html)}
    assert styles, "plotly.io.to_html writes its containers' sizes"
    assert {csp_hash(text) for text in styles} <= allowed, styles
