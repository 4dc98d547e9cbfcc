"""The citizen's rating pages: a static window code (/r/<ref>) or a one-service
ticket (/t/<token>). Opening a link never records anything; only the POST does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from pingyi.i18n import in_language, translate
from pingyi.services import tickets
from pingyi.services.alerts import record_volume_alert
from pingyi.services.fingerprint import fingerprint
from pingyi.services.links import (
    FormToken,
    pressure_once,
    resolve_pressure,
    resolve_window_ref,
    sign_pressure,
)
from pingyi.services.public_rating import (
    REASONS,
    WindowContext,
    build_response,
    rating_input_from_form,
    validate,
)
from pingyi.services.reports import record_pressure
from pingyi.web.guessing import wrong_link
from pingyi.web.rating_fields import marked_rating_errors
from pingyi.web.rendering import render, request_language
from pingyi.web.state import limiter_of, reference_cache_of, settings_of, writer_of
from pingyi.web.thanks import thank_you

# How long a rating or pressure form is remembered as used (a replay within it counts
# toward no limit; the writer and the database dedupe beyond it all the same).
FORM_CLAIM_S = 86_400
# Pressure reports one address may file per rate-limit period (a hall's Wi-Fi is one
# address for many citizens: generous, but not unlimited).
PRESSURE_PER_ADDRESS = 20

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _notice(request: Request[Any, Any, Any], key: str, status: int) -> Template:
    return render(
        request,
        "citizen/notice.html",
        status_code=status,
        message=translate(key, request_language(request)),
    )


def _form(
    request: Request[Any, Any, Any],
    ctx: WindowContext,
    token: FormToken,
    action: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> Template:
    lang = request_language(request)
    return render(
        request,
        "citizen/rate.html",
        status_code=status,
        unit_name=in_language(ctx.unit["name"], ctx.unit["name_en"], lang),
        window=ctx.window,
        window_name=in_language(ctx.window["name"], ctx.window["name_en"], lang),
        staff=ctx.staff,
        items=ctx.items,
        reasons=REASONS,
        token=token.encode(),
        action=action,
        values=values or {},
        marked=marked_rating_errors(errors or {}, ctx.items, lang),
        message=message,
    )


async def _submit(
    request: Request[Any, Any, Any],
    data: dict[str, Any],
    campaign_id: int,
    window_id: int,
    ticket_hash: str,
    action: str,
) -> Template:
    token = FormToken.decode(str(data.get("token") or ""))
    valid_token = token is not None and (token.campaign_id, token.window_id, token.ticket_hash) == (
        campaign_id,
        window_id,
        ticket_hash,
    )
    staff_id = token.staff_id if token and valid_token else 0
    ctx = await reference_cache_of(request).window_context(campaign_id, window_id, staff_id or None)
    if ctx is None:
        return _notice(request, "notice.bad_link", 404)
    if not ctx.is_open:
        return _notice(request, "notice.closed", 410)
    values = {k: v for k, v in data.items() if isinstance(v, str) and k not in ("token", "contact")}
    if token is None or not valid_token:
        # The form's signature is wrong or from elsewhere: show a fresh form, keep
        # what was entered, store nothing.
        fresh = FormToken.new(
            campaign_id, window_id, ctx.staff["id"] if ctx.staff else 0, ticket_hash
        )
        return _form(
            request,
            ctx,
            fresh,
            action,
            values,
            {},
            translate("rate.error.expired_form", request_language(request)),
            status=400,
        )
    rating = rating_input_from_form(data, ctx.items)
    errors, answers = validate(rating, ctx.items)
    if errors:
        return _form(
            request, ctx, token, action, {**values, "contact": rating.contact}, errors, status=400
        )
    now = datetime.now(UTC)
    client_ip = request.client.host if request.client else ""
    device = await fingerprint(client_ip, request.headers.get("user-agent", ""), now.date())
    settings = settings_of(request)
    limiter = limiter_of(request)
    period = settings.rate_limit_window_s
    # A form counts once: a replay or a double click of the same form goes straight to
    # the writer (which stores it once and thanks again) and counts toward no limit.
    form_key = f"form:{token.submission_id}"
    if await limiter.claim(form_key, FORM_CLAIM_S):
        # Limits apply to the source: its address (a changed user agent does not
        # reset it) and its fingerprint (address network + user agent).
        for key, limit in (
            (f"addr:{client_ip}", settings.rate_limit_per_address),
            (f"dev:{device}", settings.rate_limit_per_device),
        ):
            decision = await limiter.hit(key, limit, period)
            if not decision.allowed:
                await limiter.release(form_key)  # the same form may try again later
                page = _form(
                    request,
                    ctx,
                    token,
                    action,
                    {**values, "contact": rating.contact},
                    {},
                    translate(
                        "error.rate_limited",
                        request_language(request),
                        seconds=decision.retry_after_s,
                    ),
                    status=429,
                )
                page.headers["Retry-After"] = str(decision.retry_after_s)
                return page
        # A window's volume never refuses a citizen: beyond the threshold the agency
        # gets an alert (once per period) and the cleaning judges the ratings (BURST).
        volume = await limiter.hit(f"win:{window_id}", settings.rate_limit_per_window, period)
        if not volume.allowed and await limiter.claim(f"alert:{campaign_id}:{window_id}", period):
            await record_volume_alert(
                campaign_id, window_id, now, settings.rate_limit_per_window, period
            )
    new = build_response(
        ctx,
        rating,
        answers,
        channel="ticket" if ticket_hash else "qr",
        device=device,
        ticket_hash=ticket_hash,
        client_id=f"web:{token.submission_id}",
        duration_s=max(0.0, now.timestamp() - token.rendered_at),
        now=now,
        require_open=True,
    )
    stored = await writer_of(request).submit(new)
    if stored.refused == "closed":
        return _notice(request, "notice.closed", 410)
    if stored.refused:
        return _notice(request, "notice.ticket_used", 410)
    return thank_you(  # rendered once per variant (web/thanks.py)
        request,
        bad_review=new.bad_review is not None,
        pressure_action="/p",
        pressure_token=sign_pressure(campaign_id, window_id, token.submission_id),
    )


class CitizenController(Controller):
    path = ""
    include_in_schema = False
    # A rating form is a few KB: every item, a comment, a reason, a contact.
    opt = {"max_body": 64 * 1024, "max_fields": 200}  # noqa: RUF012

    @get("/r/{ref:str}")
    async def window_page(self, request: Request[Any, Any, Any], ref: FromPath[str]) -> Template:
        resolved = resolve_window_ref(ref)
        if resolved is None:
            return await wrong_link(request, "notice.bad_link", 404)
        ctx = await reference_cache_of(request).window_context(*resolved)
        if ctx is None:
            return _notice(request, "notice.bad_link", 404)
        if not ctx.is_open:
            return _notice(request, "notice.closed", 410)
        token = FormToken.new(
            ctx.campaign["id"], ctx.window["id"], ctx.staff["id"] if ctx.staff else 0, ""
        )
        return _form(request, ctx, token, f"/r/{ref}")

    @post("/r/{ref:str}", status_code=200)
    async def window_submit(
        self, request: Request[Any, Any, Any], ref: FromPath[str], data: Form
    ) -> Template:
        resolved = resolve_window_ref(ref)
        if resolved is None:
            return await wrong_link(request, "notice.bad_link", 404)
        return await _submit(request, data, resolved[0], resolved[1], "", f"/r/{ref}")

    @get("/t/{token:str}")
    async def ticket_page(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        state, ticket = await tickets.lookup(token)
        if ticket is None or state != "valid":
            if state == "unknown":
                return await wrong_link(request, tickets.NOTICE[state], tickets.STATUS[state])
            return _notice(request, tickets.NOTICE[state], tickets.STATUS[state])
        ctx = await reference_cache_of(request).window_context(
            ticket["campaign"], ticket["window"], ticket["staff"]
        )
        if ctx is None:
            return _notice(request, "notice.bad_link", 404)
        if not ctx.is_open:
            return _notice(request, "notice.closed", 410)
        form = FormToken.new(
            ctx.campaign["id"], ctx.window["id"], ticket["staff"] or 0, ticket["code"]
        )
        return _form(request, ctx, form, f"/t/{token}")

    @post("/t/{token:str}", status_code=200)
    async def ticket_submit(
        self, request: Request[Any, Any, Any], token: FromPath[str], data: Form
    ) -> Template:
        state, ticket = await tickets.lookup(token)
        if ticket is None or state not in ("valid", "used"):
            if state == "unknown":
                return await wrong_link(request, tickets.NOTICE[state], tickets.STATUS[state])
            return _notice(request, tickets.NOTICE[state], tickets.STATUS[state])
        # A used ticket still reaches the writer: a retry of the very submission that
        # used it must get its thank-you page again, anything else a polite refusal.
        return await _submit(
            request, data, ticket["campaign"], ticket["window"], ticket["code"], f"/t/{token}"
        )

    @post("/p", status_code=200, opt={"max_body": 8 * 1024, "max_fields": 10})
    async def pressure_report(self, request: Request[Any, Any, Any], data: Form) -> Template:
        resolved = resolve_pressure(str(data.get("token") or ""))
        if resolved is None:
            return _notice(request, "notice.bad_link", 400)
        campaign_id, window_id, submission_id = resolved
        once = pressure_once(submission_id)
        limiter = limiter_of(request)
        # One report per rating form: a repeat is thanked again and stores nothing.
        if await limiter.claim(f"pressure:{once}", FORM_CLAIM_S):
            client = request.client.host if request.client else "unknown"
            decision = await limiter.hit(
                f"pressure-addr:{client}",
                PRESSURE_PER_ADDRESS,
                settings_of(request).rate_limit_window_s,
            )
            if not decision.allowed:
                await limiter.release(f"pressure:{once}")
                page = _notice(request, "pressure.limited", 429)
                page.headers["Retry-After"] = str(decision.retry_after_s)
                return page
            text = str(data.get("text") or "")[:500]
            await record_pressure(campaign_id, window_id, text, once)
        return _notice(request, "pressure.thanks", 200)
