"""Gzip for pages, JSON and CSV when the client accepts it (issue 18 item 9).

An ASGI wrapper outside ``SecurityMiddleware``: that middleware reads an HTML page's inline scripts to write
its Content-Security-Policy, so it must see the page before it is compressed (Litestar's own
``compression_config`` works per route, inside it, and would hand it gzip). Responses that already carry a
``Content-Encoding`` (the static files, gzipped once: ``web.static_files``), binary types (XLSX is a zip
already), bodies under ``MINIMUM_SIZE`` and HEAD requests pass unchanged. A streamed body is compressed
as it streams.
"""

from __future__ import annotations

import zlib
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 500
#: gzip level for responses made per request: a 77 kB loan page is 12 kB at level 1 (0.3 ms) and 10 kB at 5 (0.5 ms)
LEVEL = 1
COMPRESSIBLE = (
    "text/html",
    "text/csv",
    "text/plain",
    "text/css",
    "application/json",
    "application/problem+json",
    "application/javascript",
    "image/svg+xml",
)


def accepts_gzip(scope: Scope) -> bool:
    """True when the request's Accept-Encoding takes gzip (and does not refuse it with q=0)."""
    for key, value in scope.get("headers", []):
        if key.lower() != b"accept-encoding":
            continue
        for part in value.decode("latin-1").split(","):
            coding, _, params = part.strip().partition(";")
            if coding.strip().lower() in ("gzip", "*"):
                q = params.replace(" ", "").lower().removeprefix("q=")
                try:
                    return not params or float(q) > 0
                except ValueError:
                    return True
    return False


class GzipMiddleware:
    """Compresses compressible responses for clients that accept gzip."""

    def __init__(
        self, app: ASGIApp, *, minimum_size: int = MINIMUM_SIZE, level: int = LEVEL
    ) -> None:
        self.app = app
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "HEAD" or not accepts_gzip(scope):
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] | None = None
        compressor: Any = None
        passthrough = False

        async def send_compressed(message: Message) -> None:
            nonlocal start, compressor, passthrough
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                kind = (headers.get("content-type") or "").split(";")[0].strip().lower()
                status = int(message["status"])
                passthrough = (
                    "content-encoding" in headers
                    or kind not in COMPRESSIBLE
                    or status < 200
                    or status in (204, 304)
                )
                if passthrough:
                    await send(message)
                else:
                    start = dict(message)
                return
            if message["type"] != "http.response.body" or passthrough or start is None:
                await send(message)
                return
            body: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if compressor is None:
                headers = MutableScopeHeaders(start)
                if not more and len(body) < self.minimum_size:
                    await send(start)  # type: ignore[arg-type]
                    await send(message)
                    start = None
                    return
                compressor = zlib.compressobj(self.level, zlib.DEFLATED, 31)
                headers["Content-Encoding"] = "gzip"
                headers.extend_header_value("vary", "Accept-Encoding")
                if "etag" in headers:
                    # another representation: a weak tag, so a cache never mixes the two
                    etag = headers["etag"]
                    headers["ETag"] = etag if etag.startswith("W/") else f"W/{etag}"
                if more:
                    del headers["content-length"]
                    await send(start)  # type: ignore[arg-type]
                else:
                    compressed = compressor.compress(body) + compressor.flush()
                    headers["Content-Length"] = str(len(compressed))
                    await send(start)  # type: ignore[arg-type]
                    await send(
                        {"type": "http.response.body", "body": compressed, "more_body": False}
                    )
                    start = None
                    return
            # a streamed part goes out now (progress shown as it comes), not when zlib's buffer fills
            chunk = compressor.compress(body) + compressor.flush(
                zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH
            )
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

        await self.app(scope, receive, send_compressed)
