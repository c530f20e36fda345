"""Swedish and English for every user-visible string.

Message ids are English; Swedish comes from gettext catalogues (``locale/sv/LC_MESSAGES/*.po``, one per area of
the application so that areas never edit the same file). Catalogues are read with Babel at start-up, so no
compile step is needed. The request's language lives in a context variable set by ``LanguageMiddleware``.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from babel.messages.pofile import read_po
from jinja2 import Environment
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.types import ASGIApp, Receive, Scope, Send

from lanportfolj.numtext import decimal_text

LANGUAGES = ("sv", "en")
LANG_COOKIE = "lang"
_current: ContextVar[str] = ContextVar("lanportfolj_lang", default="sv")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All translations for ``lang``. English is mostly the message ids themselves; its small catalogue
    only turns code-like ids (``not_eligible``, ``under_review``) into words."""
    merged: dict[str, str] = {}
    folder = resources.files("lanportfolj") / "locale" / lang / "LC_MESSAGES"
    if not folder.is_dir():
        return merged
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if message.id and message.string and isinstance(message.id, str):
                    merged[message.id] = str(message.string)
    return merged


def get_language() -> str:
    return _current.get()


def set_language(lang: str) -> None:
    _current.set(lang if lang in LANGUAGES else "sv")


def gettext(message: str, **params: Any) -> str:
    """``message`` in the current language, with ``%(name)s`` parameters filled in."""
    text = catalogue(get_language()).get(message, message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    return gettext(singular if n == 1 else plural, n=n, **params)


def fmt_number(value: Decimal | float | int | None, digits: int | None = None) -> str:
    """A number as the reader writes it: ``3 800 000 000`` and ``61,5`` in Swedish, ``3,800,000,000`` in English."""
    if value is None:
        return "–"
    lang = "sv" if get_language() == "sv" else "en"
    if digits is not None:
        value = round(Decimal(str(value)), digits)
    # babel's format_decimal with the locale's pattern (#,##0.###) or #,##0.00…, digit for digit
    return decimal_text(value, lang, digits)


def fmt_date(value: date | None) -> str:
    return "–" if value is None else value.isoformat()


def language_switch_url(request: Any, lang: str) -> str:
    """The current page in ``lang``: the path and every query parameter kept (a search, a filter, the
    page), ``lang`` set."""
    from urllib.parse import urlencode

    if request is None:
        return f"?lang={lang}"
    pairs = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "?" + urlencode([*pairs, ("lang", lang)])


def configure_jinja(engine: JinjaTemplateEngine) -> None:
    """Autoescape everywhere, ``_`` and number formatting in every template."""
    env: Environment = engine.engine
    env.autoescape = True
    env.globals["_"] = gettext
    env.globals["ngettext"] = ngettext
    env.globals["current_language"] = get_language
    env.globals["language_switch_url"] = language_switch_url
    env.filters["num"] = fmt_number
    env.filters["day"] = fmt_date


def _cookie_language(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                name, _, val = part.strip().partition("=")
                if name == LANG_COOKIE and val in LANGUAGES:
                    return val
    return None


def _query_language(scope: Scope) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    for part in query.split("&"):
        name, _, val = part.partition("=")
        if name == "lang" and val in LANGUAGES:
            return val
    return None


def language_for(scope: Scope, default: str = "sv") -> str:
    """The language a request asks for: ``?lang=`` first, then the remembered cookie, then ``default``."""
    return _query_language(scope) or _cookie_language(scope) or default


def use_request_language(scope: Scope) -> None:
    """Set the language from the request itself, for code that runs outside ``LanguageMiddleware``
    (error pages for paths no route matches)."""
    app = scope.get("litestar_app")
    settings = getattr(getattr(app, "state", None), "settings", None)
    set_language(language_for(scope, getattr(settings, "default_language", "sv")))


class LanguageMiddleware:
    """Sets the request's language: ``?lang=`` first, then the remembered cookie, then the default.

    A ``?lang=`` choice is remembered in the ``lang`` cookie for a year, so the switch in the page header
    needs no extra round trip and works without JavaScript.
    """

    def __init__(self, app: ASGIApp, default: str = "sv", secure: bool = False) -> None:
        self.app = app
        self.default = default
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = _query_language(scope)
        set_language(chosen or _cookie_language(scope) or self.default)
        if chosen is None or chosen == _cookie_language(scope):
            await self.app(scope, receive, send)
            return
        cookie = f"{LANG_COOKIE}={chosen}; Path=/; Max-Age=31536000; SameSite=Lax"
        if self.secure:
            cookie += "; Secure"

        async def remember(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"set-cookie", cookie.encode("latin-1")),
                ]
            await send(message)

        await self.app(scope, receive, remember)
