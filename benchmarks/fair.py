"""The fair benchmark: pingyi's submission path against the bare stack, under `wrk`.

An external load generator (Debian's `wrk`, with `benchmarks/wrk/ratings.lua`) posts
ratings to a real `pingyi serve` and, in the same run, to the bare reference
(`benchmarks/bare.py`: litestar + msgspec, one row per request) with the same
uvicorn worker count, the same database engine and the same durability. For each
database (SQLite in WAL, PostgreSQL), kind of post (device JSON, citizen form, a
half-and-half mix) and number of connections (32, 200) it prints both figures and
their ratio, then the same at 200 connections with 1,000 ratings/s offered.

Citizen forms use signed form tokens made beforehand with the server's key (one per
post, as if each citizen had opened the page): the page GET is not what is measured.
After every run the acknowledged ratings (201 from the API, a thank-you page from the
form) are looked up in the database: each must be stored exactly once.

Each measured run follows an unmeasured warm-up of the same kind and load (2 s): the
two servers are measured in turn, so each sat idle while the other was measured,
longer than pingyi's reference data lives (3 s); without it every pingyi run opens
with a cold cache, which steady traffic never has (`--no-warm-up` shows it).

    python benchmarks/fair.py                   # both databases, about 30 minutes
    python benchmarks/fair.py --db sqlite --modes device --connections 32 --rate 0
    python benchmarks/fair.py --quick           # a few seconds per run: a smoke test

Rate limits are raised for pingyi as in load.py (every simulated citizen shares one
address and user agent). Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import load  # noqa: E402 (the benchmark's own set-up: database, seed, server)

LUA = HERE / "wrk" / "ratings.lua"
TOKENS_PER_SECOND = 12_000  # form tokens made per second of a run: more than any server takes
WARM_UP_S = 2.0  # unmeasured load of the same kind before each measured run


# --------------------------------------------------------------------------- servers


class Bare:
    """The reference app under uvicorn, on a database of its own."""

    def __init__(
        self, db: str, workers: int, tmp: Path, pg_name: str, sqlite_sync: str = "FULL"
    ) -> None:
        self.pg_name = pg_name if db == "postgres" else ""
        if self.pg_name:
            asyncio.run(load._recreate_pg(self.pg_name))
            self.url = f"{load.PG_SERVER}/{self.pg_name}"
        else:
            self.url = f"sqlite:///{tmp / 'bare.db'}"
        env = {**os.environ, "BARE_DATABASE_URL": self.url, "BARE_SQLITE_SYNC": sqlite_sync}
        subprocess.run([sys.executable, str(HERE / "bare.py"), "init"], env=env, check=True)
        self.port = load.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp / "bare.log", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--factory", "bare:app_factory"),
                *("--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(self.port)),
                *("--workers", str(workers), "--no-access-log", "--log-level", "warning"),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        _wait_port(self.base + "/", self.process)

    def stored(self) -> list[tuple[str, str, int]]:
        return _rows(self.url, "SELECT id, client_id, 2 FROM bare_rating")

    def stop(self) -> None:
        _stop(self.process)
        self.log.close()
        if self.pg_name:
            asyncio.run(load._drop_pg(self.pg_name))


class Pingyi:
    def __init__(self, target: load.Target, workers: int) -> None:
        self.target = target
        self.server = load.Server(target, workers)
        self.base = self.server.base
        self.process = self.server.process

    def stored(self) -> list[tuple[str, str, int]]:
        return _rows(
            self.target.database_url,
            "SELECT r.id, r.client_id, (SELECT count(*) FROM answer a WHERE a.response = r.id) "
            "FROM response r WHERE r.client_id IS NOT NULL",
        )

    def stop(self) -> None:
        self.server.stop()


def _wait_port(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)  # noqa: S310 (127.0.0.1)
            return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _rows(url: str, sql: str) -> list[tuple[str, str, int]]:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30) as connection:
            return [(str(a), str(b), int(c)) for a, b, c in connection.execute(sql)]

    async def fetch() -> list[tuple[str, str, int]]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            return [(str(r[0]), str(r[1]), int(r[2])) for r in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


# --------------------------------------------------------------------------- data


def _tokens_child(refs: list[str], count: int) -> None:
    """Runs with pingyi's environment: `count` form tokens, as the rating page would
    render them (the window's staff member on duty), spread over the windows."""
    from pingyi.services.links import FormToken, resolve_window_ref
    from pingyi.services.public_rating import window_context

    staff: dict[str, tuple[int, int, int]] = {}
    for ref in refs:
        resolved = resolve_window_ref(ref)
        assert resolved is not None
        ctx = asyncio.run(window_context(*resolved))
        assert ctx is not None
        staff[ref] = (resolved[0], resolved[1], ctx.staff["id"] if ctx.staff else 0)
    out = sys.stdout
    for i in range(count):
        ref = refs[i % len(refs)]
        token = FormToken.new(*staff[ref], "").encode()
        out.write(f"T\t{ref}\t{token}\n")


def write_data(target: load.Target, path: Path, tokens: int) -> None:
    with path.open("w") as f:
        for window, key in target.devices:
            f.write(f"D\t{window}\t{key}\n")
        f.flush()
        if tokens:
            subprocess.run(
                [sys.executable, __file__, "_tokens", str(tokens), *target.refs],
                env=target.env,
                cwd=target.tmp,
                stdout=f,
                check=True,
                timeout=600,
            )


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    mode: str
    connections: int
    rate: float  # offered ratings/s, 0 = unpaced
    duration: float
    threads: int


def run_wrk(base: str, run: Run, data: Path, out: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "WRK_MODE": run.mode,
        "WRK_DATA": str(data),
        "WRK_RATE": str(run.rate),
        "WRK_OUT": str(out),
        "WRK_THREADS": str(run.threads),
    }
    command = [
        "wrk",
        *("-t", str(run.threads), "-c", str(run.connections), "-d", f"{run.duration:g}s"),
        *("--timeout", "10s", "-s", str(LUA), base),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    text = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if process.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({process.returncode}):\n{text}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["acked"] = out.with_name(out.name + ".acked").read_text().split("\n")[:-1]
    result["wrk_cpu_s"] = usage.ru_utime + usage.ru_stime
    return result


def count_check(
    stored: list[tuple[str, str, int]], acked: list[str], before: int
) -> dict[str, Any]:
    ids = {row_id for row_id, _, _ in stored}
    clients = [client for _, client, _ in stored]
    client_set = set(clients)
    lost = 0
    for key in acked:
        kind, _, value = key.partition(" ")
        if (kind == "d" and value not in ids) or (kind == "w" and f"web:{value}" not in client_set):
            lost += 1
    new_rows = len(stored) - before
    return {
        "acknowledged": len(acked),
        "lost": lost,
        "acknowledged_twice": len(acked) - len(set(acked)),
        "stored_twice": len(clients) - len(client_set),
        "new_rows": new_rows,
        # stored, but the client gave up before the answer (a time-out): not lost
        "stored_unacknowledged": new_rows - len(set(acked)),
        "without_answers": sum(1 for _, _, n in stored if n != 2),
        "ok": len(acked) > 0
        and lost == 0
        and len(acked) == len(set(acked))
        and len(clients) == len(client_set),
    }


def measure(server: Bare | Pingyi, run: Run, data: Path, tmp: Path, label: str) -> dict[str, Any]:
    before = len(server.stored())
    out = tmp / f"wrk-{label}-{run.mode}-{run.connections}-{int(run.rate)}.json"
    result = run_wrk(server.base, run, data, out)
    check = count_check(server.stored(), result.pop("acked"), before)
    seconds = result["duration_us"] / 1e6
    latency = result["latency_us"]
    return {
        "per_second": round(check["acknowledged"] / seconds, 1),
        "p50_ms": round(latency["p50"] / 1000, 1),
        "p99_ms": round(latency["p99"] / 1000, 1),
        "max_ms": round(latency["max"] / 1000, 1),
        "statuses": result["statuses"],
        "errors": {k: v for k, v in result["errors"].items() if v},
        "wrk_cpu_share": round(result["wrk_cpu_s"] / seconds / (os.cpu_count() or 1), 3),
        "check": check,
    }


def warmed(
    server: Bare | Pingyi, run: Run, data: Path, warm_up: Path | None, tmp: Path, label: str
) -> dict[str, Any]:
    """`run` measured right after an unmeasured warm-up of the same kind and load from
    the data in `warm_up`; the warm-up's ratings are count-checked too."""
    if warm_up is None:
        return measure(server, run, data, tmp, label)
    warm = replace(run, duration=WARM_UP_S)
    warm_check = measure(server, warm, warm_up, tmp, f"{label}-warm")["check"]
    result = measure(server, run, data, tmp, label)
    result["warm_check"] = warm_check
    result["check"] = {**result["check"], "ok": result["check"]["ok"] and warm_check["ok"]}
    return result


def line(db: str, workers: int, run: Run, bare: dict[str, Any], ours: dict[str, Any]) -> str:
    ratio = ours["per_second"] / bare["per_second"] if bare["per_second"] else float("nan")
    offered = f"{run.rate:.0f}/s" if run.rate else "unpaced"
    checks = "ok" if bare["check"]["ok"] and ours["check"]["ok"] else "COUNT CHECK FAILED"
    return (
        f"{db:<8} w{workers} {run.mode:<6} c{run.connections:<4} {offered:>8} | "
        f"bare {bare['per_second']:>7.0f}/s p50 {bare['p50_ms']:>6} p99 {bare['p99_ms']:>6} | "
        f"pingyi {ours['per_second']:>7.0f}/s p50 {ours['p50_ms']:>6} p99 {ours['p99_ms']:>6} | "
        f"ratio {ratio:.2f} | {checks}"
    )


# --------------------------------------------------------------------------- the whole run


def run_db(db: str, args: argparse.Namespace, workers: int) -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix=f"pingyi-fair-{db}-"))
    extra = dict(kv.split("=", 1) for kv in args.env)
    target = load.prepare(db, args.windows, f"pingyi_fair_{os.getpid()}", extra)
    runs = [
        Run(m, c, 0.0, args.duration, args.threads) for m in args.modes for c in args.connections
    ]
    if args.rate:
        runs += [
            Run(m, args.rate_connections, args.rate, args.duration, args.threads)
            for m in args.modes
        ]

    def data_for(run: Run, name: str, seconds: float) -> Path:
        path = tmp / name
        write_data(target, path, int(seconds * TOKENS_PER_SECOND) if run.mode != "device" else 0)
        return path

    data_files = [data_for(run, f"data-{i}.txt", run.duration) for i, run in enumerate(runs)]
    warm_files = [
        data_for(run, f"warm-{i}.txt", WARM_UP_S) if args.warm_up else None
        for i, run in enumerate(runs)
    ]
    results: list[dict[str, Any]] = []
    bare = Bare(db, workers, tmp, f"pingyi_bare_{os.getpid()}", args.bare_sqlite_sync)
    ours = Pingyi(target, workers)
    try:
        if not args.warm_up:  # each run's own warm-up does this otherwise
            # a short warm-up of each (first requests pay for imports and caches)
            warm = Run("mix", 16, 0.0, WARM_UP_S, args.threads)
            warm_data = tmp / "warm.txt"
            write_data(target, warm_data, int(WARM_UP_S * TOKENS_PER_SECOND))
            measure(bare, warm, warm_data, tmp, "bare-warm")
            measure(ours, warm, warm_data, tmp, "pingyi-warm")
        for run, data, warm_up in zip(runs, data_files, warm_files, strict=True):
            b = warmed(bare, run, data, warm_up, tmp, "bare")
            p = warmed(ours, run, data, warm_up, tmp, "pingyi")
            result = {
                "db": db,
                "workers": workers,
                "mode": run.mode,
                "connections": run.connections,
                "offered_per_second": run.rate or None,
                "bare": b,
                "pingyi": p,
                "ratio": round(p["per_second"] / b["per_second"], 2) if b["per_second"] else None,
            }
            results.append(result)
            print(line(db, workers, run, b, p), flush=True)
            if not (b["check"]["ok"] and p["check"]["ok"]) or b["errors"] or p["errors"]:
                print(json.dumps({"bare": b, "pingyi": p}), flush=True)
    finally:
        ours.stop()
        bare.stop()
        if target.pg_name:
            asyncio.run(load._drop_pg(target.pg_name))
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(target.tmp, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_tokens"]:
        _tokens_child(argv[2:], int(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--modes", nargs="+", choices=["device", "form", "mix"], default=["device", "form", "mix"]
    )
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 200])
    parser.add_argument("--rate", type=float, default=1000.0, help="offered ratings/s (0: none)")
    parser.add_argument("--rate-connections", type=int, default=200)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help=f"measure each run from cold (no {WARM_UP_S:g} s warm-up of the same load)",
    )
    parser.add_argument("--workers-sqlite", type=int, default=1)
    parser.add_argument("--workers-postgres", type=int, default=2)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument(
        "--bare-sqlite-sync",
        choices=["FULL", "NORMAL"],
        default="FULL",
        help="the bare reference's SQLite synchronous setting (pingyi's is FULL)",
    )
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for pingyi")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--quick", action="store_true", help="3 s runs, 32 connections")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if args.quick:
        args.duration, args.connections, args.rate = 3.0, [32], 0.0
    print(json.dumps(load.machine()), flush=True)
    results = []
    for db in args.db:
        workers = args.workers_sqlite if db == "sqlite" else args.workers_postgres
        results += run_db(db, args, workers)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    ok = all(r["bare"]["check"]["ok"] and r["pingyi"]["check"]["ok"] for r in results)
    return 0 if ok and results else 1


if __name__ == "__main__":
    sys.exit(main())
