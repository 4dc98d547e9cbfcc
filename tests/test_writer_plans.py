"""The writer's look-ups stay on their index however the table has grown since the
connection first ran them (PostgreSQL's plan cache: a generic plan costed on a small
table would scan the whole table for every batch)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conftest import ENGINE
from helpers import open_public_campaign

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        ENGINE != "postgres", reason="PostgreSQL's cached plans (SQLite plans each statement)"
    ),
]

# This connection's scans of `response`: those already reported plus those pending
# in this backend (one statement: nothing is reported in between).
SCANS = """
SELECT u.seq_scan + x.seq_scan, coalesce(u.idx_scan, 0) + coalesce(x.idx_scan, 0)
FROM pg_stat_user_tables u JOIN pg_stat_xact_user_tables x USING (relid)
WHERE u.relname = 'response'
"""


async def _rating(ctx: Any) -> Any:
    from pingyi.services.public_rating import RatingInput, build_response, validate

    data = RatingInput(overall="4", items={"attitude": "4"})
    _, answers = validate(data, ctx.items)
    item = build_response(ctx, data, answers, channel="qr")
    item.client_id = f"web:{uuid.uuid4().hex}"  # what the look-up is for
    return item


async def test_the_client_id_look_up_keeps_its_index_as_the_table_grows(db: str) -> None:
    from pingyi.db.tables import Response
    from pingyi.services.public_rating import window_context
    from pingyi.services.writer import RESPONSE_COLUMNS, write_batch

    engine: Any = Response._meta.db
    await engine.start_connection_pool(min_size=1, max_size=1)  # one statement cache
    try:
        campaign = await open_public_campaign()
        ctx = await window_context(campaign["campaign_id"], campaign["windows"]["u1-W1"])
        assert ctx is not None
        # More than five runs on a near-empty table: PostgreSQL may now keep a
        # generic plan made for a table of a few rows.
        for _ in range(8):
            await write_batch([await _rating(ctx)], outbox=False)
        copied = ", ".join(f'"{c}"' for c in RESPONSE_COLUMNS if c not in ("id", "client_id"))
        async with engine.pool.acquire() as connection:
            await connection.execute(
                f"INSERT INTO response (id, client_id, {copied}) "
                f"SELECT gen_random_uuid(), 'grown-' || g, {copied} "
                "FROM (SELECT * FROM response LIMIT 1) r, generate_series(1, 50000) g"
            )
            seq_before, idx_before = await connection.fetchrow(SCANS)
        stored = await write_batch([await _rating(ctx)], outbox=False)
        async with engine.pool.acquire() as connection:
            seq_after, idx_after = await connection.fetchrow(SCANS)
    finally:
        await engine.close_connection_pool()
    assert stored[0].created
    assert idx_after > idx_before  # the counters moved (the look-up, the answers' keys)
    assert seq_after == seq_before  # and nothing read the 50,000 rows through
