"""The bare reference for the fair benchmark: litestar + msgspec, one row per request.

What the stack itself costs for a submission, with none of pingyi's rules: the same
two routes a device and a citizen post to (`POST /api/v1/ratings` with a JSON body
decoded into a msgspec Struct, `POST /r/<ref>` with a urlencoded form), each
inserting one row and answering with its id. Served by uvicorn with the same worker
count and the same durability as pingyi: SQLite in WAL mode with `synchronous=FULL`
and a commit per row (`BARE_SQLITE_SYNC=NORMAL`: no fsync per commit), or PostgreSQL
through an asyncpg pool (autocommit per row).

    BARE_DATABASE_URL=sqlite:////tmp/bare.db uvicorn --factory benchmarks.bare:app_factory
    BARE_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bare ...

`python benchmarks/bare.py init` creates the table (run once before the servers).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

TABLE = """CREATE TABLE IF NOT EXISTS bare_rating (
    id TEXT PRIMARY KEY,
    client_id TEXT UNIQUE NOT NULL,
    window_code TEXT NOT NULL,
    overall INTEGER NOT NULL,
    attitude INTEGER,
    created_at DOUBLE PRECISION NOT NULL
)"""
INSERT_PG = (
    "INSERT INTO bare_rating (id, client_id, window_code, overall, attitude, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (client_id) DO NOTHING"
)
INSERT_SQLITE = (
    "INSERT OR IGNORE INTO bare_rating "
    "(id, client_id, window_code, overall, attitude, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


class Rating(msgspec.Struct, forbid_unknown_fields=True):
    client_id: uuid.UUID
    window: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    answers: dict[Annotated[str, msgspec.Meta(max_length=64)], int]


class Stored(msgspec.Struct):
    id: str
    created: bool


class Store:
    """One row per call; True when it was new."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None
        self.sqlite: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self.url.startswith("postgresql://"):
            import asyncpg

            self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=20)
        else:
            self.sqlite = _sqlite(self.url)

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.sqlite is not None:
            self.sqlite.close()

    async def insert(
        self, row_id: str, client_id: str, window: str, overall: int, attitude: int | None
    ) -> bool:
        if self.pool is not None:
            status = await self.pool.execute(
                INSERT_PG, row_id, client_id, window, overall, attitude, time.time()
            )
            return bool(status.endswith(" 1"))
        assert self.sqlite is not None
        # One short synchronous transaction on the event loop: the cheapest way there
        # is to put one row into SQLite from a single-threaded server.
        cursor = self.sqlite.execute(
            INSERT_SQLITE, (row_id, client_id, window, overall, attitude, time.time())
        )
        self.sqlite.commit()
        return cursor.rowcount == 1


def _sqlite(url: str) -> sqlite3.Connection:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    # FULL is pingyi's durability (a commit survives a power cut); NORMAL (fsync at
    # checkpoints only) shows what the stack costs when the disk is out of the way.
    sync = os.environ.get("BARE_SQLITE_SYNC", "FULL").upper()
    connection.execute(f"PRAGMA synchronous={'NORMAL' if sync == 'NORMAL' else 'FULL'}")
    return connection


def _store(request: Request[Any, Any, Any]) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _level(value: Any) -> int:
    level = int(value)
    if not 1 <= level <= 5:
        raise ValueError(level)
    return level


@post("/api/v1/ratings", status_code=201)
async def device_rating(request: Request[Any, Any, Any], data: Rating) -> Response[Stored]:
    row_id = uuid.uuid4().hex
    try:
        overall = _level(data.answers["overall"])
        attitude = data.answers.get("attitude")
    except (KeyError, ValueError):
        return Response(Stored(id="", created=False), status_code=422)
    created = await _store(request).insert(
        row_id, f"dev:{data.client_id}", data.window, overall, attitude
    )
    return Response(Stored(id=row_id, created=created), status_code=201 if created else 200)


Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


@post("/r/{ref:str}", status_code=200)
async def form_rating(
    request: Request[Any, Any, Any], ref: FromPath[str], data: Form
) -> Response[str]:
    token = str(data.get("token") or "")
    parts = token.rpartition(".")[0].split("~")
    try:
        overall = _level(data.get("overall"))
        attitude = _level(data["item_attitude"]) if data.get("item_attitude") else None
        submission = parts[5]
    except (IndexError, TypeError, ValueError):
        return Response("bad form", status_code=400, media_type="text/plain")
    await _store(request).insert(uuid.uuid4().hex, f"web:{submission}", ref[:64], overall, attitude)
    # The same marker pingyi's thank-you page carries (the pressure form's token).
    return Response(
        f'<!doctype html><p>感谢您的评价</p><input name="token" value="c0w0s{submission}.x">',
        media_type="text/html",
    )


def app_factory() -> Litestar:
    store = Store(os.environ["BARE_DATABASE_URL"])

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await store.open()
        try:
            yield
        finally:
            await store.close()

    app = Litestar(route_handlers=[device_rating, form_rating], lifespan=[lifespan])
    app.state.store = store
    return app


async def _init(url: str) -> None:
    if url.startswith("postgresql://"):
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            await connection.execute(TABLE)
        finally:
            await connection.close()
    else:
        with _sqlite(url) as connection:
            connection.execute(TABLE)


if __name__ == "__main__":
    if sys.argv[1:] == ["init"]:
        asyncio.run(_init(os.environ["BARE_DATABASE_URL"]))
