"""Benchmark: pages and the import API under load, served the production way (``lanportfolj serve
--workers N``) on a synthetic portfolio, from a bounded load generator on loopback.

For each endpoint and 1, 10 and 50 concurrent clients it prints p50, p95, p99 (ms) and requests per second,
and the ratio of p95 to the same figure for ``/health`` measured in the same run (the floor: the same stack,
no work). Peak RSS of the server's processes is printed at the end. Traffic goes to 127.0.0.1 only; every
loop is bounded by a request count and a time limit.

Usage: .venv/bin/python bench/bench_http.py [--loans 10000] [--requests 400] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
ANALYST = ("analys@demo.lanportfolj.se", "demo-lanportfolj")
TIME_LIMIT_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "lanportfolj"), *args], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


def _rss_mib(pid: int) -> float:
    """Peak RSS of the server and its worker processes."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            m = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            if m:
                total += int(m.group(1)) / 1024
    return total


async def _load(
    base: str,
    cookies: httpx.Cookies,
    headers: dict[str, str],
    method: str,
    path: str,
    clients: int,
    requests: int,
    body: dict | None,
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    errors = 0
    queue = list(range(requests))
    started = time.perf_counter()

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while queue and time.perf_counter() - started < TIME_LIMIT_S:
            queue.pop()
            t0 = time.perf_counter()
            try:
                if method == "GET":
                    r = await client.get(path)
                else:
                    r = await client.post(path, **(body or {}))
                failed = r.status_code >= 400
            except httpx.HTTPError:
                failed = True  # a time-out counts as an error, and its wait as its latency
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += failed

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, headers=headers, limits=limits, timeout=30
    ) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
    return latencies, time.perf_counter() - started, errors


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report-date", default="2025-12-31")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-http-"))
    env = dict(os.environ)
    env["LANPORTFOLJ_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
    env["LANPORTFOLJ_SECRET_KEY"] = "bench-" + "0" * 58
    # plain HTTP on loopback (production sits behind a TLS proxy): cookies without the Secure flag
    env["LANPORTFOLJ_DEVELOPMENT"] = "true"
    _run(env, "db", "upgrade")
    _run(env, "demo", "load")
    _run(env, "demo", "synth", "--loans", str(args.loans), "--years", "10")
    token = _run(env, "tokens", "create", ANALYST[0]).strip().split()[-1]
    # the report page serves a published (frozen) report: publish the synthetic bond's first
    bonds = _run(env, "bonds", "list", "--json")
    # the synthetic bond (its ISIN starts XS) holds the whole synthetic pool
    isin = next(i for i in re.findall(r'"isin": "([A-Z0-9]+)"', bonds) if i.startswith("XS"))
    started = time.perf_counter()
    _run(env, "report", "publish", isin, "--date", args.report_date, "--yes")
    publish_s = time.perf_counter() - started

    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "lanportfolj"), "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base) as c:
            c.get("/login")
            r = c.post(
                "/login",
                data={
                    "email": ANALYST[0],
                    "password": ANALYST[1],
                    "next": "/",
                    "_csrf_token": c.cookies.get("csrftoken", ""),
                },
            )
            assert r.status_code in (200, 302, 303), r.status_code
            cookies = c.cookies
        csv = b"loan,indicator,year,value\nSH-2023-001,dwellings_renovated,2024,431\n"
        endpoints = [
            ("health", "GET", "/health", {}, None),
            ("loan page", "GET", "/loans/SH-2023-001", {}, None),
            ("loan list", "GET", "/", {}, None),
            ("report page", "GET", f"/reports/{{isin}}/{args.report_date}", {}, None),
            (
                "import API (dry run)",
                "POST",
                "/api/imports",
                {"Authorization": f"Bearer {token}"},
                {"files": {"file": ("bench.csv", csv, "text/csv")}, "data": {"dry_run": "true"}},
            ),
        ]
        floor: dict[int, float] = {}
        print(
            f"server: lanportfolj serve --workers {args.workers}; {args.loans} synthetic loans + demo; SQLite"
        )
        print(
            f"publishing the {args.loans}-loan bond's report took {publish_s:.1f} s (CLI, end to end)"
        )
        print(
            f"{'endpoint':24} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'p95/health':>10} {'errors':>6}"
        )
        for name, method, path, headers, body in endpoints:
            path = path.replace("{isin}", isin)
            for clients in (1, 10, 50):
                lat, seconds, errors = asyncio.run(
                    _load(base, cookies, headers, method, path, clients, args.requests, body)
                )
                p95 = _pct(lat, 0.95)
                if name == "health":
                    floor[clients] = p95
                print(
                    f"{name:24} {clients:>7} {statistics.median(lat):>8.1f} {p95:>8.1f} {_pct(lat, 0.99):>8.1f} "
                    f"{len(lat) / seconds:>8.0f} {p95 / floor[clients]:>10.1f} {errors:>6}"
                )
        print(f"server peak RSS MiB (all processes): {_rss_mib(server.pid):.0f}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
