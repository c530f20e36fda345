"""Benchmark: compute and render a bond report for a large synthetic pool.

    .venv/bin/python bench/bench_report.py [--loans 10000] [--indicators 12] [--years 10]

Prints the seconds for each step, the output sizes and the peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

from lanportfolj.reporting.excel import render_xlsx
from lanportfolj.reporting.html import render_html
from lanportfolj.reporting.json import render_json
from lanportfolj.reporting.model import compute_report, report_to_dict
from lanportfolj.reporting.synthetic import synthetic_inputs


def _timed(label: str, step: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = step()
    elapsed = time.perf_counter() - start
    size = f"  {len(result) / 1e6:8.1f} MB" if isinstance(result, (bytes, str)) else ""
    print(f"{label:<28}{elapsed:8.2f} s{size}", flush=True)
    return result


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--indicators", type=int, default=12)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args()

    inputs = _timed(
        "build synthetic inputs",
        lambda: synthetic_inputs(loans=args.loans, indicators=args.indicators, years=args.years),
    )
    print(f"{'measurements':<28}{inputs.measurements.height:8d} rows")
    total = time.perf_counter()
    model = _timed("compute_report", lambda: compute_report(inputs))
    data = _timed("report_to_dict", lambda: report_to_dict(model))
    _timed("render_json", lambda: render_json(data))
    _timed("render_xlsx", lambda: render_xlsx(data))
    _timed(
        "render_html (plotly by url)",
        lambda: render_html(data, plotly_js="url:/static/plotly.min.js"),
    )
    print(f"{'total compute + render':<28}{time.perf_counter() - total:8.2f} s")
    print(f"{'peak RSS':<28}{_peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
