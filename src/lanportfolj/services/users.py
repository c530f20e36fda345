"""User accounts, passwords, lock-out and API tokens.

Passwords are hashed with Argon2id (argon2-cffi). API tokens are random (``secrets.token_urlsafe``); only their
SHA-256 is stored, so a token is shown once, when it is made. Every change that matters is written to the audit
trail in the same transaction: logins, failed logins, users created, role changes, tokens made and revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from lanportfolj.config import Settings
from lanportfolj.models import ApiToken, Borrower, Loan, UserAccount
from lanportfolj.services import audit

ROLES = ("analyst", "borrower", "investor", "admin")
TOKEN_PREFIX_LENGTH = 8
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so a wrong address takes as long as a wrong password.

    Made on first use, not at import: every CLI command imports this module and should not pay an Argon2
    hash for it."""
    return _hasher.hash("not-a-real-password")


class UserError(ValueError):
    """A request about users that cannot be carried out; the message exists in Swedish and English."""

    def __init__(self, message_en: str, message_sv: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_sv = message_sv

    def message(self, lang: str) -> str:
        return self.message_sv if lang == "sv" else self.message_en


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; False for any mismatch or unreadable hash."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.",
            f"Lösenordet måste vara minst {MIN_PASSWORD_LENGTH} tecken långt.",
        )


def _resolve_borrower(
    session: Session, role: str, borrower_id: int | None, borrower_orgnr: str | None
) -> int | None:
    if role not in ROLES:
        raise UserError(
            f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.",
            f"Okänd roll {role!r}; välj en av {', '.join(ROLES)}.",
        )
    if borrower_orgnr:
        found = session.exec(
            select(Borrower).where(Borrower.orgnr == borrower_orgnr.strip())
        ).first()
        if found is None:
            raise UserError(
                f"No borrower with organisation number {borrower_orgnr}.",
                f"Ingen låntagare har organisationsnummer {borrower_orgnr}.",
            )
        borrower_id = found.id
    elif borrower_id is not None and session.get(Borrower, borrower_id) is None:
        raise UserError(f"No borrower {borrower_id}.", f"Ingen låntagare {borrower_id}.")
    if role == "borrower" and borrower_id is None:
        raise UserError(
            "A borrower user must belong to a borrower organisation.",
            "En låntagaranvändare måste höra till en låntagarorganisation.",
        )
    if role != "borrower" and borrower_id is not None:
        raise UserError(
            "Only borrower users belong to a borrower organisation.",
            "Bara låntagaranvändare hör till en låntagarorganisation.",
        )
    return borrower_id


def find_user(session: Session, email: str) -> UserAccount | None:
    return session.exec(
        select(UserAccount).where(UserAccount.email == normalise_email(email))
    ).first()


def _snapshot(user: UserAccount) -> dict[str, Any]:
    return {
        "email": user.email,
        "role": user.role,
        "borrower_id": user.borrower_id,
        "active": user.active,
    }


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    password: str | None = None,
    borrower_id: int | None = None,
    borrower_orgnr: str | None = None,
    language: str = "sv",
    actor: str = "system",
) -> UserAccount:
    """A new user. Without a password the account cannot sign in on the web (tokens still work)."""
    address = normalise_email(email)
    if "@" not in address or address.startswith("@") or address.endswith("@"):
        raise UserError(f"{email!r} is not an e-mail address.", f"{email!r} är ingen e-postadress.")
    resolved = _resolve_borrower(session, role, borrower_id, borrower_orgnr)
    if find_user(session, address) is not None:
        raise UserError(
            f"A user {address} already exists.", f"Det finns redan en användare {address}."
        )
    if password is not None:
        _check_password(password)
    user = UserAccount(
        email=address,
        role=role,
        borrower_id=resolved,
        password_hash=hash_password(password) if password else "",
        language=language if language in ("sv", "en") else "sv",
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity="user",
        entity_id=user.id or "",
        after=_snapshot(user),
    )
    return user


