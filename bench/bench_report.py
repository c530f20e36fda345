"""Benchmark: compute and render a bond report for a large synthetic pool.

    .venv/bin/python bench/bench_report.py [--loans 10000] [--indicators 12] [--years 10]
        [--formats json,xlsx,html]

``--formats`` renders only those formats (compute and the dict always run), so a profile of one step
at a smaller size takes under a minute::

    .venv/bin/python -m pyinstrument -r text -o /tmp/p.txt bench/bench_report.py --loans 2000 \
        --formats xlsx

Prints the seconds for each step, the output sizes, each format's end-to-end time (compute + dict +
that one rendering, what a request for one download costs) and the peak resident memory. The
aggregation's ratio to the same aggregation as one DuckDB SQL query is ``bench/bench_aggregation.py``.
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


def _timed(label: str, step: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = step()
    elapsed = time.perf_counter() - start
    size = f"  {len(result) / 1e6:8.1f} MB" if isinstance(result, (bytes, str)) else ""
    print(f"{label:<28}{elapsed:8.2f} s{size}", flush=True)
    return result, elapsed


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
    parser.add_argument(
        "--formats",
        default="json,xlsx,html",
        help="comma-separated formats to render (json, xlsx, html)",
    )
    args = parser.parse_args()

    inputs, _ = _timed(
        "build synthetic inputs",
        lambda: synthetic_inputs(loans=args.loans, indicators=args.indicators, years=args.years),
    )
    print(f"{'measurements':<28}{inputs.measurements.height:8d} rows")
    total = time.perf_counter()
    model, compute_s = _timed("compute_report", lambda: compute_report(inputs))
    data, dict_s = _timed("report_to_dict", lambda: report_to_dict(model))
    steps: dict[str, tuple[str, Callable[[], Any]]] = {
        "json": ("render_json", lambda: render_json(data)),
        "xlsx": ("render_xlsx", lambda: render_xlsx(data)),
        "html": (
            "render_html (plotly by url)",
            lambda: render_html(data, plotly_js="url:/static/plotly.min.js"),
        ),
    }
    wanted = [fmt.strip() for fmt in args.formats.split(",") if fmt.strip()]
    unknown = sorted(set(wanted) - set(steps))
    if unknown:
        parser.error(f"unknown formats: {', '.join(unknown)}")
    renders = {fmt: _timed(*steps[fmt])[1] for fmt in wanted}
    print(f"{'total compute + render':<28}{time.perf_counter() - total:8.2f} s")
    for fmt, seconds in renders.items():
        label = f"end-to-end {fmt}"
        print(f"{label:<28}{compute_s + dict_s + seconds:8.2f} s   (target ≤ 5 s)")
    print(f"{'peak RSS':<28}{_peak_rss_mb():8.0f} MB")


if __name__ == "__main__":
    main()
