"""Templates with the request's language and user, and the language choice itself."""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.response import Template

from pingyi.i18n import pick_language, translate
from pingyi.settings import get_settings

LANG_COOKIE = "lang"


def request_language(request: Request[Any, Any, Any]) -> str:
    default = get_settings().language
    return pick_language(
        request.query_params.get("lang") or request.cookies.get(LANG_COOKIE), default
    )


def render(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    lang = request_language(request)
    session = request.scope.get("session") or {}
    response = Template(
        template_name=template,
        context={
            "lang": lang,
            "t": partial(translate, lang=lang),
            "user": session.get("user") if isinstance(session, dict) else None,
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )
    if "lang" in request.query_params:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax")
    return response


def attachment(name: str) -> str:
    """A download header for any file name (campaign codes may be Chinese): an ASCII
    fallback, and the real name encoded (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
