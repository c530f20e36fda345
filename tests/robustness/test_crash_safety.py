"""Crash safety: the real ``lanportfolj serve`` is killed (SIGKILL) in the middle of large imports, restarted,
and the database must hold every import wholly or not at all, with nothing dangling and nothing corrupt.

Each import is 20 000 rows for the demo's loan indicators and years, under comparison-unit names shared by
every run, with values that differ per run: the first import that lands inserts, every later one restates all
its rows. The first import is let through to time one; the others are killed at spread-out fractions of that.
Then ``lanportfolj report publish`` runs in a subprocess for a new reporting date each time and is killed the
same way: a report is afterwards either published whole (its frozen data matching its SHA-256) or not at all.
The test prints the faults injected and the rows lost (acknowledged by a 200 yet missing afterwards).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from lanportfolj.config import Settings
from lanportfolj.db import make_engine, session_scope
from lanportfolj.services import users
from lanportfolj.services.measurements import build_context

# slow: `.ci/run` runs it as a step of its own; `make test` leaves it out
pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 20_000
CURRENT_YEAR = 2026
#: Fractions of a whole import's duration at which the server is killed.
KILL_AT = (0.15, 0.35, 0.55, 0.75, 0.9, 1.05)
#: Fractions of a whole ``report publish`` run (mostly start-up) at which the command is killed.
PUBLISH_KILL_AT = (0.5, 0.65, 0.8, 0.9)
CLI = [sys.executable, "-c", "from lanportfolj.cli import app; app()"]
ANALYST = "analys@demo.lanportfolj.se"


@dataclass(frozen=True)
class Slot:
    loan: str
    indicator: str
    year: int
    group: str
    base: Decimal


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _slots(settings: Settings, runs: int) -> list[Slot]:
    """20 000 (loan, indicator, year, unit) places whose value can change ``runs`` times in range."""
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            context, _ = build_context(db, settings=settings, current_year=CURRENT_YEAR)
    finally:
        engine.dispose()
    places: list[tuple[str, str, int, Decimal]] = []
    for (loan, code), rule in sorted(context.rules.items()):
        low = rule.min_value if rule.min_value is not None else Decimal(0)
        if rule.max_value is not None and rule.max_value - low < runs + 5:
            continue  # too narrow a range to hold a different value per run
        first = rule.baseline_year or CURRENT_YEAR - 5
        for year in range(first, CURRENT_YEAR + 1):
            places.append((loan, code, year, low))
    assert places, "the demo has no loan indicators to report"
    slots: list[Slot] = []
    unit = 0
    while len(slots) < ROWS:
        unit += 1
        for loan, code, year, low in places:
            base = low + (unit + year) % 3
            slots.append(Slot(loan, code, year, f"Krasch-enhet {unit}", base))
            if len(slots) == ROWS:
                break
    return slots


def _csv(slots: list[Slot], run: int) -> bytes:
    lines = ["loan,indicator,year,group,value"]
    lines += [f"{s.loan},{s.indicator},{s.year},{s.group},{s.base + run}" for s in slots]
    return ("\n".join(lines) + "\n").encode()


class Server:
    """``lanportfolj serve`` in a subprocess of its own, killed or stopped by its process id."""

    def __init__(self, settings: Settings, port: int, log: Path) -> None:
        self.settings = settings
        self.port = port
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "LANPORTFOLJ_SECRET_KEY": self.settings.secret_key,
        }
        command = [*CLI, "--database-url", self.settings.database_url, "serve"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _token(settings: Settings) -> str:
    engine = make_engine(settings)
    try:
        with session_scope(engine) as db:
            users.ensure_demo_users(db)
    finally:
        engine.dispose()
    made = subprocess.run(
        [*CLI, "--database-url", settings.database_url, "tokens", "create", ANALYST],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return made.stdout.strip().splitlines()[-1]


def _post(server: Server, token: str, name: str, data: bytes, outcome: dict[str, Any]) -> None:
    try:
        response = httpx.post(
            f"{server.url}/api/imports",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (name, data, "text/csv")},
            timeout=60,
        )
        outcome["status"] = response.status_code
        outcome["body"] = response.json()
    except httpx.HTTPError as exc:
        outcome["error"] = type(exc).__name__


def _publish_with_faults(settings: Settings) -> tuple[int, dict[date, int]]:
    """``report publish`` for a new date each run, killed mid-way after the first; (faults, exit codes)."""
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            isin = conn.execute(text("SELECT isin FROM social_bond ORDER BY id")).scalars().first()
    finally:
        engine.dispose()
    assert isin, "the demo has no bond"
    codes: dict[date, int] = {}
    faults = 0
    durations: list[float] = []
    # two whole runs first: the shorter is the yardstick (the first also warms the file caches)
    for run in range(2 + len(PUBLISH_KILL_AT)):
        when = date(CURRENT_YEAR, 1, 31) + timedelta(days=run)
        command = [*CLI, "--database-url", settings.database_url, "report", "publish", isin]
        command += ["--date", when.isoformat(), "--yes"]
        t0 = time.monotonic()
        proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        if run < 2:
            codes[when] = proc.wait(timeout=60)
            durations.append(time.monotonic() - t0)
            assert codes[when] == 0, "a publish without faults should succeed"
            continue
        try:
            codes[when] = proc.wait(timeout=min(durations) * PUBLISH_KILL_AT[run - 2])
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            codes[when] = proc.wait(timeout=10)
            faults += 1
    return faults, codes


def _check_reports(settings: Settings, codes: dict[date, int]) -> int:
    """Published reports are whole; returns how many acknowledged publications are missing."""
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, reporting_date, status, sha256 FROM report")).all()
            pieces = conn.execute(
                text("SELECT report_id, content FROM report_chunk ORDER BY report_id, seq")
            ).all()
    finally:
        engine.dispose()
    stored: dict[int, bytes] = {}
    for report_id, content in pieces:
        stored[report_id] = stored.get(report_id, b"") + bytes(content)
    published: set[str] = set()
    rows = [
        (when, status, stored.get(report_id), digest) for report_id, when, status, digest in rows
    ]
    for reporting_date, status, frozen, digest in rows:
        if status == "published":
            assert frozen and digest, f"{reporting_date}: published without frozen data"
            assert hashlib.sha256(frozen).hexdigest() == digest
            published.add(str(reporting_date))
        else:
            assert frozen is None, f"{reporting_date}: a draft holding frozen data"
    assert len(published) == len([r for r in rows if r[1] == "published"])
    return sum(1 for when, code in codes.items() if code == 0 and when.isoformat() not in published)


def _check_database(settings: Settings, sent: dict[str, int]) -> dict[str, Any]:
    """Every invariant after the faults; returns what landed per file name."""
    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
                assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            dangling = conn.execute(
                text(
                    "SELECT count(*) FROM measurement m LEFT JOIN submission s"
                    " ON s.id = m.submission_id"
                    " WHERE m.submission_id IS NOT NULL AND s.id IS NULL"
                )
            ).scalar()
            assert dangling == 0, f"{dangling} measurements point at a missing submission"
            not_one_current = conn.execute(
                text(
                    "SELECT loan_indicator_id, group_name, year,"
                    " sum(CASE WHEN is_current THEN 1 ELSE 0 END) AS c FROM measurement"
                    " GROUP BY loan_indicator_id, group_name, year"
                    " HAVING sum(CASE WHEN is_current THEN 1 ELSE 0 END) <> 1"
                )
            ).all()
            assert not_one_current == [], not_one_current[:5]
            gaps = conn.execute(
                text(
                    "SELECT loan_indicator_id, group_name, year FROM measurement"
                    " GROUP BY loan_indicator_id, group_name, year"
                    " HAVING count(*) <> max(version) OR min(version) <> 1"
                )
            ).all()
            assert gaps == [], f"versions with gaps or repeats: {gaps[:5]}"
            submissions = conn.execute(
                text(
                    "SELECT s.id, s.filename, s.rows_accepted, s.inserted, s.restated,"
                    " (SELECT count(*) FROM measurement m WHERE m.submission_id = s.id)"
                    " FROM submission s"
                )
            ).all()
    finally:
        engine.dispose()
    landed: dict[str, Any] = {}
    for _sid, filename, accepted, inserted, restated, stored in submissions:
        # wholly there: every value the submission says it wrote is stored, and nothing more
        assert stored == inserted + restated, (filename, stored, inserted, restated)
        if filename in sent:
            assert accepted == sent[filename] == stored, (filename, accepted, stored)
            assert filename not in landed, f"{filename} stored twice"
            landed[filename] = stored
    return landed


def test_sigkill_during_imports_loses_nothing_acknowledged(demo_settings, tmp_path, figures):
    started = time.monotonic()
    # publishing first, on the demo as it is: the imports' 20 000-row comparison units would only make
    # each report slower to compute
    publish_faults, codes = _publish_with_faults(demo_settings)
    publications_lost = _check_reports(demo_settings, codes)
    published = time.monotonic()
    runs = 1 + len(KILL_AT)
    slots = _slots(demo_settings, runs)
    token = _token(demo_settings)
    server = Server(demo_settings, _free_port(), tmp_path / "serve.log")
    sent: dict[str, int] = {}
    acknowledged: set[str] = set()
    faults = 0
    try:
        server.start()
        for run in range(runs):
            name = f"krasch-{run}.csv"
            data = _csv(slots, run)
            sent[name] = len(slots)
            outcome: dict[str, Any] = {}
            t0 = time.monotonic()
            worker = threading.Thread(target=_post, args=(server, token, name, data, outcome))
            worker.start()
            if run == 0:
                worker.join(timeout=60)
                whole = time.monotonic() - t0
                assert outcome.get("status") == 200, outcome
            else:
                time.sleep(whole * KILL_AT[run - 1])
                server.kill()
                faults += 1
                worker.join(timeout=30)
                server.start()
            if outcome.get("status") == 200:
                acknowledged.add(name)
            assert outcome.get("status") in (None, 200), outcome
        # the restarted server still answers, reads and writes
        health = httpx.get(f"{server.url}/health", timeout=5)
        assert health.status_code == 200
    finally:
        server.stop()

    imported = time.monotonic()
    landed = _check_database(demo_settings, sent)
    lost = sum(sent[name] for name in acknowledged if name not in landed)
    absent = [name for name in sent if name not in landed]
    figures(
        f"crash safety: {publish_faults} SIGKILLs during {len(codes)} report publications, "
        f"{sum(c == 0 for c in codes.values())} acknowledged, lost: {publications_lost}; "
        f"{faults} SIGKILLs during {runs} imports of {ROWS} rows, "
        f"{len(landed)} landed whole, {len(absent)} wholly absent, "
        f"{len(acknowledged)} acknowledged, rows lost: {lost}; "
        f"{time.monotonic() - started:.1f} s (publishing {published - started:.1f} s, "
        f"imports {imported - published:.1f} s, checks {time.monotonic() - imported:.1f} s)"
    )
    assert lost == 0
    assert publications_lost == 0
    assert publish_faults >= 2, "the publish runs ended before the faults"
    assert "krasch-0.csv" in landed
    assert faults == len(KILL_AT)
