"""The static files (``/static/``): fingerprinted URLs a browser keeps for a year, gzip made once per file
(issue 18 item 9).

Templates link an asset with ``{{ static_url('app.css') }}``, which gives ``/static/app.<hash>.css`` (the
first 12 hex digits of the file's SHA-256): that URL's bytes never change, so it is sent with
``Cache-Control: public, max-age=31536000, immutable`` and a browser never asks again. A page of an older
deployment may still name an older hash: that URL is redirected (302) to the current one. The plain name
(``/static/plotly.min.js``, as in the pre-rendered reports) keeps working with an ETag to revalidate.

Text assets (plotly.min.js: 4.8 MB, 1.4 MB gzipped) are gzipped once per process, at the first request that
accepts gzip, and kept; ``lanportfolj.web.compression`` leaves responses that carry a ``Content-Encoding``
alone.

Only the files directly in ``templates/static`` and in plotly's ``package_data`` (plotly.min.js) are served.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, route
from litestar.exceptions import NotFoundException

from lanportfolj.paths import templates_dir
from lanportfolj.web import access
from lanportfolj.web.compression import accepts_gzip

IMMUTABLE = "public, max-age=31536000, immutable"
FINGERPRINT_LENGTH = 12
COMPRESSIBLE_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
_FINGERPRINTED = re.compile(
    rf"^(?P<stem>.+)\.(?P<print>[0-9a-f]{{{FINGERPRINT_LENGTH}}})(?P<ext>\.\w+)$"
)


def _plotly_dir() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data"


def asset_dirs() -> list[Path]:
    """The folders served under ``/static/``, first match wins."""
    return [templates_dir() / "static", _plotly_dir()]


@dataclass
class Asset:
    """One static file: its bytes, fingerprint and media type, and its gzip once made."""

    name: str
    data: bytes
    media_type: str
    fingerprint: str
    _gzipped: bytes | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def compressible(self) -> bool:
        return self.media_type.startswith(COMPRESSIBLE_TYPES)

    @property
    def url(self) -> str:
        stem, dot, ext = self.name.rpartition(".")
        return f"/static/{stem}.{self.fingerprint}.{ext}" if dot else f"/static/{self.name}"

    def gzipped(self) -> bytes:
        """The gzip of the file, made on the first call (level 9, no timestamp: the same bytes every time)."""
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.data, compresslevel=9, mtime=0)
            return self._gzipped


def _media_type(name: str) -> str:
    if name.endswith(".js"):
        return "application/javascript"
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith("text/") else kind


_assets_lock = threading.Lock()
_assets: dict[str, Asset | None] = {}


def find_asset(name: str) -> Asset | None:
    """The asset called ``name`` (no folders), read once per process; None when there is none."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    with _assets_lock:
        if name in _assets:
            return _assets[name]
    found: Asset | None = None
    for folder in asset_dirs():
        path = folder / name
        if path.is_file():
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:FINGERPRINT_LENGTH]
            found = Asset(name=name, data=data, media_type=_media_type(name), fingerprint=digest)
            break
    with _assets_lock:
        return _assets.setdefault(name, found)


@cache
def static_url(name: str) -> str:
    """The fingerprinted URL of the asset ``name`` (a Jinja global); the plain URL if there is no such
    file, so a missing asset shows as a 404 in the browser rather than as an error on the page."""
    asset = find_asset(name)
    return asset.url if asset is not None else f"/static/{name}"


@route(
    "/static/{name:str}",
    http_method=["GET", "HEAD"],
    opt=access.allow(access.PUBLIC),
    include_in_schema=False,
    sync_to_thread=False,
)
def static_file(request: Request[Any, Any, Any], name: str) -> Response[bytes]:
    """One asset, by its plain or fingerprinted name."""
    asset = find_asset(name)
    fingerprinted = False
    if asset is None and (match := _FINGERPRINTED.match(name)):
        asset = find_asset(match["stem"] + match["ext"])
        if asset is not None and match["print"] != asset.fingerprint:
            # a page of an older deployment: the file has changed since, send the browser to today's
            return Response(b"", status_code=302, headers={"Location": asset.url})
        fingerprinted = asset is not None
    if asset is None:
        raise NotFoundException()
    headers = {"ETag": f'"{asset.fingerprint}"'}
    if fingerprinted:
        headers["Cache-Control"] = IMMUTABLE
    if asset.compressible:
        headers["Vary"] = "Accept-Encoding"
    body = asset.data
    if asset.compressible and accepts_gzip(request.scope):
        body = asset.gzipped()
        headers["Content-Encoding"] = "gzip"
        headers["ETag"] = f'"{asset.fingerprint}-gzip"'
    if headers["ETag"] in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type=asset.media_type, headers=headers)
