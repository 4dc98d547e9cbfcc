"""litestar's CSRF check, made total: whatever arrives as the token (non-ASCII text,
which `hmac.compare_digest` refuses with an exception, or a file part of a
multipart form) is a failed check, answered 403, never a 500."""

from __future__ import annotations

from typing import Any

from litestar.middleware.csrf import CSRFMiddleware


def _usable(token: Any) -> bool:
    return isinstance(token, str) and token.isascii() and len(token) <= 512


class SafeCSRFMiddleware(CSRFMiddleware):
    def _csrf_tokens_match(self, request_csrf_token: Any, cookie_csrf_token: Any) -> bool:
        if not (_usable(request_csrf_token) and _usable(cookie_csrf_token)):
            return False
        return super()._csrf_tokens_match(request_csrf_token, cookie_csrf_token)
