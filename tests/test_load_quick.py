"""The load benchmark's quick mode: a few seconds of citizens and devices against a
real `pingyi serve`, then every acknowledged submission is looked up in the
database. Throughput is not asserted here (the full run is manual, see
benchmarks/RESULTS-load.md), nor how many submissions fit in the few seconds (a busy
machine takes few); what was acknowledged is counted against what was stored, and
losing or duplicating a submission fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import ENGINE, WORKER

ROOT = Path(__file__).resolve().parents[1]


def test_quick_load_loses_and_duplicates_nothing() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGYI_")}
    if "PINGYI_TEST_PG" in os.environ:
        env["PINGYI_TEST_PG"] = os.environ["PINGYI_TEST_PG"]
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "load.py"),
            "--quick",
            "--json",
            "--db",
            ENGINE,
            "--workers",
            "2" if ENGINE == "postgres" else "1",
            "--pg-db",
            f"pingyi_load_{WORKER}".lower(),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # a ceiling for a stuck run, not a speed target
        check=False,
    )
    assert done.stdout, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    check = result["count_check"]
    level = result["levels"][0]
    # Both paths ran (every client submits at least once), and nothing answered with
    # a server error or went unanswered.
    assert level["statuses"].get("form 200", 0) > 0 and level["statuses"].get("api 201", 0) > 0
    assert not [s for s in level["statuses"] if s.split()[-1].startswith("5")], level
    assert level["errors"] == {}, level
    # Every acknowledged submission is stored once, with its answers; with every
    # request answered, nothing is stored that was not acknowledged either.
    assert check["acknowledged"] >= 2, check
    assert check["acknowledged_distinct"] == check["acknowledged"], check
    assert check["lost"] == 0 and check["duplicated"] == 0, check
    assert check["without_answers"] == 0, check
    assert check["stored"] == check["acknowledged"], check
    assert check["stored_unacknowledged"] == 0, check
    assert check["ok"] is True, check
    assert done.returncode == 0, done.stderr[-3000:]
