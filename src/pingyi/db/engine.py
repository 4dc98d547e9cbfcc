"""The piccolo engine for the configured database, and its lifecycle."""

from __future__ import annotations

import asyncio
import io
import logging
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from pingyi.settings import Settings

log = logging.getLogger("pingyi.db")


class _SafeExit:
    """piccolo's transactions skip returning the connection and forgetting the
    current transaction when the rollback or the commit itself fails, as it does
    when the database goes away. A long-lived task (the response writer) then keeps
    using a dead connection for good: every later write fails although the
    database is back. Here the connection is given back and the transaction
    forgotten whatever happens; a failed commit still raises."""

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        me: Any = self
        if me._parent:
            return exception is None
        try:
            if exception:
                if not me._rolled_back:
                    try:
                        await me.rollback()
                    except Exception as exc:  # the original exception matters more
                        log.warning("rollback failed: %s", type(exc).__name__)
            elif not me._committed and not me._rolled_back:
                await me.commit()
        finally:
            try:
                await me._give_back()
            finally:
                me.engine.current_transaction.reset(me.context)
        return exception is None


class SafePostgresTransaction(_SafeExit, PostgresTransaction):
    async def _give_back(self) -> None:
        pool = self.engine.pool
        try:
            if pool:
                await pool.release(self.connection)
            else:
                await self.connection.close()
        except Exception as exc:
            log.warning("dropping a broken connection: %s", type(exc).__name__)
            self.connection.terminate()


class SafeSQLiteTransaction(_SafeExit, SQLiteTransaction):
    async def _give_back(self) -> None:
        try:
            await self.connection.close()
        except Exception as exc:
            log.warning("closing a broken connection failed: %s", type(exc).__name__)


class SafePostgresEngine(PostgresEngine):
    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return SafePostgresTransaction(engine=self, allow_nested=allow_nested)

    async def copy_csv(self, query: str, *args: Any) -> bytes:
        """The rows of ``query`` as CSV through COPY: millions of rows without a
        Python object per row (the cleaning reads a campaign's answers this way)."""
        out = io.BytesIO()
        if self.pool is not None:
            async with self.pool.acquire() as connection:
                await connection.copy_from_query(query, *args, output=out, format="csv")
        else:
            connection = await self.get_new_connection()
            try:
                await connection.copy_from_query(query, *args, output=out, format="csv")
            finally:
                await connection.close()
        return out.getvalue()


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

    async def fetch_tuples(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        """The rows of ``query`` as plain tuples from one cursor (no dict per row)."""

        def run() -> list[tuple[Any, ...]]:
            cursor = self._connection().cursor()
            cursor.row_factory = None
            try:
                return cursor.execute(query, list(args)).fetchall()
            finally:
                cursor.close()

        return await asyncio.get_running_loop().run_in_executor(self._pool(), run)

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

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return SafeSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

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


async def insert_many(table: Any, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values in ``columns``' order) with one ``executemany`` through
    the driver, inside the caller's transaction: no ORM object per row, which is most
    of a write's cost on the submission path. Outside a transaction, one by one is not
    what anyone wants here: it raises."""
    if not rows:
        return
    engine: Any = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_many runs inside a transaction")
    names = ", ".join(f'"{c}"' for c in columns)
    if engine.engine_type == "postgres":
        marks = ", ".join(f"${k}" for k in range(1, len(columns) + 1))
    else:
        marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({marks})'  # noqa: S608
    await transaction.connection.executemany(sql, rows)


def make_engine(settings: Settings) -> Engine:
    if settings.is_postgres:
        url = urlparse(settings.database_url)
        return SafePostgresEngine(
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
