"""The outbox proven end to end: a real `pingyi serve` under load, SIGKILLed and
restarted on the same database, delivering to a receiver on 127.0.0.1 that fails at
random (seeded): 500s, answers slower than the sender's time-out, connections closed
without an answer (before and after reading the batch), answers lost after the
batch was kept, answers trickled out byte by byte, and slow but good answers.

Every acknowledged rating reaches the receiver at least once, and exactly once after
it deduplicates by id; nothing is lost; once the receiver stops failing the backlog
drains by itself (no "retry now"). Runs on the pass's database (SQLite file of its
own, or a PostgreSQL database of its own on the shared server).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import ENGINE, WORKER
from live_server import (
    READY_TIMEOUT_S,
    BackgroundClients,
    LiveServer,
    cli,
    create_pg_database,
    drop_pg_database,
    seed,
    server_env,
)

SECRET = "live-outbox-shared-secret-" + "z" * 20
KEY_ID = "live-0001"
TIMEOUT_S = 1.0  # the sender's time-out per try (PINGYI_OUTBOX_TIMEOUT_S)
TOKEN = re.compile(r'name="token" value="([^"]+)"')
THANKS = "感谢您的评价"
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) pingyi-outbox-live"
# How the receiver answers while it is failing; the first requests take each failure
# once, in this order, then a seeded draw picks one per request.
MODES = ("error", "timeout", "drop_before", "drop_after", "lost", "trickle", "slow", "ok")
WEIGHTS = (15, 10, 8, 8, 10, 6, 13, 30)


class ChaosReceiver:
    """The provincial platform, flaky: checks every signature, keeps each record once
    by its id (and counts every arrival), fails as told while `failing` is set."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.failing = True
        self.lock = threading.Lock()
        self.modes: Counter[str] = Counter()
        self.arrivals: Counter[str] = Counter()  # record id -> times it came
        self.records: dict[str, dict[str, Any]] = {}  # deduplicated by record id
        self.batch_ids: set[str] = set()
        self.refused = 0
        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/platform/ratings"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ChaosReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def mode(self) -> str:
        with self.lock:
            self.requests += 1
            if not self.failing:
                mode = "ok"
            elif self.requests <= len(MODES):
                mode = MODES[self.requests - 1]
            else:
                mode = self.rng.choices(MODES, WEIGHTS)[0]
            self.modes[mode] += 1
            return mode

    def keep(self, headers: Any, body: bytes) -> int:
        from pingyi.services.outbox import verify_hmac

        signature = headers.get("X-Pingyi-Signature", "")
        if not verify_hmac(body, signature, SECRET) or headers.get("X-Pingyi-Key-Id") != KEY_ID:
            with self.lock:
                self.refused += 1
            return 401
        document = json.loads(body)
        if document["batch_id"] != headers.get("X-Pingyi-Batch-Id"):
            with self.lock:
                self.refused += 1
            return 400
        with self.lock:
            self.batch_ids.add(document["batch_id"])
            for record in document["records"]:
                key = record["rating_id"] if record["type"] == "rating" else str(record["event_id"])
                self.arrivals[key] += 1
                self.records.setdefault(key, record)
        return 200

    def ratings(self) -> set[str]:
        with self.lock:
            return {k for k, r in self.records.items() if r["type"] == "rating"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: stale connections happen too

            def _answer(self, code: int, chunks: int = 1, pause: float = 0.0) -> None:
                payload = b'{"ok":true}' if code == 200 else b'{"error":"no"}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                step = max(1, len(payload) // chunks)
                for i in range(0, len(payload), step):
                    self.wfile.write(payload[i : i + step])
                    self.wfile.flush()
                    time.sleep(pause)

            def _drop(self) -> None:
                """Close the socket at once, no answer (RST when unread bytes remain)."""
                self.close_connection = True
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )

            def do_POST(self) -> None:
                mode = receiver.mode()
                if mode == "drop_before":
                    self._drop()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if mode == "error":
                    self._answer(500)
                    return
                code = receiver.keep(self.headers, body)
                if mode == "drop_after":  # kept, but pingyi never hears so
                    self._drop()
                elif mode == "lost":  # kept, but the answer says otherwise
                    self._answer(500)
                elif mode == "timeout":  # kept, answered after pingyi gave up
                    time.sleep(TIMEOUT_S * 1.6)
                    self._answer(code)
                elif mode == "trickle":  # each byte in time, the whole far too late
                    self._answer(code, chunks=12, pause=TIMEOUT_S * 0.4)
                elif mode == "slow":  # slow, but within the time-out
                    time.sleep(TIMEOUT_S * 0.3)
                    self._answer(code)
                else:
                    self._answer(code)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


