"""The response writer's SQLite connection, called on the event loop's own thread.

Through aiosqlite every statement of a group commit was a hop to a thread, which
then waited for the GIL while the loop served requests: a batch that takes about a
millisecond alone took 6-7 ms under load (benchmarks/RESULTS-load.md), and the
ratings behind it waited. Here the statements run where the writer runs, and only
what may block goes to a thread:
- the commit's fsync: the connection runs at `synchronous=NORMAL` (a commit writes
  the WAL, no fsync) and `sync()` then fsyncs the WAL file in a thread before the
  writer acknowledges the batch: FULL's durability, without the loop waiting on the
  disk;
- a lock wait: the busy timeout is 0 on the loop; a statement that finds the
  database locked (another process writing) is run again in a thread, where it
  waits as long as the engine's timeout.

It offers the part of aiosqlite's connection that piccolo's transactions use.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Generator, Iterable, Sequence
from typing import Any


class _Cursor:
    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Statement:
    """What `execute` returns: awaited, or entered with `async with` (as aiosqlite)."""

    def __init__(self, run: Any) -> None:
        self._run = run
        self._cursor: _Cursor | None = None

    def __await__(self) -> Generator[Any, None, _Cursor]:
        return self._run().__await__()  # type: ignore[no-any-return]

    async def __aenter__(self) -> _Cursor:
        self._cursor = await self._run()
        return self._cursor

    async def __aexit__(self, *exc: Any) -> None:
        if self._cursor is not None:
            await self._cursor.close()


def _locked(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class InlineSQLite:
    def __init__(self, connection_kwargs: dict[str, Any]) -> None:
        kwargs = dict(connection_kwargs)
        self.timeout_ms = int(float(kwargs.pop("timeout", 5.0)) * 1000)
        self.wal_path = f"{kwargs['database']}-wal"
        self._db = sqlite3.connect(**kwargs, timeout=0, check_same_thread=False)
        self._db.execute("PRAGMA foreign_keys = 1")
        self.wal = self._db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
        if self.wal:  # else commits keep their own fsync (FULL) and sync() has nothing to do
            self._db.execute("PRAGMA synchronous = NORMAL")
            # A checkpoint copies pages and fsyncs the database: not on the loop
            # (it was the p99 of a saturated run). sync() runs one in its thread at
            # most every CHECKPOINT_S.
            self._db.execute("PRAGMA wal_autocheckpoint = 0")
        self._checkpointed = time.monotonic()

    @property
    def row_factory(self) -> Any:
        return self._db.row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self._db.row_factory = factory

    def _call(self, method: str, sql: str, args: Any) -> _Cursor:
        return _Cursor(getattr(self._db, method)(sql, args))

    async def _run(self, method: str, sql: str, args: Any) -> _Cursor:
        try:
            return self._call(method, sql, args)
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
        return await asyncio.get_running_loop().run_in_executor(
            None, self._waiting, method, sql, args
        )

    def _waiting(self, method: str, sql: str, args: Any) -> _Cursor:
        """The statement again, in a thread, waiting for the lock up to the timeout."""
        self._db.execute(f"PRAGMA busy_timeout = {self.timeout_ms}")
        try:
            return self._call(method, sql, args)
        finally:
            self._db.execute("PRAGMA busy_timeout = 0")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> _Statement:
        return _Statement(lambda: self._run("execute", sql, args))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> _Cursor:
        return await self._run("executemany", sql, list(rows))

    async def close(self) -> None:
        self._db.close()

    async def sync(self) -> None:
        """Make every commit so far durable: fsync the WAL file, in a thread."""
        if self.wal:
            await asyncio.get_running_loop().run_in_executor(None, self._sync)

    def _sync(self) -> None:
        _fsync(self.wal_path)
        if time.monotonic() - self._checkpointed > CHECKPOINT_S:
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._checkpointed = time.monotonic()


CHECKPOINT_S = 1.0  # a few MB of WAL at the fastest the writer goes


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
