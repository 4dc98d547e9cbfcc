"""Console: bad-review work orders (差评核实整改) and interview entry (访谈录入)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from pingyi.db.tables import Campaign
from pingyi.hours import LOCAL_TZ
from pingyi.i18n import translate
from pingyi.services import cases, listings
from pingyi.services.phone import interviewer_rater
from pingyi.services.public_rating import (
    REASONS,
    build_response,
    rating_input_from_form,
    validate,
    window_context,
)
from pingyi.web import case_form, tables
from pingyi.web.console_campaigns import Form, campaign_windows
from pingyi.web.guards import current_user
from pingyi.web.rating_fields import marked_rating_errors
from pingyi.web.rendering import render, request_language
from pingyi.web.state import settings_of, writer_of


def _user(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = current_user(request)
    assert user is not None  # the guard ran first
    return user


CASE_TABLE = tables.TableSpec(
    sorts=tuple(listings.CASE_SORTS),
    default_sort="opened",
    default_desc=True,
    filters={
        "state": listings.CASE_STATES,
        "unit": None,
        "reason": REASONS,
        "campaign": None,
    },
)


async def _case_rows(
    request: Request[Any, Any, Any], query: tables.TableQuery, everything: bool = False
) -> tuple[list[dict[str, Any]], int]:
    user = _user(request)
    scope = int(user.get("unit_id") or -1) if user["role"] == "unit_leader" else None
    now = datetime.now(UTC)
    rows, total = await listings.cases(tables.listing(query, everything), now, scope)
    return [{**r, "overdue": cases.is_overdue(r, now)} for r in rows], total


@get("/admin/cases", opt={"permission": "case.handle"})
async def case_list(request: Request[Any, Any, Any]) -> Template:
    user = _user(request)
    try:
        query = tables.parse(request.query_params, CASE_TABLE)
    except tables.TableError as exc:
        return tables.refused(request, exc)
    rows, total = await _case_rows(request, query)
    if query.page > 1 and not rows and total:  # past the last page: show the last one
        query = tables.clamp(query, total)
        rows, total = await _case_rows(request, query)
    leader = user["role"] == "unit_leader"
    return render(
        request,
        "admin/cases.html",
        page=tables.Page(rows, total, query),
        sizes=tables.PAGE_SIZES,
        units=await listings.unit_choices(int(user.get("unit_id") or -1) if leader else None),
        reasons=REASONS,
        states=listings.CASE_STATES,
        per_unit=await cases.overdue_per_unit() if user["role"] == "agency_admin" else [],
    )


@get("/admin/cases/export", opt={"permission": "case.handle"})
async def case_export(request: Request[Any, Any, Any]) -> Template | Response[bytes]:
    """Exactly the cases the table shows with the same parameters, every page."""
    try:
        query = tables.parse(request.query_params, CASE_TABLE)
        fmt = tables.export_format(request.query_params)
    except tables.TableError as exc:
        return tables.refused(request, exc)
    rows, _ = await _case_rows(request, query, everything=True)
    lang = request_language(request)
    header = [
        "#",
        translate("campaign.unit", lang),
        translate("rate.window", lang),
        translate("rate.reason", lang),
        translate("table.reason_text", lang),
        translate("case.opened", lang),
        translate("case.contact_due", lang),
        translate("case.rectify_due", lang),
        translate("campaign.state", lang),
    ]

    def when(moment: datetime | None) -> str:
        return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if moment else ""

    body = (
        [
            r["id"],
            r["unit_name"],
            f"{r['window_number'] or ''} {r['window_name'] or ''}".strip(),
            translate(f"reason.{r['reason_category']}", lang) if r["reason_category"] else "",
            r["reason_text"],
            when(r["opened_at"]),
            when(r["contact_due"]),
            when(r["rectify_due"]),
            translate(f"case.{r['state']}", lang)
            + (f" ({translate('table.case.overdue', lang)})" if r["overdue"] else ""),
        ]
        for r in rows
    )
    return tables.download(request, fmt, "cases", header, body)


async def _case(request: Request[Any, Any, Any], case_id: int) -> dict[str, Any]:
    try:
        return await cases.get_case(_user(request), case_id)
    except cases.CaseError as exc:
        raise NotFoundException(str(exc)) from exc


def _case_page(
    request: Request[Any, Any, Any],
    case: dict[str, Any],
    contact: str | None = None,
    error: str = "",
    status: int = 200,
    values: dict[str, Any] | None = None,
    faults: dict[str, str] | None = None,
) -> Template:
    user = _user(request)
    return render(
        request,
        "admin/case.html",
        status_code=status,
        case=case,
        contact=contact,
        error=error,
        values=values or {},
        marked=case_form.marked(faults or {}, request_language(request)),
        verifications=cases.VERIFICATIONS,
        may_read=cases.may_read_contact(user, settings_of(request).callback_role),
    )


@get("/admin/cases/{case_id:int}", opt={"permission": "case.handle"})
async def case_detail(request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template:
    return _case_page(request, await _case(request, case_id))


@post("/admin/cases/{case_id:int}/contact", opt={"permission": "case.handle"})
async def case_contact(request: Request[Any, Any, Any], case_id: FromPath[int]) -> Template:
    case = await _case(request, case_id)
    try:
        contact = await cases.read_contact(
            _user(request), case_id, settings_of(request).callback_role
        )
    except cases.CaseError as exc:
        return _case_page(request, case, error=str(exc), status=403)
    return _case_page(request, case, contact=contact or "—")


@post("/admin/cases/{case_id:int}/contacted", opt={"permission": "case.handle"})
async def case_contacted(request: Request[Any, Any, Any], case_id: FromPath[int]) -> Redirect:
    await _case(request, case_id)
    await cases.record_contact(_user(request), case_id)
    return Redirect(f"/admin/cases/{case_id}")


@post("/admin/cases/{case_id:int}/close", opt={"permission": "case.handle"})
async def case_close(
    request: Request[Any, Any, Any], case_id: FromPath[int], data: Form
) -> Template | Redirect:
    case = await _case(request, case_id)
    form = {k: v for k, v in data.items() if isinstance(v, str)}
    faults = case_form.field_errors(form, bool(case["has_contact"]))
    if faults and case["state"] != "closed":
        return _case_page(request, case, status=400, values=form, faults=faults)
    try:
        await cases.close_case(_user(request), case_id, form)
    except cases.CaseError as exc:
        return _case_page(request, case, error=str(exc), status=400, values=form)
    return Redirect(f"/admin/cases/{case_id}")


@get("/admin/interview", opt={"permission": "interview.enter"})
async def interview_start(request: Request[Any, Any, Any]) -> Template:
    open_campaigns = await Campaign.select(Campaign.id, Campaign.code, Campaign.name).where(
        Campaign.state == "open"
    )
    choices = [(c, await campaign_windows(c["id"])) for c in open_campaigns]
    return render(request, "admin/interview_start.html", choices=choices)


async def _interview_ctx(campaign_id: int, window_id: int) -> Any:
    ctx = await window_context(campaign_id, window_id)
    if ctx is None or not ctx.is_open:
        raise NotFoundException("no open campaign for this window")
    return ctx


def _interview_form(
    request: Request[Any, Any, Any],
    ctx: Any,
    values: dict[str, Any],
    errors: dict[str, str],
    message: str = "",
    status: int = 200,
) -> Template:
    return render(
        request,
        "admin/interview.html",
        status_code=status,
        ctx=ctx,
        items=ctx.items,
        submission=uuid.uuid4().hex,
        reasons=REASONS,
        values=values,
        errors=errors,
        marked=marked_rating_errors(errors, ctx.items, request_language(request)),
        message=message,
        action=f"/admin/interview/{ctx.campaign['id']}/{ctx.window['id']}",
    )


@get("/admin/interview/{campaign_id:int}/{window_id:int}", opt={"permission": "interview.enter"})
async def interview_form(
    request: Request[Any, Any, Any], campaign_id: FromPath[int], window_id: FromPath[int]
) -> Template:
    return _interview_form(request, await _interview_ctx(campaign_id, window_id), {}, {})


@post("/admin/interview/{campaign_id:int}/{window_id:int}", opt={"permission": "interview.enter"})
async def interview_submit(
    request: Request[Any, Any, Any],
    campaign_id: FromPath[int],
    window_id: FromPath[int],
    data: Form,
) -> Template:
    ctx = await _interview_ctx(campaign_id, window_id)
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    rating = rating_input_from_form(values, ctx.items)
    errors, answers = validate(rating, ctx.items)
    if errors:
        return _interview_form(request, ctx, values, errors, status=400)
    channel = "paper" if values.get("channel") == "paper" else "interview"
    user = _user(request)
    new = build_response(
        ctx,
        rating,
        answers,
        channel=channel,
        interviewer_id=user["id"],
        client_id=f"iv:{values.get('submission', '')[:40]}" if values.get("submission") else None,
    )
    new.rater = await interviewer_rater(campaign_id, user["id"])
    await writer_of(request).submit(new)
    return _interview_form(
        request, ctx, {}, {}, message=translate("interview.saved", request_language(request))
    )


CASE_HANDLERS = [
    case_list,
    case_export,
    case_detail,
    case_contact,
    case_contacted,
    case_close,
    interview_start,
    interview_form,
    interview_submit,
]
