"""Benchmark: pages and the import API under load, served the production way (``lanportfolj serve
--workers N``) on a synthetic portfolio, from a bounded load generator on loopback.

For each endpoint and 1, 10 and 50 concurrent clients it prints p50, p95, p99 (ms) and requests per second,
and the ratio of p95 to the same figure for ``/health`` measured in the same run (the floor: the same stack,
no work). It also prints the CPU time per request of the server's processes and of the load generator itself,
so a reader can tell a slow server from a saturated machine. Peak RSS of the server's processes is printed
at the end. Traffic goes to 127.0.0.1 only; every loop is bounded by a request count and a time limit.

The load generator is deliberately lean: one keep-alive HTTP/1.1 connection per client, an asyncio protocol
(on uvloop when installed) that counts response bytes instead of keeping them, requests pre-encoded once. An
HTTP client library in the same process cost more CPU per request than the health check it measured, on two
cores shared with the server.

Usage: .venv/bin/python bench/bench_http.py [--loans 10000] [--requests 400] [--workers 2]
           [--folder DIR (kept; a database built there earlier is reused)] [--only health,loan page]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

BIN = Path(sys.executable).parent
ANALYST = ("analys@demo.lanportfolj.se", "demo-lanportfolj")
TIME_LIMIT_S = 60.0
REQUEST_TIMEOUT_S = 30.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(BIN / "lanportfolj"), *args], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout


def _server_pids(pid: int) -> list[int]:
    """The server's process and its workers (uvicorn's supervisor forks one process per worker)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    return pids


def _rss_mib(pid: int) -> float:
    """Peak RSS of the server and its worker processes."""
    total = 0.0
    for p in _server_pids(pid):
        status = Path(f"/proc/{p}/status")
        if status.exists():
            m = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
            if m:
                total += int(m.group(1)) / 1024
    return total


def _server_cpu_s(pid: int) -> float:
    """User + system CPU seconds used so far by the server's processes."""
    total = 0
    for p in _server_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / CLK_TCK


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the load generator -------------------------------------------------------------------------------


