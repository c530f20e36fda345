"""Issue 14's hostile borrower, from outside: the payloads, the table of every field a user can write, and a
world where those payloads were stored through HTTP (forms with CSRF, the API with a token, the import file).

Shared by ``test_hostile_suite.py`` (inventory, storing, downloads over HTTP) and
``tests/browser/test_hostile_pages.py`` (every page and download as every role in Chromium).

``FIELDS`` is the one table to extend: the inventory test walks the OpenAPI schema, the import file's
columns and every ``<form>`` the pages show to each role, and fails naming any field without a row here.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine
from sqlmodel import col, select

from lanportfolj.db import session_scope
from lanportfolj.models import BondPoolEntry, Loan, SocialBond
from lanportfolj.services import users

# --- the payloads ------------------------------------------------------------------------------------

#: Every text a hostile borrower (or a careless analyst) types, by a short name used in messages.
PAYLOADS: dict[str, str] = {
    "script": "</script><b id=pwn>x</b>",
    "img": '"><img src=x id=pwn onerror=alert(1)>',
    "link": '<a href="https://evil.example/" id=pwn>x</a>',
    "csrf": "__lanportfolj_csrf_token__",
    "formula": '=HYPERLINK("https://evil.example","x")',
    "crlf": "\r\nSet-Cookie: a=b",
    "big": ("lång text " * 10_000)[:100_000],
    "unicode": "€ ✓ 𝔘 ا",
    "refresh": '<meta http-equiv=refresh content="0;url=https://evil.example/">',
}
#: Markers by which stored text is recognised on a page or in a download.
MARKERS = ("evil.example", "id=pwn", "__lanportfolj_csrf_token__", "Set-Cookie: a=b", "𝔘")
EVIL_HOST = "evil.example"
ROLES = ("analyst", "borrower", "investor", "admin")
REPORT_DATE = "2026-03-31"


# --- who writes, and how ------------------------------------------------------------------------------


@dataclass
class Actors:
    """Signed-in clients per role (cookies + CSRF) and API tokens, over one base URL."""

    clients: dict[str, httpx.Client]
    tokens: dict[str, str]
    emails: dict[str, str]
    engine: Engine
    own_loan: str
    """An active loan of the borrower user's organisation, in the bond's pool."""
    isin: str
    draft: str = ""
    """A draft of the borrower's organisation the per-field tests change."""
    review: str = ""
    """An application under review (judgements, decisions, transitions)."""
    user_ids: dict[str, int] = field(default_factory=dict)

    def api(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kwargs.pop("headers", {})}
        return self.clients["anonymous"].request(method, path, headers=headers, **kwargs)

    def form(self, role: str, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
        client = self.clients[role]
        return client.post(
            path, data={**data, "_csrf_token": csrf_of(client)}, follow_redirects=False, **kwargs
        )


_CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_of(client: httpx.Client) -> str:
    """The CSRF token this client's pages carry (the cookie, else the hidden input of a page)."""
    token = client.cookies.get("csrftoken")
    if token:
        return str(token)
    found = _CSRF_INPUT.search(client.get("/login").text) or _CSRF_INPUT.search(
        client.get("/").text
    )
    assert found, "no CSRF token on /login or /"
    return found.group(1)


def sign_in(client: httpx.Client, email: str, password: str = users.DEMO_PASSWORD) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303), (email, response.status_code, response.text[:300])


def make_actors(engine: Engine, new_client: Callable[[], httpx.Client]) -> Actors:
    """The demo's users signed in, one client each, and API tokens for the roles that use the API."""
    with session_scope(engine) as db:
        emails = {r["role"]: r["email"] for r in users.ensure_demo_users(db)}
        tokens: dict[str, str] = {}
        ids: dict[str, int] = {}
        for role, email in emails.items():
            user = users.find_user(db, email)
            assert user is not None and user.id is not None
            ids[role] = user.id
            if role in ("analyst", "borrower", "admin"):
                tokens[role] = users.create_token(db, user=user, name="hostile", actor="test")[1]
        borrower = users.demo_borrower(db)
        assert borrower is not None
        own = db.exec(
            select(Loan.reference)
            .join(BondPoolEntry, col(BondPoolEntry.loan_id) == col(Loan.id))
            .where(Loan.borrower_id == borrower.id, Loan.status == "active")
            .order_by(col(Loan.reference))
        ).first()
        isin = db.exec(select(SocialBond.isin).order_by(col(SocialBond.isin))).first()
        assert own and isin, "the demo needs a pooled loan of the borrower user and a bond"
    clients = {"anonymous": new_client()}
    for role in ROLES:
        clients[role] = new_client()
        sign_in(clients[role], emails[role])
    return Actors(clients, tokens, emails, engine, own, isin, user_ids=ids)


# --- safe values: what a field holds when another field carries the payload ---------------------------

SAFE_CASE: dict[str, Any] = {
    "title": "Hostile suite draft",
    "amount": "16000000",
    "total_project_cost": "20000000",
    "margin_bp": "30",
    "application_date": "2026-01-15",
    "disbursement_date": "2026-03-01",
    "maturity_date": "2036-03-01",
    "programme_category": "health_education",
    "icma_category": "access_to_essential_services",
    "investment_type": "physical",
    "target_populations": [],
    "sdgs": ["3.4"],
    "planned_sample_per_arm": 40,
    "outcome_base_rate": 0.05,
    "follow_up_until_year": 2030,
}
#: The free-text fields of a case: each may hold any of the payloads.
CASE_TEXTS = (
    "title",
    "social_need",
    "target_group_who",
    "target_group_where",
    "target_group_attributes",
    "interventions",
    "change_for_target_group",
    "future_state",
    "physical_investment",
    "social_intervention",
    "intervention_logic",
    "systematic_work_ref",
    "developed_practice",
    "evaluation_plan",
    "comparison_group",
)
SAFE_CODE = "hostile_suite_own"


_CODES = itertools.count(1)


def fresh_code() -> str:
    return f"hostile_own_{next(_CODES)}"


def own_indicator(code: str = SAFE_CODE, **over: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": "Deltagare i hembesök",
        "unit": "st",
        "kind": "output",
        "baseline_value": "10",
        "baseline_year": 2025,
        "target_value": "40",
        "target_year": 2029,
        "data_source": "Egen räkning",
        **over,
    }


def goal(indicator: str = SAFE_CODE, **over: Any) -> dict[str, Any]:
    return {
        "text": "Fler familjer får hembesök",
        "indicators": [indicator],
        "target_value": "40",
        "target_year": 2029,
        **over,
    }


