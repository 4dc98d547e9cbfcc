"""A campaign's cleaning run: the pure engine (`pingyi.cleaning`) fed from the
database, its decisions stored as flags, overrides honoured on every re-run.

Raters and ratees enter the engine in one pseudonym namespace (HMAC with the
campaign key), so reciprocal ratings can be found; the results are mapped back to
staff and windows here, and only the agency sees rater pseudonyms.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pingyi import cleaning
from pingyi.cleaning.report import render_report
from pingyi.db.tables import CleaningRun, Flag, Override
from pingyi.scoring import Policy
from pingyi.services import audit, queue
from pingyi.services.campaign_input import campaign_input
from pingyi.services.campaigns import (
    CampaignError,
    check_move,
    get_campaign,
    move,
    rater_key,
)
from pingyi.services.questionnaires import composite_weights
from pingyi.settings import get_settings

Progress = Callable[[str, float], None]
log = logging.getLogger(__name__)


async def run_summary(campaign_id: int, revision: int) -> dict[str, Any] | None:
    """A cleaning run's summary (counts per reason, its effect on the scores)."""
    run = (
        await CleaningRun.select(CleaningRun.summary)
        .where((CleaningRun.campaign == campaign_id) & (CleaningRun.revision == revision))
        .output(load_json=True)
        .first()
    )
    return run["summary"] if run else None


def cleaning_policy(policy: Policy) -> dict[str, int]:
    return {"satisfied_min": policy.satisfied_min, "superior_k": policy.superior_k}


def _clean(scheduler: str | None, *args: Any, **kwargs: Any) -> cleaning.CleaningResult:
    if scheduler is not None:
        from pingyi.cluster import ClusterError, dask_runner

        try:
            with dask_runner(scheduler) as runner:
                return cleaning.clean(*args, **{**kwargs, "runner": runner})
        except ClusterError as exc:
            # the same result in process, only slower: a run is never refused for it
            log.warning("cleaning in process: %s", exc)
    return cleaning.clean(*args, **kwargs)


async def run_cleaning(
    campaign_code: str, actor: str, progress: Progress | None = None
) -> dict[str, Any]:
    """Clean a closed (or already cleaned) campaign; returns the run's summary."""
    campaign = await get_campaign(campaign_code)
    check_move(campaign, "cleaned")  # an open campaign is refused before any work
    key = await rater_key(campaign["id"])
    data = await campaign_input(campaign["id"], key)
    names = data.names
    # each response scores its questionnaire version's composite (DESIGN.md 5)
    item_weights = await composite_weights(data.versions)
    overrides = [
        (o["reason"], o["response_id"] or o["rater"])
        for o in await Override.select().where(Override.campaign == campaign["id"])
    ]
    policy = Policy.from_json(campaign["policy"] or {}, campaign["weights"])
    config = cleaning.CleaningConfig(
        aggregate=cleaning.AggregateConfig(
            k=int(campaign["k"]),
            k_superior=policy.superior_k,
            satisfied_min=float(policy.satisfied_min),
        ),
    )
    if not len(data.ratings):
        raise CampaignError(f"campaign {campaign_code} has no ratings to clean yet")
    # citizens served per window and hour (queue systems), in the engine's ratee names
    ticket_counts = await queue.ticket_counts(data.public)
    # Move first: an illegal move (e.g. an open campaign) must stop before any work.
    await move(campaign_code, "cleaned", actor)
    # the engine is pure and may take minutes: off the event loop, on a cluster if set
    result = await asyncio.to_thread(
        _clean,
        get_settings().cleaning_scheduler,
        data.ratings,
        config,
        overrides=overrides,
        progress=progress,
        honeypot=data.honeypot,
        off_hours=data.off_hours,
        item_weights=item_weights,
        ticket_counts=ticket_counts or None,
    )
    last = (
        await CleaningRun.select(CleaningRun.revision)
        .where(CleaningRun.campaign == campaign["id"])
        .order_by(CleaningRun.revision, ascending=False)
        .first()
    )
    revision = (last["revision"] + 1) if last else 1
    scores = [
        {**dataclasses.asdict(s), "ratee": names.get(s.ratee, s.ratee)} for s in result.scores
    ]
    by_reason = result.flags_by_reason(include_overridden=False)
    summary = {
        # the parts of the policy the engine applied; publishing checks they still hold
        "policy_used": cleaning_policy(policy),
        "answers": result.n_answers,
        "responses": result.n_responses,
        "flags": by_reason,
        "groups": len(result.groups),
        "flagged_responses": len(
            {f.response_id for f in result.flags if f.response_id and not f.overridden}
        ),
        # how far cleaning moved the scores, so the agency sees it before HR does
        "effect": [
            {**dataclasses.asdict(e), "largest_ratee": names.get(e.largest_ratee, e.largest_ratee)}
            for e in result.effect()
        ],
        "fallbacks": len(result.fallbacks),
    }
    report = render_report(result)
    async with Flag._meta.db.transaction():
        await CleaningRun.insert(
            CleaningRun(
                campaign=campaign["id"],
                revision=revision,
                ran_by=actor,
                summary=summary,
                scores=scores,
                report_html=report,
                ran_at=datetime.now(UTC),
            )
        )
        if result.flags:
            await Flag.insert(
                *[
                    Flag(
                        campaign=campaign["id"],
                        revision=revision,
                        response_id=f.response_id,
                        rater=f.rater,
                        ratee=names.get(f.ratee, f.ratee),
                        reason=f.reason,
                        action=f.action,
                        weight=f.weight,
                        detail=f.detail,
                        overridden=f.overridden,
                    )
                    for f in result.flags
                ]
            )
    await audit.record(
        actor,
        "campaign.clean_run",
        f"campaign:{campaign_code}",
        after={"revision": revision, **summary},
    )
    return {"revision": revision, **summary}


async def override(campaign_code: str, flag_id: int, note: str, actor: str) -> None:
    """Void one decision; it stays void on every later run."""
    note = note.strip()
    if len(note) < 4:
        raise ValueError("explain the override in a sentence")
    campaign = await get_campaign(campaign_code)
    flag = (
        await Flag.select().where((Flag.id == flag_id) & (Flag.campaign == campaign["id"])).first()
    )
    if flag is None:
        raise ValueError("no such flag in this campaign")
    await Override.insert(
        Override(
            campaign=campaign["id"],
            reason=flag["reason"],
            response_id=flag["response_id"],
            rater=flag["rater"] if not flag["response_id"] else "",
            note=note,
            by_user=actor,
        )
    )
    await Flag.update({Flag.overridden: True}).where(Flag.id == flag_id)
    await audit.record(
        actor,
        "flag.override",
        f"campaign:{campaign_code}",
        before={"reason": flag["reason"], "action": flag["action"], "weight": flag["weight"]},
        after={"overridden": True, "note": note},
    )
