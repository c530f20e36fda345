"""Accounts from the command line: ``users create|list`` and ``tokens create|revoke``."""

from __future__ import annotations

import sys

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
        rows = users.list_users(session)
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
        token, raw = users.create_token(session, user=owner, name=name, actor="cli")
        token_id = token.id
    console.print(f"Token {token_id} for {email}. It is shown only now; store it safely:")
    # the token alone on stdout, so scripts can capture it
    typer.echo(raw)


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


def create_demo_users(ctx: typer.Context, *, quiet: bool = False) -> None:
    """One user per role for the demo (called by ``demo load``), and how to sign in with them."""
    with session_scope(migrated_engine(ctx)) as session:
        rows = users.ensure_demo_users(session)
    if quiet:
        return
    console.print("Demo users (see data/demo/USERS.md); sign in at http://127.0.0.1:8000/login:")
    for r in rows:
        org = f", {r['borrower']}" if r["borrower"] else ""
        console.print(
            f"  {r['role']:<9} {r['email']}  password: {r['password']}{org}", highlight=False
        )