def change_role(
    session: Session,
    *,
    user: UserAccount,
    role: str,
    borrower_id: int | None = None,
    actor: str,
) -> UserAccount:
    """Give ``user`` a new role (and organisation, for borrowers); recorded with before and after."""
    resolved = _resolve_borrower(session, role, borrower_id, None)
    if (user.role, user.borrower_id) == (role, resolved):
        return user
    before = _snapshot(user)
    user.role = role
    user.borrower_id = resolved
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="user.role_changed",
        entity="user",
        entity_id=user.id or "",
        before=before,
        after=_snapshot(user),
    )
    return user


def set_password(session: Session, *, user: UserAccount, password: str, actor: str) -> None:
    """A new password; it also lifts a lock-out."""
    _check_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(
        session, actor=actor, action="user.password_set", entity="user", entity_id=user.id or ""
    )


def unlock(session: Session, *, user: UserAccount, actor: str) -> None:
    """Lift a lock-out before it runs out."""
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    audit.record(
        session, actor=actor, action="user.unlocked", entity="user", entity_id=user.id or ""
    )


def list_users(session: Session) -> list[dict[str, Any]]:
    """Every user with the name of their organisation, ordered by e-mail."""
    rows = session.exec(
        select(UserAccount, Borrower)
        .join(Borrower, col(Borrower.id) == col(UserAccount.borrower_id), isouter=True)
        .order_by(col(UserAccount.email))
    ).all()
    now = datetime.now(UTC)
    return [
        {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "borrower_id": user.borrower_id,
            "borrower": borrower.name if borrower else None,
            "borrower_orgnr": borrower.orgnr if borrower else None,
            "active": user.active,
            "locked": is_locked(user, now),
            "language": user.language,
            "created_at": user.created_at,
        }
        for user, borrower in rows
    ]


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_locked(user: UserAccount, now: datetime | None = None) -> bool:
    if user.locked_until is None:
        return False
    return _aware(user.locked_until) > (now or datetime.now(UTC))


@dataclass(frozen=True)
class LoginResult:
    """What a login attempt came to: ``ok``, ``wrong`` (unknown e-mail or password) or ``locked``."""

    outcome: str
    user: UserAccount | None = None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    settings: Settings,
    client: str = "",
    now: datetime | None = None,
) -> LoginResult:
    """Check a password, counting failures; after ``settings.login_max_failures`` in a row the account is
    locked for ``settings.login_lock_minutes``. The caller commits (the audit events go with it)."""
    moment = now or datetime.now(UTC)
    address = normalise_email(email)
    user = find_user(session, address)
    detail = f"client {client}" if client else ""
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        audit.record(
            session,
            actor=address[:200],
            action="login.failed",
            entity="user",
            entity_id=user.id if user and user.id else "",
            detail=" ".join(filter(None, ["unknown or inactive account", detail])),
        )
        return LoginResult("wrong")
    if is_locked(user, moment):
        audit.record(
            session,
            actor=user.email,
            action="login.refused_locked",
            entity="user",
            entity_id=user.id or "",
            detail=detail,
        )
        return LoginResult("locked", user, _aware(user.locked_until) if user.locked_until else None)
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        locked = user.failed_logins >= settings.login_max_failures
        if locked:
            user.locked_until = moment + timedelta(minutes=settings.login_lock_minutes)
            user.failed_logins = 0
        session.add(user)
        audit.record(
            session,
            actor=user.email,
            action="login.failed",
            entity="user",
            entity_id=user.id or "",
            detail=" ".join(
                filter(None, ["wrong password", "account locked" if locked else "", detail])
            ),
        )
        if locked:
            return LoginResult("locked", user, user.locked_until)
        return LoginResult("wrong")
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(user)
    audit.record(
        session,
        actor=user.email,
        action="login",
        entity="user",
        entity_id=user.id or "",
        detail=detail,
    )
    return LoginResult("ok", user)


def record_logout(session: Session, *, user_id: int, email: str) -> None:
    audit.record(session, actor=email, action="logout", entity="user", entity_id=user_id)


