"""Signing in and out, the session cookie, CSRF protection, login throttling and who is asking.

- The session is a client-side cookie, encrypted with a key derived from ``settings.secret_key``; it is
  HttpOnly, SameSite=Lax and Secure outside local development. It holds only the user id and a fingerprint
  of the password hash, so a new password ends every older session.
- ``UserMiddleware`` puts a ``CurrentUser`` (or None) into ``scope["user"]`` for every request: from the
  session, or under ``/api/`` from ``Authorization: Bearer <token>``. Role and organisation are read from the
  database on each request, so a role change or a deactivated account takes effect at once.
- CSRF: every unsafe request must carry the token from the ``csrftoken`` cookie in the form field
  ``_csrf_token`` (or the ``X-CSRFToken`` header). Scripts calling ``/api/`` with a bearer token need none.
- Repeated failed logins lock the account (``settings.login_max_failures`` for
  ``settings.login_lock_minutes``) and a client address with many failures is throttled (429).
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, get, post
from litestar.config.csrf import CSRFConfig
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS
from litestar.types import ASGIApp, Receive, Scope, Send
from sqlmodel import Session

from lanportfolj.config import Settings
from lanportfolj.models import UserAccount
from lanportfolj.services import users
from lanportfolj.web.access import PUBLIC, CurrentUser, allow, current_user
from lanportfolj.web.i18n import gettext as _
from lanportfolj.web.page_cache import PageCache

SESSION_COOKIE = "lanportfolj_session"
CSRF_COOKIE = "csrftoken"
SESSION_HOURS = 12
API_PREFIX = "/api/"

# a client address with this many failed logins within the window is refused for a while
THROTTLE_FAILURES = 20
THROTTLE_WINDOW_SECONDS = 15 * 60


def _key(settings: Settings, purpose: str) -> bytes:
    # one secret, separate keys per use: the session cookie and the CSRF token never share a key
    return hashlib.sha256(f"{purpose}:{settings.secret_key}".encode()).digest()


def session_config(settings: Settings) -> CookieBackendConfig:
    """The encrypted session cookie."""
    return CookieBackendConfig(
        secret=_key(settings, "session"),
        key=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=not settings.development,
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    """Double-submit CSRF tokens, signed with a key of their own."""
    return CSRFConfig(
        secret=_key(settings, "csrf").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_httponly=True,
        cookie_samesite="lax",
        cookie_secure=not settings.development,
    )


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


class CsrfMiddleware:
    """Litestar's CSRF check, except for API calls that authenticate with a bearer token: a browser never
    adds that header by itself, so such a request cannot be forged cross-site."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        self.app = app
        self.checked = CSRFMiddleware(app, config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API_PREFIX) and _bearer(scope):
            await self.app(scope, receive, send)
            return
        await self.checked(scope, receive, send)


def password_fingerprint(user: UserAccount) -> str:
    """Changes whenever the password does; stored in the session so a new password ends old sessions."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def as_current_user(user: UserAccount) -> CurrentUser:
    return CurrentUser(
        id=user.id or 0,
        email=user.email,
        role=user.role,
        borrower_id=user.borrower_id,
        language=user.language,
    )


def _resolve(engine: Any, session_data: dict[str, Any], token: str | None) -> CurrentUser | None:
    with Session(engine, expire_on_commit=False) as db:
        if token is not None:
            found = users.user_for_token(db, token)
            db.commit()  # last_used_at
            return as_current_user(found) if found else None
        uid = session_data.get("uid")
        if not isinstance(uid, int):
            return None
        fingerprint = session_data.get("pwf")
        # kept until anything is committed (web.page_cache), so a new role, a deactivation or a new
        # password still takes effect on the very next request
        return _SESSION_USERS.get_or_make(
            db, (uid, fingerprint), lambda: _session_user(db, uid, fingerprint)
        )


def _session_user(db: Session, uid: int, fingerprint: Any) -> CurrentUser | None:
    found = users.active_user(db, uid)
    if found is None or fingerprint != password_fingerprint(found):
        return None
    return as_current_user(found)


#: Who a session's (user id, password fingerprint) is, per data generation.
_SESSION_USERS: PageCache[CurrentUser | None] = PageCache(size=4096)


class UserMiddleware:
    """Puts the ``CurrentUser`` (or None) into ``scope["user"]``; an unknown bearer token is refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _bearer(scope) if scope["path"].startswith(API_PREFIX) else None
        session_data = scope.get("session")
        if not isinstance(session_data, dict):
            session_data = {}
        user: CurrentUser | None = None
        # static files never depend on who asks: spare them the database
        if not scope["path"].startswith("/static/") and (
            token is not None or "uid" in session_data
        ):
            engine = scope["litestar_app"].state.engine
            found, kept = (False, None)
            if token is None:
                # a session already resolved in this data generation: no thread, no connection
                found, kept = _SESSION_USERS.peek(
                    engine, (session_data.get("uid"), session_data.get("pwf"))
                )
            if found:
                user = kept
            else:
                user = await anyio.to_thread.run_sync(_resolve, engine, session_data, token)
            if token is not None and user is None:
                raise NotAuthorizedException("The API token is not valid.")
        scope["user"] = user
        await self.app(scope, receive, send)


