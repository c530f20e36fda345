"""Issue 14 from outside, in Chromium: the payloads of ``tests/robustness/hostile_world.py`` stored through
HTTP by the roles that can write them, then every page of the route table (ids from the data) and every
download opened as analyst, borrower, investor and admin. Nothing the hostile borrower typed may become an
element (``#pwn``), a live link, a ``<meta http-equiv=refresh>``, a navigation or request to another host, a
leaked CSRF token, a formula; no page answers 5xx.

One browser and one context per role, reused for every page (the part must stay within ~2 minutes).
"""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from tests.robustness.hostile_world import (
    EVIL_HOST,
    MARKERS,
    ROLES,
    HostileWorld,
    build_hostile_world,
    concrete_urls,
    csv_problems,
    draft_downloads,
    get_routes,
    world_params,
    xlsx_problems,
)

from lanportfolj.paths import demo_dir
from lanportfolj.services import users

pytestmark = pytest.mark.browser

# What the page shows that came from stored text: links whose text or href holds a payload's marker, the
# injected elements, refreshes; and the viewer's CSRF token anywhere but the token's own slots.
PAGE_CHECK = """
(markers) => {
  const found = [];
  if (document.querySelector('#pwn')) found.push('element #pwn: ' + document.querySelector('#pwn').outerHTML.slice(0, 120));
  for (const meta of document.querySelectorAll('meta[http-equiv]')) {
    if (meta.httpEquiv.toLowerCase() === 'refresh') found.push('meta refresh: ' + meta.outerHTML.slice(0, 120));
  }
  for (const a of document.querySelectorAll('a')) {
    // an <a> inside plotly's SVG has no string href: read the attribute. The app's own links may show
    // stored text (a file name) as their label; a link whose target came from stored text may not exist
    const href = a.getAttribute('href') || a.getAttribute('xlink:href') || '';
    if (markers.some((m) => href.includes(m)) || href.includes('evil.example')) {
      found.push('live link: ' + a.outerHTML.slice(0, 160));
    }
  }
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.getAttributeNames()) {
      if (attr.startsWith('on')) found.push('handler ' + attr + ' on <' + el.tagName.toLowerCase() + '>');
    }
  }
  const slots = [...document.querySelectorAll('input[name=_csrf_token]')].map((i) => i.value);
  const meta = document.querySelector('meta[name=csrf-token]');
  if (meta) slots.push(meta.content);
  const token = slots.find((t) => t && t.length > 8);
  if (token) {
    const text = document.body ? document.body.innerText : '';
    if (text.includes(token)) found.push('the viewer\\'s CSRF token is in the page text');
    for (const el of document.querySelectorAll('*')) {
      for (const attr of el.getAttributeNames()) {
        const value = el.getAttribute(attr) || '';
        const own = (el.getAttribute('name') === '_csrf_token' && attr === 'value') || (el.getAttribute('name') === 'csrf-token' && attr === 'content');
        if (!own && value.includes(token)) found.push('CSRF token in <' + el.tagName.toLowerCase() + ' ' + attr + '>');
      }
    }
  }
  return found;
}
"""


