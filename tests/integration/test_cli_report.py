"""``lanportfolj report`` and ``lanportfolj report publish``: files, paths printed, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from lanportfolj.cli import app
from lanportfolj.db import make_engine
from lanportfolj.models import Report
from lanportfolj.services import rendered_reports

pytestmark = pytest.mark.integration

ISIN = "SE0021150208"
DAY = "2025-12-31"


def _run(settings, *args: str, stdin: str | None = None):
    return CliRunner().invoke(
        app,
        ["--database-url", settings.database_url, *args],
        input=stdin,
        env={"LANPORTFOLJ_RENDERED_DIR": settings.rendered_dir},
    )


def _reports(settings) -> list[Report]:
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            return list(db.exec(select(Report)).all())
    finally:
        engine.dispose()


def test_report_writes_the_draft_files_and_prints_their_paths(demo_settings, tmp_path) -> None:
    result = _run(demo_settings, "report", ISIN, "--date", DAY, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    paths = [Path(line) for line in result.stdout.splitlines() if line.strip()]
    assert [p.name for p in paths] == [f"{ISIN}-{DAY}.{ext}" for ext in ("html", "xlsx", "json")]
    data = json.loads(paths[2].read_bytes())
    assert data["bond"]["isin"] == ISIN and data["report_date"] == DAY
    assert paths[0].read_text().startswith("<!DOCTYPE html>")
    book = openpyxl.load_workbook(paths[1], read_only=True)
    assert len(book.sheetnames) >= 6
    assert _reports(demo_settings) == []  # a draft stores nothing


def test_publish_then_report_writes_the_published_bytes(demo_settings, tmp_path) -> None:
    refused = _run(demo_settings, "report", "publish", ISIN, "--date", DAY, stdin="n\n")
    assert refused.exit_code == 1 and _reports(demo_settings) == []
    done = _run(demo_settings, "report", "publish", ISIN, "--date", DAY, "--yes")
    assert done.exit_code == 0, done.output
    [report] = _reports(demo_settings)
    assert report.status == "published" and report.sha256 in done.stdout

    out = _run(
        demo_settings, "report", ISIN, "--date", DAY, "--format", "json", "--out", str(tmp_path)
    )
    assert out.exit_code == 0, out.output
    written = Path(out.stdout.strip()).read_bytes()
    assert hashlib.sha256(written).hexdigest() == report.sha256

    # the web page was rendered by the publish, in both languages, for every worker to serve
    for lang in ("sv", "en"):
        page = rendered_reports.rendered(
            demo_settings, report.sha256, "html", lang, lambda: pytest.fail("rendered again")
        )
        assert page.startswith(b"<!DOCTYPE html>") and ISIN.encode() in page
        # and what a request needs beside it: the page's script hashes and its gzipped bytes
        for kind in ("csp", "gz"):
            made = rendered_reports.derived(
                demo_settings,
                report.sha256,
                "html",
                lang,
                kind,
                lambda kind=kind: pytest.fail(f"{kind} made again"),
            )
            assert made

    again = _run(demo_settings, "report", "publish", ISIN, "--date", DAY, "--yes")
    assert again.exit_code == 1
    assert "already published" in again.output
    assert len(_reports(demo_settings)) == 1


def test_rejected_input_exits_1_and_usage_errors_exit_2(demo_settings, tmp_path) -> None:
    tmp_path = tmp_path / "out"
    unknown = _run(demo_settings, "report", "SE0000000000", "--date", DAY, "--out", str(tmp_path))
    assert unknown.exit_code == 1 and "No bond SE0000000000" in unknown.output
    bad_date = _run(demo_settings, "report", ISIN, "--date", "2025-02-30", "--out", str(tmp_path))
    assert bad_date.exit_code == 1 and "Not a date" in bad_date.output
    bad_rate = _run(
        demo_settings, "report", "publish", ISIN, "--date", DAY, "--fx-rate", "11.5", "--yes"
    )
    assert bad_rate.exit_code == 1 and "The bond is in SEK" in bad_rate.output
    bad_format = _run(demo_settings, "report", ISIN, "--date", DAY, "--format", "docx")
    assert bad_format.exit_code == 2
    assert "pdf and/or register-csv" in " ".join(bad_format.output.split())
    assert not tmp_path.exists() and _reports(demo_settings) == []
