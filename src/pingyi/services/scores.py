"""The scoring feed from the database (DESIGN.md 6). Publishing freezes a campaign's
inputs (a snapshot), the rows computed from them and the campaign report in one
hashed document; HR and staff are served exactly that, whatever changes later in the
data or the code, and an appeal recomputes the rows from the inputs to check them.
The agency may preview the latest cleaning run before publishing it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

from piccolo.columns import Column

from pingyi.db.tables import (
    Campaign,
    CampaignUnit,
    CleaningRun,
    GradeDecision,
    Publication,
    ServiceWindow,
    Staff,
)
from pingyi.scoring import FeedRow, Policy, PolicyError, compute_feed, snapshot_hash
from pingyi.scoring.feed import canonical
from pingyi.services import audit
from pingyi.services.campaigns import CampaignError, get_campaign, move
from pingyi.services.cleaning_run import cleaning_policy
from pingyi.services.white_paper import build_report


class ScoresError(CampaignError):
    """A feed request that cannot be served as asked; the message says why."""


def campaign_policy(campaign: dict[str, Any]) -> Policy:
    try:
        return Policy.from_json(campaign.get("policy") or {}, campaign.get("weights"))
    except PolicyError as exc:
        raise ScoresError(f"the campaign's policy is not valid: {exc}") from exc


async def _staff_in_scope(
    campaign_id: int, rated: set[str], windows: dict[int, str]
) -> list[dict[str, Any]]:
    """Active staff of the units in scope, and anyone rated in the run even if they
    have since left or moved (their ratings are theirs)."""
    units = [
        r["unit"]
        for r in await CampaignUnit.select(CampaignUnit.unit).where(
            CampaignUnit.campaign == campaign_id
        )
    ]
    rows = await Staff.select(
        Staff.id,
        Staff.code,
        Staff.name,
        Staff.post_category,
        Staff.window,
        Staff.active,
        Staff.unit,
        Staff.unit.code.as_alias("unit_code"),
        Staff.unit.name.as_alias("unit_name"),
    ).order_by(Staff.code)
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "unit_code": r["unit_code"],
            "unit_name": r["unit_name"],
            "post_category": r["post_category"] or "",
            "window": windows.get(r["window"]) if r["window"] else None,
        }
        for r in rows
        if (r["active"] and r["unit"] in units) or r["code"] in rated
    ]


def _score_inputs(scores: list[dict[str, Any]], windows: dict[int, str]) -> list[dict[str, Any]]:
    """Only what the feed needs; window ratees by code, so snapshots read by themselves."""
    out = []
    for s in scores:
        ratee = s["ratee"]
        if ratee.startswith("window:"):
            window_id = ratee.split(":", 1)[1]
            ratee = f"window:{windows.get(int(window_id), window_id)}"
        out.append(
            {
                "ratee": ratee,
                "role": s["role"],
                "n_used": s["n_used"],
                "clean_mean": s.get("clean_mean"),
                "score_100": s["score_100"],
                "satisfaction_rate": s["satisfaction_rate"],
                "reportable": bool(s["reportable"]),
            }
        )
    return sorted(out, key=lambda s: (s["ratee"], s["role"]))


async def _cleaning_run(campaign_id: int, revision: int | None) -> dict[str, Any]:
    query = CleaningRun.select().where(CleaningRun.campaign == campaign_id)
    if revision is not None:
        query = query.where(CleaningRun.revision == revision)
    run = await query.order_by(CleaningRun.revision, ascending=False).output(load_json=True).first()
    if run is None:
        raise ScoresError("this campaign has not been cleaned yet; run the cleaning first")
    return run


def frozen(publication: dict[str, Any]) -> dict[str, Any]:
    """A publication's document: {"inputs": snapshot, "rows": [feed rows]}."""
    return json.loads(publication["snapshot"])


