"""Shared fixtures: every test gets its own database, on SQLite by default or on PostgreSQL when
``LANPORTFOLJ_TEST_DATABASE_URL`` names a server (``.ci/run`` does both).

SQLite: the schema (and, for ``demo_db``, the demo portfolio) is built once per run into a template file that
each test copies. PostgreSQL: one fresh schema per run, emptied between tests.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel

from lanportfolj.config import Settings, load_settings
from lanportfolj.db import make_engine, session_scope, upgrade
from lanportfolj.library import load_library
from lanportfolj.paths import demo_dir
from lanportfolj.services.indicators import sync_library

PG_URL = os.environ.get("LANPORTFOLJ_TEST_DATABASE_URL", "")
DEMO_YEAR = 2026


def _migrate_and_sync(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            sync_library(session, load_library())
    finally:
        engine.dispose()


def _load_demo(settings: Settings) -> None:
    from lanportfolj.services.portfolio import load_portfolio

    engine = make_engine(settings)
    try:
        with session_scope(engine) as session:
            load_portfolio(
                session=session, settings=settings, path=demo_dir(), current_year=DEMO_YEAR
            )
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str | None]:
    """A fresh PostgreSQL schema for this run (None on SQLite)."""
    if not PG_URL:
        yield None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(Settings(database_url=PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    _migrate_and_sync(Settings(database_url=url))
    yield url
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Migrated SQLite files to copy: ``empty`` (schema + library) and ``demo`` (plus the demo portfolio)."""
    folder = tmp_path_factory.mktemp("templates")
    empty = folder / "empty.db"
    _migrate_and_sync(Settings(database_url=f"sqlite:///{empty}"))
    return {"empty": empty, "dir": folder}


def _fresh_sqlite(template: Path, tmp_path: Path) -> str:
    target = tmp_path / "lanportfolj.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


def _empty_pg(url: str) -> None:
    engine = make_engine(Settings(database_url=url))
    try:
        names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        with session_scope(engine) as session:
            sync_library(session, load_library())
    finally:
        engine.dispose()


def _settings_for(url: str, rendered_dir: Path | None = None) -> Settings:
    return load_settings(
        environ={},
        database_url=url,
        secret_key="test-secret-key-" + "0" * 48,
        development=True,
        # PostgreSQL's renderings would otherwise share one temporary folder across tests
        rendered_dir=str(rendered_dir) if rendered_dir else "",
    )


@pytest.fixture
def settings(
    tmp_path: Path, pg_schema_url: str | None, sqlite_templates: dict[str, Path]
) -> Settings:
    """Settings on a fresh, migrated, empty database (the library is synced)."""
    if pg_schema_url:
        _empty_pg(pg_schema_url)
        return _settings_for(pg_schema_url, tmp_path / "rendered")
    return _settings_for(_fresh_sqlite(sqlite_templates["empty"], tmp_path))


@pytest.fixture(scope="session")
def _demo_template(sqlite_templates: dict[str, Path], pg_schema_url: str | None) -> Path | None:
    if pg_schema_url:
        return None
    demo = sqlite_templates["dir"] / "demo.db"
    shutil.copy(sqlite_templates["empty"], demo)
    _load_demo(Settings(database_url=f"sqlite:///{demo}"))
    return demo


@pytest.fixture
def demo_settings(
    tmp_path: Path, pg_schema_url: str | None, _demo_template: Path | None
) -> Settings:
    """Settings on a fresh database holding the demo portfolio."""
    if pg_schema_url:
        _empty_pg(pg_schema_url)
        _load_demo(_settings_for(pg_schema_url))
        return _settings_for(pg_schema_url, tmp_path / "rendered")
    assert _demo_template is not None
    return _settings_for(_fresh_sqlite(_demo_template, tmp_path))


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    eng = make_engine(settings)
    yield eng
    eng.dispose()


@pytest.fixture
def demo_engine(demo_settings: Settings) -> Iterator[Engine]:
    eng = make_engine(demo_settings)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def demo_session(demo_engine: Engine) -> Iterator[Session]:
    with Session(demo_engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """Each test leaves the root and ``litestar`` loggers' handlers as it found them.

    Every ``create_app`` lets Litestar configure logging, and its handler writes to whatever stderr
    was current then: pytest's capture of that test, closed when the test ends. A thread that logs
    later (an HTTP client's request log, a background rendering) then printed "Logging error: I/O
    operation on closed file" into a later test's output.
    """
    loggers = [logging.getLogger(), logging.getLogger("litestar")]
    before = [(logger.handlers[:], logger.level) for logger in loggers]
    yield
    for logger, (handlers, level) in zip(loggers, before, strict=True):
        logger.handlers[:] = handlers
        logger.setLevel(level)
