"""Rows per second for ``parse_file`` on a generated 100 000-row CSV and XLSX.

Run: ``.venv/bin/python bench/bench_ingest_parse.py [ROWS]``. The CSV figure must stay well over
50 000 rows/s (the yearly reports of a whole portfolio are far smaller; this guards against an
accidental per-row slow path).
"""

from __future__ import annotations

import io
import sys
import time
from decimal import Decimal

import xlsxwriter

from lanportfolj.ingest import IngestContext, LoanIndicatorRule, parse_file

CSV_TARGET_ROWS_PER_SECOND = 50_000
NBSP = "\u00a0"


def build_context(loans: int) -> IngestContext:
    """``loans`` loans, each following a count and a share, baseline 2000."""
    rules = {}
    for number in range(loans):
        loan = f"SH-2020-{number:03d}"
        rules[(loan, "dwellings_renovated")] = LoanIndicatorRule(
            loan, "dwellings_renovated", 2000, Decimal(0), None, True
        )
        rules[(loan, "perceived_safety_share")] = LoanIndicatorRule(
            loan, "perceived_safety_share", 2000, Decimal(0), Decimal(100), False
        )
    return IngestContext(
        known_loans=frozenset(loan for loan, _ in rules),
        known_indicators=frozenset({"dwellings_renovated", "perceived_safety_share"}),
        rules=rules,
        current_year=2026,
        max_bytes=200 * 1024 * 1024,
        max_uncompressed_bytes=1024 * 1024 * 1024,
    )


def _records(rows: int, loans: int) -> list[tuple[str, str, int, str, str, str]]:
    # Unique (loan, indicator, group, year) per row: groups make room for many rows per loan.
    records = []
    for index in range(rows):
        loan = f"SH-2020-{index % loans:03d}"
        count = (index // loans) % 2 == 0
        indicator = "dwellings_renovated" if count else "perceived_safety_share"
        year = 2000 + (index // (2 * loans)) % 27
        group = f"enhet {index // (2 * loans * 27)}"
        value = f"1{NBSP}{index % 1000:03d}" if count else f"{index % 100},5"
        records.append((loan, indicator, year, value, "ja" if index % 3 == 0 else "", group))
    return records


def make_csv(rows: int, loans: int) -> bytes:
    """A Swedish-Excel style CSV: ';', decimal comma, NBSP thousands, cp1252."""
    lines = ["Lån;Indikator;År;Värde;Uppskattat;Kommentar;Grupp"]
    for loan, indicator, year, value, estimated, group in _records(rows, loans):
        lines.append(f"{loan};{indicator};{year};{value};{estimated};;{group}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def make_xlsx(rows: int, loans: int) -> bytes:
    """The same rows as XLSX with numeric years and values."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = workbook.add_worksheet("Data")
    sheet.write_row(0, 0, ["loan", "indicator", "year", "value", "estimated", "comment", "group"])
    for offset, (loan, indicator, year, value, estimated, group) in enumerate(
        _records(rows, loans), start=1
    ):
        number = float(value.replace(NBSP, "").replace(",", "."))
        sheet.write_string(offset, 0, loan)
        sheet.write_string(offset, 1, indicator)
        sheet.write_number(offset, 2, year)
        sheet.write_number(offset, 3, number)
        if estimated:
            sheet.write_string(offset, 4, estimated)
        sheet.write_string(offset, 6, group)
    workbook.close()
    return buffer.getvalue()


def measure(name: str, data: bytes, context: IngestContext, rows: int) -> float:
    """Parse once to warm up, then time the best of three; print and return rows/s."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        result = parse_file(name, data, context)
        best = min(best, time.perf_counter() - started)
        if not result.ok or result.accepted.height != rows:
            raise SystemExit(f"{name}: expected {rows} clean rows, got {result.issues[:3]}")
    rate = rows / best
    print(
        f"{name:>10}: {rows} rows, {len(data) / 1e6:5.1f} MB, {best:6.3f} s, {rate:10,.0f} rows/s"
    )
    return rate


def main() -> None:
    """Generate the files, parse them and check the CSV target."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    loans = 40
    context = build_context(loans)
    csv_rate = measure("CSV", make_csv(rows, loans), context, rows)
    xlsx_rate = measure("XLSX", make_xlsx(rows, loans), context, rows)
    ratio = csv_rate / CSV_TARGET_ROWS_PER_SECOND
    print(f"CSV vs target {CSV_TARGET_ROWS_PER_SECOND:,} rows/s: {ratio:.1f}x")
    print(f"XLSX vs CSV: {xlsx_rate / csv_rate:.2f}x")
    if csv_rate < CSV_TARGET_ROWS_PER_SECOND:
        raise SystemExit("CSV parsing is below the target")


if __name__ == "__main__":
    main()
