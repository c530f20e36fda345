"""Benchmark: the report commands as a user runs them, each a process timed by ``/usr/bin/time -v``.

    .venv/bin/python bench/bench_report_process.py [--loans 10000] [--years 10] [--indicators 12]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--db PATH] [--date 2025-12-31]

Makes a synthetic portfolio with ``lanportfolj demo synth`` into a fresh SQLite file (``--db PATH``
keeps it and, when it exists, reuses it: each run publishes into a copy, so the file stays a draft) or,
with ``--url``, into a PostgreSQL database of its own on that server (made, then dropped at the end).
Then it runs, in order, as processes (wall time, CPU time and peak resident memory of the process
and its children):

* ``lanportfolj --version``: the floor, what any command costs to start;
* ``report ISIN --date D --format json``, ``xlsx`` and ``html`` of the draft (nothing published);
* ``report publish ISIN --date D --yes``: everything the command does, pre-rendering the page in
  both languages included;
* ``report ISIN --date D --format json``, ``html`` and ``xlsx`` of the published report, and
  ``xlsx`` again (the first made the workbook once, for every process).

It prints a table with the targets of issue 15 (report ≤ 5 s at 10 000 loans and ≤ 10 s at 30 000;
publish ≤ 8 s and ≤ 20 s; peak RSS ≤ 1 GiB at 30 000) and the published JSON's SHA-256, which an
optimisation must leave unchanged. The machine has two cores shared with other work: figures taken
while it is loaded are slower, say so beside them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from lanportfolj.cli import app; app()"]
GIB_MIB = 1024


@dataclass
class Timed:
    label: str
    wall: float
    cpu: float
    rss_mib: float
    target: float | None

    def row(self) -> str:
        target = "" if self.target is None else f"≤ {self.target:4.0f} s"
        verdict = "" if self.target is None else ("ok" if self.wall <= self.target else "OVER")
        return (
            f"{self.label:<44}{self.wall:8.2f} s{self.cpu:8.2f} s{self.rss_mib:9.0f} MiB"
            f"  {target:<8} {verdict}"
        )


def _run(label: str, args: list[str], env: dict[str, str], target: float | None) -> Timed:
    """``args`` as a process under ``/usr/bin/time -v``; fails loudly with its output if it fails."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{label} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")

    def field(name: str) -> str:
        match = re.search(rf"^\s*{re.escape(name)}: (.+)$", done.stderr, re.MULTILINE)
        if match is None:
            raise SystemExit(f"/usr/bin/time printed no {name!r}:\n{done.stderr}")
        return match.group(1).strip()

    clock = [
        float(part) for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    ]
    wall = sum(value * 60**power for power, value in enumerate(reversed(clock)))
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    timed = Timed(label, wall, cpu, rss, target)
    print(timed.row(), flush=True)
    return timed


def _pg_database(url: str) -> tuple[str, str]:
    """A new database on the server of ``url``: (its URL, its name)."""
    name = f"lanportfolj_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def _drop_pg(url: str, name: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--indicators", type=int, default=12)
    parser.add_argument("--date", default="2025-12-31")
    parser.add_argument("--url", help="a PostgreSQL server URL (a database of its own is made)")
    parser.add_argument("--db", type=Path, help="SQLite file to keep (reused when it exists)")
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lanportfolj-bench-report-"))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    env["LANPORTFOLJ_RENDERED_DIR"] = str(work / "rendered")
    dropped: tuple[str, str] | None = None
    reuse = False
    if options.url:
        database_url, name = _pg_database(options.url)
        dropped = (options.url, name)
        where = f"PostgreSQL (database {name}, dropped afterwards)"
    else:
        kept = options.db or work / "bench.db"
        reuse = kept.exists()
        path = kept
        if reuse:  # a copy, so the kept file stays unpublished for the next run
            path = work / "run.db"
            shutil.copyfile(kept, path)
        database_url = f"sqlite:///{path.resolve()}"
        where = f"SQLite {kept}" + (" (reused, copied)" if reuse else "")
    env["LANPORTFOLJ_DATABASE_URL"] = database_url
    out = work / "out"
    large = options.loans >= 20_000
    report_target, publish_target = (10.0, 20.0) if large else (5.0, 8.0)
    print(
        f"{options.loans} loans × {options.indicators} indicators × {options.years} years, {where}"
    )
    try:
        subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True)
        if not reuse:
            synth = subprocess.run(
                [*CLI, "demo", "synth", "--loans", str(options.loans), "--years",
                 str(options.years), "--indicators", str(options.indicators), "--json"],
                env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            isin = json.loads(synth.stdout)["bond_isin"]
            if options.db and not options.url:
                shutil.copyfile(path, work / "run.db")  # the kept file stays unpublished
                env["LANPORTFOLJ_DATABASE_URL"] = f"sqlite:///{(work / 'run.db').resolve()}"
        else:
            listed = subprocess.run(
                [*CLI, "bonds", "list", "--json"], env=env, check=True, capture_output=True
            )
            bonds = json.loads(listed.stdout)
            # the synthetic bond (XS…), also in a file that has the demo's bond too
            isin = next((b["isin"] for b in bonds if b["isin"].startswith("XS")), bonds[-1]["isin"])
        day = ["--date", options.date]
        header = f"{'command':<44}{'wall':>10}{'cpu':>10}{'peak RSS':>13}  target"
        print(header)
        rows = [_run("lanportfolj --version (the floor)", [*CLI, "--version"], env, None)]
        for fmt in ("json", "xlsx", "html"):
            rows.append(
                _run(
                    f"report --format {fmt} (draft)",
                    [*CLI, "report", isin, *day, "--format", fmt, "--out", str(out / "draft")],
                    env,
                    report_target,
                )
            )
        rows.append(
            _run("report publish --yes", [*CLI, "report", "publish", isin, *day, "--yes"], env,
                 publish_target)
        )  # fmt: skip
        for label, fmt in (("json", "json"), ("html", "html"), ("xlsx", "xlsx"),
                           ("xlsx, again", "xlsx")):  # fmt: skip
            rows.append(
                _run(
                    f"report --format {label} (published)",
                    [*CLI, "report", isin, *day, "--format", fmt, "--out", str(out / "published")],
                    env,
                    report_target,
                )
            )
        published = out / "published" / f"{isin}-{options.date}.json"
        digest = hashlib.sha256(published.read_bytes()).hexdigest()
        print(f"published JSON: {published.stat().st_size / 1e6:.1f} MB, sha256 {digest}")
        draft = hashlib.sha256((out / "draft" / published.name).read_bytes()).hexdigest()
        # not the same bytes: the report carries its ``publication`` (draft / published, version)
        print(f"draft JSON of the same date: sha256 {draft} (its publication says draft)")
        page = next((work / "rendered").glob("*-en-*.html"))
        print(f"published page (en): {page.stat().st_size / 1e6:.1f} MB")
        peak = max(row.rss_mib for row in rows)
        verdict = "ok" if peak <= GIB_MIB else "OVER" if large else "(target is at 30 000 loans)"
        print(
            f"peak RSS of any command: {peak:.0f} MiB (≤ {GIB_MIB} MiB at 30 000 loans) {verdict}"
        )
    finally:
        if dropped is not None:
            _drop_pg(*dropped)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
