"""The web application: ``create_app(settings)`` builds everything; nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from functools import partial
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.response_cache import ResponseCacheConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.template.config import TemplateConfig
from sqlalchemy import Engine
from sqlmodel import Session

from lanportfolj import __version__
from lanportfolj.config import Settings, load_settings
from lanportfolj.db import make_engine
from lanportfolj.domain.categories import ICMA_CATEGORIES, PROGRAMME_CATEGORIES, label
from lanportfolj.paths import templates_dir
from lanportfolj.services.stored_identifiers import check_stored_identifiers
from lanportfolj.web import (
    access,
    admin,
    api_loans,
    applications,
    auth,
    errors,
    i18n,
    numbers,
    public,
    static_files,
)
from lanportfolj.web import account as account_web
from lanportfolj.web import bond_header as bond_header_web
from lanportfolj.web import case_studies as case_studies_web
from lanportfolj.web import evaluation as evaluation_web
from lanportfolj.web import imports as imports_web
from lanportfolj.web import kolada as kolada_web
from lanportfolj.web import programme as programme_web
from lanportfolj.web import reports as reports_web
from lanportfolj.web.compression import GzipMiddleware
from lanportfolj.web.security import SecurityMiddleware, body_limit


async def provide_session(state: State) -> AsyncIterator[Session]:
    """One database session per request; handlers commit explicitly through the services.

    An async generator on purpose: its clean-up (closing the session, which returns the connection to the
    pool) then runs on the event loop. A sync generator's clean-up is queued on the same thread pool as the
    handlers, so under load every thread could wait for a pooled connection that only a queued clean-up
    would return — the server deadlocked at 30 concurrent requests until the pool timed out.
    """
    engine: Engine = state.engine
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()


def route_handlers() -> list[Any]:
    """Every route of the application, from every audience's module."""
    return [
        *public.ROUTES,
        *auth.ROUTES,
        *admin.ROUTES,
        *api_loans.ROUTES,
        *applications.ROUTES,
        *kolada_web.ROUTES,
        *imports_web.ROUTES,
        *reports_web.ROUTES,
        *evaluation_web.ROUTES,
        *programme_web.ROUTES,
        *account_web.ROUTES,
        *case_studies_web.ROUTES,
        *bond_header_web.ROUTES,
    ]


def _configure_templates(engine: JinjaTemplateEngine, *, reload: bool = True) -> None:
    i18n.configure_jinja(engine)
    numbers.configure(engine.engine)
    env = engine.engine
    # outside development the templates are those deployed: no stat() of every template per page
    env.auto_reload = reload
    env.globals["pop_flashes"] = auth.pop_flashes
    env.globals["static_url"] = static_files.static_url
    env.globals["nav_items"] = navigation
    env.globals["programme_label"] = lambda key: label(
        PROGRAMME_CATEGORIES, key, i18n.get_language()
    )
    env.globals["icma_label"] = lambda key: label(ICMA_CATEGORIES, key, i18n.get_language())
    env.globals["user_of"] = lambda request: access.current_user(request) if request else None


NAV: dict[str, list[tuple[str, str]]] = {
    "analyst": [
        ("/", "Loans"),
        ("/analyst/applications", "Applications"),
        ("/imports", "Imports"),
        ("/reports", "Reports"),
        ("/programme", "Programme"),
    ],
    "borrower": [("/", "My loans"), ("/imports", "Report values")],
    "investor": [("/reports", "Reports")],
}
NAV["admin"] = [
    *NAV["analyst"],
    ("/admin/users", "Users"),
    ("/admin/tokens", "Tokens"),
    ("/admin/audit", "Audit log"),
]


def navigation(user: access.CurrentUser | None) -> list[tuple[str, str]]:
    """The menu for ``user``'s role: (path, English label); the template translates the label."""
    return NAV.get(user.role, []) if user else []


def _pool_options(settings: Settings) -> dict[str, Any]:
    """The pool of each worker (``database_pool_size``, ``database_max_overflow``; issue 15).

    SQLite: 20 + 20. With SQLAlchemy's default (5, overflow 10) a burst of requests opened and closed
    connections continually, each paying the set-up pragmas (7 % of a cached page's CPU under load).
    PostgreSQL: 10 + 10 per worker: the default's overflow made 120–330 new server connections per 1 000
    requests at 50 clients, and the server's connection limit is shared by every worker."""
    sqlite = settings.database_url.startswith("sqlite")
    size = settings.database_pool_size or (20 if sqlite else 10)
    overflow = settings.database_max_overflow
    if overflow < 0:
        overflow = 20 if sqlite else 10
    return {"pool_size": size, "max_overflow": overflow}


def create_app(
    settings: Settings, *, engine: Engine | None = None, extra_routes: Sequence[Any] = ()
) -> Litestar:
    """The application for ``settings`` (and an engine, when a test already has one).

    ``extra_routes`` lets a test add a route of its own (say, one that fails on purpose); production
    never passes any.
    """
    the_engine = engine or make_engine(settings, **_pool_options(settings))
    # issue 14: stored identifiers that break their grammar stop the start (a clear message, no 500s later)
    check_stored_identifiers(the_engine)

    def on_startup(app: Litestar) -> None:
        app.state.engine = the_engine
        app.state.settings = settings

    template_config = TemplateConfig(
        directory=templates_dir(),
        engine=JinjaTemplateEngine,
        engine_callback=partial(_configure_templates, reload=settings.development),
    )
    app = Litestar(
        route_handlers=[
            # one router for all pages: the app then registers each handler exactly once (Litestar 2.25
            # re-registers a path's earlier handlers when another method is added to it, which wraps a
            # sync_to_thread handler twice and makes its GET return a coroutine)
            Router(
                path="/",
                route_handlers=[*route_handlers(), static_files.static_file, *extra_routes],
            ),
        ],
        on_startup=[on_startup],
        dependencies={
            "db": Provide(provide_session),
            "user": Provide(access.provide_user, sync_to_thread=False),
            "maybe_user": Provide(access.provide_optional_user, sync_to_thread=False),
        },
        template_config=template_config,
        openapi_config=OpenAPIConfig(title="lanportfolj", version=__version__, path="/schema"),
        guards=[access.access_guard],
        # outermost first: language, then the flash cookie, who is asking, and the CSRF check
        middleware=[
            DefineMiddleware(
                i18n.LanguageMiddleware,
                default=settings.default_language,
                secure=not settings.development,
            ),
            *auth.middleware(settings),
        ],
        exception_handlers=errors.handlers(),
        response_cache_config=ResponseCacheConfig(),
        debug=False,
        state=State({"engine": the_engine, "settings": settings}),
    )
    # the security headers wrap the whole application, not its routes: Litestar runs ``middleware=`` per
    # matched route, so the router's own 404 and 405 (and the exception handling around it) would pass them by
    app.asgi_handler = SecurityMiddleware(
        app.asgi_handler, max_body_bytes=body_limit(settings), hsts=not settings.development
    )
    # gzip outside the security headers: they read a page's inline scripts for its policy (issue 18)
    app.asgi_handler = GzipMiddleware(app.asgi_handler)
    return app


def app_from_environment() -> Litestar:
    """The factory uvicorn calls in each worker: settings from the environment."""
    return create_app(load_settings())


def request_settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings
