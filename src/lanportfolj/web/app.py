"""The web application: ``create_app(settings)`` builds everything; nothing is built at import time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from litestar import Litestar, Request
from litestar.config.response_cache import ResponseCacheConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from sqlalchemy import Engine
from sqlmodel import Session

from lanportfolj import __version__
from lanportfolj.config import Settings, load_settings
from lanportfolj.db import make_engine
from lanportfolj.paths import templates_dir
from lanportfolj.web import access, errors, i18n, public


def provide_session(state: State) -> Iterator[Session]:
    """One database session per request; handlers commit explicitly through the services."""
    engine: Engine = state.engine
    with Session(engine, expire_on_commit=False) as session:
        yield session


def _static_dir() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


def route_handlers() -> list[Any]:
    """Every route of the application, from every audience's module."""
    return [*public.ROUTES]


def create_app(settings: Settings, *, engine: Engine | None = None) -> Litestar:
    """The application for ``settings`` (and an engine, when a test already has one)."""
    the_engine = engine or make_engine(settings)

    def on_startup(app: Litestar) -> None:
        app.state.engine = the_engine
        app.state.settings = settings

    template_config = TemplateConfig(
        directory=templates_dir(),
        engine=JinjaTemplateEngine,
        engine_callback=i18n.configure_jinja,
    )
    return Litestar(
        route_handlers=[
            *route_handlers(),
            create_static_files_router(
                path="/static",
                directories=[templates_dir() / "static", _static_dir()],
                opt=access.allow(access.PUBLIC),
                include_in_schema=False,
            ),
        ],
        on_startup=[on_startup],
        dependencies={"db": Provide(provide_session)},
        template_config=template_config,
        openapi_config=OpenAPIConfig(title="lanportfolj", version=__version__, path="/schema"),
        guards=[access.access_guard],
        middleware=[DefineMiddleware(i18n.LanguageMiddleware, default=settings.default_language)],
        exception_handlers=errors.handlers(),
        response_cache_config=ResponseCacheConfig(),
        debug=False,
        state=State({"engine": the_engine, "settings": settings}),
    )


def app_from_environment() -> Litestar:
    """The factory uvicorn calls in each worker: settings from the environment."""
    return create_app(load_settings())


def request_settings(request: Request[Any, Any, Any]) -> Settings:
    return request.app.state.settings
