"""Accounts from the command line: ``users create|list|deactivate|activate|reset-password`` and
``tokens create|list|revoke``."""

from __future__ import annotations

import secrets
import sys
from datetime import datetime

import typer
from sqlmodel import Session

from lanportfolj.cli import app
from lanportfolj.cli.common import (
    EXIT_USAGE,
    console,
    fail,
    migrated_engine,
    print_json,
    print_table,
    state,
)
from lanportfolj.db import session_scope
from lanportfolj.services import users

users_app = typer.Typer(help="User accounts and roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for scripts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")


@users_app.command("create")
def users_create(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The user's e-mail address (also the login)."),
    role: str = typer.Option(..., "--role", help="analyst, borrower, investor or admin."),
    borrower: str | None = typer.Option(
        None, "--borrower", help="Organisation number (NNNNNN-NNNN); required for borrower users."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (first line)."
    ),
    language: str = typer.Option("sv", "--language", help="sv or en"),
) -> None:
    """Create a user. Without --password-stdin the account can only use API tokens."""
    if role not in users.ROLES:
        fail(f"unknown role {role!r}; choose one of {', '.join(users.ROLES)}", code=EXIT_USAGE)
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on standard input")
    engine = migrated_engine(ctx)
    try:
        with session_scope(engine) as session:
            user = users.create_user(
                session,
                email=email,
                role=role,
                password=password,
                borrower_orgnr=borrower,
                language=language,
                actor="cli",
            )
            summary = f"{user.email} ({user.role})"
    except users.UserError as exc:
        fail(exc.message_en)
    console.print(f"Created {summary}." + ("" if password else " No password: token use only."))


@users_app.command("list")
def users_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List the users with role, organisation and state."""
    with Session(migrated_engine(ctx)) as session:
        rows = users.list_users(session, settings=state(ctx).settings)
    if as_json:
        print_json(rows)
        return
    print_table(
        "Users",
        ["id", "e-mail", "role", "organisation", "state"],
        (
            (
                r["id"],
                r["email"],
                r["role"],
                f"{r['borrower']} ({r['borrower_orgnr']})" if r["borrower"] else "",
                "inactive" if not r["active"] else "locked" if r["locked"] else "active",
            )
            for r in rows
        ),
    )


def _set_active(ctx: typer.Context, email: str, active: bool) -> None:
    with session_scope(migrated_engine(ctx)) as session:
        user = users.find_user(session, email)
        if user is None:
            fail(f"no user {email}")
        users.set_active(session, user=user, active=active, actor="cli")


@users_app.command("deactivate")
def users_deactivate(
    ctx: typer.Context, email: str = typer.Argument(..., help="The user's e-mail address.")
) -> None:
    """Deactivate a user: every web session ends, API tokens stop working, sign-in is refused."""
    _set_active(ctx, email, False)
    console.print(f"{users.normalise_email(email)} is deactivated and signed out everywhere.")


@users_app.command("activate")
def users_activate(
    ctx: typer.Context, email: str = typer.Argument(..., help="The user's e-mail address.")
) -> None:
    """Let a deactivated user in again."""
    _set_active(ctx, email, True)
    console.print(f"{users.normalise_email(email)} is active again.")


@users_app.command("reset-password")
def users_reset_password(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The user's e-mail address."),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the new password from standard input (first line); otherwise one is made and "
        "printed once.",
    ),
) -> None:
    """Set a new password; every web session of the user ends."""
    made = not password_stdin
    password = secrets.token_urlsafe(15) if made else sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("no password on standard input")
    try:
        with session_scope(migrated_engine(ctx)) as session:
            user = users.find_user(session, email)
            if user is None:
                fail(f"no user {email}")
            users.set_password(session, user=user, password=password, actor="cli")
            address = user.email
    except users.UserError as exc:
        fail(exc.message_en)
    console.print(f"New password set for {address}; their sessions ended.")
    if made:
        console.print("It is shown only now:")
        # alone on stdout, so a script can capture it
        typer.echo(password)


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="Whose token it is."),
    name: str = typer.Option("", "--name", help="What the token is for."),
) -> None:
    """Make an API token and print it once; only its hash is stored."""
    engine = migrated_engine(ctx)
    with session_scope(engine) as session:
        owner = users.find_user(session, email)
        if owner is None:
            fail(f"no user {email}")
        if not owner.active:
            fail(f"{email} is deactivated")
        token, raw = users.create_token(
            session, user=owner, name=name, actor="cli", days=state(ctx).settings.token_days
        )
        token_id = token.id
        expires = token.expires_at.date().isoformat() if token.expires_at else "never"
    console.print(
        f"Token {token_id} for {email}, valid until {expires}. It is shown only now; store it safely:"
    )
    # the token alone on stdout, so scripts can capture it
    typer.echo(raw)


@tokens_app.command("list")
def tokens_list(
    ctx: typer.Context,
    email: str | None = typer.Option(None, "--user", help="Only this user's tokens."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List the API tokens (never the tokens themselves) with expiry and state."""
    with Session(migrated_engine(ctx)) as session:
        user_id = None
        if email is not None:
            owner = users.find_user(session, email)
            if owner is None:
                fail(f"no user {email}")
            user_id = owner.id
        rows = users.list_tokens(session, user_id=user_id)
    if as_json:
        print_json(rows)
        return

    def day(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d") if moment is not None else "–"

    print_table(
        "API tokens",
        ["id", "prefix", "user", "name", "created", "expires", "last used", "state"],
        (
            (
                r["id"],
                f"{r['prefix']}…",
                r["user"],
                r["name"],
                day(r["created_at"]),
                day(r["expires_at"]),
                day(r["last_used_at"]),
                r["state"],
            )
            for r in rows
        ),
    )


@tokens_app.command("revoke")
def tokens_revoke(ctx: typer.Context, token_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Revoke a token at once."""
    engine = migrated_engine(ctx)
    try:
        with session_scope(engine) as session:
            token = users.revoke_token(session, token_id=token_id, actor="cli")
            prefix = token.prefix
    except users.UserError as exc:
        fail(exc.message_en)
    console.print(f"Token {token_id} ({prefix}…) revoked.")


def create_demo_users(
    ctx: typer.Context, *, quiet: bool = False, site: str = "http://127.0.0.1:8000"
) -> None:
    """One user per role for the demo (called by ``demo load``), and how to sign in with them."""
    with session_scope(migrated_engine(ctx)) as session:
        rows = users.ensure_demo_users(session)
    if quiet:
        return
    login = site.rstrip("/") + "/login"
    console.print(f"Demo users (see data/demo/USERS.md); sign in at {login}:", highlight=False)
    for r in rows:
        org = f", {r['borrower']}" if r["borrower"] else ""
        console.print(
            f"  {r['role']:<9} {r['email']}  password: {r['password']}{org}", highlight=False
        )
