"""An application from the borrower's first draft to an active loan with its discount, in a real browser:
the borrower fills the case form and submits, the analyst reviews, judges E9–E11, records both approvals,
approves and activates; both then read the same reasons, and the discount with its effective margin and
saving. Also: a draft that does not validate keeps every typed value."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lanportfolj.services.users import DEMO_PASSWORD

pytestmark = pytest.mark.browser

AMOUNT = "16 000 000"  # at 2 bp: 3 200 SEK a year
MARGIN = "25"

# What the borrower types, by the form's label (all unique on the form).
TEXTS = {
    "Title": "Family centre in Vara with home visits",
    "Amount (SEK)": AMOUNT,
    "Total project cost (SEK)": "20 000 000",
    "Margin (basis points)": MARGIN,
    "The physical investment": "A new family centre building next to the health centre in Vara",
    "The social intervention": "Home visits to new parents and open pre-school at the centre",
    "1. The social need": (
        "Many families with small children in Vara have little contact with support services; "
        "problems are found late, when they are harder and costlier to solve."
    ),
    "2. Target group: who": "Parents of children aged 0-6",
    "Target group: where": "Vara municipality",
    "Target group: which attributes": "First-time parents, families new to Sweden",
    "3. The interventions": "Home visits, parent groups, open pre-school",
    "4. The change for the target group": "Earlier support and stronger parents",
    "5. The future state the investment contributes to": "Children who start school on equal terms",
    "Intervention logic": (
        "Home visits reach families early, before problems grow; one building for the child health "
        "centre, the social services and open pre-school lowers the threshold to ask for help."
    ),
    "Part of your systematic social-sustainability work": "Vara's plan for social sustainability",
    "Developed practice, innovation or higher quality": (
        "Extended home visits by midwife and social worker together, new in the region"
    ),
    "Follow-up runs until (year)": "2033",
    "SDG targets": "3.4, 4.2",
    "How the results will be evaluated": "Yearly follow-up against Grästorp as comparison",
    "Comparison group": "Grästorp municipality",
}
INDICATORS = [
    # code, baseline value, baseline year, target value, target year, data source
    ("dwellings_renovated", "0", "2025", "40", "2032", "Company records"),
    ("reported_crimes", "120", "2025", "90", "2032", "Police"),
]


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _sign_out(page: Any, base: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{base}/login")


def _fill_case(page: Any) -> None:
    """The case form as a person fills it: type each text, pick from the lists, tick a box."""
    for label, value in TEXTS.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Maturity date", exact=True).fill("2036-12-31")
    page.get_by_label("Programme category", exact=True).select_option("housing")
    page.get_by_label("ICMA Social Bond Principles category", exact=True).select_option(
        "affordable_housing"
    )
    page.get_by_label("Investment type", exact=True).select_option("social_linked_to_physical")
    page.locator("input[name=target_populations]").first.check()
    for i, (code, base_value, base_year, target, year, source) in enumerate(INDICATORS):
        page.get_by_label(f"Indicator {i + 1}: code").press_sequentially(code)
        row = page.locator(f"[data-indicator='{i}']")
        row.get_by_label("Baseline value").fill(base_value)
        row.get_by_label("Baseline year").fill(base_year)
        row.get_by_label("Target value").fill(target)
        row.get_by_label("Target year").fill(year)
        row.get_by_label("Data source").fill(source)
    goal = page.locator("[data-goal='0']")
    goal.get_by_label("Goal 1").fill("Home visits to every family with a newborn by 2032")
    goal.get_by_label("Measured by (indicator codes, comma-separated)").fill(
        ", ".join(code for code, *_ in INDICATORS)
    )
    goal.get_by_label("Target value").fill("40")
    goal.get_by_label("Target year").fill("2032")


def _move_to(page: Any, status: str) -> None:
    from playwright.sync_api import expect

    page.locator(f"#to-{status}").click()
    expect(page.locator("#status")).to_have_attribute("data-status", status)


def _criteria(page: Any) -> list[str]:
    return [
        re.sub(r"\s+", " ", row).strip()
        for row in page.locator("#criteria tbody tr").all_inner_texts()
    ]


def test_a_submitted_application_is_approved_and_the_loan_shows_its_discount(
    page, live_server
) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    _sign_in(page, base, live_server.accounts["borrower"])
    page.goto(f"{base}/applications/new")
    _fill_case(page)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/applications/SH-\d{4}-\d{3,}$"))
    reference = page.url.rsplit("/", 1)[1]
    expect(page.locator(".flash")).to_contain_text(f"The draft {reference} is saved.")
    expect(page.locator("#status")).to_have_attribute("data-status", "draft")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".flash")).to_contain_text("The application is submitted for review.")
    expect(page.locator("#status")).to_have_attribute("data-status", "submitted")
    # everything the form asked passes; the three judgement criteria wait for the analyst
    for cid in ("E9", "E10", "E11"):
        expect(page.locator(f"#criterion-{cid}")).to_have_attribute(
            "data-result", "needs_judgement"
        )
    for cid in ("E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8"):
        expect(page.locator(f"#criterion-{cid}")).to_have_attribute("data-result", "pass")
    _sign_out(page, base)

    _sign_in(page, base, live_server.accounts["analyst"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Applications").click()
    page.locator("#f-status").select_option("submitted")
    page.get_by_role("button", name="Filter").click()
    page.locator("#queue").get_by_role("link", name=reference).click()
    page.wait_for_url(f"{base}/analyst/applications/{reference}")
    _move_to(page, "under_review")

    rationales = {
        "E9": "Early home visits are a well-documented way to reach families in time.",
        "E10": "The project is named in Vara's plan for social sustainability.",
        "E11": "Extended home visits are new in the region.",
    }
    for cid, why in rationales.items():
        page.get_by_label("Criterion", exact=True).select_option(cid)
        page.get_by_label("pass", exact=True).check()
        page.get_by_label("Rationale (the borrower sees it)").fill(why)
        page.get_by_role("button", name="Record judgement").click()
        expect(page.locator(".flash")).to_contain_text(f"Judgement of {cid} recorded.")
        expect(page.locator(f"#criterion-{cid}")).to_have_attribute("data-result", "pass")
        expect(page.locator(f"#criterion-{cid}")).to_contain_text(why)
    expect(page.locator("[data-overall]")).to_have_attribute("data-overall", "eligible")

    for kind in ("committee", "credit"):
        page.get_by_label("Decision by").select_option(kind)
        page.get_by_label("Outcome", exact=True).select_option("approved")
        page.get_by_label("Rationale", exact=True).fill(f"The {kind} approves: a sound case.")
        page.get_by_role("button", name="Record decision").click()
        expect(page.locator(".flash")).to_contain_text("Decision recorded.")
        expect(page.locator(f"[data-decision='{kind}']")).to_contain_text("approved")
    _move_to(page, "approved")
    _move_to(page, "active")
    analyst_reasons = _criteria(page)

    discount = page.locator("#discount")
    expect(discount.locator("[data-applies]")).to_have_attribute("data-applies", "yes")
    expect(discount).to_contain_text("Effective margin")
    expect(discount.locator("dd").nth(0)).to_have_text("2 basis points")
    expect(discount.locator("dd").nth(1)).to_have_text(f"{MARGIN} basis points")
    expect(discount.locator("dd").nth(2)).to_have_text("23 basis points")
    expect(page.locator("#annual-saving")).to_have_text("3,200")

    page.goto(f"{base}/loans/{reference}")
    facts = page.locator("dl.facts").first  # the loan's own facts, above the application
    expect(facts).to_contain_text("active")
    expect(facts).to_contain_text("2 basis points")
    _sign_out(page, base)

    # the borrower reads the very same reasons, judgements included, and the same discount
    _sign_in(page, base, live_server.accounts["borrower"])
    page.goto(f"{base}/applications/{reference}")
    expect(page.locator("#status")).to_have_attribute("data-status", "active")
    assert _criteria(page) == analyst_reasons
    for why in rationales.values():
        expect(page.locator("#criteria")).to_contain_text(why)
    expect(page.locator("#annual-saving")).to_have_text("3,200")
    expect(page.locator("#discount dd").nth(2)).to_have_text("23 basis points")


def test_an_invalid_draft_keeps_every_typed_value(page, live_server) -> None:
    from playwright.sync_api import expect

    base = live_server.url
    _sign_in(page, base, live_server.accounts["borrower"])
    page.goto(f"{base}/applications/new")
    _fill_case(page)
    page.get_by_label("Amount (SEK)", exact=True).fill("about sixteen million")
    page.get_by_role("button", name="Save draft").click()

    expect(page.locator("#form-errors")).to_be_visible()
    amount = page.get_by_label("Amount (SEK)", exact=True)
    expect(amount).to_have_value("about sixteen million")
    expect(amount).to_have_attribute("aria-invalid", "true")
    for label, value in TEXTS.items():
        if label != "Amount (SEK)":
            expect(page.get_by_label(label, exact=True)).to_have_value(value)
    expect(page.get_by_label("Programme category", exact=True)).to_have_value("housing")
    expect(page.locator("input[name=target_populations]").first).to_be_checked()
    for i, (code, base_value, base_year, target, year, source) in enumerate(INDICATORS):
        row = page.locator(f"[data-indicator='{i}']")
        expect(row.get_by_label(f"Indicator {i + 1}: code")).to_have_value(code)
        expect(row.get_by_label("Baseline value")).to_have_value(base_value)
        expect(row.get_by_label("Baseline year")).to_have_value(base_year)
        expect(row.get_by_label("Target value")).to_have_value(target)
        expect(row.get_by_label("Target year")).to_have_value(year)
        expect(row.get_by_label("Data source")).to_have_value(source)
    goal = page.locator("[data-goal='0']")
    expect(goal.get_by_label("Goal 1")).to_have_value(
        "Home visits to every family with a newborn by 2032"
    )
    # the draft is stored; saving again with the amount corrected leads to the application page
    page.get_by_label("Amount (SEK)", exact=True).fill(AMOUNT)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/applications/SH-\d{4}-\d{3,}$"))
    expect(page.locator(".flash")).to_contain_text("The draft is saved.")
