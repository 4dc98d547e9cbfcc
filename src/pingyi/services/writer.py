"""The write path for ratings: group commit, acknowledge after the commit.

Submissions wait in a queue; one task writes whatever has gathered in one
transaction and only then answers each waiting request. Many submissions share
one commit (SQLite allows one writer at a time), yet nobody is told "saved" before
the data is durable. Idempotency (client ids) and single-use tickets are settled
inside that same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from pingyi.db.engine import SafeSQLiteTransaction, insert_many
from pingyi.db.tables import (
    Answer,
    BadReviewCase,
    CitizenContact,
    OutboxEvent,
    Response,
    Ticket,
)
from pingyi.ids import new_row_id
from pingyi.services import outbox as outbox_service

log = logging.getLogger("pingyi.writer")


@dataclass
class BadReviewSpec:
    unit_id: int
    reason_category: str
    reason_text: str
    contact_due: datetime
    rectify_due: datetime
    contact_ciphertext: str = ""


@dataclass
class NewResponse:
    campaign_id: int
    role: str
    channel: str
    answers: list[tuple[str, int | None, str]]  # (item code, score, text value)
    version_id: int | None = None
    window_id: int | None = None
    ratee_id: int | None = None
    rater: str = ""
    device: str = ""
    ticket_hash: str = ""
    client_id: str | None = None
    submitted_at: datetime | None = None
    duration_s: float | None = None
    off_hours: bool = False
    honeypot: bool = False
    interviewer_id: int | None = None
    comment: str = ""
    corrects: str | None = None
    bad_review: BadReviewSpec | None = None
    # Refuse unless the campaign is open at the commit: decided here, inside the
    # transaction, so a rating can never land after the campaign closed.
    require_open: bool = False
    id: uuid.UUID = field(init=False)

    def __post_init__(self) -> None:
        self.id = new_row_id(self.role)


@dataclass(frozen=True)
class Stored:
    response_id: str
    created: bool  # False: the same client id was stored before; nothing new written
    # "ticket_used": the ticket was rated already or has expired; "closed": the
    # campaign is not open (only for items with require_open)
    refused: str = ""


class KeptConnection:
    """The writer's own SQLite connection, opened once and kept between batches.

    piccolo opens a new connection (and a thread) for every transaction: on the
    submission path that was about 5 % of the CPU, once per batch. A connection
    whose commit or rollback failed is closed and a new one opened next time."""

    def __init__(self) -> None:
        self.connection: Any = None

    async def get(self, engine: SQLiteEngine) -> Any:
        if self.connection is None:
            self.connection = await engine.get_connection()
        return self.connection

    async def close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            with contextlib.suppress(Exception):
                await connection.close()


class _KeptTransaction(SafeSQLiteTransaction):
    def __init__(self, engine: SQLiteEngine, kept: KeptConnection) -> None:
        super().__init__(engine=engine, transaction_type=TransactionType.immediate)
        self.kept = kept

    async def get_connection(self) -> Any:
        return await self.kept.get(self.engine)

    async def _give_back(self) -> None:
        if not (self._committed or self._rolled_back):  # the connection is in doubt
            await self.kept.close()


async def write_batch(
    items: list[NewResponse], outbox: bool | None = None, kept: KeptConnection | None = None
) -> list[Stored]:
    """Write the batch in one transaction and say what became of each item. With the
    outbox on (default: when PINGYI_OUTBOX_URL is set) the public ratings and their
    new cases are queued for the provincial platform in that same transaction."""
    if outbox is None:
        from pingyi.settings import get_settings

        outbox = get_settings().outbox_url is not None
    db = Response._meta.db
    transaction: Any
    if isinstance(db, SQLiteEngine) and kept is not None and db.current_transaction.get() is None:
        transaction = _KeptTransaction(db, kept)
    elif isinstance(db, SQLiteEngine):
        transaction = db.transaction(transaction_type=TransactionType.immediate)
    else:
        transaction = db.transaction()
    async with transaction:
        if not isinstance(db, SQLiteEngine):
            await transaction.connection.execute(CUSTOM_PLANS)
        results = await _write(items, outbox)
    return results


# The client-id look-up is a prepared statement (asyncpg caches them per
# connection). After five runs PostgreSQL may settle on a generic plan, costed when
# the table was small: a sequential scan that it then keeps while the table grows
# to millions of rows (seen: 60 M rows read in 3 minutes of a fresh campaign's load,
# throughput down to a third). Planning the writer's few statements per run keeps
# the index whatever the table's size was when the plan was first made.
CUSTOM_PLANS = "SET LOCAL plan_cache_mode = force_custom_plan"


async def _fetch_rows(sql: str, values: list[Any]) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` (one ``{in}`` placeholder for ``values``) through the driver, in
    the current transaction: no ORM query built for the writer's two look-ups."""
    engine: Any = Response._meta.db
    connection = engine.current_transaction.get().connection
    if engine.engine_type == "postgres":
        return [tuple(r) for r in await connection.fetch(sql.format(in_="= ANY($1)"), values)]
    marks = ", ".join("?" for _ in values)
    async with connection.execute(sql.format(in_=f"IN ({marks})"), values) as cursor:
        return [
            tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in await cursor.fetchall()
        ]


