"""Tickets (一事一评) and served counts over the JSON API: a window device asks for one
ticket at a time (device key); a queue system (叫号/办件系统) posts tickets in bulk,
the citizens each window served per hour, and fetches a ticket's QR image for the
queue slip (API key with the `queue` scope). Documented at /api/docs."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any, Literal, cast

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody

from pingyi.qr import qr_png, qr_svg
from pingyi.services import queue, tickets
from pingyi.services.devices import api_key_scopes
from pingyi.web.api import Code, TicketIssued, _device, _staff_id, bearer, refuse_key
from pingyi.web.state import reference_cache_of, settings_of

Number = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=queue.NUMBER.pattern)]

TICKETS_DESCRIPTION = f"""Two callers, two shapes.

**A window device** (its device key) asks for one ticket for a service at its own
window: the body is empty or `{{"staff": "<staff code>"}}` (the staff member on duty).
The answer (201) carries the ticket URL and its QR code (SVG, and PNG as base64).

**A queue system** (an API key with the `queue` scope, `pingyi apikey add NAME --scope
queue`) posts a batch: `{{"tickets": [{{"number": "20261201-A023", "window": "A01",
"staff": "S001"}}, ...]}}`, at most {queue.MAX_TICKETS} per request (more: 413).

- `number` is the queue system's own ticket number, unique for a service (not only
  for a day: prefix the date if the numbers restart), 1-64 of `A-Z a-z 0-9 . _ : -`.
- `window` is the window's code; `staff` (optional) the code of the staff member who
  serves the citizen, who must be on duty at that window.
- Idempotent per number: a number sent again with the same window and staff returns
  the ticket already stored (`created: false`) and stores nothing; the same number
  with another window or staff member is a conflict (409, nothing stored).
- All or nothing: an unknown window (422), a staff member not on duty there (422), a
  window that no open campaign covers (409) refuses the whole batch; `field` names the
  ticket, e.g. `tickets[3].window`.
- Each ticket expires after PINGYI_TICKET_TTL_HOURS (default 24) and can be rated
  once. Its printable QR code: `GET /api/v1/tickets/{{number}}/qr.png` (or `.svg`).

The answer is 201 when the batch stored a new ticket, else 200, and lists every ticket
of the batch in order. A device key cannot post a batch (403)."""

SERVED_DESCRIPTION = f"""How many citizens a window served in an hour, from the queue
system (API key with the `queue` scope; a device key gets 403). The cleaning reads
these counts as evidence: where an hour's ratings of a window exceed the citizens it
served, the excess top ratings without a ticket are flagged as a burst (BURST).

Body: `{{"counts": [{{"window": "A01", "hour": "2026-12-01T09:00:00+08:00",
"served": 14}}, ...]}}`, at most {queue.MAX_COUNTS} per request (more: 413).

- `hour` is the start of the hour (minutes and seconds zero); without an offset it is
  the hall's local time (Asia/Shanghai). An hour that has not begun is refused.
- `served` counts the citizens called and served at that window in that hour
  (0-{queue.MAX_SERVED}).
- Idempotent per (window, hour): the latest count replaces the earlier one, so a queue
  system may send a running count during the hour and the final one after it.
- All or nothing: an unknown window or a bad hour refuses the whole batch (422,
  `field` e.g. `counts[2].hour`)."""


Callback = Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class QueueTicket(msgspec.Struct, forbid_unknown_fields=True):
    number: Number
    window: Code
    staff: Code | None = None
    # the citizen's call-back number if they gave one at the counter, for the agency's
    # sampled phone follow-up: stored encrypted, shown only to the interviewer calling
    callback: Callback | None = None


class TicketsRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A device: nothing, or `staff`. A queue system: `tickets`."""

    staff: Code | None = None
    tickets: list[QueueTicket] | None = None


class QueueTicketIssued(msgspec.Struct):
    number: str
    url: str
    expires_at: datetime
    used: bool
    created: bool
    qr_png: str  # the path of its printable QR image
    qr_svg: str


class TicketsAccepted(msgspec.Struct):
    tickets: list[QueueTicketIssued]


class ServedEntry(msgspec.Struct, forbid_unknown_fields=True):
    window: Code
    hour: datetime
    served: int


class ServedRequest(msgspec.Struct, forbid_unknown_fields=True):
    counts: list[ServedEntry]


class ServedStored(msgspec.Struct):
    stored: int  # (window, hour) counts written or replaced


Caller = Literal["device", "queue"]


async def _caller(request: Request[Any, Any, Any]) -> Caller:
    """A device key, or an API key with the queue scope; anything else is refused."""
    key = bearer(request)
    if await reference_cache_of(request).device(key) is not None:
        return "device"
    scopes = await api_key_scopes(key)
    if scopes is None:
        await refuse_key(request, "missing or wrong key (Authorization: Bearer <key>)")
    if "queue" not in scopes:
        raise PermissionDeniedException("this key has no queue scope")
    return "queue"


