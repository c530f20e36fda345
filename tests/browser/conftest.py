"""The browser tests' world: the real application under uvicorn on a free loopback port, on a copy of the
demo database with one user per role, driven by Debian's Chromium through Playwright.

Without ``/usr/bin/chromium`` every browser test is skipped with a message saying so, except under
``LANPORTFOLJ_REQUIRE_BROWSER`` (``.ci/run`` sets it, and installs Chromium), where they fail. A failing test leaves a screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from lanportfolj.config import Settings
from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Borrower, Loan
from lanportfolj.services import users

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SKIP_MESSAGE = (
    f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # CI sets LANPORTFOLJ_REQUIRE_BROWSER: there a missing browser fails the tests (``browser``),
    # never a skip counted as a pass; on a developer's machine without Chromium they say why they skip
    if Path(CHROMIUM).exists() or os.environ.get("LANPORTFOLJ_REQUIRE_BROWSER"):
        return
    here = Path(__file__).resolve().parent
    skip = pytest.mark.skip(reason=SKIP_MESSAGE)
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    # keep each phase's report on the item, so the page fixture knows whether the test failed
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


@dataclass(frozen=True)
class LiveServer:
    url: str
    settings: Settings
    accounts: dict[str, str]
    """E-mail per role (the borrower belongs to ``own_loan``'s organisation); password ``users.DEMO_PASSWORD``."""
    own_loan: str
    other_loan: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(demo_settings: Settings) -> Iterator[LiveServer]:
    """The application on a copy of the demo database, with the demo users."""
    import uvicorn

    from lanportfolj.web.app import create_app

    engine = make_engine(demo_settings)
    with session_scope(engine) as db:
        accounts = {r["role"]: r["email"] for r in users.ensure_demo_users(db)}
        borrower = users.demo_borrower(db)
        assert borrower is not None, "the demo portfolio has no borrower"
        own_loan = db.exec(
            select(Loan.reference)
            .where(Loan.borrower_id == borrower.id)
            .order_by(col(Loan.reference))
        ).first()
        other_loan = db.exec(
            select(Loan.reference)
            .join(Borrower, col(Borrower.id) == col(Loan.borrower_id))
            .where(Loan.borrower_id != borrower.id)
            .order_by(col(Loan.reference))
        ).first()
        assert own_loan and other_loan, "the demo needs loans of two organisations"
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(demo_settings, engine=engine),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", demo_settings, accounts, own_loan, other_loan)
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per browser test module. Not per session: Playwright's sync API keeps an
    event loop running in the main thread while it lives, and tests after this folder use asyncio.run."""
    if not Path(CHROMIUM).exists():
        pytest.fail(SKIP_MESSAGE)  # only when required: otherwise the tests were marked skipped
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test; a screenshot in test-artifacts/ when it fails."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()
