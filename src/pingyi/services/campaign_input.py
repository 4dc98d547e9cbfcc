"""A campaign's ratings as the cleaning engine reads them (DESIGN.md section 5), in bulk.

Answers are the bulk of a campaign (each response has several): PostgreSQL streams
them with COPY and SQLite returns them from one cursor, as columns, never an ORM dict
per answer. Responses, far fewer, come through the ORM, and every answer column is a
response column indexed by the answer's response.

Raters and ratees enter the engine in one pseudonym namespace (HMAC with the campaign
key), so reciprocal ratings can be found; ``names`` maps the engine's ratee names back
to readable ones. A corrected response is replaced by its correction.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
from pyarrow import csv as pcsv

from pingyi.cleaning import Ratings
from pingyi.cleaning.io import dictionary_codes
from pingyi.db.engine import PooledSQLiteEngine, SafePostgresEngine
from pingyi.db.tables import Answer, Response, Staff
from pingyi.services.campaigns import pseudonym
from pingyi.services.corrections import superseded_ids

# the answers of one campaign: (response id, item code, level); open text has no level
ANSWERS_SQL = (
    "SELECT a.response, a.item, a.score FROM answer a JOIN response r ON r.id = a.response "
    "WHERE r.campaign = {param} AND a.score IS NOT NULL"
)


@dataclass
class CampaignInput:
    ratings: Ratings
    honeypot: set[str]  # response ids that answered the hidden honeypot item
    off_hours: set[str]  # response ids submitted outside their unit's opening hours
    names: dict[str, str]  # engine ratee name -> staff:<code> or window:<id>
    versions: set[tuple[int, str]]  # (questionnaire version, role) pairs used
    # public responses with a time: (engine ratee name, submitted at, window id)
    public: list[tuple[str, datetime, int | None]] = field(default_factory=list)


async def answer_columns(campaign_id: int) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """(response code per answer, response ids the codes index, item codes as str
    objects, levels as float), read in bulk."""
    engine: Any = Answer._meta.db
    if isinstance(engine, SafePostgresEngine):
        data = await engine.copy_csv(ANSWERS_SQL.format(param="$1"), campaign_id)
        if not data:  # no answers at all (pyarrow refuses an empty file)
            return np.zeros(0, np.int64), [], np.zeros(0, dtype=object), np.zeros(0)
        text = pa.dictionary(pa.int32(), pa.string())
        table = pcsv.read_csv(
            io.BytesIO(data),
            read_options=pcsv.ReadOptions(column_names=["response", "item", "score"]),
            convert_options=pcsv.ConvertOptions(
                column_types={"response": text, "item": text, "score": pa.float64()}
            ),
        )
        response, item, score = (table.column(k) for k in ("response", "item", "score"))
    else:  # make_engine builds one of these two
        assert isinstance(engine, PooledSQLiteEngine), type(engine)
        rows = await engine.fetch_tuples(ANSWERS_SQL.format(param="?"), campaign_id)
        ids, codes, values = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [])
        # piccolo's converters hand UUID columns back as uuid.UUID
        ids = [str(i) for i in ids]
        response = pa.chunked_array([pa.array(ids, pa.string()).dictionary_encode()])
        item = pa.chunked_array([pa.array(codes, pa.string()).dictionary_encode()])
        score = pa.chunked_array([pa.array(values, pa.float64())])
    response_ids, response_codes = dictionary_codes(response)
    item_values, item_codes = dictionary_codes(item)
    item_objects = np.empty(len(item_values), dtype=object)
    item_objects[:] = item_values
    levels = score.to_numpy() if len(score) else np.zeros(0)
    return response_codes, response_ids, item_objects[item_codes], levels.astype(float)


def _text(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = ["" if v is None else str(v) for v in values]
    return out


async def campaign_input(campaign_id: int, key: bytes) -> CampaignInput:
    """Everything the cleaning engine needs about one campaign's ratings."""
    responses = await Response.select(
        Response.id,
        Response.questionnaire_version,
        Response.role,
        Response.channel,
        Response.rater,
        Response.ratee,
        Response.window,
        Response.device,
        Response.ticket,
        Response.submitted_at,
        Response.duration_s,
        Response.honeypot,
        Response.off_hours,
        Response.comment,  # evidence for SCRIPTED
    ).where(Response.campaign == campaign_id)
    replaced = await superseded_ids(campaign_id)
    kept = [r for r in responses if r["id"] not in replaced]
    staff = {s["id"]: s["code"] for s in await Staff.select(Staff.id, Staff.code)}
    names: dict[str, str] = {}
    ratee_names = []
    for row in kept:
        if row["ratee"] is not None:
            name = pseudonym(key, row["ratee"])
            names[name] = f"staff:{staff.get(row['ratee'], row['ratee'])}"
        else:
            name = names.setdefault(f"window:{row['window']}", f"window:{row['window']}")
        ratee_names.append(name)

    codes, response_ids, items, levels = await answer_columns(campaign_id)
    position = {str(r["id"]): k for k, r in enumerate(kept)}
    index_of = np.array([position.get(i, -1) for i in response_ids], dtype=np.int64)
    index = index_of[codes] if len(codes) else np.zeros(0, np.int64)
    counted = index >= 0  # answers of a replaced response are left out
    index = index[counted]

    def column(name: str) -> np.ndarray:
        return _text([r[name] for r in kept])[index]

    def number(values: list[float | None]) -> np.ndarray:
        return np.array([math.nan if v is None else float(v) for v in values])[index]

    ratings = Ratings(
        response_id=_text([str(r["id"]) for r in kept])[index],
        role=column("role"),
        rater=column("rater"),
        ratee=_text(ratee_names)[index],
        item=items[counted],
        score=levels[counted],
        submitted_at=number(
            [r["submitted_at"].timestamp() if r["submitted_at"] else None for r in kept]
        ),
        duration_s=number([r["duration_s"] for r in kept]),
        device=column("device"),
        ticket=column("ticket"),
        channel=column("channel"),
        comment=column("comment"),
    )
    ratings.validate()
    return CampaignInput(
        ratings=ratings,
        honeypot={str(r["id"]) for r in kept if r["honeypot"]},
        off_hours={str(r["id"]) for r in kept if r["off_hours"]},
        names=names,
        versions={
            (int(r["questionnaire_version"]), str(r["role"]))
            for r in kept
            if r["questionnaire_version"] is not None
        },
        public=[
            (name, r["submitted_at"], r["window"])
            for r, name in zip(kept, ratee_names, strict=True)
            if r["role"] == "public" and r["submitted_at"] is not None
        ],
    )