async def _previous_below_standard(campaign: dict[str, Any]) -> dict[str, Any] | None:
    """The latest published campaign of the same series before this one: who was
    below standard there, by the grade a person decided where there is one."""
    if not campaign["series"]:
        return None
    earlier = (
        await Campaign.select(Campaign.id, Campaign.code)
        .where(
            (Campaign.series == campaign["series"])
            & (Campaign.period_end < campaign["period_start"])
        )
        .order_by(Campaign.period_end, ascending=False)
    )
    for candidate in earlier:
        publication = await latest_publication(candidate["id"])
        if publication is None:
            continue
        document = frozen(publication)
        policy = Policy.from_json(document["inputs"]["policy"], strict=False)
        lowest = policy.label(policy.lowest)
        decided = await grade_decisions(candidate["code"], publication["revision"])
        below = []
        for row in document["rows"]:
            final = decided.get(row["staff_code"], {}).get("final")
            if (final == lowest) if final else row["below_standard"]:
                below.append(row["staff_code"])
        return {
            "campaign": candidate["code"],
            "revision": publication["revision"],
            "below_standard": sorted(below),
        }
    return None


async def _earlier_peer_n(campaign_id: int) -> dict[str, list[int]]:
    """Peer n already shown per staff member, in every earlier publication."""
    shown: dict[str, list[int]] = {}
    for publication in await Publication.select().where(Publication.campaign == campaign_id):
        for row in frozen(publication)["rows"]:
            if row["peer_n"] is not None:
                shown.setdefault(row["staff_code"], []).append(int(row["peer_n"]))
    return {code: sorted(set(ns)) for code, ns in shown.items()}


async def build_snapshot(campaign_code: str, revision: int | None = None) -> dict[str, Any]:
    """Every input behind the feed, as plain JSON-able data."""
    campaign = await get_campaign(campaign_code)
    policy = campaign_policy(campaign)
    run = await _cleaning_run(campaign["id"], revision)
    windows = {
        w["id"]: w["code"] for w in await ServiceWindow.select(ServiceWindow.id, ServiceWindow.code)
    }
    scores = _score_inputs(run["scores"], windows)
    rated = {s["ratee"].split(":", 1)[1] for s in scores if s["ratee"].startswith("staff:")}
    return {
        "campaign": {
            "code": campaign["code"],
            "name": campaign["name"],
            "series": campaign["series"],
            "period_start": campaign["period_start"].isoformat(),
            "period_end": campaign["period_end"].isoformat(),
            "k": int(campaign["k"]),
        },
        "revision": int(run["revision"]),
        "policy": policy.to_json(),
        "staff": await _staff_in_scope(campaign["id"], rated, windows),
        "scores": scores,
        "earlier_peer_n": await _earlier_peer_n(campaign["id"]),
        "previous": await _previous_below_standard(campaign),
        "policy_used_in_cleaning": (run["summary"] or {}).get("policy_used"),
    }


async def latest_publication(campaign_id: int, *columns: Column) -> dict[str, Any] | None:
    """A campaign's newest publication: every column, or only the `columns` named."""
    return (
        await Publication.select(*columns)
        .where(Publication.campaign == campaign_id)
        .order_by(Publication.revision, ascending=False)
        .first()
    )


