"""User accounts, passwords, login throttling and API tokens.

Passwords are hashed with Argon2id (argon2-cffi). API tokens are random (``secrets.token_urlsafe``); only their
SHA-256 is stored, so a token is shown once, when it is made; each expires after ``settings.token_days``.
Every change that matters is written to the audit trail in the same transaction: logins, failed logins, users
created, role changes, passwords, deactivations, sessions ended, tokens made and revoked. A password change,
a role change and a deactivation end every web session of the user (``services.sessions``).

Failed logins are stored per (e-mail address as typed, client) in ``login_failure``, so every worker
process sees them; ``domain.login_throttle`` decides how long the next attempt waits. Every attempt,
whether the address is known, unknown or throttled, costs exactly one Argon2 verification.
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
from sqlmodel import Session, col, delete, func, select

from lanportfolj.config import Settings
from lanportfolj.domain.login_throttle import ThrottleRules, retry_after
from lanportfolj.models import ApiToken, Borrower, Loan, LoginFailure, UserAccount
from lanportfolj.services import audit, sessions

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
    # whoever held the old role signs in again: no page or form of the old role stays usable
    sessions.end_all(session, user_id=user.id or 0)
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
    """A new password (an admin's reset, or the user's own change): every session of the user ends and
    the login throttle for the account is lifted."""
    _check_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    ended = sessions.end_all(session, user_id=user.id or 0)
    _forget_failures(session, user.email)
    audit.record(
        session,
        actor=actor,
        action="user.password_set",
        entity="user",
        entity_id=user.id or "",
        detail=f"{ended} session(s) ended",
    )


def change_own_password(
    session: Session, *, user: UserAccount, current: str, new: str, confirm: str
) -> None:
    """The user's own password change; the current password is required (a session left open on a
    shared computer must not be enough to take the account over)."""
    if not verify_password(user.password_hash, current):
        raise UserError("The current password is wrong.", "Det nuvarande lösenordet är fel.")
    if new != confirm:
        raise UserError(
            "The new password and its repetition differ.",
            "Det nya lösenordet och upprepningen skiljer sig åt.",
        )
    set_password(session, user=user, password=new, actor=user.email)


def set_active(session: Session, *, user: UserAccount, active: bool, actor: str) -> None:
    """Deactivate (every session ends, tokens stop working, sign-in is refused) or reactivate a user."""
    if user.active == active:
        return
    before = _snapshot(user)
    user.active = active
    session.add(user)
    detail = ""
    if not active:
        detail = f"{sessions.end_all(session, user_id=user.id or 0)} session(s) ended"
    audit.record(
        session,
        actor=actor,
        action="user.activated" if active else "user.deactivated",
        entity="user",
        entity_id=user.id or "",
        before=before,
        after=_snapshot(user),
        detail=detail,
    )


def sign_out_everywhere(session: Session, *, user: UserAccount, actor: str) -> int:
    """End every web session of ``user`` (API tokens are revoked one by one); returns how many ended."""
    ended = sessions.end_all(session, user_id=user.id or 0)
    audit.record(
        session,
        actor=actor,
        action="user.sessions_ended",
        entity="user",
        entity_id=user.id or "",
        detail=f"{ended} session(s) ended",
    )
    return ended


def unlock(session: Session, *, user: UserAccount, actor: str) -> None:
    """Lift the login throttle for the account, from every client, before it runs out."""
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    _forget_failures(session, user.email)
    audit.record(
        session, actor=actor, action="user.unlocked", entity="user", entity_id=user.id or ""
    )


def list_users(session: Session, *, settings: Settings | None = None) -> list[dict[str, Any]]:
    """Every user with the name of their organisation, ordered by e-mail. ``locked``: some client must
    wait before trying the account again (``settings`` gives the threshold; the defaults without)."""
    rows = session.exec(
        select(UserAccount, Borrower)
        .join(Borrower, col(Borrower.id) == col(UserAccount.borrower_id), isouter=True)
        .order_by(col(UserAccount.email))
    ).all()
    now = datetime.now(UTC)
    throttled = _throttled_accounts(session, now, settings or Settings(secret_key="-"))
    return [
        {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "borrower_id": user.borrower_id,
            "borrower": borrower.name if borrower else None,
            "borrower_orgnr": borrower.orgnr if borrower else None,
            "active": user.active,
            "locked": is_locked(user, now) or account_hash(user.email) in throttled,
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
    """What a login attempt came to: ``ok``, ``wrong`` (unknown e-mail, inactive account or wrong
    password: one answer for all) or ``throttled`` (try again in ``retry_after`` seconds)."""

    outcome: str
    user: UserAccount | None = None
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def account_hash(email: str) -> str:
    """The throttle's key for an e-mail address as typed: its SHA-256, so the table keeps no list of
    addresses (nor the passwords people sometimes type into the address field)."""
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()


def throttle_rules(settings: Settings) -> ThrottleRules:
    return ThrottleRules(
        free=settings.login_max_failures,
        first_delay=settings.login_delay_seconds,
        longest_delay=settings.login_lock_minutes * 60,
        client_cap=settings.login_client_max_failures,
        client_window=settings.login_client_window_minutes * 60,
    )


def _forget_failures(session: Session, email: str, client: str | None = None) -> None:
    stmt = delete(LoginFailure).where(col(LoginFailure.account_hash) == account_hash(email))
    if client is not None:
        stmt = stmt.where(col(LoginFailure.client) == client)
    session.exec(stmt)  # type: ignore[call-overload]


def _throttled_accounts(session: Session, now: datetime, settings: Settings) -> set[str]:
    # shown as "locked" on the users page: some client has had enough failures for the account to be
    # made to wait (a typo or two is not worth an admin's attention)
    rules = throttle_rules(settings)
    return set(
        session.exec(
            select(LoginFailure.account_hash)
            .where(col(LoginFailure.at) > now - rules.memory)
            .group_by(col(LoginFailure.account_hash), col(LoginFailure.client))
            .having(func.count() >= rules.free)
        ).all()
    )


def login_wait(
    session: Session, *, email: str, client: str, settings: Settings, now: datetime
) -> int:
    """Seconds before (e-mail, client) may try again; 0 when an attempt may be made now."""
    rules = throttle_rules(settings)
    key = account_hash(email)
    count, latest = session.exec(
        select(func.count(), func.max(LoginFailure.at)).where(
            LoginFailure.account_hash == key,
            LoginFailure.client == client,
            col(LoginFailure.at) > now - rules.memory,
        )
    ).one()
    client_window = now - timedelta(seconds=rules.client_window)
    recent = session.exec(
        select(LoginFailure.at)
        .where(LoginFailure.client == client, col(LoginFailure.at) > client_window)
        .order_by(col(LoginFailure.at))
    ).all()
    return retry_after(
        pair_failures=int(count or 0),
        pair_latest=_aware(latest) if latest is not None else None,
        client_failures=[_aware(at) for at in recent],
        now=now,
        rules=rules,
    )


def _record_failure(session: Session, *, email: str, client: str, now: datetime) -> None:
    session.add(LoginFailure(account_hash=account_hash(email), client=client[:64], at=now))
    # what is older than any rule looks back is dropped here, so the table stays small without a job
    oldest = now - timedelta(days=1)
    session.exec(delete(LoginFailure).where(col(LoginFailure.at) < oldest))  # type: ignore[call-overload]


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    settings: Settings,
    client: str = "",
    now: datetime | None = None,
) -> LoginResult:
    """Check a password under the login throttle (``domain.login_throttle``). A known address, an
    unknown one, an inactive account and a throttled attempt cost the same one Argon2 verification, and
    answer alike; a throttled attempt is refused whatever the password. The caller commits (the
    failures and audit events go with it)."""
    moment = now or datetime.now(UTC)
    address = normalise_email(email)[:200]
    who = client[:64] or "unknown"
    detail = f"client {who}"
    wait = login_wait(session, email=address, client=who, settings=settings, now=moment)
    if wait:
        verify_password(_dummy_hash(), password)
        audit.record(
            session,
            actor=address,
            action="login.throttled",
            entity="user",
            detail=f"{detail}, retry after {wait} s",
        )
        return LoginResult("throttled", retry_after=wait)
    user = find_user(session, address)
    usable = user is not None and user.active and bool(user.password_hash)
    if user is None or not usable:
        verify_password(_dummy_hash(), password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok:
        _record_failure(session, email=address, client=who, now=moment)
        audit.record(
            session,
            actor=address,
            action="login.failed",
            entity="user",
            entity_id=user.id if user and user.id else "",
            detail=", ".join(
                ["wrong password" if usable else "unknown or inactive account", detail]
            ),
        )
        return LoginResult("wrong")
    assert user is not None
    _forget_failures(session, address, who)
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
    session: Session, *, user: UserAccount, name: str = "", actor: str, days: int = 90
) -> tuple[ApiToken, str]:
    """A new API token for ``user``, valid for ``days`` (``settings.token_days``): the stored row and
    the token itself, which is never shown again."""
    raw = secrets.token_urlsafe(32)
    made = datetime.now(UTC)
    token = ApiToken(
        user_id=user.id or 0,
        name=name.strip()[:100],
        prefix=raw[:TOKEN_PREFIX_LENGTH],
        token_hash=token_hash(raw),
        created_at=made,
        expires_at=made + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.created",
        entity="api_token",
        entity_id=token.id or "",
        after={
            "user": user.email,
            "name": token.name,
            "prefix": token.prefix,
            "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        },
    )
    return token, raw


def revoke_token(
    session: Session, *, token_id: int, actor: str, owner_id: int | None = None
) -> ApiToken:
    """Revoke a token; revoking twice is harmless and recorded once. With ``owner_id`` only that user's
    own token may be revoked (another's answers as if it did not exist)."""
    token = session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
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


def token_expired(token: ApiToken, now: datetime) -> bool:
    # a token without an expiry was never given one: refused rather than valid for ever
    return token.expires_at is None or _aware(token.expires_at) <= now


def user_for_token(session: Session, raw: str) -> UserAccount | None:
    """The active, unlocked user a raw bearer token belongs to, or None for an unknown, revoked or
    expired token."""
    if not raw:
        return None
    now = datetime.now(UTC)
    token = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(raw))).first()
    if token is None or token.revoked_at is not None or token_expired(token, now):
        return None
    user = active_user(session, token.user_id)
    if user is None or is_locked(user, now):
        return None
    token.last_used_at = now
    session.add(token)
    return user


def list_tokens(session: Session, *, user_id: int | None = None) -> list[dict[str, Any]]:
    """Every token (never the token itself), or one user's, newest first; ``state`` is ``active``,
    ``expired`` or ``revoked``."""
    stmt = select(ApiToken, UserAccount).join(
        UserAccount, col(UserAccount.id) == col(ApiToken.user_id)
    )
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    rows = session.exec(
        stmt.order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    ).all()
    now = datetime.now(UTC)
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
            "expires_at": token.expires_at,
            "state": "revoked"
            if token.revoked_at is not None
            else "expired"
            if token_expired(token, now)
            else "active",
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
