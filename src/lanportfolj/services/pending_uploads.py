"""Previewed uploads waiting for the user to confirm them: kept on disk, privately, under unguessable names.

The folder is the data directory's (``settings.pending_uploads_dir``, else next to an SQLite database file,
else in the system's temporary folder), so every worker process sees the same files. It and each user's
subfolder are 0700, each file 0600 and named by ``secrets.token_urlsafe``: another local account cannot list
or read a borrower's figures, and knowing a file's content (or its SHA-256) does not tell its name. A user
reaches only their own subfolder, and a key is accepted only with the SHA-256 of the bytes previewed, so
the bytes stored are the bytes shown.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from lanportfolj.config import Settings

#: Uploads waiting for confirmation are forgotten after a day.
PENDING_SECONDS = 24 * 3600
_FOLDER_MODE = 0o700
_FILE_MODE = 0o600
#: What ``secrets.token_urlsafe(32)`` makes: 43 characters of the URL-safe base64 alphabet.
_KEY = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def root(settings: Settings) -> Path:
    """The folder of every user's pending uploads (not created here)."""
    if settings.pending_uploads_dir:
        return Path(settings.pending_uploads_dir)
    url = make_url(settings.database_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite" and database and database != ":memory:":
        return Path(database).resolve().parent / f"{Path(database).name}.pending"
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"lanportfolj-pending-{digest}"


def _private_folder(path: Path) -> Path:
    path.mkdir(mode=_FOLDER_MODE, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask, and an existing folder keeps whatever mode it had
    os.chmod(path, _FOLDER_MODE)
    return path


def user_folder(settings: Settings, user_id: int) -> Path:
    """``user_id``'s own private folder (made 0700, with a 0700 parent)."""
    _private_folder(root(settings))
    return _private_folder(root(settings) / str(int(user_id)))


def keep(settings: Settings, user_id: int, data: bytes) -> str:
    """Keep ``data`` until it is confirmed; returns the key to confirm it by. Stale uploads are pruned."""
    folder = user_folder(settings, user_id)
    now = time.time()
    for old in folder.iterdir():
        try:
            if now - old.stat().st_mtime > PENDING_SECONDS:
                old.unlink(missing_ok=True)
        except FileNotFoundError:  # pruned by another worker meanwhile
            continue
    key = secrets.token_urlsafe(32)
    # O_EXCL: never write through a name that exists (or a link someone placed there)
    fd = os.open(folder / key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return key


def read(settings: Settings, user_id: int, key: str, sha256: str) -> bytes | None:
    """The bytes kept under ``key`` for ``user_id``, or None when gone, unknown, or not ``sha256``."""
    if not _KEY.match(key) or not _SHA256.match(sha256):
        return None
    path = user_folder(settings, user_id) / key
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return None
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def drop(settings: Settings, user_id: int, key: str) -> None:
    """Forget the upload kept under ``key`` (after it is stored)."""
    if _KEY.match(key):
        (user_folder(settings, user_id) / key).unlink(missing_ok=True)