async def publish(
    campaign_code: str, actor: str, note: str = "", expected_revision: int | None = None
) -> dict[str, Any]:
    """Freeze the latest cleaning run, its inputs and its rows: HR and staff see these
    numbers from now on, whatever changes in the code or the data later."""
    campaign = await get_campaign(campaign_code)
    snapshot = await build_snapshot(campaign_code)
    if expected_revision is not None and snapshot["revision"] != expected_revision:
        raise ScoresError(
            f"the cleaning ran again since (revision {snapshot['revision']}); "
            "look at the new numbers before publishing them"
        )
    used = snapshot["policy_used_in_cleaning"]
    if used is not None and used != cleaning_policy(campaign_policy(campaign)):
        raise ScoresError(
            "the policy changed since the cleaning ran (satisfied levels or superiors' k); "
            "run the cleaning again before publishing"
        )
    already = await Publication.exists().where(
        (Publication.campaign == campaign["id"]) & (Publication.revision == snapshot["revision"])
    )
    if already:
        raise ScoresError(
            f"revision {snapshot['revision']} is already published; "
            "run the cleaning again to publish a new revision"
        )
    document = {"inputs": snapshot, "rows": [r.to_json() for r in compute_feed(snapshot)]}
    digest = snapshot_hash(document)
    # the report too reads as it did today, whatever is corrected later
    reports = {
        lang: await build_report(campaign_code, snapshot["revision"], lang=lang)
        for lang in ("zh-CN", "en")
    }
    await move(campaign_code, "published", actor)  # only once everything is built
    try:
        await Publication.insert(
            Publication(
                campaign=campaign["id"],
                revision=snapshot["revision"],
                published_by=actor,
                snapshot=canonical(document).decode(),
                snapshot_hash=digest,
                note=note,
                published_at=datetime.now(UTC),
                report_zh=reports["zh-CN"],
                report_en=reports["en"],
            )
        )
    except Exception as exc:  # the unique index: a simultaneous publish of it won
        if "unique" not in str(exc).lower():
            raise
        raise ScoresError(f"revision {snapshot['revision']} is already published") from exc
    await audit.record(
        actor,
        "campaign.publish",
        f"campaign:{campaign_code}",
        after={"revision": snapshot["revision"], "snapshot_hash": digest, "note": note},
    )
    return {"revision": snapshot["revision"], "snapshot_hash": digest}


# A publication never changes, so each process parses its document once: the HR
# scores page of 5,000 staff spent most of its 270-620 ms reading that JSON again.
_PARSED: dict[tuple[int, str], tuple[dict[str, Any], tuple[FeedRow, ...]]] = {}
_PARSED_MAX = 8


async def _parsed(publication: dict[str, Any]) -> tuple[dict[str, Any], tuple[FeedRow, ...]]:
    """(inputs, rows) of a publication, as frozen; never to be changed by a caller."""
    key = (publication["id"], publication["snapshot_hash"])
    parsed = _PARSED.get(key)
    if parsed is None:
        stored = await Publication.select(Publication.snapshot).where(
            Publication.id == publication["id"]
        )
        document = json.loads(stored[0]["snapshot"])
        parsed = (document["inputs"], tuple(FeedRow.from_json(r) for r in document["rows"]))
        if len(_PARSED) >= _PARSED_MAX:
            del _PARSED[next(iter(_PARSED))]
        _PARSED[key] = parsed
    return parsed


def _with_decision(row: FeedRow, decided: dict[str, dict[str, Any]]) -> FeedRow:
    decision = decided.get(row.staff_code, {})
    final, by = decision.get("final", ""), decision.get("approved_by", "")
    if (final, by) == (row.final_grade, row.final_approved_by):
        return row
    return dataclasses.replace(row, final_grade=final, final_approved_by=by)


async def published_feed(campaign_code: str) -> tuple[dict[str, Any], list[FeedRow]]:
    """(publication facts, rows) of the newest publication, as frozen, with the final
    grades people have decided for that revision."""
    campaign = await get_campaign(campaign_code)
    publication = await latest_publication(
        campaign["id"],
        Publication.id,
        Publication.revision,
        Publication.snapshot_hash,
        Publication.published_at,
    )
    if publication is None:
        raise ScoresError("this campaign has not been published yet")
    inputs, frozen_rows = await _parsed(publication)
    decided = await grade_decisions(campaign_code, publication["revision"])
    rows = [_with_decision(row, decided) for row in frozen_rows]
    policy, previous = copy.deepcopy((inputs["policy"], inputs.get("previous")))
    facts = {
        "campaign": campaign_code,
        "name": campaign["name"],
        "revision": publication["revision"],
        "snapshot_hash": publication["snapshot_hash"],
        "published_at": publication["published_at"],
        "first_published_at": await first_publication_time(campaign["id"]),
        "policy": policy,
        "previous": previous,
        "published": True,
    }
    return facts, rows


