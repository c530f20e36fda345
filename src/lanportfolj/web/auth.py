"""Signing in and out, server-side sessions, CSRF protection bound to the session, and who is asking.

- A session is a row in ``user_session`` (``services.sessions``). The ``lanportfolj_session`` cookie carries
  only its random token (HttpOnly, SameSite=Lax, Secure outside local development); the table stores the
  token's SHA-256. Every sign-in makes a new token (a cookie from before the login is never the one after
  it); sign-out, a password change, a role change, a deactivation and an admin's "sign out everywhere"
  delete the rows, so an old cookie is signed out on its next request, in every worker.
- ``AuthMiddleware`` puts a ``CurrentUser`` (or None) into ``scope["user"]`` for every request: from the
  session, or under ``/api/`` from ``Authorization: Bearer <token>``. The session lookup is one indexed
  query, kept per data generation (``web.page_cache``): any commit anywhere, a revocation in another
  process included, makes the next request ask the database again.
- CSRF: a token is ``nonce + HMAC(nonce, session)``; unsafe requests must send it (form field
  ``_csrf_token`` or header ``X-CSRFToken``) equal to the ``csrftoken`` cookie *and* signed for the
  request's own session, so a token taken from another session (or from before the sign-in) is refused.
  Scripts calling ``/api/`` with a bearer token need none.
- Flash messages live in a cookie of their own (``lanportfolj_flash``, encrypted); it authenticates nothing.
- The client address is the connecting peer; ``X-Forwarded-For`` is believed only from an address named in
  ``settings.trusted_proxies``. Failed logins are throttled per (account, client) and per client in the
  database (``services.users.authenticate``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from secrets import compare_digest
from typing import Annotated, Any
from urllib.parse import quote

import anyio.to_thread
from litestar import Request, get, post
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_429_TOO_MANY_REQUESTS
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState
from sqlmodel import Session

from lanportfolj.config import Settings
from lanportfolj.models import UserAccount
from lanportfolj.services import sessions, users
from lanportfolj.web.access import PUBLIC, CurrentUser, allow, current_user
from lanportfolj.web.i18n import gettext as _
from lanportfolj.web.page_cache import PageCache

SESSION_COOKIE = "lanportfolj_session"
FLASH_COOKIE = "lanportfolj_flash"
CSRF_COOKIE = "csrftoken"
API_PREFIX = "/api/"
STATIC_PREFIX = "/static/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: scope keys this module sets: the hash of the request's live session (or None) and the client address
SESSION_SCOPE_KEY = "lanportfolj.session"
CLIENT_SCOPE_KEY = "lanportfolj.client"
ANONYMOUS_BINDING = "anonymous"


def _key(settings: Settings, purpose: str) -> bytes:
    # one secret, separate keys per use: the flash cookie and the CSRF token never share a key
    return hashlib.sha256(f"{purpose}:{settings.secret_key}".encode()).digest()


def flash_config(settings: Settings) -> CookieBackendConfig:
    """The encrypted cookie that carries flash messages from one page to the next (nothing else)."""
    return CookieBackendConfig(
        secret=_key(settings, "session"),
        key=FLASH_COOKIE,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=not settings.development,
    )


def middleware(settings: Settings) -> list[Any]:
    """The session, user and CSRF middleware, outermost first (the flash cookie, then who is asking,
    then the CSRF check that needs to know the session)."""
    return [
        flash_config(settings).middleware,
        DefineMiddleware(AuthMiddleware, settings=settings),
        DefineMiddleware(CsrfMiddleware, settings=settings),
    ]


# --- the client address -------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(setting: str) -> tuple[Network, ...]:
    """``settings.trusted_proxies`` as networks; a bad entry is an error at start, not a silent hole."""
    out: list[Network] = []
    for part in setting.replace(";", ",").split(","):
        if part.strip():
            try:
                out.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"trusted_proxies: {part.strip()!r} is not an IP address or network"
                ) from None
    return tuple(out)


def _is_trusted(address: str, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """Who is connecting: the peer, or, when the peer is a trusted proxy, the nearest address in
    ``X-Forwarded-For`` that is not itself a trusted proxy (the left part of the header is whatever the
    client chose to send, so it is never read past an untrusted hop)."""
    peer = scope.get("client")
    address = str(peer[0]) if peer else "unknown"
    if not trusted or not _is_trusted(address, trusted):
        return address
    hops: list[str] = []
    for key, value in scope.get("headers", []):
        if key == b"x-forwarded-for":
            hops.extend(h.strip() for h in value.decode("latin-1").split(","))
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage: keep the last address that was believable
        address = hop
        if not _is_trusted(hop, trusted):
            break
    return address


# --- the signed-in user ---------------------------------------------------------------------------------


def _bearer(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                found, _, val = part.strip().partition("=")
                if found == name and val:
                    return val
    return None


def as_current_user(user: UserAccount) -> CurrentUser:
    return CurrentUser(
        id=user.id or 0,
        email=user.email,
        role=user.role,
        borrower_id=user.borrower_id,
        language=user.language,
    )


@dataclass(frozen=True)
class LiveSession:
    """What a request needs of its session, kept between requests of one data generation."""

    session_id: int
    token_hash: str
    expires_at: datetime
    last_seen_at: datetime
    user: CurrentUser


#: A session token's hash → its live session (or None), per data generation.
_SESSIONS: PageCache[LiveSession | None] = PageCache(size=4096)


def _live(db: Session, raw: str) -> LiveSession | None:
    found = sessions.lookup(db, raw)
    if found is None:
        return None
    return LiveSession(
        session_id=found.session_id,
        token_hash=found.token_hash,
        expires_at=found.expires_at,
        last_seen_at=found.last_seen_at,
        user=as_current_user(found.user),
    )


def _resolve_session(engine: Any, raw: str) -> LiveSession | None:
    with Session(engine, expire_on_commit=False) as db:
        return _SESSIONS.get_or_make(db, sessions.token_hash(raw), lambda: _live(db, raw))


def _resolve_token(engine: Any, token: str) -> CurrentUser | None:
    with Session(engine, expire_on_commit=False) as db:
        found = users.user_for_token(db, token)
        db.commit()  # last_used_at
        return as_current_user(found) if found else None


def _touch(engine: Any, session_id: int) -> None:
    with Session(engine) as db:
        sessions.touch(db, session_id=session_id)
        db.commit()


class AuthMiddleware:
    """Puts the ``CurrentUser`` (or None), the live session's hash and the client address into the
    scope; an unknown, expired or revoked bearer token is refused (401)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.trusted = trusted_networks(settings.trusted_proxies)
        self.seen_seconds = settings.session_seen_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[CLIENT_SCOPE_KEY] = client_address(scope, self.trusted)  # type: ignore[literal-required]
        scope[SESSION_SCOPE_KEY] = None  # type: ignore[literal-required]
        user: CurrentUser | None = None
        # static files never depend on who asks: spare them the database
        if not scope["path"].startswith(STATIC_PREFIX):
            engine = scope["litestar_app"].state.engine
            token = _bearer(scope) if scope["path"].startswith(API_PREFIX) else None
            if token is not None:
                user = await anyio.to_thread.run_sync(_resolve_token, engine, token)
                if user is None:
                    raise NotAuthorizedException("The API token is not valid.")
            elif (raw := _cookie(scope, SESSION_COOKIE)) is not None:
                live = await self._session(engine, raw)
                if live is not None:
                    user = live.user
                    scope[SESSION_SCOPE_KEY] = live.token_hash  # type: ignore[literal-required]
        scope["user"] = user
        await self.app(scope, receive, send)

    async def _session(self, engine: Any, raw: str) -> LiveSession | None:
        # a session already looked up in this data generation: no thread, no connection
        found, live = _SESSIONS.peek(engine, sessions.token_hash(raw))
        if not found:
            live = await anyio.to_thread.run_sync(_resolve_session, engine, raw)
        if live is None:
            return None
        now = datetime.now(UTC)
        if live.expires_at <= now:
            return None
        if (now - live.last_seen_at).total_seconds() >= self.seen_seconds:
            # written now and then only: each write moves every cached page's generation on
            await anyio.to_thread.run_sync(_touch, engine, live.session_id)
        return live