@pytest.fixture
def hostile_live(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, HostileWorld]:
    """The live server, with every payload stored through its HTTP interface."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    from lanportfolj.db import make_engine

    engine = make_engine(live_server.settings)
    clients: list[httpx.Client] = []

    def new_client() -> httpx.Client:
        client = httpx.Client(base_url=live_server.url, timeout=60)
        clients.append(client)
        return client

    world = build_hostile_world(engine, new_client)
    yield live_server, world
    for client in clients:
        client.close()
    engine.dispose()


def _routes(settings: Any) -> list[str]:
    from lanportfolj.web.app import create_app

    kolada = dataclasses.replace(settings, kolada_fixtures=str(demo_dir() / "kolada"))
    return get_routes(create_app(kolada))


def _sign_in(context: Any, base: str, email: str) -> Any:
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(f"{base}/login")
    tab.fill("#email", email)
    tab.fill("#password", users.DEMO_PASSWORD)
    with tab.expect_navigation():
        tab.click("button[type=submit]")
    assert "/login" not in urlsplit(tab.url).path, f"{email} did not get past the login page"
    return tab


# one test per role, so the test workers share the roles out (the four in one test took 92 s of one worker)
@pytest.mark.parametrize("role", ROLES)
def test_no_stored_text_acts_on_any_page_or_download_for_any_role(
    browser: Any, hostile_live: tuple[Any, HostileWorld], tmp_path: Path, role: str
) -> None:
    server, world = hostile_live
    origin = urlsplit(server.url).netloc
    pages, downloads, missing = concrete_urls(_routes(server.settings), world_params(world))
    assert not missing, f"routes with a path parameter the suite has no value for: {missing}"
    downloads += draft_downloads(world.actors.isin)
    pages += [f"/reports/{world.actors.isin}/draft?date={world.report_date}"]
    problems: list[str] = []
    seen_payload = 0
    opened_from_disk = False
    started = time.monotonic()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    foreign: list[str] = []
    context.on(
        "request",
        lambda request, foreign=foreign: (
            foreign.append(request.url)
            if urlsplit(request.url).netloc not in (origin, "")
            and urlsplit(request.url).scheme in ("http", "https", "ws", "wss")
            else None
        ),
    )
    tab = _sign_in(context, server.url, world.actors.emails[role])
    # every navigation of the tab, with the page it happened on: a refresh or a script that leaves
    # after the page was checked is caught when the next page (or the end) is reached
    navigations: list[tuple[str, str]] = []
    current = [""]
    tab.on(
        "framenavigated",
        lambda frame, navigations=navigations, current=current: navigations.append(
            (current[0], frame.url)
        ),
    )
    dialogs: list[str] = []
    tab.on("dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message), d.dismiss()))
    for url in pages:
        where = f"{role} {url}"
        current[0] = where
        # plotly's figure calls run before DOMContentLoaded (plotly.js is a blocking script)
        response = tab.goto(f"{server.url}{url}", wait_until="domcontentloaded")
        status = response.status if response else 0
        if status >= 500:
            problems.append(f"{where}: {status}")
            continue
        if urlsplit(tab.url).netloc != origin:
            problems.append(f"{where}: ended on {tab.url}")
            continue
        problems += [f"{where}: {p}" for p in tab.evaluate(PAGE_CHECK, list(MARKERS))]
        content = tab.content()
        seen_payload += sum(content.count(m) for m in ("id=pwn", EVIL_HOST))
    for url in downloads:
        where = f"{role} {url}"
        if url.endswith(".pdf"):
            # printed by Chromium (10–60 s on a busy machine): the investor, its reader, fetches it; the
            # other roles' access to it is the access matrix's
            if role != "investor":
                continue
            response = context.request.get(f"{server.url}{url}", timeout=240_000)
            if response.status >= 500:
                problems.append(f"{where}: {response.status}")
            elif response.status == 200 and not response.body().startswith(b"%PDF-"):
                problems.append(f"{where}: not a PDF")
            continue
        response = context.request.get(f"{server.url}{url}")
        if response.status >= 500:
            problems.append(f"{where}: {response.status}")
            continue
        if response.status != 200 or url.endswith("/file"):
            continue
        body = response.body()
        kind = response.headers.get("content-type", "")
        if "spreadsheetml" in kind or "format=xlsx" in url or url.endswith(".xlsx"):
            found, _ = xlsx_problems(body, where)
            problems += found
        elif "csv" in kind or url.endswith(".csv"):
            found, _ = csv_problems(body, where)
            problems += found
        elif "html" in kind:
            problems += _report_html_problems(body.decode("utf-8", "replace"), where)
            if url.endswith("report.html") and not opened_from_disk:
                # as an investor opens it: from disk, where no response header protects it
                saved = tmp_path / f"{role}-report.html"
                saved.write_bytes(body)
                disk = context.new_page()
                disk.goto(saved.as_uri(), wait_until="load")
                found_on_disk = disk.evaluate(PAGE_CHECK, list(MARKERS))
                problems += [f"{where} opened from disk: {p}" for p in found_on_disk]
                disk.close()
                opened_from_disk = True
    tab.wait_for_timeout(100)
    problems += [
        f"{where}: navigated to {target}"
        for where, target in navigations
        if urlsplit(target).netloc not in (origin, "")
    ]
    problems += [f"{role}: request to another host: {u}" for u in sorted(set(foreign))]
    problems += [f"{role}: a script opened a dialog: {m!r}" for m in dialogs]
    context.close()
    # the figure for the report (run with -s): the browsing alone, without building the world
    print(
        f"\nChromium: {role}: {len(pages)} pages + {len(downloads)} downloads "
        f"in {time.monotonic() - started:.1f} s"
    )
    assert seen_payload, "no page showed the stored payloads: the test would not see them"
    assert not problems, "\n".join(problems)


_META_CSP = re.compile(r"<meta[^>]+http-equiv=[\"']?content-security-policy", re.I)


def _report_html_problems(html: str, where: str) -> list[str]:
    """A downloaded report.html is opened from disk, where no header protects it: it carries its own CSP."""
    if not where.endswith(("report.html", "format=html")):
        return []
    if not _META_CSP.search(html):
        return [f"{where}: the downloaded report has no <meta> Content-Security-Policy"]
    return []
