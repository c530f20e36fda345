"""Benchmark: 100 000 measurement rows through ``import_file`` (CSV and XLSX) on SQLite, against the floor
of a bare polars read of the same CSV plus one bulk insert of the same rows (``lanportfolj.db.bulk_insert``).

``import_file`` does everything a borrower's upload needs (encoding and separator detection, header mapping,
every row checked against the loan's rules, planning inserts/restatements against stored values, the
submission with its bytes, the audit event); the floor does only the read and the insert. Each run happens in
a fresh child process on its own copy of the database, so the peak RSS printed is that run's own.

Usage: .venv/bin/python bench/bench_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import io
import multiprocessing as mp
import resource
import shutil
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


def _child(target: Any, *args: Any) -> tuple[float, int, float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get(timeout=1800)
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.db"
        t0 = time.perf_counter()
        rows = build_database(base, args.rows)
        csv_bytes, xlsx_bytes = to_csv(rows), to_xlsx(rows)
        print(
            f"setup: {len(rows)} rows over {len(rows) // len(YEARS) // INDICATORS_PER_LOAN} loans "
            f"in {time.perf_counter() - t0:.1f} s; CSV {len(csv_bytes) / 1e6:.1f} MB, "
            f"XLSX {len(xlsx_bytes) / 1e6:.1f} MB"
        )
        figures: dict[str, tuple[float, int, float]] = {}
        for label, target, extra in (
            ("floor: polars read + bulk insert", run_floor, (csv_bytes,)),
            ("import_file CSV", run_import, ("bench.csv", csv_bytes)),
            ("import_file XLSX", run_import, ("bench.xlsx", xlsx_bytes)),
        ):
            copy = Path(folder) / f"{len(figures)}.db"
            shutil.copy(base, copy)
            figures[label] = _child(target, str(copy), *extra)
        floor = figures["floor: polars read + bulk insert"][0]
        print(
            f"{'run':34} {'rows':>8} {'seconds':>8} {'rows/s':>10} {'× floor':>8} {'peak RSS':>9}"
        )
        for label, (seconds, inserted, rss) in figures.items():
            print(
                f"{label:34} {inserted:>8} {seconds:>8.2f} {inserted / seconds:>10.0f} "
                f"{seconds / floor:>8.2f} {rss:>7.0f} MB"
            )


if __name__ == "__main__":
    main()
