"""The outbox to the provincial 好差评 platform.

- Recording: every stored public rating, and each update of its bad-review case
  (opened, citizen contacted, closed), becomes an `OutboxEvent` in the same
  transaction as the rating or the update (writer.py, cases.py). A rating that is
  refused or rolled back leaves no event. Only public ratings leave, never a peer,
  superior or self rating, and no event carries a call-back contact, a fingerprint,
  a ticket, a client id or free text written by a citizen.
- Sending: `OutboxSender.run_once` gathers pending events into batches (a batch
  keeps its id across retries, so the receiver can deduplicate on it), maps them to
  the configured wire format (services/outbound/), signs the raw JSON body and posts
  it. A failed batch is retried with exponential back-off and jitter; after
  `max_attempts` it is dead-lettered until someone presses "retry now".
- Only one sender runs among all workers and hosts (the lock of schedule.py, with an
  id of its own); `pingyi sync run` takes the same lock, for cron.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import random
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from pingyi import __version__
from pingyi.db.engine import insert_many
from pingyi.db.tables import (
    BadReviewCase,
    Campaign,
    OutboxBatch,
    OutboxEvent,
    ServiceWindow,
    Staff,
    Unit,
)
from pingyi.services import audit
from pingyi.services.background import PeriodicTask, SchedulerLock
from pingyi.services.outbound import CaseRecord, RatingRecord, Record, build, load_format

if TYPE_CHECKING:
    from pingyi.services.writer import NewResponse
    from pingyi.settings import Settings

log = logging.getLogger("pingyi.outbox")

OUTBOX_LOCK_KEY = 0x70696E67796F  # the sender's advisory lock id on PostgreSQL
KEY_ID_HEADER = "X-Pingyi-Key-Id"
TIMESTAMP_HEADER = "X-Pingyi-Timestamp"
SIGNATURE_HEADER = "X-Pingyi-Signature"
BATCH_HEADER = "X-Pingyi-Batch-Id"
MAX_BACKOFF_S = 6 * 3600.0
ERROR_MAX = 500


# recording (inside the caller's transaction)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rating_payload(item: NewResponse) -> dict[str, Any] | None:
    """The neutral record of a rating the writer is storing, or None when it must not
    leave: only citizens' (public) ratings, and not one a bot filled in (honeypot)."""
    if item.role != "public" or item.honeypot or item.window_id is None:
        return None
    scores = [(code, score) for code, score, _ in item.answers if score is not None]
    overall = next((score for code, score in scores if code == "overall"), None)
    if overall is None:
        return None
    return {
        "response_id": str(item.id),
        "campaign_id": item.campaign_id,
        "window_id": item.window_id,
        "ratee_id": item.ratee_id,
        "channel": item.channel,
        "submitted_at": _iso(item.submitted_at),
        "overall": overall,
        "items": [[code, score] for code, score in scores if code != "overall"],
        "corrects": item.corrects,
    }


async def queue_ratings(items: Iterable[NewResponse]) -> set[uuid.UUID]:
    """Queue the public ratings among ``items`` in the caller's transaction (the
    writer's group commit) and return their ids. One ``executemany`` through the
    driver: an ORM object per rating cost the submission path several per cent."""
    now = datetime.now(UTC)
    rows: list[tuple[Any, ...]] = []
    queued: set[uuid.UUID] = set()
    for item in items:
        payload = rating_payload(item)
        if payload is not None:
            rows.append(("rating", str(item.id), json.dumps(payload), now, "pending"))
            queued.add(item.id)
    if not rows:
        return queued
    await insert_many(OutboxEvent, ("kind", "subject", "payload", "created_at", "state"), rows)
    return queued


CASE_FIELDS = ("verification", "rectification", "handling_rating")


def case_event(case: dict[str, Any], status: str, at: datetime) -> OutboxEvent:
    """A case update as an event; `case` is the case row (after the update)."""
    return OutboxEvent(
        kind="case",
        subject=str(case["id"]),
        payload={
            "case_id": case["id"],
            "response_id": str(case["response"]),
            "campaign_id": case["campaign"],
            "unit_id": case["unit"],
            "window_id": case["window"],
            "status": status,
            "at": _iso(at),
            "reason_category": case.get("reason_category") or "",
            "contact_due": _iso(case.get("contact_due")),
            "rectify_due": _iso(case.get("rectify_due")),
            **{name: case.get(name) for name in CASE_FIELDS},
        },
    )


