"""Rendered page parts kept between requests, and the data generation that says when they are stale.

A cached part is valid only while nothing at all has been committed to the database since it was made. That
is coarser than tracking which tables a page reads, and on purpose: a write path that forgets to announce
itself (an import's driver-level ``executemany``, a migration, another worker, the CLI) cannot leave a stale
page behind, because the check asks the database itself:

- SQLite: ``PRAGMA data_version`` changes on a connection whenever *another* connection (of any process)
  commits. Each process keeps one connection of its own per database file that does nothing but ask this,
  so every commit anywhere, this process's own included, is seen; pooled connections come and go under
  load and could not keep a baseline. The file's identity is part of the mark: a database file replaced
  under the same name (a restore) counts as a change.
- PostgreSQL: the write counter every process on this machine shares (``lanportfolj.shared_generation``:
  bumped when a connection that wrote goes back to its pool, read from memory), and, every
  ``page_cache_recheck_seconds``, ``pg_current_snapshot()`` (xmin, xmax and the transactions in progress),
  which changes whenever a transaction that writes starts or ends anywhere in the cluster: the check that
  sees writes from elsewhere (``psql``, another machine). Between those checks a cached page costs no
  database round trip.
- Any other database: every check counts as a change, so nothing is ever served from the cache.

Any difference moves this process's generation on, which invalidates every cached part at once. A page is
then rendered again on its next request; reading pages (no writes) keep their cached parts.

What is cached is never who may see it: access is checked on every request before a cached part is looked
up, and the key of a part names the kind of view it is (the full loan page or its public fields).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from litestar import Request
from litestar.response import Template
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup
from sqlalchemy import URL, Engine
from sqlmodel import Session

from lanportfolj import shared_generation
from lanportfolj.web.security import (
    SAME_ORIGIN_FRAMES,
    allowed_script_hashes,
    content_security_policy,
)

T = TypeVar("T")

_lock = threading.Lock()
_generation = 0
#: the last mark seen per database URL and source (the database's own, the shared write counter)
_marks: dict[str, Hashable] = {}
#: when the database itself was last asked (PostgreSQL), per URL
_db_checked: dict[str, float] = {}


class _SqliteWatcher:
    """One connection per database file, kept only to read ``PRAGMA data_version``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.identity: tuple[int, int] | None = None
        self.connection: sqlite3.Connection | None = None
        self.opened = 0  # marks of an earlier connection never equal a later one's

    def mark(self) -> Hashable:
        with self.lock:
            try:
                stat = os.stat(self.path)
                identity = (stat.st_dev, stat.st_ino)
                if self.connection is None or identity != self.identity:
                    self._close()
                    # it only ever reads one pragma: it holds no lock between calls and never writes
                    self.connection = sqlite3.connect(
                        self.path, check_same_thread=False, timeout=10
                    )
                    self.identity = identity
                    self.opened += 1
                (version,) = self.connection.execute("PRAGMA data_version").fetchone()
            except (OSError, sqlite3.Error):
                self._close()
                return object()  # cannot tell: never equal, so nothing is served from the cache
            return (identity, self.opened, int(version))

    def _close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


_watchers: dict[str, _SqliteWatcher] = {}


def _sqlite_mark(database: str) -> Hashable:
    with _lock:
        watcher = _watchers.get(database)
        if watcher is None:
            watcher = _watchers[database] = _SqliteWatcher(database)
    return watcher.mark()


def _sqlite_file(url: URL) -> str | None:
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else os.path.abspath(database)


def _advance(url: URL, mark: Hashable, part: str = "database") -> int:
    global _generation
    key = f"{url}#{part}"
    with _lock:
        if _marks.get(key) != mark:
            _marks[key] = mark
            _generation += 1
        return _generation


def _shared_generation(engine: Engine) -> int | None:
    """The generation from the write counter this machine's processes share (no database round trip),
    or None when there is no counter or the database check is due (``page_cache_recheck_seconds``)."""
    counter = shared_generation.counter_for(engine)
    if counter is None:
        return None
    key = str(engine.url)
    recheck = shared_generation.recheck_seconds(engine)
    checked = _db_checked.get(key)
    generation = _advance(engine.url, counter.read(), part="shared")
    if checked is None or time.monotonic() - checked >= recheck:
        return None
    return generation


def data_generation(db: Session) -> int:
    """This process's data generation, moved on if anything was committed since the last look.
    Cached parts made at an older generation are stale."""
    engine = db.get_bind().engine
    url = engine.url
    mark: Hashable
    if (path := _sqlite_file(url)) is not None:
        # the watcher's own connection: no pooled connection is taken for the check
        mark = _sqlite_mark(path)
    elif url.get_backend_name() == "postgresql":
        if (generation := _shared_generation(engine)) is not None:
            return generation
        checked = time.monotonic()
        mark = db.connection().exec_driver_sql("SELECT pg_current_snapshot()::text").scalar()
        _db_checked[str(url)] = checked
    else:
        mark = object()  # never equal: no caching
    return _advance(url, mark)


