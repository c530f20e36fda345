"""Benchmark: write the synthetic national-scale portfolio (issue 8: 10 000 loans × 12 indicators × 10 years
in under a minute on SQLite), against a reference in the same run: the same measurement rows written with
plain sqlite3 executemany into an identical table — the floor for any ORM-based writer.

Usage: .venv/bin/python bench/bench_synth.py [--loans 10000] [--years 10]
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from lanportfolj.config import Settings
from lanportfolj.db import make_engine, session_scope, upgrade
from lanportfolj.library import load_library
from lanportfolj.services.indicators import sync_library
from lanportfolj.services.synth import synthesise


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    settings = Settings(database_url=f"sqlite:///{folder / 'synth.db'}")
    engine = make_engine(settings)
    upgrade(engine)
    library = load_library()
    with session_scope(engine) as session:
        sync_library(session, library)
    started = time.perf_counter()
    with session_scope(engine) as session:
        summary = synthesise(
            session=session, library=library, loans=args.loans, years=args.years, seed=1
        )
    seconds = time.perf_counter() - started

    # reference: the same rows, straight from sqlite3
    src = sqlite3.connect(folder / "synth.db")
    rows = src.execute(
        "SELECT loan_indicator_id, group_name, year, value, estimated, version, is_current, source, "
        "recorded_by, recorded_at FROM measurement"
    ).fetchall()
    src.close()
    ref = sqlite3.connect(folder / "reference.db")
    ref.execute("PRAGMA journal_mode=WAL")
    ref.execute(
        "CREATE TABLE measurement (id INTEGER PRIMARY KEY, loan_indicator_id INT, group_name TEXT, year INT, "
        "value TEXT, estimated INT, version INT, is_current INT, source TEXT, recorded_by TEXT, recorded_at TEXT)"
    )
    started = time.perf_counter()
    with ref:
        ref.executemany(
            "INSERT INTO measurement (loan_indicator_id, group_name, year, value, estimated, version, "
            "is_current, source, recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    reference = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"synth: {summary.loans} loans, {summary.loan_indicators} loan indicators, {summary.measurements} values"
    )
    print(f"synth seconds: {seconds:.1f} (target < 60)")
    print(f"synth rows/s: {summary.measurements / seconds:,.0f}")
    print(f"reference (bare sqlite3 executemany of the measurement rows) seconds: {reference:.1f}")
    print(
        f"ratio synth / reference: {seconds / reference:.1f}x (synth also generates the data and writes loans)"
    )
    print(f"peak RSS MiB: {peak_mib:,.0f}")


if __name__ == "__main__":
    main()
