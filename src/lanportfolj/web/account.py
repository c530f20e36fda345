"""The signed-in user's own account: change the password (the current one required), see and revoke one's
own API tokens, see one's own sessions. Every role has this page; nobody sees another user's here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlmodel import Session

from lanportfolj.models import UserAccount
from lanportfolj.services import sessions, users
from lanportfolj.web.access import SIGNED_IN, CurrentUser, allow
from lanportfolj.web.auth import begin_session, flash
from lanportfolj.web.i18n import get_language
from lanportfolj.web.i18n import gettext as _

OWN = allow(*SIGNED_IN)
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


@dataclass
class PasswordChangeForm:
    current: str = ""
    password: str = ""
    confirm: str = ""


def _account_page(db: Session, user: CurrentUser, *, error: str = "") -> Template:
    return Template(
        "auth/account.html",
        context={
            "tokens": users.list_tokens(db, user_id=user.id),
            "sessions": sessions.active(db, user_id=user.id),
            "min_password": users.MIN_PASSWORD_LENGTH,
            "error": error,
        },
        status_code=HTTP_400_BAD_REQUEST if error else 200,
    )


def _me(db: Session, user: CurrentUser) -> UserAccount:
    found = db.get(UserAccount, user.id)
    if found is None:  # deleted between the session lookup and now
        raise NotFoundException("No such user.")
    return found


@get("/account", opt=OWN, sync_to_thread=True, include_in_schema=False)
def account_page(db: Session, user: CurrentUser) -> Template:
    """The password form, one's own API tokens and one's own sessions."""
    return _account_page(db, user)


@post("/account/password", opt=OWN, sync_to_thread=True, include_in_schema=False)
def change_password(
    request: Request[Any, Any, Any],
    db: Session,
    user: CurrentUser,
    data: Annotated[PasswordChangeForm, FORM],
) -> Template | Redirect:
    """Change one's own password: every session ends, this browser gets a new one."""
    me = _me(db, user)
    try:
        users.change_own_password(
            db, user=me, current=data.current, new=data.password, confirm=data.confirm
        )
    except users.UserError as exc:
        db.rollback()
        return _account_page(db, user, error=exc.message(get_language()))
    # set_password ended every session, this one too: the browser that changed it stays signed in
    cookies = begin_session(request, db, me)
    db.commit()
    flash(request, _("Your password was changed; every other session was signed out."))
    return Redirect(path="/account", cookies=cookies)


@post(
    "/account/tokens/{token_id:int}/revoke", opt=OWN, sync_to_thread=True, include_in_schema=False
)
def revoke_own_token(
    request: Request[Any, Any, Any], db: Session, user: CurrentUser, token_id: int
) -> Redirect:
    """Revoke one of one's own tokens; another user's token is answered as if it did not exist."""
    try:
        token = users.revoke_token(db, token_id=token_id, actor=user.email, owner_id=user.id)
    except users.UserError as exc:
        raise NotFoundException(exc.message_en) from None
    db.commit()
    flash(request, _("Token %(prefix)s… was revoked.", prefix=token.prefix))
    return Redirect(path="/account")


ROUTES = [account_page, change_password, revoke_own_token]
