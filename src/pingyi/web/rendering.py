"""Templates with the request's language and user, and the language choice itself."""

from __future__ import annotations

import re
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template

from pingyi.i18n import (
    in_language,
    language_names,
    match_language,
    pick_language,
    traditional_from_header,
    translate,
    translations,
)
from pingyi.settings import get_settings
from pingyi.web.form_errors import NO_FAULTS
from pingyi.web.text_size import large_text, remember_text_size, text_size_href

LANG_COOKIE = "lang"


def request_language(request: Request[Any, Any, Any]) -> str:
    """A link's ?lang=, else the remembered choice, else a Traditional-Chinese browser's
    zh-Hant, else the deployment's language."""
    chosen = match_language(request.query_params.get("lang")) or match_language(
        request.cookies.get(LANG_COOKIE)
    )
    if chosen:
        return chosen
    header = traditional_from_header(request.headers.get("accept-language"))
    return header or pick_language(None, get_settings().language)


def language_links(request: Request[Any, Any, Any], current: str) -> list[dict[str, Any]]:
    """The language switch: every language, named in itself, linking to this same page
    (its other query parameters kept) in that language."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return [
        {
            "tag": tag,
            "name": name,
            "current": tag == current,
            "href": "?" + urlencode([*params, ("lang", tag)]),
        }
        for tag, name in language_names().items()
    ]


def configure_templates(engine: JinjaTemplateEngine) -> None:
    """Install jinja2's i18n extension ({% trans %}, _()); it reads gettext and ngettext
    from each render's context (see render), so requests never share a language."""
    engine.engine.add_extension("jinja2.ext.i18n")
    engine.engine.install_null_translations()  # type: ignore[attr-defined]


def render(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    lang = request_language(request)
    session = request.scope.get("session") or {}
    catalog = translations(lang)
    large = large_text(request)
    response = Template(
        template_name=template,
        context={
            "lang": lang,
            "t": partial(translate, lang=lang),
            "in_language": partial(in_language, lang=lang),
            "gettext": catalog.gettext,
            "ngettext": catalog.ngettext,
            "languages": language_links(request, lang),
            "user": session.get("user") if isinstance(session, dict) else None,
            "path": request.url.path,
            "large_text": large,  # 适老化 mode (web/text_size.py)
            "text_size_href": text_size_href(request, large),
            "marked": NO_FAULTS,  # a form's errors, marked in place (web/form_errors.py)
            **context,
        },
        status_code=status_code,
    )
    if "lang" in request.query_params:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, httponly=True, samesite="lax")
    remember_text_size(request, response)
    return response


def attachment(name: str) -> str:
    """A download header for any file name (campaign codes may be Chinese): an ASCII
    fallback, and the real name encoded (RFC 6266)."""
    ascii_name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
