"""Shared fixtures: every test gets its own database, on SQLite by default or on PostgreSQL when
``LANPORTFOLJ_TEST_DATABASE_URL`` names a server (``.ci/run`` does both).

SQLite: the schema (and, for ``demo_db``, the demo portfolio) is built once per run into a template file that
each test copies. PostgreSQL: one fresh schema per run (per xdist worker); the same two states are built once
into snapshot schemas beside it, and each test's schema is refilled from one of them (``_PgWorld.restore``).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import Connection, Engine, text
from sqlmodel import Session

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


@dataclass
class _PgWorld:
    """This run's PostgreSQL schema and the snapshots it is refilled from between tests.

    Reloading the demo portfolio cost every demo test seconds of set-up on PostgreSQL (parsing, the rules,
    report publishing); copying its rows back from a snapshot schema is a few statements on the server.
    The restore empties every table of the schema (not only the models': whatever a migration made), puts
    the snapshot's rows back and sets every sequence where it stood when the snapshot was taken, so a test
    sees exactly the database the fresh load left, ids included.
    """

    url: str
    schema: str
    admin: Engine
    snapshots: dict[str, dict[str, int]] = field(default_factory=dict)  # name: {table: rows}
    sequences: dict[str, list[tuple[str, int, bool]]] = field(default_factory=dict)

    def _tables(self, conn: Connection) -> list[str]:
        rows = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :s"
                " AND tablename <> 'alembic_version' ORDER BY tablename"
            ),
            {"s": self.schema},
        )
        return [r[0] for r in rows]

    def snapshot(self, name: str) -> None:
        """Keep the schema's present rows and sequence positions as ``name``."""
        target = f"{self.schema}_{name}"
        with self.admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{target}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{target}"'))
            counts: dict[str, int] = {}
            for table in self._tables(conn):
                conn.execute(
                    text(
                        f'CREATE TABLE "{target}"."{table}" AS SELECT * FROM "{self.schema}"."{table}"'
                    )
                )
                counts[table] = conn.execute(
                    text(f'SELECT count(*) FROM "{target}"."{table}"')
                ).scalar_one()
            sequences = []
            for (seq,) in conn.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"),
                {"s": self.schema},
            ):
                last, called = conn.execute(
                    text(f'SELECT last_value, is_called FROM "{self.schema}"."{seq}"')
                ).one()
                sequences.append((seq, int(last), bool(called)))
        self.snapshots[name] = counts
        self.sequences[name] = sequences

    def restore(self, name: str) -> None:
        """Make the schema hold exactly snapshot ``name`` again, in one transaction."""
        counts = self.snapshots[name]
        with self.admin.begin() as conn:
            # the rows are copied whole: no foreign key needs checking, in no particular order
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            tables = self._tables(conn)
            if set(tables) != set(counts):
                raise RuntimeError(f"tables changed since snapshot {name}: {sorted(tables)}")
            # DELETE, not TRUNCATE: on these few rows TRUNCATE's new files cost ten times as much
            for table in tables:
                conn.execute(text(f'DELETE FROM "{self.schema}"."{table}"'))
            for table, rows in counts.items():
                if rows:
                    conn.execute(
                        text(
                            f'INSERT INTO "{self.schema}"."{table}" OVERRIDING SYSTEM VALUE'
                            f' SELECT * FROM "{self.schema}_{name}"."{table}"'
                        )
                    )
            for seq, last, called in self.sequences[name]:
                conn.execute(
                    text("SELECT setval(:seq, :last, :called)"),
                    {"seq": f'"{self.schema}"."{seq}"', "last": last, "called": called},
                )

    def drop(self) -> None:
        with self.admin.begin() as conn:
            for name in self.snapshots:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}_{name}" CASCADE'))
            conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_world() -> Iterator[_PgWorld | None]:
    """A fresh PostgreSQL schema for this run, migrated and synced, snapshot as ``empty`` (None on SQLite)."""
    if not PG_URL:
        yield None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    # the tests' own URL, so that the restores count in its shared write counter (shared_generation.py) as
    # the tests' writes do
    world = _PgWorld(url=url, schema=schema, admin=make_engine(Settings(database_url=url)))
    with world.admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        _migrate_and_sync(Settings(database_url=url))
        world.snapshot("empty")
        yield world
    finally:
        world.drop()


@pytest.fixture(scope="session")
def pg_schema_url(pg_world: _PgWorld | None) -> str | None:
    """The URL of this run's PostgreSQL schema (None on SQLite)."""
    return pg_world.url if pg_world else None


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
    tmp_path: Path, pg_world: _PgWorld | None, sqlite_templates: dict[str, Path]
) -> Settings:
    """Settings on a fresh, migrated, empty database (the library is synced)."""
    if pg_world:
        pg_world.restore("empty")
        return _settings_for(pg_world.url, tmp_path / "rendered")
    return _settings_for(_fresh_sqlite(sqlite_templates["empty"], tmp_path))


@pytest.fixture(scope="session")
def _demo_template(sqlite_templates: dict[str, Path], pg_world: _PgWorld | None) -> Path | None:
    if pg_world:
        # loaded once into the worker's schema and kept as the ``demo`` snapshot
        pg_world.restore("empty")
        _load_demo(_settings_for(pg_world.url))
        pg_world.snapshot("demo")
        return None
    demo = sqlite_templates["dir"] / "demo.db"
    shutil.copy(sqlite_templates["empty"], demo)
    _load_demo(Settings(database_url=f"sqlite:///{demo}"))
    return demo


@pytest.fixture
def demo_settings(
    tmp_path: Path, pg_world: _PgWorld | None, _demo_template: Path | None
) -> Settings:
    """Settings on a fresh database holding the demo portfolio."""
    if pg_world:
        pg_world.restore("demo")
        return _settings_for(pg_world.url, tmp_path / "rendered")
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


#: What a test's ``figures`` fixture kept, printed at the end of the run (user_properties travel from xdist
#: workers to the controller; a worker's own output does not).
_FIGURES: list[str] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``figures(line)`` keeps a line of measurements for the run's summary ("figures from the tests")."""

    def keep(line: str) -> None:
        request.node.user_properties.append(("figures", line))

    return keep


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _FIGURES.extend(str(value) for key, value in report.user_properties if key == "figures")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.section("figures from the tests")
        for line in _FIGURES:
            terminalreporter.write_line(line)


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