def case_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {**SAFE_CASE, "indicators": [own_indicator()], "goals": [goal()]}
    body.update(over)
    return body


# --- outcomes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one payload in one field."""

    stored: bool
    refused: bool
    status: int
    detail: str
    """Why it counts as refused (the message the user sees), or what went wrong."""
    kept: bool | None = None
    """Stored: whether the record read back holds the text as typed (None: not read back)."""


def holds(obj: Any, text: str) -> bool:
    """Whether any string inside ``obj`` (JSON read back) contains ``text`` (outer whitespace aside)."""
    needle = text.strip()
    if isinstance(obj, str):
        return needle in obj
    if isinstance(obj, dict):
        return any(holds(v, text) for v in obj.values())
    if isinstance(obj, list):
        return any(holds(v, text) for v in obj)
    return False


def api_outcome(
    response: httpx.Response, names: Iterable[str], value: str | None = None
) -> Outcome:
    """2xx stored (read back from the answer when ``value`` is given); 4xx refused, and the answer must
    name the field (one of ``names``)."""
    status = response.status_code
    if status < 300:
        body = response.json()
        # a draft keeps what can be used and lists the rest: a field error naming the field is a refusal
        errors = body.pop("field_errors", []) if isinstance(body, dict) else []
        named = [e for e in errors if any(str(e.get("field", "")).startswith(n) for n in names)]
        if named:
            return Outcome(False, True, status, str(named[0]))
        kept = holds(body, value) if value is not None else None
        return Outcome(True, False, status, "", kept)
    text = response.text
    named = any(name in text for name in names)
    return Outcome(False, 400 <= status < 500 and named, status, text[:400])


_FIELD_ERROR = re.compile(r'<span class="field-error" id="err-([^"]+)">([^<]*)</span>')
_FLASH_ERROR = re.compile(r'<p class="flash error"[^>]*>([^<]*)</p>')


def form_outcome(client: httpx.Client, response: httpx.Response, name: str) -> Outcome:
    """A form post: a redirect whose next page has no error, or a page without errors, stored; a field
    error naming the field, an error flash, or a clean 4xx page, refused."""
    status = response.status_code
    page = response
    if status in (301, 302, 303):
        location = response.headers["location"]
        if urlsplit(location).netloc and urlsplit(location).netloc != client.base_url.netloc:
            return Outcome(False, False, status, f"redirected off-site to {location!r}")
        page = client.get(location)
        if page.status_code >= 500:
            return Outcome(False, False, page.status_code, page.text[:400])
    if status >= 500:
        return Outcome(False, False, status, response.text[:400])
    errors = {key: msg for key, msg in _FIELD_ERROR.findall(page.text)}
    slot = name.replace(".", "-")
    mine = [msg for key, msg in errors.items() if key == slot or key.startswith(slot)]
    flashes = _FLASH_ERROR.findall(page.text)
    if mine:
        return Outcome(False, True, status, mine[0])
    if 400 <= status < 500:
        return Outcome(False, True, status, (flashes or [page.text[:200]])[0])
    if flashes:
        return Outcome(False, True, status, flashes[0])
    return Outcome(True, False, status, "")


# --- the table ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One writable field: who writes it, how a payload is put in, and whether its grammar refuses every
    payload (an identifier, a date, a number, a choice) or it is free text (stored or refused cleanly)."""

    role: str
    store: Callable[[Actors, str], Outcome]
    grammar: bool = False
    note: str = ""
    shown_when: str = ""
    """Set for a form field the pages show only in a state the inventory's world lacks (why, then)."""


def reset_draft(world: Actors) -> None:
    """The shared draft back to safe values: what the previous payload left must not be read back."""
    reset = world.api("borrower", "PATCH", f"/api/loans/{world.draft}", json=case_body())
    assert reset.status_code == 200, reset.text[:300]


def _api_case(method: str, name: str, make: Callable[[str], dict[str, Any]]) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        if method == "POST":
            response = world.api("borrower", "POST", "/api/loans", json=case_body(**make(value)))
        else:
            reset_draft(world)
            response = world.api("borrower", "PATCH", f"/api/loans/{world.draft}", json=make(value))
        return api_outcome(response, (name, name.split(".")[0]), value)

    return Row("borrower", store)


def _api_case_row(method: str, name: str) -> Row:
    if name in CASE_TEXTS:
        return _api_case(method, name, lambda v: {name: v})
    if name in ("target_populations", "sdgs"):
        row = _api_case(method, name, lambda v: {name: [v]})
    elif name == "reference":
        row = _api_case(method, name, lambda v: {"reference": v})
    else:
        row = _api_case(method, name, lambda v: {name: v})
    return Row(row.role, row.store, grammar=True)


def _api_indicator(method: str, name: str) -> Row:
    def make(value: str) -> dict[str, Any]:
        if name == "code":
            return {"indicators": [own_indicator(value)], "goals": [goal(value)]}
        # a code of its own each time: what an earlier payload left on an own indicator is not read back
        code = fresh_code()
        return {"indicators": [own_indicator(code, **{name: value})], "goals": [goal(code)]}

    row = _api_case(method, f"indicators.0.{name}", make)
    free = name in ("name", "unit", "data_source")
    return Row(row.role, row.store, grammar=not free)


def _api_goal(method: str, name: str) -> Row:
    def make(value: str) -> dict[str, Any]:
        if name == "indicators":
            return {"goals": [goal(indicators=[value])], "indicators": [own_indicator()]}
        return {"goals": [goal(**{name: value})], "indicators": [own_indicator()]}

    row = _api_case(method, f"goals.0.{name}", make)
    return Row(row.role, row.store, grammar=name != "text")


def ensure_review(world: Actors) -> None:
    """Bring ``world.review`` back under review (a send-back with a stored reason left it a draft)."""
    for _ in range(3):
        status = world.api("analyst", "GET", f"/api/loans/{world.review}").json()["status"]
        if status == "under_review":
            return
        if status == "draft":
            world.api("borrower", "POST", f"/api/loans/{world.review}/submit")
        elif status == "submitted":
            world.api(
                "analyst",
                "POST",
                f"/api/loans/{world.review}/transitions",
                json={"to": "under_review"},
            )
        else:
            return


def _api_staff(path: str, make: Callable[[str], dict[str, Any]], name: str, free: bool) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        ensure_review(world)
        response = world.api("analyst", "POST", path.format(ref=world.review), json=make(value))
        outcome = api_outcome(response, (name,))
        if outcome.stored and "transitions" not in path:
            record = world.api("analyst", "GET", f"/api/loans/{world.review}").json()
            return Outcome(True, False, outcome.status, "", holds(record, value))
        return outcome

    return Row("analyst", store, grammar=not free)


