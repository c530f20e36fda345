"""Issue 14 item 5 end to end: a zip bomb, the row cap, the capped problem list, the private pending folder
and hostile file names, through the web page, the API and the CLI."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient
from shell_world import csrf, signed_in
from sqlmodel import Session, func, select
from typer.testing import CliRunner

import zip_bombs
from lanportfolj.cli import app as cli_app
from lanportfolj.config import Settings
from lanportfolj.db import make_engine, session_scope
from lanportfolj.models import Loan, Measurement, Submission, UserAccount
from lanportfolj.services import pending_uploads, users

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
PASSWORD = "correct horse battery"
OWN = "SH-2023-001"
MB = 1024 * 1024
#: The file name the brief names: a euro sign, a Swedish letter and a bell (control character).
HOSTILE_NAME = "värden€\x07.csv"
SAFE_NAME = "värden€.csv"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1 GiB of sheet XML that both ZIP headers declare as 4 kB (built once, ~3 MB on disk)."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    path.write_bytes(zip_bombs.zip_bomb(real_bytes=1024**3, declared=4096))
    return path


def _world(settings: Settings):
    from lanportfolj.web.app import create_app

    engine = make_engine(settings)
    with session_scope(engine) as db:
        own = db.exec(select(Loan.borrower_id).where(Loan.reference == OWN)).one()
        users.create_user(
            db, email="b@own.example", role="borrower", password=PASSWORD, borrower_id=own
        )
        users.create_user(db, email="a@lender.example", role="analyst", password=PASSWORD)
    return create_app(settings, engine=engine), engine


@pytest.fixture
def world(demo_settings: Settings, tmp_path: Path):
    settings = replace(demo_settings, pending_uploads_dir=str(tmp_path / "data" / "pending"))
    app, engine = _world(settings)
    yield app, engine, settings
    engine.dispose()


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as db:
        return (
            db.exec(select(func.count()).select_from(Measurement)).one(),
            db.exec(select(func.count()).select_from(Submission)).one(),
        )


def _web_upload(client: TestClient, name: str, data: bytes, lang: str = "en"):
    return client.post(
        f"/imports?lang={lang}",
        files={"file": (name, data, "application/octet-stream")},
        data={"_csrf_token": csrf(client)},
    )


def _api_upload(client: TestClient, name: str, data: bytes, lang: str = "en"):
    return client.post(
        f"/api/imports?lang={lang}",
        files={"file": (name, data)},
        headers={"x-csrftoken": csrf(client)},
    )


def _cli(settings: Settings, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(
        cli_app, ["--database-url", settings.database_url, *args], env=env or {}
    )


def _bad_rows(count: int) -> bytes:
    # one problem per row: distinct groups keep the rows from being duplicates of each other
    lines = ["loan,indicator,year,value,group"] + [
        f"{OWN},dwellings_renovated,2025,many{n},g{n}" for n in range(count)
    ]
    return "\n".join(lines).encode()


# --- the zip bomb ---------------------------------------------------------------------------------


def test_zip_bomb_is_refused_on_the_web_page_and_in_the_api(world, bomb: Path) -> None:
    app, engine, _ = world
    client = signed_in(app, "b@own.example")
    before = _counts(engine)
    data = bomb.read_bytes()

    page = _web_upload(client, "bomb.xlsx", data)
    assert page.status_code == 422
    assert "The XLSX file bomb.xlsx unpacks to more than 50 MB; at most 50 MB is allowed" in (
        page.text
    )
    swedish = _web_upload(client, "bomb.xlsx", data, lang="sv")
    assert "XLSX-filen bomb.xlsx packas upp till mer än 50 MB; högst 50 MB tillåts" in swedish.text

    api = _api_upload(client, "bomb.xlsx", data)
    assert api.status_code == 422
    body = api.json()
    assert body["accepted"] is False
    assert [(e["code"], e["file"]) for e in body["errors"]] == [("zip-bomb", "bomb.xlsx")]
    assert "at most 50 MB" in body["errors"][0]["message"]
    assert _counts(engine) == before


def test_zip_bomb_is_refused_by_the_cli(demo_settings: Settings, bomb: Path) -> None:
    result = _cli(demo_settings, "import", str(bomb), "--json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert [e["code"] for e in body["errors"]] == ["zip-bomb"]
    assert "bomb.xlsx" in body["errors"][0]["message"]


#: Runs one command and prints its own peak RSS: ``RUSAGE_CHILDREN`` of a process with one child is that
#: child's figure, not the running maximum of every child this test session has had.
_MEASURE = """
import json, resource, subprocess, sys
run = subprocess.run(sys.argv[1:], capture_output=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": run.returncode, "peak_kib": peak, "stdout": run.stdout.decode()}))
"""


def _peak_rss_kib(settings: Settings, *args: str) -> tuple[int, int, str]:
    """(exit code, peak RSS in KiB, stdout) of ``lanportfolj import …`` in a process of its own."""
    command = [sys.executable, "-c", "from lanportfolj.cli import app; app()"]
    command += ["--database-url", settings.database_url, "import", *args]
    env = {**os.environ, "COLUMNS": "200"}
    measured = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        capture_output=True,
        env=env,
        timeout=600,
        check=True,
    )
    result = json.loads(measured.stdout)
    return result["code"], result["peak_kib"], result["stdout"]


def test_zip_bomb_costs_the_cli_process_less_than_100_mb(
    demo_settings: Settings, bomb: Path, record_property: pytest.RecordProperty
) -> None:
    small = str(FIXTURES / "good_libreoffice_template.xlsx")
    code, normal_peak, _ = _peak_rss_kib(demo_settings, small, "--dry-run", "--json")
    assert code == 0
    code, bomb_peak, output = _peak_rss_kib(demo_settings, str(bomb), "--json")
    assert code == 1
    assert json.loads(output)["errors"][0]["code"] == "zip-bomb"
    growth_mib = (bomb_peak - normal_peak) / 1024
    record_property("normal_import_peak_mib", round(normal_peak / 1024, 1))
    record_property("zip_bomb_import_peak_mib", round(bomb_peak / 1024, 1))
    print(
        f"\npeak RSS: small import {normal_peak / 1024:.1f} MiB, "
        f"1 GiB zip bomb {bomb_peak / 1024:.1f} MiB, growth {growth_mib:+.1f} MiB"
    )
    assert growth_mib < 100


# --- the row cap ----------------------------------------------------------------------------------


def _rows(count: int) -> bytes:
    lines = ["loan,indicator,year,value,group"] + [
        f"{OWN},perceived_safety_share,2025,{n % 100},g{n}" for n in range(count)
    ]
    return "\n".join(lines).encode()


def test_a_file_over_the_row_cap_is_refused_and_nothing_is_stored(
    demo_settings: Settings, tmp_path: Path
) -> None:
    settings = replace(demo_settings, max_import_rows=50)
    app, engine = _world(settings)
    try:
        client = signed_in(app, "a@lender.example")
        before = _counts(engine)
        over = _api_upload(client, "many.csv", _rows(51))
        assert over.status_code == 422
        assert [e["code"] for e in over.json()["errors"]] == ["too-many-rows"]
        assert "at most 50 are allowed" in over.json()["errors"][0]["message"]
        page = _web_upload(client, "many.csv", _rows(51), lang="sv")
        assert page.status_code == 422 and "högst 50 tillåts" in page.text
        assert _counts(engine) == before
        assert _api_upload(client, "enough.csv", _rows(50)).status_code == 200
    finally:
        engine.dispose()

    path = tmp_path / "many.csv"
    path.write_bytes(_rows(51))
    before = _counts_for(demo_settings)
    refused = _cli(demo_settings, "import", str(path), env={"LANPORTFOLJ_MAX_IMPORT_ROWS": "50"})
    assert refused.exit_code == 1 and "too-many-rows" in refused.stdout
    assert _counts_for(demo_settings) == before


def _counts_for(settings: Settings) -> tuple[int, int]:
    engine = make_engine(settings)
    try:
        return _counts(engine)
    finally:
        engine.dispose()


# --- the capped problem list ----------------------------------------------------------------------


def test_5000_bad_rows_give_1000_problems_and_and_4000_more_everywhere(
    world, tmp_path: Path
) -> None:
    app, _, settings = world
    client = signed_in(app, "b@own.example")
    data = _bad_rows(5_000)

    api = _api_upload(client, "bad.csv", data)
    assert api.status_code == 422
    body = api.json()
    assert len(body["errors"]) == 1_000 and body["more_errors"] == 4_000
    assert body["more_errors_text"] == "… and 4 000 more"
    assert body["errors"][0]["row"] == 2 and body["errors"][-1]["row"] == 1_001
    assert _api_upload(client, "bad.csv", data, lang="sv").json()["more_errors_text"] == (
        "… och 4 000 till"
    )

    page = _web_upload(client, "bad.csv", data)
    assert page.status_code == 422
    table = page.text.split('data-testid="error-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 1_000  # the header row and the first thousand problems
    assert '<p data-testid="more-errors">… and 4 000 more</p>' in page.text
    assert "5000 problems to fix" in page.text

    path = tmp_path / "bad.csv"
    path.write_bytes(data)
    as_json = _cli(settings, "import", str(path), "--json")
    assert as_json.exit_code == 1
    cli_body = json.loads(as_json.stdout)
    assert len(cli_body["errors"]) == 1_000 and cli_body["more_errors"] == 4_000
    plain = _cli(settings, "import", str(path))
    assert plain.exit_code == 1
    assert "rejected, 5000 problem(s)" in plain.stdout
    assert plain.stdout.rstrip().endswith("… and 4 000 more")


# --- the pending folder ---------------------------------------------------------------------------


def _filled_csv(value: int) -> bytes:
    return f"loan,indicator,year,value\n{OWN},dwellings_renovated,2025,{value}\n".encode()


def test_pending_uploads_wait_in_a_private_folder_under_unguessable_names(world) -> None:
    app, engine, settings = world
    client = signed_in(app, "b@own.example")
    data = _filled_csv(4242)
    first = _web_upload(client, "v.csv", data)
    second = _web_upload(client, "v.csv", data)
    keys = [re.search(r'name="upload" value="([^"]+)"', p.text).group(1) for p in (first, second)]

    root = Path(settings.pending_uploads_dir)
    with Session(engine) as db:
        user_id = db.exec(select(UserAccount.id).where(UserAccount.email == "b@own.example")).one()
    folder = root / str(user_id)
    for path in (root, folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    files = sorted(folder.iterdir())
    assert sorted(path.name for path in files) == sorted(keys)
    assert keys[0] != keys[1], "the same bytes twice get two names: a name tells nothing"
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes() == data
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", path.name)  # 256 random bits
        assert not re.fullmatch(r"[0-9a-f]{64}", path.name)  # not the content's hash

    digest = re.search(r'name="sha256" value="([0-9a-f]{64})"', first.text).group(1)
    # the key alone, or the key with another file's hash, stores nothing
    for wrong in ({"upload": keys[0], "sha256": "0" * 64}, {"upload": "x" * 43, "sha256": digest}):
        response = client.post(
            "/imports/confirm",
            data={**wrong, "filename": "v.csv", "_csrf_token": csrf(client)},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/imports"
    # another user cannot confirm this user's upload
    analyst = signed_in(app, "a@lender.example")
    before = _counts(engine)
    stolen = analyst.post(
        "/imports/confirm",
        data={
            "upload": keys[0],
            "sha256": digest,
            "filename": "v.csv",
            "_csrf_token": csrf(analyst),
        },
        follow_redirects=False,
    )
    assert stolen.headers["location"] == "/imports" and _counts(engine) == before
    stored = client.post(
        "/imports/confirm",
        data={
            "upload": keys[0],
            "sha256": digest,
            "filename": "v.csv",
            "_csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    assert re.fullmatch(r"/imports/\d+", stored.headers["location"])
    assert not (folder / keys[0]).exists(), "a stored upload no longer waits"


def test_the_pending_folder_defaults_to_the_data_directory(demo_settings: Settings) -> None:
    root = pending_uploads.root(demo_settings)
    if demo_settings.database_url.startswith("sqlite"):
        database = Path(demo_settings.database_url.removeprefix("sqlite:///"))
        assert root == database.resolve().parent / f"{database.name}.pending"
    folder = pending_uploads.user_folder(demo_settings, 7)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    folder.rmdir()


# --- hostile file names ---------------------------------------------------------------------------


def _multipart(name: str, data: bytes, fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart body with ``name`` as raw UTF-8 bytes (httpx would percent-escape the control
    character; a hand-made client need not)."""
    boundary = "lanportfoljboundary7f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_a_hostile_file_name_is_stored_sanitised_and_downloads_by_rfc_5987(world) -> None:
    app, engine, _ = world
    client = signed_in(app, "b@own.example")
    data = _filled_csv(777)
    body, content_type = _multipart(HOSTILE_NAME, data, {"_csrf_token": csrf(client)})
    preview = client.post("/imports?lang=en", content=body, headers={"content-type": content_type})
    assert preview.status_code == 200, preview.text
    assert f"<h1>{SAFE_NAME}</h1>" in preview.text
    key = re.search(r'name="upload" value="([^"]+)"', preview.text).group(1)
    digest = re.search(r'name="sha256" value="([0-9a-f]{64})"', preview.text).group(1)
    stored = client.post(
        "/imports/confirm",
        # the form's file name is the user's text too: it is sanitised again on the way in
        data={
            "upload": key,
            "sha256": digest,
            "filename": HOSTILE_NAME,
            "_csrf_token": csrf(client),
        },
        follow_redirects=False,
    )
    detail_url = stored.headers["location"]
    assert re.fullmatch(r"/imports/\d+", detail_url)
    with Session(engine) as db:
        names = db.exec(select(Submission.filename).order_by(Submission.id.desc())).first()
    assert names == SAFE_NAME

    download = client.get(detail_url + "/file")
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"varden.csv\"; filename*=UTF-8''v%C3%A4rden%E2%82%AC.csv"
    )

    # the API path stores the same sanitised name
    api_body, api_type = _multipart(HOSTILE_NAME, _filled_csv(778), {})
    api = client.post(
        "/api/imports",
        content=api_body,
        headers={"content-type": api_type, "x-csrftoken": csrf(client)},
    )
    assert api.status_code == 200, api.text
    assert api.json()["file"] == SAFE_NAME


