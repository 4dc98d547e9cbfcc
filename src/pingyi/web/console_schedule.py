"""Console: a campaign's scheduled opening and closing times."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pingyi.i18n import translate
from pingyi.services import schedule
from pingyi.web.console_campaigns import Form, _actor, _campaign
from pingyi.web.rendering import render, request_language


def schedule_message(request: Request[Any, Any, Any], exc: schedule.ScheduleError) -> str:
    lang = request_language(request)
    params = dict(exc.params)
    if "state" in params:
        params["state"] = translate(f"state.{params['state']}", lang)
    return translate(exc.key, lang, **params)


async def _page(
    request: Request[Any, Any, Any],
    campaign: dict[str, Any],
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Template:
    return render(
        request,
        "admin/campaign_schedule.html",
        status_code=status,
        campaign=campaign,
        values=values
        or {
            "opens_at": schedule.local_input(campaign["opens_at"]),
            "closes_at": schedule.local_input(campaign["closes_at"]),
        },
        error=error,
        saved=request.query_params.get("saved") == "1" and not error,
        editable=campaign["state"] in schedule.SCHEDULABLE,
    )


@get("/admin/campaigns/{code:str}/schedule", opt={"permission": "campaign.manage"})
async def schedule_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    return await _page(request, await _campaign(code))


@post("/admin/campaigns/{code:str}/schedule", opt={"permission": "campaign.manage"})
async def schedule_set(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Template | Redirect:
    campaign = await _campaign(code)
    form = {k: str(data.get(k, "")) for k in ("opens_at", "closes_at")}
    try:
        await schedule.set_schedule(
            code,
            schedule.parse_local(form["opens_at"]),
            schedule.parse_local(form["closes_at"]),
            _actor(request),
        )
    except schedule.ScheduleError as exc:
        return await _page(request, campaign, form, schedule_message(request, exc), 400)
    return Redirect(f"/admin/campaigns/{code}/schedule?saved=1")


SCHEDULE_HANDLERS = [schedule_page, schedule_set]
