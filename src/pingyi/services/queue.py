"""Queue systems (叫号/办件系统): tickets in bulk and citizens served per window and hour.

A queue system holds an API key with the `queue` scope. It posts

- **tickets** under its own ticket numbers: idempotent per number (a repeat returns
  the ticket already stored; the same number for another window or staff member is a
  conflict). The ticket's link carries a token derived from the number with the
  server's secret key, so the same link (and QR image) can be printed again from the
  number alone, while nobody without the key can guess it;
- **served counts**: how many citizens a window served in an hour. One count per
  (window, hour); a later count replaces the earlier one (a running count during the
  hour, a corrected one after it).

The served counts reach a campaign's cleaning as `ticket_counts` (see
`ticket_counts`): where a ratee's ratings in an hour exceed the citizens served, the
excess top ratings without a ticket are BURST evidence.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pingyi.db.tables import ServedCount, ServiceWindow, Ticket
from pingyi.hours import LOCAL_TZ
from pingyi.security import derive_key, token_hash
from pingyi.services import devices
from pingyi.services.links import ticket_url
from pingyi.services.phone import set_ticket_contact
from pingyi.services.tickets import open_campaign_for_window
from pingyi.settings import get_settings

MAX_TICKETS = 500  # per request: a hall's morning, a few KB each way
MAX_COUNTS = 1000  # per request: a day of a large hall's windows
MAX_SERVED = 100_000  # citizens per window and hour: anything above is a typo
NUMBER = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_CHUNK = 500  # values per IN list (SQLite's bound-parameter limit)


class QueueError(ValueError):
    """A batch refused as a whole (nothing stored): HTTP status, field, message."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class TicketSpec:
    number: str
    window: str
    staff: str | None = None
    callback: str | None = None  # the citizen's call-back number, if given


@dataclass(frozen=True)
class ServedSpec:
    window: str
    hour: datetime
    served: int


