"""The role check every admin route goes through.

Each admin handler declares `opt={"permission": "..."}`; a handler without one is
refused (fail closed). The signed-in user lives in the server-side session.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from pingyi.permissions import allowed


def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any] | None:
    session = connection.scope.get("session")
    if isinstance(session, dict):
        user = session.get("user")
        if isinstance(user, dict):
            return user
    return None


def require_permission(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    user = current_user(connection)
    if user is None:
        raise NotAuthorizedException("sign in first")
    permission = handler.opt.get("permission")
    if not permission or not allowed(user["role"], permission):
        raise PermissionDeniedException("forbidden")
