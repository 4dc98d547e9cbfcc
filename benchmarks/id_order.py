"""What the order of row ids costs SQLite's writer: random (version 4) against
time-ordered (version 7) UUIDs as the keys of `response` and `answer`.

Builds pingyi's own schema in a temporary folder, fills it with ``--prefill``
ratings, then writes 12,000 ratings of six answers in commits of twelve at
``synchronous=FULL`` (the writer's group commit) and prints the time and CPU per
rating and the pages written to the WAL. No server: only the database's work.

    .venv/bin/python benchmarks/id_order.py --prefill 100000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from pingyi.ids import time_ordered_uuid

ANSWERS = 6
BATCH = 12
BATCHES = 1_000


def schema(folder: Path) -> str:
    """CREATE statements of `response` and `answer`, from pingyi's migrations."""
    path = folder / "schema.db"
    env = {**os.environ, "PINGYI_DATABASE_URL": f"sqlite:///{path}"}
    subprocess.run(
        [sys.executable, "-m", "pingyi.cli", "migrate"], env=env, check=True, capture_output=True
    )
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name IN ('response', 'answer')"
            " AND sql IS NOT NULL"
        ).fetchall()
    return ";\n".join(r[0] for r in rows)


def write(db: sqlite3.Connection, new_id: Callable[[], uuid.UUID], ratings: int) -> None:
    responses, answers = [], []
    for _ in range(ratings):
        rid = str(new_id())
        responses.append((rid, 1, "public", "device", uuid.uuid4().hex, "2026-12-07T08:00:00"))
        answers += [(str(new_id()), rid, f"q{k}", 4, "") for k in range(ANSWERS)]
    db.execute("BEGIN IMMEDIATE")
    db.executemany(
        "INSERT INTO response (id, campaign, role, channel, client_id, submitted_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        responses,
    )
    db.executemany(
        "INSERT INTO answer (id, response, item, score, value) VALUES (?, ?, ?, ?, ?)", answers
    )
    db.execute("COMMIT")


def measure(
    folder: Path, ddl: str, name: str, new_id: Callable[[], uuid.UUID], prefill: int
) -> str:
    path = folder / f"{name}.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.executescript(ddl)
    db.execute("PRAGMA synchronous = OFF")  # the prefill is not what is measured
    for _ in range(prefill // 500):
        write(db, new_id, 500)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # count every page the commits write
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(BATCHES):
        write(db, new_id, BATCH)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pages = os.path.getsize(f"{path}-wal") // db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    ratings = BATCH * BATCHES
    return (
        f"{name:<12} {wall * 1e6 / ratings:6.0f} µs/rating, CPU {cpu * 1e6 / ratings:4.0f} µs,"
        f" WAL pages per commit {pages / BATCHES:5.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefill", type=int, default=20_000, help="ratings stored first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ddl = schema(folder)
        print(
            f"{BATCHES} commits of {BATCH} ratings ({ANSWERS} answers each), prefill {args.prefill}"
        )
        for name, new_id in (("random", uuid.uuid4), ("time-ordered", time_ordered_uuid)):
            print(measure(folder, ddl, name, new_id, args.prefill), flush=True)


if __name__ == "__main__":
    main()
