"""Where a pingyi worker's CPU goes on the submission path, under wrk.

Starts `pingyi serve` (one worker) on a fresh database as load.py does, drives it with
wrk (`benchmarks/wrk/ratings.lua`, device posts, citizen form posts or the mix), and
samples the worker with py-spy meanwhile. Prints the share of samples in each area
(inclusive: a frame anywhere on the stack) and the functions with the most samples of
their own.

    python benchmarks/profile.py --mode device --db sqlite --seconds 15

Needs py-spy (`pip install -e '.[bench]'`) and wrk (Debian: `apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fair  # noqa: E402
import load  # noqa: E402

# Areas by a substring of a frame ("function (file:line)"); the first match wins.
AREAS = [
    ("writer (group commit)", "pingyi/services/writer.py"),
    ("db engine / piccolo", "piccolo/"),
    ("asyncpg / sqlite3", "asyncpg/"),
    ("jinja2 templates", "jinja2/"),
    ("msgspec", "msgspec"),
    ("rate limiter", "pingyi/ratelimit.py"),
    ("fingerprint", "pingyi/services/fingerprint.py"),
    ("reference cache", "pingyi/services/reference_cache.py"),
    ("validation / build", "pingyi/services/public_rating.py"),
    ("form token / links", "pingyi/services/links.py"),
    ("pingyi middleware", "pingyi/web/limits.py"),
    ("csrf / sessions middleware", "litestar/middleware/"),
    ("litestar routing, parsing, responses", "litestar/"),
    ("uvicorn / httptools", "uvicorn/"),
]


def summarise(collapsed: Path, top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for raw in collapsed.read_text().splitlines():
        stack, _, count_text = raw.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        seen = set()
        for frame in frames:
            for area, needle in AREAS:
                if needle in frame and area not in seen:
                    seen.add(area)
                    inclusive[area] += count
                    break
    lines = [f"{total} samples holding the GIL (py-spy --gil: Python work only)"]
    for area, count in inclusive.most_common():
        lines.append(f"  {100 * count / total:5.1f} %  {area}")
    lines.append("own samples, top functions:")
    for frame, count in own.most_common(top):
        lines.append(f"  {100 * count / total:5.1f} %  {frame[:150]}")
    return "\n".join(lines)


def _worker_pid(parent: int) -> int:
    """uvicorn with one worker serves in its own process (no child) in that case."""
    children = Path(f"/proc/{parent}/task/{parent}/children")
    kids = children.read_text().split() if children.exists() else []
    return int(kids[0]) if kids else parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--mode", choices=["device", "form", "mix"], default="device")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    target = load.prepare(args.db, 20, f"pingyi_profile_{os.getpid()}", {})
    tmp = Path(tempfile.mkdtemp(prefix="pingyi-profile-"))
    run = fair.Run(args.mode, args.connections, 0.0, args.seconds + 4, 2)
    data = tmp / "data.txt"
    fair.write_data(target, data, int(run.duration * fair.TOKENS_PER_SECOND))
    server = fair.Pingyi(target, 1)
    collapsed = args.out or tmp / "profile.txt"
    try:
        fair.measure(server, fair.Run("mix", 16, 0.0, 2.0, 2), data, tmp, "warm")
        worker = _worker_pid(server.process.pid)

        result: dict[str, object] = {}
        thread = threading.Thread(
            target=lambda: result.update(fair.measure(server, run, data, tmp, "profile"))
        )
        thread.start()
        time.sleep(2)
        subprocess.run(
            [
                spy,
                "record",
                *("--pid", str(worker), "--duration", str(int(args.seconds))),
                *(
                    "--rate",
                    "200",
                    "--gil",
                    "--format",
                    "raw",
                    "--nonblocking",
                    "-o",
                    str(collapsed),
                ),
            ],
            check=True,
            capture_output=True,
        )
        thread.join()
    finally:
        server.stop()
        if target.pg_name:
            import asyncio

            asyncio.run(load._drop_pg(target.pg_name))
    print(
        f"{args.db} {args.mode} c{args.connections}: {result.get('per_second')} ratings/s "
        f"p50 {result.get('p50_ms')} p99 {result.get('p99_ms')} (under py-spy)"
    )
    print(summarise(collapsed, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
