"""Two app hosts behind HAProxy, on one PostgreSQL and one Redis, as real processes.

Two `pingyi serve` instances (ports and data folders of their own, standing in for
two hosts) behind HAProxy running `docker/haproxy.cfg` itself (its server lines
pointed at them):

- load spreads over both, and killing one (SIGKILL) under load loses no acknowledged
  rating and stores none twice; the balancer drains to the other;
- the campaign scheduler runs on one of them only (PostgreSQL advisory lock), and
  the survivor takes it over;
- rate limits and sign-in sessions hold across both (Redis).

Always on a PostgreSQL database of its own (several hosts on one SQLite file is not
a deployment pingyi supports), so it runs in both halves of the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import WORKER
from live_server import (
    READY_TIMEOUT_S,
    ROOT,
    BackgroundClients,
    LiveServer,
    cli,
    create_pg_database,
    drop_pg_database,
    free_port,
    seed,
    server_env,
)

TOKEN = re.compile(r'name="token" value="([^"]+)"')
THANKS = "感谢您的评价"
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) pingyi-two-hosts"
SCHEDULER_LOCK_KEY = 0x70696E677969  # services/background.py
HOST_HEADER = "x-pingyi-host"
PASSWORD = "two hosts, one session"


class Balancer:
    """HAProxy with docker/haproxy.cfg, its server lines pointed at local ports."""

    def __init__(self, folder: Path, servers: dict[str, int]) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        assert Path(binary).exists(), "haproxy is not installed (scripts/test installs it)"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = (ROOT / "docker" / "haproxy.cfg").read_text()
        config = config.replace("bind :8000", f"bind 127.0.0.1:{self.port}")
        lines = [line for line in config.splitlines() if not line.strip().startswith("server ")]
        lines += [f"    server {name} 127.0.0.1:{port} check" for name, port in servers.items()]
        path = folder / "haproxy.cfg"
        path.write_text("\n".join(lines) + "\n")
        checked = subprocess.run([binary, "-c", "-f", str(path)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        self.log = open(folder / "haproxy.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [binary, "-db", "-f", str(path)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        hosts: set[str] = set()
        while hosts != set(servers):  # every host in the rotation (health checks passed)
            assert time.monotonic() < deadline, f"balancer not ready: {hosts}"
            assert self.process.poll() is None, (folder / "haproxy.log").read_text()
            with contextlib.suppress(httpx.TransportError):
                hosts.add(httpx.get(self.base + "/healthz").headers.get(HOST_HEADER, ""))
            hosts.discard("")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.log.close()


@dataclass
class Hosts:
    database: str
    env: dict[str, dict[str, str]]
    servers: dict[str, LiveServer]
    balancer: Balancer
    seeded: dict[str, Any]


def _redis_db() -> int:
    """A Redis database number of this run's own (other runs share the server)."""
    return 1 + zlib.crc32(WORKER.encode()) % 15


