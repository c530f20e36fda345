"""Many simultaneous requests on a real server: none may wait forever for a database connection.

A regression test: when the per-request session was a sync generator, its clean-up queued behind the handlers
on the same thread pool and the server deadlocked at about 30 concurrent requests until the pool timed out.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter

import httpx
import pytest

from lanportfolj.db import make_engine
from lanportfolj.web.app import create_app

# slow: `.ci/run` runs it as a step of its own; `make test` leaves it out
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_eighty_concurrent_requests_all_answer(settings):
    import uvicorn

    engine = make_engine(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)

    async def burst() -> Counter[object]:
        limits = httpx.Limits(max_connections=80, max_keepalive_connections=80)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=15, limits=limits
        ) as client:

            async def one(path: str) -> object:
                try:
                    return (await client.get(path)).status_code
                except httpx.HTTPError as exc:
                    return type(exc).__name__

            paths = ["/health", "/login"] * 120
            return Counter(await asyncio.gather(*(one(p) for p in paths)))

    try:
        outcome = asyncio.run(burst())
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
    assert outcome == Counter({200: 240})
