"""The API documentation at /api/docs, rendered from local files.

Swagger UI's assets come from the `swagger-ui-py` package (Apache-2.0, its LICENSE
ships beside them) and are served under /static/swagger-ui/; the page starts them
with a script file of ours. Nothing is loaded from outside (government networks are
often closed to the internet, and the app's CSP would block it anyway).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.static_files import create_static_files_router

from pingyi.web.headers import STATIC_CACHE

ASSETS_PATH = "/static/swagger-ui"


def swagger_assets_dir() -> Path:
    import swagger_ui

    return Path(swagger_ui.__file__).resolve().parent / "static"


def swagger_assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        directories=[swagger_assets_dir()],
        include_in_schema=False,
        cache_control=STATIC_CACHE,
    )


class LocalSwaggerPlugin(OpenAPIRenderPlugin):
    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"])

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        schema = html.escape(self.get_openapi_json_route(request))
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title>"
            f'<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">'
            '<link rel="stylesheet" href="/static/api-docs.css"></head>'
            f'<body><div id="swagger-ui" data-schema="{schema}"></div>'
            f'<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>'
            '<script src="/static/api-docs.js"></script></body></html>'
        ).encode()
