"""The JSON API: window devices post ratings (device key); tickets and served counts
are in api_queue.py, the HR scoring feed in api_scores.py. Documented at /api/docs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NoReturn

import msgspec
from litestar import Controller, Request, Response, post
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.params import JSONBody

from pingyi.services import devices, tickets
from pingyi.services.public_rating import RatingInput, build_response, validate
from pingyi.services.questionnaires import asked_on
from pingyi.web.state import limiter_of, reference_cache_of, writer_of

Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


RATING_DESCRIPTION = """Idempotent: the same `client_id` again answers 200 with the
same id and stores nothing new.

**What a device must send.** `answers` maps item codes to levels 1-5 (5 非常满意,
4 满意, 3 基本满意, 2 不满意, 1 非常不满意). `overall` is always required. A device
(and the `default` channel) asks `overall` and the items that the campaign's public
questionnaire version marks "device asks" (none by default, so `{"overall": 4}` is a
complete rating); of those, the required ones must be sent. The questionnaire's other
items are asked on the phone page: a device may still send them (a screen evaluator
with more questions), and they are checked and stored, but they are never required on
a device. An unknown item code, a level outside 1-5 or a missing required item
answers 422 with `field` = `answers.<code>`.

A rating is bound to the device's window: `staff` must be on duty there (or, without
a usual window, belong to its unit) and `ticket` must have been issued there, for the
same staff member; otherwise 422."""


class DeviceRating(msgspec.Struct, forbid_unknown_fields=True):
    """A rating a citizen tapped on a window device.

    `answers` maps item codes to levels 1-5 (5 非常满意 ... 1 非常不满意). A device
    must send `overall`, and the required items its questionnaire version marks
    "device asks" (none by default: `{"overall": 5}` is a complete rating). It may
    send any other item of the campaign's public questionnaire (a screen evaluator
    with more questions): checked and stored, never required. An unknown item code
    or a level outside 1-5 is refused (422)."""

    client_id: uuid.UUID
    window: Code
    answers: dict[Code, int]
    staff: Code | None = None
    ticket: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=500)] = ""
    # "default": the platform's automatic rating of an unrated service; stored apart
    # and never counted as a citizen's satisfaction.
    channel: Literal["device", "default"] = "device"


class RatingStored(msgspec.Struct):
    id: str
    created: bool


class TicketIssued(msgspec.Struct):
    url: str
    expires_at: datetime
    qr_svg: str
    qr_png_base64: str


_DEVICE = "pingyi.device"  # the scope key of the device that _authenticated found


class Unprocessable(HTTPException):
    status_code = 422


def bearer(request: Request[Any, Any, Any]) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def refuse_key(request: Request[Any, Any, Any], message: str) -> NoReturn:
    """401, or 429 once a client keeps guessing: guessing keys gets slower, honest
    clients don't notice."""
    client = request.client.host if request.client else "unknown"
    decision = await limiter_of(request).hit(f"badkey:{client}", 20, 60)
    if not decision.allowed:
        raise HTTPException(
            status_code=429,
            detail="too many failed keys; wait and retry",
            headers={"Retry-After": str(decision.retry_after_s)},
        )
    raise NotAuthorizedException(message)


async def _device(request: Request[Any, Any, Any]) -> dict[str, Any]:
    device = await reference_cache_of(request).device(bearer(request))
    if device is None:
        await refuse_key(request, "missing or wrong device key (Authorization: Bearer <key>)")
    return device


async def _staff_id(
    code: str | None, window_id: int, request: Request[Any, Any, Any] | None = None
) -> int | None:
    """The staff member named, who must be on duty at the device's own window (from
    the reference cache when a request is at hand)."""
    try:
        if request is not None:
            return await reference_cache_of(request).staff_at_window(code, window_id)
        return await devices.staff_at_window(code, window_id)
    except devices.NotAtThisWindow as exc:
        raise Unprocessable(detail=str(exc), extra={"field": exc.field}) from exc


