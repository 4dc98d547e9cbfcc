"""申诉复核: a staff member asks for review of a published result; the agency upholds
(with the correction published as a new revision) or rejects it with a reason.

The appeal pins the revision and snapshot hash it is about, so the grade can be
recomputed bit for bit from the frozen inputs for as long as the appeal runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pingyi.db.tables import Appeal, AuditEvent, CleaningRun, Publication, Staff
from pingyi.scoring import FeedRow, Policy, compute_feed, snapshot_hash
from pingyi.services import audit
from pingyi.services.campaigns import get_campaign
from pingyi.services.scores import (
    ScoresError,
    first_publication_time,
    frozen,
    latest_publication,
    publish,
)

DECISIONS = ("upheld", "rejected")


class AppealError(ScoresError):
    pass


def appeal_deadline(first_published_at: datetime, policy: dict[str, Any]) -> datetime:
    """The period runs from the campaign's first publication: a corrected revision
    does not reopen it for everyone."""
    return first_published_at + timedelta(days=Policy.from_json(policy, strict=False).appeal_days)


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
    document = frozen(publication)
    staff = await Staff.select(Staff.code).where(Staff.id == staff_id).first()
    if staff is None or staff["code"] not in {r["staff_code"] for r in document["rows"]}:
        raise AppealError("you are not among the staff of this campaign")
    now = now or datetime.now(UTC)
    opened = await first_publication_time(campaign["id"])
    if now > appeal_deadline(opened, document["inputs"]["policy"]):
        raise AppealError("the period for requesting a review of this campaign has ended")
    mine = Appeal.select(Appeal.state, Appeal.revision).where(
        (Appeal.campaign == campaign["id"]) & (Appeal.staff == staff_id)
    )
    for earlier in await mine:
        if earlier["state"] == "submitted":
            raise AppealError("you already have a request under review for this campaign")
        if earlier["revision"] == publication["revision"]:
            raise AppealError("these numbers were reviewed once already")
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


async def recompute(appeal_id: int) -> tuple[bool, bool, FeedRow | None]:
    """(the publication still hashes to the value the appeal pinned, recomputing its
    inputs gives exactly the published row, the published row)."""
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
        return False, False, None
    document = frozen(publication)
    intact = snapshot_hash(document) == appeal["snapshot_hash"]
    staff = await Staff.select(Staff.code).where(Staff.id == appeal["staff"]).first()
    code = staff["code"] if staff else None
    stored = next((r for r in document["rows"] if r["staff_code"] == code), None)
    again = next((r for r in compute_feed(document["inputs"]) if r.staff_code == code), None)
    same = stored is not None and again is not None and again.to_json() == stored
    return intact, same, FeedRow.from_json(stored) if stored else None


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
        new_revision = await _corrected_revision(
            appeal, campaign["code"], appeal_id, explanation, actor
        )
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


async def _corrected_revision(
    appeal: dict[str, Any], code: str, appeal_id: int, explanation: str, actor: str
) -> int:
    """The revision that carries the correction: one already published after the
    appealed one, or the newer cleaning run, published now."""
    published = (
        await Publication.select(Publication.revision)
        .where(
            (Publication.campaign == appeal["campaign"])
            & (Publication.revision > appeal["revision"])
        )
        .order_by(Publication.revision, ascending=False)
        .first()
    )
    newer_run = (
        await CleaningRun.select(CleaningRun.revision)
        .where(CleaningRun.campaign == appeal["campaign"])
        .order_by(CleaningRun.revision, ascending=False)
        .first()
    )
    if newer_run is not None and newer_run["revision"] > max(
        appeal["revision"], published["revision"] if published else 0
    ):
        result = await publish(code, actor, note=f"appeal {appeal_id} upheld: {explanation}")
        return int(result["revision"])
    if published is not None:
        return int(published["revision"])
    raise AppealError(
        "apply the correction first (override the flag or correct the response) and "
        "run the cleaning again; upholding publishes that run as a new revision"
    )


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
