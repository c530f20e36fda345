"""A write counter shared by every process on this machine that uses the same database (issue 15).

The page cache (``lanportfolj.web.page_cache``) may serve a cached part only while nothing has been committed
since it was made. On SQLite a pragma tells it without a round trip; on PostgreSQL asking the server costs a
pooled connection and a query per request, more than the cached page itself. So every engine made by
``lanportfolj.db.make_engine`` for a server database counts its writes in a small memory-mapped file: the
web workers, the CLI (imports, ``demo synth``, publishing) and anything else using that engine factory on the
machine bump the same 8-byte counter, and a worker reads it with one memory access.

A connection that executed a writing statement (anything but SELECT, SHOW, SET and transaction control)
bumps the counter when it goes back to the pool, which is after its commit (or rollback: a needless bump
only costs a re-render). Writes the counter cannot see (``psql``, another machine) are caught by the
database check the page cache still makes every ``page_cache_recheck_seconds``
(``LANPORTFOLJ_PAGE_CACHE_RECHECK_SECONDS``; 0 asks the database on every request).

The file lives in ``LANPORTFOLJ_SHARED_GENERATION_DIR`` (default: a folder of this user's in the system's
temporary folder, mode 0700), one per database URL (its SHA-256; no password in the name).
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

_SIZE = 8
_READ_ONLY = (
    "select",
    "show",
    "set",
    "begin",
    "commit",
    "rollback",
    "savepoint",
    "release",
    "reset",
)
_WROTE = "lanportfolj_wrote"


class SharedCounter:
    """An unsigned 64-bit counter in a file, mapped into memory: read without a lock, bumped under one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size < _SIZE:
                    os.ftruncate(fd, _SIZE)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, _SIZE)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def read(self) -> int:
        (value,) = struct.unpack_from("<Q", self._map)
        return int(value)

    def bump(self) -> int:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            value = (self.read() + 1) % (1 << 64)
            struct.pack_into("<Q", self._map, 0, value)
            return value
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


_lock = threading.Lock()
_counters: dict[str, SharedCounter] = {}
_recheck: dict[str, float] = {}


def _folder() -> Path:
    configured = os.environ.get("LANPORTFOLJ_SHARED_GENERATION_DIR", "")
    folder = (
        Path(configured)
        if configured
        else Path(tempfile.gettempdir()) / f"lanportfolj-generation-{os.getuid()}"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def url_key(engine: Engine) -> str:
    """The key of an engine's database: its URL with the password hidden."""
    return engine.url.render_as_string(hide_password=True)


def _counter(key: str) -> SharedCounter | None:
    with _lock:
        counter = _counters.get(key)
        if counter is None:
            name = hashlib.sha256(key.encode()).hexdigest()[:32]
            try:
                counter = SharedCounter(_folder() / f"{name}.generation")
            except OSError:
                return None
            _counters[key] = counter
        return counter


def mark_written(connection: Connection) -> None:
    """Mark a connection of a watched engine as written to outside SQLAlchemy's cursor (the driver's
    own, ``lanportfolj.driver``): the counter is bumped when it goes back to the pool."""
    connection.info[_WROTE] = True


def bump_key(key: str) -> None:
    """Bump the counter of the database ``key`` names (``url_key``) after a commit made without an
    engine (``lanportfolj.driver.connect``)."""
    counter = _counter(key)
    if counter is not None:
        counter.bump()


def counter_for(engine: Engine) -> SharedCounter | None:
    """The shared counter of ``engine``'s database, when ``watch`` set one up; None otherwise."""
    return _counters.get(url_key(engine))


def recheck_seconds(engine: Engine) -> float:
    """How long the counter alone is trusted before the page cache asks the database again."""
    return _recheck.get(url_key(engine), 0.0)


def _is_write(statement: str) -> bool:
    head = statement.lstrip().split(None, 1)
    return bool(head) and head[0].lower() not in _READ_ONLY


def watch(engine: Engine, *, recheck: float) -> SharedCounter | None:
    """Count ``engine``'s writes in the shared file of its database. None (and nothing counted) when
    the file cannot be made: the page cache then asks the database on every request, as before."""
    from sqlalchemy import event

    key = url_key(engine)
    counter = _counter(key)
    if counter is None:
        return None
    with _lock:
        _recheck[key] = max(0.0, recheck)

    def note_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _is_write(statement):
            conn.info[_WROTE] = True

    def bump_on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None and record.info.pop(_WROTE, False):
            counter.bump()

    event.listen(engine, "before_cursor_execute", note_write)
    event.listen(engine.pool, "checkin", bump_on_checkin)
    return counter
