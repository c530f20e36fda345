"""Cached pages on PostgreSQL as on SQLite (issue 15): no database round trip for a cached page, and a
write from another process still shows on the next request.

On PostgreSQL the page cache trusts the write counter this machine's processes share
(``lanportfolj.shared_generation``) and asks the database only every ``page_cache_recheck_seconds``; these
tests set that to an hour where they show the counter alone is enough. On SQLite the file's
``data_version`` does the same job and the tests hold as they are.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from shell_world import PASSWORD, signed_in
from sqlalchemy import event

from lanportfolj.db import make_engine, session_scope
from lanportfolj.services import users
from lanportfolj.shared_generation import SharedCounter

pytestmark = pytest.mark.integration
OWN = "SH-2023-001"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _app(settings):
    from lanportfolj.web.app import create_app

    engine = make_engine(settings)
    with session_scope(engine) as db:
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
    return create_app(settings, engine=engine), engine


@pytest.fixture
def trusting(demo_settings):
    """The app on settings that trust the shared counter for an hour."""
    settings = dataclasses.replace(demo_settings, page_cache_recheck_seconds=3600.0)
    app, engine = _app(settings)
    yield app, engine, settings
    engine.dispose()


def _rename_in_another_process(database_url: str, title: str) -> None:
    code = (
        "import sys\n"
        "from sqlmodel import select\n"
        "from lanportfolj.config import Settings\n"
        "from lanportfolj.db import make_engine, session_scope\n"
        "from lanportfolj.models import Loan\n"
        "engine = make_engine(Settings(database_url=sys.argv[1]))\n"
        "with session_scope(engine) as db:\n"
        f"    db.exec(select(Loan).where(Loan.reference == {OWN!r})).one().title = sys.argv[2]\n"
        "engine.dispose()\n"
    )
    subprocess.run(
        [sys.executable, "-c", code, database_url, title],
        check=True,
        env={**os.environ, "PYTHONPATH": SRC},
        timeout=120,
    )


def test_a_write_from_another_process_shows_on_the_next_request(trusting) -> None:
    app, _, settings = trusting
    analyst = signed_in(app, "a@lender.example")
    for _ in range(2):
        assert "Renamed elsewhere" not in analyst.get(f"/loans/{OWN}?lang=en").text
    _rename_in_another_process(settings.database_url, "Renamed elsewhere")
    assert "Renamed elsewhere" in analyst.get(f"/loans/{OWN}?lang=en").text


def test_a_cached_page_asks_the_database_nothing(trusting) -> None:
    app, engine, _ = trusting
    analyst = signed_in(app, "a@lender.example")
    for path in (f"/loans/{OWN}?lang=en", "/?lang=en"):
        assert analyst.get(path).status_code == 200  # made and kept
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):
            for path in (f"/loans/{OWN}?lang=en", "/?lang=en"):
                assert analyst.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []


def test_a_write_the_counter_cannot_see_shows_after_the_recheck(demo_settings) -> None:
    """``psql``, the ``sqlite3`` shell or another machine: a write that bumps no counter shows once the
    database is asked again, after page_cache_recheck_seconds."""
    settings = dataclasses.replace(demo_settings, page_cache_recheck_seconds=0.5)
    app, engine = _app(settings)
    try:
        analyst = signed_in(app, "a@lender.example")
        assert "Renamed outside" not in analyst.get(f"/loans/{OWN}?lang=en").text
        if engine.url.get_backend_name() == "postgresql":
            import psycopg

            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    "UPDATE loan SET title = 'Renamed outside' WHERE reference = %s", (OWN,)
                )
        else:
            import sqlite3

            with sqlite3.connect(str(engine.url.database)) as conn:
                conn.execute(
                    "UPDATE loan SET title = 'Renamed outside' WHERE reference = ?", (OWN,)
                )
        time.sleep(0.6)
        assert "Renamed outside" in analyst.get(f"/loans/{OWN}?lang=en").text
    finally:
        engine.dispose()


def test_the_counter_is_shared_between_processes(tmp_path) -> None:
    path = tmp_path / "db.generation"
    counter = SharedCounter(path)
    assert counter.read() == 0
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from lanportfolj.shared_generation import SharedCounter\n"
        "c = SharedCounter(Path(sys.argv[1]))\n"
        "for _ in range(50): c.bump()\n"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path)], env={**os.environ, "PYTHONPATH": SRC}
        )
        for _ in range(3)
    ]
    assert all(w.wait(timeout=120) == 0 for w in workers)
    assert counter.read() == 150  # no bump lost
