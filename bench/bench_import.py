"""Benchmark: 100 000 measurement rows through ``import_file`` (CSV and XLSX) on SQLite, against the floor
of a bare polars read of the same CSV plus one bulk insert of the same rows; and the import API's path (a dry
run of a one-row file) on a portfolio of 10 000 synthetic loans.

``import_file`` does everything a borrower's upload needs (encoding and separator detection, header mapping,
every row checked against the loan's rules, planning inserts/restatements against stored values, the
submission with its bytes, the audit event); the floor does only the read and the insert. Two floors are
timed: the reference of the target (a dict per row into ``lanportfolj.db.bulk_insert``, as since the start)
and the same read with the rows handed over as columns to ``bulk_insert_columns``, the insert path the import
uses. A re-import of the same rows with every other value changed times the planning against stored values
(half restated, half unchanged). Each run happens in a fresh child process on its own copy of the database, so the peak RSS printed is
that run's own.

The API part builds ``demo load`` + ``demo synth --loans 10000 --years 10`` with the CLI (about half a
minute; ``--folder`` keeps it for the next run) and times ``import_file(dry_run=True)`` of the one-row CSV
the HTTP benchmark posts, in process, with ``build_context`` for the whole portfolio as the figure before.

Usage: .venv/bin/python bench/bench_import.py [--rows 100000] [--parts import,api] [--folder DIR]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

INDICATORS_PER_LOAN = 4
FIRST_YEAR, LAST_YEAR = 2001, 2025  # baseline 2000, current year 2026
YEARS = list(range(FIRST_YEAR, LAST_YEAR + 1))
CURRENT_YEAR = 2026
TARGET_RATIO = 2.0
API_LOANS = 10_000
API_CALLS = 50
#: Milliseconds per one-row dry run at one client (in process, without HTTP).
API_TARGET_MS = 50
API_CSV = b"loan,indicator,year,value\nSH-2023-001,dwellings_renovated,2024,431\n"
BIN = Path(sys.executable).parent


def _settings(url: str) -> Any:
    from lanportfolj.config import load_settings

    # the bench file is larger than a borrower's yearly report: lift the upload limit for it
    return load_settings(environ={}, database_url=url, max_upload_bytes=200 * 1024 * 1024)


def build_database(path: Path, rows: int) -> list[tuple[str, str, int, int]]:
    """A migrated database with enough loans and indicators for ``rows`` values; returns the rows."""
    from sqlmodel import select

    from lanportfolj.db import make_engine, session_scope, upgrade
    from lanportfolj.library import load_library
    from lanportfolj.models import Borrower, IndicatorDefinition, Loan, LoanIndicator
    from lanportfolj.services.indicators import sync_library

    engine = make_engine(_settings(f"sqlite:///{path}"))
    upgrade(engine)
    per_loan = INDICATORS_PER_LOAN * len(YEARS)
    loans = -(-rows // per_loan)
    with session_scope(engine) as db:
        sync_library(db, load_library())
    with session_scope(engine) as db:
        # unbounded, non-integer indicators take any positive value the bench writes
        candidates = db.exec(
            select(IndicatorDefinition).where(
                IndicatorDefinition.loan_id == None,  # noqa: E711
                IndicatorDefinition.max_value == None,  # noqa: E711
            )
        ).all()
        chosen = [c for c in candidates if not c.integer][:INDICATORS_PER_LOAN]
        if len(chosen) < INDICATORS_PER_LOAN:
            chosen = list(candidates[:INDICATORS_PER_LOAN])
        borrower = Borrower(
            orgnr="212000-0142", name="Bench kommun", kind="municipality", member=True
        )
        db.add(borrower)
        db.flush()
        for n in range(loans):
            loan = Loan(
                reference=f"B-{n:05d}",
                borrower_id=borrower.id or 0,
                title=f"Bench loan {n}",
                amount=Decimal(1_000_000),
                status="active",
            )
            db.add(loan)
            db.flush()
            for ind in chosen:
                db.add(
                    LoanIndicator(
                        loan_id=loan.id or 0,
                        indicator_id=ind.id or 0,
                        baseline_value=Decimal(10),
                        baseline_year=2000,
                    )
                )
    engine.dispose()
    out: list[tuple[str, str, int, int]] = []
    for n in range(loans):
        for ind in chosen:
            for year in YEARS:
                out.append((f"B-{n:05d}", ind.code, year, 10 + (n + year) % 90))
                if len(out) == rows:
                    return out
    return out


def to_csv(rows: list[tuple[str, str, int, int]]) -> bytes:
    lines = ["loan,indicator,year,value"] + [f"{a},{b},{c},{d}" for a, b, c, d in rows]
    return ("\n".join(lines) + "\n").encode()


def to_xlsx(rows: list[tuple[str, str, int, int]]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": False})
    sheet = book.add_worksheet("Data")
    sheet.write_row(0, 0, ["loan", "indicator", "year", "value"])
    for i, (a, b, c, d) in enumerate(rows, start=1):
        sheet.write_string(i, 0, a)
        sheet.write_string(i, 1, b)
        sheet.write_number(i, 2, c)
        sheet.write_number(i, 3, d)
    book.close()
    return buffer.getvalue()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_import(db_path: str, name: str, data: bytes, queue: Any) -> None:
    from lanportfolj.db import make_engine, session_scope
    from lanportfolj.services.measurements import import_file

    settings = _settings(f"sqlite:///{db_path}")
    engine = make_engine(settings)
    start = time.perf_counter()
    with session_scope(engine) as db:
        result = import_file(
            session=db,
            settings=settings,
            filename=name,
            data=data,
            uploaded_by="bench",
            current_year=CURRENT_YEAR,
        )
    seconds = time.perf_counter() - start
    assert result.accepted, [e.to_dict() for e in result.errors[:5]]
    queue.put((seconds, result.inserted, _peak_rss_mb()))


def run_reimport(db_path: str, first: bytes, second: bytes, queue: Any) -> None:
    """Imports ``first`` (untimed), then times ``second``: the same rows, every other value changed."""
    from lanportfolj.db import make_engine, session_scope
    from lanportfolj.services.measurements import import_file

    settings = _settings(f"sqlite:///{db_path}")
    engine = make_engine(settings)
    results = []
    seconds = 0.0
    for name, data in (("first.csv", first), ("second.csv", second)):
        start = time.perf_counter()
        with session_scope(engine) as db:
            results.append(
                import_file(
                    session=db,
                    settings=settings,
                    filename=name,
                    data=data,
                    uploaded_by="bench",
                    current_year=CURRENT_YEAR,
                )
            )
        seconds = time.perf_counter() - start
    assert results[-1].accepted and results[-1].restated == results[-1].unchanged
    queue.put((seconds, results[-1].restated + results[-1].unchanged, _peak_rss_mb()))


def run_floor(db_path: str, data: bytes, queue: Any) -> None:
    import polars as pl
    from sqlmodel import col, select

    from lanportfolj.db import bulk_insert, make_engine, session_scope
    from lanportfolj.models import IndicatorDefinition, Loan, LoanIndicator, Measurement

    engine = make_engine(_settings(f"sqlite:///{db_path}"))
    start = time.perf_counter()
    frame = pl.read_csv(io.BytesIO(data), schema_overrides={"value": pl.String})
    with session_scope(engine) as db:
        ids = {
            (ref, code): li
            for li, ref, code in db.exec(
                select(LoanIndicator.id, Loan.reference, IndicatorDefinition.code)
                .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
                .join(
                    IndicatorDefinition,
                    col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id),
                )
            ).all()
        }
        now = datetime.now(UTC)
        rows = [
            {
                "loan_indicator_id": ids[(loan, code)],
                "group_name": "",
                "year": year,
                "value": Decimal(value),
                "estimated": False,
                "version": 1,
                "is_current": True,
                "source": "bench",
                "recorded_by": "bench",
                "recorded_at": now,
            }
            for loan, code, year, value in frame.iter_rows()
        ]
        inserted = bulk_insert(db, Measurement, rows)
    seconds = time.perf_counter() - start
    queue.put((seconds, inserted, _peak_rss_mb()))


def run_floor_columns(db_path: str, data: bytes, queue: Any) -> None:
    import polars as pl
    from sqlmodel import col, select

    from lanportfolj.db import bulk_insert_columns, make_engine, session_scope
    from lanportfolj.models import IndicatorDefinition, Loan, LoanIndicator, Measurement

    engine = make_engine(_settings(f"sqlite:///{db_path}"))
    start = time.perf_counter()
    frame = pl.read_csv(io.BytesIO(data), schema_overrides={"value": pl.String})
    with session_scope(engine) as db:
        found = db.exec(
            select(LoanIndicator.id, Loan.reference, IndicatorDefinition.code)
            .join(Loan, col(Loan.id) == col(LoanIndicator.loan_id))
            .join(
                IndicatorDefinition,
                col(IndicatorDefinition.id) == col(LoanIndicator.indicator_id),
            )
        ).all()
        ids = pl.DataFrame(
            {
                "li": [li for li, _, _ in found],
                "loan": [ref for _, ref, _ in found],
                "indicator": [code for _, _, code in found],
            }
        )
        frame = frame.join(ids, on=["loan", "indicator"], how="left", maintain_order="left")
        inserted = bulk_insert_columns(
            db,
            Measurement,
            {
                "loan_indicator_id": frame["li"].to_list(),
                "year": frame["year"].to_list(),
                "value": list(map(Decimal, frame["value"].to_list())),
            },
            constants={
                "group_name": "",
                "estimated": False,
                "version": 1,
                "is_current": True,
                "source": "bench",
                "recorded_by": "bench",
                "recorded_at": datetime.now(UTC),
            },
        )
    seconds = time.perf_counter() - start
    queue.put((seconds, inserted, _peak_rss_mb()))


def _child(target: Any, *args: Any) -> tuple[float, int, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get(timeout=1800)
    process.join()
    return result


def bench_import(rows_wanted: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.db"
        t0 = time.perf_counter()
        rows = build_database(base, rows_wanted)
        csv_bytes, xlsx_bytes = to_csv(rows), to_xlsx(rows)
        changed_csv = to_csv([(a, b, c, d + n % 2) for n, (a, b, c, d) in enumerate(rows)])
        print(
            f"setup: {len(rows)} rows over {len(rows) // len(YEARS) // INDICATORS_PER_LOAN} loans "
            f"in {time.perf_counter() - t0:.1f} s; CSV {len(csv_bytes) / 1e6:.1f} MB, "
            f"XLSX {len(xlsx_bytes) / 1e6:.1f} MB"
        )
        figures: dict[str, tuple[float, int, float]] = {}
        reference = "floor: polars read + bulk insert"
        columns = "floor, columns: + bulk_insert_columns"
        for label, target, extra in (
            (reference, run_floor, (csv_bytes,)),
            (columns, run_floor_columns, (csv_bytes,)),
            ("import_file CSV", run_import, ("bench.csv", csv_bytes)),
            ("import_file XLSX", run_import, ("bench.xlsx", xlsx_bytes)),
            ("re-import CSV, half restated", run_reimport, (csv_bytes, changed_csv)),
        ):
            copy = Path(folder) / f"{len(figures)}.db"
            shutil.copy(base, copy)
            figures[label] = _child(target, str(copy), *extra)
        floor = figures[reference][0]
        column_floor = figures[columns][0]
        print(
            f"{'run':38} {'rows':>8} {'seconds':>8} {'rows/s':>10} {'× floor':>8} "
            f"{'× col. floor':>12} {'peak RSS':>9}"
        )
        for label, (seconds, inserted, rss) in figures.items():
            print(
                f"{label:38} {inserted:>8} {seconds:>8.2f} {inserted / seconds:>10.0f} "
                f"{seconds / floor:>8.2f} {seconds / column_floor:>12.2f} {rss:>7.0f} MB"
            )
        for label in ("import_file CSV", "import_file XLSX"):
            ratio = figures[label][0] / floor
            mark = "✓" if ratio <= TARGET_RATIO else "✗"
            print(f"target {label}: ≤ {TARGET_RATIO:.0f}× floor: {ratio:.2f}× {mark}")


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(BIN / "lanportfolj"), *args], env=env, check=True, capture_output=True)


def api_database(folder: Path) -> str:
    """The demo plus 10 000 synthetic loans (12 indicators, 10 years each); built once per folder."""
    path = folder / "api.db"
    url = f"sqlite:///{path}"
    ready = folder / "api.ready"
    if ready.exists():
        return url
    path.unlink(missing_ok=True)
    env = {**os.environ, "LANPORTFOLJ_DATABASE_URL": url}
    t0 = time.perf_counter()
    _cli(env, "db", "upgrade")
    _cli(env, "demo", "load")
    _cli(env, "demo", "synth", "--loans", str(API_LOANS), "--years", "10")
    ready.write_text("ok\n")
    print(
        f"setup: demo + demo synth --loans {API_LOANS} --years 10 in {time.perf_counter() - t0:.1f} s"
    )
    return url


def _timed(call: Any, times: int) -> list[float]:
    out = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def bench_api(folder: Path) -> None:
    from lanportfolj.config import load_settings
    from lanportfolj.db import make_engine, session_scope
    from lanportfolj.services.measurements import build_context, import_file

    url = api_database(folder)
    settings = load_settings(environ={}, database_url=url)
    engine = make_engine(settings)

    def whole_context() -> None:
        with session_scope(engine) as db:
            build_context(db, settings=settings)

    def file_context() -> None:
        with session_scope(engine) as db:
            build_context(db, settings=settings, loans=["SH-2023-001"])

    def dry_run() -> None:
        with session_scope(engine) as db:
            result = import_file(
                session=db,
                settings=settings,
                filename="bench.csv",
                data=API_CSV,
                uploaded_by="bench",
                dry_run=True,
            )
        assert result.accepted, [e.to_dict() for e in result.errors]

    dry_run()  # warm: imports, the engine's pool, SQLite's page cache
    rows = [
        ("build_context, every loan (before)", _timed(whole_context, 5)),
        ("build_context, the file's loan", _timed(file_context, API_CALLS)),
        ("import_file dry run, 1-row CSV", _timed(dry_run, API_CALLS)),
    ]
    engine.dispose()
    print(f"import API path, {API_LOANS} synthetic loans + demo, SQLite, in process:")
    print(f"{'call':38} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, times in rows:
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"{label:38} {len(times):>4} {statistics.median(times):>8.1f} {p95:>8.1f} "
            f"{ordered[-1]:>8.1f}"
        )
    p50 = statistics.median(rows[2][1])
    mark = "✓" if p50 <= API_TARGET_MS else "✗"
    print(f"target dry run p50 ≤ {API_TARGET_MS} ms (tens of ms at 1 client): {p50:.1f} ms {mark}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--parts", default="import,api", help="import, api or both (default)")
    parser.add_argument("--folder", help="keep the 10 000-loan API database here and reuse it")
    args = parser.parse_args()
    parts = {part.strip() for part in args.parts.split(",")}
    if "import" in parts:
        bench_import(args.rows)
    if "api" in parts:
        if args.folder:
            folder = Path(args.folder)
            folder.mkdir(parents=True, exist_ok=True)
            bench_api(folder)
        else:
            with tempfile.TemporaryDirectory() as temporary:
                bench_api(Path(temporary))


if __name__ == "__main__":
    main()
