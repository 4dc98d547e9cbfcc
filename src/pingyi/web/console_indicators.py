"""Console: service indicators per unit, window and staff member, and their CSV."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get
from litestar.exceptions import ValidationException
from litestar.params import FromPath
from litestar.response import Response, Template

from pingyi.i18n import translate
from pingyi.services import indicators
from pingyi.web.console_campaigns import campaign_in_view
from pingyi.web.guards import current_user
from pingyi.web.rendering import attachment, render, request_language


def _date(request: Request[Any, Any, Any], name: str) -> date | None:
    raw = (request.query_params.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
        if not 2000 <= day.year <= 2999:  # a campaign's days, and room to add one
            raise ValueError(raw)
        return day
    except ValueError as exc:
        lang = request_language(request)
        raise ValidationException(translate("ind.error.date", lang, value=raw[:20])) from exc


async def _report(request: Request[Any, Any, Any], code: str) -> tuple[Any, ...]:
    campaign = await campaign_in_view(request, code)
    start, end = _date(request, "from"), _date(request, "to")
    if start and end and end < start:
        lang = request_language(request)
        raise ValidationException(translate("ind.error.range", lang))
    user = current_user(request) or {}
    # A unit leader sees their own unit only; the agency sees every unit in scope.
    only_unit = (user.get("unit_id") or -1) if user.get("role") == "unit_leader" else None
    report = await indicators.compute(campaign, start, end, only_unit)
    report.total.name = translate("ind.total", request_language(request))
    return campaign, start, end, report


@get("/admin/campaigns/{code:str}/indicators", opt={"permission": "campaign.monitor"})
async def indicators_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    campaign, start, end, report = await _report(request, code)
    query = "&".join(
        f"{k}={v.isoformat()}" for k, v in (("from", start), ("to", end)) if v is not None
    )
    return render(
        request,
        "admin/indicators.html",
        campaign=campaign,
        report=report,
        start=start.isoformat() if start else "",
        end=end.isoformat() if end else "",
        query=query,
        levels="/".join(
            translate(f"level.{level}", request_language(request))
            for level in sorted(report.levels, reverse=True)
        ),
    )


@get("/admin/campaigns/{code:str}/indicators.csv", opt={"permission": "campaign.monitor"})
async def indicators_csv(request: Request[Any, Any, Any], code: FromPath[str]) -> Response[bytes]:
    campaign, start, end, report = await _report(request, code)
    lang = request_language(request)
    columns = ["level", "unit_code", "code", "name", *indicators.COUNT_COLUMNS]
    headers = {c: translate(f"ind.col.{c}", lang) for c in [*columns, *indicators.INDICATORS]}
    suffix = "".join(f"_{d.isoformat()}" for d in (start, end) if d)
    filename = f"{campaign['code']}-indicators{suffix}.csv"
    return Response(
        indicators.report_csv(report, headers),
        media_type="text/csv",
        headers={"content-disposition": attachment(filename)},
    )


INDICATOR_HANDLERS = [indicators_page, indicators_csv]
