"""Settings, read from environment variables and an optional TOML file.

Nothing here is built at import time: callers make a ``Settings`` and pass it on, so every test builds its own.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

ENV_PREFIX = "LANPORTFOLJ_"


@dataclass(frozen=True)
class Settings:
    """Everything a deployment may change. Environment variables are ``LANPORTFOLJ_<FIELD>`` upper-cased."""

    database_url: str = "sqlite:///lanportfolj.db"
    """SQLAlchemy URL; SQLite embedded by default, ``postgresql+psycopg://…`` in production."""

    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    """Keys the CSRF tokens and the flash-message cookie (sessions themselves are random tokens kept in
    the database). Set it in production, the same for every worker, or open forms fail after a restart."""

    development: bool = False
    """Local development: cookies without Secure, debug details in the log (never on a page)."""

    default_language: str = "sv"
    """Language of pages and messages when the user has not chosen one (``sv`` or ``en``)."""

    discount_bp: Decimal = Decimal("2")
    """The programme's interest discount in basis points."""

    report_deadline: str = "04-30"
    """Month-day by which the previous year's indicator values are due."""

    max_upload_bytes: int = 10 * 1024 * 1024
    """Largest import file accepted."""

    lookback_months: int = 24
    """Refinancing older than this many months before a bond's issue is flagged."""

    login_max_failures: int = 5
    """Failed logins for one account from one client before each further attempt from that client must
    wait (``login_delay_seconds``, doubling); other clients are not affected."""

    login_lock_minutes: int = 15
    """The longest wait between attempts for one account from one client, in minutes."""

    rendered_dir: str = ""
    """Folder for published reports' rendered pages, shared by every worker process. Empty: a folder
    next to an SQLite database file, otherwise one in the system's temporary folder."""

    kolada_base_url: str = "https://api.kolada.se/v3"
    """Kolada's API (v3, no key needed); official key figures for municipalities and regions."""

    kolada_timeout: float = 10.0
    """Seconds to wait for one Kolada response before retrying, then falling back to cached responses."""

    kolada_fixtures: str = ""
    """A folder of recorded Kolada JSON to answer from instead of the network (demo, tests, no network).
    Empty: ask the live API at ``kolada_base_url``."""

    max_xlsx_xml_bytes: int = 50 * 1024 * 1024
    """Most bytes an XLSX import's parts may really unpack to, all together (inflated and counted
    before the file is read; the sizes the file declares are not trusted)."""

    max_import_rows: int = 200_000
    """Most rows with values one import file may hold."""

    pending_uploads_dir: str = ""
    """Private folder (0700) where previewed uploads wait for confirmation, shared by every worker.
    Empty: a folder next to an SQLite database file, otherwise one in the system's temporary folder."""

    token_days: int = 90
    """Days an API token is valid from when it is made; an expired token is refused (401)."""

    trusted_proxies: str = ""
    """Comma-separated addresses (or CIDR networks) of reverse proxies whose ``X-Forwarded-For`` is
    believed. Empty: proxy headers are ignored and the connecting address is the client."""

    database_pool_size: int = 0
    """Connections each process keeps open to the database. 0: 20 on SQLite, 10 on PostgreSQL (with
    ``serve --workers 2`` that is 20 of the server's ``max_connections``, plus the overflow)."""

    database_max_overflow: int = -1
    """Connections a process may open beyond the pool under a burst (closed again after use).
    -1: 20 on SQLite, 10 on PostgreSQL."""

    page_cache_recheck_seconds: float = 2.0
    """PostgreSQL: how long cached pages trust the write counter shared by this machine's processes
    (``lanportfolj.shared_generation``) before asking the database again, which catches writes made
    elsewhere (``psql``, another machine). 0: ask the database on every request."""

    session_hours: int = 12
    """Hours a web session lasts from sign-in; after that the user signs in again."""

    session_seen_seconds: int = 300
    """How stale a session's *last seen* time may get before a request writes it again. Every write
    moves the page cache's data generation on, so this is kept coarse on purpose."""

    login_delay_seconds: int = 30
    """After ``login_max_failures`` failures for one account from one client, the wait before the next
    attempt; it doubles with every further failure, up to ``login_lock_minutes``."""

    login_client_max_failures: int = 20
    """Failed logins from one client (for any accounts) within ``login_client_window_minutes`` before
    that client is refused for the rest of the window."""

    login_client_window_minutes: int = 15
    """The window of ``login_client_max_failures``."""

    def __post_init__(self) -> None:
        if self.default_language not in ("sv", "en"):
            raise ValueError("default_language must be 'sv' or 'en'")


def _coerce(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds[name])
    if kind == "bool":
        return (
            raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
        )
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "Decimal":
        return Decimal(str(raw))
    return str(raw)


def load_settings(
    environ: dict[str, str] | None = None, config_file: Path | None = None, **overrides: Any
) -> Settings:
    """Settings from (lowest to highest precedence) defaults, a TOML file, the environment, ``overrides``.

    The TOML file is ``config_file`` or ``$LANPORTFOLJ_CONFIG``; its keys are the field names.
    """
    env = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = config_file or (
        Path(env[f"{ENV_PREFIX}CONFIG"]) if f"{ENV_PREFIX}CONFIG" in env else None
    )
    names = {f.name for f in fields(Settings)}
    if path is not None:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{path}: unknown setting(s): {', '.join(unknown)}")
        values.update({k: _coerce(k, v) for k, v in data.items()})
    for name in names:
        key = f"{ENV_PREFIX}{name.upper()}"
        if key in env:
            values[name] = _coerce(name, env[key])
    values.update(overrides)
    return replace(Settings(), **values)