def _kolada_query(name: str) -> Row:
    if name in ("accept", "lang"):
        note = "keys of figures to replace: unknown ones match nothing" if name == "accept" else ""
        return Row("borrower", _kolada_param(name), note=note or "an unknown language falls back")
    return Row("borrower", _kolada_param(name), grammar=True, note="reflected, never stored")


def _kolada_param(name: str) -> Callable[[Actors, str], Outcome]:
    def store(world: Actors, value: str) -> Outcome:
        params = {"years": "2020-2025", "compare": "similar", name: value}
        response = world.api(
            "borrower", "POST", f"/api/loans/{world.own_loan}/kolada", params=params
        )
        return api_outcome(response, (name,))

    return store


def import_csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(
        out,
        fieldnames=[
            *("loan", "indicator", "year", "value", "estimated", "comment", "group"),
            *("n", "std_error"),
        ],
    )
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue().encode("utf-8")


def _first_indicator(world: Actors, reference: str) -> tuple[str, str]:
    """A library indicator of ``reference`` and a value inside its range."""
    response = world.api("analyst", "GET", f"/api/loans/{reference}")
    assert response.status_code == 200, response.text
    indicator = response.json()["indicators"][0]
    value = indicator.get("baseline_value") or "1"
    return indicator["code"], str(value)


def _import_row(world: Actors, column: str, value: str, year: int = 2025) -> dict[str, str]:
    code, number = _first_indicator(world, world.own_loan)
    row = {
        "loan": world.own_loan,
        "indicator": code,
        "year": str(year),
        "value": number,
        "estimated": "",
        "comment": "",
        "group": "",
    }
    row[column] = value
    return row


def _import_column(column: str, free: bool) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        body = import_csv([_import_row(world, column, value)])
        response = world.api(
            "borrower", "POST", "/api/imports", files={"file": ("hostile.csv", body, "text/csv")}
        )
        return api_outcome(response, (column,))

    return Row("borrower", store, grammar=not free, note="the yearly import file")


def _import_file_name() -> Row:
    def store(world: Actors, value: str) -> Outcome:
        body = import_csv([_import_row(world, "comment", "")])
        name = f"{value[:200]}.csv"
        response = world.api(
            "borrower", "POST", "/api/imports", files={"file": (name, body, "text/csv")}
        )
        return api_outcome(response, ("file", "filename", "name"))

    return Row("borrower", store, note="the uploaded file's name")


def _case_form(action: str, name: str) -> Row:
    """A field of the case form (new draft or edit)."""

    def store(world: Actors, value: str) -> Outcome:
        path = "/applications/new" if action == "new" else f"/applications/{world.draft}/edit"
        if action != "new":
            reset_draft(world)
        data: dict[str, Any] = {k: v for k, v in SAFE_CASE.items() if not isinstance(v, list)}
        data["sdgs"] = "3.4"
        data["outcome_base_rate"] = "5 %"
        code = fresh_code()
        data.update(
            {
                "indicators-0-code": code,
                **{f"indicators-0-{k}": str(v) for k, v in own_indicator().items() if k != "code"},
                "goals-0-text": "Fler familjer får hembesök",
                "goals-0-indicators": code,
                "goals-0-target_value": "40",
                "goals-0-target_year": "2029",
            }
        )
        slot = name.replace("{i}", "0")
        data[slot] = value
        if slot == "indicators-0-code":
            data["goals-0-indicators"] = value
        response = world.form("borrower", path, data)
        error_key = slot.replace("-", ".") if slot.startswith(("goals-", "indicators-")) else slot
        outcome = form_outcome(world.clients["borrower"], response, error_key)
        if outcome.stored:
            found = re.search(r"/applications/([^/\s\"]+)", response.headers.get("location", ""))
            reference = found.group(1) if found else world.draft
            record = world.api("borrower", "GET", f"/api/loans/{reference}").json()
            return Outcome(True, False, outcome.status, "", holds(record, value))
        return outcome

    base = name.replace("{i}", "0").split("-")[-1]
    free_leaf = {"name", "unit", "data_source", "text"}
    in_row = name.startswith(("goals-", "indicators-"))
    free = base in free_leaf if in_row else name in CASE_TEXTS
    return Row("borrower", store, grammar=not free)


def _staff_form(kind: str, name: str, free: bool, base: dict[str, str]) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        ensure_review(world)
        path = f"/analyst/applications/{world.review}/{kind}"
        response = world.form("analyst", path, {**base, name: value})
        outcome = form_outcome(world.clients["analyst"], response, name)
        if outcome.stored and kind != "transitions":
            record = world.api("analyst", "GET", f"/api/loans/{world.review}").json()
            return Outcome(True, False, outcome.status, "", holds(record, value))
        return outcome

    return Row("analyst", store, grammar=not free)


def _delete_draft_form() -> Row:
    """Deleting a draft: only the confirmation box's own value ``yes`` deletes; anything else is refused
    with a message (the shared draft must survive every payload)."""

    def store(world: Actors, value: str) -> Outcome:
        response = world.form("borrower", f"/applications/{world.draft}/delete", {"confirm": value})
        return form_outcome(world.clients["borrower"], response, "confirm")

    return Row("borrower", store, grammar=True, note="a choice: only 'yes' deletes")


def _admin_form(path: str, name: str, free: bool, base: dict[str, str]) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        target = path.format(user_id=world.user_ids["investor"])
        response = world.form("admin", target, {**base, name: value})
        return form_outcome(world.clients["admin"], response, name)

    return Row("admin", store, grammar=not free)


def _login_form(name: str) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        client = world.clients["anonymous"]
        data = {"email": "nobody@x.example", "password": "wrong password", "next": "/", name: value}
        response = client.post(
            "/login", data={**data, "_csrf_token": csrf_of(client)}, follow_redirects=False
        )
        return form_outcome(client, response, name)

    return Row("anonymous", store, grammar=True, note="reflected, never stored")


def _login_next() -> Row:
    """``next`` with the right password: the redirect stays on this site (an open redirect otherwise)."""

    def store(world: Actors, value: str) -> Outcome:
        client = world.clients["anonymous"]
        client.cookies.clear()
        client.get("/login")
        response = client.post(
            "/login",
            data={
                "email": world.emails["investor"],
                "password": users.DEMO_PASSWORD,
                "next": value,
                "_csrf_token": csrf_of(client),
            },
            follow_redirects=False,
        )
        outcome = form_outcome(client, response, "next")
        client.cookies.clear()
        if response.status_code in (302, 303):
            target = urlsplit(response.headers["location"])
            if target.netloc or response.headers["location"].startswith(("//", "\\")):
                return Outcome(False, False, response.status_code, "open redirect")
            return Outcome(False, True, response.status_code, "kept on this site")
        return outcome

    return Row("anonymous", store, grammar=True, note="a redirect target: must stay on the site")