def test_the_cli_stores_a_hostile_file_name_sanitised(demo_settings: Settings, tmp_path) -> None:
    path = tmp_path / HOSTILE_NAME
    path.write_bytes(_filled_csv(779))
    result = _cli(demo_settings, "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["file"] == SAFE_NAME
    engine = make_engine(demo_settings)
    try:
        with Session(engine) as db:
            stored = db.get(Submission, json.loads(result.stdout)["submission_id"])
            assert stored is not None and stored.filename == SAFE_NAME
    finally:
        engine.dispose()


def test_every_named_download_sends_an_ascii_header(world) -> None:
    app, _, _ = world
    client = signed_in(app, "a@lender.example")
    for url in (f"/loans/{OWN}/template.xlsx?lang=sv", f"/loans/{OWN}/template.csv?lang=en"):
        response = client.get(url)
        assert response.status_code == 200
        header = response.headers["content-disposition"]
        assert header.startswith('attachment; filename="') and header.isascii()


def test_an_accepted_files_warnings_are_stored_capped_with_the_count(world) -> None:
    app, engine, _ = world
    client = signed_in(app, "a@lender.example")
    # one value (near last year's: no plausibility warning) and 1 500 unfilled template rows: accepted,
    # with a warning per skipped row
    lines = ["loan,indicator,year,value,group", f"{OWN},dwellings_renovated,2025,987,"]
    lines += [f"{OWN},dwellings_renovated,2025,,g{n}" for n in range(1_500)]
    response = _api_upload(client, "mostly-empty.csv", "\n".join(lines).encode())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] is True and body["inserted"] + body["restated"] == 1
    assert len(body["errors"]) == 1_000 and body["more_errors"] == 500
    with Session(engine) as db:
        stored = db.get(Submission, body["submission_id"])
        assert stored is not None
        kept = stored.errors
    assert len(kept) == 1_001
    assert {entry["code"] for entry in kept[:-1]} == {"missing-value"}
    assert kept[-1] == {
        "code": "more-issues",
        "count": 500,
        "message_sv": "… och 500 till",
        "message_en": "… and 500 more",
    }
    page = client.get(f"/imports/{body['submission_id']}?lang=sv")
    assert page.status_code == 200
    notes = page.text.split('data-testid="submission-notes"')[1].split("</table>")[0]
    assert notes.count("<tr>") == 1 + 1_000 and "raden hoppas över" in notes
    assert '<p data-testid="more-notes">… och 500 till</p>' in page.text
