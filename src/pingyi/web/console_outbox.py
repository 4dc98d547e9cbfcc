"""Console: the outbox to the provincial platform (queue, lag, last error, retry now)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from pingyi.services import outbox
from pingyi.web.console_campaigns import Form, _actor
from pingyi.web.rendering import render


@get("/admin/outbox", opt={"permission": "outbox.manage"})
async def outbox_page(request: Request[Any, Any, Any]) -> Template:
    settings = request.app.state.settings
    state = await outbox.status()
    lag = state["lag_s"]
    return render(
        request,
        "admin/outbox.html",
        state=state,
        lag_minutes=None if lag is None else round(lag / 60, 1),
        enabled=settings.outbox_url is not None,
        # where it goes and under which key id; never the secret
        endpoint=settings.outbox_url or "",
        key_id=settings.outbox_key_id,
        signing=settings.outbox_signing,
        format=settings.outbox_format,
        background=request.app.state.outbox_sender is not None,
        retried=request.query_params.get("retried") == "1",
    )


@post("/admin/outbox/retry", opt={"permission": "outbox.manage"})
async def outbox_retry(request: Request[Any, Any, Any], data: Form) -> Redirect:
    await outbox.retry_now(_actor(request))
    sender = request.app.state.outbox_sender
    if sender is not None:
        sender.wake()  # this process's sender passes at once (when it holds the lock)
    return Redirect("/admin/outbox?retried=1")


OUTBOX_HANDLERS = [outbox_page, outbox_retry]
