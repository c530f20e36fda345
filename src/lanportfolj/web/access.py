"""Who may use which route: every handler declares its audience in ``opt``; anything else is refused.

``opt=allow(PUBLIC)`` for pages anyone may see, ``allow("analyst", "admin")`` for roles. A route without a
declaration is refused for everybody, so a forgotten rule shows up at once (and in the access-matrix test).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

PUBLIC = "public"
SCHEMA_PATH = "/schema"
ROLES = ("analyst", "borrower", "investor", "admin")


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as handlers see it."""

    id: int
    email: str
    role: str
    borrower_id: int | None = None
    language: str = "sv"


def allow(*roles: str) -> dict[str, Any]:
    """The ``opt`` that declares a route's audience."""
    unknown = set(roles) - {PUBLIC, *ROLES}
    if unknown:
        raise ValueError(f"unknown role(s): {sorted(unknown)}")
    return {"roles": frozenset(roles)}


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    user = connection.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def access_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Default deny: the route must name the roles that may use it."""
    roles = handler.opt.get("roles")
    if roles is None and connection.scope["path"].startswith(SCHEMA_PATH):
        return  # the OpenAPI document describes the API to anyone; the API itself checks tokens
    if roles is None:
        raise PermissionDeniedException("This route has no access rule.")
    if PUBLIC in roles:
        return
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("Sign in first.")
    if user.role not in roles:
        raise PermissionDeniedException("Your role may not use this page.")