def quick_generation(engine: Engine) -> int | None:
    """The data generation when it can be read in microseconds without a pooled connection (an SQLite
    file: one pragma on the watcher's connection; PostgreSQL: the shared write counter while the
    database check is not due), so on the event loop; None otherwise."""
    path = _sqlite_file(engine.url)
    if path is not None:
        return _advance(engine.url, _sqlite_mark(path))
    if engine.url.get_backend_name() == "postgresql":
        return _shared_generation(engine)
    return None


def data_changed() -> None:
    """Moves the generation on by hand (tests, and code that knows it changed what pages show)."""
    global _generation
    with _lock:
        _generation += 1


class KeptOnce(Generic[T]):
    """A small LRU of values, each made once: concurrent misses of a key wait for one making."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()
        self._making: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> tuple[bool, T | None]:
        """(True, value) when ``key`` is kept, else (False, None)."""
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def get_or_make(self, key: Hashable, make: Callable[[], T]) -> T:
        """The value of ``key``, made by ``make()`` unless it is kept."""
        found, value = self.get(key)
        if found:
            return value  # type: ignore[return-value]
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:
            found, value = self.get(key)
            if found:
                return value  # type: ignore[return-value]
            made = make()
            with self._lock:
                self._items[key] = made
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
                self._making.pop(key, None)
        return made

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class PageCache(Generic[T]):
    """A small LRU of rendered parts, each valid for the data generation it was made at.

    The generation is part of each key, so a part of an older generation is never found again; it
    leaves the LRU as newer parts come in."""

    def __init__(self, size: int = 256) -> None:
        self._kept: KeptOnce[T] = KeptOnce(size)

    def peek(self, engine: Engine, key: Hashable) -> tuple[bool, T | None]:
        """(True, part) when a part of the current generation is kept, without a thread or a pooled
        connection (``quick_generation``); (False, None) when there is none or the check needs I/O."""
        generation = quick_generation(engine)
        if generation is None:
            return False, None
        return self._kept.get((str(engine.url), key, generation))

    def get_or_make(self, db: Session, key: Hashable, make: Callable[[], T]) -> T:
        """The part for ``key``, made by ``make()`` unless a part of the current generation is kept."""
        # read the generation *before* making: a write that lands while the part is made then leaves
        # it marked with the older generation, so the next request makes it again
        generation = data_generation(db)
        # the generation is per process, so a part is also tied to its database (tests, and a process
        # that serves more than one, must never get another database's page)
        return self._kept.get_or_make((str(db.get_bind().engine.url), key, generation), make)

    def clear(self) -> None:
        self._kept.clear()


# --- rendered page bodies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedBody:
    """The main part of a page, rendered once for every viewer: its HTML as segments split at the
    slots of the CSRF token (forms in it carry the token of whoever asks), and the CSP hashes of the
    figure calls in it, so the page's policy needs no scan of the body per request."""

    segments: tuple[str, ...]
    script_hashes: tuple[str, ...]

    def html_for(self, token: str) -> str:
        """The body with ``token`` in the token's slots, and only there."""
        return token.join(self.segments)


def _csrf_token(request: Request[Any, Any, Any]) -> str:
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def render_body(
    request: Request[Any, Any, Any], template_name: str, context: Mapping[str, Any]
) -> RenderedBody:
    """Renders ``template_name`` (a fragment, no layout) for caching; the request is only there for the
    template's helpers.

    The template's ``csrf_token()`` gives a random marker made for this rendering alone, and the body is
    split where it appears: nobody can have stored text that contains it (unlike the renderer's own
    token, or any fixed placeholder), so a viewer's token later goes into the form fields' slots and
    never into a borrower's text."""
    engine = request.app.template_engine
    assert engine is not None
    marker = f"csrfslot{secrets.token_hex(16)}"
    state = ScopeState.from_scope(request.scope)
    token = state.csrf_token
    state.csrf_token = marker
    try:
        html = engine.get_template(template_name).render(**context, request=request)
    finally:
        state.csrf_token = token
    return RenderedBody(
        segments=tuple(html.split(marker)), script_hashes=tuple(allowed_script_hashes(html))
    )


def page_with_body(
    request: Request[Any, Any, Any],
    template_name: str,
    body: RenderedBody,
    context: Mapping[str, Any] | None = None,
) -> Template:
    """The full page: the layout (navigation, messages: per request) around a cached body as ``body``."""
    html = body.html_for(_csrf_token(request))
    return Template(
        template_name,
        context={**(context or {}), "body": Markup(html)},  # rendered, and escaped, by Jinja
        # the layout adds no inline script, so the body's hashes are the page's
        headers={
            "Content-Security-Policy": content_security_policy(
                body.script_hashes,
                frameable_by_self=str(request.scope["path"]).startswith(SAME_ORIGIN_FRAMES),
            )
        },
    )
