"""Server-side sessions that get a fresh ID at sign-in.

litestar keeps the ID a browser brings, so an ID planted before sign-in (session
fixation) would become a signed-in session. A handler that changes who is signed in
calls `rotate_session(request)`; the old ID's data is deleted and a new ID is issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Message, Scope

_ROTATE = "pingyi.rotate_session"
_NEW_ID = "pingyi.new_session_id"


def rotate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.scope[_ROTATE] = True  # type: ignore[literal-required]


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        scope: Scope = connection.scope
        if scope.get(_ROTATE):
            if not scope.get(_NEW_ID):
                scope[_NEW_ID] = self.generate_session_id()  # type: ignore[literal-required]
            return str(scope[_NEW_ID])  # type: ignore[literal-required]
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: Any, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        old = connection.cookies.get(self.config.key)
        if connection.scope.get(_ROTATE) and old:
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