class Load(BackgroundClients):
    """Citizens (QR page, then the form) and window devices (the API) posting from a
    background thread until stopped; remembers what the server acknowledged."""

    http_timeout = 15.0

    def __init__(self, base: Callable[[], str], seeded: dict[str, Any], senders: int = 6):
        super().__init__(senders)
        self.base = base
        self.refs: list[str] = seeded["refs"]
        self.devices: list[list[str]] = seeded["devices"]
        self.acked: list[str] = []  # client ids: "web:<submission>" or "dev:<uuid>"
        self.statuses: Counter[int] = Counter()

    async def _sender(self, http: httpx.AsyncClient, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            try:
                if n % 2 == 0:
                    await self._citizen(http, self.refs[(n + i) % len(self.refs)], i)
                else:
                    window, key = self.devices[(n + i) % len(self.devices)]
                    await self._device(http, window, key, i)
            except httpx.TransportError:
                await asyncio.sleep(0.05)  # server gone: try again soon

    async def _citizen(self, http: httpx.AsyncClient, ref: str, i: int) -> None:
        page = await http.get(f"{self.base()}/r/{ref}", headers={"user-agent": UA})
        match = TOKEN.search(page.text) if page.status_code == 200 else None
        if match is None:
            self.statuses[page.status_code] += 1
            await asyncio.sleep(0.05)
            return
        token = match.group(1)
        data = {"token": token, "overall": str(3 + i % 3), "item_attitude": str(3 + i % 2)}
        answer = await http.post(f"{self.base()}/r/{ref}", data=data, headers={"user-agent": UA})
        self.statuses[answer.status_code] += 1
        if answer.status_code == 200 and THANKS in answer.text:
            # the form token is `campaign~window~staff~ticket~rendered~submission.mac`
            self.acked.append("web:" + token.rpartition(".")[0].split("~")[5])

    async def _device(self, http: httpx.AsyncClient, window: str, key: str, i: int) -> None:
        client_id = str(uuid.uuid4())
        body = {
            "client_id": client_id,
            "window": window,
            "answers": {"overall": 3 + i % 3, "attitude": 3 + i % 2},
        }
        answer = await http.post(
            f"{self.base()}/api/v1/ratings",
            json=body,
            headers={"authorization": f"Bearer {key}"},
        )
        self.statuses[answer.status_code] += 1
        if answer.status_code == 201:
            self.acked.append(f"dev:{client_id}")
        elif answer.status_code == 503:
            await asyncio.sleep(0.05)

    def wait_for(self, acks: int, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < acks:
            assert time.monotonic() < deadline, f"only {len(self.acked)} acknowledged"
            time.sleep(0.02)


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as connection:
            return list(connection.execute(sql))

    async def fetch() -> list[tuple[Any, ...]]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def _wait(condition: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT_S) -> None:
    """Until `condition` holds: a generous deadline on a busy machine, not a speed test."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    if ENGINE == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox-live.db'}"
        return
    name = f"pingyi_outbox_live_{WORKER}".lower()
    url = create_pg_database(name)
    try:
        yield url
    finally:
        drop_pg_database(name)


def test_every_acknowledged_rating_arrives_once_through_a_flaky_receiver_and_a_sigkill(
    database: str, tmp_path: Path
) -> None:
    with ChaosReceiver(seed=14) as receiver:
        env = server_env(
            database,
            tmp_path,
            PINGYI_OUTBOX_URL=receiver.url,
            PINGYI_OUTBOX_KEY_ID=KEY_ID,
            PINGYI_OUTBOX_SECRET=SECRET,
            PINGYI_OUTBOX_INTERVAL_S="0.2",
            PINGYI_OUTBOX_BATCH_SIZE="25",
            PINGYI_OUTBOX_BACKOFF_S="0.2",
            PINGYI_OUTBOX_TIMEOUT_S=str(TIMEOUT_S),
            PINGYI_OUTBOX_MAX_ATTEMPTS="1000",  # nothing may need a person here
            # every simulated citizen shares one address and user agent
            PINGYI_RATE_LIMIT_PER_DEVICE="1000000000",
            PINGYI_RATE_LIMIT_PER_WINDOW="1000000000",
            PINGYI_RATE_LIMIT_PER_ADDRESS="1000000000",
        )
        seeded = seed(env, tmp_path, windows=4)
        workers = 1 if ENGINE == "sqlite" else 2  # two: one sender among the workers
        server = LiveServer(env, tmp_path, workers=workers)
        server.wait_healthy()
        current = {"base": server.base}
        load = Load(lambda: current["base"], seeded).start()
        try:
            load.wait_for(200)
            # the sender is meeting failures when the server dies
            _wait(lambda: receiver.requests >= 4, "the sender never reached the receiver")
            server.kill()
            time.sleep(0.3)
            server = LiveServer(env, tmp_path, workers=workers, port=server.port)
            server.wait_healthy()
            load.wait_for(len(load.acked) + 150)
        finally:
            load.stop()
        try:
            # keep failing until every kind of failure has been met, then come back
            _wait(lambda: receiver.requests > len(MODES) + 25, "too few tries met failures")
            receiver.failing = False
            stored = {
                str(r[0]) for r in _query(database, "SELECT id FROM response WHERE role = 'public'")
            }
            _wait(
                lambda: (
                    receiver.ratings() >= stored
                    and not _query(database, "SELECT id FROM outbox_event WHERE state <> 'sent'")
                ),
                f"not drained: {len(stored - receiver.ratings())} ratings missing",
            )
            state = cli(env, tmp_path, "sync", "status")
        finally:
            server.stop()
    by_client = dict(
        _query(database, "SELECT client_id, id FROM response WHERE client_id IS NOT NULL")
    )
    acked = set(load.acked)
    assert len(acked) == len(load.acked) >= 350
    assert not load.statuses.keys() - {200, 201, 503}, load.statuses
    assert acked <= by_client.keys(), "an acknowledged rating is not stored"
    received = receiver.ratings()
    # at least once: every acknowledged rating; nothing the database does not hold
    assert {str(by_client[c]) for c in acked} <= received
    assert received == stored
    assert all(receiver.arrivals[r] >= 1 for r in received)
    # exactly once after deduplication, and duplicates did come (lost answers, the kill)
    assert len(receiver.records) == len(stored)
    assert sum(receiver.arrivals.values()) > len(received)
    assert receiver.refused == 0  # every batch was signed right
    assert set(MODES) <= set(receiver.modes), receiver.modes
    # lag recovered by itself: nothing pending, nothing dead-lettered
    assert "pending 0, dead 0" in state and "lag -" in state, state
