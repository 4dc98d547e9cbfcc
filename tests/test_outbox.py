"""The outbox to the provincial platform, against a real HTTP receiver on 127.0.0.1:
queued in the rating's own transaction, signed, deduplicated by batch id, retried,
dead-lettered, requeued from the console; peer ratings never leave."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from helpers import csrf_from, login, make_user, open_public_campaign
from test_citizen import UA, _page_for_window, form_fields

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "docs" / "provincial-outbox.schema.json"
SECRET = "shared-secret-for-the-platform-" + "s" * 16
KEY_ID = "city-0571"
PASSWORD = "correct horse battery"


@dataclass
class Receiver:
    """The provincial platform as the tests see it: checks the signature, keeps each
    batch once by its id, and fails on request."""

    url: str = ""
    public_key: Any = None  # Ed25519: verify with this instead of the shared secret
    fail_next: int = 0  # answer 500 to this many requests (and store nothing)
    lose_answer_next: int = 0  # store the batch, then answer 500 (the answer is "lost")
    requests: list[dict[str, Any]] = field(default_factory=list)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    refused: int = 0
    trickle_s: float = 0.0  # answer one byte at a time, with this pause between bytes
    on_request: Any = None  # called with no argument as each request arrives
    lock: threading.Lock = field(default_factory=threading.Lock)

    def records(self) -> list[dict[str, Any]]:
        return [r for b in self.batches.values() for r in b["records"]]

    def handle(self, headers: Any, body: bytes) -> int:
        from pingyi.services.outbox import verify_hmac

        if self.on_request is not None:
            self.on_request()
        with self.lock:
            self.requests.append({"batch_id": headers.get("X-Pingyi-Batch-Id"), "body": body})
            signature = headers.get("X-Pingyi-Signature", "")
            if self.public_key is not None:
                import base64

                try:
                    self.public_key.verify(
                        base64.b64decode(signature.removeprefix("ed25519=")), body
                    )
                    good = signature.startswith("ed25519=")
                except Exception:
                    good = False
            else:
                good = verify_hmac(body, signature, SECRET)
            if not good or headers.get("X-Pingyi-Key-Id") != KEY_ID:
                self.refused += 1
                return 401
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500
            document = json.loads(body)
            assert document["batch_id"] == headers.get("X-Pingyi-Batch-Id")
            self.batches.setdefault(document["batch_id"], document)  # deduplicate
            if self.lose_answer_next > 0:
                self.lose_answer_next -= 1
                return 500
            return 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            code = state.handle(self.headers, body)
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            for byte in (b"{", b"}") if state.trickle_s else (b"{}",):
                time.sleep(state.trickle_s)
                self.wfile.write(byte)
                self.wfile.flush()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/ratings"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _settings(receiver: Receiver, **kw: Any) -> Any:
    from pingyi.settings import get_settings

    values: dict[str, Any] = {
        "outbox_url": receiver.url,
        "outbox_key_id": KEY_ID,
        "outbox_secret": SECRET,
        "outbox_interval_s": 0.0,  # the tests drive the sender; one test runs it in the back
        "outbox_max_attempts": 3,
        "outbox_backoff_s": 10.0,
        "outbox_timeout_s": 10.0,
    }
    values.update(kw)
    return replace(get_settings(), **values)


@pytest.fixture
async def outbox_app(db: str, receiver: Receiver) -> AsyncIterator[Any]:
    from pingyi.web.app import create_app

    application = create_app(_settings(receiver))
    async with application.lifespan():
        yield application


@pytest.fixture
async def http(outbox_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=outbox_app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", follow_redirects=False
    ) as client:
        yield client


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _sender(app: Any, clock: Clock | None = None) -> Any:
    from pingyi.services.outbox import Endpoint, OutboxSender

    endpoint = Endpoint.from_settings(app.state.settings)
    assert endpoint is not None
    return OutboxSender(endpoint, clock=clock, rand=lambda: 0.5)


async def _rate_by_form(http: httpx.AsyncClient, campaign: dict[str, Any], **extra: str) -> Any:
    path, page = await _page_for_window(http, campaign)
    data = {**form_fields(page.text), "overall": "5", "item_attitude": "4", **extra}
    return await http.post(path, data=data, headers={"user-agent": UA})


async def _device_rating(http: httpx.AsyncClient) -> httpx.Response:
    from pingyi.services.devices import add_device

    key = await add_device("u1-W1", "柜台评价器")
    body = {
        "client_id": str(uuid.uuid4()),
        "window": "u1-W1",
        "staff": "u1-S1",
        "answers": {"overall": 4, "attitude": 4},
    }
    return await http.post("/api/v1/ratings", json=body, headers={"authorization": f"Bearer {key}"})


def _validate(document: dict[str, Any]) -> None:
    import jsonschema_rs

    jsonschema_rs.validator_for(json.loads(SCHEMA.read_text())).validate(document)


# recording


async def test_citizen_and_device_ratings_are_queued_with_the_rating(
    http: httpx.AsyncClient,
) -> None:
    from pingyi.db.tables import OutboxEvent, Response

    campaign = await open_public_campaign()
    assert (await _rate_by_form(http, campaign)).status_code == 200
    device = await _device_rating(http)
    assert device.status_code == 201, device.text
    responses = {str(r["id"]): r for r in await Response.select()}
    events = await OutboxEvent.select().output(load_json=True)
    assert {e["subject"] for e in events} == set(responses) and len(events) == 2
    channels = {e["payload"]["channel"] for e in events}
    assert channels == {"qr", "device"}
    for event in events:
        assert event["kind"] == "rating" and event["state"] == "pending"
        stored = responses[event["subject"]]
        flat = json.dumps(event["payload"])
        assert not stored["device"] or stored["device"] not in flat  # no fingerprint
        assert "203.0.113" not in flat and "iPhone" not in flat


async def test_a_refused_rating_queues_nothing(http: httpx.AsyncClient) -> None:
    from pingyi.db.tables import OutboxEvent, Response
    from pingyi.services import campaigns

    campaign = await open_public_campaign()
    path, page = await _page_for_window(http, campaign)
    invalid = await http.post(path, data={**form_fields(page.text), "item_attitude": "3"})
    assert invalid.status_code == 400
    await campaigns.move("C1", "closed", "test")
    late = await http.post(
        path, data={**form_fields(page.text), "overall": "5", "item_attitude": "4"}
    )
    assert late.status_code != 200 or "感谢您的评价" not in late.text
    assert await Response.count() == 0 and await OutboxEvent.count() == 0


async def test_rolled_back_batch_leaves_no_event(db: str) -> None:
    """The event is written in the rating's transaction: when a later statement of that
    transaction fails, neither the rating nor its event stays."""
    from pingyi.db.tables import OutboxEvent, Response
    from pingyi.services.public_rating import RatingInput, build_response, validate, window_context
    from pingyi.services.writer import write_batch

    campaign = await open_public_campaign()
    ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    assert ctx is not None
    data = RatingInput(overall="1", items={"attitude": "1"}, reason="slow")
    errors, answers = validate(data, ctx.items)
    assert not errors
    item = build_response(ctx, data, answers, channel="qr")
    assert item.bad_review is not None
    item.bad_review.unit_id = 999_999  # the case insert after the event violates a key
    with pytest.raises(Exception):  # noqa: B017 - the engine's own integrity error
        await write_batch([item], outbox=True)
    assert await Response.count() == 0 and await OutboxEvent.count() == 0
    item.bad_review.unit_id = ctx.unit["id"]
    await write_batch([item], outbox=True)
    kinds = sorted(e["kind"] for e in await OutboxEvent.select(OutboxEvent.kind))
    assert kinds == ["case", "rating"]


async def test_peer_superior_self_and_honeypot_ratings_never_leave(
    http: httpx.AsyncClient, receiver: Receiver, outbox_app: Any
) -> None:
    from pingyi.db.tables import OutboxEvent, Response
    from test_peer import _fill, _form_token, _links, _ratee_fields

    campaign = await open_public_campaign()
    links = await _links()
    page = await http.get(links["u1-S2"])
    fields = _ratee_fields(page.text)
    everything = {**_fill(fields, list(fields)), "form": _form_token(page.text), "submit": "all"}
    assert (await http.post(links["u1-S2"], data=everything)).status_code == 200
    assert await Response.count() == len(fields) >= 3
    assert (await _rate_by_form(http, campaign, website="http://spam")).status_code == 200
    assert await OutboxEvent.count() == 0  # peers, self and the honeypot: none queued
    assert (await _rate_by_form(http, campaign)).status_code == 200
    await _sender(outbox_app).run_once()
    records = receiver.records()
    assert len(records) == 1 and records[0]["channel"] == "qr"
    public = await Response.select(Response.id).where(
        (Response.role == "public") & Response.honeypot.eq(False)
    )
    assert records[0]["rating_id"] == str(public[0]["id"])


# sending


async def test_batches_are_signed_valid_and_carry_only_what_the_platform_needs(
    http: httpx.AsyncClient, receiver: Receiver, outbox_app: Any
) -> None:
    from pingyi.db.tables import BadReviewCase, CitizenContact, OutboxEvent

    campaign = await open_public_campaign()
    await _rate_by_form(http, campaign)
    bad = await _rate_by_form(
        http,
        campaign,
        overall="1",
        item_attitude="1",
        reason="attitude",
        reason_text="说话很冲 13800138000",
        contact="13900000000",
    )
    assert bad.status_code == 200
    assert (await _device_rating(http)).status_code == 201
    report = await _sender(outbox_app).run_once()
    assert report.sent == 1 and report.failed == 0 and receiver.refused == 0
    (document,) = receiver.batches.values()
    _validate(document)
    assert document["key_id"] == KEY_ID
    kinds = sorted(r["type"] for r in document["records"])
    assert kinds == ["case", "rating", "rating", "rating"]
    case = next(r for r in document["records"] if r["type"] == "case")
    assert case["status"] == "open" and case["reason_category"] == "attitude"
    rating = next(r for r in document["records"] if r["rating_id"] == case["rating_id"])
    assert rating["level"] == 1 and rating["unit"] == "u1" and rating["window"] == "u1-W1"
    body = receiver.requests[0]["body"].decode()
    for secret in ("13900000000", "13800138000", "说话很冲"):
        assert secret not in body  # neither the contact nor the citizen's free text
    contact = await CitizenContact.select().first()
    assert contact is not None and contact["ciphertext"] not in body
    assert await OutboxEvent.count().where(OutboxEvent.state == "sent") == 4
    # the case's later updates follow, each in its own transaction with the update
    case_id = (await BadReviewCase.select(BadReviewCase.id).first())["id"]
    await make_user("lead1", "unit_leader", PASSWORD, unit_code="u1")
    await login(http, "lead1", PASSWORD)
    token = csrf_from((await http.get(f"/admin/cases/{case_id}")).text)
    closed = await http.post(
        f"/admin/cases/{case_id}/close",
        data={
            "_csrf_token": token,
            "verification": "justified",
            "explanation": "经核实态度生硬",
            "rectification": "已批评教育并培训",
            "feedback": "已当面致歉",
            "callback_result": "群众表示认可",
            "handling_rating": "3",
        },
    )
    assert closed.status_code in (302, 303), closed.text
    await _sender(outbox_app).run_once()
    assert len(receiver.batches) == 2
    last = receiver.requests[-1]["body"]
    _validate(json.loads(last))
    update = json.loads(last)["records"]
    statuses = [r["status"] for r in update]
    assert statuses == ["contacted", "closed"] or statuses == ["closed"]
    assert update[-1]["verification"] == "justified" and update[-1]["handling_level"] == 3
    assert "群众表示认可" not in last.decode() and "已当面致歉" not in last.decode()


async def test_failures_back_off_then_dead_letter_and_retry_now_requeues(
    http: httpx.AsyncClient, receiver: Receiver, outbox_app: Any
) -> None:
    from pingyi.db.tables import AuditEvent, OutboxBatch

    campaign = await open_public_campaign()
    await _rate_by_form(http, campaign)
    clock = Clock()
    sender = _sender(outbox_app, clock)
    receiver.fail_next = 100
    first = await sender.run_once()
    assert first.failed == 1 and first.sent == 0 and first.dead == 0
    batch = await OutboxBatch.select().first()
    assert batch["attempts"] == 1 and "HTTP 500" in batch["last_error"]
    # not due again before its back-off (10 s, with jitter) has passed
    assert (await sender.run_once()).failed == 0
    clock.now += timedelta(seconds=11)
    assert (await sender.run_once()).failed == 1
    clock.now += timedelta(seconds=11)
    assert (await sender.run_once()).failed == 0  # the second step is 20 s
    clock.now += timedelta(seconds=11)
    third = await sender.run_once()
    assert third.failed == 1 and third.dead == 1
    clock.now += timedelta(days=1)
    assert (await sender.run_once()).failed == 0  # dead letters wait for a person
    ids = {r["batch_id"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and len(ids) == 1  # one batch id across retries
    # the console shows it and "retry now" requeues it (CSRF-protected, audited)
    await make_user("agency", "agency_admin", PASSWORD)
    await login(http, "agency", PASSWORD)
    page = await http.get("/admin/outbox")
    assert page.status_code == 200
    assert 'id="outbox-dead">1 (1' in page.text and "HTTP 500" in page.text
    assert 'id="outbox-pending">0<' in page.text
    forged = await http.post("/admin/outbox/retry", data={})
    assert forged.status_code == 403
    retried = await http.post("/admin/outbox/retry", data={"_csrf_token": csrf_from(page.text)})
    assert retried.status_code in (302, 303)
    assert await AuditEvent.exists().where(AuditEvent.action == "outbox.retry")
    receiver.fail_next = 0
    delivered = await sender.run_once()
    assert delivered.sent == 1
    assert set(receiver.batches) == ids  # the same batch id, delivered at last
    after = await http.get("/admin/outbox")
    assert 'id="outbox-dead">0 (0' in after.text and 'id="outbox-sent">1<' in after.text


async def test_a_lost_answer_is_resent_and_the_receiver_keeps_it_once(
    http: httpx.AsyncClient, receiver: Receiver, outbox_app: Any
) -> None:
    campaign = await open_public_campaign()
    for _ in range(3):
        await _rate_by_form(http, campaign)
    clock = Clock()
    sender = _sender(outbox_app, clock)
    receiver.lose_answer_next = 1  # stored, but pingyi hears a 500
    assert (await sender.run_once()).failed == 1
    clock.now += timedelta(minutes=5)
    assert (await sender.run_once()).sent == 1
    assert len(receiver.requests) == 2 and len(receiver.batches) == 1
    assert len(receiver.records()) == 3
    assert len({r["event_id"] for r in receiver.records()}) == 3


async def test_an_answer_trickled_out_past_the_time_out_is_a_failed_try(
    db: str, receiver: Receiver
) -> None:
    """The time-out bounds the whole try: a receiver that sends its answer a byte at a
    time, each in time but the whole too late, does not hold the sender for ever."""
    from pingyi.services.outbox import Endpoint, OutboxSender

    await _queue_ratings(1)
    endpoint = Endpoint.from_settings(_settings(receiver, outbox_timeout_s=0.3))
    assert endpoint is not None
    clock = Clock()
    sender = OutboxSender(endpoint, clock=clock, rand=lambda: 0.5)
    receiver.trickle_s = 0.25  # status line at once, then "{" and "}": 0.5 s in all
    report = await sender.run_once()
    assert report.failed == 1 and report.sent == 0
    assert "no complete answer within 0.3 s" in report.errors[0]
    receiver.trickle_s = 0.0
    clock.now += timedelta(minutes=1)
    assert (await sender.run_once()).sent == 1
    assert len(receiver.requests) == 2 and len(receiver.batches) == 1  # kept once


async def test_back_off_counts_from_the_end_of_a_failed_try(db: str, receiver: Receiver) -> None:
    """A try that took long (a time-out) waits its back-off after it ended, not after it
    started: otherwise a 30 s time-out and a 10 s back-off retry at once, for ever."""
    from pingyi.db.tables import OutboxBatch
    from pingyi.services.outbox import Endpoint, OutboxSender

    await _queue_ratings(1)
    endpoint = Endpoint.from_settings(_settings(receiver))
    assert endpoint is not None
    clock = Clock()
    started = clock.now

    def slow_try() -> None:
        clock.now = started + timedelta(seconds=30)  # the try ends 30 s later

    receiver.on_request = slow_try
    receiver.fail_next = 1
    assert (await OutboxSender(endpoint, clock=clock, rand=lambda: 0.5).run_once()).failed == 1
    batch = await OutboxBatch.select().first()
    due = batch["next_attempt_at"]
    due = due if due.tzinfo else due.replace(tzinfo=UTC)
    assert due == started + timedelta(seconds=30 + 7.5)  # 10 s base, jitter at 0.5


async def _queue_ratings(count: int) -> None:
    from pingyi.services.public_rating import RatingInput, build_response, validate, window_context
    from pingyi.services.writer import write_batch

    campaign = await open_public_campaign()
    ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    assert ctx is not None
    items = []
    for _ in range(count):
        data = RatingInput(overall="4", items={"attitude": "4"})
        _, answers = validate(data, ctx.items)
        items.append(build_response(ctx, data, answers, channel="qr"))
    await write_batch(items, outbox=True)


async def test_batches_split_at_the_batch_size(db: str, receiver: Receiver) -> None:
    from pingyi.services.outbox import Endpoint, OutboxSender, status
    from pingyi.services.public_rating import RatingInput, build_response, validate, window_context
    from pingyi.services.writer import write_batch

    campaign = await open_public_campaign()
    ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u2-W2"])
    assert ctx is not None
    items = []
    for level in (5, 4, 3, 5, 4):
        data = RatingInput(overall=str(level), items={"attitude": str(level)})
        _, answers = validate(data, ctx.items)
        items.append(build_response(ctx, data, answers, channel="ticket"))
    await write_batch(items, outbox=True)
    assert (await status())["pending"] == 5
    endpoint = Endpoint.from_settings(_settings(receiver, outbox_batch_size=2))
    assert endpoint is not None
    report = await OutboxSender(endpoint).run_once()
    assert report.batched == 5 and report.sent == 3
    assert sorted(len(b["records"]) for b in receiver.batches.values()) == [1, 2, 2]
    for document in receiver.batches.values():
        _validate(document)
    state = await status()
    assert state["pending"] == 0 and state["sent"] == 5 and state["lag_s"] is None


async def test_ed25519_signature(db: str, receiver: Receiver) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from pingyi.services.outbox import Endpoint, OutboxSender
    from pingyi.services.public_rating import RatingInput, build_response, validate, window_context
    from pingyi.services.writer import write_batch

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    receiver.public_key = key.public_key()
    campaign = await open_public_campaign()
    ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    assert ctx is not None
    data = RatingInput(overall="4", items={"attitude": "4"})
    _, answers = validate(data, ctx.items)
    await write_batch([build_response(ctx, data, answers, channel="qr")], outbox=True)
    endpoint = Endpoint.from_settings(
        _settings(receiver, outbox_signing="ed25519", outbox_secret=seed.hex())
    )
    assert endpoint is not None
    assert (await OutboxSender(endpoint).run_once()).sent == 1
    assert receiver.refused == 0 and len(receiver.records()) == 1


async def test_the_server_sends_in_the_background(db: str, receiver: Receiver) -> None:
    from pingyi.web.app import create_app

    application = create_app(_settings(receiver, outbox_interval_s=0.05))
    async with application.lifespan():
        transport = httpx.ASGITransport(app=application, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            campaign = await open_public_campaign()
            assert (await _rate_by_form(http, campaign)).status_code == 200
            with anyio.fail_after(30):
                while not receiver.records():
                    await anyio.sleep(0.05)
    assert len(receiver.records()) == 1


async def test_cli_sync_run_delivers(db: str, receiver: Receiver) -> None:
    from pingyi.services.public_rating import RatingInput, build_response, validate, window_context
    from pingyi.services.writer import write_batch

    campaign = await open_public_campaign()
    ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u1-W2"])
    assert ctx is not None
    data = RatingInput(overall="5", items={"attitude": "5"})
    _, answers = validate(data, ctx.items)
    await write_batch([build_response(ctx, data, answers, channel="qr")], outbox=True)
    env = {
        **os.environ,
        "PINGYI_OUTBOX_URL": receiver.url,
        "PINGYI_OUTBOX_KEY_ID": KEY_ID,
        "PINGYI_OUTBOX_SECRET": SECRET,
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pingyi.cli", "sync", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    done = await anyio.to_thread.run_sync(cli, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "delivered 1 batches" in done.stdout
    assert len(receiver.records()) == 1
    state = await anyio.to_thread.run_sync(cli, "status")
    assert "pending 0, dead 0, sent 1" in state.stdout


def test_settings_need_a_key_id_and_secret_with_a_url() -> None:
    from pingyi.settings import SettingsError, load_settings

    base = {"PINGYI_SECRET_KEY": "k" * 40, "PINGYI_DATA_DIR": "/tmp/pingyi-outbox-settings"}
    assert load_settings(base).outbox_url is None
    with pytest.raises(SettingsError, match="PINGYI_OUTBOX_KEY_ID"):
        load_settings({**base, "PINGYI_OUTBOX_URL": "https://platform.example/ratings"})
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings(
            {
                **base,
                "PINGYI_OUTBOX_URL": "https://platform.example/ratings",
                "PINGYI_OUTBOX_KEY_ID": "k1",
                "PINGYI_OUTBOX_SECRET": "short",
            }
        )
    ok = load_settings(
        {
            **base,
            "PINGYI_OUTBOX_URL": "https://platform.example/ratings",
            "PINGYI_OUTBOX_KEY_ID": "k1",
            "PINGYI_OUTBOX_SECRET": SECRET,
            "PINGYI_OUTBOX_MAX_ATTEMPTS": "4",
        }
    )
    assert ok.outbox_max_attempts == 4 and ok.outbox_signing == "hmac-sha256"
    assert ok.outbox_parallel == 4 and ok.outbox_timeout_s == 30.0
    with_url = {
        **base,
        "PINGYI_OUTBOX_URL": "https://platform.example/ratings",
        "PINGYI_OUTBOX_KEY_ID": "k1",
        "PINGYI_OUTBOX_SECRET": SECRET,
    }
    fast = load_settings(
        {**with_url, "PINGYI_OUTBOX_TIMEOUT_S": "0.5", "PINGYI_OUTBOX_INTERVAL_S": "0.2"}
    )
    assert fast.outbox_timeout_s == 0.5 and fast.outbox_interval_s == 0.2
    with pytest.raises(SettingsError, match="PINGYI_OUTBOX_BACKOFF_S must be a number"):
        load_settings({**with_url, "PINGYI_OUTBOX_BACKOFF_S": "soon"})
    with pytest.raises(SettingsError, match="PINGYI_OUTBOX_TIMEOUT_S must be at least"):
        load_settings({**with_url, "PINGYI_OUTBOX_TIMEOUT_S": "0"})


def test_backoff_grows_and_is_jittered() -> None:
    from pingyi.services.outbox import backoff_delay

    low = [backoff_delay(n, 10.0, lambda: 0.0) for n in (1, 2, 3, 4)]
    high = [backoff_delay(n, 10.0, lambda: 1.0) for n in (1, 2, 3, 4)]
    assert low == [5.0, 10.0, 20.0, 40.0] and high == [10.0, 20.0, 40.0, 80.0]
    assert backoff_delay(60, 10.0, lambda: 1.0) == 6 * 3600.0
