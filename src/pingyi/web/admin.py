"""The console's home page; the console's sections live in their own modules."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from pingyi.web.rendering import render


@get("/admin", opt={"permission": "home"})
async def admin_home(request: Request[Any, Any, Any]) -> Template:
    return render(request, "admin/home.html")
