"""Backup and restore round-trip: every table comes back exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import make_engine

pytestmark = pytest.mark.integration

SMALL = Path(__file__).parent.parent / "fixtures" / "portfolio_small"
runner = CliRunner()


def _snapshot(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(str(v) for v in row) for row in conn.execute(select(table))), key=repr
            )
            for table in SQLModel.metadata.sorted_tables
        }


def test_backup_then_restore_gives_back_every_table(settings, tmp_path):
    url = ["--database-url", settings.database_url]
    assert runner.invoke(app, [*url, "portfolio", "load", str(SMALL)]).exit_code == 0
    engine = make_engine(settings)
    before = _snapshot(engine)
    assert before["measurement"], "the fixture should hold measurements"

    target = tmp_path / "backup.bin"
    made = runner.invoke(app, [*url, "db", "backup", str(target)])
    assert made.exit_code == 0, made.output
    assert target.stat().st_size > 0

    # change and add data after the backup, then restore
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM goal_indicator")
        conn.exec_driver_sql("UPDATE loan SET title = 'changed after backup'")
    assert _snapshot(engine) != before
    restored = runner.invoke(app, [*url, "db", "restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    engine.dispose()
    assert _snapshot(make_engine(settings)) == before


def test_restore_refuses_a_file_that_is_not_a_backup(settings, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(
        app, ["--database-url", settings.database_url, "db", "restore", str(junk), "--yes"]
    )
    assert result.exit_code == 1
    assert "error" in result.output
