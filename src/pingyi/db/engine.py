"""The piccolo engine for the configured database, and its lifecycle."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

from pingyi.settings import Settings


class PooledSQLiteEngine(SQLiteEngine):
    """piccolo's SQLite engine opens a connection (and a thread) for every query
    outside a transaction: about 1.6 ms each, most of a request's time. Here such
    queries run on a few threads that keep their connection open. Transactions (the
    group-commit writer) still get a connection of their own from piccolo."""

    _threads = 4

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._local = threading.local()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)
            connection.row_factory = dict_factory
            connection.execute("PRAGMA foreign_keys = 1")
            self._local.connection = connection
        return connection

    def _run(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        cursor = self._connection().execute(query, args)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def _pool(self) -> ThreadPoolExecutor:
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="sqlite")
            return self._executor

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if query_type == "insert" and self.get_version_sync() < 3.35:
            return await super()._run_in_new_connection(query, args, query_type, table)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool(), self._run, query, list(args or []))


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        url = urlparse(settings.database_url)
        return PostgresEngine(
            config={
                "host": url.hostname or "127.0.0.1",
                "port": url.port or 5432,
                "user": url.username or "postgres",
                "password": url.password or "",
                "database": (url.path or "/pingyi").lstrip("/") or "pingyi",
            },
            log_queries=False,
        )
    # WAL lets readers proceed while the writer commits; the busy timeout makes a
    # second writer wait instead of failing with "database is locked".
    return PooledSQLiteEngine(
        path=str(settings.sqlite_path),
        timeout=30,
    )
