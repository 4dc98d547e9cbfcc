"""Console: a campaign's dashboard, its state moves, QR codes, invitations, cleaning."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template

from pingyi import charts
from pingyi.cleaning import REASONS
from pingyi.db.tables import Campaign, CampaignUnit, CleaningRun, ServiceWindow
from pingyi.i18n import translate
from pingyi.qr import qr_png, qr_svg
from pingyi.services import campaigns as campaign_service
from pingyi.services import cleaning_run, listings, monitoring, peer
from pingyi.services.links import window_url
from pingyi.sheets import WindowSheet, render_sheets_pdf
from pingyi.web import tables
from pingyi.web.guards import current_user
from pingyi.web.rendering import attachment, render, request_language

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _actor(request: Request[Any, Any, Any]) -> str:
    user = current_user(request)
    return str(user["username"]) if user else "?"


async def _campaign(code: str) -> dict[str, Any]:
    try:
        return await campaign_service.get_campaign(code)
    except campaign_service.CampaignError as exc:
        raise NotFoundException(str(exc)) from exc


def leader_unit(request: Request[Any, Any, Any]) -> int | None:
    """The unit a unit leader's views are limited to (-1, nothing, for a leader
    without one); None for the roles that see every unit."""
    user = current_user(request) or {}
    if user.get("role") != "unit_leader":
        return None
    return int(user.get("unit_id") or -1)


async def campaign_in_view(request: Request[Any, Any, Any], code: str) -> dict[str, Any]:
    """The campaign, if the signed-in user may look at it: a unit leader sees only
    the campaigns that cover their unit (others are 404, as if absent)."""
    campaign = await _campaign(code)
    unit = leader_unit(request)
    if unit is not None and unit not in await campaign_service.units_in_scope(campaign["id"]):
        raise NotFoundException("no such campaign")
    return campaign


async def campaign_windows(campaign_id: int) -> list[dict[str, Any]]:
    units = await campaign_service.units_in_scope(campaign_id)
    return list(
        await ServiceWindow.select(
            ServiceWindow.id,
            ServiceWindow.code,
            ServiceWindow.number,
            ServiceWindow.name,
            ServiceWindow.unit.name.as_alias("unit_name"),
        )
        .where(ServiceWindow.unit.is_in(units or [0]) & ServiceWindow.active.eq(True))
        .order_by(ServiceWindow.code)
    )


def window_sheets(campaign: dict[str, Any], windows: list[dict[str, Any]]) -> list[WindowSheet]:
    return [
        WindowSheet(
            hall=w["unit_name"],
            window_number=w["number"],
            window_name=w["name"],
            url=window_url(campaign["id"], w["id"]),
            campaign_name=campaign["name"],
        )
        for w in windows
    ]


@get("/admin/campaigns", opt={"permission": "campaign.monitor"})
async def campaign_list(request: Request[Any, Any, Any]) -> Template:
    query = Campaign.select(
        Campaign.code, Campaign.name, Campaign.state, Campaign.period_start, Campaign.period_end
    ).order_by(Campaign.period_start, ascending=False)
    unit = leader_unit(request)
    if unit is not None:
        covering = await CampaignUnit.select(CampaignUnit.campaign).where(CampaignUnit.unit == unit)
        query = query.where(Campaign.id.is_in([r["campaign"] for r in covering] or [0]))
    return render(request, "admin/campaigns.html", campaigns=await query)


@get("/admin/campaigns/{code:str}", opt={"permission": "campaign.monitor"})
async def campaign_detail(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    """The dashboard; a unit leader's shows their own unit's windows, cases and
    response rates only (permissions.py: own unit only)."""
    campaign = await campaign_in_view(request, code)
    unit = leader_unit(request)
    stats = await monitoring.dashboard(campaign["id"], only_unit=unit)
    per_day_chart = (
        charts.bar_chart(
            [d for d, _ in stats["per_day"][-31:]],
            [float(n) for _, n in stats["per_day"][-31:]],
            title=translate("campaign.chart_per_day", request_language(request)),
        )
        if stats["per_day"]
        else ""
    )
    rates = await peer.response_rates(code, only_unit=unit)
    # the QR codes of every window: the agency's section of the page only
    windows = await campaign_windows(campaign["id"]) if unit is None else []
    return render(
        request,
        "admin/campaign.html",
        campaign=campaign,
        stats=stats,
        per_day_chart=per_day_chart,
        rates=rates,
        windows=windows,
        moves=[
            t
            for t, sources in campaign_service.MOVES.items()
            if campaign["state"] in sources and t not in ("cleaned", "published")
        ],
    )


@post("/admin/campaigns/{code:str}/move", opt={"permission": "campaign.manage"})
async def campaign_move(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Template | Redirect:
    await _campaign(code)
    try:
        await campaign_service.move(code, str(data.get("target", "")), _actor(request))
    except campaign_service.CampaignError as exc:
        return render(request, "error.html", status_code=409, message=str(exc))
    return Redirect(f"/admin/campaigns/{code}")


@post("/admin/campaigns/{code:str}/clean", opt={"permission": "campaign.manage"})
async def campaign_clean(
    request: Request[Any, Any, Any], code: FromPath[str]
) -> Template | Redirect:
    await _campaign(code)
    try:
        await cleaning_run.run_cleaning(code, _actor(request))
    except campaign_service.CampaignError as exc:
        return render(request, "error.html", status_code=409, message=str(exc))
    return Redirect(f"/admin/campaigns/{code}/flags")


@get("/admin/campaigns/{code:str}/qr/{window:str}", opt={"permission": "campaign.manage"})
async def window_qr(code: FromPath[str], window: FromPath[str]) -> Response[bytes]:
    campaign = await _campaign(code)
    stem, _, kind = window.rpartition(".")
    match = [w for w in await campaign_windows(campaign["id"]) if w["code"] == stem]
    if not match or kind not in ("png", "svg"):
        raise NotFoundException("no such window in this campaign")
    url = window_url(campaign["id"], match[0]["id"])
    if kind == "png":
        return Response(qr_png(url), media_type="image/png")
    return Response(qr_svg(url).encode(), media_type="image/svg+xml")


@get("/admin/campaigns/{code:str}/sheets.pdf", opt={"permission": "campaign.manage"})
async def campaign_sheets(code: FromPath[str]) -> Response[bytes]:
    campaign = await _campaign(code)
    pdf = render_sheets_pdf(window_sheets(campaign, await campaign_windows(campaign["id"])))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"content-disposition": attachment(f"{code}-sheets.pdf")},
    )


@post("/admin/campaigns/{code:str}/invitations", opt={"permission": "campaign.manage"})
async def campaign_invitations(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Response[bytes] | Template:
    await _campaign(code)
    try:
        links = await peer.issue_invitations(
            code, only_unused=data.get("scope") != "all", actor=_actor(request)
        )
    except campaign_service.CampaignError as exc:
        return render(request, "error.html", status_code=409, message=str(exc))
    if data.get("format") == "slips":
        pdf = render_sheets_pdf(
            [
                WindowSheet(
                    hall=link.unit,
                    window_number=link.staff_code,
                    window_name=link.name,
                    url=link.url,
                    instruction="请扫码完成本次评议（本码仅限本人使用）",
                )
                for link in links
            ]
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"content-disposition": attachment(f"{code}-slips.pdf")},
        )
    return Response(
        peer.links_csv(links),
        media_type="text/csv",
        headers={"content-disposition": attachment(f"{code}-invitations.csv")},
    )


FLAG_TABLE = tables.TableSpec(
    sorts=tuple(listings.FLAG_SORTS),
    default_sort="reason",
    filters={
        "reason": tuple(REASONS),
        "action": listings.FLAG_ACTIONS,
        "state": listings.FLAG_STATES,
    },
)


async def _latest_run(campaign_id: int) -> dict[str, Any] | None:
    return (
        await CleaningRun.select(CleaningRun.revision, CleaningRun.summary)
        .where(CleaningRun.campaign == campaign_id)
        .order_by(CleaningRun.revision, ascending=False)
        .output(load_json=True)
        .first()
    )


@get("/admin/campaigns/{code:str}/flags", opt={"permission": "cleaning.review"})
async def campaign_flags(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    campaign = await _campaign(code)
    try:
        query = tables.parse(request.query_params, FLAG_TABLE)
    except tables.TableError as exc:
        return tables.refused(request, exc)
    run = await _latest_run(campaign["id"])
    page = tables.Page([], 0, query)
    if run:
        rows, total = await listings.flags(tables.listing(query), campaign["id"], run["revision"])
        if query.page > 1 and not rows and total:  # past the last page: the last one
            query = tables.clamp(query, total)
            rows, total = await listings.flags(
                tables.listing(query), campaign["id"], run["revision"]
            )
        page = tables.Page(rows, total, query)
    current = query.filters.get("reason")
    return render(
        request,
        "admin/flags.html",
        campaign=campaign,
        run=run,
        page=page,
        sizes=tables.PAGE_SIZES,
        reasons=REASONS,
        actions=listings.FLAG_ACTIONS,
        states=listings.FLAG_STATES,
        explanations={r: translate(f"flags.why.{r}", request_language(request)) for r in REASONS},
        current=current,
    )


@get("/admin/campaigns/{code:str}/flags/export", opt={"permission": "cleaning.review"})
async def campaign_flags_export(
    request: Request[Any, Any, Any], code: FromPath[str]
) -> Template | Response[bytes]:
    """The flags the table shows with the same parameters, every page."""
    campaign = await _campaign(code)
    try:
        query = tables.parse(request.query_params, FLAG_TABLE)
        fmt = tables.export_format(request.query_params)
    except tables.TableError as exc:
        return tables.refused(request, exc)
    run = await _latest_run(campaign["id"])
    rows: list[dict[str, Any]] = []
    if run:
        rows, _ = await listings.flags(
            tables.listing(query, everything=True), campaign["id"], run["revision"]
        )
    lang = request_language(request)
    header = [
        translate(key, lang)
        for key in (
            "flags.reason",
            "flags.action",
            "flags.weight",
            "flags.ratee",
            "flags.rater",
            "flags.detail",
            "flags.overridden",
        )
    ] + ["response_id"]
    body = (
        [
            f["reason"],
            f["action"],
            f["weight"],
            f["ratee"],
            f["rater"],
            f["detail"],
            translate("table.yes", lang) if f["overridden"] else translate("table.no", lang),
            f["response_id"],
        ]
        for f in rows
    )
    return tables.download(request, fmt, f"{code}-flags", header, body)


@post(
    "/admin/campaigns/{code:str}/flags/{flag_id:int}/override",
    opt={"permission": "cleaning.review"},
)
async def flag_override(
    request: Request[Any, Any, Any], code: FromPath[str], flag_id: FromPath[int], data: Form
) -> Template | Redirect:
    await _campaign(code)
    try:
        await cleaning_run.override(code, flag_id, str(data.get("note", "")), _actor(request))
    except ValueError as exc:
        return render(request, "error.html", status_code=400, message=str(exc))
    return Redirect(f"/admin/campaigns/{code}/flags{tables.back_query(data.get('back'))}")


@get("/admin/campaigns/{code:str}/cleaning-report", opt={"permission": "cleaning.review"})
async def cleaning_report(code: FromPath[str]) -> Response[str]:
    campaign = await _campaign(code)
    run = (
        await CleaningRun.select(CleaningRun.report_html)
        .where(CleaningRun.campaign == campaign["id"])
        .order_by(CleaningRun.revision, ascending=False)
        .first()
    )
    if run is None:
        raise NotFoundException("this campaign has not been cleaned yet")
    # The report is self-contained with an inline style sheet and no script at all.
    return Response(
        run["report_html"],
        media_type="text/html",
        headers={
            "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:; frame-ancestors 'none'"
        },
    )


@get("/admin/campaigns/{code:str}/assignments", opt={"permission": "campaign.manage"})
async def assignments_page(request: Request[Any, Any, Any], code: FromPath[str]) -> Template:
    campaign = await _campaign(code)
    return render(
        request,
        "admin/assignments.html",
        campaign=campaign,
        rows=await campaign_service.assignment_table(campaign["id"]),
        error="",
    )


@post("/admin/campaigns/{code:str}/assignments", opt={"permission": "campaign.manage"})
async def assignments_change(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Template | Redirect:
    campaign = await _campaign(code)
    form = {k: str(v).strip() for k, v in data.items() if isinstance(v, str)}
    try:
        if form.get("action") == "build":
            if campaign["state"] != "draft":
                raise campaign_service.CampaignError("assignments are fixed once it opens")
            await campaign_service.build_assignments(campaign["id"])
        else:
            await campaign_service.change_assignment(
                code,
                form.get("rater", ""),
                form.get("ratee", ""),
                form.get("role", ""),
                form.get("action") == "add",
                _actor(request),
            )
    except campaign_service.CampaignError as exc:
        return render(
            request,
            "admin/assignments.html",
            status_code=400,
            campaign=campaign,
            rows=await campaign_service.assignment_table(campaign["id"]),
            error=str(exc),
        )
    return Redirect(f"/admin/campaigns/{code}/assignments")


@post("/admin/campaigns/{code:str}/revoke", opt={"permission": "campaign.manage"})
async def invitation_revoke(
    request: Request[Any, Any, Any], code: FromPath[str], data: Form
) -> Template | Redirect:
    await _campaign(code)
    try:
        await peer.revoke(code, str(data.get("staff", "")).strip(), _actor(request))
    except campaign_service.CampaignError as exc:
        return render(request, "error.html", status_code=400, message=str(exc))
    return Redirect(f"/admin/campaigns/{code}")


CAMPAIGN_HANDLERS = [
    assignments_page,
    assignments_change,
    invitation_revoke,
    campaign_list,
    campaign_detail,
    campaign_move,
    campaign_clean,
    window_qr,
    campaign_sheets,
    campaign_invitations,
    campaign_flags,
    campaign_flags_export,
    flag_override,
    cleaning_report,
]
