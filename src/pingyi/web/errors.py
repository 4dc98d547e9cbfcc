"""Every failure becomes a page or a JSON body a person understands; never a trace.

A database that is down answers 503 with Retry-After, so clients and devices know
to try again and nothing they sent is silently dropped.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from pingyi.i18n import translate
from pingyi.logs import redact
from pingyi.web.headers import headers_for
from pingyi.web.limits import InputRefused
from pingyi.web.rendering import render, request_language

log = logging.getLogger("pingyi.web")

RETRY_AFTER_S = 5


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/")


def _beyond_range(exc: BaseException) -> bool:
    """An id or number no column can hold (SQLite: OverflowError; asyncpg: DataError,
    "invalid input for query argument"): nothing with it can exist."""
    if isinstance(exc, OverflowError):
        return True
    return type(exc).__module__.startswith("asyncpg.") and any(
        cls.__name__ == "DataError" for cls in type(exc).__mro__
    )


def _database_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return "locked" in str(exc) or "unable to open" in str(exc)
    # asyncpg: the server shutting down or gone (OperatorIntervention covers admin
    # and crash shutdowns and "cannot connect now"), a lost connection, or the
    # client's connection state broken by one (InterfaceError, InternalClientError).
    if _beyond_range(exc):  # asyncpg's DataError is an InterfaceError too
        return False
    return type(exc).__module__.startswith("asyncpg.") and any(
        cls.__name__
        in (
            "OperatorInterventionError",
            "PostgresConnectionError",
            "InterfaceError",
            "InternalClientError",
            "TooManyConnectionsError",
        )
        for cls in type(exc).__mro__
    )


def _respond(
    request: Request[Any, Any, Any],
    status: int,
    message: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    # A path no route matches is answered before any middleware runs: the security
    # headers are set here too, so every error carries them.
    settings = getattr(request.app.state, "settings", None)
    production = bool(settings is not None and settings.production)
    headers = {**headers_for(production), **(headers or {})}
    if _is_api(request):
        return Response(
            {"status_code": status, "detail": message, **(extra or {})},
            status_code=status,
            media_type=MediaType.JSON,
            headers=headers,
        )
    page = render(request, "error.html", status_code=status, message=message)
    if headers:
        page.headers.update(headers)
    return page  # type: ignore[return-value]


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    lang = request_language(request)
    status = exc.status_code
    if isinstance(exc, NotAuthorizedException) and not _is_api(request):
        from litestar.response import Redirect

        return Redirect(f"/login?next={request.url.path}")  # type: ignore[return-value]
    if isinstance(exc, InputRefused):
        return _respond(request, status, translate(exc.key, lang, **exc.kw))
    if isinstance(exc, ValidationException):
        # API clients get 422 with the field and the reason; pages a plain sentence.
        extra = {"extra": exc.extra} if exc.extra else None
        if _is_api(request):
            return _respond(request, 422, str(exc.detail), extra)
        return _respond(request, 400, translate("error.bad_request", lang, detail=exc.detail))
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return _respond(request, 403, translate("error.csrf", lang))
    if status == 403:
        return _respond(request, 403, translate("error.forbidden", lang))
    if status == 404:
        detail = exc.detail if exc.detail and exc.detail != "Not Found" else None
        return _respond(request, 404, detail or translate("error.not_found", lang))
    extra = exc.extra if isinstance(exc.extra, dict) else None
    return _respond(request, status, str(exc.detail), extra, headers=exc.headers)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    lang = request_language(request)
    if _database_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return _respond(
            request,
            HTTP_503_SERVICE_UNAVAILABLE,
            translate("error.server", lang),
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )
    if _beyond_range(exc):
        return _respond(request, 404, translate("error.not_found", lang))
    if isinstance(exc, RecursionError):  # nesting no check caught: refuse, never crash
        return _respond(request, 400, translate("error.too_deep", lang))
    log.exception("unexpected error on %s %s", request.method, redact(request.url.path))
    return _respond(request, HTTP_500_INTERNAL_SERVER_ERROR, translate("error.server", lang))
