"""The citizen's thank-you page, rendered once and served many times.

Every acknowledged form gets the same page but for one value, the pressure form's
token. Rendering it through jinja for each rating cost about a tenth of the form
path's CPU (the template, its context, the media type guessed from the file name),
so each variant is rendered once per app with a placeholder where the token goes,
and later requests only put their token in.

A variant is keyed by everything of the request that the page may read (the path,
the query string, the cookies and the Accept-Language header: language choice, the
language links, display modes) and by whether a follow-up is promised (a bad
review). A request that sets the language (`?lang=`) gets a cookie with its page and
is rendered as before. The cache is bounded and lives as long as its app.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.enums import MediaType
from litestar.response import Template
from litestar.response.base import ASGIResponse

from pingyi.web.rendering import render

TEMPLATE = "citizen/thanks.html"
PLACEHOLDER = "pingyi-pressure-token-placeholder-7f3a9c"  # survives autoescaping as is
MAX_VARIANTS = 512


class Prerendered(Template):
    """A page whose body is ready: served without the template engine."""

    def __init__(self, body: str) -> None:
        super().__init__(template_name=TEMPLATE, media_type=MediaType.HTML)
        self.body = body

    def to_asgi_response(  # type: ignore[override]
        self, app: Any, request: Request[Any, Any, Any], **kwargs: Any
    ) -> ASGIResponse:
        page: Response[str] = Response(self.body, media_type=MediaType.HTML)
        return page.to_asgi_response(app, request, **kwargs)


def thank_you(
    request: Request[Any, Any, Any], *, bad_review: bool, pressure_action: str, pressure_token: str
) -> Template:
    context = {"bad_review": bad_review, "pressure_action": pressure_action}
    if "lang" in request.query_params:
        return render(request, TEMPLATE, pressure_token=pressure_token, **context)
    key = (
        bad_review,
        pressure_action,
        request.scope["path"],
        request.scope.get("query_string", b""),
        request.headers.get("cookie", ""),
        request.headers.get("accept-language", ""),
    )
    variants: dict[tuple[Any, ...], str] | None = getattr(request.app.state, "thanks", None)
    if variants is None:
        variants = request.app.state.thanks = {}
    body = variants.get(key)
    if body is None:
        page = render(request, TEMPLATE, pressure_token=PLACEHOLDER, **context)
        engine = request.app.template_engine
        assert engine is not None
        template = engine.get_template(TEMPLATE)
        body = template.render(**page.create_template_context(request))
        if len(variants) >= MAX_VARIANTS:
            variants.clear()
        variants[key] = body
    return Prerendered(body.replace(PLACEHOLDER, pressure_token))
