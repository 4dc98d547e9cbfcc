"""Console: what citizens' traffic tells the agency (never a unit): windows whose
rating volume passed the alert threshold, and reports of pressure to rate well."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from pingyi.hours import LOCAL_TZ
from pingyi.services.alerts import volume_alerts
from pingyi.services.reports import pressure_reports
from pingyi.web.console_campaigns import _campaign
from pingyi.web.rendering import render


@get("/admin/campaigns/{code:str}/alerts", opt={"permission": "cleaning.review"})
async def campaign_alerts(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    campaign = await _campaign(code)
    alerts = await volume_alerts(campaign["id"])
    for alert in alerts:
        alert["local"] = alert["started_at"].astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")
    return render(
        request,
        "admin/alerts.html",
        campaign=campaign,
        alerts=alerts,
        reports=await pressure_reports(campaign["id"]),
    )


ALERT_HANDLERS = [campaign_alerts]