async def _write(items: list[NewResponse], outbox: bool = False) -> list[Stored]:
    client_ids = [i.client_id for i in items if i.client_id]
    known: dict[str, str] = {}
    if client_ids:
        rows = await _fetch_rows(
            "SELECT client_id, id FROM response WHERE client_id {in_}", client_ids
        )
        known = {str(client_id): str(row_id) for client_id, row_id in rows}
    must_be_open = {i.campaign_id for i in items if i.require_open}
    open_ids: set[int] = set()
    if must_be_open:
        rows = await _fetch_rows(
            "SELECT id FROM campaign WHERE state = 'open' AND id {in_}", sorted(must_be_open)
        )
        open_ids = {int(r[0]) for r in rows}
    results: list[Stored] = []
    fresh: list[NewResponse] = []
    for item in items:
        if item.client_id and item.client_id in known:
            results.append(Stored(known[item.client_id], created=False))
            continue
        if item.require_open and item.campaign_id not in open_ids:
            results.append(Stored("", created=False, refused="closed"))
            continue
        if item.ticket_hash and not await _claim_ticket(item.ticket_hash, item.submitted_at):
            results.append(Stored("", created=False, refused="ticket_used"))
            continue
        if item.client_id:
            known[item.client_id] = str(item.id)
        fresh.append(item)
        results.append(Stored(str(item.id), created=True))
    if fresh:
        # one executemany per table through the driver, inside this transaction
        await insert_many(Response, RESPONSE_COLUMNS, [_response_row(i) for i in fresh])
        await insert_many(
            Answer,
            ANSWER_COLUMNS,
            [
                (new_row_id(i.role), i.id, code, score, value)
                for i in fresh
                for code, score, value in i.answers
            ],
        )
        queued = await outbox_service.queue_ratings(fresh) if outbox else set()
        for item in fresh:
            if item.bad_review is not None:
                await _open_case(item, item.id in queued)
    return results


async def _claim_ticket(ticket_hash: str, at: datetime | None) -> bool:
    claimed = (
        await Ticket.update({Ticket.used: True})
        .where((Ticket.code == ticket_hash) & Ticket.used.eq(False) & (Ticket.expires_at > at))
        .returning(Ticket.id)
    )
    return bool(claimed)


RESPONSE_COLUMNS = (
    "id",
    "campaign",
    "questionnaire_version",
    "role",
    "channel",
    "window",
    "ratee",
    "rater",
    "device",
    "ticket",
    "client_id",
    "submitted_at",
    "duration_s",
    "off_hours",
    "honeypot",
    "interviewer",
    "comment",
    "corrects",
)
ANSWER_COLUMNS = ("id", "response", "item", "score", "value")


def _response_row(item: NewResponse) -> tuple[Any, ...]:
    """The values of RESPONSE_COLUMNS for one response."""
    return (
        item.id,
        item.campaign_id,
        item.version_id,
        item.role,
        item.channel,
        item.window_id,
        item.ratee_id,
        item.rater,
        item.device,
        item.ticket_hash,
        item.client_id,
        item.submitted_at,
        item.duration_s,
        item.off_hours,
        item.honeypot,
        item.interviewer_id,
        item.comment,
        item.corrects,
    )


async def _open_case(item: NewResponse, outbox: bool = False) -> None:
    spec = item.bad_review
    assert spec is not None
    row = BadReviewCase(
        response=item.id,
        campaign=item.campaign_id,
        unit=spec.unit_id,
        window=item.window_id,
        reason_category=spec.reason_category,
        reason_text=spec.reason_text,
        opened_at=item.submitted_at,
        contact_due=spec.contact_due,
        rectify_due=spec.rectify_due,
    )
    case = await BadReviewCase.insert(row)
    if outbox:
        opened = {**row.to_dict(), "id": case[0]["id"], "response": item.id}
        await OutboxEvent.insert(
            outbox_service.case_event(opened, "open", item.submitted_at or spec.contact_due)
        )
    if spec.contact_ciphertext:
        await CitizenContact.insert(
            CitizenContact(case=case[0]["id"], ciphertext=spec.contact_ciphertext)
        )


class ResponseWriter:
    """One writer task per process; `submit` returns once the data is committed."""

    def __init__(self, max_batch: int = 256, outbox: bool | None = None) -> None:
        self.max_batch = max_batch
        self.outbox = outbox  # None: on when PINGYI_OUTBOX_URL is set
        self._queue: asyncio.Queue[tuple[NewResponse, asyncio.Future[Stored]] | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._kept = KeptConnection()  # SQLite only; PostgreSQL takes one from its pool

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run(), name="pingyi-response-writer")

    async def stop(self) -> None:
        if self._queue is not None and self._task is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        await self._kept.close()

    async def submit(self, item: NewResponse) -> Stored:
        if self._queue is None:  # not started (CLI, scripts): write directly
            return (await write_batch([item], self.outbox))[0]
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stopping = True
                    break
                batch.append(nxt)
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[NewResponse, asyncio.Future[Stored]]]) -> None:
        try:
            results = await write_batch([item for item, _ in batch], self.outbox, self._kept)
        except Exception as exc:
            if len(batch) == 1:
                _settle_error(batch[0][1], exc)
                return
            # One bad row must not sink its neighbours: retry them one by one.
            log.warning("batch of %d failed (%s); retrying singly", len(batch), type(exc).__name__)
            for one in batch:
                await self._commit([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)


def _settle_error(future: asyncio.Future[Any], exc: Exception) -> None:
    if not future.done():
        future.set_exception(exc)