async def record_case_update(case_id: int, status: str, at: datetime) -> bool:
    """Queue a case update, inside the caller's transaction, if the case's rating went
    to the outbox (so the platform has the rating the case belongs to)."""
    case = await BadReviewCase.select().where(BadReviewCase.id == case_id).first()
    if case is None:
        return False
    queued = await OutboxEvent.exists().where(
        (OutboxEvent.kind == "rating") & (OutboxEvent.subject == str(case["response"]))
    )
    if not queued:
        return False
    await OutboxEvent.insert(case_event(case, status, at))
    return True


# the endpoint and the signature


@dataclass(frozen=True)
class Endpoint:
    url: str
    key_id: str
    secret: str
    signing: str = "hmac-sha256"  # or "ed25519": `secret` is the private key, hex
    format: str = "generic"
    batch_size: int = 500
    max_attempts: int = 10
    backoff_s: float = 10.0
    timeout_s: float = 30.0
    parallel: int = 4  # batches in flight at once; 1 sends strictly one after another

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoint | None:
        if not settings.outbox_url:
            return None
        return cls(
            url=settings.outbox_url,
            key_id=settings.outbox_key_id,
            secret=settings.outbox_secret,
            signing=settings.outbox_signing,
            format=settings.outbox_format,
            batch_size=settings.outbox_batch_size,
            max_attempts=settings.outbox_max_attempts,
            backoff_s=settings.outbox_backoff_s,
            timeout_s=settings.outbox_timeout_s,
            parallel=settings.outbox_parallel,
        )


def sign(body: bytes, endpoint: Endpoint) -> str:
    """The signature header's value over the raw body: `hmac-sha256=<hex>` with the
    shared secret, or `ed25519=<base64>` with the private key."""
    if endpoint.signing == "ed25519":
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(endpoint.secret))
        return "ed25519=" + base64.b64encode(key.sign(body)).decode()
    digest = hmac.new(endpoint.secret.encode(), body, hashlib.sha256).hexdigest()
    return "hmac-sha256=" + digest