async def _device_or_queue(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Checked before the body is read: an unknown key costs no parsing."""
    await _caller(cast("Request[Any, Any, Any]", connection))


async def _queue_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if await _caller(cast("Request[Any, Any, Any]", connection)) != "queue":
        raise PermissionDeniedException("this needs an API key with the queue scope")


def _refused(exc: queue.QueueError) -> HTTPException:
    return HTTPException(status_code=exc.status, detail=str(exc), extra={"field": exc.field})


def _qr_paths(number: str) -> tuple[str, str]:
    return f"/api/v1/tickets/{number}/qr.png", f"/api/v1/tickets/{number}/qr.svg"


class QueueApi(Controller):
    path = "/api/v1"
    tags = ("queue",)

    @post(
        "/tickets",
        summary="Issue rating tickets (一事一评): one from a device, a batch from a queue system",
        description=TICKETS_DESCRIPTION,
        guards=[_device_or_queue],
        status_code=201,
        # a batch of 500 tickets is about 40 KB, three levels deep
        opt={"max_body": 128 * 1024, "max_depth": 4},
    )
    async def post_tickets(
        self, request: Request[Any, Any, Any], data: JSONBody[TicketsRequest | None] = None
    ) -> Response[TicketIssued | TicketsAccepted]:
        if await _caller(request) == "device":
            if data is not None and data.tickets is not None:
                raise PermissionDeniedException("a device issues one ticket at a time")
            return Response(await self._one_for_device(request, data), status_code=201)
        if data is None or data.tickets is None or data.staff is not None:
            raise HTTPException(
                status_code=422,
                detail='a queue system sends {"tickets": [...]}, staff inside each ticket',
                extra={"field": "tickets"},
            )
        specs = [queue.TicketSpec(t.number, t.window, t.staff, t.callback) for t in data.tickets]
        try:
            issued = await queue.issue_batch(specs, settings_of(request).ticket_ttl_hours)
        except queue.QueueError as exc:
            raise _refused(exc) from exc
        items = [
            QueueTicketIssued(
                **t, qr_png=_qr_paths(t["number"])[0], qr_svg=_qr_paths(t["number"])[1]
            )
            for t in issued
        ]
        created = any(t.created for t in items)
        return Response(TicketsAccepted(tickets=items), status_code=201 if created else 200)

    @staticmethod
    async def _one_for_device(
        request: Request[Any, Any, Any], data: TicketsRequest | None
    ) -> TicketIssued:
        """The ticket URL and its QR code (SVG, and PNG as base64)."""
        device = await _device(request)
        staff_id = await _staff_id(data.staff if data else None, device["window"])
        try:
            issued = await tickets.issue(
                device["window"], staff_id, settings_of(request).ticket_ttl_hours
            )
        except tickets.TicketError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        return TicketIssued(
            url=issued["url"],
            expires_at=issued["expires_at"],
            qr_svg=qr_svg(issued["url"]),
            qr_png_base64=base64.b64encode(qr_png(issued["url"])).decode(),
        )

    @get(
        "/tickets/{number:str}/qr.png",
        summary="A queue ticket's QR code as PNG, for the queue slip",
        description="Queue scope. 404 for a number no queue ticket has.",
        guards=[_queue_only],
        media_type="image/png",
    )
    async def ticket_qr_png(self, number: FromPath[str]) -> Response[bytes]:
        return Response(qr_png(await _ticket_url(number)), media_type="image/png")

    @get(
        "/tickets/{number:str}/qr.svg",
        summary="A queue ticket's QR code as SVG, for the queue slip",
        description="Queue scope. 404 for a number no queue ticket has.",
        guards=[_queue_only],
        media_type="image/svg+xml",
    )
    async def ticket_qr_svg(self, number: FromPath[str]) -> Response[str]:
        return Response(qr_svg(await _ticket_url(number)), media_type="image/svg+xml")

    @post(
        "/served",
        summary="Citizens served per window and hour, from the queue system",
        description=SERVED_DESCRIPTION,
        guards=[_queue_only],
        status_code=200,
        # 1,000 counts are about 80 KB, three levels deep
        opt={"max_body": 128 * 1024, "max_depth": 4},
    )
    async def post_served(self, data: JSONBody[ServedRequest]) -> ServedStored:
        specs = [queue.ServedSpec(c.window, c.hour, c.served) for c in data.counts]
        try:
            return ServedStored(stored=await queue.record_served(specs))
        except queue.QueueError as exc:
            raise _refused(exc) from exc


async def _ticket_url(number: str) -> str:
    ticket = await queue.ticket_for_number(number)
    if ticket is None:
        raise NotFoundException("no queue ticket with this number")
    return str(ticket["url"])