async def first_publication_time(campaign_id: int) -> datetime:
    first = (
        await Publication.select(Publication.published_at)
        .where(Publication.campaign == campaign_id)
        .order_by(Publication.revision)
        .first()
    )
    assert first is not None
    return first["published_at"]


async def preview_feed(campaign_code: str) -> tuple[dict[str, Any], list[FeedRow]]:
    """The agency's look at the latest cleaning run before it is published."""
    campaign = await get_campaign(campaign_code)
    snapshot = await build_snapshot(campaign_code)
    facts = {
        "campaign": campaign_code,
        "name": campaign["name"],
        "revision": snapshot["revision"],
        "snapshot_hash": snapshot_hash(snapshot),
        "published_at": None,
        "first_published_at": None,
        "policy": snapshot["policy"],
        "previous": snapshot.get("previous"),
        "published": False,
    }
    return facts, compute_feed(snapshot)


async def update_policy(campaign_code: str, changes: dict[str, Any], actor: str) -> Policy:
    """A new policy version for the campaign; published snapshots keep the old one."""
    campaign = await get_campaign(campaign_code)
    old = campaign_policy(campaign)
    merged = {**old.to_json(), **changes}
    weights = merged.pop("weights")
    try:
        new = Policy.from_json(merged, weights)
    except PolicyError as exc:
        raise ScoresError(str(exc)) from exc
    if new == old:
        return old
    if new.version == old.version:
        raise ScoresError("a changed policy needs a new version name")
    stored = new.to_json()
    stored.pop("weights")
    await Campaign.update({Campaign.policy: stored, Campaign.weights: new.weights}).where(
        Campaign.id == campaign["id"]
    )
    await audit.record(
        actor,
        "campaign.policy",
        f"campaign:{campaign_code}",
        before=old.to_json(),
        after=new.to_json(),
    )
    return new


async def decide_grade(
    campaign_code: str, staff_code: str, final: str, note: str, actor: str
) -> None:
    """Record the final grade a person decided, beside the recommendation."""
    facts, rows = await published_feed(campaign_code)
    row = next((r for r in rows if r.staff_code == staff_code), None)
    if row is None:
        raise ScoresError(f"no staff member {staff_code} in the published feed")
    policy = Policy.from_json(facts["policy"], strict=False)
    labels = [policy.label(level) for level in range(len(policy.labels))]
    if final not in labels:
        raise ScoresError(f"the grade must be one of {' '.join(labels)}")
    if final != row.recommended_grade and len(note.strip()) < 4:
        raise ScoresError("a grade different from the recommendation needs a reason")
    campaign = await get_campaign(campaign_code)
    staff = await Staff.select(Staff.id).where(Staff.code == staff_code).first()
    assert staff is not None
    await GradeDecision.insert(
        GradeDecision(
            campaign=campaign["id"],
            staff=staff["id"],
            revision=facts["revision"],
            recommended=row.recommended_grade,
            final=final,
            approved_by=actor,
            note=note.strip(),
        )
    )
    await audit.record(
        actor,
        "grade.decide",
        f"campaign:{campaign_code}/staff:{staff_code}",
        after={"revision": facts["revision"], "recommended": row.recommended_grade, "final": final},
    )


async def grade_decisions(campaign_code: str, revision: int) -> dict[str, dict[str, Any]]:
    """The latest decision per staff code for this revision of the numbers."""
    campaign = await get_campaign(campaign_code)
    rows = (
        await GradeDecision.select(
            GradeDecision.staff.code.as_alias("staff_code"),
            GradeDecision.final,
            GradeDecision.approved_by,
            GradeDecision.revision,
            GradeDecision.at,
            GradeDecision.note,
        )
        .where((GradeDecision.campaign == campaign["id"]) & (GradeDecision.revision == revision))
        .order_by(GradeDecision.id)
    )
    return {r["staff_code"]: r for r in rows}