def _import_form(name: str) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        body = import_csv([_import_row(world, "comment", "Kommentar")])
        client = world.clients["borrower"]
        if name == "file":
            response = client.post(
                "/imports",
                data={"_csrf_token": csrf_of(client)},
                files={"file": (f"{value[:200]}.csv", body, "text/csv")},
            )
            return form_outcome(client, response, "file")
        preview = client.post(
            "/imports",
            data={"_csrf_token": csrf_of(client)},
            files={"file": ("values.csv", body, "text/csv")},
        )
        assert preview.status_code == 200, preview.text[:300]
        data = {"filename": "values.csv"}
        for hidden in ("sha256", "upload"):
            found = re.search(rf'name="{hidden}" value="([^"]*)"', preview.text)
            if found:
                data[hidden] = found.group(1)
        data[name] = value
        response = world.form("borrower", "/imports/confirm", data)
        return form_outcome(client, response, name)

    return Row("borrower", store, grammar=name in ("sha256", "upload"))


NEW_PASSWORD = "ett nytt långt lösenord 1"


def _own_password_form(name: str) -> Row:
    """The investor changes their own password; a payload that becomes the password is changed back."""

    def store(world: Actors, value: str) -> Outcome:
        current = users.DEMO_PASSWORD
        data = {"current": current, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD, name: value}
        if name == "password":
            data["confirm"] = value
        response = world.form("investor", "/account/password", data)
        client = world.clients["investor"]
        outcome = form_outcome(client, response, name)
        changed_to = data["password"] if outcome.stored else ""
        if changed_to:
            # a changed password ends the sessions: sign in with it, and put the demo password back
            client.cookies.clear()
            sign_in(client, world.emails["investor"], changed_to)
            back = {"current": changed_to, "password": current, "confirm": current}
            world.form("investor", "/account/password", back)
            client.cookies.clear()
            sign_in(client, world.emails["investor"])
        return outcome

    return Row("investor", store, grammar=name != "password", note="never shown anywhere")


def _reset_password_form() -> Row:
    """An admin resets the investor's password; a payload that becomes the password is reset back."""

    def store(world: Actors, value: str) -> Outcome:
        path = f"/admin/users/{world.user_ids['investor']}/password"
        response = world.form("admin", path, {"password": value})
        outcome = form_outcome(world.clients["admin"], response, "password")
        if outcome.stored:
            world.form("admin", path, {"password": users.DEMO_PASSWORD})
        return outcome

    return Row("admin", store, note="never shown anywhere")


def _kolada_form(path: str, name: str) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        target = path.format(reference=world.own_loan)
        data = {"years": "2020-2025", "compare": "similar"}
        data[name] = value
        response = world.form("borrower", target, data)
        return form_outcome(world.clients["borrower"], response, name)

    if name.startswith("accept:"):
        return Row("borrower", store, note="a flag: any value but 1 means no; never stored")
    return Row("borrower", store, grammar=True, note="reflected, never stored")


def _publish_form(name: str) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        data = {"date": REPORT_DATE, "fx_rate": "", "fx_source": ""}
        data[name] = value
        # without confirm=yes nothing is published: the confirmation page shows the values
        response = world.form("analyst", f"/reports/{world.isin}/publish", data)
        return form_outcome(world.clients["analyst"], response, name)

    if name == "confirm":
        return Row("analyst", store, note="a flag: any value but yes means no; never stored")
    if name == "revise":
        return Row(
            "analyst",
            store,
            note="a flag: any value but yes means no; never stored",
            shown_when="the report of the date is published (the draft's revise form)",
        )
    return Row("analyst", store, grammar=name != "fx_source")


def _rate_form(name: str) -> Row:
    """The programme page's form that adds one FX rate (issue 17); the source is free text."""

    def store(world: Actors, value: str) -> Outcome:
        data = {"currency": "NOK", "rate_date": "2025-12-31", "sek_per_unit": "1.02", "source": "t"}
        data[name] = value
        response = world.form("analyst", "/programme/rates", data)
        return form_outcome(world.clients["analyst"], response, name)

    return Row("analyst", store, grammar=name != "source")


def _loan_event_form(name: str) -> Row:
    """The programme page's tranche / life-event form (issue 17); the note is free text (audited)."""

    def store(world: Actors, value: str) -> Outcome:
        data = {"loan": "SH-0000-000", "action": "tranche", "day": "2025-12-31", "amount": "1",
                "funding": "", "note": ""}  # fmt: skip
        data[name] = value
        response = world.form("analyst", "/programme/loan-events", data)
        return form_outcome(world.clients["analyst"], response, name)

    note = "no such loan: refused after the fields are read" if name == "note" else ""
    return Row("analyst", store, grammar=name != "note", note=note)


#: safe values of the case study form (issue 16 item 6) beside the field that carries the payload
SAFE_CASE_STUDY = {"title": "Hembesök", "year": "2025", "text_sv": "Fler hembesök.",
                   "text_en": "More home visits."}  # fmt: skip


def _case_study_form(name: str) -> Row:
    """The loan's case study form: the borrower writes one (pending); the texts are free text."""

    def store(world: Actors, value: str) -> Outcome:
        data = {**SAFE_CASE_STUDY, name: value}
        response = world.form("borrower", f"/loans/{world.own_loan}/case-studies", data)
        return form_outcome(world.clients["borrower"], response, name)

    return Row("borrower", store, grammar=name == "year")


def _store_case_studies(world: Actors) -> list[str]:
    """A case study per payload on the borrower's pooled loan, approved by the analyst (so the report
    carries them); a title the form refuses (a line break, too long) gets a safe one, and is listed."""
    from lanportfolj.models import CaseStudy

    refused: list[str] = []
    for key, value in PAYLOADS.items():
        title = value if len(value) <= 200 and not ({"\r", "\n"} & set(value)) else ""
        if not title:
            refused.append(f"case study {key}: title")
        data = {"title": title or f"Fallstudie {key}", "year": "2025",
                "text_sv": value[:20_000], "text_en": value[:20_000]}  # fmt: skip
        response = world.form("borrower", f"/loans/{world.own_loan}/case-studies", data)
        assert response.status_code in (302, 303), (key, response.status_code, response.text[:300])
    with session_scope(world.engine) as db:
        ids = list(db.exec(select(CaseStudy.id).where(CaseStudy.status == "pending")).all())
    for study_id in ids:
        path = f"/loans/{world.own_loan}/case-studies/{study_id}/approve"
        assert world.form("analyst", path, {}).status_code in (302, 303)
    return refused