def ticket_token(number: str) -> str:
    """The ticket link's token for a queue number: 128 bits of HMAC with the secret
    key, so it is reproducible from the number (reprints) and unguessable without the
    key. Only its hash is stored, as for any ticket."""
    key = derive_key(get_settings().secret_key, "queue-ticket")
    mac = hmac.new(key, number.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def _window_ids(codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(codes))
    found: dict[str, int] = {}
    for part in _chunks(wanted):
        rows = await ServiceWindow.select(ServiceWindow.id, ServiceWindow.code).where(
            ServiceWindow.code.is_in(list(part))
        )
        found.update({r["code"]: int(r["id"]) for r in rows})
    return found


async def _tickets_by_number(numbers: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for part in _chunks(numbers):
        rows = await Ticket.select(
            Ticket.id,
            Ticket.number,
            Ticket.window,
            Ticket.staff,
            Ticket.expires_at,
            Ticket.used,
        ).where(Ticket.number.is_in(list(part)))
        found.update({r["number"]: r for r in rows})
    return found


def _result(number: str, row: dict[str, Any], created: bool) -> dict[str, Any]:
    return {
        "number": number,
        "url": ticket_url(ticket_token(number)),
        "expires_at": row["expires_at"],
        "used": bool(row.get("used", False)),
        "created": created,
    }


async def issue_batch(specs: Sequence[TicketSpec], ttl_hours: int) -> list[dict[str, Any]]:
    """Store the batch's new tickets and return every ticket of the batch, in order.
    All or nothing: any unknown window, staff member not on duty there, window without
    an open campaign, or number already issued differently refuses the whole batch."""
    if not specs:
        raise QueueError(422, "tickets", "send at least one ticket")
    if len(specs) > MAX_TICKETS:
        raise QueueError(413, "tickets", f"at most {MAX_TICKETS} tickets per request")
    first: dict[str, tuple[int, TicketSpec]] = {}
    for i, spec in enumerate(specs):
        if not NUMBER.match(spec.number):
            raise QueueError(
                422, f"tickets[{i}].number", "a ticket number is 1-64 of A-Z a-z 0-9 . _ : -"
            )
        seen = first.setdefault(spec.number, (i, spec))
        if seen[1] != spec:
            raise QueueError(
                422,
                f"tickets[{i}].number",
                f"ticket number {spec.number!r} appears twice with different details",
            )
    windows = await _window_ids(s.window for s in specs)
    staff_ids: dict[tuple[str | None, int], int | None] = {}
    wanted: dict[str, tuple[int, int | None]] = {}  # number -> (window id, staff id)
    for number, (i, spec) in first.items():
        window_id = windows.get(spec.window)
        if window_id is None:
            raise QueueError(422, f"tickets[{i}].window", f"unknown window {spec.window!r}")
        if (spec.staff, window_id) not in staff_ids:
            try:
                staff_ids[(spec.staff, window_id)] = await devices.staff_at_window(
                    spec.staff, window_id
                )
            except devices.NotAtThisWindow as exc:
                raise QueueError(422, f"tickets[{i}].staff", str(exc)) from exc
        wanted[number] = (window_id, staff_ids[(spec.staff, window_id)])

    def check(existing: dict[str, dict[str, Any]]) -> None:
        for number, row in existing.items():
            if number in wanted and (row["window"], row["staff"]) != wanted[number]:
                i = first[number][0]
                raise QueueError(
                    409,
                    f"tickets[{i}].number",
                    f"ticket number {number!r} was issued already for another window or "
                    "staff member",
                )

    existing = await _tickets_by_number(list(wanted))
    check(existing)
    new = [n for n in wanted if n not in existing]
    campaigns: dict[int, int | None] = {}
    for number in new:
        window_id = wanted[number][0]
        if window_id not in campaigns:
            campaigns[window_id] = await open_campaign_for_window(window_id)
        if campaigns[window_id] is None:
            i = first[number][0]
            raise QueueError(
                409, f"tickets[{i}].window", f"no open campaign covers window {specs[i].window!r}"
            )
    if new:
        expires = datetime.now(UTC) + timedelta(hours=ttl_hours)
        async with Ticket._meta.db.transaction():
            await Ticket.insert(
                *[
                    Ticket(
                        campaign=campaigns[wanted[n][0]],
                        window=wanted[n][0],
                        staff=wanted[n][1],
                        code=token_hash(ticket_token(n)),
                        expires_at=expires,
                        number=n,
                    )
                    for n in new
                ]
            ).on_conflict(target=Ticket.number, action="DO NOTHING")
            # a concurrent batch may have stored one of these numbers differently
            stored = await _tickets_by_number(new)
            check(stored)  # raising here rolls this batch back
        existing.update(stored)
        # call-back numbers of newly issued tickets, encrypted apart from the ticket
        for number in new:
            callback = first[number][1].callback
            if callback and callback.strip():
                await set_ticket_contact(int(existing[number]["id"]), callback)
    created = set(new)
    # a number already stored by a concurrent request with the same details counts
    # as a repeat for only one of the two; both answers name the same ticket
    return [_result(n, existing[n], n in created) for n in first]


async def ticket_for_number(number: str) -> dict[str, Any] | None:
    """A queue ticket and its link, or None when no ticket has this number."""
    if not NUMBER.match(number):
        return None
    row = (
        await Ticket.select(Ticket.code, Ticket.expires_at, Ticket.used)
        .where(Ticket.number == number)
        .first()
    )
    if row is None:
        return None
    token = ticket_token(number)
    # issued under another secret key: the link printed then still works, a new one
    # would not; refuse rather than print a dead code
    if row["code"] != token_hash(token):
        return None
    return _result(number, row, created=False)


def hour_start(value: datetime) -> datetime:
    """The hour as stored: UTC; a naive time is the hall's local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


async def record_served(specs: Sequence[ServedSpec], now: datetime | None = None) -> int:
    """Store (or replace) served counts; returns how many (window, hour) rows were
    written. All or nothing, like tickets."""
    if not specs:
        raise QueueError(422, "counts", "send at least one count")
    if len(specs) > MAX_COUNTS:
        raise QueueError(413, "counts", f"at most {MAX_COUNTS} counts per request")
    now = now or datetime.now(UTC)
    windows = await _window_ids(s.window for s in specs)
    latest: dict[tuple[int, datetime], int] = {}  # the last of a batch's repeats wins
    for i, spec in enumerate(specs):
        window_id = windows.get(spec.window)
        if window_id is None:
            raise QueueError(422, f"counts[{i}].window", f"unknown window {spec.window!r}")
        start = hour_start(spec.hour)
        if (start.minute, start.second, start.microsecond) != (0, 0, 0):
            raise QueueError(
                422, f"counts[{i}].hour", "hour must be the start of an hour, e.g. 09:00:00"
            )
        if start > now:
            raise QueueError(422, f"counts[{i}].hour", "this hour has not begun yet")
        if not 0 <= spec.served <= MAX_SERVED:
            raise QueueError(422, f"counts[{i}].served", f"served must be 0-{MAX_SERVED}")
        latest[(window_id, start)] = spec.served
    rows = [
        ServedCount(window=w, hour_start=h, served=n, updated_at=now)
        for (w, h), n in latest.items()
    ]
    async with ServedCount._meta.db.transaction():
        for part in _chunks(rows):
            await ServedCount.insert(*part).on_conflict(
                target=(ServedCount.window, ServedCount.hour_start),
                action="DO UPDATE",
                values=[ServedCount.served, ServedCount.updated_at],
            )
    return len(rows)


async def ticket_counts(
    public: Iterable[tuple[str, datetime, int | None]],
) -> dict[tuple[str, float], int]:
    """The cleaning's `ticket_counts` for a campaign: `{(ratee, hour start epoch s):
    served}` in the cleaning's own ratee names; `public` holds each timed public
    response as (engine ratee name, submitted at, window id).

    A public rating is keyed by the staff member it names, or by its window. A served
    count is per window. The bound given for a ratee and hour is the sum of the served
    counts of every window at which that ratee was rated in that hour: every genuine
    rating of the ratee came from a citizen served at one of those windows, so it is an
    upper bound and never makes honest ratings look excessive. Where the ratings of a
    window in an hour name several staff members (or some name one and some none),
    each name gets the whole window's count: weaker evidence, never false. A ratee
    rated in an hour at a window without a count (or without a window) gets no bound
    for that hour, and the cleaning judges it by rate alone."""
    windows_of: dict[tuple[str, int], set[int | None]] = defaultdict(set)
    for name, submitted_at, window in public:
        windows_of[(name, int(submitted_at.timestamp() // 3600))].add(window)
    if not windows_of:
        return {}
    window_ids = sorted({w for ws in windows_of.values() for w in ws if w is not None})
    hours = [h for _, h in windows_of]
    lo = datetime.fromtimestamp(min(hours) * 3600, UTC)
    hi = datetime.fromtimestamp(max(hours) * 3600, UTC)
    served: dict[tuple[int, int], int] = {}
    for part in _chunks(window_ids):
        for row in await ServedCount.select(
            ServedCount.window, ServedCount.hour_start, ServedCount.served
        ).where(
            ServedCount.window.is_in(list(part))
            & (ServedCount.hour_start >= lo)
            & (ServedCount.hour_start <= hi)
        ):
            hour = int(row["hour_start"].timestamp() // 3600)
            served[(int(row["window"]), hour)] = int(row["served"])
    counts: dict[tuple[str, float], int] = {}
    for (name, hour), ws in windows_of.items():
        if None in ws or any((w, hour) not in served for w in ws):
            continue
        counts[(name, float(hour * 3600))] = sum(served[(w, hour)] for w in ws if w is not None)
    return counts