def session_cookie(settings: Settings, raw: str) -> Cookie:
    """The cookie that carries a new session's token (``raw=""`` deletes it)."""
    return Cookie(
        key=SESSION_COOKIE,
        value=raw,
        path="/",
        max_age=settings.session_hours * 3600 if raw else 0,
        httponly=True,
        samesite="lax",
        secure=not settings.development,
    )


# --- CSRF -----------------------------------------------------------------------------------------------

CSRF_NONCE_BYTES = 32


def _csrf_signature(settings_key: bytes, nonce: str, binding: str) -> str:
    return hmac.new(settings_key, f"{nonce}|{binding}".encode(), hashlib.sha256).hexdigest()


def new_csrf_token(settings: Settings, binding: str | None) -> str:
    """A CSRF token for the session whose hash is ``binding`` (None: not signed in)."""
    nonce = secrets.token_hex(CSRF_NONCE_BYTES)
    return nonce + _csrf_signature(_key(settings, "csrf"), nonce, binding or ANONYMOUS_BINDING)


def csrf_token_valid(settings: Settings, token: str, binding: str | None) -> bool:
    """True when ``token`` was made for this very session (or for no session, when ``binding`` is None)."""
    size = CSRF_NONCE_BYTES * 2
    if len(token) != size * 2:
        return False
    expected = _csrf_signature(_key(settings, "csrf"), token[:size], binding or ANONYMOUS_BINDING)
    return compare_digest(token[size:], expected)


