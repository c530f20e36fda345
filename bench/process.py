"""Benchmark: the commands a user runs, as processes, end to end (issue 15 item 1).

Every figure is one real ``lanportfolj ...`` process under ``/usr/bin/time -v``: wall time, CPU time (user +
system) and peak RSS (the largest of the process and its children). ``lanportfolj --version`` is the floor
(the interpreter and the CLI's own start), measured in the same run. The portfolio is ``demo load`` plus
``demo synth --loans N --years 10``, built with the CLI in a temporary folder (SQLite) or in a database this
script creates on the server ``--url`` names and drops at the end (PostgreSQL).

The import is a 10 000-row CSV (``loan,indicator,year,value``) built from the synthetic portfolio: each row
restates a loan indicator's 2025 value with its stored 2024 value, so every row is checked and written.
After ``report publish`` the published report is written again as JSON and its SHA-256 printed: the same
inputs (loans, seed, date) must give the same bytes. The import is timed after the report commands, so the
report never holds its submission (whose time differs from run to run).

``--pages`` also serves the database with ``lanportfolj serve --workers 2`` and times the loan page, the start
page and the published report page at 50 clients over loopback (p50/p95 ms), with ``/health`` as the floor;
the load generator is ``bench_http.py``'s.

Usage: .venv/bin/python bench/process.py [--loans 10000] [--url postgresql+psycopg://postgres@127.0.0.1:5432]
           [--skip-reports] [--pages] [--requests 400]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
REPORT_DATE = "2025-12-31"
IMPORT_ROWS = 10_000


@dataclass(frozen=True)
class Run:
    label: str
    wall_s: float
    cpu_s: float
    rss_mib: float
    exit_code: int


def _time_v(env: dict[str, str], args: list[str], cwd: Path) -> tuple[Run, str]:
    """One process under ``/usr/bin/time -v``; its figures and its stdout."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        done = subprocess.run(
            ["/usr/bin/time", "-v", "-o", report.name, str(BIN / "lanportfolj"), *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
        )
        text = Path(report.name).read_text()

    def field(name: str) -> str:
        match = re.search(rf"{re.escape(name)}: (.+)", text)
        return match.group(1).strip() if match else "0"

    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    label = "lanportfolj " + " ".join(a for a in args if not a.startswith(str(cwd)))
    if done.returncode != 0:
        print(
            f"  ! {label} exited {done.returncode}: {done.stderr.strip()[-400:]}", file=sys.stderr
        )
    return Run(label, wall, cpu, rss, done.returncode), done.stdout


def _cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [str(BIN / "lanportfolj"), *args], env=env, capture_output=True, text=True, check=True
    ).stdout


@contextmanager
def _database(url: str | None, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in ``folder``, or one made on the server ``url`` and dropped after."""
    if not url:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    import psycopg

    name = f"bench_process_{uuid.uuid4().hex[:8]}"
    server = url.rstrip("/").rsplit("/", 1)[0] if url.count("/") > 2 else url
    admin = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _import_file(database_url: str, target: Path) -> int:
    """The 10 000-row CSV: 2025 values restated with the stored 2024 value of the same loan indicator."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    query = text(
        "SELECT l.reference, d.code, m.value FROM measurement m "
        "JOIN loan_indicator li ON li.id = m.loan_indicator_id "
        "JOIN loan l ON l.id = li.loan_id JOIN indicator_definition d ON d.id = li.indicator_id "
        "WHERE m.year = 2024 AND m.is_current AND m.group_name = '' "
        "AND NOT m.history ORDER BY l.id, d.code LIMIT :n"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"n": IMPORT_ROWS}).all()
    engine.dispose()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["loan", "indicator", "year", "value"])
    for reference, code, value in rows:
        writer.writerow([reference, code, 2025, value])
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return len(rows)


