"""Security headers on every response, and an early refusal of oversized or malformed requests.

**Content-Security-Policy.** No inline script runs except the charts' figure calls, whose text depends on the
figure's data and so differs per response. Two ways exist to allow them:

- a *nonce*: every piece of code that emits a figure would have to stamp the request's nonce into its HTML,
  and a forgotten one silently breaks its chart;
- a *hash*, computed here over the finished page: no emitter changes, every page covered at once.

Hashing whatever script a page happens to contain would also allow an injected one, so only a script that is
*provably* a figure call is hashed: its text must be exactly the one form every chart is emitted in
(``reporting.script_json.figure_call``: ``Plotly.newPlot("<generated id>",...[…]);``) and the arguments must
parse as JSON — data, which cannot run. Anything else inline (an injected ``<script>alert(1)</script>``, an
``onerror=`` attribute, plotly.py's own ``window.PLOTLYENV`` wrapper, which nothing emits any more) gets no
hash and the browser refuses it. The inline full plotly.js library (the stand-alone report file's mode) is
allowed by the hash of the library text that ships with plotly.

**Framing.** No page may be framed (``frame-ancestors 'none'``, ``X-Frame-Options: DENY``) except the
bond reports under ``/reports/``, which the draft page shows in an ``<iframe>`` of its own: those may be
framed by this site only (``'self'``, ``SAMEORIGIN``), never by another.

``style-src`` keeps ``'unsafe-inline'``: plotly's HTML carries ``style=`` attributes and plotly.js writes
``<style>`` elements at run time. Inline style cannot run code; script is what the policy guards.

**Request bodies.** A request whose ``Content-Length`` exceeds the limit is answered 413 before a byte of its
body is read (Litestar's per-route limits still cut off a chunked body as it streams); a ``Content-Length``
that is not one whole number, or a multipart body without a boundary, is answered 400. The answer is JSON
(``{"status_code", "detail"}``) for the API and a short page otherwise, in the request's language.
"""

from __future__ import annotations

import html
import json
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lanportfolj.config import Settings
from lanportfolj.reporting import script_json
from lanportfolj.web.i18n import language_for

#: Room for the multipart framing and the form fields around the largest accepted file.
MULTIPART_OVERHEAD = 64 * 1024

#: Headers every response carries (the CSP is added per response: its hashes depend on the page).
STATIC_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    # our URLs name loans and submissions: never tell another site where a user came from
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

MESSAGES: dict[str, dict[str, str]] = {
    "too-large": {
        "sv": "Förfrågan är för stor: högst {limit} byte tas emot. Dela upp filen.",
        "en": "The request is too large: at most {limit} bytes are accepted. Split the file.",
    },
    "bad-length": {
        "sv": "Förfrågans Content-Length är inte ett enda heltal.",
        "en": "The request's Content-Length is not one whole number.",
    },
    "no-boundary": {
        "sv": "En multipart-förfrågan behöver en boundary i sin Content-Type.",
        "en": "A multipart request needs a boundary in its Content-Type.",
    },
}
TITLES = {
    400: {"sv": "Förfrågan kunde inte läsas", "en": "The request could not be read"},
    413: {"sv": "Förfrågan är för stor", "en": "The request is too large"},
}


def body_limit(settings: Settings) -> int:
    """The largest request body accepted: the largest import file plus its multipart framing."""
    return settings.max_upload_bytes + MULTIPART_OVERHEAD


def csp_hash(script_text: str) -> str:
    """The CSP source expression (``'sha256-…'``) that allows an inline script with this text."""
    return script_json.script_hash(script_text)


def is_plotly_figure_call(script_text: str) -> bool:
    """True when ``script_text`` is exactly a chart's figure call whose arguments are JSON (data only)."""
    return script_json.is_figure_call(script_text)


def allowed_script_hashes(page: str) -> list[str]:
    """The hashes of the inline scripts in ``page`` that may run: the charts' figure calls and the
    plotly.js library (``reporting.script_json.allowed_script_hashes``)."""
    return script_json.allowed_script_hashes(page)


#: Paths whose pages this site itself may frame (the draft report page embeds the bare report).
SAME_ORIGIN_FRAMES: tuple[str, ...] = ("/reports/",)