def encode_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """One HTTP/1.1 request, keep-alive, ready to write as is."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection(asyncio.Protocol):
    """One keep-alive client connection. Response bodies are counted, not kept: a report page is
    megabytes, and assembling it in Python would cost the generator more than the server spends."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[tuple[int, bool]] | None = None
        self.head = bytearray()
        self.body_left: int | None = None  # None while reading the head
        self.chunks: bytearray | None = None  # a chunked body, parsed as it arrives (rare here)
        self.status = 0
        self.keep = True
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("the server closed the connection"))

    def send(self, request: bytes) -> asyncio.Future[tuple[int, bool]]:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.head.clear()
        self.body_left, self.chunks = None, None
        self.transport.write(request)
        return self.done

    def data_received(self, data: bytes) -> None:
        if self.body_left is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            rest = bytes(self.head[end + 4 :])
            self._parse_head(bytes(self.head[:end]))
            data = rest
        if self.chunks is not None:
            self.chunks += data
            self._parse_chunks()
            return
        assert self.body_left is not None
        self.body_left -= len(data)
        if self.body_left <= 0:
            self._finish()

    def _parse_head(self, head: bytes) -> None:
        status_line, _, header_block = head.partition(b"\r\n")
        self.status = int(status_line.split(b" ", 2)[1])
        self.keep = True
        length = 0
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                self.chunks = bytearray()
            elif name == b"connection" and b"close" in value.lower():
                self.keep = False
        self.body_left = length

    def _parse_chunks(self) -> None:
        assert self.chunks is not None
        while True:
            line_end = self.chunks.find(b"\r\n")
            if line_end < 0:
                return
            size = int(bytes(self.chunks[:line_end]).split(b";")[0], 16)
            if len(self.chunks) < line_end + 2 + size + 2:
                return
            del self.chunks[: line_end + 2 + size + 2]
            if size == 0:
                self._finish()
                return

    def _finish(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result((self.status, self.keep))


@dataclass
class LoadResult:
    latencies_ms: list[float]
    seconds: float
    errors: int


async def _load(port: int, request: bytes, clients: int, requests: int) -> LoadResult:
    """``requests`` requests from ``clients`` concurrent keep-alive connections (or until the time limit)."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0
    remaining = requests
    started = time.perf_counter()

    async def client() -> None:
        nonlocal errors, remaining
        connection: _Connection | None = None
        while remaining > 0 and time.perf_counter() - started < TIME_LIMIT_S:
            remaining -= 1
            t0 = time.perf_counter()
            failed = True
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    if connection is None or connection.closed:
                        _, connection = await loop.create_connection(_Connection, "127.0.0.1", port)
                    status, keep = await connection.send(request)
                failed = status >= 400
                if not keep:
                    connection.transport.close()  # type: ignore[union-attr]
                    connection = None
            except (OSError, TimeoutError, ValueError):
                # a time-out counts as an error, and its wait as its latency; start a new connection
                if connection is not None and connection.transport is not None:
                    connection.transport.close()
                connection = None
            latencies.append((time.perf_counter() - t0) * 1000)
            errors += failed
        if connection is not None and connection.transport is not None:
            connection.transport.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return LoadResult(latencies, time.perf_counter() - started, errors)


def _run_loop(coro: object) -> LoadResult:
    try:
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _multipart(
    fields: dict[str, str], name: str, filename: str, content: bytes
) -> tuple[str, bytes]:
    boundary = "benchboundary7d3f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


# --- set-up -------------------------------------------------------------------------------------------


def _prepare(
    env: dict[str, str], folder: Path, loans: int, report_date: str
) -> tuple[str, str, float]:
    """(token, synthetic bond's ISIN, seconds to publish its report); reuses a database built earlier."""
    ready = folder / "ready"
    if ready.exists():
        token, isin, publish_s = ready.read_text().split()
        return token, isin, float(publish_s)
    _run(env, "db", "upgrade")
    _run(env, "demo", "load")
    _run(env, "demo", "synth", "--loans", str(loans), "--years", "10")
    token = _run(env, "tokens", "create", ANALYST[0]).strip().split()[-1]
    # the report page serves a published (frozen) report: publish the synthetic bond's first
    bonds = _run(env, "bonds", "list", "--json")
    # the synthetic bond (its ISIN starts XS) holds the whole synthetic pool
    isin = next(i for i in re.findall(r'"isin": "([A-Z0-9]+)"', bonds) if i.startswith("XS"))
    started = time.perf_counter()
    _run(env, "report", "publish", isin, "--date", report_date, "--yes")
    publish_s = time.perf_counter() - started
    ready.write_text(f"{token} {isin} {publish_s:.1f}\n")
    return token, isin, publish_s


def _sign_in(base: str) -> str:
    """Signs the analyst in; the Cookie header their browser would send."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/login", timeout=30).read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"email": ANALYST[0], "password": ANALYST[1], "next": "/", "_csrf_token": csrf}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/login", data=form), timeout=30).read()
    assert any(c.name == "lanportfolj_session" for c in jar), "sign-in failed"
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--report-date", default="2025-12-31")
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--folder", help="keep the database here and reuse it on the next run")
    parser.add_argument("--only", help="comma-separated endpoint names (default: all)")
    args = parser.parse_args()
    client_counts = [int(c) for c in args.clients.split(",")]

    folder = Path(args.folder) if args.folder else Path(tempfile.mkdtemp(prefix="bench-http-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["LANPORTFOLJ_DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
    env["LANPORTFOLJ_SECRET_KEY"] = "bench-" + "0" * 58
    # plain HTTP on loopback (production sits behind a TLS proxy): cookies without the Secure flag
    env["LANPORTFOLJ_DEVELOPMENT"] = "true"
    token, isin, publish_s = _prepare(env, folder, args.loans, args.report_date)

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
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        cookie = _sign_in(base)
        # what a browser sends: it takes gzip (the report page is served gzipped then; the generator
        # counts the bytes as they come and does not unpack them)
        browser = {"Cookie": cookie, "Accept": "text/html", "Accept-Encoding": "gzip, deflate"}
        csv = b"loan,indicator,year,value\nSH-2023-001,dwellings_renovated,2024,431\n"
        content_type, form = _multipart({"dry_run": "true"}, "file", "bench.csv", csv)
        endpoints = [
            ("health", encode_request("GET", "/health", {})),
            ("loan page", encode_request("GET", "/loans/SH-2023-001", browser)),
            ("loan list", encode_request("GET", "/", browser)),
            ("report page", encode_request("GET", f"/reports/{isin}/{args.report_date}", browser)),
            (
                "import API (dry run)",
                encode_request(
                    "POST",
                    "/api/imports",
                    {"Authorization": f"Bearer {token}", "Content-Type": content_type},
                    form,
                ),
            ),
        ]
        if args.only:
            wanted = {w.strip() for w in args.only.split(",")}
            endpoints = [e for e in endpoints if e[0] in wanted or e[0] == "health"]
        floor: dict[int, float] = {}
        print(
            f"server: lanportfolj serve --workers {args.workers}; {args.loans} synthetic loans + demo; "
            f"SQLite; {os.cpu_count()} CPUs shared with this load generator"
        )
        print(
            f"publishing the {args.loans}-loan bond's report took {publish_s:.1f} s (CLI, end to end)"
        )
        print(
            f"{'endpoint':22} {'clients':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} "
            f"{'p95/health':>10} {'errors':>6} {'server CPU ms/req':>17} {'generator CPU ms/req':>20}"
        )
        for name, request in endpoints:
            # the first request may fill a cache (a report rendered once for all workers): shown apart
            first = _run_loop(_load(port, request, 1, 1))
            print(
                f"{name:22} first request: {first.latencies_ms[0]:.0f} ms"
                + (" (error)" if first.errors else ""),
                flush=True,
            )
            for clients in client_counts:
                server_before, own_before = _server_cpu_s(server.pid), _own_cpu_s()
                result = _run_loop(_load(port, request, clients, args.requests))
                server_cpu = _server_cpu_s(server.pid) - server_before
                own_cpu = _own_cpu_s() - own_before
                lat = result.latencies_ms
                p95 = _pct(lat, 0.95)
                if name == "health":
                    floor[clients] = p95
                done = len(lat)
                print(
                    f"{name:22} {clients:>7} {statistics.median(lat):>8.1f} {p95:>8.1f} "
                    f"{_pct(lat, 0.99):>8.1f} {done / result.seconds:>7.0f} "
                    f"{p95 / floor.get(clients, p95):>10.1f} {result.errors:>6} "
                    f"{server_cpu * 1000 / done:>17.1f} {own_cpu * 1000 / done:>20.2f}",
                    flush=True,
                )
        print(f"server peak RSS MiB (all processes): {_rss_mib(server.pid):.0f}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        if not args.folder:
            shutil.rmtree(folder, ignore_errors=True)  # a 10 000-loan database is ~350 MB


if __name__ == "__main__":
    main()