def _clear_redis(db: int) -> None:
    """Counts an earlier run of this test left (the address is always 127.0.0.1)."""

    async def clear() -> None:
        import redis.asyncio as redis

        client = redis.from_url(f"redis://127.0.0.1:6379/{db}")
        try:
            keys = [k async for k in client.scan_iter("pingyi:rl:addr:127.0.0.1:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    asyncio.run(clear())


@pytest.fixture
def start_hosts(tmp_path: Path) -> Iterator[Callable[..., Hosts]]:
    name = f"pingyi_two_hosts_{WORKER}".lower()
    database = create_pg_database(name)
    started: list[Hosts] = []

    def start(**settings: str) -> Hosts:
        db = _redis_db()
        _clear_redis(db)
        common = {
            "PINGYI_REDIS_URL": f"redis://127.0.0.1:6379/{db}",
            "PINGYI_SCHEDULE_INTERVAL_S": "1",
            "PINGYI_RATE_LIMIT_PER_DEVICE": "1000000000",
            "PINGYI_RATE_LIMIT_PER_WINDOW": "1000000000",
            **settings,
        }
        env = {}
        for host in ("app1", "app2"):
            (tmp_path / host).mkdir()
            env[host] = server_env(database, tmp_path / host, **common)
        seeded = seed(env["app1"], tmp_path / "app1", windows=4)
        servers = {host: LiveServer(env[host], tmp_path / host) for host in env}
        for server in servers.values():
            server.wait_healthy()
        balancer = Balancer(tmp_path, {host: s.port for host, s in servers.items()})
        hosts = Hosts(database, env, servers, balancer, seeded)
        started.append(hosts)
        return hosts

    try:
        yield start
    finally:
        for hosts in started:
            hosts.balancer.stop()
            for server in hosts.servers.values():
                server.stop()
        drop_pg_database(name)


class Load(BackgroundClients):
    """Citizens (QR page, then the form) and window devices posting through the
    balancer; remembers what was acknowledged and which host answered."""

    http_timeout = 15.0

    def __init__(self, base: str, seeded: dict[str, Any], senders: int = 6) -> None:
        super().__init__(senders)
        self.base = base
        self.refs: list[str] = seeded["refs"]
        self.devices: list[list[str]] = seeded["devices"]
        self.acked: list[str] = []  # "web:<submission>" or "dev:<uuid>"
        self.statuses: Counter[int] = Counter()
        self.hosts: list[str] = []  # host of every acknowledged rating, in order

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
                await asyncio.sleep(0.05)

    def _answered(self, response: httpx.Response, client_id: str) -> None:
        self.acked.append(client_id)
        self.hosts.append(response.headers.get(HOST_HEADER, "?"))

    async def _citizen(self, http: httpx.AsyncClient, ref: str, i: int) -> None:
        page = await http.get(f"{self.base}/r/{ref}", headers={"user-agent": UA})
        match = TOKEN.search(page.text) if page.status_code == 200 else None
        if match is None:
            self.statuses[page.status_code] += 1
            return
        token = match.group(1)
        data = {"token": token, "overall": str(3 + i % 3), "item_attitude": str(3 + i % 2)}
        answer = await http.post(f"{self.base}/r/{ref}", data=data, headers={"user-agent": UA})
        self.statuses[answer.status_code] += 1
        if answer.status_code == 200 and THANKS in answer.text:
            # the form token is `campaign~window~staff~ticket~rendered~submission.mac`
            self._answered(answer, "web:" + token.rpartition(".")[0].split("~")[5])

    async def _device(self, http: httpx.AsyncClient, window: str, key: str, i: int) -> None:
        client_id = str(uuid.uuid4())
        body = {"client_id": client_id, "window": window, "answers": {"overall": 3 + i % 3}}
        answer = await http.post(
            f"{self.base}/api/v1/ratings", json=body, headers={"authorization": f"Bearer {key}"}
        )
        self.statuses[answer.status_code] += 1
        # 200: stored before, by a host that died before answering (a retry)
        if answer.status_code in (200, 201):
            self._answered(answer, f"dev:{client_id}")

    def wait_for(self, acks: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while len(self.acked) < acks:
            assert time.monotonic() < deadline, f"only {len(self.acked)} acknowledged"
            time.sleep(0.02)


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    async def fetch() -> list[tuple[Any, ...]]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def _scheduler_lock_holders(url: str) -> int:
    """Sessions holding the scheduler's advisory lock in this database."""
    rows = _query(
        url,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        f"AND ((classid::bigint << 32) | objid::bigint) = {SCHEDULER_LOCK_KEY}",
    )
    return int(rows[0][0])


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_killing_a_host_under_load_loses_no_rating_and_drains_to_the_other(
    start_hosts: Callable[..., Hosts],
) -> None:
    hosts = start_hosts(PINGYI_RATE_LIMIT_PER_ADDRESS="1000000000")
    # the scheduler runs on one host only, whichever took the lock first
    _wait(lambda: _scheduler_lock_holders(hosts.database) == 1, "no scheduler running")
    load = Load(hosts.balancer.base, hosts.seeded).start()
    try:
        load.wait_for(120)
        spread = Counter(load.hosts)
        hosts.servers["app1"].kill()  # mid-stream: requests in flight on it
        killed_at = len(load.acked)
        load.wait_for(killed_at + 200)
    finally:
        load.stop()
    after = load.hosts[killed_at + 50 :]  # once the balancer has noticed
    # the survivor took the scheduler over (the dead host's lock died with it)
    _wait(lambda: _scheduler_lock_holders(hosts.database) == 1, "scheduler not taken over")
    stored = [
        r[0] for r in _query(hosts.database, "SELECT client_id FROM response WHERE role = 'public'")
    ]
    assert spread["app1"] > 0 and spread["app2"] > 0, spread
    assert set(after) == {"app2"}, Counter(after)
    assert len(stored) == len(set(stored)), "a rating is stored twice"
    assert len(load.acked) == len(set(load.acked)), "a rating was acknowledged twice"
    lost = set(load.acked) - set(stored)
    assert not lost, f"{len(lost)} acknowledged ratings are lost"
    # nothing went wrong on the way, at worst a request was refused for a moment
    assert not load.statuses.keys() - {200, 201, 502, 503}, load.statuses


def test_rate_limits_and_sessions_hold_across_hosts(start_hosts: Callable[..., Hosts]) -> None:
    hosts = start_hosts(PINGYI_RATE_LIMIT_PER_ADDRESS="4")
    ref = hosts.seeded["refs"][0]
    app1, app2 = hosts.servers["app1"], hosts.servers["app2"]
    served: Counter[tuple[str, int]] = Counter()
    with httpx.Client(base_url=hosts.balancer.base, timeout=30) as http:
        for i in range(8):  # round robin: four forms to each host (pages from one)
            page = http.get(f"{app1.base}/r/{ref}", headers={"user-agent": UA})
            match = TOKEN.search(page.text)
            assert match, page.status_code
            answer = http.post(
                f"/r/{ref}",
                data={"token": match.group(1), "overall": "4", "item_attitude": str(3 + i % 3)},
                headers={"user-agent": UA},
            )
            served[(answer.headers.get(HOST_HEADER, "?"), answer.status_code)] += 1
    # one address, four forms in the period: the fifth is refused whichever host it meets
    assert sum(n for (_, status), n in served.items() if status == 200) == 4, served
    assert sum(n for (_, status), n in served.items() if status == 429) == 4, served
    assert {host for host, _ in served} == {"app1", "app2"}, served

    cli(hosts.env["app1"], app1.cwd, "createuser", "agent", "--role", "agency_admin",
        "--password", PASSWORD)  # fmt: skip
    with httpx.Client(base_url=app1.base, timeout=30, follow_redirects=False) as first:
        page = first.get("/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert csrf, page.text[:500]
        signed_in = first.post(
            "/login",
            data={
                "username": "agent",
                "password": PASSWORD,
                "_csrf_token": csrf.group(1),
                "next": "/admin",
            },
        )
        assert signed_in.status_code in (302, 303), signed_in.status_code
        cookies = first.cookies
        assert first.get("/admin").status_code == 200
    # the session signed in on one host is the same on the other
    with httpx.Client(base_url=app2.base, cookies=cookies, follow_redirects=False) as second:
        assert second.get("/admin").status_code == 200
        second.cookies.clear()
        assert second.get("/admin").status_code in (302, 303, 401)
    # and through the balancer, whichever host answers
    with httpx.Client(
        base_url=hosts.balancer.base, cookies=cookies, follow_redirects=False
    ) as either:
        answers = [either.get("/admin") for _ in range(4)]
    assert {a.status_code for a in answers} == {200}
    assert {a.headers.get(HOST_HEADER) for a in answers} == {"app1", "app2"}