# --- flash messages ---------------------------------------------------------------------------------

FLASH_KEY = "_flash"


def flash(request: Request[Any, Any, Any], message: str, category: str = "info") -> None:
    """A message shown once on the next page (already translated; ``category`` is info or error)."""
    messages = list(request.session.get(FLASH_KEY, [])) if request.session else []
    messages.append({"message": message, "category": category})
    request.session[FLASH_KEY] = messages


def pop_flashes(request: Request[Any, Any, Any] | None) -> list[dict[str, str]]:
    """The waiting flash messages, removed from the session (templates call this once per page)."""
    if request is None or not isinstance(request.scope.get("session"), dict):
        return []
    return list(request.session.pop(FLASH_KEY, []))


# --- login throttling -------------------------------------------------------------------------------


class LoginThrottle:
    """Failed logins per client address in a sliding window; kept in memory (per process)."""

    def __init__(
        self, limit: int = THROTTLE_FAILURES, window: float = THROTTLE_WINDOW_SECONDS
    ) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, client: str, now: float) -> deque[float]:
        seen = self._failures[client]
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def blocked(self, client: str, now: float | None = None) -> bool:
        return len(self._recent(client, now or time.monotonic())) >= self.limit

    def failed(self, client: str, now: float | None = None) -> None:
        moment = now or time.monotonic()
        self._recent(client, moment).append(moment)


def _throttle(request: Request[Any, Any, Any]) -> LoginThrottle:
    state = request.app.state
    if not isinstance(getattr(state, "login_throttle", None), LoginThrottle):
        state.login_throttle = LoginThrottle()
    return state.login_throttle


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or an absolute URL."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def login_url(next_path: str | None = None) -> str:
    return "/login" if not next_path or next_path == "/" else f"/login?next={quote(next_path)}"


# --- routes -----------------------------------------------------------------------------------------


@dataclass
class LoginForm:
    email: str = ""
    password: str = ""
    next: str = ""


def _login_page(next_path: str, email: str = "", error: str = "", status: int = 200) -> Template:
    return Template(
        "auth/login.html",
        context={"next": safe_next(next_path), "email": email, "error": error},
        status_code=status,
    )


@get("/login", opt=allow(PUBLIC), include_in_schema=False)
async def login_form(request: Request[Any, Any, Any], next: str = "/") -> Template | Redirect:
    """The sign-in form; a signed-in user goes straight on."""
    if current_user(request) is not None:
        return Redirect(path=safe_next(next))
    return _login_page(next)


@post("/login", opt=allow(PUBLIC), sync_to_thread=True, include_in_schema=False)
def login(
    request: Request[Any, Any, Any],
    db: Session,
    data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    """Check the password; on success start a session and go to ``next``."""
    settings: Settings = request.app.state.settings
    throttle = _throttle(request)
    client = _client(request)
    if throttle.blocked(client):
        return _login_page(
            data.next,
            data.email,
            _("Too many failed attempts from your address. Wait a few minutes and try again."),
            HTTP_429_TOO_MANY_REQUESTS,
        )
    result = users.authenticate(
        db, email=data.email, password=data.password, settings=settings, client=client
    )
    db.commit()
    if result.outcome == "locked":
        throttle.failed(client)
        return _login_page(
            data.next,
            data.email,
            _(
                "Too many failed attempts: the account is locked for %(minutes)s minutes.",
                minutes=settings.login_lock_minutes,
            ),
            HTTP_429_TOO_MANY_REQUESTS,
        )
    if not result.ok or result.user is None:
        throttle.failed(client)
        return _login_page(
            data.next, data.email, _("Wrong e-mail address or password."), HTTP_400_BAD_REQUEST
        )
    # a fresh session on every sign-in: nothing from before the login is carried over
    request.set_session(
        {"uid": result.user.id, "pwf": password_fingerprint(result.user), "at": int(time.time())}
    )
    flash(request, _("Signed in as %(email)s.", email=result.user.email))
    return Redirect(path=safe_next(data.next))


@post("/logout", opt=allow(PUBLIC), sync_to_thread=True, include_in_schema=False)
def logout(request: Request[Any, Any, Any], db: Session) -> Redirect:
    """End the session (harmless when there is none)."""
    user = current_user(request)
    if user is not None:
        users.record_logout(db, user_id=user.id, email=user.email)
        db.commit()
    request.set_session({})
    flash(request, _("You have signed out."))
    return Redirect(path="/login")


ROUTES = [login_form, login, logout]
