"""Error pages and API errors: a clear message, never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from lanportfolj.web.i18n import gettext as _
from lanportfolj.web.i18n import use_request_language

log = logging.getLogger("lanportfolj.web")

TITLES = {
    400: "The request could not be read",
    401: "Please sign in",
    403: "You may not see this page",
    404: "Page not found",
    405: "Not allowed here",
    413: "The file is too large",
    422: "Some values are not valid",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Not available on this server",
}
#: server errors whose detail is written for the user (a missing PDF printer), shown like a refusal's
_SHOWN_SERVER_ERRORS = (503,)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    if request.url.path.startswith("/api/") or request.url.path.startswith("/schema"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


#: Framework messages shown to users, in words they understand (the page translates them).
FRIENDLIER = {
    "CSRF token verification failed": "The form had expired. Go back, reload the page and send it again.",
}


def _respond(
    request: Request[Any, Any, Any], status: int, detail: str, extra: Any = None
) -> Response[Any]:
    # paths no route matches never pass the language middleware: read the choice from the request
    use_request_language(request.scope)
    title = _(TITLES.get(status, "Error"))
    if _wants_json(request):
        body: dict[str, Any] = {"status_code": status, "detail": detail or title}
        if extra:
            body["extra"] = extra
        return Response(body, status_code=status, media_type=MediaType.JSON)
    if status == 401 and request.method == "GET":
        from litestar.response import Redirect

        from lanportfolj.web.auth import login_url

        query = request.url.query
        return Redirect(path=login_url(request.url.path + (f"?{query}" if query else "")))
    return Template(
        template_name="errors/error.html",
        context={"status": status, "title": title, "detail": detail},
        status_code=status,
    )


def http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    # a refusal's own structured reason (its code, the field it is about, both languages) reaches the
    # client; nothing extra ever does for a server error
    refusal = exc.status_code < 500 and isinstance(exc.extra, dict)
    extra = exc.extra if isinstance(exc, ValidationException) or refusal else None
    shown = exc.status_code < 500 or exc.status_code in _SHOWN_SERVER_ERRORS
    detail = exc.detail if shown else ""
    detail = FRIENDLIER.get(detail, detail)
    if detail in (TITLES.get(exc.status_code), HTTPStatus(exc.status_code).phrase):
        detail = ""  # the default detail only repeats the title
    return _respond(request, exc.status_code, _(detail) if detail else "", extra)


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _respond(request, HTTP_500_INTERNAL_SERVER_ERROR, "")


def handlers() -> dict[Any, Any]:
    return {HTTPException: http_exception, Exception: unexpected}
