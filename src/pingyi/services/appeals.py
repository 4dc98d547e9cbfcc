"""申诉复核: a staff member asks for review of a published result; the agency upholds
(with the correction published as a new revision) or rejects it with a reason.

The appeal pins the revision and snapshot hash it is about, so the grade can be
recomputed bit for bit from the frozen inputs for as long as the appeal runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pingyi.db.tables import Appeal, AuditEvent, CleaningRun, Publication, Staff
from pingyi.scoring import FeedRow, Policy, compute_feed, snapshot_hash
from pingyi.services import audit
from pingyi.services.campaigns import get_campaign
from pingyi.services.scores import ScoresError, latest_publication, publish

DECISIONS = ("upheld", "rejected")


class AppealError(ScoresError):
    pass


def appeal_deadline(published_at: datetime, policy: dict[str, Any]) -> datetime:
    return published_at + timedelta(days=Policy.from_json(policy).appeal_days)


async def file_appeal(
    staff_id: int, campaign_code: str, reason: str, actor: str, now: datetime | None = None
) -> int:
    reason = reason.strip()
    if not 10 <= len(reason) <= 2000:
        raise AppealError("explain the request in 10 to 2000 characters")
    campaign = await get_campaign(campaign_code)
    publication = await latest_publication(campaign["id"])
    if publication is None:
        raise AppealError("this campaign has not been published")
    snapshot = json.loads(publication["snapshot"])
    staff = await Staff.select(Staff.code).where(Staff.id == staff_id).first()
    if staff is None or staff["code"] not in {s["code"] for s in snapshot["staff"]}:
        raise AppealError("you are not among the staff of this campaign")
    now = now or datetime.now(UTC)
    if now > appeal_deadline(publication["published_at"], snapshot["policy"]):
        raise AppealError("the period for requesting a review of this campaign has ended")
    pending = await Appeal.exists().where(
        (Appeal.campaign == campaign["id"])
        & (Appeal.staff == staff_id)
        & (Appeal.state == "submitted")
    )
    if pending:
        raise AppealError("you already have a request under review for this campaign")
    rows = await Appeal.insert(
        Appeal(
            campaign=campaign["id"],
            staff=staff_id,
            revision=publication["revision"],
            snapshot_hash=publication["snapshot_hash"],
            reason=reason,
            created_at=now,
        )
    )
    appeal_id = int(rows[0]["id"])
    await audit.record(
        actor,
        "appeal.submit",
        f"appeal:{appeal_id}",
        after={"campaign": campaign_code, "revision": publication["revision"], "reason": reason},
    )
    return appeal_id


async def recompute(appeal_id: int) -> tuple[bool, FeedRow | None]:
    """(the stored snapshot still hashes to the pinned value, the appellant's row
    recomputed from it)."""
    appeal = await Appeal.select().where(Appeal.id == appeal_id).first()
    if appeal is None:
        raise AppealError("no such appeal")
    publication = (
        await Publication.select()
        .where(
            (Publication.campaign == appeal["campaign"])
            & (Publication.revision == appeal["revision"])
        )
        .first()
    )
    if publication is None:
        return False, None
    snapshot = json.loads(publication["snapshot"])
    intact = snapshot_hash(snapshot) == appeal["snapshot_hash"]
    code = (await Staff.select(Staff.code).where(Staff.id == appeal["staff"]).first() or {}).get(
        "code"
    )
    row = next((r for r in compute_feed(snapshot) if r.staff_code == code), None)
    return intact, row


async def decide(appeal_id: int, decision: str, explanation: str, actor: str) -> dict[str, Any]:
    """Reject with a reason, or uphold: the correction (a flag override or a corrected
    response, then a cleaning re-run) is published here as a new revision."""
    explanation = explanation.strip()
    if decision not in DECISIONS:
        raise AppealError("the decision must be upheld or rejected")
    if len(explanation) < 4:
        raise AppealError("explain the decision to the appellant")
    appeal = await Appeal.select().where(Appeal.id == appeal_id).first()
    if appeal is None:
        raise AppealError("no such appeal")
    if appeal["state"] != "submitted":
        raise AppealError(f"this appeal was already {appeal['state']}")
    campaign = (
        await Appeal.select(Appeal.campaign.code.as_alias("code"))
        .where(Appeal.id == appeal_id)
        .first()
    )
    assert campaign is not None
    new_revision = None
    if decision == "upheld":
        newer = await CleaningRun.exists().where(
            (CleaningRun.campaign == appeal["campaign"])
            & (CleaningRun.revision > appeal["revision"])
        )
        if not newer:
            raise AppealError(
                "apply the correction first (override the flag or correct the response) and "
                "run the cleaning again; upholding publishes that run as a new revision"
            )
        published = await publish(
            campaign["code"], actor, note=f"appeal {appeal_id} upheld: {explanation}"
        )
        new_revision = published["revision"]
    await Appeal.update(
        {
            Appeal.state: decision,
            Appeal.decision: explanation,
            Appeal.decided_by: actor,
            Appeal.decided_at: datetime.now(UTC),
        }
    ).where(Appeal.id == appeal_id)
    await audit.record(
        actor,
        f"appeal.{decision}",
        f"appeal:{appeal_id}",
        before={"state": "submitted"},
        after={"state": decision, "decision": explanation, "new_revision": new_revision},
    )
    return {"state": decision, "new_revision": new_revision}


async def appeals_of_staff(staff_id: int) -> list[dict[str, Any]]:
    rows = (
        await Appeal.select(Appeal.all_columns(), Appeal.campaign.code.as_alias("campaign_code"))
        .where(Appeal.staff == staff_id)
        .order_by(Appeal.id, ascending=False)
    )
    for row in rows:
        row["steps"] = (
            await AuditEvent.select(AuditEvent.at, AuditEvent.action, AuditEvent.after)
            .where(AuditEvent.target == f"appeal:{row['id']}")
            .order_by(AuditEvent.seq)
            .output(load_json=True)
        )
    return rows


async def all_appeals() -> list[dict[str, Any]]:
    """Open appeals first, newest first."""
    rows = await Appeal.select(
        Appeal.all_columns(),
        Appeal.campaign.code.as_alias("campaign_code"),
        Appeal.staff.code.as_alias("staff_code"),
        Appeal.staff.name.as_alias("staff_name"),
    ).order_by(Appeal.id, ascending=False)
    return sorted(rows, key=lambda r: r["state"] != "submitted")