async def _ticket_of_window(token: str, window_id: int, staff_id: int | None) -> dict[str, Any]:
    """The ticket a device posts with a rating: issued at this window, and for the
    staff member the rating names (if both name one)."""
    _, ticket = await tickets.lookup(token)
    if ticket is None:
        raise Unprocessable(detail="unknown ticket", extra={"field": "ticket"})
    if ticket["window"] != window_id:
        raise Unprocessable(
            detail="this ticket was issued at another window", extra={"field": "ticket"}
        )
    if staff_id is not None and ticket["staff"] is not None and ticket["staff"] != staff_id:
        raise Unprocessable(
            detail="this ticket was issued for another staff member", extra={"field": "staff"}
        )
    return ticket


async def _authenticated(request: Request[Any, Any, Any]) -> None:
    """The device key is checked before the body is read: a request without a valid
    key costs no parsing at all. A before-request hook, not a guard: litestar copies
    the route handler for every guard call (a few per cent of a rating's CPU), and
    the handler reads the device found here instead of looking it up again."""
    request.scope[_DEVICE] = await _device(request)  # type: ignore[literal-required]


class DeviceApi(Controller):
    path = "/api/v1"
    tags = ("devices",)
    # A rating is a few hundred bytes, two levels deep.
    opt = {"max_body": 16 * 1024, "max_depth": 4}  # noqa: RUF012

    @post(
        "/ratings",
        summary="Store a rating from a window device",
        description=RATING_DESCRIPTION,
        responses=None,
        status_code=201,
        before_request=_authenticated,
    )
    async def post_rating(
        self, request: Request[Any, Any, Any], data: JSONBody[DeviceRating]
    ) -> Response[RatingStored]:
        """See RATING_DESCRIPTION (the OpenAPI text a device vendor reads)."""
        device: dict[str, Any] = request.scope[_DEVICE]  # type: ignore[literal-required]
        if data.window != device["window_code"]:
            raise Unprocessable(
                detail="this device belongs to another window", extra={"field": "window"}
            )
        window_id = device["window"]
        staff_id = await _staff_id(data.staff, window_id, request)
        ticket = await _ticket_of_window(data.ticket, window_id, staff_id) if data.ticket else None
        if staff_id is None and ticket is not None and ticket["staff"] is not None:
            staff_id = int(ticket["staff"])  # the service the ticket was issued for
        cache = reference_cache_of(request)
        campaign_id = await cache.open_campaign_for_window(window_id)
        ctx = await cache.window_context(campaign_id, window_id, staff_id) if campaign_id else None
        if ctx is None or not ctx.is_open:
            # The remembered campaign may have closed and another opened: ask afresh.
            campaign_id = await tickets.open_campaign_for_window(window_id)
            if campaign_id:
                ctx = await cache.window_context(campaign_id, window_id, staff_id)
        if ctx is None or not ctx.is_open:
            raise HTTPException(status_code=409, detail="no open campaign covers this window")
        known = {"overall"} | {i["code"] for i in ctx.items}
        unknown = sorted(set(data.answers) - known)
        if unknown:
            raise Unprocessable(
                detail=f"unknown item code {unknown[0]!r}", extra={"field": f"answers.{unknown[0]}"}
            )
        # A device asks `overall` and the items its questionnaire version marks for
        # devices: only those can be required; any other item is optional here.
        items = [i if asked_on(i, data.channel) else {**i, "required": False} for i in ctx.items]
        rating = RatingInput(
            overall=data.answers.get("overall"),
            items={k: v for k, v in data.answers.items() if k != "overall"},
            comment=data.comment,
            reason="other",
        )
        errors, answers = validate(rating, items)
        if errors:
            name, reason = next(iter(errors.items()))
            raise Unprocessable(
                detail=f"{name}: {reason.rsplit('.', 1)[-1].replace('_', ' ')}",
                extra={"field": f"answers.{name}"},
            )
        ticket_hash = ticket["code"] if ticket else ""
        new = build_response(
            ctx,
            rating,
            answers,
            channel=data.channel,
            ticket_hash=ticket_hash,
            client_id=f"dev:{data.client_id}",
            now=datetime.now(UTC),
            require_open=True,
        )
        stored = await writer_of(request).submit(new)
        if stored.refused == "closed":
            raise HTTPException(status_code=409, detail="no open campaign covers this window")
        if stored.refused:
            raise HTTPException(status_code=409, detail="this ticket was rated already or expired")
        return Response(
            RatingStored(id=stored.response_id, created=stored.created),
            status_code=201 if stored.created else 200,
        )
