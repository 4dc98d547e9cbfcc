"""The writer's SQLite connection runs on the loop's thread: a batch is acknowledged
only after the WAL is fsynced, and a write lock held by another process is waited
for in a thread while the service keeps answering."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import pytest

from conftest import ENGINE
from helpers import open_public_campaign

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(ENGINE != "sqlite", reason="the SQLite writer's own connection"),
]


async def _ratings(n: int) -> list[Any]:
    from pingyi.services.public_rating import (
        RatingInput,
        build_response,
        validate,
        window_context,
    )

    campaign = await open_public_campaign()
    ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u1-W1"])
    assert ctx is not None
    items = []
    for _ in range(n):
        data = RatingInput(overall="4", items={"attitude": "5"})
        _, answers = validate(data, ctx.items)
        item = build_response(ctx, data, answers, channel="qr")
        item.client_id = f"web:{uuid.uuid4().hex}"
        items.append(item)
    return items


async def test_a_batch_is_acknowledged_after_the_wal_is_fsynced(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingyi.db import inline_sqlite
    from pingyi.db.tables import Response
    from pingyi.services.writer import ResponseWriter

    events: list[str] = []
    real_fsync = inline_sqlite._fsync

    def fsync(path: str) -> None:
        assert path.endswith("-wal")
        real_fsync(path)
        events.append("fsync")

    monkeypatch.setattr(inline_sqlite, "_fsync", fsync)
    items = await _ratings(3)
    writer = ResponseWriter(outbox=False)
    await writer.start()
    try:

        async def submit(item: Any) -> None:
            stored = await writer.submit(item)
            assert stored.created
            events.append("stored")

        await asyncio.gather(*(submit(i) for i in items))
        mode = writer._kept.connection._db.execute("PRAGMA synchronous").fetchone()
    finally:
        await writer.stop()
    assert events[0] == "fsync" and events.count("stored") == 3
    assert mode[0] == 1  # NORMAL: the commit writes the WAL, the fsync makes it durable
    assert await Response.count() == 3


async def test_a_write_lock_held_elsewhere_is_waited_for_off_the_loop(db: str) -> None:
    from pingyi.db.tables import Response
    from pingyi.services.writer import ResponseWriter

    items = await _ratings(2)
    writer = ResponseWriter(outbox=False)
    await writer.start()
    other = sqlite3.connect(db.removeprefix("sqlite:///"), isolation_level=None)
    try:
        await writer.submit(items[0])  # the writer's connection is open
        other.execute("BEGIN IMMEDIATE")  # another process takes the write lock
        pending = asyncio.ensure_future(writer.submit(items[1]))
        ticks = 0
        for _ in range(20):  # the loop keeps running while the writer waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert not pending.done() and ticks == 20
        other.execute("COMMIT")
        stored = await asyncio.wait_for(pending, 10)
    finally:
        other.close()
        await writer.stop()
    assert stored.created
    assert await Response.count() == 2