def _header_form(name: str) -> Row:
    """The bond's report header form (issue 16 item 7): free texts, and the LEI (a grammar)."""

    def store(world: Actors, value: str) -> Outcome:
        response = world.form("analyst", f"/reports/{world.isin}/header", {name: value})
        return form_outcome(world.clients["analyst"], response, name)

    return Row("analyst", store, grammar=name == "issuer_lei")


def _get_form(role: str, path: str, name: str, base: dict[str, str] | None = None) -> Row:
    def store(world: Actors, value: str) -> Outcome:
        client = world.clients[role]
        target = path.format(isin=world.isin)
        response = client.get(target, params={**(base or {}), name: value})
        if response.status_code >= 500:
            return Outcome(False, False, response.status_code, response.text[:300])
        return Outcome(False, True, response.status_code, "reflected")

    return Row(role, store, grammar=True, note="a filter: reflected, never stored")


# Each key: (channel, operation, field). Channels: ``api`` (OpenAPI request body ``body.…`` or query
# parameter ``query.…``), ``form`` (a <form>'s input, indexed rows as ``{i}``), ``import`` (a column of the
# yearly import file).
CASE_FORM_FIELDS = (
    *SAFE_CASE.keys(),
    *CASE_TEXTS,
    "indicators-{i}-code",
    "indicators-{i}-name",
    "indicators-{i}-unit",
    "indicators-{i}-kind",
    "indicators-{i}-direction",
    "indicators-{i}-aggregation",
    "indicators-{i}-baseline_value",
    "indicators-{i}-baseline_year",
    "indicators-{i}-target_value",
    "indicators-{i}-target_year",
    "indicators-{i}-expected_value",
    "indicators-{i}-data_source",
    "goals-{i}-text",
    "goals-{i}-indicators",
    "goals-{i}-target_value",
    "goals-{i}-target_year",
)
_CASE_API = tuple(dict.fromkeys((*SAFE_CASE.keys(), *CASE_TEXTS)))
_INDICATOR_API = (
    "code",
    "baseline_value",
    "baseline_year",
    "target_value",
    "target_year",
    "expected_value",
    "data_source",
    "name",
    "unit",
    "kind",
    "direction",
    "aggregation",
)
_GOAL_API = ("text", "indicators", "target_value", "target_year")
_JUDGE = {"criterion": "E9", "result": "pass", "rationale": "Motiverat"}
_DECIDE = {"kind": "committee", "outcome": "approved", "rationale": "Motiverat"}

