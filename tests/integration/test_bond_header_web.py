"""The report header as a web form for analysts (issue 16 item 7): the values go onto the next report,
each problem is named at its field, and the change is audited."""

from __future__ import annotations

import json

import pytest
from shell_world import World, build_world, csrf, fast_hashing, signed_in
from sqlmodel import Session, col, select

from lanportfolj.domain.lei import lei_check_digits
from lanportfolj.models import AuditEvent, SocialBond
from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration

ISIN = "SE0000000002"
LEI = "5493001KJTIIGC8Y1R" + lei_check_digits("5493001KJTIIGC8Y1R")


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


def test_an_analyst_records_the_header_and_the_next_report_carries_it(
    settings, engine, world: World
) -> None:
    app = create_app(settings, engine=engine)
    analyst = signed_in(app, world.emails["analyst"])
    listing = analyst.get("/reports").text
    assert f'href="/reports/{ISIN}/header"' in listing
    form = {
        "issuer_name": "Emittenten <i>AB</i>",
        "issuer_lei": "549300ABCDEFGHIJKL99",  # wrong check digits
        "framework_version": "2024:1",
        "reviewer": "Granskaren AB",
        "review_scope": "Second-party opinion on the framework",
    }
    refused = analyst.post(
        f"/reports/{ISIN}/header", data={**form, "_csrf_token": csrf(analyst)},
        follow_redirects=False,
    )  # fmt: skip
    assert refused.status_code == 400
    assert 'id="err-issuer_lei">Inte en LEI' in refused.text
    assert 'value="Emittenten &lt;i&gt;AB&lt;/i&gt;"' in refused.text  # kept as typed, escaped
    with Session(engine) as db:
        bond = db.exec(select(SocialBond).where(SocialBond.isin == ISIN)).one()
        assert not bond.issuer_name and not bond.issuer_lei
    saved = analyst.post(
        f"/reports/{ISIN}/header",
        data={**form, "issuer_lei": LEI, "_csrf_token": csrf(analyst)},
        follow_redirects=False,
    )
    assert saved.status_code in (302, 303), saved.text[:300]
    assert "Emittenten &lt;i&gt;AB&lt;/i&gt; (" + LEI + ")" in analyst.get("/reports").text
    draft = json.loads(analyst.get(f"/reports/{ISIN}/draft?date=2025-12-31&format=json").content)
    header = draft["publication"]["header"]
    assert header["issuer_name"] == "Emittenten <i>AB</i>" and header["issuer_lei"] == LEI
    assert header["reviewer"] == "Granskaren AB"
    # the page shows what is stored; a field left out of the post is not changed
    again = analyst.post(
        f"/reports/{ISIN}/header",
        data={"reviewer": "", "_csrf_token": csrf(analyst)},
        follow_redirects=False,
    )
    assert again.status_code in (302, 303)
    page = analyst.get(f"/reports/{ISIN}/header").text
    assert f'value="{LEI}"' in page and 'name="reviewer" value=""' in page
    with Session(engine) as db:
        events = db.exec(
            select(AuditEvent.actor).where(col(AuditEvent.action) == "bond.header")
        ).all()
    assert list(events) == [world.emails["analyst"]] * 2


def test_the_header_form_is_for_staff_only(settings, engine, world: World) -> None:
    app = create_app(settings, engine=engine)
    for role in ("borrower", "investor"):
        client = signed_in(app, world.emails[role])
        assert client.get(f"/reports/{ISIN}/header").status_code == 403
        post = client.post(
            f"/reports/{ISIN}/header",
            data={"issuer_name": "x", "_csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert post.status_code == 403
    investor_listing = signed_in(app, world.emails["investor"]).get("/reports").text
    assert f"/reports/{ISIN}/header" not in investor_listing