def active_user(session: Session, user_id: int) -> UserAccount | None:
    """The user behind a session, if the account still exists and is active."""
    user = session.get(UserAccount, user_id)
    return user if user is not None and user.active else None


# --- API tokens -------------------------------------------------------------------------------------


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    session: Session, *, user: UserAccount, name: str = "", actor: str
) -> tuple[ApiToken, str]:
    """A new API token for ``user``: the stored row and the token itself, which is never shown again."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id or 0,
        name=name.strip()[:100],
        prefix=raw[:TOKEN_PREFIX_LENGTH],
        token_hash=token_hash(raw),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.created",
        entity="api_token",
        entity_id=token.id or "",
        after={"user": user.email, "name": token.name, "prefix": token.prefix},
    )
    return token, raw


def revoke_token(session: Session, *, token_id: int, actor: str) -> ApiToken:
    """Revoke a token; revoking twice is harmless and recorded once."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise UserError(f"No API token {token_id}.", f"Ingen API-nyckel {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = datetime.now(UTC)
        session.add(token)
        owner = session.get(UserAccount, token.user_id)
        audit.record(
            session,
            actor=actor,
            action="token.revoked",
            entity="api_token",
            entity_id=token.id or "",
            before={
                "user": owner.email if owner else None,
                "name": token.name,
                "prefix": token.prefix,
            },
        )
    return token


def user_for_token(session: Session, raw: str) -> UserAccount | None:
    """The active user a raw bearer token belongs to, or None for an unknown or revoked token."""
    if not raw:
        return None
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
    if token is None or token.revoked_at is not None:
        return None
    user = active_user(session, token.user_id)
    if user is None:
        return None
    token.last_used_at = datetime.now(UTC)
    session.add(token)
    return user


def list_tokens(session: Session) -> list[dict[str, Any]]:
    """Every token (never the token itself), newest first."""
    rows = session.exec(
        select(ApiToken, UserAccount)
        .join(UserAccount, col(UserAccount.id) == col(ApiToken.user_id))
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    ).all()
    return [
        {
            "id": token.id,
            "user": user.email,
            "role": user.role,
            "name": token.name,
            "prefix": token.prefix,
            "created_at": token.created_at,
            "last_used_at": token.last_used_at,
            "revoked_at": token.revoked_at,
        }
        for token, user in rows
    ]


# --- demo users -------------------------------------------------------------------------------------

DEMO_PASSWORD = "demo-lanportfolj"
DEMO_USERS = (
    ("analys@demo.lanportfolj.se", "analyst"),
    ("lantagare@demo.lanportfolj.se", "borrower"),
    ("investerare@demo.lanportfolj.se", "investor"),
    ("admin@demo.lanportfolj.se", "admin"),
)


def demo_borrower(session: Session) -> Borrower | None:
    """The organisation the demo borrower user belongs to: the one with the first loan reference."""
    row = session.exec(
        select(Borrower)
        .join(Loan, col(Loan.borrower_id) == col(Borrower.id))
        .order_by(col(Loan.reference))
    ).first()
    return row or session.exec(select(Borrower).order_by(col(Borrower.orgnr))).first()


def ensure_demo_users(session: Session) -> list[dict[str, Any]]:
    """One user per role with the documented demo password (data/demo/USERS.md). Existing users are left
    as they are, so loading the demo twice changes nothing. Returns what each user can do."""
    borrower = demo_borrower(session)
    out: list[dict[str, Any]] = []
    for email, role in DEMO_USERS:
        user = find_user(session, email)
        created = False
        if user is None:
            if role == "borrower" and borrower is None:
                continue  # no organisation to bind the borrower user to yet
            user = create_user(
                session,
                email=email,
                role=role,
                password=DEMO_PASSWORD,
                borrower_id=borrower.id if role == "borrower" and borrower else None,
                actor="demo",
            )
            created = True
        org = session.get(Borrower, user.borrower_id) if user.borrower_id else None
        out.append(
            {
                "email": user.email,
                "role": user.role,
                "password": DEMO_PASSWORD,
                "borrower": org.name if org else None,
                "created": created,
            }
        )
    return out