FIELDS: dict[tuple[str, str, str], Row] = {
    # --- the API (walked from /schema/openapi.json) ---
    **{
        ("api", f"{m} {p}", f"body.{n}"): _api_case_row(m, n)
        for m, p in (("POST", "/api/loans"), ("PATCH", "/api/loans/{reference}"))
        for n in _CASE_API
    },
    ("api", "POST /api/loans", "body.borrower_orgnr"): Row(
        "borrower", _api_case("POST", "borrower_orgnr", lambda v: {"borrower_orgnr": v}).store, True
    ),
    ("api", "POST /api/loans", "body.reference"): _api_case_row("POST", "reference"),
    **{
        ("api", f"{m} {p}", f"body.indicators[].{n}"): _api_indicator(m, n)
        for m, p in (("POST", "/api/loans"), ("PATCH", "/api/loans/{reference}"))
        for n in _INDICATOR_API
    },
    **{
        ("api", f"{m} {p}", f"body.goals[].{n}"): _api_goal(m, n)
        for m, p in (("POST", "/api/loans"), ("PATCH", "/api/loans/{reference}"))
        for n in _GOAL_API
    },
    ("api", "POST /api/loans/{reference}/transitions", "body.to"): _api_staff(
        "/api/loans/{ref}/transitions", lambda v: {"to": v}, "to", free=False
    ),
    ("api", "POST /api/loans/{reference}/transitions", "body.reason"): _api_staff(
        "/api/loans/{ref}/transitions", lambda v: {"to": "draft", "reason": v}, "reason", free=True
    ),
    **{
        ("api", "POST /api/loans/{reference}/judgements", f"body.{n}"): _api_staff(
            "/api/loans/{ref}/judgements",
            lambda v, n=n: {**_JUDGE, n: v},  # type: ignore[misc]
            n,
            free=n == "rationale",
        )
        for n in _JUDGE
    },
    **{
        ("api", "POST /api/loans/{reference}/decisions", f"body.{n}"): _api_staff(
            "/api/loans/{ref}/decisions",
            lambda v, n=n: {**_DECIDE, n: v},  # type: ignore[misc]
            n,
            free=n == "rationale",
        )
        for n in _DECIDE
    },
    **{
        ("api", "POST /api/loans/{reference}/kolada", f"query.{n}"): _kolada_query(n)
        for n in ("years", "compare", "accept", "import", "lang")
    },
    ("api", "POST /api/imports", "body.*"): _import_file_name(),
    # --- the yearly import file's columns ---
    **{
        ("import", "POST /api/imports", f"column.{c}"): _import_column(c, c in ("comment", "group"))
        for c in (
            "loan",
            "indicator",
            "year",
            "value",
            "estimated",
            "comment",
            "group",
            "n",
            "std_error",
        )
    },
    # --- the pages' forms ---
    **{
        ("form", f"POST {action}", name): _case_form(kind, name)
        for kind, action in (
            ("new", "/applications/new"),
            ("edit", "/applications/{reference}/edit"),
        )
        for name in dict.fromkeys(CASE_FORM_FIELDS)
    },
    ("form", "POST /login", "email"): _login_form("email"),
    ("form", "POST /login", "password"): _login_form("password"),
    ("form", "POST /login", "next"): _login_next(),
    **{
        ("form", "POST /analyst/applications/{reference}/judgements", n): _staff_form(
            "judgements", n, n == "rationale", _JUDGE
        )
        for n in _JUDGE
    },
    **{
        ("form", "POST /analyst/applications/{reference}/decisions", n): _staff_form(
            "decisions", n, n == "rationale", _DECIDE
        )
        for n in _DECIDE
    },
    ("form", "POST /analyst/applications/{reference}/transitions", "to"): _staff_form(
        "transitions", "to", False, {"to": "draft", "reason": "Komplettera"}
    ),
    ("form", "POST /analyst/applications/{reference}/transitions", "reason"): _staff_form(
        "transitions", "reason", True, {"to": "draft", "reason": "Komplettera"}
    ),
    # issue 18: the confirmation box of reject and send-back (the browser requires it; the server reads
    # the reason and the status, so any value is accepted like a free text)
    ("form", "POST /analyst/applications/{reference}/transitions", "confirm"): _staff_form(
        "transitions", "confirm", True, {"to": "draft", "reason": "Komplettera"}
    ),
    ("form", "POST /applications/{reference}/delete", "confirm"): _delete_draft_form(),
    ("form", "POST /imports", "file"): _import_form("file"),
    ("form", "POST /imports/confirm", "sha256"): _import_form("sha256"),
    ("form", "POST /imports/confirm", "filename"): _import_form("filename"),
    ("form", "POST /imports/confirm", "upload"): _import_form("upload"),
    **{
        ("form", "POST /account/password", n): _own_password_form(n)
        for n in ("current", "password", "confirm")
    },
    ("form", "POST /admin/users/{id}/password", "password"): _reset_password_form(),
    ("form", "POST /loans/{reference}/kolada", "compare"): _kolada_form(
        "/loans/{reference}/kolada", "compare"
    ),
    ("form", "POST /loans/{reference}/kolada/import", "years"): _kolada_form(
        "/loans/{reference}/kolada/import", "years"
    ),
    ("form", "POST /loans/{reference}/kolada/import", "compare"): _kolada_form(
        "/loans/{reference}/kolada/import", "compare"
    ),
    ("form", "POST /loans/{reference}/kolada/import", "accept:{key}"): dataclasses.replace(
        _kolada_form("/loans/{reference}/kolada/import", "accept:x"),
        shown_when="a Kolada figure differs from a stored value",
    ),
    **{
        ("form", "POST /loans/{reference}/case-studies", n): _case_study_form(n)
        for n in ("title", "year", "text_sv", "text_en")
    },
    **{
        ("form", "POST /reports/{isin}/header", n): _header_form(n)
        for n in ("issuer_name", "issuer_lei", "framework_version", "reviewer", "review_scope")
    },
    **{
        ("form", "POST /reports/{isin}/publish", n): _publish_form(n)
        for n in ("date", "fx_rate", "fx_source", "confirm", "revise")
    },
    ("form", "POST /admin/users", "email"): _admin_form(
        "/admin/users", "email", False, {"role": "investor", "password": "a long password 1"}
    ),
    ("form", "POST /admin/users", "role"): _admin_form(
        "/admin/users", "role", False, {"email": "new@x.example", "password": "a long password 1"}
    ),
    ("form", "POST /admin/users", "borrower_id"): _admin_form(
        "/admin/users",
        "borrower_id",
        False,
        {"email": "new2@x.example", "role": "borrower", "password": "a long password 1"},
    ),
    ("form", "POST /admin/users", "password"): _admin_form(
        "/admin/users", "password", True, {"email": "new3@x.example", "role": "investor"}
    ),
    ("form", "POST /admin/users/{id}/role", "role"): _admin_form(
        "/admin/users/{user_id}/role", "role", False, {}
    ),
    ("form", "POST /admin/users/{id}/role", "borrower_id"): _admin_form(
        "/admin/users/{user_id}/role", "borrower_id", False, {"role": "borrower"}
    ),
    ("form", "POST /admin/tokens", "email"): _admin_form(
        "/admin/tokens", "email", False, {"name": "t"}
    ),
    ("form", "POST /admin/tokens", "name"): _admin_form(
        "/admin/tokens", "name", True, {"email": "investerare@demo.lanportfolj.se"}
    ),
    # --- filters (GET forms): reflected into the page, never stored ---
    ("form", "GET /", "q"): _get_form("analyst", "/", "q"),
    **{
        ("form", "GET /", n): _get_form("analyst", "/", n)
        for n in ("status", "category", "borrower", "report", "at_risk")
    },
    ("form", "GET /admin/audit", "action"): _get_form("admin", "/admin/audit", "action"),
    **{
        ("form", "GET /analyst/applications", n): _get_form("analyst", "/analyst/applications", n)
        for n in ("status", "category", "borrower", "at_risk")
    },
    ("form", "GET /programme", "date"): _get_form("analyst", "/programme", "date"),
    **{
        ("form", "POST /programme/rates", n): _rate_form(n)
        for n in ("currency", "rate_date", "sek_per_unit", "source")
    },
    **{
        ("form", "POST /programme/loan-events", n): _loan_event_form(n)
        for n in ("loan", "action", "day", "amount", "funding", "note")
    },
    ("form", "GET /reports/{isin}/draft", "date"): _get_form(
        "analyst", "/reports/{isin}/draft", "date", {"date": REPORT_DATE}
    ),
    **{
        ("form", "GET /reports/{isin}/draft", n): dataclasses.replace(
            _get_form("analyst", "/reports/{isin}/draft", n, {"date": REPORT_DATE}),
            shown_when="the bond is not in SEK",
        )
        for n in ("fx_rate", "fx_source")
    },
}


# --- the inventory -----------------------------------------------------------------------------------

WRITE_METHODS = ("post", "put", "patch", "delete")


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _properties(schema: dict[str, Any], spec: dict[str, Any], prefix: str) -> Iterator[str]:
    """Every leaf property of a request body, arrays as ``name[]`` and nested objects followed."""
    schema = _resolve(schema, spec)
    for option in schema.get("oneOf", []) + schema.get("anyOf", []):
        if _resolve(option, spec).get("type") != "null":
            yield from _properties(option, spec, prefix)
            return
    if schema.get("type") == "array" and "items" in schema:
        items = _resolve(schema["items"], spec)
        if items.get("properties"):
            yield from _properties(items, spec, prefix + "[]")
            return
        yield prefix
        return
    props = schema.get("properties")
    if props:
        for name, sub in props.items():
            yield from _properties(sub, spec, f"{prefix}.{name}")
        return
    yield prefix if prefix != "body" else "body.*"