def _pages(env: dict[str, str], isin: str, requests: int) -> list[str]:
    """p50/p95 at 50 clients for /health, the loan, start and published report pages (serve --workers 2)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import bench_http

    port = bench_http._free_port()
    server = subprocess.Popen(
        [str(BIN / "lanportfolj"), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    lines = []
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        cookie = bench_http._sign_in(base)
        browser = {"Cookie": cookie, "Accept": "text/html", "Accept-Encoding": "gzip"}
        pages = [
            ("/health (floor)", bench_http.encode_request("GET", "/health", {})),
            ("loan page", bench_http.encode_request("GET", "/loans/SH-2023-001", browser)),
            ("start page", bench_http.encode_request("GET", "/", browser)),
            (
                "published report page",
                bench_http.encode_request("GET", f"/reports/{isin}/{REPORT_DATE}", browser),
            ),
        ]
        for name, request in pages:
            # fills the caches of both workers (several connections reach both), as a browsing day has
            bench_http._run_loop(bench_http._load(port, request, 8, 32))
            result = bench_http._run_loop(bench_http._load(port, request, 50, requests))
            lat = result.latencies_ms
            lines.append(
                f"| {name} | {bench_http._pct(lat, 0.5):.1f} | {bench_http._pct(lat, 0.95):.1f} "
                f"| {len(lat) / result.seconds:.0f} | {result.errors} |"
            )
        lines.append(f"server peak RSS (all processes): {bench_http._rss_mib(server.pid):.0f} MiB")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--url", help="a PostgreSQL server; a database is made there and dropped")
    parser.add_argument(
        "--skip-reports",
        action="store_true",
        help="leave out the report commands (with --pages the report is still published, untimed)",
    )
    parser.add_argument(
        "--pages", action="store_true", help="also time the pages (serve --workers 2)"
    )
    parser.add_argument("--requests", type=int, default=400, help="requests per page at 50 clients")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-process-"))
    try:
        with _database(args.url, folder) as database_url:
            env = dict(os.environ)
            env["LANPORTFOLJ_DATABASE_URL"] = database_url
            env["LANPORTFOLJ_SECRET_KEY"] = "bench-" + "0" * 58
            env["LANPORTFOLJ_DEVELOPMENT"] = "true"
            kind = "PostgreSQL" if args.url else "SQLite"
            started = time.perf_counter()
            _cli(env, "db", "upgrade")
            _cli(env, "demo", "load")
            synth, _ = _time_v(
                env, ["demo", "synth", "--loans", str(args.loans), "--years", "10"], folder
            )
            bonds = json.loads(_cli(env, "bonds", "list", "--json"))
            isin = next(b["isin"] for b in bonds if b["isin"].startswith("XS"))
            rows = _import_file(database_url, folder / "values.csv")
            print(
                f"{kind}, {args.loans} synthetic loans × 10 years + the demo; portfolio built in "
                f"{time.perf_counter() - started:.0f} s; {os.cpu_count()} CPUs, load average "
                f"{os.getloadavg()[0]:.1f} at the start (shared machine: figures are noisy)"
            )
            runs = [synth]
            for command in (
                ["--version"],
                ["--help"],
                ["bonds", "list", "--json"],
                ["loans", "list", "--json"],
            ):
                runs.append(_time_v(env, command, folder)[0])
            digest = ""
            if args.skip_reports and args.pages:
                # the published report page needs a published report
                _cli(env, "report", "publish", isin, "--date", REPORT_DATE, "--yes")
            if not args.skip_reports:
                out = folder / "out"
                for fmt in ("json", "xlsx", "html"):
                    runs.append(
                        _time_v(
                            env,
                            [
                                "report",
                                isin,
                                "--date",
                                REPORT_DATE,
                                "--format",
                                fmt,
                                "--out",
                                str(out),
                            ],
                            folder,
                        )[0]
                    )
                runs.append(
                    _time_v(
                        env, ["report", "publish", isin, "--date", REPORT_DATE, "--yes"], folder
                    )[0]
                )
                published = folder / "published"
                _cli(
                    env,
                    "report",
                    isin,
                    "--date",
                    REPORT_DATE,
                    "--format",
                    "json",
                    "--out",
                    str(published),
                )
                for path in sorted(published.glob("*.json")):
                    digest = f"{path.name} SHA-256 {hashlib.sha256(path.read_bytes()).hexdigest()}"
            # the import comes after the report: its submission's time would otherwise be in the
            # published JSON, whose SHA-256 must be the same for the same inputs on every run
            imported = _time_v(env, ["import", str(folder / "values.csv"), "--json"], folder)[0]
            runs.append(
                Run(
                    f"lanportfolj import values.csv --json ({rows} rows)",
                    *list(vars(imported).values())[1:],
                )
            )
            floor = next(r for r in runs if r.label.endswith("--version"))
            print(
                f"\n| command ({kind}, {args.loans} loans) | wall s | CPU s | peak RSS MiB | × floor (wall) |"
            )
            print("|---|---|---|---|---|")
            for r in runs:
                failed = "" if r.exit_code == 0 else f" (exit {r.exit_code})"
                print(
                    f"| `{r.label}`{failed} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.rss_mib:.0f} "
                    f"| {r.wall_s / max(floor.wall_s, 0.01):.1f} |"
                )
            if digest:
                print(f"\npublished report: {digest}")
            if args.pages:
                print(
                    f"\n| page ({kind}, serve --workers 2, 50 clients) | p50 ms | p95 ms | req/s | errors |"
                )
                print("|---|---|---|---|---|")
                for line in _pages(env, isin, args.requests):
                    print(line, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
