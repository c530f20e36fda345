"""The shell in a real browser: each role's menu, another borrower's loan, the language switch, keyboard
use of the login form."""

from __future__ import annotations

from typing import Any

import pytest

from lanportfolj.services.users import DEMO_PASSWORD

pytestmark = pytest.mark.browser

MENUS = {
    "analyst": ["Loans", "Applications", "Imports", "Reports", "Programme"],
    "borrower": ["My loans", "Report values"],
    "investor": ["Reports"],
    "admin": [
        "Loans",
        "Applications",
        "Imports",
        "Reports",
        "Programme",
        "Users",
        "Tokens",
        "Audit log",
    ],
}


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize("role", list(MENUS))
def test_each_role_sees_its_own_menu(page, live_server, role: str) -> None:
    from playwright.sync_api import expect

    _sign_in(page, live_server.url, live_server.accounts[role])
    menu = page.get_by_role("navigation", name="Main")
    expect(menu.get_by_role("link")).to_have_text(MENUS[role])
    expect(page.locator(".flash")).to_contain_text(f"Signed in as {live_server.accounts[role]}")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server.url}/login")
    expect(page.locator(".flash")).to_contain_text("You have signed out.")


def test_a_borrower_cannot_reach_another_borrowers_loan(page, live_server) -> None:
    from playwright.sync_api import expect

    _sign_in(page, live_server.url, live_server.accounts["borrower"])
    # the start page's loan list (the borrower's to-do table above it lists the same own loans)
    expect(page.locator("#loans")).to_contain_text(live_server.own_loan)
    expect(page.locator("main")).not_to_contain_text(live_server.other_loan)
    own = page.goto(f"{live_server.url}/loans/{live_server.own_loan}")
    assert own is not None and own.status == 200
    other = page.goto(f"{live_server.url}/loans/{live_server.other_loan}")
    assert other is not None and other.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("404 · Page not found")
    expect(page.locator("body")).not_to_contain_text("Traceback")


def test_the_language_switch_works_and_is_remembered(page, live_server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    # a new page without ?lang= stays English: the choice lives in a cookie
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Loans for social sustainability")
    page.get_by_test_id("lang-switch").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lån för social hållbarhet")
    page.goto(f"{live_server.url}/login")
    expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")


def test_the_login_form_works_with_the_keyboard(page, live_server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/login?lang=en")
    # the e-mail field has focus on arrival; Tab moves to the password, Enter submits
    expect(page.get_by_label("E-mail address")).to_be_focused()
    page.keyboard.type(live_server.accounts["analyst"])
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Applications")


def test_a_wrong_password_is_announced_next_to_the_form(page, live_server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{live_server.url}/login?lang=en")
    page.get_by_label("E-mail address").fill(live_server.accounts["investor"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_label("Password").press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail address or password.")
    expect(page.get_by_label("E-mail address")).to_have_value(live_server.accounts["investor"])


def test_the_layout_fits_a_phone(page, live_server) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    _sign_in(page, live_server.url, live_server.accounts["admin"])
    page.goto(f"{live_server.url}/admin/users")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than a phone screen"
