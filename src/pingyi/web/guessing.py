"""Links that carry a secret (tickets /t/, invitations /i/, window codes /r/) are
refused politely when wrong; a client that keeps sending wrong ones is slowed down
(429 with Retry-After), so guessing a 128-bit token is not even a start."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from pingyi.i18n import translate
from pingyi.web.rendering import render, request_language
from pingyi.web.state import limiter_of

FAILED_GUESSES_PER_MINUTE = 20


async def wrong_link(request: Request[Any, Any, Any], message_key: str, status: int) -> Template:
    """The notice for a wrong link, counted against the client's address."""
    lang = request_language(request)
    client = request.client.host if request.client else "unknown"
    decision = await limiter_of(request).hit(f"badlink:{client}", FAILED_GUESSES_PER_MINUTE, 60)
    if not decision.allowed:
        page = render(
            request,
            "citizen/notice.html",
            status_code=429,
            message=translate("error.rate_limited", lang, seconds=decision.retry_after_s),
        )
        page.headers["Retry-After"] = str(decision.retry_after_s)
        return page
    return render(
        request, "citizen/notice.html", status_code=status, message=translate(message_key, lang)
    )
