"""Outbox benchmark: what the outbox costs the submission path, and how fast a backlog
drains to the provincial platform.

    python benchmarks/outbox.py cost                 # load with the outbox off, then on
    python benchmarks/outbox.py drain --records 1000000
    python benchmarks/outbox.py drain --db postgres --records 1000000

- cost: `benchmarks/load.py`'s server and clients (citizens through the form, devices
  through the API, 50 clients unpaced), the same load with PINGYI_OUTBOX_URL unset and
  set (the server's sender delivering to a local receiver meanwhile), in alternating
  rounds. Reports ratings/s and the server's CPU seconds per rating (its whole process
  tree, from /proc), and after the "on" rounds waits for the receiver to hold every
  queued rating.
- drain: a backlog of N rating events written straight into `outbox_event` (not
  through HTTP), then `pingyi sync run` is timed against a fast local receiver in a
  process of its own (it checks each signature and counts distinct event ids).

Listens on 127.0.0.1 only; bounded in time and count.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing
import os
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # the load benchmark's set-up, server and clients

SECRET = "bench-outbox-shared-secret-" + "q" * 20
KEY_ID = "bench-1"


# --------------------------------------------------------------------------- receiver


def _serve(port_out: Any, secret: str) -> None:
    """The platform: verify, parse, count distinct event ids; GET answers the counts."""
    seen: set[int] = set()
    state = {"requests": 0, "records": 0, "refused": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, payload: bytes, code: int = 200) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(
                "hmac-sha256=" + digest, self.headers.get("X-Pingyi-Signature", "")
            ):
                state["refused"] += 1
                self._reply(b"{}", 401)
                return
            records = json.loads(body)["records"]
            state["requests"] += 1
            state["records"] += len(records)
            seen.update(r["event_id"] for r in records)
            self._reply(b'{"ok":true}')

        def do_GET(self) -> None:
            self._reply(json.dumps({**state, "distinct": len(seen)}).encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


class Receiver:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        self.process = context.Process(target=_serve, args=(queue, SECRET), daemon=True)
        self.process.start()
        self.port = queue.get(timeout=60)
        self.url = f"http://127.0.0.1:{self.port}/ratings"

    def stats(self) -> dict[str, int]:
        import urllib.request

        with urllib.request.urlopen(self.url, timeout=30) as r:  # noqa: S310 (local)
            result: dict[str, int] = json.loads(r.read())
            return result

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(10)


def outbox_env(url: str, **extra: str) -> dict[str, str]:
    return {
        "PINGYI_OUTBOX_URL": url,
        "PINGYI_OUTBOX_KEY_ID": KEY_ID,
        "PINGYI_OUTBOX_SECRET": SECRET,
        **extra,
    }


# --------------------------------------------------------------------------- CPU of a tree


def _tree_cpu_s(root: int) -> float:
    """utime + stime of `root` and its live descendants, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid in cpu:
        p = pid
        while p > 1:
            if p == root:
                total += cpu[pid]
                break
            p = parents.get(p, 0)
    return total


# --------------------------------------------------------------------------- cost


def _pending(target: load.Target) -> int:
    sql = "SELECT count(*) FROM outbox_event WHERE state <> 'sent'"
    return int(_query(target.database_url, sql)[0][0])


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=60) as connection:
            return list(connection.execute(sql))

    async def fetch() -> list[tuple[Any, ...]]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


MODES = ("off", "queued", "on")


