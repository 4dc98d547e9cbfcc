"""Where a server's event loop stalls: loaded into every Python process started with
``PYTHONPATH=benchmarks/stallhook`` and ``PINGYI_STALL_OUT=<folder>``, e.g.

    python benchmarks/fair.py --db postgres --modes device --connections 200 \
        --env PYTHONPATH=$PWD/benchmarks/stallhook --env PINGYI_STALL_OUT=/tmp/stalls

Garbage collections of the older generations are timed; with
``PINGYI_STALL_CENSUS=1`` the objects a full collection walks are counted by type
every 10 s (what grows under load). Under the
standard asyncio loop (``PINGYI_STALL_ASYNCIO=1``: uvloop's callbacks are out of
Python's sight), each callback
is timed too and, while one runs longer than ``PINGYI_STALL_MS`` (20), a watchdog
thread samples the loop thread's stack every 2 ms. Each process writes
``<folder>/stalls-<pid>.json`` every 2 s (writing it holds the GIL for a few ms);
``python benchmarks/stallhook/report.py <folder>`` prints the stalls after start-up
with their commonest stack.
"""

from __future__ import annotations

import os

if os.environ.get("PINGYI_STALL_OUT"):
    import asyncio.events
    import collections
    import gc
    import json
    import sys
    import threading
    import time
    import traceback

    _out = os.environ["PINGYI_STALL_OUT"]
    _threshold = float(os.environ.get("PINGYI_STALL_MS", "20")) / 1000
    _running: dict[int, float] = {}  # loop thread id -> start of its current callback
    _samples: dict[float, collections.Counter[str]] = {}  # by callback start
    # (seconds since start, ms, after start-up (heap settled), commonest stack)
    _stalls: list[tuple[float, float, bool, str]] = []
    _t0 = time.perf_counter()
    _gc: list[tuple[int, float]] = []
    _gc_start = [0.0]
    _original_run = asyncio.events.Handle._run
    if os.environ.get("PINGYI_STALL_ASYNCIO") == "1":
        sys.modules["uvloop"] = None  # type: ignore[assignment]  # uvicorn falls back to asyncio

    def _timed_run(self: asyncio.events.Handle) -> None:
        me = threading.get_ident()
        start = time.perf_counter()
        _running[me] = start
        try:
            _original_run(self)
        finally:
            _running.pop(me, None)
            took = time.perf_counter() - start
            samples = _samples.pop(start, None)
            if took > _threshold:
                stack = samples.most_common(1)[0][0] if samples else ""
                settled = gc.get_freeze_count() > 0
                _stalls.append((round(start - _t0, 2), round(took * 1000, 1), settled, stack))

    asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]

    _gc_sizes: list[list[float]] = []

    def _on_gc(phase: str, info: dict[str, int]) -> None:
        if info["generation"] < 1:
            return
        if phase == "start":
            if info["generation"] == 2:  # what this full collection walks
                sizes = [len(gc.get_objects(g)) for g in (0, 1, 2)]
                _gc_sizes.append([*sizes, gc.get_freeze_count()])
            _gc_start[0] = time.perf_counter()
        else:
            _gc.append((info["generation"], time.perf_counter() - _gc_start[0]))
            if info["generation"] == 2:
                _gc_sizes[-1] += [info["collected"], round(_gc[-1][1] * 1000, 1)]

    gc.callbacks.append(_on_gc)
    # PINGYI_STALL_GARBAGE=1: keep what the collector finds unreachable (reference
    # cycles) in gc.garbage instead of freeing it, to see which cycles requests leave.
    _keep_garbage = os.environ.get("PINGYI_STALL_GARBAGE") == "1"
    # PINGYI_STALL_CENSUS=1: count the objects a full collection walks, by type (it
    # holds the GIL while it counts: a stall of its own every 10 s)
    _census_on = _keep_garbage or os.environ.get("PINGYI_STALL_CENSUS") == "1"
    if _keep_garbage:
        gc.set_debug(gc.DEBUG_SAVEALL)

    def _frames(frame: object) -> str:
        lines = traceback.format_stack(frame)[-14:]  # type: ignore[arg-type]
        return "".join(line.split("\n")[0] + "\n" for line in lines)

    def _census() -> dict[str, object]:
        """How many objects a full collection walks (the frozen start-up heap
        excluded) and their commonest types: what grows under load."""
        old = gc.get_objects(generation=2)
        kinds = collections.Counter(type(o).__name__ for o in old)
        found: dict[str, object] = {"old_objects": len(old), "types": kinds.most_common(15)}
        if _keep_garbage:
            cyclic = collections.Counter(type(o).__qualname__ for o in gc.garbage)
            found["garbage"] = len(gc.garbage)
            found["garbage_types"] = cyclic.most_common(40)
        return found

    def _watch() -> None:
        last_write = time.monotonic()
        census: dict[str, object] = {}
        writes = 0
        while True:
            time.sleep(0.002)
            now = time.perf_counter()
            frames = sys._current_frames()
            for ident, start in list(_running.items()):
                if now - start > _threshold and ident in frames:
                    _samples.setdefault(start, collections.Counter())[_frames(frames[ident])] += 1
            if time.monotonic() - last_write > 2:
                last_write = time.monotonic()
                writes += 1
                if _census_on and (writes % 5 == 0 or _keep_garbage):
                    census = _census()
                report = {
                    "pid": os.getpid(),
                    "threshold_ms": _threshold * 1000,
                    "stalls": len(_stalls),
                    "stalled_ms": round(sum(s[1] for s in _stalls), 1),
                    "longest_ms": max((s[1] for s in _stalls), default=0),
                    "gc": [[g, round(s * 1000, 1)] for g, s in _gc if s > 0.005],
                    "gc_count": len(_gc),
                    "frozen": gc.get_freeze_count(),
                    # per full collection: objects in generations 0, 1, 2, frozen,
                    # collected, ms
                    "gc_full": _gc_sizes[-12:],
                    "each_stall": _stalls[-200:],
                    "census": census,
                }
                tmp = os.path.join(_out, f".stalls-{os.getpid()}.json")
                with open(tmp, "w") as f:
                    json.dump(report, f, indent=1)
                os.replace(tmp, os.path.join(_out, f"stalls-{os.getpid()}.json"))

    threading.Thread(target=_watch, name="stall-watch", daemon=True).start()
