"""Crash safety of the submission path, against a real `pingyi serve`.

Each test brings its own database (a SQLite file, a private PostgreSQL cluster), so
all of them run in both passes of the suite, whichever database the pass is on.

- SQLite: the server is SIGKILLed while devices stream ratings; after a restart
  every rating it acknowledged is stored exactly once, with all its answers.
- PostgreSQL: a private cluster (never the shared server on 5432) is stopped while
  devices stream ratings; meanwhile the service answers 503 with Retry-After, never
  500, and once the cluster is back it recovers by itself.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import WORKER
from live_server import (
    READY_TIMEOUT_S,
    BackgroundClients,
    LiveServer,
    PrivateCluster,
    postgres_bin,
    seed,
    server_env,
)


class Stream(BackgroundClients):
    """Devices posting ratings over and over from a background thread until told
    to stop; remembers what the server acknowledged and every status it gave."""

    def __init__(self, base: Callable[[], str], devices: list[list[str]], senders: int = 6):
        super().__init__(senders)
        self.base = base
        self.devices = devices
        self.acked: list[str] = []
        self.statuses: list[tuple[float, int, dict[str, str]]] = []
        self.sent: list[str] = []

    async def _sender(self, http: httpx.AsyncClient, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            window, key = self.devices[(n + i) % len(self.devices)]
            client_id = str(uuid.uuid4())
            self.sent.append(client_id)
            body = {
                "client_id": client_id,
                "window": window,
                "answers": {"overall": 1 + (i % 5), "attitude": 1 + (n % 5)},
            }
            try:
                response = await http.post(
                    self.base() + "/api/v1/ratings",
                    json=body,
                    headers={"authorization": f"Bearer {key}"},
                )
            except httpx.TransportError:
                await asyncio.sleep(0.05)  # server gone: try again soon
                continue
            self.statuses.append((time.monotonic(), response.status_code, dict(response.headers)))
            if response.status_code == 201:
                self.acked.append(f"dev:{client_id}")
            elif response.status_code == 503:
                await asyncio.sleep(0.05)

    def wait_for(self, acks: int, timeout: float = READY_TIMEOUT_S) -> None:
        """Until `acks` submissions are acknowledged: a generous deadline, not a speed
        target (a busy machine is slow)."""
        deadline = time.monotonic() + timeout
        while len(self.acked) < acks:
            assert time.monotonic() < deadline, f"only {len(self.acked)} acknowledged"
            time.sleep(0.02)


def _check_stored(rows: list[tuple[str, int]], acked: list[str], answers: int = 2) -> None:
    ids = [client_id for client_id, _ in rows]
    assert len(ids) == len(set(ids)), "a submission is stored twice"
    missing = set(acked) - set(ids)
    assert not missing, f"{len(missing)} acknowledged submissions are lost"
    half = [client_id for client_id, n in rows if n != answers]
    assert not half, f"{len(half)} responses without all their answers"


COUNT_SQL = (
    "SELECT r.client_id, (SELECT count(*) FROM answer a WHERE a.response = r.id) "
    "FROM response r WHERE r.client_id IS NOT NULL"
)


def test_sigkill_mid_stream_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    env = server_env(f"sqlite:///{db}", tmp_path)
    seeded = seed(env, tmp_path)
    server = LiveServer(env, tmp_path)
    server.wait_healthy()
    current = {"base": server.base}
    stream = Stream(lambda: current["base"], seeded["devices"]).start()
    try:
        stream.wait_for(150)
        server.kill()  # mid-stream: requests are in flight and in the writer's queue
        acked_before_kill = list(stream.acked)
        time.sleep(0.5)  # clients meet a closed port meanwhile
        server = LiveServer(env, tmp_path, port=server.port)
        server.wait_healthy()
        stream.wait_for(len(stream.acked) + 50)  # the restarted server takes new ones
    finally:
        stream.stop()
        server.stop()
    assert len(acked_before_kill) >= 150
    # No response from the server was a 500, before or after the kill.
    assert not [s for _, s, _ in stream.statuses if s >= 500 and s != 503]
    with sqlite3.connect(db) as connection:
        rows = list(connection.execute(COUNT_SQL))
    _check_stored(rows, stream.acked)
    # Nothing stored that was never sent, and the restart did not replay anything.
    assert {r[0] for r in rows} <= {f"dev:{c}" for c in stream.sent}


def test_retrying_an_in_flight_submission_after_a_crash_stores_it_once(tmp_path: Path) -> None:
    """A device that got no answer sends the same client_id again after the restart:
    201 or 200, and one row either way."""
    db = tmp_path / "retry.db"
    env = server_env(f"sqlite:///{db}", tmp_path)
    seeded = seed(env, tmp_path, windows=1)
    window, key = seeded["devices"][0]
    server = LiveServer(env, tmp_path)
    server.wait_healthy()
    client_id = str(uuid.uuid4())
    body = {"client_id": client_id, "window": window, "answers": {"overall": 4, "attitude": 4}}
    headers = {"authorization": f"Bearer {key}"}
    try:
        first = httpx.post(server.base + "/api/v1/ratings", json=body, headers=headers)
        server.kill()
        server = LiveServer(env, tmp_path, port=server.port)
        server.wait_healthy()
        again = httpx.post(server.base + "/api/v1/ratings", json=body, headers=headers)
    finally:
        server.stop()
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    with sqlite3.connect(db) as connection:
        rows = list(connection.execute(COUNT_SQL))
    assert rows == [(f"dev:{client_id}", 2)]


async def _pg_rows(url: str) -> list[tuple[str, int]]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return [(r[0], int(r[1])) for r in await connection.fetch(COUNT_SQL)]
    finally:
        await connection.close()


@pytest.fixture
def private_cluster() -> Any:
    # scripts/test installs the server binaries when they are missing: without them
    # this test fails, it is never skipped
    assert postgres_bin() is not None, (
        "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (initdb, pg_ctl)"
    )
    # Not under pytest's own temporary folder (mode 0700): the cluster may run as
    # the postgres user, who must be able to enter its folder.
    folder = Path(tempfile.mkdtemp(prefix="pingyi-pg-"))
    try:
        cluster = PrivateCluster(folder)
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.ensure_stopped()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_postgres_going_away_is_503_and_the_service_recovers(
    private_cluster: PrivateCluster, tmp_path: Path
) -> None:
    from live_server import create_pg_database

    name = f"pingyi_crash_{WORKER}".lower()
    url = create_pg_database(name, server=private_cluster.url)
    env = server_env(url, tmp_path)
    seeded = seed(env, tmp_path)
    server = LiveServer(env, tmp_path, workers=2)
    server.wait_healthy()
    stream = Stream(lambda: server.base, seeded["devices"]).start()
    try:
        stream.wait_for(150)
        private_cluster.stop("fast")  # terminates every connection, refuses new ones
        stopped_at = time.monotonic()
        acked_before_stop = list(stream.acked)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not [s for t, s, _ in stream.statuses if t > stopped_at and s == 503]:
            assert time.monotonic() < deadline, "no 503 while the database was down"
            time.sleep(0.05)
        time.sleep(1.0)  # keep failing for a while: every client gets an answer
        private_cluster.start()
        restarted_at = time.monotonic()
        try:
            stream.wait_for(len(stream.acked) + 50)
        except AssertionError:
            after = [s for t, s, _ in stream.statuses if t > restarted_at]
            raise AssertionError(
                f"no recovery: statuses after restart {after[:20]}..{after[-20:]}\n{server.log()}"
            ) from None
    finally:
        stream.stop()
        server.stop()
    during = [(s, h) for t, s, h in stream.statuses if stopped_at < t < restarted_at]
    assert during, "no answers while the database was down"
    assert {s for s, _ in during} <= {201, 503}, ({s for s, _ in during}, server.log())
    assert all(h.get("retry-after", "").isdigit() for s, h in during if s == 503)
    assert not [s for _, s, _ in stream.statuses if s >= 500 and s != 503], server.log()
    rows = asyncio.run(_pg_rows(url))
    _check_stored(rows, stream.acked)
    assert set(acked_before_stop) <= {r[0] for r in rows}
