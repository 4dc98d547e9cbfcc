"""The group-commit writer with several batches in flight (PostgreSQL) or one (SQLite):
every submission stored once, a replay of a rating still being committed answered as
a replay, and on PostgreSQL a batch waiting on a lock does not hold up the next."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import anyio
import pytest
from piccolo.engine.sqlite import SQLiteEngine

from helpers import open_public_campaign
from pingyi.db.tables import Response, Ticket
from pingyi.security import token_hash
from pingyi.services import tickets
from pingyi.services.public_rating import RatingInput, build_response, validate, window_context
from pingyi.services.writer import IN_FLIGHT_POSTGRES, NewResponse, ResponseWriter

pytestmark = pytest.mark.anyio


async def _context() -> Any:
    campaign = await open_public_campaign()
    ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    assert ctx is not None
    return ctx


def _rating(ctx: Any, client_id: str, ticket_hash: str = "") -> NewResponse:
    data = RatingInput(overall="4", items={"attitude": "5"})
    errors, answers = validate(data, ctx.items)
    assert not errors
    return build_response(
        ctx, data, answers, channel="qr", client_id=client_id, ticket_hash=ticket_hash
    )


def _replay(item: NewResponse) -> NewResponse:
    """The same submission sent again: same client id, a new row id."""
    return NewResponse(**{**item.__dict__, "id": uuid.uuid4()})


async def test_concurrent_submissions_and_their_replays_are_each_stored_once(db: str) -> None:
    ctx = await _context()
    writer = ResponseWriter(max_batch=8)
    await writer.start()
    try:
        on_sqlite = isinstance(Response._meta.db, SQLiteEngine)
        assert writer.in_flight == (1 if on_sqlite else IN_FLIGHT_POSTGRES)
        items = [_rating(ctx, f"dev-{i}") for i in range(60)]
        replays = [_replay(item) for item in items[::6]]
        with anyio.fail_after(60):
            results = await asyncio.gather(*(writer.submit(i) for i in [*items, *replays]))
    finally:
        await writer.stop()
    first, again = results[: len(items)], results[len(items) :]
    stored = await Response.select(Response.id, Response.client_id)
    assert sorted(r["client_id"] for r in stored) == sorted(i.client_id or "" for i in items)
    ids = {r["client_id"]: str(r["id"]) for r in stored}
    for item, result in zip(items, first, strict=True):
        assert result.response_id == ids[item.client_id]
    for item, result in zip(replays, again, strict=True):
        assert result.response_id == ids[item.client_id]  # the stored rating's id, whoever won
    assert sum(r.created for r in results) == len(items)


async def test_a_replay_of_a_rating_still_in_flight_is_answered_as_a_replay(db: str) -> None:
    ctx = await _context()
    issued = await tickets.issue(ctx.window["id"], None, ttl_hours=1)
    ticket_hash = token_hash(issued["token"])
    writer = ResponseWriter(max_batch=1)  # the replay cannot share the first one's batch
    await writer.start()
    try:
        item = _rating(ctx, "web:double-click", ticket_hash)
        with anyio.fail_after(30):
            first = asyncio.create_task(writer.submit(item))
            await asyncio.sleep(0)  # the first batch is taken before the replay queues
            second = await writer.submit(_replay(item))
            first_result = await first
    finally:
        await writer.stop()
    assert first_result.created and first_result.refused == ""
    # a thank-you again, not "this ticket was used"
    assert (
        second.refused == ""
        and not second.created
        and second.response_id == first_result.response_id
    )
    assert await Response.count() == 1


async def test_on_postgres_a_batch_waiting_on_a_lock_does_not_hold_up_the_next(db: str) -> None:
    ctx = await _context()
    writer = ResponseWriter()
    await writer.start()
    if writer.in_flight == 1:  # SQLite: one writer at a time by design
        await writer.stop()
        assert isinstance(Response._meta.db, SQLiteEngine)
        return
    issued = await tickets.issue(ctx.window["id"], None, ttl_hours=1)
    ticket_hash = token_hash(issued["token"])
    locked, release = asyncio.Event(), asyncio.Event()

    async def hold_the_ticket() -> None:
        async with Ticket._meta.db.transaction():
            await Ticket.raw("SELECT id FROM ticket WHERE code = {} FOR UPDATE", ticket_hash)
            locked.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_ticket())
    try:
        with anyio.fail_after(30):
            await locked.wait()
            blocked = asyncio.create_task(writer.submit(_rating(ctx, "web:ticket", ticket_hash)))
            await asyncio.sleep(0.3)
            assert not blocked.done()  # its batch waits for the ticket's lock
            free = await writer.submit(_rating(ctx, "dev-free"))  # the next batch commits
            assert free.created and not blocked.done()
            release.set()
            assert (await blocked).created
            await holder
    finally:
        release.set()
        await writer.stop()
    assert await Response.count() == 2
