"""Security headers on every response: a strict Content-Security-Policy with no
inline script, no framing, no sniffing, no referrer leaking tokens in URLs, nothing
stored by a browser or proxy unless the response says it may be (static assets do);
in production (served over HTTPS) HSTS, so a browser never falls back to plain http."""

from __future__ import annotations

from collections.abc import Callable

from litestar.datastructures import CacheControlHeader
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    # Invitation and ticket links carry secrets in the path: never send them on.
    "referrer-policy": "no-referrer",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    # Console pages hold personal data and are used on a hall's shared computers:
    # after logging out, Back must not show them again from the browser's cache.
    "cache-control": "no-store",
}

# What the static assets (styles, scripts, icons) send instead: an hour, shared.
STATIC_CACHE = CacheControlHeader(max_age=3600, public=True)

# One year, subdomains too; production runs behind HTTPS only.
HSTS = "max-age=31536000; includeSubDomains"


def headers_for(production: bool) -> dict[str, str]:
    return {**HEADERS, "strict-transport-security": HSTS} if production else HEADERS


def security_headers_middleware(app: ASGIApp) -> ASGIApp:
    """The headers outside production (tests, the demo on plain http)."""
    return security_headers(production=False)(app)


def security_headers(production: bool) -> Callable[[ASGIApp], ASGIApp]:
    chosen = headers_for(production)

    def factory(app: ASGIApp) -> ASGIApp:
        return _middleware(app, chosen)

    return factory


def _middleware(app: ASGIApp, chosen: dict[str, str]) -> ASGIApp:
    # Encoded once: the raw header list is extended per response (litestar's header
    # views cost a tenth of a citizen post's CPU for these few names).
    encoded = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in chosen.items()]

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in encoded if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
