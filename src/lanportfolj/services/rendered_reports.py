"""Published reports rendered once, into files every worker process (and the CLI) shares.

A published report never changes: its frozen data is checked against its SHA-256. Rendering its HTML from
that data takes seconds at national scale (the 10 000-loan bond: 3 s to parse 170 MB of JSON and 6 s of
plotly and templates), far too long per request or per worker. So a rendering is made once and stored as a
file named by the report's SHA-256, the format, the language and a fingerprint of the rendering code; a new
version of the code renders anew. The files live next to an SQLite database (``<db>.rendered/``), otherwise
in the system's temporary folder under a name derived from the database URL.

A file lock makes concurrent first requests wait for one rendering instead of each making its own, and a
rendering is written to a temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from lanportfolj import __version__
from lanportfolj.config import Settings
from lanportfolj.paths import templates_dir
from lanportfolj.replacing import replacing
from lanportfolj.services import reports

_PACKAGE = Path(__file__).resolve().parents[1]
log = logging.getLogger(__name__)


def folder(settings: Settings) -> Path:
    """Where this database's renderings are kept (``settings.rendered_dir`` when set)."""
    if settings.rendered_dir:
        return Path(settings.rendered_dir)
    url = make_url(settings.database_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database).resolve().parent / f"{Path(database).name}.rendered"
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"lanportfolj-rendered-{digest}"


@cache
def code_version() -> str:
    """A fingerprint of the code and templates a rendering comes from (read once per process)."""
    digest = hashlib.sha256(__version__.encode())
    # the code and its translations, and the templates; not the shipped data files
    for root, patterns in ((_PACKAGE, ("*.py", "*.po")), (templates_dir(), ("*.html",))):
        for path in sorted(p for pattern in patterns for p in root.rglob(pattern)):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _path(settings: Settings, sha256: str, fmt: str, lang: str) -> Path:
    return folder(settings) / f"{sha256}-{lang}-{code_version()}.{fmt}"


def rendered(
    settings: Settings, sha256: str, fmt: str, lang: str, frozen: Callable[[], bytes]
) -> bytes:
    """The published report with this SHA-256 as ``fmt`` (html or xlsx) in ``lang``: from its file, or
    rendered once into it from ``frozen()``, the report's frozen JSON (checked against the hash)."""
    return _kept(
        _path(settings, _checked(sha256), fmt, lang),
        lambda: reports.render(
            reports.parse_frozen(frozen()), fmt=fmt, lang=lang, status=reports.PUBLISHED
        ),
    )


def rendered_from(
    settings: Settings, sha256: str, fmt: str, lang: str, data: Callable[[], dict[str, Any]]
) -> bytes:
    """``rendered``, made (when its file is missing) from ``data()``, the published report's dict as
    it reads back from its frozen JSON: parsed once by the caller for several renderings, or
    ``reporting.model.as_frozen``'s (what ``publish_report_with_data`` returns), which gives the
    same bytes without parsing the frozen JSON at all."""
    return _kept(
        _path(settings, _checked(sha256), fmt, lang),
        lambda: reports.render(data(), fmt=fmt, lang=lang, status=reports.PUBLISHED),
    )


def derived(
    settings: Settings, sha256: str, fmt: str, lang: str, kind: str, make: Callable[[], bytes]
) -> bytes:
    """Something made once from a rendering (its gzipped bytes, its CSP hashes), kept beside it so
    that every process reads it instead of making it again: ``make()`` runs only when it is missing."""
    if not kind.isalnum():
        raise ValueError("a kind is letters and digits")  # it names a file
    return _kept(_path(settings, _checked(sha256), fmt, lang).with_suffix(f".{fmt}.{kind}"), make)


def _checked(sha256: str) -> str:
    if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")  # it names a file
    return sha256


def _kept(target: Path, make: Callable[[], bytes]) -> bytes:
    """The file ``target``'s bytes, or ``make()`` written into it once: the lock beside it makes a
    concurrent caller wait for this one's file instead of making its own."""
    if target.exists():
        return target.read_bytes()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be making this very file
        try:
            if target.exists():
                return target.read_bytes()
            content = make()
            _write(target, content)
            return content
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(target: Path, content: bytes) -> None:
    with replacing(target, prefix=".partial-") as out:
        out.write(content)
    # renderings of the same report by older code are of no further use
    stem = target.name.rsplit("-", 1)[0]
    for old in target.parent.glob(f"{stem}-*.{target.suffix.lstrip('.')}"):
        if old != target:
            old.unlink(missing_ok=True)
