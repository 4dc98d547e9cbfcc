"""A pass run every few seconds in the server's background, by one process only.

The campaign scheduler, the purge and the outbox sender share this shape: a loop that
waits `interval_s` (or less when woken), runs one pass if this process holds the
task's lock (several workers or hosts: only one does the work), logs a failed pass
and tries again next time (the database may be away), and counts passes so tests and
health checks can wait for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Generic, Protocol, TypeVar

log = logging.getLogger("pingyi.background")

Result = TypeVar("Result")


class Lock(Protocol):
    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


class PeriodicTask(Generic[Result]):
    """Subclasses name themselves and implement `run_pass`."""

    name = "pingyi-task"

    def __init__(self, interval_s: float, lock: Lock) -> None:
        self.interval_s = interval_s
        self.lock = lock
        self.passes = 0
        self.last: Result | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._passed = asyncio.Event()

    async def run_pass(self) -> Result:
        raise NotImplementedError

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    def wake(self) -> None:
        """Run the next pass now instead of at the end of the interval."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.lock.release()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away; try again next time
                log.warning("%s: pass failed (%s)", self.name, type(exc).__name__)

    async def tick(self) -> Result | None:
        """One pass if this process holds the lock; None when another one does."""
        if not await self.lock.acquire():
            return None
        result = await self.run_pass()
        self.last = result
        self.passes += 1
        self._passed.set()
        return result

    async def wait_passes(self, n: int) -> None:
        """Wait until at least `n` passes have run (for tests and health checks)."""
        while self.passes < n:
            self._passed.clear()
            await self._passed.wait()
