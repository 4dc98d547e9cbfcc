"""Load benchmark of the submission path, against a real `pingyi serve`.

Citizens go the form path (GET the rating page of a window's QR link, POST the form
with its signed token); window devices go the API (POST /api/v1/ratings with a
device key). After the run every acknowledged submission is looked up in the
database: it must be there exactly once, with its answers.

    python benchmarks/load.py                      # SQLite, the full run (manual)
    python benchmarks/load.py --db postgres        # PostgreSQL on 127.0.0.1:5432
    python benchmarks/load.py --quick              # a few seconds: the zero-loss check

The citizen rate limits (PINGYI_RATE_LIMIT_PER_DEVICE / _PER_WINDOW / _PER_ADDRESS) are raised for
the run: every simulated citizen comes from 127.0.0.1 with one user agent, so they
all share one device fingerprint, and the point is to measure throughput, not the
limiter refusing them. Bounded in time and count; listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("PINGYI_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
SECRET = "bench-secret-key-" + "b" * 40
UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) pingyi-load"
TOKEN = re.compile(r'name="token" value="([^"]+)"')
THANKS = "感谢您的评价"


# --------------------------------------------------------------------------- set-up


async def _seed(windows: int) -> dict[str, Any]:
    """An organisation with `windows` windows (one staff member each), an open
    campaign with a public questionnaire, and one device per window."""
    from datetime import date

    from pingyi.services import campaigns
    from pingyi.services.devices import add_device
    from pingyi.services.links import window_ref
    from pingyi.services.org import upsert_organization, upsert_staff, upsert_unit, upsert_window
    from pingyi.services.questionnaires import ItemSpec, create_questionnaire

    org = await upsert_organization("bench", "压测政务中心")
    unit = await upsert_unit(org, "hall", "综合大厅", "Hall", opening_hours="")
    window_ids = {}
    for n in range(windows):
        code = f"W{n:03d}"
        window_ids[code] = await upsert_window(unit, code, f"{n:03d}", f"{n}号窗口")
        await upsert_staff(unit, f"S{n:03d}", f"员工{n}", window_id=window_ids[code])
    public = await create_questionnaire(
        "pub", "群众评价", "public", [ItemSpec("attitude", "服务态度", "Attitude")]
    )
    campaign_id = await campaigns.create_campaign(
        campaigns.CampaignSpec(
            code="LOAD",
            name="压测",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            unit_codes=["hall"],
            public_version=public,
        )
    )
    await campaigns.move("LOAD", "open", "bench")
    return {
        "refs": [window_ref(campaign_id, wid) for wid in window_ids.values()],
        "devices": [[code, await add_device(code, "bench")] for code in window_ids],
    }


def _setup_child(windows: int) -> None:
    """Runs in a child process whose environment points at the benchmark database."""
    from pingyi.db.migrate import migrate
    from pingyi.settings import get_settings

    asyncio.run(migrate(get_settings()))
    print(json.dumps(asyncio.run(_seed(windows))))


async def _recreate_pg(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_pg(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(f"{PG_SERVER}/postgres")
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Target:
    env: dict[str, str]
    database_url: str
    tmp: Path
    pg_name: str = ""
    refs: list[str] = field(default_factory=list)
    devices: list[list[str]] = field(default_factory=list)


def prepare(db: str, windows: int, pg_name: str, extra_env: dict[str, str]) -> Target:
    tmp = Path(tempfile.mkdtemp(prefix="pingyi-load-"))
    if db == "postgres":
        asyncio.run(_recreate_pg(pg_name))
        url = f"{PG_SERVER}/{pg_name}"
    else:
        url = f"sqlite:///{tmp / 'load.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGYI_")}
    env.update(
        {
            "PINGYI_DATABASE_URL": url,
            "PINGYI_DATA_DIR": str(tmp / "data"),
            "PINGYI_SECRET_KEY": SECRET,
            "PICCOLO_CONF": "pingyi.piccolo_conf",
            # Throughput, not the limiter: see the module docstring.
            "PINGYI_RATE_LIMIT_PER_DEVICE": "1000000000",
            "PINGYI_RATE_LIMIT_PER_WINDOW": "1000000000",
            "PINGYI_RATE_LIMIT_PER_ADDRESS": "1000000000",
            **extra_env,
        }
    )
    out = subprocess.run(
        [sys.executable, __file__, "_setup", str(windows)],
        env=env,
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"set-up failed:\n{out.stderr[-3000:]}")
    seeded = json.loads(out.stdout.strip().splitlines()[-1])
    return Target(env, url, tmp, pg_name if db == "postgres" else "", **seeded)


class Server:
    def __init__(self, target: Target, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(target.tmp / f"server-{self.port}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pingyi.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-migrate",
            ],
            env=target.env,
            cwd=target.tmp,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(workers)

    def _wait_ready(self, workers: int) -> None:
        import urllib.request

        deadline = time.monotonic() + 60
        ok = 0
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:  # noqa: S310
                    ok += r.status == 200
            except OSError:
                time.sleep(0.1)
                continue
            if ok >= 3 * workers:  # give every worker a moment to finish its lifespan
                return
        raise RuntimeError("server did not become ready within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


# --------------------------------------------------------------------------- clients


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # per acknowledged submission, s
    page_latencies: list[float] = field(default_factory=list)  # the GET before a form POST
    acked: list[str] = field(default_factory=list)  # client ids the server said it stored
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    client_cpu_s: float = 0.0  # the clients share the machine's cores with the server

    def status(self, label: str) -> None:
        self.statuses[label] = self.statuses.get(label, 0) + 1

    def error(self, label: str) -> None:
        self.errors[label] = self.errors.get(label, 0) + 1

    def merge(self, other: Tally) -> None:
        self.latencies += other.latencies
        self.page_latencies += other.page_latencies
        self.acked += other.acked
        self.client_cpu_s += other.client_cpu_s
        for k, v in other.statuses.items():
            self.statuses[k] = self.statuses.get(k, 0) + v
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v


class _Http:
    """The smallest common surface of aiohttp and httpx; aiohttp when installed (it
    costs the client less CPU, which on a 2-core machine is shared with the server)."""

    def __init__(self, base: str, connections: int) -> None:
        self.base = base
        try:
            import aiohttp

            self.kind = "aiohttp"
            self._session: Any = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=connections, force_close=False),
                timeout=aiohttp.ClientTimeout(total=30),
            )
        except ImportError:
            import httpx

            self.kind = "httpx"
            self._session = httpx.AsyncClient(
                base_url=base,
                timeout=30,
                limits=httpx.Limits(
                    max_connections=connections, max_keepalive_connections=connections
                ),
            )

    async def get(self, path: str) -> tuple[int, str]:
        if self.kind == "aiohttp":
            async with self._session.get(self.base + path, headers={"user-agent": UA}) as r:
                return r.status, await r.text()
        r = await self._session.get(path, headers={"user-agent": UA})
        return r.status_code, r.text

    async def post_form(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        if self.kind == "aiohttp":
            async with self._session.post(
                self.base + path, data=data, headers={"user-agent": UA}
            ) as r:
                return r.status, await r.text()
        r = await self._session.post(path, data=data, headers={"user-agent": UA})
        return r.status_code, r.text

    async def post_json(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, str]:
        if self.kind == "aiohttp":
            async with self._session.post(self.base + path, json=body, headers=headers) as r:
                return r.status, await r.text()
        r = await self._session.post(path, json=body, headers=headers)
        return r.status_code, r.text

    async def close(self) -> None:
        if self.kind == "aiohttp":
            await self._session.close()
        else:
            await self._session.aclose()


def submission_id(token: str) -> str:
    """The form token is `campaign~window~staff~ticket~rendered~submission.mac`."""
    return token.rpartition(".")[0].split("~")[5]


async def _citizen(http: _Http, ref: str, n: int, tally: Tally) -> None:
    started = time.perf_counter()
    status, html = await http.get(f"/r/{ref}")
    page_done = time.perf_counter()
    match = TOKEN.search(html) if status == 200 else None
    if match is None:
        tally.status(f"page {status}")
        return
    tally.page_latencies.append(page_done - started)
    token = match.group(1)
    data = {"token": token, "overall": str(3 + n % 3), "item_attitude": str(3 + (n // 3) % 3)}
    started = time.perf_counter()
    status, body = await http.post_form(f"/r/{ref}", data)
    elapsed = time.perf_counter() - started
    tally.status(f"form {status}")
    if status == 200 and THANKS in body:
        tally.latencies.append(elapsed)
        tally.acked.append(f"web:{submission_id(token)}")


async def _device(http: _Http, window: str, key: str, n: int, tally: Tally) -> None:
    client_id = uuid.uuid4()
    body = {
        "client_id": str(client_id),
        "window": window,
        "answers": {"overall": 3 + n % 3, "attitude": 3 + (n // 3) % 3},
    }
    started = time.perf_counter()
    status, _ = await http.post_json(
        "/api/v1/ratings", body, {"authorization": f"Bearer {key}", "user-agent": "device"}
    )
    elapsed = time.perf_counter() - started
    tally.status(f"api {status}")
    if status == 201:
        tally.latencies.append(elapsed)
        tally.acked.append(f"dev:{client_id}")


async def _drive(
    base: str,
    clients: int,
    duration: float,
    max_submissions: int,
    form_share: float,
    refs: list[str],
    devices: list[list[str]],
    seed: int,
    rate: float,
) -> tuple[Tally, float, str]:
    tally = Tally()
    http = _Http(base, clients)
    deadline = time.monotonic() + duration
    issued = 0
    # Paced (rate > 0): each client starts a submission every `interval` seconds, so
    # all together offer `rate` ratings/s; unpaced, each goes again at once.
    interval = clients / rate if rate > 0 else 0.0

    async def one_client(c: int) -> None:
        nonlocal issued
        n = seed * 1_000_003 + c
        next_start = time.monotonic() + interval * c / clients
        while time.monotonic() < deadline and issued < max_submissions:
            if interval:
                await asyncio.sleep(max(0.0, next_start - time.monotonic()))
                next_start = max(time.monotonic(), next_start + interval)
            issued += 1
            n += clients
            try:
                # A fixed share of the clients are citizens, the others devices.
                if (c % 10) < form_share * 10:
                    await _citizen(http, refs[n % len(refs)], n, tally)
                else:
                    window, key = devices[n % len(devices)]
                    await _device(http, window, key, n, tally)
            except Exception as exc:  # counted and reported, never hidden
                tally.error(type(exc).__name__)

    started = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(one_client(c) for c in range(clients)))
    elapsed = time.perf_counter() - started
    tally.client_cpu_s = time.process_time() - cpu
    await http.close()
    return tally, elapsed, http.kind


def _drive_in_process(args: tuple[Any, ...]) -> tuple[Tally, float, str]:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    return asyncio.run(_drive(*args))


def run_level(
    target: Target,
    base: str,
    clients: int,
    duration: float,
    max_submissions: int,
    form_share: float,
    procs: int,
    rate: float = 0.0,
) -> dict[str, Any]:
    """`clients` concurrent clients spread over `procs` client processes; `rate` > 0
    paces them to offer that many ratings per second in all."""
    per_proc = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    jobs = [
        (
            base,
            n,
            duration,
            max_submissions // procs + 1,
            form_share,
            target.refs,
            target.devices,
            i + 1 + int(time.time()) % 1000,
            rate * n / clients,
        )
        for i, n in enumerate(per_proc)
        if n
    ]
    if len(jobs) == 1:
        results = [_drive_in_process(jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
            results = pool.map(_drive_in_process, jobs)
    tally = Tally()
    for part, _, _ in results:
        tally.merge(part)
    elapsed = max(r[1] for r in results)
    lat = sorted(tally.latencies)
    pages = sorted(tally.page_latencies)

    def pct(values: list[float], q: float) -> float | None:
        if not values:
            return None
        return round(values[min(len(values) - 1, int(q * len(values)))] * 1000, 1)

    return {
        "clients": clients,
        "offered_per_second": rate or None,
        "client_library": results[0][2],
        "seconds": round(elapsed, 2),
        "acknowledged": len(tally.acked),
        "per_second": round(len(tally.acked) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": pct(lat, 0.50),
        "p99_ms": pct(lat, 0.99),
        "max_ms": pct(lat, 1.0),
        "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        "page_p50_ms": pct(pages, 0.50),
        "page_p99_ms": pct(pages, 0.99),
        # Share of the machine's cores the benchmark's own clients used meanwhile.
        "client_cpu_share": round(tally.client_cpu_s / elapsed / (os.cpu_count() or 1), 2),
        "statuses": tally.statuses,
        "errors": tally.errors,
        "_acked": tally.acked,
    }


# --------------------------------------------------------------------------- the count check


def _stored_sqlite(path: str) -> list[tuple[str, int]]:
    with sqlite3.connect(path) as connection:
        return list(
            connection.execute(
                "SELECT r.client_id, (SELECT count(*) FROM answer a WHERE a.response = r.id) "
                "FROM response r WHERE r.client_id IS NOT NULL"
            )
        )


async def _stored_pg(url: str) -> list[tuple[str, int]]:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT r.client_id, (SELECT count(*) FROM answer a WHERE a.response = r.id) "
            "FROM response r WHERE r.client_id IS NOT NULL"
        )
    finally:
        await connection.close()
    return [(r[0], int(r[1])) for r in rows]


def count_check(target: Target, acked: list[str]) -> dict[str, Any]:
    if target.database_url.startswith("sqlite:///"):
        stored = _stored_sqlite(target.database_url.removeprefix("sqlite:///"))
    else:
        stored = asyncio.run(_stored_pg(target.database_url))
    ids = [client_id for client_id, _ in stored]
    stored_set = set(ids)
    acked_set = set(acked)
    return {
        "acknowledged": len(acked),
        "acknowledged_distinct": len(acked_set),
        "stored": len(ids),
        "stored_distinct": len(stored_set),
        "lost": len(acked_set - stored_set),
        "duplicated": len(ids) - len(stored_set),
        # Stored but never acknowledged: a client gave up (timeout) after the commit.
        "stored_unacknowledged": len(stored_set - acked_set),
        "without_answers": sum(1 for _, n in stored if n != 2),
        "ok": (
            acked_set <= stored_set
            and len(ids) == len(stored_set)
            and len(acked_set) == len(acked)
            and all(n == 2 for _, n in stored)
        ),
    }


# --------------------------------------------------------------------------- reporting


def machine() -> dict[str, Any]:
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        # Anything else running on the machine shares its cores with the server.
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    extra = dict(kv.split("=", 1) for kv in args.env)
    target = prepare(args.db, args.windows, args.pg_db, extra)
    result: dict[str, Any] = {
        "db": args.db,
        "workers": args.workers,
        "code": os.environ.get("PINGYI_LOAD_LABEL", "working tree"),
        "env": extra,
        "machine": machine(),
        "levels": [],
    }
    acked: list[str] = []
    server = Server(target, args.workers)
    try:
        if args.warmup > 0:
            warm = run_level(
                target, server.base, 20, args.warmup, 10**9, args.form_share, args.procs
            )
            acked += warm.pop("_acked")
        for clients in args.clients:
            level = run_level(
                target,
                server.base,
                clients,
                args.duration,
                args.max_submissions,
                args.form_share,
                args.procs,
            )
            acked += level.pop("_acked")
            result["levels"].append(level)
            if not args.json:
                print(_line(level), flush=True)
            if args.rate:
                level = run_level(
                    target,
                    server.base,
                    clients,
                    args.duration,
                    args.max_submissions,
                    args.form_share,
                    args.procs,
                    args.rate,
                )
                acked += level.pop("_acked")
                result["levels"].append(level)
                if not args.json:
                    print(_line(level), flush=True)
    finally:
        server.stop()
    result["count_check"] = count_check(target, acked)
    if target.pg_name and not args.keep:
        asyncio.run(_drop_pg(target.pg_name))
    return result


def _line(level: dict[str, Any]) -> str:
    offered = level["offered_per_second"]
    return (
        f"{level['clients']:>4} clients{f' offered {offered:.0f}/s' if offered else ''}: "
        f"{level['per_second']:>7.1f} ratings/s "
        f"p50 {level['p50_ms']} ms p99 {level['p99_ms']} ms "
        f"(page p50 {level['page_p50_ms']} ms) {level['statuses']} {level['errors']}"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_setup"]:
        _setup_child(int(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per level")
    parser.add_argument("--max-submissions", type=int, default=200_000, help="per level")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--form-share", type=float, default=0.5, help="share of citizens")
    parser.add_argument("--procs", type=int, default=1, help="client processes")
    parser.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="after each unpaced level, the same clients paced to offer this many "
        "ratings/s in all (0: unpaced only)",
    )
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--pg-db", default=f"pingyi_load_{os.getpid()}")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    parser.add_argument("--json", action="store_true", help="print the result as JSON only")
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds, 20 clients: the zero-loss check"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.clients, args.duration, args.warmup, args.rate = [20], 3.0, 0.0, 0.0
        args.max_submissions = min(args.max_submissions, 3000)
    result = run(args)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result["count_check"]))
    return 0 if result["count_check"]["ok"] and result["count_check"]["acknowledged"] else 1


if __name__ == "__main__":
    sys.exit(main())