def openapi_fields(spec: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(``api``, ``METHOD path``, ``body.x`` / ``query.x``) for every write operation's inputs."""
    found: set[tuple[str, str, str]] = set()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if method not in WRITE_METHODS:
                continue
            where = f"{method.upper()} {path}"
            for parameter in op.get("parameters", []):
                if parameter["in"] in ("query", "header", "cookie"):
                    found.add(("api", where, f"{parameter['in']}.{parameter['name']}"))
            for content in op.get("requestBody", {}).get("content", {}).values():
                for name in _properties(content.get("schema", {}), spec, "body"):
                    found.add(("api", where, name))
    return found


class Forms(HTMLParser):
    """Each form's method, action and the names of its inputs, selects, textareas and buttons."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, str, set[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(((a.get("method") or "get").upper(), a.get("action") or "", set()))
        elif tag in ("input", "select", "textarea", "button") and self.forms and a.get("name"):
            self.forms[-1][2].add(str(a["name"]))


_INDEX = re.compile(r"-\d+-")
IGNORED_INPUTS = {"_csrf_token"}


def normalise_action(action: str, ids: dict[str, str]) -> str:
    """``/loans/SH-2026-001/kolada`` → ``/loans/{reference}/kolada``: the known ids become parameters."""
    path = urlsplit(action).path or "/"
    for value, name in sorted(ids.items(), key=lambda item: -len(item[0])):
        path = path.replace(f"/{value}/", f"/{{{name}}}/")
        if path.endswith(f"/{value}"):
            path = path[: -len(value)] + f"{{{name}}}"
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


def form_fields(html: str, ids: dict[str, str]) -> set[tuple[str, str, str]]:
    parser = Forms()
    parser.feed(html)
    found: set[tuple[str, str, str]] = set()
    for method, action, names in parser.forms:
        where = f"{method} {normalise_action(action, ids)}"
        for name in names - IGNORED_INPUTS:
            name = _INDEX.sub("-{i}-", name)
            name = re.sub(r"^accept:.*$", "accept:{key}", name)
            found.add(("form", where, name))
    return found


def import_fields() -> set[tuple[str, str, str]]:
    from lanportfolj.ingest.headers import CANONICAL_COLUMNS

    return {("import", "POST /api/imports", f"column.{c}") for c in CANONICAL_COLUMNS}


# --- the hostile world: every payload stored, for the pages and downloads ----------------------------


@dataclass
class HostileWorld:
    actors: Actors
    drafts: dict[str, str]
    """Payload name → the draft (then under review or active) whose every text field holds it."""
    active: list[str]
    submissions: list[int]
    report_date: str
    refused: dict[str, list[str]]
    """Payload name → the fields the product refused (and that were therefore stored with safe values)."""
    notes: list[str] = field(default_factory=list)


def _store_case(world: Actors, key: str, value: str) -> tuple[str, list[str]]:
    """A borrower's draft with ``value`` in every text field, the own indicator's code included; a
    field the grammar refuses gets a safe value instead, and is listed."""
    code = value
    body = case_body(
        **{name: value for name in CASE_TEXTS},
        indicators=[own_indicator(code, name=value, unit=value, data_source=value)],
        goals=[goal(code, text=value)],
    )
    refused: list[str] = []
    for _attempt in range(4):
        response = world.api("borrower", "POST", "/api/loans", json=body)
        if response.status_code == 201:
            return response.json()["reference"], refused
        assert response.status_code < 500, (key, response.status_code, response.text[:500])
        extra = response.json().get("extra") or []
        fields = [e["field"] for e in extra if isinstance(e, dict) and "field" in e]
        assert fields, (key, response.status_code, response.text[:500])
        for name in fields:
            refused.append(name)
            top = name.split(".")[0]
            leaf = name.rsplit(".", 1)[-1]
            if name in ("indicators.0.code", "goals.0.indicators"):
                body["indicators"][0]["code"] = f"own_{key}"
                body["goals"][0]["indicators"] = [f"own_{key}"]
            elif top == "indicators":
                body["indicators"][0][leaf] = own_indicator().get(leaf, "")
            elif top == "goals":
                body["goals"][0][leaf] = goal(body["indicators"][0]["code"]).get(leaf)
            else:
                body[top] = SAFE_CASE.get(top, "Text")
    raise AssertionError(f"{key}: the draft was refused four times: {refused}")


def _review(world: Actors, reference: str, value: str) -> None:
    """Submit, take under review, judge and decide with ``value`` as every rationale."""
    assert world.api("borrower", "POST", f"/api/loans/{reference}/submit").status_code < 500
    step = world.api(
        "analyst", "POST", f"/api/loans/{reference}/transitions", json={"to": "under_review"}
    )
    assert step.status_code < 500, step.text[:300]
    for criterion in ("E9", "E10", "E11"):
        judged = world.api(
            "analyst",
            "POST",
            f"/api/loans/{reference}/judgements",
            json={"criterion": criterion, "result": "pass", "rationale": value},
        )
        assert judged.status_code < 500, judged.text[:300]
    decided = world.api(
        "analyst",
        "POST",
        f"/api/loans/{reference}/decisions",
        json={"kind": "committee", "outcome": "approved", "rationale": value},
    )
    assert decided.status_code < 500, decided.text[:300]


def _activate_into_pool(engine: Engine, references: list[str]) -> None:
    """The lender's own step, outside any form: the approved loans are paid out and pooled into the
    bond (``lanportfolj portfolio load`` does this in production), so investors meet their texts."""
    with session_scope(engine) as db:
        bond = db.exec(select(SocialBond).order_by(col(SocialBond.isin))).first()
        assert bond is not None and bond.id is not None
        for reference in references:
            loan = db.exec(select(Loan).where(Loan.reference == reference)).one()
            loan.status = "active"
            loan.amount = loan.amount or Decimal("16000000")
            loan.disbursed_amount = loan.amount
            loan.outstanding_amount = loan.amount
            loan.disbursement_date = loan.disbursement_date or date(2025, 6, 1)
            db.add(loan)
            db.flush()
            db.add(BondPoolEntry(bond_id=bond.id, loan_id=loan.id or 0))


SAFE_CELLS = {"group": "Jämförelseskola", "comment": "Kommentar"}


def _import_values(world: Actors, references: list[str], refused: list[str]) -> list[int]:
    """The borrower reports values with hostile comments and comparison groups (one file per loan,
    named with a payload), for the own pooled loan and every hostile loan; a cell the grammar refuses
    is given safe text and listed in ``refused``."""
    ids: list[int] = []
    names = [PAYLOADS["img"], "värden€", PAYLOADS["crlf"], PAYLOADS["formula"]]
    for n, reference in enumerate([world.own_loan, *references]):
        code, number = _first_indicator(world, reference)
        rows = []
        for m, (key, value) in enumerate(PAYLOADS.items()):
            if key == "big":
                value = value[:5000]
            for year in (2024, 2025):
                rows.append(
                    {
                        "loan": reference,
                        "indicator": code,
                        "year": str(year),
                        "value": str(Decimal(number) + m + (year - 2024)),
                        "estimated": "",
                        "comment": value,
                        "group": value if m % 2 == 0 else f"{value} {m}",
                    }
                )
        filename = f"{names[n % len(names)]}.csv"
        for _attempt in range(3):
            response = world.api(
                "borrower",
                "POST",
                "/api/imports",
                files={"file": (filename, import_csv(rows), "text/csv")},
            )
            assert response.status_code < 500, (
                reference,
                response.status_code,
                response.text[:500],
            )
            if response.status_code != 422:
                break
            # cells the grammar refuses (a comparison group's name) get safe text; the rest stays hostile
            answer = response.json()
            issues = answer.get("errors") or answer.get("issues") or []
            dropped: set[int] = set()
            for issue in issues:
                row, column = issue.get("row"), issue.get("column")
                if not (isinstance(row, int) and 2 <= row < len(rows) + 2):
                    continue
                if column in SAFE_CELLS:
                    rows[row - 2][column] = f"{SAFE_CELLS[column]} {row}"
                    refused.append(f"{reference} row {row} {column}")
                else:
                    # a value the loan's indicator does not take (a year before its baseline): not text
                    dropped.add(row - 2)
            rows = [r for i, r in enumerate(rows) if i not in dropped]
        if response.status_code == 200:
            submission = response.json().get("submission_id") or response.json().get("id")
            if isinstance(submission, int):
                ids.append(submission)
    return ids


def build_hostile_world(engine: Engine, new_client: Callable[[], httpx.Client]) -> HostileWorld:
    """Every payload stored through HTTP by the role that can write it."""
    actors = make_actors(engine, new_client)
    drafts: dict[str, str] = {}
    refused: dict[str, list[str]] = {}
    for key, value in PAYLOADS.items():
        drafts[key], refused[key] = _store_case(actors, key, value)
    # half the hostile applications go through review, and into the bond's pool
    reviewed = [drafts[k] for k in ("script", "img", "link", "csrf", "refresh", "unicode")]
    for key in ("script", "img", "link", "csrf", "refresh", "unicode"):
        _review(actors, drafts[key], PAYLOADS[key])
    active = [drafts[k] for k in ("script", "link", "refresh", "csrf")]
    _activate_into_pool(engine, active)
    refused["import"] = []
    submissions = _import_values(actors, active, refused["import"])
    with session_scope(engine) as db:
        from lanportfolj.models import Submission

        submissions = list(db.exec(select(Submission.id).order_by(col(Submission.id))).all())
    assert submissions, "no import of hostile comments was accepted"
    # issue 16 item 6: approved hostile case studies on the pooled loan, so the report carries them
    refused["case_studies"] = _store_case_studies(actors)
    # an admin's token named by a payload; the analyst publishes the report with a hostile FX source
    for key in ("script", "link"):
        actors.form(
            "admin",
            "/admin/tokens",
            {"email": actors.emails["investor"], "name": PAYLOADS[key]},
        )
    published = actors.form(
        "analyst",
        f"/reports/{actors.isin}/publish",
        {
            "date": REPORT_DATE,
            "fx_rate": "",
            "fx_source": PAYLOADS["link"],
            "confirm": "yes",
        },
    )
    notes = [f"publish: {published.status_code}"]
    assert published.status_code < 500, published.text[:500]
    del reviewed
    return HostileWorld(
        actors,
        drafts,
        active,
        [s for s in submissions if s is not None],
        REPORT_DATE,
        refused,
        notes,
    )


# --- every page and download, from the route table ---------------------------------------------------

_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
SKIPPED_GETS = ("/static/", "/schema", "/health", "/api/")
DOWNLOAD_SUFFIXES = (".xlsx", ".csv", ".json", ".html", ".pdf", "/file")


def get_routes(app: Any) -> list[str]:
    """The path of every GET route (``/loans/{reference:str}``)."""
    paths: set[str] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "GET" in getattr(handler, "http_methods", ()):
                paths.add(route.path)
    return sorted(paths)


def concrete_urls(
    routes: Iterable[str], params: dict[str, list[str]]
) -> tuple[list[str], list[str], list[str]]:
    """(pages, downloads, routes with a parameter ``params`` has no value for)."""
    pages: list[str] = []
    downloads: list[str] = []
    missing: list[str] = []
    for route in routes:
        if route == "/schema" or route.startswith(SKIPPED_GETS):
            continue
        names = _PARAM.findall(route)
        if any(name not in params for name in names):
            missing.append(route)
            continue
        urls = [route]
        for name in names:
            urls = [
                _PARAM.sub(lambda m, v=v, n=name: v if m.group(1) == n else m.group(0), url)
                for url in urls
                for v in params[name]
            ]
        target = downloads if route.endswith(DOWNLOAD_SUFFIXES) else pages
        target.extend(urls)
    return pages, downloads, missing


def world_params(world: HostileWorld) -> dict[str, list[str]]:
    """Values for the route table's path parameters: every hostile loan, the own pooled loan, every
    submission, the bond and its published report."""
    actors = world.actors
    return {
        "reference": list(dict.fromkeys([actors.own_loan, *world.drafts.values()])),
        "submission_id": [str(s) for s in world.submissions],
        "isin": [actors.isin],
        "report_date": [world.report_date],
        "user_id": [str(i) for i in actors.user_ids.values()],
    }


def draft_downloads(isin: str) -> list[str]:
    return [
        f"/reports/{isin}/draft?date={REPORT_DATE}&format={f}"
        for f in ("html", "xlsx", "json", "register-csv")
    ]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def xlsx_problems(content: bytes, where: str) -> tuple[list[str], int]:
    """Formula cells, and stored texts that lost characters; returns (problems, hostile cells seen)."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(content))
    problems: list[str] = []
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                if cell.data_type == "f":
                    problems.append(
                        f"{where} {sheet.title}!{cell.coordinate}: formula {cell.value!r}"
                    )
                text = str(cell.value)
                if any(marker in text for marker in MARKERS):
                    seen += 1
                if "HYPERLINK(" in text and '=HYPERLINK("https://evil.example","x")' not in text:
                    problems.append(f"{where} {sheet.title}!{cell.coordinate}: changed {text!r}")
    return problems, seen


def csv_problems(content: bytes, where: str) -> tuple[list[str], int]:
    """Cells a spreadsheet would run (= + - @ tab CR first, not prefixed with ')."""
    text = content.decode("utf-8-sig")
    problems: list[str] = []
    seen = 0
    delimiter = (
        ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    )
    for n, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        for cell in row:
            if any(marker in cell for marker in MARKERS):
                seen += 1
            if cell.startswith(FORMULA_STARTS) and not _is_number(cell):
                problems.append(f"{where} row {n}: {cell[:80]!r} would run as a formula")
    return problems, seen


def _is_number(cell: str) -> bool:
    try:
        Decimal(cell.replace(",", ".").replace(" ", ""))
    except ArithmeticError:
        return False
    return True
