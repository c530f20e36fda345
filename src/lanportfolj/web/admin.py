"""Admin pages: users and their roles, a user's sessions, deactivation and password reset, API tokens,
and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlmodel import Session, col, func, select

from lanportfolj.models import AuditEvent, Borrower, UserAccount
from lanportfolj.services import sessions, users
from lanportfolj.web.access import CurrentUser, allow
from lanportfolj.web.auth import flash
from lanportfolj.web.i18n import get_language
from lanportfolj.web.i18n import gettext as _
from lanportfolj.web.params import RowId, row_id_or_none

ADMIN = allow("admin")
AUDIT_PAGE_SIZE = 50
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass
class NewUserForm:
    email: str = ""
    role: str = ""
    borrower_id: str = ""
    password: str = ""


@dataclass
class RoleForm:
    role: str = ""
    borrower_id: str = ""


@dataclass
class PasswordResetForm:
    password: str = ""


@dataclass
class NewTokenForm:
    email: str = ""
    name: str = ""


def _borrowers(db: Session) -> list[Borrower]:
    return list(db.exec(select(Borrower).order_by(col(Borrower.name))).all())


def _int_or_none(raw: str) -> int | None:
    return row_id_or_none(raw)


def _users_page(
    request: Request[Any, Any, Any],
    db: Session,
    *,
    error: str = "",
    form: NewUserForm | None = None,
) -> Template:
    settings = request.app.state.settings
    return Template(
        "admin/users.html",
        context={
            "users": users.list_users(db, settings=settings),
            "borrowers": _borrowers(db),
            "roles": users.ROLES,
            "error": error,
            "form": form or NewUserForm(),
        },
        status_code=HTTP_400_BAD_REQUEST if error else 200,
    )


@get("/admin/users", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def users_page(request: Request[Any, Any, Any], db: Session) -> Template:
    """Every user with role and organisation; forms to add a user and change a role."""
    return _users_page(request, db)


@post("/admin/users", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def create_user(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[NewUserForm, FORM],
) -> Template | Redirect:
    """Add a user (recorded in the audit log)."""
    role = data.role.strip()
    try:
        created = users.create_user(
            db,
            email=data.email,
            role=role,
            password=data.password or None,
            borrower_id=_int_or_none(data.borrower_id) if role == "borrower" else None,
            actor=user.email,
        )
    except users.UserError as exc:
        db.rollback()
        return _users_page(request, db, error=exc.message(get_language()), form=data)
    db.commit()
    flash(request, _("User %(email)s was added.", email=created.email))
    return Redirect(path="/admin/users")


def _user_or_404(db: Session, user_id: int) -> UserAccount:
    found = db.get(UserAccount, user_id)
    if found is None:
        raise NotFoundException(f"No user {user_id}.")
    return found


@post("/admin/users/{user_id:int}/role", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def change_role(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    user_id: RowId,
    data: Annotated[RoleForm, FORM],
) -> Template | Redirect:
    """Give a user another role (and organisation, for borrowers)."""
    target = _user_or_404(db, user_id)
    if target.id == user.id and data.role != "admin":
        # the last way back in would be the command line; keep admins from locking themselves out
        return _users_page(request, db, error=_("You cannot take the admin role from yourself."))
    role = data.role.strip()
    try:
        users.change_role(
            db,
            user=target,
            role=role,
            borrower_id=_int_or_none(data.borrower_id) if role == "borrower" else None,
            actor=user.email,
        )
    except users.UserError as exc:
        db.rollback()
        return _users_page(request, db, error=exc.message(get_language()))
    db.commit()
    flash(request, _("The role of %(email)s is now %(role)s.", email=target.email, role=_(role)))
    return Redirect(path="/admin/users")


def _user_page(
    request: Request[Any, Any, Any], db: Session, target: UserAccount, *, error: str = ""
) -> Template:
    return Template(
        "admin/user.html",
        context={
            "target": target,
            "locked": any(
                u["locked"]
                for u in users.list_users(db, settings=request.app.state.settings)
                if u["id"] == target.id
            ),
            "sessions": sessions.active(db, user_id=target.id or 0),
            "tokens": users.list_tokens(db, user_id=target.id or 0),
            "min_password": users.MIN_PASSWORD_LENGTH,
            "error": error,
        },
        status_code=HTTP_400_BAD_REQUEST if error else 200,
    )


@get("/admin/users/{user_id:int}", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def user_page(request: Request[Any, Any, Any], db: Session, user_id: int) -> Template:
    """One user: active sessions (with "sign out everywhere"), deactivation and a password reset."""
    return _user_page(request, db, _user_or_404(db, user_id))


@post(
    "/admin/users/{user_id:int}/sessions/end",
    opt=ADMIN,
    sync_to_thread=True,
    include_in_schema=False,
)
def end_sessions(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, user_id: int
) -> Redirect:
    """Sign the user out everywhere at once (audited); their next request finds no session."""
    target = _user_or_404(db, user_id)
    ended = users.sign_out_everywhere(db, user=target, actor=user.email)
    db.commit()
    flash(
        request,
        _("%(email)s was signed out everywhere (%(n)s sessions).", email=target.email, n=ended),
    )
    if target.id == user.id:
        return Redirect(path="/login")
    return Redirect(path=f"/admin/users/{user_id}")


def _set_active(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, user_id: int, active: bool
) -> Template | Redirect:
    target = _user_or_404(db, user_id)
    if target.id == user.id and not active:
        return _user_page(request, db, target, error=_("You cannot deactivate yourself."))
    users.set_active(db, user=target, active=active, actor=user.email)
    db.commit()
    if active:
        flash(request, _("%(email)s is active again.", email=target.email))
    else:
        flash(request, _("%(email)s is deactivated and signed out everywhere.", email=target.email))
    return Redirect(path=f"/admin/users/{user_id}")


@post(
    "/admin/users/{user_id:int}/deactivate",
    opt=ADMIN,
    sync_to_thread=True,
    include_in_schema=False,
)
def deactivate_user(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, user_id: int
) -> Template | Redirect:
    """Deactivate a user: every session ends, tokens stop working, sign-in is refused."""
    return _set_active(request, db, user, user_id, False)


@post(
    "/admin/users/{user_id:int}/activate", opt=ADMIN, sync_to_thread=True, include_in_schema=False
)
def activate_user(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, user_id: int
) -> Template | Redirect:
    """Let a deactivated user in again."""
    return _set_active(request, db, user, user_id, True)


@post(
    "/admin/users/{user_id:int}/password", opt=ADMIN, sync_to_thread=True, include_in_schema=False
)
def reset_password(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    user_id: int,
    data: Annotated[PasswordResetForm, FORM],
) -> Template | Redirect:
    """Set a new password for a user (audited); every session of theirs ends."""
    target = _user_or_404(db, user_id)
    try:
        users.set_password(db, user=target, password=data.password, actor=user.email)
    except users.UserError as exc:
        db.rollback()
        return _user_page(request, db, target, error=exc.message(get_language()))
    db.commit()
    flash(
        request, _("The password of %(email)s was reset; their sessions ended.", email=target.email)
    )
    if target.id == user.id:
        return Redirect(path="/login")
    return Redirect(path=f"/admin/users/{user_id}")


@post("/admin/users/{user_id:int}/unlock", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def unlock_user(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, user_id: RowId
) -> Redirect:
    """Lift a lock-out after failed logins."""
    target = _user_or_404(db, user_id)
    users.unlock(db, user=target, actor=user.email)
    db.commit()
    flash(request, _("%(email)s may sign in again.", email=target.email))
    return Redirect(path="/admin/users")


def _tokens_page(
    db: Session, *, new_token: str = "", new_for: str = "", error: str = ""
) -> Template:
    return Template(
        "admin/tokens.html",
        context={
            "tokens": users.list_tokens(db),
            "users": users.list_users(db),
            "new_token": new_token,
            "new_for": new_for,
            "error": error,
        },
        status_code=HTTP_400_BAD_REQUEST if error else 200,
    )


@get("/admin/tokens", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def tokens_page(db: Session) -> Template:
    """API tokens (never the tokens themselves), and a form to make one."""
    return _tokens_page(db)


@post("/admin/tokens", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def create_token(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[NewTokenForm, FORM],
) -> Template:
    """Make a token and show it once, on this page only (it is not stored, so it cannot be shown again)."""
    owner = users.find_user(db, data.email)
    if owner is None:
        return _tokens_page(db, error=_("No user with that e-mail address."))
    if not owner.active:
        return _tokens_page(db, error=_("The user is deactivated."))
    _token, raw = users.create_token(
        db,
        user=owner,
        name=data.name,
        actor=user.email,
        days=request.app.state.settings.token_days,
    )
    db.commit()
    return _tokens_page(db, new_token=raw, new_for=owner.email)


@post(
    "/admin/tokens/{token_id:int}/revoke", opt=ADMIN, sync_to_thread=True, include_in_schema=False
)
def revoke_token(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, token_id: RowId
) -> Redirect:
    """Revoke a token at once; scripts using it get 401 from then on."""
    try:
        token = users.revoke_token(db, token_id=token_id, actor=user.email)
    except users.UserError as exc:
        raise NotFoundException(exc.message_en) from None
    db.commit()
    flash(request, _("Token %(prefix)s… was revoked.", prefix=token.prefix))
    return Redirect(path="/admin/tokens")


@get("/admin/audit", opt=ADMIN, sync_to_thread=True, include_in_schema=False)
def audit_page(db: Session, action: str = "", page: int = 1) -> Template:
    """The audit log, newest first, optionally for one kind of action."""
    stmt = select(AuditEvent)
    count = select(func.count()).select_from(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
        count = count.where(AuditEvent.action == action)
    total = db.exec(count).one()
    # a page past the end (or a huge one, whose offset no driver takes) shows the last page
    page = min(max(page, 1), max(1, -(-total // AUDIT_PAGE_SIZE)))
    events = db.exec(
        stmt.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((page - 1) * AUDIT_PAGE_SIZE)
        .limit(AUDIT_PAGE_SIZE)
    ).all()
    actions = db.exec(select(AuditEvent.action).distinct().order_by(col(AuditEvent.action))).all()
    return Template(
        "admin/audit.html",
        context={
            "events": events,
            "actions": actions,
            "action": action,
            "page": page,
            "pages": max(1, -(-total // AUDIT_PAGE_SIZE)),
            "total": total,
        },
    )


ROUTES = [
    users_page,
    create_user,
    change_role,
    user_page,
    end_sessions,
    deactivate_user,
    activate_user,
    reset_password,
    unlock_user,
    tokens_page,
    create_token,
    revoke_token,
    audit_page,
]
