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
import os
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from piccolo.engine.postgres import PostgresEngine

from pingyi.db.tables import Campaign

log = logging.getLogger("pingyi.background")

SCHEDULER_LOCK_KEY = 0x70696E677969  # "pingyi": the campaign scheduler's advisory lock id

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


class SchedulerLock:
    """Held by at most one process: PostgreSQL advisory lock on a connection of its
    own, or an exclusive file lock in the data folder on SQLite."""

    def __init__(self, lock_file: Path | None = None, key: int = SCHEDULER_LOCK_KEY) -> None:
        self.lock_file = lock_file
        self.key = key  # the purge holds a lock of its own
        self._connection: Any = None
        self._fd: int | None = None

    async def acquire(self) -> bool:
        engine = Campaign._meta.db
        if isinstance(engine, PostgresEngine):
            return await self._acquire_pg(engine)
        return self._acquire_file()

    async def _acquire_pg(self, engine: PostgresEngine) -> bool:
        if self._connection is not None:
            try:  # still ours? a dropped connection has released the lock
                await self._connection.fetchval("SELECT 1")
                return True
            except Exception:
                with contextlib.suppress(Exception):
                    await self._connection.close()
                self._connection = None
        connection = await engine.get_new_connection()
        if await connection.fetchval("SELECT pg_try_advisory_lock($1)", self.key):
            self._connection = connection
            return True
        await connection.close()
        return False

    def _acquire_file(self) -> bool:
        import fcntl

        if self._fd is not None:
            return True
        if self.lock_file is None:
            return True  # no folder to coordinate through: the caller is alone
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute("SELECT pg_advisory_unlock($1)", self.key)
                await self._connection.close()
            self._connection = None
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
