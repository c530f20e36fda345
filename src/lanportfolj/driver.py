"""Plain SQL through the database driver, inside an ORM session or on a connection of its own (issue 15).

The import (``services.measurements.import_file``) runs its few statements through a :class:`Driver`: the
web page, the API and the services hand it their ``Session`` (:meth:`Driver.from_session`: the same
connection and transaction, pending ORM objects flushed first), and ``lanportfolj import`` opens one with
:func:`connect`, so the command never imports SQLAlchemy, SQLModel or the models (half a second of CPU
before the first row). Values are written as the models' column types write them (``dbtypes.ExactDecimal``
text on SQLite, SQLAlchemy's SQLite timestamps, JSON text), so the ORM reads them back unchanged
(``tests/integration/test_import_driver.py`` compares both paths on SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from lanportfolj.exact import plain
from lanportfolj.listings import Reader, _postgres_conninfo, _sqlite_path

if TYPE_CHECKING:
    from sqlmodel import Session


def sqlite_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    """Every SQLite connection's settings (``db.make_engine`` and :func:`connect` alike)."""
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while an import writes; the busy timeout waits instead of failing at once
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@dataclass(frozen=True)
class Driver(Reader):
    """A DB-API connection with the parameter style and value conversions of its database."""

    #: Called before each writing statement.
    on_write: Callable[[], None] | None = None

    @classmethod
    def from_session(cls, session: Session) -> Driver:
        """The session's own connection and transaction; what the session holds is flushed first."""
        session.flush()
        connection = session.connection()

        def wrote() -> None:
            # what a statement through the engine would have noted: the page cache's shared counter
            # is bumped when the connection goes back to the pool (``shared_generation``)
            from lanportfolj.shared_generation import mark_written

            mark_written(connection)

        return cls(connection.connection, connection.dialect.name, on_write=wrote)

    def placeholders(self, count: int) -> str:
        return ", ".join([self.marker] * count)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A writing statement; its rows when it returns some (``RETURNING``)."""
        if self.on_write is not None:
            self.on_write()
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            cursor.close()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        if self.on_write is not None:
            self.on_write()
        cursor = self.connection.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    # values as the models' column types write them

    def decimal(self, value: Decimal | None) -> Any:
        """``dbtypes.ExactDecimal``: normalised text on SQLite, NUMERIC on PostgreSQL."""
        if value is None:
            return None
        if self.dialect == "sqlite":
            return format(plain(value), "f")
        return value

    def timestamp(self, value: datetime | None) -> Any:
        """``DateTime(timezone=True)``: SQLAlchemy's SQLite text (the fields as given), else as is."""
        if value is None or self.dialect != "sqlite":
            return value
        return (
            f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:"
            f"{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
        )

    @staticmethod
    def json(value: Any) -> str:
        """SQLAlchemy's ``JSON``: ``json.dumps`` (None is the JSON ``null``, as the ORM writes it)."""
        return json.dumps(value)


#: A user, host and database name :func:`shared_key` renders as SQLAlchemy does (anything else: the ORM).
_PLAIN = re.compile(r"^[A-Za-z0-9_.~-]*$")


def shared_key(database_url: str) -> str | None:
    """``shared_generation.url_key`` of the engine ``db.make_engine`` would make for this PostgreSQL URL,
    without SQLAlchemy: the driver's name, the password hidden. None for a URL it cannot be sure of."""
    conninfo = _postgres_conninfo(database_url)
    if conninfo is None:
        return None
    parts = urlsplit(conninfo)
    database = parts.path.removeprefix("/")
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.query or parts.fragment or not host:
        return None
    names = [parts.username or "", host, database]
    if not all(_PLAIN.match(name) for name in names) or (
        parts.password is not None and not parts.username
    ):
        return None
    user = parts.username or ""
    login = f"{user}{':***' if parts.password is not None else ''}@" if user else ""
    return (
        f"postgresql+psycopg://{login}{host}{f':{port}' if port else ''}"
        f"{f'/{database}' if database else ''}"
    )


@contextmanager
def connect(database_url: str) -> Iterator[Driver | None]:
    """A :class:`Driver` on a connection of its own, in a transaction: committed when the block ends,
    rolled back when it raises. None for a URL this does not handle (the caller uses the ORM) or when
    connecting fails (the ORM then connects and reports the problem in its own words)."""
    path = _sqlite_path(database_url)
    key = None if path is not None else shared_key(database_url)
    connection: Any = None
    dialect = ""
    try:
        if path is not None:
            import sqlite3

            connection = sqlite3.connect(unquote(path), timeout=10)
            sqlite_pragmas(connection)
            dialect = "sqlite"
        elif key is not None:
            import psycopg

            connection = psycopg.connect(_postgres_conninfo(database_url) or "")
            dialect = "postgresql"
    except Exception:  # the ORM path connects again and raises its own, familiar error
        connection = None
    if connection is None:
        yield None
        return
    wrote = False

    def note() -> None:
        nonlocal wrote
        wrote = True

    try:
        yield Driver(connection, dialect, on_write=note)
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
        if wrote and key is not None:
            # the web workers' page caches learn of the write as they do of the engine's
            from lanportfolj.shared_generation import bump_key

            bump_key(key)
