"""The CLI's listings read through the bare driver (``lanportfolj.listings``) and give what the ORM gives.

``bonds list`` and ``loans list`` skip SQLAlchemy, SQLModel and the models to start within 0.3 s (issue 15
item 2); these tests hold them to the rows of ``services.loans`` and to the same output, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lanportfolj import listings
from lanportfolj.cli import app
from lanportfolj.services.loans import list_bonds, list_loans

pytestmark = pytest.mark.integration

SRC = str(Path(__file__).resolve().parents[2] / "src")
runner = CliRunner()


def _typed(rows: list[dict]) -> list[dict]:
    # Decimal("1") == Decimal("1.0"), yet they print differently: compare the type and the text too
    return [{k: (type(v).__name__, str(v)) for k, v in row.items()} for row in rows]


def test_the_driver_rows_are_the_orm_rows(demo_settings, demo_session):
    with listings.connect(demo_settings.database_url) as reader:
        assert reader is not None, "the test database's URL takes the driver path"
        assert listings.schema_is_current(reader)
        bonds = listings.bonds(reader)
        assert bonds and _typed(bonds) == _typed(list_bonds(demo_session))
        loans = listings.loans(reader)
        assert loans and _typed(loans) == _typed(list_loans(demo_session))
        for statuses in (("active",), ("active", "draft"), ("no-such-status",)):
            assert _typed(listings.loans(reader, statuses)) == _typed(
                list_loans(demo_session, statuses=statuses)
            )


@contextmanager
def _no_driver_path(_url: str) -> Iterator[None]:
    yield None


@pytest.mark.parametrize(
    "args",
    [
        ("bonds", "list"),
        ("bonds", "list", "--json"),
        ("loans", "list"),
        ("loans", "list", "--json"),
        ("loans", "list", "--status", "active", "--status", "draft", "--json"),
    ],
)
def test_the_listing_prints_what_the_orm_path_prints(demo_settings, monkeypatch, args):
    command = ["--database-url", demo_settings.database_url, *args]
    fast = runner.invoke(app, command)
    assert fast.exit_code == 0, fast.output
    monkeypatch.setattr(listings, "connect", _no_driver_path)
    orm = runner.invoke(app, command)
    assert orm.exit_code == 0, orm.output
    assert fast.stdout == orm.stdout


@pytest.mark.parametrize("listing", ["bonds", "loans"])
def test_a_listing_imports_neither_sqlalchemy_nor_pydantic(demo_settings, listing):
    """The point of the driver path, on both databases: no ORM, no pydantic, no polars in the process
    (``loans`` also loads cli/assess.py, whose commands import the services when they run)."""
    code = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: sys.__stderr__.write('MODULES' + json.dumps(sorted(sys.modules))))\n"
        "from lanportfolj.cli import app\n"
        f"sys.argv = ['lanportfolj', '--database-url', {demo_settings.database_url!r},"
        f" {listing!r}, 'list', '--json']\n"
        "app()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": SRC},
        timeout=120,
    )
    modules = {m.split(".")[0] for m in json.loads(done.stderr.rsplit("MODULES", 1)[1])}
    assert json.loads(done.stdout), done.stderr
    heavy = {
        "sqlalchemy",
        "sqlmodel",
        "pydantic",
        "polars",
        "alembic",
        "httpx",
        "plotly",
        "litestar",
    }
    assert not modules & heavy, sorted(modules & heavy)


def test_an_unmigrated_database_is_named_on_the_driver_path_too(tmp_path):
    result = runner.invoke(
        app, ["--database-url", f"sqlite:///{tmp_path / 'empty.db'}", "bonds", "list", "--json"]
    )
    assert result.exit_code == 2
    assert "db upgrade" in result.output


def test_urls_the_driver_path_leaves_to_the_orm():
    assert listings._sqlite_path("sqlite:///:memory:") is None
    assert listings._sqlite_path("sqlite:///x.db?mode=ro") is None
    assert listings._sqlite_path("sqlite:////abs/x.db") == "/abs/x.db"
    assert listings._postgres_conninfo("postgresql+psycopg2://h/db") is None
    assert listings._postgres_conninfo("postgresql+psycopg://u@h:5432/db?options=x") == (
        "postgresql://u@h:5432/db?options=x"
    )
