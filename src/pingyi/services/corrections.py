"""Raw ratings are append-only: a correction is a new response that references the
one it replaces, so every published number can be recomputed from raw data."""

from __future__ import annotations

import uuid

from pingyi.db.tables import Answer, Response
from pingyi.services import audit
from pingyi.services.writer import NewResponse, write_batch


class CorrectionError(ValueError):
    pass


async def correct_response(
    response_id: str, scores: dict[str, int], reason: str, actor: str
) -> str:
    """Store the corrected answers as a new response; the old one stays untouched."""
    if len(reason.strip()) < 4:
        raise CorrectionError("say why the rating is corrected")
    old = await Response.select().where(Response.id == uuid.UUID(response_id)).first()
    if old is None:
        raise CorrectionError("no such response")
    if await Response.exists().where(Response.corrects == old["id"]):
        raise CorrectionError("this response was corrected already; correct the newest one")
    if any(s not in (1, 2, 3, 4, 5) for s in scores.values()):
        raise CorrectionError("scores are levels 1 to 5")
    answers = {
        a["item"]: (a["score"], a["value"])
        for a in await Answer.select().where(Answer.response == old["id"])
    }
    answers.update({item: (score, "") for item, score in scores.items()})
    new = NewResponse(
        campaign_id=old["campaign"],
        role=old["role"],
        channel=old["channel"],
        answers=[(item, score, value) for item, (score, value) in answers.items()],
        version_id=old["questionnaire_version"],
        window_id=old["window"],
        ratee_id=old["ratee"],
        rater=old["rater"],
        device=old["device"],
        submitted_at=old["submitted_at"],
        duration_s=old["duration_s"],
        off_hours=old["off_hours"],
        honeypot=old["honeypot"],
        comment=old["comment"],
        corrects=old["id"],
    )
    stored = (await write_batch([new]))[0]
    await audit.record(
        actor,
        "response.correct",
        f"response:{response_id}",
        before={k: v[0] for k, v in answers.items() if k not in scores},
        after={"scores": scores, "reason": reason.strip(), "new": stored.response_id},
    )
    return stored.response_id


async def superseded_ids(campaign_id: int) -> set[uuid.UUID]:
    rows = await Response.select(Response.corrects).where(
        (Response.campaign == campaign_id) & Response.corrects.is_not_null()
    )
    return {r["corrects"] for r in rows}