def csrf_cookie(settings: Settings, token: str) -> Cookie:
    return Cookie(
        key=CSRF_COOKIE,
        value=token,
        path="/",
        httponly=True,
        samesite="lax",
        secure=not settings.development,
    )


def start_csrf(request: Request[Any, Any, Any], binding: str | None) -> Cookie:
    """A fresh CSRF token for the session just started (or ended): forms of the page rendered now get
    it, and the returned cookie carries it to the browser."""
    settings: Settings = request.app.state.settings
    token = new_csrf_token(settings, binding)
    ScopeState.from_scope(request.scope).csrf_token = token
    return csrf_cookie(settings, token)


class CsrfMiddleware:
    """Double-submit CSRF tokens signed for the request's session. API calls that authenticate with a
    bearer token are let through: a browser never adds that header by itself, so such a request cannot
    be forged cross-site."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(API_PREFIX) and _bearer(scope):
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(STATIC_PREFIX):
            # no forms, and no session looked up (AuthMiddleware skips them): a token issued here would
            # be the anonymous one and replace the signed-in page's token while the page loads
            await self.app(scope, receive, send)
            return
        binding: str | None = scope.get(SESSION_SCOPE_KEY)  # type: ignore[assignment]
        cookie = _cookie(scope, CSRF_COOKIE)
        state = ScopeState.from_scope(scope)
        if scope.get("method") in SAFE_METHODS:
            if cookie is not None and csrf_token_valid(self.settings, cookie, binding):
                state.csrf_token = cookie
                await self.app(scope, receive, send)
                return
            # no token yet, or one of another session (before a sign-in, say): a new one
            token = state.csrf_token = new_csrf_token(self.settings, binding)
            header = csrf_cookie(self.settings, token).to_header(header="")
            await self.app(scope, receive, _adding_cookie(send, header))
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(
            scope=scope, receive=receive
        )
        sent = request.headers.get("x-csrftoken")
        content_type, _ = request.content_type
        if not sent and content_type in (
            RequestEncodingType.URL_ENCODED,
            RequestEncodingType.MULTI_PART,
        ):
            # parsed once: the handler reads the same form from the scope
            value = (await request.form()).get("_csrf_token")
            sent = value if isinstance(value, str) else None
        if (
            not sent
            or cookie is None
            or not compare_digest(sent, cookie)
            or not csrf_token_valid(self.settings, cookie, binding)
        ):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = cookie
        await self.app(scope, receive, send)


def _adding_cookie(send: Send, header: str) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message.setdefault("headers", [])  # type: ignore[typeddict-item]
            headers = MutableScopeHeaders.from_message(message)  # type: ignore[arg-type]
            # a handler that started or ended a session has set its own token already
            if not any(v.startswith(f"{CSRF_COOKIE}=") for v in headers.getall("set-cookie", [])):
                headers.add("set-cookie", header)
        await send(message)

    return wrapped


# --- flash messages ---------------------------------------------------------------------------------

FLASH_KEY = "_flash"
#: A flash message's longest text, and how many wait at once. Messages echo what was sent (a refused
#: criterion, a status), and the flash travels in a cookie: a 100 kB value once made it dozens of
#: chunks, which Litestar joins in name order (``-10`` before ``-2``), so every later request of that
#: user failed until the cookie expired. Capped, the cookie stays a few kB.
FLASH_MAX_CHARS = 500
FLASH_MAX_MESSAGES = 3


def flash(request: Request[Any, Any, Any], message: str, category: str = "info") -> None:
    """A message shown once on the next page (already translated; ``category`` is info or error),
    shortened to :data:`FLASH_MAX_CHARS`; only the last :data:`FLASH_MAX_MESSAGES` are kept."""
    if len(message) > FLASH_MAX_CHARS:
        message = message[: FLASH_MAX_CHARS - 1] + "…"
    messages = list(request.session.get(FLASH_KEY, [])) if request.session else []
    messages.append({"message": message, "category": category})
    request.session[FLASH_KEY] = messages[-FLASH_MAX_MESSAGES:]


def pop_flashes(request: Request[Any, Any, Any] | None) -> list[dict[str, str]]:
    """The waiting flash messages, removed from the session (templates call this once per page)."""
    if request is None or not isinstance(request.scope.get("session"), dict):
        return []
    return list(request.session.pop(FLASH_KEY, []))


# --- routes -----------------------------------------------------------------------------------------


def request_client(request: Request[Any, Any, Any]) -> str:
    """The client address ``AuthMiddleware`` settled on (trusted proxies honoured)."""
    found = request.scope.get(CLIENT_SCOPE_KEY)  # type: ignore[call-overload]
    return str(found) if found else "unknown"


def request_session(request: Request[Any, Any, Any]) -> str | None:
    """The hash of the request's live session, or None."""
    found = request.scope.get(SESSION_SCOPE_KEY)  # type: ignore[call-overload]
    return str(found) if found else None


