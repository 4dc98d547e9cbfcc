"""Sign in and sign out."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from pingyi.i18n import translate
from pingyi.services.users import authenticate
from pingyi.web.rendering import render, request_language
from pingyi.web.sessions import rotate_session
from pingyi.web.state import limiter_of, settings_of


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/admin"


class AuthController(Controller):
    path = ""
    include_in_schema = False
    opt = {"max_body": 8 * 1024, "max_fields": 20}  # noqa: RUF012

    @get("/", sync_to_thread=False)
    def root(self) -> Redirect:
        # whoever opens the bare address lands on the console (which asks for a login)
        return Redirect("/admin")

    @get("/login", sync_to_thread=False)
    def login_page(
        self, request: Request[Any, Any, Any], next: FromQuery[str | None] = None
    ) -> Template:
        return render(request, "login.html", next=_safe_next(next))

    @post("/login")
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        lang = request_language(request)
        username = (data.get("username") or "").strip()[:64]
        password = data.get("password") or ""
        settings = settings_of(request)
        limiter = limiter_of(request)
        client = request.client.host if request.client else "unknown"
        for key in (f"login-ip:{client}", f"login-user:{username}"):
            decision = await limiter.hit(key, settings.login_limit_per_minute, 60)
            if not decision.allowed:
                return render(
                    request,
                    "login.html",
                    status_code=429,
                    next=_safe_next(data.get("next")),
                    username=username,
                    error=translate("login.limited", lang, seconds=decision.retry_after_s),
                )
        user = await authenticate(username, password)
        if user is None:
            return render(
                request,
                "login.html",
                status_code=400,
                next=_safe_next(data.get("next")),
                username=username,
                error=translate("login.failed", lang),
            )
        request.clear_session()
        rotate_session(request)  # an ID planted before sign-in must not become signed in
        request.set_session({"user": user.as_session()})
        return Redirect(_safe_next(data.get("next")))

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect("/login")
