"""Console: sampled phone follow-up (电话回访). The agency draws a round and reads its
rates and estimates; interviewers work the call list, one call at a time."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from pingyi.db.tables import Campaign, PhoneCall
from pingyi.i18n import translate
from pingyi.sampling import OUTCOMES
from pingyi.services import phone
from pingyi.services.public_rating import REASONS
from pingyi.web.console_campaigns import Form
from pingyi.web.form_errors import Field
from pingyi.web.guards import current_user
from pingyi.web.rating_fields import marked_rating_errors
from pingyi.web.rendering import render, request_language
from pingyi.web.state import writer_of

AGENCY = "agency_admin"


def _user(request: Request[Any, Any, Any]) -> dict[str, Any]:
    user = current_user(request)
    assert user is not None  # the guard ran first
    return user


def _form(data: Any) -> dict[str, str]:
    return {k: v for k, v in (data or {}).items() if isinstance(v, str)}


async def _campaigns() -> list[dict[str, Any]]:
    return list(
        await Campaign.select(Campaign.code, Campaign.name, Campaign.state)
        .where(Campaign.state.is_in(["open", "closed", "cleaned", "published"]))
        .order_by(Campaign.id, ascending=False)
    )


async def _index(
    request: Request[Any, Any, Any],
    error: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    user = _user(request)
    return render(
        request,
        "admin/phone_rounds.html",
        status_code=status,
        rounds=await phone.list_rounds(),
        campaigns=await _campaigns() if user["role"] == AGENCY else [],
        error=error,
        values=values or {},
    )


@get("/admin/phone", opt={"permission": "phone.call"})
async def phone_index(request: Request[Any, Any, Any]) -> Template:
    return await _index(request)


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


@post("/admin/phone", opt={"permission": "phone.manage"})
async def phone_draw(request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
    form = _form(data)
    try:
        per_stratum = int(form.get("per_stratum", "").strip() or "0")
        day_from, day_to = _day(form.get("from", "")), _day(form.get("to", ""))
    except ValueError:
        return await _index(request, "phone.error.form", form, 400)
    try:
        round_id = await phone.draw_round(
            form.get("campaign", ""),
            per_stratum,
            _user(request)["username"],
            day_from,
            day_to,
            seed=form.get("seed", "").strip()[:64] or None,
        )
    except phone.PhoneError as exc:
        return await _index(request, str(exc), form, 400)
    return Redirect(f"/admin/phone/{round_id}")


async def _round_page(
    request: Request[Any, Any, Any],
    round_id: int,
    error: str = "",
    verification: phone.Verification | None = None,
    status: int = 200,
) -> Template:
    try:
        rnd = await phone.get_round(round_id)
    except phone.PhoneError as exc:
        raise NotFoundException(str(exc)) from exc
    agency = _user(request)["role"] == AGENCY
    comparison = []
    rates: list[dict[str, Any]] = []
    if agency:
        rates = await phone.stratum_rates(round_id)
        flags = await phone.latest_flags(int(rnd["campaign"]))
        comparison = await phone.comparison(round_id, flags)
    return render(
        request,
        "admin/phone_round.html",
        status_code=status,
        rnd=rnd,
        calls=await phone.calls_of(round_id),
        agency=agency,
        rates=rates,
        comparison=comparison,
        verification=verification,
        error=error,
        me=_user(request)["id"],
    )


@get("/admin/phone/{round_id:int}", opt={"permission": "phone.call"})
async def phone_round(request: Request[Any, Any, Any], round_id: FromPath[int]) -> Template:
    return await _round_page(request, round_id)


@post("/admin/phone/{round_id:int}/verify", opt={"permission": "phone.manage"})
async def phone_verify(request: Request[Any, Any, Any], round_id: FromPath[int]) -> Template:
    try:
        result = await phone.verify_round(round_id, _user(request)["username"])
    except phone.PhoneError as exc:
        raise NotFoundException(str(exc)) from exc
    return await _round_page(request, round_id, verification=result)


def _call_page(
    request: Request[Any, Any, Any],
    sheet: phone.CallSheet,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Template:
    lang = request_language(request)
    return render(
        request,
        "admin/phone_call.html",
        status_code=status,
        sheet=sheet,
        ctx=sheet.ctx,
        items=sheet.ctx.items,
        reasons=REASONS,
        outcomes=OUTCOMES,
        values=values,
        errors=errors,
        marked=marked_rating_errors(
            errors,
            sheet.ctx.items,
            lang,
            before=[Field("outcome", translate("phone.outcome", lang), f"o-{OUTCOMES[0]}")],
        ),
        submission=values.get("submission") or uuid.uuid4().hex,
    )


async def _start(request: Request[Any, Any, Any], call_id: int) -> phone.CallSheet:
    try:
        return await phone.start_call(call_id, _user(request))
    except phone.PhoneError as exc:
        if str(exc) == "phone.error.no_call":
            raise NotFoundException(str(exc)) from exc
        raise


async def _round_of(call_id: int) -> int:
    call = await PhoneCall.select(PhoneCall.phone_round).where(PhoneCall.id == call_id).first()
    if call is None:
        raise NotFoundException("no such call")
    return int(call["phone_round"])


async def _refused(request: Request[Any, Any, Any], call_id: int, message: str) -> Template:
    return await _round_page(request, await _round_of(call_id), error=message, status=409)


@post("/admin/phone/calls/{call_id:int}/start", opt={"permission": "phone.call"})
async def phone_call_start(request: Request[Any, Any, Any], call_id: FromPath[int]) -> Template:
    try:
        sheet = await _start(request, call_id)
    except phone.PhoneError as exc:
        return await _refused(request, call_id, str(exc))
    return _call_page(request, sheet, {}, {})


@post("/admin/phone/calls/{call_id:int}", opt={"permission": "phone.call"})
async def phone_call_finish(
    request: Request[Any, Any, Any], call_id: FromPath[int], data: Form
) -> Template | Redirect:
    form = _form(data)
    user = _user(request)
    try:
        if form.get("outcome") == "release":
            await phone.release_call(call_id, user)
        else:
            errors = await phone.record_outcome(
                call_id, user, form.get("outcome", ""), form, writer_of(request)
            )
            if errors:  # the number stays on screen: a new reveal, audited
                sheet = await _start(request, call_id)
                return _call_page(request, sheet, form, errors, status=400)
    except phone.PhoneError as exc:
        return await _refused(request, call_id, str(exc))
    return Redirect(f"/admin/phone/{await _round_of(call_id)}")


PHONE_HANDLERS = [
    phone_index,
    phone_draw,
    phone_round,
    phone_verify,
    phone_call_start,
    phone_call_finish,
]