def content_security_policy(
    script_hashes: list[str] | tuple[str, ...] = (), *, frameable_by_self: bool = False
) -> str:
    """The policy for a response whose allowed inline scripts have ``script_hashes``."""
    script_src = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'self'" if frameable_by_self else "frame-ancestors 'none'",
        ]
    )


def _header(scope: Scope, name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == name]


def _refusal(scope: Scope, max_body_bytes: int) -> tuple[int, str] | None:
    """(status, message key) when the request must be refused before its body is read."""
    lengths = {v.strip() for v in _header(scope, b"content-length")}
    if lengths:
        if len(lengths) != 1:
            return 400, "bad-length"
        (length,) = lengths
        if not length.isdigit():
            return 400, "bad-length"
        if int(length) > max_body_bytes:
            return 413, "too-large"
    for content_type in _header(scope, b"content-type"):
        kind, _, params = content_type.partition(";")
        if kind.strip().lower().startswith("multipart/") and "boundary=" not in params.lower():
            return 400, "no-boundary"
    return None


def _wants_json(scope: Scope) -> bool:
    path: str = scope.get("path", "")
    if path.startswith(("/api/", "/schema")):
        return True
    accept = ",".join(_header(scope, b"accept"))
    return "application/json" in accept and "text/html" not in accept


class SecurityMiddleware:
    """Adds the security headers to every response; refuses oversized and malformed requests early."""

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int = body_limit(Settings()),
        same_origin_frames: tuple[str, ...] = SAME_ORIGIN_FRAMES,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.same_origin_frames = same_origin_frames

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _refusal(scope, self.max_body_bytes)
        if refusal is not None:
            await self._refuse(scope, send, *refusal)
            return

        held: list[Any] = []  # the response start, while the page it heads is collected
        body = bytearray()
        framed = str(scope.get("path", "")).startswith(self.same_origin_frames)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                for name, value in STATIC_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if "x-frame-options" not in headers:
                    headers["X-Frame-Options"] = "SAMEORIGIN" if framed else "DENY"
                if "content-security-policy" in headers:
                    # the handler knows its page's hashes already (a cached rendering): pass it on as is
                    await send(message)
                    return
                if (headers.get("content-type") or "").startswith("text/html"):
                    held.append(message)  # the policy waits for the page: its hashes come from it
                    return
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = content_security_policy(
                        frameable_by_self=framed
                    )
                await send(message)
            elif message["type"] == "http.response.body" and held:
                body.extend(message.get("body", b""))
                if message.get("more_body", False):
                    return
                start = held.pop()
                headers = MutableScopeHeaders(start)
                if "content-security-policy" not in headers:
                    page = bytes(body).decode("utf-8", errors="replace")
                    headers["Content-Security-Policy"] = content_security_policy(
                        allowed_script_hashes(page), frameable_by_self=framed
                    )
                await send(start)
                await send({"type": "http.response.body", "body": bytes(body), "more_body": False})
            else:
                await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _refuse(self, scope: Scope, send: Send, status: int, key: str) -> None:
        lang = language_for(scope)
        lang = lang if lang in ("sv", "en") else "sv"
        detail = MESSAGES[key][lang].format(limit=self.max_body_bytes)
        if _wants_json(scope):
            content = json.dumps({"status_code": status, "detail": detail}).encode()
            media = "application/json"
        else:
            title = TITLES[status][lang]
            content = (
                f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
                f"<title>{html.escape(title)} · lanportfolj</title></head><body><main>"
                f"<h1>{html.escape(title)}</h1><p>{html.escape(detail)}</p></main></body></html>"
            ).encode()
            media = "text/html; charset=utf-8"
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", media.encode()),
            (b"content-length", str(len(content)).encode()),
            # the body was not read: close rather than leave it in the connection
            (b"connection", b"close"),
            (b"content-security-policy", content_security_policy().encode()),
            (b"x-frame-options", b"DENY"),
            *((k.lower().encode(), v.encode()) for k, v in STATIC_HEADERS.items()),
        ]
        start: dict[str, Any] = {
            "type": "http.response.start",
            "status": status,
            "headers": headers,
        }
        await send(start)  # type: ignore[arg-type]
        await send({"type": "http.response.body", "body": content, "more_body": False})