def _user_agent(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("user-agent", "")


def begin_session(request: Request[Any, Any, Any], db: Session, user: UserAccount) -> list[Cookie]:
    """Start a new session for ``user`` (ending the request's old one, if any) and return the cookies
    that carry it and its CSRF token. The caller commits."""
    settings: Settings = request.app.state.settings
    old = request_session(request)
    if old is not None:
        sessions.end(db, token_hash_value=old)
    sessions.purge_expired(db)
    raw = sessions.start(
        db,
        user=user,
        hours=settings.session_hours,
        client=request_client(request),
        user_agent=_user_agent(request),
    )
    return [session_cookie(settings, raw), start_csrf(request, sessions.token_hash(raw))]


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
    """Check the password under the throttle; on success start a new session and go to ``next``.

    An unknown address, an inactive account and a wrong password get one answer; a throttled attempt
    gets 429 with ``Retry-After``, alike for every address (unknown ones are throttled too)."""
    settings: Settings = request.app.state.settings
    result = users.authenticate(
        db,
        email=data.email,
        password=data.password,
        settings=settings,
        client=request_client(request),
    )
    if result.outcome == "throttled":
        db.commit()
        page = _login_page(
            data.next,
            data.email,
            _(
                "Too many failed attempts. Wait %(seconds)s seconds and try again.",
                seconds=result.retry_after,
            ),
            HTTP_429_TOO_MANY_REQUESTS,
        )
        page.headers["Retry-After"] = str(result.retry_after)
        return page
    if not result.ok or result.user is None:
        db.commit()
        return _login_page(
            data.next, data.email, _("Wrong e-mail address or password."), HTTP_400_BAD_REQUEST
        )
    # a new token on every sign-in: a cookie planted before the login is never the one after it
    cookies = begin_session(request, db, result.user)
    db.commit()
    flash(request, _("Signed in as %(email)s.", email=result.user.email))
    return Redirect(path=safe_next(data.next), cookies=cookies)


@post("/logout", opt=allow(PUBLIC), sync_to_thread=True, include_in_schema=False)
def logout(request: Request[Any, Any, Any], db: Session) -> Redirect:
    """End every session of the signed-in user, this one and any other browser's (harmless when there
    is none): signing out on a shared computer must not leave a forgotten session open elsewhere."""
    settings: Settings = request.app.state.settings
    user = current_user(request)
    hashed = request_session(request)
    if hashed is not None:
        sessions.end(db, token_hash_value=hashed)
    if user is not None:
        sessions.end_all(db, user_id=user.id)
        users.record_logout(db, user_id=user.id, email=user.email)
    db.commit()
    flash(request, _("You have signed out."))
    return Redirect(
        path="/login", cookies=[session_cookie(settings, ""), start_csrf(request, None)]
    )


ROUTES = [login_form, login, logout]