def verify_hmac(body: bytes, header: str, secret: str) -> bool:
    """The receiver's check (documented in the README; the tests' receiver uses it)."""
    expected = "hmac-sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def backoff_delay(attempts: int, base_s: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential back-off with full jitter: the n-th retry waits a random time up to
    base * 2^(n-1), capped; at least half the step so retries never bunch at zero."""
    step = min(MAX_BACKOFF_S, base_s * (2 ** max(0, attempts - 1)))
    return step / 2 + rand() * step / 2


# mapping events to records


Names = dict[str, dict[int, dict[str, Any]]]


async def _names(
    table: Any, ids: Iterable[Any], *columns: Any, cache: Names | None = None
) -> dict[int, dict[str, Any]]:
    """Rows by id; with `cache` (one per sending pass) each id is read once a pass."""
    known = {} if cache is None else cache.setdefault(table._meta.tablename, {})
    wanted = sorted({int(i) for i in ids if i is not None} - known.keys())
    if wanted:
        rows = await table.select(table.id, *columns).where(table.id.is_in(wanted))
        known.update({int(r["id"]): r for r in rows})
    return known


async def to_records(events: list[dict[str, Any]], cache: Names | None = None) -> list[Record]:
    """Neutral records with codes in place of ids (one query per kind of name, and with
    `cache` none for names already read this pass)."""
    payloads = [e["payload"] for e in events]
    windows = await _names(
        ServiceWindow,
        (p.get("window_id") for p in payloads),
        ServiceWindow.code,
        ServiceWindow.unit,
        cache=cache,
    )
    units = await _names(
        Unit,
        [p.get("unit_id") for p in payloads] + [w["unit"] for w in windows.values()],
        Unit.code,
        cache=cache,
    )
    staff = await _names(Staff, (p.get("ratee_id") for p in payloads), Staff.code, cache=cache)
    campaigns = await _names(
        Campaign, (p.get("campaign_id") for p in payloads), Campaign.code, cache=cache
    )
    records: list[Record] = []
    for event, p in zip(events, payloads, strict=True):
        window = windows.get(p.get("window_id") or 0)
        campaign = campaigns[p["campaign_id"]]["code"]
        if event["kind"] == "rating":
            assert window is not None
            ratee = staff.get(p.get("ratee_id") or 0)
            records.append(
                RatingRecord(
                    event_id=event["id"],
                    rating_id=p["response_id"],
                    campaign=campaign,
                    unit=units[window["unit"]]["code"],
                    window=window["code"],
                    staff=ratee["code"] if ratee else None,
                    channel=p["channel"],
                    rated_at=p["submitted_at"],
                    level=int(p["overall"]),
                    items=[(str(code), int(score)) for code, score in p["items"]],
                    corrects=p.get("corrects"),
                )
            )
        else:
            records.append(
                CaseRecord(
                    event_id=event["id"],
                    case_id=int(p["case_id"]),
                    rating_id=p["response_id"],
                    campaign=campaign,
                    unit=units[p["unit_id"]]["code"],
                    window=window["code"] if window else None,
                    status=p["status"],
                    updated_at=p["at"],
                    reason_category=p["reason_category"],
                    contact_due=p.get("contact_due"),
                    rectify_due=p.get("rectify_due"),
                    verification=p.get("verification") or "",
                    rectification=p.get("rectification") or "",
                    handling_level=p.get("handling_rating"),
                )
            )
    return records


# sending


@dataclass
class SendReport:
    batched: int = 0  # events put into new batches
    sent: int = 0  # batches delivered
    failed: int = 0  # batches that failed this pass
    dead: int = 0  # of those, dead-lettered now
    errors: list[str] = field(default_factory=list)


class OutboxSender:
    """Delivers batches; `run_once` is one pass (the server's loop and `pingyi sync run`)."""

    def __init__(
        self,
        endpoint: Endpoint,
        clock: Callable[[], datetime] | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.endpoint = endpoint
        self.clock = clock or (lambda: datetime.now(UTC))
        self.rand = rand
        load_format(endpoint.format)  # an unknown format fails at start-up

    async def form_batches(self) -> int:
        """Put pending events without a batch into batches of `batch_size`."""
        total = 0
        after = 0  # keyset: each query starts past the last batch's events, else every
        # query would step again over all events batched but not yet sent (a backlog of
        # a million took minutes to batch, quadratically)
        while True:
            rows = (
                await OutboxEvent.select(OutboxEvent.id)
                .where(
                    (OutboxEvent.id > after)
                    & OutboxEvent.batch_id.is_null()
                    & (OutboxEvent.state == "pending")
                )
                .order_by(OutboxEvent.id)
                .limit(self.endpoint.batch_size)
            )
            if not rows:
                return total
            ids = [r["id"] for r in rows]
            after = ids[-1]
            batch_id = str(uuid.uuid4())
            async with OutboxEvent._meta.db.transaction():
                await OutboxBatch.insert(
                    OutboxBatch(batch_id=batch_id, size=len(ids), next_attempt_at=self.clock())
                )
                await OutboxEvent.update({OutboxEvent.batch_id: batch_id}).where(
                    OutboxEvent.id.is_in(ids) & OutboxEvent.batch_id.is_null()
                )
            total += len(ids)
            if len(ids) < self.endpoint.batch_size:
                return total

    async def run_once(self, max_batches: int | None = None) -> SendReport:
        """Batch what is pending, then send every batch that is due, oldest first, up to
        `parallel` at once (while one is on the wire the next is being read and
        built). The first failure ends the pass once the batches in flight are done:
        the receiver is struggling, do not hammer it."""
        report = SendReport(batched=await self.form_batches())
        names: Names = {}
        parallel = max(1, self.endpoint.parallel)
        limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)
        async with httpx.AsyncClient(timeout=self.endpoint.timeout_s, limits=limits) as http:

            async def one(batch: dict[str, Any], gate: asyncio.Semaphore) -> None:
                async with gate:
                    if report.failed:
                        return  # a batch before this one failed: leave it for later
                    error = await self._deliver(http, batch, names)
                    if error is None:
                        report.sent += 1
                        return
                    report.failed += 1
                    report.errors.append(error)
                    # back off from when the try ended: after a 30 s time-out a 10 s
                    # back-off counted from its start would retry at once
                    if await self._failed(batch, error, self.clock()):
                        report.dead += 1

            while not report.failed:
                room = None if max_batches is None else max_batches - report.sent
                if room is not None and room <= 0:
                    break
                due = (
                    await OutboxBatch.select()
                    .where(
                        (OutboxBatch.state == "pending")
                        & (OutboxBatch.next_attempt_at <= self.clock())
                    )
                    .order_by(OutboxBatch.next_attempt_at)
                    .order_by(OutboxBatch.id)
                    .limit(min(room or 8 * parallel, 8 * parallel))
                )
                if not due:
                    break
                gate = asyncio.Semaphore(parallel)
                # every task ends by itself (errors are answers), so gather waits for all
                results = await asyncio.gather(*(one(b, gate) for b in due), return_exceptions=True)
                for result in results:
                    if isinstance(result, BaseException):
                        raise result  # the database went away: the caller logs it
        return report

    async def body_of(self, batch_id: str, sent_at: datetime, names: Names | None = None) -> bytes:
        events = (
            await OutboxEvent.select()
            .where(OutboxEvent.batch_id == batch_id)
            .order_by(OutboxEvent.id)
            .output(load_json=True)
        )
        records = await to_records(events, names)
        document = build(
            self.endpoint.format, batch_id, _iso(sent_at) or "", self.endpoint.key_id, records
        )
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    async def _deliver(
        self, http: httpx.AsyncClient, batch: dict[str, Any], names: Names | None = None
    ) -> str | None:
        """Post one batch; None when the receiver took it, else the error in a line."""
        sent_at = self.clock()
        try:
            body = await self.body_of(batch["batch_id"], sent_at, names)
        except Exception as exc:  # a record that cannot be mapped: keep it, say why
            log.exception("outbox batch %s cannot be built", batch["batch_id"])
            return f"cannot build the batch: {type(exc).__name__}: {exc}"[:ERROR_MAX]
        headers = {
            "Content-Type": load_format(self.endpoint.format).CONTENT_TYPE,
            "User-Agent": f"pingyi/{__version__}",
            KEY_ID_HEADER: self.endpoint.key_id,
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
            BATCH_HEADER: batch["batch_id"],
            SIGNATURE_HEADER: sign(body, self.endpoint),
        }
        try:
            # httpx's time-out bounds each read and write, not the whole exchange: a
            # receiver that trickles its answer out would hold the only sender for
            # ever. The time-out is the try's deadline.
            answer = await asyncio.wait_for(
                http.post(self.endpoint.url, content=body, headers=headers),
                self.endpoint.timeout_s,
            )
        except TimeoutError:
            return f"no complete answer within {self.endpoint.timeout_s:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:ERROR_MAX] or type(exc).__name__
        if 200 <= answer.status_code < 300:
            async with OutboxEvent._meta.db.transaction():
                await OutboxBatch.update(
                    {
                        OutboxBatch.state: "sent",
                        OutboxBatch.sent_at: sent_at,
                        OutboxBatch.last_attempt_at: sent_at,
                        OutboxBatch.attempts: batch["attempts"] + 1,
                        OutboxBatch.last_error: "",
                    }
                ).where(OutboxBatch.id == batch["id"])
                await OutboxEvent.update({OutboxEvent.state: "sent"}).where(
                    OutboxEvent.batch_id == batch["batch_id"]
                )
            return None
        return f"HTTP {answer.status_code}: {answer.text[:200]}"[:ERROR_MAX]

    async def _failed(self, batch: dict[str, Any], error: str, now: datetime) -> bool:
        """Record a failure; True when the batch is now dead-lettered."""
        attempts = batch["attempts"] + 1
        dead = attempts >= self.endpoint.max_attempts
        delay = backoff_delay(attempts, self.endpoint.backoff_s, self.rand)
        log.warning(
            "outbox batch %s failed (attempt %d%s): %s",
            batch["batch_id"],
            attempts,
            ", dead-lettered" if dead else "",
            error,
        )
        async with OutboxEvent._meta.db.transaction():
            await OutboxBatch.update(
                {
                    OutboxBatch.attempts: attempts,
                    OutboxBatch.last_error: error,
                    OutboxBatch.last_attempt_at: now,
                    OutboxBatch.next_attempt_at: now + timedelta(seconds=delay),
                    OutboxBatch.state: "dead" if dead else "pending",
                }
            ).where(OutboxBatch.id == batch["id"])
            if dead:
                await OutboxEvent.update({OutboxEvent.state: "dead"}).where(
                    OutboxEvent.batch_id == batch["batch_id"]
                )
        return dead


# the console: state and "retry now"


async def status(now: datetime | None = None) -> dict[str, Any]:
    """Queue length, lag (age of the oldest event not yet delivered), dead letters and
    the last error."""
    now = now or datetime.now(UTC)
    pending = await OutboxEvent.count().where(OutboxEvent.state == "pending")
    dead = await OutboxEvent.count().where(OutboxEvent.state == "dead")
    dead_batches = await OutboxBatch.count().where(OutboxBatch.state == "dead")
    sent = await OutboxEvent.count().where(OutboxEvent.state == "sent")
    oldest = (
        await OutboxEvent.select(OutboxEvent.created_at)
        .where(OutboxEvent.state.is_in(["pending", "dead"]))
        .order_by(OutboxEvent.id)
        .first()
    )
    lag_s = None
    if oldest is not None:
        created = oldest["created_at"]
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        lag_s = max(0.0, (now - created).total_seconds())
    failing = (
        await OutboxBatch.select(
            OutboxBatch.batch_id,
            OutboxBatch.last_error,
            OutboxBatch.last_attempt_at,
            OutboxBatch.attempts,
            OutboxBatch.state,
        )
        .where(OutboxBatch.last_error != "")
        .order_by(OutboxBatch.last_attempt_at, ascending=False)
        .first()
    )
    last_sent = (
        await OutboxBatch.select(OutboxBatch.sent_at)
        .where(OutboxBatch.state == "sent")
        .order_by(OutboxBatch.sent_at, ascending=False)
        .first()
    )
    return {
        "pending": int(pending),
        "dead": int(dead),
        "dead_batches": int(dead_batches),
        "sent": int(sent),
        "lag_s": lag_s,
        "last_error": failing,
        "last_sent_at": last_sent["sent_at"] if last_sent else None,
    }


async def retry_now(actor: str, now: datetime | None = None) -> dict[str, int]:
    """Requeue dead-lettered batches (their tries start again) and make every waiting
    batch due at once. Audited."""
    now = now or datetime.now(UTC)
    async with OutboxEvent._meta.db.transaction():
        revived = (
            await OutboxBatch.update(
                {
                    OutboxBatch.state: "pending",
                    OutboxBatch.attempts: 0,
                    OutboxBatch.next_attempt_at: now,
                }
            )
            .where(OutboxBatch.state == "dead")
            .returning(OutboxBatch.batch_id)
        )
        if revived:
            await OutboxEvent.update({OutboxEvent.state: "pending"}).where(
                OutboxEvent.batch_id.is_in([r["batch_id"] for r in revived])
            )
        hurried = (
            await OutboxBatch.update({OutboxBatch.next_attempt_at: now})
            .where((OutboxBatch.state == "pending") & (OutboxBatch.next_attempt_at > now))
            .returning(OutboxBatch.id)
        )
    result = {"requeued": len(revived), "hurried": len(hurried)}
    await audit.record(actor, "outbox.retry", "outbox", after=result)
    return result


# one sender among many workers


@contextlib.asynccontextmanager
async def connection_pool(size: int) -> AsyncIterator[None]:
    """A PostgreSQL pool for a sender outside the server (`pingyi sync run`): without
    one, piccolo opens a connection for every query."""
    from piccolo.engine.postgres import PostgresEngine

    engine = OutboxEvent._meta.db
    if not isinstance(engine, PostgresEngine) or engine.pool is not None:
        yield
        return
    await engine.start_connection_pool(min_size=1, max_size=size)
    try:
        yield
    finally:
        await engine.close_connection_pool()


def outbox_lock(data_dir: Path) -> SchedulerLock:

    return SchedulerLock(data_dir / "outbox.lock", key=OUTBOX_LOCK_KEY)


class BackgroundSender(PeriodicTask[SendReport]):
    """The server's sender: a pass every `interval_s` seconds (or at once when woken)
    by whichever process holds the outbox lock."""

    name = "pingyi-outbox"

    def __init__(self, sender: OutboxSender, interval_s: float, lock: SchedulerLock) -> None:
        super().__init__(interval_s, lock)
        self.sender = sender

    async def run_pass(self) -> SendReport:
        return await self.sender.run_once()


async def start_sender(settings: Settings) -> BackgroundSender | None:
    """The app's sender (lifespan); None without PINGYI_OUTBOX_URL or with
    PINGYI_OUTBOX_INTERVAL_S=0 (then run `pingyi sync run` from cron)."""
    endpoint = Endpoint.from_settings(settings)
    if endpoint is None or settings.outbox_interval_s <= 0:
        return None
    background = BackgroundSender(
        OutboxSender(endpoint), settings.outbox_interval_s, outbox_lock(settings.data_dir)
    )
    await background.start()
    return background
