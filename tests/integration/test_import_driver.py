"""``lanportfolj import`` runs through the database driver (issue 15): it never imports SQLAlchemy or the
models, and what it writes reads back through the ORM as an ORM import's rows do (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from lanportfolj.db import make_engine
from lanportfolj.driver import shared_key
from lanportfolj.models import AuditEvent, Measurement, Submission
from lanportfolj.shared_generation import url_key

pytestmark = pytest.mark.integration

CSV = "loan,indicator,year,value,comment\nSH-2023-001,dwellings_renovated,2025,457,per år\n"

RUN = (
    "import sys\n"
    "from lanportfolj.cli import app\n"
    "try:\n"
    "    app(sys.argv[1:])\n"
    "except SystemExit as exit:\n"
    "    print('heavy:', sorted(m for m in ('sqlalchemy', 'sqlmodel', 'lanportfolj.models')"
    " if m in sys.modules), file=sys.stderr)\n"
    "    raise\n"
)


def test_the_cli_import_skips_the_orm_and_writes_what_the_orm_reads(demo_settings, tmp_path):
    path = tmp_path / "values.csv"
    path.write_text(CSV, encoding="utf-8")
    done = subprocess.run(
        [
            *(sys.executable, "-c", RUN, "--database-url", demo_settings.database_url),
            *("import", str(path), "--json", "--actor", "cli-test"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    if "?" not in demo_settings.database_url:
        # (the PostgreSQL tests' URL names a schema in its query: the ORM path handles that one)
        assert "heavy: []" in done.stderr
    body = json.loads(done.stdout)
    assert (body["accepted"], body["restated"]) == (True, 1)
    engine = make_engine(demo_settings)
    try:
        with Session(engine) as db:
            submission = db.get(Submission, body["submission_id"])
            assert submission is not None
            assert (submission.content, submission.errors, submission.source) == (
                CSV.encode(),
                [],
                "cli",
            )
            assert isinstance(submission.uploaded_at, datetime)
            stored = db.exec(
                select(Measurement).where(Measurement.submission_id == submission.id)
            ).one()
            assert (stored.value, stored.comment, stored.version, stored.is_current) == (
                Decimal("457"),
                "per år",
                2,
                True,
            )
            assert stored.estimated is False and stored.history is False
            old = db.exec(
                select(Measurement).where(
                    Measurement.loan_indicator_id == stored.loan_indicator_id,
                    Measurement.year == 2025,
                    Measurement.version == 1,
                )
            ).one()
            assert old.is_current is False
            event = db.exec(
                select(AuditEvent).where(AuditEvent.entity_id == str(submission.id))
            ).one()
            assert (event.actor, event.action, event.before) == (
                "cli-test",
                "measurements.import",
                None,
            )
            assert event.after == {
                "file": "values.csv",
                "sha256": body["sha256"],
                "inserted": 0,
                "restated": 1,
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        "postgresql://app:secret@db.example:5433/lanportfolj",
        "postgresql://localhost/x",
    ],
)
def test_the_shared_counter_key_is_the_engines(url: str) -> None:
    from lanportfolj.config import load_settings

    engine = make_engine(load_settings(environ={}, database_url=url))
    try:
        assert shared_key(url) == url_key(engine)
    finally:
        engine.dispose()
