"""Backups: SQLite's online backup API, and ``pg_dump`` / ``pg_restore`` for PostgreSQL.

A backup is taken while the server runs; restoring replaces the whole database with the backup's content.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import Engine
from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore could not be done; the message says why."""


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq(engine: Engine) -> tuple[str, list[str]]:
    """A libpq URL for the command-line tools, and the schema options (``-n``) they need."""
    url = make_url(engine.url).set(drivername="postgresql")
    options = url.query.get("options")
    schemas: list[str] = []
    if options:
        text = options if isinstance(options, str) else options[0]
        for part in unquote(text).split():
            if part.startswith("-csearch_path="):
                schemas = part.removeprefix("-csearch_path=").split(",")
    url = url.difference_update_query(["options"])
    return url.render_as_string(hide_password=False), schemas


def backup(engine: Engine, target: Path) -> Path:
    """Write a consistent copy of the database to ``target`` while others may be writing to it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine))
        try:
            dest = sqlite3.connect(target)
            with dest:
                source.backup(dest)
            dest.close()
        finally:
            source.close()
        return target
    if engine.dialect.name == "postgresql":
        if shutil.which("pg_dump") is None:
            raise BackupError("pg_dump is not installed (Debian package postgresql-client)")
        url, schemas = _libpq(engine)
        args = ["pg_dump", "--format=custom", "--no-owner", f"--file={target}"]
        args += [f"--schema={s}" for s in schemas]
        _run([*args, url])
        return target
    raise BackupError(f"no backup method for {engine.dialect.name}")


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's content with the backup in ``source``."""
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    if engine.dialect.name == "sqlite":
        try:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            ok = src.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source}: not an SQLite backup ({exc})") from exc
        if not ok or ok[0] != "ok":
            src.close()
            raise BackupError(f"{source}: the backup fails SQLite's integrity check")
        engine.dispose()
        dest = sqlite3.connect(_sqlite_path(engine))
        try:
            with dest:
                src.backup(dest)
        finally:
            dest.close()
            src.close()
        return
    if engine.dialect.name == "postgresql":
        if shutil.which("pg_restore") is None:
            raise BackupError("pg_restore is not installed (Debian package postgresql-client)")
        url, schemas = _libpq(engine)
        engine.dispose()
        args = [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={url}",
        ]
        args += [f"--schema={s}" for s in schemas]
        _run([*args, str(source)])
        return
    raise BackupError(f"no restore method for {engine.dialect.name}")


def _run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # the URL may carry a password: show the tool's own message only
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()[:500]}")


__all__ = ["BackupError", "backup", "restore"]
