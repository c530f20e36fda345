"""Every route × every role × own and other organisation, with the status each must get.

``ACCESS_RULES`` below is the one table to extend: a route the application registers without a row here
makes ``test_every_route_has_a_rule`` fail, so nobody can add a page or an API call without deciding who may
use it. A row maps a route (method, path as Litestar spells it) to:

- ``cases``: concrete paths to request, by case name (``own``, ``other``, …); ``{own_loan}`` and the other
  names of ``World.values()`` are filled in;
- ``expect``: the status per user (``anonymous`` and each role), either one number for every case or a dict
  by case; ``"*"`` is the default for users not named;
- ``form``: the form body for POST (the CSRF token is added), ``json`` for a JSON body.

Statuses: 200 (or 201/400 where the request itself is judged), 302 to the login page for anonymous GETs,
401 for anonymous POSTs and API calls, 403 for a role that may not use the route, 404 for another
organisation's (or unpublished) data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from shell_world import WHO, World, build_world, csrf, fast_hashing, sign_in

from lanportfolj.web.app import create_app

pytestmark = pytest.mark.integration

ANY = "*"


@dataclass(frozen=True)
class Rule:
    expect: dict[str, int | dict[str, int]]
    cases: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None
    json: Any = None


STAFF_ONLY_GET = {"anonymous": 302, "analyst": 200, "admin": 200, ANY: 403}
ADMIN_ONLY_GET = {"anonymous": 302, "admin": 200, ANY: 403}
ADMIN_ONLY_POST = {"anonymous": 401, ANY: 403}
# imports (issue 5): staff and borrower users report values; investors may not
REPORTERS_GET = {"anonymous": 302, "investor": 403, ANY: 200}
REPORTERS_POST = {"anonymous": 401, "investor": 403}

# ======================================================================================================
# ACCESS_RULES — one row per (method, route path). Add your routes here.
# ======================================================================================================
ACCESS_RULES: dict[tuple[str, str], Rule] = {
    # --- the shell (issue 3) ---
    ("GET", "/health"): Rule({ANY: 200}),
    ("GET", "/"): Rule({ANY: 200}),
    ("GET", "/static/{name:str}"): Rule({ANY: 200}, {"css": "/static/app.css"}),
    ("GET", "/schema"): Rule({ANY: 200}, {"openapi": "/schema/openapi.json"}),
    ("GET", "/loans/{reference:str}"): Rule(
        {
            "anonymous": 302,
            "analyst": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "draft": 404, "missing": 404},
            "investor": {"own": 200, "other": 200, "draft": 404, "missing": 404},
        },
        {
            "own": "/loans/{own_loan}",
            "other": "/loans/{other_loan}",
            "draft": "/loans/{draft_loan}",
            "missing": "/loans/NO-SUCH-LOAN",
        },
    ),
    ("GET", "/login"): Rule({"anonymous": 200, ANY: 302}),
    ("POST", "/login"): Rule({ANY: 400}, form={"email": "nobody@x.example", "password": "wrong"}),
    ("POST", "/logout"): Rule({ANY: 302}, form={}),
    ("GET", "/admin/users"): Rule(ADMIN_ONLY_GET),
    ("POST", "/admin/users"): Rule(
        {**ADMIN_ONLY_POST, "admin": 400}, form={"email": "new@x.example", "role": "wizard"}
    ),
    ("POST", "/admin/users/{user_id:int}/role"): Rule(
        {**ADMIN_ONLY_POST, "admin": 302},
        {"spare": "/admin/users/{spare_user_id}/role"},
        form={"role": "analyst"},
    ),
    ("POST", "/admin/users/{user_id:int}/unlock"): Rule(
        {**ADMIN_ONLY_POST, "admin": 302}, {"spare": "/admin/users/{spare_user_id}/unlock"}, form={}
    ),
    ("GET", "/admin/tokens"): Rule(ADMIN_ONLY_GET),
    ("POST", "/admin/tokens"): Rule(
        {**ADMIN_ONLY_POST, "admin": 200}, form={"email": "spare@test.example", "name": "t"}
    ),
    ("POST", "/admin/tokens/{token_id:int}/revoke"): Rule(
        {**ADMIN_ONLY_POST, "admin": 302}, {"spare": "/admin/tokens/{token_id}/revoke"}, form={}
    ),
    ("GET", "/admin/audit"): Rule(ADMIN_ONLY_GET),
    # --- sessions, passwords and tokens (issue 14): a user's page, sign-out everywhere, deactivation
    # and password reset are admin only; one's own account page is every signed-in user's ---
    ("GET", "/admin/users/{user_id:int}"): Rule(
        {**ADMIN_ONLY_GET, "admin": {"spare": 200, "missing": 404}},
        {"spare": "/admin/users/{spare_user_id}", "missing": "/admin/users/999999"},
    ),
    ("POST", "/admin/users/{user_id:int}/sessions/end"): Rule(
        {**ADMIN_ONLY_POST, "admin": 302},
        {"spare": "/admin/users/{spare_user_id}/sessions/end"},
        form={},
    ),
    ("POST", "/admin/users/{user_id:int}/deactivate"): Rule(
        {**ADMIN_ONLY_POST, "admin": 302},
        {"spare": "/admin/users/{spare_user_id}/deactivate"},
        form={},
    ),
    ("POST", "/admin/users/{user_id:int}/activate"): Rule(
        {**ADMIN_ONLY_POST, "admin": 302},
        {"spare": "/admin/users/{spare_user_id}/activate"},
        form={},
    ),
    ("POST", "/admin/users/{user_id:int}/password"): Rule(
        {**ADMIN_ONLY_POST, "admin": 302},
        {"spare": "/admin/users/{spare_user_id}/password"},
        form={"password": "a new long password"},
    ),
    ("GET", "/account"): Rule({"anonymous": 302, ANY: 200}),
    # a wrong current password: refused for everyone, and nothing changes
    ("POST", "/account/password"): Rule(
        {"anonymous": 401, ANY: 400},
        form={
            "current": "wrong",
            "password": "a new long password",
            "confirm": "a new long password",
        },
    ),
    # the world's token is the spare user's: nobody who signs in may revoke it as their own
    ("POST", "/account/tokens/{token_id:int}/revoke"): Rule(
        {"anonymous": 401, ANY: 404}, {"spare": "/account/tokens/{token_id}/revoke"}, form={}
    ),
    # --- add rows for new routes below this line ---
    # --- bond reports (issue 6): investors and staff read published reports; drafts and publishing
    # are staff only, and an investor asking for a draft gets 404 (drafts do not exist for them); the
    # world has no published report, so every published-report URL is 404 ---
    ("GET", "/reports"): Rule({"anonymous": 302, "borrower": 403, ANY: 200}),
    ("GET", "/reports/{isin:str}/draft"): Rule(
        {
            "anonymous": 302,
            "borrower": 403,
            "investor": 404,
            "analyst": {"bond": 200, "missing": 404},
            "admin": {"bond": 200, "missing": 404},
        },
        {
            "bond": "/reports/SE0000000002/draft?date=2025-12-31",
            "missing": "/reports/SE0000000000/draft?date=2025-12-31",
        },
    ),
    # without confirm=yes the answer is the confirmation page: nothing is published here
    ("POST", "/reports/{isin:str}/publish"): Rule(
        {
            "anonymous": 401,
            "borrower": 403,
            "investor": 403,
            "analyst": {"bond": 200, "missing": 404},
            "admin": {"bond": 200, "missing": 404},
        },
        {"bond": "/reports/SE0000000002/publish", "missing": "/reports/SE0000000000/publish"},
        form={"date": "2025-12-31"},
    ),
    # the report header form (issue 16 item 7): analysts and admins; an empty post changes nothing
    ("GET", "/reports/{isin:str}/header"): Rule(
        {
            **STAFF_ONLY_GET,
            "analyst": {"bond": 200, "missing": 404},
            "admin": {"bond": 200, "missing": 404},
        },
        {"bond": "/reports/SE0000000002/header", "missing": "/reports/SE0000000000/header"},
    ),
    ("POST", "/reports/{isin:str}/header"): Rule(
        {
            "anonymous": 401,
            "borrower": 403,
            "investor": 403,
            "analyst": {"bond": 302, "missing": 404},
            "admin": {"bond": 302, "missing": 404},
        },
        {"bond": "/reports/SE0000000002/header", "missing": "/reports/SE0000000000/header"},
        form={},
    ),
    ("GET", "/reports/{isin:str}/{report_date:str}"): Rule(
        {"anonymous": 302, "borrower": 403, ANY: 404},
        {"unpublished": "/reports/SE0000000002/2025-12-31", "bad": "/reports/SE0000000002/x"},
    ),
    ("GET", "/reports/{isin:str}/{report_date:str}/report.html"): Rule(
        {"anonymous": 302, "borrower": 403, ANY: 404},
        {"unpublished": "/reports/SE0000000002/2025-12-31/report.html"},
    ),
    ("GET", "/reports/{isin:str}/{report_date:str}/report.xlsx"): Rule(
        {"anonymous": 302, "borrower": 403, ANY: 404},
        {"unpublished": "/reports/SE0000000002/2025-12-31/report.xlsx"},
    ),
    ("GET", "/reports/{isin:str}/{report_date:str}/report.pdf"): Rule(
        {"anonymous": 302, "borrower": 403, ANY: 404},
        {"unpublished": "/reports/SE0000000002/2025-12-31/report.pdf"},
    ),
    ("GET", "/reports/{isin:str}/{report_date:str}/register.csv"): Rule(
        {"anonymous": 302, "borrower": 403, ANY: 404},
        {"unpublished": "/reports/SE0000000002/2025-12-31/register.csv"},
    ),
    ("GET", "/reports/{isin:str}/{report_date:str}/report.json"): Rule(
        {"anonymous": 302, "borrower": 403, ANY: 404},
        {"unpublished": "/reports/SE0000000002/2025-12-31/report.json"},
    ),
    # --- Kolada (issue 10): staff every loan, a borrower its own; the API answers 400 here because
    # the test world's borrowers have no municipality code ---
    ("POST", "/loans/{reference:str}/kolada"): Rule(
        {
            "anonymous": 401,
            "investor": 403,
            "analyst": 200,
            "admin": 200,
            "borrower": {"own": 200, "other": 404},
        },
        {"own": "/loans/{own_loan}/kolada", "other": "/loans/{other_loan}/kolada"},
        form={},
    ),
    ("POST", "/loans/{reference:str}/kolada/import"): Rule(
        {
            "anonymous": 401,
            "investor": 403,
            "analyst": 200,
            "admin": 200,
            "borrower": {"own": 200, "other": 404},
        },
        {"own": "/loans/{own_loan}/kolada/import", "other": "/loans/{other_loan}/kolada/import"},
        form={},
    ),
    ("POST", "/api/loans/{reference:str}/kolada"): Rule(
        {
            "anonymous": 401,
            "investor": 403,
            "analyst": 400,
            "admin": 400,
            "borrower": {"own": 400, "other": 404},
        },
        {"own": "/api/loans/{own_loan}/kolada", "other": "/api/loans/{other_loan}/kolada"},
        form={},
    ),
    # --- case studies (issue 16 item 6): staff every loan, a borrower its own (another's is 404);
    # investors never; approving is the analysts' (the world has no case study: 404 for staff);
    # an empty form is refused (400) so nothing is written ---
    ("GET", "/loans/{reference:str}/case-studies"): Rule(
        {
            "anonymous": 302,
            "investor": 403,
            "analyst": {"own": 200, "other": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "missing": 404},
        },
        {
            "own": "/loans/{own_loan}/case-studies",
            "other": "/loans/{other_loan}/case-studies",
            "missing": "/loans/NO-SUCH-LOAN/case-studies",
        },
    ),
    ("POST", "/loans/{reference:str}/case-studies"): Rule(
        {
            "anonymous": 401,
            "investor": 403,
            "analyst": 400,
            "admin": 400,
            "borrower": {"own": 400, "other": 404},
        },
        {"own": "/loans/{own_loan}/case-studies", "other": "/loans/{other_loan}/case-studies"},
        form={},
    ),
    ("POST", "/loans/{reference:str}/case-studies/{study_id:int}/approve"): Rule(
        {"anonymous": 401, "borrower": 403, "investor": 403, "analyst": 404, "admin": 404},
        {"own": "/loans/{own_loan}/case-studies/999999/approve"},
        form={},
    ),
    # --- imports (issue 5) ---
    ("GET", "/imports"): Rule({**REPORTERS_GET}),
    ("POST", "/imports"): Rule(
        {**REPORTERS_POST, "analyst": 400, "admin": 400, "borrower": 400}, form={}
    ),
    ("POST", "/imports/confirm"): Rule(
        {**REPORTERS_POST, "analyst": 302, "admin": 302, "borrower": 302}, form={"sha256": "0" * 64}
    ),
    ("GET", "/imports/{submission_id:int}"): Rule(
        {**REPORTERS_GET, "analyst": 404, "admin": 404, "borrower": 404},
        {"missing": "/imports/999999"},
    ),
    ("GET", "/imports/{submission_id:int}/file"): Rule(
        {**REPORTERS_GET, "analyst": 404, "admin": 404, "borrower": 404},
        {"missing": "/imports/999999/file"},
    ),
    ("GET", "/loans/{reference:str}/template.xlsx"): Rule(
        {**REPORTERS_GET, "borrower": {"own": 200, "other": 404}},
        {"own": "/loans/{own_loan}/template.xlsx", "other": "/loans/{other_loan}/template.xlsx"},
    ),
    ("GET", "/loans/{reference:str}/template.csv"): Rule(
        {**REPORTERS_GET, "borrower": {"own": 200, "other": 404}},
        {"own": "/loans/{own_loan}/template.csv", "other": "/loans/{other_loan}/template.csv"},
    ),
    # a form that is not multipart is refused before the handler: 400
    ("POST", "/api/imports"): Rule(
        {**REPORTERS_POST, "analyst": 400, "admin": 400, "borrower": 400}, form={}
    ),
    # --- evaluation (issue 7): staff every loan, a borrower its own, investors never ---
    ("GET", "/loans/{reference:str}/evaluation"): Rule(
        {
            "anonymous": 302,
            "analyst": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "draft": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/loans/{own_loan}/evaluation",
            "other": "/loans/{other_loan}/evaluation",
            "draft": "/loans/{draft_loan}/evaluation",
            "missing": "/loans/NO-SUCH-LOAN/evaluation",
        },
    ),
    ("GET", "/api/loans/{reference:str}/evaluation"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "draft": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/api/loans/{own_loan}/evaluation",
            "other": "/api/loans/{other_loan}/evaluation",
            "draft": "/api/loans/{draft_loan}/evaluation",
            "missing": "/api/loans/NO-SUCH-LOAN/evaluation",
        },
    ),
    # --- applications (issue 4): staff every loan, a borrower its own organisation's, investors never ---
    ("GET", "/api/loans"): Rule(
        {"anonymous": 401, "analyst": 200, "admin": 200, "borrower": 200, "investor": 403}
    ),
    ("POST", "/api/loans"): Rule(
        {"anonymous": 401, "analyst": 201, "admin": 201, "borrower": 201, "investor": 403},
        json={"title": "Matrix draft", "borrower_orgnr": "212000-1355"},
    ),
    ("GET", "/api/loans/{reference:str}"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "draft": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/api/loans/{own_loan}",
            "other": "/api/loans/{other_loan}",
            "draft": "/api/loans/{draft_loan}",
            "missing": "/api/loans/NO-SUCH-LOAN",
        },
    ),
    # an active loan can no longer be changed (409); another organisation's is not found
    ("PATCH", "/api/loans/{reference:str}"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 409, "other": 409, "missing": 404},
            "admin": {"own": 409, "other": 409, "missing": 404},
            "borrower": {"own": 409, "other": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/api/loans/{own_loan}",
            "other": "/api/loans/{other_loan}",
            "missing": "/api/loans/NO-SUCH-LOAN",
        },
        json={"comparison_group": "Matrix"},
    ),
    ("POST", "/api/loans/{reference:str}/submit"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 409, "other": 409, "missing": 404},
            "admin": {"own": 409, "other": 409, "missing": 404},
            "borrower": {"own": 409, "other": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/api/loans/{own_loan}/submit",
            "other": "/api/loans/{other_loan}/submit",
            "missing": "/api/loans/NO-SUCH-LOAN/submit",
        },
        json={},
    ),
    ("GET", "/api/loans/{reference:str}/assessment"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 200, "other": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/api/loans/{own_loan}/assessment",
            "other": "/api/loans/{other_loan}/assessment",
            "missing": "/api/loans/NO-SUCH-LOAN/assessment",
        },
    ),
    # staff only; the world's loans are active, so the step itself is refused (409)
    ("POST", "/api/loans/{reference:str}/transitions"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 409, "missing": 404},
            "admin": {"own": 409, "missing": 404},
            ANY: 403,
        },
        {"own": "/api/loans/{own_loan}/transitions", "missing": "/api/loans/NO-SUCH/transitions"},
        json={"to": "approved"},
    ),
    ("POST", "/api/loans/{reference:str}/judgements"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 409, "missing": 404},
            "admin": {"own": 409, "missing": 404},
            ANY: 403,
        },
        {"own": "/api/loans/{own_loan}/judgements", "missing": "/api/loans/NO-SUCH/judgements"},
        json={"criterion": "E9", "result": "pass", "rationale": "Matrix"},
    ),
    ("POST", "/api/loans/{reference:str}/decisions"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 409, "missing": 404},
            "admin": {"own": 409, "missing": 404},
            ANY: 403,
        },
        {"own": "/api/loans/{own_loan}/decisions", "missing": "/api/loans/NO-SUCH/decisions"},
        json={"kind": "committee", "outcome": "approved", "rationale": "Matrix"},
    ),
    ("GET", "/applications/new"): Rule({"anonymous": 302, "borrower": 200, ANY: 403}),
    ("POST", "/applications/new"): Rule(
        {"anonymous": 401, "borrower": 302, ANY: 403}, form={"title": "Matrix draft"}
    ),
    ("GET", "/applications/{reference:str}"): Rule(
        {
            "anonymous": 302,
            "analyst": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "draft": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/applications/{own_loan}",
            "other": "/applications/{other_loan}",
            "draft": "/applications/{draft_loan}",
            "missing": "/applications/NO-SUCH-LOAN",
        },
    ),
    # an active loan's form sends back to its page (302); a draft opens for staff
    ("GET", "/applications/{reference:str}/edit"): Rule(
        {
            "anonymous": 302,
            "analyst": {"own": 302, "other": 302, "draft": 200, "missing": 404},
            "admin": {"own": 302, "other": 302, "draft": 200, "missing": 404},
            "borrower": {"own": 302, "other": 404, "draft": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/applications/{own_loan}/edit",
            "other": "/applications/{other_loan}/edit",
            "draft": "/applications/{draft_loan}/edit",
            "missing": "/applications/NO-SUCH-LOAN/edit",
        },
    ),
    ("POST", "/applications/{reference:str}/edit"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 409, "other": 409, "missing": 404},
            "admin": {"own": 409, "other": 409, "missing": 404},
            "borrower": {"own": 409, "other": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/applications/{own_loan}/edit",
            "other": "/applications/{other_loan}/edit",
            "missing": "/applications/NO-SUCH-LOAN/edit",
        },
        form={"title": "Matrix"},
    ),
    # a refused step comes back to the page with its reason (302)
    ("POST", "/applications/{reference:str}/submit"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 302, "other": 302, "missing": 404},
            "admin": {"own": 302, "other": 302, "missing": 404},
            "borrower": {"own": 302, "other": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/applications/{own_loan}/submit",
            "other": "/applications/{other_loan}/submit",
            "missing": "/applications/NO-SUCH-LOAN/submit",
        },
        form={},
    ),
    # issue 18: the printable committee summary reads like the application page
    ("GET", "/applications/{reference:str}/summary"): Rule(
        {
            "anonymous": 302,
            "analyst": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "admin": {"own": 200, "other": 200, "draft": 200, "missing": 404},
            "borrower": {"own": 200, "other": 404, "draft": 404, "missing": 404},
            "investor": 403,
        },
        {
            "own": "/applications/{own_loan}/summary",
            "other": "/applications/{other_loan}/summary",
            "draft": "/applications/{draft_loan}/summary",
            "missing": "/applications/NO-SUCH-LOAN/summary",
        },
    ),
    # withdrawing an active loan, or deleting without the confirmation box, comes back with the reason
    **{
        ("POST", f"/applications/{{reference:str}}/{action}"): Rule(
            {
                "anonymous": 401,
                "analyst": {"own": 302, "other": 302, "missing": 404},
                "admin": {"own": 302, "other": 302, "missing": 404},
                "borrower": {"own": 302, "other": 404, "missing": 404},
                "investor": 403,
            },
            {
                "own": f"/applications/{{own_loan}}/{action}",
                "other": f"/applications/{{other_loan}}/{action}",
                "missing": f"/applications/NO-SUCH-LOAN/{action}",
            },
            form={},
        )
        for action in ("withdraw", "delete")
    },
    # the analysts' programme page and its API (landed without rows; added when web-ux merged main)
    ("GET", "/programme"): Rule(STAFF_ONLY_GET),
    ("GET", "/api/programme"): Rule({"anonymous": 401, "analyst": 200, "admin": 200, ANY: 403}),
    # an empty rate form is refused with every field marked (400), nothing stored
    ("POST", "/programme/loan-events"): Rule(
        {"anonymous": 401, "analyst": 400, "admin": 400, ANY: 403}, form={}
    ),
    ("POST", "/programme/rates"): Rule(
        {"anonymous": 401, "analyst": 400, "admin": 400, ANY: 403}, form={}
    ),
    ("GET", "/analyst/applications"): Rule(STAFF_ONLY_GET),
    # issue 18: the queue and the loan list as files (a borrower's list holds only their own loans)
    ("GET", "/analyst/applications.csv"): Rule(STAFF_ONLY_GET),
    ("GET", "/analyst/applications.xlsx"): Rule(STAFF_ONLY_GET),
    ("GET", "/loans.csv"): Rule(REPORTERS_GET),
    ("GET", "/loans.xlsx"): Rule(REPORTERS_GET),
    # /loans is the start page's list: signed in, a redirect to / with the query kept; else sign in
    ("GET", "/loans"): Rule({ANY: 302}),
    ("GET", "/analyst/applications/{reference:str}"): Rule(
        {
            "anonymous": 302,
            "analyst": {"own": 200, "missing": 404},
            "admin": {"own": 200, "missing": 404},
            ANY: 403,
        },
        {"own": "/analyst/applications/{own_loan}", "missing": "/analyst/applications/NO-SUCH"},
    ),
    ("POST", "/analyst/applications/{reference:str}/judgements"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 302, "missing": 404},
            "admin": {"own": 302, "missing": 404},
            ANY: 403,
        },
        {
            "own": "/analyst/applications/{own_loan}/judgements",
            "missing": "/analyst/applications/NO-SUCH/judgements",
        },
        form={"criterion": "E9", "result": "pass", "rationale": "Matrix"},
    ),
    ("POST", "/analyst/applications/{reference:str}/decisions"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 302, "missing": 404},
            "admin": {"own": 302, "missing": 404},
            ANY: 403,
        },
        {
            "own": "/analyst/applications/{own_loan}/decisions",
            "missing": "/analyst/applications/NO-SUCH/decisions",
        },
        form={"kind": "committee", "outcome": "approved", "rationale": "Matrix"},
    ),
    ("POST", "/analyst/applications/{reference:str}/transitions"): Rule(
        {
            "anonymous": 401,
            "analyst": {"own": 302, "missing": 404},
            "admin": {"own": 302, "missing": 404},
            ANY: 403,
        },
        {
            "own": "/analyst/applications/{own_loan}/transitions",
            "missing": "/analyst/applications/NO-SUCH/transitions",
        },
        form={"to": "approved"},
    ),
}
# ======================================================================================================

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _route_key(path: str) -> str:
    # the OpenAPI document is served under many paths by one plugin router: one row covers them all
    return "/schema" if path == "/schema" or path.startswith("/schema/") else path


def registered_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) for every route the application serves."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in getattr(handler, "http_methods", ()):
                if method not in IGNORED_METHODS:
                    found.add((method, _route_key(route.path)))
    return found


def _expected(rule: Rule, who: str, case: str) -> int:
    value = rule.expect.get(who, rule.expect.get(ANY))
    if isinstance(value, dict):
        return value[case]
    assert value is not None, f"no expectation for {who}"
    return value


def test_every_route_has_a_rule(settings) -> None:
    routes = registered_routes(create_app(settings))
    missing = sorted(routes - set(ACCESS_RULES))
    stale = sorted(set(ACCESS_RULES) - routes)
    assert not missing, f"routes without a row in ACCESS_RULES: {missing}"
    assert not stale, f"rows in ACCESS_RULES for routes that do not exist: {stale}"


def test_routes_without_a_declared_audience_are_refused(settings) -> None:
    """Default deny: a handler that forgets ``opt=allow(...)`` answers 403 to everyone, admins too."""
    from litestar import get

    @get("/test-only/forgotten", sync_to_thread=False)
    def forgotten() -> str:
        return "should never be seen"

    app = create_app(settings, extra_routes=[forgotten])
    with TestClient(app) as client:
        assert client.get("/test-only/forgotten").status_code == 403


@pytest.fixture
def world(engine, monkeypatch) -> World:
    fast_hashing(monkeypatch)
    return build_world(engine)


def _sessions(app: Litestar, world: World) -> dict[str, dict[str, str]]:
    """Signed-in cookies per user: each sign-in costs an Argon2 hash, so sign in once and reuse."""
    cookies: dict[str, dict[str, str]] = {"anonymous": {}}
    for role, email in world.emails.items():
        with TestClient(app) as client:
            assert sign_in(client, email).status_code == 302
            cookies[role] = dict(client.cookies.items())
    return cookies


@pytest.mark.parametrize("key", sorted(ACCESS_RULES), ids=lambda k: f"{k[0]} {k[1]}")
def test_access(settings, engine, world: World, key: tuple[str, str]) -> None:
    method, path = key
    rule = ACCESS_RULES[key]
    cases = rule.cases or {"-": path}
    app = create_app(settings, engine=engine)
    wrong: list[str] = []
    sessions = _sessions(app, world)
    for who in WHO:
        for case, template in cases.items():
            # a fresh client per request: one case (a logout, a role change) cannot spoil the next
            client = TestClient(app)
            client.cookies.update(sessions[who])
            with client:
                url = template.format(**world.values())
                if method == "GET":
                    response = client.get(url, follow_redirects=False)
                else:
                    kwargs: dict[str, Any] = {"headers": {"x-csrftoken": csrf(client)}}
                    if rule.json is not None:
                        kwargs["json"] = rule.json
                    else:
                        kwargs["data"] = {**(rule.form or {}), "_csrf_token": csrf(client)}
                    response = client.request(method, url, follow_redirects=False, **kwargs)
                expected = _expected(rule, who, case)
                if response.status_code != expected:
                    wrong.append(f"{who} {case} {url}: got {response.status_code}, want {expected}")
                elif expected == 302 and who == "anonymous" and method == "GET":
                    assert response.headers["location"].startswith("/login")
    assert not wrong, "\n".join(wrong)
