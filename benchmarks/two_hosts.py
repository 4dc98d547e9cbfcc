"""Two pingyi instances behind HAProxy against one, on PostgreSQL, under wrk.

Two `pingyi serve` processes (ports and data folders of their own, standing in for
two hosts, `--workers` each) behind HAProxy running `docker/haproxy.cfg` (its server
lines pointed at them), against one instance with twice the workers answering wrk
directly, in the same run, on the same database. On one 2-core machine this shows
what the balancer costs and that the load spreads, not what a second machine adds.
Every run ends with the count check (each acknowledged rating stored once).

    python benchmarks/two_hosts.py --modes device mix --connections 32 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fair  # noqa: E402
import load  # noqa: E402


class Balanced:
    """Two instances and HAProxy in front; `stored()` reads the shared database."""

    def __init__(self, target: load.Target, workers: int, folder: Path) -> None:
        self.target = target
        self.servers = [load.Server(target, workers) for _ in range(2)]
        self.port = load.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = (HERE.parent / "docker" / "haproxy.cfg").read_text()
        config = config.replace("bind :8000", f"bind 127.0.0.1:{self.port}")
        lines = [line for line in config.splitlines() if not line.strip().startswith("server ")]
        lines += [
            f"    server app{n + 1} 127.0.0.1:{s.port} check" for n, s in enumerate(self.servers)
        ]
        path = folder / "haproxy.cfg"
        path.write_text("\n".join(lines) + "\n")
        self.process = subprocess.Popen(
            [shutil.which("haproxy") or "/usr/sbin/haproxy", "-db", "-f", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seen: Counter[str] = Counter()
        deadline = time.monotonic() + 60
        while len(seen) < 2:
            if time.monotonic() > deadline:
                raise RuntimeError(f"balancer not ready: {seen}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:  # noqa: S310
                    seen[r.headers.get("X-Pingyi-Host", "")] += 1
            except OSError:
                time.sleep(0.1)

    def stored(self) -> list[tuple[str, str, int]]:
        return fair.Pingyi.stored(self)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        for server in self.servers:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", default=["device", "mix"])
    parser.add_argument("--connections", type=int, nargs="+", default=[32, 200])
    parser.add_argument("--rate", type=float, default=1000.0, help="offered at 200 (0: none)")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=1, help="per instance")
    args = parser.parse_args()
    target = load.prepare("postgres", 20, f"pingyi_two_hosts_bench_{os.getpid()}", {})
    tmp = Path(tempfile.mkdtemp(prefix="pingyi-two-hosts-"))
    runs = [fair.Run(m, c, 0.0, args.duration, 2) for m in args.modes for c in args.connections]
    if args.rate:
        runs += [fair.Run(m, 200, args.rate, args.duration, 2) for m in args.modes]
    results: list[dict[str, Any]] = []
    single = fair.Pingyi(target, 2 * args.workers)
    pair = Balanced(target, args.workers, tmp)
    try:
        warm = tmp / "warm.txt"
        fair.write_data(target, warm, 2 * fair.TOKENS_PER_SECOND)
        for server, label in ((single, "one"), (pair, "two")):
            fair.measure(server, fair.Run("mix", 16, 0.0, 2.0, 2), warm, tmp, f"warm-{label}")
        for i, run in enumerate(runs):
            data = tmp / f"data-{i}.txt"
            tokens = int(run.duration * fair.TOKENS_PER_SECOND) if run.mode != "device" else 0
            fair.write_data(target, data, tokens)
            one = fair.measure(single, run, data, tmp, "one")
            two = fair.measure(pair, run, data, tmp, "two")
            offered = f"{run.rate:.0f}/s" if run.rate else "unpaced"
            ok = "ok" if one["check"]["ok"] and two["check"]["ok"] else "COUNT CHECK FAILED"
            print(
                f"{run.mode:<6} c{run.connections:<4} {offered:>8} | one instance "
                f"({2 * args.workers} workers) {one['per_second']:>6.0f}/s p50 {one['p50_ms']} "
                f"p99 {one['p99_ms']} | two behind HAProxy ({args.workers} each) "
                f"{two['per_second']:>6.0f}/s p50 {two['p50_ms']} p99 {two['p99_ms']} | {ok}",
                flush=True,
            )
            results.append({"run": run.__dict__, "one": one, "two": two})
    finally:
        pair.stop()
        single.stop()
        asyncio.run(load._drop_pg(target.pg_name))
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(target.tmp, ignore_errors=True)
    return 0 if all(r["one"]["check"]["ok"] and r["two"]["check"]["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
