"""The cleaning reads a campaign's answers in bulk (COPY on PostgreSQL, one cursor on
SQLite): the columns equal what the ORM gives row by row (issue 12)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


async def _orm_reference(campaign_id: int, key: bytes) -> Any:
    """The same answers through the ORM, one dict per answer (the old way)."""
    from pingyi.cleaning import Ratings
    from pingyi.db.tables import Answer, Response
    from pingyi.services.campaigns import pseudonym
    from pingyi.services.corrections import superseded_ids

    replaced = await superseded_ids(campaign_id)
    responses = {
        r["id"]: r
        for r in await Response.select().where(Response.campaign == campaign_id)
        if r["id"] not in replaced
    }
    records = []
    for a in await Answer.select(Answer.response, Answer.item, Answer.score).where(
        (Answer.response.campaign == campaign_id) & Answer.score.is_not_null()
    ):
        r = responses.get(a["response"])
        if r is None:
            continue
        records.append(
            {
                "response_id": str(r["id"]),
                "role": r["role"],
                "rater": r["rater"],
                "ratee": pseudonym(key, r["ratee"])
                if r["ratee"] is not None
                else f"window:{r['window']}",
                "item": a["item"],
                "score": a["score"],
                "submitted_at": r["submitted_at"],
                "duration_s": r["duration_s"],
                "device": r["device"],
                "ticket": r["ticket"],
                "channel": r["channel"],
                "comment": r["comment"] or "",
            }
        )
    return Ratings.from_records(records)


def _rows(ratings: Any) -> list[tuple[Any, ...]]:
    names = ("response_id", "role", "rater", "ratee", "item", "device", "ticket", "channel")
    columns = [getattr(ratings, n).tolist() for n in names] + [
        ratings.comment.tolist(),
        ratings.score.tolist(),
        np.nan_to_num(ratings.submitted_at, nan=-1.0).round(3).tolist(),
        np.nan_to_num(ratings.duration_s, nan=-1.0).round(3).tolist(),
    ]
    return sorted(zip(*columns, strict=True))


async def test_bulk_read_equals_the_orm_row_by_row(db: str) -> None:
    from pingyi.db.tables import Campaign
    from pingyi.services.campaign_input import campaign_input
    from pingyi.services.campaigns import rater_key
    from pingyi.services.demo import load_demo

    await load_demo(admin_password=PASSWORD)
    for code in ("2026Q3", "2026Q4"):
        campaign = await Campaign.select(Campaign.id).where(Campaign.code == code).first()
        key = await rater_key(campaign["id"])
        bulk = await campaign_input(campaign["id"], key)
        reference = await _orm_reference(campaign["id"], key)
        assert len(bulk.ratings) == len(reference) > 100
        assert _rows(bulk.ratings) == _rows(reference)
        assert {"public", "peer"} <= set(bulk.ratings.role.tolist())
        assert bulk.public and all(name in bulk.names for name, _, _ in bulk.public)
