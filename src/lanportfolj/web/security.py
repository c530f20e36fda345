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

**Styles** carry no ``'unsafe-inline'`` either: inline style cannot run code, but it can lay an invisible
full-page button over a page, which is how a borrower's stored markup once made an admin click for it. The
pages' own styling lives in ``/static/app.css``; what remains inline is allowed by hash, all of it fixed text
(the policy's style part is the same on every page, so cached pages need nothing per response):

- ``style-src-elem``: the empty ``<style id="plotly.js-style-global">`` plotly.js appends and then fills with
  ``CSSStyleSheet.insertRule`` (the CSSOM, which CSP does not govern), the fixed stylesheets plotly.js writes as
  ``textContent`` (its map library's; read from the library that ships, so an upgrade follows) and the bond
  report's own ``<style>`` (the report is one self-contained file: read from its template);
- ``style-src-attr`` (``'unsafe-hashes'``: hashes there allow those exact attribute texts, nothing else): the two
  ``style=`` containers ``plotly.io.to_html`` writes around the evaluation page's 320 px figures. plotly.js sets
  every other style through ``element.style`` (the CSSOM again), which needs no permission.

Any other ``<style>`` or ``style=`` in a page (say ``position:fixed`` in a stored text) is refused by the browser.

**Every response** passes this middleware, matched route or not: ``web.app`` wraps the whole application's ASGI
handler with it, so the router's own 404 and 405, a 413 and an unexpected error's 500 carry the same headers.
Besides the policy: ``Permissions-Policy`` switches off the browser features the product never uses,
``Strict-Transport-Security`` is sent outside development, and every response but ``/static/`` assets gets
``Cache-Control: no-store`` (pages are per user and carry a CSRF token; API answers and downloads hold a
borrower's figures: no shared or browser cache may keep them).

**Request bodies.** A request whose ``Content-Length`` exceeds the limit is answered 413 before a byte of its
body is read (Litestar's per-route limits still cut off a chunked body as it streams); a ``Content-Length``
that is not one whole number, or a multipart body without a boundary, is answered 400. The answer is JSON
(``{"status_code", "detail"}``) for the API and a short page otherwise, in the request's language.
"""

from __future__ import annotations

import html
import json
import re
from functools import cache
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from lanportfolj.config import Settings
from lanportfolj.reporting import script_json
from lanportfolj.web.i18n import language_for

#: Room for the multipart framing and the form fields around the largest accepted file.
MULTIPART_OVERHEAD = 64 * 1024

#: Browser features the product never uses: switched off for every page (and anything injected into one).
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

#: Headers every response carries (the CSP is added per response: its hashes depend on the page).
STATIC_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    # our URLs name loans and submissions: never tell another site where a user came from
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}

#: Sent outside development only: a developer's http://localhost must not learn to refuse plain HTTP.
HSTS = "max-age=31536000; includeSubDomains"

#: Paths whose assets may be cached as usual (plotly.js, the stylesheet, the icon): the same for everyone.
CACHEABLE_PATHS: tuple[str, ...] = ("/static/",)

#: The ``style=`` texts ``plotly.io.to_html`` writes around a figure of ``services.evaluation`` (320 px high).
PLOTLY_CONTAINER_STYLES: tuple[str, ...] = ("height:320px; width:100%;", "height:100%; width:100%;")

#: plotly.js's fixed stylesheets: ``var e=document.createElement("style");e.id="…",e.textContent='…'``.
_LIBRARY_STYLESHEET = re.compile(
    r'createElement\("style"\);(?P<var>\w+)\.id="[0-9a-f]+",(?P=var)\.textContent=\'(?P<css>[^\'\\]*)\''
)
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style\s*>", re.IGNORECASE | re.DOTALL)

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


@cache
def plotly_style_hashes() -> tuple[str, ...]:
    """The ``<style>`` elements plotly.js itself adds: the empty one it fills through the CSSOM, and each
    stylesheet the shipped library writes as fixed text."""
    from plotly.offline import get_plotlyjs

    texts = ["", *(m.group("css") for m in _LIBRARY_STYLESHEET.finditer(get_plotlyjs()))]
    return tuple(dict.fromkeys(csp_hash(text) for text in texts))


@cache
def report_style_hashes() -> tuple[str, ...]:
    """The bond report's own ``<style>``: fixed text in ``report/base.html`` (no template code inside)."""
    from lanportfolj.paths import templates_dir

    template = (templates_dir() / "report" / "base.html").read_text(encoding="utf-8")
    return tuple(csp_hash(m.group(1)) for m in _STYLE_ELEMENT.finditer(template))


def style_element_hashes() -> tuple[str, ...]:
    """Every inline ``<style>`` any page of the product may carry, as CSP hashes."""
    return (*plotly_style_hashes(), *report_style_hashes())


def style_attribute_hashes() -> tuple[str, ...]:
    """Every ``style=`` attribute text any page of the product may carry, as CSP hashes."""
    return tuple(csp_hash(text) for text in PLOTLY_CONTAINER_STYLES)


@cache
def style_directives() -> tuple[str, ...]:
    """The policy's style part: no ``'unsafe-inline'``, only the product's own fixed inline styles by hash."""
    elements = style_element_hashes()
    attributes = style_attribute_hashes()
    return (
        # for a browser without the -elem/-attr directives (CSP 2): the stylesheets still apply; attribute
        # hashes need 'unsafe-hashes', which such a browser does not know, so the containers fall back to
        # their content's size
        " ".join(["style-src 'self'", *elements]),
        " ".join(["style-src-elem 'self'", *elements]),
        " ".join(["style-src-attr 'unsafe-hashes'", *attributes]),
    )


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
            *style_directives(),
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
        *,
        hsts: bool = True,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.same_origin_frames = same_origin_frames
        self.hsts = hsts

    def _add_headers(self, headers: MutableScopeHeaders, path: str, status: int) -> None:
        """The headers every response carries, unless its handler chose its own value."""
        for name, value in STATIC_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if self.hsts and "strict-transport-security" not in headers:
            headers["Strict-Transport-Security"] = HSTS
        # an asset found is the same for everyone; an error page (with its CSRF cookie) is not
        asset = path.startswith(CACHEABLE_PATHS) and (200 <= status < 300 or status == 304)
        if not asset and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"
        if "server" in headers:
            del headers["server"]  # uvicorn's own is switched off in ``lanportfolj serve``

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
        path = str(scope.get("path", ""))
        framed = path.startswith(self.same_origin_frames)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                self._add_headers(headers, path, int(message["status"]))
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
        ]
        start: dict[str, Any] = {
            "type": "http.response.start",
            "status": status,
            "headers": headers,
        }
        scope_headers = MutableScopeHeaders(start)  # type: ignore[arg-type]
        self._add_headers(scope_headers, str(scope.get("path", "")), status)
        await send(start)  # type: ignore[arg-type]
        await send({"type": "http.response.body", "body": content, "more_body": False})