def cost(args: argparse.Namespace) -> dict[str, Any]:
    receiver = Receiver()
    rows: list[dict[str, Any]] = []
    try:
        for round_ in range(args.rounds):
            for mode in MODES:
                # queued: recorded in the rating's transaction, the sender off (what the
                # submission path itself pays); on: the server's sender delivers meanwhile
                extra = {
                    "PINGYI_OUTBOX_INTERVAL_S": str(args.interval) if mode == "on" else "0",
                    **(outbox_env(receiver.url) if mode != "off" else {}),
                }
                target = load.prepare(args.db, 20, f"pingyi_obx_{os.getpid()}", extra)
                server = load.Server(target, args.workers)
                try:
                    load.run_level(target, server.base, 20, 2.0, 10**9, 0.5, 1)  # warm-up
                    cpu_before = _tree_cpu_s(server.process.pid)
                    level = load.run_level(
                        target, server.base, args.clients, args.duration, 10**9, 0.5, 1
                    )
                    cpu = _tree_cpu_s(server.process.pid) - cpu_before
                    drained = None
                    if mode == "on":
                        deadline = time.monotonic() + 300
                        while _pending(target) and time.monotonic() < deadline:
                            time.sleep(0.5)
                        drained = _pending(target) == 0
                finally:
                    server.stop()
                check = load.count_check(target, level.pop("_acked"))
                row = {
                    "round": round_ + 1,
                    "outbox": mode,
                    "ratings_per_s": level["per_second"],
                    "acknowledged": level["acknowledged"],
                    "server_cpu_ms_per_rating": round(1000 * cpu / level["acknowledged"], 3),
                    "p50_ms": level["p50_ms"],
                    "p99_ms": level["p99_ms"],
                    "count_check_ok": check["ok"],
                    "drained": drained,
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
                if target.pg_name:
                    asyncio.run(load._drop_pg(target.pg_name))
    finally:
        receiver.stop()
    summary: dict[str, Any] = {}
    for mode in MODES:
        mine = [r for r in rows if r["outbox"] == mode]
        summary[mode] = {
            "ratings_per_s": round(sum(r["ratings_per_s"] for r in mine) / len(mine), 1),
            "server_cpu_ms_per_rating": round(
                sum(r["server_cpu_ms_per_rating"] for r in mine) / len(mine), 3
            ),
        }
    off = summary["off"]
    for mode in MODES[1:]:
        summary[mode]["throughput_change_pct"] = round(
            100 * (summary[mode]["ratings_per_s"] / off["ratings_per_s"] - 1), 1
        )
        summary[mode]["cpu_per_rating_change_pct"] = round(
            100 * (summary[mode]["server_cpu_ms_per_rating"] / off["server_cpu_ms_per_rating"] - 1),
            1,
        )
    return {"db": args.db, "workers": args.workers, "rows": rows, "summary": summary}


# --------------------------------------------------------------------------- drain


def _events(ids: dict[str, Any], count: int, start: int) -> list[tuple[Any, ...]]:
    """Rating events as the writer queues them (services/outbox.rating_event)."""
    rng = random.Random(start)
    now = datetime.now(UTC) - timedelta(hours=1)
    rows = []
    for n in range(start, start + count):
        window, staff = ids["windows"][n % len(ids["windows"])]
        response_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        level = rng.randint(1, 5)
        payload = {
            "response_id": response_id,
            "campaign_id": ids["campaign"],
            "window_id": window,
            "ratee_id": staff,
            "channel": "qr" if n % 2 else "device",
            "submitted_at": (now + timedelta(milliseconds=n)).isoformat().replace("+00:00", "Z"),
            "overall": level,
            "items": [["attitude", max(1, level - n % 2)]],
            "corrects": None,
        }
        rows.append(("rating", response_id, json.dumps(payload), now, None, "pending"))
    return rows


COLUMNS = ("kind", "subject", "payload", "created_at", "batch_id", "state")


def generate(target: load.Target, records: int, chunk: int = 20_000) -> float:
    """Write `records` pending rating events straight into the database; seconds taken."""
    started = time.perf_counter()
    sql_windows = (
        "SELECT w.id, (SELECT s.id FROM staff s WHERE s.unit = w.unit ORDER BY s.id "
        "LIMIT 1) FROM service_window w ORDER BY w.id"
    )
    campaign = _query(target.database_url, "SELECT id FROM campaign WHERE code = 'LOAD'")[0][0]
    ids = {"campaign": campaign, "windows": _query(target.database_url, sql_windows)}
    if target.database_url.startswith("sqlite:///"):
        path = target.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            insert = (
                "INSERT INTO outbox_event (kind, subject, payload, created_at, batch_id, state) "
                "VALUES (?, ?, ?, ?, ?, ?)"
            )
            for start in range(0, records, chunk):
                rows = _events(ids, min(chunk, records - start), start)
                connection.executemany(insert, [(*r[:3], str(r[3]), *r[4:]) for r in rows])
                connection.commit()
    else:

        async def copy() -> None:
            import asyncpg

            connection = await asyncpg.connect(target.database_url)
            try:
                for start in range(0, records, chunk):
                    rows = _events(ids, min(chunk, records - start), start)
                    await connection.copy_records_to_table(
                        "outbox_event", records=rows, columns=COLUMNS
                    )
                await connection.execute("ANALYZE outbox_event")
            finally:
                await connection.close()

        asyncio.run(copy())
    return time.perf_counter() - started


def drain(args: argparse.Namespace) -> dict[str, Any]:
    receiver = Receiver()
    target = load.prepare(args.db, 20, f"pingyi_obx_drain_{os.getpid()}", {})
    try:
        generated_s = generate(target, args.records)
        print(f"backlog of {args.records:,} written in {generated_s:.1f} s", flush=True)
        env = {
            **target.env,
            **outbox_env(
                receiver.url,
                PINGYI_OUTBOX_BATCH_SIZE=str(args.batch_size),
                PINGYI_OUTBOX_PARALLEL=str(args.parallel),
            ),
        }
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pingyi.cli", "sync", "run"],
            env=env,
            cwd=target.tmp,
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        seconds = time.perf_counter() - started
        stats = receiver.stats()
        pending = _pending(target)
    finally:
        receiver.stop()
        if target.pg_name and not args.keep:
            asyncio.run(load._drop_pg(target.pg_name))
    result = {
        "db": args.db,
        "records": args.records,
        "batch_size": args.batch_size,
        "parallel": args.parallel,
        "seconds": round(seconds, 1),
        "ratings_per_s": round(args.records / seconds),
        "receiver": stats,
        "pending_after": pending,
        "exit": done.returncode,
        "output": done.stdout.strip()[-300:] + done.stderr.strip()[-1500:],
        "ok": done.returncode == 0 and stats["distinct"] == args.records and pending == 0,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cost", help="the submission path with the outbox off and on")
    c.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    c.add_argument("--workers", type=int, default=2)
    c.add_argument("--clients", type=int, default=50)
    c.add_argument("--duration", type=float, default=15.0)
    c.add_argument("--rounds", type=int, default=2)
    c.add_argument("--interval", type=float, default=1.0, help="sender pass, s")
    d = sub.add_parser("drain", help="time pingyi sync run on a backlog")
    d.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    d.add_argument("--records", type=int, default=1_000_000)
    d.add_argument("--batch-size", type=int, default=500)
    d.add_argument("--parallel", type=int, default=4, help="batches in flight")
    d.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)
    result = cost(args) if args.command == "cost" else drain(args)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
