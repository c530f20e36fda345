"""Server-side web sessions: started at sign-in, looked up per request, ended all at once.

The browser's cookie holds a random 32-byte token (``secrets.token_urlsafe``); the ``user_session`` row
holds its SHA-256, so neither a database copy nor a log of the table signs anybody in. Ending a user's
sessions deletes their rows: the next request with an old cookie finds nothing and is signed out, in every
worker process, because the lookup asks the database (or a cache tied to the data generation, which any
commit moves on).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, select

from lanportfolj.models import UserAccount, UserSession

TOKEN_BYTES = 32
CLIENT_LENGTH = 64
USER_AGENT_LENGTH = 200


def token_hash(raw: str) -> str:
    """What is stored for a session token (and compared on every request)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SessionUser:
    """A live session and the active user behind it, as one lookup returns them."""

    session_id: int
    token_hash: str
    expires_at: datetime
    last_seen_at: datetime
    user: UserAccount


def start(
    session: Session,
    *,
    user: UserAccount,
    hours: int,
    client: str = "",
    user_agent: str = "",
    now: datetime | None = None,
) -> str:
    """A new session for ``user``; returns the token for the cookie (shown nowhere else, stored hashed)."""
    moment = now or datetime.now(UTC)
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        UserSession(
            token_hash=token_hash(raw),
            user_id=user.id or 0,
            created_at=moment,
            last_seen_at=moment,
            expires_at=moment + timedelta(hours=hours),
            client_address=client[:CLIENT_LENGTH],
            user_agent=user_agent[:USER_AGENT_LENGTH],
        )
    )
    session.flush()
    return raw


def lookup(session: Session, raw: str, now: datetime | None = None) -> SessionUser | None:
    """The live session for a cookie's token and its active user, in one indexed query; None for an
    unknown, ended or expired session or an inactive user."""
    if not raw:
        return None
    row = session.exec(
        select(UserSession, UserAccount)
        .join(UserAccount, col(UserAccount.id) == col(UserSession.user_id))
        .where(UserSession.token_hash == token_hash(raw))
    ).first()
    if row is None:
        return None
    found, user = row
    if not user.active or _aware(found.expires_at) <= (now or datetime.now(UTC)):
        return None
    return SessionUser(
        session_id=found.id or 0,
        token_hash=found.token_hash,
        expires_at=_aware(found.expires_at),
        last_seen_at=_aware(found.last_seen_at),
        user=user,
    )


def touch(session: Session, *, session_id: int, now: datetime | None = None) -> None:
    """Record that a session was just used (the caller decides how often: every write costs the page
    cache its generation)."""
    row = session.get(UserSession, session_id)
    if row is not None:
        row.last_seen_at = now or datetime.now(UTC)
        session.add(row)


def end(session: Session, *, token_hash_value: str) -> None:
    """End one session (sign-out)."""
    session.exec(delete(UserSession).where(col(UserSession.token_hash) == token_hash_value))  # type: ignore[call-overload]


def end_all(session: Session, *, user_id: int) -> int:
    """End every session of a user; returns how many there were."""
    count = len(session.exec(select(UserSession.id).where(UserSession.user_id == user_id)).all())
    session.exec(delete(UserSession).where(col(UserSession.user_id) == user_id))  # type: ignore[call-overload]
    return count


def purge_expired(session: Session, now: datetime | None = None) -> None:
    """Drop sessions past their expiry (called at sign-in, so the table stays the size of who is in)."""
    session.exec(
        delete(UserSession).where(col(UserSession.expires_at) <= (now or datetime.now(UTC)))  # type: ignore[call-overload]
    )


def active(session: Session, *, user_id: int, now: datetime | None = None) -> list[dict[str, Any]]:
    """A user's sessions that have not expired, newest first (never the token or its hash)."""
    moment = now or datetime.now(UTC)
    rows = session.exec(
        select(UserSession)
        .where(UserSession.user_id == user_id)
        .order_by(col(UserSession.created_at).desc(), col(UserSession.id).desc())
    ).all()
    return [
        {
            "id": row.id,
            "created_at": _aware(row.created_at),
            "last_seen_at": _aware(row.last_seen_at),
            "expires_at": _aware(row.expires_at),
            "client": row.client_address,
            "user_agent": row.user_agent,
        }
        for row in rows
        if _aware(row.expires_at) > moment
    ]
